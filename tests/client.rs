//! The client's lifecycle in virtual time: batching triggers, flush reports,
//! retries, deadlines, the queue bound, concurrency and leases.

mod sim;

use std::pin::Pin;
use std::task::{Context, Waker};

use intempt_edge::{Cause, ErrorCode, Event, Fate, FlushReport, JsonObject, Trigger};
use sim::*;

fn track(w: &World, n: usize) -> Vec<Trigger> {
    (0..n)
        .map(|i| {
            let props = JsonObject::parse(&format!(r#"{{"i":{i}}}"#)).unwrap();
            w.client
                .enqueue(&Event::track("p1", "Purchase", Some(props)).unwrap())
                .unwrap()
        })
        .collect()
}

#[test]
fn the_first_event_arms_the_timer_and_a_full_batch_flushes() {
    let w = world(config().batch_time_ms(100).max_batch_size(5));
    let triggers = track(&w, 5);
    assert_eq!(
        triggers,
        [
            Trigger::ArmTimer(100),
            Trigger::None,
            Trigger::None,
            Trigger::None,
            Trigger::FlushNow
        ]
    );
    // While a background flush runs, full batches do not start another; it
    // sends the events recorded before it started, and its follow-up (a
    // batch timer) covers the rest.
    let report = run(&w.sim, async {
        let flush = w.client.background_flush(false);
        let mut flush = Box::pin(flush);
        let _ = flush.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert_eq!(track(&w, 5)[4], Trigger::None);
        flush.await
    });
    assert_eq!((report.delivered, report.pending), (5, 5));
    assert_eq!(
        w.client.follow_up(),
        Trigger::None,
        "the timer the first event armed covers them"
    );
    w.client.timer_fired();
    let report = run(&w.sim, w.client.background_flush(false));
    assert_eq!((report.delivered, report.pending), (5, 0));
    assert_eq!(w.client.follow_up(), Trigger::None, "nothing left");
    assert_eq!(
        w.sent_ids().iter().map(Vec::len).collect::<Vec<_>>(),
        [5, 5]
    );
}

#[test]
fn a_background_flush_that_fails_in_an_outage_asks_for_no_follow_up() {
    let w = world(
        config()
            .batch_time_ms(100)
            .max_batch_size(5)
            .flush_deadline_ms(1_000),
    );
    *w.transport.fallback.borrow_mut() = status(503);
    track(&w, 5);
    w.client.timer_fired();
    let report = run(&w.sim, w.client.background_flush(true));
    assert_eq!((report.delivered, report.pending), (0, 5));
    // Its own events wait for the next flush: no chain of flushes in an outage.
    assert_eq!(w.client.follow_up(), Trigger::None);
}

#[test]
fn a_full_batch_recorded_during_a_background_flush_gets_a_follow_up_timer() {
    let w = world(config().batch_time_ms(100).max_batch_size(1));
    assert_eq!(track(&w, 1), [Trigger::FlushNow]);
    let report = run(&w.sim, async {
        let mut flush = Box::pin(w.client.background_flush(false));
        let _ = flush.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        // Full, and a background flush runs: no trigger of its own.
        assert_eq!(track(&w, 1), [Trigger::None]);
        flush.await
    });
    assert_eq!((report.delivered, report.pending), (1, 1));
    assert_eq!(w.client.follow_up(), Trigger::ArmTimer(100));
    assert_eq!(w.client.follow_up(), Trigger::None, "one timer covers it");
    w.client.timer_fired();
    let report = run(&w.sim, w.client.background_flush(false));
    assert_eq!((report.delivered, report.pending), (1, 0));
}

use std::future::Future;

#[test]
fn a_burst_past_a_full_batch_asks_for_one_background_flush() {
    let w = world(config().max_batch_size(5));
    let triggers = track(&w, 50);
    assert_eq!(
        triggers.iter().filter(|t| **t == Trigger::FlushNow).count(),
        1,
        "{triggers:?}"
    );
    // Once it has run, the next full batch asks again.
    let report = run(&w.sim, w.client.background_flush(false));
    assert_eq!(report.delivered, 50);
    assert_eq!(track(&w, 5)[4], Trigger::FlushNow);
    // A requested flush that never starts (its context died) stops
    // suppressing new requests after the flush deadline and grace.
    w.sim.now.set(w.sim.now.get() + 10_000 + 2_001);
    assert_eq!(track(&w, 1)[0], Trigger::FlushNow);
}

#[test]
fn a_flush_of_the_callers_clears_the_request_for_a_background_flush() {
    // A Rust caller that answers FlushNow with Client::flush (not
    // background_flush) must still get FlushNow for the next full batch,
    // not Trigger::None for the flush deadline and its grace.
    let w = world(config().max_batch_size(5));
    assert_eq!(track(&w, 5)[4], Trigger::FlushNow);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(report.delivered, 5);
    assert_eq!(track(&w, 5)[4], Trigger::FlushNow);
}

#[test]
fn the_byte_limit_triggers_and_cuts_batches() {
    // Each entry is ~150 bytes; 400 bytes hold two.
    let w = world(
        config()
            .max_batch_size(100)
            .max_event_bytes(256)
            .max_batch_bytes(400),
    );
    let triggers = track(&w, 3);
    assert_eq!(triggers[0], Trigger::ArmTimer(100));
    assert!(triggers.contains(&Trigger::FlushNow), "{triggers:?}");
    let report = run(&w.sim, w.client.flush());
    assert_eq!(report.delivered, 3);
    for (_, request) in w.transport.sent.borrow().iter() {
        assert!(request.body.len() <= 400, "{} bytes", request.body.len());
    }
    assert_eq!(
        w.sent_ids().iter().map(Vec::len).collect::<Vec<_>>(),
        [2, 1]
    );
}

#[test]
fn a_dead_timer_is_armed_again() {
    let w = world(config().batch_time_ms(100));
    assert_eq!(track(&w, 1)[0], Trigger::ArmTimer(100));
    w.sim.now.set(w.sim.now.get() + 500);
    assert_eq!(
        track(&w, 1)[0],
        Trigger::None,
        "timer still within its grace"
    );
    w.sim.now.set(w.sim.now.get() + 1_000);
    assert_eq!(
        track(&w, 1)[0],
        Trigger::ArmTimer(100),
        "a timer that never fired is replaced"
    );
    w.client.timer_fired();
    assert_eq!(track(&w, 1)[0], Trigger::ArmTimer(100));
}

#[test]
fn flush_sends_everything_in_order_with_exact_request_count() {
    let w = world(config().max_batch_size(20));
    track(&w, 45);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(
        (
            report.delivered,
            report.failed,
            report.dropped,
            report.pending
        ),
        (45, 0, 0, 0)
    );
    assert_eq!(report.requests, 3);
    let ids: Vec<String> = w.sent_ids().concat();
    assert_eq!(ids.len(), 45);
    let bodies = w.bodies();
    let is: Vec<i64> = bodies
        .iter()
        .flat_map(|b| b["track"].as_array().unwrap().clone())
        .map(|e| e["payload"][0]["data"]["i"].as_i64().unwrap())
        .collect();
    assert_eq!(is, (0..45).collect::<Vec<_>>());
    for (_, request) in w.transport.sent.borrow().iter() {
        assert_eq!(request.url, "http://127.0.0.1:9/v1/demo-organization/projects/demo-project/sources/616010376811536384/track");
        assert!(request
            .headers
            .contains(&("Authorization", "Basic aWQ6c2VjcmV0".to_owned())));
    }
    // Timestamps are taken at the call, in ms.
    assert_eq!(
        bodies[0]["track"][0]["payload"][0]["timestamp"].as_u64(),
        Some(T0)
    );
    // Nothing left: a second flush sends nothing.
    let again = run(&w.sim, w.client.flush());
    assert_eq!((again.delivered, again.requests), (0, 0));
}

#[test]
fn retries_resend_the_same_bytes_and_report_it() {
    let w = world(config());
    track(&w, 3);
    w.script([status(503), Step::Fail { latency: 5 }, status(201)]);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(
        (
            report.delivered,
            report.failed,
            report.retries,
            report.requests
        ),
        (3, 0, 2, 3)
    );
    assert!(
        report.reasons.is_empty(),
        "delivered in the end: no reasons"
    );
    let sent = w.transport.sent.borrow();
    assert_eq!(sent[0].1.body, sent[1].1.body);
    assert_eq!(sent[1].1.body, sent[2].1.body);
    // Backoff: first wait in [100, 200] ms after the 503 arrived (10 ms latency).
    let gap = sent[1].0 - sent[0].0 - 10;
    assert!((100..=200).contains(&gap), "gap {gap}");
}

#[test]
fn retry_after_is_honoured() {
    let w = world(config());
    track(&w, 1);
    w.script([Step::Answer {
        status: 429,
        retry_after: Some("2".into()),
        body: String::new(),
        latency: 10,
    }]);
    run(&w.sim, w.client.flush());
    let sent = w.transport.sent.borrow();
    assert_eq!(sent[1].0 - sent[0].0, 10 + 2_000);
}

#[test]
fn a_retry_after_pause_holds_across_flushes() {
    let w = world(config().flush_deadline_ms(5_000));
    track(&w, 2);
    // Asks for 30 s (capped at 10 s): longer than this flush's deadline.
    w.script([Step::Answer {
        status: 429,
        retry_after: Some("30".into()),
        body: String::new(),
        latency: 10,
    }]);
    let first = run(&w.sim, w.client.flush());
    assert_eq!(
        (
            first.delivered,
            first.failed,
            first.pending,
            first.timed_out
        ),
        (0, 2, 2, true)
    );
    let paused_at = w.sim.now.get();
    // A flush during the pause does not call the server, and does not
    // return at once either (a caller flushing in a loop would spin): it
    // waits for the pause until its own deadline.
    let second = run(&w.sim, w.client.flush());
    assert_eq!(
        (second.requests, second.pending, second.timed_out),
        (0, 2, true)
    );
    assert_eq!(w.sim.now.get(), paused_at + 5_000);
    // A flush whose deadline reaches past the pause waits for it, then sends.
    w.sim.now.set(paused_at + 6_000);
    let third = run(&w.sim, w.client.flush());
    assert_eq!(w.sim.now.get(), paused_at + 10_000 + 10);
    assert_eq!((third.delivered, third.pending), (2, 0));
    let sent = w.transport.sent.borrow();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].0 >= sent[0].0 + 10 + 10_000,
        "the second request waited for the pause"
    );
}

