//! Mail speed: queuing the invitations of a drill with 500 participants (rendered in their
//! language, with the iCalendar invitation, written in one transaction), and the outbox worker
//! delivering 1,000 messages to an SMTP server on loopback.
//!
//! `cargo bench --bench mail` prints the figures. SQLite in a temporary folder; the SMTP server
//! is the tests' own (`tests/helpers/smtp.rs`), a real SMTP peer over TCP.

#[path = "../tests/helpers/smtp.rs"]
#[allow(dead_code)] // the tests use more of it than the benchmark
mod smtp;

use std::sync::Arc;
use std::time::Instant;

use beredskab::domain::drill::Schedule;
use beredskab::domain::{Person, PersonId, PlanId, ScenarioId};
use beredskab::store::{self, drills::Drill, outbox};
use chrono::{NaiveDateTime, Utc};

const PARTICIPANTS: usize = 500;
const MESSAGES: usize = 1_000;

#[tokio::main]
async fn main() {
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
    let plan_id = PlanId::parse("example-kommune").unwrap();
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
    let ctx = beredskab::drills::Context {
        db: db.clone(),
        templates: Arc::new(beredskab::web::Templates::load().unwrap()),
        language: "da".into(),
        organizer: ("Beredskab".into(), "beredskab@eksempel-kommune.dk".into()),
        public_url: "https://beredskab.example".into(),
        outbox: Arc::new(tokio::sync::Notify::new()),
        evaluation_days: 3,
        action_reminder_days: 7,
        review_reminder_days: 14,
        time_zone: chrono_tz::Europe::Copenhagen,
        plans: Default::default(),
    };

    // Queuing: five drills, each timed from "due" to "500 messages committed".
    let mut queue_times = Vec::new();
    for round in 0..5 {
        let at = format!("2026-12-{:02} 09:00", 10 + round);
        let drill = Drill {
            id: 0,
            plan_id: plan_id.to_string(),
            scenario_id: Some("ad-nede".into()),
            title: format!("{} ({round})", scenario.title),
            scenario: scenario.clone(),
            facilitator: None,
            participants: participants.clone(),
            location: "Rådhuset".into(),
            schedule: Schedule::Once {
                at: NaiveDateTime::parse_from_str(&at, "%Y-%m-%d %H:%M").unwrap(),
            },
            time_zone: "Europe/Copenhagen".into(),
            invite_days_before: 14,
            created_by: "bench".into(),
            created_at: Utc::now(),
            cancelled: false,
        };
        store::drills::create(&db, &drill).await.unwrap();
        // Create the occurrence first (outside the timing), as the scheduler does ahead of time.
        beredskab::drills::tick(&ctx, "2026-11-01T00:00:00Z".parse().unwrap())
            .await
            .unwrap();
        let started = Instant::now();
        // Thirteen days before the drill: inside its 14-day invitation window.
        let start: chrono::DateTime<Utc> = format!("2026-12-{:02}T08:00:00Z", 10 + round)
            .parse()
            .unwrap();
        let queued = beredskab::drills::tick(&ctx, start - chrono::Duration::days(13))
            .await
            .unwrap();
        queue_times.push(started.elapsed());
        assert_eq!(queued, 1);
    }
    queue_times.sort();
    println!(
        "queue invitations for {PARTICIPANTS} participants: median {:.0} ms, max {:.0} ms (5 drills)",
        queue_times[2].as_secs_f64() * 1000.0,
        queue_times[4].as_secs_f64() * 1000.0
    );

    // Delivery: 1,000 messages (the first two drills' invitations) to the loopback server.
    let server = smtp::SmtpServer::start();
    let config = beredskab::config::Config {
        mail_transport: beredskab::config::MailTransport::Smtp,
        smtp_host: "127.0.0.1".into(),
        smtp_port: server.port,
        smtp_security: beredskab::config::SmtpSecurity::None,
        ..beredskab::config::Config::default()
    };
    let mailer = beredskab::mail::Mailer::from_config(&config).unwrap();
    let from = "Beredskab <beredskab@eksempel-kommune.dk>".parse().unwrap();
    // Leave exactly MESSAGES due: the later drills' invitations wait.
    let all = outbox::recent(&db, 10_000).await.unwrap();
    let keep: Vec<i64> = all.iter().map(|m| m.id).collect::<Vec<_>>();
    // The clock of the delivery: after every invitation was queued.
    let now: chrono::DateTime<Utc> = "2026-12-31T00:00:00Z".parse().unwrap();
    let later = now + chrono::Duration::days(1);
    for id in keep.iter().skip(MESSAGES.min(keep.len())) {
        outbox::mark_retry(&db, *id, "held back by the benchmark", later)
            .await
            .unwrap();
    }
    if std::env::var("MAIL_BENCH_FILE").is_ok() {
        let files = beredskab::mail::Mailer::from_config(&beredskab::config::Config {
            mail_dir: dir.path().join("mail"),
            ..beredskab::config::Config::default()
        })
        .unwrap();
        let started = Instant::now();
        let sent = beredskab::mail::deliver_due(&db, &files, &from, now)
            .await
            .unwrap();
        println!(
            "file transport: {sent} in {:.2} s",
            started.elapsed().as_secs_f64()
        );
        return;
    }
    let started = Instant::now();
    let sent = beredskab::mail::deliver_due(&db, &mailer, &from, now)
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(sent, MESSAGES);
    assert_eq!(server.messages().len(), MESSAGES);
    println!(
        "deliver {MESSAGES} messages over SMTP on loopback: {:.2} s ({:.0} messages/s)",
        took.as_secs_f64(),
        MESSAGES as f64 / took.as_secs_f64()
    );
}
