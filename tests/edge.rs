//! The HTTP edge as a hostile client meets it: redirect targets, errors of the API, the
//! authorization header, the login throttle, control characters in text, and plan folders that
//! hold something other than files.

mod helpers;

use helpers::{ADMIN_PASSWORD, csrf_of, encode, location, spawn_app};

/// `next` values a browser could be sent away with: tabs, CR, LF and NUL (which browsers drop
/// or choke on), backslashes (which browsers read as `/`), encoded forms, schemes and hosts.
const REDIRECT_VARIANTS: &[&str] = &[
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\r\n/evil.example",
    "\t//evil.example",
    "\n//evil.example",
    " //evil.example",
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "/\t\\evil.example",
    "\n/\\evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "https:evil.example",
    "https://evil.example",
    "http:/\\evil.example",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "\njavascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\0/evil.example",
    "\0//evil.example",
    "/\u{b}/evil.example",
    "/\u{c}/evil.example",
    "/\u{7f}/evil.example",
    "/\u{85}/evil.example",
    "/\r\nSet-Cookie: x=y",
    "/\nx",
    "\u{3000}//evil.example",
    "/\u{ff0f}evil.example",
    "//evil.example@127.0.0.1",
    "/.//evil.example",
    "/..//evil.example",
    "@evil.example",
    "evil.example",
    "/ /evil.example",
    "/plans/example-kommune?crit=1",
    "/æøå",
    "",
];

/// Follows `location` from `base` as a browser would (WHATWG URL parsing) and says whether it
/// stays on this server.
fn stays_here(base: &str, location: &str) -> bool {
    let base = url::Url::parse(base).unwrap();
    base.join(location)
        .is_ok_and(|target| target.origin() == base.origin())
}

#[tokio::test]
async fn every_redirect_target_stays_on_this_server_and_bad_ones_go_to_the_start_page() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    let base = format!("{}/", app.address);
    let mut wrong = Vec::new();
    for next in REDIRECT_VARIANTS {
        // The language switch, without signing in.
        let response = app.get(&format!("/lang/en?next={}", encode(next))).await;
        let status = response.status().as_u16();
        let to = location(&response);
        if status != 303 || !(to == "/" || stays_here(&base, &to)) {
            wrong.push(format!("/lang {next:?}: {status} -> {to:?}"));
        }
        // Control characters and backslashes are bad input, whatever they would have meant.
        if (next.chars().any(char::is_control) || next.contains('\\')) && to != "/" {
            wrong.push(format!("/lang {next:?}: {to:?}, not /"));
        }
        // The login form keeps `next` in a hidden field; after a correct password the browser
        // is sent there. A client may also post any `next` it likes.
        let (status, page) = app
            .second_client()
            .page(&format!("/login?next={}", encode(next)))
            .await;
        assert_eq!(status, 200, "{next:?}");
        let kept = helpers::form_fields(&page, "/login")
            .into_iter()
            .find(|(k, _)| k == "next")
            .map(|(_, v)| helpers::unescape(&v))
            .unwrap_or_default();
        for posted in [kept.as_str(), next] {
            let client = app.second_client();
            let (_, page) = client.page("/login").await;
            let response = client
                .client
                .post(format!("{}/login", app.address))
                .form(&[
                    ("csrf", csrf_of(&page).as_str()),
                    ("username", "admin"),
                    ("password", ADMIN_PASSWORD),
                    ("next", posted),
                ])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let to = location(&response);
            if status != 303 || !(to == "/" || stays_here(&base, &to)) {
                wrong.push(format!("login {posted:?}: {status} -> {to:?}"));
            }
            // The session was made despite the odd `next`.
            let (status, _) = client.page("/plans/example-kommune").await;
            assert_eq!(status, 200, "signed in after next={posted:?}");
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The good ones arrive where they were meant to.
    let response = app
        .get(&format!(
            "/lang/da?next={}",
            encode("/plans/example-kommune?crit=1")
        ))
        .await;
    assert_eq!(location(&response), "/plans/example-kommune?crit=1");
    let response = app.get(&format!("/lang/da?next={}", encode("/æøå"))).await;
    assert_eq!(location(&response), "/%C3%A6%C3%B8%C3%A5");
    for bad in [
        "/\t/evil.example",
        "/\r\nSet-Cookie: x=y",
        "/\\evil",
        "//evil",
    ] {
        let response = app.get(&format!("/lang/da?next={}", encode(bad))).await;
        assert_eq!(location(&response), "/", "{bad:?}");
        assert!(
            response
                .headers()
                .get("set-cookie")
                .is_none_or(|c| { !c.to_str().unwrap_or("").starts_with("x=") })
        );
    }
}

#[tokio::test]
async fn every_api_error_is_json_with_a_message() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    let token = app.api_token("lars-nielsen").await;
    let api = |path: &str| format!("{}/api/v1{path}", app.address);
    let json_error = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: serde_json::Value = response.json().await.unwrap_or_else(|e| {
            panic!("{status}: not JSON: {e}");
        });
        let message = body["error"].as_str().unwrap_or_default().to_string();
        assert!(!message.is_empty(), "{status}: {body}");
        (status, headers, message)
    };
    // An unknown route, inside and outside the version.
    for path in ["/api/v1/nothing", "/api/v2/plans", "/api/"] {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, _, _) = json_error(response).await;
        assert_eq!(status, 404, "{path}");
    }
    // A method the route does not take names those it does.
    let response = app
        .client
        .delete(api("/plans/example-kommune/systems/ad"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, headers, message) = json_error(response).await;
    assert_eq!(status, 405);
    assert!(headers.contains_key("allow"));
    assert!(
        message.contains("GET") && message.contains("PUT"),
        "{message} {headers:?}"
    );
    // A body over the limit, with a token and with the session.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let response = app
        .client
        .put(api("/plans/example-kommune/systems/ad"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let (status, _, message) = json_error(response).await;
    assert_eq!(status, 413);
    assert!(message.contains("too large"), "{message}");
    let browser = app.signed_in("lars-nielsen").await;
    let csrf = browser.csrf().await;
    let response = browser
        .client
        .put(api("/plans/example-kommune/systems/ad"))
        .header("x-csrf-token", csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, _, _) = json_error(response).await;
    assert_eq!(status, 413);
    // A target or headers longer than any request of ours needs.
    let response = app
        .client
        .get(api(&format!("/plans/{}", "p".repeat(9000))))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, _, _) = json_error(response).await;
    assert_eq!(status, 414);
    let mut request = app.client.get(api("/plans")).bearer_auth(&token);
    for i in 0..40 {
        request = request.header(format!("x-padding-{i}"), "y".repeat(1000));
    }
    let (status, _, _) = json_error(request.send().await.unwrap()).await;
    assert_eq!(status, 431);
    // Without a token.
    let response = app.client.get(api("/plans")).send().await.unwrap();
    let (status, headers, _) = json_error(response).await;
    assert_eq!(status, 401);
    assert_eq!(headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn the_authorization_scheme_is_read_without_regard_to_case() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    let token = app.api_token("michael-skov").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = app
            .client
            .get(format!("{}/api/v1/plans", app.address))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{scheme}");
    }
    for wrong in [
        format!("Basic {token}"),
        format!("Bearer{token}"),
        token.clone(),
    ] {
        let response = app
            .client
            .get(format!("{}/api/v1/plans", app.address))
            .header("authorization", wrong.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{wrong}");
    }
}
