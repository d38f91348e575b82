//! What a flush reports ([`FlushReport`], [`Reason`], [`Fate`]) and the
//! client's lifetime counters ([`Stats`]). The accounting of one flush call
//! that turns into its report is the client's (`client::run`).

use alloc::string::String;
use alloc::vec::Vec;

/// Whether a reason is about events that stay queued or that are gone.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// Not delivered this time; still queued for the next flush.
    Failed,
    /// Refused for good and discarded.
    Dropped,
    /// Not delivered; handed to the outbox, which redelivers them.
    Stored,
}

/// Why some events were not delivered.
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// Events this flush could not deliver and handed to the outbox.
    pub stored: u32,
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
#[non_exhaustive]
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
    /// Events handed to the outbox.
    pub stored: u64,
    /// Events a `before_send` hook dropped on purpose (it returned `None`,
    /// or `null` in JavaScript).
    pub filtered: u64,
    /// Events dropped because the `before_send` hook failed: it returned
    /// an event that is too large (or, in JavaScript, threw, returned a
    /// promise or something that is not a valid event).
    pub filter_failed: u64,
}
