//! Speed of the plan's health pages at 1,000 systems with five years of drills: the dashboard,
//! the annual report (page and file), the completeness page and the dependency picture, each
//! timed as a whole HTTP request against the real server on loopback.
//!
//! `cargo bench --bench health` prints one table. The plan is `benches/generate_plan.py
//! --systems 1000 --seed 1` (python3), stored in SQLite in a temporary folder, with 2022–2026
//! filled in: a drill every quarter recording 50 systems each, four incidents a year with ten
//! systems down each, 300 action items.

use std::process::Command;
use std::time::{Duration as StdDuration, Instant};

use beredskab::domain::drill::{DrillKind, Scenario, Schedule, SystemRecord};
use beredskab::domain::{Duration, PlanId, ScenarioId};
use beredskab::store::{self, actions::NewAction, drills::Drill, incidents::NewIncident};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

const PLAN: &str = "bench-1000";
const ROUNDS: usize = 50;
const YEARS: std::ops::RangeInclusive<i32> = 2022..=2026;

fn at(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0).unwrap()
}

async fn seed(db: &sea_orm::DatabaseConnection, systems: &[String]) {
    let scenario = Scenario {
        id: ScenarioId::parse("bench").unwrap(),
        title: "Benchmark-øvelse".into(),
        kind: DrillKind::Dilemma,
        duration: Duration::parse("2h").unwrap(),
        systems_down: vec![],
        roles: vec![],
        narrative: String::new(),
        facilitator_notes: String::new(),
        questions: vec![],
        injects: vec![],
    };
    let mut n = 0usize;
    for year in YEARS {
        for quarter in 0..4 {
            let start = at(year, 3 * quarter + 2, 10, 9);
            let mut drill = Drill {
                id: 0,
                plan_id: PLAN.into(),
                scenario_id: None,
                title: format!("Øvelse {year} K{}", quarter + 1),
                scenario: scenario.clone(),
                facilitator: None,
                participants: vec![],
                location: String::new(),
                schedule: Schedule::Once {
                    at: start.naive_utc(),
                },
                time_zone: chrono_tz::UTC,
                invite_days_before: 14,
                created_by: "bench".into(),
                created_at: start,
                cancelled: false,
            };
            drill.id = store::drills::create(db, &drill).await.unwrap();
            store::drills::ensure_occurrences(db, &drill, &[start])
                .await
                .unwrap();
            let occurrence = store::drills::occurrences(db, drill.id).await.unwrap()[0].id;
            for k in 0..50 {
                n += 1;
                let record = SystemRecord {
                    found: Some(true),
                    followed: Some(k % 5 != 0),
                    recovery: Some(Duration::from_minutes(30 + (n as u64 * 37) % 900)),
                    notes: String::new(),
                };
                let system = &systems[(n * 7) % systems.len()];
                store::drills::record_system(db, occurrence, system, &record, "bench", start)
                    .await
                    .unwrap();
            }
            store::drills::close(db, occurrence, "bench", start + chrono::Duration::hours(3))
                .await
                .unwrap();
        }
        for i in 0..4u32 {
            let start = at(year, 3 * i + 1, 20, 8);
            let down: Vec<String> = (0..10)
                .map(|k| {
                    systems[(year as usize * 31 + i as usize * 97 + k * 13) % systems.len()].clone()
                })
                .collect();
            let id = store::incidents::open(
                db,
                NewIncident {
                    plan_id: PLAN.into(),
                    version: None,
                    title: format!("Hændelse {year}-{i}"),
                    criterion: String::new(),
                    started_at: start,
                    opened_by: "bench".into(),
                    down: down.clone(),
                },
                |_| Vec::new(),
                start,
            )
            .await
            .unwrap();
            for (k, system) in down.iter().enumerate() {
                let back = start + chrono::Duration::minutes(60 + 45 * k as i64);
                store::incidents::mark(db, id, system, false, "bench", Vec::new(), back)
                    .await
                    .unwrap();
            }
            store::incidents::advance(
                db,
                id,
                store::incidents::CLOSED,
                "bench",
                Vec::new(),
                start + chrono::Duration::hours(12),
            )
            .await
            .unwrap();
        }
        for i in 0..60u32 {
            let created = at(year, i % 12 + 1, 5, 10);
            let action = store::actions::create(
                db,
                NewAction {
                    plan_id: PLAN.into(),
                    occurrence_id: None,
                    incident_id: None,
                    system_id: None,
                    title: format!("Opfølgning {year}-{i}"),
                    owner: "bench".into(),
                    due: created.date_naive() + chrono::Duration::days(60),
                    created_by: "bench".into(),
                },
                None,
                created,
            )
            .await
            .unwrap();
            if i % 3 != 0 {
                store::actions::set_status(
                    db,
                    action,
                    true,
                    "bench",
                    created + chrono::Duration::days(30),
                )
                .await
                .unwrap();
            }
        }
    }
}

