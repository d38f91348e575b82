//! The `beforeSend` option in a real JS engine: what a hook sees, what it
//! may return, and hostile hooks (they throw, return promises, Proxies,
//! huge or invalid events, keep and mutate what they were given): the
//! call always resolves, nothing traps, and every failure drops the event,
//! is counted and says why.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use super::{get, js};
use crate::wasm::Core;

/// A client whose fetch records bodies in `globalThis.__hooked` and answers
/// 201, whose logger records lines in `globalThis.__lines`, with `hook`.
fn hooked(hook: &str) -> Core {
    js("(globalThis.__hooked = [], globalThis.__lines = [])");
    let options = js("{ endpoint: 'http://127.0.0.1:9', maxEventBytes: 4096, fetch: (url, init) => { globalThis.__hooked.push(init.body); return Promise.resolve(new Response(null, { status: 201 })); }, logger: (line) => globalThis.__lines.push(line) }");
    Reflect::set(&options, &"beforeSend".into(), &js(hook)).unwrap();
    Core::new(
        "o".into(),
        "p".into(),
        "id.secret".into(),
        "s".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        options,
    )
    .unwrap()
}

fn stat(core: &Core, key: &str) -> f64 {
    get(&core.stats(), key).as_f64().unwrap()
}

/// The payload items sent so far, each with its `name`.
fn sent() -> Vec<String> {
    js("globalThis.__hooked.flatMap((b) => JSON.parse(b).track.map((e) => JSON.stringify({ name: e.name, ...e.payload[0], eventId: undefined, timestamp: undefined })))")
        .dyn_into::<js_sys::Array>()
        .unwrap()
        .iter()
        .map(|v| v.as_string().unwrap())
        .collect()
}

fn lines() -> String {
    js("globalThis.__lines.join('\\n')").as_string().unwrap()
}

#[wasm_bindgen_test]
async fn the_hook_sees_the_wire_fields_and_its_event_is_sent() {
    let core = hooked(
        "(e) => { (globalThis.__seen ??= []).push(JSON.stringify(e)); if (e.data) { delete e.data.email; e.data.region = 'eu'; } return e; }",
    );
    js("globalThis.__seen = []");
    let none = || JsValue::UNDEFINED;
    core.track(
        "p1".into(),
        "Purchase".into(),
        js("{ email: 'a@b.c', n: 1 }"),
    )
    .unwrap();
    core.identify("p1".into(), "u1".into(), none(), none())
        .unwrap();
    core.alias("p1".into(), "u1".into(), "u2".into()).unwrap();
    core.record(
        "p1".into(),
        "Visit".into(),
        "u1".into(),
        "a1".into(),
        none(),
        js("{ plan: 'pro' }"),
        js("{ size: 3 }"),
    )
    .unwrap();
    let seen = js("globalThis.__seen.join('\\n')").as_string().unwrap();
    assert_eq!(
        seen,
        [
            r#"{"name":"Purchase","profileId":"p1","data":{"email":"a@b.c","n":1}}"#,
            r#"{"name":"Identify","profileId":"p1","userId":"u1"}"#,
            r#"{"name":"Identify","profileId":"p1","userId":"u1","anotherUserId":"u2"}"#,
            r#"{"name":"Visit","profileId":"p1","userId":"u1","accountId":"a1","userAttributes":{"plan":"pro"},"accountAttributes":{"size":3}}"#,
        ]
        .join("\n")
    );
    let report = JsFuture::from(core.flush()).await.unwrap();
    assert_eq!(get(&report, "delivered").as_f64(), Some(4.0));
    assert_eq!(
        sent()[0],
        r#"{"name":"Purchase","profileId":"p1","data":{"n":1,"region":"eu"}}"#
    );
    assert_eq!(
        (stat(&core, "filtered"), stat(&core, "filterFailed")),
        (0.0, 0.0)
    );
}

#[wasm_bindgen_test]
async fn null_drops_the_event_and_counts_it_as_filtered() {
    let core = hooked("(e) => (e.profileId === 'drop' ? null : e)");
    for profile in ["keep", "drop", "drop", "keep"] {
        core.track(profile.into(), "T".into(), JsValue::UNDEFINED)
            .unwrap();
    }
    let report = JsFuture::from(core.flush()).await.unwrap();
    assert_eq!(get(&report, "delivered").as_f64(), Some(2.0));
    assert_eq!(
        (stat(&core, "filtered"), stat(&core, "filterFailed")),
        (2.0, 0.0)
    );
    assert_eq!(
        lines().matches("beforeSend failed").count(),
        0,
        "{}",
        lines()
    );
}

