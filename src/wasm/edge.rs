//! [`EdgeClient`]: the client for Rust code that runs on a JavaScript host —
//! a Cloudflare Worker written in Rust, or any wasm-bindgen module. It pairs
//! the core [`Client`] with the host's `fetch`, timers and crypto, and keeps
//! background flushes alive with `waitUntil`. The JS `SDK` class is built on
//! it too.

use alloc::boxed::Box;
use alloc::string::String;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::host::{FetchTransport, HostClock, HostRandom, JsOutbox, Sleep};
use super::js;
use crate::client::{filter_of, BeforeSend, Client, Filter, Logger, Redelivery, Trigger};
use crate::config::Config;
use crate::error::Error;
use crate::event::{Choose, Consent, Event};
use crate::report::{FlushReport, Stats};

/// Hands a promise to the host to keep alive after the response: Cloudflare's
/// `ctx.waitUntil`, or `waitUntil` from `cloudflare:workers`.
///
/// It is called from Rust, so it must not throw into wasm: bind the host's
/// function with `#[wasm_bindgen(catch)]` and ignore the error (outside a
/// request, Cloudflare's `waitUntil` throws; the work still runs).
///
/// With the crate's `workerd` feature (or `worker`, which includes it), a
/// client given none uses `waitUntil` from `cloudflare:workers`.
pub type WaitUntil = Rc<dyn Fn(Promise)>;

/// Optional host hooks of an [`EdgeClient`].
///
/// Binding `cloudflare:workers`' `waitUntil` by hand, as below, is for a
/// build without the `workerd` feature, which makes it the default.
///
/// ```no_run
/// use intempt_edge::EdgeOptions;
/// use js_sys::Promise;
/// use wasm_bindgen::prelude::*;
///
/// #[wasm_bindgen(module = "cloudflare:workers")]
/// extern "C" {
///     #[wasm_bindgen(catch, js_name = waitUntil)]
///     fn wait_until(promise: &Promise) -> Result<(), JsValue>;
/// }
///
/// let options = EdgeOptions::default()
///     .wait_until(|promise| {
///         let _ = wait_until(&promise);
///     })
///     .logger(|line| web_log(line));
/// # fn web_log(_: &str) {}
/// ```
#[derive(Default)]
pub struct EdgeOptions {
    /// A `fetch` to use instead of the global one.
    pub fetch: Option<Function>,
    /// Keeps background flushes (the batch timer's, a full batch's) alive
    /// after the response; see [`WaitUntil`].
    pub wait_until: Option<WaitUntil>,
    /// Receives one line per request and outcome (the API key never appears).
    pub logger: Option<Logger>,
    /// Where a flush puts what it could not deliver (see [`JsOutbox`]).
    pub outbox: Option<JsOutbox>,
    /// Where warnings go when events cannot leave (`console.warn` by default).
    pub warnings: Warnings,
    /// Sees every recorded event before it is queued; see
    /// [`Client::with_before_send`].
    pub before_send: Option<BeforeSend>,
}

/// Where an [`EdgeClient`]'s warnings go: one line when events cannot leave
/// (what failed, what happens to them, what to fix), the first failure at
/// once, then at most one a minute, and one when deliveries resume; see
/// [`Client::with_warnings`]. Never the API key.
#[derive(Default)]
pub enum Warnings {
    /// `console.warn` (through the guarded path).
    #[default]
    Console,
    /// This function.
    To(Logger),
    /// Nowhere.
    Off,
}

impl fmt::Debug for Warnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Warnings::Console => "Console",
            Warnings::To(_) => "To(..)",
            Warnings::Off => "Off",
        })
    }
}

impl EdgeOptions {
    /// Uses `fetch` instead of the global one.
    pub fn fetch(mut self, fetch: Function) -> Self {
        self.fetch = Some(fetch);
        self
    }

    /// Hands background flushes to `wait_until` (see [`WaitUntil`]).
    pub fn wait_until(mut self, wait_until: impl Fn(Promise) + 'static) -> Self {
        self.wait_until = Some(Rc::new(wait_until));
        self
    }

    /// Hands background flushes to `wait_until` as futures, for hosts whose
    /// `waitUntil` takes one, such as workers-rs's `Context::wait_until`
    /// (for a client made per request: a client shared by requests must not
    /// keep one request's context). The work runs whether or not the future
    /// is polled; the future ends when it has.
    ///
    /// ```ignore
    /// let options = EdgeOptions::default().wait_until_future(move |work| ctx.wait_until(work));
    /// ```
    pub fn wait_until_future(
        self,
        wait_until: impl Fn(Pin<Box<dyn Future<Output = ()>>>) + 'static,
    ) -> Self {
        self.wait_until(move |promise| {
            let done = JsFuture::from(promise);
            wait_until(Box::pin(async move {
                // The promise never rejects (see `EdgeClient::spawn`).
                let _ = done.await;
            }));
        })
    }

