//! The one error type of the SDK and its stable codes.
//!
//! Bad input never panics and never half-works: every rule of the wire
//! contract that a call can break has its own [`ErrorCode`], and the message
//! says what to change. JS callers see the same code as `err.code`.

use crate::text::cat;
use alloc::string::String;

use core::fmt;

/// Declares [`ErrorCode`], its [`as_str`](ErrorCode::as_str) and
/// [`ALL`](ErrorCode::ALL) from one list, so they cannot disagree.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// What went wrong, as a stable, documented code.
        ///
        /// Codes are part of the public API: callers branch on them (`err.code` in
        /// JavaScript). New codes may be added; existing ones never change meaning.
        #[non_exhaustive]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order of the README's table (which a test
            /// checks, with the TypeScript declarations).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as JS callers see it in `err.code`, e.g. `"INVALID_ARGUMENT"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text,)*
                }
            }
        }
    };
}

error_codes! {
    /// A constructor field or option is missing or has the wrong type or range.
    InvalidConfig => "INVALID_CONFIG",
    /// The API key is not of the form `identifier.secret`.
    InvalidApiKey => "INVALID_API_KEY",
    /// The endpoint is not an absolute `https://` URL (or `http://` to loopback).
    InvalidEndpoint => "INVALID_ENDPOINT",
    /// An id or title is not a non-empty string.
    InvalidArgument => "INVALID_ARGUMENT",
    /// `"Identify"` was used as the title of `track` or `record`.
    ReservedTitle => "RESERVED_TITLE",
    /// `identify`/`group` got attributes without a title other than `"Identify"`.
    AttributesNeedTitle => "ATTRIBUTES_NEED_TITLE",
    /// Properties or attributes are not a plain object of JSON values.
    InvalidProperties => "INVALID_PROPERTIES",
    /// A consent action other than `"accept"` or `"reject"`.
    InvalidAction => "INVALID_ACTION",
    /// One event is larger than the per-event byte limit.
    EventTooLarge => "EVENT_TOO_LARGE",
    /// The queue holds its maximum number of undelivered events.
    QueueFull => "QUEUE_FULL",
    /// The client was closed with `close()`.
    Closed => "CLOSED",
    /// The server answered a consent or choose call with an error status.
    HttpError => "HTTP_ERROR",
    /// A consent or choose call failed on the network or timed out.
    NetworkError => "NETWORK_ERROR",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable [`code`](Error::code) and a message that says what to change.
///
/// Messages never contain the API key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    status: Option<u16>,
}

impl Error {
    /// Makes an error; `message` should say what the caller has to change.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            status: None,
        }
    }

    /// An [`ErrorCode::HttpError`] carrying the server's status.
    pub fn http(status: u16, message: impl Into<String>) -> Self {
        Error {
            code: ErrorCode::HttpError,
            message: message.into(),
            status: Some(status),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status, for [`ErrorCode::HttpError`].
    pub fn status(&self) -> Option<u16> {
        self.status
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl core::error::Error for Error {}

/// Shorthand for [`ErrorCode::InvalidArgument`] errors about one named argument.
pub(crate) fn invalid_argument(what: &str) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        cat!(what, " must be a non-empty string"),
    )
}
