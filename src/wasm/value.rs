//! JS values → the core's types.
//!
//! Two rules shape this module. **No exception may unwind through wasm**
//! (it would leave Rust state half-updated), so every read of a caller's
//! value happens in the small JS helpers of [`super::js`], which catch what a
//! Proxy or a getter throws. And **crossing into wasm is the expensive step** of a
//! `track()` call, so properties cross once, as JSON text: `propsJson` walks
//! the value a single time and writes its JSON as `JSON.stringify` would
//! (native string escaping and number printing), but refuses — instead of
//! silently dropping or changing — what JSON cannot carry faithfully, and
//! records where and why. The messages and codes of those refusals are
//! Rust's ([`Problem`]); the helpers only look and write.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::code;
use super::js::{self, fault_kind, fault_path, kind_of, props_json, str_within};
use crate::answer::string_value;
use crate::client::Filtered;
use crate::error::{Error, ErrorCode};
use crate::event::{Event, Parts};
use crate::json::{JsonObject, MAX_DEPTH};
use crate::text::cat;
use crate::wire;

/// What `kindOf` says a value is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    String,
    Number,
    Boolean,
    Null,
    Undefined,
    Array,
    Object,
    Date,
    Function,
    Symbol,
    BigInt,
    OtherObject,
    Threw,
    HugeString,
}

pub(crate) use super::js::MAX_STRING;

fn kind_from(value: u8) -> Kind {
    use code::kind;
    match value {
        kind::STRING => Kind::String,
        kind::NUMBER => Kind::Number,
        kind::BOOLEAN => Kind::Boolean,
        kind::NULL => Kind::Null,
        kind::UNDEFINED => Kind::Undefined,
        kind::ARRAY => Kind::Array,
        kind::OBJECT => Kind::Object,
        kind::DATE => Kind::Date,
        kind::FUNCTION => Kind::Function,
        kind::SYMBOL => Kind::Symbol,
        kind::BIGINT => Kind::BigInt,
        kind::THREW => Kind::Threw,
        kind::HUGE_STRING => Kind::HugeString,
        kind::OTHER => Kind::OtherObject,
        _ => Kind::OtherObject,
    }
}

pub(crate) fn kind(value: &JsValue, max_len: usize) -> Kind {
    kind_from(kind_of(value, max_len as f64))
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::String | Kind::HugeString => "a string",
        Kind::Number => "a number",
        Kind::Boolean => "a boolean",
        Kind::Null => "null",
        Kind::Undefined => "undefined",
        Kind::Array => "an array",
        Kind::Object => "an object",
        Kind::Date => "a Date",
        Kind::Function => "a function",
        Kind::Symbol => "a symbol",
        Kind::BigInt => "a BigInt",
        Kind::OtherObject => "a class instance",
        Kind::Threw => "a value that threw when read",
    }
}

/// `, got a number`: what a refused value is, for messages.
pub(crate) fn got(kind: Kind) -> String {
    cat!(", got ", kind_name(kind))
}

/// Reads `object[key]`, catching getters and Proxy traps.
pub(crate) fn read_field(object: &JsValue, key: &str) -> Result<JsValue, Error> {
    let field = js::read_field(object, key);
    if field.ok() {
        Ok(field.value())
    } else {
        Err(Error::new(
            ErrorCode::InvalidConfig,
            cat!("reading option '", key, "' threw an exception"),
        ))
    }
}

/// The string keys of an options object, or `None` if listing them threw.
pub(crate) fn own_keys(object: &JsValue) -> Option<Vec<String>> {
    let keys = js::own_keys(object)?;
    // A fresh array of strings that the helper made: reading it runs no caller code.
    Some(keys.iter().filter_map(|k| k.as_string()).collect())
}

/// The most items a list argument (the groups or names of a choose call)
/// may hold. A list is measured before anything of it is copied into wasm
/// memory, which never shrinks: its `length` is read once and a longer list
/// is refused at once, so `new Array(2e8)` or a Proxy claiming a length of
/// 1e9 costs nothing. Real calls select a handful of groups or names.
pub(crate) const MAX_LIST_ITEMS: u32 = 1_000;

