//! The plan's health as the coordinator sees it: every dashboard figure equals what the
//! database holds; the annual report's numbers for a fixture year, on the page, in the
//! downloaded file and from `beredskab report annual`; the dependency picture; the calendar feed
//! of review deadlines and drills; completeness and the evidence file.

mod helpers;

use beredskab::domain::drill::{Schedule, SystemRecord};
use beredskab::domain::{Duration, PlanId, ScenarioId};
use beredskab::store::{self, actions::NewAction, drills::Drill, incidents::NewIncident};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use helpers::TestApp;
use sea_orm::DatabaseConnection;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

const PLAN: &str = "example-kommune";

/// The example plan with known figures: three sections past their review date, one system
/// (`noedkald`, RTO 30m, its steps take 55m) that cannot make its RTO, and two systems with an RTO
/// inversion (`ad` may be down for a day, while `citrix` and `sql-platform`, which depend on it,
/// may be down for 8 hours).
async fn known_plan(conn: &DatabaseConnection) {
    let id = PlanId::parse(PLAN).unwrap();
    let mut plan = store::load_plan(conn, &id).await.unwrap().unwrap();
    let today = helpers::today();
    for s in &mut plan.systems {
        s.last_reviewed = Some(today);
    }
    for late in ["loen", "aula", "mdm"] {
        let s = plan
            .systems
            .iter_mut()
            .find(|s| s.id.as_str() == late)
            .unwrap();
        s.last_reviewed = Some(today - chrono::Duration::days(400));
    }
    let set_rto = |plan: &mut beredskab::domain::Plan, id: &str, rto: &str| {
        let s = plan
            .systems
            .iter_mut()
            .find(|s| s.id.as_str() == id)
            .unwrap();
        s.rto = Some(Duration::parse(rto).unwrap());
    };
    set_rto(&mut plan, "noedkald", "30m");
    set_rto(&mut plan, "ad", "1d");
    store::import_plan(conn, &plan).await.unwrap();
}

/// A closed drill of the "AD down" scenario held at `at`, with these recovery times recorded.
async fn held_drill(conn: &DatabaseConnection, at: &str, records: &[(&str, Option<&str>)]) -> i64 {
    let plan_id = PlanId::parse(PLAN).unwrap();
    let scenario = store::drills::scenarios(conn, &plan_id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == ScenarioId::parse("ad-nede").unwrap())
        .unwrap();
    let start = utc(at);
    let mut drill = Drill {
        id: 0,
        plan_id: PLAN.into(),
        scenario_id: Some("ad-nede".into()),
        title: format!("Øvelse {at}"),
        scenario,
        facilitator: Some("lars-nielsen".into()),
        participants: vec!["lars-nielsen".into()],
        location: "Rådhuset".into(),
        schedule: Schedule::Once {
            at: NaiveDateTime::parse_from_str(&at[..16], "%Y-%m-%dT%H:%M").unwrap(),
        },
        time_zone: chrono_tz::UTC,
        invite_days_before: 14,
        created_by: "lars-nielsen".into(),
        created_at: start,
        cancelled: false,
    };
    drill.id = store::drills::create(conn, &drill).await.unwrap();
    store::drills::ensure_occurrences(conn, &drill, &[start])
        .await
        .unwrap();
    let occurrence = store::drills::occurrences(conn, drill.id).await.unwrap()[0].id;
    store::drills::start(conn, occurrence, start).await.unwrap();
    for (system, took) in records {
        let record = SystemRecord {
            found: Some(true),
            followed: Some(true),
            recovery: took.map(|t| Duration::parse(t).unwrap()),
            notes: String::new(),
        };
        assert!(
            store::drills::record_system(conn, occurrence, system, &record, "lars-nielsen", start)
                .await
                .unwrap()
        );
    }
    let end = start + chrono::Duration::hours(3);
    assert!(
        store::drills::close(conn, occurrence, "lars-nielsen", end)
            .await
            .unwrap()
    );
    occurrence
}

async fn action(conn: &DatabaseConnection, created: &str, due: &str, done: Option<&str>) -> i64 {
    let id = store::actions::create(
        conn,
        NewAction {
            plan_id: PLAN.into(),
            occurrence_id: None,
            incident_id: None,
            system_id: None,
            title: format!("Opfølgning {created}"),
            owner: "lars-nielsen".into(),
            due: day(due),
            created_by: "lars-nielsen".into(),
        },
        None,
        utc(created),
    )
    .await
    .unwrap();
    if let Some(at) = done {
        store::actions::set_status(conn, id, true, "lars-nielsen", utc(at))
            .await
            .unwrap();
    }
    id
}

