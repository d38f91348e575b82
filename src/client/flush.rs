//! The flush loop of a [`Client`]: each turn names its step (wait out a
//! pause, send one batch, wait for batches in flight elsewhere, stop), a
//! batch is sent and resent until the retry policy settles it, and the
//! run's accounting becomes the [`FlushReport`].

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use core::cell::RefCell;
use core::future::{poll_fn, Future};
use core::pin::{pin, Pin};
use core::task::Poll;

use super::run::{FlushRun, Why};
use super::state::{Settled, State, Taken, LEASE_GRACE_MS, WAIT_POLL_MS};
use super::warn;
use super::Client;
use crate::ports::{Clock, Random, Transport};
use crate::report::{Fate, FlushReport};
use crate::retry::Decision;
use crate::text::cat;
use crate::transport::{attempt_of, outcome_line, redact, Request, Response, TransportError};
use crate::wire;

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
    /// As many requests are in flight as the client allows, some of them
    /// this flush's: wait for one of those.
    Busy,
    /// A batch taken into flight by this flush.
    Send(Taken),
}

/// How [`Client::send_batch`] ended.
enum BatchEnd {
    /// The batch is delivered, dropped, split or taken over: go on.
    Settled,
    /// Given back: not enough time left for another attempt.
    OutOfTime,
    /// Kept queued after a redirect: this flush starts no other batch.
    Stop,
}

/// What a flush does with a batch after one attempt.
#[derive(Clone, Copy)]
enum Next {
    /// Delivered: done with it.
    Delivered,
    /// Split after a 413, its halves back in the queue: done with it.
    Split,
    /// Refused for good: done with it.
    Dropped,
    RetryIn(u64),
    Keep,
}

/// One batch's sends and resends, boxed so a flush can keep several going.
type Sending<'a> = Pin<Box<dyn Future<Output = BatchEnd> + 'a>>;

impl<T: Transport, C: Clock, R: Random> Client<T, C, R> {
    /// The flush loop: each turn starts batches (up to the client's
    /// `max_concurrent_requests` in flight), waits for one of its own to
    /// settle, waits out a pause, or waits for batches in flight elsewhere,
    /// until the events recorded before it started are settled (delivered,
    /// dropped or stored), or the deadline. After a batch runs out of time
    /// or is kept (a redirect), it starts no other and ends once its own
    /// batches have settled. If it failed to deliver, what is still queued
    /// goes to the outbox (when there is one) before the deadline.
    ///
    /// Its own events only: under a steady stream of requests on a shared
    /// client, a flush that waited for every later event too would rarely
    /// see the queue empty, and would end at its deadline (and, with an
    /// outbox, store healthy traffic). Later events have flushes or
    /// triggers of their own.
    pub(super) async fn run_flush(&self, detached: bool) -> FlushReport {
        let start = self.clock.now_ms();
        let mine = self.state.borrow().next_seq;
        let end = start + u64::from(self.config.flush_deadline_ms);
        // With an outbox, sending stops early enough to store what is left.
        let deadline = end - self.outbox_reserve_ms();
        // This flush takes the full batches: a requested background flush
        // is no longer needed for them, and the next full batch asks anew.
        self.state.borrow_mut().triggers.flush_started();
        let run = RefCell::new(FlushRun::default());
        let mut sending: Vec<Sending<'_>> = Vec::new();
        let mut stopped = false;
        loop {
            let now = self.clock.now_ms();
            let step = if stopped {
                Step::Busy
            } else {
                self.next_step(now, deadline, sending.len(), mine)
            };
            match step {
                Step::Send(batch) => {
                    sending.push(Box::pin(self.send_batch(batch, deadline, detached, &run)));
                    continue;
                }
                // Our own batches come first: whatever else this turn would
                // wait for, one of them settling is news.
                _ if !sending.is_empty() => {}
                Step::Done | Step::Busy => break,
                Step::OutOfTime => {
                    run.borrow_mut().report.timed_out = true;
                    break;
                }
                Step::Pause { until } => {
                    self.sleep(until.min(deadline) - now, detached).await;
                    continue;
                }
                Step::WaitForOthers { until } => {
                    self.look_again_in(until.min(deadline) - now, detached)
                        .await;
                    continue;
                }
            }
            match first_to_end(&mut sending).await {
                BatchEnd::Settled => {}
                BatchEnd::OutOfTime => {
                    run.borrow_mut().report.timed_out = true;
                    stopped = true;
                }
                BatchEnd::Stop => stopped = true,
            }
        }
        drop(sending);
        let failed = {
            let run = run.borrow();
            run.report.timed_out || !run.failed.is_empty()
        };
        if failed && self.outbox.is_some() {
            self.store_undelivered(end, detached, &run).await;
            // Batches that other flushes hold are stored by those flushes
            // at their deadline, no later than ours (they started first).
            // A background flush that nothing awaits (no waitUntil) does
            // not keep a process alive: an awaited flush does, until they settle,
            // and then stores what they gave back. (With a waitUntil, as on
            // Workers, they are kept alive, and waking a flush from another
            // request's context is what workerd cancels.)
            let unheld = !detached && self.state.borrow().triggers.detached_running();
            if unheld && self.wait_for_others(end, detached).await {
                self.store_undelivered(end, detached, &run).await;
            }
        }
        self.finish(run.into_inner(), start)
    }

