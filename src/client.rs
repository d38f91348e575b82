//! The client: queue, flush, retries and reports, generic over the outside
//! world ([`Transport`], [`Clock`], [`Random`]) so that all of it runs on the
//! host in virtual time.
//!
//! ## Concurrency model
//!
//! The client is single-threaded (wasm) but shared: calls arrive while
//! flushes are awaiting the network. State lives in a `RefCell` that is never
//! borrowed across an `.await`. Several flushes may run at once (a timer
//! flush, a size flush, the caller's `flush()`); each takes whole batches off
//! the queue and only ever awaits its own requests, which is what Cloudflare
//! Workers require of a client shared by concurrent requests. A flush that
//! finds batches in flight elsewhere waits for them by polling its own timer,
//! never by awaiting another flush's promise.
//!
//! A batch in flight holds a *lease* that ends a little after its flush's
//! deadline. If the flush never comes back (its request context was
//! cancelled), another flush takes the batch back after the lease and sends
//! it again: delivery is at-least-once, never at-most-once.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use crate::batch::{self, Entry, Queue};
use crate::config::Config;
use crate::error::{Error, ErrorCode};
use crate::event::{Choose, Consent, Event};
use crate::retry::{Attempt, Decision, Latency, Pause, RetryPolicy};
use crate::wire::{self, Urls};

/// An HTTP request the client wants sent (always `POST`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The full URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: String,
    /// Give up (and abort) after this many milliseconds.
    pub timeout_ms: u32,
    /// Nothing awaits this request (a background flush with no `waitUntil`):
    /// its timers must not keep a Node, Bun or Deno process alive.
    pub detached: bool,
}

/// What came back. The transport must read (or cancel) the whole body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The body as text (may be empty).
    pub body: String,
}

/// Why a request produced no response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// No response within the request's timeout.
    Timeout,
    /// The connection failed or broke; the text says how.
    Network(String),
    /// The `fetch` followed a redirect although it was asked not to: what
    /// answered is not the API, and the events did not reach it.
    Redirected,
}

/// Sends requests. The wasm build implements it with the host's `fetch`.
pub trait Transport {
    /// Sends one request, honouring `request.timeout_ms`.
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, TransportError>>;
}

/// Tells the time and waits.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Completes after `ms` milliseconds.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;
    /// Like [`sleep`](Clock::sleep), for work nothing awaits (a background
    /// flush with no `waitUntil`): the wait must not keep a Node, Bun or
    /// Deno process alive. The default is `sleep`.
    fn sleep_detached(&self, ms: u64) -> impl Future<Output = ()> {
        self.sleep(ms)
    }
}

/// Random bytes (for event ids and jitter).
pub trait Random {
    /// Fills `buf` with cryptographically random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// What the caller of [`Client::enqueue`] should arrange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Nothing: a flush or a timer is already on its way.
    None,
    /// Call [`Client::timer_fired`] and then [`Client::flush`] after this many
    /// milliseconds.
    ArmTimer(u32),
    /// A batch is full: flush now (in the background).
    FlushNow,
}

/// Whether a reason is about events that stay queued or that are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// Not delivered this time; still queued for the next flush.
    Failed,
    /// Refused for good and discarded.
    Dropped,
}

/// Why some events were not delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Failed (kept) or dropped (gone).
    pub fate: Fate,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// What happened, with the server's message when it gave one.
    pub message: String,
    /// How many events this reason covers.
    pub events: u32,
}

/// What one flush did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Events the server acknowledged during this flush.
    pub delivered: u32,
    /// Events this flush tried to send and could not; they stay queued.
    pub failed: u32,
    /// Events refused for good (see `reasons`).
    pub dropped: u32,
    /// Events still undelivered when the flush ended (queued or in flight elsewhere).
    pub pending: u32,
    /// Requests sent again after a failure.
    pub retries: u32,
    /// Requests sent.
    pub requests: u32,
    /// Whether the flush stopped at its deadline with work left.
    pub timed_out: bool,
    /// Why events failed or were dropped, grouped.
    pub reasons: Vec<Reason>,
}

/// Counters over the client's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events waiting to be sent.
    pub queued: u32,
    /// Events in a request right now.
    pub in_flight: u32,
    /// Events acknowledged by the server.
    pub delivered: u64,
    /// Events refused for good.
    pub dropped: u64,
    /// Tracking calls not recorded because of `opt_out()`.
    pub opted_out: u64,
}

