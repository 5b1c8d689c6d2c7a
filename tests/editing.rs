//! Editing through the pages over real HTTP: login, owners and their systems, revisions,
//! approval, diffs and the audit log. Runs on SQLite and (with `TEST_POSTGRES_URL`) PostgreSQL.

mod helpers;

use helpers::{ADMIN_PASSWORD, TestApp, form_fields, location, set, spawn_app};

const PLAN: &str = "example-kommune";

async fn apps() -> Vec<(TestApp, helpers::TestDb)> {
    let mut out = Vec::new();
    for db in helpers::databases().await {
        let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
        out.push((app, db));
    }
    out
}

#[tokio::test]
async fn pages_need_a_login_and_wrong_passwords_are_refused() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    let response = app.get("/plans/example-kommune?crit=1").await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        location(&response),
        "/login?next=/plans/example-kommune%3Fcrit%3D1"
    );
    assert_eq!(app.try_login("admin", "wrong").await, 401);
    assert_eq!(app.try_login("nobody", "wrong").await, 401);
    let (_, page) = app.page("/login").await;
    assert!(page.contains("<h1>Log ind</h1>"));
    app.login("admin", ADMIN_PASSWORD).await;
    let (status, page) = app.page("/plans/example-kommune").await;
    assert_eq!(status, 200);
    assert!(page.contains("Administrator"));
}

#[tokio::test]
async fn repeated_failures_lock_the_username_for_a_while() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    for _ in 0..5 {
        assert_eq!(app.try_login("lars-nielsen", "guess").await, 401);
    }
    // Locked now, even with the right password; other usernames are not affected.
    assert_eq!(
        app.try_login("lars-nielsen", helpers::DEMO_PASSWORD).await,
        429
    );
    let (_, page) = app.page("/login").await;
    let csrf = helpers::csrf_of(&page);
    let response = app
        .submit(
            "/login",
            &[
                ("csrf".into(), csrf),
                ("username".into(), "lars-nielsen".into()),
                ("password".into(), "guess".into()),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 429);
    // Seconds until the oldest failure leaves the 15-minute window.
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((890..=900).contains(&retry_after), "{retry_after}");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("For mange mislykkede forsøg")
    );
    assert_eq!(
        app.try_login("mette-holm", helpers::DEMO_PASSWORD).await,
        303
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_a_login_gets_a_new_one() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    // A client without a cookie store, to handle the session cookie by hand.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = raw
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    let before = page.headers()["set-cookie"].to_str().unwrap().to_string();
    let cookie = before.split(';').next().unwrap().to_string();
    assert!(
        before.contains("HttpOnly") && before.contains("SameSite=Lax"),
        "{before}"
    );
    let csrf = helpers::csrf_of(&page.text().await.unwrap());
    let login = raw
        .post(format!("{}/login", app.address))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let signed_in = login.headers()["set-cookie"].to_str().unwrap().to_string();
    let session = signed_in.split(';').next().unwrap().to_string();
    // No session fixation: signing in issued a new session id.
    assert_ne!(session, cookie);
    let get = |cookie: String| {
        let raw = raw.clone();
        let url = format!("{}/plans/example-kommune", app.address);
        async move {
            raw.get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        get(cookie.clone()).await,
        303,
        "the pre-login id is worth nothing"
    );
    assert_eq!(get(session.clone()).await, 200);
    let page = raw
        .get(format!("{}/account", app.address))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let csrf = helpers::csrf_of(&page.text().await.unwrap());
    let out = raw
        .post(format!("{}/logout", app.address))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 303);
    assert_eq!(get(session).await, 303, "the old cookie no longer signs in");
}

#[tokio::test]
async fn forms_without_the_sessions_csrf_token_are_refused() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    app.login_demo("jesper-moeller").await;
    let mut fields = app.system_form(PLAN, "vmware").await;
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

