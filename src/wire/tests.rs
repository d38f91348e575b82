//! Golden tests of `wire`: every byte of URLs, headers and bodies, and the
//! keys read from answers.

use super::*;
use crate::config::Config;
use crate::event::ConsentAction;
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
            Event::record("p1", "Purchase")
                .user_id("u")
                .account_id("a")
                .properties(props().unwrap())
                .user_attributes(attrs(r#"{"c":1}"#).unwrap())
                .account_attributes(attrs(r#"{"d":2}"#).unwrap())
                .build()
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
        ConsentAction::Accept,
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
        ConsentAction::Reject,
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
            let mut record = Event::record(&profile, &title).properties(as_object(&props));
            if let Some(user) = &user {
                record = record.user_id(user);
            }
            if let Some(attrs) = &attrs {
                record = record.user_attributes(as_object(attrs));
            }
            let event = record.build().unwrap();
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
