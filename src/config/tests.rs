//! Tests of `config`: the API key, endpoints, every field's validation, and
//! the options tables of README.md and index.d.ts against `OPTIONS`.

use super::*;

#[test]
fn api_key_becomes_a_basic_header_and_never_prints() {
    let key = ApiKey::new("abc.def.ghi").unwrap();
    // "abc:def.ghi" — split at the first dot only.
    assert_eq!(key.basic_header(), "Basic YWJjOmRlZi5naGk=");
    assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
    for bad in ["", "nodot", ".s3cr3tZ", "id.", "id .s3cr3tZ", "id.sé"] {
        let err = ApiKey::new(bad).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidApiKey, "{bad:?}");
        if bad.len() > 3 {
            assert!(!err.message().contains(bad), "message leaks the key");
        }
    }
}

#[test]
fn debug_never_shows_the_key() {
    let builder = Config::builder("org", "proj", "id.s3cr3tZ", "1");
    assert!(!format!("{builder:?}").contains("s3cr3tZ"));
    let config = builder.build().unwrap();
    assert!(!format!("{config:?}").contains("s3cr3tZ"));
}

#[test]
fn base64_matches_rfc4648_vectors() {
    for (input, want) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        let mut out = String::new();
        base64(input.as_bytes(), &mut out);
        assert_eq!(out, want);
    }
}

#[test]
fn endpoints() {
    let ok = [
        ("https://api.intempt.com", "https://api.intempt.com"),
        ("https://api.intempt.com/", "https://api.intempt.com"),
        (
            "https://gw.example.com:8443/intempt/",
            "https://gw.example.com:8443/intempt",
        ),
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),
        ("http://127.10.0.3", "http://127.10.0.3"),
        ("http://localhost:9/x", "http://localhost:9/x"),
        ("http://[::1]:80", "http://[::1]:80"),
        ("HTTPS://API.INTEMPT.COM", "HTTPS://API.INTEMPT.COM"),
    ];
    for (input, want) in ok {
        assert_eq!(Endpoint::parse(input).unwrap().as_str(), want, "{input}");
    }
    let bad = [
        "api.intempt.com",
        "ftp://x",
        "http://api.intempt.com",
        "http://128.0.0.1",
        "http://127.0.0.1.evil.com",
        "http://localhost.evil.com",
        "https://",
        "https://x?y=1",
        "https://x#f",
        "https://u:p@x",
        "https://x:99999",
        "https://x:abc",
        "https://a b",
        "http://[::2]",
    ];
    for input in bad {
        assert_eq!(
            Endpoint::parse(input).unwrap_err().code(),
            ErrorCode::InvalidEndpoint,
            "{input}"
        );
    }
}

#[test]
fn builder_validates_every_field() {
    let base = || Config::builder("org", "proj", "id.secret", "1");
    assert!(base().build().is_ok());
    let cases: Vec<(ConfigBuilder, ErrorCode)> = vec![
        (
            Config::builder("", "p", "id.s", "1"),
            ErrorCode::InvalidConfig,
        ),
        (
            Config::builder("o", "..", "id.s", "1"),
            ErrorCode::InvalidConfig,
        ),
        (
            Config::builder("o", "p", "id.s", "."),
            ErrorCode::InvalidConfig,
        ),
        (
            Config::builder("o", "p", "ids", "1"),
            ErrorCode::InvalidApiKey,
        ),
        (base().max_batch_size(0), ErrorCode::InvalidConfig),
        (base().max_batch_size(5_001), ErrorCode::InvalidConfig),
        (base().flush_deadline_ms(0), ErrorCode::InvalidConfig),
        (base().max_event_bytes(10), ErrorCode::InvalidConfig),
        (base().max_batch_bytes(1000), ErrorCode::InvalidConfig),
        (
            base().endpoint("http://example.com"),
            ErrorCode::InvalidEndpoint,
        ),
    ];
    for (builder, code) in cases {
        assert_eq!(builder.build().unwrap_err().code(), code);
    }
}

/// The option names (and defaults) of README.md's options table and of
/// `SDKOptions` in pkg-template/index.d.ts are exactly [`OPTIONS`].
mod options_in_the_docs {
    use super::super::{OptionDefault, OPTIONS};

    fn read(path: &str) -> String {
        let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
    }

    fn names() -> Vec<&'static str> {
        OPTIONS.iter().map(|o| o.name).collect()
    }

    #[test]
    fn the_readme_table_lists_every_option_with_its_default() {
        let readme = read("README.md");
        let start = readme.find("### Options").expect("an Options section");
        let rows: Vec<Vec<String>> = readme[start..]
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .skip(2)
            .map(|line| line.split('|').map(|c| c.trim().to_owned()).collect())
            .collect();
        let listed: Vec<&str> = rows.iter().map(|r| r[1].trim_matches('`')).collect();
        assert_eq!(listed, names(), "README.md's options table");
        for (spec, row) in OPTIONS.iter().zip(&rows) {
            let cell = &row[2];
            let ok = match spec.default {
                OptionDefault::Number(n) => *cell == n.to_string(),
                OptionDefault::Text(t) => {
                    *cell == format!("`{t}`") || *cell == format!("`\"{t}\"`")
                }
                OptionDefault::Bool(b) => *cell == format!("`{b}`"),
                OptionDefault::Host => true,
            };
            assert!(
                ok,
                "README.md: the default of {} is {cell}, not {:?}",
                spec.name, spec.default
            );
        }
    }

    #[test]
    fn the_type_declarations_list_every_option() {
        let dts = read("pkg-template/index.d.ts");
        let start = dts
            .find("export interface SDKOptions {")
            .expect("SDKOptions");
        let end = start + dts[start..].find("\n}").expect("its end");
        let body = &dts[start..end];
        let mut declared = Vec::new();
        let mut comment = "";
        for line in body.lines().skip(1) {
            let line = line.trim();
            if line.starts_with("/**") {
                comment = line;
            } else if let Some((name, _)) = line.split_once("?:") {
                declared.push(name.to_owned());
                if let Some(spec) = OPTIONS.iter().find(|o| o.name == name) {
                    if let OptionDefault::Number(n) = spec.default {
                        assert!(
                            comment.contains(&format!("default {n}")),
                            "index.d.ts: {name}'s comment does not say default {n}: {comment}"
                        );
                    }
                }
            }
        }
        assert_eq!(declared, names(), "SDKOptions in index.d.ts");
    }
}
