//! The constructor's arguments: the seed's positional form or one object,
//! and the options object, read through trap-safe helpers into a
//! [`ConfigBuilder`]. Unknown option names are errors, not silent defaults.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::js;
use super::value::{self, got, kind, Kind, MAX_STRING};
use super::JsOutbox;
use crate::config::{AuthMode, Config, ConfigBuilder, OPTION_NAMES};
use crate::error::{Error, ErrorCode};
use crate::text::cat;

/// The six fields of the seed's positional constructor (the options are
/// the core's table, `config::OPTIONS`).
const FIELDS: [&str; 6] = [
    "organization",
    "project",
    "apiKey",
    "sourceId",
    "batchTimeMs",
    "maxBatchSize",
];

fn config_error(message: String) -> Error {
    Error::new(ErrorCode::InvalidConfig, message)
}

/// An optional non-negative integer option.
fn integer(value: &JsValue, name: &str) -> Result<Option<u32>, Error> {
    match kind(value, MAX_STRING) {
        Kind::Undefined | Kind::Null => Ok(None),
        Kind::Number => {
            let n = value.as_f64().unwrap_or(f64::NAN);
            if let Some(n) = whole_u32(n) {
                Ok(Some(n))
            } else {
                let mut got = String::new();
                if !crate::json::write_f64(&mut got, n) {
                    got = "a non-finite number".to_owned();
                }
                Err(config_error(cat!(
                    name,
                    " must be a non-negative integer, got ",
                    got
                )))
            }
        }
        other => Err(config_error(cat!(name, " must be a number", got(other)))),
    }
}

/// `n` as a `u32` if it is one exactly: in range and whole (`f64::fract`
/// needs `std`); NaN is neither.
fn whole_u32(n: f64) -> Option<u32> {
    let in_range = (0.0..=f64::from(u32::MAX)).contains(&n);
    (in_range && f64::from(n as u32) == n).then_some(n as u32)
}

/// Configuration strings are short: a longer one is refused before it is
/// copied into wasm memory.
const MAX_CONFIG_STRING: usize = 4096;

/// What an undefined field usually means, and what to do about it.
const UNSET_HINT: &str = ". If it comes from an environment variable, that variable is not set where this code runs (a build step such as `next build` imports your modules without it): make the client on first use, inside the handler, not at import";

fn config_string(value: &JsValue, name: &str) -> Result<String, Error> {
    if let Some(s) = js::str_within(value, MAX_CONFIG_STRING as f64) {
        return Ok(s);
    }
    let code = if name == "apiKey" {
        ErrorCode::InvalidApiKey
    } else {
        ErrorCode::InvalidConfig
    };
    let message = match kind(value, MAX_CONFIG_STRING) {
        Kind::HugeString => cat!(name, " is longer than ", MAX_CONFIG_STRING, " characters"),
        other if name == "apiKey" => cat!(
            "apiKey must be a string of the form identifier.secret",
            got(other)
        ),
        other => cat!(name, " must be a non-empty string", got(other)),
    };
    if kind(value, MAX_CONFIG_STRING) == Kind::Undefined {
        return Err(Error::new(code, cat!(message, UNSET_HINT)));
    }
    Err(Error::new(code, message))
}

fn function(value: &JsValue, name: &str) -> Result<Option<Function>, Error> {
    match kind(value, MAX_STRING) {
        Kind::Undefined | Kind::Null => Ok(None),
        Kind::Function => Ok(Some(value.clone().unchecked_into())),
        other => Err(config_error(cat!(name, " must be a function", got(other)))),
    }
}

/// Reads the options object: every key must be known (a typo is an error, not a silent default).
fn read_options(options: &JsValue, allowed: &[&[&str]]) -> Result<Vec<(String, JsValue)>, Error> {
    match kind(options, MAX_STRING) {
        Kind::Undefined | Kind::Null => return Ok(Vec::new()),
        Kind::Object => {}
        Kind::Threw => {
            return Err(config_error(
                "options threw when read (a Proxy); pass a plain object".to_owned(),
            ))
        }
        other => {
            return Err(config_error(cat!(
                "options must be a plain object",
                got(other)
            )))
        }
    }
    let keys = value::own_keys(options).ok_or_else(|| {
        config_error("options threw when read (a Proxy); pass a plain object".to_owned())
    })?;
    let mut out = Vec::new();
    for key in keys {
        if !allowed.iter().any(|list| list.contains(&key.as_str())) {
            return Err(config_error(cat!(
                "unknown option '",
                key,
                "'; known options: ",
                allowed.concat().join(", ")
            )));
        }
        let value = value::read_field(options, &key)?;
        // `{ endpoint: env.INTEMPT_ENDPOINT }` with the variable unset: the default.
        if kind(&value, MAX_STRING) != Kind::Undefined {
            out.push((key, value));
        }
    }
    Ok(out)
}

pub(super) struct Built {
    pub config: Config,
    pub fetch: Option<Function>,
    pub wait_until: Option<Function>,
    pub logger: Option<Function>,
    pub debug: bool,
    pub warnings: bool,
    pub outbox: Option<JsOutbox>,
    pub before_send: Option<Function>,
}

/// The value read for option `name` (undefined when absent).
fn pick(all: &[(String, JsValue)], name: &str) -> JsValue {
    all.iter()
        .find(|(k, _)| k == name)
        .map_or(JsValue::UNDEFINED, |(_, v)| v.clone())
}