#[test]
fn non_retryable_statuses_drop_with_the_servers_message() {
    let w = world(config());
    track(&w, 2);
    w.script([with_body(
        400,
        r#"{"errors":[{"message":"bad event name"}]}"#,
    )]);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(
        (
            report.delivered,
            report.dropped,
            report.failed,
            report.pending
        ),
        (0, 2, 0, 0)
    );
    assert_eq!(report.reasons.len(), 1);
    let reason = &report.reasons[0];
    assert_eq!(
        (reason.fate, reason.cause, reason.status, reason.events),
        (Fate::Dropped, Cause::HttpStatus(400), Some(400), 2)
    );
    assert_eq!(
        reason.message, "bad event name",
        "the server's message, for people"
    );
    assert_eq!(w.client.stats().dropped, 2);
}

#[test]
fn a_413_splits_the_batch_and_drops_only_a_single_event_that_still_fails() {
    let w = world(config());
    track(&w, 4);
    // 4 → 413; 2 → 201; 2 → 413; 1 → 413 (dropped); 1 → 201.
    w.script([
        status(413),
        status(201),
        status(413),
        status(413),
        status(201),
    ]);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(
        (report.delivered, report.dropped, report.pending),
        (3, 1, 0)
    );
    assert_eq!(
        w.sent_ids().iter().map(Vec::len).collect::<Vec<_>>(),
        [4, 2, 2, 1, 1]
    );
    assert_eq!(report.reasons[0].status, Some(413));
    assert_eq!(report.reasons[0].cause, Cause::HttpStatus(413));
}

#[test]
fn a_server_that_never_answers_ends_at_the_deadline_and_keeps_the_events() {
    let w = world(config().flush_deadline_ms(3_000).request_timeout_ms(1_000));
    track(&w, 5);
    *w.transport.fallback.borrow_mut() = Step::Hang;
    let start = w.sim.now.get();
    let report = run(&w.sim, w.client.flush());
    let took = w.sim.now.get() - start;
    assert!(took <= 3_000, "flush took {took} ms");
    assert!(report.timed_out);
    assert_eq!((report.delivered, report.failed, report.pending), (0, 5, 5));
    assert_eq!(report.reasons.len(), 1, "{:?}", report.reasons);
    let reason = &report.reasons[0];
    assert_eq!(
        (reason.fate, reason.cause, reason.status, reason.events),
        (Fate::Failed, Cause::Timeout, None, 5)
    );
    let ids = w.sent_ids();
    assert!(ids.len() >= 2, "retried within the deadline");
    // The next flush delivers the same events (same ids).
    *w.transport.fallback.borrow_mut() = status(201);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.delivered, report.pending), (5, 0));
    assert_eq!(w.sent_ids().last().unwrap(), &ids[0]);
}

#[test]
fn the_queue_is_bounded_and_refuses_without_losing_anything() {
    let w = world(config().max_queue_events(5));
    track(&w, 5);
    let err = w
        .client
        .enqueue(&Event::track("p", "T", None).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::QueueFull);
    assert_eq!(w.client.stats().queued, 5);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(report.delivered, 5);
    assert!(w
        .client
        .enqueue(&Event::track("p", "T", None).unwrap())
        .is_ok());
}

