//! The HTTP edge as a hostile client meets it: redirect targets, errors of the API, the
//! authorization header, control characters in text, plan folders that hold something other
//! than files, compression as the client asks for it, and conditional requests (`ETag`, 304).

mod helpers;

use helpers::{ADMIN_PASSWORD, TestApp, encode, location};

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
    let app = TestApp::spawn().await;
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
            let response = client
                .submit_login("admin", ADMIN_PASSWORD, &[("next", posted)])
                .await;
            let status = response.status().as_u16();
            let to = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            if status != 303
                || !to
                    .as_deref()
                    .is_some_and(|to| to == "/" || stays_here(&base, to))
            {
                let body = response.text().await.unwrap_or_default();
                wrong.push(format!("login {posted:?}: {status} -> {to:?} {body:.300}"));
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
    let app = TestApp::spawn().await;
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
    let app = TestApp::spawn().await;
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

/// Runs `beredskab validate DIR --format json`, killed after 30 s so that a read that blocks
/// fails the test instead of hanging it.
fn validate_bounded(dir: &std::path::Path) -> (i32, serde_json::Value) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_beredskab"));
    command
        .args(["validate", dir.to_str().unwrap(), "--format", "json"])
        .env_remove("DATABASE_URL");
    let (code, out, _) = helpers::run_bounded(command, std::time::Duration::from_secs(30));
    let code = code.unwrap_or_else(|| panic!("validate {} did not finish in 30 s", dir.display()));
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
    )
}

#[cfg(unix)]
#[test]
fn a_plan_folder_holding_links_out_pipes_or_folders_for_files_is_refused_naming_each_path() {
    use std::os::unix::fs::symlink;
    let parent = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(parent.path(), "mini");
    let systems = dir.join("systems");
    // Outside the folder: a secret the link would read, and /dev/zero, which never ends.
    let secret = parent.path().join("secret.toml");
    std::fs::copy(systems.join("ad.toml"), &secret).unwrap();
    symlink(&secret, systems.join("outside.toml")).unwrap();
    symlink("/dev/zero", systems.join("zero.toml")).unwrap();
    std::fs::create_dir(systems.join("folder.toml")).unwrap();
    let fifo = systems.join("pipe.toml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // A link inside the folder is followed.
    symlink(systems.join("strom.toml"), systems.join("strom-copy.toml")).unwrap();
    let (code, json) = validate_bounded(&dir);
    assert_ne!(code, 0, "{json}");
    let errors = json["errors"].as_array().unwrap();
    let error_of = |name: &str| {
        errors
            .iter()
            .find(|e| e["file"].as_str().unwrap_or("").ends_with(name))
            .unwrap_or_else(|| panic!("no error for {name}: {json}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(error_of("outside.toml").contains("outside the plan folder"));
    assert!(error_of("zero.toml").contains("outside the plan folder"));
    assert!(error_of("folder.toml").contains("a folder, not a file"));
    assert!(error_of("pipe.toml").contains("named pipe"));
    assert!(
        !errors.iter().any(|e| e["file"]
            .as_str()
            .unwrap_or("")
            .ends_with("strom-copy.toml")),
        "{json}"
    );
    // The systems folder itself a link out of the plan folder: each file in it is refused.
    let other = helpers::mini_plan_in(parent.path(), "other");
    let linked = helpers::mini_plan_in(parent.path(), "linked");
    std::fs::remove_dir_all(linked.join("systems")).unwrap();
    symlink(other.join("systems"), linked.join("systems")).unwrap();
    let (code, json) = validate_bounded(&linked);
    assert_ne!(code, 0);
    let outside = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .contains("outside the plan folder")
        })
        .count();
    assert_eq!(outside, 4, "{json}");
    // plan.toml itself as a pipe: reported, not waited on.
    std::fs::remove_file(dir.join("plan.toml")).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(dir.join("plan.toml"))
            .status()
            .unwrap()
            .success()
    );
    let (code, json) = validate_bounded(&dir);
    assert_ne!(code, 0);
    assert!(json.to_string().contains("named pipe"), "{json}");
}

#[tokio::test]
async fn control_characters_in_text_are_refused_naming_the_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("jesper-moeller").await;
    let before = owner.system_json("vmware").await;
    // The API: every text with a control character is named by its path.
    let mut body = before.clone();
    body["description"] = "Before\u{0}After".into();
    body["recovery_steps"][0]["text"] = "Genstart \u{1b}[31m".into();
    body["workaround"] = "Tab\tCR\rLF\n are fine".into();
    let response = owner
        .put_json("/api/v1/plans/example-kommune/systems/vmware", &body)
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let answer: serde_json::Value = response.json().await.unwrap();
    let fields: Vec<&str> = answer["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["description", "recovery_steps[0].text"],
        "{answer}"
    );
    assert_eq!(answer["fields"][0]["problem"], "control_character");
    assert!(
        answer["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("U+0000")
    );
    assert_eq!(owner.system_json("vmware").await, before);
    // Tab, CR and LF alone are text.
    body["description"] = "Line one\r\nLine two\tend".into();
    body["recovery_steps"] = before["recovery_steps"].clone();
    let response = owner
        .put_json("/api/v1/plans/example-kommune/systems/vmware", &body)
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let stored = owner.system_json("vmware").await;
    // The system form shows the problem beside the field and keeps the input.
    let mut fields = owner.system_form("example-kommune", "vmware").await;
    helpers::set(&mut fields, "workaround", "Ring til\u{b}Atea");
    let response = owner
        .submit("/plans/example-kommune/systems/vmware/edit", &fields)
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("usynligt styretegn (U+000B)"),
        "the message beside the field"
    );
    assert!(page.contains("aria-invalid=\"true\""));
    let saved = owner.system_json("vmware").await;
    assert_eq!(saved, stored);
    // Any other form is refused at the edge, in the user's language, naming the field.
    let lead = app.signed_in("anne-kjaer").await;
    let response = lead
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", "Nedbrud\u{7}"),
                ("criterion", ""),
                ("started", ""),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Feltet “Titel” indeholder et usynligt styretegn (U+0007)"),
        "{page}"
    );
    let (_, list) = lead.page("/plans/example-kommune/incidents").await;
    assert!(!list.contains("Nedbrud"));
    // A plan file: the file, its line and the field.
    let parent = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(parent.path(), "mini");
    let file = dir.join("systems/strom.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "name = \"Strøm og køling\"",
            "name = \"Strøm og køling\"\ndescription = \"Nød\\u007Fstrøm\"",
        ),
    )
    .unwrap();
    let (code, json) = validate_bounded(&dir);
    assert_ne!(code, 0);
    let error = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"].as_str().unwrap().ends_with("strom.toml"))
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(error["line"], 2, "{error}");
    assert_eq!(error["field"], "description", "{error}");
    assert!(error["message"].as_str().unwrap().contains("U+007F"));
}

