//! The client, generic over the outside world (the ports [`Transport`],
//! [`Clock`], [`Random`] and [`Outbox`]) so that all of it runs on the host
//! in virtual time. Each part in a file of its own, all over one [`Client`]:
//!
//! - this file: the struct, its builder methods, recording events, the
//!   lifecycle (close, opt-out, stats);
//! - `triggers`: when a recorded event needs a timer or a background flush;
//! - `state`: the shared state (queue, batches in flight and their leases,
//!   pause, latency, random pool) and the waiting of flushes;
//! - `flush`: the flush loop;
//! - `run`: the accounting of one flush call, which becomes its report;
//! - `outbox`: storing what a flush could not deliver, and redelivery;
//! - `direct`: consent and choose calls, sent at once;
//! - `warn`: failure lines without `debug`.
//!
//! ## Concurrency model
//!
//! The client is single-threaded (wasm) but shared: calls arrive while
//! flushes are awaiting the network. State lives in a `RefCell` that is never
//! borrowed across an `.await`. Several flushes may run at once (a timer
//! flush, a size flush, the caller's `flush()`); each takes whole batches off
//! the queue and only ever awaits its own requests, which is what Cloudflare
//! Workers require of a client shared by concurrent requests. A flush that
//! finds batches in flight elsewhere waits for them: on Node, Deno and Bun
//! it is woken when one settles; on Workers ([`Client::with_request_contexts`])
//! it looks again on a timer of its own every 25 ms and is never woken by
//! another flush (nor by a `track()` call), because a flush resumed from
//! another request's I/O would go on, and start its requests and timers, in
//! that request's context, where they die when that request ends. So each
//! flush runs only in the request that started it.
//!
//! A batch in flight holds a *lease* that ends a little after its flush's
//! deadline. If the flush never comes back (its request context was
//! cancelled), another flush takes the batch back after the lease and sends
//! it again: delivery is at-least-once, never at-most-once.

use alloc::boxed::Box;
use alloc::string::String;

use core::cell::RefCell;
use core::fmt;

use crate::batch::Entry;
use crate::config::Config;
use crate::error::{Error, ErrorCode};
use crate::event::Event;
use crate::ports::{Clock, Outbox, Random, Transport};
use crate::report::{FlushReport, Stats};
use crate::retry::RetryPolicy;
use crate::text::cat;
use crate::wire::{self, Urls};

use state::State;
use warn::Warner;

mod direct;
mod flush;
mod outbox;
mod run;
mod state;
mod triggers;
mod warn;

pub use outbox::Redelivery;

/// What the caller of [`Client::enqueue`] should arrange so that the event
/// is sent without a flush of its own.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Nothing: a flush or a timer is already on its way.
    None,
    /// A batch timer: after this many milliseconds, call
    /// [`Client::timer_fired`], then [`Client::background_flush`], then
    /// [`Client::follow_up`].
    ArmTimer(u32),
    /// A batch is full: call [`Client::background_flush`] now (it runs in
    /// the background; nothing needs to await it), and
    /// [`Client::follow_up`] when it ends. Until a flush starts —
    /// any flush, [`Client::flush`] included, since it takes the full
    /// batches — further full batches answer [`Trigger::None`].
    FlushNow,
}

/// Receives debug lines (see [`Client::with_logger`]).
pub type Logger = Box<dyn Fn(&str)>;

/// A `before_send` hook (see [`Client::with_before_send`]): the event a call
/// recorded in, the event to queue out, or `None` to drop it.
pub type BeforeSend = Box<dyn Fn(Event) -> Option<Event>>;

/// What a hook made of an event: the JavaScript hook can also fail (it
/// threw, returned a promise or something that is not an event), with a
/// line saying how.
pub(crate) enum Filtered {
    Keep(Event),
    Drop,
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "npm")), allow(dead_code))]
    Failed(String),
}

/// The hook as the client calls it.
pub(crate) type Filter = Box<dyn Fn(Event) -> Filtered>;

