//! A Cloudflare Worker on workers-rs (the `worker` crate): every request
//! records a page view with intempt-edge's [`EdgeClient`], and the flush is
//! handed to `ctx.wait_until`, so the response is not delayed. With
//! intempt-edge's `worker` feature, `?` works on its errors, and the batch
//! timer's flushes go to `waitUntil` from `cloudflare:workers` (a forgotten
//! flush loses nothing). `worker.js` is the module entry that instantiates
//! this wasm.

use std::cell::RefCell;

use intempt_edge::{Config, EdgeClient, EdgeOptions, Event, JsonObject};
use serde_json::json;
use worker::{event, Context, Env, Request, Response, Result};

thread_local! {
    /// One client per isolate, shared by every request (made on the first
    /// one: the configuration arrives with `env`).
    static CLIENT: RefCell<Option<EdgeClient>> = const { RefCell::new(None) };
}

fn client(env: &Env) -> Result<EdgeClient> {
    if let Some(client) = CLIENT.with(|c| c.borrow().clone()) {
        return Ok(client);
    }
    let config = Config::builder(
        env.var("INTEMPT_ORGANIZATION")?.to_string(),
        env.var("INTEMPT_PROJECT")?.to_string(),
        env.secret("INTEMPT_API_KEY")?.to_string(),
        env.var("INTEMPT_SOURCE_ID")?.to_string(),
    )
    .endpoint(env.var("INTEMPT_ENDPOINT")?.to_string())
    .build()?; // intempt_edge::Error -> worker::Error (the `worker` feature)
    let client = EdgeClient::new(config, EdgeOptions::default());
    CLIENT.with(|c| *c.borrow_mut() = Some(client.clone()));
    Ok(client)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let intempt = client(&env)?;
    let url = req.url()?;
    let profile = url
        .query_pairs()
        .find(|(key, _)| key == "profile")
        .map_or_else(|| "1845348".to_owned(), |(_, value)| value.into_owned());
    let properties =
        JsonObject::from_value(&json!({ "path": url.path(), "runtime": "workers-rs" }))?;
    intempt.enqueue(&Event::track(&profile, "Page View", Some(properties))?)?;

    // The events leave after the response is sent.
    let flush = intempt.flush();
    ctx.wait_until(async move {
        flush.await;
    });
    Response::ok(format!("recorded a page view for {profile}\n"))
}
