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
                ("membership", "*|system-owner"),
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
        ("membership", "example-kommune|approver"),
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

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// Another browser on `app`'s server that says it is `agent`, signed in as `username`.
async fn browser(app: &TestApp, agent: &str, username: &str) -> TestApp {
    let mut other = app.second_client();
    other.client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(agent)
        .build()
        .unwrap();
    other.login_as(username).await;
    other
}

/// The addresses the "Log ud" buttons of a page post to (`/account/sessions/<key>/end`), in
/// order.
fn session_ends(page: &str) -> Vec<String> {
    page.split("action=\"/account/sessions/")
        .skip(1)
        .map(|s| format!("/account/sessions/{}", &s[..s.find('"').unwrap()]))
        .collect()
}

#[tokio::test]
async fn my_sessions_lists_where_i_am_signed_in_and_ends_one() {
    let app = TestApp::spawn().await;
    let laptop = browser(&app, FIREFOX, "lars-nielsen").await;
    let phone = browser(&app, IPHONE, "lars-nielsen").await;
    let other = browser(&app, FIREFOX, "mette-holm").await;
    let (status, page) = laptop.page("/account").await;
    assert_eq!(status, 200);
    let page = helpers::unescape(&page);
    assert!(page.contains("Mine sessioner"), "{page}");
    // Both of Lars's sessions, not Mette's, each with browser, address and its own button.
    assert!(page.contains("Firefox, Windows"));
    assert!(page.contains("Safari, iOS"));
    assert!(page.contains("<code>127.0.0.1</code>"));
    let ends = session_ends(&page);
    assert_eq!(ends.len(), 2, "{page}");
    // The current one is marked, once.
    assert_eq!(page.matches("Denne session").count(), 1);
    let current_row = &page[page.find("<tr class=\"current\"").unwrap()..];
    assert!(
        current_row[..current_row.find("</tr>").unwrap()].contains("Firefox, Windows"),
        "{current_row}"
    );
    // The phone's session, then: not the current one.
    let (_, phone_page) = phone.page("/account").await;
    let phone_key = {
        let row = &phone_page[phone_page.find("<tr class=\"current\"").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        session_ends(row).remove(0)
    };
    // Nobody else can end it, nor can it be ended without the form's CSRF token.
    let refused = other.post_form(&phone_key, &[]).await;
    assert_eq!(refused.status().as_u16(), 404);
    let forged = laptop
        .client
        .post(format!("{}{phone_key}", laptop.address))
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(phone.page("/account").await.0, 200);
    // Lars ends it from the laptop: the phone is signed out, the laptop is not.
    let ended = laptop.post_form(&phone_key, &[]).await;
    assert_eq!(ended.status().as_u16(), 303);
    assert_eq!(helpers::location(&ended), "/account");
    assert_eq!(phone.get("/account").await.status().as_u16(), 303);
    let (_, page) = laptop.page("/account").await;
    assert_eq!(session_ends(&page).len(), 1);
    // Ending the current one signs out here.
    let ended = laptop.post_form(&session_ends(&page)[0], &[]).await;
    assert_eq!(helpers::location(&ended), "/login");
    assert_eq!(laptop.get("/account").await.status().as_u16(), 303);
    assert_eq!(other.page("/account").await.0, 200);
}

#[tokio::test]
async fn the_administrator_ends_all_access_of_a_leaver_in_one_act() {
    let app = TestApp::spawn().await;
    let token = app.api_token("jesper-moeller").await;
    let second = app.api_token("jesper-moeller").await;
    let laptop = browser(&app, FIREFOX, "jesper-moeller").await;
    let phone = browser(&app, IPHONE, "jesper-moeller").await;
    let colleague = browser(&app, FIREFOX, "lars-nielsen").await;
    let api = |token: &str| {
        app.client
            .get(format!("{}/api/v1/plans", app.address))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(api(&token).await.unwrap().status().as_u16(), 200);
    // The leaver's calendar feed, subscribed to in a calendar program that signs in to nothing.
    let made = laptop
        .post_form("/plans/example-kommune/calendar/feed", &[])
        .await;
    let made = made.text().await.unwrap();
    let at = made.find("id=\"feed-url\">").expect("the feed address") + "id=\"feed-url\">".len();
    let url = &made[at..at + made[at..].find('<').unwrap()];
    let feed = url[url.find("/calendar/").unwrap()..].to_string();
    assert_eq!(app.get(&feed).await.status().as_u16(), 200);
    let db = app.handle().db.clone();
    let account = beredskab::store::accounts::find_by_username(&db, "jesper-moeller")
        .await
        .unwrap()
        .unwrap()
        .0;
    let admin = app.signed_in("admin").await;
    let path = format!("/admin/accounts/{}", account.id);
    let (_, page) = admin.page(&path).await;
    // Two browsers, and the session `api_token` signed in with to make each token.
    assert!(
        page.contains("Aktive sessioner: 4. API-nøgler: 2."),
        "{page}"
    );
    // Only an administrator may.
    let refused = colleague
        .post_form(&format!("{path}/end-access"), &[])
        .await;
    assert_eq!(refused.status().as_u16(), 403);
    let response = admin.post_form(&format!("{path}/end-access"), &[]).await;
    assert_eq!(response.status().as_u16(), 200);
    let page = helpers::unescape(&response.text().await.unwrap());
    assert!(
        page.contains("Sessioner afsluttet: 4. API-nøgler tilbagekaldt: 2."),
        "{page}"
    );
    assert!(page.contains("Aktive sessioner: 0. API-nøgler: 0."));
    for browser in [&laptop, &phone] {
        assert_eq!(browser.get("/account").await.status().as_u16(), 303);
    }
    for token in [&token, &second] {
        assert_eq!(api(token).await.unwrap().status().as_u16(), 401);
    }
    assert_eq!(
        app.get(&feed).await.status().as_u16(),
        404,
        "the feed is closed"
    );
    // Others keep theirs; the act is in the audit log, by whom and what it ended.
    assert_eq!(colleague.page("/account").await.0, 200);
    let (_, audit) = admin.page("/audit").await;
    let audit = helpers::unescape(&audit);
    assert!(
        audit.contains(
            "Kontoen logget ud overalt, dens API-nøgler tilbagekaldt og kalenderfeedet lukket"
        ),
        "{audit}"
    );
    assert!(audit.contains("4 sessions, 2 API tokens, 1 calendar feed"));
}
