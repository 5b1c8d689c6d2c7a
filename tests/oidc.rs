//! Signing in through a real OpenID provider on loopback (npm's `oidc-provider`, see
//! `helpers::oidc`): the whole flow, the account made just in time and found again by issuer
//! and subject, each refusal with its page (forged state, replayed code, an ID token expired,
//! not yet valid, for another audience, from another issuer, unsigned, with a broken signature
//! or another nonce, an unknown person without just-in-time accounts, no group that gives
//! access), RP-initiated logout, and a provider that is down at start; and the whole flow in
//! headless Chromium (`helpers::chromium`: skipped without it unless `REQUIRE_BROWSER=1`).
//!
//! Without Node.js and `oidc-provider` (`OIDC_PROVIDER_DIR`) the tests print one line and pass,
//! unless `REQUIRE_OIDC=1`.

mod helpers;

use beredskab::store::{self, audit};
use helpers::oidc::{self, Provider};
use helpers::{ADMIN_PASSWORD, TestApp, location};

/// The username the provider gives Anne (its `preferred_username`, in lower case).
const ANNE: &str = "anne.kjaer@eksempel-kommune.dk";

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    audit::query(&app.handle().db, &audit::AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor, e.after))
        .collect()
}

/// A provider with `env` and a server signing in through it.
async fn provider_and_app(
    env: &[(&str, &str)],
    adjust: impl FnOnce(&mut beredskab::config::Config),
) -> Option<(Provider, TestApp)> {
    let provider = oidc::start(env)?;
    let app = oidc::spawn_app(&provider.issuer, adjust).await;
    Some((provider, app))
}

/// The answer to the way back from the provider after `user` signed in there is refused with
/// `status` and the page whose Danish title is `title`; nobody is signed in.
async fn assert_refused(app: &TestApp, provider: &Provider, user: &str, status: u16, title: &str) {
    let response = oidc::sign_in(app, provider, user).await;
    assert_eq!(response.status().as_u16(), status);
    let page = response.text().await.unwrap();
    assert!(
        page.contains(&format!("<h1>{title}</h1>")),
        "expected {title:?}: {page}"
    );
    assert_eq!(
        app.get("/account").await.status().as_u16(),
        303,
        "not signed in"
    );
}

