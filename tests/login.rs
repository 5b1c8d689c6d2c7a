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
