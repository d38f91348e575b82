//! A Rust Worker for tests/e2e/workerd-shared.test.mjs: one module-scope
//! [`EdgeClient`] shared by every request, background flushes handed to the
//! runtime's `waitUntil` (from `cloudflare:workers`), and each request's
//! flush to its own `ctx.waitUntil`. It records when each flush settled.

use std::cell::{Cell, RefCell};

use intempt_edge::{Config, EdgeClient, EdgeOptions, Event, JsOutbox, JsonObject};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen(module = "cloudflare:workers")]
extern "C" {
    /// The runtime's `waitUntil`: keeps the batch timer's flushes alive.
    #[wasm_bindgen(catch, js_name = waitUntil)]
    fn runtime_wait_until(promise: &Promise) -> Result<(), JsValue>;
}

#[wasm_bindgen]
extern "C" {
    /// The request's execution context.
    pub type Context;
    #[wasm_bindgen(method, catch, js_name = waitUntil)]
    fn wait_until(this: &Context, promise: &Promise) -> Result<(), JsValue>;
}

thread_local! {
    static CLIENT: RefCell<Option<EdgeClient>> = const { RefCell::new(None) };
    static STARTED: Cell<u32> = const { Cell::new(0) };
    /// One JSON object per settled flush: `{"req":…,"ms":…,"report":{…}}`.
    static SETTLED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn client() -> Result<EdgeClient, JsError> {
    CLIENT
        .with(|c| c.borrow().clone())
        .ok_or_else(|| JsError::new("configure() first"))
}

/// Makes the client on the first request (the bindings arrive with `env`).
#[wasm_bindgen]
pub fn configure(
    endpoint: String,
    api_key: String,
    flush_deadline_ms: u32,
    outbox: JsValue,
) -> Result<(), JsError> {
    if CLIENT.with(|c| c.borrow().is_some()) {
        return Ok(());
    }
    let config = Config::builder(
        "demo-organization",
        "demo-project",
        api_key,
        "616010376811536384",
    )
    .endpoint(endpoint)
    .flush_deadline_ms(flush_deadline_ms)
    .build()?;
    let mut options = EdgeOptions::default().wait_until(|promise| {
        let _ = runtime_wait_until(&promise);
    });
    if !outbox.is_undefined() {
        options = options.outbox(JsOutbox::new(outbox, 120_000));
    }
    let client = EdgeClient::new(config, options);
    CLIENT.with(|c| *c.borrow_mut() = Some(client));
    Ok(())
}

/// Tracks 5 events `{req, n}` for profile `p<req>`; with `flush`, hands a
/// flush to `ctx.waitUntil` and records when it settled.
#[wasm_bindgen]
pub fn record(req: u32, flush: bool, ctx: Context) -> Result<(), JsError> {
    let intempt = client()?;
    for n in 0..5 {
        let data = JsonObject::parse(&format!(r#"{{"req":{req},"n":{n}}}"#))?;
        intempt.enqueue(&Event::track(
            format!("p{req}"),
            "Shared Client",
            Some(data),
        )?)?;
    }
    if flush {
        STARTED.with(|s| s.set(s.get() + 1));
        let started = js_sys::Date::now();
        let flush = intempt.flush();
        let promise = future_to_promise(async move {
            let r = flush.await;
            let ms = js_sys::Date::now() - started;
            let line = format!(
                r#"{{"req":{req},"ms":{ms},"report":{{"delivered":{},"failed":{},"dropped":{},"pending":{},"stored":{},"timedOut":{}}}}}"#,
                r.delivered, r.failed, r.dropped, r.pending, r.stored, r.timed_out
            );
            SETTLED.with(|s| s.borrow_mut().push(line));
            Ok(JsValue::UNDEFINED)
        });
        ctx.wait_until(&promise)
            .map_err(|_| JsError::new("ctx.waitUntil threw"))?;
    }
    Ok(())
}

/// `{"started":…,"settled":[…],"stats":{…}}` as JSON text.
#[wasm_bindgen]
pub fn state() -> Result<String, JsError> {
    let stats = client()?.stats();
    let settled = SETTLED.with(|s| s.borrow().join(","));
    Ok(format!(
        r#"{{"started":{},"settled":[{settled}],"stats":{{"queued":{},"inFlight":{},"delivered":{},"dropped":{},"stored":{}}}}}"#,
        STARTED.with(Cell::get),
        stats.queued,
        stats.in_flight,
        stats.delivered,
        stats.dropped,
        stats.stored
    ))
}
