//! Signing in and out over real HTTP: pages need a login, wrong passwords are refused, repeated
//! failures lock the username for a while, and a login gets a new session that logging out ends.

mod helpers;

use helpers::{ADMIN_PASSWORD, TestApp, location};

#[tokio::test]
async fn pages_need_a_login_and_wrong_passwords_are_refused() {
    let app = TestApp::spawn().await;
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
    app.login_as("admin").await;
    let (status, page) = app.page("/plans/example-kommune").await;
    assert_eq!(status, 200);
    assert!(page.contains("Administrator"));
    // Each sign-in and each refusal is in the audit log, the break-glass one marked.
    let records = beredskab::store::audit::query(&app.handle().db, &Default::default())
        .await
        .unwrap();
    let local = |action: &str, who: &str, after: &str| {
        records
            .iter()
            .filter(|r| r.action == action && r.field == who && r.after == after)
            .count()
    };
    assert_eq!(local("sign-in-local-refused", "admin", "password"), 1);
    assert_eq!(local("sign-in-local-refused", "nobody", "password"), 1);
    assert_eq!(local("sign-in-local", "admin", "break-glass"), 1);
    let (_, audit) = app.page("/audit").await;
    assert!(audit.contains("Log ind med adgangskode afvist"), "{audit}");
    assert!(audit.contains("Logget ind med adgangskode"));
}

#[tokio::test]
async fn repeated_failures_lock_the_username_for_a_while() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_eq!(app.try_login("lars-nielsen", "guess").await, 401);
    }
    // Locked now, even with the right password; other usernames are not affected.
    assert_eq!(
        app.try_login("lars-nielsen", helpers::DEMO_PASSWORD).await,
        429
    );
    let response = app.submit_login("lars-nielsen", "guess", &[]).await;
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
    let app = TestApp::spawn().await;
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

/// The TOTP secret an enrolment page shows, without the spaces that group it.
fn secret_of(page: &str) -> String {
    let marker = "id=\"totp-secret\">";
    let start = page.find(marker).expect("the secret on the page") + marker.len();
    let end = start + page[start..].find('<').unwrap();
    page[start..end].replace(' ', "")
}

/// The code an authenticator app shows for `secret` at Unix time `time`.
fn code_at(secret: &str, time: u64) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap()
        .generate(time)
        .to_string()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The recovery codes a confirmed enrolment shows.
fn recovery_codes_of(page: &str) -> Vec<String> {
    let list = &page[page
        .find("id=\"recovery-codes\"")
        .expect("the recovery codes")..];
    let list = &list[..list.find("</ol>").unwrap()];
    list.split("<code class=\"secret\">")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_string())
        .collect()
}

