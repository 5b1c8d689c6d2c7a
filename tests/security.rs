//! Security sweeps over the whole server: every route is in the access matrix, every change
//! needs the session's CSRF token (and a form without it is refused with a page that says so),
//! every page carries the security headers, stored script in every text field comes out escaped
//! (pages, offline copy, reports, mail), and injection attempts through every filter change
//! nothing.

mod helpers;

use std::collections::HashMap;

use helpers::routes::{Body, routes};
use helpers::{TestApp, encode, form_fields, location, set, unescape};

/// Script in two forms: a script element and an event handler on an element.
const PAYLOAD: &str = r#"<script>alert("xss")</script><img src=x onerror=alert(1)>"#;
/// What must never appear unescaped.
const RAW: [&str; 2] = ["<script>alert(", "<img src=x onerror"];

/// `(method, pattern)` of every route the server's routers declare, read from the source, with
/// the `/api/v1` prefix the API router is nested under.
fn declared_routes() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let web = helpers::repo().join("src/web");
    let mut files = Vec::new();
    let mut folders = vec![web.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    for path in files {
        let source = std::fs::read_to_string(&path).unwrap();
        let prefix = if path.starts_with(web.join("api")) {
            "/api/v1"
        } else {
            ""
        };
        let mut rest = source.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let (mut depth, mut end) = (1, 0);
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let call = &rest[..end];
            let pattern = call.split('"').nth(1).unwrap();
            for method in ["get", "post", "put", "delete"] {
                if call.contains(&format!("{method}(")) {
                    out.push((method.to_uppercase(), format!("{prefix}{pattern}")));
                }
            }
        }
    }
    out
}

/// Whether a concrete path (query left out) fits a route pattern with `{name}` segments.
fn fits(pattern: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap();
    let (p, q): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == q.len()
        && p.iter().zip(&q).all(|(a, b)| {
            a == b
                || (a.starts_with('{') && a.ends_with('}'))
                || (a.contains('{') && {
                    // `{file}` with a suffix in the path, such as `{id}.ics`.
                    let literal_end = &a[a.find('}').unwrap() + 1..];
                    b.ends_with(literal_end)
                })
        })
}

#[test]
fn every_route_of_the_server_is_in_the_access_matrix() {
    // Signing in is the one change made before there is a session: its CSRF token comes from
    // the login page (tests/login.rs tries wrong passwords and throttling).
    let outside = [("POST", "/login")];
    let declared: Vec<_> = declared_routes()
        .into_iter()
        .filter(|(m, p)| !outside.contains(&(m.as_str(), p.as_str())))
        .collect();
    assert!(declared.len() > 80, "only {} routes found", declared.len());
    let matrix = routes();
    let missing: Vec<String> = declared
        .iter()
        .filter(|(method, pattern)| {
            !matrix
                .iter()
                .any(|(m, path, _, _)| m == method && fits(pattern, path))
        })
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from tests/helpers/routes.rs:\n{}",
        missing.join("\n")
    );
}

/// One signed-in client per role, by the role names of the matrix.
async fn clients(app: &TestApp) -> HashMap<&'static str, TestApp> {
    let mut out = HashMap::new();
    for (role, username) in helpers::routes::ROLES {
        if !username.is_empty() {
            out.insert(role, app.signed_in(username).await);
        }
    }
    out
}

/// Every row of every table but the sessions, to prove nothing was written.
async fn contents(url: &str) -> Vec<(String, Vec<String>)> {
    let db = beredskab::store::connect(url).await.unwrap();
    let mut dump = beredskab::store::backup::dump(&db).await.unwrap();
    dump.retain(|(table, _)| table != "sessions");
    dump
}

