//! Headless Chromium driven through chromedriver (Debian's `chromium` and `chromium-driver`).
//! Without them a test prints one line and passes, unless `REQUIRE_BROWSER=1` (set by `.ci/run`),
//! which makes their absence a failure.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

use super::which;

/// chromedriver, stopped when dropped together with the Chromium it started: both are in a
/// process group of their own, which is killed whole (a session not closed by its test would
/// otherwise leave Chromium running for the rest of the run).
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver and a headless Chromium session, or says why it cannot.
pub async fn browser() -> Option<(Driver, Client)> {
    browser_with(&[]).await
}

/// `browser`, with more Chromium arguments.
pub async fn browser_with(extra: &[&str]) -> Option<(Driver, Client)> {
    let required = std::env::var("REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let (Some(driver), Some(chromium)) = (which("chromedriver"), which("chromium")) else {
        assert!(
            !required,
            "REQUIRE_BROWSER=1 but chromium or chromedriver is not installed"
        );
        println!(
            "skipped: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting chromedriver");
    let driver = Driver(child);
    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1280,1000",
    ]
    .iter()
    .chain(extra)
    .map(ToString::to_string)
    .collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": chromium, "args": args}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps.clone());
        match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => {
                // The profile folder must outlive the browser.
                std::mem::forget(profile);
                return Some((driver, client));
            }
            Err(e) if Instant::now() > deadline => panic!("chromedriver did not start: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