/// Submits the second step of signing in with `code`; returns the status and the page.
async fn submit_code(client: &TestApp, code: &str) -> (u16, String) {
    let (status, page) = client.page("/login/code").await;
    assert_eq!(status, 200, "the second step is waiting");
    let csrf = helpers::csrf_of(&page);
    let response = client
        .client
        .post(format!("{}/login/code", client.address))
        .form(&[("csrf", csrf.as_str()), ("code", code)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Enrols `client` (signed in, or sent to enrolment) with a code of time `t0`; returns the
/// secret and the recovery codes.
async fn enrol(client: &TestApp, t0: u64) -> (String, Vec<String>) {
    let (status, page) = client.page("/account/second-factor").await;
    assert_eq!(status, 200);
    assert!(page.contains("src=\"data:image/svg+xml,"), "the QR code");
    let secret = secret_of(&page);
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let csrf = helpers::csrf_of(&page);
    let post = |code: String| {
        let csrf = csrf.clone();
        async move {
            client
                .client
                .post(format!("{}/account/second-factor", client.address))
                .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = post(code_at(&secret, t0 + 600)).await;
    assert_eq!(wrong.status().as_u16(), 422);
    let page = wrong.text().await.unwrap();
    assert!(page.contains("Koden passer ikke"), "{page}");
    assert_eq!(secret_of(&page), secret, "the same secret is shown again");
    let confirmed = post(code_at(&secret, t0)).await;
    assert_eq!(confirmed.status().as_u16(), 200);
    let page = confirmed.text().await.unwrap();
    assert!(page.contains("Gendannelseskoder"), "{page}");
    let codes = recovery_codes_of(&page);
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

#[tokio::test]
async fn a_second_factor_is_enrolled_then_asked_for_and_each_code_taken_once() {
    for (app, _backend) in helpers::apps().await {
        second_factor_round(app).await;
    }
}

/// Enrolment, sign-ins with codes and recovery codes, and turning it off, on one server.
async fn second_factor_round(app: TestApp) {
    let t0 = unix_now();
    let user = app.signed_in("mette-holm").await;
    let (secret, recovery) = enrol(&user, t0).await;
    let (_, account) = user.page("/account").await;
    assert!(account.contains("Du har 10 ubrugte gendannelseskoder."));

    // The password alone no longer signs in: the second step waits.
    let other = app.second_client();
    let response = other
        .submit_login("mette-holm", helpers::DEMO_PASSWORD, &[])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/login/code");
    assert_eq!(other.get("/plans/example-kommune").await.status(), 303);
    let (status, page) = submit_code(&other, &code_at(&secret, t0 + 600)).await;
    assert_eq!(status, 401, "a wrong code");
    assert!(page.contains("Koden passer ikke"));
    let (status, _) = submit_code(&other, &code_at(&secret, t0)).await;
    assert_eq!(status, 401, "the code that confirmed the enrolment is used");
    let next = code_at(&secret, t0 + 30);
    let (status, _) = submit_code(&other, &next).await;
    assert_eq!(status, 303, "the next step's code, within the skew");
    assert_eq!(other.page("/plans/example-kommune").await.0, 200);

    // The same code a second time, from another browser: refused.
    let third = app.second_client();
    third.login("mette-holm", helpers::DEMO_PASSWORD).await;
    let (status, _) = submit_code(&third, &next).await;
    assert_eq!(status, 401);
    // A recovery code works once, typed as people type it.
    let typed = recovery[0].to_uppercase().replace('-', " ");
    let (status, _) = submit_code(&third, &typed).await;
    assert_eq!(status, 303);
    assert_eq!(third.get("/").await.status(), 303, "on to the only plan");
    let (_, page) = third.page("/plans/example-kommune").await;
    assert!(page.contains("har 9 koder tilbage"), "{page}");
    let fourth = app.second_client();
    fourth.login("mette-holm", helpers::DEMO_PASSWORD).await;
    let (status, _) = submit_code(&fourth, &recovery[0]).await;
    assert_eq!(status, 401, "a recovery code is single-use");

    // Turning it off asks for a code; a wrong one changes nothing.
    let response = third
        .post_form("/account/second-factor/disable", &[("code", "123")])
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let response = third
        .post_form("/account/second-factor/disable", &[("code", &recovery[1])])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let response = app
        .submit_login("mette-holm", helpers::DEMO_PASSWORD, &[])
        .await;
    assert_eq!(
        location(&response),
        "/",
        "the password alone signs in again"
    );

    // Audited, without the codes.
    let db = &app.app.as_ref().unwrap().db;
    let filter = beredskab::store::audit::AuditFilter {
        actor: Some("mette-holm".into()),
        ..Default::default()
    };
    let (sign_ins, events): (Vec<_>, Vec<_>) = beredskab::store::audit::query(db, &filter)
        .await
        .unwrap()
        .into_iter()
        .partition(|e| e.action.starts_with("sign-in-local"));
    // The sign-ins are audited with the rest: each wrong code, each one that held.
    assert!(
        sign_ins
            .iter()
            .filter(|e| e.action == "sign-in-local-refused" && e.after == "code")
            .count()
            >= 3
    );
    assert!(sign_ins.iter().any(|e| e.action == "sign-in-local"));
    let actions: Vec<&str> = events.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "second-factor-enrol",
            "recovery-code-use",
            "recovery-code-use",
            "second-factor-disable"
        ]
    );
    assert_eq!(events[1].after, "8 left");
    let admin = app.signed_in("admin").await;
    let (_, audit) = admin.page("/audit").await;
    assert!(audit.contains("Gendannelseskode brugt") && audit.contains("8 tilbage"));
    assert!(audit.contains("Totrinsbekræftelse slået til"));
    for event in &events {
        for code in &recovery {
            assert!(!event.after.contains(code.as_str()) && !event.before.contains(code.as_str()));
        }
    }
}

#[tokio::test]
async fn required_second_factor_sends_an_account_without_one_to_enrolment_first() {
    let app = TestApp::spawn_on_with(helpers::sqlite_db(), &helpers::plans(), |c| {
        c.require_mfa = true;
    })
    .await;
    let user = app.second_client();
    let response = user
        .submit_login("lars-nielsen", helpers::DEMO_PASSWORD, &[("next", "/my")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(location(&response), "/account/second-factor");
    // Nothing else is open until the second factor is there.
    assert_eq!(user.get("/plans/example-kommune").await.status(), 303);
    assert_eq!(user.get("/account").await.status(), 303);
    let (_, page) = user.page("/account/second-factor").await;
    assert!(page.contains("skal have totrinsbekræftelse, før du kan bruge beredskab"));
    let (secret, _) = enrol(&user, unix_now()).await;
    assert_eq!(user.page("/plans/example-kommune").await.0, 200);
    // Signing in again asks for the code.
    let again = app.second_client();
    again.login("lars-nielsen", helpers::DEMO_PASSWORD).await;
    let (status, _) = submit_code(&again, &code_at(&secret, unix_now() + 30)).await;
    assert_eq!(status, 303);
    assert_eq!(again.page("/plans/example-kommune").await.0, 200);
}

#[tokio::test]
async fn wrong_codes_lock_the_username_like_wrong_passwords() {
    let app = TestApp::spawn().await;
    let user = app.signed_in("anne-kjaer").await;
    let (secret, _) = enrol(&user, unix_now()).await;
    let wrong = code_at(&secret, unix_now() + 900);
    let client = app.second_client();
    client.login("anne-kjaer", helpers::DEMO_PASSWORD).await;
    for _ in 0..5 {
        assert_eq!(submit_code(&client, &wrong).await.0, 401);
    }
    // Locked now: the code step ends, and the password is refused for the while.
    let (status, page) = submit_code(&client, &code_at(&secret, unix_now() + 30)).await;
    assert_eq!(status, 429);
    assert!(page.contains("For mange mislykkede forsøg"));
    assert_eq!(client.get("/login/code").await.status(), 303);
    assert_eq!(
        app.try_login("anne-kjaer", helpers::DEMO_PASSWORD).await,
        429
    );
}

/// Moves every recorded failed login `minutes` and `seconds` into the past, as if that much
/// time had gone by (the servers' clocks are the system's).
async fn age_failures(url: &str, minutes: i64, seconds: i64) {
    use beredskab::store::entities::login_failures;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
    let db = beredskab::store::connect(url).await.unwrap();
    let by = chrono::Duration::minutes(minutes) + chrono::Duration::seconds(seconds);
    for row in login_failures::Entity::find().all(&db).await.unwrap() {
        let at = row.failed_at - by;
        let mut row = row.into_active_model();
        row.failed_at = Set(at);
        row.update(&db).await.unwrap();
    }
    db.close().await.unwrap();
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn failures_on_one_server_lock_the_username_on_another() {
    let Some(db) = helpers::postgres_db().await else {
        println!(
            "TEST_POSTGRES_URL is not set: the two-server login throttle test needs PostgreSQL"
        );
        return;
    };
    let one = helpers::spawn_app(&db.url, &helpers::plans()).await;
    let two = helpers::spawn_app(&db.url, &helpers::plans()).await;
    for _ in 0..3 {
        assert_eq!(one.try_login("lars-nielsen", "guess").await, 401);
    }
    for _ in 0..2 {
        assert_eq!(two.try_login("Lars-Nielsen", "guess").await, 401);
    }
    // Five failures in all, on two servers: both refuse now, even the right password.
    for server in [&one, &two] {
        let response = server
            .submit_login("lars-nielsen", helpers::DEMO_PASSWORD, &[])
            .await;
        assert_eq!(response.status().as_u16(), 429);
        let seconds = retry_after(&response);
        assert!((890..=900).contains(&seconds), "{seconds}");
        let page = helpers::unescape(&response.text().await.unwrap());
        assert!(page.contains("Prøv igen om 15 minutter."), "{page}");
    }
    // Three minutes later: twelve to go, in the header and in words.
    age_failures(&db.url, 3, 0).await;
    let response = two.submit_login("lars-nielsen", "guess", &[]).await;
    assert_eq!(response.status().as_u16(), 429);
    let seconds = retry_after(&response);
    assert!((710..=720).contains(&seconds), "{seconds}");
    assert!(
        helpers::unescape(&response.text().await.unwrap()).contains("Prøv igen om 12 minutter.")
    );
    // Once the oldest failure has left the window, the right password signs in on either.
    age_failures(&db.url, 12, 1).await;
    assert_eq!(
        one.try_login("lars-nielsen", helpers::DEMO_PASSWORD).await,
        303
    );
    // The success forgot the failures: one more wrong password is just wrong, on the other.
    assert_eq!(two.try_login("lars-nielsen", "guess").await, 401);
    drop((one, two));
    db.cleanup().await;
}

#[tokio::test]
async fn the_lock_says_a_minute_at_the_end_and_lifts_after_the_window() {
    let db = helpers::sqlite_db();
    let app = helpers::spawn_app(&db.url, &helpers::plans()).await;
    for _ in 0..5 {
        assert_eq!(app.try_login("anne-kjaer", "guess").await, 401);
    }
    age_failures(&db.url, 14, 30).await;
    let response = app.submit_login("anne-kjaer", "guess", &[]).await;
    assert_eq!(response.status().as_u16(), 429);
    let seconds = retry_after(&response);
    assert!((20..=30).contains(&seconds), "{seconds}");
    assert!(helpers::unescape(&response.text().await.unwrap()).contains("Prøv igen om et minut."));
    // In English too.
    let english = app.signed_in("").await;
    english.get("/lang/en").await;
    let response = english.submit_login("anne-kjaer", "guess", &[]).await;
    assert_eq!(response.status().as_u16(), 429);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Try again in a minute.")
    );
    age_failures(&db.url, 0, 31).await;
    assert_eq!(
        app.try_login("anne-kjaer", helpers::DEMO_PASSWORD).await,
        303
    );
}
