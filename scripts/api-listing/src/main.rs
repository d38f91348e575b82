//! `api-listing RUSTDOC_JSON`: the public API in a rustdoc JSON file, one item
//! a line, sorted, as the `public-api` crate renders it. Blanket impls
//! (`impl<T> From<T> for T`, ...) are left out; auto-trait impls (`Send`,
//! `Sync`, ...) and derived impls are kept: losing `Send` breaks callers.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: api-listing RUSTDOC_JSON");
        return ExitCode::from(2);
    };
    let api = match public_api::Builder::from_rustdoc_json(&path)
        .omit_blanket_impls(true)
        .build()
    {
        Ok(api) => api,
        Err(error) => {
            eprintln!("api-listing: {path}: {error}");
            return ExitCode::FAILURE;
        }
    };
    for item in api.items() {
        println!("{item}");
    }
    ExitCode::SUCCESS
}