/// An incident that took `ad` down at `at`; it is back after `took` and the incident is closed
/// then (or left open).
async fn incident(conn: &DatabaseConnection, title: &str, at: &str, took: Option<i64>) -> i64 {
    let start = utc(at);
    let id = store::incidents::open(
        conn,
        NewIncident {
            plan_id: PLAN.into(),
            version: None,
            title: title.into(),
            criterion: String::new(),
            started_at: start,
            opened_by: "anne-kjaer".into(),
            down: vec!["ad".into()],
        },
        |_| Vec::new(),
        start,
    )
    .await
    .unwrap();
    if let Some(minutes) = took {
        let back = start + chrono::Duration::minutes(minutes);
        store::incidents::mark(conn, id, "ad", false, "anne-kjaer", Vec::new(), back)
            .await
            .unwrap();
        store::incidents::advance(
            conn,
            id,
            store::incidents::CLOSED,
            "anne-kjaer",
            Vec::new(),
            back,
        )
        .await
        .unwrap();
    }
    id
}

/// The number shown in a dashboard figure, by the figure's id.
fn figure(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no figure {id}"));
    let rest = &page[at..];
    let start = rest.find("<strong>").unwrap() + "<strong>".len();
    let end = rest.find("</strong>").unwrap();
    let number = &rest[start..end];
    // "on time / total" figures carry the second number after the strong element.
    let after = &rest[end + "</strong>".len()..];
    match after.strip_prefix(" / ") {
        Some(tail) => format!("{number}/{}", &tail[..tail.find('<').unwrap()]),
        None => number.to_string(),
    }
}

/// The text of the element with this id.
fn by_id(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element {id}"));
    let rest = &page[at..];
    let start = rest.find('>').unwrap() + 1;
    // A list is read whole; anything else up to its first closing tag.
    let end = if page[..at].ends_with("<ul ") {
        "</ul>"
    } else {
        "</"
    };
    helpers::unescape(&rest[start..start + rest[start..].find(end).unwrap()])
}

#[tokio::test]
async fn every_dashboard_figure_equals_what_the_database_holds_and_links_to_its_list() {
    for db in helpers::databases().await {
        let (backend, url) = (db.backend, db.url.clone());
        let app = TestApp::spawn_on(db, &helpers::plans()).await;
        let conn = store::connect(&url).await.unwrap();
        known_plan(&conn).await;
        let now = Utc::now();
        let this_year = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
        // One drill this year: ad within its RTO (3h ≤ 1d), entra-id beyond (5h > 4h), dns-dhcp
        // not timed. One 400 days ago (an earlier year, and beyond the 52-week exercise interval),
        // which the dashboard leaves out.
        let earlier = (now - chrono::Duration::days(400)).to_rfc3339();
        let held = held_drill(
            &conn,
            &this_year(4),
            &[
                ("ad", Some("3h")),
                ("entra-id", Some("5h")),
                ("dns-dhcp", None),
            ],
        )
        .await;
        held_drill(&conn, &earlier, &[("vmware", Some("1h"))]).await;
        // Actions: one open and past due, one open and not yet due, one done.
        let today = helpers::today();
        let ago = |d: i64| (today - chrono::Duration::days(d)).to_string();
        let ahead = (today + chrono::Duration::days(30)).to_string();
        action(&conn, &this_year(48), &ago(1), None).await;
        action(&conn, &this_year(48), &ahead, None).await;
        action(&conn, &this_year(48), &ago(1), Some(&this_year(1))).await;
        let open = incident(&conn, "Strømsvigt på rådhuset", &this_year(2), None).await;

        app.login_as("lars-nielsen").await;
        let (status, page) = app.page("/plans/example-kommune/dashboard").await;
        assert_eq!(status, 200, "{backend}: {page}");
        assert_eq!(figure(&page, "fig-reviewed"), "33/36", "{backend}");
        assert_eq!(figure(&page, "fig-infeasible"), "1");
        assert!(page.contains("system, der ikke kan reetableres inden for sin RTO"));
        assert_eq!(figure(&page, "fig-inversions"), "2");
        assert!(page.contains("systemer med RTO-inversion"));
        // 36 systems, 3 exercised within the interval.
        assert_eq!(figure(&page, "fig-unexercised"), "33");
        assert_eq!(figure(&page, "fig-open-actions"), "2");
        assert_eq!(figure(&page, "fig-overdue-actions"), "1");
        assert_eq!(figure(&page, "fig-drills"), "1");
        assert_eq!(figure(&page, "fig-rto"), "1/1");
        assert!(page.contains(&format!("href=\"/occurrences/{held}/report\"")));
        assert!(page.contains(&format!("href=\"/incidents/{open}\"")));
        assert!(page.contains("Strømsvigt på rådhuset"));

        // Each figure's list holds what the figure counts.
        let (_, list) = app.page("/plans/example-kommune?only=overdue").await;
        assert!(list.contains("Viser 3 af 36"), "{list}");
        let (_, list) = app.page("/plans/example-kommune?only=infeasible").await;
        assert!(list.contains("Viser 1 af 36"));
        assert!(list.contains("/plans/example-kommune/systems/noedkald\""));
        let (_, list) = app.page("/plans/example-kommune?only=inversion").await;
        assert!(list.contains("Viser 2 af 36"));
        assert!(list.contains("/plans/example-kommune/systems/citrix\""));
        assert!(list.contains("/plans/example-kommune/systems/sql-platform\""));
        let (_, list) = app.page("/plans/example-kommune?only=exercise").await;
        assert!(list.contains("Viser 33 af 36"));
        let (_, list) = app
            .page("/plans/example-kommune/actions?show=overdue")
            .await;
        assert_eq!(list.matches("/status\"").count(), 1, "{list}");
        let (_, list) = app.page("/plans/example-kommune/actions?show=open").await;
        assert_eq!(list.matches("/status\"").count(), 2);
        let (_, list) = app.page("/plans/example-kommune/actions").await;
        assert_eq!(list.matches("/status\"").count(), 3);
    }
}

