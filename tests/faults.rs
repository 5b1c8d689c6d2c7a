//! Faults: the server killed mid-burst, PostgreSQL going away under load, a full disk, a
//! read-only database, a write lock held by another process, and two servers sharing one
//! PostgreSQL database. Each test is bounded in time and talks to loopback addresses only.

mod helpers;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use helpers::{DEMO_PASSWORD, TestApp, client_of, location};
use tokio::sync::Mutex;

/// `beredskab serve` as a child process on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    address: String,
    _dirs: tempfile::TempDir,
}

impl Server {
    /// Starts the binary against `database_url` with the demo accounts, and waits (bounded)
    /// until it listens.
    fn start(database_url: &str) -> Server {
        Server::start_with(database_url, &["--demo"])
    }

    fn start_with(database_url: &str, flags: &[&str]) -> Server {
        Server::start_env(database_url, flags, &[])
    }

    /// `start_with` with more environment.
    fn start_env(database_url: &str, flags: &[&str], env: &[(&str, &str)]) -> Server {
        let dirs = tempfile::tempdir().unwrap();
        let stderr = std::fs::File::create(dirs.path().join("stderr")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_beredskab"))
            .arg("serve")
            .args(flags)
            .args(["--bind", "127.0.0.1:0", "--plans"])
            .arg(helpers::plans())
            .env("DATABASE_URL", database_url)
            .env("BEREDSKAB_ADMIN_PASSWORD", helpers::ADMIN_PASSWORD)
            .env("BEREDSKAB_DEMO_PASSWORD", DEMO_PASSWORD)
            .env("BEREDSKAB_MAIL_DIR", dirs.path().join("mail"))
            .env("BEREDSKAB_RUNBOOK_DIR", dirs.path().join("runbooks"))
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (found, port) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = found.send(Ok(digits));
                }
                // Keep reading, so the server never blocks on a full pipe.
                seen.push(line);
            }
            let _ = found.send(Err(seen.join("\n")));
        });
        let port = match port.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(port)) => port,
            Ok(Err(output)) => panic!(
                "the server exited at start:\n{output}\n{}",
                std::fs::read_to_string(dirs.path().join("stderr")).unwrap_or_default()
            ),
            Err(_) => panic!("the server did not say where it listens within 60 s"),
        };
        Server {
            child,
            address: format!("http://127.0.0.1:{port}"),
            _dirs: dirs,
        }
    }

    /// SIGKILL: no shutdown, no flushing, nothing finished.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a write was acknowledged: 2xx, or the redirect after a form.
fn acknowledged(status: u16) -> bool {
    (200..300).contains(&status) || status == 303
}

