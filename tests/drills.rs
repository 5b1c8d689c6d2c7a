//! Drills. Over HTTP: the coordinator plans, changes and starts a drill, participants record
//! each system, the drill is closed, reported and evaluated, findings become action items, and
//! systems not exercised since a significant change are flagged. Drill programmes and their mail
//! against a real SMTP server on loopback: each occurrence is invited once, a restart neither
//! repeats nor loses mail and a worker that dies mid-send repeats only what was in flight, an
//! SMTP server that is down gets everything once it is back, a refused address is kept with the
//! server's reply without holding up the rest, the invitation is a valid iCalendar REQUEST and a
//! change updates or cancels the same entry, never ahead of the invitation. The scheduler's
//! reminders: before a drill, of a late evaluation, of an overdue action item, of a section past
//! its review date.

mod helpers;

use beredskab::app::{App, Clock};
use beredskab::domain::drill::Schedule;
use beredskab::domain::{PlanId, ScenarioId};
use beredskab::mail::Mailer;

/// The outbox worker's pass with mail alone.
async fn deliver_due(
    db: &sea_orm::DatabaseConnection,
    mailer: &Mailer,
    from: &lettre::message::Mailbox,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize, beredskab::store::StoreError> {
    let senders = beredskab::delivery::Senders {
        mailer: mailer.clone(),
        from: from.clone(),
        sms: None,
        http: std::sync::Arc::new(beredskab::http_client::HttpClient::new().unwrap()),
        live: Default::default(),
    };
    beredskab::delivery::deliver_due(db, &senders, now).await
}
use beredskab::scheduler::run as tick;
use beredskab::store::{self, drills::Drill, outbox};
use chrono::{DateTime, NaiveDateTime, Utc};
use helpers::smtp::SmtpServer;
use helpers::{TestApp, form_fields, location, quoted_printable_text, set};
use sea_orm::DatabaseConnection;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A database with the example plan and its scenario library; one person's address is one the
/// SMTP server refuses. Every section counts as reviewed on 1 November 2026, so that no review
/// reminder joins the drill mail.
async fn setup(db: &helpers::TestDb) -> DatabaseConnection {
    setup_with(db, true).await
}

/// `setup`, with the sections' review dates as the example plan has them when `reviewed` is
/// false (one is overdue).
async fn setup_with(db: &helpers::TestDb, reviewed: bool) -> DatabaseConnection {
    let conn = store::connect(&db.url).await.unwrap();
    store::migrate(&conn).await.unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let loaded = beredskab::plan_files::load(&helpers::example_plan(), today).unwrap();
    let mut plan = loaded.plan.unwrap();
    plan.people
        .iter_mut()
        .find(|p| p.id.as_str() == "mikkel-friis")
        .unwrap()
        .email = "reject-mikkel@eksempel-kommune.dk".into();
    if reviewed {
        for system in &mut plan.systems {
            system.last_reviewed = chrono::NaiveDate::from_ymd_opt(2026, 11, 1);
        }
    }
    store::import_plan(&conn, &plan).await.unwrap();
    assert!(loaded.scenarios.len() >= 5);
    store::drills::import_scenarios(&conn, &plan.id, &loaded.scenarios)
        .await
        .unwrap();
    conn
}

/// A drill of the "AD down" scenario on 10 December 2026 at 09:00 Copenhagen time, inviting the
/// scenario's default participants 14 days before.
async fn ad_drill(conn: &DatabaseConnection) -> (i64, Vec<String>) {
    let at = NaiveDateTime::parse_from_str("2026-12-10 09:00", "%Y-%m-%d %H:%M").unwrap();
    drill_of(conn, Schedule::Once { at }).await
}

/// A drill of the "AD down" scenario on `schedule`.
async fn drill_of(conn: &DatabaseConnection, schedule: Schedule) -> (i64, Vec<String>) {
    let plan_id = PlanId::parse("example-kommune").unwrap();
    let plan = store::load_plan(conn, &plan_id).await.unwrap().unwrap();
    let scenario = store::drills::scenarios(conn, &plan_id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == ScenarioId::parse("ad-nede").unwrap())
        .unwrap();
    let participants: Vec<String> = scenario
        .default_participants(&plan)
        .iter()
        .map(ToString::to_string)
        .collect();
    let drill = Drill {
        id: 0,
        plan_id: plan_id.to_string(),
        scenario_id: Some("ad-nede".into()),
        title: scenario.title.clone(),
        scenario,
        facilitator: Some("lars-nielsen".into()),
        participants: participants.clone(),
        location: "Rådhuset, mødelokale 2".into(),
        schedule,
        time_zone: chrono_tz::Europe::Copenhagen,
        invite_days_before: 14,
        created_by: "lars-nielsen".into(),
        created_at: Utc::now(),
        cancelled: false,
    };
    (
        store::drills::create(conn, &drill).await.unwrap(),
        participants,
    )
}

fn context(conn: &DatabaseConnection) -> App {
    let config = beredskab::config::Config {
        language: "da".into(),
        mail_from: from(),
        public_url: Some("https://beredskab.example".into()),
        evaluation_days: 3,
        action_reminder_days: 7,
        review_reminder_days: 14,
        time_zone: chrono_tz::Europe::Copenhagen,
        ..beredskab::config::Config::default()
    };
    let clock = Clock::fixed(chrono_tz::Europe::Copenhagen, Utc::now());
    App::new(conn.clone(), config, clock).unwrap()
}

fn mailer(smtp: &SmtpServer) -> Mailer {
    let config = beredskab::config::Config {
        mail_transport: beredskab::config::MailTransport::Smtp,
        smtp_host: "127.0.0.1".into(),
        smtp_port: smtp.port,
        smtp_security: beredskab::config::SmtpSecurity::None,
        ..beredskab::config::Config::default()
    };
    Mailer::from_config(&config).unwrap()
}

fn from() -> lettre::message::Mailbox {
    "Beredskab <beredskab@eksempel-kommune.dk>".parse().unwrap()
}

#[tokio::test]
async fn an_occurrence_is_invited_once_and_reminded_once() {
    for db in helpers::databases().await {
        let conn = setup(&db).await;
        let (drill, participants) = ad_drill(&conn).await;
        let with_address = participants.len();
        let smtp = SmtpServer::start();
        let ctx = context(&conn);
        let mail = mailer(&smtp);

        // Before the invitation window (26 November): the occurrence exists, nothing is sent.
        assert_eq!(tick(&ctx, utc("2026-11-20T10:00:00Z")).await.unwrap(), 0);
        let occurrences = store::drills::occurrences(&conn, drill).await.unwrap();
        assert_eq!(occurrences.len(), 1);
        assert_eq!(occurrences[0].starts_at, utc("2026-12-10T08:00:00Z"));

        // In the window: one invitation per participant, once however often the scheduler runs.
        let now = utc("2026-11-27T10:00:00Z");
        assert_eq!(tick(&ctx, now).await.unwrap(), 1, "{}", db.backend);
        assert_eq!(tick(&ctx, now).await.unwrap(), 0);
        // A restart: a new scheduler and a new mailer, as a new process would have.
        let ctx2 = context(&conn);
        assert_eq!(tick(&ctx2, now).await.unwrap(), 0);
        let queued = outbox::of_occurrence(&conn, occurrences[0].id)
            .await
            .unwrap();
        assert_eq!(queued.len(), with_address);

        let sent = deliver_due(&conn, &mail, &from(), now).await.unwrap();
        assert_eq!(sent, with_address - 1, "everyone but the refused address");
        assert_eq!(
            deliver_due(&conn, &mailer(&smtp), &from(), now)
                .await
                .unwrap(),
            0
        );
        let received = smtp.messages();
        assert_eq!(received.len(), with_address - 1);
        let mut to: Vec<String> = received.iter().flat_map(|m| m.to.clone()).collect();
        to.sort();
        to.dedup();
        assert_eq!(to.len(), received.len(), "nobody got the invitation twice");

        // The refused address is kept with the server's reply and did not hold anyone up.
        let refused: Vec<outbox::Message> = outbox::of_occurrence(&conn, occurrences[0].id)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.state == outbox::FAILED)
            .collect();
        assert_eq!(refused.len(), 1);
        assert!(refused[0].to_address.starts_with("reject-mikkel"));
        assert!(
            refused[0].last_error.contains("550"),
            "{}",
            refused[0].last_error
        );

        // The day before: one reminder each.
        let eve = utc("2026-12-09T09:00:00Z");
        assert_eq!(tick(&ctx, eve).await.unwrap(), 1);
        assert_eq!(tick(&ctx, eve).await.unwrap(), 0);
        deliver_due(&conn, &mail, &from(), eve).await.unwrap();
        let reminders = smtp
            .messages()
            .iter()
            .filter(|m| m.data.contains("Subject: =?utf-8?") || m.data.contains("Påmindelse"))
            .count();
        assert!(reminders >= with_address - 1, "{reminders}");
        assert_eq!(smtp.messages().len(), 2 * (with_address - 1));
        // After the start, nothing more.
        assert_eq!(tick(&ctx, utc("2026-12-10T12:00:00Z")).await.unwrap(), 0);
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn mail_waits_while_the_smtp_server_is_down_and_goes_once_it_is_back() {
    let db = helpers::sqlite_db();
    let conn = setup(&db).await;
    let (_, participants) = ad_drill(&conn).await;
    let smtp = SmtpServer::start();
    let ctx = context(&conn);
    let mail = mailer(&smtp);
    let now = utc("2026-11-27T10:00:00Z");
    tick(&ctx, now).await.unwrap();

    smtp.stop();
    assert_eq!(deliver_due(&conn, &mail, &from(), now).await.unwrap(), 0);
    let waiting: Vec<outbox::Message> = outbox::recent(&conn, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.state == outbox::QUEUED)
        .collect();
    assert_eq!(waiting.len(), participants.len());
    assert!(
        waiting
            .iter()
            .all(|m| m.attempts == 1 && !m.last_error.is_empty())
    );
    // Still down an hour later: retried with backoff, nothing lost.
    for minutes in [1, 5, 15, 30, 60] {
        let later = now + chrono::Duration::minutes(minutes);
        assert_eq!(deliver_due(&conn, &mail, &from(), later).await.unwrap(), 0);
    }
    smtp.restart();
    let back = now + chrono::Duration::minutes(70);
    let sent = deliver_due(&conn, &mailer(&smtp), &from(), back)
        .await
        .unwrap();
    assert_eq!(sent, participants.len() - 1);
    assert_eq!(smtp.messages().len(), participants.len() - 1);
    assert_eq!(
        deliver_due(&conn, &mail, &from(), back + chrono::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        smtp.messages().len(),
        participants.len() - 1,
        "each message once"
    );
}

/// `Message-ID` of a received message.
fn message_id(data: &str) -> String {
    data.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[tokio::test]
async fn a_worker_that_dies_while_sending_sends_at_most_eight_messages_twice_with_their_ids() {
    let db = helpers::sqlite_db();
    let conn = setup(&db).await;
    let (_, participants) = ad_drill(&conn).await;
    let smtp = SmtpServer::start();
    let ctx = context(&conn);
    let now = utc("2026-11-27T10:00:00Z");
    tick(&ctx, now).await.unwrap();
    // The mail server keeps each message but holds back its "accepted": the worker is left
    // with every message it is handing over at once between the two.
    smtp.hold_replies(true);
    let worker = {
        let (conn, mail) = (conn.clone(), mailer(&smtp));
        tokio::spawn(async move { deliver_due(&conn, &mail, &from(), now).await })
    };
    let started = std::time::Instant::now();
    while smtp.messages().len() < 8 && started.elapsed() < std::time::Duration::from_secs(20) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // None beyond the 8 handed over at once, however long the replies are held.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let seen = smtp.messages().len();
    assert_eq!(
        seen, 8,
        "messages kept by the mail server, not yet acknowledged"
    );
    // The worker dies there (as with SIGKILL): nothing more is recorded.
    worker.abort();
    let _ = worker.await;
    smtp.hold_replies(false);
    // Its claims expire after 5 minutes; the next worker sends what was not recorded as sent.
    let later = now + chrono::Duration::minutes(6);
    deliver_due(&conn, &mailer(&smtp), &from(), later)
        .await
        .unwrap();
    let received = smtp.messages();
    let mut ids: Vec<String> = received.iter().map(|m| message_id(&m.data)).collect();
    assert!(ids.iter().all(|id| !id.is_empty()));
    ids.sort();
    let total = ids.len();
    ids.dedup();
    // Every message arrived (one address is refused for good), the 8 in flight twice, each
    // copy with the same Message-ID; none more.
    assert_eq!(ids.len(), participants.len() - 1);
    assert_eq!(
        total - ids.len(),
        8,
        "sent twice: the 8 that were in flight"
    );
    assert_eq!(
        deliver_due(
            &conn,
            &mailer(&smtp),
            &from(),
            later + chrono::Duration::hours(1)
        )
        .await
        .unwrap(),
        0
    );
}

#[tokio::test]
async fn two_schedulers_at_the_same_moment_queue_the_invitation_once() {
    for db in helpers::databases().await {
        let conn = setup(&db).await;
        let (drill, participants) = ad_drill(&conn).await;
        let other = store::connect(&db.url).await.unwrap();
        let (a, b) = (context(&conn), context(&other));
        let now = utc("2026-11-27T10:00:00Z");
        tick(&a, utc("2026-11-20T10:00:00Z")).await.unwrap();
        let (x, y) = tokio::join!(tick(&a, now), tick(&b, now));
        assert_eq!(x.unwrap() + y.unwrap(), 1, "{}", db.backend);
        let occurrence = store::drills::occurrences(&conn, drill).await.unwrap()[0].id;
        assert_eq!(
            outbox::of_occurrence(&conn, occurrence)
                .await
                .unwrap()
                .len(),
            participants.len()
        );
        other.close().await.unwrap();
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn the_invitation_is_an_icalendar_request_with_a_stable_uid() {
    let db = helpers::sqlite_db();
    let conn = setup(&db).await;
    let (drill, participants) = ad_drill(&conn).await;
    let smtp = SmtpServer::start();
    let now = utc("2026-11-27T10:00:00Z");
    tick(&context(&conn), now).await.unwrap();
    deliver_due(&conn, &mailer(&smtp), &from(), now)
        .await
        .unwrap();
    let occurrence = store::drills::occurrences(&conn, drill)
        .await
        .unwrap()
        .remove(0);
    let message = smtp
        .messages()
        .into_iter()
        .find(|m| m.to.contains(&"lani@eksempel-kommune.dk".to_string()))
        .expect("the facilitator's invitation");
    let data = message.data.replace("\r\n", "\n");
    assert!(
        data.contains(&format!(
            "Message-ID: <invitation.0.{}.lars-nielsen@beredskab>",
            occurrence.uid.trim_end_matches("@beredskab")
        )),
        "{data}"
    );
    assert!(data.contains("Content-Type: text/calendar; method=REQUEST; charset=utf-8"));
    assert!(data.contains("Content-Type: text/plain; charset=utf-8"));
    assert!(data.contains("Content-Type: text/html; charset=utf-8"));
    // The attachment, decoded and parsed by an iCalendar parser.
    let ics = attachment(&message.data, "invite.ics");
    let calendar: icalendar::Calendar = ics.parse().unwrap_or_else(|e| panic!("{e}\n{ics:?}"));
    assert_eq!(calendar.property_value("METHOD"), Some("REQUEST"));
    let event = calendar.events().next().unwrap();
    use icalendar::Component;
    assert_eq!(event.get_uid(), Some(occurrence.uid.as_str()));
    assert_eq!(event.get_sequence(), Some(0));
    assert_eq!(
        event.get_start(),
        Some(icalendar::DatePerhapsTime::DateTime(
            icalendar::CalendarDateTime::Utc(utc("2026-12-10T08:00:00Z"))
        ))
    );
    assert_eq!(
        event.get_summary(),
        Some("Active Directory nede efter weekendens opdateringer"),
        "{ics}"
    );
    let attendees = event.multi_properties().get("ATTENDEE").map_or(0, Vec::len);
    assert_eq!(attendees, participants.len());
    // The text part is in Danish, with the Danish date and local time.
    assert!(
        quoted_printable_text(&data).contains("10. december 2026 09:00"),
        "{data}"
    );
}

/// The decoded body of the MIME part with this file name.
fn attachment(raw: &str, name: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let start = raw
        .find(&format!("filename=\"{name}\""))
        .expect("the attachment");
    let body_start = start + raw[start..].find("\n\n").unwrap() + 2;
    let body_end = body_start + raw[body_start..].find("\n--").unwrap();
    let body = &raw[body_start..body_end];
    let header = &raw[raw[..start].rfind("\n\n").unwrap_or(0)..start];
    if header.contains("base64") || raw[start..body_start].contains("base64") {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap();
        String::from_utf8(bytes).unwrap()
    } else if raw[start..body_start].contains("quoted-printable")
        || header.contains("quoted-printable")
    {
        quoted_printable_text(body).replace('\n', "\r\n")
    } else {
        body.to_string()
    }
}

#[tokio::test]
async fn a_cancelled_drill_sends_a_calendar_cancel_with_the_same_uid_and_no_reminder() {
    for db in helpers::databases().await {
        let conn = setup(&db).await;
        let (drill_id, _) = ad_drill(&conn).await;
        let smtp = SmtpServer::start();
        let ctx = context(&conn);
        let now = utc("2026-11-27T10:00:00Z");
        tick(&ctx, now).await.unwrap();
        deliver_due(&conn, &mailer(&smtp), &from(), now)
            .await
            .unwrap();
        let invited = smtp.messages().len();
        let occurrence = store::drills::occurrences(&conn, drill_id)
            .await
            .unwrap()
            .remove(0);

        let drill = store::drills::find(&conn, drill_id).await.unwrap().unwrap();
        assert!(
            {
                ctx.clock.set(now);
                ctx.cancel_drill("tester", &drill)
            }
            .await
            .unwrap()
        );
        assert!(
            !{
                ctx.clock.set(now);
                ctx.cancel_drill("tester", &drill)
            }
            .await
            .unwrap(),
            "once"
        );
        deliver_due(&conn, &mailer(&smtp), &from(), now)
            .await
            .unwrap();
        let all = smtp.messages();
        assert_eq!(all.len(), 2 * invited, "{}", db.backend);
        let cancel = all
            .iter()
            .rev()
            .find(|m| m.to.contains(&"lani@eksempel-kommune.dk".to_string()))
            .unwrap();
        assert!(cancel.data.contains("text/calendar; method=CANCEL"));
        let calendar: icalendar::Calendar = attachment(&cancel.data, "invite.ics").parse().unwrap();
        assert_eq!(calendar.property_value("METHOD"), Some("CANCEL"));
        let event = calendar.events().next().unwrap();
        use icalendar::Component;
        assert_eq!(event.get_uid(), Some(occurrence.uid.as_str()));
        assert_eq!(event.get_sequence(), Some(1));
        assert_eq!(event.get_status(), Some(icalendar::EventStatus::Cancelled));
        // No reminder for a cancelled drill.
        assert_eq!(tick(&ctx, utc("2026-12-09T09:00:00Z")).await.unwrap(), 0);
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_cancellation_never_reaches_a_recipient_before_the_invitation_it_cancels() {
    for db in helpers::databases().await {
        let conn = setup(&db).await;
        let (drill_id, participants) = ad_drill(&conn).await;
        let smtp = SmtpServer::start();
        let ctx = context(&conn);
        let at = |seconds: i64| utc("2026-11-27T10:00:00Z") + chrono::Duration::seconds(seconds);
        tick(&ctx, at(0)).await.unwrap();
        // The mail server is down: the invitations are tried again and again, further apart.
        smtp.stop();
        for t in [0, 60, 300, 900] {
            assert_eq!(
                deliver_due(&conn, &mailer(&smtp), &from(), at(t))
                    .await
                    .unwrap(),
                0
            );
        }
        // The drill is cancelled meanwhile; the cancellation's first try would come long before
        // the invitation's next.
        let drill = store::drills::find(&conn, drill_id).await.unwrap().unwrap();
        assert!(
            {
                ctx.clock.set(at(901));
                ctx.cancel_drill("tester", &drill)
            }
            .await
            .unwrap()
        );
        assert_eq!(
            deliver_due(&conn, &mailer(&smtp), &from(), at(902))
                .await
                .unwrap(),
            0
        );
        let waiting = outbox::recent(&conn, None, 1000).await.unwrap();
        let cancels: Vec<_> = waiting
            .iter()
            .filter(|m| {
                m.ics
                    .as_deref()
                    .is_some_and(|i| i.contains("METHOD:CANCEL"))
            })
            .collect();
        assert_eq!(cancels.len(), participants.len(), "{}", db.backend);
        assert!(
            cancels.iter().all(|m| m.attempts == 0),
            "no cancellation tried before its invitation"
        );
        // Back, at a moment the cancellations would be due and the invitations not yet.
        smtp.restart();
        assert_eq!(
            deliver_due(&conn, &mailer(&smtp), &from(), at(910))
                .await
                .unwrap(),
            0
        );
        let sent = deliver_due(&conn, &mailer(&smtp), &from(), at(960))
            .await
            .unwrap();
        // One address is refused by the mail server (both its messages fail); the rest arrive.
        assert_eq!(sent, 2 * (participants.len() - 1), "{}", db.backend);
        assert_eq!(smtp.messages().len(), sent);
        // Per recipient: the REQUEST (SEQUENCE 0), then the CANCEL (SEQUENCE 1), each once.
        let received = smtp.messages();
        let mut recipients: Vec<&String> = received.iter().flat_map(|m| &m.to).collect();
        recipients.sort();
        recipients.dedup();
        for to in recipients {
            let methods: Vec<&str> = received
                .iter()
                .filter(|m| m.to.contains(to))
                .map(|m| {
                    if m.data.contains("method=CANCEL") {
                        "CANCEL"
                    } else {
                        "REQUEST"
                    }
                })
                .collect();
            assert_eq!(methods, ["REQUEST", "CANCEL"], "{to} ({})", db.backend);
        }
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_moved_drill_updates_the_same_calendar_entry_and_reminds_before_the_new_time() {
    let db = helpers::sqlite_db();
    let conn = setup(&db).await;
    let (drill_id, _) = ad_drill(&conn).await;
    let smtp = SmtpServer::start();
    let ctx = context(&conn);
    let now = utc("2026-11-27T10:00:00Z");
    tick(&ctx, now).await.unwrap();
    deliver_due(&conn, &mailer(&smtp), &from(), now)
        .await
        .unwrap();
    let invited = smtp.messages().len();
    let uid = store::drills::occurrences(&conn, drill_id).await.unwrap()[0]
        .uid
        .clone();

    let drill = store::drills::find(&conn, drill_id).await.unwrap().unwrap();
    let at = NaiveDateTime::parse_from_str("2026-12-17 13:00", "%Y-%m-%d %H:%M").unwrap();
    assert!(
        {
            ctx.clock.set(now);
            ctx.reschedule_drill("tester", &drill, at)
        }
        .await
        .unwrap()
    );
    deliver_due(&conn, &mailer(&smtp), &from(), now)
        .await
        .unwrap();
    assert_eq!(smtp.messages().len(), 2 * invited);
    let update = smtp
        .messages()
        .into_iter()
        .rev()
        .find(|m| m.to.contains(&"lani@eksempel-kommune.dk".to_string()))
        .unwrap();
    let calendar: icalendar::Calendar = attachment(&update.data, "invite.ics").parse().unwrap();
    assert_eq!(calendar.property_value("METHOD"), Some("REQUEST"));
    let event = calendar.events().next().unwrap();
    use icalendar::Component;
    assert_eq!(
        event.get_uid(),
        Some(uid.as_str()),
        "the same calendar entry"
    );
    assert_eq!(event.get_sequence(), Some(1));
    assert_eq!(
        event.get_start(),
        Some(icalendar::DatePerhapsTime::DateTime(
            icalendar::CalendarDateTime::Utc(utc("2026-12-17T12:00:00Z"))
        ))
    );
    // One occurrence, at the new time; the reminder follows the new time, not the old one.
    let occurrences = store::drills::occurrences(&conn, drill_id).await.unwrap();
    assert_eq!(occurrences.len(), 1);
    assert_eq!(tick(&ctx, utc("2026-12-09T09:00:00Z")).await.unwrap(), 0);
    assert_eq!(tick(&ctx, utc("2026-12-16T13:00:00Z")).await.unwrap(), 1);
}

#[tokio::test]
async fn the_facilitator_is_reminded_once_of_a_late_evaluation() {
    let db = helpers::sqlite_db();
    let conn = setup(&db).await;
    let (drill_id, _) = ad_drill(&conn).await;
    let ctx = context(&conn);
    tick(&ctx, utc("2026-11-27T10:00:00Z")).await.unwrap();
    let occurrence = store::drills::occurrences(&conn, drill_id).await.unwrap()[0].id;
    let reminders = |conn: DatabaseConnection| async move {
        outbox::of_occurrence(&conn, occurrence)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.kind == "evaluation")
            .collect::<Vec<_>>()
    };
    // Two days after the drill: not late yet. Four days after: one reminder, to the facilitator.
    tick(&ctx, utc("2026-12-12T09:00:00Z")).await.unwrap();
    assert!(reminders(conn.clone()).await.is_empty());
    tick(&ctx, utc("2026-12-14T09:00:00Z")).await.unwrap();
    tick(&ctx, utc("2026-12-15T09:00:00Z")).await.unwrap();
    let sent = reminders(conn.clone()).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to_address, "lani@eksempel-kommune.dk");
    assert!(
        sent[0].subject.starts_with("Evaluering mangler"),
        "{}",
        sent[0].subject
    );
    assert!(sent[0].ics.is_none());
}

#[tokio::test]
async fn a_finished_evaluation_is_not_reminded() {
    let db = helpers::sqlite_db();
    let conn = setup(&db).await;
    let (drill_id, _) = ad_drill(&conn).await;
    let ctx = context(&conn);
    tick(&ctx, utc("2026-11-27T10:00:00Z")).await.unwrap();
    let occurrence = store::drills::occurrences(&conn, drill_id).await.unwrap()[0].id;
    store::drills::save_evaluation(
        &conn,
        occurrence,
        "Godt",
        "Skidt",
        "Læring",
        utc("2026-12-10T12:00:00Z"),
    )
    .await
    .unwrap();
    tick(&ctx, utc("2026-12-20T09:00:00Z")).await.unwrap();
    let kinds: Vec<String> = outbox::of_occurrence(&conn, occurrence)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert!(!kinds.contains(&"evaluation".to_string()), "{kinds:?}");
}

/// The overdue reminders queued for an action item.
async fn overdue_reminders(conn: &DatabaseConnection, item: i64) -> Vec<outbox::Message> {
    let prefix = format!("action.{item}.overdue.");
    outbox::recent(conn, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.message_id.starts_with(&prefix))
        .collect()
}

#[tokio::test]
async fn an_overdue_action_item_is_reminded_once_per_cadence_until_it_is_done() {
    for db in helpers::databases().await {
        let conn = setup(&db).await;
        let ctx = context(&conn);
        let item = store::actions::create(
            &conn,
            store::actions::NewAction {
                plan_id: "example-kommune".into(),
                occurrence_id: None,
                incident_id: None,
                system_id: Some("esdh".into()),
                title: "Aftal kortere genopretningstid med KMD".into(),
                owner: "nanna-kristensen".into(),
                due: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                created_by: "lars-nielsen".into(),
            },
            None,
            utc("2026-11-20T10:00:00Z"),
        )
        .await
        .unwrap();
        // On the due date itself it is not overdue yet.
        tick(&ctx, utc("2026-12-01T20:00:00Z")).await.unwrap();
        assert!(overdue_reminders(&conn, item).await.is_empty());
        // The day after (in Copenhagen: 00:30 on 2 December): one reminder, however many
        // schedulers run at that moment.
        let first = utc("2026-12-01T23:30:00Z");
        let other = context(&conn);
        let (a, b) = tokio::join!(tick(&ctx, first), tick(&other, first));
        assert_eq!(a.unwrap() + b.unwrap(), 1, "{}", db.backend);
        tick(&ctx, utc("2026-12-02T09:00:00Z")).await.unwrap();
        let sent = overdue_reminders(&conn, item).await;
        assert_eq!(sent.len(), 1, "{}", db.backend);
        assert_eq!(sent[0].to_address, "nakr@eksempel-kommune.dk");
        assert_eq!(
            sent[0].subject,
            "Overskredet handlingspunkt: Aftal kortere genopretningstid med KMD"
        );
        assert!(
            sent[0].body_text.contains("1. december 2026"),
            "{}",
            sent[0].body_text
        );
        // Not again within the cadence (7 days), then once more.
        tick(&ctx, utc("2026-12-08T09:00:00Z")).await.unwrap();
        assert_eq!(overdue_reminders(&conn, item).await.len(), 1);
        tick(&ctx, utc("2026-12-09T00:00:00Z")).await.unwrap();
        assert_eq!(overdue_reminders(&conn, item).await.len(), 2);
        // Done: no more reminders.
        store::actions::set_status(
            &conn,
            item,
            true,
            "nanna-kristensen",
            utc("2026-12-10T09:00:00Z"),
        )
        .await
        .unwrap();
        tick(&ctx, utc("2026-12-30T09:00:00Z")).await.unwrap();
        assert_eq!(overdue_reminders(&conn, item).await.len(), 2);
        conn.close().await.unwrap();
    }
}

/// The `not-exercised` findings of the example plan, by system.
async fn not_exercised(app: &helpers::TestApp) -> std::collections::HashMap<String, String> {
    let findings: serde_json::Value = app
        .get("/api/v1/plans/example-kommune/findings")
        .await
        .json()
        .await
        .unwrap();
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "not-exercised")
        .map(|f| {
            (
                f["systems"][0].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn systems_not_exercised_are_flagged_and_a_significant_change_asks_for_another_drill() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let approver = app.signed_in("mette-holm").await;
    let approve = |comment: &'static str| {
        let approver = &approver;
        async move {
            let response = approver
                .post_form(
                    "/plans/example-kommune/approve",
                    &[("comment", comment), ("confirmed", "1")],
                )
                .await;
            assert_eq!(response.status().as_u16(), 303);
        }
    };
    approve("Første version").await;

    // Nothing has been exercised: every system is flagged.
    let flagged = not_exercised(&app).await;
    assert_eq!(flagged.len(), 36);
    assert_eq!(
        flagged["ad"],
        "never exercised in a drill (exercise interval 52w)"
    );
    let (_, page) = app.page("/plans/example-kommune?only=exercise").await;
    assert!(page.contains("Viser 36 af 36"), "{page}");

    // AD is exercised in a closed drill: no longer flagged, and off the filtered overview.
    let run = app.planned_occurrence("ad-nede").await;
    let response = app
        .post_form(
            &format!("{run}/systems/ad"),
            &[
                ("found", "yes"),
                ("followed", "yes"),
                ("recovery", "3h"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    app.post_form(&format!("{run}/close"), &[("confirmed", "1")])
        .await;
    let flagged = not_exercised(&app).await;
    assert!(!flagged.contains_key("ad"), "{flagged:?}");
    assert!(flagged.contains_key("esdh"), "nothing was recorded for it");
    let (_, page) = app.page("/plans/example-kommune?only=exercise").await;
    assert!(page.contains("Viser 35 af 36"));
    assert!(!page.contains("href=\"/plans/example-kommune/systems/ad\""));

    // A text change is not significant; a new RTO is, once it is approved.
    let mut fields = app.system_form("example-kommune", "ad").await;
    helpers::set(&mut fields, "workaround", "Log på med lokale konti.");
    let edit = "/plans/example-kommune/systems/ad/edit";
    assert_eq!(app.submit(edit, &fields).await.status().as_u16(), 303);
    approve("Tekst").await;
    assert!(!not_exercised(&app).await.contains_key("ad"));
    let mut fields = app.system_form("example-kommune", "ad").await;
    helpers::set(&mut fields, "rto", "6h");
    assert_eq!(app.submit(edit, &fields).await.status().as_u16(), 303);
    approve("Ny RTO for AD").await;
    let flagged = not_exercised(&app).await;
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        flagged["ad"],
        format!("version 3 (approved {today}) changed rto; not exercised since")
    );
    // The coordinator is told by mail, queued with the approval.
    let mail = app.mail_after_jobs("exercise.").await;
    assert_eq!(mail.len(), 1, "one coordinator in the example plan");
    assert!(mail[0].contains("lani@eksempel-kommune.dk"));
    let text = quoted_printable_text(&mail[0]);
    assert!(text.contains("Active Directory (ad): rto"), "{text}");
}

#[tokio::test]
async fn a_started_drill_plays_its_injects_from_the_start_saves_as_typed_and_exports_its_report() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let run = app.planned_occurrence("ad-nede").await;
    // Planned 30 days ahead: nothing has been played; the facilitator may start it now.
    let (_, page) = app.page(&run).await;
    assert!(page.contains(&format!("action=\"{run}/start\"")));
    assert!(!page.contains("class=\"played\""));
    assert!(page.contains("<script src=\"/static/run."));
    let (status, script) = app.page("/static/run.js").await;
    assert_eq!(status, 200);
    assert!(script.contains("sendBeacon"));

    // Started: the clock counts from now; an inject is played when the facilitator shows it.
    let response = app.post_form(&format!("{run}/start"), &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = app.page(&run).await;
    assert!(!page.contains(&format!("action=\"{run}/start\"")));
    assert!(!page.contains("class=\"played\""), "{page}");
    assert!(page.contains("Øvelsen startede"));
    app.post_form(&format!("{run}/injects/0/play"), &[]).await;
    let (_, page) = app.page(&run).await;
    assert_eq!(page.matches("class=\"played\"").count(), 1, "{page}");
    assert!(page.contains("Indspil, Minut 0:"));

    // The page's script saves a record as it is typed and is answered in JSON.
    let url = format!("{}{run}/systems/ad", app.address);
    let csrf = app.csrf().await;
    let typed = |recovery: &'static str| {
        app.client
            .post(&url)
            .header("X-Requested-With", "fetch")
            .form(&[
                ("csrf", csrf.as_str()),
                ("found", "yes"),
                ("followed", ""),
                ("recovery", recovery),
                ("notes", "DC04 <b>manglede</b>"),
            ])
            .send()
    };
    let response = typed("3h").await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let saved: serde_json::Value = response.json().await.unwrap();
    assert_eq!(saved["rto_met"], true);
    assert!(saved["saved_at"].as_str().unwrap().contains(':'));
    let response = typed("tre timer").await.unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let refused: serde_json::Value = response.json().await.unwrap();
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("“tre timer” er ikke en varighed"),
        "{refused}"
    );
    let (_, page) = app.page(&run).await;
    assert!(page.contains("value=\"3h\""), "the good save stands");

    // Closed: the record is locked, also for the script, and the timeline says so.
    app.post_form(&format!("{run}/close"), &[("confirmed", "1")])
        .await;
    let response = typed("2h").await.unwrap();
    assert_eq!(response.status().as_u16(), 409);
    let refused: serde_json::Value = response.json().await.unwrap();
    assert!(refused["error"].as_str().unwrap().contains("lukket"));

    // The report as one self-contained file.
    let response = app.get(&format!("{run}/report.html")).await;
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"evalueringsrapport-")
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'; style-src 'unsafe-inline'")
    );
    let html = response.text().await.unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<style>"));
    assert!(html.contains("Active Directory"));
    // Dated when it was held (started today), not when it was planned (30 days ahead).
    let today = app.app.as_ref().unwrap().clock.today();
    let held = beredskab::render::i18n::date(today, "da");
    assert!(html.contains("<title>Evalueringsrapport · "), "{html}");
    assert!(html.contains(&format!(" · {held} ")), "{held} in {html}");
    assert!(
        html.contains("RTO overholdt for 1, overskredet for 0"),
        "{html}"
    );
    assert!(html.contains("DC04 &lt;b&gt;manglede&lt;/b&gt;"));
    assert!(html.contains("Øvelsen blev lukket"));
    for outside in [
        "http://", "https://", "src=", "href=", "url(", "<script", "<link", "<form",
    ] {
        assert!(
            !html.contains(outside),
            "the file refers outside: {outside}"
        );
    }
}

/// The METHOD and SEQUENCE of a queued message's calendar attachment.
fn calendar_of(m: &outbox::Message) -> (String, u32) {
    use icalendar::Component;
    let calendar: icalendar::Calendar = m.ics.as_deref().unwrap().parse().unwrap();
    let method = calendar.property_value("METHOD").unwrap().to_string();
    let sequence = calendar.events().next().unwrap().get_sequence().unwrap();
    (method, sequence)
}

#[tokio::test]
async fn changing_an_invited_drill_invites_the_added_cancels_for_the_removed_and_updates_the_rest()
{
    for db in helpers::databases().await {
        let conn = setup(&db).await;
        let (id, participants) = ad_drill(&conn).await;
        let ctx = context(&conn);
        let now = utc("2026-11-27T10:00:00Z");
        tick(&ctx, now).await.unwrap();
        let occurrence = store::drills::occurrences(&conn, id).await.unwrap()[0].clone();
        let queued = |conn: DatabaseConnection| async move {
            outbox::of_occurrence(&conn, occurrence.id).await.unwrap()
        };
        let invited = queued(conn.clone()).await.len();
        assert!(participants.contains(&"sofie-andersen".to_string()));
        assert!(!participants.contains(&"michael-skov".to_string()));

        // Sofie out, Michael in: he gets the invitation, she a cancellation, nobody else anything.
        let old = store::drills::find(&conn, id).await.unwrap().unwrap();
        let mut new = old.clone();
        new.participants.retain(|p| p != "sofie-andersen");
        new.participants.push("michael-skov".into());
        let later = utc("2026-11-28T10:00:00Z");
        assert!(
            {
                ctx.clock.set(later);
                ctx.update_drill("tester", &old, &new)
            }
            .await
            .unwrap()
        );
        let all = queued(conn.clone()).await;
        let fresh: Vec<&outbox::Message> = all[invited..].iter().collect();
        assert_eq!(fresh.len(), 2, "{}", db.backend);
        let to = |address: &str| {
            fresh
                .iter()
                .find(|m| m.to_address == address)
                .copied()
                .unwrap()
        };
        let michael = to("misk@eksempel-kommune.dk");
        assert_eq!(michael.kind, "invitation");
        assert_eq!(calendar_of(michael), ("REQUEST".to_string(), 0));
        let sofie = to("soan@eksempel-kommune.dk");
        assert_eq!(sofie.kind, "cancellation");
        assert_eq!(calendar_of(sofie), ("CANCEL".to_string(), 0));
        assert_eq!(store::drills::find(&conn, id).await.unwrap().unwrap(), new);

        // A new place goes to everyone as a calendar update with the SEQUENCE raised.
        let old = new.clone();
        new.location = "Beredskabsrummet, kælderen".into();
        {
            ctx.clock.set(later);
            ctx.update_drill("tester", &old, &new)
        }
        .await
        .unwrap();
        let all = queued(conn.clone()).await;
        let updates: Vec<&outbox::Message> = all[invited + 2..].iter().collect();
        assert_eq!(updates.len(), new.participants.len());
        assert!(
            updates
                .iter()
                .all(|m| m.kind == "update" && calendar_of(m) == ("REQUEST".to_string(), 1))
        );
        assert!(
            updates[0].body_text.contains("Beredskabsrummet, kælderen"),
            "{}",
            updates[0].body_text
        );
        let stored = store::drills::occurrences(&conn, id).await.unwrap();
        assert_eq!(stored[0].sequence, 1);
        assert_eq!(stored[0].uid, occurrence.uid, "the same calendar entry");
        // Nothing changed: nothing sent.
        {
            ctx.clock.set(later);
            ctx.update_drill("tester", &new, &new)
        }
        .await
        .unwrap();
        assert_eq!(queued(conn.clone()).await.len(), all.len());
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_programme_with_a_new_cron_expression_cancels_the_occurrences_it_no_longer_has() {
    let db = helpers::sqlite_db();
    let conn = setup(&db).await;
    // The first Tuesday of each quarter at 09:00; the next is 5 January 2027.
    let (id, _) = drill_of(
        &conn,
        Schedule::Recurring {
            cron: "0 9 1-7 1,4,7,10 Tue".into(),
        },
    )
    .await;
    let ctx = context(&conn);
    let now = utc("2026-12-25T10:00:00Z");
    tick(&ctx, now).await.unwrap();
    let before = store::drills::occurrences(&conn, id).await.unwrap();
    assert_eq!(before[0].starts_at, utc("2027-01-05T08:00:00Z"));
    assert!(before[0].invited_at.is_some(), "inside the 14 days");
    assert!(before[1].invited_at.is_none());

    // Moved to Wednesdays at 10:00.
    let old = store::drills::find(&conn, id).await.unwrap().unwrap();
    let mut new = old.clone();
    new.schedule = Schedule::Recurring {
        cron: "0 10 1-7 1,4,7,10 Wed".into(),
    };
    {
        ctx.clock.set(now);
        ctx.update_drill("tester", &old, &new)
    }
    .await
    .unwrap();
    tick(&ctx, now).await.unwrap();
    let after = store::drills::occurrences(&conn, id).await.unwrap();
    let state_at = |t: &str| {
        after
            .iter()
            .find(|o| o.starts_at == utc(t))
            .map(|o| o.state.clone())
    };
    assert_eq!(
        state_at("2027-01-05T08:00:00Z").as_deref(),
        Some("cancelled")
    );
    assert_eq!(
        state_at("2027-04-06T07:00:00Z").as_deref(),
        Some("cancelled")
    );
    assert_eq!(
        state_at("2027-01-06T09:00:00Z").as_deref(),
        Some("scheduled")
    );
    // Those invited to the dropped occurrence get its cancellation; the new one is invited.
    let dropped = outbox::of_occurrence(&conn, before[0].id).await.unwrap();
    assert!(
        dropped
            .iter()
            .any(|m| m.kind == "cancellation" && calendar_of(m) == ("CANCEL".to_string(), 1))
    );
    assert!(
        outbox::of_occurrence(&conn, before[1].id)
            .await
            .unwrap()
            .is_empty(),
        "never invited: no mail"
    );
    let new_first = after
        .iter()
        .find(|o| o.starts_at == utc("2027-01-06T09:00:00Z"))
        .unwrap();
    assert!(new_first.invited_at.is_some());
}

#[tokio::test]
async fn the_coordinator_changes_a_drill_with_errors_named_beside_their_fields() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let run = app.planned_occurrence("ad-nede").await;
    let (_, page) = app.page(&run).await;
    let at = page.find("href=\"/drills/").unwrap() + 6;
    let drill = page[at..at + page[at..].find('"').unwrap()].to_string();
    let edit = format!("{drill}/edit");
    let (status, page) = app.page(&edit).await;
    assert_eq!(status, 200);
    let mut fields = helpers::form_fields(&page, &edit);
    fields.push(("participant".into(), "ghost".into()));
    helpers::set(&mut fields, "invite_days_before", "mange");
    let response = app.submit(&edit, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Der er ingen person “ghost” i planen."),
        "{page}"
    );
    assert!(page.contains("value=\"mange\""), "the input is kept");
    fields.retain(|(k, v)| !(k == "participant" && v == "ghost"));
    helpers::set(&mut fields, "invite_days_before", "7");
    helpers::set(&mut fields, "location", "Beredskabsrummet");
    let response = app.submit(&edit, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = app.page(&drill).await;
    assert!(page.contains("Beredskabsrummet"));
    assert!(page.contains("Invitationer sendes 7 dage før"));
    // Only plan editors may.
    let owner = app.signed_in("jesper-moeller").await;
    assert_eq!(owner.page(&edit).await.0, 403);
    let (_, audit) = app.page("/audit").await;
    assert!(audit.contains("Øvelse ændret"));
}

/// The review reminders queued for a system of the example plan.
async fn review_reminders(conn: &DatabaseConnection, system: &str) -> Vec<outbox::Message> {
    let prefix = format!("review.example-kommune.{system}.");
    outbox::recent(conn, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.message_id.starts_with(&prefix))
        .collect()
}

#[tokio::test]
async fn a_section_past_its_review_date_is_reminded_once_per_cadence_until_it_is_reviewed() {
    for db in helpers::databases().await {
        let conn = setup_with(&db, false).await;
        let ctx = context(&conn);
        // adgangskontrol was last reviewed 2025-06-10 (interval 52 weeks): due 2026-06-09.
        let first = utc("2026-12-01T10:00:00Z");
        let other = context(&conn);
        let (a, b) = tokio::join!(tick(&ctx, first), tick(&other, first));
        a.unwrap();
        b.unwrap();
        let sent = review_reminders(&conn, "adgangskontrol").await;
        let mut to: Vec<&str> = sent.iter().map(|m| m.to_address.as_str()).collect();
        to.sort();
        assert_eq!(
            to.len(),
            2,
            "owner and deputy, once: {to:?} ({})",
            db.backend
        );
        assert_ne!(to[0], to[1]);
        assert_eq!(
            sent[0].subject,
            "Gennemgå beredskabsafsnittet for Fysisk adgangskontrol (ADK) og indbrudsalarm"
        );
        assert!(
            sent[0].body_text.contains("senest 9. juni 2026"),
            "{}",
            sent[0].body_text
        );
        // Not again within the cadence (14 days); then again.
        tick(&ctx, utc("2026-12-14T10:00:00Z")).await.unwrap();
        assert_eq!(review_reminders(&conn, "adgangskontrol").await.len(), 2);
        tick(&ctx, utc("2026-12-15T11:00:00Z")).await.unwrap();
        assert_eq!(review_reminders(&conn, "adgangskontrol").await.len(), 4);
        // Reviewed: the reminders stop.
        let plan = PlanId::parse("example-kommune").unwrap();
        let (mut system, revision) = store::edits::load_system(&conn, &plan, "adgangskontrol")
            .await
            .unwrap()
            .unwrap();
        system.last_reviewed = chrono::NaiveDate::from_ymd_opt(2026, 12, 16);
        store::edits::save_system(&conn, &plan, "henrik-dahl", &system, revision)
            .await
            .unwrap();
        tick(&ctx, utc("2027-01-20T10:00:00Z")).await.unwrap();
        assert_eq!(review_reminders(&conn, "adgangskontrol").await.len(), 4);
        conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_mail_text_part_is_written_as_given_and_its_html_part_escaped() {
    let db = helpers::sqlite_db();
    let conn = setup(&db).await;
    let (id, _) = ad_drill(&conn).await;
    let ctx = context(&conn);
    tick(&ctx, utc("2026-11-20T10:00:00Z")).await.unwrap();
    let old = store::drills::find(&conn, id).await.unwrap().unwrap();
    let new = Drill {
        title: "Tom & Jerry <x>".into(),
        ..old.clone()
    };
    // Invited first, then renamed: the update goes to everyone.
    tick(&ctx, utc("2026-11-27T10:00:00Z")).await.unwrap();
    ctx.clock.set(utc("2026-11-28T10:00:00Z"));
    assert!(ctx.update_drill("tester", &old, &new).await.unwrap());
    let update = outbox::recent(&conn, None, 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "update")
        .expect("the calendar update");
    assert!(
        update.subject.contains("Tom & Jerry <x>"),
        "{}",
        update.subject
    );
    assert!(
        update.body_text.contains("Tom & Jerry <x>"),
        "{}",
        update.body_text
    );
    assert!(!update.body_text.contains("&amp;"), "{}", update.body_text);
    assert!(
        update.body_html.contains("Tom &amp; Jerry &lt;x&gt;"),
        "{}",
        update.body_html
    );
    assert!(!update.body_html.contains("<x>"), "{}", update.body_html);
    // One layout: a whole document with the greeting, in the recipient's language.
    assert!(
        update
            .body_html
            .starts_with("<!doctype html>\n<html lang=\"da\">")
    );
    assert!(update.body_html.contains("<title>"));
    assert_eq!(update.body_html.matches("<body").count(), 1);
}

#[tokio::test]
async fn the_coordinator_plans_a_drill_and_the_invitations_go_out() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let (status, page) = app.page("/plans/example-kommune/drills").await;
    assert_eq!(status, 200);
    assert!(page.contains("Scenariebibliotek"));
    assert!(page.contains("/plans/example-kommune/drills/new?scenario=ad-nede"));
    let path = "/plans/example-kommune/drills/new?scenario=ad-nede";
    let (status, page) = app.page(path).await;
    assert_eq!(status, 200);
    // Each person is listed with their roles in the plan.
    assert!(page.contains("<span class=\"meta\">· IT-chef"), "{page}");
    let mut fields = form_fields(&page, path);
    let invited: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "participant")
        .map(|(_, v)| v.clone())
        .collect();
    assert!(
        invited.contains(&"sofie-andersen".to_string()),
        "the owner of ad"
    );
    // A bad schedule and an unknown participant are named beside their fields.
    set(&mut fields, "repeat", "recurring");
    set(&mut fields, "cron", "hver tirsdag");
    fields.push(("participant".into(), "ghost".into()));
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("“hver tirsdag” er ikke en tidsplan"),
        "{page}"
    );
    assert!(page.contains("Der er ingen person “ghost” i planen."));
    fields.retain(|(k, v)| !(k == "participant" && v == "ghost"));
    // A programme that would run every minute is refused, in the page's language.
    set(&mut fields, "cron", "* * * * *");
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("giver mere end én øvelse om dagen")
    );
    set(&mut fields, "repeat", "once");
    set(&mut fields, "at", "2020-01-01T09:00");
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Tidspunktet er overstået")
    );

    // A week ahead: inside the invitation window, so the invitations go out at once.
    let when = (chrono::Local::now() + chrono::Duration::days(7))
        .format("%Y-%m-%dT09:00")
        .to_string();
    set(&mut fields, "at", &when);
    set(&mut fields, "location", "Rådhuset, mødelokale 2");
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let drill = location(&response);
    assert!(drill.starts_with("/drills/"));
    // The scheduler's next pass queues the invitations; the mail worker's sends them.
    let sent = app.mail_after_jobs("invitation.").await.len();
    assert_eq!(
        sent,
        invited.len(),
        "one message per participant in the mail folder"
    );
    // The drill's page shows every invitation sent.
    let all_sent = format!("{} sendt, 0 venter, 0 afvist", invited.len());
    let page = app.page(&drill).await.1;
    assert!(page.contains(&all_sent), "{page}");
    assert!(page.contains("Facilitatorens noter"));
    let (status, page) = app.page("/outbox").await;
    assert_eq!(status, 200);
    assert!(page.contains("Invitation: Active Directory nede"));
    // Times as the plan's people read them, not in UTC.
    assert!(!page.contains(" UTC"), "{page}");
    let today = app.app.as_ref().unwrap().clock.today();
    assert!(
        page.contains(&beredskab::render::i18n::date(today, "da")),
        "{page}"
    );
    // A system owner sees the drill but not the facilitator's notes, and no outbox.
    let owner = app.signed_in("jesper-moeller").await;
    let (_, page) = owner.page(&drill).await;
    assert!(!page.contains("Facilitatorens noter"));
    assert_eq!(owner.page("/outbox").await.0, 403);
    assert_eq!(owner.page(path).await.0, 403);
}

#[tokio::test]
async fn a_drill_is_recorded_per_system_closed_and_reported() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let run = app.planned_occurrence("ad-nede").await;
    let (status, page) = app.page(&run).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"sys-ad\""),
        "the system down is recorded"
    );
    assert!(page.contains("id=\"sys-esdh\""), "and what depends on it");

    // A participant records AD: found, followed, 3 hours (RTO 4h: met).
    let owner = app.signed_in("sofie-andersen").await;
    let record = format!("{run}/systems/ad");
    let csrf = owner.csrf().await;
    let answer = |found: &str, recovery: &str, notes: &str| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("found".to_string(), found.to_string()),
            ("followed".to_string(), "yes".to_string()),
            ("recovery".to_string(), recovery.to_string()),
            ("notes".to_string(), notes.to_string()),
        ]
    };
    assert_eq!(
        owner
            .submit(&record, &answer("yes", "3h", "DC04 manglede"))
            .await
            .status()
            .as_u16(),
        303
    );
    let response = owner.submit(&record, &answer("yes", "tre timer", "")).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("“tre timer” er ikke en varighed")
    );
    // ESDH: 2 days against an RTO of 1 day: missed.
    let esdh = format!("{run}/systems/esdh");
    assert_eq!(
        owner
            .submit(&esdh, &answer("no", "2d", "Leverandøren svarede ikke"))
            .await
            .status()
            .as_u16(),
        303
    );
    // Someone not taking part may read but not record.
    let outsider = app.signed_in("michael-skov").await;
    let csrf_outsider = outsider.csrf().await;
    let response = outsider
        .submit(
            &record,
            &[
                ("csrf".to_string(), csrf_outsider),
                ("found".to_string(), "no".to_string()),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);

    // The facilitator (coordinator here) closes it; afterwards nothing changes.
    assert_eq!(
        owner
            .post_form(&format!("{run}/close"), &[("confirmed", "1")])
            .await
            .status()
            .as_u16(),
        403
    );
    let response = app
        .post_form(&format!("{run}/close"), &[("confirmed", "1")])
        .await;
    assert_eq!(location(&response), format!("{run}/report"));
    let csrf = owner.csrf().await;
    let late = vec![
        ("csrf".to_string(), csrf),
        ("recovery".to_string(), "1h".to_string()),
    ];
    assert_eq!(owner.submit(&record, &late).await.status().as_u16(), 409);

    let (_, page) = app.page(&format!("{run}/report")).await;
    assert!(
        page.contains("RTO overholdt for 1, overskredet for 1"),
        "{page}"
    );
    let report: serde_json::Value = app
        .get(&format!("{run}/report.json"))
        .await
        .json()
        .await
        .unwrap();
    let system = |id: &str| {
        report["systems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(system("ad")["rto_met"], true);
    assert_eq!(system("ad")["recovery_minutes"], 180);
    assert_eq!(system("ad")["findings"], "DC04 manglede");
    assert_eq!(system("esdh")["rto_met"], false);
    assert_eq!(system("esdh")["procedure_found"], false);
    assert_eq!(report["occurrence"]["closed"], true);
    // The hot wash.
    let response = app
        .post_form(
            &format!("{run}/evaluation"),
            &[
                ("went_well", "Kaldetræet virkede"),
                ("went_badly", "DC04 var ukendt"),
                ("lessons", "Beskriv Azure-DC'en"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = app.page(&format!("{run}/report")).await;
    assert!(page.contains("Beskriv Azure-DC&#x27;en"), "{page}");
    // A new action item's owner is chosen, not preset to the first person.
    assert!(page.contains("name=\"owner\" required><option value=\"\">Vælg en person</option>"));
    assert!(page.contains("Evalueringen er skrevet"));
    // The system pages say when they were last exercised, and how it went.
    let (_, page) = app.page("/plans/example-kommune/systems/esdh").await;
    assert!(page.contains("Senest øvet"));
    assert!(page.contains("RTO overskredet"), "{page}");
    let (_, page) = app.page("/plans/example-kommune/systems/print").await;
    assert!(page.contains("Ikke øvet endnu"));

    // A finding becomes an action item for the ESDH owner, who is told by mail and closes it.
    let response = app
        .post_form(
            &format!("{run}/actions"),
            &[
                ("title", "Aftal kortere genopretningstid med KMD"),
                ("system", "esdh"),
                ("owner", "nanna-kristensen"),
                ("due", "2027-02-01"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let bad = app
        .post_form(
            &format!("{run}/actions"),
            &[("title", ""), ("owner", "ghost"), ("due", "snart")],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let (_, page) = app.page("/plans/example-kommune/actions").await;
    assert!(page.contains("Aftal kortere genopretningstid med KMD"));
    assert!(page.contains("1. februar 2027"));
    let mailed = app.mail_after_jobs("action.").await.len();
    assert_eq!(mailed, 1, "the owner is mailed");
    let nanna = app.signed_in("nanna-kristensen").await;
    // The owner sees it on "my systems".
    let (_, page) = nanna.page("/my").await;
    assert!(
        page.contains("Aftal kortere genopretningstid med KMD"),
        "{page}"
    );
    let (_, page) = nanna.page("/plans/example-kommune/actions").await;
    let at = page.find("/actions/").unwrap();
    let action = &page[at..at + page[at..].find('"').unwrap()];
    assert_eq!(
        nanna
            .post_form(action, &[("done", "1")])
            .await
            .status()
            .as_u16(),
        303
    );
    let (_, page) = app.page("/plans/example-kommune/actions").await;
    assert!(page.contains("Udført"));
    let (_, page) = nanna.page("/my").await;
    assert!(
        !page.contains("Aftal kortere genopretningstid med KMD"),
        "done items leave my page"
    );
    // Someone else's item cannot be changed by another owner.
    assert_eq!(
        owner
            .post_form(action, &[("done", "0")])
            .await
            .status()
            .as_u16(),
        403
    );
}

/// Plans a drill of `scenario` 30 days ahead whose invitations go out now, and returns the
/// drill's path and how many invitations were queued.
async fn invited_drill(app: &TestApp, scenario: &str) -> (String, usize) {
    let path = format!("/plans/example-kommune/drills/new?scenario={scenario}");
    let (_, page) = app.page(&path).await;
    let mut fields = form_fields(&page, &path);
    let when = (chrono::Local::now() + chrono::Duration::days(30))
        .format("%Y-%m-%dT09:00")
        .to_string();
    set(&mut fields, "at", &when);
    set(&mut fields, "invite_days_before", "40");
    let response = app.submit(&path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let drill = location(&response);
    app.run_jobs().await;
    let db = &app.app.as_ref().unwrap().db;
    let invited = outbox::recent(db, None, 500)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.kind == "invitation")
        .count();
    assert!(invited > 1, "invitations were queued");
    (drill, invited)
}

#[tokio::test]
async fn cancelling_a_drill_asks_first_saying_how_many_get_a_cancellation() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let (drill, invited) = invited_drill(&app, "ad-nede").await;
    let cancel = format!("{drill}/cancel");

    // The drill's button leads to the question, which says how many are mailed.
    let (_, page) = app.page(&drill).await;
    assert!(
        page.contains(&format!("<form method=\"get\" action=\"{cancel}\"")),
        "{page}"
    );
    let (status, question) = app.page(&cancel).await;
    assert_eq!(status, 200);
    assert!(
        question.contains(&format!("{invited} deltagere får en aflysning.")),
        "{question}"
    );
    assert!(question.contains("name=\"confirmed\" value=\"1\""));

    // A post without the confirmation asks again and cancels nothing.
    let response = app.post_form(&cancel, &[]).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.text().await.unwrap().contains("får en aflysning"));
    assert!(!app.page(&drill).await.1.contains("Øvelsen er aflyst"));

    // Confirmed: cancelled, the cancellations queued, and the drill's page says so once.
    let response = app.post_form(&cancel, &[("confirmed", "1")]).await;
    assert_eq!(location(&response), drill);
    let (_, page) = app.page(&drill).await;
    assert!(
        page.contains(&format!(
            "Øvelsen er aflyst, {invited} deltagere får besked."
        )),
        "{page}"
    );
    let (_, again) = app.page(&drill).await;
    assert!(
        !again.contains("deltagere får besked"),
        "the message shows once"
    );
    let db = &app.app.as_ref().unwrap().db;
    let cancellations = outbox::recent(db, None, 500)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.kind == "cancellation")
        .count();
    assert_eq!(cancellations, invited);
}

#[tokio::test]
async fn closing_a_run_asks_first_naming_what_is_unfinished_and_locks_the_record() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let run = app.planned_occurrence("ad-nede").await;
    let (_, page) = app.page(&run).await;
    let systems = page.matches("class=\"stack record\"").count();
    assert!(systems > 2, "{page}");
    let owner = app.signed_in("sofie-andersen").await;
    let csrf = owner.csrf().await;
    let record = |csrf: String| {
        vec![
            ("csrf".to_string(), csrf),
            ("found".to_string(), "yes".to_string()),
            ("recovery".to_string(), "3h".to_string()),
            ("notes".to_string(), "Fandt proceduren".to_string()),
        ]
    };
    let response = owner
        .submit(&format!("{run}/systems/ad"), &record(csrf.clone()))
        .await;
    assert_eq!(response.status().as_u16(), 303);

    // The question names the systems without a record, the injects not shown, the start.
    let close = format!("{run}/close");
    let (status, question) = app.page(&close).await;
    assert_eq!(status, 200);
    let blank = format!(
        "{} af {systems} systemer har ingen registrering.",
        systems - 1
    );
    assert!(question.contains(&blank), "{blank} in {question}");
    assert!(question.contains("indspil er ikke vist for deltagerne"));
    assert!(question.contains("Øvelsen er aldrig blevet startet."));

    // Not closed by a bare post; closed once confirmed, and the report says so.
    let response = app.post_form(&close, &[]).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.text().await.unwrap().contains(&blank));
    let (_, page) = app.page(&run).await;
    assert!(
        page.contains(&format!("action=\"{run}/systems/ad\"")),
        "still open"
    );
    let response = app.post_form(&close, &[("confirmed", "1")]).await;
    assert_eq!(location(&response), format!("{run}/report"));
    let (_, report) = app.page(&format!("{run}/report")).await;
    assert!(report.contains("Øvelsen er lukket, og registreringen er låst."));

    // Closed: the records are text, not fields, and a record or note sent anyway is refused.
    let (_, page) = owner.page(&run).await;
    for field in [
        "<select",
        "name=\"recovery\"",
        "<textarea",
        "action=\"/occurrences/",
    ] {
        assert!(!page.contains(field), "{field} on a closed run: {page}");
    }
    assert!(page.contains("Fandt proceduren"));
    assert!(page.contains("3h"));
    let response = owner
        .submit(&format!("{run}/systems/ad"), &record(csrf.clone()))
        .await;
    assert_eq!(response.status().as_u16(), 409);
    assert!(response.text().await.unwrap().contains("lukket"));
    let response = owner
        .submit(
            &format!("{run}/notes"),
            &[
                ("csrf".to_string(), csrf),
                ("text".to_string(), "for sent".to_string()),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 409);
    let (_, page) = owner.page(&run).await;
    assert!(!page.contains("for sent"));
}

#[tokio::test]
async fn participants_see_an_inject_only_once_the_facilitator_has_played_it() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let run = app.planned_occurrence("ad-nede").await;
    let (_, page) = app.page(&run).await;
    // The facilitator sees every inject, each with its control.
    let play = format!("action=\"{run}/injects/0/play\"");
    assert!(page.contains(&play), "{page}");
    assert!(page.contains(&format!("action=\"{run}/injects/1/play\"")));
    let first = {
        let at = page.find("id=\"inj-0\"").unwrap();
        let text = &page[at..];
        let start = text.find("</p><p>").unwrap() + 7;
        text[start..start + text[start..].find("</p>").unwrap()].to_string()
    };
    assert!(first.len() > 10, "{first}");

    // A participant sees none of them, nor on the drill's page.
    let owner = app.signed_in("sofie-andersen").await;
    let (_, page) = owner.page(&run).await;
    assert!(!page.contains(&first), "{page}");
    assert!(page.contains("Der er ikke vist nogen indspil endnu."));
    assert!(!page.contains("/play\""));
    let drill = {
        let at = page.find("href=\"/drills/").unwrap() + 6;
        page[at..at + page[at..].find('"').unwrap()].to_string()
    };
    let (_, drill_page) = owner.page(&drill).await;
    assert!(
        drill_page.contains("<h2 id=\"scenario\">Scenarie</h2>"),
        "{drill_page}"
    );
    assert!(!drill_page.contains(&first), "{drill_page}");
    let (_, drill_page) = app.page(&drill).await;
    assert!(
        drill_page.contains(&first),
        "the facilitator's drill page lists it"
    );
    // Participants may not play.
    let csrf = owner.csrf().await;
    let response = owner
        .submit(
            &format!("{run}/injects/0/play"),
            &[("csrf".to_string(), csrf)],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);

    // Played: the participant sees it, with when; the facilitator's control is gone.
    let response = app.post_form(&format!("{run}/injects/0/play"), &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = owner.page(&run).await;
    assert!(page.contains(&first), "{page}");
    assert!(page.contains("vist "));
    assert_eq!(page.matches("class=\"played\"").count(), 1);
    let (_, page) = app.page(&run).await;
    assert!(!page.contains(&play));
    assert!(page.contains(&format!("action=\"{run}/injects/1/play\"")));
    // Played twice: kept once. An inject the scenario lacks: 404.
    app.post_form(&format!("{run}/injects/0/play"), &[]).await;
    let response = app.post_form(&format!("{run}/injects/99/play"), &[]).await;
    assert_eq!(response.status().as_u16(), 404);

    // Recorded in the audit log, on the timeline and in the report.
    let (_, audit) = app.page("/audit").await;
    assert_eq!(
        audit.matches("Indspil vist for deltagerne").count(),
        1,
        "{audit}"
    );
    let (_, page) = owner.page(&run).await;
    assert!(
        page.contains(&format!("Indspil, Minut 0: {first}")),
        "{page}"
    );
    let (_, report) = app.page(&format!("{run}/report")).await;
    assert!(report.contains("vist "), "{report}");
    assert!(report.contains("ikke vist"), "{report}");
    let response = app.get(&format!("{run}/report.json")).await;
    let json: serde_json::Value = response.json().await.unwrap();
    assert!(json["injects"][0]["played_at"].is_string(), "{json}");
    assert!(json["injects"][1]["played_at"].is_null(), "{json}");

    // Closed: nothing more is played.
    app.post_form(&format!("{run}/close"), &[("confirmed", "1")])
        .await;
    let response = app.post_form(&format!("{run}/injects/1/play"), &[]).await;
    assert_eq!(response.status().as_u16(), 409);
}
