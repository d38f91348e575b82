//! A virtual-time world for host tests of the client: a manual clock whose
//! `sleep` completes when the simulation reaches its time, a scripted
//! transport, deterministic randomness, and two tiny executors that run
//! several futures concurrently and jump the clock to the next timer when
//! all wait: [`run_all`] polls every future each turn; [`run_tasks`] polls a
//! task only when its own waker was woken, and records every wake that one
//! task's poll gave another (what, on Cloudflare Workers, resumes one
//! request's work in another request's context).

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use intempt_edge::{Client, Clock, Config, Random, Request, Response, Transport, TransportError};

/// Shared simulated time.
#[derive(Default)]
pub struct Sim {
    pub now: Cell<u64>,
    /// Pending sleeps: when each ends, and the waker of the task that waits.
    timers: RefCell<Vec<(u64, Waker)>>,
    /// Waits asked of the clock: `sleep` and `sleep_detached`.
    pub sleeps: Cell<u32>,
    pub detached_sleeps: Cell<u32>,
}

pub const T0: u64 = 1_714_631_904_000;

impl Sim {
    pub fn new() -> Rc<Sim> {
        let sim = Rc::new(Sim::default());
        sim.now.set(T0);
        sim
    }

    pub fn sleep_until(self: &Rc<Sim>, until: u64) -> SleepFuture {
        SleepFuture {
            sim: self.clone(),
            until,
        }
    }
}

pub struct SleepFuture {
    sim: Rc<Sim>,
    until: u64,
}

impl Future for SleepFuture {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.sim.now.get() >= self.until {
            Poll::Ready(())
        } else {
            self.sim
                .timers
                .borrow_mut()
                .push((self.until, cx.waker().clone()));
            Poll::Pending
        }
    }
}

#[derive(Clone)]
pub struct SimClock(pub Rc<Sim>);

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        self.0.now.get()
    }
    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        self.0.sleeps.set(self.0.sleeps.get() + 1);
        self.0.sleep_until(self.0.now.get() + ms)
    }
    fn sleep_detached(&self, ms: u64) -> impl Future<Output = ()> {
        self.0.detached_sleeps.set(self.0.detached_sleeps.get() + 1);
        self.0.sleep_until(self.0.now.get() + ms)
    }
}

/// xorshift64: deterministic, never repeating within a test.
pub struct SimRandom(Cell<u64>);

impl Default for SimRandom {
    fn default() -> Self {
        SimRandom(Cell::new(0x9e37_79b9_7f4a_7c15))
    }
}

impl Random for SimRandom {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            let mut x = self.0.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0.set(x);
            *b = (x >> 24) as u8;
        }
    }
}

/// What the scripted server does with one request.
#[derive(Clone, Debug)]
pub enum Step {
    /// Answer after `latency` ms.
    Answer {
        status: u16,
        retry_after: Option<String>,
        body: String,
        latency: u64,
    },
    /// Connection error after `latency` ms.
    Fail { latency: u64 },
    /// A `fetch` that followed a redirect anyway, after `latency` ms.
    Redirected { latency: u64 },
    /// Never answer; the transport gives up at the request's timeout.
    Hang,
    /// Never answer and ignore the timeout (a cancelled request context).
    Vanish,
}

pub fn status(code: u16) -> Step {
    Step::Answer {
        status: code,
        retry_after: None,
        body: String::new(),
        latency: 10,
    }
}

pub fn with_body(code: u16, body: &str) -> Step {
    Step::Answer {
        status: code,
        retry_after: None,
        body: body.to_owned(),
        latency: 10,
    }
}

/// Records every request; answers from the script, then with `fallback`.
pub struct SimTransport {
    pub sim: Rc<Sim>,
    pub script: RefCell<VecDeque<Step>>,
    pub fallback: RefCell<Step>,
    pub sent: RefCell<Vec<(u64, Request)>>,
    /// The step that answered each request in `sent`.
    pub answered_with: RefCell<Vec<Step>>,
    /// Requests sent and not yet answered (or given up), and the most at once.
    pub in_flight: Rc<Cell<usize>>,
    pub max_in_flight: Cell<usize>,
}