#[tokio::test]
async fn an_owner_edits_their_system_and_gets_403_for_another_owners() {
    for (app, db) in apps().await {
        app.login_demo("jesper-moeller").await;
        // Owner of vmware, deputy for ad: both editable.
        for system in ["vmware", "ad"] {
            let (status, _) = app
                .page(&format!("/plans/{PLAN}/systems/{system}/edit"))
                .await;
            assert_eq!(status, 200, "{system} on {}", db.backend);
        }
        let mut fields = app.system_form(PLAN, "vmware").await;
        set(&mut fields, "rto", "2h 30m");
        set(&mut fields, "step-0-text", "Tjek vCenter først");
        let response = app
            .submit("/plans/example-kommune/systems/vmware/edit", &fields)
            .await;
        assert_eq!(response.status().as_u16(), 303, "{}", db.backend);
        assert_eq!(
            location(&response),
            "/plans/example-kommune/systems/vmware?saved=2"
        );
        let (_, page) = app
            .page("/plans/example-kommune/systems/vmware?saved=2")
            .await;
        assert!(page.contains("Gemt: 2 felter ændret."));
        assert!(page.contains("2 t. 30 min."));
        assert!(page.contains("Tjek vCenter først"));

        // loen belongs to others: no form, no save.
        let (status, page) = app.page(&format!("/plans/{PLAN}/systems/loen/edit")).await;
        assert_eq!(status, 403, "{}", db.backend);
        assert!(page.contains("Ikke tilladt"));
        let response = app
            .submit("/plans/example-kommune/systems/loen/edit", &fields)
            .await;
        assert_eq!(response.status().as_u16(), 403);
        let (_, page) = app.page("/plans/example-kommune/systems/loen").await;
        assert!(!page.contains("Tjek vCenter først"));
        assert!(
            !page.contains("/systems/loen/edit"),
            "no edit link for others' systems"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_stale_save_is_refused_with_409_and_a_page_showing_both() {
    for (app, db) in apps().await {
        app.login_demo("jesper-moeller").await;
        let other = spawn_other_session(&app).await;
        let mut mine = app.system_form(PLAN, "vmware").await;
        let mut theirs = other.system_form(PLAN, "vmware").await;
        set(&mut theirs, "verification", "Their check");
        let response = other
            .submit("/plans/example-kommune/systems/vmware/edit", &theirs)
            .await;
        assert_eq!(response.status().as_u16(), 303);
        set(&mut mine, "verification", "My check");
        let response = app
            .submit("/plans/example-kommune/systems/vmware/edit", &mine)
            .await;
        assert_eq!(response.status().as_u16(), 409, "{}", db.backend);
        let page = response.text().await.unwrap();
        assert!(page.contains("En anden har gemt afsnittet"));
        assert!(
            page.contains("Their check") && page.contains("My check"),
            "{page}"
        );
        // Nothing was overwritten.
        let (_, shown) = app.page("/plans/example-kommune/systems/vmware").await;
        assert!(shown.contains("Their check") && !shown.contains("My check"));
        // The 409 page's form carries the new revision: saving it again is a conscious choice.
        let again = form_fields(&page, "/plans/example-kommune/systems/vmware/edit");
        let response = app
            .submit("/plans/example-kommune/systems/vmware/edit", &again)
            .await;
        assert_eq!(response.status().as_u16(), 303);
        let (_, shown) = app.page("/plans/example-kommune/systems/vmware").await;
        assert!(shown.contains("My check"));
        db.cleanup().await;
    }
}

/// A second signed-in browser for the same app, as the coordinator.
async fn spawn_other_session(app: &TestApp) -> TestApp {
    let other = app.second_client();
    other.login_demo("lars-nielsen").await;
    other
}

#[tokio::test]
async fn wrong_values_are_named_beside_their_field_and_the_input_is_kept() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    app.login_demo("jesper-moeller").await;
    let mut fields = app.system_form(PLAN, "vmware").await;
    set(&mut fields, "name", "  ");
    set(&mut fields, "rto", "4 timer");
    set(&mut fields, "depends_on", "storage-san\nstrom-koling");
    set(&mut fields, "step-1-duration", "kvarter");
    set(&mut fields, "workaround", "Kept as typed æøå");
    let response = app
        .submit("/plans/example-kommune/systems/vmware/edit", &fields)
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("4 felter skal rettes"), "{page}");
    assert!(page.contains("<p class=\"field-error\" id=\"name-error\">Feltet skal udfyldes.</p>"));
    assert!(page.contains("id=\"rto-error\">“4 timer” er ikke en varighed"));
    assert!(
        page.contains("Der er intet system “strom-koling” i planen. Mente du “strom-koeling”?")
    );
    assert!(page.contains("id=\"step-1-duration-error\">“kvarter” er ikke en varighed"));
    // The input is kept, including the fields that were fine.
    let kept = form_fields(&page, "/plans/example-kommune/systems/vmware/edit");
    let value = |name: &str| kept.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(value("rto"), "4 timer");
    assert_eq!(value("workaround"), "Kept as typed æøå");
    assert_eq!(value("depends_on"), "storage-san\nstrom-koling");
    // Nothing was saved.
    let (_, shown) = app.page("/plans/example-kommune/systems/vmware").await;
    assert!(!shown.contains("Kept as typed"));

    // A dependency that closes a cycle is refused with the analysis' own words.
    let admin = app.second_client();
    admin.login("admin", ADMIN_PASSWORD).await;
    let mut fields = admin.system_form(PLAN, "storage-san").await;
    set(&mut fields, "depends_on", "vmware");
    let response = admin
        .submit("/plans/example-kommune/systems/storage-san/edit", &fields)
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(response.text().await.unwrap().contains("dependency cycle"));
}

#[tokio::test]
async fn steps_are_added_removed_and_reordered_without_javascript() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    app.login_demo("jesper-moeller").await;
    let path = "/plans/example-kommune/systems/vmware/edit";
    let texts = |fields: &[(String, String)]| -> Vec<String> {
        fields
            .iter()
            .filter(|(k, _)| k.starts_with("step-") && k.ends_with("-text"))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let mut fields = app.system_form(PLAN, "vmware").await;
    let original = texts(&fields);
    assert!(original.len() >= 2);
    // Each button re-renders the form with the change, unsaved.
    let press = |mut fields: Vec<(String, String)>, action: &'static str| {
        set(&mut fields, "action", action);
        let app = &app;
        async move {
            let response = app.submit(path, &fields).await;
            assert_eq!(response.status().as_u16(), 200, "{action}");
            form_fields(&response.text().await.unwrap(), path)
        }
    };
    fields = press(fields, "down-step-0").await;
    assert_eq!(
        texts(&fields)[..2],
        [original[1].clone(), original[0].clone()]
    );
    fields = press(fields, "add-step").await;
    assert_eq!(texts(&fields).len(), original.len() + 1);
    let new = format!("step-{}-", original.len());
    set(&mut fields, &format!("{new}text"), "Nyt sidste trin");
    set(&mut fields, &format!("{new}role"), "driftstekniker");
    set(&mut fields, &format!("{new}duration"), "5m");
    fields = press(fields, "up-step-1").await;
    assert_eq!(texts(&fields)[0], original[0]);
    fields = press(fields, "remove-step-0").await;
    assert_eq!(texts(&fields)[0], original[1]);
    // Nothing is stored until Save.
    let (_, page) = app.page("/plans/example-kommune/systems/vmware").await;
    assert!(!page.contains("Nyt sidste trin"));
    set(&mut fields, "action", "save");
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let stored = app.system_form(PLAN, "vmware").await;
    let mut expected = original[1..].to_vec();
    expected.push("Nyt sidste trin".into());
    assert_eq!(texts(&stored), expected);
}

