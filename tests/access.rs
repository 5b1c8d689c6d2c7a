//! Every route × every role: who is let in and who gets 403 (or the login page). The server
//! checks the role on each route; this walks the whole matrix.

mod helpers;

use helpers::TestApp;
use helpers::routes::{ROLES, request, routes};

#[tokio::test]
async fn every_route_lets_in_exactly_the_roles_it_should() {
    let app = TestApp::spawn().await;
    let mut wrong = Vec::new();
    for (role, username) in ROLES {
        let client = app.signed_in(username).await;
        for (method, path, body, allowed) in routes() {
            let status = request(&client, method, path, &body).await;
            // The service worker's list of pages to keep answers as the API does.
            let api = path.starts_with("/api/") || path == "/offline.json";
            // Nobody signed in: pages send to the login page, the API answers 401, and a
            // change without a session has no CSRF token to show, so it is refused first.
            let expected_denial = match (role, api, method) {
                ("anonymous", _, "POST" | "PUT") => 403,
                ("anonymous", false, _) => 303,
                ("anonymous", true, _) => 401,
                _ => 403,
            };
            let ok = if allowed.contains(&role) && role == "anonymous" {
                [200, 303, 404].contains(&status)
            } else if allowed.contains(&role) {
                // Let in: the page, a redirect after a change, or the input's own refusal.
                [200, 201, 303, 404, 409, 410, 422].contains(&status)
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
