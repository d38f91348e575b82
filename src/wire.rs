//! The only module that knows Intempt's URLs, headers and JSON keys
//! (`docs/wire-protocol.md`), of requests and of answers. Golden tests pin
//! every byte.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::answer;
use crate::config::{AuthMode, Config};
use crate::event::{Choose, Consent, Event, OptimizationType, Selector, ValidUntil};
use crate::json::{write_f64, write_str, JsonObject};
use crate::text::{cat, put_u64};

/// The SDK's name and version, sent as `X-Intempt-Lib` and as the consent `source`.
pub const LIB: &str = concat!("intempt-edge/", env!("CARGO_PKG_VERSION"));

/// How consents name the tracker that sent them (1.x sent "NodeJs tracker").
pub const CONSENT_SOURCE: &str = "intempt-edge";

/// The three endpoints of a configuration. A client keeps `track` (every
/// batch goes there); a consent or choose call builds them when it is made.
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    pub track: String,
    pub consents: String,
    pub choose: String,
}

impl Urls {
    pub fn new(config: &Config) -> Urls {
        let mut project_base = String::from(config.endpoint.as_str());
        project_base.push_str("/v1/");
        push_segment(&mut project_base, &config.organization);
        project_base.push_str("/projects/");
        push_segment(&mut project_base, &config.project);

        let mut track = project_base.clone();
        track.push_str("/sources/");
        push_segment(&mut track, &config.source_id);
        track.push_str("/track");
        let mut urls = Urls {
            track,
            consents: cat!(project_base, "/consents/data"),
            choose: cat!(project_base, "/optimization/choose-api"),
        };
        if config.auth_mode == AuthMode::Query {
            let mut query = String::from("?apiKey=");
            push_segment(&mut query, config.api_key.expose());
            for url in [&mut urls.track, &mut urls.consents, &mut urls.choose] {
                url.push_str(&query);
            }
        }
        urls
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a `/`,
/// `?` or `%` in a name can never change the path.
fn push_segment(out: &mut String, segment: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
}

/// The request headers for every call, in a fixed order.
pub(crate) fn headers(config: &Config) -> Vec<(&'static str, String)> {
    let mut headers = vec![("Content-Type", "application/json".to_owned())];
    if config.auth_mode == AuthMode::Header {
        headers.push(("Authorization", config.api_key.basic_header().to_owned()));
    }
    headers.push(("X-Intempt-Lib", LIB.to_owned()));
    headers
}

/// An upper bound of an entry's length when no string needs escaping, so the
/// buffer is allocated once.
pub(crate) fn entry_capacity(event: &Event) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len() + 20);
    let object = |o: &Option<JsonObject>| o.as_ref().map_or(0, |o| o.as_str().len() + 24);
    // Fixed keys, quotes, eventId, a 13-digit timestamp: 115 bytes.
    128 + event.name.len()
        + event.profile_id.len()
        + text(&event.user_id)
        + text(&event.account_id)
        + text(&event.another_user_id)
        + object(&event.data)
        + object(&event.user_attributes)
        + object(&event.account_attributes)
}

/// Writes one entry of the `track` array: `{"name":…,"payload":[{item}]}`,
/// item keys in the contract's order, absent fields left out.
pub(crate) fn write_track_entry(
    out: &mut String,
    event: &Event,
    event_id: &str,
    timestamp_ms: u64,
) {
    out.push_str("{\"name\":");
    write_str(out, &event.name);
    out.push_str(",\"payload\":[{\"eventId\":\"");
    out.push_str(event_id);
    out.push_str("\",\"timestamp\":");
    put_u64(out, timestamp_ms);
    write_item_fields(out, event);
    out.push_str("}]}");
}

/// The event as a `beforeSend` hook sees it: one flat object, the name and
/// the item's keys in the contract's order (no `eventId` or `timestamp`:
/// they are stamped after the hook), absent fields left out.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "npm")), allow(dead_code))]
pub(crate) fn write_hook_event(out: &mut String, event: &Event) {
    out.push_str("{\"name\":");
    write_str(out, &event.name);
    write_item_fields(out, event);
    out.push('}');
}

/// The item's fields after its stamps, in the contract's order, absent ones
/// left out: `,"profileId":…` through `anotherUserId`. The wire item and the
/// object a `beforeSend` hook sees share them.
fn write_item_fields(out: &mut String, event: &Event) {
    push_key(out, "profileId");
    write_str(out, &event.profile_id);
    let strings = [("userId", &event.user_id), ("accountId", &event.account_id)];
    for (key, value) in strings {
        if let Some(value) = value {
            push_key(out, key);
            write_str(out, value);
        }
    }
    let objects = [
        ("data", &event.data),
        ("userAttributes", &event.user_attributes),
        ("accountAttributes", &event.account_attributes),
    ];
    for (key, value) in objects {
        if let Some(value) = value {
            push_key(out, key);
            out.push_str(value.as_str());
        }
    }
    if let Some(other) = &event.another_user_id {
        push_key(out, "anotherUserId");
        write_str(out, other);
    }
}

