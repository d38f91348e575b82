//! JS values → the core's types.
//!
//! Two rules shape this module. **No exception may unwind through wasm**
//! (it would leave Rust state half-updated), so every read of a caller's
//! value happens in the small JS helpers below, which catch what a Proxy or a
//! getter throws. And **crossing into wasm is the expensive step** of a
//! `track()` call, so properties cross once, as JSON text: `propsJson` walks
//! the value a single time and writes its JSON as `JSON.stringify` would
//! (native string escaping and number printing), but refuses — instead of
//! silently dropping or changing — what JSON cannot carry faithfully, and
//! records where and why. The messages and codes of those refusals are
//! Rust's ([`Problem`]); the helpers only look and write.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::error::{Error, ErrorCode};
use crate::json::{JsonObject, MAX_DEPTH};

#[wasm_bindgen(inline_js = r#"
export function kindOf(v, maxLen) {
  switch (typeof v) {
    case 'string': return v.length > maxLen ? 13 : 0;
    case 'number': return 1;
    case 'boolean': return 2;
    case 'undefined': return 4;
    case 'function': return 8;
    case 'symbol': return 9;
    case 'bigint': return 10;
  }
  if (v === null) return 3;
  try {
    if (Array.isArray(v)) return 5;
    const p = Object.getPrototypeOf(v);
    if (p === Object.prototype || p === null) return 6;
    if (p === Date.prototype) return 7;
    return 11;
  } catch (_) { return 12; }
}
export function str(v, maxLen) {
  return typeof v === 'string' && v.length <= maxLen ? v : undefined;
}
export function arrayItems(a) {
  try { return Array.prototype.slice.call(a); } catch (_) { return null; }
}
export function readField(o, key) {
  try { return { ok: true, value: o[key] }; } catch (_) { return { ok: false }; }
}

// propsJson: JSON text of a plain object, "" for undefined/null, or undefined
// with the reason in faultKind()/faultPath(). Kinds match Problem in Rust.
let fault = { kind: 0, path: '' };
export function faultKind() { return fault.kind; }
export function faultPath() { return fault.path; }
function fail(kind) { fault = { kind, path: '' }; return undefined; }
function at(segment) { fault.path = segment + fault.path; return undefined; }
function write(v, depth) {
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'number': return Number.isFinite(v) ? JSON.stringify(v) : fail(20);
    case 'boolean': return v ? 'true' : 'false';
    case 'undefined': return fail(21);
    case 'function': return fail(8);
    case 'symbol': return fail(9);
    case 'bigint': return fail(10);
  }
  if (v === null) return 'null';
  if (depth >= MAX_DEPTH) return fail(23);
  let proto;
  try {
    if (Array.isArray(v)) {
      let out = '[';
      for (let i = 0, n = v.length; i < n; i++) {
        const s = write(v[i], depth + 1);
        if (s === undefined) return at('[' + i + ']');
        out += i === 0 ? s : ',' + s;
      }
      return out + ']';
    }
    proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      let out = '{';
      const keys = Object.keys(v);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const item = v[key];
        if (item === undefined) continue; // as JSON.stringify: the key is left out
        const s = write(item, depth + 1);
        if (s === undefined) return at('.' + key);
        out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + s;
      }
      return out + '}';
    }
    if (proto === Date.prototype) {
      return Number.isNaN(Date.prototype.getTime.call(v)) ? fail(22) : JSON.stringify(Date.prototype.toISOString.call(v));
    }
  } catch (_) {
    return fail(12);
  }
  return fail(11);
}
const MAX_DEPTH = 64;
export function propsJson(v, maxLen) {
  if (v === undefined || v === null) return '';
  let top;
  try {
    top = typeof v === 'object' && !Array.isArray(v) ? Object.getPrototypeOf(v) : undefined;
  } catch (_) {
    return fail(12);
  }
  if (top !== Object.prototype && top !== null) return fail(30 + kindOf(v, Infinity));
  const out = write(v, 0);
  if (out === undefined) return undefined;
  return out.length > maxLen ? fail(13) : out;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = kindOf)]
    fn kind_of(value: &JsValue, max_len: f64) -> u8;
    #[wasm_bindgen(js_name = str)]
    fn str_within(value: &JsValue, max_len: f64) -> Option<String>;
    #[wasm_bindgen(js_name = arrayItems)]
    fn array_items(value: &JsValue) -> Option<Array>;
    #[wasm_bindgen(js_name = readField)]
    fn read_field_raw(object: &JsValue, key: &str) -> JsValue;
    #[wasm_bindgen(js_name = propsJson)]
    fn props_json(value: &JsValue, max_len: f64) -> Option<String>;
    #[wasm_bindgen(js_name = faultKind)]
    fn fault_kind() -> u8;
    #[wasm_bindgen(js_name = faultPath)]
    fn fault_path() -> String;
}

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