#[tokio::test]
async fn approval_versions_diff_and_the_audit_log() {
    for (app, db) in apps().await {
        // An edit by the owner.
        app.login_demo("jesper-moeller").await;
        let mut fields = app.system_form(PLAN, "vmware").await;
        set(&mut fields, "rto", "3h");
        assert_eq!(
            app.submit("/plans/example-kommune/systems/vmware/edit", &fields)
                .await
                .status()
                .as_u16(),
            303
        );
        let (_, page) = app.page("/plans/example-kommune").await;
        assert!(page.contains("Ingen version er godkendt endnu"));

        // Only the approver approves.
        let coordinator = app.second_client();
        coordinator.login_demo("lars-nielsen").await;
        let response = coordinator
            .post_form("/plans/example-kommune/approve", &[("comment", "no")])
            .await;
        assert_eq!(response.status().as_u16(), 403, "{}", db.backend);
        let approver = app.second_client();
        approver.login_demo("mette-holm").await;
        let (_, page) = approver.page("/plans/example-kommune/versions").await;
        assert!(page.contains("Godkend kladden"));
        let response = approver
            .post_form(
                "/plans/example-kommune/approve",
                &[("comment", "Årlig godkendelse")],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303, "{}", db.backend);
        let (_, page) = app.page("/plans/example-kommune").await;
        assert!(page.contains("Version 1 godkendt af mette-holm"), "{page}");
        assert!(!page.contains("Kladden har ændringer"));

        // A later edit shows up as a difference between version 1 and the draft.
        let mut fields = app.system_form(PLAN, "vmware").await;
        set(&mut fields, "rto", "2h");
        app.submit("/plans/example-kommune/systems/vmware/edit", &fields)
            .await;
        let (_, page) = app.page("/plans/example-kommune").await;
        assert!(page.contains("Kladden har ændringer, der ikke er godkendt"));
        let (status, page) = app
            .page("/plans/example-kommune/versions/diff?from=1&to=draft")
            .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Fra Version 1 til Kladde: 1 ændret felt"),
            "{page}"
        );
        assert!(page.contains("<code>rto</code></th><td class=\"pre\"><del>3h</del></td><td class=\"pre\"><ins>2h</ins>"));
        let (_, page) = app.page("/plans/example-kommune/versions").await;
        assert!(page.contains("Årlig godkendelse"));

        // The audit log, filtered, and as CSV.
        let (status, _) = app.page("/audit").await;
        assert_eq!(status, 403, "a system owner does not read the audit log");
        let today = chrono::Utc::now().date_naive().to_string();
        let (status, page) = coordinator
            .page(&format!(
                "/audit?actor=jesper-moeller&system=vmware&from={today}&to={today}"
            ))
            .await;
        assert_eq!(status, 200);
        assert!(page.contains("edit-system"));
        assert!(!page.contains("<code>approve</code>"));
        let response = coordinator
            .get("/audit.csv?plan=example-kommune&actor=jesper-moeller")
            .await;
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = response.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "time,actor,plan,system,action,field,before,after");
        assert!(
            lines.iter().any(
                |l| l.ends_with(",jesper-moeller,example-kommune,vmware,edit-system,rto,3h,2h")
            ),
            "{csv}"
        );
        assert!(
            lines.iter().any(
                |l| l.ends_with(",jesper-moeller,example-kommune,vmware,edit-system,rto,4h,3h")
            ),
            "{csv}"
        );
        assert_eq!(lines.len(), 3, "{csv}");
        let response = coordinator.get("/audit.csv?actor=mette-holm").await;
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains(",approve,version 1,,Årlig godkendelse")
        );
        let (status, _) = coordinator.page("/audit?from=28-11-2026").await;
        assert_eq!(status, 400);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_coordinator_edits_the_plan_sections_and_they_are_audited() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    app.login_demo("jesper-moeller").await;
    let (status, _) = app.page("/plans/example-kommune/sections/edit").await;
    assert_eq!(status, 403);
    let coordinator = app.second_client();
    coordinator.login_demo("lars-nielsen").await;
    let path = "/plans/example-kommune/sections/edit";
    let (_, page) = coordinator.page(path).await;
    let mut fields = form_fields(&page, path);
    set(
        &mut fields,
        "stand_down_criteria",
        "Alle kritiske systemer kører\nBorgerne er orienteret",
    );
    set(
        &mut fields,
        "call_tree",
        "anne-kjaer\nlars-nielsen <- anne-kjaer: Ringer videre\nukendt-person <- anne-kjaer",
    );
    let response = coordinator.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Der er ingen person “ukendt-person” i planen.")
    );
    set(
        &mut fields,
        "call_tree",
        "anne-kjaer\nlars-nielsen <- anne-kjaer: Ringer videre",
    );
    let response = coordinator.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = app.page("/plans/example-kommune/sections").await;
    assert!(page.contains("<li>Borgerne er orienteret</li>"));
    assert!(page.contains("Ringer videre"));
    let csv = coordinator
        .get("/audit.csv?actor=lars-nielsen")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("edit-sections,stand_down_criteria"), "{csv}");
    assert!(csv.contains("edit-sections,call_tree"), "{csv}");
}