#[tokio::test]
async fn a_person_signs_in_through_the_provider_and_gets_an_account_linked_to_their_person() {
    let Some((provider, app)) = provider_and_app(&[], |_| {}).await else {
        return;
    };
    // The login page offers the provider first, and its forms may lead on to the provider
    // (the logout's answer goes there).
    let response = app.get("/login?next=/plans/example-kommune").await;
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        policy.contains(&format!("form-action 'self' {};", provider.issuer)),
        "{policy}"
    );
    let page = response.text().await.unwrap();
    let button = page
        .find("id=\"login-provider\"")
        .expect("the provider's button");
    assert!(button < page.find("name=\"password\"").unwrap());
    assert!(page.contains("Log ind med Eksempel Kommune"));
    assert!(
        helpers::unescape(&page).contains("href=\"/auth/oidc/login?next=/plans/example-kommune\""),
        "{page}"
    );

    let response = oidc::sign_in(&app, &provider, "anne").await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/");
    // Signed in without a local second factor, though one is required for local accounts.
    assert!(app.handle().config.require_mfa);
    let (status, page) = app.page("/account").await;
    assert_eq!(status, 200);
    assert!(page.contains(ANNE), "{page}");
    // Her password and second factor are the provider's: the page offers neither, says where
    // they are kept, and a password change is refused.
    assert!(!page.contains("action=\"/account/password\""), "{page}");
    assert!(!page.contains("href=\"/account/second-factor\""));
    assert!(
        helpers::unescape(&page).contains("Du logger ind gennem Eksempel Kommune."),
        "{page}"
    );
    let refused = app
        .post_form(
            "/account/password",
            &[("current", ""), ("new", "en-helt-ny-adgangskode")],
        )
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    assert!(
        helpers::unescape(&refused.text().await.unwrap())
            .contains("Kontoen har ingen adgangskode i beredskab")
    );
    let (account, hash) = store::accounts::find_by_username(&app.handle().db, ANNE)
        .await
        .unwrap()
        .expect("the account made just in time");
    assert_eq!(account.display_name, "Anne Kjær");
    assert_eq!(account.person_id.as_deref(), Some("anne-kjaer"));
    assert!(hash.is_empty(), "no password");
    // Her groups gave her the memberships they map to: coordinator of the example plan.
    assert_eq!(account.memberships.len(), 1, "{:?}", account.memberships);
    assert_eq!(
        account.memberships[0].group.as_deref(),
        Some("beredskab-koordinatorer")
    );
    assert_eq!(
        app.page("/plans/example-kommune/sections/edit").await.0,
        200
    );
    // A password cannot sign the account in.
    assert_eq!(app.second_client().try_login(ANNE, "x").await, 401);

    // Signed in again, in another browser: the same account, found by issuer and subject.
    let accounts = store::accounts::count(&app.handle().db).await.unwrap();
    let other = app.second_client();
    assert_eq!(
        oidc::sign_in(&other, &provider, "anne")
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(
        store::accounts::count(&app.handle().db).await.unwrap(),
        accounts
    );
    let found = store::identities::account_of(&app.handle().db, &provider.issuer, "anne")
        .await
        .unwrap()
        .expect("found by issuer and subject");
    assert_eq!(found.id, account.id);

    let actions = audit_actions(&app).await;
    let count = |action: &str| actions.iter().filter(|(a, _, _)| a == action).count();
    assert_eq!(count("account-create-idp"), 1, "{actions:?}");
    assert_eq!(count("sign-in-idp"), 2, "{actions:?}");
    assert!(actions.iter().any(|(a, actor, after)| a == "sign-in-idp"
        && actor == ANNE
        && after.contains(&provider.issuer)));
}

#[tokio::test]
async fn the_page_asked_for_before_signing_in_is_where_the_provider_leads_back_to() {
    let Some((provider, app)) = provider_and_app(&[], |_| {}).await else {
        return;
    };
    let path = "/auth/oidc/login?next=/plans/example-kommune/systems/vmware";
    let url = oidc::authorize_from(&app, &provider, "anne", path).await;
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(location(&response), "/plans/example-kommune/systems/vmware");
    // A next that leaves the site is not followed.
    let away = app.second_client();
    let path = "/auth/oidc/login?next=//evil.example/";
    let url = oidc::authorize_from(&away, &provider, "anne", path).await;
    let response = away.client.get(&url).send().await.unwrap();
    assert_eq!(location(&response), "/");
}

#[tokio::test]
async fn a_person_without_a_group_that_gives_access_is_refused() {
    let Some((provider, app)) = provider_and_app(&[], |_| {}).await else {
        return;
    };
    assert_refused(
        &app,
        &provider,
        "bo",
        403,
        "Du har ikke adgang til nogen beredskabsplan – kontakt IT",
    )
    .await;
    let actions = audit_actions(&app).await;
    assert!(
        actions
            .iter()
            .any(|(a, _, after)| a == "sign-in-idp-refused"
                && after == "no group gives access to any plan"),
        "{actions:?}"
    );
    assert!(!actions.iter().any(|(a, _, _)| a == "sign-in-idp"));
}

#[tokio::test]
async fn a_forged_or_missing_state_is_refused() {
    let Some((provider, app)) = provider_and_app(&[], |_| {}).await else {
        return;
    };
    let title = "<h1>Du blev ikke logget ind</h1>";
    let url = oidc::authorize(&app, &provider, "anne").await;
    let forged = url.replace("state=", "state=forged");
    let response = app.client.get(&forged).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap().contains(title));
    assert_eq!(app.get("/account").await.status().as_u16(), 303);

    // Without a state, or in a browser that started no sign-in.
    let url = oidc::authorize(&app, &provider, "anne").await;
    let without: String = {
        let (base, query) = url.split_once('?').unwrap();
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.starts_with("state="))
            .collect();
        format!("{base}?{}", kept.join("&"))
    };
    let response = app.client.get(&without).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let url = oidc::authorize(&app, &provider, "anne").await;
    let stranger = app.second_client();
    let response = stranger.client.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.text().await.unwrap().contains(title));
    // The sign-in's own browser still finishes it: the stranger took nothing from it.
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303);
}

