//! Storage on SQLite and (when `TEST_POSTGRES_URL` is set) PostgreSQL: round trip, idempotent
//! import, all-or-nothing import, concurrent writers.

mod helpers;

use beredskab::domain::{Person, PersonId, Plan};
use beredskab::plan_files;
use beredskab::store::{self, ImportOutcome};
use chrono::NaiveDate;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn read(dir: &std::path::Path) -> Plan {
    let loaded = plan_files::load(dir, today()).unwrap();
    assert!(!loaded.has_errors(), "{:#?}", loaded.findings);
    loaded.plan.unwrap()
}

#[tokio::test]
async fn folder_import_export_parse_gives_back_the_same_plan() {
    let original = read(&helpers::example_plan());
    for test_db in helpers::databases().await {
        let db = store::connect(&test_db.url).await.unwrap();
        store::migrate(&db).await.unwrap();
        assert_eq!(
            store::import_plan(&db, &original).await.unwrap(),
            ImportOutcome::Created
        );

        let stored = store::load_plan(&db, &original.id).await.unwrap().unwrap();
        let out = tempfile::tempdir().unwrap();
        let dir = out.path().join(original.id.as_str());
        plan_files::write(&stored, &dir).unwrap();
        assert_eq!(read(&dir), original, "round trip on {}", test_db.backend);
        // Written files parse back with no findings the original did not have.
        let before = plan_files::load(&helpers::example_plan(), today())
            .unwrap()
            .findings
            .len();
        assert_eq!(
            plan_files::load(&dir, today()).unwrap().findings.len(),
            before
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn importing_the_same_plan_twice_changes_nothing() {
    let plan = read(&helpers::example_plan());
    for test_db in helpers::databases().await {
        let db = store::connect(&test_db.url).await.unwrap();
        store::migrate(&db).await.unwrap();
        store::import_plan(&db, &plan).await.unwrap();
        assert_eq!(
            store::import_plan(&db, &plan).await.unwrap(),
            ImportOutcome::Unchanged,
            "{}",
            test_db.backend
        );
        assert_eq!(
            store::load_plan(&db, &plan.id).await.unwrap(),
            Some(plan.clone())
        );
        assert_eq!(store::plan_ids(&db).await.unwrap(), vec![plan.id.clone()]);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn importing_a_changed_plan_replaces_the_stored_one() {
    let dir = tempfile::tempdir().unwrap();
    let plan = read(&helpers::mini_plan_in(dir.path(), "mini"));
    let mut changed = plan.clone();
    changed.systems.retain(|s| s.id.as_str() != "esdh");
    changed.systems[0].name = "AD (ny)".into();
    changed.people[0].roles.clear();
    changed
        .sections
        .activation_criteria
        .push("Ransomware".into());
    for test_db in helpers::databases().await {
        let db = store::connect(&test_db.url).await.unwrap();
        store::migrate(&db).await.unwrap();
        store::import_plan(&db, &plan).await.unwrap();
        assert_eq!(
            store::import_plan(&db, &changed).await.unwrap(),
            ImportOutcome::Updated
        );
        assert_eq!(
            store::load_plan(&db, &plan.id).await.unwrap(),
            Some(changed.clone())
        );
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn a_failing_import_leaves_the_stored_plan_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let plan = read(&helpers::mini_plan_in(dir.path(), "mini"));
    // Two people with one id pass the types but break the table's key half-way through the
    // import, after the plan row, roles and first person have been written.
    let mut broken = plan.clone();
    broken.systems.clear();
    broken.people.push(Person {
        id: PersonId::parse("mette").unwrap(),
        ..broken.people[0].clone()
    });
    for test_db in helpers::databases().await {
        let db = store::connect(&test_db.url).await.unwrap();
        store::migrate(&db).await.unwrap();
        store::import_plan(&db, &plan).await.unwrap();
        let err = store::import_plan(&db, &broken).await.unwrap_err();
        assert!(err.to_string().starts_with("database error"), "{err}");
        assert_eq!(
            store::load_plan(&db, &plan.id).await.unwrap(),
            Some(plan.clone()),
            "{}",
            test_db.backend
        );
        // Nor is a new plan half-written.
        let mut fresh = broken.clone();
        fresh.id = beredskab::domain::PlanId::parse("fresh").unwrap();
        assert!(store::import_plan(&db, &fresh).await.is_err());
        assert_eq!(store::load_plan(&db, &fresh.id).await.unwrap(), None);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn migrations_run_twice_and_down_cleanly() {
    use migration::MigratorTrait;
    for test_db in helpers::databases().await {
        let db = store::connect(&test_db.url).await.unwrap();
        store::migrate(&db).await.unwrap();
        store::migrate(&db).await.unwrap();
        migration::Migrator::down(&db, None).await.unwrap();
        store::migrate(&db).await.unwrap();
        assert_eq!(store::plan_ids(&db).await.unwrap(), vec![]);
        db.close().await.unwrap();
    }
}

#[tokio::test]
async fn concurrent_imports_from_two_processes_wait_their_turn_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let plan = read(&helpers::mini_plan_in(dir.path(), "mini"));
    let mut renamed = plan.clone();
    renamed.systems[0].name = "AD (ny)".into();
    for test_db in helpers::databases().await {
        // Two pools, as the server and `beredskab import` are two processes on one database.
        let pools = [
            store::connect(&test_db.url).await.unwrap(),
            store::connect(&test_db.url).await.unwrap(),
        ];
        store::migrate(&pools[0]).await.unwrap();
        store::import_plan(&pools[0], &plan).await.unwrap();
        // Each import reads the stored plan before it writes; interleaved, a reader whose
        // snapshot went stale used to fail at its first write ("database is locked").
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..6 {
            let db = pools[w % 2].clone();
            let versions = [plan.clone(), renamed.clone()];
            writers.spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..8 {
                    outcomes.push(store::import_plan(&db, &versions[(w + i) % 2]).await);
                }
                outcomes
            });
        }
        let mut updated = 0;
        while let Some(outcomes) = writers.join_next().await {
            for outcome in outcomes.unwrap() {
                match outcome {
                    Ok(ImportOutcome::Updated) => updated += 1,
                    Ok(ImportOutcome::Unchanged) => {}
                    other => panic!("{}: {other:?}", test_db.backend),
                }
            }
        }
        assert!(updated > 0, "{}", test_db.backend);
        let stored = store::load_plan(&pools[1], &plan.id)
            .await
            .unwrap()
            .unwrap();
        assert!(stored == plan || stored == renamed, "{}", test_db.backend);
        // Every import that changed the plan raised its revision once.
        let revision = store::plan_revisions(&pools[1], &plan.id)
            .await
            .unwrap()
            .unwrap()
            .revision;
        assert_eq!(revision, 1 + updated, "{}", test_db.backend);
        for db in pools {
            db.close().await.unwrap();
        }
    }
}
