//! The retry policy, sans I/O: given how one attempt ended, decide what
//! happens next. Pure functions of their inputs, tested with tables.

/// How one request attempt ended, as the policy sees it.
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
        self.samples[self.next] = ms.min(u64::from(u32::MAX)) as u32;
        self.next = (self.next + 1) % Self::WINDOW;
        self.len = (self.len + 1).min(Self::WINDOW);
    }

    /// The time a request needs before a deadline to be worth starting:
    /// twice the slowest of the recent answers plus a margin, at most
    /// `timeout_ms`; `timeout_ms` while nothing is known.
    pub(crate) fn needed_ms(&self, timeout_ms: u64) -> u64 {
        match self.samples[..self.len].iter().max() {
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
mod tests {
    use super::*;

    const NOW: u64 = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT

    #[test]
    fn the_retry_table() {
        let policy = RetryPolicy::default();
        let status = |s| Attempt::Status {
            status: s,
            retry_after: None,
        };
        let retry = |d: Decision| matches!(d, Decision::Retry { .. });
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(
                policy.decide(status(s), 1, 5, NOW, 0),
                Decision::Delivered,
                "{s}"
            );
        }
        for s in [408, 429, 500, 502, 503, 504, 507, 511, 599] {
            assert!(retry(policy.decide(status(s), 1, 5, NOW, 0)), "{s} retries");
        }
        for s in [300, 301, 302, 303, 304, 307, 308, 399] {
            assert_eq!(
                policy.decide(status(s), 1, 5, NOW, 0),
                Decision::Keep,
                "{s} is kept"
            );
        }
        assert_eq!(
            policy.decide(Attempt::Redirected, 1, 5, NOW, 0),
            Decision::Keep
        );
        for s in [400, 401, 403, 404, 409, 410, 422, 501, 505] {
            assert_eq!(
                policy.decide(status(s), 1, 5, NOW, 0),
                Decision::Drop,
                "{s} drops"
            );
        }
        assert_eq!(policy.decide(status(413), 1, 2, NOW, 0), Decision::Split);
        assert_eq!(policy.decide(status(413), 1, 1, NOW, 0), Decision::Drop);
        assert!(retry(policy.decide(Attempt::Timeout, 1, 5, NOW, 0)));
        assert!(retry(policy.decide(Attempt::Network, 1, 5, NOW, 0)));
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let with = |s, v| Attempt::Status {
            status: s,
            retry_after: Some(v),
        };
        assert_eq!(
            policy.decide(with(429, "2"), 1, 1, NOW, 0),
            Decision::Retry { after_ms: 2_000 }
        );
        assert_eq!(
            policy.decide(with(503, "0"), 1, 1, NOW, 0),
            Decision::Retry { after_ms: 0 }
        );
        assert_eq!(
            policy.decide(with(429, "3600"), 1, 1, NOW, 0),
            Decision::Retry { after_ms: 10_000 }
        );
        assert_eq!(
            policy.decide(with(429, "Wed, 21 Oct 2015 07:28:03 GMT"), 1, 1, NOW, 0),
            Decision::Retry { after_ms: 3_000 }
        );
        // Unparseable: fall back to backoff (200 ms ceiling, so 100..=200).
        let Decision::Retry { after_ms } = policy.decide(with(429, "soon"), 1, 1, NOW, 0) else {
            panic!("429 retries");
        };
        assert!((100..=200).contains(&after_ms));
        // Retry-After on a status that is not retried changes nothing.
        assert_eq!(policy.decide(with(400, "1"), 1, 1, NOW, 0), Decision::Drop);
    }

    #[test]
    fn retry_after_parsing() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("1", Some(1_000)),
            (" 120 ", Some(120_000)),
            ("99999999999999999999999", Some(u64::MAX)),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(0)),
            ("Wed, 21 Oct 2015 07:28:10 GMT", Some(10_000)),
            ("Thu, 22 Oct 2015 07:28:00 GMT", Some(86_400_000)),
            ("Tue, 20 Oct 2015 07:28:00 GMT", Some(0)),
            ("Wednesday, 21-Oct-15 07:29:00 GMT", Some(60_000)),
            ("Wed Oct 21 07:28:30 2015", Some(30_000)),
            ("Wed Oct  21 07:28:30 2015", Some(30_000)),
            ("", None),
            ("-1", None),
            ("1.5", None),
            ("soon", None),
            ("Wed, 21 Oct 2015 07:28:00 PST", None),
            ("Wed, 32 Oct 2015 07:28:00 GMT", None),
            ("Wed, 21 Foo 2015 07:28:00 GMT", None),
            ("Wed, 21 Oct 2015 25:28:00 GMT", None),
            ("Wed, 21 Oct 2015 07:28 GMT", None),
            ("Wed, 21 Oct 1969 07:28:00 GMT", None),
            ("Wed, 21 Oct 2015 07:28:00:00 GMT", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_retry_after(input, NOW), *want, "{input:?}");
        }
    }

    #[test]
    fn a_pause_only_grows() {
        let mut pause = Pause::default();
        assert_eq!(pause.running(NOW), None);
        pause.extend(NOW + 2_000);
        pause.extend(NOW + 1_000);
        assert_eq!(pause.running(NOW), Some(NOW + 2_000));
        assert_eq!(pause.running(NOW + 2_000), None, "over at its end");
    }

    #[test]
    fn latency_needs_the_full_timeout_until_it_knows_better() {
        let mut latency = Latency::default();
        assert_eq!(latency.needed_ms(4_000), 4_000);
        latency.observe(350);
        latency.observe(120);
        assert_eq!(latency.needed_ms(4_000), 800, "twice the slowest + 100");
        assert_eq!(latency.needed_ms(500), 500, "never more than the timeout");
        for _ in 0..Latency::WINDOW {
            latency.observe(10);
        }
        assert_eq!(
            latency.needed_ms(4_000),
            120,
            "old samples leave the window"
        );
        latency.observe(4_000);
        assert_eq!(latency.needed_ms(4_000), 4_000);
    }

    #[test]
    fn backoff_bounds() {
        let policy = RetryPolicy::default();
        let ceilings = [
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1_600),
            (5, 3_200),
            (6, 5_000),
            (40, 5_000),
        ];
        for (failures, ceiling) in ceilings {
            for random in [0, 1, 7, 12_345, u32::MAX] {
                let wait = policy.backoff_ms(failures, random);
                assert!(
                    wait >= ceiling / 2 && wait <= ceiling,
                    "{failures}: {wait} not in [{}, {ceiling}]",
                    ceiling / 2
                );
            }
            assert_eq!(policy.backoff_ms(failures, 0), ceiling / 2);
            assert_eq!(
                policy.backoff_ms(failures, (ceiling - ceiling / 2) as u32),
                ceiling
            );
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any header value: no panic, and a date never lies in the past.
            #[test]
            fn retry_after_never_panics(value in ".{0,64}", now in 0u64..4_000_000_000_000) {
                let _ = parse_retry_after(&value, now);
            }

            #[test]
            fn retry_after_parses_any_http_date(
                days in 0u64..2_900_000, secs in 0u64..86_400, ahead in 0u64..1_000_000,
            ) {
                let at = (days * 86_400 + secs) * 1000;
                let text = imf_fixdate(at);
                prop_assert_eq!(parse_retry_after(&text, at.saturating_sub(ahead * 1000)), Some(ahead.min(at / 1000) * 1000));
            }

            #[test]
            fn backoff_stays_in_bounds(failures in 0u32..100, random in any::<u32>()) {
                let policy = RetryPolicy::default();
                let wait = policy.backoff_ms(failures, random);
                prop_assert!(wait <= policy.max_backoff_ms);
                prop_assert!(wait >= policy.base_ms.min(policy.max_backoff_ms) / 2);
            }
        }

        /// Formats epoch ms as an IMF-fixdate (the inverse of parse_http_date).
        fn imf_fixdate(ms: u64) -> String {
            let secs = ms / 1000;
            let days = secs / 86_400;
            let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
            // Civil from days (Howard Hinnant).
            let z = days as i64 + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let day = doy - (153 * mp + 2) / 5 + 1;
            let month = if mp < 10 { mp + 3 } else { mp - 9 };
            let year = yoe + era * 400 + i64::from(month <= 2);
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
            format!(
                "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
                WEEKDAYS[(days % 7) as usize],
                day,
                MONTHS[(month - 1) as usize],
                year,
                h,
                m,
                s
            )
        }
    }
}