    /// Sends one line per request and outcome (and per flush) to `logger`.
    pub fn logger(mut self, logger: impl Fn(&str) + 'static) -> Self {
        self.logger = Some(Box::new(logger));
        self
    }

    /// Hands what a flush cannot deliver before its deadline to `outbox`.
    pub fn outbox(mut self, outbox: JsOutbox) -> Self {
        self.outbox = Some(outbox);
        self
    }

    /// Sends warnings to `sink` instead of `console.warn`.
    pub fn warnings(mut self, sink: impl Fn(&str) + 'static) -> Self {
        self.warnings = Warnings::To(Box::new(sink));
        self
    }

    /// Writes no warnings.
    pub fn no_warnings(mut self) -> Self {
        self.warnings = Warnings::Off;
        self
    }

    /// Calls `hook` with every recorded event before it is queued: it
    /// returns the event to send (changed or not), or `None` to drop it.
    /// See [`Client::with_before_send`].
    pub fn before_send(mut self, hook: impl Fn(Event) -> Option<Event> + 'static) -> Self {
        self.before_send = Some(Box::new(hook));
        self
    }
}

impl fmt::Debug for EdgeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgeOptions")
            .field("fetch", &self.fetch.is_some())
            .field("wait_until", &self.wait_until.is_some())
            .field("logger", &self.logger.is_some())
            .field("outbox", &self.outbox.is_some())
            .field("warnings", &self.warnings)
            .field("before_send", &self.before_send.is_some())
            .finish()
    }
}

/// The Intempt client on a JavaScript host, for Rust callers (wasm32 only).
///
/// Cheap to clone (it is a handle); keep one per isolate, e.g. in a
/// `thread_local!`, and share it across requests.
///
/// ```no_run
/// # async fn handler() -> Result<(), intempt_edge::Error> {
/// use intempt_edge::{Config, EdgeClient, EdgeOptions, Event, JsonObject};
/// let config = Config::builder("demo-organization", "demo-project", "id.secret", "616010376811536384").build()?;
/// let intempt = EdgeClient::new(config, EdgeOptions::default());
/// let props = JsonObject::parse(r#"{"price_amount":50}"#)?;
/// intempt.enqueue(&Event::track("1845348", "Purchase", Some(props))?)?;
/// let report = intempt.flush().await; // on Workers: ctx.waitUntil(a promise of this)
/// assert_eq!(report.failed, 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EdgeClient {
    shared: Rc<Shared>,
}

struct Shared {
    client: Client<FetchTransport, HostClock, HostRandom>,
    wait_until: RefCell<Option<WaitUntil>>,
}

impl fmt::Debug for EdgeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The client's Debug shows its Config, whose API key is redacted.
        f.debug_struct("EdgeClient")
            .field("client", &self.shared.client)
            .field("wait_until", &self.shared.wait_until.borrow().is_some())
            .finish()
    }
}

impl EdgeClient {
    /// Makes a client. No I/O, timer or randomness happens here.
    pub fn new(config: Config, mut options: EdgeOptions) -> EdgeClient {
        let filter = options.before_send.take().map(filter_of);
        EdgeClient::with_filter(config, options, filter)
    }

    /// [`new`](EdgeClient::new) with a hook that may fail (the JS
    /// `beforeSend`) instead of `options.before_send`.
    pub(super) fn with_filter(
        config: Config,
        options: EdgeOptions,
        filter: Option<Filter>,
    ) -> EdgeClient {
        let transport = FetchTransport {
            custom: options.fetch,
        };
        let mut client = Client::new(config, transport, HostClock, HostRandom);
        if let Some(filter) = filter {
            client = client.with_filter(filter);
        }
        if let Some(logger) = options.logger {
            client = client.with_logger(logger);
        }
        if let Some(outbox) = options.outbox {
            client = client.with_outbox(outbox);
        }
        if js::has_request_contexts() {
            client = client.with_request_contexts();
        }
        match options.warnings {
            Warnings::Console => client = client.with_warnings(js::console_warn),
            Warnings::To(sink) => client = client.with_warnings(sink),
            Warnings::Off => {}
        }
        // The `workerd` feature: given none, the runtime's own `waitUntil`
        // (from `cloudflare:workers`), as the npm package's Worker entry does.
        #[cfg(feature = "workerd")]
        let wait_until = options
            .wait_until
            .or_else(|| js::runtime_wait_until().map(guarded));
        #[cfg(not(feature = "workerd"))]
        let wait_until = options.wait_until;
        EdgeClient {
            shared: Rc::new(Shared {
                client,
                wait_until: RefCell::new(wait_until),
            }),
        }
    }

