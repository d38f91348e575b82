//! The `worker` feature: `?` on this crate's errors in a workers-rs handler.

use alloc::string::ToString;

use crate::error::Error;

/// `intempt_edge::Error` as a `worker::Error::RustError` holding its
/// `Display` text (`CODE: message`; never the API key), so `?` works in a
/// function returning `worker::Result`.
impl From<Error> for worker::Error {
    fn from(error: Error) -> worker::Error {
        worker::Error::RustError(error.to_string())
    }
}

// The npm build links no `std`; workers-rs needs it (and its own entry).
#[cfg(feature = "npm")]
compile_error!(
    "the `worker` feature is for Rust callers on workers-rs; the npm build (`npm`) cannot have it"
);
