//! One source of truth: the error codes that the README's table, the
//! TypeScript declarations and the hostile-input test app list are exactly
//! `ErrorCode::ALL`, in its order. (The options tables are checked against
//! the crate-private `config::OPTIONS` by a unit test in src/config/tests.rs;
//! the JS helpers' numeric codes against `wasm::js::code` by a wasm test.)

use std::path::Path;

use intempt_edge::ErrorCode;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn all_codes() -> Vec<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}

/// The first cells (without backticks) of the table that follows `heading`.
fn table_keys(markdown: &str, heading: &str) -> Vec<String> {
    let start = markdown
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"));
    markdown[start..]
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2) // the header and its separator
        .map(|line| {
            let cell = line.split('|').nth(1).unwrap_or("").trim();
            cell.trim_matches('`').to_owned()
        })
        .collect()
}

/// The quoted strings between `start` and the first `end` after it.
fn quoted_between(text: &str, start: &str, end: &str) -> Vec<String> {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}")) + start.len();
    let to = from
        + text[from..]
            .find(end)
            .unwrap_or_else(|| panic!("no {end:?}"));
    text[from..to]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn error_codes_have_no_duplicates() {
    let mut codes = all_codes();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
}

#[test]
fn the_readme_lists_exactly_the_error_codes() {
    assert_eq!(
        table_keys(&read("README.md"), "### Errors"),
        all_codes(),
        "README.md's error table"
    );
}

#[test]
fn the_type_declarations_list_exactly_the_error_codes() {
    let declared = quoted_between(
        &read("pkg-template/index.d.ts"),
        "export type IntemptErrorCode =",
        ";",
    );
    assert_eq!(declared, all_codes(), "IntemptErrorCode in index.d.ts");
}

#[test]
fn the_hostile_input_app_knows_exactly_the_error_codes() {
    let listed = quoted_between(
        &read("tests/e2e/app/hostile.js"),
        "export const CODES = [",
        "];",
    );
    assert_eq!(listed, all_codes(), "CODES in tests/e2e/app/hostile.js");
}
