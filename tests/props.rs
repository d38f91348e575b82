//! Client-level properties in virtual time: whatever the server does, every
//! event is accounted for exactly once.
#![cfg(not(target_arch = "wasm32"))]

mod sim;

use std::collections::HashMap;

use std::cell::RefCell;
use std::rc::Rc;

use intempt_edge::{Event, Fate, FlushReport, JsonObject, Outbox, Storing};
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

/// A report adds up: the events of its reasons of each fate are its
/// `failed`, `dropped` and `stored`; what failed is still pending.
fn adds_up(report: &FlushReport) -> Result<(), TestCaseError> {
    let sum = |fate: Fate| -> u32 {
        report
            .reasons
            .iter()
            .filter(|r| r.fate == fate)
            .map(|r| r.events)
            .sum()
    };
    prop_assert_eq!(sum(Fate::Failed), report.failed, "failed: {:?}", report);
    prop_assert_eq!(sum(Fate::Dropped), report.dropped, "dropped: {:?}", report);
    prop_assert_eq!(sum(Fate::Stored), report.stored, "stored: {:?}", report);
    prop_assert!(report.failed <= report.pending, "{:?}", report);
    prop_assert!(report.reasons.iter().all(|r| r.events > 0), "{:?}", report);
    Ok(())
}

/// An outbox that stores (after 5 ms of virtual time) or refuses, by turns
/// from a script.
struct ScriptedOutbox {
    sim: Rc<Sim>,
    answers: RefCell<Vec<bool>>,
    stored: Rc<RefCell<Vec<String>>>,
}

impl Outbox for ScriptedOutbox {
    fn max_message_bytes(&self) -> usize {
        2_000
    }

    fn store(&self, messages: Vec<String>, _timeout_ms: u32, _detached: bool) -> Storing {
        let ok = self.answers.borrow_mut().pop().unwrap_or(true);
        let (sim, stored) = (self.sim.clone(), self.stored.clone());
        let until = sim.now.get() + 5;
        Box::pin(async move {
            sim.sleep_until(until).await;
            if ok {
                stored.borrow_mut().extend(messages);
                Ok(())
            } else {
                Err("refused".to_owned())
            }
        })
    }
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
            adds_up(&report)?;
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

    #[test]
    fn with_an_outbox_reports_add_up_and_every_event_is_delivered_dropped_stored_or_pending(
        events in 1usize..80,
        batch in 1u32..30,
        concurrent in 1u32..4,
        script in prop::collection::vec(step(), 0..40),
        outbox_answers in prop::collection::vec(any::<bool>(), 0..4),
        flushes in 1usize..4,
        deadline in 1_000u32..4_000,
    ) {
        let w = world(
            config()
                .max_batch_size(batch)
                .max_concurrent_requests(concurrent)
                .flush_deadline_ms(deadline)
                .request_timeout_ms(500),
        );
        let stored = Rc::new(RefCell::new(Vec::new()));
        let outbox = ScriptedOutbox { sim: w.sim.clone(), answers: RefCell::new(outbox_answers), stored: stored.clone() };
        let client = w.client.with_outbox(outbox);
        let w = World { client, ..w };
        for i in 0..events {
            let props = JsonObject::parse(&format!(r#"{{"i":{i}}}"#)).unwrap();
            w.client.enqueue(&Event::track("p", "T", Some(props)).unwrap()).unwrap();
        }
        w.script(script);
        let (mut delivered, mut dropped, mut in_outbox) = (0, 0, 0);
        let mut last_pending = events as u32;
        for _ in 0..flushes {
            let report = run(&w.sim, w.client.flush());
            adds_up(&report)?;
            delivered += report.delivered;
            dropped += report.dropped;
            in_outbox += report.stored;
            last_pending = report.pending;
        }
        prop_assert_eq!(delivered + dropped + in_outbox + last_pending, events as u32);
        let stats = w.client.stats();
        prop_assert_eq!(stats.stored as u32, in_outbox);
        let messages: usize = stored
            .borrow()
            .iter()
            .map(|m| serde_json::from_str::<serde_json::Value>(m).unwrap()["track"].as_array().unwrap().len())
            .sum();
        prop_assert_eq!(messages as u32, in_outbox, "the outbox holds exactly the events reported stored");
    }
}
