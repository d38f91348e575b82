//! What crosses a [`Transport`](crate::Transport) ([`Request`],
//! [`Response`], [`TransportError`]), and how one outcome reads in reports,
//! errors and log lines. The traits themselves are in `ports`.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use core::fmt;

use crate::retry::Attempt;
use crate::text::cat;
use crate::wire;

/// An HTTP request the client wants sent (always `POST`).
///
/// The client builds these; [`Request::new`] is there for transports'
/// own tests.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The full URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: String,
    /// Give up (and abort) after this many milliseconds.
    pub timeout_ms: u32,
    /// Nothing awaits this request (a background flush with no `waitUntil`):
    /// its timers must not keep a Node, Bun or Deno process alive.
    pub detached: bool,
}

impl Request {
    /// A request with no headers, not detached.
    pub fn new(url: impl Into<String>, body: impl Into<String>, timeout_ms: u32) -> Request {
        Request {
            url: url.into(),
            headers: Vec::new(),
            body: body.into(),
            timeout_ms,
            detached: false,
        }
    }
}

/// What came back. The transport must read (or cancel) the whole body.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
    /// The body as text (may be empty).
    pub body: String,
}

impl Response {
    /// A response with this status and body, without `Retry-After`.
    pub fn new(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            retry_after: None,
            body: body.into(),
        }
    }

    /// The same response with a `Retry-After` header (or without, for `None`).
    pub fn with_retry_after(mut self, retry_after: Option<String>) -> Response {
        self.retry_after = retry_after;
        self
    }
}

/// Why a request produced no response.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// No response within the request's timeout.
    Timeout,
    /// The connection failed or broke; the text says how.
    Network(String),
    /// The `fetch` followed a redirect although it was asked not to: what
    /// answered is not the API, and the events did not reach it.
    Redirected,
}

impl TransportError {
    /// What happened, as one line for reasons, errors and logs.
    pub(crate) fn describe(&self) -> String {
        match self {
            TransportError::Timeout => "the request timed out".to_owned(),
            TransportError::Network(why) => cat!("network error: ", why),
            TransportError::Redirected => "the fetch followed a redirect although asked not to; nothing reached the API: set endpoint to the URL the API answers at, and use a fetch that honours redirect: \"manual\"".to_owned(),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl core::error::Error for TransportError {}

/// One attempt's result, as the retry policy sees it.
pub(crate) fn attempt_of(result: &Result<Response, TransportError>) -> Attempt<'_> {
    match result {
        Ok(response) => Attempt::Status {
            status: response.status,
            retry_after: response.retry_after.as_deref(),
        },
        Err(TransportError::Timeout) => Attempt::Timeout,
        Err(TransportError::Network(_)) => Attempt::Network,
        Err(TransportError::Redirected) => Attempt::Redirected,
    }
}

/// A URL without its query (where query-mode authentication puts the key).
pub(crate) fn redact(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// One outcome for a log line: `HTTP 503: message`, `HTTP 201`, `the request timed out`.
pub(crate) fn outcome_line(result: &Result<Response, TransportError>) -> String {
    let (status, message) = outcome_text(result);
    with_status(status, message)
}

/// `HTTP 503: message` — a message with the status the server answered in
/// front, unless it already starts with one (`HTTP 503`); without a status,
/// the message as is. The one place that prefix is written: log lines here,
/// and the npm package's redelivery reasons (`src/wasm/class.rs`).
pub(crate) fn with_status(status: Option<u16>, message: String) -> String {
    match status {
        Some(status) if !message.starts_with("HTTP ") => cat!("HTTP ", status, ": ", message),
        _ => message,
    }
}

/// The status (when the server answered) and what happened, for a report's
/// reason or an error message.
pub(crate) fn outcome_text(result: &Result<Response, TransportError>) -> (Option<u16>, String) {
    match result {
        Ok(response) if (200..300).contains(&response.status) => {
            (Some(response.status), cat!("HTTP ", response.status))
        }
        Ok(response) if (300..400).contains(&response.status) => (
            Some(response.status),
            cat!("HTTP ", response.status, ": a redirect, not followed (a redirected POST does not reach the API); set endpoint to the URL the API answers at"),
        ),
        Ok(response) => {
            let message = wire::error_message(&response.body)
                .unwrap_or_else(|| cat!("HTTP ", response.status));
            (Some(response.status), message)
        }
        Err(error) => (None, error.describe()),
    }
}