/// A response as sent: its status, `Content-Encoding`, `Vary` (lower case) and bytes.
struct Sent {
    status: u16,
    coding: Option<String>,
    vary: String,
    bytes: Vec<u8>,
}

/// `path` asked for with `Accept-Encoding: encoding`, the body left as it came.
async fn fetch(client: &helpers::TestApp, path: &str, encoding: &str) -> Sent {
    let response = client
        .client
        .get(format!("{}{path}", client.address))
        .header("accept-encoding", encoding)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (coding, vary) = (header("content-encoding"), header("vary"));
    Sent {
        status: response.status().as_u16(),
        coding,
        vary: vary.unwrap_or_default().to_lowercase(),
        bytes: response.bytes().await.unwrap().to_vec(),
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).unwrap();
    out
}

#[tokio::test]
async fn bodies_are_compressed_as_the_client_asks_and_tiny_ones_are_not() {
    let app = TestApp::spawn().await;
    let lead = app.signed_in("anne-kjaer").await;
    let plain = fetch(&lead, "/plans/example-kommune/runbook", "identity").await;
    assert_eq!(plain.coding, None);
    for (encoding, expected) in [("br", "br"), ("gzip", "gzip"), ("br;q=0.5, gzip", "gzip")] {
        let sent = fetch(&lead, "/plans/example-kommune/runbook", encoding).await;
        assert_eq!(sent.status, 200);
        assert_eq!(sent.coding.as_deref(), Some(expected), "{encoding}");
        assert!(sent.vary.contains("accept-encoding"), "{}", sent.vary);
        assert!(
            sent.bytes.len() * 4 < plain.bytes.len(),
            "{encoding}: {} of {} bytes",
            sent.bytes.len(),
            plain.bytes.len()
        );
    }
    // JSON, CSS and the download file too.
    for path in [
        "/api/v1/plans/example-kommune/systems",
        "/static/app.css",
        "/plans/example-kommune/runbook.html",
    ] {
        let sent = fetch(&lead, path, "br").await;
        assert_eq!(
            (sent.status, sent.coding.as_deref()),
            (200, Some("br")),
            "{path}"
        );
    }
    // Pages spliced from cached pieces go as one gzip stream of pieces compressed apart: it
    // reads back as the page itself.
    for path in [
        "/plans/example-kommune/runbook",
        "/plans/example-kommune?page=all",
    ] {
        let html = fetch(&lead, path, "identity").await.bytes;
        let gzip = fetch(&lead, path, "gzip, br").await;
        assert_eq!(gzip.coding.as_deref(), Some("gzip"), "{path}");
        assert_eq!(
            String::from_utf8(gunzip(&gzip.bytes)).unwrap(),
            String::from_utf8(html).unwrap(),
            "{path}"
        );
    }
    // The systems list is kept compressed: each encoding holds the same JSON.
    const SYSTEMS: &str = "/api/v1/plans/example-kommune/systems";
    let plain = fetch(&lead, SYSTEMS, "identity").await.bytes;
    let mut from_br = Vec::new();
    brotli::BrotliDecompress(
        &mut &fetch(&lead, SYSTEMS, "br").await.bytes[..],
        &mut from_br,
    )
    .unwrap();
    assert_eq!(from_br, plain);
    assert_eq!(gunzip(&fetch(&lead, SYSTEMS, "gzip").await.bytes), plain);
    assert!(
        serde_json::from_slice::<serde_json::Value>(&plain)
            .unwrap()
            .is_array()
    );
    // A body of a few bytes is sent as it is.
    let sent = fetch(&lead, "/healthz", "br, gzip").await;
    assert_eq!((sent.status, sent.coding, sent.bytes.len()), (200, None, 2));
}