#[tokio::test]
async fn script_quotes_and_danish_letters_round_trip_and_show_escaped() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    app.login_demo("jesper-moeller").await;
    let nasty = "<script>alert(\"x\")</script> 'æøå' & ÆØÅ";
    // An approved version first, so the versions page shows the change against it.
    let approver = app.second_client();
    approver.login_demo("mette-holm").await;
    approver
        .post_form("/plans/example-kommune/approve", &[("comment", "")])
        .await;
    let mut fields = app.system_form(PLAN, "vmware").await;
    set(&mut fields, "step-0-text", nasty);
    set(&mut fields, "name", nasty);
    app.submit("/plans/example-kommune/systems/vmware/edit", &fields)
        .await;
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#x27;æøå&#x27; &amp; ÆØÅ";
    let coordinator = app.second_client();
    coordinator.login_demo("lars-nielsen").await;
    for path in [
        "/plans/example-kommune",
        "/plans/example-kommune/systems/vmware",
        "/plans/example-kommune/systems/vmware/edit",
        "/plans/example-kommune/versions",
        "/audit",
        "/my",
    ] {
        let client = if path == "/my" { &app } else { &coordinator };
        let (status, page) = client.page(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!page.contains("<script>"), "{path}");
        assert!(page.contains(escaped), "{path}");
    }
    // Stored and given back exactly as typed.
    let stored = app.system_form(PLAN, "vmware").await;
    assert_eq!(stored.iter().find(|(k, _)| k == "name").unwrap().1, nasty);
    let csv = coordinator.get("/audit.csv").await.text().await.unwrap();
    assert!(
        csv.contains("<script>alert(\"\"x\"\")</script> 'æøå' & ÆØÅ"),
        "{csv}"
    );
}

