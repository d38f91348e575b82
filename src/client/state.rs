//! The client's shared state: the queue, the batches in flight with their
//! leases, the server's pause, recent latencies, and the pool of random
//! bytes; and [`Settled`], which wakes a flush waiting for batches in flight
//! elsewhere (the concurrency model is in the `client` module docs).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::run::SeqSet;
use super::triggers::Triggers;
use crate::batch::{self, Entry, Queue};
use crate::ports::Random;
use crate::report::Stats;
use crate::retry::{Latency, Pause};

/// Random bytes fetched from the host at a time: one call into its crypto
/// per 256 events (the call, not the bytes, is what costs).
const RANDOM_POOL: usize = 4096;

/// How long after its flush's deadline a lease still protects a batch.
pub(super) const LEASE_GRACE_MS: u64 = 2_000;
/// On hosts with request contexts, how often a flush that waits for batches
/// in flight elsewhere (or for a free request slot) looks again, on its own
/// timer: also the most it can end later than the last batch it waited for.
pub(super) const WAIT_POLL_MS: u64 = 25;

/// A batch that a flush took off the queue.
struct InFlight {
    id: u64,
    entries: Vec<Entry>,
    lease_until: u64,
}

/// A batch taken into flight: its id, its number of events and its body.
pub(super) struct Taken {
    pub id: u64,
    pub len: usize,
    pub body: String,
}

#[derive(Default)]
pub(super) struct State {
    pub queue: Queue,
    /// A handful of batches at most (one per running flush): a Vec is enough.
    in_flight: Vec<InFlight>,
    pub in_flight_events: usize,
    next_batch: u64,
    pub next_seq: u64,
    /// Set after a 413: the next batches hold at most this many events.
    pub split_limit: Option<usize>,
    /// The server asked (`Retry-After`) for no tracking requests before its end.
    pub pause: Pause,
    /// Recent response times: whether a request can finish before a deadline.
    pub latency: Latency,
    /// Flushes waiting for batches in flight elsewhere, woken when one
    /// settles or an event is queued (see [`Settled`]).
    waiters: Vec<(u64, Waker)>,
    /// Bumped at every such change; a waiter compares it with what it saw.
    settled: u64,
    next_waiter: u64,
    /// The timer and the background flushes asked for and running.
    pub triggers: Triggers,
    pub opted_out: bool,
    pub closed: bool,
    /// The `before_send` hook is running: a call it makes records its
    /// event without calling the hook again.
    pub in_hook: bool,
    /// Made on the first event: an idle client holds no pool.
    random_pool: Vec<u8>,
    random_used: usize,
    pub totals: Stats,
}

impl State {
    /// Tells the flushes waiting on [`Settled`] to look again.
    pub fn wake_waiters(&mut self) {
        self.settled += 1;
        for (_, waker) in self.waiters.drain(..) {
            // Wakers only schedule a poll; none runs code of ours here.
            waker.wake();
        }
    }

    /// Whether any event recorded before sequence number `seq` is still
    /// queued or in flight.
    pub fn has_undelivered_before(&self, seq: u64) -> bool {
        self.queue.seqs().any(|s| s < seq)
            || self
                .in_flight
                .iter()
                .any(|b| b.entries.iter().any(|e| e.seq < seq))
    }

    /// When the first lease of a batch in flight ends, if any is in flight.
    pub fn first_lease_end(&self) -> Option<u64> {
        self.in_flight.iter().map(|b| b.lease_until).min()
    }

