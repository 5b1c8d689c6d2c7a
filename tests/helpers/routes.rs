//! Every route of the server with the roles that may use it: the access matrix that
//! `tests/access.rs` walks and `tests/security.rs` sweeps for CSRF and headers.

use super::TestApp;

/// The accounts tried: one per role, plus nobody signed in.
pub const ROLES: [(&str, &str); 7] = [
    ("anonymous", ""),
    ("administrator", "admin"),
    ("approver", "mette-holm"),
    ("coordinator", "lars-nielsen"),
    ("system-owner", "jesper-moeller"),
    ("incident-lead", "anne-kjaer"),
    ("viewer", "michael-skov"),
];

pub const SIGNED_IN: &[&str] = &[
    "administrator",
    "approver",
    "coordinator",
    "system-owner",
    "incident-lead",
    "viewer",
];
pub const PLAN_EDITORS: &[&str] = &["administrator", "coordinator"];
/// jesper-moeller owns vmware.
pub const VMWARE_EDITORS: &[&str] = &["administrator", "coordinator", "system-owner"];
/// A drill, incident or occurrence that does not exist is not found for everyone signed in:
/// the plan it would belong to decides who may do what (tests/memberships.rs tries real ones of
/// a plan and of another).
pub const PLAN_EDITORS_404: &[&str] = SIGNED_IN;
pub const INCIDENT_LEADS: &[&str] = &["administrator", "coordinator", "incident-lead"];
pub const AUDIT_READERS: &[&str] = &["administrator", "approver", "coordinator"];
pub const APPROVERS: &[&str] = &["approver"];
pub const ADMINS: &[&str] = &["administrator"];
/// Public: nobody signed in is let in too.
pub const EVERYONE: &[&str] = &[
    "anonymous",
    "administrator",
    "approver",
    "coordinator",
    "system-owner",
    "incident-lead",
    "viewer",
];

