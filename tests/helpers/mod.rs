//! Shared by the integration tests: plan folders to work on and fresh databases to work in.
#![allow(dead_code)] // each test file uses its own part of this module

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Once;

use sea_orm::{ConnectionTrait, Database};

/// The folder of the repository.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example municipality's plan.
pub fn example_plan() -> PathBuf {
    repo().join("plans/example-kommune")
}

/// Copies the small test plan (`tests/fixtures/mini`) into `parent/<name>` and returns its path.
pub fn mini_plan_in(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    copy_dir(&repo().join("tests/fixtures/mini"), &dir);
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A database for one test; PostgreSQL databases are dropped by `cleanup`.
pub struct TestDb {
    pub backend: &'static str,
    pub url: String,
    /// For PostgreSQL: the server URL and the database to drop afterwards.
    drop: Option<(String, String)>,
    /// For SQLite: the folder holding the file.
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn cleanup(self) {
        if let Some((admin_url, name)) = self.drop
            && let Ok(admin) = Database::connect(admin_url).await
        {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// A fresh SQLite database in a temporary file.
pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
    TestDb {
        backend: "sqlite",
        url,
        drop: None,
        _dir: Some(dir),
    }
}

/// A fresh PostgreSQL database when `TEST_POSTGRES_URL` is set; otherwise `None`, after saying
/// once that the PostgreSQL tests were skipped.
pub async fn postgres_db() -> Option<TestDb> {
    static SKIP_NOTICE: Once = Once::new();
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        SKIP_NOTICE.call_once(|| {
            eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL storage tests skipped (SQLite ran)")
        });
        return None;
    };
    let name = format!("beredskab_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(admin_url.clone())
        .await
        .unwrap_or_else(|e| panic!("TEST_POSTGRES_URL={admin_url}: cannot connect: {e}"));
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let base = match admin_url.rfind('/') {
        Some(i) if i > admin_url.find("://").map_or(0, |j| j + 2) => &admin_url[..i],
        _ => admin_url.as_str(),
    };
    Some(TestDb {
        backend: "postgres",
        url: format!("{base}/{name}"),
        drop: Some((admin_url.clone(), name)),
        _dir: None,
    })
}

/// SQLite always, PostgreSQL when configured.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite_db()];
    dbs.extend(postgres_db().await);
    dbs
}

/// A running server on a free loopback port, stopped when dropped.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    pub async fn page(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }
}

/// Starts the server against `database_url`, importing the plan folders under `plans_dir`.
pub async fn spawn_app(database_url: &str, plans_dir: &Path) -> TestApp {
    let config = beredskab::config::Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_string(),
        plans_dir: plans_dir.to_path_buf(),
        import: true,
        language: "da".into(),
    };
    let app = beredskab::web::Application::build(config).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    TestApp {
        address,
        client,
        _stop: stop,
    }
}