#[test]
fn an_event_over_the_byte_limit_is_refused_up_front() {
    let w = world(config().max_event_bytes(300));
    track(&w, 1);
    let big = JsonObject::parse(&format!(r#"{{"s":"{}"}}"#, "x".repeat(300))).unwrap();
    let err = w
        .client
        .enqueue(&Event::track("p", "T", Some(big)).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::EventTooLarge);
    assert!(err.message().contains("300"));
    assert_eq!(run(&w.sim, w.client.flush()).delivered, 1);
}

#[test]
fn concurrent_flushes_share_the_work_and_both_wait_for_it() {
    let w = world(config().max_batch_size(10));
    track(&w, 35);
    w.script((0..10).map(|i| Step::Answer {
        status: 201,
        retry_after: None,
        body: String::new(),
        latency: 50 + i * 7,
    }));
    let reports = run_all(
        &w.sim,
        vec![
            Box::pin(w.client.flush()),
            Box::pin(w.client.flush()),
            Box::pin(w.client.flush()),
        ],
    );
    let delivered: u32 = reports.iter().map(|r| r.delivered).sum();
    assert_eq!(delivered, 35);
    assert!(
        reports.iter().all(|r| r.pending == 0 && r.failed == 0),
        "{reports:?}"
    );
    assert_eq!(w.distinct_ids(), 35, "every event exactly once");
    assert_eq!(w.transport.sent.borrow().len(), 4);
}

/// A flush answers for the events recorded before it: later ones may leave
/// in its batches, but it does not wait for them (on a client shared by a
/// stream of requests it would rarely see the queue empty, and would end at
/// its deadline). Here the 3 later events do not fit its batches of 2.
#[test]
fn a_flush_settles_the_events_recorded_before_it_not_later_ones() {
    let w = world(config().max_batch_size(2));
    track(&w, 2);
    w.script([Step::Answer {
        status: 201,
        retry_after: None,
        body: String::new(),
        latency: 100,
    }]);
    let report = run(&w.sim, async {
        let mut flush = Box::pin(w.client.flush());
        let _ = flush.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        track(&w, 3);
        flush.await
    });
    assert_eq!((report.delivered, report.pending), (2, 3));
    assert!(!report.timed_out);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.delivered, report.pending), (3, 0));
}

/// On a shared client under a steady stream of requests (each recording
/// events and flushing), every flush ends once its own events are settled,
/// well before its deadline, and none times out; with an outbox, nothing
/// is stored while the server accepts everything.
#[test]
fn under_a_steady_stream_each_flush_ends_with_its_own_events() {
    let w = workers_world(config().max_batch_size(20).flush_deadline_ms(2_000));
    let w = World {
        client: w.client.with_outbox(NeverCalledOutbox),
        ..w
    };
    *w.transport.fallback.borrow_mut() = answers(201, 80);
    type Timed<'a> = Pin<Box<dyn Future<Output = (u64, FlushReport)> + 'a>>;
    let requests: Vec<Timed<'_>> = (0..200u64)
        .map(|r| {
            let w = &w;
            Box::pin(async move {
                w.sim.sleep_until(T0 + r * 10).await;
                track(w, 5);
                let report = w.client.flush().await;
                (w.sim.now.get() - (T0 + r * 10), report)
            }) as Timed<'_>
        })
        .collect();
    let tasks = run_tasks(&w.sim, requests);
    assert_eq!(tasks.cross_wakes, []);
    let slowest = tasks.outputs.iter().map(|(ms, _)| *ms).max().unwrap();
    assert!(slowest < 1_000, "the slowest flush took {slowest} ms");
    assert!(tasks
        .outputs
        .iter()
        .all(|(_, r)| !r.timed_out && r.stored == 0));
    let stats = w.client.stats();
    assert_eq!(
        (stats.delivered, stats.stored, stats.queued, stats.in_flight),
        (1_000, 0, 0, 0)
    );
}

/// An outbox that accepts everything (a healthy flush never calls it).
struct NeverCalledOutbox;

impl intempt_edge::Outbox for NeverCalledOutbox {
    fn max_message_bytes(&self) -> usize {
        100_000
    }
    fn store(&self, _: Vec<String>, _: u32, _: bool) -> intempt_edge::Storing {
        Box::pin(std::future::ready(Ok(())))
    }
}

#[test]
fn a_batch_whose_flush_vanished_is_taken_back_after_its_lease() {
    let w = world(config().flush_deadline_ms(1_000));
    track(&w, 3);
    w.script([Step::Vanish]);
    {
        // A flush whose request context was cancelled: polled once, then abandoned.
        let mut lost: Pin<Box<dyn Future<Output = _>>> = Box::pin(w.client.flush());
        let _ = lost.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert_eq!(w.client.stats().in_flight, 3);
        // A flush during the lease waits for it, within its own deadline.
        let report = run(&w.sim, w.client.flush());
        assert_eq!(
            (report.delivered, report.pending, report.timed_out),
            (0, 3, true)
        );
        std::mem::forget(lost);
    }
    w.sim.now.set(w.sim.now.get() + 3_000);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.delivered, report.pending), (3, 0));
    let ids = w.sent_ids();
    assert_eq!(ids[0], ids[1], "the same events, same ids");
}

#[test]
fn opt_out_counts_and_drops_tracking_until_opt_in() {
    let w = world(config());
    w.client.opt_out();
    assert_eq!(track(&w, 3), [Trigger::None; 3]);
    assert_eq!(w.client.stats().opted_out, 3);
    assert_eq!(w.client.stats().queued, 0);
    w.client.opt_in();
    track(&w, 1);
    assert_eq!(run(&w.sim, w.client.flush()).delivered, 1);
}

#[test]
fn close_flushes_then_refuses() {
    let w = world(config());
    track(&w, 2);
    let report = run(&w.sim, w.client.close());
    assert_eq!(report.delivered, 2);
    let err = w
        .client
        .enqueue(&Event::track("p", "T", None).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Closed);
}

#[test]
fn event_ids_are_unique_uuid_v4() {
    // 600 ids: more than two pools of random bytes (256 ids each, the
    // first made on the first event).
    let w = world(config().max_batch_size(100));
    track(&w, 600);
    run(&w.sim, w.client.flush());
    let ids = w.sent_ids().concat();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 600);
    for id in ids {
        let b = id.as_bytes();
        assert_eq!(b.len(), 36);
        assert_eq!(
            (b[8], b[13], b[14], b[18], b[23]),
            (b'-', b'-', b'4', b'-', b'-')
        );
        assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'));
        assert!(id
            .bytes()
            .all(|c| c == b'-' || c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    }
}

#[test]
fn a_flush_keeps_the_batch_it_is_retrying_and_reports_it_honestly() {
    let w = world(config());
    track(&w, 4);
    w.script([status(503), status(201)]);
    // The caller's flush gets the 503 and backs off; a timer flush starts
    // during the backoff. It must wait, not steal the batch.
    let reports = run_all(
        &w.sim,
        vec![
            Box::pin(w.client.flush()),
            Box::pin(async {
                w.client.timer_fired();
                w.sim.sleep_until(T0 + 50).await;
                w.client.background_flush(false).await
            }),
        ],
    );
    let (caller, timer) = (&reports[0], &reports[1]);
    assert_eq!(
        (
            caller.delivered,
            caller.failed,
            caller.retries,
            caller.pending
        ),
        (4, 0, 1, 0),
        "{caller:?}"
    );
    assert!(caller.reasons.is_empty(), "{caller:?}");
    assert_eq!(
        (timer.delivered, timer.failed, timer.requests, timer.pending),
        (0, 0, 0, 0),
        "{timer:?}"
    );
    let ids = w.sent_ids();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "the same bytes were resent");
}