pub enum Body {
    None,
    /// A form with the session's CSRF token and these fields.
    Form(&'static [(&'static str, &'static str)]),
    /// JSON with the session's CSRF token in the header.
    Json(&'static str),
}

/// A calendar feed address that was never issued.
const FEED: &str = "/calendar/0000000000000000000000000000000000000000000000000000000000000000.ics";

/// An acknowledgement link that was never sent.
const ACK: &str = "/k/999/AAAAAAAAAAAAAAAAAAAAAA";

/// (method, path, body, who may).
pub fn routes() -> Vec<(&'static str, &'static str, Body, &'static [&'static str])> {
    use Body::*;
    vec![
        ("GET", "/healthz", None, EVERYONE),
        ("GET", "/metrics", None, EVERYONE),
        ("GET", "/login", None, EVERYONE),
        // Sign-in through the identity provider: 404 here, where none is configured
        // (tests/oidc.rs has a provider).
        ("GET", "/auth/oidc/login", None, EVERYONE),
        ("GET", "/auth/oidc/callback", None, EVERYONE),
        ("GET", "/static/app.css", None, EVERYONE),
        ("GET", "/favicon.ico", None, EVERYONE),
        ("GET", "/manifest.webmanifest", None, EVERYONE),
        ("GET", "/sw.js", None, EVERYONE),
        ("GET", "/icons/icon-192.png", None, EVERYONE),
        ("GET", "/apple-touch-icon.png", None, EVERYONE),
        ("GET", "/offline.json", None, SIGNED_IN),
        ("GET", "/lang/en", None, EVERYONE),
        ("GET", "/api/v1/openapi.json", None, EVERYONE),
        // A feed address that was never issued: nobody learns more than 404.
        ("GET", FEED, None, EVERYONE),
        (
            "POST",
            "/account/password",
            Form(&[("current", "")]),
            SIGNED_IN,
        ),
        ("POST", "/account/token", Form(&[]), SIGNED_IN),
        // Another account's token or session, or none: allowed, and then told it does not exist.
        ("POST", "/account/tokens/999/revoke", Form(&[]), SIGNED_IN),
        (
            "POST",
            "/account/sessions/0000000000000000/end",
            Form(&[]),
            SIGNED_IN,
        ),
        ("POST", "/admin/accounts/999/end-access", Form(&[]), ADMINS),
        (
            "POST",
            "/account/second-factor/disable",
            Form(&[("code", "")]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/account/second-factor",
            Form(&[("code", "")]),
            SIGNED_IN,
        ),
        ("GET", "/account/second-factor", None, SIGNED_IN),
        // Without a password given first, the second step sends back to the login page.
        ("GET", "/login/code", None, EVERYONE),
        ("POST", "/login/code", Form(&[("code", "")]), SIGNED_IN),
        (
            "POST",
            "/admin/accounts/999/second-factor/remove",
            Form(&[]),
            ADMINS,
        ),
        (
            "POST",
            "/admin/accounts/999",
            Form(&[("display_name", "")]),
            ADMINS,
        ),
        (
            "POST",
            "/admin/accounts/999/password",
            Form(&[("password", "")]),
            ADMINS,
        ),
        ("GET", "/plans/example-kommune/report", None, SIGNED_IN),
        ("GET", "/drills/999", None, SIGNED_IN),
        (
            "POST",
            "/drills/999/reschedule",
            Form(&[("at", "")]),
            PLAN_EDITORS_404,
        ),
        ("GET", "/occurrences/999", None, SIGNED_IN),
        ("GET", "/occurrences/999/report", None, SIGNED_IN),
        ("GET", "/occurrences/999/report.json", None, SIGNED_IN),
        (
            "POST",
            "/occurrences/999/systems/ad",
            Form(&[("found", "yes")]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/occurrences/999/notes",
            Form(&[("text", "x")]),
            SIGNED_IN,
        ),
        ("POST", "/occurrences/999/close", Form(&[]), SIGNED_IN),
        ("GET", "/occurrences/999/close", None, SIGNED_IN),
        (
            "POST",
            "/occurrences/999/injects/0/play",
            Form(&[]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/occurrences/999/actions",
            Form(&[("title", "x")]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/occurrences/999/evaluation",
            Form(&[("went_well", "x")]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/actions/999/status",
            Form(&[("status", "done")]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/incidents/999/systems",
            Form(&[("system", "ad"), ("state", "down")]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/incidents/999/notes",
            Form(&[("text", "x")]),
            SIGNED_IN,
        ),
        (
            "POST",
            "/incidents/999/offline",
            Json(r#"{"actions":[]}"#),
            SIGNED_IN,
        ),
        ("POST", "/incidents/999/alert", Form(&[]), SIGNED_IN),
        ("POST", "/incidents/999/stand-down", Form(&[]), SIGNED_IN),
        ("POST", "/incidents/999/close", Form(&[]), SIGNED_IN),
        ("GET", "/incidents/999/close", None, SIGNED_IN),
        ("GET", "/incidents/999/alert", None, SIGNED_IN),
        ("GET", "/", None, SIGNED_IN),
        ("GET", "/plans/example-kommune", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/systems/ad", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/sections", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/versions", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/approve", None, APPROVERS),
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
            Form(&[("comment", "matrix"), ("confirmed", "1")]),
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
        ("GET", "/plans/example-kommune/webhooks", None, PLAN_EDITORS),
        (
            "POST",
            "/plans/example-kommune/webhooks",
            Form(&[("kind", "webhook"), ("url", "not an address")]),
            PLAN_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/webhooks/999/test",
            Form(&[]),
            PLAN_EDITORS,
        ),
        (
            "POST",
            "/plans/example-kommune/webhooks/999/remove",
            Form(&[]),
            PLAN_EDITORS,
        ),
        (
            "GET",
            "/plans/example-kommune/dispensations",
            None,
            SIGNED_IN,
        ),
        // Without a warning chosen: refused as input, for everyone signed in.
        (
            "POST",
            "/plans/example-kommune/dispensations",
            Form(&[]),
            SIGNED_IN,
        ),
        ("GET", "/plans/example-kommune/plan.xlsx", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/runbook.docx",
            None,
            SIGNED_IN,
        ),
        ("GET", "/plans/example-kommune/import", None, PLAN_EDITORS),
        // Not a file upload: refused as input for those who may import (tests/sheets.rs
        // uploads real sheets).
        (
            "POST",
            "/plans/example-kommune/import",
            Form(&[]),
            PLAN_EDITORS,
        ),
        // An upload that was never kept: gone, for those who may import.
        (
            "POST",
            "/plans/example-kommune/import/apply",
            Form(&[("upload", "none"), ("revision", "1")]),
            PLAN_EDITORS,
        ),
        // Columns chosen for an upload that was never kept: gone, for those who may import.
        (
            "POST",
            "/plans/example-kommune/import/columns",
            Form(&[("upload", "none")]),
            PLAN_EDITORS,
        ),
        ("GET", "/import/systemer-eksempel.csv", None, EVERYONE),
        (
            "GET",
            "/plans/example-kommune/dispensations.csv",
            None,
            SIGNED_IN,
        ),
        // One that does not exist: not found for everyone signed in.
        (
            "GET",
            "/plans/example-kommune/dispensations/999",
            None,
            SIGNED_IN,
        ),
        (
            "POST",
            "/plans/example-kommune/dispensations/999/decision",
            Form(&[("decision", "reject")]),
            APPROVERS,
        ),
        (
            "POST",
            "/plans/example-kommune/dispensations/999/withdraw",
            Form(&[]),
            SIGNED_IN,
        ),
        // An acknowledgement link that was never sent: not found, whoever asks.
        ("GET", ACK, None, EVERYONE),
        // Posting needs the session the link's page opened (tests/alerting.rs answers through
        // real links without signing in); without one it is refused as a forged form.
        ("POST", ACK, Form(&[("answer", "coming")]), SIGNED_IN),
        ("POST", "/drills/999/cancel", Form(&[]), PLAN_EDITORS_404),
        ("GET", "/drills/999/cancel", None, PLAN_EDITORS_404),
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
        ("GET", "/occurrences/999/report.docx", None, SIGNED_IN),
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
        ("GET", "/incidents/999/report.docx", None, SIGNED_IN),
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
            PLAN_EDITORS_404,
        ),
        ("GET", "/plans/example-kommune/dashboard", None, SIGNED_IN),
        ("GET", "/plans/example-kommune/report/2025", None, SIGNED_IN),
        (
            "GET",
            "/plans/example-kommune/report/2025/download",
            None,
            SIGNED_IN,
        ),
        (
            "GET",
            "/plans/example-kommune/report/2025/download.docx",
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
        ("GET", "/admin/accounts/999", None, ADMINS),
        ("GET", "/admin/groups", None, ADMINS),
        (
            "POST",
            "/admin/groups",
            Form(&[("group", ""), ("plan", "*"), ("role", "viewer")]),
            ADMINS,
        ),
        ("POST", "/admin/groups/999/remove", Form(&[]), ADMINS),
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
        (
            "GET",
            "/api/v1/plans/example-kommune/dispensations",
            None,
            SIGNED_IN,
        ),
        (
            "GET",
            "/api/v1/plans/example-kommune/dispensations/999",
            None,
            SIGNED_IN,
        ),
        // For vmware's warning with an empty justification: refused as input for those who may
        // ask for vmware, forbidden for the others.
        (
            "POST",
            "/api/v1/plans/example-kommune/dispensations",
            Json(
                r#"{"subject": {"kind": "finding", "code": "not-exercised", "systems": ["vmware"]}, "justification": "", "until": "2099-01-01"}"#,
            ),
            VMWARE_EDITORS,
        ),
        (
            "POST",
            "/api/v1/plans/example-kommune/dispensations/999/decision",
            Json(r#"{"approve": false}"#),
            APPROVERS,
        ),
        // Last: it ends the session the rows above use.
        ("POST", "/logout", Form(&[]), SIGNED_IN),
    ]
}

pub async fn request(app: &TestApp, method: &str, path: &str, body: &Body) -> u16 {
    respond(app, method, path, body).await.status().as_u16()
}

/// The response to `method path` with `body`, as `request` sends it.
pub async fn respond(app: &TestApp, method: &str, path: &str, body: &Body) -> reqwest::Response {
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
    request.send().await.unwrap()
}

async fn system_json(app: &TestApp, system: &str) -> String {
    let admin = app.signed_in("admin").await;
    admin.system_json(system).await.to_string()
}