/// A batch that a flush took off the queue.
struct InFlight {
    id: u64,
    entries: Vec<Entry>,
    lease_until: u64,
}

struct State {
    queue: Queue,
    /// A handful of batches at most (one per running flush): a Vec is enough.
    in_flight: Vec<InFlight>,
    in_flight_events: usize,
    next_batch: u64,
    next_seq: u64,
    /// Set after a 413: the next batches hold at most this many events.
    split_limit: Option<usize>,
    /// The server asked (`Retry-After`) for no tracking requests before its end.
    pause: Pause,
    /// Recent response times: whether a request can finish before a deadline.
    latency: Latency,
    /// Flushes waiting for batches in flight elsewhere, woken when one
    /// settles or an event is queued (see [`Settled`]).
    waiters: Vec<(u64, Waker)>,
    /// Bumped at every such change; a waiter compares it with what it saw.
    settled: u64,
    next_waiter: u64,
    timer_due: Option<u64>,
    /// Background flushes running now.
    background_flushes: u32,
    /// A background flush was asked for (`Trigger::FlushNow`) and has not
    /// started yet; until this time it is taken to be on its way. Without
    /// it, every call of a synchronous burst past a full batch would ask for
    /// another flush before the first one could start.
    background_requested_until: Option<u64>,
    opted_out: bool,
    closed: bool,
    random_pool: Box<[u8; RANDOM_POOL]>,
    random_used: usize,
    totals: Stats,
}

/// Receives debug lines (see [`Client::with_logger`]).
pub type Logger = Box<dyn Fn(&str)>;

/// Random bytes fetched from the host at a time: one call into its crypto
/// per 256 events (the call, not the bytes, is what costs).
const RANDOM_POOL: usize = 4096;

/// How long after its flush's deadline a lease still protects a batch.
const LEASE_GRACE_MS: u64 = 2_000;
/// A timer that has not fired this long after it was due is taken as lost
/// (its request context ended without `waitUntil`) and armed again.
const TIMER_GRACE_MS: u64 = 1_000;

/// The Intempt client, generic over the outside world.
///
/// It is single-threaded but shared: calls arrive while flushes await the
/// network. Several flushes may run at once; each takes whole batches and
/// awaits only its own requests (what Cloudflare Workers require of a client
/// shared by concurrent requests), waits for batches in flight elsewhere by
/// polling its own timer, and takes back a batch whose flush never returned
/// once its lease (that flush's deadline plus a grace) has passed: delivery
/// is at-least-once.
///
/// On wasm32, `EdgeClient` wraps it with the host's `fetch`, timers and
/// crypto; elsewhere, bring your own [`Transport`], [`Clock`] and [`Random`]:
///
/// ```
/// use std::future::{ready, Future};
/// use std::task::{Context, Poll, Waker};
/// use intempt_edge::{Client, Clock, Config, Event, Random, Request, Response, Transport, TransportError};
///
/// struct Accepts; // a server that accepts everything
/// impl Transport for Accepts {
///     fn send(&self, _: Request) -> impl Future<Output = Result<Response, TransportError>> {
///         ready(Ok(Response { status: 201, retry_after: None, body: String::new() }))
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
/// let mut flush = std::pin::pin!(client.flush());
/// let Poll::Ready(report) = flush.as_mut().poll(&mut Context::from_waker(Waker::noop())) else {
///     unreachable!()
/// };
/// assert_eq!((report.delivered, report.pending, report.requests), (1, 0, 1));
/// # Ok::<(), intempt_edge::Error>(())
/// ```
pub struct Client<T, C, R> {
    config: Config,
    urls: Urls,
    headers: Vec<(&'static str, String)>,
    policy: RetryPolicy,
    transport: T,
    clock: C,
    random: R,
    state: RefCell<State>,
    logger: Option<Logger>,
}

impl<T: Transport, C: Clock, R: Random> Client<T, C, R> {
    /// Makes a client. No I/O, timer or randomness happens here, so a client
    /// can be created at module scope on Cloudflare Workers.
    pub fn new(config: Config, transport: T, clock: C, random: R) -> Self {
        Client {
            urls: Urls::new(&config),
            headers: wire::headers(&config),
            policy: RetryPolicy::default(),
            config,
            transport,
            clock,
            random,
            state: RefCell::new(State {
                queue: Queue::default(),
                in_flight: Vec::new(),
                in_flight_events: 0,
                next_batch: 0,
                next_seq: 0,
                split_limit: None,
                pause: Pause::default(),
                latency: Latency::default(),
                waiters: Vec::new(),
                settled: 0,
                next_waiter: 0,
                timer_due: None,
                background_flushes: 0,
                background_requested_until: None,
                opted_out: false,
                closed: false,
                random_pool: Box::new([0; RANDOM_POOL]),
                random_used: RANDOM_POOL,
                totals: Stats::default(),
            }),
            logger: None,
        }
    }