/// A list argument: an array of at most [`MAX_LIST_ITEMS`] strings holding
/// at most `max_chars` UTF-16 units in all. `what` names it in messages.
pub(crate) fn string_list(
    value: &JsValue,
    what: &str,
    max_chars: u32,
) -> Result<Vec<String>, Error> {
    let list = js::string_list(value, MAX_LIST_ITEMS, max_chars);
    if Array::is_array(&list) {
        // A fresh array of strings that the helper made.
        let list: Array = list.unchecked_into();
        return Ok(list.iter().filter_map(|item| item.as_string()).collect());
    }
    let fault: js::ListFault = list.unchecked_into();
    let index = fault.index();
    let message = match fault.code() {
        code::list::TOO_MANY => cat!(
            what,
            " has ",
            fault.length() as u64,
            " items; at most ",
            MAX_LIST_ITEMS,
            " are allowed"
        ),
        code::list::HOLE => {
            cat!(
                what,
                "[",
                index,
                "] is a hole in the array; pass an array of strings"
            )
        }
        code::list::NOT_STRING => cat!(
            what,
            "[",
            index,
            "] must be a string",
            got(kind_from(fault.kind()))
        ),
        code::list::TOO_LONG => cat!(
            what,
            " hold more than ",
            max_chars,
            " characters in all (up to ",
            what,
            "[",
            index,
            "]); pass fewer or shorter ",
            what
        ),
        _ if index >= 0 => cat!(
            what,
            "[",
            index,
            "] threw when read (a getter or Proxy); pass a plain array of strings"
        ),
        _ => cat!(
            what,
            " threw when read (a getter or Proxy); pass a plain array of strings"
        ),
    };
    Err(Error::new(ErrorCode::InvalidArgument, message))
}

/// A required string argument. Emptiness is the core's rule; the type is
/// ours. One crossing when it is a string (the common case).
pub(crate) fn string(value: &JsValue, what: &str) -> Result<String, Error> {
    if let Some(s) = str_within(value, MAX_STRING as f64) {
        return Ok(s);
    }
    match kind(value, MAX_STRING) {
        Kind::HugeString => Err(too_long(what, ErrorCode::EventTooLarge)),
        other => Err(Error::new(
            ErrorCode::InvalidArgument,
            cat!(
                what,
                " must be a non-empty string",
                got(other),
                id_hint(what, other)
            ),
        )),
    }
}

/// A string longer than [`MAX_STRING`]: `EVENT_TOO_LARGE` for the ids and
/// titles of events (as always), `INVALID_ARGUMENT` for other arguments.
pub(crate) fn too_long(what: &str, code: ErrorCode) -> Error {
    Error::new(
        code,
        cat!(what, " is longer than ", MAX_STRING, " characters"),
    )
}

/// An optional string argument: `undefined` and `null` mean absent.
pub(crate) fn optional_string(value: &JsValue, what: &str) -> Result<Option<String>, Error> {
    if let Some(s) = str_within(value, MAX_STRING as f64) {
        return Ok(Some(s));
    }
    match kind(value, MAX_STRING) {
        Kind::Undefined | Kind::Null => Ok(None),
        _ => string(value, what).map(Some),
    }
}

/// Ids are strings on the wire (19-digit ids lose precision as numbers).
fn id_hint(what: &str, kind: Kind) -> &'static str {
    if kind == Kind::Number && what.ends_with("Id") {
        " (ids are strings: pass String(id))"
    } else {
        ""
    }
}

/// Properties or attributes: absent (`undefined`/`null`) or a plain object of
/// JSON values, as JSON text of at most `budget` bytes.
pub(crate) fn object(
    value: &JsValue,
    what: &str,
    budget: usize,
) -> Result<Option<JsonObject>, Error> {
    match props_json(value, budget as f64, MAX_DEPTH as u32) {
        Some(json) if json.is_empty() => Ok(None),
        // Checked by the helper: a plain object, written as JSON.stringify would.
        Some(json) if json.len() <= budget => Ok(Some(JsonObject::from_trusted(json))),
        Some(_) => Err(Problem::TooLarge.error(what, "", budget)),
        None => Err(Problem::from_code(fault_kind()).error(what, &fault_path(), budget)),
    }
}

