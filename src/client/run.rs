//! The accounting of one flush call (`FlushRun`): which events failed, for
//! which reasons, which were stored; it turns into the call's
//! [`FlushReport`].

use alloc::string::String;
use alloc::vec::Vec;

use core::hash::{BuildHasherDefault, Hasher};

use crate::report::{Cause, Fate, FlushReport, Reason};
use crate::transport::{outcome_text, Response, TransportError};

/// What happened to some events, before it is counted under a reason.
pub(super) struct Why {
    cause: Cause,
    status: Option<u16>,
    message: String,
}

impl Why {
    /// Why a request's events were not delivered.
    pub(super) fn of(result: &Result<Response, TransportError>) -> Why {
        let (status, message) = outcome_text(result);
        Why {
            cause: Cause::of(result),
            status,
            message,
        }
    }

    /// A failure that is not a request's (the outbox's), with its message.
    pub(super) fn local(cause: Cause, message: String) -> Why {
        Why {
            cause,
            status: None,
            message,
        }
    }
}

/// A set of event sequence numbers.
pub(super) type SeqSet = hashbrown::HashSet<u64, BuildHasherDefault<SeqHasher>>;

/// Hashes a sequence number by one multiplication (Fibonacci hashing): the
/// numbers are ours, consecutive and never chosen by a caller, so nothing
/// stronger is needed, and the table's bucket and tag bits both vary.
#[derive(Default)]
pub(super) struct SeqHasher(u64);

impl Hasher for SeqHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The bookkeeping of one flush call.
#[derive(Default)]
pub(super) struct FlushRun {
    pub(super) report: FlushReport,
    /// Events that failed during this flush and are not delivered or dropped since.
    pub(super) failed: SeqSet,
    /// Events this flush handed to the outbox.
    stored: SeqSet,
    /// The events behind each reason, one per fate and cause (an event
    /// retried for the same cause counts once); few of them, so a Vec.
    reasons: Vec<(Fate, Why, SeqSet)>,
}

impl FlushRun {
    /// Counts `seqs` under the reason of this fate and cause, once each
    /// however often they fail for it (the reason keeps the first message
    /// of its cause). A failure counts an event under its latest cause only
    /// (an event that failed with a 503 and then timed out is reported
    /// once, as timed out), so that a report's reasons add up to its counts.
    pub fn add_reason(&mut self, fate: Fate, why: Why, seqs: &[u64]) {
        if fate == Fate::Failed {
            for (f, w, events) in &mut self.reasons {
                if *f == Fate::Failed && w.cause != why.cause {
                    for seq in seqs {
                        events.remove(seq);
                    }
                }
            }
        }
        let found = self
            .reasons
            .iter_mut()
            .find(|(f, w, _)| *f == fate && w.cause == why.cause);
        match found {
            Some((_, _, events)) => events.extend(seqs.iter().copied()),
            None => self
                .reasons
                .push((fate, why, seqs.iter().copied().collect())),
        }
    }

    /// Events that are gone from this flush's failures: delivered or dropped.
    pub fn settled(&mut self, seqs: &[u64]) {
        for seq in seqs {
            self.failed.remove(seq);
        }
    }

    /// Events that left for the outbox: no longer failed, stored.
    pub fn stored(&mut self, seqs: &[u64]) {
        for seq in seqs {
            self.failed.remove(seq);
            self.stored.insert(*seq);
        }
    }

    /// The report, with failure reasons limited to events still undelivered;
    /// a failure's events that were stored since are reported under the
    /// same reason as stored, and stored events that never failed (not sent
    /// before the deadline: recorded late, or behind a batch that used up
    /// the time) under a reason of their own. So the reasons add up: the
    /// events of the `Failed` reasons are `failed`, those of the `Dropped`
    /// ones `dropped`, those of the `Stored` ones `stored`.
    pub fn finish(mut self) -> FlushReport {
        let (failed, stored) = (&self.failed, &self.stored);
        let mut reasons = Vec::new();
        let mut explained = 0;
        for (fate, why, seqs) in self.reasons {
            let Why {
                cause,
                status,
                message,
            } = why;
            let mut push = |fate, events: usize, message: String| {
                if events > 0 {
                    reasons.push(Reason {
                        fate,
                        cause,
                        status,
                        message,
                        events: events as u32,
                    });
                }
            };
            match fate {
                Fate::Failed => {
                    let now_stored = seqs.iter().filter(|seq| stored.contains(*seq)).count();
                    let still = seqs.iter().filter(|seq| failed.contains(*seq)).count();
                    explained += now_stored;
                    if now_stored > 0 {
                        push(Fate::Stored, now_stored, message.clone());
                    }
                    push(Fate::Failed, still, message);
                }
                fate => push(fate, seqs.len(), message),
            }
        }
        let unexplained = stored.len().saturating_sub(explained);
        if unexplained > 0 {
            reasons.push(Reason {
                fate: Fate::Stored,
                cause: Cause::Deadline,
                status: None,
                message: "not sent before the flush deadline".into(),
                events: unexplained as u32,
            });
        }
        self.report.reasons = reasons;
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(cause: Cause, message: &str) -> Why {
        Why::local(cause, message.into())
    }

    #[test]
    fn reasons_are_grouped_by_fate_and_cause_not_by_message() {
        let mut run = FlushRun::default();
        run.add_reason(Fate::Failed, why(Cause::Network, "reset"), &[1, 2]);
        run.failed.extend([1, 2]);
        run.add_reason(Fate::Failed, why(Cause::Network, "refused"), &[3]);
        run.failed.extend([3]);
        run.add_reason(Fate::Dropped, why(Cause::HttpStatus(400), "bad"), &[4]);
        let report = run.finish();
        let reasons: Vec<_> = report
            .reasons
            .iter()
            .map(|r| (r.fate, r.cause, r.message.as_str(), r.events))
            .collect();
        assert_eq!(
            reasons,
            [
                (Fate::Failed, Cause::Network, "reset", 3),
                (Fate::Dropped, Cause::HttpStatus(400), "bad", 1),
            ],
            "one reason per fate and cause, with its first message"
        );
    }

    #[test]
    fn a_failed_event_counts_under_its_latest_cause_only() {
        let mut run = FlushRun::default();
        run.add_reason(Fate::Failed, why(Cause::HttpStatus(503), "busy"), &[1]);
        run.add_reason(Fate::Failed, why(Cause::Timeout, "timed out"), &[1]);
        run.failed.insert(1);
        let report = run.finish();
        assert_eq!(report.reasons.len(), 1, "{:?}", report.reasons);
        assert_eq!(report.reasons[0].cause, Cause::Timeout);
    }
}
