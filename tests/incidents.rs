//! Incident mode over HTTP against a real server: activating the plan, marking systems down and
//! recovered, the affected set and the recovery order, ticking steps (audited, once however many
//! devices tick at once), notes, standing down, closing (once) and the report; live updates
//! between two clients; alerting the call tree, findings as action items and pocket plans; and
//! the offline runbook.

mod helpers;

use std::time::{Duration, Instant};

use helpers::{TestApp, location};

/// A server with the example plan approved as version 1, and the incident lead signed in.
async fn approved_app(db: helpers::TestDb) -> TestApp {
    let app = TestApp::spawn_on(db, &helpers::plans()).await;
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

/// Opens an incident with `down` down from `started` (local time; empty: now).
async fn open(app: &TestApp, title: &str, started: &str, down: &[&str]) -> reqwest::Response {
    let mut fields = vec![("title", title), ("criterion", ""), ("started", started)];
    fields.extend(down.iter().map(|d| ("down", *d)));
    app.post_form("/plans/example-kommune/incidents", &fields)
        .await
}

/// The names the incident page's picker of systems to mark down offers, in its order.
fn picker_names(page: &str) -> Vec<String> {
    let picker = &page[page
        .find("<datalist id=\"mark-systems\">")
        .expect("the picker")..];
    let picker = &picker[..picker.find("</datalist>").unwrap()];
    picker
        .split("<option value=\"")
        .skip(1)
        .filter_map(|o| o.split_once('"').map(|(name, _)| helpers::unescape(name)))
        .collect()
}

/// Now on the server's clock: the local time of the plan's people.
fn local_now() -> chrono::DateTime<chrono_tz::Tz> {
    chrono::Utc::now().with_timezone(&chrono_tz::Europe::Copenhagen)
}

fn position(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("{needle} is not on the page"))
}

