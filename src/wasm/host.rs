//! The host's `fetch`, timers, clock and crypto, reached through the global
//! object (never `window`, which no edge runtime has), as the core's
//! [`Transport`], [`Clock`] and [`Random`].

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit};

use crate::client::{Clock, Random, Request, Response, Transport, TransportError};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);

    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]) -> Result<JsValue, JsValue>;
}

/// A `setTimeout` as a future; dropping it clears the timer, so an
/// abandoned wait never keeps a process alive or fires late.
///
/// It owns its callback rather than awaiting a promise: a cleared timer's
/// promise would never settle, and js-sys frees a `JsFuture`'s callbacks
/// only when its promise settles — one leak per request timeout that the
/// response beat.
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
    /// `unref`: on Node and Bun, do not keep the process alive for this
    /// timer (the batch timer without a `waitUntil`); waits inside a flush
    /// the caller awaits keep it.
    pub fn new(ms: u64, unref: bool) -> Sleep {
        let state = Rc::new(SleepState::default());
        let fired = state.clone();
        let callback = Closure::<dyn FnMut()>::new(move || {
            fired.fired.set(true);
            if let Some(waker) = fired.waker.borrow_mut().take() {
                waker.wake();
            }
        });
        let id = set_timeout(callback.as_ref().unchecked_ref(), ms as f64);
        if unref {
            if let Ok(unref) = Reflect::get(&id, &JsValue::from_str("unref")) {
                if let Some(unref) = unref.dyn_ref::<Function>() {
                    let _ = unref.call0(&id);
                }
            }
        }
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
        clear_timeout(&self.id);
    }
}

/// Which of two futures finished first.
pub(crate) enum Either<A, B> {
    Left(A),
    Right(B),
}

/// Polls both futures; returns the first output (the other is dropped).
pub(crate) async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let mut a = pin!(a);
    let mut b = pin!(b);
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
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
}

/// `crypto.getRandomValues`, with `Math.random` only if the host has no Web
/// Crypto (event ids must be unique, not secret).
pub(crate) struct HostRandom;

impl Random for HostRandom {
    fn fill(&self, buf: &mut [u8]) {
        if get_random_values(buf).is_err() {
            for b in buf.iter_mut() {
                *b = (js_sys::Math::random() * 256.0) as u8;
            }
        }
    }
}

/// `fetch` — the global one, or the caller's (option `fetch`).
pub(crate) struct FetchTransport {
    pub custom: Option<Function>,
}

impl FetchTransport {
    fn start(
        &self,
        request: &Request,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<Promise, JsValue> {
        let headers = Headers::new()?;
        for (name, value) in &request.headers {
            headers.append(name, value)?;
        }
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&request.body));
        init.set_signal(signal);
        match &self.custom {
            None => global_fetch(&request.url, &init),
            Some(fetch) => {
                let result =
                    fetch.call2(&JsValue::UNDEFINED, &JsValue::from_str(&request.url), &init)?;
                Ok(Promise::resolve(&result))
            }
        }
    }
}

impl Transport for FetchTransport {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, TransportError>> {
        let controller = AbortController::new().ok();
        let started = self.start(&request, controller.as_ref().map(|c| c.signal()).as_ref());
        async move {
            let promise = started.map_err(|e| TransportError::Network(describe(&e)))?;
            // The timeout covers the answer and its body; racing (not only
            // aborting) holds even for a fetch that ignores the signal.
            let exchange = async {
                let response = JsFuture::from(promise).await.map_err(|e| describe(&e))?;
                let response: web_sys::Response = response
                    .dyn_into()
                    .map_err(|_| "fetch resolved to something that is not a Response".to_owned())?;
                let retry_after = response.headers().get("retry-after").ok().flatten();
                // Always read the body: an unread body holds a connection.
                let text = response.text().map_err(|e| describe(&e))?;
                let body = JsFuture::from(text).await.map_err(|e| describe(&e))?;
                Ok::<_, String>(Response {
                    status: response.status(),
                    retry_after,
                    body: body.as_string().unwrap_or_default(),
                })
            };
            match select(exchange, Sleep::new(u64::from(request.timeout_ms), false)).await {
                Either::Left(result) => result.map_err(TransportError::Network),
                Either::Right(()) => {
                    if let Some(controller) = controller {
                        controller.abort();
                    }
                    Err(TransportError::Timeout)
                }
            }
        }
    }
}

/// A thrown JS value as text, for reports (never includes request headers).
fn describe(error: &JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        let name = String::from(error.name());
        let message = String::from(error.message());
        return format!("{name}: {message}");
    }
    error
        .as_string()
        .unwrap_or_else(|| "fetch failed".to_owned())
}
