//! The JSON API over real HTTP: tokens, the same rules as the pages, JSON errors, and an OpenAPI
//! document that matches what the server answers.

mod helpers;

use helpers::TestApp;
use serde_json::{Value, json};

struct Api<'a> {
    app: &'a TestApp,
    token: String,
}

impl Api<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.app.address)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .app
            .client
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .app
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn owners_edit_through_the_api_with_the_same_rules_as_the_pages() {
    for (app, backend) in helpers::apps().await {
        let api = Api {
            app: &app,
            token: app.api_token("jesper-moeller").await,
        };

        let (status, plans) = api.get("/plans").await;
        assert_eq!(status, 200, "{backend}");
        assert_eq!(plans[0]["id"], "example-kommune");
        let (status, system) = api.get("/plans/example-kommune/systems/vmware").await;
        assert_eq!(status, 200);
        assert_eq!(system["owner"], "jesper-moeller");
        let revision = system["revision"].as_i64().unwrap();

        let mut edited = system.clone();
        edited["rto"] = json!("2h");
        edited["recovery_steps"][0]["text"] = json!("<b>Tjek</b> \"vCenter\" æøå");
        let (status, saved) = api
            .send(
                reqwest::Method::PUT,
                "/plans/example-kommune/systems/vmware",
                &edited,
            )
            .await;
        assert_eq!(status, 200, "{saved}");
        assert_eq!(saved["rto"], "2h");
        assert_eq!(
            saved["recovery_steps"][0]["text"],
            "<b>Tjek</b> \"vCenter\" æøå"
        );
        assert!(saved["revision"].as_i64().unwrap() > revision);

        // The same body again is stale: 409 with what is stored now, nothing written.
        edited["rto"] = json!("1h");
        let (status, body) = api
            .send(
                reqwest::Method::PUT,
                "/plans/example-kommune/systems/vmware",
                &edited,
            )
            .await;
        assert_eq!(status, 409);
        assert_eq!(body["current"]["rto"], "2h");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("nothing was written")
        );

        // Bad values: each named by its path in the body.
        let mut bad = saved.clone();
        bad["rto"] = json!("fire timer");
        bad["depends_on"] = json!(["storage-sen"]);
        bad["recovery_steps"][1]["role"] = json!("nobody");
        let (status, body) = api
            .send(
                reqwest::Method::PUT,
                "/plans/example-kommune/systems/vmware",
                &bad,
            )
            .await;
        assert_eq!(status, 422, "{body}");
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["rto", "depends_on", "recovery_steps[1].role"]);
        assert_eq!(body["fields"][0]["problem"], "duration");
        assert!(
            body["fields"][1]["message"]
                .as_str()
                .unwrap()
                .contains("Did you mean “storage-san”?")
        );

        // Another owner's system: 403.
        let (_, loen) = api.get("/plans/example-kommune/systems/loen").await;
        let (status, body) = api
            .send(
                reqwest::Method::PUT,
                "/plans/example-kommune/systems/loen",
                &loen,
            )
            .await;
        assert_eq!(status, 403);
        assert!(body["error"].is_string());
        // Only the approver approves.
        let (status, _) = api
            .send(
                reqwest::Method::POST,
                "/plans/example-kommune/versions",
                &json!({"comment": "x"}),
            )
            .await;
        assert_eq!(status, 403);
        let approver = Api {
            app: &app,
            token: app.api_token("mette-holm").await,
        };
        let (status, version) = approver
            .send(
                reqwest::Method::POST,
                "/plans/example-kommune/versions",
                &json!({"comment": "API"}),
            )
            .await;
        assert_eq!(status, 201);
        assert_eq!(version["number"], 1);
        let (status, _) = approver
            .send(
                reqwest::Method::POST,
                "/plans/example-kommune/versions",
                &json!({}),
            )
            .await;
        assert_eq!(status, 409, "nothing new to approve");
        let (_, versions) = api.get("/plans/example-kommune/versions").await;
        assert_eq!(versions[0]["approved_by"], "mette-holm");
        let (_, changes) = api.get("/plans/example-kommune/diff?from=1&to=draft").await;
        assert_eq!(changes, json!([]));
        let (status, _) = api
            .get("/plans/example-kommune/diff?from=one&to=draft")
            .await;
        assert_eq!(status, 400);
    }
}

