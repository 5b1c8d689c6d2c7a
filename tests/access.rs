//! Every route × every role: who is let in and who gets 403 (or the login page). The server
//! checks the role on each route; this walks the whole matrix.

mod helpers;

use helpers::{ADMIN_PASSWORD, TestApp, spawn_app};

/// The accounts tried: one per role, plus nobody signed in.
const ROLES: [(&str, &str); 7] = [
    ("anonymous", ""),
    ("administrator", "admin"),
    ("approver", "mette-holm"),
    ("coordinator", "lars-nielsen"),
    ("system-owner", "jesper-moeller"),
    ("incident-lead", "anne-kjaer"),
    ("viewer", "michael-skov"),
];

const SIGNED_IN: &[&str] = &[
    "administrator",
    "approver",
    "coordinator",
    "system-owner",
    "incident-lead",
    "viewer",
];
const PLAN_EDITORS: &[&str] = &["administrator", "coordinator"];
/// jesper-moeller owns vmware.
const VMWARE_EDITORS: &[&str] = &["administrator", "coordinator", "system-owner"];
/// Allowed, and then told the drill does not exist; the others are refused before that.
const PLAN_EDITORS_404: &[&str] = &["administrator", "coordinator"];
const INCIDENT_LEADS: &[&str] = &["administrator", "coordinator", "incident-lead"];
const AUDIT_READERS: &[&str] = &["administrator", "approver", "coordinator"];
const APPROVERS: &[&str] = &["approver"];
const ADMINS: &[&str] = &["administrator"];

