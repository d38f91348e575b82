//! [`EdgeClient`]: the client for Rust code that runs on a JavaScript host —
//! a Cloudflare Worker written in Rust, or any wasm-bindgen module. It pairs
//! the core [`Client`] with the host's `fetch`, timers and crypto, and keeps
//! background flushes alive with `waitUntil`. The JS `SDK` class is built on
//! it too.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use js_sys::Function;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;

use super::host::{FetchTransport, HostClock, HostRandom, Sleep};
use super::js;
use crate::client::{Client, Logger, Trigger};
use crate::config::Config;
use crate::error::Error;
use crate::event::{Choose, Consent, Event};
use crate::report::{FlushReport, Stats};

/// Optional host hooks of an [`EdgeClient`].
#[derive(Default)]
pub struct EdgeOptions {
    /// A `fetch` to use instead of the global one.
    pub fetch: Option<Function>,
    /// Keeps background flushes alive after the response (`ctx.waitUntil`
    /// bound to its context, or `waitUntil` from `cloudflare:workers`).
    pub wait_until: Option<Function>,
    /// Receives one line per request and outcome (the API key never appears).
    pub logger: Option<Logger>,
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
/// intempt.record(&Event::track("1845348", "Purchase", Some(props))?)?;
/// let report = intempt.flush().await; // on Workers: ctx.wait_until(promise of this)
/// assert_eq!(report.failed, 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EdgeClient {
    shared: Rc<Shared>,
}

struct Shared {
    client: Client<FetchTransport, HostClock, HostRandom>,
    wait_until: RefCell<Option<Function>>,
}

impl EdgeClient {
    /// Makes a client. No I/O, timer or randomness happens here.
    pub fn new(config: Config, options: EdgeOptions) -> EdgeClient {
        let transport = FetchTransport {
            custom: options.fetch,
        };
        let mut client = Client::new(config, transport, HostClock, HostRandom);
        if let Some(logger) = options.logger {
            client = client.with_logger(logger);
        }
        EdgeClient {
            shared: Rc::new(Shared {
                client,
                wait_until: RefCell::new(options.wait_until),
            }),
        }
    }

    /// Uses `wait_until` for later background flushes (replacing any other).
    pub fn set_wait_until(&self, wait_until: Function) {
        *self.shared.wait_until.borrow_mut() = Some(wait_until);
    }

    /// Uses `wait_until` unless one was given already.
    pub fn use_default_wait_until(&self, wait_until: Function) {
        let mut slot = self.shared.wait_until.borrow_mut();
        if slot.is_none() {
            *slot = Some(wait_until);
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.shared.client.config()
    }

    /// Queues a tracking event and arranges its sending: a batch timer, or a
    /// background flush when a batch is full, handed to `waitUntil` when one
    /// is known. See [`Client::enqueue`] for the errors.
    pub fn record(&self, event: &Event) -> Result<(), Error> {
        let shared = self.shared.clone();
        // Without waitUntil, nothing awaits this work: its timers and
        // requests must not keep a Node, Bun or Deno process alive (unref).
        // With one, the caller asked for it to be kept alive.
        let detached = self.shared.wait_until.borrow().is_none();
        match self.shared.client.enqueue(event)? {
            Trigger::None => {}
            Trigger::ArmTimer(ms) => self.spawn(async move {
                Sleep::new(u64::from(ms), detached).await;
                shared.client.timer_fired();
                shared.client.background_flush(detached).await;
            }),
            Trigger::FlushNow => self.spawn(async move {
                shared.client.background_flush(detached).await;
            }),
        }
        Ok(())
    }

    /// Runs `future` in the background, kept alive by `waitUntil` when there is one.
    fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        let promise = future_to_promise(async move {
            future.await;
            Ok(JsValue::UNDEFINED)
        });
        let wait_until = self.shared.wait_until.borrow().clone();
        if let Some(wait_until) = wait_until {
            // Outside a request, Cloudflare's waitUntil throws; the flush
            // still runs. The promise never rejects.
            js::call_guarded(&wait_until, &promise);
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
