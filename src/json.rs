//! JSON text, written once.
//!
//! Events are serialised when they are recorded and kept as bytes until the
//! server acknowledges them (see `batch`), so this module only needs to
//! *write* JSON and to *check* JSON text handed in by a caller. It writes
//! strings and numbers exactly as JavaScript's `JSON.stringify` does, so a
//! body built from JS values is byte-identical to the one a JS SDK would send.

use crate::error::{Error, ErrorCode};

/// How deep properties may nest. Deeper values (and cycles, which are
/// infinitely deep) are refused rather than risking the wasm stack.
pub const MAX_DEPTH: usize = 64;

/// A JSON object, as validated JSON text: event properties or attributes.
///
/// Build one from JSON text with [`JsonObject::parse`], or from a
/// `serde_json` value with `JsonObject::from_value` (feature `serde_json`).
///
/// ```
/// use intempt_edge::JsonObject;
/// let props = JsonObject::parse(r#"{"plan":"pro","amount":42.5}"#).unwrap();
/// assert_eq!(props.as_str(), r#"{"plan":"pro","amount":42.5}"#);
/// assert!(JsonObject::parse("[1,2]").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonObject(String);

impl JsonObject {
    /// Checks that `text` is one JSON object (nested at most [`MAX_DEPTH`]
    /// levels) and keeps it, without surrounding whitespace.
    pub fn parse(text: &str) -> Result<JsonObject, Error> {
        let text = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        if !text.starts_with('{') {
            return Err(Error::new(
                ErrorCode::InvalidProperties,
                "properties must be a JSON object (not an array, string, number or null)",
            ));
        }
        let mut checker = Checker::new(text, MAX_DEPTH);
        checker.value(0)?;
        if checker.pos != checker.bytes.len() {
            return Err(checker.error("unexpected text after the object"));
        }
        Ok(JsonObject(text.to_owned()))
    }

    /// Text that the caller guarantees is a valid JSON object (the wasm
    /// boundary's value writer produces it).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn from_trusted(text: String) -> JsonObject {
        JsonObject(text)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Converts a `serde_json` object map (feature `serde_json`).
    #[cfg(feature = "serde_json")]
    pub fn from_value(value: &serde_json::Value) -> Result<JsonObject, Error> {
        match value {
            serde_json::Value::Object(_) => Ok(JsonObject(value.to_string())),
            _ => Err(Error::new(
                ErrorCode::InvalidProperties,
                "properties must be a JSON object (not an array, string, number or null)",
            )),
        }
    }
}

