//! The constructor's fields, the options, their defaults (with reasons) and
//! their validation. A [`Config`] that exists is valid.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use core::fmt;

use crate::error::{Error, ErrorCode};
use crate::text::cat;

/// Defaults, each with the reason it is what it is.
pub mod defaults {
    /// The seed SDK's example value: short enough that a Worker's events leave
    /// within the request that made them, long enough to batch a burst.
    pub const BATCH_TIME_MS: u32 = 100;
    /// The seed SDK's example value (and PostHog's).
    pub const MAX_BATCH_SIZE: u32 = 20;
    /// The largest request the API is known to accept holds 5,000 events.
    pub const MAX_BATCH_SIZE_LIMIT: u32 = 5_000;
    /// One flush ends within this, well under the 30 s Cloudflare keeps a
    /// `waitUntil` promise alive after the response.
    pub const FLUSH_DEADLINE_MS: u32 = 10_000;
    /// One request may take this long: two attempts fit in one flush deadline.
    pub const REQUEST_TIMEOUT_MS: u32 = 4_000;
    /// Choose calls sit on the caller's request path: fail fast so the caller
    /// can fall back.
    pub const CHOOSE_TIMEOUT_MS: u32 = 2_500;
    /// Undelivered events (queued plus in flight); the peers' value.
    pub const MAX_QUEUE_EVENTS: u32 = 10_000;
    /// One event as sent (`{"name":…,"payload":[…]}`); Segment's proven limit.
    pub const MAX_EVENT_BYTES: u32 = 32 * 1024;
    /// One request body: below the ~273 KB request the API is known to accept.
    pub const MAX_BATCH_BYTES: u32 = 256 * 1024;
    /// Tracking requests in flight at once, across flushes: a burst leaves
    /// in parallel, and a Worker keeps 2 of its 6 simultaneous connections.
    pub const MAX_CONCURRENT_REQUESTS: u32 = 4;
    /// The most that may be asked for: a Worker opens at most 6 connections
    /// at once, and more would only queue behind them.
    pub const MAX_CONCURRENT_REQUESTS_LIMIT: u32 = 6;
    /// Where Intempt's API lives.
    pub const ENDPOINT: &str = "https://api.intempt.com";
}

mod options;
// Each is used on some targets only: the names by the boundary (wasm32),
// the table and defaults by the docs test.
#[allow(unused_imports)]
pub(crate) use options::{OptionDefault, OptionSpec, OPTIONS, OPTION_NAMES};

/// How the API key travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// `Authorization: Basic base64(identifier:secret)` (the default).
    #[default]
    Header,
    /// `?apiKey=identifier.secret`, exactly as Intempt's Node 1.x SDK sent it.
    /// The server accepts it but logs it as deprecated; only for exact 1.x
    /// wire compatibility.
    Query,
}

/// An API key of the form `identifier.secret`. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    key: String,
    basic: String,
}

impl ApiKey {
    /// Checks the form `identifier.secret` (split at the first `.`, both halves non-empty).
    pub fn new(key: &str) -> Result<ApiKey, Error> {
        let malformed = || {
            Error::new(
                ErrorCode::InvalidApiKey,
                "the API key must have the form identifier.secret (copy it whole from Intempt's API keys page)",
            )
        };
        let (id, secret) = key.split_once('.').ok_or_else(malformed)?;
        let printable = |s: &str| s.bytes().all(|b| b.is_ascii_graphic());
        if id.is_empty() || secret.is_empty() || !printable(key) {
            return Err(malformed());
        }
        let mut basic = String::from("Basic ");
        base64(cat!(id, ":", secret).as_bytes(), &mut basic);
        Ok(ApiKey {
            key: key.to_owned(),
            basic,
        })
    }

    /// The `Authorization` header value.
    pub(crate) fn basic_header(&self) -> &str {
        &self.basic
    }

