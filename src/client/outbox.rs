//! The client's side of the durable outbox (the [`Outbox`] port): where a
//! flush puts the batches it could not deliver (the API down past the flush
//! deadline), so that they outlive the isolate or the process; and
//! redelivery, which a queue consumer uses to resend a stored batch with its
//! key.
//!
//! A stored message is the batch's request body exactly as it was sent
//! (`{"track":[…]}`), so a redelivery carries the original `eventId`s and
//! timestamps. It never holds the API key: the consumer signs with its own.
//! Delivery is at-least-once: a batch that reached the server but whose
//! answer was lost may also be stored, and sent again.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use core::cell::RefCell;

use super::run::{FlushRun, Why};
use super::state::LEASE_GRACE_MS;
use super::Client;
use crate::json::{Checker, MAX_DEPTH};
use crate::ports::{Clock, Outbox, Random, Transport};
use crate::report::{Cause, Fate};
use crate::retry::{Decision, RetryPolicy};
use crate::text::cat;
use crate::transport::{attempt_of, outcome_text};
use crate::wire::{TRACK_PREFIX, TRACK_SUFFIX};

/// How one redelivery of a stored batch ended.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redelivery {
    /// The server accepted the batch.
    Delivered,
    /// A passing failure: try the same message again after `after_ms`.
    Retry {
        /// The wait the server asked for (`Retry-After`) or the backoff.
        after_ms: u64,
        /// The HTTP status, when the server answered.
        status: Option<u16>,
        /// What happened.
        reason: String,
    },
    /// Refused for good (a `4xx` other than 408/429, or not a stored batch):
    /// do not retry.
    Dropped {
        /// The HTTP status, when the server answered.
        status: Option<u16>,
        /// Why, with the server's message when it gave one.
        reason: String,
    },
}

#[cfg(any(test, all(target_arch = "wasm32", feature = "npm")))]
impl Redelivery {
    /// The npm package's result object, as index.d.ts's `Redelivery` names
    /// its fields, in order (held to it with the report's tables, report.rs).
    pub(crate) const JS_FIELDS: [&'static str; 4] = ["outcome", "retryAfterMs", "status", "reason"];
}

/// The first redelivery backoff; it doubles with every attempt up to the
/// caller's ceiling.
const REDELIVERY_BASE_MS: u64 = 1_000;
/// The longest `Retry-After` a redelivery honours.
const MAX_REDELIVERY_RETRY_AFTER_MS: u64 = 3_600_000;

impl<T: Transport, C: Clock, R: Random> Client<T, C, R> {
    /// Uses `outbox` for what a flush cannot deliver before its deadline:
    /// the flush keeps part of its deadline (a quarter, at most a second)
    /// to store those batches, and they leave memory once stored.
    pub fn with_outbox(mut self, outbox: impl Outbox + 'static) -> Self {
        self.outbox = Some(Box::new(outbox));
        self
    }

    /// The part of the flush deadline kept for storing in the outbox.
    pub(super) fn outbox_reserve_ms(&self) -> u64 {
        match self.outbox {
            Some(_) => u64::from(self.config.flush_deadline_ms / 4).min(1_000),
            None => 0,
        }
    }

    /// Hands what is still queued to the outbox, in messages that fit it;
    /// once stored, the events leave memory (counted as stored). If the
    /// outbox fails, they stay queued and the report says why.
    pub(super) async fn store_undelivered(
        &self,
        deadline: u64,
        detached: bool,
        run: &RefCell<FlushRun>,
    ) {
        let Some(outbox) = &self.outbox else { return };
        let now = self.clock.now_ms();
        if now >= deadline {
            return;
        }
        let cap = outbox
            .max_message_bytes()
            .min(self.config.max_batch_bytes as usize);
        let (mut ids, mut messages, mut events) = (Vec::new(), Vec::new(), 0);
        let mut too_large = None;
        {
            let mut state = self.state.borrow_mut();
            while let Some(taken) = state.take_batch(
                self.config.max_batch_size as usize,
                cap,
                deadline + LEASE_GRACE_MS,
            ) {
                if taken.body.len() > cap {
                    too_large = state.give_back(taken.id);
                    break;
                }
                ids.push(taken.id);
                events += taken.len;
                messages.push(taken.body);
            }
        }
        if let Some(seqs) = too_large {
            let message = cat!(
                "an event is larger than the outbox's largest message (",
                cap,
                " bytes); it stays queued"
            );
            let mut run = run.borrow_mut();
            run.add_reason(Fate::Failed, Why::local(Cause::TooLarge, message), &seqs);
            run.failed.extend(seqs);
        }
        if messages.is_empty() {
            return;
        }
        let count = messages.len();
        let timeout = (deadline - now).min(u64::from(u32::MAX)) as u32;
        let result = outbox.store(messages, timeout, detached).await;
        self.log(|| match &result {
            Ok(()) => cat!("outbox: stored ", events, " events in ", count, " messages"),
            Err(why) => cat!("outbox: could not store ", events, " events: ", why),
        });
        let mut state = self.state.borrow_mut();
        let mut run = run.borrow_mut();
        match result {
            Ok(()) => {
                for id in ids {
                    if let Some(seqs) = state.retire(id) {
                        state.totals.stored += seqs.len() as u64;
                        run.report.stored += seqs.len() as u32;
                        run.stored(&seqs);
                    }
                }
            }
            Err(why) => {
                let message = cat!("the outbox did not store them: ", why);
                // Given back last first, so the queue keeps its order.
                for id in ids.into_iter().rev() {
                    if let Some(seqs) = state.give_back(id) {
                        let failed = Why::local(Cause::OutboxFailed, message.clone());
                        run.add_reason(Fate::Failed, failed, &seqs);
                        run.failed.extend(seqs);
                    }
                }
                drop((state, run));
                self.warner.failure(&self.clock, || {
                    cat!(
                        "could not store ",
                        events,
                        " events in the outbox: ",
                        why,
                        "; they stay queued."
                    )
                });
            }
        }
    }

