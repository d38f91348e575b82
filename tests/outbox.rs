//! The outbox in virtual time: what a failed flush stores (and only then),
//! in messages that fit, within the flush deadline; an outbox that fails
//! keeps the events in memory; and redelivery's verdicts.

mod sim;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use intempt_edge::{Cause, Event, Fate, JsonObject, Outbox, Redelivery, Storing};
use sim::*;

/// How the simulated outbox answers.
#[derive(Clone, Copy)]
enum Mode {
    /// Stores after 5 ms.
    Stores,
    /// Refuses after 5 ms.
    Refuses,
    /// Never answers; gives up at the timeout it was given.
    Hangs,
}

#[derive(Clone)]
struct SimOutbox {
    sim: Rc<Sim>,
    mode: Mode,
    max: usize,
    stored: Rc<RefCell<Vec<String>>>,
    /// (time of the call, timeout given)
    calls: Rc<RefCell<Vec<(u64, u32)>>>,
}

impl Outbox for SimOutbox {
    fn max_message_bytes(&self) -> usize {
        self.max
    }

    fn store(&self, messages: Vec<String>, timeout_ms: u32, _detached: bool) -> Storing {
        let (sim, mode, stored) = (self.sim.clone(), self.mode, self.stored.clone());
        let now = sim.now.get();
        self.calls.borrow_mut().push((now, timeout_ms));
        Box::pin(async move {
            match mode {
                Mode::Stores => {
                    sim.sleep_until(now + 5).await;
                    stored.borrow_mut().extend(messages);
                    Ok(())
                }
                Mode::Refuses => {
                    sim.sleep_until(now + 5).await;
                    Err("queue unavailable".to_owned())
                }
                Mode::Hangs => {
                    sim.sleep_until(now + u64::from(timeout_ms)).await;
                    Err("it did not finish".to_owned())
                }
            }
        })
    }
}

fn with_outbox(config: intempt_edge::ConfigBuilder, mode: Mode, max: usize) -> (World, SimOutbox) {
    let w = world(config);
    let outbox = SimOutbox {
        sim: w.sim.clone(),
        mode,
        max,
        stored: Rc::default(),
        calls: Rc::default(),
    };
    let client = w.client.with_outbox(outbox.clone());
    (World { client, ..w }, outbox)
}

fn track(w: &World, n: usize) {
    for i in 0..n {
        let props =
            JsonObject::parse(&format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(40))).unwrap();
        w.client
            .enqueue(&Event::track("p1", "Purchase", Some(props)).unwrap())
            .unwrap();
    }
}

fn ids_of(body: &str) -> Vec<String> {
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    body["track"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["payload"][0]["eventId"].as_str().unwrap().to_owned())
        .collect()
}

fn down() -> Step {
    Step::Fail { latency: 5 }
}

#[test]
fn a_flush_that_cannot_deliver_stores_every_event_before_its_deadline() {
    let (w, outbox) = with_outbox(
        config().flush_deadline_ms(2_000).max_batch_size(20),
        Mode::Stores,
        1_000,
    );
    *w.transport.fallback.borrow_mut() = down();
    track(&w, 50);
    let start = w.sim.now.get();
    let report = run(&w.sim, w.client.flush());
    assert!(
        w.sim.now.get() - start <= 2_000,
        "the flush ended within its deadline"
    );
    assert_eq!(
        (
            report.stored,
            report.failed,
            report.pending,
            report.delivered
        ),
        (50, 0, 0, 0)
    );
    assert!(report.timed_out);
    assert_eq!(report.reasons.len(), 1, "{:?}", report.reasons);
    assert_eq!(report.reasons[0].fate, Fate::Stored);
    assert_eq!(
        report.reasons[0].cause,
        Cause::Network,
        "why they were stored"
    );
    assert_eq!(report.reasons[0].events, 50);
    let stats = w.client.stats();
    assert_eq!((stats.stored, stats.queued, stats.in_flight), (50, 0, 0));
    // Every message fits the outbox, holds a track body with the events
    // exactly as they were sent (same ids, in order), and no key.
    let stored = outbox.stored.borrow();
    assert!(
        stored.len() > 1,
        "50 events of ~150 bytes need several 1000-byte messages"
    );
    let mut stored_ids = Vec::new();
    for message in stored.iter() {
        assert!(message.len() <= 1_000, "{} bytes", message.len());
        assert!(!message.contains("secret") && !message.contains("Basic"));
        stored_ids.extend(ids_of(message));
    }
    let mut sent_ids = w.sent_ids().concat();
    sent_ids.sort();
    sent_ids.dedup();
    assert_eq!(stored_ids.len(), 50);
    let mut sorted = stored_ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 50, "no event stored twice");
    assert!(
        sent_ids.iter().all(|id| stored_ids.contains(id)),
        "the ids tried are the ids stored"
    );
    // The store was called once, with the time left until the deadline.
    let calls = outbox.calls.borrow();
    assert_eq!(calls.len(), 1);
    assert_eq!(u64::from(calls[0].1), start + 2_000 - calls[0].0);
}