#[wasm_bindgen_test]
async fn a_failing_hook_drops_the_event_and_says_why_and_the_call_resolves() {
    let cases = [
        ("() => { throw new TypeError('boom'); }", "it threw TypeError: boom"),
        ("() => { throw { get message() { throw 1; } }; }", "it threw a non-Error"),
        ("() => { throw new Proxy({}, { get() { throw 1; } }); }", "it threw a non-Error"),
        ("async (e) => e", "it returned a promise"),
        ("() => Promise.reject(new Error('later'))", "it returned a promise"),
        ("() => ({ then() { throw 1; } })", "it returned a promise"),
        ("() => ({ get then() { throw new Error('then'); } })", "threw when read: Error: then"),
        ("() => undefined", "it returned undefined"),
        ("() => false", "it returned a boolean"),
        ("() => 'e'", "it returned a string"),
        ("() => 7n", "it returned a BigInt"),
        ("(e) => [e]", "it returned an array, not a plain object"),
        ("(e) => new Map(Object.entries(e))", "it returned a class instance, not a plain object"),
        ("(e) => new Proxy(e, { get() { throw new Error('trap'); } })", "threw when read: Error: trap"),
        ("(e) => new Proxy(e, { ownKeys() { throw new Error('keys'); } })", "threw when read: Error: keys"),
        ("(e) => new Proxy(e, { getPrototypeOf() { throw new Error('proto'); } })", "threw when read: Error: proto"),
        ("(e) => ({ ...e, properties: {} })", "unknown key \"properties\""),
        ("(e) => ({ ...e, eventId: 'x' })", "unknown key \"eventId\""),
        ("(e) => ({ ...e, profileId: 1845348 })", "whose profileId is a number, not a string"),
        ("(e) => ({ ...e, profileId: 'x'.repeat(2e6) })", "whose profileId is longer than 1048576 characters"),
        ("(e) => ({ ...e, profileId: '' })", "no call could make: profileId must be a non-empty string"),
        ("(e) => ({ ...e, name: undefined })", "no call could make: name"),
        ("(e) => ({ ...e, name: 'Identify' })", "no call could make: the name 'Identify' needs a userId"),
        ("(e) => ({ ...e, name: 'Identify', userId: 'u' })", "no call could make: the name 'Identify' cannot carry data"),
        ("(e) => ({ ...e, data: { f() {} } })", "whose data.f is a function"),
        ("(e) => ({ ...e, data: { n: NaN } })", "whose data.n is NaN or Infinity"),
        ("(e) => ({ ...e, data: [1] })", "whose data must be a plain object, got an array"),
        ("(e) => { const o = {}; o.o = o; return { ...e, data: o }; }", "whose data.o.o.o"), ("(e) => { const o = {}; o.o = o; return { ...e, userAttributes: o }; }", "is nested more than 64 levels deep"),
        ("(e) => ({ ...e, data: { big: 'x'.repeat(1e6) } })", "whose data are larger than the per-event limit of 4096 bytes"),
        ("(e) => ({ ...e, data: Object.fromEntries(Array.from({ length: 5e4 }, (_, i) => ['k' + i, i])) })", "whose data are larger than the per-event limit"),
        ("(e) => ({ ...e, data: { pad: 'x'.repeat(4000) } })", "it returned an event that is too large: the event is"),
    ];
    for (hook, why) in cases {
        let core = hooked(hook);
        core.track("p".into(), "T".into(), js("{ a: 1 }"))
            .unwrap_or_else(|_| panic!("{hook}: the call was refused"));
        assert_eq!(stat(&core, "filterFailed"), 1.0, "{hook}");
        assert_eq!(stat(&core, "queued"), 0.0, "{hook}");
        let text = lines();
        assert!(
            text.contains("beforeSend failed, the event was dropped: ") && text.contains(why),
            "{hook}: {text}"
        );
        // The warning (to the logger, as there is one) says what to do, once.
        assert_eq!(text.matches("Fix the hook").count(), 1, "{hook}: {text}");
        // The client goes on: a valid call after it is recorded and sent.
        let report = JsFuture::from(core.flush()).await.unwrap();
        assert_eq!(get(&report, "delivered").as_f64(), Some(0.0), "{hook}");
    }
}

#[wasm_bindgen_test]
async fn what_the_hook_keeps_or_mutates_later_does_not_change_what_was_sent() {
    // The hook keeps every event it was given and what it returned, and
    // mutates them on the next call: each call gets a fresh object, and
    // what was returned was copied when the hook returned.
    let core = hooked(
        "(e) => { for (const old of (globalThis.__kept ??= [])) { old.profileId = 'changed'; if (old.data) old.data.n = -1; } const out = { ...e, data: { n: globalThis.__kept.length } }; globalThis.__kept.push(e, out); return out; }",
    );
    js("globalThis.__kept = []");
    for _ in 0..3 {
        core.track("p".into(), "T".into(), js("{ n: 100 }"))
            .unwrap();
    }
    JsFuture::from(core.flush()).await.unwrap();
    assert_eq!(
        sent(),
        [0, 2, 4].map(|n| format!(r#"{{"name":"T","profileId":"p","data":{{"n":{n}}}}}"#))
    );
}

#[wasm_bindgen_test]
async fn strings_the_hook_returns_arrive_as_it_wrote_them() {
    // Newlines, quotes, backslashes, non-ASCII and astral characters, and a
    // lone surrogate (U+FFFD in an id, as for a call's ids; kept escaped in
    // properties, as JSON.stringify writes it).
    let core = hooked(
        r#"(e) => ({ ...e, name: 'T\n"\\', profileId: 'p\n"é😀\ud800', userId: '\t', data: { 'k\n"': 'v\n\u2028', lone: '\udc00' } })"#,
    );
    core.track("p".into(), "T".into(), JsValue::UNDEFINED)
        .unwrap();
    JsFuture::from(core.flush()).await.unwrap();
    let body = js("globalThis.__hooked[0]").as_string().unwrap();
    assert!(body.contains(r#"{"name":"T\n\"\\","payload":[{"#), "{body}");
    assert!(
        body.contains(concat!(
            r#""profileId":"p\n\"é😀�","userId":"\t","data":{"k\n\"":"v\n"#,
            "\u{2028}",
            r#"","lone":"\udc00"}}]}"#
        )),
        "{body}"
    );
}
