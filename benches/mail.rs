//! Mail speed: queuing the invitations of a drill with 500 participants (rendered in their
//! language, with the iCalendar invitation, written in one transaction), and the outbox worker
//! delivering 1,000 messages to an SMTP server on loopback.
//!
//! `cargo bench --bench mail` (criterion); `benches/run.sh` prints median and p99 from its
//! samples. SQLite in a temporary folder; the SMTP server is the tests' own
//! (`tests/helpers/smtp.rs`), a real SMTP peer over TCP.

#[path = "../tests/helpers/smtp.rs"]
#[allow(dead_code)] // the tests use more of it than the benchmark
mod smtp;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sea_orm::TransactionTrait;

use beredskab::domain::drill::Schedule;
use beredskab::domain::{Person, PersonId, ScenarioId};
use beredskab::store::{self, drills::Drill, outbox};
use chrono::{NaiveDateTime, Utc};

const PARTICIPANTS: usize = 500;
const MESSAGES: usize = 1_000;

/// The drill set-up: the example plan with 500 more people, and the scheduler's context.
struct Setup {
    _dir: tempfile::TempDir,
    db: sea_orm::DatabaseConnection,
    ctx: beredskab::app::App,
    participants: Vec<String>,
    scenario: beredskab::domain::drill::Scenario,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let db = store::connect(&url).await.unwrap();
    store::migrate(&db).await.unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let loaded = beredskab::plan_files::load(&repo.join("plans/example-kommune"), today).unwrap();
    let mut plan = loaded.plan.unwrap();
    for i in 0..PARTICIPANTS {
        plan.people.push(Person {
            id: PersonId::parse(&format!("deltager-{i:03}")).unwrap(),
            name: format!("Deltager {i}"),
            title: "Medarbejder".into(),
            email: format!("deltager-{i:03}@eksempel-kommune.dk"),
            phone: String::new(),
            roles: vec![],
        });
    }
    // Every section freshly reviewed: no review reminder joins the drill mail being measured.
    for system in &mut plan.systems {
        system.last_reviewed = Some(today);
    }
    store::import_plan(&db, &plan).await.unwrap();
    store::drills::import_scenarios(&db, &plan.id, &loaded.scenarios)
        .await
        .unwrap();
    let scenario = loaded
        .scenarios
        .iter()
        .find(|s| s.id == ScenarioId::parse("ad-nede").unwrap())
        .unwrap()
        .clone();
    let participants: Vec<String> = plan
        .people
        .iter()
        .filter(|p| p.id.as_str().starts_with("deltager-"))
        .map(|p| p.id.to_string())
        .collect();
    let config = beredskab::config::Config {
        mail_from: "Beredskab <beredskab@eksempel-kommune.dk>".parse().unwrap(),
        public_url: Some("https://beredskab.example".into()),
        ..beredskab::config::Config::default()
    };
    let clock = beredskab::app::Clock::system(config.time_zone);
    let ctx = beredskab::app::App::new(db.clone(), config, clock).unwrap();

    Setup {
        _dir: dir,
        db,
        ctx,
        participants,
        scenario,
    }
}

/// Plans the `n`th drill for 500 participants (a month after the one before, so that no other
/// drill's mail falls due with its invitation) and returns its start.
async fn plan_drill(s: &Setup, n: i64) -> chrono::DateTime<Utc> {
    let start = NaiveDateTime::parse_from_str("2027-01-01 09:00", "%Y-%m-%d %H:%M").unwrap()
        + chrono::Duration::days(30 * n);
    let drill = Drill {
        id: 0,
        plan_id: "example-kommune".into(),
        scenario_id: Some("ad-nede".into()),
        title: format!("{} ({n})", s.scenario.title),
        scenario: s.scenario.clone(),
        facilitator: None,
        participants: s.participants.clone(),
        location: "Rådhuset".into(),
        schedule: Schedule::Once { at: start },
        time_zone: chrono_tz::Europe::Copenhagen,
        invite_days_before: 14,
        created_by: "bench".into(),
        created_at: Utc::now(),
        cancelled: false,
    };
    store::drills::create(&s.db, &drill).await.unwrap();
    // The occurrence is made ahead of time, as the scheduler does (outside the timing).
    let start = start.and_utc();
    beredskab::scheduler::run(&s.ctx, start - chrono::Duration::days(20))
        .await
        .unwrap();
    start
}

fn mail(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The SMTP transport's pool is made inside the runtime.
    let _runtime = runtime.enter();
    let s = runtime.block_on(setup());
    let mut group = c.benchmark_group("mail");
    group.sample_size(10);

    // Queuing: from "due" to 500 messages (each language's text, HTML and invitation) committed.
    let day = AtomicI64::new(0);
    group.throughput(Throughput::Elements(PARTICIPANTS as u64));
    group.bench_function("queue_invitations_500_participants", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                total += runtime.block_on(async {
                    let start = plan_drill(&s, day.fetch_add(1, Ordering::Relaxed)).await;
                    let started = Instant::now();
                    let queued =
                        beredskab::scheduler::run(&s.ctx, start - chrono::Duration::days(13))
                            .await
                            .unwrap();
                    let took = started.elapsed();
                    assert_eq!(queued, 1);
                    took
                });
            }
            total
        })
    });

    // Delivery: MESSAGES messages to the loopback SMTP server; each round the same messages are
    // made due again (outside the timing).
    let server = smtp::SmtpServer::start();
    let config = beredskab::config::Config {
        mail_transport: beredskab::config::MailTransport::Smtp,
        smtp_host: "127.0.0.1".into(),
        smtp_port: server.port,
        smtp_security: beredskab::config::SmtpSecurity::None,
        ..beredskab::config::Config::default()
    };
    let mailer = beredskab::mail::Mailer::from_config(&config).unwrap();
    let senders = beredskab::delivery::Senders::from_config(
        &beredskab::config::Config {
            mail_from: "Beredskab <beredskab@eksempel-kommune.dk>".parse().unwrap(),
            ..config.clone()
        },
        mailer,
        Default::default(),
    )
    .unwrap();
    let now: chrono::DateTime<Utc> = "2027-12-31T00:00:00Z".parse().unwrap();
    let ids: Vec<i64> = runtime.block_on(async {
        let all = outbox::recent(&s.db, None, 100_000).await.unwrap();
        assert!(all.len() >= MESSAGES, "{} messages queued", all.len());
        all.iter().map(|m| m.id).collect()
    });
    let (due, held) = ids.split_at(MESSAGES);
    // The rest wait until tomorrow, once: delivery never touches a message that is not due.
    runtime.block_on(async {
        let txn = s.db.begin().await.unwrap();
        for id in held {
            outbox::mark_retry(&txn, *id, "held back", now + chrono::Duration::days(1))
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
    });
    group.throughput(Throughput::Elements(MESSAGES as u64));
    group.bench_function("deliver_1000_messages_over_smtp", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                total += runtime.block_on(async {
                    let txn = s.db.begin().await.unwrap();
                    for id in due {
                        outbox::mark_retry(&txn, *id, "", now).await.unwrap();
                    }
                    txn.commit().await.unwrap();
                    let before = server.messages().len();
                    let started = Instant::now();
                    let sent = beredskab::delivery::deliver_due(&s.db, &senders, now)
                        .await
                        .unwrap();
                    let took = started.elapsed();
                    assert_eq!(sent, MESSAGES);
                    assert_eq!(server.messages().len() - before, MESSAGES);
                    took
                });
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, mail);
criterion_main!(benches);