/// The fixture year 2025: two drills, two incidents, four action items.
async fn fixture_year(conn: &DatabaseConnection) {
    known_plan(conn).await;
    // Q1: ad within (3h ≤ 1d), entra-id beyond (5h > 4h). Q3: vmware within, dns-dhcp not timed.
    held_drill(
        conn,
        "2025-03-10T09:00:00Z",
        &[("ad", Some("3h")), ("entra-id", Some("5h"))],
    )
    .await;
    held_drill(
        conn,
        "2025-09-15T09:00:00Z",
        &[("vmware", Some("2h")), ("dns-dhcp", None)],
    )
    .await;
    // A drill in 2024 and one in 2026 stay out of 2025.
    held_drill(conn, "2024-11-01T09:00:00Z", &[("ad", Some("1h"))]).await;
    held_drill(conn, "2026-01-20T09:00:00Z", &[("ad", Some("1h"))]).await;
    // Incidents: AD back after 2 days (beyond its 1d RTO) in Q2; after 2 hours in Q4.
    incident(
        conn,
        "AD-nedbrud i maj",
        "2025-05-05T08:00:00Z",
        Some(48 * 60),
    )
    .await;
    incident(
        conn,
        "AD-fejl i november",
        "2025-11-20T08:00:00Z",
        Some(120),
    )
    .await;
    incident(conn, "Hændelse 2026", "2026-02-01T08:00:00Z", Some(60)).await;
    // Actions: opened in 2024, closed in 2025; opened and closed in 2025; opened in 2025 and open
    // past due at year end; opened in 2025, due in 2026.
    action(
        conn,
        "2024-12-01T10:00:00Z",
        "2025-01-31",
        Some("2025-01-15T10:00:00Z"),
    )
    .await;
    action(
        conn,
        "2025-02-01T10:00:00Z",
        "2025-03-01",
        Some("2025-02-20T10:00:00Z"),
    )
    .await;
    action(conn, "2025-04-01T10:00:00Z", "2025-06-01", None).await;
    action(conn, "2025-10-01T10:00:00Z", "2026-03-01", None).await;
}

