//! # intempt-edge
//!
//! Intempt's server-side SDK for the edge: one Rust core, compiled to
//! WebAssembly for Cloudflare Workers, Deno, Bun and Node, and usable directly
//! from Rust. It speaks Intempt's tracking, consent and optimization API,
//! batches events, retries what can be retried, and reports exactly what a
//! flush did.
//!
//! ```
//! use intempt_edge::{Config, Event, JsonObject};
//! let config = Config::builder("demo-organization", "demo-project", "id.secret", "616010376811536384")
//!     .build()?;
//! let props = JsonObject::parse(r#"{"price_amount":50,"product_name":"Shoes"}"#)?;
//! let event = Event::track("1845348", "Purchase", Some(props))?;
//! # let _ = (config, event);
//! # Ok::<(), intempt_edge::Error>(())
//! ```
//!
//! A [`Client`] takes a [`Transport`], a [`Clock`] and a [`Random`]. On
//! wasm32, `EdgeClient` pairs it with the host's `fetch`, `setTimeout` and
//! `crypto.getRandomValues` for Rust code running in a JavaScript host (a
//! Cloudflare Worker written in Rust); the npm package's `SDK` is built on it.
//!
//! Modules: `config` (constructor fields, options, defaults), `event` (the
//! calls and their validation), `json` (writing and checking JSON text),
//! `wire` (URLs, headers, bodies, the keys of answers), `answer` (reading
//! the server's answers), `batch` (the queue), `retry` (the sans-IO retry
//! policy, `Retry-After` pauses, latency), `ports` (the traits of the
//! outside world: transport, clock, randomness, outbox), `transport` (what
//! crosses the transport, and how an outcome reads), `client` (the client,
//! a folder: recording and triggers, its shared state and leases, the flush
//! loop, storing in the outbox and redelivering, consent and choose calls,
//! failure lines without `debug`), `report` (flush reports and stats),
//! `text` (messages without `core::fmt`), `error` (codes), and `wasm` (the
//! JavaScript boundary, wasm32 only).

#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
// The npm build links no `std`: its panic and formatting machinery was a
// tenth of the module, and wasm32 has no OS for the rest (see `npm` in
// Cargo.toml). Every other build, tests included, uses `std` as usual.
#![cfg_attr(all(target_arch = "wasm32", feature = "npm", not(test)), no_std)]

extern crate alloc;

mod answer;
mod batch;
mod client;
mod config;
mod error;
mod event;
mod json;
mod ports;
mod report;
mod retry;
mod text;
mod transport;
mod wire;

#[cfg(target_arch = "wasm32")]
mod wasm;

/// The client on a JavaScript host, for Rust callers (wasm32 only).
#[cfg(target_arch = "wasm32")]
pub use wasm::{EdgeClient, EdgeOptions, JsOutbox, WaitUntil, Warnings};

pub use client::{BeforeSend, Client, Logger, Redelivery, Trigger};
pub use config::{defaults, ApiKey, AuthMode, Config, ConfigBuilder, Endpoint};
pub use error::{Error, ErrorCode};
pub use event::{
    Choose, Consent, ConsentAction, Event, OptimizationType, RecordBuilder, Selector, ValidUntil,
    IDENTIFY,
};
pub use json::{JsonObject, MAX_DEPTH};
pub use ports::{Clock, Outbox, Random, Storing, Transport};
pub use report::{Cause, Fate, FlushReport, Reason, Stats};
pub use retry::{parse_retry_after, Attempt, Decision, RetryPolicy};
pub use transport::{Request, Response, TransportError};
pub use wire::LIB;

/// The npm build's allocator (see the `npm` feature in Cargo.toml).
#[cfg(all(
    target_arch = "wasm32",
    feature = "npm",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A panic in the npm build traps, as `panic = "abort"` did with `std`
/// (whose hook only formatted a message nobody could read). Nothing a
/// caller passes reaches one: the boundary's tests and fuzzing hold that.
#[cfg(all(target_arch = "wasm32", feature = "npm", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(all(target_arch = "wasm32", feature = "npm", feature = "serde_json"))]
compile_error!("the `npm` feature builds the npm package without std; `serde_json` needs std: enable one of them");
