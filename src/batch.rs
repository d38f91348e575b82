//! The queue of serialised events and how batches are cut from it.
//!
//! Each entry is one event's final JSON (`{"name":…,"payload":[…]}`), made
//! once when the event was recorded. A request body is a concatenation, so
//! byte limits are exact and a retry resends the same bytes (same `eventId`).

use alloc::string::String;
use alloc::vec::Vec;

use alloc::collections::VecDeque;

use crate::wire::{TRACK_PREFIX, TRACK_SUFFIX};

/// One recorded event, serialised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Position in recording order (for reports and tests).
    pub seq: u64,
    /// The entry's JSON.
    pub json: String,
}

/// Events not yet handed to a request, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    entries: VecDeque<Entry>,
    /// Sum of the entries' JSON lengths.
    bytes: usize,
}

/// The body size of a batch holding `count` entries of `bytes` in total.
pub(crate) fn body_len(count: usize, bytes: usize) -> usize {
    TRACK_PREFIX.len() + bytes + count.saturating_sub(1) + TRACK_SUFFIX.len()
}

impl Queue {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The sequence numbers queued, oldest first.
    pub fn seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.entries.iter().map(|e| e.seq)
    }

    /// The body size if everything queued went in one request.
    pub fn body_len(&self) -> usize {
        body_len(self.entries.len(), self.bytes)
    }

    pub fn push_back(&mut self, entry: Entry) {
        self.bytes += entry.json.len();
        self.entries.push_back(entry);
    }

    /// Puts entries back at the front, keeping their order (a failed batch
    /// goes first next time).
    pub fn push_front_all(&mut self, entries: Vec<Entry>) {
        for entry in entries.into_iter().rev() {
            self.bytes += entry.json.len();
            self.entries.push_front(entry);
        }
    }

    /// Takes the longest prefix of at most `max_events` entries whose body
    /// fits in `max_bytes`; always at least one entry when not empty (the
    /// per-event limit is below the batch limit).
    pub fn take_batch(&mut self, max_events: usize, max_bytes: usize) -> Vec<Entry> {
        let mut count = 0;
        let mut bytes = 0;
        for entry in self.entries.iter().take(max_events) {
            if count > 0 && body_len(count + 1, bytes + entry.json.len()) > max_bytes {
                break;
            }
            count += 1;
            bytes += entry.json.len();
        }
        self.bytes -= bytes;
        self.entries.drain(..count).collect()
    }
}

/// The request body for `entries`.
pub(crate) fn body(entries: &[Entry]) -> String {
    let bytes: usize = entries.iter().map(|e| e.json.len()).sum();
    let mut out = String::with_capacity(body_len(entries.len(), bytes));
    out.push_str(TRACK_PREFIX);
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&entry.json);
    }
    out.push_str(TRACK_SUFFIX);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, len: usize) -> Entry {
        Entry {
            seq,
            json: "x".repeat(len),
        }
    }

    #[test]
    fn batches_respect_count_and_bytes_and_keep_order() {
        let mut q = Queue::default();
        for seq in 0..10 {
            q.push_back(entry(seq, 10));
        }
        assert_eq!(
            q.body_len(),
            body(&q.entries.iter().cloned().collect::<Vec<_>>()).len()
        );
        let first = q.take_batch(4, 10_000);
        assert_eq!(
            first.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        // Room for two entries: prefix 10 + 10 + 1 + 10 + suffix 2 = 33.
        let second = q.take_batch(100, 33);
        assert_eq!(second.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(body(&second).len(), 33);
        // Over the limit, one entry still goes (it passed the per-event limit).
        let third = q.take_batch(100, 1);
        assert_eq!(third.len(), 1);
        q.push_front_all(second);
        assert_eq!(
            q.take_batch(2, 10_000)
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>(),
            [4, 5]
        );
        assert_eq!(q.len(), 3);
        assert_eq!(q.body_len(), body_len(3, 30));
    }

    #[test]
    fn body_is_the_track_envelope() {
        let entries = vec![
            Entry {
                seq: 0,
                json: "{\"a\":1}".into(),
            },
            Entry {
                seq: 1,
                json: "{\"b\":2}".into(),
            },
        ];
        assert_eq!(body(&entries), "{\"track\":[{\"a\":1},{\"b\":2}]}");
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Cutting batches never loses, duplicates or reorders events, and
            /// every batch respects its count and byte limits (a single entry
            /// may exceed the byte limit only alone).
            #[test]
            fn batches_lose_nothing_and_respect_limits(
                sizes in prop::collection::vec(1usize..400, 0..200),
                max_events in 1usize..50,
                max_bytes in 50usize..3000,
                give_back_every in 0usize..5,
            ) {
                let mut q = Queue::default();
                for (seq, len) in sizes.iter().enumerate() {
                    q.push_back(entry(seq as u64, *len));
                }
                let mut out = Vec::new();
                let mut round = 0;
                while q.len() > 0 {
                    round += 1;
                    let batch = q.take_batch(max_events, max_bytes);
                    prop_assert!(!batch.is_empty());
                    prop_assert!(batch.len() <= max_events);
                    prop_assert!(batch.len() == 1 || body(&batch).len() <= max_bytes);
                    // Sometimes a batch fails and goes back to the front.
                    if give_back_every > 0 && round % give_back_every == 0 && round < 50 {
                        q.push_front_all(batch);
                        continue;
                    }
                    out.extend(batch.into_iter().map(|e| e.seq));
                }
                prop_assert_eq!(out, (0..sizes.len() as u64).collect::<Vec<_>>());
                prop_assert_eq!(q.body_len(), body_len(0, 0));
            }
        }
    }
}