    /// The key itself (query mode only).
    pub(crate) fn expose(&self) -> &str {
        &self.key
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

fn base64(input: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
}

/// A validated base URL: `https://host[:port][/prefix]`, or `http://` to loopback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint(String);

impl Endpoint {
    /// Parses and checks an endpoint. Plain `http://` is refused unless the
    /// host is loopback (`localhost`, `127.0.0.0/8`, `[::1]`): the API key
    /// must never travel in clear text.
    pub fn parse(url: &str) -> Result<Endpoint, Error> {
        let bad = |why: &str| {
            Error::new(
                ErrorCode::InvalidEndpoint,
                cat!("endpoint ", why, " (expected e.g. https://api.intempt.com)"),
            )
        };
        if url.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(bad("must be an ASCII URL without spaces"));
        }
        let lower = url.to_ascii_lowercase();
        let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = lower.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(bad("must start with https://"));
        };
        if rest.contains(['?', '#', '@', '\\']) {
            return Err(bad("must not contain a query, fragment or user info"));
        }
        let authority = rest.split('/').next().unwrap_or("");
        let host = match authority.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((addr, port)) if port.is_empty() || port.starts_with(':') => {
                    check_port(port)?;
                    cat!("[", addr, "]")
                }
                _ => return Err(bad("has a malformed IPv6 host")),
            },
            None => {
                let (host, port) = match authority.split_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (authority, None),
                };
                if let Some(p) = port {
                    check_port(&cat!(":", p))?;
                }
                host.to_owned()
            }
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        if !secure && !is_loopback(&host) {
            return Err(bad(
                "uses plain http:// to a host that is not loopback; use https:// so the API key is encrypted",
            ));
        }
        // Keep the caller's spelling of the path prefix; drop trailing slashes.
        Ok(Endpoint(url.trim_end_matches('/').to_owned()))
    }

    /// The base URL without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_port(port: &str) -> Result<(), Error> {
    let digits = port.strip_prefix(':').unwrap_or(port);
    if port.is_empty() || (!digits.is_empty() && digits.parse::<u16>().is_ok()) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidEndpoint,
            "endpoint has an invalid port (expected 1-65535)",
        ))
    }
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4 && octets[0] == "127" && octets.iter().all(|o| o.parse::<u8>().is_ok())
}

/// Everything a client needs to know, validated. Build it with [`Config::builder`].
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) organization: String,
    pub(crate) project: String,
    pub(crate) api_key: ApiKey,
    pub(crate) source_id: String,
    pub(crate) batch_time_ms: u32,
    pub(crate) max_batch_size: u32,
    pub(crate) endpoint: Endpoint,
    pub(crate) auth_mode: AuthMode,
    pub(crate) flush_deadline_ms: u32,
    pub(crate) request_timeout_ms: u32,
    pub(crate) choose_timeout_ms: u32,
    pub(crate) max_queue_events: u32,
    pub(crate) max_event_bytes: u32,
    pub(crate) max_batch_bytes: u32,
    pub(crate) max_concurrent_requests: u32,
}

impl Config {
    /// Starts a configuration from the four required fields of the seed SDK's
    /// constructor. Everything else has a default.
    ///
    /// ```
    /// use intempt_edge::Config;
    /// let config = Config::builder("demo-organization", "demo-project", "id.secret", "616010376811536384")
    ///     .batch_time_ms(100)
    ///     .max_batch_size(20)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.max_batch_size(), 20);
    /// ```
    pub fn builder(
        organization: impl Into<String>,
        project: impl Into<String>,
        api_key: impl Into<String>,
        source_id: impl Into<String>,
    ) -> ConfigBuilder {
        ConfigBuilder {
            organization: organization.into(),
            project: project.into(),
            api_key: RawKey(api_key.into()),
            source_id: source_id.into(),
            batch_time_ms: defaults::BATCH_TIME_MS,
            max_batch_size: defaults::MAX_BATCH_SIZE,
            endpoint: defaults::ENDPOINT.to_owned(),
            auth_mode: AuthMode::Header,
            flush_deadline_ms: defaults::FLUSH_DEADLINE_MS,
            request_timeout_ms: defaults::REQUEST_TIMEOUT_MS,
            choose_timeout_ms: defaults::CHOOSE_TIMEOUT_MS,
            max_queue_events: defaults::MAX_QUEUE_EVENTS,
            max_event_bytes: defaults::MAX_EVENT_BYTES,
            max_batch_bytes: defaults::MAX_BATCH_BYTES,
            max_concurrent_requests: defaults::MAX_CONCURRENT_REQUESTS,
        }
    }

    /// Milliseconds from the first unsent event to an automatic send.
    pub fn batch_time_ms(&self) -> u32 {
        self.batch_time_ms
    }
    /// Events per request.
    pub fn max_batch_size(&self) -> u32 {
        self.max_batch_size
    }
    /// The bound on one `flush()`.
    pub fn flush_deadline_ms(&self) -> u32 {
        self.flush_deadline_ms
    }
    /// The source id events are sent for.
    pub fn source_id(&self) -> &str {
        &self.source_id
    }
    /// The validated endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
}