/// A client in a world of its own whose warnings go to the returned lines.
fn warned_world(
    config: intempt_edge::ConfigBuilder,
) -> (World, std::rc::Rc<std::cell::RefCell<Vec<String>>>) {
    use std::cell::RefCell;
    use std::rc::Rc;
    let lines = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = lines.clone();
    let w = world(config);
    let client = intempt_edge::Client::new(
        w.client.config().clone(),
        SimNet(w.transport.clone()),
        SimClock(w.sim.clone()),
        SimRandom::default(),
    )
    .with_warnings(move |line| sink.borrow_mut().push(line.to_owned()));
    (World { client, ..w }, lines)
}

#[test]
fn warnings_say_what_failed_once_a_minute_and_when_deliveries_resume() {
    let (w, lines) = warned_world(config().auth_mode(intempt_edge::AuthMode::Query));
    // An outage of 90 s: every flush fails; lines at the first failure and a
    // minute later, with the count of the failures in between.
    *w.transport.fallback.borrow_mut() = with_body(503, r#"{"errors":[{"message":"busy"}]}"#);
    let mut failed_requests = 0;
    while w.sim.now.get() < T0 + 90_000 {
        track(&w, 1);
        failed_requests += run(&w.sim, w.client.flush()).requests;
        w.sim.now.set(w.sim.now.get() + 5_000);
    }
    let track_url = "http://127.0.0.1:9/v1/demo-organization/projects/demo-project/sources/616010376811536384/track";
    {
        let lines = lines.borrow();
        assert_eq!(
            lines.len(),
            2,
            "{failed_requests} failed requests: {lines:#?}"
        );
        assert_eq!(
            lines[0],
            format!("[intempt-edge] could not deliver 1 events: POST {track_url} -> HTTP 503: busy; they stay queued and are retried. The API is down or limiting; an outbox keeps batches. (warnings: false silences this)")
        );
        let unreported = lines[1]
            .split(" (")
            .last()
            .and_then(|tail| tail.strip_suffix(" more failures since the last warning)"))
            .unwrap_or_else(|| panic!("{}", lines[1]))
            .parse::<u32>()
            .unwrap();
        assert!(
            unreported > 0 && unreported < failed_requests,
            "{}",
            lines[1]
        );
        for line in lines.iter() {
            assert!(
                !line.contains("secret") && !line.contains("apiKey"),
                "{line}"
            );
        }
    }
    // Deliveries resume: one line, then nothing while they go on.
    *w.transport.fallback.borrow_mut() = status(201);
    for _ in 0..3 {
        track(&w, 1);
        run(&w.sim, w.client.flush());
    }
    let lines = lines.borrow();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!(
        lines[2],
        format!("[intempt-edge] delivering again to {track_url}")
    );
}

#[test]
fn warnings_say_what_was_dropped_and_what_to_fix() {
    for (step, fate, fix) in [
        (status(401), "they were dropped", "Check the API key."),
        (
            status(404),
            "they were dropped",
            "Check organization, project, sourceId and endpoint.",
        ),
        (
            Step::Fail { latency: 5 },
            "they stay queued and are retried",
            "Check endpoint and the network.",
        ),
        (
            status(308),
            "they stay queued",
            "(warnings: false silences this)",
        ),
    ] {
        let (w, lines) = warned_world(config().flush_deadline_ms(1_000));
        *w.transport.fallback.borrow_mut() = step.clone();
        track(&w, 2);
        run(&w.sim, w.client.flush());
        let lines = lines.borrow();
        assert_eq!(lines.len(), 1, "{step:?}: {lines:#?}");
        assert!(
            lines[0]
                .starts_with("[intempt-edge] could not deliver 2 events: POST http://127.0.0.1:9/"),
            "{}",
            lines[0]
        );
        assert!(
            lines[0].contains(&format!("; {fate}. {fix}")),
            "{step:?}: {}",
            lines[0]
        );
    }
}

#[test]
fn without_a_sink_a_failing_client_writes_nothing_and_delivers_as_before() {
    let w = world(config());
    w.script([status(503)]);
    track(&w, 3);
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.delivered, report.retries), (3, 1));
}

