//! The constructor's three forms, read by `build_config` in a real JS engine.

use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

use super::js;
use crate::wasm::options::build_config;

const FIELDS: [&str; 4] = ["org", "proj", "id.secret", "42"];

fn build(rest: [JsValue; 3]) -> Result<crate::Config, crate::Error> {
    let [org, proj, key, source] = FIELDS.map(JsValue::from);
    let [a, b, c] = &rest;
    build_config([&org, &proj, &key, &source, a, b, c]).map(|built| built.config)
}

#[wasm_bindgen_test]
fn the_options_object_may_come_fifth_with_the_batch_settings_inside() {
    let fifth = js("{ endpoint: 'http://127.0.0.1:9/base', batchTimeMs: 250, maxBatchSize: 7 }");
    let config = build([fifth, JsValue::UNDEFINED, JsValue::UNDEFINED]).unwrap();
    assert_eq!((config.batch_time_ms, config.max_batch_size), (250, 7));
    assert!(config
        .endpoint
        .as_str()
        .starts_with("http://127.0.0.1:9/base"));

    // The seed's positional form and the 7th-place options still read the same.
    let seventh = js("{ endpoint: 'http://127.0.0.1:9/base' }");
    let config = build([250.into(), 7.into(), seventh]).unwrap();
    assert_eq!((config.batch_time_ms, config.max_batch_size), (250, 7));
    assert!(config
        .endpoint
        .as_str()
        .starts_with("http://127.0.0.1:9/base"));
}

#[wasm_bindgen_test]
fn a_fifth_options_object_with_more_arguments_after_it_is_a_config_error() {
    let cases = [
        [js("{}"), 20.into(), JsValue::UNDEFINED],
        [js("{}"), JsValue::UNDEFINED, js("{}")],
        [js("{ oops: 1 }"), JsValue::UNDEFINED, JsValue::UNDEFINED],
        [
            js("{ organization: 'x' }"),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        ],
    ];
    let expected = [
        "pass batchTimeMs and maxBatchSize inside it",
        "pass batchTimeMs and maxBatchSize inside it",
        "unknown option 'oops'",
        "unknown option 'organization'",
    ];
    for (rest, expected) in cases.into_iter().zip(expected) {
        let error = build(rest).expect_err(expected);
        assert_eq!(error.code(), crate::ErrorCode::InvalidConfig);
        assert!(
            error.message().contains(expected),
            "{expected}: {}",
            error.message()
        );
    }
}

#[wasm_bindgen_test]
fn an_undefined_field_says_to_make_the_client_on_first_use() {
    let undefined_key = build_config([
        &"org".into(),
        &"proj".into(),
        &JsValue::UNDEFINED,
        &"42".into(),
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
    ])
    .map(|built| built.config)
    .expect_err("an undefined apiKey");
    assert_eq!(undefined_key.code(), crate::ErrorCode::InvalidApiKey);
    let message = undefined_key.message();
    assert!(message.starts_with("apiKey must be a string of the form identifier.secret, got undefined. If it comes from an environment variable"), "{message}");
    assert!(
        message.contains("make the client on first use, inside the handler"),
        "{message}"
    );

    // A value of the wrong kind gets no hint about environment variables.
    let wrong = build_config([
        &"org".into(),
        &"proj".into(),
        &42.into(),
        &"42".into(),
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
    ])
    .map(|built| built.config)
    .expect_err("a number apiKey");
    assert!(
        !wrong.message().contains("environment variable"),
        "{}",
        wrong.message()
    );
}

#[wasm_bindgen_test]
fn an_option_whose_value_is_undefined_takes_its_default() {
    let config = build([
        js("{ endpoint: undefined, batchTimeMs: undefined, authMode: undefined }"),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ])
    .unwrap();
    let default = build([JsValue::UNDEFINED, JsValue::UNDEFINED, JsValue::UNDEFINED]).unwrap();
    assert_eq!(config.endpoint.as_str(), default.endpoint.as_str());
    assert_eq!(config.batch_time_ms, default.batch_time_ms);
    // A misspelt name is still refused, whatever its value.
    let typo = build([
        js("{ endpont: undefined }"),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    ]);
    assert!(typo
        .expect_err("typo")
        .message()
        .contains("unknown option 'endpont'"));
}