/// The API key as given, not yet checked. Its `Debug` never shows it.
#[derive(Clone)]
struct RawKey(String);

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Collects configuration; [`build`](ConfigBuilder::build) validates it all at once.
/// Its `Debug` never shows the API key.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    organization: String,
    project: String,
    api_key: RawKey,
    source_id: String,
    batch_time_ms: u32,
    max_batch_size: u32,
    endpoint: String,
    auth_mode: AuthMode,
    flush_deadline_ms: u32,
    request_timeout_ms: u32,
    choose_timeout_ms: u32,
    max_queue_events: u32,
    max_event_bytes: u32,
    max_batch_bytes: u32,
    max_concurrent_requests: u32,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        $( $(#[$doc])* pub fn $name(mut self, value: $ty) -> Self { self.$name = value; self } )*
    };
}

impl ConfigBuilder {
    setters! {
        /// Milliseconds from the first unsent event to an automatic send (default 100).
        batch_time_ms: u32,
        /// Events per request (default 20, at most 5,000).
        max_batch_size: u32,
        /// How the API key travels (default: the `Authorization` header).
        auth_mode: AuthMode,
        /// The bound on one `flush()` (default 10 s).
        flush_deadline_ms: u32,
        /// The timeout of one tracking request (default 4 s).
        request_timeout_ms: u32,
        /// The timeout of one choose or consent request (default 2.5 s).
        choose_timeout_ms: u32,
        /// Undelivered events held at most (default 10,000).
        max_queue_events: u32,
        /// The largest single event, in bytes of JSON (default 32 KiB).
        max_event_bytes: u32,
        /// The largest request body, in bytes (default 256 KiB).
        max_batch_bytes: u32,
        /// Tracking requests in flight at once, across flushes (default 4, at most 6).
        max_concurrent_requests: u32,
    }

    /// The base URL (default `https://api.intempt.com`); a path prefix before `/v1` is allowed.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Validates every field and returns the configuration.
    pub fn build(self) -> Result<Config, Error> {
        for (name, value) in [
            ("organization", &self.organization),
            ("project", &self.project),
            ("sourceId", &self.source_id),
        ] {
            path_segment_ok(name, value)?;
        }
        let api_key = ApiKey::new(&self.api_key.0)?;
        let endpoint = Endpoint::parse(&self.endpoint)?;
        let range = |name: &str, value: u32, min: u32, max: u32| {
            if (min..=max).contains(&value) {
                Ok(value)
            } else {
                Err(Error::new(
                    ErrorCode::InvalidConfig,
                    cat!(
                        name,
                        " must be an integer from ",
                        min,
                        " to ",
                        max,
                        ", got ",
                        value
                    ),
                ))
            }
        };
        const HOUR_MS: u32 = 3_600_000;
        let max_event_bytes = range("maxEventBytes", self.max_event_bytes, 256, 1 << 20)?;
        let config = Config {
            organization: self.organization,
            project: self.project,
            api_key,
            source_id: self.source_id,
            batch_time_ms: range("batchTimeMs", self.batch_time_ms, 0, HOUR_MS)?,
            max_batch_size: range(
                "maxBatchSize",
                self.max_batch_size,
                1,
                defaults::MAX_BATCH_SIZE_LIMIT,
            )?,
            endpoint,
            auth_mode: self.auth_mode,
            flush_deadline_ms: range("flushDeadlineMs", self.flush_deadline_ms, 1, HOUR_MS)?,
            request_timeout_ms: range("requestTimeoutMs", self.request_timeout_ms, 1, HOUR_MS)?,
            choose_timeout_ms: range("chooseTimeoutMs", self.choose_timeout_ms, 1, HOUR_MS)?,
            max_queue_events: range("maxQueueSize", self.max_queue_events, 1, 1_000_000)?,
            max_event_bytes,
            // A batch must hold at least one event of the largest allowed size.
            max_batch_bytes: range(
                "maxBatchBytes",
                self.max_batch_bytes,
                max_event_bytes + 16,
                16 << 20,
            )?,
            max_concurrent_requests: range(
                "maxConcurrentRequests",
                self.max_concurrent_requests,
                1,
                defaults::MAX_CONCURRENT_REQUESTS_LIMIT,
            )?,
        };
        Ok(config)
    }
}

/// Organization, project and source id become URL path segments: they must be
/// non-empty, and `.`/`..` are refused because every URL parser resolves them
/// (even percent-encoded) into a different path.
fn path_segment_ok(name: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            cat!(name, " must be a non-empty string"),
        ));
    }
    if value == "." || value == ".." {
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            cat!(name, " cannot be '.' or '..'"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
