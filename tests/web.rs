//! The web application over real HTTP, on SQLite and (with `TEST_POSTGRES_URL`) PostgreSQL.

mod helpers;

use helpers::TestApp;

/// One server per database, on the example plan, with the administrator signed in.
async fn apps() -> Vec<(TestApp, &'static str)> {
    let apps = helpers::apps().await;
    for (app, _) in &apps {
        app.login_as("admin").await;
    }
    apps
}

#[tokio::test]
async fn every_page_names_its_icon_and_the_icon_browsers_ask_for_is_there() {
    let app = TestApp::spawn().await;
    let icon = app.get("/favicon.ico").await;
    assert_eq!(icon.status().as_u16(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert!(icon.text().await.unwrap().starts_with("<svg"));
    let (_, login) = app.page("/login").await;
    let at = login.find("rel=\"icon\" href=\"").expect("an icon link") + 17;
    let href = &login[at..at + login[at..].find('"').unwrap()];
    assert!(
        href.starts_with("/static/favicon.") && href.ends_with(".svg"),
        "{href}"
    );
    assert_eq!(app.get(href).await.status().as_u16(), 200);
}

#[tokio::test]
async fn health_check_answers_ok() {
    for (app, backend) in apps().await {
        let (status, body) = app.page("/healthz").await;
        assert_eq!((status, body.as_str()), (200, "ok"), "{backend}");
    }
}

#[tokio::test]
async fn an_empty_database_gets_the_example_plan_and_the_front_page_leads_to_it() {
    for (app, backend) in apps().await {
        let response = app.get("/").await;
        assert_eq!(response.status().as_u16(), 303);
        assert_eq!(response.headers()["location"], "/plans/example-kommune");
        let (status, page) = app.page("/plans/example-kommune").await;
        assert_eq!(status, 200);
        assert!(page.contains("<html lang=\"da\">"));
        assert!(
            page.contains("36 systemer · 0 fejl · 38 advarsler"),
            "{backend}"
        );
        assert!(page.contains("Viser 36 af 36 systemer"));
        // Findings are shown beside the system they concern.
        assert!(page.contains("supplier-restore-exceeds-rto"));
        // Danish durations and dates.
        assert!(page.contains("<td class=\"nowrap\" data-label=\"RTO\">1 t.</td>"));
        assert!(page.contains("30. september 2026"));
    }
}

#[tokio::test]
async fn the_overview_filters_and_sorts_without_javascript() {
    let app = TestApp::spawn().await;
    app.login_as("admin").await;
    let (_, page) = app.page("/plans/example-kommune?crit=4").await;
    assert!(page.contains("Viser 1 af 36 systemer"), "{page}");
    assert!(page.contains("/systems/print\""));
    let (_, page) = app.page("/plans/example-kommune?only=overdue").await;
    assert!(page.contains("Viser 1 af 36 systemer"));
    assert!(page.contains("/systems/adgangskontrol\""));
    let (_, page) = app.page("/plans/example-kommune?q=karen").await;
    assert!(page.contains("Karen Poulsen"));
    assert!(!page.contains("/systems/ad\""));
    let (_, page) = app.page("/plans/example-kommune?sort=rto&dir=desc").await;
    let first = page.find("/systems/").unwrap();
    let row = &page[first..first + 80];
    assert!(
        row.contains("byggesag") || row.contains("klientstyring") || row.contains("print"),
        "{row}"
    );
    assert!(page.contains("aria-sort=\"descending\""));
}

#[tokio::test]
async fn the_language_choice_is_remembered() {
    let app = TestApp::spawn().await;
    app.login_as("admin").await;
    let response = app
        .get("/lang/en?next=/plans/example-kommune%3Fcrit%3D1")
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        response.headers()["location"],
        "/plans/example-kommune?crit=1"
    );
    let (_, page) = app.page("/plans/example-kommune").await;
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("Showing 36 of 36 systems"), "{page}");
    assert!(page.contains("<td class=\"nowrap\" data-label=\"RTO\">1 h</td>"));
    // Never a redirect to another site.
    let response = app.get("/lang/da?next=//evil.example").await;
    assert_eq!(response.headers()["location"], "/");
    let (_, page) = app.page("/plans/example-kommune").await;
    assert!(page.contains("Viser 36 af 36 systemer"));
}

