//! The outbox option through the guarded path, in a real JS engine: an
//! outbox that throws, rejects, never settles or traps never makes a flush
//! reject or outlast its deadline, and its events stay queued.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use super::{client, get, js, Core};

/// A client whose server is down (its fetch rejects), with `outbox` (JS source).
fn core_with(outbox: &str) -> Result<Core, JsValue> {
    let options =
        js("{ endpoint: 'http://127.0.0.1:9', flushDeadlineMs: 400, requestTimeoutMs: 100 }");
    Reflect::set(
        &options,
        &"fetch".into(),
        &js("() => Promise.reject(new Error('down'))"),
    )
    .unwrap();
    Reflect::set(&options, &"outbox".into(), &js(outbox)).unwrap();
    client(options)
}

/// Tracks one event, flushes; returns the report and how long the flush took.
async fn flush_one(core: &Core) -> (JsValue, f64) {
    core.track("p1".into(), "T".into(), JsValue::UNDEFINED)
        .unwrap();
    let start = js_sys::Date::now();
    let report = JsFuture::from(core.flush())
        .await
        .expect("flush never rejects");
    (report, js_sys::Date::now() - start)
}

fn n(report: &JsValue, key: &str) -> f64 {
    get(report, key).as_f64().unwrap()
}

fn reason_messages(report: &JsValue) -> String {
    js_sys::JSON::stringify(&get(report, "reasons"))
        .unwrap()
        .into()
}

#[wasm_bindgen_test]
async fn a_working_outbox_gets_the_batch_and_the_events_leave_memory() {
    js("globalThis.__stored = []");
    let core = core_with("{ maxMessageBytes: 4096, store(m) { globalThis.__stored.push(...m); return Promise.resolve(); } }").unwrap();
    let (report, _) = flush_one(&core).await;
    assert_eq!((n(&report, "stored"), n(&report, "pending")), (1.0, 0.0));
    assert!(reason_messages(&report).contains(r#""fate":"stored""#));
    let stored = js("globalThis.__stored");
    assert_eq!(get(&stored, "length").as_f64(), Some(1.0));
    let message = get(&stored, "0").as_string().unwrap();
    assert!(message.starts_with(r#"{"track":[{"name":"T","payload":[{"eventId":""#));
    assert!(!message.contains("secret"));
    assert_eq!(n(&core.stats(), "stored"), 1.0);
}

#[wasm_bindgen_test]
async fn an_outbox_that_fails_in_any_way_leaves_the_events_queued() {
    let cases = [
        (
            "{ store() { throw new Error('boom'); } }",
            "the outbox did not store them: Error: boom",
        ),
        (
            "{ store() { return Promise.reject(new TypeError('full')); } }",
            "the outbox did not store them: TypeError: full",
        ),
        (
            "{ store() { return { get then() { throw new Error('trap'); } }; } }",
            "the outbox did not store them: Error: trap",
        ),
        (
            "{ store() { return new Promise(() => {}); } }",
            "did not finish within",
        ),
        (
            "{ store() { throw 42; } }",
            "the outbox did not store them: it threw",
        ),
    ];
    for (outbox, expected) in cases {
        let core = core_with(outbox).unwrap();
        let (report, took) = flush_one(&core).await;
        assert_eq!(
            (n(&report, "stored"), n(&report, "pending")),
            (0.0, 1.0),
            "{outbox}"
        );
        assert!(
            reason_messages(&report).contains(r#""fate":"failed","cause":"outboxFailed""#),
            "{outbox}: {}",
            reason_messages(&report)
        );
        // What people read says how this outbox failed.
        assert!(
            reason_messages(&report).contains(expected),
            "{outbox}: {}",
            reason_messages(&report)
        );
        assert!(
            took < 400.0 + 250.0,
            "{outbox}: the flush took {took} ms (deadline 400)"
        );
        // Queued, or taken again by the batch timer's flush meanwhile.
        let stats = core.stats();
        assert_eq!(n(&stats, "queued") + n(&stats, "inFlight"), 1.0, "{outbox}");
    }
}

#[wasm_bindgen_test]
fn an_outbox_option_that_is_not_one_is_a_config_error() {
    let cases = [
        ("42", "outbox must be a Cloudflare Queue binding, a Deno.Kv, or an object with a store(messages) method"),
        ("{}", "outbox must be"),
        ("'my-queue'", "outbox must be a Cloudflare Queue binding"),
        ("{ store: 1 }", "outbox must be"),
        ("{ store() {}, maxMessageBytes: 10 }", "outbox.maxMessageBytes must be a number of at least 1024"),
        ("{ store() {}, get maxMessageBytes() { throw new Error('trap'); } }", "outbox threw when read: Error: trap"),
        ("new Proxy({}, { get() { throw new Error('trap'); } })", "outbox threw when read"),
    ];
    for (outbox, expected) in cases {
        let error = core_with(outbox).expect_err(outbox);
        assert_eq!(
            get(&error, "code").as_string().as_deref(),
            Some("INVALID_CONFIG"),
            "{outbox}"
        );
        let message = get(&error, "message").as_string().unwrap();
        assert!(message.contains(expected), "{outbox}: {message}");
    }
}

#[wasm_bindgen_test]
async fn redeliver_answers_plain_objects_and_never_rejects() {
    let core = core_with("{ store() {} }").unwrap();
    let answer = JsFuture::from(core.redeliver(js("{ not: 'a string' }"), 1, 8_000.0))
        .await
        .unwrap();
    assert_eq!(
        get(&answer, "outcome").as_string().as_deref(),
        Some("dropped")
    );
    let body = r#"{"track":[{"name":"T","payload":[{"eventId":"e","timestamp":1714631904000,"profileId":"p"}]}]}"#;
    let answer = JsFuture::from(core.redeliver(body.into(), 2, 8_000.0))
        .await
        .unwrap();
    assert_eq!(
        get(&answer, "outcome").as_string().as_deref(),
        Some("retry")
    );
    let after = n(&answer, "retryAfterMs");
    assert!((1_000.0..=2_000.0).contains(&after), "{after}");
    assert!(get(&answer, "status").is_null());
    assert!(get(&answer, "reason").as_string().unwrap().contains("down"));
}

/// A redelivery's reason leads with the status the server answered, once
/// (the prefix is written in Rust only: `transport::with_status`).
#[wasm_bindgen_test]
async fn a_redelivery_reason_leads_with_the_status_once() {
    let answering = |status: u16, body: &str| {
        let options = js("{ endpoint: 'http://127.0.0.1:9', requestTimeoutMs: 200 }");
        let fetch = js(&format!(
            "() => Promise.resolve(new Response({body:?}, {{ status: {status} }}))"
        ));
        Reflect::set(&options, &"fetch".into(), &fetch).unwrap();
        client(options).unwrap()
    };
    let body = r#"{"track":[{"name":"T","payload":[{"eventId":"e","timestamp":1714631904000,"profileId":"p"}]}]}"#;
    let cases = [
        (
            400,
            r#"{"errors":[{"message":"bad event"}]}"#,
            "dropped",
            "HTTP 400: bad event",
        ),
        (503, "", "retry", "HTTP 503"),
    ];
    for (status, answer, outcome, reason) in cases {
        let core = answering(status, answer);
        let got = JsFuture::from(core.redeliver(body.into(), 1, 8_000.0))
            .await
            .unwrap();
        assert_eq!(get(&got, "outcome").as_string().as_deref(), Some(outcome));
        assert_eq!(n(&got, "status"), f64::from(status));
        assert_eq!(get(&got, "reason").as_string().as_deref(), Some(reason));
    }
}
