//! A Cloudflare Worker written in Rust (plain wasm-bindgen, no framework):
//! every request records a page view with intempt-edge's [`EdgeClient`], and
//! the flush is handed to `ctx.waitUntil`, so the response is not delayed.
//! `worker.js` is the module entry that instantiates this wasm.

use std::cell::RefCell;

use intempt_edge::{Config, EdgeClient, EdgeOptions, Event, JsonObject};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{Request, Response, Url};

#[wasm_bindgen]
extern "C" {
    /// The Worker's `env`: the variables of `wrangler.toml`.
    pub type Env;
    #[wasm_bindgen(method, getter, js_name = INTEMPT_ORGANIZATION)]
    fn organization(this: &Env) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = INTEMPT_PROJECT)]
    fn project(this: &Env) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = INTEMPT_API_KEY)]
    fn api_key(this: &Env) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = INTEMPT_SOURCE_ID)]
    fn source_id(this: &Env) -> JsValue;
    #[wasm_bindgen(method, getter, js_name = INTEMPT_ENDPOINT)]
    fn endpoint(this: &Env) -> JsValue;

    /// The request's execution context.
    pub type Context;
    /// `ctx.waitUntil(promise)`; `catch`: an exception becomes an `Err`
    /// instead of unwinding through wasm.
    #[wasm_bindgen(method, catch, js_name = waitUntil)]
    fn wait_until(this: &Context, promise: &Promise) -> Result<(), JsValue>;
}

thread_local! {
    /// One client per isolate, shared by every request (created on the first
    /// one, because the configuration arrives with `env`).
    static CLIENT: RefCell<Option<EdgeClient>> = const { RefCell::new(None) };
}

fn var(value: JsValue, name: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| JsError::new(&format!("the Worker needs the variable {name}")).into())
}

fn client(env: &Env) -> Result<EdgeClient, JsValue> {
    if let Some(client) = CLIENT.with(|c| c.borrow().clone()) {
        return Ok(client);
    }
    let config = Config::builder(
        var(env.organization(), "INTEMPT_ORGANIZATION")?,
        var(env.project(), "INTEMPT_PROJECT")?,
        var(env.api_key(), "INTEMPT_API_KEY")?,
        var(env.source_id(), "INTEMPT_SOURCE_ID")?,
    )
    .endpoint(var(env.endpoint(), "INTEMPT_ENDPOINT")?)
    .build()
    .map_err(|e| JsError::new(&e.to_string()))?;
    // Every request below flushes through its own ctx.waitUntil. With the
    // crate's `workerd` feature (Cargo.toml), the batch timer's flushes go to
    // `waitUntil` from `cloudflare:workers` too, so a forgotten flush loses nothing.
    let client = EdgeClient::new(config, EdgeOptions::default());
    CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
    Ok(client)
}

/// The Worker's `fetch` handler.
#[wasm_bindgen]
pub fn handle(request: Request, env: Env, ctx: Context) -> Result<Response, JsValue> {
    let intempt = client(&env)?;
    let url = Url::new(&request.url())?;
    let profile = url
        .search_params()
        .get("profile")
        .unwrap_or_else(|| "1845348".into());
    let properties = JsonObject::parse(&format!(
        r#"{{"path":{:?},"runtime":"rust"}}"#,
        url.pathname()
    ))
    .map_err(|e| JsError::new(&e.to_string()))?;
    let event = Event::track(&profile, "Page View", Some(properties))
        .map_err(|e| JsError::new(&e.to_string()))?;
    intempt
        .enqueue(&event)
        .map_err(|e| JsError::new(&e.to_string()))?;

    // ctx.waitUntil(flush): the events leave after the response is sent.
    let flush = intempt.flush();
    let promise = future_to_promise(async move {
        let report = flush.await;
        Ok(JsValue::from(report.delivered))
    });
    ctx.wait_until(&promise)?;
    Response::new_with_opt_str(Some(&format!("recorded a page view for {profile}\n")))
}