#[test]
fn a_healthy_flush_never_touches_the_outbox() {
    let (w, outbox) = with_outbox(config().max_batch_size(20), Mode::Stores, 1_000);
    track(&w, 50);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.delivered, report.stored), (50, 0));
    assert!(outbox.calls.borrow().is_empty());
    // Passing failures that a retry fixes within the deadline: nothing stored.
    w.script([status(503), down()]);
    track(&w, 5);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.delivered, report.stored, report.retries), (5, 0, 2));
    assert!(outbox.calls.borrow().is_empty());
}

#[test]
fn a_permanent_refusal_is_dropped_not_stored() {
    let (w, outbox) = with_outbox(config(), Mode::Stores, 1_000);
    w.script([with_body(400, r#"{"errors":[{"message":"bad event"}]}"#)]);
    track(&w, 3);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.dropped, report.stored), (3, 0));
    assert!(outbox.calls.borrow().is_empty());
}

#[test]
fn an_outbox_that_refuses_leaves_the_events_queued_for_the_next_flush() {
    let (w, outbox) = with_outbox(config().flush_deadline_ms(2_000), Mode::Refuses, 1_000);
    *w.transport.fallback.borrow_mut() = down();
    track(&w, 10);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.stored, report.failed, report.pending), (0, 10, 10));
    assert!(report
        .reasons
        .iter()
        .any(|r| (r.fate, r.cause, r.events) == (Fate::Failed, Cause::OutboxFailed, 10)));
    assert_eq!(outbox.calls.borrow().len(), 1);
    // The server is back: the same events, in their order, are delivered.
    let tried = w.sent_ids()[0].clone();
    *w.transport.fallback.borrow_mut() = status(201);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.delivered, report.pending), (10, 0));
    assert_eq!(w.sent_ids().last().unwrap(), &tried);
}

#[test]
fn an_outbox_that_never_answers_is_cut_at_the_flush_deadline() {
    let (w, _) = with_outbox(config().flush_deadline_ms(2_000), Mode::Hangs, 1_000);
    *w.transport.fallback.borrow_mut() = down();
    track(&w, 10);
    let start = w.sim.now.get();
    let report = run(&w.sim, w.client.flush());
    assert_eq!(w.sim.now.get() - start, 2_000);
    assert_eq!((report.stored, report.pending), (0, 10));
    assert_eq!(w.client.stats().queued, 10);
}

#[test]
fn an_event_larger_than_a_message_stays_in_memory() {
    let (w, outbox) = with_outbox(config().flush_deadline_ms(2_000), Mode::Stores, 1_024);
    *w.transport.fallback.borrow_mut() = down();
    let big = JsonObject::parse(&format!(r#"{{"blob":"{}"}}"#, "y".repeat(2_000))).unwrap();
    w.client
        .enqueue(&Event::track("p1", "Big", Some(big)).unwrap())
        .unwrap();
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.stored, report.pending), (0, 1));
    assert!(report
        .reasons
        .iter()
        .any(|r| (r.fate, r.cause, r.events) == (Fate::Failed, Cause::TooLarge, 1)));
    assert!(outbox.calls.borrow().is_empty());
}

