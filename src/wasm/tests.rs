//! The boundary in a real JS engine (wasm-bindgen-test-runner, Node): value
//! conversion, hostile values, a flush through a capturing `fetch`, and the
//! numeric codes shared by the JS helpers and Rust.

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use super::Core;

mod before_send;
mod guarded;
mod options;
mod outbox;

fn js(source: &str) -> JsValue {
    Function::new_no_args(&format!("return ({source});"))
        .call0(&JsValue::NULL)
        .unwrap()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

/// A client whose fetch records bodies in `globalThis.__sent` and answers 201.
fn core() -> Core {
    let fetch = js("(url, init) => { (globalThis.__sent ??= []).push({ url, body: init.body, auth: init.headers.get('authorization') }); return Promise.resolve(new Response(null, { status: 201 })); }");
    let options = js("{}");
    Reflect::set(&options, &"fetch".into(), &fetch).unwrap();
    Reflect::set(&options, &"endpoint".into(), &"http://127.0.0.1:9".into()).unwrap();
    client(options).unwrap()
}

/// `new Core("org", "proj", "id.secret", "42", undefined, undefined, options)`.
fn client(options: JsValue) -> Result<Core, JsValue> {
    Core::new(
        "org".into(),
        "proj".into(),
        "id.secret".into(),
        "42".into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        options,
    )
}

fn code_of(result: Result<(), JsValue>) -> String {
    get(&result.expect_err("should be refused"), "code")
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
async fn properties_are_written_as_json_stringify_would() {
    js("globalThis.__sent = []");
    let core = core();
    let props = js(
        r#"{ s: "é\n\"", n: 50.0, f: -0, big: 1e21, t: true, z: null, u: undefined, a: [1, "x", [null]], d: new Date(0), o: { k: "v" }, e: {}, lone: "\ud800" }"#,
    );
    core.track("p1".into(), "Purchase".into(), props).unwrap();
    let report = JsFuture::from(core.flush()).await.unwrap();
    assert_eq!(get(&report, "delivered").as_f64(), Some(1.0));
    let sent = js("globalThis.__sent[0]");
    let body = get(&sent, "body").as_string().unwrap();
    let data_start = body.find("\"data\":").unwrap() + 7;
    assert_eq!(
        &body[data_start..body.len() - 5],
        r#"{"s":"é\n\"","n":50,"f":0,"big":1e+21,"t":true,"z":null,"a":[1,"x",[null]],"d":"1970-01-01T00:00:00.000Z","o":{"k":"v"},"e":{},"lone":"\ud800"}"#
    );
    assert_eq!(
        get(&sent, "auth").as_string().as_deref(),
        Some("Basic aWQ6c2VjcmV0")
    );
    assert_eq!(
        get(&sent, "url").as_string().as_deref(),
        Some("http://127.0.0.1:9/v1/org/projects/proj/sources/42/track")
    );
}

#[wasm_bindgen_test]
fn unfaithful_values_are_refused_with_a_path() {
    let core = core();
    let cases = [
        ("{ f() {} }", "properties.f is a function"),
        ("{ s: Symbol('x') }", "properties.s is a symbol"),
        ("{ b: 10n }", "properties.b is a BigInt"),
        ("{ n: NaN }", "properties.n is NaN or Infinity"),
        (
            "{ deep: { list: [1, Infinity] } }",
            "properties.deep.list[1] is NaN or Infinity",
        ),
        (
            "{ a: [undefined] }",
            "properties.a[0] is undefined inside an array",
        ),
        ("{ m: new Map() }", "properties.m is a class instance"),
        (
            "{ t: new Uint8Array(2) }",
            "properties.t is a class instance",
        ),
        ("{ d: new Date(NaN) }", "properties.d is an invalid Date"),
        (
            "(() => { const o = {}; o.self = o; return o; })()",
            "nested more than 64 levels deep (or is part of a cycle)",
        ),
        (
            "{ get x() { throw new Error('boom'); } }",
            "properties threw when read",
        ),
        (
            "new Proxy({}, { ownKeys() { throw new Error('trap'); } })",
            "properties threw when read",
        ),
        (
            "{ p: new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } }) }",
            "properties.p threw when read",
        ),
    ];
    for (source, message) in cases {
        let err = core
            .track("p".into(), "T".into(), js(source))
            .expect_err(source);
        assert_eq!(
            get(&err, "code").as_string().as_deref(),
            Some("INVALID_PROPERTIES"),
            "{source}"
        );
        let text = get(&err, "message").as_string().unwrap();
        assert!(text.contains(message), "{source}: {text}");
    }
    for (source, code) in [
        ("[1]", "INVALID_PROPERTIES"),
        ("'str'", "INVALID_PROPERTIES"),
        ("42", "INVALID_PROPERTIES"),
    ] {
        assert_eq!(
            code_of(core.track("p".into(), "T".into(), js(source))),
            code,
            "{source}"
        );
    }
    // Nothing was queued by any of these.
    assert_eq!(get(&core.stats(), "queued").as_f64(), Some(0.0));
}

#[wasm_bindgen_test]
fn arguments_are_checked_by_type() {
    let core = core();
    assert_eq!(
        code_of(core.track(JsValue::from(1845348), "T".into(), JsValue::UNDEFINED)),
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        code_of(core.track(JsValue::NULL, "T".into(), JsValue::UNDEFINED)),
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        code_of(core.track("p".into(), "Identify".into(), JsValue::UNDEFINED)),
        "RESERVED_TITLE"
    );
    assert_eq!(
        code_of(core.identify("p".into(), "u".into(), JsValue::UNDEFINED, js("{ a: 1 }"))),
        "ATTRIBUTES_NEED_TITLE"
    );
    let huge = js("'x'.repeat(2 * 1024 * 1024)");
    assert_eq!(
        code_of(core.track(huge, "T".into(), JsValue::UNDEFINED)),
        "EVENT_TOO_LARGE"
    );
    let big_props = js("({ s: 'x'.repeat(40000) })");
    assert_eq!(
        code_of(core.track("p".into(), "T".into(), big_props)),
        "EVENT_TOO_LARGE"
    );
    assert!(core
        .track("p".into(), "T".into(), JsValue::UNDEFINED)
        .is_ok());
}

#[wasm_bindgen_test]
fn the_constructor_refuses_bad_configuration() {
    let cases: [(&str, &str); 9] = [
        ("['o', 'p', 'nokey', 's']", "INVALID_API_KEY"),
        ("['', 'p', 'id.s3cr3t', 's']", "INVALID_CONFIG"),
        ("['o', 'p', 'id.s3cr3t', 's', -1]", "INVALID_CONFIG"),
        ("['o', 'p', 'id.s3cr3t', 's', 100, 20, { endpoint: 'http://example.com' }]", "INVALID_ENDPOINT"),
        ("['o', 'p', 'id.s3cr3t', 's', 100, 20, { flushDeadline: 5 }]", "INVALID_CONFIG"),
        ("[{ organization: 'o', project: 'p', apiKey: 'id.s3cr3t' }]", "INVALID_CONFIG"),
        ("['o', 'p', 'id.s3cr3t', 's', 100, 20, { warnings: 'off' }]", "INVALID_CONFIG"),
        ("['o', 'p', 'id.s3cr3t', 's', 100, 20, { debug: 1 }]", "INVALID_CONFIG"),
        ("[{ organization: 'o', project: 'p', apiKey: 'id.s3cr3t', sourceId: 's', get endpoint() { throw 1; } }]", "INVALID_CONFIG"),
    ];
    for (args, code) in cases {
        let args: js_sys::Array = js(args).into();
        let arg = |i| args.get(i);
        let err = match Core::new(arg(0), arg(1), arg(2), arg(3), arg(4), arg(5), arg(6)) {
            Ok(_) => panic!("{args:?} accepted"),
            Err(err) => err,
        };
        assert_eq!(
            get(&err, "code").as_string().as_deref(),
            Some(code),
            "{:?}",
            args
        );
        let message = get(&err, "message").as_string().unwrap();
        assert!(
            !message.contains("s3cr3t"),
            "the message leaks the key: {message}"
        );
    }
    let object_form = js("{ organization: 'o', project: 'p', apiKey: 'id.s', sourceId: 's', batchTimeMs: 50, endpoint: 'http://[::1]:1' }");
    let none = || JsValue::UNDEFINED;
    assert!(Core::new(object_form, none(), none(), none(), none(), none(), none()).is_ok());
}

#[wasm_bindgen_test]
async fn lists_are_measured_before_they_are_copied() {
    let core = core();
    let cases = [
        (
            "new Array(2e8)",
            "groups has 200000000 items; at most 1000 are allowed",
        ),
        (
            "new Proxy([], { get: (t, k) => k === 'length' ? 1e9 : t[k] })",
            "groups has 1000000000 items",
        ),
        (
            "[, 'a']",
            "groups[0] is a hole in the array; pass an array of strings",
        ),
        ("['a', 1]", "groups[1] must be a string, got a number"),
        (
            "['a', 'b', 'c', null]",
            "groups[3] must be a string, got null",
        ),
        (
            "['a', 'x'.repeat(300000)]",
            "groups hold more than 262144 characters in all",
        ),
        (
            "new Proxy(['a'], { get: (t, k) => { if (k === '0') throw 1; return t[k]; } })",
            "groups[0] threw when read",
        ),
        (
            "new Proxy([], { get() { throw 1; } })",
            "groups threw when read",
        ),
        (
            "'banner'",
            "groups must be an array of strings or undefined (all), got a string",
        ),
    ];
    for (source, expected) in cases {
        let err = JsFuture::from(core.choose("p".into(), js(source), false, false))
            .await
            .expect_err(source);
        assert_eq!(
            get(&err, "code").as_string().as_deref(),
            Some("INVALID_ARGUMENT"),
            "{source}"
        );
        let message = get(&err, "message").as_string().unwrap();
        assert!(message.contains(expected), "{source}: {message}");
    }
}

#[wasm_bindgen_test]
async fn messages_say_what_is_wrong() {
    let core = core();
    let huge = js("'1'.repeat(2000000)");
    let err = JsFuture::from(core.consent(
        "p".into(),
        "accept".into(),
        JsValue::UNDEFINED,
        huge,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        false,
    ))
    .await
    .unwrap_err();
    let message = get(&err, "message").as_string().unwrap();
    assert!(
        message.contains("validUntil is longer than 1048576 characters"),
        "{message}"
    );
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("INVALID_ARGUMENT")
    );
    let err = JsFuture::from(core.consent(
        "p".into(),
        "accept".into(),
        JsValue::UNDEFINED,
        JsValue::TRUE,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        false,
    ))
    .await
    .unwrap_err();
    let message = get(&err, "message").as_string().unwrap();
    assert!(
        message.contains("validUntil must be a string or a number, got a boolean"),
        "{message}"
    );
    let args = js("['o'.repeat(5000), 'p', 'id.s', 's']");
    let args: js_sys::Array = args.into();
    let err = Core::new(
        args.get(0),
        args.get(1),
        args.get(2),
        args.get(3),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    )
    .err()
    .unwrap();
    let message = get(&err, "message").as_string().unwrap();
    assert!(
        message.contains("organization is longer than 4096 characters"),
        "{message}"
    );
}

#[wasm_bindgen_test]
async fn hostile_callbacks_lose_their_line_and_nothing_else() {
    js("globalThis.__log = console.log, console.log = () => { throw new Error('log'); }");
    let fetch = js("() => Promise.resolve(new Response(null, { status: 201 }))");
    let options = js("{ debug: true, endpoint: 'http://127.0.0.1:9', waitUntil: () => { throw new Error('wait'); } }");
    Reflect::set(&options, &"fetch".into(), &fetch).unwrap();
    let none = || JsValue::UNDEFINED;
    let core = Core::new(
        "o".into(),
        "p".into(),
        "id.s".into(),
        "s".into(),
        5.into(),
        1.into(),
        options,
    )
    .unwrap();
    core.track("p".into(), "T".into(), none()).unwrap();
    let report = JsFuture::from(core.flush()).await.unwrap();
    js("console.log = globalThis.__log");
    assert_eq!(get(&report, "pending").as_f64(), Some(0.0));
    // A logger that throws, or returns a rejected promise or a hostile thenable.
    for logger in [
        "() => { throw new Error('logger'); }",
        "() => Promise.reject(new Error('rejected'))",
        "() => ({ get then() { throw 1; } })",
    ] {
        let options = js("{ endpoint: 'http://127.0.0.1:9' }");
        Reflect::set(&options, &"fetch".into(), &fetch).unwrap();
        Reflect::set(&options, &"logger".into(), &js(logger)).unwrap();
        let core = Core::new(
            "o".into(),
            "p".into(),
            "id.s".into(),
            "s".into(),
            none(),
            none(),
            options,
        )
        .unwrap();
        core.track("p".into(), "T".into(), none()).unwrap();
        let report = JsFuture::from(core.flush()).await.unwrap();
        assert_eq!(get(&report, "delivered").as_f64(), Some(1.0), "{logger}");
    }
}

#[wasm_bindgen_test]
fn an_error_class_that_throws_still_gives_a_coded_error() {
    super::configure(
        js("class { constructor() { throw new Error('ctor'); } }").into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    );
    let err = core()
        .track(JsValue::NULL, "T".into(), JsValue::UNDEFINED)
        .unwrap_err();
    super::configure(js("class E extends Error { constructor(code, message) { super(message); this.code = code; } }").into(), JsValue::UNDEFINED, JsValue::UNDEFINED);
    assert_eq!(
        get(&err, "code").as_string().as_deref(),
        Some("INVALID_ARGUMENT")
    );
    assert_eq!(
        get(&err, "name").as_string().as_deref(),
        Some("IntemptError")
    );
}

/// The JS helpers' named codes and Rust's `code` module agree, name by name.
#[wasm_bindgen_test]
fn the_numeric_codes_agree_on_both_sides() {
    use super::code;
    use super::js::{KIND, LIST, PROBLEM, SENT};
    let groups = [
        ("KIND", KIND.with(JsValue::clone)),
        ("PROBLEM", PROBLEM.with(JsValue::clone)),
        ("LIST", LIST.with(JsValue::clone)),
        ("SENT", SENT.with(JsValue::clone)),
    ];
    let object = |name: &str| {
        groups
            .iter()
            .find(|(group, _)| *group == name)
            .map(|(_, object)| object.clone())
            .unwrap()
    };
    for (group, name, value) in code::ALL {
        let got = get(&object(group), name).as_f64();
        assert_eq!(got, Some(f64::from(*value)), "{group}.{name}");
    }
    let count: u32 = groups
        .iter()
        .map(|(_, object)| js_sys::Object::keys(object.unchecked_ref::<js_sys::Object>()).length())
        .sum();
    assert_eq!(
        count as usize,
        code::ALL.len(),
        "every JS code has a Rust twin"
    );
}

#[wasm_bindgen_test]
async fn the_default_fetch_is_used_only_without_a_fetch_option() {
    // Each fetch records which one was called, and answers 201.
    let recording = |name: &str| -> Function {
        js(&format!(
            "(url, init) => {{ (globalThis.__calls ??= []).push({name:?}); return Promise.resolve({{ status: 201, headers: {{ get: () => null }}, text: () => Promise.resolve('{{}}') }}); }}"
        ))
        .into()
    };
    let make = |fetch: Option<&Function>| {
        let options = js("{ endpoint: 'http://127.0.0.1:9', flushDeadlineMs: 500 }");
        if let Some(f) = fetch {
            Reflect::set(&options, &"fetch".into(), f).unwrap();
        }
        Core::new(
            "o".into(),
            "p".into(),
            "id.s".into(),
            "s".into(),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
            options,
        )
        .unwrap()
    };
    let calls = || {
        js("(globalThis.__calls ?? []).splice(0).join(',')")
            .as_string()
            .unwrap()
    };
    // As the other tests expect (they run interleaved): errors keep their code.
    let error_class: Function =
        js("class E extends Error { constructor(code, message) { super(message); this.code = code; } }")
            .into();
    let flush = |core: Core| async move {
        core.track("p".into(), "T".into(), JsValue::UNDEFINED)
            .unwrap();
        JsFuture::from(core.flush()).await.unwrap()
    };
    calls();
    // No fetch option: the runtime's default is used.
    super::configure(
        error_class.clone(),
        recording("default").into(),
        JsValue::UNDEFINED,
    );
    let report = flush(make(None)).await;
    assert_eq!(get(&report, "delivered").as_f64(), Some(1.0));
    assert_eq!(calls(), "default");
    // A fetch option: the caller's is used, the default never called.
    let report = flush(make(Some(&recording("option")))).await;
    assert_eq!(get(&report, "delivered").as_f64(), Some(1.0));
    assert_eq!(calls(), "option");
    // A default that throws is guarded like any fetch: a failure, no trap.
    super::configure(
        error_class.clone(),
        js("() => { throw new Error('no socket'); }"),
        JsValue::UNDEFINED,
    );
    let report = flush(make(None)).await;
    assert_eq!(get(&report, "delivered").as_f64(), Some(0.0));
    assert_eq!(get(&report, "pending").as_f64(), Some(1.0));
    // None: the global fetch again (the other tests pass their own).
    super::configure(error_class, JsValue::UNDEFINED, JsValue::UNDEFINED);
}
