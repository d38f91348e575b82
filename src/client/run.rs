//! The accounting of one flush call (`FlushRun`): which events failed, for
//! which reasons, which were stored; it turns into the call's
//! [`FlushReport`].

use alloc::string::String;
use alloc::vec::Vec;

use core::hash::{BuildHasherDefault, Hasher};

use crate::report::{Fate, FlushReport, Reason};

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
    /// The events behind each reason (an event retried for the same reason
    /// counts once); few distinct reasons, so a Vec.
    reasons: Vec<(Fate, Option<u16>, String, SeqSet)>,
}

impl FlushRun {
    /// Counts `seqs` under this reason, once each however often they fail
    /// for it. A failure counts an event under its latest reason only (an
    /// event that failed with a 503 and then timed out is reported once, as
    /// timed out), so that a report's reasons add up to its counts.
    pub fn add_reason(&mut self, fate: Fate, status: Option<u16>, message: String, seqs: &[u64]) {
        if fate == Fate::Failed {
            for (f, s, m, events) in &mut self.reasons {
                if *f == Fate::Failed && !(*s == status && *m == message) {
                    for seq in seqs {
                        events.remove(seq);
                    }
                }
            }
        }
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
        for (fate, status, message, seqs) in self.reasons {
            let mut push = |fate, events: usize, message: String| {
                if events > 0 {
                    reasons.push(Reason {
                        fate,
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
                status: None,
                message: "not sent before the flush deadline".into(),
                events: unexplained as u32,
            });
        }
        self.report.reasons = reasons;
        self.report
    }
}
