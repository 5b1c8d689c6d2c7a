//! Accounts over real HTTP: the administrator creates, links and deactivates them.

mod helpers;

use helpers::TestApp;

#[tokio::test]
async fn the_administrator_manages_accounts() {
    let app = TestApp::spawn().await;
    app.login_as("admin").await;
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

/// The id of account `username`, from the accounts list.
async fn account_id(admin: &TestApp, username: &str) -> String {
    let (_, page) = admin.page("/admin/accounts").await;
    let marker = format!("\">{username}</a>");
    let end = page.find(&marker).expect("the account in the list");
    let start = page[..end].rfind("/admin/accounts/").unwrap() + "/admin/accounts/".len();
    page[start..end].to_string()
}

#[tokio::test]
async fn only_break_glass_accounts_sign_in_with_a_password_when_local_sign_in_is_for_them() {
    let app = TestApp::spawn_on_with(helpers::sqlite_db(), &helpers::plans(), |c| {
        c.local_login = beredskab::config::LocalLogin::BreakGlassOnly;
    })
    .await;
    let (_, page) = app.page("/login").await;
    assert!(page.contains("kun åbent for nødadgangskonti"));
    // A normal account with the right password gets the answer a wrong password gets.
    let response = app
        .submit_login("mette-holm", helpers::DEMO_PASSWORD, &[])
        .await;
    assert_eq!(response.status().as_u16(), 401);
    let refused = response.text().await.unwrap();
    let response = app.submit_login("nobody-here", "wrong", &[]).await;
    assert_eq!(response.status().as_u16(), 401);
    let unknown = response.text().await.unwrap();
    let message = |page: &str| {
        let start = page.find("id=\"login-error\">").unwrap();
        page[start..start + page[start..].find("</p>").unwrap()].to_string()
    };
    assert_eq!(message(&refused), message(&unknown));
    assert!(refused.contains("ikke en nødadgangskonto"));

    // The first administrator is break-glass, and is told to add a second factor.
    app.login_as("admin").await;
    let (_, page) = app.page("/plans/example-kommune").await;
    assert!(page.contains("id=\"enrol-hint\""), "{page}");
    let (_, accounts) = app.page("/admin/accounts").await;
    assert!(accounts.contains("Nødadgang"));

    // The administrator marks mette-holm break-glass: she signs in.
    let id = account_id(&app, "mette-holm").await;
    let (_, form) = app.page(&format!("/admin/accounts/{id}")).await;
    assert!(!form.contains("name=\"break_glass\" type=\"checkbox\" value=\"1\" checked"));
    let fields = [
        ("display_name", "Mette Holm"),
        ("role", "approver"),
        ("person", "mette-holm"),
        ("active", "1"),
        ("break_glass", "1"),
    ];
    let response = app
        .post_form(&format!("/admin/accounts/{id}"), &fields)
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let user = app.second_client();
    user.login("mette-holm", helpers::DEMO_PASSWORD).await;
    assert_eq!(user.page("/plans/example-kommune").await.0, 200);

    let db = &app.app.as_ref().unwrap().db;
    let filter = beredskab::store::audit::AuditFilter {
        actor: Some("admin".into()),
        ..Default::default()
    };
    let events = beredskab::store::audit::query(db, &filter).await.unwrap();
    let marked = events
        .iter()
        .find(|e| e.action == "account-break-glass")
        .expect("the marking audited");
    assert_eq!(
        (
            marked.field.as_str(),
            marked.before.as_str(),
            marked.after.as_str()
        ),
        ("mette-holm", "no", "yes")
    );
}

#[tokio::test]
async fn the_administrator_removes_a_lost_second_factor() {
    let app = TestApp::spawn().await;
    app.login_as("admin").await;
    // A second factor enrolled straight through the application, as the pages would.
    let handle = app.app.as_ref().unwrap();
    let (account, _) = beredskab::store::accounts::find_by_username(&handle.db, "anne-kjaer")
        .await
        .unwrap()
        .unwrap();
    let secret = beredskab::app::second_factor::new_secret();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&secret).unwrap())
        .build()
        .unwrap()
        .generate(now)
        .to_string();
    handle
        .enrol_second_factor(&account, &secret, &code, "")
        .await
        .unwrap();
    let user = app.second_client();
    let response = user
        .submit_login("anne-kjaer", helpers::DEMO_PASSWORD, &[])
        .await;
    assert_eq!(helpers::location(&response), "/login/code");

    let id = account_id(&app, "anne-kjaer").await;
    let (_, page) = app.page(&format!("/admin/accounts/{id}")).await;
    assert!(page.contains("Kontoen har totrinsbekræftelse."));
    let response = app
        .post_form(&format!("/admin/accounts/{id}/second-factor/remove"), &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = app.page(&format!("/admin/accounts/{id}")).await;
    assert!(page.contains("Kontoen har ikke totrinsbekræftelse."));
    let response = user
        .submit_login("anne-kjaer", helpers::DEMO_PASSWORD, &[])
        .await;
    assert_eq!(helpers::location(&response), "/");
    let filter = beredskab::store::audit::AuditFilter {
        actor: Some("admin".into()),
        ..Default::default()
    };
    let events = beredskab::store::audit::query(&handle.db, &filter)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "second-factor-remove" && e.field == "anne-kjaer")
    );
}
