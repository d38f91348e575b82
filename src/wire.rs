//! The only module that knows Intempt's URLs, headers and JSON keys
//! (`shared/docs/wire-protocol.md`). Golden tests pin every byte.

use crate::answer;
use crate::config::{AuthMode, Config};
use crate::event::{Choose, Consent, Event, OptimizationType, Selector, ValidUntil};
use crate::json::{write_f64, write_str, JsonObject};

/// The SDK's name and version, sent as `X-Intempt-Lib` and as the consent `source`.
pub const LIB: &str = concat!("intempt-edge/", env!("CARGO_PKG_VERSION"));

/// How consents name the tracker that sent them (1.x sent "NodeJs tracker").
pub const CONSENT_SOURCE: &str = "intempt-edge";

/// The three endpoints of a configuration, built once.
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
            consents: format!("{project_base}/consents/data"),
            choose: format!("{project_base}/optimization/choose-api"),
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
    out.push_str(&timestamp_ms.to_string());
    out.push_str(",\"profileId\":");
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
    out.push_str("}]}");
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
    out.push_str(&(now_ms / 1000).to_string());
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
    let mut pos = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            pos += 1;
        }
        out[pos] = HEX[(b >> 4) as usize];
        out[pos + 1] = HEX[(b & 0xf) as usize];
        pos += 2;
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
    Some(text[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::json::JsonObject;

    fn config() -> Config {
        Config::builder(
            "demo-organization",
            "demo-project",
            "id.secret",
            "616010376811536384",
        )
        .build()
        .unwrap()
    }

    #[test]
    fn urls_encode_segments_and_keep_a_prefix() {
        let c = Config::builder("a/b c", "p?x", "id.secret", "1%2")
            .endpoint("http://127.0.0.1:9/gw/")
            .build()
            .unwrap();
        let urls = Urls::new(&c);
        assert_eq!(
            urls.track,
            "http://127.0.0.1:9/gw/v1/a%2Fb%20c/projects/p%3Fx/sources/1%252/track"
        );
        assert_eq!(
            urls.consents,
            "http://127.0.0.1:9/gw/v1/a%2Fb%20c/projects/p%3Fx/consents/data"
        );
        assert_eq!(
            urls.choose,
            "http://127.0.0.1:9/gw/v1/a%2Fb%20c/projects/p%3Fx/optimization/choose-api"
        );
        let default = Urls::new(&config());
        assert_eq!(
            default.track,
            "https://api.intempt.com/v1/demo-organization/projects/demo-project/sources/616010376811536384/track"
        );
    }

    #[test]
    fn header_mode_keeps_the_key_out_of_urls_and_query_mode_out_of_headers() {
        let c = config();
        let urls = Urls::new(&c);
        for url in [&urls.track, &urls.consents, &urls.choose] {
            assert!(!url.contains("secret"));
        }
        assert_eq!(
            headers(&c),
            vec![
                ("Content-Type", "application/json".to_owned()),
                ("Authorization", "Basic aWQ6c2VjcmV0".to_owned()),
                ("X-Intempt-Lib", LIB.to_owned()),
            ]
        );
        let q = Config::builder("o", "p", "id.se+cret", "1")
            .auth_mode(AuthMode::Query)
            .build()
            .unwrap();
        assert!(Urls::new(&q).track.ends_with("/track?apiKey=id.se%2Bcret"));
        assert!(headers(&q).iter().all(|(name, _)| *name != "Authorization"));
    }

    #[test]
    fn track_entries_are_byte_exact() {
        let id = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
        let props = || Some(JsonObject::parse(r#"{"total":99.99}"#).unwrap());
        let attrs = |t: &str| Some(JsonObject::parse(t).unwrap());
        let cases: Vec<(Event, String)> = vec![
            (
                Event::identify("p1", "john@example.com", None, None).unwrap(),
                format!(
                    r#"{{"name":"Identify","payload":[{{"eventId":"{id}","timestamp":1714631904000,"profileId":"p1","userId":"john@example.com"}}]}}"#
                ),
            ),
            (
                Event::track("p1", "Purchase", props()).unwrap(),
                format!(
                    r#"{{"name":"Purchase","payload":[{{"eventId":"{id}","timestamp":1714631904000,"profileId":"p1","data":{{"total":99.99}}}}]}}"#
                ),
            ),
            (
                Event::group(
                    "p1",
                    "intempt.com",
                    Some("Identify Account"),
                    attrs(r#"{"country":"USA"}"#),
                )
                .unwrap(),
                format!(
                    r#"{{"name":"Identify Account","payload":[{{"eventId":"{id}","timestamp":1714631904000,"profileId":"p1","accountId":"intempt.com","accountAttributes":{{"country":"USA"}}}}]}}"#
                ),
            ),
            (
                Event::record(
                    "p1",
                    "Purchase",
                    Some("u"),
                    Some("a"),
                    props(),
                    attrs(r#"{"c":1}"#),
                    attrs(r#"{"d":2}"#),
                )
                .unwrap(),
                format!(
                    r#"{{"name":"Purchase","payload":[{{"eventId":"{id}","timestamp":1714631904000,"profileId":"p1","userId":"u","accountId":"a","data":{{"total":99.99}},"userAttributes":{{"c":1}},"accountAttributes":{{"d":2}}}}]}}"#
                ),
            ),
            (
                Event::alias("p1", "u@x", "555-555-1234").unwrap(),
                format!(
                    r#"{{"name":"Identify","payload":[{{"eventId":"{id}","timestamp":1714631904000,"profileId":"p1","userId":"u@x","anotherUserId":"555-555-1234"}}]}}"#
                ),
            ),
        ];
        for (event, want) in cases {
            let mut out = String::new();
            write_track_entry(&mut out, &event, id, 1714631904000);
            assert_eq!(out, want);
            assert!(
                entry_capacity(&event) >= out.len(),
                "one allocation suffices"
            );
            let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert!(parsed.is_object());
        }
    }

    #[test]
    fn consent_and_choose_bodies_are_byte_exact() {
        let c = config();
        let consent = Consent::new(
            "p1",
            "accept",
            Some("GDPR"),
            None,
            Some("a@b.c"),
            Some("ok"),
        )
        .unwrap();
        assert_eq!(
            consent_body(&c, &consent, 1714631904999),
            r#"{"action":"accept","category":"GDPR","timestamp":1714631904,"profileId":"p1","sourceId":"616010376811536384","validUntil":"unlimited","source":"intempt-edge","email":"a@b.c","message":"ok"}"#
        );
        let consents = Consent::new(
            "p1",
            "reject",
            None,
            Some(ValidUntil::Text("1711705256000".into())),
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            consent_body(&c, &consents, 1714631904000),
            r#"{"action":"reject","timestamp":1714631904,"profileId":"p1","sourceId":"616010376811536384","validUntil":"1711705256000","source":"intempt-edge"}"#
        );
        let all = Choose::new("p1", OptimizationType::Experiment, Selector::All).unwrap();
        assert_eq!(
            choose_body(&c, &all),
            r#"{"identification":{"profileId":"p1","sourceId":"616010376811536384"},"optimizationType":"experiment","device":"all"}"#
        );
        let names = Choose::new(
            "p1",
            OptimizationType::Personalization,
            Selector::Names(vec!["new year banner".into()]),
        )
        .unwrap();
        assert_eq!(
            choose_body(&c, &names),
            r#"{"identification":{"profileId":"p1","sourceId":"616010376811536384"},"names":["new year banner"],"optimizationType":"personalization","device":"all"}"#
        );
    }

    #[test]
    fn uuids_are_v4() {
        let id = uuid_v4([0xff; 16]);
        assert_eq!(
            std::str::from_utf8(&id).unwrap(),
            "ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        let id = uuid_v4([0; 16]);
        assert_eq!(
            std::str::from_utf8(&id).unwrap(),
            "00000000-0000-4000-8000-000000000000"
        );
    }

    #[test]
    fn choices_are_read_from_the_answer() {
        assert_eq!(
            choices(r#"{"x":1,"choices":[{"name":"a"}]}"#),
            Some(r#"[{"name":"a"}]"#)
        );
        assert_eq!(choices(r#"{"choices":{}}"#), None);
        assert_eq!(choices("[]"), None);
    }

    #[test]
    fn error_messages_come_from_the_body() {
        assert_eq!(
            error_message(r#"{"errors":[{"message":"bad \"name\""}]}"#).as_deref(),
            Some("bad \"name\"")
        );
        assert_eq!(error_message("plain text").as_deref(), Some("plain text"));
        assert_eq!(error_message("").as_deref(), None);
        assert_eq!(
            error_message(&"é".repeat(400)).unwrap().chars().count(),
            150
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;
        use serde_json::{json, Value};

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<f64>()
                    .prop_filter("finite", |n| n.is_finite())
                    .prop_map(|n| json!(n)),
                any::<String>().prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::btree_map(any::<String>(), inner, 0..6)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn object() -> impl Strategy<Value = serde_json::Map<String, Value>> {
            prop::collection::btree_map(any::<String>(), json_value(), 0..6)
                .prop_map(|m| m.into_iter().collect())
        }

        proptest! {
            /// Every record() call serialises to valid JSON that carries exactly its inputs.
            #[test]
            fn track_entries_round_trip(
                profile in ".{1,20}", title in ".{1,20}", user in proptest::option::of(".{1,20}"),
                props in object(), attrs in proptest::option::of(object()),
                timestamp in 1_262_304_000_000u64..4_000_000_000_000,
            ) {
                prop_assume!(title != "Identify");
                let as_object = |m: &serde_json::Map<String, Value>| JsonObject::parse(&Value::Object(m.clone()).to_string()).unwrap();
                let event = Event::record(&profile, &title, user.as_deref(), None, Some(as_object(&props)), attrs.as_ref().map(as_object), None).unwrap();
                let mut out = String::new();
                let id = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
                write_track_entry(&mut out, &event, id, timestamp);
                let parsed: Value = serde_json::from_str(&out).unwrap();
                let item = &parsed["payload"][0];
                prop_assert_eq!(&parsed["name"], &json!(title));
                prop_assert_eq!(&item["eventId"], &json!(id));
                prop_assert_eq!(&item["timestamp"], &json!(timestamp));
                prop_assert_eq!(&item["profileId"], &json!(profile));
                prop_assert_eq!(item.get("userId").cloned(), user.map(Value::String));
                prop_assert_eq!(&item["data"], &Value::Object(props));
                prop_assert_eq!(item.get("userAttributes").cloned(), attrs.map(Value::Object));
            }
        }
    }
}