enum Body {
    None,
    /// A form with the session's CSRF token and these fields.
    Form(&'static [(&'static str, &'static str)]),
    /// JSON with the session's CSRF token in the header.
    Json(&'static str),
}

/// (method, path, body, who may).
fn routes() -> Vec<(&'static str, &'static str, Body, &'static [&'static str])> {
    use Body::*;
    vec![
        ("GET", "/", None, SIGNED_IN),
        ("GET", "/plans/example-kommune", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/systems/ad", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/sections", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/versions", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/versions/diff?from=draft&to=draft",
            None,
            SIGNED_IN,
        ),
        ("GET", "/my", None, SIGNED_IN),
        ("GET", "/account", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/systems/vmware/edit",
            None,
            VMWARE_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/systems/vmware/edit",
            Form(&[("name", "")]),
            VMWARE_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/systems/vmware/reviewed",
            Form(&[]),
            VMWARE_EDITORS,
        ),
        (
            "GET",
            "/plans/example-kommune/systems/loen/edit",
            None,
            PLAN_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/systems/loen/edit",
            Form(&[("name", "")]),
            PLAN_EDITORS,
        ),
        (
            "GET",
            "/plans/example-kommune/sections/edit",
            None,
            PLAN_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/sections/edit",
            Form(&[("call_tree", "nobody")]),
            PLAN_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/approve",
            Form(&[("comment", "matrix")]),
            APPROVERS,
        ),
        ("GET", "/plans/example-kommune/people", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/people/new",
            None,
            PLAN_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/people/new",
            Form(&[("id", "")]),
            PLAN_EDITORS,
        ),
        (
            "GET",
            "/plans/example-kommune/people/anne-kjaer/edit",
            None,
            PLAN_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/people/anne-kjaer/edit",
            Form(&[("name", "")]),
            PLAN_EDITORS,
        ),
        ("GET", "/plans/example-kommune/drills", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/drills/new?scenario=ad-nede",
            None,
            PLAN_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/drills/new?scenario=ad-nede",
            Form(&[("title", "")]),
            PLAN_EDITORS,
        ),
        ("GET", "/outbox", None, PLAN_EDITORS),
        ("POST", "/drills/999/cancel", Form(&[]), PLAN_EDITORS_404),
        ("GET", "/drills/999/edit", None, PLAN_EDITORS_404),
        (
            "POST",
            "/drills/999/edit",
            Form(&[("title", "x")]),
            PLAN_EDITORS_404,
        ),
        ("GET", "/plans/example-kommune/actions", None, SIGNED_IN),
        // No such occurrence: signed in, everyone is told so; nobody else gets that far.
        ("GET", "/occurrences/999/report.html", None, SIGNED_IN),
        ("POST", "/occurrences/999/start", Form(&[]), SIGNED_IN),
        ("GET", "/plans/example-kommune/runbook", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/runbook.html",
            None,
            SIGNED_IN,
        ),
        ("GET", "/plans/example-kommune/pocket", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/incidents", None, SIGNED_IN),
        (
            "POST",
            "/plans/example-kommune/incidents",
            Form(&[("title", "")]),
            INCIDENT_LEADS,
        ),
        ("GET", "/incidents/999", None, SIGNED_IN),
        ("GET", "/incidents/999/live", None, SIGNED_IN),
        ("GET", "/incidents/999/report", None, SIGNED_IN),
        (
            "POST",
            "/incidents/999/ticks",
            Form(&[("step", "0")]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/incidents/999/actions",
            Form(&[("title", "x")]),
            INCIDENT_LEADS,
        ),
        ("GET", "/plans/example-kommune/dashboard", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/report/2025", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/report/2025/download",
            None,
            SIGNED_IN,
        ),
        ("GET", "/plans/example-kommune/picture", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/completeness",
            None,
            SIGNED_IN,
        ),
        (
            "GET",
            "/plans/example-kommune/evidence",
            None,
            AUDIT_READERS,
        ),
        ("GET", "/plans/example-kommune/calendar", None, SIGNED_IN),
        (
            "POST",
            "/plans/example-kommune/calendar/feed",
            Form(&[]),
            SIGNED_IN,
        ),
        ("GET", "/audit", None, AUDIT_READERS),
        ("GET", "/audit.csv", None, AUDIT_READERS),
        ("GET", "/admin/accounts", None, ADMINS),
        (
            "POST",
            "/admin/accounts",
            Form(&[
                ("username", "x y"),
                ("display_name", ""),
                ("role", "viewer"),
            ]),
            ADMINS,
        ),
        ("GET", "/admin/accounts/1", None, ADMINS),
        ("GET", "/api/v1/plans", None, SIGNED_IN),
        ("GET", "/api/v1/plans/example-kommune", None, SIGNED_IN),
        (
            "GET",
            "/api/v1/plans/example-kommune/systems",
            None,
            SIGNED_IN,
        ),
        (
            "GET",
            "/api/v1/plans/example-kommune/systems/vmware",
            None,
            SIGNED_IN,
        ),
        (
            "PUT",
            "/api/v1/plans/example-kommune/systems/vmware",
            Json("vmware"),
            VMWARE_EDITORS,
        ),
        (
            "PUT",
            "/api/v1/plans/example-kommune/systems/loen",
            Json("loen"),
            PLAN_EDITORS,
        ),
        (
            "GET",
            "/api/v1/plans/example-kommune/people",
            None,
            SIGNED_IN,
        ),
        (
            "GET",
            "/api/v1/plans/example-kommune/versions",
            None,
            SIGNED_IN,
        ),
        (
            "POST",
            "/api/v1/plans/example-kommune/versions",
            Json("{}"),
            APPROVERS,
        ),
        (
            "GET",
            "/api/v1/plans/example-kommune/diff?from=draft&to=draft",
            None,
            SIGNED_IN,
        ),
        (
            "GET",
            "/api/v1/plans/example-kommune/findings",
            None,
            SIGNED_IN,
        ),
    ]
}

async fn request(app: &TestApp, method: &str, path: &str, body: &Body) -> u16 {
    let url = format!("{}{path}", app.address);
    let csrf = match body {
        Body::None => String::new(),
        _ => app.csrf_or_empty().await,
    };
    let request = app.client.request(method.parse().unwrap(), &url);
    let request = match body {
        Body::None => request,
        Body::Form(fields) => {
            let mut all = vec![("csrf", csrf.as_str())];
            all.extend_from_slice(fields);
            request.form(&all)
        }
        Body::Json(what) => {
            // A system's own current JSON (read as the administrator), or the literal.
            let json = match *what {
                "vmware" | "loen" => system_json(app, what).await,
                literal => literal.to_string(),
            };
            request
                .header("x-csrf-token", &csrf)
                .header("content-type", "application/json")
                .body(json)
        }
    };
    request.send().await.unwrap().status().as_u16()
}

async fn system_json(app: &TestApp, system: &str) -> String {
    let admin = app.second_client();
    admin.login("admin", ADMIN_PASSWORD).await;
    admin
        .get(&format!("/api/v1/plans/example-kommune/systems/{system}"))
        .await
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_route_lets_in_exactly_the_roles_it_should() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    let mut wrong = Vec::new();
    for (role, username) in ROLES {
        let client = app.second_client();
        match username {
            "" => {}
            "admin" => client.login("admin", ADMIN_PASSWORD).await,
            demo => client.login_demo(demo).await,
        }
        for (method, path, body, allowed) in routes() {
            let status = request(&client, method, path, &body).await;
            let api = path.starts_with("/api/");
            // Nobody signed in: pages send to the login page, the API answers 401, and a
            // change without a session has no CSRF token to show, so it is refused first.
            let expected_denial = match (role, api, method) {
                ("anonymous", _, "POST" | "PUT") => 403,
                ("anonymous", false, _) => 303,
                ("anonymous", true, _) => 401,
                _ => 403,
            };
            let ok = if allowed.contains(&role) {
                // Let in: the page, a redirect after a change, or the input's own refusal.
                [200, 201, 303, 404, 409, 422].contains(&status)
            } else {
                status == expected_denial
            };
            if !ok {
                wrong.push(format!(
                    "{role:<14} {method:<4} {path}: {status} (allowed: {})",
                    allowed.contains(&role)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
}
