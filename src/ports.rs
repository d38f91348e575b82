//! The ports: the traits through which a [`Client`](crate::Client) meets
//! the outside world. [`Transport`] sends requests, [`Clock`] tells the time
//! and waits, [`Random`] gives random bytes, [`Outbox`] stores what a flush
//! could not deliver. The wasm32 boundary implements them with the host's
//! `fetch`, timers, crypto and queues; tests implement them with fakes in
//! virtual time. Nothing here depends on the client.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use core::future::Future;
use core::pin::Pin;

use crate::transport::{Request, Response, TransportError};

/// Sends requests. The wasm build implements it with the host's `fetch`.
pub trait Transport {
    /// Sends one request, honouring `request.timeout_ms`.
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, TransportError>>;
}

/// Tells the time and waits.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Completes after `ms` milliseconds.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;
    /// Like [`sleep`](Clock::sleep), for work nothing awaits (a background
    /// flush with no `waitUntil`): the wait must not keep a Node, Bun or
    /// Deno process alive. The default is `sleep`.
    fn sleep_detached(&self, ms: u64) -> impl Future<Output = ()> {
        self.sleep(ms)
    }
}

/// Random bytes (for event ids and jitter).
pub trait Random {
    /// Fills `buf` with cryptographically random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// What [`Outbox::store`] returns: `Err` says why nothing was stored.
pub type Storing = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// A durable store for batches a flush could not deliver: a Cloudflare
/// Queue, a Deno KV queue, or anything that outlives the process.
pub trait Outbox {
    /// The largest message the store accepts, in bytes of UTF-8.
    fn max_message_bytes(&self) -> usize;

    /// Stores `messages` (each a track request body of at most
    /// [`max_message_bytes`](Outbox::max_message_bytes)), all or nothing as
    /// far as the client knows: on `Err` the events stay queued in memory.
    /// It must end within `timeout_ms`; `detached`: nothing awaits it (its
    /// timers must not keep a process alive).
    fn store(&self, messages: Vec<String>, timeout_ms: u32, detached: bool) -> Storing;
}
