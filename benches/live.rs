//! Live updates at scale: 1,000 pages following one incident through server-sent events
//! (`/incidents/<id>/live`) on one server, the real release binary started as a child process
//! on a free loopback port with the example plan and its demo accounts.
//!
//! Measured, with 10 and then 1,000 pages open and idle for 10 s: the server's CPU (utime +
//! stime from `/proc/<pid>/stat`, as a share of one core), its resident memory (`VmRSS`), and on
//! PostgreSQL the database's transactions a second (`xact_commit + xact_rollback` of the bench
//! database in `pg_stat_database`). Then 5 ticks of a recovery step (done, undone, …), each
//! timed from just before its POST until each of the 1,000 pages has the `changed` event with
//! the new revision.
//!
//! `cargo bench --bench live` (SQLite in a temporary folder), or on PostgreSQL in a database
//! created for the run and dropped after it:
//! `TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench live`.
//! Linux only (`/proc`); loopback only; gives up after 3 minutes. Prints markdown tables.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use tokio::sync::{Semaphore, mpsc};

/// Pages following the incident in the main measurement.
const VIEWERS: usize = 1_000;
/// Pages following it in the comparison.
const FEW: usize = 10;
/// How long the pages sit idle while CPU and database work are counted.
const IDLE: Duration = Duration::from_secs(10);
const TICKS: usize = 5;
/// How long a tick may take to reach every page before the rest count as missed.
const TICK_DEADLINE: Duration = Duration::from_secs(10);
/// The whole run, start to finish.
const LIMIT: Duration = Duration::from_secs(180);
/// Streams being opened at the same time (like people arriving, not all in one instant).
const OPENING_AT_ONCE: usize = 100;
const DEMO_PASSWORD: &str = "bench-live-demo-password";
const ADMIN_PASSWORD: &str = "bench-live-admin-password";
const PLAN: &str = "example-kommune";
/// `/proc/<pid>/stat` counts CPU time in clock ticks of 1/100 s (USER_HZ) on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // On time out the run is dropped, and with it the server (killed) and its database.
    let finished = runtime.block_on(async { tokio::time::timeout(LIMIT, run()).await });
    runtime.shutdown_timeout(Duration::from_secs(2));
    if finished.is_err() {
        eprintln!("live: gave up after {} s", LIMIT.as_secs());
        std::process::exit(1);
    }
}

