//! The JavaScript boundary. [`EdgeClient`] pairs the core with the host
//! (`host`) for Rust callers and for the npm package's `Core` class
//! (`class`, built with the `npm` feature), which converts JS values
//! (`value`, `options`) and forwards to it; it decides nothing. Every call
//! into JavaScript that could run code we did not write goes through the
//! guarded helpers of `js`.

#[cfg(feature = "npm")]
mod class;
mod code;
mod edge;
mod host;
mod js;
#[cfg(feature = "npm")]
mod options;
#[cfg(feature = "npm")]
mod value;
#[cfg(feature = "worker")]
mod workers_rs;

pub use edge::{EdgeClient, EdgeOptions, WaitUntil, Warnings};
pub use host::JsOutbox;

#[cfg(all(test, feature = "npm"))]
use class::{configure, Core};

#[cfg(all(test, feature = "npm"))]
mod tests;
