//! What a flush reports ([`FlushReport`], [`Reason`] with its [`Fate`] and
//! [`Cause`]) and the client's lifetime counters ([`Stats`]). The accounting of one flush call
//! that turns into its report is the client's (`client::run`).

use alloc::string::String;
use alloc::vec::Vec;

use crate::transport::{Response, TransportError};

/// Whether a reason is about events that stay queued or that are gone.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// Not delivered this time; still queued for the next flush.
    Failed,
    /// Refused for good and discarded.
    Dropped,
    /// Not delivered; handed to the outbox, which redelivers them.
    Stored,
}

/// What kept events from being delivered, one value per kind of failure:
/// what a report groups its reasons by and what a caller branches on (a
/// reason's message says the rest, for people).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// The server answered with this status: a refusal (`4xx`), or a
    /// passing failure (`408`, `429`, `5xx`).
    HttpStatus(u16),
    /// No answer within the request's timeout.
    Timeout,
    /// The connection failed or broke.
    Network,
    /// A redirect, not followed (a `3xx`, or a fetch that followed one):
    /// nothing reached the API; the endpoint is misplaced.
    Redirect,
    /// The outbox did not store the events; they stay queued.
    OutboxFailed,
    /// An event is larger than the outbox's largest message; it stays queued.
    TooLarge,
    /// Not sent before the flush deadline (then handed to the outbox).
    Deadline,
}

impl Cause {
    /// The cause as the JavaScript report writes it: `"http"` (the status
    /// is the reason's `status`), `"timeout"`, `"network"`, `"redirect"`,
    /// `"outboxFailed"`, `"tooLarge"` or `"deadline"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::HttpStatus(_) => "http",
            Cause::Timeout => "timeout",
            Cause::Network => "network",
            Cause::Redirect => "redirect",
            Cause::OutboxFailed => "outboxFailed",
            Cause::TooLarge => "tooLarge",
            Cause::Deadline => "deadline",
        }
    }

    /// The cause of a request that was not delivered.
    pub(crate) fn of(result: &Result<Response, TransportError>) -> Cause {
        match result {
            Ok(response) if (300..400).contains(&response.status) => Cause::Redirect,
            Ok(response) => Cause::HttpStatus(response.status),
            Err(TransportError::Timeout) => Cause::Timeout,
            Err(TransportError::Network(_)) => Cause::Network,
            Err(TransportError::Redirected) => Cause::Redirect,
        }
    }
}

/// Why some events were not delivered.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    /// Failed (kept), dropped (gone) or stored (in the outbox).
    pub fate: Fate,
    /// What kind of failure: a report has one reason per fate and cause.
    pub cause: Cause,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// What happened, with the server's message when it gave one (the
    /// first of its cause in the flush).
    pub message: String,
    /// How many events this reason covers.
    pub events: u32,
}

/// What one flush did.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Events the server acknowledged during this flush.
    pub delivered: u32,
    /// Events this flush tried to send and could not; they stay queued.
    pub failed: u32,
    /// Events refused for good (see `reasons`).
    pub dropped: u32,
    /// Events still undelivered when the flush ended (queued or in flight elsewhere).
    pub pending: u32,
    /// Events this flush could not deliver and handed to the outbox.
    pub stored: u32,
    /// Requests sent again after a failure.
    pub retries: u32,
    /// Requests sent.
    pub requests: u32,
    /// Whether the flush stopped at its deadline with work left.
    pub timed_out: bool,
    /// Why events failed, were dropped or stored, one reason per fate and
    /// [`Cause`].
    pub reasons: Vec<Reason>,
}

/// Counters over the client's life.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events waiting to be sent.
    pub queued: u32,
    /// Events in a request right now.
    pub in_flight: u32,
    /// Events acknowledged by the server.
    pub delivered: u64,
    /// Events refused for good.
    pub dropped: u64,
    /// Tracking calls not recorded because of `opt_out()`.
    pub opted_out: u64,
    /// Events handed to the outbox.
    pub stored: u64,
    /// Events a `before_send` hook dropped on purpose (it returned `None`,
    /// or `null` in JavaScript).
    pub filtered: u64,
    /// Events dropped because the `before_send` hook failed: it returned
    /// an event that is too large (or, in JavaScript, threw, returned a
    /// promise or something that is not a valid event).
    pub filter_failed: u64,
}

