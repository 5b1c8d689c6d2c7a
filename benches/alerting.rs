//! Alerting speed: alerting a call tree of 200 people by SMS and mail (each message rendered in
//! its reader's language with a link of its own, 400 messages and 200 acknowledgement rows
//! written in one transaction), and the outbox worker handing all 400 to loopback peers: the
//! tests' SMTP server and an HTTP server answering as GatewayAPI does.
//!
//! `cargo bench --bench alerting` (criterion); `benches/run.sh` prints median and p99 from its
//! samples. SQLite in a temporary folder.

#[path = "../tests/helpers/smtp.rs"]
#[allow(dead_code)] // the tests use more of it than the benchmark
mod smtp;

#[path = "../tests/helpers/http_peer.rs"]
#[allow(dead_code)]
mod http_peer;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use beredskab::app::alerting::Audience;
use beredskab::domain::{CallTreeEntry, Person, PersonId, PlanId};
use beredskab::store::{self, incidents::NewIncident};

const PEOPLE: usize = 200;

struct Setup {
    _dir: tempfile::TempDir,
    app: beredskab::app::App,
    senders: beredskab::delivery::Senders,
    smtp: smtp::SmtpServer,
    gateway: http_peer::HttpPeer,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let db = store::connect(&url).await.unwrap();
    store::migrate(&db).await.unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
    let loaded = beredskab::plan_files::load(&repo.join("plans/example-kommune"), today).unwrap();
    let mut plan = loaded.plan.unwrap();
    plan.call_tree.clear();
    for i in 0..PEOPLE {
        let id = PersonId::parse(&format!("vagt-{i:03}")).unwrap();
        plan.people.push(Person {
            id: id.clone(),
            name: format!("Vagthavende {i}"),
            title: "Driftstekniker".into(),
            email: format!("vagt-{i:03}@eksempel-kommune.dk"),
            phone: format!("20 00 {:02} {:02}", i / 100, i % 100),
            roles: vec![],
        });
        plan.call_tree.push(CallTreeEntry {
            person: id,
            called_by: None,
            note: String::new(),
        });
    }
    store::import_plan(&db, &plan).await.unwrap();
    let smtp = smtp::SmtpServer::start();
    let gateway = http_peer::HttpPeer::start(http_peer::gatewayapi_ok()).await;
    let config = beredskab::config::Config {
        mail_from: "Beredskab <beredskab@eksempel-kommune.dk>".parse().unwrap(),
        public_url: Some("https://beredskab.example".into()),
        mail_transport: beredskab::config::MailTransport::Smtp,
        smtp_host: "127.0.0.1".into(),
        smtp_port: smtp.port,
        smtp_security: beredskab::config::SmtpSecurity::None,
        sms_provider: Some(beredskab::config::SmsProvider::Gatewayapi),
        sms_url: gateway.url("/rest/mtsms"),
        sms_token: Some("bench".into()),
        ..beredskab::config::Config::default()
    };
    let mailer = beredskab::mail::Mailer::from_config(&config).unwrap();
    let clock = beredskab::app::Clock::system(config.time_zone);
    let app = beredskab::app::App::new(db, config, clock).unwrap();
    let senders =
        beredskab::delivery::Senders::from_config(&app.config, mailer, app.live.clone()).unwrap();
    Setup {
        _dir: dir,
        app,
        senders,
        smtp,
        gateway,
    }
}

/// Opens an incident (outside the timing) with the file servers down.
async fn incident(s: &Setup) -> store::incidents::Incident {
    let now = chrono::Utc::now();
    let id = store::incidents::open(
        &s.app.db,
        NewIncident {
            plan_id: "example-kommune".into(),
            version: None,
            title: "Ransomware på filserverne".into(),
            criterion: String::new(),
            started_at: now,
            opened_by: "bench".into(),
            down: vec!["filservere".into()],
        },
        |_| Vec::new(),
        now,
    )
    .await
    .unwrap();
    store::incidents::find(&s.app.db, id)
        .await
        .unwrap()
        .unwrap()
}

fn alerting(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _runtime = runtime.enter();
    let s = runtime.block_on(setup());
    let plan = runtime
        .block_on(s.app.plan(&PlanId::parse("example-kommune").unwrap()))
        .unwrap()
        .unwrap();
    let mut group = c.benchmark_group("alerting");
    group.sample_size(10);
    group.throughput(Throughput::Elements(PEOPLE as u64));

    // Queuing: "Varsl" for 200 people, SMS and mail each, committed.
    group.bench_function("alert_200_people_queue", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                total += runtime.block_on(async {
                    let incident = incident(&s).await;
                    let started = Instant::now();
                    let (_, n) = s
                        .app
                        .alert_call_tree(&plan, &incident, "bench", Audience::Everyone)
                        .await
                        .unwrap();
                    let took = started.elapsed();
                    assert_eq!(n, PEOPLE);
                    took
                });
            }
            total
        })
    });
    // Delivery: the 400 messages of one alert handed to the SMTP server and the gateway.
    runtime.block_on(async {
        beredskab::delivery::deliver_due(&s.app.db, &s.senders, chrono::Utc::now())
            .await
            .unwrap();
    });
    group.throughput(Throughput::Elements(2 * PEOPLE as u64));
    group.bench_function("alert_200_people_deliver_400", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                total += runtime.block_on(async {
                    let incident = incident(&s).await;
                    s.app
                        .alert_call_tree(&plan, &incident, "bench", Audience::Everyone)
                        .await
                        .unwrap();
                    let (mails, texts) = (s.smtp.messages().len(), s.gateway.received().len());
                    let started = Instant::now();
                    let sent =
                        beredskab::delivery::deliver_due(&s.app.db, &s.senders, chrono::Utc::now())
                            .await
                            .unwrap();
                    let took = started.elapsed();
                    assert_eq!(sent, 2 * PEOPLE);
                    assert_eq!(s.smtp.messages().len() - mails, PEOPLE);
                    assert_eq!(s.gateway.received().len() - texts, PEOPLE);
                    took
                });
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, alerting);
criterion_main!(benches);