fn assert_fixture_report(report: &str, backend: &str) {
    assert!(report.contains("Årsrapport 2025"), "{backend}: {report}");
    assert_eq!(by_id(report, "a-systems"), "36");
    assert_eq!(
        by_id(report, "a-drills"),
        "2 øvelser holdt: 2 systemer reetableret inden for deres RTO, 1 ud over, 1 ikke tidsat."
    );
    assert!(report.contains("AD-nedbrud i maj") && report.contains("AD-fejl i november"));
    assert!(!report.contains("Hændelse 2026"));
    assert!(report.contains("Active Directory: 2 døgn"), "{report}");
    assert_eq!(by_id(report, "a-opened"), "3");
    assert_eq!(by_id(report, "a-closed"), "2");
    assert_eq!(by_id(report, "a-open"), "2");
    assert_eq!(by_id(report, "a-overdue"), "1");
    assert!(by_id(report, "a-infeasible").contains("noedkald"));
    let inversions = by_id(report, "a-inversions");
    assert!(
        inversions.contains("citrix") && inversions.contains("sql-platform"),
        "{inversions}"
    );
    // The charts: per quarter within / beyond the RTO, well-formed SVG.
    for quarter in ["K1: 1", "K3: 1"] {
        assert!(
            report.contains(&format!("<title>{quarter}</title>")),
            "{quarter}"
        );
    }
    assert_eq!(report.matches("<svg ").count(), 3);
}

#[tokio::test]
async fn the_annual_report_counts_the_fixture_year_on_the_page_in_the_file_and_from_the_cli() {
    for db in helpers::databases().await {
        let (backend, url) = (db.backend, db.url.clone());
        let app = TestApp::spawn_on(db, &helpers::plans()).await;
        let conn = store::connect(&url).await.unwrap();
        fixture_year(&conn).await;
        app.login_as("mette-holm").await;
        let (status, page) = app.page("/plans/example-kommune/report/2025").await;
        assert_eq!(status, 200, "{backend}: {page}");
        assert_fixture_report(&page, backend);
        let file = app.get("/plans/example-kommune/report/2025/download").await;
        assert!(
            file.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("aarsrapport-example-kommune-2025.html")
        );
        let file = file.text().await.unwrap();
        assert_fixture_report(&file, backend);
        assert!(!file.contains("<script") && !file.contains("href=\"/"));
        // A year that has not begun, and a year that is not a number.
        let next = chrono::Datelike::year(&Utc::now()) + 1;
        let (status, _) = app
            .page(&format!("/plans/example-kommune/report/{next}"))
            .await;
        assert_eq!(status, 404);
        let (status, _) = app.page("/plans/example-kommune/report/tjugo").await;
        assert_eq!(status, 400);

        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("aarsrapport.html");
        let run = |year: &str| {
            helpers::beredskab(&[
                "--database-url",
                &url,
                "report",
                "annual",
                "--plan",
                PLAN,
                "--year",
                year,
                "--out",
                path.to_str().unwrap(),
            ])
        };
        let done = run("2025");
        assert!(done.status.success(), "{:?}", done);
        assert_fixture_report(&std::fs::read_to_string(&path).unwrap(), backend);
        let refused = run(&next.to_string());
        assert_eq!(refused.status.code(), Some(1), "{refused:?}");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(
            message.contains(&format!("--year: year {next} has not begun")),
            "{message}"
        );
    }
}

