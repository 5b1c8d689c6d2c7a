//! `beredskab backup` and `beredskab restore` on SQLite: a copy taken while the server runs is
//! whole, a restored database holds exactly what the original held, and a file that is not a
//! backup is refused without touching the database.

mod helpers;

use std::path::Path;
use std::process::Output;

use beredskab::store;

fn beredskab(url: &str, args: &[&str]) -> Output {
    helpers::beredskab(&[&["--database-url", url], args].concat())
}

fn sqlite(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

async fn dump(path: &Path) -> Vec<(String, Vec<String>)> {
    let db = store::connect(&sqlite(path)).await.unwrap();
    let dump = store::backup::dump(&db).await.unwrap();
    db.close().await.unwrap();
    dump
}

#[tokio::test]
async fn a_restored_backup_equals_the_original_and_a_bad_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let url = sqlite(&live);
    let app = helpers::spawn_app(&url, &helpers::plans()).await;
    // Some history: a review, an approval (a version with its snapshot), the audit records.
    app.login_as("lars-nielsen").await;
    let reviewed = app
        .post_form("/plans/example-kommune/systems/vmware/reviewed", &[])
        .await;
    assert_eq!(reviewed.status().as_u16(), 303);
    let approver = app.signed_in("mette-holm").await;
    let approved = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Før backup"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(approved.status().as_u16(), 303);

    // Online: taken while the server runs, and whole.
    let online = dir.path().join("online.db");
    let out = beredskab(&url, &["backup", "--out", online.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    // Every migration of this build is in the copy.
    let migrations = <migration::Migrator as migration::MigratorTrait>::migrations().len();
    assert_eq!(store::backup::check(&online).await.unwrap(), migrations);
    let again = beredskab(&url, &["backup", "--out", online.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // With the server stopped, a backup restored elsewhere equals the original row for row.
    drop(approver);
    app.stop().await;
    let copy = dir.path().join("copy.db");
    assert!(
        beredskab(&url, &["backup", "--out", copy.to_str().unwrap()])
            .status
            .success()
    );
    let restored = dir.path().join("restored.db");
    let done = beredskab(&sqlite(&restored), &["restore", copy.to_str().unwrap()]);
    assert!(done.status.success(), "{done:?}");
    let original = dump(&live).await;
    assert!(
        original
            .iter()
            .any(|(t, rows)| t == "plan_versions" && rows.len() == 1)
    );
    assert!(
        original
            .iter()
            .any(|(t, rows)| t == "systems" && rows.len() == 36)
    );
    assert_eq!(dump(&restored).await, original);
    let plan = beredskab::domain::PlanId::parse("example-kommune").unwrap();
    let a = store::connect(&url).await.unwrap();
    let b = store::connect(&sqlite(&restored)).await.unwrap();
    assert_eq!(
        store::load_plan(&a, &plan).await.unwrap(),
        store::load_plan(&b, &plan).await.unwrap()
    );

    // Not a backup: refused with the reason, and the database is left as it was.
    let bad = dir.path().join("bad.db");
    std::fs::write(&bad, "dette er ikke en database").unwrap();
    let refused = beredskab(&sqlite(&restored), &["restore", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("is not a beredskab backup"), "{message}");
    let missing = beredskab(&sqlite(&restored), &["restore", "/nonexistent/x.db"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such file"));
    assert_eq!(dump(&restored).await, original);

    // PostgreSQL has its own tools.
    let pg_url = "postgres://postgres@127.0.0.1:1/none";
    let pg = beredskab(pg_url, &["restore", copy.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_restore"));
    let pg = beredskab(pg_url, &["backup", "--out", "/tmp/never.db"]);
    assert!(String::from_utf8_lossy(&pg.stderr).contains("pg_dump"));
}
