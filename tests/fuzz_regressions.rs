//! Inputs the fuzzers found (or that stand for what they check), kept under
//! `fuzz/regressions/<target>/` and run through the fuzz targets' own checks, so each stays
//! fixed. `fuzz/run.sh` fuzzes; a crash it finds is copied here.

#[path = "../fuzz/checks.rs"]
mod checks;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            (path.display().to_string(), std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn run(target: &str, check: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(!inputs.is_empty(), "no inputs kept for {target}");
    for (name, data) in inputs {
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            panic!("{name} fails the {target} check again");
        }
    }
}

#[test]
fn kept_duration_inputs_pass() {
    run("duration", checks::duration);
}

#[test]
fn kept_schedule_inputs_pass() {
    run("schedule", checks::schedule);
}

#[test]
fn kept_plan_folder_inputs_pass() {
    run("plan_folder", checks::plan_folder);
}
