//! The JavaScript `Core` class that the npm package's `SDK` wraps (the
//! `npm` feature): JS values in, [`EdgeClient`] calls out.

use alloc::boxed::Box;
use alloc::string::String;

use core::cell::RefCell;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use super::edge;
use super::options::build_config;
use super::value::{self, got, kind, Kind, MAX_STRING};
use super::{js, EdgeClient, EdgeOptions, Warnings};

use crate::client::{Filter, Redelivery};
use crate::error::{Error, ErrorCode};
use crate::event::{Choose, Consent, Event, OptimizationType, RecordBuilder, Selector, ValidUntil};
use crate::json::write_str;
use crate::report::{FlushReport, Reason};
use crate::text::{cat, put_u64};
use crate::transport;

/// The class errors are made with: one per instance (the `no_std` build
/// has no `thread_local!`; wasm32 without the `atomics` feature has one
/// thread, which the assertion below holds).
struct ErrorClass(RefCell<Option<Function>>);

// SAFETY: only ever touched from the instance's one thread (no `atomics`).
unsafe impl Sync for ErrorClass {}
const _: () = assert!(
    !cfg!(target_feature = "atomics"),
    "the npm build is single-threaded"
);

static ERROR_CLASS: ErrorClass = ErrorClass(RefCell::new(None));

// Called once by the runtime entry: the class errors are made with (the
// package's `IntemptError`), the fetch-shaped transport a client uses when
// its options give no `fetch` (the Node entry's, on node:http; anything but a
// function: the global fetch), and the package's outbox adapter. (Plain comments: a doc comment would be copied
// into the shipped JS glue.)
#[wasm_bindgen]
pub fn configure(error_class: Function, default_fetch: JsValue, outbox_adapter: JsValue) {
    *ERROR_CLASS.0.borrow_mut() = Some(error_class);
    js::set_default_fetch(&default_fetch);
    js::set_outbox_adapter(&outbox_adapter);
}

/// An [`Error`] as a JS `Error` with `code` (and `status` for HTTP errors).
fn to_js(error: Error) -> JsValue {
    let class = ERROR_CLASS.0.borrow().clone();
    let class = class.map_or(JsValue::UNDEFINED, JsValue::from);
    js::make_error(
        &class,
        error.code().as_str(),
        error.message(),
        error.status(),
    )
}

/// The wasm side of the JS `SDK` class: JS values in, [`EdgeClient`] calls out.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Core {
    edge: EdgeClient,
}

/// A plain object from JSON text that we wrote: one crossing, and no
/// setter (not even one a caller defined on `Object.prototype`) runs.
fn from_json(json: &str) -> JsValue {
    js_sys::JSON::parse(json).unwrap_or(JsValue::UNDEFINED)
}