    /// How many batches are in flight, across every flush.
    pub fn batches_in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Takes the next batch (at most `max_events`, and fewer after a 413,
    /// and at most `max_bytes` of body) into flight until `lease_until`.
    pub fn take_batch(
        &mut self,
        max_events: usize,
        max_bytes: usize,
        lease_until: u64,
    ) -> Option<Taken> {
        let max_events = self.split_limit.unwrap_or(usize::MAX).min(max_events);
        let entries = self.queue.take_batch(max_events, max_bytes);
        if entries.is_empty() {
            return None;
        }
        let body = batch::body(&entries);
        let id = self.next_batch;
        self.next_batch += 1;
        self.in_flight_events += entries.len();
        let len = entries.len();
        self.in_flight.push(InFlight {
            id,
            entries,
            lease_until,
        });
        Some(Taken { id, len, body })
    }

    /// Puts batches whose lease ended (their flush never came back) back at
    /// the front of the queue.
    pub fn reclaim_expired_leases(&mut self, now: u64) {
        let mut reclaimed = false;
        while let Some(i) = self.in_flight.iter().position(|b| b.lease_until <= now) {
            let batch = self.in_flight.swap_remove(i);
            self.in_flight_events -= batch.entries.len();
            self.queue.push_front_all(batch.entries);
            reclaimed = true;
        }
        if reclaimed {
            self.wake_waiters();
        }
    }

    /// Puts a batch back at the front of the queue; `None` if its lease was
    /// taken over meanwhile (another flush owns those events now).
    pub fn give_back(&mut self, batch_id: u64) -> Option<Vec<u64>> {
        let batch = self.remove_in_flight(batch_id)?;
        self.in_flight_events -= batch.entries.len();
        let seqs = batch.entries.iter().map(|e| e.seq).collect();
        self.queue.push_front_all(batch.entries);
        self.wake_waiters();
        Some(seqs)
    }

    /// Removes a batch from flight for good; returns its sequence numbers.
    pub fn retire(&mut self, batch_id: u64) -> Option<Vec<u64>> {
        let batch = self.remove_in_flight(batch_id)?;
        self.in_flight_events -= batch.entries.len();
        self.wake_waiters();
        Some(batch.entries.iter().map(|e| e.seq).collect())
    }

    /// The sequence numbers of a batch still held by its flush.
    pub fn in_flight_seqs(&self, batch_id: u64) -> Option<Vec<u64>> {
        let batch = self.in_flight.iter().find(|b| b.id == batch_id)?;
        Some(batch.entries.iter().map(|e| e.seq).collect())
    }

    /// Takes a batch out of flight; `None` if its lease was taken over.
    fn remove_in_flight(&mut self, batch_id: u64) -> Option<InFlight> {
        let i = self.in_flight.iter().position(|b| b.id == batch_id)?;
        Some(self.in_flight.swap_remove(i))
    }

    /// Sequence numbers of every event not yet delivered or dropped.
    pub fn undelivered(&self) -> SeqSet {
        let queued = self.queue.seqs();
        let in_flight = self
            .in_flight
            .iter()
            .flat_map(|b| b.entries.iter().map(|e| e.seq));
        queued.chain(in_flight).collect()
    }

    /// 16 random bytes from a pool refilled [`RANDOM_POOL`] bytes at a time.
    pub fn random_16(&mut self, random: &impl Random) -> [u8; 16] {
        if self.random_used + 16 > self.random_pool.len() {
            if self.random_pool.is_empty() {
                self.random_pool = vec![0; RANDOM_POOL];
            }
            random.fill(&mut self.random_pool[..]);
            self.random_used = 0;
        }
        // `get` and `try_from` rather than indexing: no panic path (the
        // check above keeps the range inside the pool).
        let out = self
            .random_pool
            .get(self.random_used..self.random_used + 16)
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .unwrap_or_default();
        self.random_used += 16;
        out
    }
}

/// Completes when the client's state says a batch settled or an event was
/// queued since it was made (the waiting flush then looks again). The waker
/// is registered under the future's own id and removed when it is dropped,
/// so many waiters cost one entry each, however often they are polled.
pub(super) struct Settled<'a> {
    state: &'a RefCell<State>,
    seen: u64,
    id: u64,
}

impl<'a> Settled<'a> {
    pub fn new(state: &'a RefCell<State>) -> Settled<'a> {
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
