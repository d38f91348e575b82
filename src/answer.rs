//! Reading the server's answers: the raw JSON text of a field, of an array's
//! first element, and the value of a string literal. Lenient in what it
//! skips, strict in what it returns: anything unexpected is `None`, never an
//! error message nobody reads. Which keys to read is `wire`'s business.

use alloc::string::String;

use crate::json::Checker;

/// Server responses may nest deeper than properties we send.
const RESPONSE_DEPTH: usize = 512;

/// The raw JSON text of `key`'s value in the object `text` (a server
/// response), or `None` when `text` is not an object holding that key.
pub(crate) fn top_level_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut c = Checker::new(text, RESPONSE_DEPTH);
    c.skip_ws();
    if !c.eat(b'{') {
        return None;
    }
    loop {
        c.skip_ws();
        if c.peek() != Some(b'"') {
            return None;
        }
        let key_start = c.pos;
        c.string().ok()?;
        let found = string_value(text.get(key_start..c.pos)?)? == key;
        c.skip_ws();
        if !c.eat(b':') {
            return None;
        }
        c.skip_ws();
        let value_start = c.pos;
        c.value(0).ok()?;
        if found {
            return text.get(value_start..c.pos);
        }
        c.skip_ws();
        if !c.eat(b',') {
            return None;
        }
    }
}

/// The raw JSON text of the first element of the array `text`.
pub(crate) fn first_element(text: &str) -> Option<&str> {
    let mut c = Checker::new(text, RESPONSE_DEPTH);
    c.skip_ws();
    if !c.eat(b'[') {
        return None;
    }
    c.skip_ws();
    let start = c.pos;
    c.value(0).ok()?;
    text.get(start..c.pos)
}

/// Decodes a raw JSON string literal (quotes included).
pub(crate) fn string_value(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    let mut pending_high: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            if pending_high.take().is_some() {
                out.push('\u{fffd}');
            }
            out.push(c);
            continue;
        }
        let decoded = match chars.next()? {
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let unit = u32::from_str_radix(&hex, 16).ok()?;
                match (pending_high.take(), unit) {
                    (None, 0xd800..=0xdbff) => {
                        pending_high = Some(unit);
                        continue;
                    }
                    (Some(high), 0xdc00..=0xdfff) => {
                        char::from_u32(0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00))
                    }
                    (high, unit) => {
                        if high.is_some() {
                            out.push('\u{fffd}');
                        }
                        Some(char::from_u32(unit).unwrap_or('\u{fffd}'))
                    }
                }?
            }
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'b' => '\u{8}',
            'f' => '\u{c}',
            other => other,
        };
        if pending_high.take().is_some() {
            out.push('\u{fffd}');
        }
        out.push(decoded);
    }
    if pending_high.is_some() {
        out.push('\u{fffd}');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_of_responses() {
        let body = r#" {"a":[1,{"x":"}"}], "choices" : [{"name":"n\u00e9","body":[{}]}] } "#;
        assert_eq!(
            top_level_field(body, "choices"),
            Some(r#"[{"name":"n\u00e9","body":[{}]}]"#)
        );
        assert_eq!(top_level_field(body, "missing"), None);
        assert_eq!(top_level_field("[1]", "a"), None);
        assert_eq!(first_element(" [ \"x\" , 2]"), Some("\"x\""));
        assert_eq!(
            string_value(r#""a\"\\\/\n\u00e9\ud83d\ude00""#).as_deref(),
            Some("a\"\\/\né😀")
        );
        assert_eq!(string_value(r#""\ud800x""#).as_deref(), Some("\u{fffd}x"));
        assert_eq!(
            string_value(r#""\ud800\n\ud800""#).as_deref(),
            Some("\u{fffd}\n\u{fffd}")
        );
    }
}
