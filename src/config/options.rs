//! The options of the JavaScript constructor, listed once: the boundary
//! checks names against [`OPTIONS`], and a test holds the README's table and
//! `SDKOptions` in `index.d.ts` to it.

use super::defaults;

/// What an option of the JavaScript constructor defaults to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(all(target_arch = "wasm32", feature = "npm")), allow(dead_code))]
pub(crate) enum OptionDefault {
    /// A number of [`defaults`].
    Number(u32),
    /// A string (shown quoted or in backticks in the docs).
    Text(&'static str),
    /// A boolean.
    Bool(bool),
    /// Nothing of ours: the host's (global `fetch`, the runtime's
    /// `waitUntil`) or none at all.
    Host,
}

/// One option of `new SDK(…)`, besides the six positional fields.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(all(target_arch = "wasm32", feature = "npm")), allow(dead_code))]
pub(crate) struct OptionSpec {
    pub name: &'static str,
    /// Checked against the docs by a test; the builder applies the
    /// defaults, so builds other than the tests' do not carry this.
    #[cfg(test)]
    pub default: OptionDefault,
}

#[cfg_attr(not(test), allow(unused_variables))]
const fn option(name: &'static str, default: OptionDefault) -> OptionSpec {
    OptionSpec {
        name,
        #[cfg(test)]
        default,
    }
}

/// Every option the JavaScript constructor understands, in the order of the
/// README's table and of `SDKOptions` in `index.d.ts` (a test checks both).
pub(crate) const OPTIONS: &[OptionSpec] = {
    use OptionDefault::*;
    &[
        option("endpoint", Text(defaults::ENDPOINT)),
        option("authMode", Text("header")),
        option("fetch", Host),
        option("waitUntil", Host),
        option("flushDeadlineMs", Number(defaults::FLUSH_DEADLINE_MS)),
        option("requestTimeoutMs", Number(defaults::REQUEST_TIMEOUT_MS)),
        option("chooseTimeoutMs", Number(defaults::CHOOSE_TIMEOUT_MS)),
        option("maxQueueSize", Number(defaults::MAX_QUEUE_EVENTS)),
        option("maxEventBytes", Number(defaults::MAX_EVENT_BYTES)),
        option("maxBatchBytes", Number(defaults::MAX_BATCH_BYTES)),
        option(
            "maxConcurrentRequests",
            Number(defaults::MAX_CONCURRENT_REQUESTS),
        ),
        option("debug", Bool(false)),
        option("logger", Host),
        option("warnings", Bool(true)),
        option("outbox", Host),
        option("beforeSend", Host),
    ]
};

/// The names of [`OPTIONS`], in order, as the JS boundary checks them.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "npm")), allow(dead_code))]
pub(crate) const OPTION_NAMES: [&str; OPTIONS.len()] = {
    let mut names = [""; OPTIONS.len()];
    let mut i = 0;
    while i < OPTIONS.len() {
        names[i] = OPTIONS[i].name;
        i += 1;
    }
    names
};
