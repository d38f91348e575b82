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

/// The secrets a request carries, to keep out of the text a transport
/// reports (a `fetch` may quote the URL or the headers in its error): the
/// URL's query, each query value of 4 characters or more as sent and
/// percent-decoded, the `Authorization` header's value and its credentials.
/// The one home of this rule: a transport's error text passes through
/// [`Secrets::redact`] before a reason, an error or a log line keeps it.
#[cfg(any(test, target_arch = "wasm32"))]
pub(crate) struct Secrets(Vec<String>);

#[cfg(any(test, target_arch = "wasm32"))]
impl Secrets {
    /// What to redact from what `request`'s transport says.
    pub(crate) fn of(request: &Request) -> Secrets {
        let mut secrets = Vec::new();
        if let Some((_, query)) = request.url.split_once('?') {
            secrets.push(cat!("?", query));
            for pair in query.split('&') {
                let value = pair.split_once('=').map_or(pair, |(_, v)| v);
                if value.len() >= 4 {
                    secrets.push(value.to_owned());
                    if let Some(decoded) = percent_decoded(value) {
                        secrets.push(decoded);
                    }
                }
            }
        }
        for (name, value) in &request.headers {
            if name.eq_ignore_ascii_case("authorization") {
                secrets.push(value.clone());
                if let Some((_, credentials)) = value.split_once(' ') {
                    secrets.push(credentials.trim_start().to_owned());
                }
            }
        }
        // Longest first: a secret that contains another is redacted whole.
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| core::cmp::Reverse(s.len()));
        Secrets(secrets)
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub(crate) fn redact(&self, mut text: String) -> String {
        for secret in &self.0 {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "[redacted]");
            }
        }
        text
    }
}

/// `%XX` escapes decoded as UTF-8 (as JavaScript's `decodeURIComponent`);
/// `None` for a malformed escape or bytes that are not UTF-8.
#[cfg(any(test, target_arch = "wasm32"))]
fn percent_decoded(value: &str) -> Option<String> {
    if !value.contains('%') {
        return None;
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(core::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn request(url: &str, authorization: Option<&str>) -> Request {
        let mut request = Request::new(url, "{}", 1_000);
        if let Some(value) = authorization {
            request.headers = vec![("Authorization", value.to_owned())];
        }
        request
    }

    #[test]
    fn a_transport_error_never_keeps_the_key_in_the_query_or_the_header() {
        let secrets = Secrets::of(&request(
            "https://api.example/v1/track?apiKey=sk_live_SECRET%2Bkey&x=1",
            Some("Basic dG9rX1NFQ1JFVA=="),
        ));
        let leak = "POST https://api.example/v1/track?apiKey=sk_live_SECRET%2Bkey&x=1 failed: sk_live_SECRET+key sk_live_SECRET%2Bkey Basic dG9rX1NFQ1JFVA== dG9rX1NFQ1JFVA==";
        let said = secrets.redact(leak.to_owned());
        assert!(!said.contains("SECRET") && !said.contains("dG9r"), "{said}");
        assert_eq!(said, "POST https://api.example/v1/track[redacted] failed: [redacted] [redacted] [redacted] [redacted]");
    }

    #[test]
    fn short_values_and_malformed_escapes_are_left_as_they_are() {
        let secrets = Secrets::of(&request(
            "https://h/p?a=1&k=ab%zzcd&u=%E2%82%AC%E2%82%AC",
            None,
        ));
        // "1" is too short to be a key; "ab%zzcd" is redacted as sent only;
        // the euro signs are redacted as sent and decoded.
        assert_eq!(
            secrets.redact("1 ab%zzcd €€ %E2%82%AC%E2%82%AC".to_owned()),
            "1 [redacted] [redacted] [redacted]"
        );
        assert_eq!(percent_decoded("%+5"), None);
        assert_eq!(percent_decoded("%C3"), None);
        assert_eq!(percent_decoded("plain"), None);
    }

    #[test]
    fn a_request_without_secrets_changes_nothing() {
        let secrets = Secrets::of(&request("https://h/p", None));
        assert_eq!(
            secrets.redact("network error: refused".to_owned()),
            "network error: refused"
        );
    }
}