/// Strings longer than this (UTF-16 units) are refused before they are
/// copied into wasm memory, which never shrinks.
pub(crate) const MAX_STRING: usize = 1 << 20;

fn kind_from(code: u8) -> Kind {
    match code {
        0 => Kind::String,
        1 => Kind::Number,
        2 => Kind::Boolean,
        3 => Kind::Null,
        4 => Kind::Undefined,
        5 => Kind::Array,
        6 => Kind::Object,
        7 => Kind::Date,
        8 => Kind::Function,
        9 => Kind::Symbol,
        10 => Kind::BigInt,
        12 => Kind::Threw,
        13 => Kind::HugeString,
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

/// A copy of an array's items, or `None` if reading it threw.
pub(crate) fn items(value: &JsValue) -> Option<Array> {
    array_items(value)
}

/// Reads `object[key]`, catching getters and Proxy traps.
pub(crate) fn read_field(object: &JsValue, key: &str) -> Result<JsValue, Error> {
    let result = read_field_raw(object, key);
    let ok = js_sys::Reflect::get(&result, &JsValue::from_str("ok")).ok();
    if ok.and_then(|ok| ok.as_bool()) == Some(true) {
        Ok(
            js_sys::Reflect::get(&result, &JsValue::from_str("value"))
                .unwrap_or(JsValue::UNDEFINED),
        )
    } else {
        Err(Error::new(
            ErrorCode::InvalidConfig,
            format!("reading option '{key}' threw an exception"),
        ))
    }
}

/// A required string argument. Emptiness is the core's rule; the type is
/// ours. One crossing when it is a string (the common case).
pub(crate) fn string(value: &JsValue, what: &str) -> Result<String, Error> {
    if let Some(s) = str_within(value, MAX_STRING as f64) {
        return Ok(s);
    }
    match kind(value, MAX_STRING) {
        Kind::HugeString => Err(Error::new(
            ErrorCode::EventTooLarge,
            format!("{what} is longer than {MAX_STRING} characters"),
        )),
        other => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "{what} must be a non-empty string, got {}{}",
                kind_name(other),
                id_hint(what, other)
            ),
        )),
    }
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
    match props_json(value, budget as f64) {
        Some(json) if json.is_empty() => Ok(None),
        // Checked by the helper: a plain object, written as JSON.stringify would.
        Some(json) if json.len() <= budget => Ok(Some(JsonObject::from_trusted(json))),
        Some(_) => Err(Problem::TooLarge.error(what, "", budget)),
        None => Err(Problem::from_code(fault_kind()).error(what, &fault_path(), budget)),
    }
}

/// Why properties cannot be sent (the codes `propsJson` records).
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
    fn from_code(code: u8) -> Problem {
        match code {
            13 => Problem::TooLarge,
            20 => Problem::NonFinite,
            21 => Problem::UndefinedInArray,
            22 => Problem::InvalidDate,
            23 => Problem::TooDeep,
            30.. => Problem::NotAnObject(kind_from(code - 30)),
            other => Problem::Unfaithful(kind_from(other)),
        }
    }

    fn error(self, what: &str, path: &str, budget: usize) -> Error {
        let problem = match self {
            Problem::TooLarge => {
                return Error::new(
                    ErrorCode::EventTooLarge,
                    format!("{what} are larger than the per-event limit of {budget} bytes of JSON (option maxEventBytes)"),
                )
            }
            Problem::NotAnObject(kind) => {
                return Error::new(
                    ErrorCode::InvalidProperties,
                    format!("{what} must be a plain object, got {}", kind_name(kind)),
                )
            }
            Problem::Unfaithful(Kind::BigInt) => "is a BigInt, which JSON cannot carry; convert it with String(n) or Number(n)".to_owned(),
            Problem::Unfaithful(Kind::Threw) => "threw when read (a getter or Proxy); pass plain data".to_owned(),
            Problem::Unfaithful(Kind::OtherObject) => "is a class instance (Map, Set, typed array, …), which JSON cannot carry faithfully; convert it to a plain object or array".to_owned(),
            Problem::Unfaithful(kind) => format!("is {}, which JSON cannot carry; remove it or convert it", kind_name(kind)),
            Problem::NonFinite => "is NaN or Infinity, which JSON cannot carry; send null or a finite number".to_owned(),
            Problem::UndefinedInArray => "is undefined inside an array; use null".to_owned(),
            Problem::InvalidDate => "is an invalid Date".to_owned(),
            Problem::TooDeep => format!("is nested more than {MAX_DEPTH} levels deep (or is part of a cycle)"),
        };
        Error::new(
            ErrorCode::InvalidProperties,
            format!("{what}{path} {problem}"),
        )
    }
}