/// A Rust hook as a [`Filter`] (it cannot fail).
pub(crate) fn filter_of(hook: impl Fn(Event) -> Option<Event> + 'static) -> Filter {
    Box::new(move |event| match hook(event) {
        Some(event) => Filtered::Keep(event),
        None => Filtered::Drop,
    })
}

/// The Intempt client, generic over the outside world.
///
/// It is single-threaded but shared: calls may arrive while flushes await
/// the network, several flushes may run at once, and delivery is
/// at-least-once (a batch whose flush never came back is sent again).
///
/// On wasm32, `EdgeClient` wraps it with the host's `fetch`, timers and
/// crypto; elsewhere, bring your own [`Transport`], [`Clock`] and [`Random`]:
///
/// ```
/// use core::future::{ready, Future};
/// use core::task::{Context, Poll, Waker};
/// use intempt_edge::{Client, Clock, Config, Event, Random, Request, Response, Transport, TransportError};
///
/// struct Accepts; // a server that accepts everything
/// impl Transport for Accepts {
///     fn send(&self, _: Request) -> impl Future<Output = Result<Response, TransportError>> {
///         ready(Ok(Response::new(201, "")))
///     }
/// }
/// struct Fixed;
/// impl Clock for Fixed {
///     fn now_ms(&self) -> u64 { 1_714_631_904_000 }
///     fn sleep(&self, _: u64) -> impl Future<Output = ()> { ready(()) }
/// }
/// struct Sevens;
/// impl Random for Sevens {
///     fn fill(&self, buf: &mut [u8]) { buf.fill(7) }
/// }
///
/// let config = Config::builder("demo-organization", "demo-project", "id.secret", "42").build()?;
/// let client = Client::new(config, Accepts, Fixed, Sevens);
/// client.enqueue(&Event::track("1845348", "Purchase", None)?)?;
/// // Any executor drives flush(); with these instant fakes one poll is enough.
/// let mut flush = core::pin::pin!(client.flush());
/// let Poll::Ready(report) = flush.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
///     unreachable!()
/// };
/// assert_eq!((report.delivered, report.pending, report.requests), (1, 0, 1));
/// # Ok::<(), intempt_edge::Error>(())
/// ```
pub struct Client<T, C, R> {
    config: Config,
    /// Where every batch goes. The consent and choose URLs and the headers
    /// are made for each request instead (an idle client holds this one).
    track_url: String,
    policy: RetryPolicy,
    transport: T,
    clock: C,
    random: R,
    /// Never borrowed across an `.await` (see the module docs).
    state: RefCell<State>,
    outbox: Option<Box<dyn Outbox>>,
    logger: Option<Logger>,
    /// Failure lines (see [`Client::with_warnings`]); off by default.
    warner: Warner,
    /// See [`Client::with_request_contexts`].
    request_contexts: bool,
    /// See [`Client::with_before_send`].
    filter: Option<Filter>,
}
impl<T, C, R> fmt::Debug for Client<T, C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Config's Debug redacts the API key; the state is not worth printing.
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("outbox", &self.outbox.is_some())
            .field("logger", &self.logger.is_some())
            .field("warnings", &self.warner.is_on())
            .field("request_contexts", &self.request_contexts)
            .field("before_send", &self.filter.is_some())
            .finish_non_exhaustive()
    }
}

impl<T: Transport, C: Clock, R: Random> Client<T, C, R> {
    /// Makes a client. No I/O, timer or randomness happens here, so a client
    /// can be created at module scope on Cloudflare Workers.
    pub fn new(config: Config, transport: T, clock: C, random: R) -> Self {
        Client {
            track_url: Urls::new(&config).track,
            warner: Warner::default(),
            policy: RetryPolicy::default(),
            config,
            transport,
            clock,
            random,
            state: RefCell::new(State::default()),
            outbox: None,
            logger: None,
            request_contexts: false,
            filter: None,
        }
    }

