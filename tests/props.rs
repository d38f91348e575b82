//! Client-level properties in virtual time: whatever the server does, every
//! event is accounted for exactly once.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use std::collections::HashMap;

use intempt_edge::{Event, JsonObject};
use proptest::prelude::*;
use sim::*;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => Just(status(201)),
        1 => prop::sample::select(vec![400u16, 408, 413, 429, 500, 501, 503]).prop_map(status),
        1 => (0u64..3).prop_map(|s| Step::Answer { status: 429, retry_after: Some(s.to_string()), body: String::new(), latency: 5 }),
        1 => Just(Step::Fail { latency: 3 }),
        1 => Just(Step::Hang),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_event_is_delivered_dropped_or_pending_exactly_once(
        events in 1usize..120,
        batch in 1u32..30,
        script in prop::collection::vec(step(), 0..40),
        flushes in 1usize..4,
    ) {
        let w = world(config().max_batch_size(batch).flush_deadline_ms(5_000).request_timeout_ms(500));
        for i in 0..events {
            let props = JsonObject::parse(&format!(r#"{{"i":{i}}}"#)).unwrap();
            w.client.enqueue(&Event::track("p", "T", Some(props)).unwrap()).unwrap();
        }
        w.script(script);
        let mut delivered = 0;
        let mut dropped = 0;
        let mut last_pending = events as u32;
        for _ in 0..flushes {
            let report = run(&w.sim, w.client.flush());
            prop_assert!(report.failed <= report.pending);
            delivered += report.delivered;
            dropped += report.dropped;
            last_pending = report.pending;
        }
        prop_assert_eq!(delivered + dropped + last_pending, events as u32);
        let stats = w.client.stats();
        prop_assert_eq!(stats.delivered as u32, delivered);
        prop_assert_eq!(stats.queued + stats.in_flight, last_pending);

        // What the server acknowledged: each event at most once (this server
        // never loses a response), and exactly the events reported delivered.
        let sent = w.transport.sent.borrow();
        let answers = w.transport.answered_with.borrow();
        let mut acknowledged: HashMap<String, u32> = HashMap::new();
        for ((_, request), answer) in sent.iter().zip(answers.iter()) {
            prop_assert!(request.body.len() <= 256 * 1024);
            let Step::Answer { status: 200..=299, latency, .. } = answer else { continue };
            if *latency > u64::from(request.timeout_ms) {
                continue;
            }
            let body: serde_json::Value = serde_json::from_str(&request.body).unwrap();
            for entry in body["track"].as_array().unwrap() {
                let id = entry["payload"][0]["eventId"].as_str().unwrap().to_owned();
                *acknowledged.entry(id).or_default() += 1;
            }
        }
        prop_assert!(acknowledged.values().all(|n| *n == 1), "an event was acknowledged twice");
        prop_assert_eq!(acknowledged.len() as u32, delivered);
    }
}