#[tokio::test]
async fn a_replayed_code_is_refused_by_the_provider_and_answered_with_a_page() {
    let Some((provider, app)) = provider_and_app(&[], |_| {}).await else {
        return;
    };
    let url = oidc::authorize(&app, &provider, "anne").await;
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status().as_u16(),
        303
    );
    // A new sign-in in the same browser, answered with the code used already.
    let started = app.get("/auth/oidc/login").await;
    let state = location(&started)
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("state=").map(str::to_string))
        .unwrap();
    let code = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code="))
        .unwrap();
    let replay = format!(
        "{}/auth/oidc/callback?code={code}&state={state}",
        app.address
    );
    let response = app.client.get(&replay).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("<h1>Kommunens login afviste log ind</h1>"),
        "{page}"
    );
    let actions = audit_actions(&app).await;
    assert!(
        actions
            .iter()
            .any(|(a, _, after)| a == "sign-in-idp-refused"
                && after.starts_with("the provider refused the code")),
        "{actions:?}"
    );
}

#[tokio::test]
async fn an_id_token_that_expired_is_refused() {
    // The provider's clock two hours behind: its one-hour tokens arrive expired.
    let Some((provider, app)) = provider_and_app(&[("OIDC_CLOCK_OFFSET", "-7200")], |_| {}).await
    else {
        return;
    };
    assert_refused(&app, &provider, "anne", 401, "Identitetsbeviset er udløbet").await;
}

#[tokio::test]
async fn an_id_token_that_is_not_valid_yet_is_refused() {
    // The provider's clock two hours ahead: its tokens are issued in the future.
    let Some((provider, app)) = provider_and_app(&[("OIDC_CLOCK_OFFSET", "7200")], |_| {}).await
    else {
        return;
    };
    assert_refused(
        &app,
        &provider,
        "anne",
        401,
        "Identitetsbeviset gælder ikke endnu",
    )
    .await;
}

