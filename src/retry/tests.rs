//! Tests of `retry`: the retry table, `Retry-After`, pauses, latency and backoff.

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