/// The JavaScript objects' field tables: one home for the names the npm
/// package's `flush()` and `stats()` write (src/wasm/class.rs writes from
/// them), held to pkg-template/index.d.ts's `FlushReport`, `FlushReason`
/// and `SDKStats` by the tests below.
#[cfg(any(test, all(target_arch = "wasm32", feature = "npm")))]
impl FlushReport {
    /// The counts, as `FlushReport` names them, in order; then come
    /// [`FlushReport::JS_TIMED_OUT`] and [`FlushReport::JS_REASONS`].
    pub(crate) fn js_counts(&self) -> [(&'static str, u64); 7] {
        [
            ("delivered", u64::from(self.delivered)),
            ("failed", u64::from(self.failed)),
            ("dropped", u64::from(self.dropped)),
            ("pending", u64::from(self.pending)),
            ("stored", u64::from(self.stored)),
            ("retries", u64::from(self.retries)),
            ("requests", u64::from(self.requests)),
        ]
    }
    pub(crate) const JS_TIMED_OUT: &'static str = "timedOut";
    pub(crate) const JS_REASONS: &'static str = "reasons";
}

#[cfg(any(test, all(target_arch = "wasm32", feature = "npm")))]
impl Reason {
    /// `FlushReason`'s fields, in the order the JavaScript report writes them.
    pub(crate) const JS_FIELDS: [&'static str; 5] =
        ["fate", "cause", "status", "message", "events"];

    /// The fate as the JavaScript report writes it.
    #[cfg(all(target_arch = "wasm32", feature = "npm"))]
    pub(crate) fn js_fate(&self) -> &'static str {
        match self.fate {
            Fate::Failed => "failed",
            Fate::Dropped => "dropped",
            Fate::Stored => "stored",
        }
    }
}

#[cfg(any(test, all(target_arch = "wasm32", feature = "npm")))]
impl Stats {
    /// The counters, as `SDKStats` names them, in order.
    pub(crate) fn js_counts(&self) -> [(&'static str, u64); 8] {
        [
            ("queued", u64::from(self.queued)),
            ("inFlight", u64::from(self.in_flight)),
            ("delivered", self.delivered),
            ("dropped", self.dropped),
            ("optedOut", self.opted_out),
            ("stored", self.stored),
            ("filtered", self.filtered),
            ("filterFailed", self.filter_failed),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field names of `interface name` in pkg-template/index.d.ts, in order.
    fn declared(name: &str) -> std::vec::Vec<std::string::String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pkg-template/index.d.ts");
        let dts = std::fs::read_to_string(&path).unwrap();
        let start = dts
            .find(&std::format!("export interface {name} {{"))
            .unwrap_or_else(|| panic!("no {name}"));
        let end = start + dts[start..].find("\n}").unwrap();
        dts[start..end]
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|line| !line.starts_with("/**") && !line.starts_with('*') && !line.is_empty())
            .filter_map(|line| {
                line.split_once(':')
                    .map(|(field, _)| field.trim_end_matches('?').to_owned())
            })
            .collect()
    }

    #[test]
    fn the_js_field_tables_are_the_declarations() {
        let report = FlushReport::default();
        let mut fields: std::vec::Vec<&str> =
            report.js_counts().iter().map(|(name, _)| *name).collect();
        fields.extend([FlushReport::JS_TIMED_OUT, FlushReport::JS_REASONS]);
        assert_eq!(fields, declared("FlushReport"), "FlushReport in index.d.ts");
        assert_eq!(
            Reason::JS_FIELDS.to_vec(),
            declared("FlushReason"),
            "FlushReason in index.d.ts"
        );
        let stats: std::vec::Vec<&str> = Stats::default()
            .js_counts()
            .iter()
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(stats, declared("SDKStats"), "SDKStats in index.d.ts");
        assert_eq!(
            crate::client::Redelivery::JS_FIELDS.to_vec(),
            declared("Redelivery"),
            "Redelivery in index.d.ts"
        );
    }

    #[test]
    fn an_outcome_has_one_cause() {
        let answer = |status| Ok(Response::new(status, ""));
        let cases: [(Result<Response, TransportError>, Cause); 8] = [
            (answer(400), Cause::HttpStatus(400)),
            (answer(413), Cause::HttpStatus(413)),
            (answer(429), Cause::HttpStatus(429)),
            (answer(503), Cause::HttpStatus(503)),
            (answer(301), Cause::Redirect),
            (Err(TransportError::Redirected), Cause::Redirect),
            (Err(TransportError::Timeout), Cause::Timeout),
            (Err(TransportError::Network("reset".into())), Cause::Network),
        ];
        for (result, cause) in cases {
            assert_eq!(Cause::of(&result), cause, "{result:?}");
        }
    }

    #[test]
    fn causes_read_as_the_javascript_report_writes_them() {
        let names = [
            Cause::HttpStatus(500),
            Cause::Timeout,
            Cause::Network,
            Cause::Redirect,
            Cause::OutboxFailed,
            Cause::TooLarge,
            Cause::Deadline,
        ]
        .map(Cause::as_str);
        assert_eq!(
            names,
            [
                "http",
                "timeout",
                "network",
                "redirect",
                "outboxFailed",
                "tooLarge",
                "deadline"
            ]
        );
    }
}
