//! What the fuzz targets check, one function per target. Shared with
//! `tests/fuzz_regressions.rs`, which runs every input kept under `fuzz/regressions/<target>/`
//! through the same function, so a crash the fuzzer found stays fixed.
#![allow(dead_code)] // each target uses one of these

use std::path::{Path, PathBuf};

use beredskab::domain::Duration;
use beredskab::domain::drill::Schedule;
use chrono::{NaiveDate, TimeZone, Utc};

/// Durations: whatever the text, parsing returns (never panics), and a parsed duration's own
/// text parses back to the same duration.
pub fn duration(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = Duration::parse(text) {
        let shown = d.to_string();
        let again = Duration::parse(&shown)
            .unwrap_or_else(|e| panic!("{text:?} parsed as {shown:?}, which does not parse: {e}"));
        assert_eq!(again, d, "{text:?} → {shown:?}");
    }
}

/// Drill schedules (cron expressions as typed into the drill form): checking returns, and a
/// schedule that passes the check yields a bounded, ordered list of occurrences within the
/// horizon the scheduler uses (400 days).
pub fn schedule(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tz = chrono_tz::Europe::Copenhagen;
    let schedule = Schedule::Recurring {
        cron: text.to_string(),
    };
    if schedule.check(tz).is_err() {
        return;
    }
    let from = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let until = from + chrono::Duration::days(400);
    let starts = schedule
        .occurrences(tz, from, until)
        .unwrap_or_else(|e| panic!("{text:?} passed the check but has no occurrences: {e}"));
    let most = 2 * 2 * beredskab::domain::drill::MAX_PER_YEAR;
    assert!(
        starts.len() <= most,
        "{text:?}: {} occurrences in 400 days",
        starts.len()
    );
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "{text:?}: not in order"
    );
    assert!(
        starts.iter().all(|t| *t > from && *t <= until),
        "{text:?}: outside the horizon"
    );
}

/// A plan folder: `plan.toml`, then system files, each introduced by a line `==> <id>`.
/// Loading never panics and every finding's line lies in its file; a plan without errors can
/// be analysed, and written out and read back unchanged.
pub fn plan_folder(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let root = scratch();
    let dir = root.join("fuzzplan");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(dir.join("systems")).unwrap();
    let mut parts = text.split("\n==> ");
    std::fs::write(dir.join("plan.toml"), parts.next().unwrap_or("")).unwrap();
    for (i, part) in parts.enumerate() {
        let (id, body) = part.split_once('\n').unwrap_or((part, ""));
        // Only names a file system takes; the loader itself judges whether they are ids.
        let safe = !id.is_empty()
            && id.len() <= 80
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && !id.starts_with('.');
        let name = if safe {
            id.to_string()
        } else {
            format!("x{i}")
        };
        std::fs::write(dir.join("systems").join(format!("{name}.toml")), body).unwrap();
    }
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let loaded = beredskab::plan_files::load(&dir, today).expect("the folder is readable");
    for f in &loaded.findings {
        if let Some(line) = f.line.map(|l| l as usize) {
            let lines = std::fs::read_to_string(&f.file)
                .map(|t| t.lines().count().max(1))
                .unwrap_or(usize::MAX);
            assert!(
                line >= 1 && line <= lines + 1,
                "{f}: line {line} of {lines}"
            );
        }
    }
    if let Some(plan) = loaded.plan.filter(|_| {
        !loaded
            .findings
            .iter()
            .any(|f| f.severity() == beredskab::domain::Severity::Error)
    }) {
        let _ = beredskab::domain::analysis::check(&plan, today);
        beredskab::domain::analysis::assess(&plan, None)
            .expect("a full outage names no unknown system");
        let copy = root.join("copy").join("fuzzplan");
        beredskab::plan_files::write(&plan, &copy).unwrap();
        let again = beredskab::plan_files::load(&copy, today).unwrap();
        assert_eq!(
            again.plan.as_ref(),
            Some(&plan),
            "written and read back, the plan changed"
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// A folder of this thread's own under the temporary directory.
fn scratch() -> PathBuf {
    let thread = format!("{:?}", std::thread::current().id());
    let digits: String = thread.chars().filter(char::is_ascii_digit).collect();
    Path::new(&std::env::temp_dir()).join(format!("beredskab-fuzz-{}-{digits}", std::process::id()))
}
