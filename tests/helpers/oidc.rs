//! A real OpenID provider on loopback: the npm package `oidc-provider`, run by Node.js with our
//! configuration (`tests/fixtures/oidc/provider.mjs`: clients, users, a `groups` claim), one per
//! test, stopped when dropped. `OIDC_PROVIDER_DIR` names the folder whose `node_modules` holds
//! the package (`npm install --prefix DIR oidc-provider@9`). Without Node.js or the package a
//! test prints one line and passes, unless `REQUIRE_OIDC=1` (set by `.ci/run`).

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{TestApp, which};

/// The client the test servers are at the provider, and its secret.
pub const CLIENT_ID: &str = "beredskab";
pub const CLIENT_SECRET: &str = "beredskab-test-secret";

/// A running provider, stopped when dropped.
pub struct Provider {
    child: Child,
    /// Held open: the provider stops when it closes.
    _stdin: Option<ChildStdin>,
    pub issuer: String,
    pub port: u16,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Node.js and the folder holding `oidc-provider`, or `None` after saying why the test is
/// skipped (a failure with `REQUIRE_OIDC=1`).
pub fn available() -> Option<(PathBuf, PathBuf)> {
    let required = std::env::var("REQUIRE_OIDC").is_ok_and(|v| v == "1");
    let dir = std::env::var_os("OIDC_PROVIDER_DIR").map(PathBuf::from);
    let package = dir
        .as_ref()
        .map(|d| d.join("node_modules/oidc-provider/package.json"));
    match (which("node"), dir) {
        (Some(node), Some(dir)) if package.as_ref().is_some_and(|p| p.is_file()) => {
            Some((node, dir))
        }
        _ => {
            assert!(
                !required,
                "REQUIRE_OIDC=1 but Node.js or oidc-provider is missing (OIDC_PROVIDER_DIR={:?})",
                std::env::var_os("OIDC_PROVIDER_DIR")
            );
            println!(
                "skipped: no OpenID provider (needs node and OIDC_PROVIDER_DIR with npm's oidc-provider@9)"
            );
            None
        }
    }
}

/// Starts a provider with the environment `env` (`OIDC_CLOCK_OFFSET`, `OIDC_TAMPER`,
/// `OIDC_PORT`, …), or `None` when none can run here (see `available`).
pub fn start(env: &[(&str, &str)]) -> Option<Provider> {
    let (node, dir) = available()?;
    Some(start_with(&node, &dir, env))
}

/// Starts a provider with Node.js `node` and the package under `dir`; waits (at most 120 s)
/// for it to say it listens. One provider starts at a time: a test file's tests start theirs
/// at once, and a dozen Node.js processes loading oidc-provider together on two busy cores
/// took longer than a minute each.
pub fn start_with(node: &std::path::Path, dir: &std::path::Path, env: &[(&str, &str)]) -> Provider {
    static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    let script = super::repo().join("tests/fixtures/oidc/provider.mjs");
    let errors = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new(node);
    command
        .arg(&script)
        .env("OIDC_PROVIDER_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(errors.reopen().unwrap()));
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("starting node");
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        // Keep reading so that the provider never blocks on a full pipe.
        for _ in lines {}
    });
    // Node.js starting the provider takes seconds on a loaded machine (many tests at once).
    let line = rx.recv_timeout(Duration::from_secs(120));
    let port = line
        .as_deref()
        .ok()
        .and_then(|l| l.strip_prefix("listening "))
        .and_then(|p| p.trim().parse::<u16>().ok());
    let Some(port) = port else {
        let _ = child.kill();
        let _ = child.wait();
        let mut text = String::new();
        let _ = std::fs::File::open(errors.path()).and_then(|mut f| f.read_to_string(&mut text));
        panic!("the OpenID provider did not start ({line:?}): {text}");
    };
    Provider {
        child,
        _stdin: stdin,
        issuer: format!("http://127.0.0.1:{port}"),
        port,
    }
}