    /// Sends a batch that an outbox stored, with this client's key, and says
    /// what the consumer should do with the message: done, retry later
    /// (after `Retry-After`, or a backoff that doubles from one second with
    /// `attempts`, the deliveries so far including this one, up to
    /// `max_delay_ms`), or drop it for good.
    ///
    /// One request, unless the server answers `413`: a stored batch was
    /// never accepted, so it is split in halves and each half sent in turn,
    /// as a flush does (again on a `413`, down to a single event, which is
    /// then refused for good): at most `2n − 1` requests for `n` events.
    /// When the pieces end differently:
    ///
    /// - the first passing failure (network, timeout, 408, 429, 5xx, a
    ///   redirect) stops the sending; if nothing was delivered or refused
    ///   yet, the whole message is retried later (nothing was accepted, so
    ///   nothing arrives twice);
    /// - if some pieces were delivered or refused, the pieces not sent or
    ///   not delivered are stored again in this client's outbox as new
    ///   messages, and the original message is done: [`Redelivery::Delivered`],
    ///   or [`Redelivery::Dropped`] when a piece was refused for good;
    /// - if they cannot be stored (no outbox, or it fails), the whole
    ///   message is retried: no event is lost, and the pieces already
    ///   delivered are sent again (at-least-once; a duplicate only then);
    /// - pieces refused for good (a 4xx, or one event still too large) make
    ///   the answer [`Redelivery::Dropped`], its reason saying how many of
    ///   the message's events were refused.
    pub async fn redeliver(&self, body: &str, attempts: u32, max_delay_ms: u64) -> Redelivery {
        if !(body.starts_with(TRACK_PREFIX) && body.ends_with(TRACK_SUFFIX)) {
            return Redelivery::Dropped {
                status: None,
                reason: "not a batch stored by intempt-edge (a track request body)".to_owned(),
            };
        }
        let policy = RetryPolicy {
            base_ms: REDELIVERY_BASE_MS,
            max_backoff_ms: max_delay_ms.max(REDELIVERY_BASE_MS),
            max_retry_after_ms: MAX_REDELIVERY_RETRY_AFTER_MS,
        };
        let attempts = attempts.max(1);
        let random = self.random_u32();
        if self.state.borrow().closed {
            return Redelivery::Retry {
                after_ms: policy.backoff_ms(attempts, random),
                status: None,
                reason: "the client was closed".to_owned(),
            };
        }
        let mut progress = Progress::new(body);
        while let Some(piece) = progress.next() {
            let result = self
                .send_logged(
                    "redeliver: ",
                    &self.track_url,
                    piece.clone(),
                    self.config.request_timeout_ms,
                )
                .await;
            let now = self.clock.now_ms();
            progress.settle(piece, &result, &policy, attempts, now, random);
        }
        // After a passing failure, the rest as new messages, if something
        // was accepted or refused and this client has an outbox that takes
        // them; else the whole message again.
        if let Some(rest) = progress.rest_to_store() {
            if !self.store_again(rest).await {
                return progress.failure();
            }
        }
        progress.verdict()
    }

    /// Stores the pieces of a redelivered message that were not delivered
    /// as new messages; whether they are stored.
    async fn store_again(&self, pieces: Vec<String>) -> bool {
        let result = match &self.outbox {
            Some(outbox) => {
                outbox
                    .store(pieces, self.config.request_timeout_ms, false)
                    .await
            }
            None => Err("no outbox".to_owned()),
        };
        self.log(|| match &result {
            Ok(()) => "redeliver: stored the undelivered part again".to_owned(),
            Err(why) => cat!(
                "redeliver: could not store the undelivered part (",
                why,
                "); the whole batch is retried"
            ),
        });
        result.is_ok()
    }
}

/// Where one redelivery stands: the pieces left to send (a 413 replaces
/// one by its halves), what was delivered and refused, and the first
/// passing failure with the pieces it left undelivered.
struct Progress {
    /// The pieces still to send, the next one last.
    pieces: Vec<String>,
    delivered: usize,
    refused: usize,
    split: bool,
    /// The first refusal's status and reason.
    refusal: Option<(Option<u16>, String)>,
    failure: Option<Redelivery>,
    rest: Vec<String>,
}

impl Progress {
    fn new(body: &str) -> Progress {
        Progress {
            pieces: alloc::vec![body.to_owned()],
            delivered: 0,
            refused: 0,
            split: false,
            refusal: None,
            failure: None,
            rest: Vec::new(),
        }
    }

