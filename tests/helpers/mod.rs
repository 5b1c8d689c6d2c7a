//! Shared by the integration tests: plan folders to work on and fresh databases to work in.
#![allow(dead_code)] // each test file uses its own part of this module

pub mod chromium;
pub mod http_peer;
pub mod oidc;
pub mod routes;
pub mod smtp;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Once;

use beredskab::startup::Jobs;
use sea_orm::{ConnectionTrait, Database};

/// Today where the plans are (Europe/Copenhagen, the default zone), as the server decides it:
/// between 22:00 and 24:00 UTC the machine's own date is a day behind.
pub fn today() -> chrono::NaiveDate {
    beredskab::app::Clock::system(chrono_tz::Europe::Copenhagen).today()
}

/// Runs the `beredskab` binary with `args`, without a `DATABASE_URL` from the environment.
pub fn beredskab(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_beredskab"))
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

/// Runs `command` for at most `limit`, then kills it: its exit code (`None` when killed), its
/// standard output and its standard error. Output goes to files, so a child that writes much
/// never blocks on a full pipe.
pub fn run_bounded(
    mut command: std::process::Command,
    limit: std::time::Duration,
) -> (Option<i32>, String, String) {
    let (out, err) = (
        tempfile::NamedTempFile::new().unwrap(),
        tempfile::NamedTempFile::new().unwrap(),
    );
    let mut child = command
        .stdout(std::process::Stdio::from(out.reopen().unwrap()))
        .stderr(std::process::Stdio::from(err.reopen().unwrap()))
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let read = |f: &tempfile::NamedTempFile| fs::read_to_string(f.path()).unwrap_or_default();
    (code, read(&out), read(&err))
}

/// The program `program` on the `PATH`, if it is there.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// The folder of the repository.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's plans folder (the example municipality's plan), as test servers import it.
pub fn plans() -> PathBuf {
    repo().join("plans")
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

/// A database for one test; a PostgreSQL database is dropped with the value.
pub struct TestDb {
    pub backend: &'static str,
    pub url: String,
    /// For PostgreSQL: the server URL and the database to drop afterwards.
    drop: Option<(String, String)>,
    /// For SQLite: the folder holding the file.
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Drops the database now (it is dropped with the value anyway).
    pub async fn cleanup(self) {
        drop(self);
    }
}

/// A PostgreSQL test database is dropped when its test ends, also when it panics: on a thread
/// of its own, since a panicking test's runtime may be gone.
impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.drop.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = Database::connect(admin_url).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()
            })
        });
        let _ = dropped.join();
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

/// One server per database of `databases`, each with the example plan and owning its database,
/// with the name of the database's backend.
pub async fn apps() -> Vec<(TestApp, &'static str)> {
    let mut out = Vec::new();
    for db in databases().await {
        let backend = db.backend;
        out.push((TestApp::spawn_on(db, &plans()).await, backend));
    }
    out
}