#[test]
fn debug_lines_describe_each_request_and_never_carry_the_key() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let lines = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = lines.clone();
    let sim = Sim::new();
    let transport = Rc::new(SimTransport {
        sim: sim.clone(),
        script: RefCell::new(
            [with_body(503, r#"{"errors":[{"message":"busy"}]}"#)]
                .into_iter()
                .collect(),
        ),
        fallback: RefCell::new(status(201)),
        sent: RefCell::new(Vec::new()),
        answered_with: RefCell::new(Vec::new()),
        in_flight: Rc::new(std::cell::Cell::new(0)),
        max_in_flight: std::cell::Cell::new(0),
    });
    let config = config()
        .auth_mode(intempt_edge::AuthMode::Query)
        .build()
        .unwrap();
    let client = intempt_edge::Client::new(
        config,
        SimNet(transport.clone()),
        SimClock(sim.clone()),
        SimRandom::default(),
    )
    .with_logger(move |line| sink.borrow_mut().push(line.to_owned()));
    client
        .enqueue(&Event::track("p", "T", None).unwrap())
        .unwrap();
    run(&sim, client.flush());
    let lines = lines.borrow();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let track = "http://127.0.0.1:9/v1/demo-organization/projects/demo-project/sources/616010376811536384/track";
    assert!(
        lines[0].starts_with(&format!("POST {track} (1 events, ")),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("-> HTTP 503: busy in 10 ms; retrying in "),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("-> HTTP 201 in 10 ms"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("flush: delivered 1, failed 0, dropped 0, pending 0, 2 requests in "),
        "{}",
        lines[2]
    );
    // Query mode puts the key in the URL that is sent; the log never shows it.
    assert!(transport.sent.borrow()[0]
        .1
        .url
        .contains("apiKey=id.secret"));
    assert!(lines
        .iter()
        .all(|l| !l.contains("secret") && !l.contains("apiKey")));
}

/// Steps of the scripted server answering `status` after `latency` ms.
fn answers(status: u16, latency: u64) -> Step {
    Step::Answer {
        status,
        retry_after: None,
        body: String::new(),
        latency,
    }
}

#[test]
fn a_request_that_cannot_finish_before_the_deadline_is_not_started() {
    // A healthy server answering in 350 ms and a 1 s flush deadline: a
    // request started with less time left would be aborted after the server
    // stored its events, and sent again (a duplicate).
    let w = world(config().max_batch_size(20).flush_deadline_ms(1_000));
    track(&w, 600);
    *w.transport.fallback.borrow_mut() = answers(201, 350);
    let mut flushes = 0;
    let mut delivered = 0;
    loop {
        let report = run(&w.sim, w.client.flush());
        flushes += 1;
        delivered += report.delivered;
        assert!(
            report.delivered > 0,
            "flush {flushes} made no progress: {report:?}"
        );
        assert!(report.reasons.is_empty(), "nothing failed: {report:?}");
        if report.pending == 0 {
            break;
        }
        assert!(report.timed_out, "a flush stops early only at its deadline");
    }
    assert_eq!(delivered, 600);
    let sent = w.transport.sent.borrow();
    assert_eq!(sent.len(), 30, "each batch sent exactly once");
    for (_, request) in sent.iter() {
        assert!(request.timeout_ms >= 350, "{} ms", request.timeout_ms);
    }
    drop(sent);
    assert_eq!(w.distinct_ids(), 600);
}

#[test]
fn a_client_that_knows_no_latency_yet_retries_when_half_the_deadline_is_left() {
    // The request timeout (4 s) is longer than the deadline (3 s): without a
    // latency sample the client must not ask for the whole deadline, or any
    // flush that lost a millisecond could never send.
    let w = world(config().flush_deadline_ms(3_000));
    track(&w, 3);
    w.script([Step::Fail { latency: 5 }]);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(
        (report.delivered, report.pending, report.retries),
        (3, 0, 1),
        "{report:?}"
    );
}

#[test]
fn after_a_timeout_a_request_starts_only_with_its_full_timeout_left() {
    // One request at a time: the timeline is the first batch's alone.
    let w = world(
        config()
            .max_batch_size(5)
            .flush_deadline_ms(2_100)
            .request_timeout_ms(1_000)
            .max_concurrent_requests(1),
    );
    track(&w, 10);
    w.script([Step::Hang]);
    // The first request hangs until +1000; a retry after its 100-200 ms
    // backoff would have less than its full 1000 ms left: not started.
    let report = run(&w.sim, w.client.flush());
    assert_eq!((report.requests, report.pending), (1, 10), "{report:?}");
    assert!(report.timed_out);
    assert_eq!(w.sim.now.get(), T0 + 1_000, "given back at once");
    let report = run(&w.sim, w.client.flush());
    assert_eq!(report.delivered, 10, "{report:?}");
    for (at, request) in w.transport.sent.borrow().iter() {
        assert!(
            request.timeout_ms == 1_000,
            "a request at +{} had only {} ms",
            at - T0,
            request.timeout_ms
        );
    }
}

#[test]
fn a_redirect_is_never_a_delivery_the_batch_stays_queued() {
    for step in [
        answers(301, 10),
        answers(307, 10),
        Step::Redirected { latency: 10 },
    ] {
        let w = world(config());
        track(&w, 3);
        w.script([step.clone()]);
        let report = run(&w.sim, w.client.flush());
        assert_eq!(
            (
                report.delivered,
                report.failed,
                report.pending,
                report.dropped
            ),
            (0, 3, 3, 0),
            "{step:?}"
        );
        assert_eq!(report.requests, 1, "not retried within the flush");
        assert!(!report.timed_out);
        let reason = &report.reasons[0];
        assert_eq!((reason.fate, reason.cause), (Fate::Failed, Cause::Redirect));
        assert!(
            reason.message.contains("endpoint"),
            "what to fix: {}",
            reason.message
        );
        if let Step::Answer { status, .. } = step {
            assert_eq!(reason.status, Some(status));
        }
        // Kept: the next flush sends the same events.
        let again = run(&w.sim, w.client.flush());
        assert_eq!((again.delivered, again.pending), (3, 0));
        let ids = w.sent_ids();
        assert_eq!(ids[0], ids[1], "the same eventIds");
    }
}

/// The poll interval of a flush waiting for batches in flight elsewhere
/// (the crate's `WAIT_POLL_MS`).
const WAIT_POLL_MS: u64 = 25;

#[test]
fn a_flush_waiting_for_another_is_woken_not_polled() {
    let w = world(config().max_batch_size(10));
    track(&w, 10);
    w.script([answers(201, 3_000)]);
    let reports = run_all(
        &w.sim,
        vec![Box::pin(w.client.flush()), Box::pin(w.client.flush())],
    );
    assert_eq!(reports[0].delivered, 10);
    assert_eq!((reports[1].delivered, reports[1].pending), (0, 0));
    assert_eq!(w.sim.now.get(), T0 + 3_000);
    // Polling every 25 ms would have slept 120 times.
    assert_eq!(w.sim.sleeps.get(), 1, "one wait, ended by the settle");
}

/// Two flushes of 10 events: the first holds them in flight for 3 s; another
/// request records `later` events 10 ms in. Returns what the second flush
/// delivered, when the second request left, and the wakes across tasks.
fn waiting_flush_with_events_recorded_meanwhile(
    w: &World,
    later: usize,
) -> (u32, u64, Vec<(usize, usize)>) {
    track(w, 10);
    w.script([answers(201, 3_000), answers(201, 10)]);
    let tasks = run_tasks(
        &w.sim,
        vec![
            Box::pin(w.client.flush()),
            Box::pin(w.client.flush()),
            Box::pin(async {
                w.sim.sleep_until(T0 + 10).await;
                track(w, later);
                FlushReport::default()
            }),
        ],
    );
    let sent_at = w.transport.sent.borrow()[1].0;
    (tasks.outputs[1].delivered, sent_at, tasks.cross_wakes)
}

#[test]
fn a_waiting_flush_sends_what_is_queued_meanwhile() {
    let w = world(config().max_batch_size(10));
    let (delivered, sent_at, _) = waiting_flush_with_events_recorded_meanwhile(&w, 12);
    // Its own 10 are in flight elsewhere for 3 s: meanwhile it sends the 12.
    assert_eq!(delivered, 12);
    assert_eq!(sent_at, T0 + 10, "woken by the event, sent at once");
}

/// A world whose client runs on a host with request contexts (Workers).
fn workers_world(config: intempt_edge::ConfigBuilder) -> World {
    let w = world(config);
    World {
        client: w.client.with_request_contexts(),
        ..w
    }
}

#[test]
fn on_workers_a_flush_waiting_for_another_looks_again_on_its_own_timer() {
    let w = workers_world(config().max_batch_size(10));
    track(&w, 10);
    w.script([answers(201, 3_000)]);
    let tasks = run_tasks(
        &w.sim,
        vec![Box::pin(w.client.flush()), Box::pin(w.client.flush())],
    );
    let reports = &tasks.outputs;
    assert_eq!(reports[0].delivered, 10);
    assert_eq!((reports[1].delivered, reports[1].pending), (0, 0));
    // The second ends at its first look after the batch settled.
    assert_eq!(w.sim.now.get(), T0 + 3_000);
    assert_eq!(
        w.sim.sleeps.get() as u64,
        3_000 / WAIT_POLL_MS,
        "one wait per look"
    );
    assert_eq!(tasks.cross_wakes, [], "no flush woke another");
}

#[test]
fn on_workers_a_waiting_flush_sends_what_is_queued_at_its_next_look() {
    let w = workers_world(config().max_batch_size(10));
    let (delivered, sent_at, cross_wakes) = waiting_flush_with_events_recorded_meanwhile(&w, 2);
    assert_eq!(delivered, 2);
    assert_eq!(
        sent_at,
        T0 + WAIT_POLL_MS,
        "sent at the second flush's next look, while the first batch was in flight"
    );
    assert_eq!(cross_wakes, [], "recording an event woke no flush");
}

/// A module-scope client shared by many requests, as on Cloudflare Workers:
/// each request's flush must be resumed only by its own requests and timers,
/// never by another flush settling a batch or by another request recording
/// an event (on Workers the woken flush would go on in the other request's
/// context, and its requests and timers would die with that request).
#[test]
fn on_workers_concurrent_flushes_are_never_woken_by_each_other() {
    for step in [
        status(201),
        status(503),
        answers(201, 700),
        Step::Answer {
            status: 429,
            retry_after: Some("1".into()),
            body: String::new(),
            latency: 5,
        },
        Step::Fail { latency: 3 },
    ] {
        let w = workers_world(config().max_batch_size(5));
        // 20 requests 37 ms apart: each records 5 events and flushes; the
        // server misbehaves for the first 8 requests, then accepts.
        w.script(std::iter::repeat_n(step.clone(), 8));
        let requests: Vec<Pin<Box<dyn Future<Output = FlushReport> + '_>>> = (0..20u64)
            .map(|r| {
                let w = &w;
                Box::pin(async move {
                    w.sim.sleep_until(T0 + r * 37).await;
                    track(w, 5);
                    w.client.flush().await
                }) as Pin<Box<dyn Future<Output = FlushReport>>>
            })
            .collect();
        let tasks = run_tasks(&w.sim, requests);
        assert_eq!(
            tasks.cross_wakes,
            [],
            "{step:?}: a flush was woken by another task"
        );
        assert_eq!(w.distinct_ids(), 100, "{step:?}: every event was sent");
        let stats = w.client.stats();
        assert_eq!(
            (stats.queued, stats.in_flight, stats.delivered),
            (0, 0, 100),
            "{step:?}"
        );
    }
}

/// A flush of `batches` batches of 5 events, each answered 201 after
/// 100 ms, with at most `limit` requests in flight: (virtual ms it took,
/// the most requests in flight at once).
fn burst(batches: usize, limit: u32) -> (u64, usize) {
    let w = world(config().max_batch_size(5).max_concurrent_requests(limit));
    track(&w, batches * 5);
    *w.transport.fallback.borrow_mut() = answers(201, 100);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(
        (report.delivered, report.pending, report.requests),
        (batches as u32 * 5, 0, batches as u32),
        "{report:?}"
    );
    assert_eq!(w.distinct_ids(), batches * 5, "every event exactly once");
    (w.sim.now.get() - T0, w.transport.max_in_flight.get())
}

#[test]
fn a_burst_leaves_in_parallel_up_to_the_limit_and_never_more() {
    // 10 batches, 100 ms each: waves of 4, 4 and 2 with the default limit.
    assert_eq!(burst(10, 4), (300, 4));
    assert_eq!(burst(10, 6), (200, 6));
    // One at a time, as before there was a limit.
    assert_eq!(burst(10, 1), (1_000, 1));
    // Fewer batches than the limit: all at once.
    assert_eq!(burst(2, 4), (100, 2));
}

#[test]
fn the_default_limit_is_four_and_six_is_the_most() {
    let w = world(config().max_batch_size(5));
    track(&w, 50);
    *w.transport.fallback.borrow_mut() = answers(201, 100);
    run(&w.sim, w.client.flush());
    assert_eq!(w.transport.max_in_flight.get(), 4);
    for bad in [0, 7] {
        let error = config().max_concurrent_requests(bad).build().unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidConfig);
        assert_eq!(
            error.message(),
            format!("maxConcurrentRequests must be an integer from 1 to 6, got {bad}")
        );
    }
}

#[test]
fn concurrent_flushes_share_one_limit() {
    let w = world(config().max_batch_size(5).max_concurrent_requests(3));
    track(&w, 60);
    *w.transport.fallback.borrow_mut() = answers(201, 100);
    let reports = run_all(
        &w.sim,
        vec![
            Box::pin(w.client.flush()),
            Box::pin(w.client.flush()),
            Box::pin(w.client.flush()),
        ],
    );
    let delivered: u32 = reports.iter().map(|r| r.delivered).sum();
    assert_eq!(delivered, 60, "{reports:?}");
    assert!(reports.iter().all(|r| r.pending == 0), "{reports:?}");
    assert_eq!(
        w.transport.max_in_flight.get(),
        3,
        "3 in flight, never more"
    );
    assert_eq!(w.sim.now.get() - T0, 400, "12 batches in waves of 3");
    assert_eq!(w.distinct_ids(), 60, "every event exactly once");
}

#[test]
fn a_retry_after_from_one_batch_holds_back_the_batches_not_yet_started() {
    let w = world(config().max_batch_size(5));
    track(&w, 50);
    w.script([Step::Answer {
        status: 429,
        retry_after: Some("2".into()),
        body: String::new(),
        latency: 10,
    }]);
    *w.transport.fallback.borrow_mut() = answers(201, 100);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(
        (report.delivered, report.pending, report.retries),
        (50, 0, 1),
        "{report:?}"
    );
    let sent = w.transport.sent.borrow();
    // The first wave of 4 left at once; the 429 came at +10 and paused
    // everything else until +2010.
    let first_wave = sent.iter().filter(|(at, _)| *at == T0).count();
    assert_eq!(first_wave, 4);
    assert!(
        sent.iter().skip(4).all(|(at, _)| *at >= T0 + 2_010),
        "{:?}",
        sent.iter().map(|(at, _)| at - T0).collect::<Vec<_>>()
    );
    drop(sent);
    assert_eq!(w.distinct_ids(), 50, "every event, the retried ones once");
}

#[test]
fn after_one_batch_runs_out_of_time_a_flush_starts_no_other_and_waits_for_its_own() {
    let w = world(
        config()
            .max_batch_size(5)
            .flush_deadline_ms(2_100)
            .request_timeout_ms(1_000)
            .max_concurrent_requests(2),
    );
    track(&w, 20);
    // Batch 1 hangs until its 1 s timeout (no time for another attempt);
    // batch 2 answers at +500, batch 3 then starts and answers at +1100.
    w.script([Step::Hang, answers(201, 500), answers(201, 600)]);
    let report = run(&w.sim, w.client.flush());
    assert_eq!(
        (report.delivered, report.pending, report.requests),
        (10, 10, 3),
        "{report:?}"
    );
    assert!(report.timed_out);
    assert_eq!(
        w.sim.now.get(),
        T0 + 1_100,
        "it waited for batch 3, started nothing after +1000"
    );
}

#[test]
fn background_work_nothing_awaits_does_not_hold_the_process() {
    let w = world(config().max_batch_size(5).flush_deadline_ms(3_000));
    track(&w, 5);
    w.script([answers(503, 10), answers(503, 10)]);
    let report = run(&w.sim, w.client.background_flush(true));
    assert_eq!(report.delivered, 5);
    assert!(w.transport.sent.borrow().iter().all(|(_, r)| r.detached));
    assert_eq!(w.sim.sleeps.get(), 0);
    assert_eq!(w.sim.detached_sleeps.get(), 2, "the two backoffs");
    // An awaited flush (or one handed to waitUntil) holds it.
    track(&w, 5);
    w.script([answers(503, 10)]);
    let report = run(&w.sim, w.client.background_flush(false));
    assert_eq!(report.delivered, 5);
    assert!(!w.transport.sent.borrow().last().unwrap().1.detached);
    assert_eq!(w.sim.sleeps.get(), 1);
}

#[test]
fn consent_is_sent_with_empty_email_and_message() {
    use intempt_edge::{Consent, ConsentAction};
    let w = world(config());
    let consent = Consent::new(
        "1845348",
        ConsentAction::Accept,
        None,
        None,
        Some(""),
        Some(""),
    )
    .unwrap();
    run(&w.sim, w.client.consent(&consent)).unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&w.transport.sent.borrow()[0].1.body).unwrap();
    assert_eq!(body["email"], "");
    assert_eq!(body["message"], "");
}