fn push_key(out: &mut String, key: &str) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":");
}

/// The opening and closing of a track request body; entries go between, joined by `,`.
pub(crate) const TRACK_PREFIX: &str = "{\"track\":[";
pub(crate) const TRACK_SUFFIX: &str = "]}";

/// The consent body. `timestamp` is epoch **seconds** (1.x sent milliseconds,
/// which the consent service silently replaced with its receive time).
pub(crate) fn consent_body(config: &Config, consent: &Consent, now_ms: u64) -> String {
    let mut out = String::with_capacity(192);
    out.push_str("{\"action\":\"");
    out.push_str(consent.action.as_str());
    out.push('"');
    if let Some(category) = &consent.category {
        push_key(&mut out, "category");
        write_str(&mut out, category);
    }
    push_key(&mut out, "timestamp");
    put_u64(&mut out, now_ms / 1000);
    push_key(&mut out, "profileId");
    write_str(&mut out, &consent.profile_id);
    push_key(&mut out, "sourceId");
    write_str(&mut out, &config.source_id);
    push_key(&mut out, "validUntil");
    match &consent.valid_until {
        None => out.push_str("\"unlimited\""),
        Some(ValidUntil::Text(text)) => write_str(&mut out, text),
        Some(ValidUntil::Number(n)) => {
            // Consent::new refuses non-finite numbers.
            write_f64(&mut out, *n);
        }
    }
    push_key(&mut out, "source");
    write_str(&mut out, CONSENT_SOURCE);
    for (key, value) in [("email", &consent.email), ("message", &consent.message)] {
        if let Some(value) = value {
            push_key(&mut out, key);
            write_str(&mut out, value);
        }
    }
    out.push('}');
    out
}

/// The choose body; the list key is left out when no list was given ("select all").
pub(crate) fn choose_body(config: &Config, choose: &Choose) -> String {
    let mut out = String::with_capacity(160);
    out.push_str("{\"identification\":{\"profileId\":");
    write_str(&mut out, &choose.profile_id);
    push_key(&mut out, "sourceId");
    write_str(&mut out, &config.source_id);
    out.push('}');
    let list = match &choose.selector {
        Selector::All => None,
        Selector::Groups(groups) => Some(("groups", groups)),
        Selector::Names(names) => Some(("names", names)),
    };
    if let Some((key, items)) = list {
        push_key(&mut out, key);
        out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, item);
        }
        out.push(']');
    }
    push_key(&mut out, "optimizationType");
    out.push_str(match choose.kind {
        OptimizationType::Personalization => "\"personalization\"",
        OptimizationType::Experiment => "\"experiment\"",
    });
    out.push_str(",\"device\":\"all\"}");
    out
}

/// Formats 16 random bytes as a lowercase hyphenated UUID v4.
pub(crate) fn uuid_v4(mut bytes: [u8; 16]) -> [u8; 36] {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    // Slots taken in order (a computed index would be bounds-checked, and
    // its panic path links core's formatting into the npm build).
    let mut slots = out.iter_mut();
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            slots.next(); // the hyphen
        }
        if let (Some(hi), Some(lo)) = (slots.next(), slots.next()) {
            *hi = HEX[usize::from(b >> 4)];
            *lo = HEX[usize::from(b & 0xf)];
        }
    }
    out
}

/// The `choices` array of a choose answer `{"choices":[…]}`, as the raw
/// JSON text the server sent; `None` if the answer has none.
pub(crate) fn choices(body: &str) -> Option<&str> {
    answer::top_level_field(body, "choices").filter(|choices| choices.starts_with('['))
}

/// The server's explanation from an error body `{"errors":[{"message":"…"}]}`,
/// else the body itself (shortened), else nothing.
pub(crate) fn error_message(body: &str) -> Option<String> {
    const MAX: usize = 300;
    let from_json = answer::top_level_field(body, "errors")
        .and_then(answer::first_element)
        .and_then(|first| answer::top_level_field(first, "message"))
        .and_then(answer::string_value);
    let text = from_json.unwrap_or_else(|| body.trim().to_owned());
    if text.is_empty() {
        return None;
    }
    let mut end = text.len().min(MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).map(str::to_owned)
}

#[cfg(test)]
mod tests;