#[test]
fn redelivery_sends_the_stored_body_with_the_key_and_reads_the_answer() {
    let w = world(config());
    let body = r#"{"track":[{"name":"Purchase","payload":[{"eventId":"e1","timestamp":1714631904000,"profileId":"p1"}]}]}"#;
    let answer = |step: Step, attempts: u32| {
        w.script([step]);
        run(&w.sim, w.client.redeliver(body, attempts, 8_000))
    };
    assert_eq!(answer(status(201), 1), Redelivery::Delivered);
    let sent = w.transport.sent.borrow().last().unwrap().1.clone();
    assert_eq!(sent.body, body, "the stored bytes, unchanged");
    assert!(sent.url.ends_with("/sources/616010376811536384/track"));
    assert!(sent
        .headers
        .iter()
        .any(|(name, value)| *name == "Authorization" && value.starts_with("Basic ")));

    let retry_after = Step::Answer {
        status: 503,
        retry_after: Some("30".into()),
        body: String::new(),
        latency: 10,
    };
    assert!(matches!(
        answer(retry_after, 1),
        Redelivery::Retry {
            after_ms: 30_000,
            status: Some(503),
            ..
        }
    ));
    // Backoff doubles from a second with the attempts, up to the ceiling.
    let Redelivery::Retry { after_ms, .. } = answer(status(503), 1) else {
        panic!()
    };
    assert!((500..=1_000).contains(&after_ms), "{after_ms}");
    let Redelivery::Retry { after_ms, .. } = answer(down(), 3) else {
        panic!()
    };
    assert!((2_000..=4_000).contains(&after_ms), "{after_ms}");
    let Redelivery::Retry { after_ms, .. } = answer(status(429), 30) else {
        panic!()
    };
    assert!((4_000..=8_000).contains(&after_ms), "{after_ms}");

    let refused = answer(
        with_body(400, r#"{"errors":[{"message":"bad event name"}]}"#),
        1,
    );
    assert_eq!(
        refused,
        Redelivery::Dropped {
            status: Some(400),
            reason: "bad event name".into()
        }
    );
    assert!(matches!(
        answer(status(413), 1),
        Redelivery::Dropped {
            status: Some(413),
            ..
        }
    ));
}

#[test]
fn redelivery_drops_what_is_not_a_stored_batch_without_sending() {
    let w = world(config());
    for body in ["", "hello", r#"{"events":[]}"#, r#"{"track":[1,2"#] {
        assert!(matches!(
            run(&w.sim, w.client.redeliver(body, 1, 8_000)),
            Redelivery::Dropped { status: None, .. }
        ));
    }
    assert!(w.transport.sent.borrow().is_empty());
}

/// A flush run beside another; the caller's says what it saw when it returned.
type Racing<'a> = Pin<Box<dyn Future<Output = Option<(u32, u32)>> + 'a>>;

#[test]
fn a_flush_that_ends_first_keeps_going_until_other_flushes_have_stored_their_batches() {
    // A full batch starts a background flush (nothing awaits it: its waits
    // would not keep a process alive); the caller's flush gives up early
    // (no latency known, half its deadline needed per request). When the
    // caller's flush returns, nothing may be left only in memory.
    let (w, outbox) = with_outbox(
        config().flush_deadline_ms(2_000).max_batch_size(25),
        Mode::Stores,
        100_000,
    );
    *w.transport.fallback.borrow_mut() = down();
    // The background flush's first answer is slow: it is still retrying
    // when the caller's flush, whose requests fail at once, gives up.
    w.script([Step::Answer {
        status: 503,
        retry_after: None,
        body: String::new(),
        latency: 250,
    }]);
    track(&w, 50);
    let background: Racing<'_> = Box::pin(async {
        w.client.background_flush(true).await;
        None
    });
    let awaited: Racing<'_> = Box::pin(async {
        let report = w.client.flush().await;
        let stats = w.client.stats();
        Some((report.stored, stats.queued + stats.in_flight))
    });
    let out = run_all(&w.sim, vec![background, awaited]);
    let (stored_by_caller, left_in_memory) = out[1].unwrap();
    assert_eq!(
        left_in_memory, 0,
        "nothing is left only in memory when flush() returns"
    );
    assert!(stored_by_caller >= 25);
    assert_eq!(w.client.stats().stored, 50);
    let ids: usize = outbox.stored.borrow().iter().map(|m| ids_of(m).len()).sum();
    assert_eq!(ids, 50);
}