    /// Sends one line per request and outcome (and per flush) to `logger`.
    /// Lines carry no API key: URLs are logged without their query.
    pub fn with_logger(mut self, logger: impl Fn(&str) + 'static) -> Self {
        self.logger = Some(Box::new(logger));
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
    /// arrange (a timer or a background flush).
    ///
    /// Errors: [`ErrorCode::Closed`], [`ErrorCode::EventTooLarge`],
    /// [`ErrorCode::QueueFull`]. Nothing queued is affected by an error.
    /// While opted out, the event is counted and not recorded.
    pub fn enqueue(&self, event: &Event) -> Result<Trigger, Error> {
        let now = self.clock.now_ms();
        let mut state = self.state.borrow_mut();
        if state.closed {
            return Err(closed());
        }
        if state.opted_out {
            state.totals.opted_out += 1;
            return Ok(Trigger::None);
        }
        let limit = self.config.max_queue_events as usize;
        if state.queue.len() + state.in_flight_events >= limit {
            return Err(Error::new(
                ErrorCode::QueueFull,
                format!("the queue holds {limit} undelivered events (option maxQueueSize); call flush() and retry, or raise the limit"),
            ));
        }
        let event_id = wire::uuid_v4(state.random_16(&self.random));
        // The bytes are ASCII hex and dashes.
        let event_id = std::str::from_utf8(&event_id).unwrap_or_default();
        let mut json = String::with_capacity(wire::entry_capacity(event));
        wire::write_track_entry(&mut json, event, event_id, now);
        let max = self.config.max_event_bytes as usize;
        if json.len() > max {
            return Err(Error::new(
                ErrorCode::EventTooLarge,
                format!("the event is {} bytes as JSON; the limit is {max} (option maxEventBytes): send fewer or smaller properties", json.len()),
            ));
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
        let flush_coming = state.background_flushes > 0
            || state
                .background_requested_until
                .is_some_and(|until| now <= until);
        if full && !flush_coming {
            state.background_requested_until =
                Some(now + u64::from(self.config.flush_deadline_ms) + LEASE_GRACE_MS);
            return Ok(Trigger::FlushNow);
        }
        let timer_alive = state
            .timer_due
            .is_some_and(|due| now <= due + TIMER_GRACE_MS);
        if !timer_alive && !full {
            state.timer_due = Some(now + u64::from(self.config.batch_time_ms));
            return Ok(Trigger::ArmTimer(self.config.batch_time_ms));
        }
        Ok(Trigger::None)
    }

    /// Tells the client that the timer it asked for has fired (before the
    /// caller starts the timer's flush).
    pub fn timer_fired(&self) {
        self.state.borrow_mut().timer_due = None;
    }

    /// Sends everything queued — including what is recorded while it runs —
    /// waits for batches other flushes have in flight, and returns within the
    /// flush deadline with a report of what this call did. Never fails.
    ///
    /// During a `Retry-After` pause it waits for the pause to end (at most
    /// until its deadline) rather than returning at once, and it starts a
    /// request only when the request can finish before the deadline (judged
    /// from recent response times); otherwise the batch stays queued.
    pub async fn flush(&self) -> FlushReport {
        self.run_flush(false).await
    }

    /// [`flush`](Client::flush) started by a timer or a full batch rather than
    /// by the caller; while one runs, full batches do not start another.
    /// `detached`: nothing awaits it (no `waitUntil`), so its waits and
    /// requests are marked not to keep the host process alive.
    pub async fn background_flush(&self, detached: bool) -> FlushReport {
        {
            let mut state = self.state.borrow_mut();
            state.background_flushes += 1;
            state.background_requested_until = None;
        }
        let report = self.run_flush(detached).await;
        self.state.borrow_mut().background_flushes -= 1;
        report
    }

    /// The flush loop: each turn waits out a pause, sends one batch, or waits
    /// for batches in flight elsewhere, until nothing is left or the deadline.
    async fn run_flush(&self, detached: bool) -> FlushReport {
        let start = self.clock.now_ms();
        let deadline = start + u64::from(self.config.flush_deadline_ms);
        let mut run = FlushRun::default();
        loop {
            let now = self.clock.now_ms();
            let step = self.next_step(now, deadline);
            match step {
                Step::Done => break,
                Step::OutOfTime => {
                    run.report.timed_out = true;
                    break;
                }
                Step::Pause { until } => self.sleep(until.min(deadline) - now, detached).await,
                Step::WaitForOthers { until } => {
                    self.wait_for_settled(until.min(deadline) - now, detached)
                        .await
                }
                Step::Send { id, len, body } => {
                    match self
                        .send_batch(id, len, body, deadline, detached, &mut run)
                        .await
                    {
                        BatchEnd::Settled => {}
                        BatchEnd::OutOfTime => {
                            run.report.timed_out = true;
                            break;
                        }
                        BatchEnd::Stop => break,
                    }
                }
            }
        }
        self.finish(run, start)
    }

    /// What a flush does next, at `now`.
    fn next_step(&self, now: u64, deadline: u64) -> Step {
        if now >= deadline {
            return if self.state.borrow().has_undelivered() {
                Step::OutOfTime
            } else {
                Step::Done
            };
        }
        self.reclaim_expired_leases(now);
        let state = self.state.borrow();
        if state.queue.len() > 0 {
            // A pause the server asked for holds across flushes: wait for
            // its end, at most until this flush's deadline.
            if let Some(until) = state.pause.running(now) {
                return Step::Pause { until };
            }
            if deadline - now < self.needed_ms(&state) {
                return Step::OutOfTime;
            }
            drop(state);
            if let Some((id, len, body)) = self.take_batch(deadline) {
                return Step::Send { id, len, body };
            }
            return Step::Done;
        }
        // Batches in flight elsewhere: wait until one settles (or its lease
        // ends), never on another flush's promise.
        match state.in_flight.iter().map(|b| b.lease_until).min() {
            Some(until) => Step::WaitForOthers { until },
            None => Step::Done,
        }
    }

    /// Sends one batch, and resends the same bytes, until it is delivered,
    /// dropped, split or kept, or too little time is left to try again.
    async fn send_batch(
        &self,
        batch_id: u64,
        len: usize,
        body: String,
        deadline: u64,
        detached: bool,
        run: &mut FlushRun,
    ) -> BatchEnd {
        let timeout_cap = self.request_timeout_ms();
        let mut failures = 0;
        loop {
            let now = self.clock.now_ms();
            let request = Request {
                url: self.urls.track.clone(),
                headers: self.headers.clone(),
                body: body.clone(),
                timeout_ms: (deadline.saturating_sub(now)).min(timeout_cap) as u32,
                detached,
            };
            run.report.requests += 1;
            let (sent_at, bytes, timeout) = (now, request.body.len(), request.timeout_ms);
            let result = self.transport.send(request).await;
            let now = self.clock.now_ms();
            self.observe_latency(&result, now - sent_at, timeout);
            failures += 1;
            let next = self.settle(batch_id, len, &result, failures, now, run);
            self.log(|| {
                let then = match next {
                    Next::RetryIn(ms) => format!("; retrying in {ms} ms"),
                    Next::Keep => "; kept queued".to_owned(),
                    Next::Done => String::new(),
                };
                format!(
                    "POST {} ({len} events, {bytes} bytes) -> {} in {} ms{then}",
                    redact(&self.urls.track),
                    outcome_line(&result),
                    now - sent_at
                )
            });
            let wait = match next {
                Next::Done => return BatchEnd::Settled,
                Next::Keep => return BatchEnd::Stop,
                Next::RetryIn(wait) => wait,
            };
            // Retry only if the wait and the request both fit before the deadline.
            let needed = self.needed_ms(&self.state.borrow());
            if now + wait + needed > deadline {
                self.give_back(batch_id);
                return BatchEnd::OutOfTime;
            }
            self.sleep(wait, detached).await;
            run.report.retries += 1;
        }
    }

    /// Counts what is left and turns the bookkeeping into the report.
    fn finish(&self, mut run: FlushRun, start: u64) -> FlushReport {
        let state = self.state.borrow();
        run.report.pending = (state.queue.len() + state.in_flight_events) as u32;
        if !run.failed.is_empty() {
            // Failed means "still undelivered": another flush may have
            // delivered some of them since.
            let undelivered = state.undelivered();
            run.failed.retain(|seq| undelivered.contains(seq));
        }
        run.report.failed = run.failed.len() as u32;
        drop(state);
        let report = run.finish();
        self.log(|| {
            format!(
                "flush: delivered {}, failed {}, dropped {}, pending {}, {} requests in {} ms{}",
                report.delivered,
                report.failed,
                report.dropped,
                report.pending,
                report.requests,
                self.clock.now_ms() - start,
                if report.timed_out {
                    " (deadline reached)"
                } else {
                    ""
                }
            )
        });
        report
    }

    /// A wait inside a flush; `detached` ones do not hold the host process.
    async fn sleep(&self, ms: u64, detached: bool) {
        if detached {
            self.clock.sleep_detached(ms).await
        } else {
            self.clock.sleep(ms).await
        }
    }

    /// Waits until a batch in flight settles (delivered, dropped, given
    /// back), an event is queued, or `ms` pass, whichever comes first.
    async fn wait_for_settled(&self, ms: u64, detached: bool) {
        let mut sleep = pin!(self.sleep(ms, detached));
        let mut settled = pin!(Settled::new(&self.state));
        poll_fn(|cx| {
            if settled.as_mut().poll(cx).is_ready() || sleep.as_mut().poll(cx).is_ready() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// The longest a tracking request may take.
    fn request_timeout_ms(&self) -> u64 {
        u64::from(
            self.config
                .request_timeout_ms
                .min(self.config.flush_deadline_ms),
        )
    }

    /// How much time a request needs left before the deadline to be started.
    fn needed_ms(&self, state: &State) -> u64 {
        state.latency.needed_ms(self.request_timeout_ms())
    }

    fn observe_latency(&self, result: &Result<Response, TransportError>, took: u64, timeout: u32) {
        let sample = match result {
            Ok(_) => took,
            // A timeout says only "slower than this": assume the worst.
            Err(TransportError::Timeout) => self.request_timeout_ms().max(u64::from(timeout)),
            Err(_) => return,
        };
        self.state.borrow_mut().latency.observe(sample);
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

    /// Whether tracking is stopped by [`opt_out`](Client::opt_out).
    pub fn is_opted_out(&self) -> bool {
        self.state.borrow().opted_out
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

    /// Sends a consent at once (not queued, not blocked by opt-out).
    pub async fn consent(&self, consent: &Consent) -> Result<(), Error> {
        let body = wire::consent_body(&self.config, consent, self.clock.now_ms());
        self.send_now(&self.urls.consents, body).await.map(drop)
    }

    /// Asks for experiments or personalizations and returns the `choices`
    /// array as the JSON text the server sent.
    pub async fn choose(&self, choose: &Choose) -> Result<String, Error> {
        let body = wire::choose_body(&self.config, choose);
        let response = self.send_now(&self.urls.choose, body).await?;
        match crate::json::top_level_field(&response.body, "choices") {
            Some(choices) if choices.starts_with('[') => Ok(choices.to_owned()),
            _ => Err(Error::http(
                response.status,
                "the server's answer has no choices array",
            )),
        }
    }

    /// One call on the caller's request path: a short timeout, at most one
    /// retry, and a clear error to fall back on.
    async fn send_now(&self, url: &str, body: String) -> Result<Response, Error> {
        if self.state.borrow().closed {
            return Err(closed());
        }
        let mut failures = 0;
        loop {
            let request = Request {
                url: url.to_owned(),
                headers: self.headers.clone(),
                body: body.clone(),
                timeout_ms: self.config.choose_timeout_ms,
                detached: false,
            };
            let sent_at = self.clock.now_ms();
            let result = self.transport.send(request).await;
            self.log(|| {
                let elapsed = self.clock.now_ms() - sent_at;
                format!(
                    "POST {} -> {} in {elapsed} ms",
                    redact(url),
                    outcome_line(&result)
                )
            });
            failures += 1;
            let decision = self.policy.decide(
                attempt_of(&result),
                failures,
                1,
                self.clock.now_ms(),
                self.random_u32(),
            );
            match (decision, result) {
                (Decision::Delivered, Ok(response)) => return Ok(response),
                (Decision::Retry { after_ms }, _) if failures < 2 && after_ms <= 1_000 => {
                    self.clock.sleep(after_ms).await;
                }
                (Decision::Keep, Ok(response)) => {
                    let (_, message) = outcome_text(&Ok(response.clone()));
                    return Err(Error::http(response.status, message));
                }
                (_, Ok(response)) => {
                    let message = match wire::error_message(&response.body) {
                        Some(m) => format!("the server answered {}: {m}", response.status),
                        None => format!("the server answered {}", response.status),
                    };
                    return Err(Error::http(response.status, message));
                }
                (_, Err(error)) => {
                    return Err(Error::new(ErrorCode::NetworkError, describe(&error)))
                }
            }
        }
    }

    /// Puts batches whose lease ended (their flush never came back) back at
    /// the front of the queue.
    fn reclaim_expired_leases(&self, now: u64) {
        let mut state = self.state.borrow_mut();
        let mut reclaimed = false;
        while let Some(i) = state.in_flight.iter().position(|b| b.lease_until <= now) {
            let batch = state.in_flight.swap_remove(i);
            state.in_flight_events -= batch.entries.len();
            state.queue.push_front_all(batch.entries);
            reclaimed = true;
        }
        if reclaimed {
            state.wake_waiters();
        }
    }

    /// Takes the next batch into flight.
    fn take_batch(&self, deadline: u64) -> Option<(u64, usize, String)> {
        let mut state = self.state.borrow_mut();
        let max_events = state
            .split_limit
            .unwrap_or(usize::MAX)
            .min(self.config.max_batch_size as usize);
        let entries = state
            .queue
            .take_batch(max_events, self.config.max_batch_bytes as usize);
        if entries.is_empty() {
            return None;
        }
        let body = batch::body(&entries);
        let id = state.next_batch;
        state.next_batch += 1;
        state.in_flight_events += entries.len();
        let len = entries.len();
        state.in_flight.push(InFlight {
            id,
            entries,
            lease_until: deadline + LEASE_GRACE_MS,
        });
        Some((id, len, body))
    }

    /// Puts a batch back at the front of the queue; `None` if its lease was
    /// taken over meanwhile (another flush owns those events now).
    fn give_back(&self, batch_id: u64) -> Option<Vec<u64>> {
        let mut state = self.state.borrow_mut();
        let batch = state.remove_in_flight(batch_id)?;
        state.in_flight_events -= batch.entries.len();
        let seqs = batch.entries.iter().map(|e| e.seq).collect();
        state.queue.push_front_all(batch.entries);
        state.wake_waiters();
        Some(seqs)
    }

    /// Removes a batch from flight for good; returns its sequence numbers.
    fn retire(&self, batch_id: u64) -> Option<Vec<u64>> {
        let mut state = self.state.borrow_mut();
        let batch = state.remove_in_flight(batch_id)?;
        state.in_flight_events -= batch.entries.len();
        state.wake_waiters();
        Some(batch.entries.iter().map(|e| e.seq).collect())
    }

    /// Applies the retry policy to one attempt: whether this flush resends
    /// the batch (after a wait), is done with it (delivered, dropped, split
    /// back into the queue, or taken over by another flush after its lease),
    /// or keeps it queued and stops (a redirect).
    fn settle(
        &self,
        batch_id: u64,
        len: usize,
        result: &Result<Response, TransportError>,
        failures: u32,
        now: u64,
        run: &mut FlushRun,
    ) -> Next {
        self.settle_inner(batch_id, len, result, failures, now, run)
            .unwrap_or(Next::Done)
    }

    fn settle_inner(
        &self,
        batch_id: u64,
        len: usize,
        result: &Result<Response, TransportError>,
        failures: u32,
        now: u64,
        run: &mut FlushRun,
    ) -> Option<Next> {
        let decision =
            self.policy
                .decide(attempt_of(result), failures, len, now, self.random_u32());
        let (status, message) = outcome_text(result);
        match decision {
            Decision::Delivered => {
                // A lease taken over meanwhile means another flush resends
                // these events: count them there, not twice.
                let seqs = self.retire(batch_id)?;
                let mut state = self.state.borrow_mut();
                state.totals.delivered += seqs.len() as u64;
                if state.split_limit.is_some_and(|limit| len >= limit) {
                    state.split_limit = None;
                }
                drop(state);
                run.report.delivered += seqs.len() as u32;
                for seq in seqs {
                    run.failed.remove(&seq);
                }
                Some(Next::Done)
            }
            Decision::Drop => {
                let seqs = self.retire(batch_id)?;
                self.state.borrow_mut().totals.dropped += seqs.len() as u64;
                run.report.dropped += seqs.len() as u32;
                run.add_reason(Fate::Dropped, status, message, &seqs);
                for seq in seqs {
                    run.failed.remove(&seq);
                }
                Some(Next::Done)
            }
            Decision::Split => {
                self.give_back(batch_id)?;
                self.state.borrow_mut().split_limit = Some(len.div_ceil(2));
                Some(Next::Done)
            }
            Decision::Keep => {
                let seqs = self.give_back(batch_id)?;
                run.add_reason(Fate::Failed, status, message, &seqs);
                run.failed.extend(seqs);
                Some(Next::Keep)
            }
            Decision::Retry { after_ms } => {
                if matches!(
                    result,
                    Ok(Response {
                        retry_after: Some(_),
                        ..
                    })
                ) {
                    self.state.borrow_mut().pause.extend(now + after_ms);
                }
                let seqs = self.in_flight_seqs(batch_id)?;
                run.add_reason(Fate::Failed, status, message, &seqs);
                run.failed.extend(seqs);
                Some(Next::RetryIn(after_ms))
            }
        }
    }

    /// The sequence numbers of a batch still held by its flush.
    fn in_flight_seqs(&self, batch_id: u64) -> Option<Vec<u64>> {
        let state = self.state.borrow();
        let batch = state.in_flight.iter().find(|b| b.id == batch_id)?;
        Some(batch.entries.iter().map(|e| e.seq).collect())
    }

    fn random_u32(&self) -> u32 {
        let bytes = self.state.borrow_mut().random_16(&self.random);
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }
}

impl State {
    /// Whether any event is queued or in flight.
    fn has_undelivered(&self) -> bool {
        self.queue.len() > 0 || !self.in_flight.is_empty()
    }

    /// Tells the flushes waiting in [`Client::wait_for_settled`] to look again.
    fn wake_waiters(&mut self) {
        self.settled += 1;
        for (_, waker) in self.waiters.drain(..) {
            // Wakers only schedule a poll; none runs code of ours here.
            waker.wake();
        }
    }

    /// Takes a batch out of flight; `None` if its lease was taken over.
    fn remove_in_flight(&mut self, batch_id: u64) -> Option<InFlight> {
        let i = self.in_flight.iter().position(|b| b.id == batch_id)?;
        Some(self.in_flight.swap_remove(i))
    }

    /// Sequence numbers of every event not yet delivered or dropped.
    fn undelivered(&self) -> HashSet<u64> {
        let queued = self.queue.seqs();
        let in_flight = self
            .in_flight
            .iter()
            .flat_map(|b| b.entries.iter().map(|e| e.seq));
        queued.chain(in_flight).collect()
    }

    /// 16 random bytes from a pool refilled [`RANDOM_POOL`] bytes at a time.
    fn random_16(&mut self, random: &impl Random) -> [u8; 16] {
        if self.random_used + 16 > self.random_pool.len() {
            random.fill(&mut self.random_pool[..]);
            self.random_used = 0;
        }
        let mut out = [0; 16];
        out.copy_from_slice(&self.random_pool[self.random_used..self.random_used + 16]);
        self.random_used += 16;
        out
    }
}

/// One turn of the flush loop.
enum Step {
    /// Nothing left: queue empty, nothing in flight.
    Done,
    /// The deadline came, or too little of it is left to start a request.
    OutOfTime,
    /// The server asked for a pause; it ends at `until`.
    Pause { until: u64 },
    /// Batches are in flight elsewhere; the first lease ends at `until`.
    WaitForOthers { until: u64 },
    /// A batch taken into flight by this flush.
    Send { id: u64, len: usize, body: String },
}

/// How [`Client::send_batch`] ended.
enum BatchEnd {
    /// The batch is delivered, dropped, split or taken over: go on.
    Settled,
    /// Given back: not enough time left for another attempt.
    OutOfTime,
    /// Kept queued after a redirect: this flush ends.
    Stop,
}

/// What a flush does with a batch after one attempt.
#[derive(Clone, Copy)]
enum Next {
    Done,
    RetryIn(u64),
    Keep,
}

/// Completes when the client's state says a batch settled or an event was
/// queued since it was made (the waiting flush then looks again). The waker
/// is registered under the future's own id and removed when it is dropped,
/// so many waiters cost one entry each, however often they are polled.
struct Settled<'a> {
    state: &'a RefCell<State>,
    seen: u64,
    id: u64,
}

impl<'a> Settled<'a> {
    fn new(state: &'a RefCell<State>) -> Settled<'a> {
        let mut s = state.borrow_mut();
        let id = s.next_waiter;
        s.next_waiter += 1;
        Settled {
            state,
            seen: s.settled,
            id,
        }
    }
}

impl Future for Settled<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.settled != self.seen {
            return Poll::Ready(());
        }
        let waker = cx.waker();
        match state.waiters.iter_mut().find(|(id, _)| *id == self.id) {
            Some((_, w)) => w.clone_from(waker),
            None => state.waiters.push((self.id, waker.clone())),
        }
        Poll::Pending
    }
}

impl Drop for Settled<'_> {
    fn drop(&mut self) {
        let id = self.id;
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.waiters.retain(|(w, _)| *w != id);
        }
    }
}

/// The bookkeeping of one flush call.
#[derive(Default)]
struct FlushRun {
    report: FlushReport,
    /// Events that failed during this flush and are not delivered or dropped since.
    failed: HashSet<u64>,
    /// The events behind each reason (an event retried for the same reason
    /// counts once); few distinct reasons, so a Vec.
    reasons: Vec<(Fate, Option<u16>, String, HashSet<u64>)>,
}

impl FlushRun {
    fn add_reason(&mut self, fate: Fate, status: Option<u16>, message: String, seqs: &[u64]) {
        let found = self
            .reasons
            .iter_mut()
            .find(|(f, s, m, _)| *f == fate && *s == status && *m == message);
        match found {
            Some((_, _, _, events)) => events.extend(seqs.iter().copied()),
            None => self
                .reasons
                .push((fate, status, message, seqs.iter().copied().collect())),
        }
    }

    /// The report, with failure reasons limited to events still undelivered.
    fn finish(mut self) -> FlushReport {
        let failed = &self.failed;
        self.report.reasons = self
            .reasons
            .into_iter()
            .filter_map(|(fate, status, message, seqs)| {
                let events = match fate {
                    Fate::Failed => seqs.iter().filter(|seq| failed.contains(seq)).count(),
                    Fate::Dropped => seqs.len(),
                };
                (events > 0).then_some(Reason {
                    fate,
                    status,
                    message,
                    events: events as u32,
                })
            })
            .collect();
        self.report
    }
}

fn attempt_of(result: &Result<Response, TransportError>) -> Attempt<'_> {
    match result {
        Ok(response) => Attempt::Status {
            status: response.status,
            retry_after: response.retry_after.as_deref(),
        },
        Err(TransportError::Timeout) => Attempt::Timeout,
        Err(TransportError::Network(_)) => Attempt::Network,
        Err(TransportError::Redirected) => Attempt::Redirected,
    }
}

/// A URL without its query (where query-mode authentication puts the key).
fn redact(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// One outcome for a log line: `HTTP 503: message`, `HTTP 201`, `the request timed out`.
fn outcome_line(result: &Result<Response, TransportError>) -> String {
    match outcome_text(result) {
        (Some(status), message) if !message.starts_with("HTTP ") => {
            format!("HTTP {status}: {message}")
        }
        (_, message) => message,
    }
}

fn outcome_text(result: &Result<Response, TransportError>) -> (Option<u16>, String) {
    match result {
        Ok(response) if (200..300).contains(&response.status) => {
            (Some(response.status), format!("HTTP {}", response.status))
        }
        Ok(response) if (300..400).contains(&response.status) => (
            Some(response.status),
            format!(
                "HTTP {}: a redirect, not followed (a redirected POST does not reach the API); set endpoint to the URL the API answers at",
                response.status
            ),
        ),
        Ok(response) => {
            let message = wire::error_message(&response.body)
                .unwrap_or_else(|| format!("HTTP {}", response.status));
            (Some(response.status), message)
        }
        Err(error) => (None, describe(error)),
    }
}

fn describe(error: &TransportError) -> String {
    match error {
        TransportError::Timeout => "the request timed out".to_owned(),
        TransportError::Network(why) => format!("network error: {why}"),
        TransportError::Redirected => "the fetch followed a redirect although asked not to; nothing reached the API: set endpoint to the URL the API answers at, and use a fetch that honours redirect: \"manual\"".to_owned(),
    }
}

fn closed() -> Error {
    Error::new(
        ErrorCode::Closed,
        "the client was closed with close(); create a new SDK instance to send more",
    )
}
