//! A Cloudflare Worker written in Rust (plain wasm-bindgen, no framework):
//! every request records a page view with intempt-edge's [`EdgeClient`], and
//! the flush is handed to `ctx.waitUntil`, so the response is not delayed.
//! `worker.js` is the module entry that instantiates this wasm.

use std::cell::RefCell;

use intempt_edge::{Config, EdgeClient, EdgeOptions, Event, JsonObject};
use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{Request, Response, Url};

thread_local! {
    /// One client per isolate, shared by every request (created on the first
    /// one, because the configuration arrives with `env`).
    static CLIENT: RefCell<Option<EdgeClient>> = const { RefCell::new(None) };
}

fn var(env: &JsValue, name: &str) -> Result<String, JsValue> {
    Reflect::get(env, &name.into())?
        .as_string()
        .ok_or_else(|| JsError::new(&format!("the Worker needs the variable {name}")).into())
}

fn client(env: &JsValue) -> Result<EdgeClient, JsValue> {
    if let Some(client) = CLIENT.with(|c| c.borrow().clone()) {
        return Ok(client);
    }
    let config = Config::builder(
        var(env, "INTEMPT_ORGANIZATION")?,
        var(env, "INTEMPT_PROJECT")?,
        var(env, "INTEMPT_API_KEY")?,
        var(env, "INTEMPT_SOURCE_ID")?,
    )
    .endpoint(var(env, "INTEMPT_ENDPOINT")?)
    .build()
    .map_err(|e| JsError::new(&e.to_string()))?;
    let client = EdgeClient::new(config, EdgeOptions::default());
    CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
    Ok(client)
}

/// The Worker's `fetch` handler.
#[wasm_bindgen]
pub fn handle(request: Request, env: JsValue, ctx: JsValue) -> Result<Response, JsValue> {
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
        .record(&event)
        .map_err(|e| JsError::new(&e.to_string()))?;

    // ctx.waitUntil(flush): the events leave after the response is sent.
    let flush = intempt.flush();
    let promise = future_to_promise(async move {
        let report = flush.await;
        Ok(JsValue::from(report.delivered))
    });
    let wait_until: Function = Reflect::get(&ctx, &"waitUntil".into())?.dyn_into()?;
    wait_until.call1(&ctx, &promise)?;
    Response::new_with_opt_str(Some(&format!("recorded a page view for {profile}\n")))
}