/// A running server on a free loopback port, stopped when dropped.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// Where the server's `file` mail transport writes messages.
    pub mail_dir: PathBuf,
    /// Where the server writes the offline runbook on each approval.
    pub runbook_dir: PathBuf,
    /// The server's application (for a server in this process).
    pub app: Option<beredskab::app::App>,
    /// Its scheduler and mail worker, which run only when a test runs them (`run_jobs`).
    background: Option<beredskab::startup::Background>,
    _stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's task, which ends when it has stopped.
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The database the server was given to own, dropped after the server stops.
    _db: Option<TestDb>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the server before its database goes.
        self._stop.take();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
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

    /// Logs in through the login form; panics unless it succeeds.
    pub async fn login(&self, username: &str, password: &str) {
        let status = self.try_login(username, password).await;
        assert_eq!(status, 303, "login as {username}");
    }

    /// Logs in as `admin` or a demo account (a person of the example plan), with the password
    /// every test server gives them.
    pub async fn login_as(&self, username: &str) {
        let password = if username == "admin" {
            ADMIN_PASSWORD
        } else {
            DEMO_PASSWORD
        };
        self.login(username, password).await;
    }

    /// Submits the login form; returns the status.
    pub async fn try_login(&self, username: &str, password: &str) -> u16 {
        self.submit_login(username, password, &[])
            .await
            .status()
            .as_u16()
    }

    /// Submits the login form with the login page's CSRF token and the `extra` fields (such as
    /// `next`); returns the response.
    pub async fn submit_login(
        &self,
        username: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, page) = self.page("/login").await;
        let csrf = csrf_of(&page);
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ];
        fields.extend_from_slice(extra);
        self.client
            .post(format!("{}/login", self.address))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token of the current session, read from a page's forms.
    pub async fn csrf(&self) -> String {
        let (_, page) = self.page("/account").await;
        csrf_of(&page)
    }

    /// The CSRF token of the current session, or nothing before any session exists.
    pub async fn csrf_or_empty(&self) -> String {
        let (_, page) = self.page("/account").await;
        if page.contains("name=\"csrf\"") {
            csrf_of(&page)
        } else {
            String::new()
        }
    }

    /// Posts a form with the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", self.address))
            .form(&all)
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// Sends `body` as JSON with `PUT`, with the session's CSRF token in the header.
    pub async fn put_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let csrf = self.csrf().await;
        self.client
            .put(format!("{}{path}", self.address))
            .header("x-csrf-token", csrf)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A system of the example plan as the API gives it.
    pub async fn system_json(&self, id: &str) -> serde_json::Value {
        self.get(&format!("/api/v1/plans/example-kommune/systems/{id}"))
            .await
            .json()
            .await
            .unwrap()
    }

    /// A new API token of `username` (a demo account), created on its account page.
    pub async fn api_token(&self, username: &str) -> String {
        let browser = self.signed_in(username).await;
        let response = browser.post_form("/account/token", &[]).await;
        assert_eq!(response.status().as_u16(), 200);
        let page = response.text().await.unwrap();
        let start = page.find("bk_").expect("the new token on the page");
        page[start..start + 3 + 64].to_string()
    }

    /// Another client of this server, signed in as `username` (`admin`, a demo account, or
    /// nobody for "").
    pub async fn signed_in(&self, username: &str) -> TestApp {
        let client = self.second_client();
        if !username.is_empty() {
            client.login_as(username).await;
        }
        client
    }
}

/// The value of the first `csrf` hidden field in a page.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

/// The password of the administrator every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
/// The password of every demo account in tests.
pub const DEMO_PASSWORD: &str = "demo-password-for-tests";

/// Starts the server against `database_url`, importing the plan folders under `plans_dir`. For
/// a database the test keeps (to use after the server has stopped, or for a second server);
/// otherwise `TestApp::spawn_on` gives the server a database to own.
pub async fn spawn_app(database_url: &str, plans_dir: &Path) -> TestApp {
    spawn_app_with(database_url, plans_dir, |_| {}).await
}

/// `spawn_app` with the configuration changed by `adjust` first.
pub async fn spawn_app_with(
    database_url: &str,
    plans_dir: &Path,
    adjust: impl FnOnce(&mut beredskab::config::Config),
) -> TestApp {
    let zone = beredskab::config::Config::default().time_zone;
    spawn_app_on_clock(
        database_url,
        plans_dir,
        adjust,
        beredskab::app::Clock::system(zone),
    )
    .await
}

/// `spawn_app_with` on `clock` (a fixed one moves by hand: `app.clock.set`).
pub async fn spawn_app_on_clock(
    database_url: &str,
    plans_dir: &Path,
    adjust: impl FnOnce(&mut beredskab::config::Config),
    clock: beredskab::app::Clock,
) -> TestApp {
    let mail_dir = tempfile::tempdir().unwrap().keep();
    let runbook_dir = tempfile::tempdir().unwrap().keep();
    let config = beredskab::config::Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_string(),
        plans_dir: plans_dir.to_path_buf(),
        import: true,
        admin_password: Some(ADMIN_PASSWORD.into()),
        demo: true,
        demo_password: Some(DEMO_PASSWORD.into()),
        mail_dir: mail_dir.clone(),
        runbook_dir: runbook_dir.clone(),
        ..beredskab::config::Config::default()
    };
    let mut config = config;
    adjust(&mut config);
    let app = beredskab::startup::Application::build_with(config, clock, Jobs::ByHand)
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let (handle, background) = (app.app().clone(), app.background());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        client: client(),
        mail_dir,
        runbook_dir,
        app: Some(handle),
        background: Some(background),
        _stop: Some(stop),
        server: Some(server),
        _db: None,
    }
}