    /// The next piece to send; none after a passing failure (what is left
    /// joins the rest).
    fn next(&mut self) -> Option<String> {
        if self.failure.is_some() {
            self.rest.extend(self.pieces.drain(..).rev());
        }
        self.pieces.pop()
    }

    /// Applies the retry policy to one piece's answer.
    #[inline(never)]
    fn settle(
        &mut self,
        piece: String,
        result: &Result<crate::transport::Response, crate::transport::TransportError>,
        policy: &RetryPolicy,
        attempts: u32,
        now: u64,
        random: u32,
    ) {
        let (status, reason) = outcome_text(result);
        // Any length above one: a 413 splits a piece of two events or
        // more, which only its entries tell.
        let decision = policy.decide(attempt_of(result), attempts, usize::MAX, now, random);
        let after_ms = match decision {
            Decision::Delivered => {
                self.delivered += events_in(&piece);
                return;
            }
            Decision::Retry { after_ms } => after_ms,
            // A redirect: the endpoint is misplaced, which a deploy fixes.
            Decision::Keep => policy.backoff_ms(attempts, random),
            // A refusal, or a 413 (for one event, or for what is not a
            // list of events, a refusal).
            _ => {
                let halved = match decision {
                    Decision::Split => halves(&piece),
                    _ => None,
                };
                match halved {
                    Some((first, second)) => {
                        self.split = true;
                        self.pieces.push(second);
                        self.pieces.push(first);
                    }
                    None => {
                        self.refused += events_in(&piece);
                        self.refusal.get_or_insert((status, reason));
                    }
                }
                return;
            }
        };
        self.failure = Some(Redelivery::Retry {
            after_ms,
            status,
            reason,
        });
        self.rest.push(piece);
    }

    /// The pieces to store again: after a passing failure, once something
    /// was delivered or refused (else the whole message is retried).
    fn rest_to_store(&mut self) -> Option<Vec<String>> {
        if self.failure.is_none() || self.delivered + self.refused == 0 {
            return None;
        }
        Some(core::mem::take(&mut self.rest))
    }

    fn failure(self) -> Redelivery {
        self.failure.unwrap_or(Redelivery::Delivered)
    }

    /// The answer once nothing is left to send (or the rest is stored).
    fn verdict(self) -> Redelivery {
        if self.failure.is_some() && self.delivered + self.refused == 0 {
            return self.failure();
        }
        match self.refusal {
            None => Redelivery::Delivered,
            Some((status, reason)) if !self.split => Redelivery::Dropped { status, reason },
            Some((status, reason)) => Redelivery::Dropped {
                status,
                reason: cat!(
                    reason,
                    " (",
                    self.refused,
                    " events of the stored batch, split after a 413; ",
                    self.delivered,
                    " delivered)"
                ),
            },
        }
    }
}

/// The entries of a track request body (`{"track":[e1,e2,…]}`), each an
/// event's JSON as it was sent; `None` if it is not such a body.
#[inline(never)]
fn entries(body: &str) -> Option<Vec<&str>> {
    let inner = body
        .strip_prefix(TRACK_PREFIX)?
        .strip_suffix(TRACK_SUFFIX)?;
    let mut out = Vec::new();
    let mut checker = Checker::new(inner, MAX_DEPTH + 8);
    while checker.peek().is_some() {
        let start = checker.pos;
        checker.value(0).ok()?;
        // `get`, not indexing: no panic path in the wasm.
        out.push(inner.get(start..checker.pos)?);
        checker.skip_ws();
        if !checker.eat(b',') && checker.peek().is_some() {
            return None;
        }
    }
    Some(out)
}

/// How many events a stored body holds (one if it cannot tell).
#[inline(never)]
fn events_in(body: &str) -> usize {
    entries(body).map_or(1, |e| e.len())
}

/// A track request body in two halves (the first one the larger), or
/// `None` if it holds fewer than two events.
fn halves(body: &str) -> Option<(String, String)> {
    let entries = entries(body)?;
    let second = entries.get(entries.len().div_ceil(2))?;
    // The entries are slices of the body, in order, one comma apart.
    let middle = second.as_ptr() as usize - body.as_ptr() as usize;
    let mut first = String::from(body.get(..middle - 1)?);
    first.push_str(TRACK_SUFFIX);
    let mut rest = String::from(TRACK_PREFIX);
    rest.push_str(body.get(middle..)?);
    Some((first, rest))
}
