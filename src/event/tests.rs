//! Tests of `event`: every validation rule and its code, and the names calls are sent under.

use super::*;

fn obj(text: &str) -> Option<JsonObject> {
    Some(JsonObject::parse(text).unwrap())
}

#[test]
fn validation_rules_and_their_codes() {
    use ErrorCode::*;
    let cases: Vec<(&str, Result<Event, Error>, ErrorCode)> = vec![
        (
            "empty profileId",
            Event::track("", "T", None),
            InvalidArgument,
        ),
        ("empty title", Event::track("p", "", None), InvalidArgument),
        (
            "track Identify",
            Event::track("p", "Identify", None),
            ReservedTitle,
        ),
        (
            "record Identify",
            Event::record("p", "Identify").build(),
            ReservedTitle,
        ),
        (
            "record empty userId",
            Event::record("p", "T").user_id("").build(),
            InvalidArgument,
        ),
        (
            "record empty accountId",
            Event::record("p", "T").account_id("").build(),
            InvalidArgument,
        ),
        (
            "identify empty userId",
            Event::identify("p", "", None, None),
            InvalidArgument,
        ),
        (
            "identify attrs no title",
            Event::identify("p", "u", None, obj("{}")),
            AttributesNeedTitle,
        ),
        (
            "identify attrs Identify",
            Event::identify("p", "u", Some("Identify"), obj("{}")),
            AttributesNeedTitle,
        ),
        (
            "identify empty title",
            Event::identify("p", "u", Some(""), None),
            InvalidArgument,
        ),
        (
            "group empty accountId",
            Event::group("p", "", None, None),
            InvalidArgument,
        ),
        (
            "group attrs no title",
            Event::group("p", "a", None, obj("{}")),
            AttributesNeedTitle,
        ),
        (
            "alias empty other",
            Event::alias("p", "u", ""),
            InvalidArgument,
        ),
        (
            "alias empty user",
            Event::alias("p", "", "o"),
            InvalidArgument,
        ),
    ];
    for (name, result, code) in cases {
        let err = result.expect_err(name);
        assert_eq!(err.code(), code, "{name}: {err}");
        assert!(!err.message().is_empty());
    }
}

#[test]
fn names_follow_the_method_table() {
    assert_eq!(
        Event::identify("p", "u", None, None).unwrap().name,
        "Identify"
    );
    assert_eq!(
        Event::identify("p", "u", Some("Identify"), None)
            .unwrap()
            .name,
        "Identify"
    );
    assert_eq!(
        Event::identify("p", "u", Some("Sign up"), obj("{}"))
            .unwrap()
            .name,
        "Sign up"
    );
    assert_eq!(Event::group("p", "a", None, None).unwrap().name, "Identify");
    assert_eq!(Event::alias("p", "u", "o").unwrap().name, "Identify");
}

#[test]
fn consent_rules() {
    assert_eq!(
        ConsentAction::parse("maybe").unwrap_err().code(),
        ErrorCode::InvalidAction
    );
    assert_eq!(
        Consent::new("p", ConsentAction::Accept, Some(""), None, None, None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(
        Consent::new(
            "p",
            ConsentAction::Accept,
            None,
            Some(ValidUntil::Number(f64::NAN)),
            None,
            None
        )
        .unwrap_err()
        .code(),
        ErrorCode::InvalidArgument
    );
    assert!(Consent::new(
        "p",
        ConsentAction::Reject,
        Some("GDPR"),
        None,
        Some("a@b.c"),
        None
    )
    .is_ok());
}

#[test]
fn a_hooks_event_is_checked_by_the_rules_of_the_calls() {
    use super::Parts;
    let parts = |name: &str, f: fn(&mut Parts)| {
        let mut p = Parts {
            name: name.into(),
            profile_id: "p".into(),
            ..Parts::default()
        };
        f(&mut p);
        Event::from_parts(p).map_err(|e| e.code())
    };
    fn props() -> Option<JsonObject> {
        obj(r#"{"a":1}"#)
    }
    assert!(parts("Purchase", |p| p.data = props()).is_ok());
    assert!(parts("Identify", |p| p.user_id = Some("u".into())).is_ok());
    assert!(parts("Identify", |p| {
        p.user_id = Some("u".into());
        p.another_user_id = Some("v".into());
    })
    .is_ok());
    assert!(parts("Identify", |p| p.account_id = Some("a".into())).is_ok());
    assert_eq!(parts("Identify", |_| {}), Err(ErrorCode::InvalidArgument));
    assert_eq!(parts("", |_| {}), Err(ErrorCode::InvalidArgument));
    assert_eq!(
        parts("T", |p| p.profile_id.clear()),
        Err(ErrorCode::InvalidArgument)
    );
    assert_eq!(
        parts("T", |p| p.user_id = Some(String::new())),
        Err(ErrorCode::InvalidArgument)
    );
    assert_eq!(
        parts("Identify", |p| {
            p.user_id = Some("u".into());
            p.data = props();
        }),
        Err(ErrorCode::ReservedTitle)
    );
    assert_eq!(
        parts("Identify", |p| {
            p.account_id = Some("a".into());
            p.user_attributes = props();
        }),
        Err(ErrorCode::AttributesNeedTitle)
    );
    assert_eq!(
        parts("T", |p| {
            p.user_id = Some("u".into());
            p.another_user_id = Some("v".into());
        }),
        Err(ErrorCode::InvalidArgument)
    );
    assert_eq!(
        parts("Identify", |p| p.another_user_id = Some("v".into())),
        Err(ErrorCode::InvalidArgument)
    );
}