/// Counts a request out of `in_flight` when its future ends or is dropped.
struct InFlightGuard(Rc<Cell<usize>>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// The client's handle on the shared transport.
#[derive(Clone)]
pub struct SimNet(pub Rc<SimTransport>);

impl Transport for SimNet {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, TransportError>> {
        let this = &self.0;
        let now = this.sim.now.get();
        let step = this
            .script
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| this.fallback.borrow().clone());
        let timeout = u64::from(request.timeout_ms);
        this.sent.borrow_mut().push((now, request));
        this.answered_with.borrow_mut().push(step.clone());
        this.in_flight.set(this.in_flight.get() + 1);
        this.max_in_flight
            .set(this.max_in_flight.get().max(this.in_flight.get()));
        let guard = InFlightGuard(this.in_flight.clone());
        let sim = this.sim.clone();
        async move {
            let _guard = guard;
            match step {
                Step::Answer {
                    status,
                    retry_after,
                    body,
                    latency,
                } => {
                    if latency > timeout {
                        sim.sleep_until(now + timeout).await;
                        return Err(TransportError::Timeout);
                    }
                    sim.sleep_until(now + latency).await;
                    Ok(Response::new(status, body).with_retry_after(retry_after))
                }
                Step::Fail { latency } => {
                    sim.sleep_until(now + latency.min(timeout)).await;
                    Err(TransportError::Network("connection reset".into()))
                }
                Step::Redirected { latency } => {
                    sim.sleep_until(now + latency.min(timeout)).await;
                    Err(TransportError::Redirected)
                }
                Step::Hang => {
                    sim.sleep_until(now + timeout).await;
                    Err(TransportError::Timeout)
                }
                Step::Vanish => {
                    std::future::pending::<()>().await;
                    unreachable!()
                }
            }
        }
    }
}

pub type SimClient = Client<SimNet, SimClock, SimRandom>;

pub struct World {
    pub sim: Rc<Sim>,
    pub transport: Rc<SimTransport>,
    pub client: SimClient,
}

pub fn config() -> intempt_edge::ConfigBuilder {
    Config::builder(
        "demo-organization",
        "demo-project",
        "id.secret",
        "616010376811536384",
    )
    .endpoint("http://127.0.0.1:9")
}

pub fn world(config: intempt_edge::ConfigBuilder) -> World {
    let sim = Sim::new();
    let transport = Rc::new(SimTransport {
        sim: sim.clone(),
        script: RefCell::new(VecDeque::new()),
        fallback: RefCell::new(status(201)),
        sent: RefCell::new(Vec::new()),
        answered_with: RefCell::new(Vec::new()),
        in_flight: Rc::new(Cell::new(0)),
        max_in_flight: Cell::new(0),
    });
    let client = Client::new(
        config.build().unwrap(),
        SimNet(transport.clone()),
        SimClock(sim.clone()),
        SimRandom::default(),
    );
    World {
        sim,
        transport,
        client,
    }
}

impl World {
    pub fn script(&self, steps: impl IntoIterator<Item = Step>) {
        self.transport.script.borrow_mut().extend(steps);
    }

    /// Bodies of the requests sent so far, parsed.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.transport
            .sent
            .borrow()
            .iter()
            .map(|(_, r)| serde_json::from_str(&r.body).unwrap())
            .collect()
    }

    /// Event ids in every request sent, in order.
    /// How many distinct event ids were sent (a resent batch counts once).
    pub fn distinct_ids(&self) -> usize {
        let mut ids = self.sent_ids().concat();
        ids.sort();
        ids.dedup();
        ids.len()
    }

    pub fn sent_ids(&self) -> Vec<Vec<String>> {
        self.bodies()
            .iter()
            .map(|b| {
                b["track"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["payload"][0]["eventId"].as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    }
}

/// Runs futures concurrently in virtual time; returns their outputs in order.
/// When every future waits, the clock jumps to the earliest timer.
pub fn run_all<'a, T>(
    sim: &Rc<Sim>,
    futures: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>,
) -> Vec<T> {
    let mut futures: Vec<Option<Pin<Box<dyn Future<Output = T> + 'a>>>> =
        futures.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        for (i, slot) in futures.iter_mut().enumerate() {
            if let Some(fut) = slot {
                if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                    outputs[i] = Some(out);
                    *slot = None;
                }
            }
        }
        if futures.iter().all(Option::is_none) {
            return outputs.into_iter().map(Option::unwrap).collect();
        }
        let next = sim
            .timers
            .borrow_mut()
            .drain(..)
            .map(|(t, _)| t)
            .filter(|t| *t > sim.now.get())
            .min();
        match next {
            Some(t) => sim.now.set(t),
            None => panic!("deadlock: futures wait but no timer is pending"),
        }
    }
}