pub(super) fn build_config(args: [&JsValue; 7]) -> Result<Built, Error> {
    let [first, project, api_key, source_id, batch_time, max_batch, options] = args;
    // new SDK({organization, project, apiKey, sourceId, ...options}) or the seed's positional form.
    let (fields, options): ([JsValue; 6], Vec<(String, JsValue)>) = if kind(first, MAX_STRING)
        == Kind::Object
    {
        let all = read_options(first, &[&FIELDS, &OPTION_NAMES])?;
        let field = |name: &str| pick(&all, name);
        let fields = FIELDS.map(field);
        (
            fields,
            all.into_iter()
                .filter(|(k, _)| OPTION_NAMES.contains(&k.as_str()))
                .collect(),
        )
    } else if kind(batch_time, MAX_STRING) == Kind::Object {
        // new SDK(organization, project, apiKey, sourceId, {endpoint, ...}):
        // the options in fifth place, the batch settings among them.
        let unused = |v: &JsValue| matches!(kind(v, MAX_STRING), Kind::Undefined);
        if !unused(max_batch) || !unused(options) {
            return Err(config_error(
                    "with the options object as the fifth argument, pass batchTimeMs and maxBatchSize inside it and nothing after it".to_owned(),
                ));
        }
        let all = read_options(batch_time, &[&FIELDS[4..], &OPTION_NAMES])?;
        let field = |name: &str| pick(&all, name);
        let fields = [
            first.clone(),
            project.clone(),
            api_key.clone(),
            source_id.clone(),
            field(FIELDS[4]),
            field(FIELDS[5]),
        ];
        (
            fields,
            all.into_iter()
                .filter(|(k, _)| OPTION_NAMES.contains(&k.as_str()))
                .collect(),
        )
    } else {
        let fields =
            [first, project, api_key, source_id, batch_time, max_batch].map(JsValue::clone);
        (fields, read_options(options, &[&OPTION_NAMES])?)
    };
    let mut builder: ConfigBuilder = Config::builder(
        config_string(&fields[0], "organization")?,
        config_string(&fields[1], "project")?,
        config_string(&fields[2], "apiKey")?,
        config_string(&fields[3], "sourceId")?,
    );
    if let Some(ms) = integer(&fields[4], "batchTimeMs")? {
        builder = builder.batch_time_ms(ms);
    }
    if let Some(n) = integer(&fields[5], "maxBatchSize")? {
        builder = builder.max_batch_size(n);
    }
    let (mut fetch, mut wait_until, mut logger, mut debug) = (None, None, None, false);
    let mut warnings = true;
    let mut outbox = None;
    let mut before_send = None;
    for (key, value) in &options {
        builder = match key.as_str() {
            "endpoint" => builder.endpoint(config_string(value, "endpoint")?),
            "authMode" => match js::str_within(value, 16.0).as_deref() {
                Some("header") => builder.auth_mode(AuthMode::Header),
                Some("query") => builder.auth_mode(AuthMode::Query),
                _ => {
                    return Err(config_error(
                        "authMode must be 'header' or 'query'".to_owned(),
                    ))
                }
            },
            "fetch" => {
                fetch = function(value, key)?;
                builder
            }
            "waitUntil" => {
                wait_until = function(value, key)?;
                builder
            }
            "logger" => {
                logger = function(value, key)?;
                builder
            }
            "outbox" => {
                outbox = adapt_outbox(value)?;
                builder
            }
            "beforeSend" => {
                before_send = function(value, key)?;
                builder
            }
            "debug" => {
                debug = flag(value, "debug")?.unwrap_or(false);
                builder
            }
            "warnings" => {
                warnings = flag(value, "warnings")?.unwrap_or(true);
                builder
            }
            numeric => match integer(value, numeric)? {
                None => builder,
                Some(n) => match numeric {
                    "flushDeadlineMs" => builder.flush_deadline_ms(n),
                    "requestTimeoutMs" => builder.request_timeout_ms(n),
                    "chooseTimeoutMs" => builder.choose_timeout_ms(n),
                    "maxQueueSize" => builder.max_queue_events(n),
                    "maxEventBytes" => builder.max_event_bytes(n),
                    "maxConcurrentRequests" => builder.max_concurrent_requests(n),
                    _ => builder.max_batch_bytes(n),
                },
            },
        };
    }
    Ok(Built {
        config: builder.build()?,
        fetch,
        wait_until,
        logger,
        debug,
        warnings,
        outbox,
        before_send,
    })
}

/// A boolean option: `None` when not given (`undefined` or `null`).
fn flag(value: &JsValue, name: &str) -> Result<Option<bool>, Error> {
    match kind(value, MAX_STRING) {
        Kind::Undefined | Kind::Null => Ok(None),
        Kind::Boolean => Ok(Some(value.is_truthy())),
        other => Err(config_error(cat!(
            name,
            " must be true or false",
            got(other)
        ))),
    }
}

/// The `outbox` option through the package's adapter (a Queue binding, a
/// Deno.Kv, or an object with `store(messages)`).
fn adapt_outbox(value: &JsValue) -> Result<Option<JsOutbox>, Error> {
    if matches!(kind(value, MAX_STRING), Kind::Undefined | Kind::Null) {
        return Ok(None);
    }
    let adapted = js::adapt_outbox(value);
    if let Some(why) = adapted.as_string() {
        return Err(config_error(why));
    }
    let adapted: js::Adapted = adapted.unchecked_into();
    // Infinity (no limit of its own) saturates: the batch limit applies.
    let max = adapted.max() as usize;
    Ok(Some(JsOutbox::new(adapted.target(), max)))
}
