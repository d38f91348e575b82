//! The guarded path into JavaScript, in a real JS engine: what a `fetch`
//! throws, never settles, resolves to or redirects, and what errors carry.

use wasm_bindgen_test::wasm_bindgen_test;

use super::js;
use crate::ports::Transport;
use crate::transport::{Request, Response, TransportError};
use crate::wasm::host::FetchTransport;

/// Sends one request through a transport whose fetch is `fetch_source`.
/// Not `detached`: an unref'd timer would let the test runner's Node exit
/// before it fires (which is what `detached` is for).
async fn send_with(
    fetch_source: &str,
    url: &str,
    timeout_ms: u32,
) -> Result<Response, TransportError> {
    let transport = FetchTransport {
        custom: Some(js(fetch_source).into()),
    };
    transport
        .send(Request {
            url: url.to_owned(),
            headers: vec![("Authorization", "Basic aWQ6czNjcjN0".to_owned())],
            body: "{}".to_owned(),
            timeout_ms,
            detached: false,
        })
        .await
}

async fn send(fetch_source: &str) -> Result<Response, TransportError> {
    send_with(fetch_source, "http://127.0.0.1:9/v1/x", 300).await
}

fn network(result: Result<Response, TransportError>) -> String {
    match result {
        Err(TransportError::Network(text)) => text,
        other => panic!("expected a network error, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn thrown_values_are_described_without_running_their_code() {
    let cases = [
        ("() => Promise.reject({ get message() { throw 1; } })", "fetch failed"),
        ("() => Promise.reject(Object.assign(new Error('x'), { message: undefined }))", "Error"),
        ("() => Promise.reject(Object.assign(new TypeError('x'), { message: 42 }))", "TypeError: 42"),
        ("() => Promise.reject({ message: { toString() { throw 1; } } })", "fetch failed"),
        ("() => Promise.reject(undefined)", "fetch failed"),
        ("() => Promise.reject(Symbol('s'))", "fetch failed"),
        ("() => { throw new RangeError('sync'); }", "RangeError: sync"),
        ("() => { throw new Proxy({}, { get() { throw 1; } }); }", "fetch failed"),
        (
            "() => Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') }))",
            "TypeError: fetch failed (connect ECONNREFUSED)",
        ),
        ("() => Promise.reject('x'.repeat(5000))", "…"),
    ];
    for (source, expected) in cases {
        let text = network(send(source).await);
        assert!(text.contains(expected), "{source}: {text}");
        assert!(text.len() < 400, "{source}: {} chars", text.len());
    }
}

#[wasm_bindgen_test]
async fn a_fetch_that_never_settles_times_out() {
    let started = js_sys::Date::now();
    let result = send("() => new Promise(() => {})").await;
    assert_eq!(result, Err(TransportError::Timeout));
    let elapsed = js_sys::Date::now() - started;
    assert!((250.0..1_000.0).contains(&elapsed), "{elapsed} ms");
    // Under a status that is not 2xx, a body that never arrives times out too.
    let result =
        send("() => Promise.resolve({ status: 503, headers: new Headers(), text: () => new Promise(() => {}) })").await;
    assert_eq!(result, Err(TransportError::Timeout));
}

#[wasm_bindgen_test]
async fn a_2xx_status_is_a_delivery_whatever_its_body_does() {
    // Once the status says 2xx, the request was delivered: a body that never
    // ends, or fails, gives that status with an empty body (never a timeout
    // or a network error, which would send the batch again).
    let delivered = |status| {
        Ok(Response {
            status,
            retry_after: Some("3".to_owned()),
            body: String::new(),
        })
    };
    let headers = "headers: { get: (n) => n === 'retry-after' ? '3' : null }";
    let started = js_sys::Date::now();
    let never = format!(
        "() => Promise.resolve({{ status: 201, {headers}, text: () => new Promise(() => {{}}) }})"
    );
    assert_eq!(send(&never).await, delivered(201));
    let elapsed = js_sys::Date::now() - started;
    assert!(
        (250.0..1_000.0).contains(&elapsed),
        "at the timeout: {elapsed} ms"
    );
    let rejects = format!(
        "() => ({{ status: 202, {headers}, text: () => Promise.reject(new Error('cut')) }})"
    );
    assert_eq!(send(&rejects).await, delivered(202));
    // A text() that throws at once is no Response's: its status proves nothing.
    let throws =
        format!("() => ({{ status: 200, {headers}, text() {{ throw new Error('body'); }} }})");
    let text = network(send(&throws).await);
    assert!(
        text.contains("reading the response body failed: Error: body"),
        "{text}"
    );
    // The request is cancelled once its answer is taken: the body is not
    // left holding a connection.
    let result = send(
        "(url, init) => { globalThis.__bodySignal = init.signal; return Promise.resolve({ status: 201, headers: new Headers(), text: () => new Promise(() => {}) }); }",
    )
    .await;
    assert_eq!(result.map(|r| r.status), Ok(201));
    assert_eq!(js("globalThis.__bodySignal.aborted").as_bool(), Some(true));
    // A followed redirect stays one, whatever its body does.
    let result =
        send("() => ({ status: 200, redirected: true, headers: new Headers(), text: () => new Promise(() => {}) })").await;
    assert_eq!(result, Err(TransportError::Redirected));
}

#[wasm_bindgen_test]
async fn any_object_shaped_like_a_response_is_read() {
    let result = send(
        "() => Promise.resolve({ status: 429, headers: { get: (n) => n === 'retry-after' ? '7' : null }, text: () => Promise.resolve('busy') })",
    )
    .await;
    assert_eq!(
        result,
        Ok(Response {
            status: 429,
            retry_after: Some("7".to_owned()),
            body: "busy".to_owned(),
        })
    );
    // Headers that throw or are missing lose the Retry-After only; a body
    // that is not a string is empty; a synchronous text() is fine.
    for source in [
        "() => ({ status: 201, headers: { get() { throw 1; } }, text: () => 42 })",
        "() => ({ status: 201, text: () => Promise.resolve({}) })",
        "() => ({ status: 201, get headers() { throw 1; }, text: () => '' })",
    ] {
        let expected = Ok(Response {
            status: 201,
            retry_after: None,
            body: String::new(),
        });
        assert_eq!(send(source).await, expected, "{source}");
    }
    // Not a Response at all, or one that cannot be read.
    for (source, expected) in [
        ("() => Promise.resolve(42)", "not a Response"),
        ("() => Promise.resolve(null)", "not a Response"),
        (
            "() => ({ status: '201', text: () => '' })",
            "not a Response",
        ),
        ("() => ({ status: 201 })", "not a Response"),
        (
            "() => ({ get status() { throw new Error('nope'); }, text: () => '' })",
            "Error: nope",
        ),
        (
            "() => ({ status: 500, text() { throw new Error('body'); } })",
            "reading the response body failed: Error: body",
        ),
        (
            "() => ({ status: 503, text: () => Promise.reject(new Error('cut')) })",
            "Error: cut",
        ),
        (
            "() => ({ then() { throw new Error('then'); } })",
            "Error: then",
        ),
    ] {
        let text = network(send(source).await);
        assert!(text.contains(expected), "{source}: {text}");
    }
}

#[wasm_bindgen_test]
async fn redirects_are_not_followed() {
    // The fetch is asked not to follow; a 3xx goes to the core as it is.
    let result = send(
        "(url, init) => init.redirect === 'manual' ? new Response(null, { status: 301, headers: { location: 'http://127.0.0.1:9/elsewhere' } }) : new Response(null, { status: 200 })",
    )
    .await;
    assert_eq!(result.map(|r| r.status), Ok(301));
    // A fetch that followed anyway: nothing reached the API.
    for source in [
        "() => ({ status: 200, redirected: true, headers: new Headers(), text: () => '' })",
        "() => ({ status: 0, type: 'opaqueredirect', headers: new Headers(), text: () => '' })",
    ] {
        assert_eq!(
            send(source).await,
            Err(TransportError::Redirected),
            "{source}"
        );
    }
}

#[wasm_bindgen_test]
async fn errors_never_carry_the_key() {
    let url = "http://127.0.0.1:9/v1/x?apiKey=id.s3cr3t";
    let text = network(
        send_with(
            "(url, init) => { throw new Error(`bad ${url} ${init.headers.get('authorization')} ${decodeURIComponent(url)}`); }",
            url,
            300,
        )
        .await,
    );
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!text.contains("aWQ6czNjcjN0"), "{text}");
    assert!(text.contains("http://127.0.0.1:9/v1/x"), "{text}");
}
