//! The API against schemathesis (PyPI), which generates requests from the OpenAPI document:
//! valid and invalid data, every check it has, and the stateful phase that feeds one answer into
//! the next request. Run once as the coordinator, whose token may save systems, and once as the
//! IT-chef, whose token may approve versions, so that the success paths of `PUT` and `POST` are
//! exercised too. Any failure it reports fails the test.
//!
//! `st` is found in `SCHEMATHESIS` (a path), `target/ci-venv/bin` (where `.ci/run` installs it)
//! or `PATH`; without it the test says so and passes, unless `REQUIRE_SCHEMATHESIS=1`.

mod helpers;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use helpers::TestApp;

fn schemathesis() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("SCHEMATHESIS") {
        return Some(PathBuf::from(path));
    }
    let venv = helpers::repo().join("target/ci-venv/bin/st");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("st"))
            .find(|p| p.is_file())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_wrong_with_the_api() {
    let required = std::env::var("REQUIRE_SCHEMATHESIS").is_ok_and(|v| v == "1");
    let Some(st) = schemathesis() else {
        assert!(
            !required,
            "REQUIRE_SCHEMATHESIS=1 but schemathesis (st) is not installed"
        );
        println!("skipped: schemathesis is not installed (pip install schemathesis)");
        return;
    };
    let app = TestApp::spawn().await;
    let workdir = tempfile::tempdir().unwrap();
    for user in ["lars-nielsen", "mette-holm"] {
        let token = app.api_token(user).await;
        let mut command = Command::new(&st);
        command
            .arg("--config-file")
            .arg(helpers::repo().join(".ci/schemathesis.toml"))
            .arg("run")
            .arg(format!("{}/api/v1/openapi.json", app.address))
            .args(["--checks", "all", "--mode", "all"])
            .args(["--phases", "examples,coverage,fuzzing,stateful"])
            .args([
                "--max-examples",
                "25",
                "--seed",
                "1",
                "--request-timeout",
                "10",
            ])
            .args(["--workers", "2", "--no-color"])
            .arg("-H")
            .arg(format!("Authorization: Bearer {token}"))
            .env("SCHEMATHESIS_HOOKS", "")
            // It keeps a cache of what it found in the folder it runs in.
            .current_dir(&workdir);
        let (status, out, err) = tokio::task::spawn_blocking(move || {
            helpers::run_bounded(command, Duration::from_secs(170))
        })
        .await
        .unwrap();
        assert_eq!(status, Some(0), "schemathesis as {user}:\n{out}{err}");
    }
    // The success paths were taken: a system was saved and a version approved.
    let admin = app.signed_in("admin").await;
    assert!(admin.system_json("ad").await["revision"].as_i64().unwrap() > 0);
    let versions: serde_json::Value = admin
        .get("/api/v1/plans/example-kommune/versions")
        .await
        .json()
        .await
        .unwrap();
    assert!(!versions.as_array().unwrap().is_empty(), "{versions}");
}
