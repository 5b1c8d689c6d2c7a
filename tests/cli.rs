//! The `beredskab` binary as a user runs it: exit codes, text and JSON output, bad input.

mod helpers;

use std::fs;
use std::path::Path;
use std::process::Output;

use helpers::beredskab;

use serde_json::Value;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn validate(dir: &Path) -> Output {
    beredskab(&["validate", dir.to_str().unwrap(), "--today", "2026-11-28"])
}

fn validate_json(dir: &Path) -> (i32, Value) {
    let out = beredskab(&[
        "validate",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--today",
        "2026-11-28",
    ]);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out.status.code().unwrap(), json)
}

fn codes(json: &Value, kind: &str) -> Vec<String> {
    json[kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn write(dir: &Path, file: &str, text: &str) {
    fs::write(dir.join(file), text).unwrap();
}

/// Replaces `from` with `to` in a file of the plan, asserting that it was there.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_example_plan_validates_without_errors() {
    let (code, json) = validate_json(&helpers::example_plan());
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(codes(&json, "errors"), Vec::<String>::new());
    let out = validate(&helpers::example_plan());
    assert!(stdout(&out).contains(" 0 errors"), "{}", stdout(&out));
}

#[test]
fn an_unknown_dependency_is_reported_with_file_line_field_and_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/esdh.toml",
        r#"["ad", "netvaerk"]"#,
        r#"["ad2", "netvaerk"]"#,
    );
    let out = validate(&dir);
    assert_eq!(out.status.code(), Some(1));
    let expected = format!(
        "error[unknown-dependency] {}:8: esdh: depends_on: unknown system \"ad2\" (did you mean \"ad\"?)",
        dir.join("systems/esdh.toml").display()
    );
    assert!(
        stdout(&out).lines().any(|l| l == expected),
        "{}",
        stdout(&out)
    );

    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    let finding = &json["errors"][0];
    assert_eq!(finding["code"], "unknown-dependency");
    assert_eq!(finding["system"], "esdh");
    assert_eq!(
        finding["file"],
        dir.join("systems/esdh.toml").display().to_string()
    );
    assert_eq!(finding["line"], 8);
    assert_eq!(
        finding["message"],
        r#"unknown system "ad2" (did you mean "ad"?)"#
    );
}

#[test]
fn warnings_alone_exit_zero_and_are_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/ad.toml",
        "last_reviewed = 2026-10-01",
        "last_reviewed = 2024-01-01",
    );
    edit(&dir, "systems/ad.toml", r#"rto = "4h""#, r#"rto = "2d""#);
    edit(&dir, "systems/ad.toml", r#"mtpd = "1d""#, r#"mtpd = "3d""#);
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(
        codes(&json, "warnings"),
        ["review-overdue", "rto-inversion"]
    );
    assert_eq!(json["warnings"][1]["system"], "esdh");
    assert_eq!(json["warnings"][1]["systems"][1], "ad");
}

#[test]
fn a_dependency_on_itself_is_a_cycle_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/ad.toml",
        r#"depends_on = ["netvaerk"]"#,
        r#"depends_on = ["netvaerk", "ad"]"#,
    );
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    assert_eq!(codes(&json, "errors"), ["dependency-cycle"]);
    assert_eq!(json["errors"][0]["message"], "ad depends on itself");
    assert_eq!(json["errors"][0]["line"], 8);
}