#[tokio::test]
async fn an_incident_is_opened_worked_stood_down_closed_once_and_reported() {
    for db in helpers::databases().await {
        let backend = db.backend;
        let app = approved_app(db).await;
        // A viewer reads but does not activate the plan.
        let viewer = app.signed_in("michael-skov").await;
        assert_eq!(
            open(&viewer, "Prøve", "", &["ad"]).await.status().as_u16(),
            403
        );
        // A system that does not exist is named.
        let response = open(&app, "AD svarer ikke", "", &["ad", "ghost"]).await;
        assert_eq!(response.status().as_u16(), 422);
        let page = response.text().await.unwrap();
        assert!(
            page.contains("Der er intet system “ghost” i planen."),
            "{page}"
        );
        assert!(
            page.contains("value=\"AD svarer ikke\""),
            "the input is kept"
        );

        // Five hours ago AD went down (RTO 4 h).
        let started = (chrono::Local::now() - chrono::Duration::hours(5))
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        let response = open(&app, "AD svarer ikke", &started, &["ad"]).await;
        assert_eq!(response.status().as_u16(), 303, "{backend}");
        let incident = location(&response);
        let (status, page) = app.page(&incident).await;
        assert_eq!(status, 200);
        assert!(page.contains("Arbejder ud fra godkendt version 1"));
        // AD and what depends on it, in recovery order: AD before ESDH.
        assert!(position(&page, "id=\"sys-ad\"") < position(&page, "id=\"sys-esdh\""));
        assert!(
            !page.contains("id=\"sys-vmware\""),
            "vmware does not depend on AD"
        );
        assert!(page.contains("clock-red"), "5 h against 4 h");
        // The checklists shown are those of the systems down; one affected through a dependency
        // opens on request.
        assert!(page.contains("name=\"system\" value=\"ad\"><input type=\"hidden\" name=\"step\""));
        assert!(
            !page.contains("name=\"system\" value=\"esdh\"><input type=\"hidden\" name=\"step\"")
        );
        assert!(page.contains(&format!("href=\"{incident}?system=esdh#sys-esdh\"")));
        let (_, open_esdh) = app.page(&format!("{incident}?system=esdh")).await;
        assert!(
            open_esdh
                .contains("name=\"system\" value=\"esdh\"><input type=\"hidden\" name=\"step\"")
        );
        assert!(page.contains("RTO overskredet"));
        // The picker of systems to mark down is in the order of the names it shows.
        let names = picker_names(&page);
        let mut sorted = names.clone();
        sorted.sort_by_key(|n| beredskab::render::i18n::sort_key(n));
        assert!(names.len() > 30 && names == sorted, "{names:?}");
        // One system down takes the singular.
        assert!(page.contains("1 system nede,"), "{page}");
        assert!(!page.contains("1 systemer"));

        // More goes down; an unknown system is refused.
        let mark = format!("{incident}/systems");
        let r = app
            .post_form(&mark, &[("system", "vmware"), ("state", "down")])
            .await;
        assert_eq!(r.status().as_u16(), 303);
        let r = app
            .post_form(&mark, &[("system", "ghost"), ("state", "down")])
            .await;
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("“ghost”"));
        let (_, page) = app.page(&incident).await;
        assert!(page.contains("id=\"sys-vmware\""));
        assert!(page.contains("2 systemer nede"));

        // Steps are ticked and un-ticked, each recorded with who and when.
        let ticks = format!("{incident}/ticks");
        let r = app
            .post_form(&ticks, &[("system", "ad"), ("step", "0"), ("done", "1")])
            .await;
        assert_eq!(r.status().as_u16(), 303);
        let (_, page) = app.page(&incident).await;
        assert!(page.contains("udført af Anne Kjær"), "{page}");
        // Two devices tick the same step at the same moment: one tick.
        let other = app.signed_in("sofie-andersen").await;
        let (csrf_a, csrf_b) = (app.csrf().await, other.csrf().await);
        let fields = |csrf: &str| {
            vec![
                ("csrf".to_string(), csrf.to_string()),
                ("system".to_string(), "ad".to_string()),
                ("step".to_string(), "1".to_string()),
                ("done".to_string(), "1".to_string()),
            ]
        };
        let (fields_a, fields_b) = (fields(&csrf_a), fields(&csrf_b));
        let (a, b) = tokio::join!(
            app.submit(&ticks, &fields_a),
            other.submit(&ticks, &fields_b)
        );
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (303, 303));
        let (_, page) = app.page(&incident).await;
        assert_eq!(
            page.matches("Active Directory: trin 2 udført").count(),
            1,
            "{backend}"
        );
        let r = app
            .post_form(&ticks, &[("system", "ad"), ("step", "0"), ("done", "0")])
            .await;
        assert_eq!(r.status().as_u16(), 303);
        let r = app
            .post_form(&ticks, &[("system", "ad"), ("step", "99"), ("done", "1")])
            .await;
        assert_eq!(r.status().as_u16(), 422);
        let (_, page) = app.page(&incident).await;
        assert!(page.contains("Active Directory: trin 1 fortrudt"));
        // The viewer may read but not tick.
        let csrf_v = viewer.csrf().await;
        let r = viewer.submit(&ticks, &fields(&csrf_v)).await;
        assert_eq!(r.status().as_u16(), 403);
        // Ticks are in the audit log.
        let coordinator = app.signed_in("lars-nielsen").await;
        let (status, audit) = coordinator.page("/audit").await;
        assert_eq!(status, 200, "{backend}: {audit}");
        assert!(
            audit.contains("Punkt krydset af") && audit.contains("Afkrydsning fjernet"),
            "{backend}: {audit}"
        );
        // People are named by their names, not their usernames.
        assert!(audit.contains(">Anne Kjær</td>"), "{audit}");

        // A note with HTML in it is shown as text.
        let r = app
            .post_form(
                &format!("{incident}/notes"),
                &[("text", "Atea ringet <script>alert(1)</script>")],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303);
        let (_, page) = app.page(&incident).await;
        assert!(page.contains("Atea ringet &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>alert(1)"));

        // AD back (after 5 h: RTO missed); VMware back at once (met). Stand down, close.
        app.post_form(&mark, &[("system", "ad"), ("state", "recovered")])
            .await;
        app.post_form(&mark, &[("system", "vmware"), ("state", "recovered")])
            .await;
        let (_, page) = app.page(&incident).await;
        assert!(page.contains("Intet system er nede."));
        let r = app.post_form(&format!("{incident}/stand-down"), &[]).await;
        assert_eq!(r.status().as_u16(), 303);
        let r = app
            .post_form(&ticks, &[("system", ""), ("step", "0"), ("done", "1")])
            .await;
        assert_eq!(r.status().as_u16(), 303);
        let (_, page) = app.page(&incident).await;
        assert!(page.contains("Nedlukning: trin 1 udført"), "{page}");
        let r = app
            .post_form(&format!("{incident}/close"), &[("confirmed", "1")])
            .await;
        assert_eq!(location(&r), format!("{incident}/report"));
        // Closing twice, or changing a closed incident: 409, nothing recorded.
        let r = app
            .post_form(&format!("{incident}/close"), &[("confirmed", "1")])
            .await;
        assert_eq!(r.status().as_u16(), 409);
        let r = app
            .post_form(&ticks, &[("system", "ad"), ("step", "0"), ("done", "1")])
            .await;
        assert_eq!(r.status().as_u16(), 409);
        let (_, page) = app.page(&incident).await;
        assert_eq!(page.matches("Hændelsen lukket").count(), 1);

        let (status, report) = app.page(&format!("{incident}/report")).await;
        assert_eq!(status, 200);
        assert!(
            report.contains("RTO overholdt for 1, overskredet for 1, ikke registreret for 0"),
            "{report}"
        );
    }
}

/// Reads the server-sent events of `path` until one `changed` event carries a revision above
/// `above`, or `within` has passed; returns that revision.
async fn next_change(
    response: &mut reqwest::Response,
    above: i64,
    within: Duration,
) -> Option<i64> {
    let deadline = Instant::now() + within;
    let mut buffer = String::new();
    while Instant::now() < deadline {
        let chunk = tokio::time::timeout(deadline - Instant::now(), response.chunk()).await;
        let Ok(Ok(Some(bytes))) = chunk else {
            return None;
        };
        buffer.push_str(&String::from_utf8_lossy(&bytes));
        for block in buffer.split("\n\n") {
            if block.contains("event: changed")
                && let Some(line) = block.lines().find(|l| l.starts_with("data: "))
                && let Ok(revision) = line["data: ".len()..].trim().parse::<i64>()
                && revision > above
            {
                return Some(revision);
            }
        }
    }
    None
}

