//! The numbers the JS helpers of `js` hand back, repeating their named
//! codes, whose home is `src/wasm/host.js` (`KIND`, `PROBLEM`, `LIST`,
//! `SENT`); the wasm test `the_numeric_codes_agree_on_both_sides` compares
//! every one, name by name, both ways. Without the
//! `npm` feature only `sent` is used (by `EdgeClient`'s transport).

#![cfg_attr(not(feature = "npm"), allow(dead_code))]

/// What `kindOf` says a value is ([`super::value::Kind`]).
pub mod kind {
    pub const STRING: u8 = 0;
    pub const NUMBER: u8 = 1;
    pub const BOOLEAN: u8 = 2;
    pub const NULL: u8 = 3;
    pub const UNDEFINED: u8 = 4;
    pub const ARRAY: u8 = 5;
    pub const OBJECT: u8 = 6;
    pub const DATE: u8 = 7;
    pub const FUNCTION: u8 = 8;
    pub const SYMBOL: u8 = 9;
    pub const BIGINT: u8 = 10;
    pub const OTHER: u8 = 11;
    pub const THREW: u8 = 12;
    pub const HUGE_STRING: u8 = 13;
}
/// Why `propsJson` refused properties (besides a value's kind).
pub mod problem {
    pub const TOO_LARGE: u8 = 13;
    pub const NON_FINITE: u8 = 20;
    pub const UNDEFINED_IN_ARRAY: u8 = 21;
    pub const INVALID_DATE: u8 = 22;
    pub const TOO_DEEP: u8 = 23;
    /// Plus the top value's kind.
    pub const NOT_AN_OBJECT: u8 = 30;
}
/// [`ListFault::code`](super::js::ListFault::code) values.
pub mod list {
    pub const TOO_MANY: u8 = 1;
    pub const HOLE: u8 = 2;
    pub const NOT_STRING: u8 = 3;
    pub const TOO_LONG: u8 = 4;
    /// Reading the list threw (Rust's messages handle it with the
    /// unknown codes: only the test names it).
    #[allow(dead_code)]
    pub const THREW: u8 = 5;
}
/// [`Sent::outcome`](super::js::Sent::outcome) values.
pub mod sent {
    pub const OK: u8 = 0;
    pub const NETWORK: u8 = 1;
    pub const TIMEOUT: u8 = 2;
    pub const REDIRECTED: u8 = 3;
}

/// Every code by its JS object and name.
#[cfg(test)]
pub const ALL: &[(&str, &str, u8)] = &[
    ("KIND", "string", kind::STRING),
    ("KIND", "number", kind::NUMBER),
    ("KIND", "boolean", kind::BOOLEAN),
    ("KIND", "null", kind::NULL),
    ("KIND", "undefined", kind::UNDEFINED),
    ("KIND", "array", kind::ARRAY),
    ("KIND", "object", kind::OBJECT),
    ("KIND", "date", kind::DATE),
    ("KIND", "function", kind::FUNCTION),
    ("KIND", "symbol", kind::SYMBOL),
    ("KIND", "bigint", kind::BIGINT),
    ("KIND", "other", kind::OTHER),
    ("KIND", "threw", kind::THREW),
    ("KIND", "hugeString", kind::HUGE_STRING),
    ("PROBLEM", "tooLarge", problem::TOO_LARGE),
    ("PROBLEM", "nonFinite", problem::NON_FINITE),
    ("PROBLEM", "undefinedInArray", problem::UNDEFINED_IN_ARRAY),
    ("PROBLEM", "invalidDate", problem::INVALID_DATE),
    ("PROBLEM", "tooDeep", problem::TOO_DEEP),
    ("PROBLEM", "notAnObject", problem::NOT_AN_OBJECT),
    ("LIST", "tooMany", list::TOO_MANY),
    ("LIST", "hole", list::HOLE),
    ("LIST", "notString", list::NOT_STRING),
    ("LIST", "tooLong", list::TOO_LONG),
    ("LIST", "threw", list::THREW),
    ("SENT", "ok", sent::OK),
    ("SENT", "network", sent::NETWORK),
    ("SENT", "timeout", sent::TIMEOUT),
    ("SENT", "redirected", sent::REDIRECTED),
];