#[test]
fn a_longer_cycle_names_every_system_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/strom.toml",
        r#"mtpd = "4h""#,
        "mtpd = \"4h\"\ndepends_on = [\"ad\"]",
    );
    let out = validate(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("dependency cycle: ad → netvaerk → strom → ad"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_bad_duration_is_quoted_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/ad.toml",
        r#"rto = "4h""#,
        r#"rto = "4 hektar""#,
    );
    edit(
        &dir,
        "systems/ad.toml",
        r#"duration = "2h""#,
        r#"duration = "2 kvarter""#,
    );
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    assert_eq!(
        codes(&json, "errors"),
        ["invalid-duration", "invalid-duration"]
    );
    assert_eq!(json["errors"][0]["line"], 5);
    assert_eq!(json["errors"][0]["field"], "rto");
    assert!(
        json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with(r#"invalid duration "4 hektar""#)
    );
    assert_eq!(json["errors"][1]["field"], "recovery_steps[0].duration");
    assert_eq!(json["errors"][1]["line"], 14);
}

#[test]
fn missing_owner_unknown_person_and_rto_beyond_mtpd_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(&dir, "systems/strom.toml", "owner = \"lars\"\n", "");
    edit(
        &dir,
        "systems/ad.toml",
        r#"deputy = "mette""#,
        r#"deputy = "mete""#,
    );
    edit(
        &dir,
        "systems/esdh.toml",
        r#"mtpd = "3d""#,
        r#"mtpd = "12h""#,
    );
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    let mut found = codes(&json, "errors");
    found.sort();
    assert_eq!(
        found,
        ["missing-owner", "rto-exceeds-mtpd", "unknown-person"]
    );
}

#[test]
fn plan_level_references_are_located_in_plan_toml() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "plan.toml",
        r#"called_by = "mette""#,
        r#"called_by = "mete""#,
    );
    edit(
        &dir,
        "plan.toml",
        r#"roles = ["it-chef"]"#,
        r#"roles = ["it-chef", "cto"]"#,
    );
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    let plan_toml = dir.join("plan.toml").display().to_string();
    let errors = json["errors"].as_array().unwrap();
    let located: Vec<(&str, i64, &str)> = errors
        .iter()
        .map(|e| {
            assert_eq!(e["file"], plan_toml.as_str());
            assert_eq!(e["system"], Value::Null);
            (
                e["code"].as_str().unwrap(),
                e["line"].as_i64().unwrap(),
                e["field"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        located,
        [
            ("unknown-role", 29, "people[0].roles[1]"),
            ("unknown-person", 41, "call_tree[1].called_by")
        ]
    );
}

#[test]
fn malformed_toml_is_an_error_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(&dir, "systems/ad.toml", r#"rpo = "1h""#, r#"rpo = "1h"#);
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    assert_eq!(codes(&json, "errors"), ["invalid-file"]);
    assert_eq!(json["errors"][0]["line"], 6);
    assert_eq!(json["errors"][0]["system"], "ad");
    // Its dependents are not told that it does not exist.
    assert!(!codes(&json, "errors").contains(&"unknown-dependency".to_string()));
}

#[test]
fn an_unknown_field_is_rejected_by_name_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/esdh.toml",
        r#"contract_restore = "8h""#,
        "contract_restore = \"8h\"\nphone_number = \"112\"",
    );
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    let e = &json["errors"][0];
    assert_eq!(e["code"], "invalid-file");
    assert_eq!(e["line"], 17);
    assert_eq!(e["field"], "supplier.phone_number");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `phone_number`"),
        "{e}"
    );
}

#[test]
fn a_wrong_type_names_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/ad.toml",
        "criticality = 1",
        r#"criticality = "high""#,
    );
    edit(
        &dir,
        "systems/strom.toml",
        "criticality = 1",
        "criticality = 7",
    );
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    let errors = json["errors"].as_array().unwrap();
    let ad = errors.iter().find(|e| e["system"] == "ad").unwrap();
    assert_eq!(ad["code"], "invalid-file");
    assert_eq!(ad["field"], "criticality");
    assert_eq!(ad["line"], 4);
    let strom = errors.iter().find(|e| e["system"] == "strom").unwrap();
    assert_eq!(strom["code"], "invalid-value");
    assert_eq!(
        strom["message"],
        "invalid criticality 7: use 1 (most critical), 2, 3 or 4"
    );
}

#[test]
fn a_missing_required_field_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(&dir, "systems/ad.toml", "rpo = \"1h\"\n", "");
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    assert!(
        json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `rpo`")
    );
}

#[test]
fn a_huge_file_is_refused_before_parsing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    let mut text = fs::read_to_string(dir.join("systems/esdh.toml")).unwrap();
    text.push_str(&format!("# {}\n", "x".repeat(10 * 1024 * 1024)));
    write(&dir, "systems/esdh.toml", &text);
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    assert_eq!(json["errors"][0]["code"], "invalid-file");
    assert_eq!(
        json["errors"][0]["message"],
        "file is 10.0 MB; plan files may be at most 1 MB"
    );
}