#[tokio::test]
async fn the_system_page_shows_the_whole_section() {
    let app = TestApp::spawn().await;
    app.login_as("admin").await;
    let (status, page) = app.page("/plans/example-kommune/systems/ad").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Active Directory"));
    // What it depends on and what depends on it.
    assert!(page.contains("href=\"/plans/example-kommune/systems/vmware\""));
    assert!(page.contains("href=\"/plans/example-kommune/systems/sql-platform\""));
    assert!(page.contains("Reetableringstrin"));
    assert!(page.contains("Forventet tid i alt: 45 min."), "{page}");
    assert!(page.contains("href=\"tel:+45"));
    assert!(page.contains("Uacceptabel"));
}

#[tokio::test]
async fn unknown_pages_get_a_404_page() {
    let app = TestApp::spawn().await;
    app.login_as("admin").await;
    for path in [
        "/plans/example-kommune/systems/nope",
        "/plans/nope",
        "/plans/NOT%20A%20SLUG",
        "/no/such/page",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status().as_u16(), 404, "{path}");
        // A page, not its source as text.
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(kind, "text/html; charset=utf-8", "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Siden findes ikke"), "{path}: {page}");
    }
}

#[tokio::test]
async fn text_from_the_plan_is_escaped_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let plans = tmp.path().join("plans");
    let dir = helpers::mini_plan_in(&plans, "mini");
    let path = dir.join("systems/esdh.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "name = \"ESDH\"",
        "name = \"<script>alert('æøå')</script> \\\"ESDH\\\"\"",
    );
    std::fs::write(&path, text).unwrap();
    let app = TestApp::spawn_on(helpers::sqlite_db(), &plans).await;
    app.login_as("admin").await;
    for url in [
        "/plans/mini",
        "/plans/mini/systems/esdh",
        "/plans/mini/systems/ad",
    ] {
        let (status, page) = app.page(url).await;
        assert_eq!(status, 200, "{url}");
        assert!(!page.contains("<script>"), "{url}");
        assert!(
            page.contains("&lt;script&gt;alert(&#x27;æøå&#x27;)&lt;/script&gt; &quot;ESDH&quot;"),
            "{url}: {page}"
        );
    }
}

#[tokio::test]
async fn with_several_plans_the_front_page_lists_them() {
    let tmp = tempfile::tempdir().unwrap();
    let plans = tmp.path().join("plans");
    helpers::mini_plan_in(&plans, "alpha");
    helpers::mini_plan_in(&plans, "beta");
    let app = TestApp::spawn_on(helpers::sqlite_db(), &plans).await;
    app.login_as("admin").await;
    let (status, page) = app.page("/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Beredskabsplaner</h1>"), "{page}");
    assert!(page.contains("href=\"/plans/alpha\""));
    assert!(page.contains("href=\"/plans/beta\""));
}

