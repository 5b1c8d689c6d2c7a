//! Roles per plan: an account sees only the plans it holds a membership of, with the roles it
//! holds in each. A plan it has none of is absent: its pages and API answer exactly as for a
//! plan that does not exist, and it is left out of the lists, the audit log, the outbox and the
//! calendar feed. Memberships are given on the account page and by identity-provider groups
//! through the group mapping; the migration gives every existing account its old role in every
//! existing plan.

mod helpers;

use helpers::routes::{ROLES, respond, routes};
use helpers::{TestApp, copy_dir, csrf_of, example_plan, location, mini_plan_in};

/// The other plan, which the example plan's people hold no membership of.
const OTHER: &str = "anden-plan";
/// Its name, which must not show to them.
const OTHER_NAME: &str = "Mini plan";

/// A server with the example plan and the small test plan as `anden-plan`: the example
/// plan's people are members of the example plan only, the small plan's of theirs only.
async fn two_plans() -> TestApp {
    let dir = tempfile::tempdir().unwrap().keep();
    copy_dir(&example_plan(), &dir.join("example-kommune"));
    mini_plan_in(&dir, OTHER);
    TestApp::spawn_on(helpers::sqlite_db(), &dir).await
}

#[tokio::test]
async fn a_plan_without_membership_answers_as_if_it_did_not_exist() {
    let app = two_plans().await;
    let mut wrong = Vec::new();
    for (role, username) in ROLES {
        if username.is_empty() || username == "admin" {
            continue;
        }
        let client = app.signed_in(username).await;
        for (method, path, body, _) in routes() {
            if !path.contains("/example-kommune") {
                continue;
            }
            let other = path.replace("/example-kommune", &format!("/{OTHER}"));
            let none = path.replace("/example-kommune", "/ingen-plan");
            let seen = respond(&client, method, &other, &body).await;
            let seen_status = seen.status().as_u16();
            let text = seen.text().await.unwrap();
            let absent = respond(&client, method, &none, &body)
                .await
                .status()
                .as_u16();
            if seen_status != absent || (200..300).contains(&seen_status) {
                wrong.push(format!(
                    "{role:<14} {method:<4} {other}: {seen_status}, a plan that does not exist: {absent}"
                ));
            }
            if text.contains(OTHER_NAME) {
                wrong.push(format!("{role:<14} {method:<4} {other}: names the plan"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "the other plan showed:\n{}",
        wrong.join("\n")
    );

    // The administrator sees both plans.
    let admin = app.signed_in("admin").await;
    assert_eq!(admin.page(&format!("/plans/{OTHER}")).await.0, 200);
    let (_, plans) = admin.page("/").await;
    assert!(
        plans.contains(OTHER_NAME) && plans.contains("Eksempel Kommune"),
        "{plans}"
    );
}

#[tokio::test]
async fn what_happens_in_another_plan_stays_out_of_lists_logs_feeds_and_the_outbox() {
    let app = two_plans().await;
    let admin = app.signed_in("admin").await;
    // An incident in the other plan, its people alerted, a note added.
    let response = admin
        .post_form(
            &format!("/plans/{OTHER}/incidents"),
            &[
                ("title", "Strømmen er gået"),
                ("criterion", ""),
                ("started", ""),
                ("down", "strom"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let incident = location(&response);
    let alerted = admin
        .post_form(&format!("{incident}/alert"), &[("confirmed", "1")])
        .await;
    assert_eq!(alerted.status().as_u16(), 303);
    let note = admin
        .post_form(
            &format!("{incident}/notes"),
            &[("text", "Elselskabet er ringet op")],
        )
        .await;
    assert_eq!(note.status().as_u16(), 303);
    let due = (chrono::Local::now() + chrono::Duration::days(14))
        .format("%Y-%m-%d")
        .to_string();
    let action = admin
        .post_form(
            &format!("{incident}/actions"),
            &[
                ("title", "Nødstrømsanlægget efterses"),
                ("owner", "mette"),
                ("due", &due),
                ("system", "strom"),
            ],
        )
        .await;
    assert_eq!(action.status().as_u16(), 303);
    let (_, actions) = admin.page(&format!("/plans/{OTHER}/actions")).await;
    let at = actions.find("action=\"/actions/").expect("the action item") + "action=\"".len();
    let action = actions[at..at + actions[at..].find('"').unwrap()].to_string();

    // The coordinator of the example plan: the incident is not found, whatever is asked of it,
    // its downloads included.
    let lars = app.signed_in("lars-nielsen").await;
    for path in ["", "/report", "/report.docx", "/live", "/close", "/alert"] {
        let (status, page) = lars.page(&format!("{incident}{path}")).await;
        assert_eq!(status, 404, "{incident}{path}");
        assert!(!page.contains("Strømmen"), "{incident}{path}");
    }
    let acts: [(&str, &[(&str, &str)]); 6] = [
        ("/notes", &[("text", "Hej")]),
        (
            "/ticks",
            &[("system", "strom"), ("step", "0"), ("done", "1")],
        ),
        ("/systems", &[("system", "strom"), ("state", "recovered")]),
        ("/stand-down", &[]),
        ("/close", &[("confirmed", "1")]),
        (
            "/actions",
            &[("title", "Hej"), ("owner", "mette"), ("due", "2030-01-01")],
        ),
    ];
    for (path, fields) in acts {
        let refused = lars.post_form(&format!("{incident}{path}"), fields).await;
        assert_eq!(refused.status().as_u16(), 404, "{incident}{path}");
    }
    // Its action item is not found either.
    let refused = lars.post_form(&action, &[("done", "1")]).await;
    assert_eq!(refused.status().as_u16(), 404, "{action}");
    // Nothing of it was written: the incident stands as the administrator left it.
    let (_, page) = admin.page(&incident).await;
    assert!(!page.contains(">Hej<"), "nothing was written");
    let (_, report) = admin.page(&format!("{incident}/report")).await;
    assert!(report.contains("Nødstrømsanlægget efterses"));
    assert!(!report.contains(">Hej<"));
    let row = beredskab::store::incidents::find(
        &app.handle().db,
        incident.rsplit('/').next().unwrap().parse().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(row.state, beredskab::store::incidents::OPEN);
    let ticks = beredskab::store::incidents::ticks(&app.handle().db, row.id)
        .await
        .unwrap();
    assert!(ticks.is_empty());

    // Lists: the plans page, the API, the outbox, the audit log with its filters.
    let (_, plans) = lars.page("/").await;
    assert!(!plans.contains(OTHER_NAME), "{plans}");
    let api: serde_json::Value = lars.get("/api/v1/plans").await.json().await.unwrap();
    let ids: Vec<&str> = api
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["example-kommune"]);
    let (status, outbox) = lars.page("/outbox").await;
    assert_eq!(status, 200);
    assert!(
        !outbox.contains("meho@test.dk"),
        "the other plan's alert mail"
    );
    let (_, outbox) = admin.page("/outbox").await;
    assert!(
        outbox.contains("meho@test.dk"),
        "the administrator sees every plan's mail"
    );
    let (status, audit) = lars.page("/audit").await;
    assert_eq!(status, 200);
    assert!(
        !audit.contains(OTHER) && !audit.contains(OTHER_NAME),
        "{audit}"
    );
    let (_, csv) = lars.page(&format!("/audit.csv?plan={OTHER}")).await;
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");
    let (_, audit) = admin.page("/audit").await;
    assert!(
        audit.contains(OTHER_NAME),
        "the administrator reads every plan's log"
    );

    // The calendar feed: the example plan's review deadlines, none of the other plan's.
    let response = lars
        .post_form("/plans/example-kommune/calendar/feed", &[])
        .await;
    let page = response.text().await.unwrap();
    let at = page.find("id=\"feed-url\">").unwrap() + "id=\"feed-url\">".len();
    let url = &page[at..at + page[at..].find('<').unwrap()];
    let feed_path = &url[url.find("/calendar/").unwrap()..];
    let (status, feed) = helpers::client_of(&app.address).page(feed_path).await;
    assert_eq!(status, 200);
    assert!(feed.contains("Eksempel Kommune"), "{feed}");
    assert!(!feed.contains(OTHER_NAME), "{feed}");
}

/// The id of `username`'s account, read off the accounts page.
async fn account_id(admin: &TestApp, username: &str) -> String {
    let (_, page) = admin.page("/admin/accounts").await;
    let at = page.find(&format!(">{username}</a>")).expect("the account");
    let start = page[..at].rfind("/admin/accounts/").unwrap() + "/admin/accounts/".len();
    page[start..at].trim_end_matches('"').to_string()
}

/// The account form as shown, with its membership boxes set to `memberships`.
async fn save_memberships(admin: &TestApp, id: &str, memberships: &[&str]) -> u16 {
    let (_, page) = admin.page(&format!("/admin/accounts/{id}")).await;
    let mut fields: Vec<(String, String)> =
        helpers::form_fields(&page, &format!("/admin/accounts/{id}"))
            .into_iter()
            .filter(|(k, _)| k != "membership")
            .collect();
    fields.extend(
        memberships
            .iter()
            .map(|m| ("membership".to_string(), m.to_string())),
    );
    admin
        .submit(&format!("/admin/accounts/{id}"), &fields)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn roles_are_given_per_plan_on_the_account_page() {
    let app = two_plans().await;
    let admin = app.signed_in("admin").await;
    let id = account_id(&admin, "mette-holm").await;
    let (_, form) = admin.page(&format!("/admin/accounts/{id}")).await;
    assert!(
        form.contains("value=\"example-kommune|approver\" checked"),
        "the approver role in the example plan is ticked"
    );

    // Coordinator in the other plan as well: she edits its sections there, and still only
    // approves in her own.
    let status = save_memberships(
        &admin,
        &id,
        &["example-kommune|approver", &format!("{OTHER}|coordinator")],
    )
    .await;
    assert_eq!(status, 303);
    let mette = app.signed_in("mette-holm").await;
    assert_eq!(
        mette.page(&format!("/plans/{OTHER}/sections/edit")).await.0,
        200
    );
    assert_eq!(
        mette.page("/plans/example-kommune/sections/edit").await.0,
        403
    );
    assert_eq!(mette.page("/plans/example-kommune/approve").await.0, 200);
    assert_eq!(mette.page(&format!("/plans/{OTHER}/approve")).await.0, 403);
    let (_, header) = mette.page(&format!("/plans/{OTHER}")).await;
    assert!(
        header.contains("(Koordinator)"),
        "the header names her role in this plan"
    );

    // "Every plan" as reader covers both; taking every box away leaves her nothing to see.
    assert_eq!(save_memberships(&admin, &id, &["*|viewer"]).await, 303);
    let (status, _) = mette.page(&format!("/plans/{OTHER}")).await;
    assert_eq!(status, 200);
    assert_eq!(mette.page("/plans/example-kommune/approve").await.0, 403);
    assert_eq!(save_memberships(&admin, &id, &[]).await, 303);
    assert_eq!(mette.page("/plans/example-kommune").await.0, 404);
    let (_, plans) = mette.page("/").await;
    assert!(
        plans.contains("Du har ikke adgang til nogen beredskabsplan"),
        "{plans}"
    );

    // A box for a plan that is not there, or for the administrator role, is refused.
    assert_eq!(
        save_memberships(&admin, &id, &["ingen-plan|viewer"]).await,
        404
    );
    assert_eq!(
        save_memberships(&admin, &id, &["*|administrator"]).await,
        404
    );

    // Each change is in the audit log, in words of roles and plans.
    let (_, csv) = admin.page("/audit.csv").await;
    assert!(csv.contains("coordinator@anden-plan"), "{csv}");
}

#[tokio::test]
async fn groups_map_to_memberships_and_each_sign_in_renews_them() {
    let app = two_plans().await;
    let admin = app.signed_in("admin").await;
    // The mapping on the administration page: a bad row is named, a good one kept.
    let (_, page) = admin.page("/admin/groups").await;
    let csrf = csrf_of(&page);
    let add = |group: &'static str, plan: &'static str, role: &'static str| {
        let admin = &admin;
        let csrf = csrf.clone();
        async move {
            admin
                .submit(
                    "/admin/groups",
                    &[
                        ("csrf".into(), csrf),
                        ("group".into(), group.into()),
                        ("plan".into(), plan.into()),
                        ("role".into(), role.into()),
                    ],
                )
                .await
        }
    };
    let refused = add("", "*", "viewer").await;
    assert_eq!(refused.status().as_u16(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Skriv gruppens navn eller id.")
    );
    assert_eq!(
        add("GG-Beredskab", OTHER, "incident-lead")
            .await
            .status()
            .as_u16(),
        303
    );
    assert_eq!(add("GG-Alle", "*", "viewer").await.status().as_u16(), 303);
    assert_eq!(
        add("GG-Alle", "ingen-plan", "viewer")
            .await
            .status()
            .as_u16(),
        422
    );
    let (_, page) = admin.page("/admin/groups").await;
    assert!(
        page.contains("GG-Beredskab") && page.contains("Beredskabsleder"),
        "{page}"
    );

    // A sign-in with groups: the account gets what they map to, and keeps what an
    // administrator gave it.
    let handle = app.handle();
    let michael = beredskab::store::accounts::find_by_username(&handle.db, "michael-skov")
        .await
        .unwrap()
        .unwrap()
        .0;
    let refresh = handle
        .refresh_memberships_from_groups(michael.id, &["gg-beredskab".into()])
        .await
        .unwrap();
    assert!(refresh.any);
    let browser = app.signed_in("michael-skov").await;
    let (status, header) = browser.page(&format!("/plans/{OTHER}")).await;
    assert_eq!(status, 200);
    assert!(header.contains("(Beredskabsleder)"), "{header}");
    let (_, form) = admin.page(&format!("/admin/accounts/{}", michael.id)).await;
    assert!(
        form.contains("(gruppen gg-beredskab)"),
        "groups' roles shown apart"
    );
    assert!(form.contains("value=\"example-kommune|viewer\" checked"));

    // Left the group: at the next sign-in the role is gone, the administrator's stays.
    handle
        .refresh_memberships_from_groups(michael.id, &[])
        .await
        .unwrap();
    assert_eq!(browser.page(&format!("/plans/{OTHER}")).await.0, 404);
    assert_eq!(browser.page("/plans/example-kommune").await.0, 200);
    let (_, csv) = admin.page("/audit.csv").await;
    assert!(
        csv.contains("account-groups") && csv.contains("incident-lead@anden-plan [gg-beredskab]"),
        "{csv}"
    );
    assert!(csv.contains("group-mapping-add"), "{csv}");

    // Someone with no membership and no group that maps to anything may not come in.
    let nobody = beredskab::store::accounts::find_by_username(&handle.db, "mette")
        .await
        .unwrap()
        .unwrap()
        .0;
    let id = nobody.id.to_string();
    assert_eq!(save_memberships(&admin, &id, &[]).await, 303);
    let refresh = handle
        .refresh_memberships_from_groups(nobody.id, &["GG-Ukendt".into()])
        .await
        .unwrap();
    assert!(!refresh.any);

    // Removing a row is audited; a row that is not there is not found.
    let (_, page) = admin.page("/admin/groups").await;
    let at = page.find("/admin/groups/").unwrap() + "/admin/groups/".len();
    let row = &page[at..at + page[at..].find('/').unwrap()];
    let removed = admin
        .post_form(&format!("/admin/groups/{row}/remove"), &[])
        .await;
    assert_eq!(removed.status().as_u16(), 303);
    let again = admin
        .post_form(&format!("/admin/groups/{row}/remove"), &[])
        .await;
    assert_eq!(again.status().as_u16(), 404);
    // Not for anyone but the administrator.
    let coordinator = app.signed_in("lars-nielsen").await;
    assert_eq!(coordinator.page("/admin/groups").await.0, 403);
}

#[tokio::test]
async fn the_migration_gives_every_account_its_old_role_in_every_plan() {
    use beredskab::domain::access::AccessRole;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    for db in helpers::databases().await {
        let conn = beredskab::store::connect(&db.url).await.unwrap();
        // The schema as it was before memberships, with two plans and three accounts.
        Migrator::up(&conn, Some(15)).await.unwrap();
        // Two plans, as rows of the schema of then.
        for id in ["example-kommune", "mini"] {
            conn.execute_unprepared(&format!(
                "INSERT INTO plans (id, name, organisation, owner_role, approver_role, \
                 review_interval_minutes, exercise_interval_minutes, purpose, scope, audience, \
                 resources, backups, return_to_normal, incident_handling, revision, \
                 sections_revision) VALUES ('{id}', '{id}', '', 'koordinator', 'it-chef', \
                 525600, 525600, '', '', '', '', '', '', '', 1, 1)"
            ))
            .await
            .unwrap();
        }
        for (name, role) in [
            ("ida", "coordinator"),
            ("bo", "viewer"),
            ("root", "administrator"),
        ] {
            conn.execute_unprepared(&format!(
                "INSERT INTO accounts (username, display_name, password_hash, role, active, \
                 created_at, break_glass) VALUES ('{name}', '{name}', 'x', '{role}', true, \
                 '2026-12-01 10:00:00+00:00', false)"
            ))
            .await
            .unwrap();
        }
        Migrator::up(&conn, None).await.unwrap();
        let accounts = beredskab::store::accounts::list(&conn).await.unwrap();
        let of = |name: &str| accounts.iter().find(|a| a.username == name).unwrap();
        let plans: Vec<_> = of("ida")
            .memberships
            .iter()
            .map(|m| m.plan.clone().unwrap())
            .collect();
        assert_eq!(plans.len(), 2, "{}: {plans:?}", db.backend);
        assert!(
            of("ida")
                .memberships
                .iter()
                .all(|m| m.role == AccessRole::Coordinator && m.group.is_none())
        );
        assert!(
            of("bo")
                .memberships
                .iter()
                .all(|m| m.role == AccessRole::Viewer)
        );
        assert_eq!(of("bo").memberships.len(), 2);
        assert!(of("root").administrator && of("root").memberships.is_empty());
        assert!(!of("ida").administrator);
    }
}

#[tokio::test]
async fn my_systems_and_its_menu_link_count_only_the_plans_the_account_may_see() {
    let app = two_plans().await;
    let db = &app.handle().db;
    // An account of the example plan only, whose person is the other plan's owner of four
    // systems (the same person id, another plan).
    let (account, _) = beredskab::store::accounts::find_by_username(db, "michael-skov")
        .await
        .unwrap()
        .unwrap();
    let changed = beredskab::store::accounts::update(
        db,
        account.id,
        beredskab::store::accounts::AccountChange {
            display_name: account.display_name.clone(),
            administrator: false,
            memberships: account.memberships.clone(),
            person_id: Some("lars".into()),
            active: true,
            break_glass: false,
        },
    )
    .await
    .unwrap();
    assert!(changed);
    let michael = app.signed_in("michael-skov").await;
    let (_, front) = michael.page("/plans/example-kommune").await;
    assert!(
        !front.contains("href=\"/my\""),
        "no 'Mine systemer' for another plan's systems"
    );
    let (status, mine) = michael.page("/my").await;
    assert_eq!(status, 200);
    assert!(
        !mine.contains(OTHER_NAME) && !mine.contains("/plans/anden-plan"),
        "{mine}"
    );
}