#[test]
fn non_utf8_bytes_are_an_error_with_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    let mut bytes = fs::read(dir.join("systems/esdh.toml")).unwrap();
    bytes.extend_from_slice(b"# caf\xe9\n");
    fs::write(dir.join("systems/esdh.toml"), bytes).unwrap();
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    assert_eq!(json["errors"][0]["code"], "invalid-file");
    assert_eq!(json["errors"][0]["line"], 31);
    assert!(
        json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("not valid UTF-8")
    );
}

#[test]
fn a_bad_file_name_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    fs::copy(
        dir.join("systems/ad.toml"),
        dir.join("systems/Ad Kopi.toml"),
    )
    .unwrap();
    let (code, json) = validate_json(&dir);
    assert_eq!(code, 1);
    assert_eq!(json["errors"][0]["code"], "invalid-value");
    assert!(
        json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("the file name is the system's id")
    );
}

#[test]
fn an_empty_folder_says_plan_toml_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("empty");
    fs::create_dir(&dir).unwrap();
    let out = validate(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).lines().next().unwrap(),
        format!(
            "error[invalid-file] {}: file not found",
            dir.join("plan.toml").display()
        )
    );
}

#[test]
fn a_folder_that_cannot_be_read_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here");
    let out = validate(&missing);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nothing-here"), "{}", stderr(&out));
    let file = tmp.path().join("plan.toml");
    fs::write(&file, "").unwrap();
    let out = validate(&file);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a folder"), "{}", stderr(&out));
}

