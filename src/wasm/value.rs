//! JS values → the core's types. Every read of a caller's value goes through
//! the small JS helpers below, which catch what a Proxy or a getter throws:
//! an exception unwinding through wasm frames would leave Rust state
//! half-updated, so none may happen. The rules (what JSON can carry, the
//! messages) are Rust's; the helpers only look.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::error::{Error, ErrorCode};
use crate::json::{write_f64, write_str, JsonObject, MAX_DEPTH};

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
export function ownEntries(o) {
  try {
    const keys = Object.keys(o);
    const out = new Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) { out[2 * i] = keys[i]; out[2 * i + 1] = o[keys[i]]; }
    return out;
  } catch (_) { return null; }
}
export function arrayItems(a) {
  try { return Array.prototype.slice.call(a); } catch (_) { return null; }
}
export function isoDate(d) {
  try { const s = Date.prototype.toISOString.call(d); return typeof s === 'string' ? s : null; } catch (_) { return null; }
}
export function readField(o, key) {
  try { return { ok: true, value: o[key] }; } catch (_) { return { ok: false }; }
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = kindOf)]
    fn kind_of(value: &JsValue, max_len: f64) -> u8;
    #[wasm_bindgen(js_name = ownEntries)]
    fn own_entries(value: &JsValue) -> Option<Array>;
    #[wasm_bindgen(js_name = arrayItems)]
    fn array_items(value: &JsValue) -> Option<Array>;
    #[wasm_bindgen(js_name = isoDate)]
    fn iso_date(value: &JsValue) -> Option<String>;
    #[wasm_bindgen(js_name = readField)]
    fn read_field_raw(object: &JsValue, key: &str) -> JsValue;
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