/// Follows `incident`'s live events as `client`'s page does: the stream, and the revision its
/// first event says.
async fn follow(client: &TestApp, incident: &str) -> (reqwest::Response, i64) {
    let mut stream = client
        .client
        .get(format!("{}{incident}/live", client.address))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    let first = next_change(&mut stream, 0, Duration::from_secs(2))
        .await
        .expect("the current revision");
    (stream, first)
}

#[tokio::test]
async fn two_people_on_the_same_incident_see_each_others_ticks_within_two_seconds() {
    let app = approved_app(helpers::sqlite_db()).await;
    let incident = location(&open(&app, "Netværket er nede", "", &["ad"]).await);
    let other = app.signed_in("sofie-andersen").await;

    // The first event says where the incident stands. The stream is never compressed, so no
    // event waits in an encoder's buffer.
    let mut stream = app
        .client
        .get(format!("{}{incident}/live", app.address))
        .header("accept-encoding", "br, gzip")
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    assert!(stream.headers().get("content-encoding").is_none());
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let first = next_change(&mut stream, 0, Duration::from_secs(2))
        .await
        .expect("the current revision");

    // The other person ticks a step; the first sees it within two seconds.
    let ticked = Instant::now();
    let r = other
        .post_form(
            &format!("{incident}/ticks"),
            &[("system", "ad"), ("step", "0"), ("done", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let seen = next_change(&mut stream, first, Duration::from_secs(2)).await;
    assert!(seen.is_some(), "no update within 2 s");
    assert!(ticked.elapsed() < Duration::from_secs(2));
    // What the page's script then fetches shows the tick; so does a plain reload.
    let (_, part) = app.page(&format!("{incident}?part=live")).await;
    assert!(part.contains("udført af Sofie Andersen"), "{part}");
    assert!(!part.contains("<html"), "only the live part");
    let (_, page) = app.page(&incident).await;
    assert!(page.contains("udført af Sofie Andersen"));
    // A note by the first is seen by the second the same way.
    let (mut theirs, now) = follow(&other, &incident).await;
    app.post_form(&format!("{incident}/notes"), &[("text", "Atea er på vej")])
        .await;
    assert!(
        next_change(&mut theirs, now, Duration::from_secs(2))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_tick_through_one_server_reaches_the_pages_open_on_another_through_postgresql() {
    let Some(db) = helpers::postgres_db().await else {
        println!("TEST_POSTGRES_URL is not set: the two-server live update test needs PostgreSQL");
        return;
    };
    let url = db.url.clone();
    let one = approved_app(db).await;
    let two = helpers::spawn_app(&url, &helpers::plans()).await;
    two.login_as("sofie-andersen").await;
    let incident = location(&open(&one, "Netværket er nede", "", &["ad"]).await);
    let id: i64 = incident.rsplit('/').next().unwrap().parse().unwrap();

    // Three pages follow the incident on the second server: one watcher serves them all.
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(follow(&two, &incident).await);
    }
    assert_eq!(two.handle().live.followers(id), 3);
    assert_eq!(one.handle().live.followers(id), 0);

    // A tick through the first server: every page on the second hears of it within a second,
    // by PostgreSQL's notification (nothing on the second server read the incident meanwhile).
    let r = one
        .post_form(
            &format!("{incident}/ticks"),
            &[("system", "ad"), ("step", "0"), ("done", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for (stream, first) in &mut streams {
        let seen = next_change(stream, *first, Duration::from_secs(1)).await;
        assert_eq!(
            seen,
            Some(*first + 1),
            "the tick's revision within a second"
        );
    }
    // A tick that changes nothing (the step is ticked already) notifies nobody: the
    // transaction that raised the revision was rolled back, and its notification with it.
    let r = one
        .post_form(
            &format!("{incident}/ticks"),
            &[("system", "ad"), ("step", "0"), ("done", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (stream, first) = &mut streams[0];
    assert_eq!(
        next_change(stream, *first + 1, Duration::from_millis(700)).await,
        None
    );
    // Pages closed: the watcher forgets them.
    drop(streams);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(two.handle().live.followers(id), 0);
}

/// Posts what a phone did offline, as its script does: JSON with the session's CSRF token.
async fn post_offline(
    app: &TestApp,
    incident: &str,
    actions: serde_json::Value,
) -> reqwest::Response {
    let csrf = app.csrf().await;
    app.client
        .post(format!("{}{incident}/offline", app.address))
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({ "actions": actions }))
        .send()
        .await
        .unwrap()
}

/// `post_offline`, taken: the server's answer.
async fn send_offline(
    app: &TestApp,
    incident: &str,
    actions: serde_json::Value,
) -> serde_json::Value {
    let response = post_offline(app, incident, actions).await;
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

fn outcomes(answer: &serde_json::Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn actions_from_a_phone_that_was_offline_are_applied_once_at_the_time_they_happened() {
    for db in helpers::databases().await {
        let app = approved_app(db).await;
        let incident = location(&open(&app, "Netværket er nede", "", &["ad"]).await);
        let id: i64 = incident.rsplit('/').next().unwrap().parse().unwrap();
        let now = chrono::Utc::now();
        let ago = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
        let batch = serde_json::json!([
            {"id": "a1b2c3d4-0001", "at": ago(5), "kind": "tick", "system": "ad", "step": 0},
            {"id": "a1b2c3d4-0002", "at": ago(4), "kind": "note", "text": "Servicedesk ringet op fra bilen"},
            {"id": "a1b2c3d4-0003", "at": ago(3), "kind": "tick", "system": "ad", "step": 1},
            {"id": "a1b2c3d4-0004", "at": ago(2), "kind": "tick", "system": "sharepoint", "step": 0},
        ]);
        // Sent three times (the connection came and went): applied once.
        let first = send_offline(&app, &incident, batch.clone()).await;
        assert_eq!(
            outcomes(&first),
            ["applied", "applied", "applied", "refused"]
        );
        let refused = &first["results"][3]["error"];
        assert_eq!(
            refused, "Der er intet system “sharepoint” i planen.",
            "{first}"
        );
        for _ in 0..2 {
            let again = send_offline(&app, &incident, batch.clone()).await;
            assert_eq!(outcomes(&again), ["repeat", "repeat", "repeat", "refused"]);
        }
        let db = &app.handle().db;
        let ticks = beredskab::store::incidents::ticks(db, id).await.unwrap();
        assert_eq!(ticks.len(), 2);
        // The tick counts from when it happened on the phone, not from when it arrived.
        let first_tick = ticks.iter().find(|t| t.step == 0).unwrap();
        assert!(
            (first_tick.ticked_at - (now - chrono::Duration::minutes(5)))
                .num_seconds()
                .abs()
                <= 1
        );
        let events = beredskab::store::incidents::events(db, id).await.unwrap();
        let notes: Vec<_> = events.iter().filter(|e| e.kind == "note").collect();
        assert_eq!(notes.len(), 1, "the note once");
        assert!(
            notes[0].recorded_at.is_some(),
            "recorded later than it happened"
        );

        // Meanwhile someone else ticked step 3 online; the phone's tick of it arrives after.
        let other = app.signed_in("sofie-andersen").await;
        let r = other
            .post_form(
                &format!("{incident}/ticks"),
                &[("system", "ad"), ("step", "2"), ("done", "1")],
            )
            .await;
        assert_eq!(r.status().as_u16(), 303);
        let late = send_offline(
            &app,
            &incident,
            serde_json::json!([{"id": "a1b2c3d4-0005", "at": ago(1), "kind": "tick", "system": "ad", "step": 2}]),
        )
        .await;
        assert_eq!(outcomes(&late), ["late"]);
        let tick = beredskab::store::incidents::ticks(db, id)
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.step == 2)
            .unwrap();
        assert_eq!(tick.ticked_by, "sofie-andersen", "the server's tick stands");

        // A phone whose clock is ahead is believed only up to now.
        let ahead = send_offline(
            &app,
            &incident,
            serde_json::json!([{"id": "a1b2c3d4-0006", "at": (now + chrono::Duration::hours(3)).to_rfc3339(), "kind": "note", "text": "Uret går forkert"}]),
        )
        .await;
        assert_eq!(outcomes(&ahead), ["applied"]);
        let events = beredskab::store::incidents::events(db, id).await.unwrap();
        let wrong = events
            .iter()
            .find(|e| e.text == "Uret går forkert")
            .unwrap();
        assert!(wrong.at <= chrono::Utc::now());

        // The timeline shows them in the order they happened, each marked as sent later, the
        // late one as such; so does the report.
        let (_, page) = app.page(&incident).await;
        let page = helpers::unescape(&page);
        let note = page
            .find("Servicedesk ringet op fra bilen")
            .expect("the note");
        let step_one = page
            .find("Active Directory: trin 1 udført")
            .expect("the first tick");
        assert!(step_one < note, "in the order they happened");
        assert!(page.contains("gjort uden forbindelse, modtaget"), "{page}");
        assert!(
            page.contains("Active Directory: trin 3 udført (fra en telefon uden forbindelse) – modtaget, efter at det allerede var sket; intet blev ændret"),
            "{page}"
        );
        let (_, report) = app.page(&format!("{incident}/report")).await;
        assert!(helpers::unescape(&report).contains("gjort uden forbindelse, modtaget"));

        // After the incident is closed, what a phone still sends is kept, and changes nothing.
        app.post_form(&format!("{incident}/stand-down"), &[]).await;
        app.post_form(&format!("{incident}/close"), &[("confirmed", "1")])
            .await;
        let closed = send_offline(
            &app,
            &incident,
            serde_json::json!([
                {"id": "a1b2c3d4-0007", "at": ago(0), "kind": "recovered", "system": "ad"},
                {"id": "a1b2c3d4-0008", "at": ago(0), "kind": "note", "text": "AD kører igen her"},
            ]),
        )
        .await;
        assert_eq!(outcomes(&closed), ["late", "late"]);
        let outages = beredskab::store::incidents::outages(db, id).await.unwrap();
        assert!(
            outages.iter().all(|o| o.recovered_at.is_none()),
            "nothing recovered"
        );
        let (_, report) = app.page(&format!("{incident}/report")).await;
        let report = helpers::unescape(&report);
        assert!(report.contains("AD kører igen her (fra en telefon uden forbindelse) – modtaget, efter at hændelsen var lukket"), "{report}");
        // Someone who may only read the incident cannot send.
        let reader = app.signed_in("michael-skov").await;
        let refused = post_offline(&reader, &incident, serde_json::json!([])).await;
        assert_eq!(refused.status().as_u16(), 403);
    }
}

#[tokio::test]
async fn the_offline_runbook_holds_every_system_and_refers_to_nothing_outside_itself() {
    let app = approved_app(helpers::sqlite_db()).await;
    // Written on approval.
    let file = app.runbook_dir.join("beredskabsplan-example-kommune.html");
    let html = std::fs::read_to_string(&file).expect("the runbook written on approval");
    assert!(html.len() < 5 * 1024 * 1024);
    assert!(html.contains("Godkendt version 1, godkendt af Mette Holm"));
    for entry in std::fs::read_dir(helpers::example_plan().join("systems")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let id = name.trim_end_matches(".toml");
        assert!(
            html.contains(&format!("<div class=\"system-body\" id=\"sys-{id}\">")),
            "{id}"
        );
    }
    // After each system a way back to the contents, which every system is listed in.
    let systems = std::fs::read_dir(helpers::example_plan().join("systems"))
        .unwrap()
        .count();
    assert_eq!(
        html.matches("<a href=\"#toc\">Til indholdsfortegnelse</a>")
            .count(),
        systems
    );
    assert!(html.contains("<h2 id=\"toc\">"));
    for outside in [
        "http://",
        "https://",
        "src=\"//",
        "href=\"//",
        "url(",
        "<script",
        "<link",
        "href=\"/",
    ] {
        assert!(
            !html.contains(outside),
            "the file refers outside: {outside}"
        );
    }
    assert!(html.contains("href=\"tel:+4572364101\"") || html.contains("href=\"tel:"));

    // Offered for download, made from the approved version.
    let response = app.get("/plans/example-kommune/runbook.html").await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("beredskabsplan-example-kommune.html")
    );
    // The page says so, and marks a draft changed since.
    let coordinator = app.signed_in("lars-nielsen").await;
    let mut fields = coordinator.system_form("example-kommune", "ad").await;
    helpers::set(&mut fields, "workaround", "Ny nødprocedure i kladden");
    coordinator
        .submit("/plans/example-kommune/systems/ad/edit", &fields)
        .await;
    let (status, page) = app.page("/plans/example-kommune/runbook").await;
    assert_eq!(status, 200);
    assert!(page.contains("Godkendt version 1"));
    assert!(page.contains("Kladden har ændringer, der ikke er godkendt"));
    assert!(
        !page.contains("Ny nødprocedure i kladden"),
        "the approved text is shown"
    );
}

#[tokio::test]
async fn the_call_tree_is_alerted_findings_become_action_items_and_pocket_plans_are_made() {
    let app = approved_app(helpers::sqlite_db()).await;
    let incident = location(&open(&app, "Ransomware på filserverne", "", &["filservere"]).await);

    // Alerting: one mail to each person in the call tree, recorded on the timeline.
    let r = app.post_form(&format!("{incident}/alert"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    let call_tree = std::fs::read_to_string(helpers::example_plan().join("plan.toml"))
        .unwrap()
        .matches("[[call_tree]]")
        .count();
    let alerts = app
        .mail_after_jobs(&format!(
            "alert.{}",
            incident.trim_start_matches("/incidents/")
        ))
        .await;
    assert_eq!(alerts.len(), call_tree, "one per person in the call tree");
    // The links lead to this server: the public address follows the port it listens on.
    let link = format!("{}{incident}", app.address);
    let db = &app.app.as_ref().unwrap().db;
    let queued = beredskab::store::outbox::recent(db, None, 100)
        .await
        .unwrap();
    let sent: Vec<_> = queued.iter().filter(|m| m.kind == "alert").collect();
    assert_eq!(sent.len(), call_tree);
    assert!(
        sent.iter().all(|m| m.body_text.contains(&link)),
        "{link} in {}",
        sent[0].body_text
    );
    // Who alerted, by name.
    assert!(
        sent[0].body_text.contains("Anne Kjær"),
        "{}",
        sent[0].body_text
    );
    let (_, page) = app.page(&incident).await;
    assert!(page.contains(&format!("Varslingstræet varslet ({call_tree} personer)")));
    // Beside the button: when, by whom and to how many it went.
    assert!(page.contains(" af Anne Kjær: "), "{page}");
    assert!(
        page.contains(&format!(": {call_tree} personer.</strong>")),
        "{page}"
    );
    // Only those who lead incidents alert.
    let owner = app.signed_in("jesper-moeller").await;
    assert_eq!(
        owner
            .post_form(&format!("{incident}/alert"), &[])
            .await
            .status()
            .as_u16(),
        403
    );

    // A finding of the report becomes an action item; its owner is mailed.
    app.post_form(&format!("{incident}/close"), &[("confirmed", "1")])
        .await;
    let r = app
        .post_form(
            &format!("{incident}/actions"),
            &[
                ("title", "Test gendannelse af filserverne hvert kvartal"),
                ("system", "filservere"),
                ("owner", "jesper-moeller"),
                ("due", "2027-03-01"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = app
        .post_form(
            &format!("{incident}/actions"),
            &[("title", ""), ("owner", "ghost"), ("due", "snart")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let (_, report) = app.page(&format!("{incident}/report")).await;
    assert!(report.contains("Test gendannelse af filserverne hvert kvartal"));
    let (_, actions) = app.page("/plans/example-kommune/actions").await;
    assert!(actions.contains("Test gendannelse af filserverne hvert kvartal"));
    let mail = app.mail_after_jobs("action.").await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("jemo@eksempel-kommune.dk"));

    // Pocket plans: one card per role, with the call tree's phone numbers.
    let (status, page) = app.page("/plans/example-kommune/pocket").await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("<article class=\"pocket\"").count(), 3);
    assert!(page.contains("Miniberedskabsplan: Beredskabsleder"));
    assert!(page.matches("class=\"call\" href=\"tel:").count() >= 3 * call_tree);
    let (_, one) = app
        .page("/plans/example-kommune/pocket?role=crisis-team")
        .await;
    assert_eq!(one.matches("<article class=\"pocket\"").count(), 1);
    assert_eq!(
        app.page("/plans/example-kommune/pocket?role=nobody")
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn closing_an_incident_asks_first_naming_the_stand_down_items_and_systems_still_down() {
    let app = approved_app(helpers::sqlite_db()).await;
    let incident = location(&open(&app, "AD svarer ikke", "", &["ad", "esdh"]).await);
    let mark = format!("{incident}/systems");
    app.post_form(&mark, &[("system", "esdh"), ("state", "recovered")])
        .await;
    app.post_form(&format!("{incident}/stand-down"), &[]).await;
    let ticks = format!("{incident}/ticks");
    for step in ["0", "1", "2"] {
        app.post_form(&ticks, &[("system", ""), ("step", step), ("done", "1")])
            .await;
    }
    app.post_form(&ticks, &[("system", "ad"), ("step", "0"), ("done", "1")])
        .await;

    // The incident's button leads to the question.
    let close = format!("{incident}/close");
    let (_, page) = app.page(&incident).await;
    assert!(
        page.contains(&format!("<form method=\"get\" action=\"{close}\"")),
        "{page}"
    );
    let (status, question) = app.page(&close).await;
    assert_eq!(status, 200);
    assert!(
        question.contains("1 af 4 punkter i nedlukningen er ikke krydset af."),
        "{question}"
    );
    assert!(
        question.contains("1 system er stadig markeret som nede: Active Directory."),
        "{question}"
    );
    assert!(question.contains("reetableringstrin for dem er ikke krydset af."));

    // A bare post asks again; the confirmed one closes, and the report says so.
    let response = app.post_form(&close, &[]).await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.text().await.unwrap().contains("1 af 4 punkter"));
    let (_, page) = app.page(&incident).await;
    assert!(!page.contains("Hændelsen er lukket"), "not closed yet");
    let response = app.post_form(&close, &[("confirmed", "1")]).await;
    assert_eq!(location(&response), format!("{incident}/report"));
    let (_, report) = app.page(&format!("{incident}/report")).await;
    assert!(
        report.contains("<p class=\"ok-box flash\" role=\"status\">Hændelsen er lukket.</p>"),
        "{report}"
    );
}

#[tokio::test]
async fn the_picker_marks_a_system_down_by_its_name_or_its_id_and_names_what_it_does_not_know() {
    let app = approved_app(helpers::sqlite_db()).await;
    let incident = location(&open(&app, "AD svarer ikke", "", &["ad"]).await);
    let (_, page) = app.page(&incident).await;
    // Type-to-filter without script: a text field with the systems as its list, by name.
    assert!(page.contains("<input id=\"mark-system\" name=\"system\" list=\"mark-systems\""));
    assert!(page.contains("<option value=\"KMD WorkZone (ESDH)\">esdh</option>"));
    assert!(
        !picker_names(&page).contains(&"Active Directory".to_string()),
        "a system down is not offered again"
    );
    let mark = format!("{incident}/systems");
    // By the name it is shown by (case and spaces around it do not count), and by its id.
    let r = app
        .post_form(
            &mark,
            &[("system", " kmd workzone (esdh) "), ("state", "down")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = app
        .post_form(&mark, &[("system", "vmware"), ("state", "down")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.page(&incident).await;
    assert!(page.contains("3 systemer nede"), "{page}");
    assert!(page.contains("KMD WorkZone (ESDH) markeret som nede"));
    assert!(page.contains("Virtualiseringsplatform (VMware vSphere) markeret som nede"));
    // An unknown name is refused, named, with what to do instead.
    let r = app
        .post_form(&mark, &[("system", "Sharepoint"), ("state", "down")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    let text = r.text().await.unwrap();
    assert_eq!(
        text,
        "Der er intet system “Sharepoint” i planen. Vælg et system på listen, eller skriv dets navn eller id."
    );
    let r = app
        .post_form(&mark, &[("system", "  "), ("state", "down")])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert_eq!(
        r.text().await.unwrap(),
        "Vælg et system på listen, eller skriv dets navn eller id."
    );
    let (_, page) = app.page(&incident).await;
    assert!(page.contains("3 systemer nede"), "nothing changed");
}

#[tokio::test]
async fn the_first_screen_says_what_is_down_and_the_next_step_and_a_recovered_system_stays_listed()
{
    let app = approved_app(helpers::sqlite_db()).await;
    // Five hours ago AD went down (RTO 4 h).
    let started = (local_now() - chrono::Duration::hours(5))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let incident = location(&open(&app, "AD svarer ikke", &started, &["ad"]).await);
    let (_, page) = app.page(&incident).await;
    // First what is down with its clock, then its next step and its workaround, open; the
    // control to mark another system down comes after the recovery order, folded.
    let now = position(&page, "<section class=\"now\"");
    let clock = position(
        &page,
        "<ul class=\"down-now\"><li class=\"clock-red\"><a href=\"#sys-ad\">Active Directory</a>",
    );
    let next = position(&page, "Næste trin: Active Directory");
    let workaround = position(
        &page,
        "<details open class=\"workaround\" id=\"next-workaround\">",
    );
    let order = position(&page, "<h2 id=\"order\">");
    let another = position(
        &page,
        "<details class=\"mark-another\" id=\"mark-another\"><summary>Marker et andet system som nede</summary>",
    );
    assert!(
        now < clock && clock < next && next < workaround && workaround < order && order < another
    );
    assert!(page.contains("Trin 1 af "), "{page}");
    // Ticking the first step makes the second the next.
    let r = app
        .post_form(
            &format!("{incident}/ticks"),
            &[("system", "ad"), ("step", "0"), ("done", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.page(&incident).await;
    assert!(page.contains("Trin 2 af "), "{page}");
    assert!(!page.contains("Tilbage i drift"));

    // Back: it leaves the list of what is down and is listed as back, with its time out
    // against its RTO, over it marked.
    let r = app
        .post_form(
            &format!("{incident}/systems"),
            &[("system", "ad"), ("state", "recovered")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, page) = app.page(&incident).await;
    assert!(page.contains("Intet system er nede."));
    assert!(!page.contains("<ul class=\"down-now\">"));
    let back = &page[position(&page, "<h2 id=\"recovered\">Tilbage i drift</h2>")..];
    let back = &back[..back.find("</ul>").unwrap()];
    assert!(
        back.contains("<strong>Active Directory</strong>: nede 5 t."),
        "{back}"
    );
    assert!(
        back.contains(" – RTO 4 t. <strong class=\"bad\">RTO overskredet</strong>"),
        "{back}"
    );
    // With nothing down, marking a system down is open at once.
    assert!(page.contains("<details class=\"mark-another\" id=\"mark-another\" open><summary>Marker et system som nede</summary>"));

    // In English, the same.
    app.get("/lang/en?next=/").await;
    let (_, page) = app.page(&incident).await;
    assert!(page.contains("No system is down."));
    assert!(page.contains("<h2 id=\"recovered\">Back in service</h2>"));
    assert!(
        page.contains("<strong>Active Directory</strong>: down 5 h"),
        "{page}"
    );
    assert!(
        page.contains(" – RTO 4 h <strong class=\"bad\">RTO missed</strong>"),
        "{page}"
    );
    assert!(page.contains("<summary>Mark a system down</summary>"));
}

#[tokio::test]
async fn the_report_says_when_the_incident_was_opened_stood_down_and_closed_and_how_long_it_lasted()
{
    let app = approved_app(helpers::sqlite_db()).await;
    let started_at = local_now() - chrono::Duration::minutes(190);
    let started = started_at.format("%Y-%m-%dT%H:%M").to_string();
    let incident = location(&open(&app, "Strømsvigt", &started, &["ad"]).await);
    let report = format!("{incident}/report");
    let dd = |page: &str, id: &str| {
        let from = position(page, &format!("<dd id=\"{id}\">")) + id.len() + 10;
        page[from..from + page[from..].find("</dd>").unwrap()].to_string()
    };
    // The time typed in is the time shown: local time, both.
    let day = beredskab::render::i18n::date(started_at.date_naive(), "da");
    let typed = format!("{day} {}", started_at.format("%H:%M"));
    let (status, page) = app.page(&report).await;
    assert_eq!(status, 200);
    assert_eq!(dd(&page, "report-started"), typed);
    assert_eq!(dd(&page, "report-stood-down"), "ikke endnu");
    assert_eq!(dd(&page, "report-closed"), "ikke endnu");
    assert!(
        dd(&page, "report-lasted").starts_with("3 t. 10 min.")
            && dd(&page, "report-lasted").ends_with(" indtil nu"),
        "{}",
        dd(&page, "report-lasted")
    );

    app.post_form(&format!("{incident}/stand-down"), &[]).await;
    app.post_form(&format!("{incident}/close"), &[("confirmed", "1")])
        .await;
    let (_, page) = app.page(&report).await;
    let today = local_now();
    for id in ["report-stood-down", "report-closed"] {
        let shown = dd(&page, id);
        assert!(
            shown.starts_with(&beredskab::render::i18n::date(today.date_naive(), "da")),
            "{id}: {shown}"
        );
    }
    assert_eq!(dd(&page, "report-started"), typed);
    let lasted = dd(&page, "report-lasted");
    assert!(
        lasted == "3 t. 10 min." || lasted == "3 t. 11 min.",
        "{lasted}"
    );
}

#[tokio::test]
async fn alerting_the_call_tree_a_second_time_asks_first_saying_when_and_to_how_many() {
    let app = approved_app(helpers::sqlite_db()).await;
    let incident = location(&open(&app, "Ransomware", "", &["filservere"]).await);
    let alert = format!("{incident}/alert");
    let db = app.app.as_ref().unwrap().db.clone();
    let alerts = || {
        let db = db.clone();
        async move {
            beredskab::store::outbox::recent(&db, None, 500)
                .await
                .unwrap()
                .iter()
                .filter(|m| m.kind == "alert")
                .count()
        }
    };
    // The first alert goes at once, and the page says so.
    let response = app.post_form(&alert, &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let first = alerts().await;
    assert!(first > 1);
    // The page's script fetching its live part does not take the message meant for the page.
    let response = app
        .client
        .get(format!("{}{incident}?part=live", app.address))
        .header("X-Requested-With", "fetch")
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .text()
            .await
            .unwrap()
            .contains("Varslingstræet er varslet:")
    );
    let (_, page) = app.page(&incident).await;
    assert!(
        page.contains(&format!(
            "Varslingstræet er varslet: {first} personer. Siden viser, hvem der har kvitteret."
        )),
        "{page}"
    );

    // The second is asked about: when, by whom and to how many it went.
    let response = app.post_form(&alert, &[]).await;
    assert_eq!(response.status().as_u16(), 200);
    let question = response.text().await.unwrap();
    assert!(question.contains("Varslingstræet er allerede varslet i denne hændelse."));
    assert!(
        question.contains(&format!(" af Anne Kjær: {first} personer.")),
        "{question}"
    );
    assert!(
        question.contains(&format!("{first} personer har ikke kvitteret endnu.")),
        "{question}"
    );
    assert_eq!(
        alerts().await,
        first,
        "nothing sent without the confirmation"
    );
    let (status, page) = app.page(&alert).await;
    assert_eq!(status, 200);
    assert!(page.contains("Varsl varslingstræet igen?"));
    // A script that posts it is refused rather than asked.
    let csrf = app.csrf().await;
    let response = app
        .client
        .post(format!("{}{alert}", app.address))
        .header("X-Requested-With", "fetch")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 409);
    assert_eq!(alerts().await, first);

    let response = app.post_form(&alert, &[("confirmed", "1")]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(alerts().await, 2 * first);
}

#[tokio::test]
async fn the_offline_runbook_folds_each_system_and_prints_them_whole() {
    let app = approved_app(helpers::sqlite_db()).await;
    let html = std::fs::read_to_string(app.runbook_dir.join("beredskabsplan-example-kommune.html"))
        .expect("the runbook written on approval");
    let systems = std::fs::read_dir(helpers::example_plan().join("systems"))
        .unwrap()
        .count();
    // Closed on screen: the name and the horizons are what shows.
    assert_eq!(
        html.matches("<details class=\"system-fold\"><summary><h3 id=\"sys-")
            .count(),
        systems
    );
    assert!(!html.contains("<details class=\"system-fold\" open"));
    // The contents point into each fold, which the browser opens for the link.
    let ad = position(&html, "<div class=\"system-body\" id=\"sys-ad\">");
    assert!(position(&html, "<a href=\"#sys-ad\">Active Directory</a>") < ad);
    let fold = html[..ad].rfind("<details class=\"system-fold\">").unwrap();
    assert!(!html[fold..ad].contains("</details>"));
    // Printed, every fold is shown whole (by CSS: the file has no script).
    assert!(html.contains("details.system-fold::details-content"));
    assert!(!html.contains("<script"));
    // Each system's neighbourhood, as a list whose links stay in the file.
    assert!(
        html.contains("<li id=\"nb-ad\"><a href=\"#sys-ad\"><strong>Active Directory</strong></a>")
    );
}