/// The dependency picture in `page`, parsed as XML: the ids of the systems it draws.
fn picture_systems(page: &str) -> Vec<String> {
    let start = page.find("<svg class=\"picture\"").expect("a picture");
    let end = start + page[start..].find("</svg>").unwrap() + "</svg>".len();
    let svg = roxmltree::Document::parse(&page[start..end]).expect("well-formed SVG");
    let mut ids: Vec<String> = svg
        .descendants()
        .filter_map(|n| n.attribute("id")?.strip_prefix("dep-").map(str::to_string))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_dependency_picture_is_well_formed_svg_with_every_system_and_a_subgraph_per_system() {
    let app = TestApp::spawn().await;
    let today = helpers::today();
    let plan = beredskab::plan_files::load(&helpers::example_plan(), today)
        .unwrap()
        .plan
        .unwrap();
    let mut all: Vec<String> = plan.systems.iter().map(|s| s.id.to_string()).collect();
    all.sort();
    app.login_as("michael-skov").await;
    let (status, page) = app.page("/plans/example-kommune/picture").await;
    assert_eq!(status, 200);
    assert_eq!(picture_systems(&page), all);
    // Horizons as the reader writes them (AD's RTO is 4h).
    assert!(
        page.contains("<title>Active Directory (ad) · RTO 4 t.</title>"),
        "{page}"
    );
    assert!(!page.contains("RTO 4h"));
    // Each box links to its system's page; the one with a finding is outlined in red.
    assert!(
        page.contains(
            r#"<a href="/plans/example-kommune/systems/ad"><g class="system" id="dep-ad">"#
        )
    );
    let marked = &page[page.find("id=\"dep-adgangskontrol\"").unwrap()..];
    assert!(marked[..marked.find("</g>").unwrap()].contains("stroke=\"#cf222e\""));

    // AD's part: what it depends on (directly or not) and what depends on it, nothing else.
    let (_, page) = app.page("/plans/example-kommune/picture?system=ad").await;
    let part = picture_systems(&page);
    for id in [
        "ad",
        "vmware",
        "storage-san",
        "strom-koeling",
        "citrix",
        "esdh",
        "byggesag",
    ] {
        assert!(part.contains(&id.to_string()), "{id} in {part:?}");
    }
    assert!(!part.contains(&"website".to_string()) && !part.contains(&"noedkald".to_string()));
    assert!(part.len() < all.len());
    // The picker takes the name shown as well as the id; anything else is named, over the whole
    // picture.
    let (status, by_name) = app
        .page("/plans/example-kommune/picture?system=active+directory")
        .await;
    assert_eq!(status, 200);
    assert_eq!(picture_systems(&by_name), part);
    assert!(by_name.contains("value=\"Active Directory\""));
    let (status, page) = app
        .page("/plans/example-kommune/picture?system=findes-ikke")
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Der er intet system “findes-ikke” i planen: her er hele planen."));
    assert_eq!(picture_systems(&page), all);
    // The list of systems is in the order of their names, as a Danish reader expects.
    let list = &page[page.find("<datalist id=\"picture-systems\">").unwrap()..];
    let names: Vec<String> = list[..list.find("</datalist>").unwrap()]
        .split("<option value=\"")
        .skip(1)
        .filter_map(|o| o.split_once('"').map(|(n, _)| helpers::unescape(n)))
        .collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| beredskab::render::i18n::sort_key(n));
    assert!(names.len() == all.len() && names == sorted, "{names:?}");

    // The offline runbook carries the picture, without links to the server.
    let (_, file) = app.page("/plans/example-kommune/runbook.html").await;
    assert_eq!(picture_systems(&file), all);
    assert!(!file.contains("href=\"/plans"));
}

/// The feed address shown once on the calendar page after asking for it.
async fn feed_url(app: &helpers::TestApp) -> String {
    let response = app
        .post_form("/plans/example-kommune/calendar/feed", &[])
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let page = response.text().await.unwrap();
    let at = page.find("id=\"feed-url\">").expect("the feed address") + "id=\"feed-url\">".len();
    let url = &page[at..at + page[at..].find('<').unwrap()];
    // The server's public address is not the test server's: keep the path.
    url[url.find("/calendar/").unwrap()..].to_string()
}

