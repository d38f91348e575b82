//! A workers-rs Worker for tests/e2e/workers-rs.test.mjs that records events
//! and never flushes; each route records with another client:
//!
//! - `/default`: a module-scope client with no `wait_until`. With
//!   intempt-edge's `worker` feature (through `workerd`) it hands the batch
//!   timer's flush to `waitUntil` from `cloudflare:workers`.
//! - `/per-request`: a client made for this request, given the request's
//!   `ctx.wait_until` through `EdgeOptions::wait_until_future`.
//! - `/dropped`: the control, a module-scope client whose `wait_until` drops
//!   the flush, so nothing keeps it alive after the response.

use std::cell::RefCell;

use intempt_edge::{Config, EdgeClient, EdgeOptions, Event, JsonObject};
use worker::{event, Context, Env, Request, Response, Result};

thread_local! {
    /// [0] `/default`, [1] `/dropped`; made on first use.
    static CLIENTS: RefCell<[Option<EdgeClient>; 2]> = const { RefCell::new([None, None]) };
}

fn config(env: &Env) -> Result<Config> {
    Ok(Config::builder(
        "demo-organization",
        "demo-project",
        env.secret("INTEMPT_API_KEY")?.to_string(),
        "616010376811536384",
    )
    .endpoint(env.var("INTEMPT_ENDPOINT")?.to_string())
    .build()?)
}

fn shared(env: &Env, slot: usize, options: fn() -> EdgeOptions) -> Result<EdgeClient> {
    if let Some(client) = CLIENTS.with(|c| c.borrow()[slot].clone()) {
        return Ok(client);
    }
    let client = EdgeClient::new(config(env)?, options());
    CLIENTS.with(|c| c.borrow_mut()[slot] = Some(client.clone()));
    Ok(client)
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let url = req.url()?;
    let query = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    let (profile, n) = (query("profile"), query("n").parse::<u32>().unwrap_or(1));
    let intempt = match url.path() {
        "/default" => shared(&env, 0, EdgeOptions::default)?,
        "/dropped" => shared(&env, 1, || EdgeOptions::default().wait_until(|_promise| {}))?,
        "/per-request" => EdgeClient::new(
            config(&env)?,
            EdgeOptions::default().wait_until_future(move |work| ctx.wait_until(work)),
        ),
        _ => return Response::error("not found", 404),
    };
    for i in 0..n {
        let data = JsonObject::parse(&format!(r#"{{"i":{i}}}"#))?;
        intempt.enqueue(&Event::track(profile.as_str(), "No Flush", Some(data))?)?;
    }
    Response::ok("ok")
}
