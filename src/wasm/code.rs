//! The numbers the JS helpers of `js` hand back. Their home is
//! `src/wasm/host.js` (`KIND`, `PROBLEM`, `LIST`, `SENT`); `build.rs` reads
//! those objects and writes them here as `kind::STRING`, `problem::TOO_LARGE`,
//! … (camelCase names in SCREAMING_SNAKE_CASE), so a code changes in host.js
//! alone. The wasm test `the_numeric_codes_agree_on_both_sides` compares the
//! result, name by name, with the objects host.js exports at run time.

include!(concat!(env!("OUT_DIR"), "/codes.rs"));