/// Runs a JavaScript `beforeSend` hook on `event` through the guarded
/// path: the hook gets a fresh plain object of the event's wire fields, and
/// what it returns is read into plain data and checked as a call's
/// arguments are (`budget`: option maxEventBytes, for each object).
pub(crate) fn before_send(hook: &Function, event: &Event, budget: usize) -> Filtered {
    let mut json = String::with_capacity(wire::entry_capacity(event));
    wire::write_hook_event(&mut json, event);
    let out = js::before_send(
        hook,
        &json,
        MAX_STRING as f64,
        budget as f64,
        MAX_DEPTH as u32,
    );
    if out.is_null() {
        return Filtered::Drop;
    }
    let Some(text) = out.as_string() else {
        // { why } or { field }: an object the helper made.
        if let Some(why) = js::read_field(&out, "why").value().as_string() {
            return Filtered::Failed(why);
        }
        let field = js::read_field(&out, "field").value().as_string();
        let what = cat!("it returned an event whose ", field.unwrap_or_default());
        let error = Problem::from_code(fault_kind()).error(&what, &fault_path(), budget);
        return Filtered::Failed(error.message().to_owned());
    };
    // One line per field, in the helper's order: JSON string literals for
    // strings, JSON text for objects, empty when absent.
    let mut lines = text.split('\n');
    let mut line = || lines.next().unwrap_or_default();
    let mut string = || {
        Some(line())
            .filter(|l| !l.is_empty())
            .and_then(string_value)
    };
    let (name, profile_id) = (string(), string());
    let (user_id, account_id, another_user_id) = (string(), string(), string());
    let mut object = || {
        Some(line())
            .filter(|l| !l.is_empty())
            .map(|l| JsonObject::from_trusted(l.to_owned()))
    };
    let parts = Parts {
        name: name.unwrap_or_default(),
        profile_id: profile_id.unwrap_or_default(),
        user_id,
        account_id,
        another_user_id,
        data: object(),
        user_attributes: object(),
        account_attributes: object(),
    };
    match Event::from_parts(parts) {
        Ok(event) => Filtered::Keep(event),
        Err(error) => Filtered::Failed(cat!(
            "it returned an event that no call could make: ",
            error.message()
        )),
    }
}

/// Why properties cannot be sent (the codes `propsJson` records)./// Why properties cannot be sent (the codes `propsJson` records).
enum Problem {
    NotAnObject(Kind),
    Unfaithful(Kind),
    NonFinite,
    UndefinedInArray,
    InvalidDate,
    TooDeep,
    TooLarge,
}

impl Problem {
    fn from_code(value: u8) -> Problem {
        use code::problem;
        match value {
            problem::TOO_LARGE => Problem::TooLarge,
            problem::NON_FINITE => Problem::NonFinite,
            problem::UNDEFINED_IN_ARRAY => Problem::UndefinedInArray,
            problem::INVALID_DATE => Problem::InvalidDate,
            problem::TOO_DEEP => Problem::TooDeep,
            problem::NOT_AN_OBJECT.. => {
                Problem::NotAnObject(kind_from(value - problem::NOT_AN_OBJECT))
            }
            other => Problem::Unfaithful(kind_from(other)),
        }
    }

    fn error(self, what: &str, path: &str, budget: usize) -> Error {
        let problem = match self {
            Problem::TooLarge => {
                return Error::new(
                    ErrorCode::EventTooLarge,
                    cat!(what, " are larger than the per-event limit of ", budget, " bytes of JSON (option maxEventBytes)"),
                )
            }
            Problem::NotAnObject(kind) => {
                return Error::new(
                    ErrorCode::InvalidProperties,
                    cat!(what, " must be a plain object, got ", kind_name(kind)),
                )
            }
            Problem::Unfaithful(Kind::BigInt) => "is a BigInt, which JSON cannot carry; convert it with String(n) or Number(n)".to_owned(),
            Problem::Unfaithful(Kind::Threw) => "threw when read (a getter or Proxy); pass plain data".to_owned(),
            Problem::Unfaithful(Kind::OtherObject) => "is a class instance (Map, Set, typed array, …), which JSON cannot carry faithfully; convert it to a plain object or array".to_owned(),
            Problem::Unfaithful(kind) => cat!("is ", kind_name(kind), ", which JSON cannot carry; remove it or convert it"),
            Problem::NonFinite => "is NaN or Infinity, which JSON cannot carry; send null or a finite number".to_owned(),
            Problem::UndefinedInArray => "is undefined inside an array; use null".to_owned(),
            Problem::InvalidDate => "is an invalid Date".to_owned(),
            Problem::TooDeep => cat!("is nested more than ", MAX_DEPTH, " levels deep (or is part of a cycle)"),
        };
        Error::new(ErrorCode::InvalidProperties, cat!(what, path, " ", problem))
    }
}
