//! Writing JSON text, and checking JSON text that a caller hands in.
//!
//! Events are serialised when they are recorded and kept as bytes until the
//! server acknowledges them (see `batch`), so the SDK never builds a JSON
//! tree: this module *writes* strings and numbers exactly as JavaScript's
//! `JSON.stringify` does (a body built from JS values is byte-identical to
//! the one a JS SDK would send) and *checks* properties given as text
//! ([`JsonObject::parse`]). Reading the server's answers is `answer`'s job.

use alloc::borrow::ToOwned;
use alloc::string::String;

use crate::error::{Error, ErrorCode};
use crate::text::cat;

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
        let mut checked = checker.value(0);
        if checked.is_ok() && checker.pos != checker.bytes.len() {
            checked = Err(checker.fault("unexpected text after the object"));
        }
        match checked {
            Ok(()) => Ok(JsonObject(text.to_owned())),
            Err(Fault::Syntax { what, at }) => Err(Error::new(
                ErrorCode::InvalidProperties,
                cat!("properties are not valid JSON: ", what, " at byte ", at),
            )),
            Err(Fault::TooDeep) => Err(Error::new(
                ErrorCode::InvalidProperties,
                cat!(
                    "properties are nested more than ",
                    MAX_DEPTH,
                    " levels deep"
                ),
            )),
        }
    }

    /// Text that the caller guarantees is a valid JSON object (the wasm
    /// boundary's value writer produces it).
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "npm")), allow(dead_code))]
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
        // `get`: the bounds sit on ASCII bytes; slicing with [] would link
        // core's panic formatting into the wasm (3.5 KB).
        out.push_str(s.get(start..i).unwrap_or_default());
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
    out.push_str(s.get(start..).unwrap_or_default());
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

/// Why text is not valid JSON. Plain data: a message is made only by the
/// caller that shows one ([`JsonObject::parse`]); readers of server answers
/// just give up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A syntax error, and the byte where it was found.
    Syntax { what: &'static str, at: usize },
    /// Nested deeper than the checker's limit.
    TooDeep,
}

/// A strict RFC 8259 syntax check with a depth limit (no allocation).
pub(crate) struct Checker<'a> {
    bytes: &'a [u8],
    pub(crate) pos: usize,
    max_depth: usize,
}

impl Checker<'_> {
    pub(crate) fn new(text: &str, max_depth: usize) -> Checker<'_> {
        Checker {
            bytes: text.as_bytes(),
            pos: 0,
            max_depth,
        }
    }

    fn fault(&self, what: &'static str) -> Fault {
        Fault::Syntax { what, at: self.pos }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn value(&mut self, depth: usize) -> Result<(), Fault> {
        self.skip_ws();
        match self.peek() {
            Some(b'{') => self.container(depth, b'}', true),
            Some(b'[') => self.container(depth, b']', false),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.fault("expected a value")),
        }
    }

    fn container(&mut self, depth: usize, close: u8, object: bool) -> Result<(), Fault> {
        if depth >= self.max_depth {
            return Err(Fault::TooDeep);
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
                    return Err(self.fault("expected a string key"));
                }
                self.string()?;
                self.skip_ws();
                if !self.eat(b':') {
                    return Err(self.fault("expected ':'"));
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
            return Err(self.fault("expected ',' or a closing bracket"));
        }
    }

    pub(crate) fn string(&mut self) -> Result<(), Fault> {
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.fault("unterminated string")),
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
                                return Err(self.fault("bad \\u escape"));
                            }
                            self.pos += 5;
                        }
                        _ => return Err(self.fault("bad escape")),
                    }
                }
                Some(0x00..=0x1f) => return Err(self.fault("control character in string")),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Fault> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.fault("unknown literal"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), Fault> {
        self.eat(b'-');
        if self.eat(b'0') {
            if matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fault("leading zero in number"));
            }
        } else if self.digits() == 0 {
            return Err(self.fault("expected digits"));
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(self.fault("expected digits after '.'"));
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(self.fault("expected exponent digits"));
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
