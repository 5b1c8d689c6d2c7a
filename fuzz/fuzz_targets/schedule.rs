#![no_main]
//! Fuzz target: see `checks::schedule`.

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::schedule(data));