#[test]
fn analyse_reports_impact_order_and_feasibility_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    let out = beredskab(&[
        "analyse",
        dir.to_str().unwrap(),
        "--down",
        "netvaerk",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["down"], serde_json::json!(["netvaerk"]));
    assert_eq!(
        json["affected"],
        serde_json::json!(["ad", "esdh", "netvaerk"])
    );
    assert_eq!(
        json["recovery_order"],
        serde_json::json!(["netvaerk", "ad", "esdh"])
    );
    let ad = &json["systems"][1];
    assert_eq!(ad["id"], "ad");
    assert_eq!(ad["rto_minutes"], 240);
    assert_eq!(ad["required_rto_minutes"], 1440);
    assert_eq!(ad["earliest_recovery_minutes"], 30);
    assert_eq!(ad["feasible"], true);

    // A full outage: everyone's own steps count. esdh: 30m + 30m + 2h + 4h = 7h.
    let out = beredskab(&["analyse", dir.to_str().unwrap(), "--format", "json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["down"].as_array().unwrap().len(), 4);
    let esdh = json["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "esdh")
        .unwrap();
    assert_eq!(esdh["earliest_recovery_minutes"], 7 * 60);
}

#[test]
fn analyse_shows_infeasible_systems_in_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/ad.toml",
        r#"duration = "2h""#,
        r#"duration = "5h""#,
    );
    let out = beredskab(&["analyse", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.starts_with("Full outage: all 4 systems down"),
        "{text}"
    );
    let ad = text.lines().find(|l| l.contains(" ad ")).unwrap();
    assert!(ad.ends_with("NO"), "{ad}");
    assert!(text.contains("1 of 4 affected systems cannot be recovered within their RTO"));
}

#[test]
fn analyse_refuses_unknown_down_systems_and_invalid_plans() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    let out = beredskab(&["analyse", dir.to_str().unwrap(), "--down", "ad2"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        r#"error: --down: unknown system "ad2" (did you mean "ad"?)"#
    );

    edit(&dir, "systems/ad.toml", r#"rto = "4h""#, r#"rto = "4x""#);
    let out = beredskab(&["analyse", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[invalid-duration]"),
        "{}",
        stderr(&out)
    );
}

/// import → import → export → validate, through the binary, on each database.
#[tokio::test]
async fn import_is_idempotent_and_export_round_trips() {
    for db in helpers::databases().await {
        let tmp = tempfile::tempdir().unwrap();
        let example = helpers::example_plan();
        let url = db.url.as_str();
        let first = beredskab(&["--database-url", url, "import", example.to_str().unwrap()]);
        assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
        assert!(
            stdout(&first).starts_with("plan example-kommune: created"),
            "{}",
            stdout(&first)
        );
        let second = beredskab(&["--database-url", url, "import", example.to_str().unwrap()]);
        assert!(
            stdout(&second).starts_with("plan example-kommune: unchanged"),
            "{}",
            stdout(&second)
        );

        let out = tmp.path().to_str().unwrap();
        let export = beredskab(&[
            "--database-url",
            url,
            "export",
            "--plan",
            "example-kommune",
            out,
        ]);
        assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
        let exported = tmp.path().join("example-kommune");
        let (code, json) = validate_json(&exported);
        assert_eq!(code, 0, "{json:#}");
        let (_, original) = validate_json(&example);
        assert_eq!(codes(&json, "warnings"), codes(&original, "warnings"));
        // The scenario library comes back too: importing the export changes nothing.
        let count =
            |dir: &std::path::Path| std::fs::read_dir(dir.join("scenarios")).unwrap().count();
        assert_eq!(count(&exported), count(&example));
        let again = beredskab(&["--database-url", url, "import", exported.to_str().unwrap()]);
        assert!(
            stdout(&again).starts_with("plan example-kommune: unchanged"),
            "{}",
            stdout(&again)
        );

        let missing = beredskab(&["--database-url", url, "export", "--plan", "nope", out]);
        assert_eq!(missing.status.code(), Some(1));
        assert_eq!(
            stderr(&missing).trim(),
            r#"error: --plan: no plan "nope" in the database (stored plans: example-kommune)"#
        );
    }
}

#[test]
fn an_invalid_plan_is_not_imported_at_all() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = helpers::mini_plan_in(tmp.path(), "x");
    edit(
        &dir,
        "systems/esdh.toml",
        r#"["ad", "netvaerk"]"#,
        r#"["ad", "sap"]"#,
    );
    let db = tmp.path().join("t.db");
    let db = db.to_str().unwrap();
    let out = beredskab(&["--database-url", db, "import", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[unknown-dependency]"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("nothing was imported"));
    let export = beredskab(&[
        "--database-url",
        db,
        "export",
        "--plan",
        "x",
        tmp.path().to_str().unwrap(),
    ]);
    assert!(
        stderr(&export).contains("the database holds no plans"),
        "{}",
        stderr(&export)
    );
}

#[test]
fn migrate_creates_the_schema_and_is_repeatable() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.db");
    for _ in 0..2 {
        let out = beredskab(&["--database-url", db.to_str().unwrap(), "migrate"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "database schema is up to date");
    }
    assert!(db.exists());
}

#[test]
fn runbook_export_writes_the_approved_version_or_says_there_is_none() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", tmp.path().join("r.db").display());
    let example = helpers::example_plan();
    let import = beredskab(&["--database-url", &url, "import", example.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let out = tmp.path().join("runbook.html");
    let out_arg = out.to_str().unwrap();
    let args = [
        "--database-url",
        &url,
        "runbook",
        "export",
        "--plan",
        "example-kommune",
        "--out",
        out_arg,
    ];
    let refused = beredskab(&args);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        stderr(&refused).trim(),
        "error: plan example-kommune has no approved version yet: approve it first, or pass --draft"
    );
    assert!(!out.exists(), "nothing written");
    let mut with_draft = args.to_vec();
    with_draft.extend(["--draft", "--language", "en"]);
    let written = beredskab(&with_draft);
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    assert!(
        stdout(&written).contains("the draft, 36 systems"),
        "{}",
        stdout(&written)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("No version is approved yet: this is the draft."));
    assert_eq!(html.matches("<section class=\"system\"").count(), 36);
    let unknown = beredskab(&[
        "--database-url",
        &url,
        "runbook",
        "export",
        "--plan",
        "nope",
        "--out",
        out_arg,
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("no plan \"nope\""));
}