#[test]
fn a_consent_answered_with_a_redirect_is_an_http_error_not_retried() {
    use intempt_edge::{Consent, ConsentAction};
    let w = world(config());
    w.script([answers(302, 10)]);
    let consent = Consent::new("1845348", ConsentAction::Accept, None, None, None, None).unwrap();
    let error = run(&w.sim, w.client.consent(&consent)).unwrap_err();
    assert_eq!(error.code(), ErrorCode::HttpError);
    assert_eq!(error.status(), Some(302));
    assert!(error.message().contains("redirect"), "{}", error.message());
    assert_eq!(w.transport.sent.borrow().len(), 1);
}

mod sent_at_once {
    use super::*;
    use intempt_edge::{Choose, Consent, ConsentAction, OptimizationType, Selector};

    const BASE: &str = "http://127.0.0.1:9/v1/demo-organization/projects/demo-project";

    fn choose() -> Choose {
        Choose::new(
            "p1",
            OptimizationType::Experiment,
            Selector::Groups(vec!["banner".into()]),
        )
        .unwrap()
    }

    #[test]
    fn a_consent_is_sent_at_once_with_the_exact_url_body_and_headers() {
        let w = world(config().choose_timeout_ms(1_500));
        w.script([status(200)]);
        w.client.opt_out(); // consents are the user's own decision: never blocked
        let consent =
            Consent::new("p1", ConsentAction::Accept, Some("GDPR"), None, None, None).unwrap();
        run(&w.sim, w.client.consent(&consent)).unwrap();
        let sent = w.transport.sent.borrow();
        assert_eq!(sent.len(), 1);
        let request = &sent[0].1;
        assert_eq!(request.url, format!("{BASE}/consents/data"));
        assert_eq!(
            request.body,
            format!(
                r#"{{"action":"accept","category":"GDPR","timestamp":{},"profileId":"p1","sourceId":"616010376811536384","validUntil":"unlimited","source":"intempt-edge"}}"#,
                T0 / 1000
            )
        );
        assert_eq!(request.timeout_ms, 1_500);
        assert_eq!(
            request.headers,
            vec![
                ("Content-Type", "application/json".to_owned()),
                ("Authorization", "Basic aWQ6c2VjcmV0".to_owned()),
                ("X-Intempt-Lib", intempt_edge::LIB.to_owned()),
            ]
        );
    }