#[tokio::test]
async fn an_id_token_for_another_client_is_refused() {
    let Some((provider, app)) = provider_and_app(&[("OIDC_TAMPER", "audience")], |_| {}).await
    else {
        return;
    };
    assert_refused(
        &app,
        &provider,
        "anne",
        401,
        "Identitetsbeviset er udstedt til et andet system",
    )
    .await;
    assert!(
        store::accounts::find_by_username(&app.handle().db, ANNE)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    let Some((provider, app)) = provider_and_app(&[("OIDC_TAMPER", "issuer")], |_| {}).await else {
        return;
    };
    assert_refused(
        &app,
        &provider,
        "anne",
        401,
        "Identitetsbeviset kommer fra en anden udsteder",
    )
    .await;
}

#[tokio::test]
async fn an_unsigned_id_token_is_refused() {
    let Some((provider, app)) = provider_and_app(&[("OIDC_TAMPER", "none")], |_| {}).await else {
        return;
    };
    assert_refused(
        &app,
        &provider,
        "anne",
        401,
        "Identitetsbeviset er ikke signeret",
    )
    .await;
}

#[tokio::test]
async fn an_id_token_whose_signature_does_not_hold_is_refused() {
    let Some((provider, app)) = provider_and_app(&[("OIDC_TAMPER", "signature")], |_| {}).await
    else {
        return;
    };
    assert_refused(
        &app,
        &provider,
        "anne",
        401,
        "Identitetsbevisets signatur holder ikke",
    )
    .await;
}

#[tokio::test]
async fn an_id_token_with_the_nonce_of_another_request_is_refused() {
    let Some((provider, app)) = provider_and_app(&[("OIDC_TAMPER", "nonce")], |_| {}).await else {
        return;
    };
    assert_refused(&app, &provider, "anne", 401, "Du blev ikke logget ind").await;
    let actions = audit_actions(&app).await;
    assert!(
        actions
            .iter()
            .any(|(a, _, after)| a == "sign-in-idp-refused" && after.starts_with("ID token nonce")),
        "{actions:?}"
    );
}

#[tokio::test]
async fn an_unknown_person_is_refused_when_accounts_are_not_created_just_in_time() {
    let Some((provider, app)) = provider_and_app(&[], |c| c.oidc_create_accounts = false).await
    else {
        return;
    };
    let accounts = store::accounts::count(&app.handle().db).await.unwrap();
    assert_refused(
        &app,
        &provider,
        "anne",
        403,
        "Du har ingen konto i beredskabsplanen",
    )
    .await;
    assert_eq!(
        store::accounts::count(&app.handle().db).await.unwrap(),
        accounts
    );
}

#[tokio::test]
async fn logging_out_ends_the_session_at_the_provider_too() {
    // Without a required second factor, so that the local administrator signs in at once.
    let Some((provider, app)) = provider_and_app(&[], |c| c.require_mfa = false).await else {
        return;
    };
    assert_eq!(
        oidc::sign_in(&app, &provider, "anne")
            .await
            .status()
            .as_u16(),
        303
    );
    let response = app.post_form("/logout", &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let to = location(&response);
    assert!(
        to.starts_with(&format!("{}/session/end?", provider.issuer)),
        "{to}"
    );
    let url = reqwest::Url::parse(&to).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_string())
    };
    assert_eq!(
        param("post_logout_redirect_uri"),
        Some(format!("{}/login", app.address))
    );
    assert_eq!(param("client_id").as_deref(), Some(oidc::CLIENT_ID));
    assert_eq!(
        param("id_token_hint").map(|t| t.split('.').count()),
        Some(3)
    );
    // Signed out here.
    assert_eq!(app.get("/account").await.status().as_u16(), 303);
    // The provider takes the request: it asks to confirm the logout, no error.
    let confirm = app.client.get(&to).send().await.unwrap();
    assert_eq!(confirm.status().as_u16(), 200);
    let page = confirm.text().await.unwrap();
    assert!(page.contains("op.logoutForm"), "{page}");

    // A local account's logout stays here.
    let admin = app.second_client();
    admin.login("admin", ADMIN_PASSWORD).await;
    let response = admin.post_form("/logout", &[]).await;
    assert_eq!(location(&response), "/login");
}

#[tokio::test]
async fn a_provider_down_at_start_is_discovered_later_and_local_login_works_meanwhile() {
    let Some((node, dir)) = oidc::available() else {
        return;
    };
    let port = oidc::free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let app = oidc::spawn_app(&issuer, |_| {}).await;
    // The login page works and offers the provider; the provider answers nothing.
    let (status, page) = app.page("/login").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"login-provider\""));
    let response = app.get("/auth/oidc/login").await;
    assert_eq!(response.status().as_u16(), 502);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("<h1>Kommunens login kan ikke nås</h1>"),
        "{page}"
    );
    // The break-glass administrator signs in with a password (and the second factor it must
    // enrol, as one is required).
    let admin = app.second_client();
    let response = admin.submit_login("admin", ADMIN_PASSWORD, &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/account/second-factor");

    // The provider comes up: the next sign-in discovers it.
    let provider = oidc::start_with(&node, &dir, &[("OIDC_PORT", &port.to_string())]);
    let response = oidc::sign_in(&app, &provider, "carl").await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(app.get("/account").await.status().as_u16(), 200);
    // A reader of every plan, as his group says: he reads the plan and edits nothing.
    assert_eq!(app.page("/plans/example-kommune").await.0, 200);
    assert_eq!(
        app.page("/plans/example-kommune/sections/edit").await.0,
        403
    );
}