    /// What a flush does next, at `now`, with `own` batches of its own in
    /// flight, for the events recorded before sequence number `mine`.
    fn next_step(&self, now: u64, deadline: u64, own: usize, mine: u64) -> Step {
        let mut state = self.state.borrow_mut();
        let mine_left = state.has_undelivered_before(mine);
        if now >= deadline {
            return if mine_left {
                Step::OutOfTime
            } else {
                Step::Done
            };
        }
        if !mine_left {
            // Its events are settled: it waits for its own requests (Busy
            // while any is in flight) and starts none for later events.
            return Step::Busy;
        }
        state.reclaim_expired_leases(now);
        if state.queue.len() > 0 {
            // A pause the server asked for holds across flushes: wait for
            // its end, at most until this flush's deadline.
            if let Some(until) = state.pause.running(now) {
                return Step::Pause { until };
            }
            if deadline - now < self.needed_ms(&state) {
                return Step::OutOfTime;
            }
            if state.batches_in_flight() >= self.config.max_concurrent_requests as usize {
                return match (own, state.first_lease_end()) {
                    (0, Some(until)) => Step::WaitForOthers { until },
                    _ => Step::Busy,
                };
            }
            let taken = state.take_batch(
                self.config.max_batch_size as usize,
                self.config.max_batch_bytes as usize,
                deadline + LEASE_GRACE_MS,
            );
            return taken.map_or(Step::Done, Step::Send);
        }
        // Its events are in flight elsewhere: wait until they settle (or
        // their lease ends), never on another flush's promise.
        match state.first_lease_end() {
            Some(until) => Step::WaitForOthers { until },
            None => Step::Done,
        }
    }

    /// Sends one batch, and resends the same bytes, until it is delivered,
    /// dropped, split or kept, or too little time is left to try again.
    async fn send_batch(
        &self,
        batch: Taken,
        deadline: u64,
        detached: bool,
        run: &RefCell<FlushRun>,
    ) -> BatchEnd {
        let Taken { id, len, body } = batch;
        let timeout_cap = self.request_timeout_ms();
        let mut failures = 0;
        loop {
            let now = self.clock.now_ms();
            let request = Request {
                url: self.track_url.clone(),
                headers: wire::headers(&self.config),
                body: body.clone(),
                timeout_ms: (deadline.saturating_sub(now)).min(timeout_cap) as u32,
                detached,
            };
            run.borrow_mut().report.requests += 1;
            let (sent_at, bytes, timeout) = (now, request.body.len(), request.timeout_ms);
            let result = self.transport.send(request).await;
            let now = self.clock.now_ms();
            self.observe_latency(&result, now - sent_at, timeout);
            failures += 1;
            // None: taken over by another flush, which reports it.
            let next = self.settle(id, len, &result, failures, now, &mut run.borrow_mut());
            self.log(|| {
                let then = match next {
                    Some(Next::RetryIn(ms)) => cat!("; retrying in ", ms, " ms"),
                    Some(Next::Keep) => "; kept queued".to_owned(),
                    _ => String::new(),
                };
                cat!(
                    "POST ",
                    redact(&self.track_url),
                    " (",
                    len,
                    " events, ",
                    bytes,
                    " bytes) -> ",
                    outcome_line(&result),
                    " in ",
                    now - sent_at,
                    " ms",
                    then
                )
            });
            let failed = |fate| {
                self.warner
                    .request(&self.clock, &self.track_url, len, &result, fate)
            };
            let wait = match next {
                None | Some(Next::Split) => return BatchEnd::Settled,
                Some(Next::Delivered) => {
                    self.warner.delivered(&self.track_url);
                    return BatchEnd::Settled;
                }
                Some(Next::Dropped) => {
                    failed(warn::Fate::Dropped);
                    return BatchEnd::Settled;
                }
                Some(Next::Keep) => {
                    failed(warn::Fate::Kept);
                    return BatchEnd::Stop;
                }
                Some(Next::RetryIn(wait)) => {
                    failed(warn::Fate::Retried);
                    wait
                }
            };
            // Retry only if the wait and the request both fit before the deadline.
            let needed = self.needed_ms(&self.state.borrow());
            if now + wait + needed > deadline {
                self.state.borrow_mut().give_back(id);
                return BatchEnd::OutOfTime;
            }
            self.sleep(wait, detached).await;
            run.borrow_mut().report.retries += 1;
        }
    }

