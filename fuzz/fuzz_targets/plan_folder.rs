#![no_main]
//! Fuzz target: see `checks::plan_folder`.

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::plan_folder(data));