pub fn run<T>(sim: &Rc<Sim>, future: impl Future<Output = T>) -> T {
    run_all(sim, vec![Box::pin(future)]).pop().unwrap()
}

thread_local! {
    /// The task [`run_tasks`] is polling now (`None`: its timer driver).
    static POLLING: Cell<Option<usize>> = const { Cell::new(None) };
    /// Wakes of one task made while another was being polled: (waker, woken).
    static CROSS_WAKES: RefCell<Vec<(usize, usize)>> = const { RefCell::new(Vec::new()) };
}

/// A task's waker: marks it to be polled, and records a wake that comes
/// from another task's poll.
struct TaskWake {
    id: usize,
    woken: AtomicBool,
}

impl Wake for TaskWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(polling) = POLLING.with(Cell::get) {
            if polling != self.id {
                CROSS_WAKES.with(|w| w.borrow_mut().push((polling, self.id)));
            }
        }
        self.woken.store(true, Ordering::SeqCst);
    }
}

/// What [`run_tasks`] returns.
pub struct Tasks<T> {
    pub outputs: Vec<T>,
    /// Every wake of a task made while another task was being polled:
    /// (the task being polled, the task woken).
    pub cross_wakes: Vec<(usize, usize)>,
    /// How many times each task was polled.
    pub polls: Vec<u32>,
}

/// Runs futures as tasks in virtual time, as a JavaScript host does: a task
/// is polled only after its waker was woken, and timers are the only other
/// source of wakes (fired by the driver, outside any task). Returns their
/// outputs in order and the wakes that crossed from one task to another.
pub fn run_tasks<'a, T>(
    sim: &Rc<Sim>,
    futures: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>,
) -> Tasks<T> {
    CROSS_WAKES.with(|w| w.borrow_mut().clear());
    let mut futures: Vec<Option<Pin<Box<dyn Future<Output = T> + 'a>>>> =
        futures.into_iter().map(Some).collect();
    let wakes: Vec<Arc<TaskWake>> = (0..futures.len())
        .map(|id| {
            Arc::new(TaskWake {
                id,
                woken: AtomicBool::new(true),
            })
        })
        .collect();
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let mut polls = vec![0; futures.len()];
    loop {
        let mut progressed = true;
        while progressed {
            progressed = false;
            for (i, slot) in futures.iter_mut().enumerate() {
                let Some(fut) = slot else { continue };
                if !wakes[i].woken.swap(false, Ordering::SeqCst) {
                    continue;
                }
                progressed = true;
                polls[i] += 1;
                let waker = Waker::from(wakes[i].clone());
                POLLING.with(|p| p.set(Some(i)));
                let ready = fut.as_mut().poll(&mut Context::from_waker(&waker));
                POLLING.with(|p| p.set(None));
                if let Poll::Ready(out) = ready {
                    outputs[i] = Some(out);
                    *slot = None;
                }
            }
        }
        if futures.iter().all(Option::is_none) {
            return Tasks {
                outputs: outputs.into_iter().map(Option::unwrap).collect(),
                cross_wakes: CROSS_WAKES.with(|w| w.borrow_mut().drain(..).collect()),
                polls,
            };
        }
        // Fire the timers that are due; if none is, jump to the next one.
        let now = sim.now.get();
        let (due, later): (Vec<_>, Vec<_>) = sim
            .timers
            .borrow_mut()
            .drain(..)
            .partition(|(t, _)| *t <= now);
        *sim.timers.borrow_mut() = later;
        if due.is_empty() {
            match sim.timers.borrow().iter().map(|(t, _)| *t).min() {
                Some(t) => sim.now.set(t),
                None => panic!("deadlock: tasks wait but no timer is pending"),
            }
        }
        for (_, waker) in due {
            waker.wake();
        }
    }
}
