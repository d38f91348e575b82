//! The host's `fetch`, timers, clock and crypto, reached through the global
//! object (never `window`, which no edge runtime has), as the core's
//! [`Transport`], [`Clock`] and [`Random`]. Every call into JavaScript goes
//! through the guarded helpers of [`super::js`].

use alloc::borrow::ToOwned;
use alloc::string::String;

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use js_sys::Function;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::code;
use super::js::{self, MAX_STRING};
use crate::ports::{Clock, Outbox, Random, Storing, Transport};
use crate::transport::{Request, Response, TransportError};

/// A `setTimeout` as a future; dropping it clears the timer, so an
/// abandoned wait never keeps a process alive or fires late.
///
/// It owns its callback rather than awaiting a promise: a cleared timer's
/// promise would never settle, and wasm-bindgen-futures frees a
/// `JsFuture`'s callbacks only when its promise settles — one leak per
/// request timeout that the response beat.
pub(crate) struct Sleep {
    id: JsValue,
    state: Rc<SleepState>,
    _callback: Closure<dyn FnMut()>,
}

#[derive(Default)]
struct SleepState {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Sleep {
    /// `unref`: on Node, Bun and Deno, do not keep the process alive for
    /// this timer (work nothing awaits: the batch timer and background
    /// flushes without a `waitUntil`); waits inside a flush the caller
    /// awaits keep it.
    pub fn new(ms: u64, unref: bool) -> Sleep {
        let state = Rc::new(SleepState::default());
        let fired = state.clone();
        let callback = Closure::<dyn FnMut()>::new(move || {
            fired.fired.set(true);
            if let Some(waker) = fired.waker.borrow_mut().take() {
                waker.wake();
            }
        });
        let id = js::set_timer(callback.as_ref().unchecked_ref(), ms as f64, unref);
        Sleep {
            id,
            state,
            _callback: callback,
        }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.state.fired.get() {
            return Poll::Ready(());
        }
        *self.state.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // Cleared first, so the callback dropped next can never be called.
        js::clear_timer(&self.id);
    }
}

/// `Date.now()` and `setTimeout`.
pub(crate) struct HostClock;

impl Clock for HostClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        Sleep::new(ms, false)
    }

    fn sleep_detached(&self, ms: u64) -> impl Future<Output = ()> {
        Sleep::new(ms, true)
    }
}

/// `crypto.getRandomValues`, with `Math.random` only if the host has no Web
/// Crypto (event ids must be unique, not secret).
pub(crate) struct HostRandom;

impl Random for HostRandom {
    fn fill(&self, buf: &mut [u8]) {
        if !js::fill_random(buf) {
            for b in buf.iter_mut() {
                *b = (js_sys::Math::random() * 256.0) as u8;
            }
        }
    }
}

/// The most characters of a response body copied into wasm memory (which
/// never shrinks). Intempt's answers are small (`{}`, the choices, an error
/// list); a longer body is cut, which makes it unparsable rather than large.
/// The one home of this cap: `send` passes it to the Node entry's transport
/// (`pkg-template/node-http.js`), which keeps no more.
const MAX_RESPONSE_CHARS: u32 = MAX_STRING as u32;

/// `fetch` — the global one, or the caller's (option `fetch`), called with
/// `redirect: "manual"`: a redirect comes back as its 3xx, which the core's
/// retry policy judges (a POST must never turn into a GET elsewhere).
pub(crate) struct FetchTransport {
    pub custom: Option<Function>,
}

impl Transport for FetchTransport {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, TransportError>> {
        let mut header_lines = String::new();
        for (name, value) in &request.headers {
            for part in [*name, value.as_str()] {
                header_lines.push_str(part);
                header_lines.push('\n');
            }
        }
        let global = JsValue::UNDEFINED;
        let fetch = self.custom.as_ref().map_or(&global, |f| f.as_ref());
        // Called now: the fetch starts when the core sends, not when polled.
        let promise = js::send(
            fetch,
            &request.url,
            &header_lines,
            &request.body,
            request.timeout_ms,
            request.detached,
            MAX_RESPONSE_CHARS,
        );
        async move {
            // `send`'s promise always resolves, to an object it made.
            let Ok(sent) = JsFuture::from(promise).await else {
                return Err(TransportError::Network("fetch failed".to_owned()));
            };
            let sent: js::Sent = sent.unchecked_into();
            match sent.outcome() {
                code::sent::OK => Ok(Response {
                    status: sent.status(),
                    retry_after: sent.retry_after(),
                    body: sent.body(),
                }),
                code::sent::TIMEOUT => Err(TransportError::Timeout),
                code::sent::REDIRECTED => Err(TransportError::Redirected),
                code::sent::NETWORK => Err(TransportError::Network(sent.error())),
                _ => Err(TransportError::Network(sent.error())),
            }
        }
    }
}

/// A JavaScript outbox for [`EdgeOptions::outbox`](super::EdgeOptions::outbox):
/// an object whose `store(messages)` (an array of strings, each a stored
/// batch) returns a promise that resolves once they are stored durably.
/// It is called through the guarded path: a throw, a rejection or a
/// promise that never settles (cut at the flush deadline) leaves the
/// events queued in memory.
#[derive(Debug)]
pub struct JsOutbox {
    target: JsValue,
    max: usize,
}

impl JsOutbox {
    /// `target` has a `store(messages)` method; no message will be longer
    /// than `max_message_bytes` bytes of UTF-8.
    pub fn new(target: JsValue, max_message_bytes: usize) -> JsOutbox {
        JsOutbox {
            target,
            max: max_message_bytes,
        }
    }
}

impl Outbox for JsOutbox {
    fn max_message_bytes(&self) -> usize {
        self.max
    }

    fn store(&self, messages: alloc::vec::Vec<String>, timeout_ms: u32, detached: bool) -> Storing {
        let array = js_sys::Array::new();
        for message in &messages {
            array.push(&JsValue::from_str(message));
        }
        let promise = js::store(&self.target, &array, timeout_ms, detached);
        alloc::boxed::Box::pin(async move {
            match JsFuture::from(promise).await {
                Ok(why) => match why.as_string() {
                    Some(why) => Err(why),
                    None => Ok(()),
                },
                Err(_) => Err("it failed".to_owned()),
            }
        })
    }
}