/// Appends `s` as a JSON string literal, escaped as `JSON.stringify` does.
pub fn write_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends a finite number as JavaScript prints it (`50`, `99.99`, `1e+21`,
/// `0` for `-0`). Returns `false`, writing nothing, for NaN and ±Infinity,
/// which JSON cannot carry.
pub fn write_f64(out: &mut String, n: f64) -> bool {
    if !n.is_finite() {
        return false;
    }
    if n == 0.0 {
        out.push('0');
        return true;
    }
    let mut buf = ryu_js::Buffer::new();
    out.push_str(buf.format_finite(n));
    true
}

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
        let found = string_value(&text[key_start..c.pos])? == key;
        c.skip_ws();
        if !c.eat(b':') {
            return None;
        }
        c.skip_ws();
        let value_start = c.pos;
        c.value(0).ok()?;
        if found {
            return Some(&text[value_start..c.pos]);
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
    Some(&text[start..c.pos])
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

/// Server responses may nest deeper than properties we send.
const RESPONSE_DEPTH: usize = 512;

/// A strict RFC 8259 syntax check with a depth limit (no allocation).
struct Checker<'a> {
    bytes: &'a [u8],
    pos: usize,
    max_depth: usize,
}

impl Checker<'_> {
    fn new(text: &str, max_depth: usize) -> Checker<'_> {
        Checker {
            bytes: text.as_bytes(),
            pos: 0,
            max_depth,
        }
    }

    fn error(&self, what: &str) -> Error {
        Error::new(
            ErrorCode::InvalidProperties,
            format!("properties are not valid JSON: {what} at byte {}", self.pos),
        )
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), Error> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.container(depth, b'}', true),
            Some(b'[') => self.container(depth, b']', false),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("expected a value")),
        }
    }

    fn container(&mut self, depth: usize, close: u8, object: bool) -> Result<(), Error> {
        if depth >= self.max_depth {
            return Err(Error::new(
                ErrorCode::InvalidProperties,
                format!(
                    "properties are nested more than {} levels deep",
                    self.max_depth
                ),
            ));
        }
        self.pos += 1;
        self.skip_ws();
        if self.eat(close) {
            return Ok(());
        }
        loop {
            if object {
                self.skip_ws();
                if self.peek() != Some(b'"') {
                    return Err(self.error("expected a string key"));
                }
                self.string()?;
                self.skip_ws();
                if !self.eat(b':') {
                    return Err(self.error("expected ':'"));
                }
            }
            self.value(depth + 1)?;
            self.skip_ws();
            if self.eat(b',') {
                continue;
            }
            if self.eat(close) {
                return Ok(());
            }
            return Err(self.error("expected ',' or a closing bracket"));
        }
    }

    fn string(&mut self) -> Result<(), Error> {
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            let hex = self.bytes.get(self.pos + 1..self.pos + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(self.error("bad \\u escape"));
                            }
                            self.pos += 5;
                        }
                        _ => return Err(self.error("bad escape")),
                    }
                }
                Some(0x00..=0x1f) => return Err(self.error("control character in string")),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error("unknown literal"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), Error> {
        self.eat(b'-');
        if self.eat(b'0') {
            if matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("leading zero in number"));
            }
        } else if self.digits() == 0 {
            return Err(self.error("expected digits"));
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(self.error("expected digits after '.'"));
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(self.error("expected exponent digits"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_json_stringify() {
        let cases = [
            ("plain", r#""plain""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("\n\r\t\u{8}\u{c}", r#""\n\r\t\b\f""#),
            ("\u{1}\u{1f}", r#""\u0001\u001f""#),
            ("é ✓ 😀 \u{2028}", "\"é ✓ 😀 \u{2028}\""),
            ("/", r#""/""#),
        ];
        for (input, want) in cases {
            let mut out = String::new();
            write_str(&mut out, input);
            assert_eq!(out, want, "input {input:?}");
        }
    }

    #[test]
    fn numbers_are_printed_like_javascript() {
        let cases = [
            (50.0, "50"),
            (99.99, "99.99"),
            (42.5, "42.5"),
            (-0.0, "0"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-1.5, "-1.5"),
            (1714631904123.0, "1714631904123"),
        ];
        for (n, want) in cases {
            let mut out = String::new();
            assert!(write_f64(&mut out, n));
            assert_eq!(out, want, "number {n:?}");
        }
        for n in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut out = String::new();
            assert!(!write_f64(&mut out, n));
            assert!(out.is_empty());
        }
    }

    #[test]
    fn parse_accepts_objects_and_refuses_everything_else() {
        let good = [
            "{}",
            r#" {"a":1} "#,
            r#"{"a":[1,2.5e3,-0.1,true,false,null,{"b":"\u00e9\n"}]}"#,
        ];
        for text in good {
            assert!(JsonObject::parse(text).is_ok(), "{text}");
        }
        let bad = [
            "",
            "[]",
            "null",
            "1",
            r#""s""#,
            "{",
            r#"{"a":}"#,
            r#"{"a":1,}"#,
            r#"{a:1}"#,
            r#"{"a":01}"#,
            r#"{"a":NaN}"#,
            r#"{"a":1} x"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":1.}"#,
            r#"{"a":tru}"#,
        ];
        for text in bad {
            let err = JsonObject::parse(text).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidProperties, "{text}");
        }
    }

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

    #[test]
    fn parse_limits_depth() {
        let deep = format!(
            "{}{}",
            "{\"a\":".repeat(MAX_DEPTH),
            "1".to_owned() + &"}".repeat(MAX_DEPTH)
        );
        assert!(JsonObject::parse(&deep).is_ok());
        let too_deep = format!(
            "{}1{}",
            "{\"a\":".repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        let err = JsonObject::parse(&too_deep).unwrap_err();
        assert!(err.message().contains("nested"), "{}", err.message());
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_string_round_trips(s in any::<String>()) {
                let mut out = String::new();
                write_str(&mut out, &s);
                prop_assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
            }

            #[test]
            fn any_finite_number_round_trips(n in any::<f64>().prop_filter("finite", |n| n.is_finite())) {
                let mut out = String::new();
                prop_assert!(write_f64(&mut out, n));
                let back: f64 = serde_json::from_str(&out).unwrap();
                prop_assert_eq!(back, if n == 0.0 { 0.0 } else { n });
            }

            /// The checker never panics, and agrees with serde_json on objects.
            #[test]
            fn parse_agrees_with_serde_json(text in r#"[{}\[\]":,0-9a-z. \\-]{0,40}"#) {
                let ours = JsonObject::parse(&text).is_ok();
                let theirs = matches!(serde_json::from_str::<serde_json::Value>(&text), Ok(serde_json::Value::Object(_)));
                prop_assert_eq!(ours, theirs, "{}", text);
            }
        }
    }
}