    /// Tells the client that its host runs each request in a context of
    /// its own, whose timers and I/O die with it (Cloudflare Workers; the
    /// wasm32 `EdgeClient` sets it there itself). A flush is then never
    /// woken by another flush or by a recorded event, which would resume it
    /// in that other request's context: while it waits for batches in
    /// flight elsewhere, it looks again on a timer of its own every 25 ms.
    /// Elsewhere (Node, Deno, Bun) a waiting flush is woken, which costs
    /// nothing while it waits.
    pub fn with_request_contexts(mut self) -> Self {
        self.request_contexts = true;
        self
    }

    /// Sends one line per request and outcome (and per flush) to `logger`.
    /// Lines carry no API key: URLs are logged without their query.
    pub fn with_logger(mut self, logger: impl Fn(&str) + 'static) -> Self {
        self.logger = Some(Box::new(logger));
        self
    }

    /// Sends a line to `sink` when events cannot leave: what failed, what
    /// happens to the events (retried, kept, stored, dropped) and what to
    /// fix. The first failure is written at once, then at most one line a
    /// minute while failures go on (with how many were not written), and
    /// one line when deliveries resume. Lines carry no API key.
    pub fn with_warnings(mut self, sink: impl Fn(&str) + 'static) -> Self {
        self.warner.set_sink(Box::new(sink));
        self
    }

    /// Calls `hook` with every event a call records (identify, group,
    /// track, alias, record), before it is queued: it returns the event to
    /// queue — the same, or another one (redacted, enriched) — or `None`
    /// to drop it, counted in [`Stats::filtered`]. The returned event is
    /// checked as a call's is: one over `maxEventBytes` is dropped too,
    /// counted in [`Stats::filter_failed`] with a warning (see
    /// [`Client::with_warnings`]), unless the event the call made was over
    /// it already (then the call fails with [`ErrorCode::EventTooLarge`],
    /// as without a hook). Not called for consents and choose calls (sent
    /// at once, not events), nor while opted out or closed, nor for a call
    /// the hook itself makes (that event is queued as it is). The `eventId`
    /// and `timestamp` are stamped after the hook.
    ///
    /// Without a hook, recording costs nothing more.
    ///
    /// To change an event, return one built with [`Event`]'s constructors
    /// from the fields of the one given (its getters):
    ///
    /// ```
    /// use intempt_edge::{Event, JsonObject};
    /// // Test profiles are dropped; a purchase's properties are replaced
    /// // by a redacted copy; everything else is kept as it is.
    /// let hook = |event: Event| -> Option<Event> {
    ///     if event.profile_id().starts_with("test-") {
    ///         return None;
    ///     }
    ///     if event.name() == "Purchase" {
    ///         let props = JsonObject::parse(r#"{"redacted":true}"#).ok()?;
    ///         return Event::track(event.profile_id(), event.name(), Some(props)).ok();
    ///     }
    ///     Some(event)
    /// };
    /// let props = JsonObject::parse(r#"{"email":"a@b.c"}"#)?;
    /// let kept = hook(Event::track("1845348", "Purchase", Some(props))?).unwrap();
    /// assert_eq!(kept.properties().unwrap().as_str(), r#"{"redacted":true}"#);
    /// assert!(hook(Event::track("test-1", "Purchase", None)?).is_none());
    /// // Client::new(…).with_before_send(hook), or EdgeOptions::default().before_send(hook)
    /// # Ok::<(), intempt_edge::Error>(())
    /// ```
    pub fn with_before_send(self, hook: impl Fn(Event) -> Option<Event> + 'static) -> Self {
        self.with_filter(filter_of(hook))
    }