#[tokio::test]
async fn a_large_plan_is_listed_a_hundred_systems_a_page_with_every_filter_kept() {
    let dir = tempfile::tempdir().unwrap();
    let plan = helpers::mini_plan_in(dir.path(), "stor");
    // 246 more systems (250 in all), each depending on the network.
    for i in 0..246 {
        std::fs::write(
            plan.join(format!("systems/app-{i:03}.toml")),
            format!(
                "name = \"Fagsystem {i:03}\"\nowner = \"lars\"\ncriticality = {}\nrto = \"1d\"\nrpo = \"4h\"\nmtpd = \"1w\"\ndepends_on = [\"netvaerk\"]\nlast_reviewed = 2026-10-01\n",
                1 + i % 4
            ),
        )
        .unwrap();
    }
    let app = TestApp::spawn_on(helpers::sqlite_db(), dir.path()).await;
    app.login_as("admin").await;
    let rows = |page: &str| page.matches("<tr").count() - 1;

    let (status, first) = app.page("/plans/stor?sort=name").await;
    assert_eq!(status, 200);
    assert_eq!(rows(&first), 100);
    assert!(first.contains("Viser 1–100 af 250 systemer"), "{first}");
    assert!(first.contains(r#"<strong aria-current="page">1</strong>"#));
    assert!(
        helpers::unescape(&first)
            .contains(r#"href="/plans/stor?sort=name&dir=asc&page=2" rel="next""#)
    );
    // Sorted by name (Active Directory and ESDH first), the first page ends at 097.
    assert!(first.contains("Fagsystem 097") && !first.contains("Fagsystem 098"));
    let (_, third) = app.page("/plans/stor?sort=name&dir=asc&page=3").await;
    assert_eq!(rows(&third), 50);
    assert!(third.contains("Viser 201–250 af 250 systemer"));
    assert!(!third.contains("rel=\"next\""));
    // A page past the end shows the last; `all` shows every row.
    let (_, past) = app.page("/plans/stor?sort=name&page=99").await;
    assert_eq!(rows(&past), 50);
    let (_, all) = app.page("/plans/stor?page=all").await;
    assert_eq!(rows(&all), 250);
    assert!(!all.contains("aria-current=\"page\""));
    // Fewer than a page match a filter: no page links. Criticality 1: 62 + 3 of the mini plan.
    let (_, crit) = app.page("/plans/stor?crit=1").await;
    assert!(crit.contains("Viser 65 af 250 systemer"));
    assert_eq!(rows(&crit), 65);
    assert!(!crit.contains("aria-current=\"page\""));
    // A filter is kept in the page links.
    let (_, found) = app.page("/plans/stor?q=fagsystem").await;
    assert!(found.contains("Viser 1–100 af 246 systemer (planen har 250)"));
    assert!(helpers::unescape(&found).contains("/plans/stor?q=fagsystem&sort=crit&dir=asc&page=2"));
}

#[tokio::test]
async fn an_error_page_keeps_the_signed_in_navigation() {
    let app = TestApp::spawn().await;
    let (status, _) = app.page("/plans/no-such-plan").await;
    assert_eq!(status, 303, "signed out: to the login page");
    let (status, page) = app.page("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(!page.contains("action=\"/logout\""), "{page}");
    app.login_as("jesper-moeller").await;
    for (path, code) in [
        ("/no/such/page", 404),
        ("/outbox", 403),
        ("/plans/no-such-plan", 404),
    ] {
        let (status, page) = app.page(path).await;
        assert_eq!(status, code, "{path}");
        assert!(page.contains("action=\"/logout\""), "{path}: {page}");
        assert!(page.contains("href=\"/my\""), "{path}: {page}");
    }
}

#[tokio::test]
async fn my_systems_is_offered_to_owners_only_and_explains_itself_to_others() {
    let app = TestApp::spawn().await;
    // An owner has the link, and their systems on the page.
    app.login_as("jesper-moeller").await;
    let (_, page) = app.page("/plans/example-kommune").await;
    assert!(page.contains("<a href=\"/my\">"), "{page}");
    let (_, my) = app.page("/my").await;
    assert!(my.contains("/plans/example-kommune/systems/vmware"));

    // Someone who owns and deputises nothing has no link; the page says what it is for.
    let other = app.signed_in("michael-skov").await;
    let (_, page) = other.page("/plans/example-kommune").await;
    assert!(!page.contains("<a href=\"/my\">"), "{page}");
    let (status, my) = other.page("/my").await;
    assert_eq!(status, 200);
    assert!(
        my.contains("Siden viser de systemer, du er systemejer eller stedfortræder for"),
        "{my}"
    );
    assert!(my.contains("bed beredskabskoordinatoren"));
}