/// A stored batch of `n` events with the ids `e0`, `e1`, …
fn stored_batch(n: usize) -> String {
    let entries: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"name":"Purchase","payload":[{{"eventId":"e{i}","timestamp":1714631904000,"profileId":"p1","properties":{{"s":"a, \"b\" ] }} ["}}}}]}}"#
            )
        })
        .collect();
    format!(r#"{{"track":[{}]}}"#, entries.join(","))
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("e{i}")).collect()
}

#[test]
fn a_413_during_redelivery_splits_the_stored_batch_as_a_flush_does() {
    let w = world(config());
    let body = stored_batch(20);
    // 20 → 413; the first 10 → 413; 5, 5 and the last 10 → accepted.
    w.script([
        status(413),
        status(413),
        status(201),
        status(201),
        status(201),
    ]);
    assert_eq!(
        run(&w.sim, w.client.redeliver(&body, 1, 8_000)),
        Redelivery::Delivered
    );
    let sent = w.sent_ids();
    assert_eq!(
        sent,
        vec![ids(0..20), ids(0..10), ids(0..5), ids(5..10), ids(10..20)]
    );
    // Each half is a valid track body, the entries' bytes unchanged.
    for (_, request) in w.transport.sent.borrow().iter() {
        assert!(body.contains(&request.body[10..request.body.len() - 2]));
    }
}

