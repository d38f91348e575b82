//! The retry policy, sans I/O: given how one attempt ended, decide what
//! happens next; plus the two small memories it needs across attempts, the
//! server's `Retry-After` pause and recent latencies. Pure functions of
//! their inputs, tested with tables.

use alloc::vec::Vec;

/// How one request attempt ended, as the policy sees it.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// The server answered.
    Status {
        /// The HTTP status.
        status: u16,
        /// The raw `Retry-After` header, if any.
        retry_after: Option<&'a str>,
    },
    /// The request did not complete within its timeout.
    Timeout,
    /// The connection failed or broke.
    Network,
    /// The `fetch` followed a redirect it was asked not to follow.
    Redirected,
}

/// What to do after an attempt.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The server accepted the batch.
    Delivered,
    /// Send the same bytes again after this many milliseconds.
    Retry {
        /// The wait before the next attempt.
        after_ms: u64,
    },
    /// `413`: send the batch again in halves.
    Split,
    /// A redirect (`3xx`, never followed): not a delivery and not a passing
    /// failure but a misplaced endpoint. Keep the batch queued and end this
    /// flush; a later flush tries again.
    Keep,
    /// Permanently refused (a `4xx` other than 408/429, `501`, `505`, or a
    /// single event that is still too large): drop and report.
    Drop,
}

/// The numbers of the policy. The defaults keep several attempts inside one
/// flush deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first backoff ceiling; it doubles with every failed attempt.
    pub base_ms: u64,
    /// The largest backoff.
    pub max_backoff_ms: u64,
    /// The largest wait a `Retry-After` may ask for; longer ones are capped.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 200,
            max_backoff_ms: 5_000,
            max_retry_after_ms: 10_000,
        }
    }
}

impl RetryPolicy {
    /// Decides after the `failures`-th failed attempt (1 for the first).
    /// `batch_len` decides whether a `413` can still be split; `random` is any
    /// random value (the jitter).
    ///
    /// ```
    /// use intempt_edge::{Attempt, Decision, RetryPolicy};
    /// let policy = RetryPolicy::default();
    /// let answered = Attempt::Status { status: 429, retry_after: Some("2") };
    /// assert_eq!(policy.decide(answered, 1, 20, 0, 0), Decision::Retry { after_ms: 2_000 });
    /// assert_eq!(policy.decide(Attempt::Redirected, 1, 20, 0, 0), Decision::Keep);
    /// ```
    pub fn decide(
        &self,
        attempt: Attempt<'_>,
        failures: u32,
        batch_len: usize,
        now_ms: u64,
        random: u32,
    ) -> Decision {
        let backoff = Decision::Retry {
            after_ms: self.backoff_ms(failures, random),
        };
        match attempt {
            Attempt::Timeout | Attempt::Network => backoff,
            Attempt::Redirected => Decision::Keep,
            Attempt::Status {
                status,
                retry_after,
            } => match status {
                200..=299 => Decision::Delivered,
                300..=399 => Decision::Keep,
                413 if batch_len > 1 => Decision::Split,
                408 | 429 | 500..=599 if status != 501 && status != 505 => {
                    match retry_after.and_then(|v| parse_retry_after(v, now_ms)) {
                        Some(wait) => Decision::Retry {
                            after_ms: wait.min(self.max_retry_after_ms),
                        },
                        None => backoff,
                    }
                }
                _ => Decision::Drop,
            },
        }
    }

    /// Exponential backoff with jitter: the ceiling is `base · 2^(failures-1)`
    /// capped at `max_backoff_ms`, and the wait lies in `[ceiling/2, ceiling]`
    /// so retries spread out but never come back at once.
    pub fn backoff_ms(&self, failures: u32, random: u32) -> u64 {
        let exponent = failures.saturating_sub(1).min(32);
        let ceiling = self
            .base_ms
            .saturating_mul(1u64 << exponent)
            .min(self.max_backoff_ms);
        let half = ceiling / 2;
        half + u64::from(random) % (ceiling - half + 1)
    }
}