impl TestApp {
    /// A server that owns `db` (dropped with the server, also when the test panics), with the
    /// plan folders of `plans_dir`.
    pub async fn spawn_on(db: TestDb, plans_dir: &Path) -> TestApp {
        TestApp::spawn_on_with(db, plans_dir, |_| {}).await
    }

    /// `spawn_on` with the configuration changed by `adjust` first.
    pub async fn spawn_on_with(
        db: TestDb,
        plans_dir: &Path,
        adjust: impl FnOnce(&mut beredskab::config::Config),
    ) -> TestApp {
        let mut app = spawn_app_with(&db.url, plans_dir, adjust).await;
        app._db = Some(db);
        app
    }

    /// A server on a fresh SQLite database with the example plan, whose clock stands still
    /// at `at` until the test moves it (`app.clock.set`).
    pub async fn spawn_at(at: chrono::DateTime<chrono::Utc>) -> TestApp {
        let db = sqlite_db();
        let zone = beredskab::config::Config::default().time_zone;
        let clock = beredskab::app::Clock::fixed(zone, at);
        let mut app = spawn_app_on_clock(&db.url, &plans(), |_| {}, clock).await;
        app._db = Some(db);
        app
    }

    /// Gives the server `db` to own, dropped after it stops.
    pub fn keep_db(&mut self, db: TestDb) {
        self._db = Some(db);
    }

    /// The running server's application: its database and clock.
    pub fn handle(&self) -> &beredskab::app::App {
        self.app.as_ref().expect("a server in this process")
    }

    /// A server on a fresh SQLite database with the example plan.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_on(sqlite_db(), &plans()).await
    }

    /// Runs the scheduler's jobs and then the mail worker once, as the running server would
    /// within its next minute; returns how many sends were queued and how many messages sent.
    pub async fn run_jobs(&self) -> (usize, usize) {
        let app = self.app.as_ref().expect("a server in this process");
        self.background
            .as_ref()
            .expect("a server in this process")
            .run(app.clock.now())
            .await
            .unwrap()
    }

    /// Stops the server and waits until it has (its requests finished, its database
    /// connections closed).
    pub async fn stop(mut self) {
        self._stop.take();
        self.app.take();
        self.background.take();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Runs the mail worker once: sends what is queued.
    pub async fn deliver_mail(&self) -> usize {
        let app = self.app.as_ref().expect("a server in this process");
        self.background
            .as_ref()
            .expect("a server in this process")
            .deliver_mail(app.clock.now())
            .await
            .unwrap()
    }
}

/// A client for a server that runs elsewhere (another process) at `address`.
pub fn client_of(address: &str) -> TestApp {
    TestApp {
        address: address.to_string(),
        client: client(),
        mail_dir: PathBuf::new(),
        runbook_dir: PathBuf::new(),
        app: None,
        background: None,
        _stop: None,
        server: None,
        _db: None,
    }
}

/// Undoes the HTML escaping of the templates.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x3D;", "=")
        .replace("&#x60;", "`")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// The fields a browser would submit from the first form whose action is `action`: inputs,