#[test]
fn a_single_event_still_too_large_is_dropped_and_the_rest_delivered() {
    let w = world(config());
    let body = stored_batch(2);
    w.script([
        status(413),
        with_body(413, r#"{"errors":[{"message":"too large"}]}"#),
        status(201),
    ]);
    let Redelivery::Dropped { status, reason } = run(&w.sim, w.client.redeliver(&body, 1, 8_000))
    else {
        panic!("one event was refused for good")
    };
    assert_eq!(status, Some(413));
    assert!(
        reason.starts_with(
            "too large (1 events of the stored batch, split after a 413; 1 delivered)"
        ),
        "{reason}"
    );
    assert_eq!(w.sent_ids(), vec![ids(0..2), ids(0..1), ids(1..2)]);
}

#[test]
fn halves_that_end_differently_lose_nothing_the_undelivered_half_is_stored_again() {
    // The first half is delivered, the second meets a passing failure: the
    // second half is stored as a new message and the original is done. No
    // event lost, none sent twice.
    let (w, outbox) = with_outbox(config(), Mode::Stores, 100_000);
    let body = stored_batch(20);
    w.script([status(413), status(201), status(503)]);
    assert_eq!(
        run(&w.sim, w.client.redeliver(&body, 1, 8_000)),
        Redelivery::Delivered
    );
    assert_eq!(w.sent_ids(), vec![ids(0..20), ids(0..10), ids(10..20)]);
    let stored = outbox.stored.borrow();
    assert_eq!(stored.len(), 1);
    assert_eq!(ids_of(&stored[0]), ids(10..20));

    // The first half fails: the second is not sent, and it is stored with
    // the first once something was delivered… here nothing was: the whole
    // message is retried, nothing stored, nothing sent twice.
    drop(stored);
    w.transport.sent.borrow_mut().clear();
    w.script([status(413), status(503)]);
    assert!(matches!(
        run(&w.sim, w.client.redeliver(&body, 1, 8_000)),
        Redelivery::Retry {
            status: Some(503),
            ..
        }
    ));
    assert_eq!(w.sent_ids(), vec![ids(0..20), ids(0..10)]);
    assert_eq!(outbox.stored.borrow().len(), 1, "nothing more stored");

    // Deeper: 20 → 413, 10 → 413, 5 delivered, 5 refused for now (503):
    // the 5 and the untried last 10 are stored again, in order.
    w.transport.sent.borrow_mut().clear();
    w.script([status(413), status(413), status(201), down()]);
    assert_eq!(
        run(&w.sim, w.client.redeliver(&body, 1, 8_000)),
        Redelivery::Delivered
    );
    assert_eq!(
        w.sent_ids(),
        vec![ids(0..20), ids(0..10), ids(0..5), ids(5..10)]
    );
    let stored = outbox.stored.borrow();
    let again: Vec<Vec<String>> = stored[1..].iter().map(|m| ids_of(m)).collect();
    assert_eq!(again, vec![ids(5..10), ids(10..20)]);
}

#[test]
fn halves_that_end_differently_without_an_outbox_retry_the_whole_batch() {
    // Nowhere to put the undelivered half: the message is retried whole
    // (the delivered half arrives again: at-least-once), never lost.
    let w = world(config());
    let body = stored_batch(20);
    w.script([status(413), status(201), status(503)]);
    assert!(matches!(
        run(&w.sim, w.client.redeliver(&body, 1, 8_000)),
        Redelivery::Retry {
            status: Some(503),
            ..
        }
    ));
    // An outbox that fails to store: the same.
    let (w, _) = with_outbox(config(), Mode::Refuses, 100_000);
    w.script([status(413), status(201), status(503)]);
    assert!(matches!(
        run(&w.sim, w.client.redeliver(&body, 1, 8_000)),
        Redelivery::Retry { .. }
    ));
    // One half refused for good, the other to retry, with an outbox: the
    // refused half is dropped (and said), the other stored again.
    let (w, outbox) = with_outbox(config(), Mode::Stores, 100_000);
    w.script([
        status(413),
        with_body(400, r#"{"errors":[{"message":"bad event"}]}"#),
        status(503),
    ]);
    let Redelivery::Dropped { status, reason } = run(&w.sim, w.client.redeliver(&body, 1, 8_000))
    else {
        panic!()
    };
    assert_eq!(status, Some(400));
    assert!(reason.contains("10 events of the stored batch"), "{reason}");
    assert_eq!(ids_of(&outbox.stored.borrow()[0]), ids(10..20));
}

#[test]
fn a_report_s_reasons_add_up_to_its_counts_when_events_are_stored_unsent() {
    // One request at a time, one event per batch, a server that never
    // answers: the first event times out (a reason), the second is never
    // sent before the deadline. Both are stored; the report says why for
    // both (on 8bc9077: stored 2, the only reason's events 1).
    let (w, _) = with_outbox(
        config()
            .flush_deadline_ms(2_000)
            .max_batch_size(1)
            .max_concurrent_requests(1),
        Mode::Stores,
        100_000,
    );
    *w.transport.fallback.borrow_mut() = Step::Hang;
    track(&w, 2);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.stored, report.pending), (2, 0), "{report:?}");
    let stored: u32 = report
        .reasons
        .iter()
        .filter(|r| r.fate == Fate::Stored)
        .map(|r| r.events)
        .sum();
    assert_eq!(stored, report.stored, "{:?}", report.reasons);
    let causes: Vec<_> = report.reasons.iter().map(|r| (r.fate, r.cause)).collect();
    assert_eq!(
        causes,
        [
            (Fate::Stored, Cause::Timeout),
            (Fate::Stored, Cause::Deadline)
        ]
    );
}

#[test]
fn an_event_that_fails_for_two_reasons_counts_once_under_the_latest() {
    // A 503, then a timeout, then the outbox: one event, one stored reason.
    let (w, _) = with_outbox(
        config().flush_deadline_ms(4_000).request_timeout_ms(500),
        Mode::Stores,
        100_000,
    );
    w.script([status(503)]);
    *w.transport.fallback.borrow_mut() = Step::Hang;
    track(&w, 1);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(report.stored, 1, "{report:?}");
    assert_eq!(report.reasons.len(), 1, "{:?}", report.reasons);
    assert_eq!(report.reasons[0].events, 1);
    assert_eq!(report.reasons[0].fate, Fate::Stored);
    assert_eq!(report.reasons[0].cause, Cause::Timeout, "the latest cause");
}
