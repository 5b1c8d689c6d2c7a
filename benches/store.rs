//! Plan files and the database at 1,000 systems: reading the plan folder, importing it into a
//! fresh SQLite database (one transaction), and rendering the offline runbook.
//!
//! `cargo bench --bench store` (criterion); `benches/run.sh` prints median and p99 from its
//! samples. The plan is `benches/generate_plan.py --systems 1000 --seed 1` (needs python3).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SYSTEMS: usize = 1_000;

/// Generates the 1,000-system plan into `dir/bench-1000` and returns that folder.
fn generated_plan(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("bench-1000");
    let status = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/generate_plan.py"))
        .args(["--systems", &SYSTEMS.to_string(), "--seed", "1"])
        .arg(&out)
        .status()
        .expect("python3 runs benches/generate_plan.py");
    assert!(status.success());
    out
}

fn store(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let folder = generated_plan(dir.path());
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let loaded = beredskab::plan_files::load(&folder, today).unwrap();
    assert!(!loaded.has_errors());
    let plan = loaded.plan.unwrap();
    assert_eq!(plan.systems.len(), SYSTEMS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("plan_1000_systems");
    group.throughput(Throughput::Elements(SYSTEMS as u64));
    group.sample_size(20);
    group.bench_function("read_plan_folder", |b| {
        b.iter(|| black_box(beredskab::plan_files::load(&folder, today).unwrap()))
    });
    // Each import goes into a fresh database (schema made outside the timing).
    group.bench_function("import_into_sqlite", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for i in 0..iterations {
                let url = format!("sqlite://{}/import-{i}.db?mode=rwc", dir.path().display());
                total += runtime.block_on(async {
                    let db = beredskab::store::connect(&url).await.unwrap();
                    beredskab::store::migrate(&db).await.unwrap();
                    let started = Instant::now();
                    beredskab::store::import_plan(&db, &plan).await.unwrap();
                    let took = started.elapsed();
                    db.close().await.unwrap();
                    took
                });
                let _ = std::fs::remove_file(dir.path().join(format!("import-{i}.db")));
            }
            total
        })
    });
    let templates = beredskab::render::Templates::load().unwrap();
    let shown = beredskab::render::runbook::Shown {
        plan: &plan,
        approved: None,
        draft_changed: true,
    };
    let today = chrono::Utc::now().date_naive();
    let offline = || beredskab::render::runbook::offline(&templates, &shown, "da", today).unwrap();
    let size = offline().len();
    println!("offline runbook at {SYSTEMS} systems: {} KB", size / 1024);
    group.bench_function("render_offline_runbook", |b| {
        b.iter(|| black_box(offline()))
    });
    group.finish();
}

criterion_group!(benches, store);
criterion_main!(benches);
