//! The triggers: when a recorded event needs a batch timer or a background
//! flush (a [`Trigger`] for the caller to arrange), and the background
//! flushes running now. Decisions only: the caller arms the timer or starts
//! the flush.

use super::state::LEASE_GRACE_MS;
use super::Trigger;

/// A timer that has not fired this long after it was due is taken as lost
/// (its request context ended without `waitUntil`) and armed again.
const TIMER_GRACE_MS: u64 = 1_000;

/// The timer asked for, the background flushes asked for and running.
#[derive(Default)]
pub(super) struct Triggers {
    /// When the batch timer asked for last is due (until it fires).
    timer_due: Option<u64>,
    /// Background flushes running now.
    background_flushes: u32,
    /// Of those, the ones nothing awaits (no `waitUntil`): their waits do
    /// not keep a process alive.
    detached_flushes: u32,
    /// A background flush was asked for ([`Trigger::FlushNow`]) and no
    /// flush has started since (any flush takes the full batches, so any
    /// start clears it); until this time one is taken to be on its way.
    /// Without it, every call of a synchronous burst past a full batch would
    /// ask for another flush before the first one could start.
    background_requested_until: Option<u64>,
    /// A background flush ended with events recorded while it ran still
    /// queued: [`Triggers::follow_up`] arms a timer for them.
    follow_up_wanted: bool,
}

impl Triggers {
    /// An event was queued at `now`; `full`: a batch is full. A background
    /// flush if none is running or on its way, else a timer if none is
    /// alive and the batch is not full.
    pub(super) fn recorded(
        &mut self,
        now: u64,
        full: bool,
        batch_time_ms: u32,
        flush_deadline_ms: u32,
    ) -> Trigger {
        let flush_coming = self.background_flushes > 0 || self.requested(now);
        if full && !flush_coming {
            self.background_requested_until =
                Some(now + u64::from(flush_deadline_ms) + LEASE_GRACE_MS);
            return Trigger::FlushNow;
        }
        if !self.timer_alive(now) && !full {
            self.timer_due = Some(now + u64::from(batch_time_ms));
            return Trigger::ArmTimer(batch_time_ms);
        }
        Trigger::None
    }

    /// After a background flush ended: a timer for the events recorded
    /// while it ran, if it left some and nothing else covers them.
    pub(super) fn follow_up(&mut self, now: u64, batch_time_ms: u32) -> Trigger {
        let wanted = core::mem::take(&mut self.follow_up_wanted);
        if !wanted || self.background_flushes > 0 || self.timer_alive(now) || self.requested(now) {
            return Trigger::None;
        }
        self.timer_due = Some(now + u64::from(batch_time_ms));
        Trigger::ArmTimer(batch_time_ms)
    }

    /// The timer asked for has fired.
    pub(super) fn timer_fired(&mut self) {
        self.timer_due = None;
    }

    /// A flush started: it takes the full batches, so a requested
    /// background flush is no longer needed for them.
    pub(super) fn flush_started(&mut self) {
        self.background_requested_until = None;
    }

    /// A background flush starts; `detached`: nothing awaits it.
    pub(super) fn background_started(&mut self, detached: bool) {
        self.background_flushes += 1;
        self.detached_flushes += u32::from(detached);
    }

    /// A background flush ended; `left_later_events`: events recorded while
    /// it ran are still queued (they may have no trigger of their own).
    pub(super) fn background_ended(&mut self, detached: bool, left_later_events: bool) {
        self.background_flushes -= 1;
        self.detached_flushes -= u32::from(detached);
        if left_later_events {
            self.follow_up_wanted = true;
        }
    }

    /// Whether a background flush that nothing awaits is running.
    pub(super) fn detached_running(&self) -> bool {
        self.detached_flushes > 0
    }

    fn timer_alive(&self, now: u64) -> bool {
        self.timer_due
            .is_some_and(|due| now <= due + TIMER_GRACE_MS)
    }

    fn requested(&self, now: u64) -> bool {
        self.background_requested_until
            .is_some_and(|until| now <= until)
    }
}