    /// Applies the retry policy to one attempt: whether this flush resends
    /// the batch (after a wait), is done with it (delivered, dropped, split
    /// back into the queue), or keeps it queued and stops (a redirect).
    /// `None`: the batch's lease was taken over by another flush, which now
    /// owns (and counts) its events.
    fn settle(
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
        // What happened, as a reason's cause, status and text: made only
        // for the outcomes that report one (not for every delivered batch).
        let why = || Why::of(result);
        let mut state = self.state.borrow_mut();
        match decision {
            Decision::Delivered => {
                let seqs = state.retire(batch_id)?;
                state.totals.delivered += seqs.len() as u64;
                if state.split_limit.is_some_and(|limit| len >= limit) {
                    state.split_limit = None;
                }
                run.report.delivered += seqs.len() as u32;
                run.settled(&seqs);
                Some(Next::Delivered)
            }
            Decision::Drop => {
                let seqs = state.retire(batch_id)?;
                state.totals.dropped += seqs.len() as u64;
                run.report.dropped += seqs.len() as u32;
                run.add_reason(Fate::Dropped, why(), &seqs);
                run.settled(&seqs);
                Some(Next::Dropped)
            }
            Decision::Split => {
                state.give_back(batch_id)?;
                state.split_limit = Some(len.div_ceil(2));
                Some(Next::Split)
            }
            Decision::Keep => {
                let seqs = state.give_back(batch_id)?;
                run.add_reason(Fate::Failed, why(), &seqs);
                run.failed.extend(seqs);
                Some(Next::Keep)
            }
            Decision::Retry { after_ms } => {
                if matches!(result, Ok(response) if response.retry_after.is_some()) {
                    state.pause.extend(now + after_ms);
                }
                let seqs = state.in_flight_seqs(batch_id)?;
                run.add_reason(Fate::Failed, why(), &seqs);
                run.failed.extend(seqs);
                Some(Next::RetryIn(after_ms))
            }
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
            cat!(
                "flush: delivered ",
                report.delivered,
                ", failed ",
                report.failed,
                ", dropped ",
                report.dropped,
                ", pending ",
                report.pending,
                ", ",
                report.requests,
                " requests in ",
                self.clock.now_ms() - start,
                " ms",
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

    /// Waits before it looks again at batches in flight elsewhere, at most
    /// `ms` (when the first lease ends): woken when one settles or an event
    /// is queued, or, with request contexts, on a timer of its own every
    /// [`WAIT_POLL_MS`] (why: the concurrency model, in the module docs of
    /// `client`).
    async fn look_again_in(&self, ms: u64, detached: bool) {
        if self.request_contexts {
            return self.sleep(ms.clamp(1, WAIT_POLL_MS), detached).await;
        }
        let mut sleep = pin!(self.sleep(ms.max(1), detached));
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

    /// Waits until no batch is in flight (in other flushes) or `end`;
    /// whether there was any to wait for.
    async fn wait_for_others(&self, end: u64, detached: bool) -> bool {
        let mut waited = false;
        loop {
            let now = self.clock.now_ms();
            let Some(lease_end) = self.state.borrow().first_lease_end() else {
                return waited;
            };
            if now >= end {
                return waited;
            }
            waited = true;
            self.look_again_in(lease_end.min(end).saturating_sub(now), detached)
                .await;
            self.state
                .borrow_mut()
                .reclaim_expired_leases(self.clock.now_ms());
        }
    }

    /// The longest a tracking request may take.
    fn request_timeout_ms(&self) -> u64 {
        u64::from(
            self.config
                .request_timeout_ms
                .min(self.config.flush_deadline_ms),
        )
    }

    /// How much time a request needs left before the deadline to be started:
    /// the latency estimate, at most the request timeout and at most half
    /// the flush deadline. Without that last bound, a client that knows no
    /// latency yet and whose timeout equals its deadline would need the whole
    /// deadline, so a flush that lost one millisecond before its first
    /// request (or waited for a pause, or retried once) could never send.
    /// A request started with half the deadline left is never cut while
    /// answers take less than that.
    fn needed_ms(&self, state: &State) -> u64 {
        let half_deadline = u64::from(self.config.flush_deadline_ms / 2);
        state
            .latency
            .needed_ms(self.request_timeout_ms().min(half_deadline))
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
}

/// Waits until the first of `sending` ends, and removes it.
async fn first_to_end(sending: &mut Vec<Sending<'_>>) -> BatchEnd {
    poll_fn(|cx| {
        for i in 0..sending.len() {
            let Some(batch) = sending.get_mut(i) else {
                break;
            };
            if let Poll::Ready(end) = batch.as_mut().poll(cx) {
                // swap_remove without its panic path: the last one takes
                // slot i (or was slot i).
                if let Some(last) = sending.pop() {
                    if let Some(slot) = sending.get_mut(i) {
                        *slot = last;
                    }
                }
                return Poll::Ready(end);
            }
        }
        Poll::Pending
    })
    .await
}