/// A port on loopback that nothing listens on (just now).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Points a test server's configuration at the provider at `issuer`.
pub fn configure(config: &mut beredskab::config::Config, issuer: &str) {
    config.oidc_issuer = Some(issuer.to_string());
    config.oidc_client_id = Some(CLIENT_ID.to_string());
    config.oidc_client_secret = Some(CLIENT_SECRET.into());
    config.oidc_name = Some("Eksempel Kommune".to_string());
    // As loading the configuration sets it with an identity provider.
    config.require_mfa = true;
    // anne's group keeps the example plan, carl's reads every plan; bo has no group.
    config.group_mappings = vec![
        beredskab::config::GroupMappingEntry {
            group: "Beredskab-Koordinatorer".into(),
            plan: "example-kommune".into(),
            roles: vec![beredskab::domain::access::AccessRole::Coordinator],
        },
        beredskab::config::GroupMappingEntry {
            group: "beredskab-laesere".into(),
            plan: "*".into(),
            roles: vec![beredskab::domain::access::AccessRole::Viewer],
        },
    ];
}

/// A test server on a fresh SQLite database with the example plan, signing in through the
/// provider at `issuer`, with the configuration changed by `adjust` after that.
pub async fn spawn_app(
    issuer: &str,
    adjust: impl FnOnce(&mut beredskab::config::Config),
) -> TestApp {
    TestApp::spawn_on_with(super::sqlite_db(), &super::plans(), |config| {
        configure(config, issuer);
        adjust(config);
    })
    .await
}

fn location_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The value of an `<input name=…>` of `page`.
fn input_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    Some(page[start..start + page[start..].find('"')?].to_string())
}

/// Signs `user` in at the provider as a browser would, from `/auth/oidc/login` on `app`: the
/// address the provider sends the browser back to (`/auth/oidc/callback?code=…&state=…`), not
/// yet opened. Each step at most 10 s (the clients' timeout).
pub async fn authorize(app: &TestApp, provider: &Provider, user: &str) -> String {
    authorize_from(app, provider, user, "/auth/oidc/login").await
}

/// `authorize`, starting at `path` (`/auth/oidc/login?next=…`).
pub async fn authorize_from(app: &TestApp, provider: &Provider, user: &str, path: &str) -> String {
    let start = app.get(path).await;
    assert_eq!(start.status().as_u16(), 303, "{path}");
    let mut url = location_of(&start).unwrap();
    assert!(url.starts_with(&provider.issuer), "{url}");
    let callback = format!("{}/auth/oidc/callback", app.address);
    for _ in 0..12 {
        if url.starts_with(&callback) {
            return url;
        }
        let absolute = if url.starts_with('/') {
            format!("{}{url}", provider.issuer)
        } else {
            url.clone()
        };
        let response = app.client.get(&absolute).send().await.unwrap();
        let status = response.status().as_u16();
        if let Some(next) = location_of(&response) {
            url = next;
            continue;
        }
        let page = response.text().await.unwrap();
        assert_eq!(status, 200, "{absolute}: {page}");
        // The provider's development login form: any password.
        let action_at = page.find("action=\"").expect("a login form") + 8;
        let action = &page[action_at..action_at + page[action_at..].find('"').unwrap()];
        let prompt = input_value(&page, "prompt").unwrap_or_else(|| "login".into());
        let form = [
            ("prompt", prompt.as_str()),
            ("login", user),
            ("password", "any"),
        ];
        let target = if action.starts_with('/') {
            format!("{}{action}", provider.issuer)
        } else {
            action.to_string()
        };
        let posted = app.client.post(&target).form(&form).send().await.unwrap();
        url = location_of(&posted)
            .unwrap_or_else(|| panic!("{target}: {}", posted.status().as_u16()));
    }
    panic!("the provider did not send the browser back to {callback}");
}

/// Signs `user` in through the provider and opens the way back on `app`: its answer.
pub async fn sign_in(app: &TestApp, provider: &Provider, user: &str) -> reqwest::Response {
    let callback = authorize(app, provider, user).await;
    app.client.get(&callback).send().await.unwrap()
}