/// textareas and selected options, in page order (submit buttons left out).
pub fn form_fields(page: &str, action: &str) -> Vec<(String, String)> {
    let marker = format!("action=\"{action}\"");
    let start = page.find(&marker).expect("the form");
    let end = start + page[start..].find("</form>").expect("the form's end");
    let form = &page[start..end];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let close = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..close];
        if tag.starts_with("<input") {
            let kind = attribute(tag, "type").unwrap_or_default();
            if let Some(name) = attribute(tag, "name")
                && kind != "submit"
                && (kind != "checkbox" || tag.contains(" checked"))
            {
                out.push((name, attribute(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("<textarea") {
            let body = &rest[close + 1..];
            let text = &body[..body.find("</textarea>").unwrap()];
            out.push((attribute(tag, "name").unwrap(), unescape(text)));
        } else if tag.starts_with("<select") {
            let body = &rest[close + 1..];
            let options = &body[..body.find("</select>").unwrap()];
            let value = options
                .split("<option")
                .skip(1)
                .find(|o| o.contains(" selected"))
                .or_else(|| options.split("<option").nth(1))
                .and_then(|o| attribute(&format!(" {o}"), "value"))
                .unwrap_or_default();
            out.push((attribute(tag, "name").unwrap(), value));
        }
        rest = &rest[close.min(rest.len())..];
        if rest.len() <= 1 {
            break;
        }
        rest = &rest[1..];
    }
    out
}

/// Sets (or adds) a field in a list of form fields.
pub fn set(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    match fields.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
}

impl TestApp {
    /// The same client (and so the same session cookie) talking to a server at `address`.
    pub fn at(&self, address: &str) -> TestApp {
        TestApp {
            address: address.to_string(),
            client: self.client.clone(),
            mail_dir: self.mail_dir.clone(),
            runbook_dir: self.runbook_dir.clone(),
            app: self.app.clone(),
            background: self.background.clone(),
            _stop: None,
            server: None,
            _db: None,
        }
    }

    /// Another browser (its own cookies) on the same server.
    pub fn second_client(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            client: client(),
            mail_dir: self.mail_dir.clone(),
            runbook_dir: self.runbook_dir.clone(),
            app: self.app.clone(),
            background: self.background.clone(),
            _stop: None,
            server: None,
            _db: None,
        }
    }

    /// Posts form fields as they are (including whatever CSRF token they hold).
    pub async fn submit(&self, path: &str, fields: &[(String, String)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.address))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// The fields of the edit form of a system, as the page fills them in.
    pub async fn system_form(&self, plan: &str, system: &str) -> Vec<(String, String)> {
        let path = format!("/plans/{plan}/systems/{system}/edit");
        let (status, page) = self.page(&path).await;
        assert_eq!(status, 200, "{path}");
        form_fields(&page, &path)
    }
}

/// Percent-encodes every byte but letters and digits.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

impl TestApp {
    /// Plans a drill of `scenario` 30 days ahead as the signed-in coordinator and returns the path of
    /// its occurrence (created by the server's scheduler).
    pub async fn planned_occurrence(&self, scenario: &str) -> String {
        let path = format!("/plans/example-kommune/drills/new?scenario={scenario}");
        let (_, page) = self.page(&path).await;
        let mut fields = form_fields(&page, &path);
        let when = (chrono::Local::now() + chrono::Duration::days(30))
            .format("%Y-%m-%dT09:00")
            .to_string();
        set(&mut fields, "at", &when);
        let response = self.submit(&path, &fields).await;
        assert_eq!(response.status().as_u16(), 303);
        self.occurrence_of(&location(&response)).await
    }

    /// The first occurrence of a drill, created by the scheduler's next pass.
    pub async fn occurrence_of(&self, drill: &str) -> String {
        self.run_jobs().await;
        let (_, page) = self.page(drill).await;
        let at = page
            .find("href=\"/occurrences/")
            .unwrap_or_else(|| panic!("no occurrence of {drill}"));
        let rest = &page[at + 6..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

impl TestApp {
    /// The messages the server wrote to its mail folder whose Message-ID starts with `prefix`.
    pub fn mail_with_id(&self, prefix: &str) -> Vec<String> {
        std::fs::read_dir(&self.mail_dir)
            .map(|d| {
                d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .filter(|m| m.contains(&format!("Message-ID: <{prefix}")))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs the background jobs once (the scheduler, then the mail worker) and returns the
    /// messages written whose Message-ID starts with `prefix`.
    pub async fn mail_after_jobs(&self, prefix: &str) -> Vec<String> {
        self.run_jobs().await;
        self.mail_with_id(prefix)
    }
}

/// The message text with quoted-printable soft breaks and escapes undone, enough to search it.
pub fn quoted_printable_text(raw: &str) -> String {
    let joined = raw.replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Python interpreter of `target/ci-venv` if it can import `module` (installed there by
/// `.ci/run`), or why not: with `require` (`REQUIRE_…`) set to 1 its absence fails the test,
/// else one line is printed and the test passes.
pub fn venv_python(module: &str, package: &str, require: &str) -> Option<PathBuf> {
    let python = repo().join("target/ci-venv/bin/python");
    let ok = python.is_file()
        && std::process::Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        !std::env::var(require).is_ok_and(|v| v == "1"),
        "{require}=1 but target/ci-venv lacks {package}"
    );
    println!("skipped: {package} is not installed in target/ci-venv (pip install {package})");
    None
}
