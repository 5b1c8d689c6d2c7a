//! Analysis speed on a synthetic plan of 10,000 systems and 50,000 dependencies.
//!
//! `cargo bench --bench analysis` (criterion); `benches/run.sh` prints median and p99 from its
//! samples. Systems sit in layers (infrastructure, platforms, applications) and depend on five
//! systems in lower layers, the shape of a real plan.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use beredskab::domain::analysis::{assess, check};
use beredskab::domain::*;
use chrono::NaiveDate;

#[path = "common/synthetic.rs"]
mod synthetic;
use synthetic::{SYSTEMS, synthetic_plan};

fn analysis(c: &mut Criterion) {
    let plan = synthetic_plan();
    let deps: usize = plan.systems.iter().map(|s| s.depends_on.len()).sum();
    assert_eq!(plan.systems.len(), SYSTEMS);
    assert!(deps > 49_000, "{deps} dependencies");
    let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let findings = check(&plan, today);
    assert!(findings.iter().all(|f| f.severity() == Severity::Warning));
    let mut group = c.benchmark_group("analysis_10000_systems");
    group.throughput(Throughput::Elements(SYSTEMS as u64));
    group.bench_function("check_all_findings", |b| {
        b.iter(|| black_box(check(black_box(&plan), today)))
    });
    group.bench_function("assess_full_outage", |b| {
        b.iter(|| black_box(assess(black_box(&plan), None).unwrap()))
    });
    let down = [SystemId::parse("s00003").unwrap()];
    group.bench_function("assess_one_infrastructure_system", |b| {
        b.iter(|| black_box(assess(black_box(&plan), Some(&down)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