    /// [`with_before_send`](Client::with_before_send) with a hook that may fail.
    pub(crate) fn with_filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if let Some(logger) = &self.logger {
            logger(&line());
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Records a tracking event: stamps its `eventId` and `timestamp`,
    /// serialises it once and queues it. Returns what the caller should
    /// arrange (a timer or a background flush; see [`Trigger`]).
    ///
    /// Errors: [`ErrorCode::Closed`], [`ErrorCode::EventTooLarge`],
    /// [`ErrorCode::QueueFull`]. Nothing queued is affected by an error.
    /// While opted out, the event is counted and not recorded. With a
    /// [`before_send`](Client::with_before_send) hook, the hook's event is
    /// the one queued (or none).
    pub fn enqueue(&self, event: &Event) -> Result<Trigger, Error> {
        match &self.filter {
            None => self.record(event),
            Some(filter) => self.record_filtered(filter, event),
        }
    }

    /// Why a call cannot record now (closed, queue full), or `Ok(false)`
    /// while opted out (counted).
    fn refusal(&self, state: &mut State) -> Result<bool, Error> {
        if state.closed {
            return Err(closed());
        }
        if state.opted_out {
            state.totals.opted_out += 1;
            return Ok(false);
        }
        let limit = self.config.max_queue_events as usize;
        if state.queue.len() + state.in_flight_events >= limit {
            return Err(Error::new(
                ErrorCode::QueueFull,
                cat!("the queue holds ", limit, " undelivered events (option maxQueueSize); call flush() and retry, or raise the limit"),
            ));
        }
        Ok(true)
    }

    /// [`enqueue`](Client::enqueue) through the `before_send` hook. The
    /// state is not borrowed while the hook runs: it may call the client.
    fn record_filtered(&self, filter: &Filter, event: &Event) -> Result<Trigger, Error> {
        {
            let mut state = self.state.borrow_mut();
            if state.in_hook {
                // A call the hook made: recorded as it is, no recursion.
                drop(state);
                return self.record(event);
            }
            if !self.refusal(&mut state)? {
                return Ok(Trigger::None);
            }
            state.in_hook = true;
        }
        // Cleared however the hook ends (a Rust hook may panic).
        struct InHook<'a>(&'a RefCell<State>);
        impl Drop for InHook<'_> {
            fn drop(&mut self) {
                self.0.borrow_mut().in_hook = false;
            }
        }
        let verdict = {
            let _in_hook = InHook(&self.state);
            filter(event.clone())
        };
        let why = match verdict {
            Filtered::Keep(kept) => match self.record(&kept) {
                Err(error) if error.code() == ErrorCode::EventTooLarge => {
                    if self.too_large(event).is_some() {
                        // The call's own event was too large: its error, as without a hook.
                        return Err(error);
                    }
                    cat!("it returned an event that is too large: ", error.message())
                }
                recorded => return recorded,
            },
            Filtered::Drop => {
                self.state.borrow_mut().totals.filtered += 1;
                return Ok(Trigger::None);
            }
            Filtered::Failed(why) => why,
        };
        self.state.borrow_mut().totals.filter_failed += 1;
        self.log(|| cat!("beforeSend failed, the event was dropped: ", why));
        self.warner.hook_failed(&self.clock, &why);
        Ok(Trigger::None)
    }

    /// The error of an event over `maxEventBytes`, if it is.
    fn too_large(&self, event: &Event) -> Option<Error> {
        let mut json = String::with_capacity(wire::entry_capacity(event));
        wire::write_track_entry(&mut json, event, "00000000-0000-4000-8000-000000000000", 0);
        self.size_error(json.len())
    }

    fn size_error(&self, len: usize) -> Option<Error> {
        let max = self.config.max_event_bytes as usize;
        (len > max).then(|| {
            Error::new(
                ErrorCode::EventTooLarge,
                cat!(
                    "the event is ",
                    len,
                    " bytes as JSON; the limit is ",
                    max,
                    " (option maxEventBytes): send fewer or smaller properties"
                ),
            )
        })
    }

    /// Stamps, serialises and queues an event (no hook).
    fn record(&self, event: &Event) -> Result<Trigger, Error> {
        let now = self.clock.now_ms();
        let mut state = self.state.borrow_mut();
        if !self.refusal(&mut state)? {
            return Ok(Trigger::None);
        }
        let event_id = wire::uuid_v4(state.random_16(&self.random));
        // The bytes are ASCII hex and dashes.
        let event_id = core::str::from_utf8(&event_id).unwrap_or_default();
        let mut json = String::with_capacity(wire::entry_capacity(event));
        wire::write_track_entry(&mut json, event, event_id, now);
        if let Some(error) = self.size_error(json.len()) {
            return Err(error);
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        state.queue.push_back(Entry { seq, json });
        if state.queue.len() == 1 {
            // A flush waiting for batches in flight elsewhere can send this.
            state.wake_waiters();
        }

        let full = state.queue.len() >= self.config.max_batch_size as usize
            || state.queue.body_len() >= self.config.max_batch_bytes as usize;
        Ok(state.triggers.recorded(
            now,
            full,
            self.config.batch_time_ms,
            self.config.flush_deadline_ms,
        ))
    }

    /// After a [`background_flush`](Client::background_flush) ends: what the
    /// caller should arrange for events recorded while it ran that no flush
    /// or timer covers (a background flush sends only the events recorded
    /// before it started). [`Trigger::ArmTimer`] or [`Trigger::None`]; the
    /// flush's own undelivered events (an outage) get no timer: they wait
    /// for the next flush, so an outage starts no chain of flushes.
    pub fn follow_up(&self) -> Trigger {
        let now = self.clock.now_ms();
        self.state
            .borrow_mut()
            .triggers
            .follow_up(now, self.config.batch_time_ms)
    }

    /// Tells the client that the timer it asked for ([`Trigger::ArmTimer`])
    /// has fired, before the caller starts the timer's
    /// [`background_flush`](Client::background_flush).
    pub fn timer_fired(&self) {
        self.state.borrow_mut().triggers.timer_fired();
    }

    /// Sends every event recorded before the call (waiting for those that
    /// other flushes have in flight), and returns once they are delivered,
    /// dropped or stored, or at the flush deadline, with a report of what this
    /// call did. Never fails. Events recorded while it runs may leave with
    /// its batches; the flush does not wait for them (they have flushes or
    /// triggers of their own).
    ///
    /// During a `Retry-After` pause it waits for the pause to end (at most
    /// until its deadline) rather than returning at once, and it starts a
    /// request only when the request can finish before the deadline (judged
    /// from recent response times); otherwise the batch stays queued.
    pub async fn flush(&self) -> FlushReport {
        self.run_flush(false).await
    }

    /// [`flush`](Client::flush) started by a timer or a full batch rather than
    /// by the caller (what a [`Trigger`] asks for); while one runs, full
    /// batches do not start another. `detached`: nothing awaits it (no
    /// `waitUntil`), so its waits and requests are marked not to keep the
    /// host process alive.
    pub async fn background_flush(&self, detached: bool) -> FlushReport {
        self.state
            .borrow_mut()
            .triggers
            .background_started(detached);
        let mine = self.state.borrow().next_seq;
        let report = self.run_flush(detached).await;
        let mut state = self.state.borrow_mut();
        // Events recorded while it ran and still queued may have no trigger
        // of their own (a full batch while it ran asks for none): see
        // follow_up. Its own undelivered events wait for the next flush, as
        // after any failed flush.
        let left_later_events = state.queue.seqs().any(|seq| seq >= mine);
        state.triggers.background_ended(detached, left_later_events);
        drop(state);
        report
    }

    /// Flushes, then refuses every later call with [`ErrorCode::Closed`].
    pub async fn close(&self) -> FlushReport {
        self.state.borrow_mut().closed = true;
        self.flush().await
    }

    /// Stops recording tracking events (identify, group, track, alias,
    /// record) until [`opt_in`](Client::opt_in); they are counted in
    /// [`Stats::opted_out`]. Consents and choose calls are not affected.
    pub fn opt_out(&self) {
        self.state.borrow_mut().opted_out = true;
    }

    /// Records tracking events again (the default).
    pub fn opt_in(&self) {
        self.state.borrow_mut().opted_out = false;
    }

    /// Counters over the client's life.
    pub fn stats(&self) -> Stats {
        let state = self.state.borrow();
        Stats {
            queued: state.queue.len() as u32,
            in_flight: state.in_flight_events as u32,
            ..state.totals
        }
    }

    fn random_u32(&self) -> u32 {
        let bytes = self.state.borrow_mut().random_16(&self.random);
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

/// The error of every call on a closed client.
fn closed() -> Error {
    Error::new(
        ErrorCode::Closed,
        "the client was closed with close(); create a new SDK instance to send more",
    )
}