#[tokio::test]
async fn malformed_requests_get_json_errors_never_a_500() {
    let app = TestApp::spawn().await;
    let token = app.api_token("jesper-moeller").await;
    let url = format!(
        "{}/api/v1/plans/example-kommune/systems/vmware",
        app.address
    );
    let send = |body: &'static str, content_type: &'static str| {
        let request = app
            .client
            .put(&url)
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("a JSON error body");
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{body}"
            );
            status
        }
    };
    assert_eq!(send("{not json", "application/json").await, 400);
    assert_eq!(send("{\"name\": 1}", "application/json").await, 422);
    assert_eq!(send("{}", "text/plain").await, 415);
    assert_eq!(send("", "application/x-www-form-urlencoded").await, 415);

    let get = |path: &'static str, token: Option<&'static str>| {
        let mut request = app.client.get(format!("{}/api/v1{path}", app.address));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let www = response.headers().get("www-authenticate").cloned();
            let body: Value = response.json().await.expect("a JSON body");
            (status, www, body)
        }
    };
    let (status, www, body) = get("/plans", None).await;
    assert_eq!(status, 401);
    assert_eq!(www.unwrap(), "Bearer");
    assert!(body["error"].is_string());
    let (status, _, _) = get("/plans", Some("bk_wrong")).await;
    assert_eq!(status, 401);
    let (status, _, body) = get("/no/such/route", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "no such API route");

    // With the browser session instead of a token, a change needs the CSRF header.
    let browser = app.signed_in("jesper-moeller").await;
    let system: Value = browser
        .client
        .get(format!(
            "{}/api/v1/plans/example-kommune/systems/vmware",
            app.address
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let put = |csrf: Option<String>| {
        let mut request = browser.client.put(&url).json(&system);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put(None).await, 403);
    assert_eq!(put(Some(browser.csrf().await)).await, 200);
}

/// Fills in a path template with ids of the example plan.
fn concrete(path: &str) -> String {
    path.replace("{plan}", "example-kommune")
        .replace("{system}", "vmware")
        .replace("{id}", "1")
}

#[tokio::test]
async fn the_openapi_document_matches_the_server() {
    let app = TestApp::spawn().await;
    let token = app.api_token("mette-holm").await;
    // Dispensation 1, approved, for the routes that name one.
    let coordinator = app.signed_in("lars-nielsen").await;
    let until = (helpers::today() + chrono::Duration::days(30)).to_string();
    let asked = coordinator
        .post_form(
            "/plans/example-kommune/dispensations",
            &[
                ("subject", "finding:supplier-restore-exceeds-rto|esdh"),
                ("justification", "Kontrakten genforhandles"),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(
        helpers::location(&asked),
        "/plans/example-kommune/dispensations/1"
    );
    let approver = app.signed_in("mette-holm").await;
    approver
        .post_form(
            "/plans/example-kommune/dispensations/1/decision",
            &[("decision", "approve"), ("until", &until)],
        )
        .await;
    let doc: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let schemas = &doc["components"]["schemas"];
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 8, "{paths:?}");
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            // Every documented operation exists: GETs answer 200 with the documented shape;
            // others are routed (a request without a body is refused as such, not as unknown).
            let url = format!("{}/api/v1{}", app.address, concrete(path));
            let query = if path.ends_with("/diff") {
                "?from=draft&to=draft"
            } else {
                ""
            };
            let request = app
                .client
                .request(
                    method.to_uppercase().parse().unwrap(),
                    format!("{url}{query}"),
                )
                .bearer_auth(&token);
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            assert!(![404, 405].contains(&status), "{method} {path}: {status}");
            assert!(
                operation["responses"].get(status.to_string()).is_some(),
                "{method} {path}: {status} is not documented"
            );
            if method == "get" {
                assert_eq!(status, 200, "{path}");
                let body: Value = response.json().await.unwrap();
                let schema =
                    &operation["responses"]["200"]["content"]["application/json"]["schema"];
                let (item, reference) = match schema["type"].as_str() {
                    Some("array") => (
                        body.as_array()
                            .unwrap()
                            .first()
                            .cloned()
                            .unwrap_or(json!({})),
                        &schema["items"]["$ref"],
                    ),
                    _ => (body.clone(), &schema["$ref"]),
                };
                let name = reference.as_str().unwrap().rsplit('/').next().unwrap();
                let mut documented: Vec<&String> = schemas[name]["properties"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .collect();
                let mut actual: Vec<&String> = item.as_object().unwrap().keys().collect();
                documented.sort();
                actual.sort();
                if !actual.is_empty() {
                    assert_eq!(
                        actual, documented,
                        "{path}: the body's fields are the schema's"
                    );
                }
            }
        }
    }
}

/// The token shown once on a page.
fn shown_token(page: &str) -> String {
    let start = page.find("bk_").expect("the new token on the page");
    page[start..start + 3 + 64].to_string()
}

/// The tokens of `username` as stored.
async fn stored_tokens(app: &TestApp, username: &str) -> Vec<beredskab::store::accounts::ApiToken> {
    let db = &app.handle().db;
    let (account, _) = beredskab::store::accounts::find_by_username(db, username)
        .await
        .unwrap()
        .unwrap();
    beredskab::store::accounts::tokens_of_account(db, account.id)
        .await
        .unwrap()
}

#[tokio::test]
async fn tokens_are_named_expire_and_are_revoked_one_by_one() {
    let start: chrono::DateTime<chrono::Utc> = "2027-03-01T09:00:00Z".parse().unwrap();
    let app = TestApp::spawn_at(start).await;
    let owner = app.signed_in("jesper-moeller").await;
    // Out of range, or not a number: refused in Danish, with the input kept.
    for days in ["366", "0", "tre"] {
        let response = owner
            .post_form(
                "/account/token",
                &[("name", "Rapport-script"), ("days", days)],
            )
            .await;
        assert_eq!(response.status().as_u16(), 422, "{days}");
        let page = helpers::unescape(&response.text().await.unwrap());
        assert!(
            page.contains("Skriv et helt antal dage fra 1 til 365."),
            "{page}"
        );
        assert!(page.contains("value=\"Rapport-script\""));
        assert!(!page.contains("bk_"));
    }
    let made = owner
        .post_form(
            "/account/token",
            &[("name", "Rapport-script"), ("days", "2")],
        )
        .await;
    assert_eq!(made.status().as_u16(), 200);
    let short = shown_token(&made.text().await.unwrap());
    // Without a choice: 90 days, and the default name.
    let made = owner.post_form("/account/token", &[]).await;
    let long = shown_token(&made.text().await.unwrap());
    let tokens = stored_tokens(&app, "jesper-moeller").await;
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0].name, "API-nøgle");
    assert_eq!(tokens[0].expires_at - start, chrono::Duration::days(90));
    assert_eq!(tokens[1].name, "Rapport-script");
    assert_eq!(tokens[1].expires_at - start, chrono::Duration::days(2));
    assert!(tokens.iter().all(|t| t.last_used_at.is_none()));
    // Neither token is shown again, nor stored as it is.
    let (_, page) = owner.page("/account").await;
    assert!(!page.contains("bk_"));
    assert!(page.contains("Rapport-script"));

    let call = |token: String| {
        let request = app
            .client
            .get(format!("{}/api/v1/plans", app.address))
            .bearer_auth(token);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(call(short.clone()).await.0, 200);
    let used = stored_tokens(&app, "jesper-moeller").await[1].last_used_at;
    assert_eq!(used, Some(start));
    // A burst within the minute writes no new time; a call after it does.
    app.handle()
        .clock
        .set(start + chrono::Duration::seconds(59));
    assert_eq!(call(short.clone()).await.0, 200);
    assert_eq!(
        stored_tokens(&app, "jesper-moeller").await[1].last_used_at,
        Some(start)
    );
    let later = start + chrono::Duration::seconds(61);
    app.handle().clock.set(later);
    assert_eq!(call(short.clone()).await.0, 200);
    assert_eq!(
        stored_tokens(&app, "jesper-moeller").await[1].last_used_at,
        Some(later)
    );

    // Two days on, the short one has expired and says so; the other still works.
    app.handle().clock.set(start + chrono::Duration::days(2));
    let (status, body) = call(short.clone()).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "the API token expired on 2027-03-03; make a new one on /account"})
    );
    assert_eq!(call(long.clone()).await.0, 200);
    let (_, page) = owner.page("/account").await;
    assert!(
        helpers::unescape(&page).contains("Udløb den 3. marts 2027"),
        "{page}"
    );

    // Revoked, one by one: the revoked one is unknown now, like one never made.
    let id = stored_tokens(&app, "jesper-moeller").await[0].id;
    // Not someone else's.
    let other = app.signed_in("lars-nielsen").await;
    let refused = other
        .post_form(&format!("/account/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(refused.status().as_u16(), 404);
    assert_eq!(call(long.clone()).await.0, 200);
    let revoked = owner
        .post_form(&format!("/account/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status().as_u16(), 303);
    let (status, body) = call(long).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"],
        "sign in, or send Authorization: Bearer <token>"
    );
    assert_eq!(call(format!("bk_{}", "0".repeat(64))).await.0, 401);
    assert_eq!(stored_tokens(&app, "jesper-moeller").await.len(), 1);

    // Making and revoking are in the audit log.
    let admin = app.signed_in("admin").await;
    let (_, audit) = admin.page("/audit").await;
    let audit = helpers::unescape(&audit);
    assert!(audit.contains("API-nøgle oprettet"));
    assert!(
        audit.contains("Rapport-script (until 2027-03-03)"),
        "{audit}"
    );
    assert!(audit.contains("API-nøgle tilbagekaldt"));
}

#[tokio::test]
async fn the_single_token_of_an_older_installation_keeps_working() {
    use beredskab::store::entities::accounts;
    use migration::MigratorTrait;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let db = helpers::sqlite_db();
    let conn = beredskab::store::connect(&db.url).await.unwrap();
    // The schema as it was before tokens got a table of their own, with one account holding
    // one token.
    let before = migration::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261203_000014_sessions_tokens_throttle")
        .unwrap();
    migration::Migrator::up(&conn, Some(u32::try_from(before).unwrap()))
        .await
        .unwrap();
    let token = format!("bk_{}", "7".repeat(64));
    accounts::Entity::insert(accounts::ActiveModel {
        username: Set("scripted".into()),
        display_name: Set("Script".into()),
        password_hash: Set(beredskab::app::accounts::hash_password("x".repeat(12))
            .await
            .unwrap()),
        role: Set("viewer".into()),
        person_id: Set(None),
        language: Set(None),
        active: Set(true),
        api_token_hash: Set(Some(beredskab::app::accounts::token_hash(&token))),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .exec(&conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let migrated = chrono::Utc::now();
    let app = TestApp::spawn_on(db, &helpers::plans()).await;
    let response = app
        .client
        .get(format!("{}/api/v1/plans", app.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let tokens = stored_tokens(&app, "scripted").await;
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].name, "API-nøgle");
    let valid = tokens[0].expires_at - migrated;
    assert!(
        (chrono::Duration::days(90) - valid).num_seconds().abs() < 60,
        "{valid:?}"
    );
}