#[tokio::test]
async fn every_change_without_the_sessions_csrf_token_is_refused_and_changes_nothing() {
    let db = helpers::sqlite_db();
    let url = db.url.clone();
    let app = TestApp::spawn_on(db, &helpers::plans()).await;
    let clients = clients(&app).await;
    // A token that is valid, but for another session.
    let stranger = app.signed_in("anne-kjaer").await;
    let foreign = stranger.csrf().await;
    let before = contents(&url).await;
    let mut wrong = Vec::new();
    let mut tried = 0;
    for (method, path, body, allowed) in routes() {
        if method == "GET" || allowed.contains(&"anonymous") {
            continue;
        }
        // A role that may make the change, so that only the token can stop it.
        let client = &clients[allowed[0]];
        let url = format!("{}{path}", client.address);
        for token in [None, Some(foreign.as_str())] {
            let request = client.client.request(method.parse().unwrap(), &url);
            let request = match &body {
                Body::Form(fields) => {
                    let mut all: Vec<(&str, &str)> = fields.to_vec();
                    if let Some(t) = token {
                        all.push(("csrf", t));
                    }
                    request.form(&all)
                }
                Body::Json(_) => {
                    let r = request
                        .header("content-type", "application/json")
                        .body(r#"{"name": "changed"}"#);
                    match token {
                        Some(t) => r.header("x-csrf-token", t),
                        None => r,
                    }
                }
                Body::None => request,
            };
            let status = request.send().await.unwrap().status().as_u16();
            tried += 1;
            if status != 403 {
                wrong.push(format!("{method} {path} with token {token:?}: {status}"));
            }
        }
    }
    assert!(tried >= 70, "only {tried} changes tried");
    assert!(
        wrong.is_empty(),
        "changes let through:\n{}",
        wrong.join("\n")
    );
    assert!(before == contents(&url).await, "the database changed");
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    app.login_as("admin").await;
    let mut wrong = Vec::new();
    for (method, path, _, _) in routes() {
        if method != "GET" || path.ends_with("/live") {
            continue;
        }
        let response = app.get(path).await;
        let headers = response.headers();
        let header = |name: &str| {
            headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let csp = header("content-security-policy");
        let script = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src") || d.starts_with("default-src"))
            .unwrap_or("");
        let problems = [
            (header("x-content-type-options") != "nosniff", "nosniff"),
            (!csp.contains("frame-ancestors 'none'"), "frame-ancestors"),
            (
                csp.contains("'unsafe-inline'")
                    && !header("content-disposition").starts_with("attachment"),
                "unsafe-inline on a page",
            ),
            (
                script.contains("'unsafe-inline'") || script.contains("*"),
                "script-src",
            ),
            (!csp.contains("default-src"), "default-src"),
        ];
        for (bad, what) in problems {
            if bad {
                wrong.push(format!("{path}: {what} (CSP: {csp:?})"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every string under one of these keys in a system's JSON gets the payload.
const TEXT_KEYS: [&str; 8] = [
    "name",
    "description",
    "workaround",
    "verification",
    "contact",
    "text",
    "citizens",
    "staff",
];

fn poison(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if TEXT_KEYS.contains(&key.as_str()) && v.is_string() {
                    *v = serde_json::Value::String(format!("{key} {PAYLOAD}"));
                } else {
                    poison(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(poison),
        _ => {}
    }
}

#[tokio::test]
async fn script_stored_in_every_text_field_comes_out_escaped_everywhere() {
    let db = helpers::sqlite_db();
    let url = db.url.clone();
    let app = TestApp::spawn_on(db, &helpers::plans()).await;
    app.login_as("lars-nielsen").await;

    // The plan: every text field of a system, every plan section, a person's name.
    let api = "/api/v1/plans/example-kommune/systems/ad";
    let mut system = app.system_json("ad").await;
    poison(&mut system);
    let r = app.put_json(api, &system).await;
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let sections = "/plans/example-kommune/sections/edit";
    let (_, page) = app.page(sections).await;
    let mut fields = form_fields(&page, sections);
    for (name, value) in fields.iter_mut() {
        // The call tree and the channels name people and kinds: structured, not free text.
        if !["csrf", "revision", "call_tree", "channels"].contains(&name.as_str()) {
            *value = format!("{name} {PAYLOAD}");
        }
    }
    let r = app.submit(sections, &fields).await;
    let status = r.status().as_u16();
    let page = r.text().await.unwrap();
    let errors: Vec<&str> = page
        .split("class=\"error\"")
        .skip(1)
        .map(|e| &e[..e.len().min(200)])
        .collect();
    assert_eq!(status, 303, "{errors:#?}");
    let person = "/plans/example-kommune/people/sofie-andersen/edit";
    let (_, page) = app.page(person).await;
    let mut fields = form_fields(&page, person);
    set(&mut fields, "name", &format!("Sofie {PAYLOAD}"));
    let r = app.submit(person, &fields).await;
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    // Approved, so that the runbook and its offline copy show it.
    let approver = app.signed_in("mette-holm").await;
    let r = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[
                ("comment", &format!("comment {PAYLOAD}")),
                ("confirmed", "1"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);

    // A drill: title and place, a note and a record while it runs, the hot wash.
    let path = "/plans/example-kommune/drills/new?scenario=ad-nede";
    let (_, page) = app.page(path).await;
    let mut fields = form_fields(&page, path);
    let when = (chrono::Local::now() + chrono::Duration::days(7))
        .format("%Y-%m-%dT09:00")
        .to_string();
    set(&mut fields, "at", &when);
    set(&mut fields, "title", &format!("title {PAYLOAD}"));
    set(&mut fields, "location", &format!("location {PAYLOAD}"));
    let r = app.submit(path, &fields).await;
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    let drill = location(&r);
    let occurrence = app.occurrence_of(&drill).await;
    for (to, fields) in [
        (
            format!("{occurrence}/notes"),
            vec![("text", format!("note {PAYLOAD}"))],
        ),
        (
            format!("{occurrence}/systems/ad"),
            vec![
                ("found", "yes".to_string()),
                ("followed", "yes".to_string()),
                ("minutes", "30".to_string()),
                ("findings", format!("findings {PAYLOAD}")),
            ],
        ),
        (
            format!("{occurrence}/evaluation"),
            vec![
                ("went_well", format!("went_well {PAYLOAD}")),
                ("went_badly", format!("went_badly {PAYLOAD}")),
                ("lessons", format!("lessons {PAYLOAD}")),
            ],
        ),
        (
            format!("{occurrence}/actions"),
            vec![
                ("title", format!("action {PAYLOAD}")),
                ("owner", "sofie-andersen".to_string()),
                (
                    "due",
                    (chrono::Local::now() + chrono::Duration::days(30))
                        .format("%Y-%m-%d")
                        .to_string(),
                ),
                ("system", "ad".to_string()),
            ],
        ),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.post_form(&to, &fields).await;
        assert!(
            [200, 303].contains(&r.status().as_u16()),
            "{to}: {}",
            r.text().await.unwrap()
        );
    }

    // An incident: title and criterion, a note, an alert by mail.
    let r = app
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", &format!("incident {PAYLOAD}")),
                ("criterion", &format!("criterion {PAYLOAD}")),
                ("started", ""),
                ("down", "ad"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let incident = location(&r);
    for (to, fields) in [
        (
            format!("{incident}/notes"),
            vec![("text", format!("note {PAYLOAD}"))],
        ),
        (format!("{incident}/alert"), vec![]),
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = app.post_form(&to, &fields).await;
        assert!([200, 303].contains(&r.status().as_u16()), "{to}");
    }

    // Every page, file and report that shows these fields.
    let year = chrono::Local::now().format("%Y").to_string();
    // A change after the approval, so that the diff shows the approved text as "before".
    let mut system = app.system_json("ad").await;
    system["description"] = serde_json::Value::String("changed after the approval".into());
    assert_eq!(app.put_json(api, &system).await.status().as_u16(), 200);
    let pages = [
        "/plans/example-kommune/completeness".to_string(),
        "/my".into(),
        "/plans/example-kommune".into(),
        "/plans/example-kommune/systems/ad".into(),
        "/plans/example-kommune/sections".into(),
        "/plans/example-kommune/people".into(),
        "/plans/example-kommune/versions".into(),
        "/plans/example-kommune/versions/diff?from=1&to=draft".into(),
        "/audit".into(),
        drill.clone(),
        occurrence.clone(),
        format!("{occurrence}/report"),
        format!("{occurrence}/report.html"),
        "/plans/example-kommune/actions".into(),
        incident.clone(),
        format!("{incident}/report"),
        "/plans/example-kommune/incidents".into(),
        "/plans/example-kommune/runbook".into(),
        "/plans/example-kommune/runbook.html".into(),
        "/plans/example-kommune/pocket".into(),
        "/plans/example-kommune/dashboard".into(),
        format!("/plans/example-kommune/report/{year}"),
        format!("/plans/example-kommune/report/{year}/download"),
        "/plans/example-kommune/picture".into(),
        "/plans/example-kommune/evidence".into(),
        "/plans/example-kommune/calendar".into(),
        "/outbox".into(),
    ];
    // Pages that may or may not show these fields: checked for escaping only.
    let may_show = ["/plans/example-kommune/completeness", "/my"];
    let mut wrong = Vec::new();
    for path in &pages {
        let (status, body) = app.page(path).await;
        if status != 200 {
            wrong.push(format!("{path}: {status}"));
            continue;
        }
        for raw in RAW {
            if body.contains(raw) {
                wrong.push(format!("{path}: unescaped {raw:?}"));
            }
        }
        if !unescape(&body).contains(PAYLOAD) && !may_show.contains(&path.as_str()) {
            wrong.push(format!("{path}: the stored text is not shown at all"));
        }
    }
    // The mail: subjects and both bodies of every message queued.
    let conn = beredskab::store::connect(&url).await.unwrap();
    let messages = beredskab::store::outbox::recent(&conn, None, 1000)
        .await
        .unwrap();
    assert!(
        messages.iter().any(|m| m.kind == "invitation")
            && messages.iter().any(|m| m.kind == "alert"),
        "{:?}",
        messages.iter().map(|m| &m.kind).collect::<Vec<_>>()
    );
    for m in &messages {
        for raw in RAW {
            if m.body_html.contains(raw) {
                wrong.push(format!(
                    "mail {} ({}): unescaped {raw:?} in HTML",
                    m.id, m.kind
                ));
            }
        }
        if ["invitation", "alert"].contains(&m.kind.as_str())
            && !unescape(&m.body_html).contains(PAYLOAD)
        {
            wrong.push(format!(
                "mail {} ({}): the stored text is not in it",
                m.id, m.kind
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn injection_through_every_filter_and_search_is_treated_as_text() {
    let db = helpers::sqlite_db();
    let url = db.url.clone();
    let app = TestApp::spawn_on(db, &helpers::plans()).await;
    app.login_as("admin").await;
    // Something in the audit log to find.
    let r = app
        .post_form("/plans/example-kommune/systems/ad/reviewed", &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let attempts = [
        "' OR '1'='1",
        "ad' OR 1=1 --",
        "\"; DROP TABLE systems; --",
        "%' UNION SELECT password_hash FROM accounts --",
        "1; DELETE FROM audit_events",
        "%",
        "_",
        "\\",
        "\u{0}",
    ];
    let before = contents(&url).await;
    let filters = [
        "/plans/example-kommune?q=",
        "/plans/example-kommune?crit=",
        "/plans/example-kommune?only=",
        "/plans/example-kommune?sort=",
        "/plans/example-kommune?dir=",
        "/audit?plan=",
        "/audit?actor=",
        "/audit?system=",
        "/audit?from=",
        "/audit?to=",
        "/audit.csv?system=",
        "/plans/example-kommune/actions?show=",
        "/plans/example-kommune/versions/diff?to=draft&from=",
        "/plans/example-kommune/picture?system=",
        "/api/v1/plans/example-kommune/diff?to=draft&from=",
        "/plans/example-kommune/report/",
        "/plans/",
        "/api/v1/plans/example-kommune/systems/",
    ];
    let mut wrong = Vec::new();
    for filter in filters {
        for attempt in attempts {
            let url = format!("{}{filter}{}", app.address, encode(attempt));
            let response = app.client.get(&url).send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            if status >= 500 {
                wrong.push(format!("{filter}{attempt:?}: {status}"));
            }
            if body.contains("$argon2") {
                wrong.push(format!(
                    "{filter}{attempt:?}: a password hash in the answer"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A filter that matched everything through injection would list the whole audit log.
    let (_, all) = app.page("/audit.csv").await;
    let (_, injected) = app
        .page(&format!("/audit.csv?system={}", encode("ad' OR '1'='1")))
        .await;
    assert!(all.lines().count() > 1);
    assert_eq!(
        injected.lines().count(),
        1,
        "only the header line: {injected}"
    );
    assert!(before == contents(&url).await, "the database changed");
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    app.login_as("jesper-moeller").await;
    let mut fields = app.system_form("example-kommune", "vmware").await;
    set(&mut fields, "name", "Changed without a token");
    for token in ["", "0000"] {
        set(&mut fields, "csrf", token);
        let response = app
            .submit("/plans/example-kommune/systems/vmware/edit", &fields)
            .await;
        assert_eq!(response.status().as_u16(), 403);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("Formularen er udløbet")
        );
    }
    fields.retain(|(k, _)| k != "csrf");
    let response = app
        .submit("/plans/example-kommune/systems/vmware/edit", &fields)
        .await;
    assert_eq!(response.status().as_u16(), 403);
    let (_, page) = app.page("/plans/example-kommune/systems/vmware").await;
    assert!(!page.contains("Changed without a token"));
}