fn parse_feed(text: &str) -> Vec<(String, String)> {
    use icalendar::Component;
    let calendar: icalendar::Calendar = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
    calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .map(|e| {
            (
                e.get_uid().unwrap().to_string(),
                e.get_summary().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_calendar_feed_parses_holds_what_concerns_its_user_and_refuses_a_wrong_token() {
    let app = TestApp::spawn().await;
    // A drill of "AD down" a month ahead; its participants come from the scenario.
    app.login_as("lars-nielsen").await;
    let occurrence = app.planned_occurrence("ad-nede").await;
    let (_, page) = app.page("/plans/example-kommune/calendar").await;
    assert!(
        page.contains(&format!("href=\"{occurrence}\"")),
        "the programme"
    );
    assert!(page.contains("Gennemgang: Active Directory"));
    let coordinator = parse_feed(&app.page(&feed_url(&app).await).await.1);
    assert_eq!(
        coordinator
            .iter()
            .filter(|(uid, _)| uid.starts_with("review-"))
            .count(),
        36,
        "the coordinator's feed has every review deadline"
    );
    assert_eq!(
        coordinator
            .iter()
            .filter(|(uid, _)| !uid.starts_with("review-"))
            .count(),
        1
    );

    // A system owner's feed: the reviews of the sections they own or deputise for only.
    let owner = app.signed_in("jesper-moeller").await;
    let path = feed_url(&owner).await;
    // The feed needs no session: a calendar client has only the address.
    let anonymous = reqwest::Client::new();
    let response = anonymous
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let events = parse_feed(&response.text().await.unwrap());
    let today = helpers::today();
    let plan = beredskab::plan_files::load(&helpers::example_plan(), today)
        .unwrap()
        .plan
        .unwrap();
    let owned: Vec<&str> = plan
        .systems
        .iter()
        .filter(|s| {
            [&s.owner, &s.deputy]
                .into_iter()
                .flatten()
                .any(|p| p.as_str() == "jesper-moeller")
        })
        .map(|s| s.id.as_str())
        .collect();
    assert!(owned.contains(&"vmware"));
    let reviews: Vec<&(String, String)> = events
        .iter()
        .filter(|(uid, _)| uid.starts_with("review-"))
        .collect();
    assert_eq!(reviews.len(), owned.len(), "{reviews:?}");
    for id in &owned {
        assert!(
            reviews
                .iter()
                .any(|(uid, _)| uid.starts_with(&format!("review-example-kommune-{id}-"))),
            "{id}"
        );
    }

    // A wrong token, a malformed one, and the old one after a new address was made.
    let wrong = format!("/calendar/{}.ics", "0".repeat(64));
    for bad in [wrong.as_str(), "/calendar/nope.ics", "/calendar/../x"] {
        let status = anonymous
            .get(format!("{}{bad}", app.address))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 404, "{bad}");
    }
    let new_path = feed_url(&owner).await;
    assert_ne!(new_path, path);
    let old = anonymous
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status().as_u16(), 404);
    let new = anonymous
        .get(format!("{}{new_path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(new.status().as_u16(), 200);
}

#[tokio::test]
async fn completeness_names_what_is_missing_and_the_evidence_file_holds_the_record() {
    let db = helpers::sqlite_db();
    let url = db.url.clone();
    let app = TestApp::spawn_on(db, &helpers::plans()).await;
    let conn = store::connect(&url).await.unwrap();
    app.login_as("lars-nielsen").await;
    let class_of = |page: &str, id: &str| {
        let at = page.find(&format!("id=\"check-{id}\"")).unwrap();
        let open = page[..at].rfind("class=\"").unwrap() + "class=\"".len();
        page[open..open + page[open..].find('"').unwrap()].to_string()
    };
    // The example plan has every section written, but nothing approved or exercised yet.
    let (status, page) = app.page("/plans/example-kommune/completeness").await;
    assert_eq!(status, 200);
    assert_eq!(class_of(&page, "purpose"), "check present");
    assert_eq!(class_of(&page, "activation"), "check present");
    assert_eq!(class_of(&page, "tests"), "check missing");
    assert!(page.contains("en godkendt version"), "{page}");
    // A gap in one section is partial, named, and links to where it is fixed.
    let id = PlanId::parse(PLAN).unwrap();
    let mut plan = store::load_plan(&conn, &id).await.unwrap().unwrap();
    plan.sections.backups = String::new();
    store::import_plan(&conn, &plan).await.unwrap();
    let (_, page) = app.page("/plans/example-kommune/completeness").await;
    assert_eq!(class_of(&page, "resources"), "check partial");
    let resources = &page[page.find("id=\"check-resources\"").unwrap()..];
    let resources = &resources[..resources.find("</li>").unwrap()];
    assert!(resources.contains("Sikkerhedskopier"), "{resources}");
    assert!(resources.contains("href=\"/plans/example-kommune/sections/edit\""));

    // The evidence file: a reviewed section, an approval and a drill are all in it.
    let response = app
        .post_form("/plans/example-kommune/systems/vmware/reviewed", &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let approver = app.signed_in("mette-holm").await;
    let approved = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Årlig godkendelse"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(approved.status().as_u16(), 303);
    held_drill(&conn, &Utc::now().to_rfc3339(), &[("ad", Some("2h"))]).await;
    let response = app.get("/plans/example-kommune/evidence").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("dokumentation-example-kommune.html")
    );
    let file = response.text().await.unwrap();
    assert!(file.contains("Årlig godkendelse"), "the approval");
    assert!(file.contains("lars-nielsen · Gennemgang") || file.contains("· lars-nielsen ·"));
    assert!(
        file.contains("Virtualiseringsplatform"),
        "the review history and the plan"
    );
    assert!(
        file.contains("Active Directory: 2 t."),
        "the drill's record"
    );
    assert!(
        file.contains("id=\"check-tests\""),
        "the completeness checks"
    );
    for outside in [
        "http://", "https://", "<script", "<link", "href=\"/", "url(",
    ] {
        assert!(
            !file.contains(outside),
            "the file refers outside: {outside}"
        );
    }
    // It names who did what: not for every reader.
    let viewer = app.signed_in("michael-skov").await;
    assert_eq!(
        viewer
            .get("/plans/example-kommune/evidence")
            .await
            .status()
            .as_u16(),
        403
    );
}