pub(crate) fn kind(value: &JsValue, max_len: usize) -> Kind {
    match kind_of(value, max_len as f64) {
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

/// A required string argument. Emptiness is the core's rule; the type is ours.
pub(crate) fn string(value: &JsValue, what: &str) -> Result<String, Error> {
    match kind(value, MAX_STRING) {
        Kind::String => Ok(value.as_string().unwrap_or_default()),
        Kind::HugeString => Err(too_long(what)),
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
    match kind(value, MAX_STRING) {
        Kind::Undefined | Kind::Null => Ok(None),
        _ => string(value, what).map(Some),
    }
}

fn too_long(what: &str) -> Error {
    Error::new(
        ErrorCode::EventTooLarge,
        format!("{what} is longer than {MAX_STRING} characters"),
    )
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
/// JSON values, written straight to JSON text. `budget` bounds the text.
pub(crate) fn object(
    value: &JsValue,
    what: &str,
    budget: usize,
) -> Result<Option<JsonObject>, Error> {
    match kind(value, MAX_STRING) {
        Kind::Undefined | Kind::Null => Ok(None),
        Kind::Object => {
            let mut writer = Writer {
                out: String::with_capacity(64),
                budget,
            };
            match writer.object(value, 0) {
                Ok(()) => Ok(Some(JsonObject::from_trusted(writer.out))),
                Err(fault) => Err(fault.into_error(what, budget)),
            }
        }
        other => Err(Error::new(
            ErrorCode::InvalidProperties,
            format!("{what} must be a plain object, got {}", kind_name(other)),
        )),
    }
}

/// Why a value cannot be written, and where (innermost segment first).
struct Fault {
    path: Vec<String>,
    problem: Problem,
}

enum Problem {
    Unfaithful(Kind),
    NonFinite,
    UndefinedInArray,
    InvalidDate,
    TooDeep,
    TooLarge,
}

impl Fault {
    fn new(problem: Problem) -> Fault {
        Fault {
            path: Vec::new(),
            problem,
        }
    }

    fn at(mut self, segment: String) -> Fault {
        self.path.push(segment);
        self
    }

    fn into_error(self, what: &str, budget: usize) -> Error {
        let mut path = String::from(what);
        for segment in self.path.iter().rev() {
            path.push_str(segment);
        }
        let (code, problem) = match self.problem {
            Problem::TooLarge => {
                return Error::new(
                    ErrorCode::EventTooLarge,
                    format!("{what} are larger than the per-event limit of {budget} bytes of JSON (option maxEventBytes)"),
                )
            }
            Problem::Unfaithful(Kind::BigInt) => (ErrorCode::InvalidProperties, "is a BigInt, which JSON cannot carry; convert it with String(n) or Number(n)".to_owned()),
            Problem::Unfaithful(Kind::Threw) => (ErrorCode::InvalidProperties, "threw when read (a getter or Proxy); pass plain data".to_owned()),
            Problem::Unfaithful(Kind::OtherObject) => (ErrorCode::InvalidProperties, "is a class instance (Map, Set, typed array, …), which JSON cannot carry faithfully; convert it to a plain object or array".to_owned()),
            Problem::Unfaithful(kind) => (ErrorCode::InvalidProperties, format!("is {}, which JSON cannot carry; remove it or convert it", kind_name(kind))),
            Problem::NonFinite => (ErrorCode::InvalidProperties, "is NaN or Infinity, which JSON cannot carry; send null or a finite number".to_owned()),
            Problem::UndefinedInArray => (ErrorCode::InvalidProperties, "is undefined inside an array; use null".to_owned()),
            Problem::InvalidDate => (ErrorCode::InvalidProperties, "is an invalid Date".to_owned()),
            Problem::TooDeep => (ErrorCode::InvalidProperties, format!("is nested more than {MAX_DEPTH} levels deep (or is part of a cycle)")),
        };
        Error::new(code, format!("{path} {problem}"))
    }
}

struct Writer {
    out: String,
    budget: usize,
}

impl Writer {
    fn check_budget(&self) -> Result<(), Fault> {
        if self.out.len() > self.budget {
            Err(Fault::new(Problem::TooLarge))
        } else {
            Ok(())
        }
    }

    fn value(&mut self, value: &JsValue, kind: Kind, depth: usize) -> Result<(), Fault> {
        match kind {
            Kind::String => write_str(&mut self.out, &value.as_string().unwrap_or_default()),
            Kind::Number => {
                if !write_f64(&mut self.out, value.as_f64().unwrap_or(f64::NAN)) {
                    return Err(Fault::new(Problem::NonFinite));
                }
            }
            Kind::Boolean => self
                .out
                .push_str(if value.is_truthy() { "true" } else { "false" }),
            Kind::Null => self.out.push_str("null"),
            Kind::Object => self.object(value, depth)?,
            Kind::Array => self.array(value, depth)?,
            Kind::Date => match iso_date(value) {
                Some(iso) => write_str(&mut self.out, &iso),
                None => return Err(Fault::new(Problem::InvalidDate)),
            },
            Kind::HugeString => return Err(Fault::new(Problem::TooLarge)),
            Kind::Undefined => return Err(Fault::new(Problem::UndefinedInArray)),
            other => return Err(Fault::new(Problem::Unfaithful(other))),
        }
        self.check_budget()
    }

    fn limit(&self) -> usize {
        self.budget.saturating_sub(self.out.len())
    }

    fn object(&mut self, value: &JsValue, depth: usize) -> Result<(), Fault> {
        if depth >= MAX_DEPTH {
            return Err(Fault::new(Problem::TooDeep));
        }
        let entries =
            own_entries(value).ok_or_else(|| Fault::new(Problem::Unfaithful(Kind::Threw)))?;
        self.out.push('{');
        let mut first = true;
        for i in (0..entries.length()).step_by(2) {
            let key = entries.get(i).as_string().unwrap_or_default();
            let item = entries.get(i + 1);
            let kind = kind(&item, self.limit());
            // Like JSON.stringify: a key whose value is undefined is left out.
            if kind == Kind::Undefined {
                continue;
            }
            if !first {
                self.out.push(',');
            }
            first = false;
            write_str(&mut self.out, &key);
            self.out.push(':');
            self.value(&item, kind, depth + 1)
                .map_err(|f| f.at(format!(".{key}")))?;
        }
        self.out.push('}');
        Ok(())
    }

    fn array(&mut self, value: &JsValue, depth: usize) -> Result<(), Fault> {
        if depth >= MAX_DEPTH {
            return Err(Fault::new(Problem::TooDeep));
        }
        let items =
            array_items(value).ok_or_else(|| Fault::new(Problem::Unfaithful(Kind::Threw)))?;
        self.out.push('[');
        for i in 0..items.length() {
            if i > 0 {
                self.out.push(',');
            }
            let item = items.get(i);
            let kind = kind(&item, self.limit());
            self.value(&item, kind, depth + 1)
                .map_err(|f| f.at(format!("[{i}]")))?;
        }
        self.out.push(']');
        Ok(())
    }
}