/// Waits (up to 10 s) until the page shows `css`.
async fn wait_for(c: &fantoccini::Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

/// At the provider's login page: signs in as `user` (any password).
async fn provider_login(c: &fantoccini::Client, user: &str) {
    wait_for(c, "input[name=login]")
        .await
        .send_keys(user)
        .await
        .unwrap();
    wait_for(c, "input[name=password]")
        .await
        .send_keys("any password")
        .await
        .unwrap();
    wait_for(c, "button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_whole_flow_in_chromium_signs_in_logs_out_at_the_provider_and_refuses_without_groups() {
    let Some(provider) = oidc::start(&[]) else {
        return;
    };
    let Some((_driver, c)) = helpers::chromium::browser().await else {
        return;
    };
    let app = oidc::spawn_app(&provider.issuer, |_| {}).await;
    let base = app.address.clone();

    c.goto(&format!("{base}/login?next=/plans/example-kommune"))
        .await
        .unwrap();
    let button = wait_for(&c, "#login-provider").await;
    assert_eq!(button.text().await.unwrap(), "Log ind med Eksempel Kommune");
    button.click().await.unwrap();
    // At the provider.
    provider_login(&c, "anne").await;
    // Back, signed in, on the page asked for.
    wait_for(&c, "form[action='/logout']").await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.origin().ascii_serialization(), base);
    assert!(url.path().starts_with("/plans/example-kommune"), "{url}");

    // Logging out goes on to the provider's logout (the page's form-action lets it), and from
    // there back to the login page.
    wait_for(&c, "form[action='/logout'] button")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "button[name=logout]")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#login-provider").await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.as_str(), format!("{base}/login"));

    // Someone whose groups give no access gets the page that says so, and is not signed in.
    wait_for(&c, "#login-provider").await.click().await.unwrap();
    provider_login(&c, "bo").await;
    // The provider's own page has a heading too: wait until the browser is back with us.
    let back = std::time::Instant::now();
    while !c.current_url().await.unwrap().as_str().starts_with(&base) {
        assert!(back.elapsed().as_secs() < 10, "still at the provider");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let heading = wait_for(&c, "h1").await;
    assert_eq!(
        heading.text().await.unwrap(),
        "Du har ikke adgang til nogen beredskabsplan – kontakt IT"
    );
    assert!(
        c.find(fantoccini::Locator::Css("form[action='/logout']"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn moved_to_another_group_at_the_provider_the_next_sign_in_gives_its_roles() {
    let Some((provider, app)) = provider_and_app(&[], |_| {}).await else {
        return;
    };
    // Anne signs in as coordinator of the example plan, from her group.
    assert_eq!(
        oidc::sign_in(&app, &provider, "anne")
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(
        app.page("/plans/example-kommune/sections/edit").await.0,
        200
    );
    // The directory moves her to the readers' group; her next sign-in renews her memberships.
    let moved = app
        .client
        .put(format!("{}/test/groups/anne", provider.issuer))
        .body(r#"["beredskab-laesere"]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 204);
    let again = app.second_client();
    assert_eq!(
        oidc::sign_in(&again, &provider, "anne")
            .await
            .status()
            .as_u16(),
        303
    );
    let (account, _) = store::accounts::find_by_username(&app.handle().db, ANNE)
        .await
        .unwrap()
        .unwrap();
    let groups: Vec<_> = account
        .memberships
        .iter()
        .filter_map(|m| m.group.as_deref())
        .collect();
    assert_eq!(groups, ["beredskab-laesere"], "{:?}", account.memberships);
    assert_eq!(
        again.page("/plans/example-kommune").await.0,
        200,
        "she reads"
    );
    assert_eq!(
        again.page("/plans/example-kommune/sections/edit").await.0,
        403,
        "and edits no more"
    );
    // The change is audited with what it was and what it became.
    let actions = audit_actions(&app).await;
    assert!(
        actions
            .iter()
            .any(|(a, actor, _)| a == "account-groups" && actor == ANNE),
        "{actions:?}"
    );
}
