//! Every JavaScript import of the crate, and the one guarded path into
//! JavaScript: the Rust declarations of the helpers in `host.js` (and, with
//! the `workerd` feature, `workerd.js`), which sit beside this file.
//!
//! Anything that can run code we did not write — a caller's getter or Proxy
//! trap, a `fetch` option and the object it resolves to, a `logger`, a
//! `waitUntil`, `console.log`, the runtime's timers — is touched only by
//! those helpers. Each one runs that code inside `try`/`catch` and hands
//! back plain data that it made itself (strings, numbers, fresh arrays and
//! objects), so nothing can throw through wasm (a trap, or Rust state left
//! half-updated), and every promise it returns resolves, in bounded time.
//! The rest of `src/wasm` reads only those plain results, through the typed
//! imports here.
//!
//! wasm-bindgen reads each module (a path from the crate root) when this
//! crate is compiled, and writes it to its output's `snippets/` folder:
//! Cargo.toml's `include` ships them with the crate.

use alloc::string::String;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;

/// Strings longer than this (UTF-16 units) are refused before they are
/// copied into wasm memory, which never shrinks.
pub(crate) const MAX_STRING: usize = 1 << 20;

#[wasm_bindgen(module = "/src/wasm/host.js")]
extern "C" {
    #[wasm_bindgen(js_name = kindOf)]
    pub(super) fn kind_of(value: &JsValue, max_len: f64) -> u8;
    #[wasm_bindgen(js_name = str)]
    pub(super) fn str_within(value: &JsValue, max_len: f64) -> Option<String>;
    #[wasm_bindgen(js_name = readField)]
    pub(super) fn read_field(object: &JsValue, key: &str) -> Field;
    #[wasm_bindgen(js_name = ownKeys)]
    pub(super) fn own_keys(object: &JsValue) -> Option<Array>;
    #[wasm_bindgen(js_name = stringList)]
    pub(super) fn string_list(value: &JsValue, max_items: u32, max_chars: u32) -> JsValue;
    #[wasm_bindgen(js_name = propsJson)]
    pub(super) fn props_json(value: &JsValue, max_len: f64, max_depth: u32) -> Option<String>;
    #[wasm_bindgen(js_name = faultKind)]
    pub(super) fn fault_kind() -> u8;
    #[wasm_bindgen(js_name = faultPath)]
    pub(super) fn fault_path() -> String;
    /// The JS side's named codes, for the test that compares them with `wasm::code`.
    #[cfg(test)]
    #[wasm_bindgen(thread_local_v2)]
    pub(super) static KIND: JsValue;
    #[cfg(test)]
    #[wasm_bindgen(thread_local_v2)]
    pub(super) static PROBLEM: JsValue;
    #[cfg(test)]
    #[wasm_bindgen(thread_local_v2)]
    pub(super) static LIST: JsValue;
    #[cfg(test)]
    #[wasm_bindgen(thread_local_v2)]
    pub(super) static SENT: JsValue;

    /// Calls a `beforeSend` hook with the event (JSON text of a plain
    /// object); `null` (dropped), `{ why }` (how it failed), `{ field }`
    /// (that object cannot be sent), or the event's fields as one string,
    /// a line each.
    #[wasm_bindgen(js_name = beforeSend)]
    pub(super) fn before_send(
        hook: &Function,
        json: &str,
        max_string: f64,
        max_len: f64,
        max_depth: u32,
    ) -> JsValue;

    /// Calls `f(arg)` (a logger, a `waitUntil`), ignoring what it throws and
    /// any rejection of what it returns.
    #[wasm_bindgen(js_name = callGuarded)]
    pub(super) fn call_guarded(f: &Function, arg: &JsValue);
    #[wasm_bindgen(js_name = consoleLog)]
    pub(super) fn console_log(line: &str);
    /// Whether the host runs each request in a context of its own (workerd).
    #[wasm_bindgen(js_name = hasRequestContexts)]
    pub(super) fn has_request_contexts() -> bool;
    #[wasm_bindgen(js_name = consoleWarn)]
    pub(super) fn console_warn(line: &str);
    /// `new Class(code, message, status)`, or a plain `Error` with `code` if that throws.
    #[wasm_bindgen(js_name = makeError)]
    pub(super) fn make_error(
        class: &JsValue,
        code: &str,
        message: &str,
        status: Option<u16>,
    ) -> JsValue;
    /// `crypto.getRandomValues`; `false` if the host has none or it threw.
    #[wasm_bindgen(js_name = fillRandom)]
    pub(super) fn fill_random(buf: &mut [u8]) -> bool;
    /// `setTimeout`, the delay clamped to what it accepts; `unref` for Node, Bun and Deno.
    #[wasm_bindgen(js_name = setTimer)]
    pub(super) fn set_timer(callback: &Function, ms: f64, unref: bool) -> JsValue;
    #[wasm_bindgen(js_name = clearTimer)]
    pub(super) fn clear_timer(id: &JsValue);
    /// The transport `send` uses when a client has no `fetch` option (not a function: the global fetch).
    #[wasm_bindgen(js_name = setDefaultFetch)]
    pub(super) fn set_default_fetch(fetch: &JsValue);
    /// One POST; the promise always resolves, within `timeout_ms`, to a [`Sent`].
    pub(super) fn send(
        fetch: &JsValue,
        url: &str,
        header_lines: &str,
        body: &str,
        timeout_ms: u32,
        detached: bool,
        max_body: u32,
    ) -> Promise;
    /// The package's outbox adapter (`adaptOutbox` uses it when set).
    #[wasm_bindgen(js_name = setOutboxAdapter)]
    pub(super) fn set_outbox_adapter(adapter: &JsValue);
    /// The `outbox` option as an [`Adapted`], or a string saying what is wrong.
    #[wasm_bindgen(js_name = adaptOutbox)]
    pub(super) fn adapt_outbox(value: &JsValue) -> JsValue;
    /// `target.store(messages)`; the promise always resolves, within
    /// `timeout_ms`: to `undefined` once stored, or to a string saying why not.
    pub(super) fn store(
        target: &JsValue,
        messages: &Array,
        timeout_ms: u32,
        detached: bool,
    ) -> Promise;

    /// `adaptOutbox`'s answer.
    pub(super) type Adapted;
    #[wasm_bindgen(method, getter)]
    pub(super) fn target(this: &Adapted) -> JsValue;
    #[wasm_bindgen(method, getter)]
    pub(super) fn max(this: &Adapted) -> f64;

    /// `readField`'s answer.
    pub(super) type Field;
    #[wasm_bindgen(method, getter)]
    pub(super) fn ok(this: &Field) -> bool;
    #[wasm_bindgen(method, getter)]
    pub(super) fn value(this: &Field) -> JsValue;

    /// `stringList`'s answer when the list is refused.
    pub(super) type ListFault;
    #[wasm_bindgen(method, getter)]
    pub(super) fn code(this: &ListFault) -> u8;
    #[wasm_bindgen(method, getter)]
    pub(super) fn index(this: &ListFault) -> i32;
    #[wasm_bindgen(method, getter)]
    pub(super) fn kind(this: &ListFault) -> u8;
    #[wasm_bindgen(method, getter)]
    pub(super) fn length(this: &ListFault) -> f64;

    /// What `send` resolves to.
    pub(super) type Sent;
    #[wasm_bindgen(method, getter)]
    pub(super) fn outcome(this: &Sent) -> u8;
    #[wasm_bindgen(method, getter)]
    pub(super) fn status(this: &Sent) -> u16;
    #[wasm_bindgen(method, getter, js_name = retryAfter)]
    pub(super) fn retry_after(this: &Sent) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    pub(super) fn body(this: &Sent) -> String;
    #[wasm_bindgen(method, getter)]
    pub(super) fn error(this: &Sent) -> String;
}

/// The `workerd` feature (a Worker written in Rust): the runtime's own
/// `waitUntil`, which keeps work alive in whichever request is running, as
/// the npm package's Worker entry (`pkg-template/workerd.js`) uses it. A
/// namespace import (in `src/wasm/workerd.js`): a workerd without that
/// export gives `None` instead of failing to load.
#[cfg(feature = "workerd")]
#[wasm_bindgen(module = "/src/wasm/workerd.js")]
extern "C" {
    #[wasm_bindgen(js_name = runtimeWaitUntil)]
    pub(super) fn runtime_wait_until() -> Option<Function>;
}
