//! Writes the Rust side of the numbers the guarded JavaScript helpers hand
//! back (`KIND`, `PROBLEM`, `LIST`, `SENT` in `src/wasm/host.js`, their one
//! home) into `$OUT_DIR/codes.rs`, which `src/wasm/code.rs` includes: a code
//! changes in host.js and nowhere else. Each object must be written
//! `export const NAME = { key: number, … };` (one line or several); anything
//! else there stops the build with the line to fix.

use std::{env, fmt::Write as _, fs, path::Path};

const SOURCE: &str = "src/wasm/host.js";
const OBJECTS: [&str; 4] = ["KIND", "PROBLEM", "LIST", "SENT"];

fn main() {
    println!("cargo::rerun-if-changed={SOURCE}");
    let js = fs::read_to_string(SOURCE).unwrap_or_else(|e| panic!("{SOURCE}: {e}"));
    let mut out = String::new();
    let mut all = String::new();
    for object in OBJECTS {
        let entries = entries(&js, object);
        let module = object.to_ascii_lowercase();
        writeln!(out, "/// `{object}` in host.js.\npub mod {module} {{").unwrap();
        for (key, value) in &entries {
            let name = screaming_snake(key);
            writeln!(out, "    /// `{object}.{key}`.\n    #[allow(dead_code)]\n    pub const {name}: u8 = {value};").unwrap();
            writeln!(all, "    (\"{object}\", \"{key}\", {module}::{name}),").unwrap();
        }
        out.push_str("}\n");
    }
    writeln!(out, "/// Every code by its JS object and name.\n#[cfg(test)]\n#[allow(dead_code)]\npub const ALL: &[(&str, &str, u8)] = &[\n{all}];").unwrap();
    let dest = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("codes.rs");
    fs::write(&dest, out).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
}

/// The `key: number` pairs of `export const {object} = { … };`.
fn entries(js: &str, object: &str) -> Vec<(String, u8)> {
    let start = format!("export const {object} = {{");
    let at = js
        .find(&start)
        .unwrap_or_else(|| panic!("{SOURCE}: no `{start}`"));
    let body = &js[at + start.len()..];
    let end = body
        .find("};")
        .unwrap_or_else(|| panic!("{SOURCE}: `{start}` is not closed by `}};`"));
    let entries: Vec<(String, u8)> = body[..end]
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (key, value) = entry
                .split_once(':')
                .unwrap_or_else(|| panic!("{SOURCE}: {object}: `{entry}` is not `key: number`"));
            let key = key.trim();
            let value = value.trim().parse().unwrap_or_else(|_| {
                panic!(
                    "{SOURCE}: {object}.{key}: `{}` is not a number 0–255",
                    value.trim()
                )
            });
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric()),
                "{SOURCE}: {object}: `{key}` is not a plain name"
            );
            (key.to_owned(), value)
        })
        .collect();
    assert!(!entries.is_empty(), "{SOURCE}: {object} is empty");
    entries
}

/// `hugeString` → `HUGE_STRING`.
fn screaming_snake(key: &str) -> String {
    let mut name = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}