/// `{"name":n,…` from a field table (report.rs: one home for the names).
fn put_counts(json: &mut String, counts: &[(&'static str, u64)]) {
    for &(name, n) in counts {
        json.push_str(if json.is_empty() { "{\"" } else { ",\"" });
        json.push_str(name);
        json.push_str("\":");
        put_u64(json, n);
    }
}

/// `,"name":` — the next field of an object already started.
fn put_key(json: &mut String, name: &str) {
    json.push_str(",\"");
    json.push_str(name);
    json.push_str("\":");
}

fn report_to_js(report: &FlushReport) -> JsValue {
    let mut json = String::with_capacity(160);
    put_counts(&mut json, &report.js_counts());
    put_key(&mut json, FlushReport::JS_TIMED_OUT);
    json.push_str(if report.timed_out { "true" } else { "false" });
    put_key(&mut json, FlushReport::JS_REASONS);
    json.push('[');
    let [fate, cause, status, message, events] = Reason::JS_FIELDS;
    for (i, reason) in report.reasons.iter().enumerate() {
        json.push_str(if i == 0 { "{\"" } else { ",{\"" });
        json.push_str(fate);
        json.push_str("\":\"");
        json.push_str(reason.js_fate());
        json.push('"');
        put_key(&mut json, cause);
        json.push('"');
        json.push_str(reason.cause.as_str());
        json.push('"');
        put_key(&mut json, status);
        match reason.status {
            Some(status) => put_u64(&mut json, u64::from(status)),
            None => json.push_str("null"),
        }
        put_key(&mut json, message);
        write_str(&mut json, &reason.message);
        put_key(&mut json, events);
        put_u64(&mut json, u64::from(reason.events));
        json.push('}');
    }
    json.push_str("]}");
    from_json(&json)
}

fn rejected(error: Error) -> Promise {
    Promise::reject(&to_js(error))
}

#[wasm_bindgen]
impl Core {
    /// `new Core(organization | options, project, apiKey, sourceId, batchTimeMs, maxBatchSize, options)`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        organization: JsValue,
        project: JsValue,
        api_key: JsValue,
        source_id: JsValue,
        batch_time_ms: JsValue,
        max_batch_size: JsValue,
        options: JsValue,
    ) -> Result<Core, JsValue> {
        let built = build_config([
            &organization,
            &project,
            &api_key,
            &source_id,
            &batch_time_ms,
            &max_batch_size,
            &options,
        ])
        .map_err(to_js)?;
        // Warnings go to the logger when there is one, else to console.warn.
        let warnings = match (built.warnings, &built.logger) {
            (false, _) => Warnings::Off,
            (true, Some(logger)) => {
                let logger = logger.clone();
                Warnings::To(Box::new(move |line| {
                    js::call_guarded(&logger, &JsValue::from_str(line))
                }))
            }
            (true, None) => Warnings::Console,
        };
        let logger: Option<crate::client::Logger> = match (built.logger, built.debug) {
            // A logger (or console.log) that throws loses its line, nothing else.
            (Some(logger), _) => Some(Box::new(move |line| {
                js::call_guarded(&logger, &JsValue::from_str(line))
            })),
            (None, true) => Some(Box::new(|line| {
                js::console_log(&cat!("[intempt-edge] ", line))
            })),
            (None, false) => None,
        };
        let options = EdgeOptions {
            fetch: built.fetch,
            wait_until: built.wait_until.map(edge::guarded),
            logger,
            outbox: built.outbox,
            warnings,
            before_send: None,
        };
        // Only when given: without a hook, recording costs nothing more.
        let budget = built.config.max_event_bytes as usize;
        let filter = built.before_send.map(|hook| -> Filter {
            Box::new(move |event: Event| value::before_send(&hook, &event, budget))
        });
        Ok(Core {
            edge: EdgeClient::with_filter(built.config, options, filter),
        })
    }

    /// The runtime's `waitUntil` (the Worker entry passes Cloudflare's), used
    /// unless the caller gave one in the options.
    #[wasm_bindgen(js_name = useDefaultWaitUntil)]
    pub fn use_default_wait_until(&self, wait_until: Function) {
        self.edge.use_default_wait_until(wait_until);
    }

    /// The `maxConcurrentRequests` the client was built with: how many
    /// stored batches the package's queue consumer redelivers at once.
    #[wasm_bindgen(getter, js_name = maxConcurrentRequests)]
    pub fn max_concurrent_requests(&self) -> u32 {
        self.edge.config().max_concurrent_requests
    }

    fn budget(&self) -> usize {
        self.edge.config().max_event_bytes as usize
    }

    /// The characters a choose call's list may hold in all: what one request
    /// body may hold (option `maxBatchBytes`), and never more than any one
    /// string argument may.
    fn max_list_chars(&self) -> u32 {
        self.edge.config().max_batch_bytes.min(MAX_STRING as u32)
    }

    fn object(
        &self,
        value: &JsValue,
        what: &str,
    ) -> Result<Option<crate::json::JsonObject>, Error> {
        value::object(value, what, self.budget())
    }

    fn enqueue(&self, event: Result<Event, Error>) -> Result<(), JsValue> {
        event.and_then(|e| self.edge.enqueue(&e)).map_err(to_js)
    }

    /// `identify(profileId, userId, eventTitle?, userAttributes?)`.
    pub fn identify(
        &self,
        profile_id: JsValue,
        user_id: JsValue,
        title: JsValue,
        attributes: JsValue,
    ) -> Result<(), JsValue> {
        self.enqueue((|| {
            let profile_id = value::string(&profile_id, "profileId")?;
            let user_id = value::string(&user_id, "userId")?;
            let title = value::optional_string(&title, "eventTitle")?;
            let attributes = self.object(&attributes, "userAttributes")?;
            Event::identify(profile_id, user_id, title.as_deref(), attributes)
        })())
    }

    /// `group(profileId, accountId, eventTitle?, accountAttributes?)`.
    pub fn group(
        &self,
        profile_id: JsValue,
        account_id: JsValue,
        title: JsValue,
        attributes: JsValue,
    ) -> Result<(), JsValue> {
        self.enqueue((|| {
            let profile_id = value::string(&profile_id, "profileId")?;
            let account_id = value::string(&account_id, "accountId")?;
            let title = value::optional_string(&title, "eventTitle")?;
            let attributes = self.object(&attributes, "accountAttributes")?;
            Event::group(profile_id, account_id, title.as_deref(), attributes)
        })())
    }

    /// `track(profileId, eventTitle, properties)`.
    pub fn track(
        &self,
        profile_id: JsValue,
        title: JsValue,
        properties: JsValue,
    ) -> Result<(), JsValue> {
        self.enqueue((|| {
            let profile_id = value::string(&profile_id, "profileId")?;
            let title = value::string(&title, "eventTitle")?;
            let properties = self.object(&properties, "properties")?;
            Event::track(profile_id, title, properties)
        })())
    }

    /// `record(profileId, eventTitle, userId?, accountId?, properties?, userAttributes?, accountAttributes?)`.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        profile_id: JsValue,
        title: JsValue,
        user_id: JsValue,
        account_id: JsValue,
        properties: JsValue,
        user_attributes: JsValue,
        account_attributes: JsValue,
    ) -> Result<(), JsValue> {
        self.enqueue((|| {
            let profile_id = value::string(&profile_id, "profileId")?;
            let title = value::string(&title, "eventTitle")?;
            let user_id = value::optional_string(&user_id, "userId")?;
            let account_id = value::optional_string(&account_id, "accountId")?;
            let properties = self.object(&properties, "properties")?;
            let user_attributes = self.object(&user_attributes, "userAttributes")?;
            let account_attributes = self.object(&account_attributes, "accountAttributes")?;
            // Every optional field at once (the JS arguments are optional).
            RecordBuilder {
                profile_id,
                title,
                user_id,
                account_id,
                properties,
                user_attributes,
                account_attributes,
            }
            .build()
        })())
    }

    /// `alias(profileId, userId, anotherUserId)`.
    pub fn alias(
        &self,
        profile_id: JsValue,
        user_id: JsValue,
        another_user_id: JsValue,
    ) -> Result<(), JsValue> {
        self.enqueue((|| {
            let profile_id = value::string(&profile_id, "profileId")?;
            let user_id = value::string(&user_id, "userId")?;
            let other = value::string(&another_user_id, "anotherUserId")?;
            Event::alias(profile_id, user_id, other)
        })())
    }

    /// Stops tracking calls until `optIn()`.
    #[wasm_bindgen(js_name = optOut)]
    pub fn opt_out(&self) {
        self.edge.opt_out();
    }

    /// Resumes tracking calls.
    #[wasm_bindgen(js_name = optIn)]
    pub fn opt_in(&self) {
        self.edge.opt_in();
    }

    /// `consent(profileId, action, category?, validUntil?, email?, message?)`;
    /// `category` undefined means `consents()` (all categories).
    #[allow(clippy::too_many_arguments)]
    pub fn consent(
        &self,
        profile_id: JsValue,
        action: JsValue,
        category: JsValue,
        valid_until: JsValue,
        email: JsValue,
        message: JsValue,
        category_required: bool,
    ) -> Promise {
        let consent = (|| {
            let profile_id = value::string(&profile_id, "profileId")?;
            let action = value::string(&action, "action")?;
            let category = if category_required {
                Some(value::string(&category, "category")?)
            } else {
                None
            };
            let text = js::str_within(&valid_until, MAX_STRING as f64);
            let valid_until = match kind(&valid_until, MAX_STRING) {
                Kind::Undefined | Kind::Null => None,
                Kind::String => Some(ValidUntil::Text(text.unwrap_or_default())),
                Kind::Number => Some(ValidUntil::Number(valid_until.as_f64().unwrap_or(f64::NAN))),
                Kind::HugeString => {
                    return Err(value::too_long("validUntil", ErrorCode::InvalidArgument))
                }
                other => {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        cat!("validUntil must be a string or a number", got(other)),
                    ))
                }
            };
            let email = value::optional_string(&email, "email")?;
            let message = value::optional_string(&message, "message")?;
            // The action is parsed with ConsentAction::parse (INVALID_ACTION,
            // as always), in the core's order among the other checks.
            Consent::with_action_text(
                &profile_id,
                &action,
                category.as_deref(),
                valid_until,
                email.as_deref(),
                message.as_deref(),
            )
        })();
        let consent = match consent {
            Ok(consent) => consent,
            Err(error) => return rejected(error),
        };
        let sent = self.edge.consent(consent);
        edge::to_promise(async move {
            sent.await.map_err(to_js)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The four choose methods: `experiment` picks the optimization type,
    /// `by_names` the list key.
    pub fn choose(
        &self,
        profile_id: JsValue,
        list: JsValue,
        experiment: bool,
        by_names: bool,
    ) -> Promise {
        let what = if by_names { "names" } else { "groups" };
        let choose = (|| {
            let profile_id = value::string(&profile_id, "profileId")?;
            let selector = match kind(&list, MAX_STRING) {
                Kind::Undefined | Kind::Null => Selector::All,
                Kind::Array => {
                    let out = value::string_list(&list, what, self.max_list_chars())?;
                    if by_names {
                        Selector::Names(out)
                    } else {
                        Selector::Groups(out)
                    }
                }
                Kind::Threw => {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        cat!(
                            what,
                            " threw when read (a Proxy); pass a plain array of strings"
                        ),
                    ))
                }
                other => {
                    return Err(Error::new(
                        ErrorCode::InvalidArgument,
                        cat!(
                            what,
                            " must be an array of strings or undefined (all)",
                            got(other)
                        ),
                    ))
                }
            };
            let kind = if experiment {
                OptimizationType::Experiment
            } else {
                OptimizationType::Personalization
            };
            Choose::new(&profile_id, kind, selector)
        })();
        let choose = match choose {
            Ok(choose) => choose,
            Err(error) => return rejected(error),
        };
        let chosen = self.edge.choose(choose);
        edge::to_promise(async move {
            let choices = chosen.await.map_err(to_js)?;
            js_sys::JSON::parse(&choices)
                .map_err(|_| to_js(Error::http(200, "the server's choices are not valid JSON")))
        })
    }

    /// Sends everything queued; resolves (never rejects) with a report.
    pub fn flush(&self) -> Promise {
        let flushed = self.edge.flush();
        edge::to_promise(async move { Ok(report_to_js(&flushed.await)) })
    }

    /// Flushes, then refuses every later call.
    pub fn close(&self) -> Promise {
        let closed = self.edge.close();
        edge::to_promise(async move { Ok(report_to_js(&closed.await)) })
    }

    /// Sends a batch an outbox stored, once (`attempts`: deliveries so far,
    /// this one included); resolves (never rejects) with what to do with the
    /// message: `{outcome: "delivered"}`, `{outcome: "retry", retryAfterMs,
    /// status, reason}` or `{outcome: "dropped", status, reason}` (the
    /// reason led by the status, `HTTP 400: …`, when the server answered).
    pub fn redeliver(&self, body: JsValue, attempts: u32, max_delay_ms: f64) -> Promise {
        let body = js::str_within(&body, MAX_STRING as f64).unwrap_or_default();
        let redelivered = self.edge.redeliver(body, attempts, max_delay_ms as u64);
        edge::to_promise(async move {
            let [outcome_key, after_key, status_key, reason_key] = Redelivery::JS_FIELDS;
            let (outcome, after, status, reason) = match redelivered.await {
                Redelivery::Delivered => ("delivered", None, None, None),
                Redelivery::Retry {
                    after_ms,
                    status,
                    reason,
                } => ("retry", Some(after_ms), status, Some(reason)),
                Redelivery::Dropped { status, reason } => ("dropped", None, status, Some(reason)),
            };
            let mut json = cat!("{\"", outcome_key, "\":\"", outcome, "\"");
            let Some(reason) = reason else {
                json.push('}');
                return Ok(from_json(&json));
            };
            if let Some(after) = after {
                put_key(&mut json, after_key);
                put_u64(&mut json, after);
            }
            put_key(&mut json, status_key);
            match status {
                Some(status) => put_u64(&mut json, u64::from(status)),
                None => json.push_str("null"),
            }
            // For logs and summaries: `HTTP 400: …`.
            put_key(&mut json, reason_key);
            write_str(&mut json, &transport::with_status(status, reason));
            json.push('}');
            Ok(from_json(&json))
        })
    }

    /// Counters over the client's life.
    pub fn stats(&self) -> JsValue {
        let mut json = String::with_capacity(160);
        put_counts(&mut json, &self.edge.stats().js_counts());
        json.push('}');
        from_json(&json)
    }
}
