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