#[tokio::test]
async fn my_systems_lists_what_the_owner_must_look_at() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    // The owner of adgangskontrol, whose review is overdue in the example plan.
    let owner = std::fs::read_to_string(
        helpers::repo().join("plans/example-kommune/systems/adgangskontrol.toml"),
    )
    .unwrap()
    .lines()
    .find_map(|l| {
        l.strip_prefix("owner = \"")
            .map(|r| r.trim_end_matches('"').to_string())
    })
    .unwrap();
    app.login_demo(&owner).await;
    let (status, page) = app.page("/my").await;
    assert_eq!(status, 200);
    assert!(page.contains("/plans/example-kommune/systems/adgangskontrol\""));
    assert!(page.contains("Gennemgang overskredet"));
    assert!(page.contains("review-overdue"));
    assert!(!page.contains("/systems/loen\""));
}

#[tokio::test]
async fn the_administrator_manages_accounts() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    app.login("admin", ADMIN_PASSWORD).await;
    let response = app
        .post_form(
            "/admin/accounts",
            &[
                ("username", "Bad Name"),
                ("display_name", ""),
                ("role", "viewer"),
                ("person", ""),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"username-error\""));
    assert!(page.contains("id=\"display_name-error\""));
    let response = app
        .post_form(
            "/admin/accounts",
            &[
                ("username", "new-owner"),
                ("display_name", "Ny Ejer"),
                ("role", "system-owner"),
                ("person", "mikkel-friis"),
                ("password", "a-long-password"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let user = app.second_client();
    user.login("new-owner", "a-long-password").await;
    // Linked to mikkel-friis, owner of print: may edit it.
    let (status, _) = user.page("/plans/example-kommune/systems/print/edit").await;
    assert_eq!(status, 200);
    let (status, _) = user.page("/admin/accounts").await;
    assert_eq!(status, 403);
    // Deactivated: the session ends and logins fail.
    let (_, page) = app.page("/admin/accounts").await;
    let start = page.find("/admin/accounts/").unwrap();
    let ids: Vec<&str> = page[start..]
        .split("/admin/accounts/")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    let mut found = None;
    for id in ids {
        let (_, p) = app.page(&format!("/admin/accounts/{id}")).await;
        if p.contains("<h1>new-owner</h1>") {
            found = Some(id.to_string());
        }
    }
    let id = found.unwrap();
    let response = app
        .post_form(
            &format!("/admin/accounts/{id}"),
            &[
                ("display_name", "Ny Ejer"),
                ("role", "system-owner"),
                ("person", "mikkel-friis"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let response = user.get("/plans/example-kommune").await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(user.try_login("new-owner", "a-long-password").await, 401);
}

#[tokio::test]
async fn the_coordinator_keeps_the_people_of_the_plan() {
    for (app, db) in apps().await {
        app.login_demo("lars-nielsen").await;
        let path = "/plans/example-kommune/people/anne-kjaer/edit";
        let (status, page) = app.page(path).await;
        assert_eq!(status, 200, "{}", db.backend);
        let mut fields = form_fields(&page, path);
        set(&mut fields, "phone", "+45 11 22 33 44");
        set(&mut fields, "email", "no-at-sign");
        let response = app.submit(path, &fields).await;
        assert_eq!(response.status().as_u16(), 422);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("“no-at-sign” er ikke en e-mailadresse.")
        );
        set(&mut fields, "email", "anne@example.dk");
        // Unticking every role box but one.
        fields.retain(|(k, v)| k != "role" || v == "beredskabsleder");
        let response = app.submit(path, &fields).await;
        assert_eq!(response.status().as_u16(), 303, "{}", db.backend);
        let (_, page) = app.page("/plans/example-kommune/people").await;
        assert!(page.contains("href=\"tel:+4511223344\""));
        // The same form again is stale.
        let response = app.submit(path, &fields).await;
        assert_eq!(response.status().as_u16(), 409);

        // A new person, then a second one with the same id.
        let new = "/plans/example-kommune/people/new";
        let (_, page) = app.page(new).await;
        let mut fields = form_fields(&page, new);
        set(&mut fields, "id", "ny-person");
        set(&mut fields, "name", "Ny Person");
        fields.push(("role".into(), "driftstekniker".into()));
        assert_eq!(app.submit(new, &fields).await.status().as_u16(), 303);
        let response = app.submit(new, &fields).await;
        assert_eq!(response.status().as_u16(), 422);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("“ny-person” er allerede brugt i planen.")
        );
        // The new person can own a system now.
        let mut system = app.system_form(PLAN, "print").await;
        set(&mut system, "deputy", "ny-person");
        assert_eq!(
            app.submit("/plans/example-kommune/systems/print/edit", &system)
                .await
                .status()
                .as_u16(),
            303
        );

        let csv = app
            .get("/audit.csv?actor=lars-nielsen")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            csv.contains("edit-person,person:anne-kjaer.phone,"),
            "{csv}"
        );
        assert!(
            csv.contains("edit-person,person:ny-person.name,,Ny Person"),
            "{csv}"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_change_saved_by_another_server_process_is_shown_at_once() {
    for (app, db) in apps().await {
        app.login_demo("lars-nielsen").await;
        let (_, before) = app.page("/plans/example-kommune/systems/print").await;
        assert!(!before.contains("Saved elsewhere"));
        // Another process: the store used directly, bypassing this server's memory.
        let store = beredskab::store::connect(&db.url).await.unwrap();
        let plan = beredskab::domain::PlanId::parse(PLAN).unwrap();
        let (mut print, revision) = beredskab::store::edits::load_system(&store, &plan, "print")
            .await
            .unwrap()
            .unwrap();
        print.workaround = "Saved elsewhere".into();
        let saved = beredskab::store::edits::save_system(&store, &plan, "other", &print, revision)
            .await
            .unwrap();
        assert!(matches!(saved, beredskab::store::edits::Saved::Done { .. }));
        let (_, after) = app.page("/plans/example-kommune/systems/print").await;
        assert!(after.contains("Saved elsewhere"), "{}", db.backend);
        let (_, overview) = app.page("/plans/example-kommune").await;
        assert!(overview.contains("Kladden har ændringer"));
        store.close().await.unwrap();
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_coordinator_plans_a_drill_and_the_invitations_go_out() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    app.login_demo("lars-nielsen").await;
    let (status, page) = app.page("/plans/example-kommune/drills").await;
    assert_eq!(status, 200);
    assert!(page.contains("Scenariebibliotek"));
    assert!(page.contains("/plans/example-kommune/drills/new?scenario=ad-nede"));
    let path = "/plans/example-kommune/drills/new?scenario=ad-nede";
    let (status, page) = app.page(path).await;
    assert_eq!(status, 200);
    let mut fields = form_fields(&page, path);
    let invited: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "participant")
        .map(|(_, v)| v.clone())
        .collect();
    assert!(
        invited.contains(&"sofie-andersen".to_string()),
        "the owner of ad"
    );
    // A bad schedule and an unknown participant are named beside their fields.
    set(&mut fields, "repeat", "recurring");
    set(&mut fields, "cron", "hver tirsdag");
    fields.push(("participant".into(), "ghost".into()));
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("“hver tirsdag” er ikke en tidsplan"),
        "{page}"
    );
    assert!(page.contains("Der er ingen person “ghost” i planen."));
    fields.retain(|(k, v)| !(k == "participant" && v == "ghost"));
    // A programme that would run every minute is refused, in the page's language.
    set(&mut fields, "cron", "* * * * *");
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("giver mere end én øvelse om dagen")
    );
    set(&mut fields, "repeat", "once");
    set(&mut fields, "at", "2020-01-01T09:00");
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Tidspunktet er overstået")
    );

    // A week ahead: inside the invitation window, so the invitations go out at once.
    let when = (chrono::Local::now() + chrono::Duration::days(7))
        .format("%Y-%m-%dT09:00")
        .to_string();
    set(&mut fields, "at", &when);
    set(&mut fields, "location", "Rådhuset, mødelokale 2");
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let drill = location(&response);
    assert!(drill.starts_with("/drills/"));
    // The scheduler's next pass queues the invitations; the mail worker's sends them.
    let sent = app.mail_after_jobs("invitation.").await.len();
    assert_eq!(
        sent,
        invited.len(),
        "one message per participant in the mail folder"
    );
    // The drill's page shows every invitation sent.
    let all_sent = format!("{} sendt, 0 venter, 0 afvist", invited.len());
    let page = app.page(&drill).await.1;
    assert!(page.contains(&all_sent), "{page}");
    assert!(page.contains("Facilitatorens noter"));
    let (status, page) = app.page("/outbox").await;
    assert_eq!(status, 200);
    assert!(page.contains("Invitation: Active Directory nede"));
    // A system owner sees the drill but not the facilitator's notes, and no outbox.
    let owner = app.second_client();
    owner.login_demo("jesper-moeller").await;
    let (_, page) = owner.page(&drill).await;
    assert!(!page.contains("Facilitatorens noter"));
    assert_eq!(owner.page("/outbox").await.0, 403);
    assert_eq!(owner.page(path).await.0, 403);
}

#[tokio::test]
async fn a_drill_is_recorded_per_system_closed_and_reported() {
    let db = helpers::sqlite_db();
    let app = spawn_app(&db.url, &helpers::repo().join("plans")).await;
    app.login_demo("lars-nielsen").await;
    let run = app.planned_occurrence("ad-nede").await;
    let (status, page) = app.page(&run).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"sys-ad\""),
        "the system down is recorded"
    );
    assert!(page.contains("id=\"sys-esdh\""), "and what depends on it");

    // A participant records AD: found, followed, 3 hours (RTO 4h: met).
    let owner = app.second_client();
    owner.login_demo("sofie-andersen").await;
    let record = format!("{run}/systems/ad");
    let csrf = owner.csrf().await;
    let answer = |found: &str, recovery: &str, notes: &str| {
        vec![
            ("csrf".to_string(), csrf.clone()),
            ("found".to_string(), found.to_string()),
            ("followed".to_string(), "yes".to_string()),
            ("recovery".to_string(), recovery.to_string()),
            ("notes".to_string(), notes.to_string()),
        ]
    };
    assert_eq!(
        owner
            .submit(&record, &answer("yes", "3h", "DC04 manglede"))
            .await
            .status()
            .as_u16(),
        303
    );
    let response = owner.submit(&record, &answer("yes", "tre timer", "")).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("“tre timer” er ikke en varighed")
    );
    // ESDH: 2 days against an RTO of 1 day: missed.
    let esdh = format!("{run}/systems/esdh");
    assert_eq!(
        owner
            .submit(&esdh, &answer("no", "2d", "Leverandøren svarede ikke"))
            .await
            .status()
            .as_u16(),
        303
    );
    // Someone not taking part may read but not record.
    let outsider = app.second_client();
    outsider.login_demo("michael-skov").await;
    let csrf_outsider = outsider.csrf().await;
    let response = outsider
        .submit(
            &record,
            &[
                ("csrf".to_string(), csrf_outsider),
                ("found".to_string(), "no".to_string()),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403);

    // The facilitator (coordinator here) closes it; afterwards nothing changes.
    assert_eq!(
        owner
            .post_form(&format!("{run}/close"), &[])
            .await
            .status()
            .as_u16(),
        403
    );
    let response = app.post_form(&format!("{run}/close"), &[]).await;
    assert_eq!(location(&response), format!("{run}/report"));
    let csrf = owner.csrf().await;
    let late = vec![
        ("csrf".to_string(), csrf),
        ("recovery".to_string(), "1h".to_string()),
    ];
    assert_eq!(owner.submit(&record, &late).await.status().as_u16(), 409);

    let (_, page) = app.page(&format!("{run}/report")).await;
    assert!(
        page.contains("RTO overholdt for 1, overskredet for 1"),
        "{page}"
    );
    let report: serde_json::Value = app
        .get(&format!("{run}/report.json"))
        .await
        .json()
        .await
        .unwrap();
    let system = |id: &str| {
        report["systems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(system("ad")["rto_met"], true);
    assert_eq!(system("ad")["recovery_minutes"], 180);
    assert_eq!(system("ad")["findings"], "DC04 manglede");
    assert_eq!(system("esdh")["rto_met"], false);
    assert_eq!(system("esdh")["procedure_found"], false);
    assert_eq!(report["occurrence"]["closed"], true);
    // The hot wash.
    let response = app
        .post_form(
            &format!("{run}/evaluation"),
            &[
                ("went_well", "Kaldetræet virkede"),
                ("went_badly", "DC04 var ukendt"),
                ("lessons", "Beskriv Azure-DC'en"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = app.page(&format!("{run}/report")).await;
    assert!(page.contains("Beskriv Azure-DC&#x27;en"), "{page}");
    assert!(page.contains("Evalueringen er skrevet"));
    // The system pages say when they were last exercised, and how it went.
    let (_, page) = app.page("/plans/example-kommune/systems/esdh").await;
    assert!(page.contains("Senest øvet"));
    assert!(page.contains("RTO overskredet"), "{page}");
    let (_, page) = app.page("/plans/example-kommune/systems/print").await;
    assert!(page.contains("Ikke øvet endnu"));

    // A finding becomes an action item for the ESDH owner, who is told by mail and closes it.
    let response = app
        .post_form(
            &format!("{run}/actions"),
            &[
                ("title", "Aftal kortere genopretningstid med KMD"),
                ("system", "esdh"),
                ("owner", "nanna-kristensen"),
                ("due", "2027-02-01"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let bad = app
        .post_form(
            &format!("{run}/actions"),
            &[("title", ""), ("owner", "ghost"), ("due", "snart")],
        )
        .await;
    assert_eq!(bad.status().as_u16(), 422);
    let (_, page) = app.page("/plans/example-kommune/actions").await;
    assert!(page.contains("Aftal kortere genopretningstid med KMD"));
    assert!(page.contains("1. februar 2027"));
    let mailed = app.mail_after_jobs("action.").await.len();
    assert_eq!(mailed, 1, "the owner is mailed");
    let nanna = app.second_client();
    nanna.login_demo("nanna-kristensen").await;
    // The owner sees it on "my systems".
    let (_, page) = nanna.page("/my").await;
    assert!(
        page.contains("Aftal kortere genopretningstid med KMD"),
        "{page}"
    );
    let (_, page) = nanna.page("/plans/example-kommune/actions").await;
    let at = page.find("/actions/").unwrap();
    let action = &page[at..at + page[at..].find('"').unwrap()];
    assert_eq!(
        nanna
            .post_form(action, &[("done", "1")])
            .await
            .status()
            .as_u16(),
        303
    );
    let (_, page) = app.page("/plans/example-kommune/actions").await;
    assert!(page.contains("Udført"));
    let (_, page) = nanna.page("/my").await;
    assert!(
        !page.contains("Aftal kortere genopretningstid med KMD"),
        "done items leave my page"
    );
    // Someone else's item cannot be changed by another owner.
    assert_eq!(
        owner
            .post_form(action, &[("done", "0")])
            .await
            .status()
            .as_u16(),
        403
    );
}
