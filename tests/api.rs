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
}

#[tokio::test]
async fn the_openapi_document_matches_the_server() {
    let app = TestApp::spawn().await;
    let token = app.api_token("mette-holm").await;
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