/// Approves the example plan as the IT manager and opens an incident with AD down as the
/// coordinator (who is then signed in on the returned client); returns the incident's path.
async fn open_incident(app: &TestApp) -> String {
    let approver = app.signed_in("mette-holm").await;
    let r = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "v1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    app.login_as("lars-nielsen").await;
    let r = app
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", "Fault test"),
                ("criterion", ""),
                ("started", ""),
                ("down", "ad"),
                ("down", "vmware"),
                ("down", "netvaerk-kerne"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    location(&r)
}

#[tokio::test]
async fn a_server_killed_mid_burst_loses_no_acknowledged_write() {
    for db in helpers::databases().await {
        let mut server = Server::start(&db.url);
        let app = client_of(&server.address);
        let incident = open_incident(&app).await;
        let csrf = app.csrf().await;
        let systems: Vec<String> = app
            .get("/api/v1/plans/example-kommune/systems")
            .await
            .json::<Vec<serde_json::Value>>()
            .await
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();

        let stop = Arc::new(AtomicBool::new(false));
        let notes = Arc::new(Mutex::new(Vec::<String>::new()));
        let edits = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let mut writers = tokio::task::JoinSet::new();
        // Four writers add notes to the incident's timeline as fast as they are answered.
        for w in 0..4 {
            // Clones of one client share its session cookie and open connections of their own.
            let (client, csrf, stop, notes) = (
                app.client.clone(),
                csrf.clone(),
                stop.clone(),
                notes.clone(),
            );
            let url = format!("{}{incident}/notes", app.address);
            writers.spawn(async move {
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let text = format!("note-{w}-{i}");
                    let sent = client
                        .post(&url)
                        .form(&[("csrf", csrf.as_str()), ("text", text.as_str())])
                        .send()
                        .await;
                    match sent {
                        Ok(r) if acknowledged(r.status().as_u16()) => notes.lock().await.push(text),
                        Ok(_) => {}
                        Err(_) => break, // the server is gone
                    }
                }
            });
        }
        // One writer changes each system's description once, through the API.
        {
            let (app_address, csrf, stop, edits, systems) = (
                app.address.clone(),
                csrf.clone(),
                stop.clone(),
                edits.clone(),
                systems.clone(),
            );
            let client = app.client.clone();
            writers.spawn(async move {
                for id in systems {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let url = format!("{app_address}/api/v1/plans/example-kommune/systems/{id}");
                    let Ok(r) = client.get(&url).send().await else {
                        break;
                    };
                    let Ok(mut body) = r.json::<serde_json::Value>().await else {
                        break;
                    };
                    let text = format!("changed before the kill: {id}");
                    body["description"] = serde_json::Value::String(text.clone());
                    match client
                        .put(&url)
                        .header("x-csrf-token", &csrf)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if acknowledged(r.status().as_u16()) => {
                            edits.lock().await.push((id, text))
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
        }

        // One writer ticks the recovery steps of the systems down, one by one.
        let ticks = Arc::new(Mutex::new(Vec::<(String, i32)>::new()));
        {
            let (client, csrf, stop, ticks) = (
                app.client.clone(),
                csrf.clone(),
                stop.clone(),
                ticks.clone(),
            );
            let mut steps = Vec::new();
            for id in ["ad", "vmware", "netvaerk-kerne"] {
                let body = app.system_json(id).await;
                let n = body["recovery_steps"].as_array().map_or(0, Vec::len);
                steps.extend((0..n).map(|step| (id.to_string(), step as i32)));
            }
            assert!(
                steps.len() >= 6,
                "the systems down have too few steps: {steps:?}"
            );
            let url = format!("{}{incident}/ticks", app.address);
            writers.spawn(async move {
                for (system, step) in steps {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let sent = client
                        .post(&url)
                        .form(&[
                            ("csrf", csrf.as_str()),
                            ("system", system.as_str()),
                            ("step", &step.to_string()),
                            ("done", "1"),
                        ])
                        .send()
                        .await;
                    match sent {
                        Ok(r) if acknowledged(r.status().as_u16()) => {
                            ticks.lock().await.push((system, step))
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
        }

        // Kill the server in the middle of the burst: once enough writes were answered, among
        // them an edit (slower than a note, so on a busy machine the notes alone can reach the
        // count first), or after five seconds, whichever comes first.
        let started = Instant::now();
        while (notes.lock().await.len() + edits.lock().await.len() < 120
            || edits.lock().await.is_empty())
            && started.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        server.kill();
        stop.store(true, Ordering::Relaxed);
        tokio::time::timeout(Duration::from_secs(20), async {
            while writers.join_next().await.is_some() {}
        })
        .await
        .expect("the writers stop once the server is gone");
        let notes = notes.lock().await.clone();
        let edits = edits.lock().await.clone();
        let ticks = ticks.lock().await.clone();
        assert!(
            notes.len() >= 20 && !edits.is_empty(),
            "{}: too few writes acknowledged before the kill to test anything ({} notes, {} edits)",
            db.backend,
            notes.len(),
            edits.len()
        );

        // Restarted on the same database: every acknowledged write is there.
        let server = Server::start(&db.url);
        let app = client_of(&server.address);
        app.login_as("lars-nielsen").await;
        let (status, page) = app.page(&incident).await;
        assert_eq!(status, 200);
        let lost: Vec<&String> = notes
            .iter()
            .filter(|n| !page.contains(n.as_str()))
            .collect();
        assert!(
            lost.is_empty(),
            "{}: acknowledged notes lost: {lost:?}",
            db.backend
        );
        for (id, text) in &edits {
            assert_eq!(description(&app, id).await, *text, "{}: {id}", db.backend);
        }
        let id: i64 = incident.rsplit('/').next().unwrap().parse().unwrap();
        let conn = beredskab::store::connect(&db.url).await.unwrap();
        let stored = beredskab::store::incidents::ticks(&conn, id).await.unwrap();
        for (system, step) in &ticks {
            assert!(
                stored
                    .iter()
                    .any(|t| &t.system_id == system && t.step == *step),
                "{}: acknowledged tick of {system} step {step} lost",
                db.backend
            );
        }
        drop(conn);
        eprintln!(
            "{}: {} notes, {} edits and {} ticks acknowledged before SIGKILL, all there after restart",
            db.backend,
            notes.len(),
            edits.len(),
            ticks.len()
        );
    }
}

/// A TCP proxy on loopback in front of a database server that can be taken down (every open
/// connection cut, new ones closed at once, as a restarting server does) and brought back.
struct Proxy {
    port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !*watch.borrow() {
                    drop(client);
                    continue;
                }
                let (upstream, mut watch) = (upstream.clone(), watch.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { port, up }
    }

    fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

#[tokio::test]
async fn postgresql_going_away_under_load_fails_requests_cleanly_and_they_recover_without_a_restart()
 {
    let Some(db) = helpers::postgres_db().await else {
        return;
    };
    let url: reqwest::Url = db.url.parse().unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("error")
        .try_init();
    let proxy = Proxy::start(upstream).await;
    let mut proxied = url.clone();
    proxied.set_host(Some("127.0.0.1")).unwrap();
    proxied.set_port(Some(proxy.port)).unwrap();
    let app = helpers::spawn_app(proxied.as_str(), &helpers::plans()).await;
    let incident = open_incident(&app).await;
    let csrf = app.csrf().await;

    // Three clients load the server: the overview, a system page and notes to the incident.
    let deadline = Instant::now() + Duration::from_secs(16);
    let results = Arc::new(Mutex::new(Vec::<(
        Instant,
        &'static str,
        u16,
        Duration,
        String,
    )>::new()));
    let mut load = tokio::task::JoinSet::new();
    for kind in ["overview", "system", "note"] {
        let (client, address, csrf, results, incident) = (
            app.client.clone(),
            app.address.clone(),
            csrf.clone(),
            results.clone(),
            incident.clone(),
        );
        load.spawn(async move {
            let mut i = 0;
            while Instant::now() < deadline {
                i += 1;
                let request = match kind {
                    "overview" => client.get(format!("{address}/plans/example-kommune")),
                    "system" => client.get(format!("{address}/plans/example-kommune/systems/ad")),
                    _ => client
                        .post(format!("{address}{incident}/notes"))
                        .form(&[("csrf", csrf.as_str()), ("text", &format!("load-{i}"))]),
                };
                let sent = Instant::now();
                let r = request.send().await.expect("every request gets an answer");
                let status = r.status().as_u16();
                let body = r.text().await.unwrap_or_default();
                results
                    .lock()
                    .await
                    .push((sent, kind, status, sent.elapsed(), body));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let down_at = Instant::now();
    proxy.set_up(false);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (health, _) = app.page("/healthz").await;
    assert_eq!(health, 503, "/healthz while the database is away");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let up_at = Instant::now();
    proxy.set_up(true);
    while load.join_next().await.is_some() {}

    let results = results.lock().await;
    let mut during = 0;
    for (sent, kind, status, took, body) in results.iter() {
        // Never a 500 or a hang: the page, the redirect after a note, or 503 naming the cause.
        assert!(
            [200, 303, 503].contains(status),
            "{kind}: {status} {body:.300}"
        );
        assert!(*took < Duration::from_secs(8), "{kind} took {took:?}");
        if *status == 503 {
            assert!(
                body.to_lowercase().contains("database"),
                "{kind}: a 503 that does not name the database: {body:.300}"
            );
            assert!(*sent + *took >= down_at, "{kind}: 503 before the outage");
            during += 1;
        }
    }
    assert!(during >= 3, "only {during} requests met the outage");
    // Back without a restart: every kind of request succeeded after the database returned.
    for kind in ["overview", "system", "note"] {
        let recovered = results
            .iter()
            .filter(|(sent, k, status, _, _)| *k == kind && *sent > up_at && *status != 503)
            .count();
        assert!(
            recovered >= 1,
            "{kind} never succeeded after the database came back"
        );
        let last = results.iter().rfind(|r| r.1 == kind).unwrap();
        assert_ne!(last.2, 503, "{kind}: still failing at the end");
    }
    assert_eq!(app.page("/healthz").await.0, 200);
    eprintln!(
        "postgres away for 7 s: {} requests, {during} answered 503, none failed otherwise",
        results.len()
    );
}

/// A small tmpfs of its own, so that a test can fill it or make it read-only. Mounting needs
/// root (CI runs as root); without it the caller skips, unless `REQUIRE_MOUNT=1` (set by
/// `.ci/run`) makes that a failure.
struct SmallDisk {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            assert!(
                std::env::var("REQUIRE_MOUNT").as_deref() != Ok("1"),
                "REQUIRE_MOUNT=1 but a tmpfs cannot be mounted here (needs root)"
            );
            eprintln!("cannot mount a tmpfs (needs root): disk-full and read-only tests skipped");
            return None;
        }
        Some(SmallDisk { path, _dir: dir })
    }

    /// An SQLite database on this disk.
    fn database_url(&self) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            self.path.join("beredskab.db").display()
        )
    }

    fn remount(&self, how: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{how}")])
            .arg(&self.path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "remount {how}");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Changes a system's description through the API; the status and the answer's text.
async fn set_description(app: &TestApp, id: &str, text: &str) -> (u16, String) {
    let mut body = app.system_json(id).await;
    body["description"] = serde_json::Value::String(text.to_string());
    let url = format!("/api/v1/plans/example-kommune/systems/{id}");
    let r = app.put_json(&url, &body).await;
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn description(app: &TestApp, id: &str) -> String {
    app.system_json(id).await["description"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_full_disk_or_a_read_only_database_gets_a_clear_error_and_nothing_is_lost() {
    let Some(disk) = SmallDisk::mount(24) else {
        return;
    };
    let url = disk.database_url();
    let app = helpers::spawn_app(&url, &helpers::plans()).await;
    app.login_as("lars-nielsen").await;
    let (status, _) = set_description(&app, "ad", "saved before the disk filled").await;
    assert_eq!(status, 200);

    // Fill the disk to the last byte.
    let filler = disk.path.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
    // Large edits need new pages: refused with 503 naming the full disk, not a 500.
    let big = "x".repeat(19_000);
    let mut full = 0;
    for i in 0..20 {
        let (status, body) = set_description(&app, "ad", &format!("{i}{big}")).await;
        assert!(
            [200, 503].contains(&status),
            "{status} on a full disk: {body:.300}"
        );
        if status == 503 {
            assert!(body.contains("disk is full"), "{body:.300}");
            full += 1;
        }
    }
    assert!(full > 0, "no edit met the full disk");
    // Reading still works while the disk is full.
    assert_eq!(app.page("/plans/example-kommune/systems/ad").await.0, 200);

    // Space again: the next edit is saved, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let (status, _) = set_description(&app, "ad", "saved after space was freed").await;
    assert_eq!(status, 200);
    assert_eq!(description(&app, "ad").await, "saved after space was freed");
    drop(app);

    // No corruption: SQLite's own check passes, and the last saved text is in the file, as
    // another connection sees it (a connection left inside the failed transaction would have
    // kept it to itself).
    let conn = beredskab::store::connect(&url).await.unwrap();
    use sea_orm::ConnectionTrait;
    let check = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(check.try_get_by_index::<String>(0).unwrap(), "ok");
    let plan = beredskab::store::load_plan(
        &conn,
        &beredskab::domain::PlanId::parse("example-kommune").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let ad = plan.systems.iter().find(|s| s.id.as_str() == "ad").unwrap();
    assert_eq!(ad.description, "saved after space was freed");
}

#[tokio::test]
async fn on_a_read_only_database_reading_goes_on_edits_are_refused_with_the_reason_and_saving_resumes()
 {
    let Some(disk) = SmallDisk::mount(24) else {
        return;
    };
    let url = disk.database_url();
    let mut server = Server::start(&url);
    let app = client_of(&server.address);
    app.login_as("lars-nielsen").await;
    assert_eq!(
        set_description(&app, "ad", "saved while writable").await.0,
        200
    );

    // The disk turns read-only (as the kernel does after a disk error) and the server restarts.
    server.kill();
    disk.remount("ro");
    // Without --demo, which would set the demo passwords (a write) at start.
    let server = Server::start_with(&url, &[]);
    let app = app.at(&server.address);
    // The session was stored before: the incident lead stays signed in and can read.
    let (status, page) = app.page("/plans/example-kommune/systems/ad").await;
    assert_eq!(status, 200);
    assert!(page.contains("saved while writable"));
    assert_eq!(app.page("/plans/example-kommune/runbook").await.0, 200);
    // A change is refused with the reason, as a page and from the API.
    let (status, body) = set_description(&app, "ad", "never saved").await;
    assert_eq!(status, 503, "{body:.300}");
    assert!(body.contains("accepts no writes"), "{body:.300}");
    let r = app
        .post_form("/plans/example-kommune/systems/ad/reviewed", &[])
        .await;
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().await.unwrap().contains("skrivebeskyttet"));
    // A new session cannot be stored either: the login page says why.
    let (status, page) = app.second_client().page("/login").await;
    assert_eq!(status, 503);
    assert!(page.contains("skrivebeskyttet"), "{page:.500}");
    assert_eq!(description(&app, "ad").await, "saved while writable");

    // The disk is writable again: the next change is saved without a restart (the connections
    // SQLite opened read-only are not kept).
    disk.remount("rw");
    let (status, body) = set_description(&app, "ad", "saved once writable again").await;
    assert_eq!(status, 200, "{body:.300}");
    assert_eq!(description(&app, "ad").await, "saved once writable again");
}

#[tokio::test]
async fn a_save_waits_for_another_writer_and_one_kept_waiting_too_long_is_told_the_database_is_busy()
 {
    let db = helpers::sqlite_db();
    let url = db.url.clone();
    let app = TestApp::spawn_on(db, &helpers::plans()).await;
    app.login_as("lars-nielsen").await;
    // Another process on the same file (an import, say) holds the write lock for a second:
    // the save waits its turn and is stored.
    let other = beredskab::store::connect(&url).await.unwrap();
    let held = beredskab::store::begin_write(&other).await.unwrap();
    let started = Instant::now();
    let (saved, ()) = tokio::join!(set_description(&app, "ad", "saved after waiting"), async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        held.commit().await.unwrap();
    });
    assert_eq!(saved.0, 200, "{}", saved.1);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(description(&app, "ad").await, "saved after waiting");

    // Held past the busy timeout (5 s): a clear 503 that says to try again soon, from the
    // API and as a page, and nothing is half-written. Meanwhile reading goes on: the
    // runbook and a system page are served at once, beside the waiting saves.
    let held = beredskab::store::begin_write(&other).await.unwrap();
    let reading = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        for path in ["runbook", "systems/dns-dhcp"] {
            let (status, _) = app.page(&format!("/plans/example-kommune/{path}")).await;
            assert_eq!(status, 200, "{path}");
        }
        started.elapsed()
    };
    let (api, form, read_in) = tokio::join!(
        set_description(&app, "ad", "never saved"),
        app.post_form("/plans/example-kommune/systems/ad/reviewed", &[]),
        reading
    );
    assert!(read_in < Duration::from_secs(2), "reading took {read_in:?}");
    assert_eq!(api.0, 503, "{}", api.1);
    assert!(api.1.contains("busy with other changes"), "{}", api.1);
    assert_eq!(form.status().as_u16(), 503);
    assert_eq!(form.headers()["retry-after"], "5");
    assert!(form.text().await.unwrap().contains("Databasen er optaget"));
    held.rollback().await.unwrap();
    assert_eq!(description(&app, "ad").await, "saved after waiting");
    // Released: the next save goes through without a restart.
    assert_eq!(set_description(&app, "ad", "saved again").await.0, 200);
    assert_eq!(description(&app, "ad").await, "saved again");
    other.close().await.unwrap();
}

#[tokio::test]
async fn two_servers_on_one_postgresql_send_each_invitation_once_and_fire_each_occurrence_once() {
    let Some(db) = helpers::postgres_db().await else {
        return;
    };
    let smtp = helpers::smtp::SmtpServer::start();
    let with_smtp = |c: &mut beredskab::config::Config| {
        c.mail_transport = beredskab::config::MailTransport::Smtp;
        c.smtp_host = "127.0.0.1".into();
        c.smtp_port = smtp.port;
        c.smtp_security = beredskab::config::SmtpSecurity::None;
    };
    let plans = helpers::plans();
    let a = helpers::spawn_app_with(&db.url, &plans, with_smtp).await;

    // A weekly programme (Mondays 09:00): the next two fall within the invitation window.
    a.login_as("lars-nielsen").await;
    let path = "/plans/example-kommune/drills/new?scenario=ad-nede";
    let (_, page) = a.page(path).await;
    let mut fields = helpers::form_fields(&page, path);
    let participants = fields.iter().filter(|(k, _)| k == "participant").count();
    helpers::set(&mut fields, "repeat", "recurring");
    helpers::set(&mut fields, "cron", "0 9 * * Mon");
    let response = a.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let drill: i64 = location(&response)
        .trim_start_matches("/drills/")
        .parse()
        .unwrap();
    let b = helpers::spawn_app_with(&db.url, &plans, with_smtp).await;

    // Both servers' background passes (every scheduler job, then the mail worker) at the same
    // moment, twice: each send must be claimed by one of them only.
    for _ in 0..2 {
        tokio::join!(a.run_jobs(), b.run_jobs());
    }
    assert!(smtp.messages().len() >= 2 * participants);

    let conn = beredskab::store::connect(&db.url).await.unwrap();
    let occurrences = beredskab::store::drills::occurrences(&conn, drill)
        .await
        .unwrap();
    let mut starts: Vec<_> = occurrences.iter().map(|o| o.starts_at).collect();
    starts.dedup();
    assert_eq!(
        starts.len(),
        occurrences.len(),
        "an occurrence stored twice"
    );
    assert!(occurrences.len() >= 52, "{} occurrences", occurrences.len());
    // What was queued: each (occurrence, kind, recipient) once…
    let queued = beredskab::store::outbox::recent(&conn, None, 10_000)
        .await
        .unwrap();
    let mut keys: Vec<_> = queued
        .iter()
        .map(|m| (m.occurrence_id, m.kind.clone(), m.to_address.clone()))
        .collect();
    keys.sort();
    let before = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), before, "a message was queued twice");
    let invited = queued.iter().filter(|m| m.kind == "invitation").count();
    assert!(invited >= 2 * participants, "{invited} invitations queued");
    // …and each queued message handed to the mail server once.
    let mut sent: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| {
            let line = m
                .data
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .unwrap();
            line[11..].trim().trim_matches(['<', '>']).to_string()
        })
        .collect();
    sent.sort();
    let mut ids: Vec<String> = queued.iter().map(|m| m.message_id.clone()).collect();
    ids.sort();
    assert_eq!(sent, ids, "every queued message sent exactly once");
    eprintln!(
        "two servers: {} occurrences, {} messages queued and sent once each",
        occurrences.len(),
        sent.len()
    );
}

#[tokio::test]
async fn a_server_killed_while_it_sends_sms_loses_none_and_sends_again_at_most_those_in_flight() {
    use helpers::http_peer::{HttpPeer, gatewayapi_ok};
    let gateway = HttpPeer::start(gatewayapi_ok()).await;
    // Slow answers: the worker has texts in flight when it is killed.
    gateway.slow(Duration::from_millis(800));
    let url = gateway.url("/rest/mtsms");
    let env = [
        ("BEREDSKAB_SMS_PROVIDER", "gatewayapi"),
        ("BEREDSKAB_SMS_URL", url.as_str()),
        ("BEREDSKAB_SMS_TOKEN", "token"),
    ];
    let db = helpers::sqlite_db();
    let mut server = Server::start_env(&db.url, &["--demo"], &env);
    let app = helpers::client_of(&server.address);
    let incident = open_incident(&app).await;
    let r = app.post_form(&format!("{incident}/alert"), &[]).await;
    assert_eq!(r.status().as_u16(), 303);
    let people = std::fs::read_to_string(helpers::example_plan().join("plan.toml"))
        .unwrap()
        .matches("[[call_tree]]")
        .count();
    // Killed once the gateway has some texts and has answered none of them.
    let waited = Instant::now();
    while gateway.received().is_empty() {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "no SMS reached the gateway"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.kill();
    let in_flight = gateway.received().len();
    assert!(in_flight < people, "killed before everything was sent");

    // The claims of the texts in flight would expire in 5 minutes: that time is taken as
    // passed. Then a new server sends what was never sent, and the interrupted ones again.
    gateway.slow(Duration::ZERO);
    let conn = beredskab::store::connect(&db.url).await.unwrap();
    use sea_orm::ConnectionTrait;
    conn.execute_unprepared(
        "UPDATE outbox SET claimed_until = '2000-01-01 00:00:00+00:00' WHERE state = 'sending'",
    )
    .await
    .unwrap();
    drop(conn);
    let _server = Server::start_env(&db.url, &["--demo"], &env);
    let waited = Instant::now();
    let numbers = || {
        gateway
            .received()
            .iter()
            .map(|r| r.json()["recipients"][0]["msisdn"].as_u64().unwrap())
            .collect::<std::collections::BTreeSet<_>>()
    };
    while numbers().len() < people {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "after the restart only {} of {people} numbers got their SMS",
            numbers().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let total = gateway.received().len();
    let again = total - people;
    assert!(
        again <= in_flight,
        "{again} sent twice, but only {in_flight} were in flight at the kill"
    );
    println!(
        "SIGKILL with {in_flight} SMS in flight: all {people} people got theirs, {again} twice"
    );
}