#[tokio::test]
async fn cached_pages_and_lists_answer_304_until_the_plan_changes() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("jesper-moeller").await;
    let token = app.api_token("jesper-moeller").await;
    let paths = [
        "/plans/example-kommune",
        "/plans/example-kommune?page=all&sort=name",
        "/plans/example-kommune/systems/vmware",
        "/plans/example-kommune/runbook",
        "/plans/example-kommune/picture",
        "/api/v1/plans/example-kommune/systems",
        "/api/v1/plans/example-kommune/findings",
    ];
    let fetch = |path: &str, tag: Option<&str>| {
        let mut request = owner.client.get(format!("{}{path}", app.address));
        if path.starts_with("/api/") {
            request = request.bearer_auth(&token);
        }
        if let Some(tag) = tag {
            request = request.header("if-none-match", tag);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let etag = response
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_string());
            let body = response.bytes().await.unwrap();
            (status, etag, body.len())
        }
    };
    let mut tags = Vec::new();
    for path in paths {
        let (status, etag, _) = fetch(path, None).await;
        assert_eq!(status, 200, "{path}");
        let etag = etag.unwrap_or_else(|| panic!("{path}: no ETag"));
        assert!(
            etag.starts_with('"') && !etag.starts_with("W/"),
            "{path}: {etag}"
        );
        let (status, again, len) = fetch(path, Some(&etag)).await;
        assert_eq!((status, len), (304, 0), "{path}");
        assert_eq!(again.as_deref(), Some(etag.as_str()));
        // Among others, and as a weak tag, it still matches; another tag does not.
        let (status, _, _) = fetch(path, Some(&format!("\"x\", W/{etag}"))).await;
        assert_eq!(status, 304, "{path}");
        let (status, _, _) = fetch(path, Some("\"not-this\"")).await;
        assert_eq!(status, 200, "{path}");
        tags.push(etag);
    }
    // Another account sees other pages (its own CSRF token and permissions): not the tag.
    let viewer = app.signed_in("michael-skov").await;
    let response = viewer
        .client
        .get(format!("{}/plans/example-kommune", app.address))
        .header("if-none-match", &tags[0])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    // A change to the plan changes every tag.
    let mut body = owner.system_json("vmware").await;
    body["description"] = "Ændret".into();
    let response = owner
        .put_json("/api/v1/plans/example-kommune/systems/vmware", &body)
        .await;
    assert_eq!(response.status().as_u16(), 200);
    for (path, tag) in paths.iter().zip(&tags) {
        let (status, etag, _) = fetch(path, Some(tag)).await;
        assert_eq!(status, 200, "{path}");
        assert_ne!(etag.as_ref(), Some(tag), "{path}");
    }
    let list: serde_json::Value = owner
        .get("/api/v1/plans/example-kommune/systems")
        .await
        .json()
        .await
        .unwrap();
    let vmware = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "vmware")
        .unwrap();
    assert_eq!(
        vmware["description"], "Ændret",
        "the cached list follows the change"
    );
    // Static files are linked by their content and kept for a year.
    let (_, page) = owner.page("/plans/example-kommune").await;
    let start = page.find("/static/app.").unwrap();
    let href = &page[start..start + page[start..].find('"').unwrap()];
    assert!(href.len() > "/static/app..css".len() + 8, "{href}");
    let response = owner.get(href).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let response = owner.get("/static/app.0000000000000000.css").await;
    assert_ne!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("public, max-age=31536000, immutable")
    );
}
