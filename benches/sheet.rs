//! Importing a spreadsheet of 10,000 systems: the XLSX the export writes for the synthetic plan
//! (benches/common/synthetic.rs), read (calamine), checked against the plan row by row and cell
//! by cell, and the result analysed — everything the preview shows before anything is written.
//! Also the export itself.
//!
//! `cargo bench --bench sheet` (criterion).

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use beredskab::domain::analysis::check;
use beredskab::domain::sheet::preview;
use chrono::NaiveDate;

#[path = "common/synthetic.rs"]
mod synthetic;
use synthetic::{SYSTEMS, synthetic_plan};

fn sheet(c: &mut Criterion) {
    let plan = synthetic_plan();
    let locales = beredskab::render::locales().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let findings = check(&plan, today);
    let exercised = HashMap::new();
    let input = beredskab::render::sheet::Input {
        plan: &plan,
        findings: &findings,
        exercised: &exercised,
        lang: "da",
    };
    let bytes = beredskab::render::sheet::workbook(&locales, &input).unwrap();
    // The export reads back to no change: the benchmark measures a real preview.
    let rows = beredskab::plan_files::sheet::read(&bytes, None).unwrap();
    assert_eq!(rows.len(), SYSTEMS + 1);
    let p = preview(&plan, &rows);
    assert!(p.errors.is_empty() && !p.changes_anything());
    let mut group = c.benchmark_group("sheet_10000_systems");
    group.throughput(Throughput::Elements(SYSTEMS as u64));
    group.sample_size(10);
    group.bench_function("read_check_and_preview", |b| {
        b.iter(|| {
            let rows = beredskab::plan_files::sheet::read(black_box(&bytes), None).unwrap();
            let p = preview(&plan, &rows);
            black_box(check(&p.plan, today))
        })
    });
    group.bench_function("export_xlsx", |b| {
        b.iter(|| black_box(beredskab::render::sheet::workbook(&locales, &input).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, sheet);
criterion_main!(benches);
