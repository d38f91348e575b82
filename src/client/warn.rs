//! Warnings without `debug`: when events cannot leave, one line says what
//! failed, what happens to the events and what to fix — the first failure at
//! once, then at most one line a minute while failures go on, and one line
//! when deliveries resume. Debug lines (every request) are separate.

use alloc::string::String;

use core::cell::RefCell;

use super::Logger;
use crate::ports::Clock;
use crate::text::cat;
use crate::transport::{outcome_line, redact, Response, TransportError};

/// The least time between two failure lines.
const WARN_INTERVAL_MS: u64 = 60_000;

/// When the last failure line was written and what happened since.
#[derive(Debug, Default)]
struct WarnState {
    /// Failures since the last delivery.
    failing: bool,
    /// A failure line was written during this streak.
    warned: bool,
    last_line_at: Option<u64>,
    /// Failures since the last line that no line reported.
    unreported: u32,
}

impl WarnState {
    /// A failure at `now`: `Some(failures left unreported since the last
    /// line)` when a line is due (the first of a streak, or a minute after
    /// the last), `None` when it only counts.
    pub fn failure(&mut self, now: u64) -> Option<u32> {
        self.failing = true;
        let due = self
            .last_line_at
            .is_none_or(|at| now >= at + WARN_INTERVAL_MS);
        if !due {
            self.unreported += 1;
            return None;
        }
        self.warned = true;
        self.last_line_at = Some(now);
        Some(core::mem::take(&mut self.unreported))
    }

    /// A delivery: ends a streak. Whether a failure line was written during
    /// it (then a line says that deliveries resumed).
    pub fn delivered(&mut self) -> bool {
        let recovered = self.failing && self.warned;
        self.failing = false;
        self.warned = false;
        self.unreported = 0;
        recovered
    }
}

/// What happens to events whose request failed.
#[derive(Clone, Copy)]
pub(super) enum Fate {
    Retried,
    Kept,
    Dropped,
}

/// Where failure lines go, and the two streaks they follow: delivery
/// failures, and failures of the `before_send` hook. Lines are written
/// outside any borrow (a sink may call the client).
/// Made with no sink: warnings are off until [`Warner::set_sink`].
#[derive(Default)]
pub(super) struct Warner {
    sink: Option<Logger>,
    /// Delivery failures: a line at once, then one a minute.
    failures: RefCell<WarnState>,
    /// Failures of the `before_send` hook: a line at once, then one a minute.
    hook: RefCell<WarnState>,
}

impl Warner {
    /// Sends the lines to `sink`.
    pub(super) fn set_sink(&mut self, sink: Logger) {
        self.sink = Some(sink);
    }

    /// Whether lines go anywhere.
    pub(super) fn is_on(&self) -> bool {
        self.sink.is_some()
    }

    /// Writes `line` to the sink (`console.warn` by default on wasm32).
    fn line(&self, line: String) {
        if let Some(sink) = &self.sink {
            sink(&cat!("[intempt-edge] ", line));
        }
    }

    /// A failure that `failed` describes (it names the events and what
    /// happened to them): written now if one is due, else counted.
    pub(super) fn failure(&self, clock: &impl Clock, failed: impl FnOnce() -> String) {
        if let Some(more) = self.due(
            &self.failures,
            clock,
            " more failures since the last warning)",
        ) {
            self.line(cat!(failed(), more));
        }
    }

    /// When a line of `streak` is due (warnings on; the first, then at most
    /// one a minute): its suffix, `" (n<more>"` for the ones counted since the
    /// last line, or nothing. `None`: not due, counted.
    fn due(&self, streak: &RefCell<WarnState>, clock: &impl Clock, more: &str) -> Option<String> {
        self.sink.as_ref()?;
        let unreported = streak.borrow_mut().failure(clock.now_ms())?;
        Some(match unreported {
            0 => String::new(),
            n => cat!(" (", n, more),
        })
    }

    /// The `before_send` hook failed and its event was dropped: a line now
    /// if one is due (the first, then at most one a minute), else counted.
    /// Its own streak, apart from delivery failures.
    pub(super) fn hook_failed(&self, clock: &impl Clock, why: &str) {
        if let Some(more) = self.due(&self.hook, clock, " more since the last warning)") {
            self.line(cat!(
                "beforeSend failed, so the event was dropped: ",
                why,
                more,
                ". Fix the hook: return the event (changed or not) to send it, null to drop it; stats().filterFailed counts these (warnings: false silences this)"
            ));
        }
    }

    /// A batch was delivered to `track_url`: after warnings, says that
    /// deliveries resumed (naming the URL without its query).
    pub(super) fn delivered(&self, track_url: &str) {
        if self.sink.is_none() {
            return;
        }
        let recovered = self.failures.borrow_mut().delivered();
        if recovered {
            self.line(cat!("delivering again to ", redact(track_url)));
        }
    }

    /// A request of `events` events to `track_url` failed with `result`, and
    /// the events were `fate`: what failed, what happens to them, and what to
    /// fix.
    pub(super) fn request(
        &self,
        clock: &impl Clock,
        track_url: &str,
        events: usize,
        result: &Result<Response, TransportError>,
        fate: Fate,
    ) {
        self.failure(clock, || {
            let fate = match fate {
                Fate::Retried => "they stay queued and are retried",
                Fate::Kept => "they stay queued",
                Fate::Dropped => "they were dropped",
            };
            cat!(
                "could not deliver ",
                events,
                " events: POST ",
                redact(track_url),
                " -> ",
                outcome_line(result),
                "; ",
                fate,
                ". ",
                hint(result),
                if hint(result).is_empty() { "" } else { " " },
                "(warnings: false silences this)"
            )
        });
    }
}

/// What to fix, judged from how a request failed.
fn hint(result: &Result<Response, TransportError>) -> &'static str {
    match result {
        // The outcome already says what to do about a redirect.
        Err(TransportError::Redirected) => "",
        Err(_) => "Check endpoint and the network.",
        Ok(Response { status, .. }) => match status {
            300..=399 => "",
            401 | 403 => "Check the API key.",
            404 => "Check organization, project, sourceId and endpoint.",
            408 | 429 | 500..=599 => "The API is down or limiting; an outbox keeps batches.",
            _ => "See the server's message.",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_of_a_streak_then_one_line_a_minute() {
        let mut w = WarnState::default();
        assert_eq!(w.failure(1_000), Some(0), "the first failure is written");
        assert_eq!(w.failure(2_000), None);
        assert_eq!(w.failure(60_999), None);
        assert_eq!(w.failure(61_000), Some(2), "a minute later, with the count");
        assert!(w.delivered(), "a streak with a line ends with one");
        assert!(!w.delivered(), "only once");
        // A new streak within the minute of the last line waits for it.
        assert_eq!(w.failure(62_000), None);
        assert_eq!(w.failure(121_000), Some(1));
    }

    #[test]
    fn deliveries_without_failures_write_nothing() {
        let mut w = WarnState::default();
        assert!(!w.delivered());
        assert_eq!(w.failure(5), Some(0));
        assert!(w.delivered());
    }
}