fn summary(mut times: Vec<StdDuration>) -> (f64, f64) {
    times.sort();
    let ms = |d: StdDuration| d.as_secs_f64() * 1000.0;
    let p99 = times[((times.len() * 99).div_ceil(100)).saturating_sub(1)];
    (ms(times[times.len() / 2]), ms(p99))
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans");
    let generated = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/generate_plan.py"
        ))
        .args(["--systems", "1000", "--seed", "1"])
        .arg(plans.join(PLAN))
        .status()
        .expect("python3 runs benches/generate_plan.py");
    assert!(generated.success());
    let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let plan = beredskab::plan_files::load(&plans.join(PLAN), today)
        .unwrap()
        .plan
        .unwrap();
    let systems: Vec<String> = plan.systems.iter().map(|s| s.id.to_string()).collect();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let db = store::connect(&url).await.unwrap();
    store::migrate(&db).await.unwrap();
    store::import_plan(&db, &plan).await.unwrap();
    let started = Instant::now();
    seed(&db, &systems).await;
    eprintln!(
        "seeded five years in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let config = beredskab::config::Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: url,
        plans_dir: plans,
        import: false,
        admin_password: Some("bench-password-123".into()),
        mail_dir: dir.path().join("mail"),
        runbook_dir: dir.path().join("runbooks"),
        ..beredskab::config::Config::default()
    };
    let app = beredskab::startup::Application::build(config)
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped(std::future::pending::<()>()));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client.get(format!("{base}/login")).send().await.unwrap();
    let page = login.text().await.unwrap();
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).unwrap() + marker.len();
    let csrf = &page[at..at + page[at..].find('"').unwrap()];
    let signed_in = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf),
            ("username", "admin"),
            ("password", "bench-password-123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let plan_id = PlanId::parse(PLAN).unwrap();

    println!("| page (1,000 systems, drills and incidents 2022–2026) | median | p99 | size |");
    println!("|---|---:|---:|---:|");
    for (name, path) in [
        ("dashboard", format!("/plans/{plan_id}/dashboard")),
        (
            "annual report 2026 (year running)",
            format!("/plans/{plan_id}/report/2026"),
        ),
        (
            "annual report 2025",
            format!("/plans/{plan_id}/report/2025"),
        ),
        (
            "annual report 2025, file",
            format!("/plans/{plan_id}/report/2025/download"),
        ),
        ("completeness", format!("/plans/{plan_id}/completeness")),
        (
            "dependency picture, whole plan",
            format!("/plans/{plan_id}/picture"),
        ),
    ] {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut size = 0;
        for round in 0..=ROUNDS {
            let t = Instant::now();
            let response = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{path}");
            size = response.bytes().await.unwrap().len();
            // The first request fills the plan cache: it is the warm-up.
            if round > 0 {
                times.push(t.elapsed());
            }
        }
        let (median, p99) = summary(times);
        println!(
            "| {name} `{path}` | {median:.1} ms | {p99:.1} ms | {} KB |",
            size / 1024
        );
    }
    println!(
        "\n{ROUNDS} sequential requests each after one warm-up; `cargo bench --bench health`; {} CPUs.",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}