async fn run() {
    let server = Server::start().await;
    let base = server.base.clone();
    eprintln!(
        "live: server pid {} at {base} on {}",
        server.pid(),
        server.backend()
    );

    let started_rss = server.rss_mb();
    // The approver approves the plan; the incident lead opens an incident with `ad` down.
    let approver = form_client(Arc::new(reqwest::cookie::Jar::default()));
    sign_in(&approver, &base, "mette-holm").await;
    let r = post_form(
        &approver,
        &base,
        &format!("/plans/{PLAN}/approve"),
        &[("comment", "Version 1"), ("confirmed", "1")],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303, "approving the plan");
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let lead = form_client(jar.clone());
    sign_in(&lead, &base, "anne-kjaer").await;
    let r = post_form(
        &lead,
        &base,
        &format!("/plans/{PLAN}/incidents"),
        &[
            ("title", "Netværket er nede"),
            ("criterion", ""),
            ("started", ""),
            ("down", "ad"),
        ],
    )
    .await;
    assert_eq!(r.status().as_u16(), 303, "opening the incident");
    let incident = r.headers()["location"].to_str().unwrap().to_string();
    let live_url = format!("{base}{incident}/live");
    let opened_rss = server.rss_mb();

    // Every page its own HTTP/1.1 connection, all with the incident lead's session cookie.
    let streams = reqwest::Client::builder()
        .cookie_provider(jar)
        .http1_only()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut viewers = Viewers::new(streams, live_url);

    let opened = viewers.open(FEW).await;
    eprintln!("live: {FEW} pages have their first event after {opened:.2?}");
    let few = server.idle(FEW).await;
    viewers.check();

    let opened = viewers.open(VIEWERS - FEW).await;
    eprintln!(
        "live: {} more pages have their first event after {opened:.2?}",
        VIEWERS - FEW
    );
    let many = server.idle(VIEWERS).await;
    viewers.check();

    // Ticks: done, undone, done, … each changes the incident, so each raises its revision.
    let mut ticks = Vec::new();
    for k in 0..TICKS {
        let done = if k % 2 == 0 { "1" } else { "0" };
        let above = viewers.revision();
        let csrf = csrf_of_session(&lead, &base).await;
        let started = Instant::now();
        let r = lead
            .post(format!("{base}{incident}/ticks"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("system", "ad"),
                ("step", "0"),
                ("done", done),
            ])
            .send()
            .await
            .unwrap();
        let answered = started.elapsed();
        assert_eq!(r.status().as_u16(), 303, "tick {}", k + 1);
        let seen = viewers.until(above, started + TICK_DEADLINE).await;
        let revision = viewers.revision();
        let latencies: Vec<Option<Duration>> = seen
            .iter()
            .map(|at| at.map(|at| at.saturating_duration_since(started)))
            .collect();
        let at_revision = viewers.at_revision(revision);
        ticks.push(Tick {
            done,
            revision,
            answered,
            latencies,
            at_revision,
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    viewers.check();

    report(&server, (started_rss, opened_rss), &few, &many, &ticks);
    drop(viewers);
    drop(server);
}

/// The server's figures over one idle window.
struct Idle {
    viewers: usize,
    cpu_percent: f64,
    /// CPU time over the window, in ms (counted in steps of 10 ms).
    cpu_ms: u64,
    rss_mb: f64,
    /// Database transactions a second (PostgreSQL only).
    transactions: Option<(i64, f64)>,
    /// Established connections to the server's port.
    connections: usize,
    fds: usize,
}

struct Tick {
    done: &'static str,
    revision: i64,
    answered: Duration,
    /// Per page: how long until it had the new revision (`None`: not within the deadline).
    latencies: Vec<Option<Duration>>,
    /// Pages at the new revision afterwards.
    at_revision: usize,
}

fn report(server: &Server, rss: (f64, f64), few: &Idle, many: &Idle, ticks: &[Tick]) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "\nLive updates: one incident followed by {} pages over server-sent events, \
         the release binary on {}, {cores} CPUs; the same machine runs the {} clients.\n",
        thousands(VIEWERS),
        server.backend(),
        thousands(VIEWERS)
    );
    println!(
        "| idle for {} s | {} pages | {} pages | target (at {} pages) | met |",
        IDLE.as_secs(),
        few.viewers,
        thousands(many.viewers),
        thousands(VIEWERS)
    );
    println!("|---|---:|---:|---|---|");
    println!(
        "| server CPU (share of one core; CPU time in the window) | {:.2} % ({} ms) | {:.2} % ({} ms) | < 5 % | {} |",
        few.cpu_percent,
        few.cpu_ms,
        many.cpu_percent,
        many.cpu_ms,
        yes(many.cpu_percent < 5.0)
    );
    println!(
        "| server resident memory (VmRSS) | {:.1} MB | {:.1} MB | < 150 MB | {} |",
        few.rss_mb,
        many.rss_mb,
        yes(many.rss_mb < 150.0)
    );
    match (few.transactions, many.transactions) {
        (Some((few_n, few_rate)), Some((many_n, many_rate))) => println!(
            "| database transactions a second (pg_stat_database) | {few_rate:.2} ({few_n} in {s} s) \
             | {many_rate:.2} ({many_n} in {s} s) | not growing with the pages | {} |",
            // Within one a second: 990 more pages each asking once a minute would add 16.
            yes(many_rate <= few_rate + 1.0),
            s = IDLE.as_secs()
        ),
        _ => println!(
            "| database queries a second | n/a (SQLite) | n/a (SQLite) | not growing with the pages | – |"
        ),
    }
    println!(
        "| connections to the server (established) | {} | {} | one per page | {} |",
        few.connections,
        thousands(many.connections),
        yes(many.connections >= VIEWERS)
    );
    println!(
        "| server's open file descriptors | {} | {} | | |",
        few.fds,
        thousands(many.fds)
    );
    println!(
        "\nServer resident memory before any page was open: {:.1} MB once listening, {:.1} MB \
         after two sign-ins, the approval and the incident.",
        rss.0, rss.1
    );

    println!(
        "\n| tick (from before its POST until each of the {} pages has the new revision) | revision | POST answered | p50 | p99 | max | within 1 s |",
        thousands(VIEWERS)
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (k, tick) in ticks.iter().enumerate() {
        let (p50, p99, max, within) = summary(&tick.latencies);
        println!(
            "| {} (done={}) | {} | {:.1} ms | {p50} | {p99} | {max} | {} of {} |",
            k + 1,
            tick.done,
            tick.revision,
            ms(tick.answered),
            thousands(within),
            thousands(tick.latencies.len()),
        );
        if tick.at_revision != tick.latencies.len() {
            println!(
                "|   only {} pages ended at revision {} | | | | | | |",
                tick.at_revision, tick.revision
            );
        }
    }
    let all: Vec<Option<Duration>> = ticks
        .iter()
        .flat_map(|t| t.latencies.iter().copied())
        .collect();
    let (p50, p99, max, within) = summary(&all);
    println!(
        "| all {} ticks | | | {p50} | {p99} | {max} | {} of {} ({:.1} %) |",
        ticks.len(),
        thousands(within),
        thousands(all.len()),
        100.0 * within as f64 / all.len().max(1) as f64
    );
    let share = within as f64 / all.len().max(1) as f64;
    println!(
        "\nTarget: a tick reaches 99 % of the pages within 1 s: {} ({:.1} %).",
        yes(share >= 0.99),
        100.0 * share
    );
    println!(
        "`cargo bench --bench live`{}.",
        if server.db.is_some() {
            " with TEST_POSTGRES_URL set"
        } else {
            ""
        }
    );
}

fn yes(met: bool) -> &'static str {
    if met { "yes" } else { "**no**" }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// p50, p99 and max (a page that never got it counts as slowest), and how many within 1 s.
fn summary(latencies: &[Option<Duration>]) -> (String, String, String, usize) {
    let mut sorted: Vec<Duration> = latencies
        .iter()
        .map(|l| l.unwrap_or(Duration::MAX))
        .collect();
    sorted.sort();
    let show = |d: Duration| {
        if d == Duration::MAX {
            format!("> {} s (missed)", TICK_DEADLINE.as_secs())
        } else {
            format!("{:.1} ms", ms(d))
        }
    };
    if sorted.is_empty() {
        return ("–".into(), "–".into(), "–".into(), 0);
    }
    let at =
        |q: f64| sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1];
    let within = sorted
        .iter()
        .filter(|d| **d <= Duration::from_secs(1))
        .count();
    (
        show(at(0.50)),
        show(at(0.99)),
        show(*sorted.last().unwrap()),
        within,
    )
}

/// What a page's stream reader reports.
enum Seen {
    Changed {
        page: usize,
        revision: i64,
        at: Instant,
    },
    Ended {
        page: usize,
        why: String,
    },
}

/// The open pages: one task each reads its stream and reports every `changed` event.
struct Viewers {
    client: reqwest::Client,
    url: String,
    opening: Arc<Semaphore>,
    sender: mpsc::UnboundedSender<Seen>,
    receiver: mpsc::UnboundedReceiver<Seen>,
    /// Per page: the newest revision it has had (`i64::MIN`: none yet).
    revisions: Vec<i64>,
    ended: Vec<Option<String>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Viewers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Viewers {
    fn new(client: reqwest::Client, url: String) -> Viewers {
        let (sender, receiver) = mpsc::unbounded_channel();
        Viewers {
            client,
            url,
            opening: Arc::new(Semaphore::new(OPENING_AT_ONCE)),
            sender,
            receiver,
            revisions: Vec::new(),
            ended: Vec::new(),
            tasks: Vec::new(),
        }
    }

    /// Opens `count` more pages; returns once every page has had its first event.
    async fn open(&mut self, count: usize) -> Duration {
        let started = Instant::now();
        for _ in 0..count {
            let page = self.revisions.len();
            self.revisions.push(i64::MIN);
            self.ended.push(None);
            self.tasks.push(tokio::spawn(follow(
                self.client.clone(),
                self.url.clone(),
                page,
                self.opening.clone(),
                self.sender.clone(),
            )));
        }
        self.until(i64::MIN, started + Duration::from_secs(60))
            .await;
        let missing = self.revisions.iter().filter(|r| **r == i64::MIN).count();
        assert_eq!(
            missing,
            0,
            "{missing} pages got no first event; ended: {:?}",
            self.ended.iter().flatten().take(3).collect::<Vec<_>>()
        );
        started.elapsed()
    }

    /// Waits until every open page has a revision above `above`, or until `deadline`; returns
    /// for each page when its first event above `above` arrived (`None`: not by the deadline).
    async fn until(&mut self, above: i64, deadline: Instant) -> Vec<Option<Instant>> {
        let mut seen: Vec<Option<Instant>> = vec![None; self.revisions.len()];
        let mut waiting = (0..self.revisions.len())
            .filter(|&p| self.revisions[p] <= above && self.ended[p].is_none())
            .count();
        while waiting > 0 {
            let next = tokio::time::timeout_at(deadline.into(), self.receiver.recv()).await;
            let Ok(Some(report)) = next else {
                break;
            };
            match report {
                Seen::Changed { page, revision, at } => {
                    let before = self.revisions[page];
                    self.revisions[page] = before.max(revision);
                    if before <= above && revision > above && self.ended[page].is_none() {
                        seen[page] = Some(at);
                        waiting -= 1;
                    }
                }
                Seen::Ended { page, why } => {
                    if self.ended[page].is_none() {
                        if self.revisions[page] <= above {
                            waiting -= 1;
                        }
                        self.ended[page] = Some(why);
                    }
                }
            }
        }
        seen
    }

    /// Takes in what arrived meanwhile and insists that every page is still open.
    fn check(&mut self) {
        while let Ok(report) = self.receiver.try_recv() {
            match report {
                Seen::Changed { page, revision, .. } => {
                    self.revisions[page] = self.revisions[page].max(revision);
                }
                Seen::Ended { page, why } => self.ended[page] = Some(why),
            }
        }
        let ended: Vec<&String> = self.ended.iter().flatten().collect();
        assert!(
            ended.is_empty(),
            "{} pages' streams ended: {:?}",
            ended.len(),
            ended.iter().take(3).collect::<Vec<_>>()
        );
    }

    /// The newest revision any page has had.
    fn revision(&self) -> i64 {
        self.revisions.iter().copied().max().unwrap_or(i64::MIN)
    }

    fn at_revision(&self, revision: i64) -> usize {
        self.revisions.iter().filter(|r| **r == revision).count()
    }
}

/// One page: opens the stream and reports each `changed` event with when its bytes arrived.
async fn follow(
    client: reqwest::Client,
    url: String,
    page: usize,
    opening: Arc<Semaphore>,
    reports: mpsc::UnboundedSender<Seen>,
) {
    let end = |why: String| {
        let _ = reports.send(Seen::Ended { page, why });
    };
    let permit = opening.acquire().await.unwrap();
    let mut response = match client
        .get(&url)
        .header("accept", "text/event-stream")
        .send()
        .await
    {
        Ok(response) => response,
        Err(e) => return end(format!("request: {e}")),
    };
    drop(permit);
    if response.status() != reqwest::StatusCode::OK {
        return end(format!("status {}", response.status()));
    }
    if response.version() != reqwest::Version::HTTP_11 {
        return end(format!("{:?}, not HTTP/1.1", response.version()));
    }
    let mut buffer = String::new();
    loop {
        match response.chunk().await {
            Ok(Some(bytes)) => {
                let at = Instant::now();
                buffer.push_str(&String::from_utf8_lossy(&bytes));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    if let Some(revision) = changed(&block) {
                        let _ = reports.send(Seen::Changed { page, revision, at });
                    }
                }
            }
            Ok(None) => return end("the server closed the stream".into()),
            Err(e) => return end(format!("reading: {e}")),
        }
    }
}

/// The revision of a `changed` event (keep-alive comments and other events: none).
fn changed(block: &str) -> Option<i64> {
    if !block.lines().any(|l| l.trim_end() == "event: changed") {
        return None;
    }
    let data = block.lines().find_map(|l| l.strip_prefix("data:"))?;
    data.trim().parse().ok()
}

/// A client for pages and forms, with the cookies of `jar`.
fn form_client(jar: Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

async fn sign_in(client: &reqwest::Client, base: &str, username: &str) {
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "signing in as {username}");
}

/// The CSRF token of the client's session, from its account page.
async fn csrf_of_session(client: &reqwest::Client, base: &str) -> String {
    let page = client
        .get(format!("{base}/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    csrf_of(&page)
}

async fn post_form(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let csrf = csrf_of_session(client, base).await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    client
        .post(format!("{base}{path}"))
        .form(&all)
        .send()
        .await
        .unwrap()
}

/// The server as a child process; killed when dropped (also on a panic), then its database
/// dropped.
struct Server {
    child: Child,
    base: String,
    /// The last lines the server logged, shown when it fails to start.
    log: Arc<Mutex<VecDeque<String>>>,
    /// On PostgreSQL: a connection to the administrative database, to read the statistics.
    stats: Option<DatabaseConnection>,
    db: Option<BenchDb>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Then `db` is dropped, which drops the database.
    }
}

/// A PostgreSQL database created for the run, dropped with the value.
struct BenchDb {
    admin_url: String,
    name: String,
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // On a thread of its own: this may run while the bench's runtime is going away.
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
        if !matches!(dropped.join(), Ok(Some(_))) {
            eprintln!("live: could not drop database {}", self.name);
        }
    }
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let (url, db, stats) = match std::env::var("TEST_POSTGRES_URL") {
            Ok(admin_url) => {
                let name = format!("bench_live_{}", std::process::id());
                let admin = Database::connect(admin_url.as_str())
                    .await
                    .unwrap_or_else(|e| panic!("TEST_POSTGRES_URL={admin_url}: {e}"));
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                let base = match admin_url.rfind('/') {
                    Some(i) if i > admin_url.find("://").map_or(0, |j| j + 2) => &admin_url[..i],
                    _ => admin_url.as_str(),
                };
                let url = format!("{base}/{name}");
                (url, Some(BenchDb { admin_url, name }), Some(admin))
            }
            Err(_) => (
                format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
                None,
                None,
            ),
        };
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_beredskab"));
        command
            .args(["serve", "--demo"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("BEREDSKAB_DATABASE_URL", &url)
            .env("BEREDSKAB_BIND", "127.0.0.1:0")
            .env("BEREDSKAB_PLANS_DIR", repo.join("plans"))
            .env("BEREDSKAB_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("BEREDSKAB_DEMO_PASSWORD", DEMO_PASSWORD)
            .env("BEREDSKAB_MAIL_DIR", dir.path().join("mail"))
            .env("BEREDSKAB_RUNBOOK_DIR", dir.path().join("runbooks"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // The server goes with this process even if the bench is killed outright (the signal
        // follows the thread that started it: this one, which runs the whole bench).
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = command.spawn().expect("starting the server binary");
        let stdout = child.stdout.take().unwrap();
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (address, listening) = tokio::sync::oneshot::channel::<String>();
        {
            let log = log.clone();
            // Reads the log all along, so the server never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut address = Some(address);
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(at) = line.find("listening on http://") {
                        let rest = &line[at + "listening on http://".len()..];
                        let host: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                            .collect();
                        if let Some(address) = address.take() {
                            let _ = address.send(host);
                        }
                    }
                    let mut log = log.lock().unwrap();
                    log.push_back(line);
                    if log.len() > 40 {
                        log.pop_front();
                    }
                }
            });
        }
        let mut server = Server {
            child,
            base: String::new(),
            log,
            stats,
            db,
            _dir: dir,
        };
        match tokio::time::timeout(Duration::from_secs(60), listening).await {
            Ok(Ok(host)) => server.base = format!("http://{host}"),
            _ => {
                let log = server.log.lock().unwrap();
                panic!(
                    "the server did not start listening; its last lines:\n{}",
                    log.iter().cloned().collect::<Vec<_>>().join("\n")
                );
            }
        }
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn backend(&self) -> &'static str {
        if self.db.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// The server's CPU time so far, in clock ticks (utime + stime, all threads).
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // After the command's name in parentheses, from field 3 (state) on.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb / 1024.0
    }

    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, |d| d.count())
    }

    /// Transactions committed and rolled back in the bench database so far (PostgreSQL).
    async fn transactions(&self) -> Option<i64> {
        let (stats, db) = (self.stats.as_ref()?, self.db.as_ref()?);
        let row = stats
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT (xact_commit + xact_rollback)::bigint AS n \
                 FROM pg_stat_database WHERE datname = $1",
                [db.name.clone().into()],
            ))
            .await
            .unwrap()
            .unwrap();
        Some(row.try_get::<i64>("", "n").unwrap())
    }

    /// Lets the opening settle, then counts the server's work over `IDLE`.
    async fn idle(&self, viewers: usize) -> Idle {
        // A PostgreSQL backend that reported its statistics less than a second before going
        // idle reports the rest up to 10 s later: let the opening's queries all be counted
        // before the window starts. On either database the window (11 to 21 s after the pages
        // opened) then holds the keep-alive comment each stream gets 15 s after it opened.
        tokio::time::sleep(Duration::from_secs(11)).await;
        let started = Instant::now();
        let cpu = self.cpu_ticks();
        let transactions = self.transactions().await;
        tokio::time::sleep(IDLE).await;
        let cpu = self.cpu_ticks() - cpu;
        let transactions = match (transactions, self.transactions().await) {
            (Some(before), Some(after)) => Some(after - before),
            _ => None,
        };
        let seconds = started.elapsed().as_secs_f64();
        Idle {
            viewers,
            connections: self.connections(),
            cpu_percent: 100.0 * cpu as f64 / TICKS_PER_SECOND / seconds,
            cpu_ms: (cpu as f64 * 1000.0 / TICKS_PER_SECOND) as u64,
            rss_mb: self.rss_mb(),
            transactions: transactions.map(|n| (n, n as f64 / seconds)),
            fds: self.fds(),
        }
    }

    /// The server's established connections on its port, from `/proc/net/tcp`: one per page
    /// (and a few of the form clients).
    fn connections(&self) -> usize {
        let port: u16 = self.base.rsplit(':').next().unwrap().parse().unwrap();
        let hex = format!(":{port:04X}");
        let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        tcp.lines()
            .skip(1)
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                // Local address on the server's port, state 01 (established).
                f.len() > 3 && f[1].ends_with(&hex) && f[3] == "01"
            })
            .count()
    }
}