    #[test]
    fn choose_retries_once_and_returns_the_choices() {
        let w = world(config());
        w.script([
            status(503),
            with_body(
                200,
                r#"{"choices":[{"name":"login","group":"banner","body":[{"banner":"x"}]}]}"#,
            ),
        ]);
        w.client.opt_out();
        let choices = run(&w.sim, w.client.choose(&choose())).unwrap();
        assert_eq!(
            choices,
            r#"[{"name":"login","group":"banner","body":[{"banner":"x"}]}]"#
        );
        let sent = w.transport.sent.borrow();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].1.url, format!("{BASE}/optimization/choose-api"));
        assert_eq!(sent[0].1.body, sent[1].1.body);
    }

    #[test]
    fn choose_fails_clearly_after_at_most_one_retry() {
        // (server steps, code, status, message, requests sent)
        type Case = (Vec<Step>, ErrorCode, Option<u16>, &'static str, usize);
        let cases: Vec<Case> = vec![
            (
                vec![status(503), status(503)],
                ErrorCode::HttpError,
                Some(503),
                "the server answered 503",
                2,
            ),
            (
                vec![with_body(400, r#"{"errors":[{"message":"unknown name"}]}"#)],
                ErrorCode::HttpError,
                Some(400),
                "the server answered 400: unknown name",
                1,
            ),
            (
                vec![Step::Fail { latency: 1 }, Step::Fail { latency: 1 }],
                ErrorCode::NetworkError,
                None,
                "network error: connection reset",
                2,
            ),
            (
                vec![Step::Hang, Step::Hang],
                ErrorCode::NetworkError,
                None,
                "the request timed out",
                2,
            ),
            (
                vec![with_body(200, "{}")],
                ErrorCode::HttpError,
                Some(200),
                "no choices array",
                1,
            ),
        ];
        for (script, code, status, message, requests) in cases {
            let w = world(config().choose_timeout_ms(1_000));
            w.script(script);
            let started = w.sim.now.get();
            let err = run(&w.sim, w.client.choose(&choose())).unwrap_err();
            assert_eq!((err.code(), err.status()), (code, status), "{err}");
            assert!(err.message().contains(message), "{err}");
            assert_eq!(w.transport.sent.borrow().len(), requests, "{message}");
            assert!(
                w.sim.now.get() - started <= 3_000,
                "a decision call fails fast"
            );
        }
    }

    #[test]
    fn a_closed_client_refuses_consents_and_choices() {
        let w = world(config());
        run(&w.sim, w.client.close());
        let err = run(&w.sim, w.client.choose(&choose())).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Closed);
        assert!(w.transport.sent.borrow().is_empty());
    }
}

#[test]
fn debug_output_never_carries_the_key() {
    let w = world(config());
    let text = format!("{:?}", w.client);
    assert!(text.starts_with("Client"), "{text}");
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn transport_errors_are_std_errors_that_say_what_happened() {
    use intempt_edge::TransportError;
    fn as_error(e: &dyn std::error::Error) -> String {
        e.to_string()
    }
    assert_eq!(as_error(&TransportError::Timeout), "the request timed out");
    assert_eq!(
        as_error(&TransportError::Network("reset".into())),
        "network error: reset"
    );
    assert!(as_error(&TransportError::Redirected).contains("redirect"));
}

/// The `before_send` hook: a client of `w`'s world with `hook`, whose
/// warnings go to the returned lines.
mod before_send {
    use super::*;
    use std::cell::RefCell;
    use std::rc::{Rc, Weak};

    use intempt_edge::{Client, Event, JsonObject};

    type Lines = Rc<RefCell<Vec<String>>>;

    fn hooked(
        config: intempt_edge::ConfigBuilder,
        hook: impl Fn(Event) -> Option<Event> + 'static,
    ) -> (World, Lines) {
        let lines = Lines::default();
        let sink = lines.clone();
        let w = world(config);
        let client = Client::new(
            w.client.config().clone(),
            SimNet(w.transport.clone()),
            SimClock(w.sim.clone()),
            SimRandom::default(),
        )
        .with_warnings(move |line| sink.borrow_mut().push(line.to_owned()))
        .with_before_send(hook);
        (World { client, ..w }, lines)
    }

    fn props(json: &str) -> Option<JsonObject> {
        Some(JsonObject::parse(json).unwrap())
    }

    /// The payload items the server got, in order.
    fn items(w: &World) -> Vec<serde_json::Value> {
        w.bodies()
            .iter()
            .flat_map(|b| b["track"].as_array().unwrap().clone())
            .map(|e| {
                let mut item = e["payload"][0].clone();
                item["name"] = e["name"].clone();
                item
            })
            .collect()
    }

    #[test]
    fn a_hook_redacts_and_enriches_what_is_sent() {
        let (w, lines) = hooked(config(), |event| {
            let mut data: serde_json::Value =
                serde_json::from_str(event.properties()?.as_str()).unwrap();
            data.as_object_mut().unwrap().remove("email");
            data["region"] = "eu".into();
            let data = JsonObject::parse(&data.to_string()).unwrap();
            Some(Event::track(event.profile_id(), event.name(), Some(data)).unwrap())
        });
        let event = Event::track("p1", "Purchase", props(r#"{"email":"a@b.c","n":1}"#)).unwrap();
        w.client.enqueue(&event).unwrap();
        let report = run(&w.sim, w.client.flush());
        assert_eq!(report.delivered, 1);
        let sent = items(&w);
        assert_eq!(sent[0]["data"], serde_json::json!({"n": 1, "region": "eu"}));
        assert_eq!(sent[0]["name"], "Purchase");
        assert!(!w.transport.sent.borrow()[0].1.body.contains("a@b.c"));
        let stats = w.client.stats();
        assert_eq!(
            (stats.filtered, stats.filter_failed, stats.delivered),
            (0, 0, 1)
        );
        assert!(lines.borrow().is_empty(), "{:?}", lines.borrow());
    }

    #[test]
    fn a_hook_that_returns_none_drops_the_event_and_counts_it() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let saw = seen.clone();
        // Sampling: every other profile is dropped.
        let (w, lines) = hooked(config(), move |event| {
            saw.borrow_mut().push(event.name().to_owned());
            let n: u32 = event.profile_id().parse().unwrap();
            (n % 2 == 0).then_some(event)
        });
        for i in 0..10 {
            let trigger = w
                .client
                .enqueue(&Event::track(i.to_string(), "T", None).unwrap())
                .unwrap();
            assert!(i > 0 || trigger == Trigger::ArmTimer(100), "{trigger:?}");
        }
        // Every kind of recorded call goes through it.
        w.client
            .enqueue(&Event::identify("2", "u", None, None).unwrap())
            .unwrap();
        w.client
            .enqueue(&Event::alias("3", "u", "v").unwrap())
            .unwrap();
        assert_eq!(seen.borrow().len(), 12);
        assert_eq!(&seen.borrow()[10..], ["Identify", "Identify"]);
        let stats = w.client.stats();
        assert_eq!((stats.filtered, stats.queued), (6, 6));
        let report = run(&w.sim, w.client.flush());
        assert_eq!((report.delivered, report.dropped), (6, 0));
        let profiles: Vec<String> = items(&w)
            .iter()
            .map(|i| i["profileId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(profiles, ["0", "2", "4", "6", "8", "2"]);
        assert!(lines.borrow().is_empty(), "a deliberate drop warns nobody");
    }

    #[test]
    fn an_event_the_hook_made_too_large_is_dropped_with_a_warning() {
        let (w, lines) = hooked(config().max_event_bytes(512), |event| {
            let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(1_000));
            Some(Event::track(event.profile_id(), event.name(), props(&big)).unwrap())
        });
        for _ in 0..3 {
            let trigger = w.client.enqueue(&Event::track("p", "T", None).unwrap());
            assert_eq!(trigger, Ok(Trigger::None), "the call itself was fine");
        }
        let stats = w.client.stats();
        assert_eq!(
            (stats.filter_failed, stats.filtered, stats.queued),
            (3, 0, 0)
        );
        // One line at once, then at most one a minute.
        assert_eq!(lines.borrow().len(), 1, "{:?}", lines.borrow());
        let line = lines.borrow()[0].clone();
        assert!(line.contains("beforeSend failed, so the event was dropped: it returned an event that is too large: the event is"), "{line}");
        assert!(line.contains("filterFailed"), "{line}");
        w.sim.now.set(w.sim.now.get() + 60_000);
        w.client
            .enqueue(&Event::track("p", "T", None).unwrap())
            .unwrap();
        assert_eq!(lines.borrow().len(), 2);
        assert!(
            lines.borrow()[1].contains("(2 more since the last warning)"),
            "{:?}",
            lines.borrow()
        );
        // A call whose own event is too large fails as without a hook.
        let big = format!(r#"{{"pad":"{}"}}"#, "y".repeat(1_000));
        let err = w
            .client
            .enqueue(&Event::track("p", "T", props(&big)).unwrap())
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::EventTooLarge);
        assert_eq!(
            w.client.stats().filter_failed,
            4,
            "that one is the caller's error, not the hook's"
        );
        assert!(w.transport.sent.borrow().is_empty());
    }

    #[test]
    fn the_hook_is_not_called_while_opted_out_closed_or_full() {
        let calls = Rc::new(RefCell::new(0));
        let counted = calls.clone();
        let (w, _) = hooked(config().max_queue_events(2), move |event| {
            *counted.borrow_mut() += 1;
            Some(event)
        });
        let event = Event::track("p", "T", None).unwrap();
        w.client.opt_out();
        w.client.enqueue(&event).unwrap();
        assert_eq!((*calls.borrow(), w.client.stats().opted_out), (0, 1));
        w.client.opt_in();
        w.client.enqueue(&event).unwrap();
        w.client.enqueue(&event).unwrap();
        let err = w.client.enqueue(&event).unwrap_err();
        assert_eq!(err.code(), ErrorCode::QueueFull);
        assert_eq!(*calls.borrow(), 2, "a full queue refuses before the hook");
        run(&w.sim, w.client.close());
        assert_eq!(
            w.client.enqueue(&event).unwrap_err().code(),
            ErrorCode::Closed
        );
        assert_eq!(*calls.borrow(), 2);
    }

    #[test]
    fn a_call_the_hook_makes_is_queued_as_it_is_without_recursion() {
        let slot: Rc<RefCell<Weak<SimClient>>> = Rc::default();
        let inner = slot.clone();
        let calls = Rc::new(RefCell::new(0));
        let counted = calls.clone();
        let (w, lines) = hooked(config(), move |event| {
            *counted.borrow_mut() += 1;
            // The hook records an audit event of its own, and reads stats.
            let client = inner.borrow().upgrade().unwrap();
            let audit = Event::track("audit", "Seen", None).unwrap();
            client.enqueue(&audit).unwrap();
            let _ = client.stats();
            Some(event)
        });
        let World {
            sim,
            transport,
            client,
        } = w;
        let client = Rc::new(client);
        *slot.borrow_mut() = Rc::downgrade(&client);
        client
            .enqueue(&Event::track("p", "T", None).unwrap())
            .unwrap();
        assert_eq!(*calls.borrow(), 1, "the hook ran once");
        assert_eq!(client.stats().queued, 2);
        let report = run(&sim, client.flush());
        assert_eq!(report.delivered, 2);
        let body = &transport.sent.borrow()[0].1.body;
        let (audit, caller) = (body.find("\"Seen\"").unwrap(), body.find("\"T\"").unwrap());
        assert!(
            audit < caller,
            "the hook's own event was queued first: {body}"
        );
        assert!(lines.borrow().is_empty());
    }
}
