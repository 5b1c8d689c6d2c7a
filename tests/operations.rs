//! Operations: `/metrics` in the Prometheus text format, behind its bearer token.

mod helpers;

use std::collections::HashMap;

use helpers::TestApp;

const TOKEN: &str = "scrape-token-for-tests";

/// `name{labels}` → value, for every sample line of a scrape.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

async fn scrape(app: &helpers::TestApp, token: Option<&str>) -> (u16, String, String) {
    let mut request = app.client.get(format!("{}/metrics", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let kind = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_outbox_and_the_scheduler() {
    for db in helpers::databases().await {
        let (backend, url) = (db.backend, db.url.clone());
        let app = TestApp::spawn_on_with(db, &helpers::plans(), |c| {
            c.metrics_token = Some(TOKEN.into());
        })
        .await;

        // Without the token, or with another, nothing is shown.
        let scraper = app.second_client();
        assert_eq!(scrape(&scraper, None).await.0, 401, "{backend}");
        assert_eq!(scrape(&scraper, Some("wrong")).await.0, 401);

        app.login_as("admin").await;
        for _ in 0..2 {
            assert_eq!(app.page("/plans/example-kommune").await.0, 200);
        }
        assert_eq!(app.page("/no/such/page").await.0, 404);

        // One pass of the scheduler, as the server makes at start.
        app.run_jobs().await;
        let (status, kind, text) = scrape(&scraper, Some(TOKEN)).await;
        assert_eq!(status, 200);
        assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
        let metrics = samples(&text);
        let get = |key: &str| {
            *metrics
                .get(key)
                .unwrap_or_else(|| panic!("{key} missing from {metrics:#?}"))
        };
        // Counted by the route's pattern, never by the path itself.
        assert_eq!(
            get(
                r#"beredskab_http_requests_total{route="/plans/{plan}",method="GET",status="200"}"#
            ),
            2.0
        );
        assert_eq!(
            get(r#"beredskab_http_request_duration_seconds_count{route="/plans/{plan}"}"#),
            2.0
        );
        assert_eq!(
            get(r#"beredskab_http_requests_total{route="unmatched",method="GET",status="404"}"#),
            1.0
        );
        assert!(
            !metrics.keys().any(|k| k.contains("example-kommune")),
            "a path leaked into the labels"
        );
        // The outbox as the database holds it.
        let conn = beredskab::store::connect(&url).await.unwrap();
        let (by_state, _) = beredskab::store::outbox::depth(&conn, chrono::Utc::now())
            .await
            .unwrap();
        for (channel, state, n) in by_state {
            let channel = channel.as_str();
            assert_eq!(
                get(&format!(
                    r#"beredskab_outbox_messages{{channel="{channel}",state="{state}"}}"#
                )),
                n as f64
            );
        }
        assert!(get("beredskab_scheduler_passes_total") >= 1.0);
        assert_eq!(get("beredskab_scheduler_errors_total"), 0.0);
        assert_eq!(get("beredskab_scheduler_lag_seconds"), 0.0);
        assert!(get("beredskab_scheduler_last_pass_timestamp_seconds") > 1.7e9);
        let rss = get("beredskab_process_resident_memory_bytes");
        assert!(rss > 1e6 && rss < 4e9, "resident memory {rss}");
    }
}