/// A pause the server asked for with `Retry-After`. It holds across
/// flushes: no tracking request starts before it ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pause {
    until: Option<u64>,
}

impl Pause {
    /// Makes the pause last at least until `until` (epoch ms).
    pub(crate) fn extend(&mut self, until: u64) {
        self.until = Some(self.until.map_or(until, |t| t.max(until)));
    }

    /// The pause's end, while it runs.
    pub(crate) fn running(&self, now: u64) -> Option<u64> {
        self.until.filter(|until| *until > now)
    }
}

/// Recent response times, to tell whether a request can still finish before
/// a deadline. Starting one that cannot means aborting it after the server
/// may have stored its events, and sending them again: a duplicate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Latency {
    /// The last [`Latency::WINDOW`] response times (ms), a ring.
    samples: [u32; Latency::WINDOW],
    len: usize,
    next: usize,
}

impl Latency {
    const WINDOW: usize = 8;
    /// Added to twice the slowest recent answer: a scheduling hiccup must
    /// not turn a request that fits into one that is cut.
    const MARGIN_MS: u64 = 100;

    /// Records how long one request took to answer (a timeout counts as the
    /// full request timeout: nothing is known but that it was slow).
    pub(crate) fn observe(&mut self, ms: u64) {
        // `get_mut`/`get` rather than indexing: the npm build then links no
        // panic formatting (`next` and `len` never exceed the window).
        if let Some(slot) = self.samples.get_mut(self.next) {
            *slot = ms.min(u64::from(u32::MAX)) as u32;
        }
        self.next = (self.next + 1) % Self::WINDOW;
        self.len = (self.len + 1).min(Self::WINDOW);
    }

    /// The time a request needs before a deadline to be worth starting:
    /// twice the slowest of the recent answers plus a margin, at most
    /// `timeout_ms`; `timeout_ms` while nothing is known.
    pub(crate) fn needed_ms(&self, timeout_ms: u64) -> u64 {
        match self.samples.get(..self.len).unwrap_or(&[]).iter().max() {
            Some(&slowest) => (2 * u64::from(slowest) + Self::MARGIN_MS).min(timeout_ms),
            None => timeout_ms,
        }
    }
}

/// Parses `Retry-After`: delay-seconds (`"120"`) or an HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, also the obsolete RFC 850 and asctime
/// forms). Returns milliseconds from `now_ms`; a date in the past is 0;
/// anything unparseable is `None`.
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: u64 = value.parse().unwrap_or(u64::MAX);
        return Some(seconds.saturating_mul(1000));
    }
    let at_ms = parse_http_date(value)?;
    Some(at_ms.saturating_sub(now_ms))
}

/// An HTTP-date (RFC 9110 §5.6.7) as epoch milliseconds.
fn parse_http_date(value: &str) -> Option<u64> {
    let parts: Vec<&str> = value
        .split([' ', ',', '-'])
        .filter(|p| !p.is_empty())
        .collect();
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT   → [Sun, 06, Nov, 1994, 08:49:37, GMT]
    // RFC 850:     Sunday, 06-Nov-94 08:49:37 GMT  → [Sunday, 06, Nov, 94, 08:49:37, GMT]
    // asctime:     Sun Nov  6 08:49:37 1994        → [Sun, Nov, 6, 08:49:37, 1994]
    let (day, month, year, time) = match parts.as_slice() {
        [_, day, month, year, time, "GMT"] => (*day, *month, *year, *time),
        [_, month, day, time, year] => (*day, *month, *year, *time),
        _ => return None,
    };
    let day: u64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let mut year: u64 = year.parse().ok()?;
    if year < 100 {
        // RFC 9110: a two-digit year more than 50 years ahead is in the past century.
        year += if year < 70 { 2000 } else { 1900 };
    }
    if !(1970..=9999).contains(&year) {
        return None;
    }
    let hms: Vec<u64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if *h > 23 || *m > 59 || *s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + h) * 60 + m) * 60_000 + s * 1000)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm), for years ≥ 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