    /// Uses the JavaScript function `wait_until` (called through the guarded
    /// path: what it throws is ignored) unless one was given already.
    pub fn use_default_wait_until(&self, wait_until: Function) {
        let mut slot = self.shared.wait_until.borrow_mut();
        if slot.is_none() {
            *slot = Some(guarded(wait_until));
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.shared.client.config()
    }

    /// Queues a tracking event and arranges its sending: a batch timer, or a
    /// background flush when a batch is full, handed to `waitUntil` when one
    /// is known. See [`Client::enqueue`] for the errors.
    pub fn enqueue(&self, event: &Event) -> Result<(), Error> {
        let shared = self.shared.clone();
        // Without waitUntil, nothing awaits this work: its timers and
        // requests must not keep a Node, Bun or Deno process alive (unref).
        // With one, the caller asked for it to be kept alive.
        let detached = self.shared.wait_until.borrow().is_none();
        let delay = match self.shared.client.enqueue(event)? {
            Trigger::ArmTimer(ms) => Some(ms),
            Trigger::FlushNow => None,
            _ => return Ok(()),
        };
        // A timer's flush or a full batch's, then the follow-ups for what was
        // recorded meanwhile, all in this request's context.
        self.spawn(async move {
            let mut delay = delay;
            loop {
                if let Some(ms) = delay {
                    Sleep::new(u64::from(ms), detached).await;
                    shared.client.timer_fired();
                }
                shared.client.background_flush(detached).await;
                match shared.client.follow_up() {
                    Trigger::ArmTimer(ms) => delay = Some(ms),
                    _ => break,
                }
            }
        });
        Ok(())
    }

    /// Runs `future` in the background, kept alive by `waitUntil` when there is one.
    fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        let promise = to_promise(async move {
            future.await;
            Ok(JsValue::UNDEFINED)
        });
        let wait_until = self.shared.wait_until.borrow().clone();
        if let Some(wait_until) = wait_until {
            // The promise never rejects; the flush runs whether or not the
            // host keeps it alive.
            wait_until(promise);
        }
    }

    /// Sends everything queued; see [`Client::flush`]. The future owns what it
    /// needs, so it can become a JS promise for `waitUntil`.
    pub fn flush(&self) -> impl Future<Output = FlushReport> + 'static {
        let shared = self.shared.clone();
        async move { shared.client.flush().await }
    }

    /// Flushes, then refuses every later call; see [`Client::close`].
    pub fn close(&self) -> impl Future<Output = FlushReport> + 'static {
        let shared = self.shared.clone();
        async move { shared.client.close().await }
    }

    /// Sends a consent at once; see [`Client::consent`].
    pub fn consent(&self, consent: Consent) -> impl Future<Output = Result<(), Error>> + 'static {
        let shared = self.shared.clone();
        async move { shared.client.consent(&consent).await }
    }

    /// Chooses experiments or personalizations; resolves to the `choices`
    /// array as JSON text. See [`Client::choose`].
    pub fn choose(&self, choose: Choose) -> impl Future<Output = Result<String, Error>> + 'static {
        let shared = self.shared.clone();
        async move { shared.client.choose(&choose).await }
    }

    /// Sends a batch an outbox stored, once; see [`Client::redeliver`].
    pub fn redeliver(
        &self,
        body: String,
        attempts: u32,
        max_delay_ms: u64,
    ) -> impl Future<Output = Redelivery> + 'static {
        let shared = self.shared.clone();
        async move { shared.client.redeliver(&body, attempts, max_delay_ms).await }
    }

    /// Stops tracking calls until [`opt_in`](EdgeClient::opt_in).
    pub fn opt_out(&self) {
        self.shared.client.opt_out();
    }

    /// Resumes tracking calls.
    pub fn opt_in(&self) {
        self.shared.client.opt_in();
    }

    /// Counters over the client's life.
    pub fn stats(&self) -> Stats {
        self.shared.client.stats()
    }
}

/// A JavaScript `waitUntil` as a [`WaitUntil`], called through the guarded
/// path: outside a request Cloudflare's throws, and a caller's may throw or
/// reject; the flush runs anyway.
pub(super) fn guarded(wait_until: Function) -> WaitUntil {
    Rc::new(move |promise: Promise| js::call_guarded(&wait_until, &promise))
}

/// `future_to_promise` through one boxed future type, so the executor's glue
/// is compiled once rather than once per kind of future (3 KB of wasm).
pub(super) fn to_promise(
    future: impl Future<Output = Result<JsValue, JsValue>> + 'static,
) -> Promise {
    let future: Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>> = Box::pin(future);
    future_to_promise(future)
}
