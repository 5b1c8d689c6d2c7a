//! The plan as a spreadsheet, read back by an independent reader (openpyxl, from PyPI, in
//! target/ci-venv as `.ci/run` installs it): three sheets with frozen, filtered header rows,
//! every system, durations as the reader writes them, dates as dates, findings beside each
//! system; from the overview's link and from `beredskab sheet export`.

mod helpers;

use helpers::TestApp;

/// The Python interpreter with openpyxl, or why not.
fn openpyxl() -> Option<std::path::PathBuf> {
    let python = helpers::repo().join("target/ci-venv/bin/python");
    let ok = python.is_file()
        && std::process::Command::new(&python)
            .args(["-c", "import openpyxl"])
            .output()
            .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        !std::env::var("REQUIRE_OPENPYXL").is_ok_and(|v| v == "1"),
        "REQUIRE_OPENPYXL=1 but target/ci-venv lacks openpyxl"
    );
    println!("skipped: openpyxl is not installed in target/ci-venv (pip install openpyxl)");
    None
}

/// What openpyxl reads in the workbook `file`: per sheet its name, frozen cell, filter range,
/// the width of column B and every row's values (dates as `date:YYYY-MM-DD`).
fn read(python: &std::path::Path, file: &std::path::Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import datetime, json, sys, openpyxl
book = openpyxl.load_workbook(sys.argv[1])
def cell(v):
    if isinstance(v, datetime.datetime):
        return "date:" + v.date().isoformat()
    return v
print(json.dumps([{
    "name": ws.title,
    "freeze": ws.freeze_panes,
    "filter": ws.auto_filter.ref,
    "width_b": ws.column_dimensions["B"].width,
    "rows": [[cell(v) for v in row] for row in ws.iter_rows(values_only=True)],
} for ws in book.worksheets]))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The row of `sheet` whose first cell is `id`, by header.
fn row_of<'a>(
    sheet: &'a serde_json::Value,
    id: &str,
) -> std::collections::HashMap<String, &'a serde_json::Value> {
    let rows = sheet["rows"].as_array().unwrap();
    let header: Vec<String> = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    let row = rows
        .iter()
        .find(|r| r[0] == id)
        .unwrap_or_else(|| panic!("a row for {id}"));
    header.into_iter().zip(row.as_array().unwrap()).collect()
}

#[tokio::test]
async fn the_overview_hands_out_the_plan_as_a_spreadsheet_that_a_reader_opens() {
    let Some(python) = openpyxl() else {
        return;
    };
    let app = TestApp::spawn().await;
    let coordinator = app.signed_in("lars-nielsen").await;
    let (_, overview) = coordinator.page("/plans/example-kommune").await;
    assert!(overview.contains("href=\"/plans/example-kommune/plan.xlsx\""));
    assert!(overview.contains("Hent som regneark"));
    let response = coordinator.get("/plans/example-kommune/plan.xlsx").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("beredskabsplan-example-kommune.xlsx")
    );
    let bytes = response.bytes().await.unwrap();
    let file = tempfile::NamedTempFile::with_suffix(".xlsx").unwrap();
    std::fs::write(file.path(), &bytes).unwrap();
    let book = read(&python, file.path());
    let names: Vec<&str> = book
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Systemer", "Reetableringstrin", "Personer og roller"]
    );
    let plan = beredskab::plan_files::load(&helpers::example_plan(), helpers::today())
        .unwrap()
        .plan
        .unwrap();
    let systems = &book[0];
    assert_eq!(systems["freeze"], "A2", "the header row stays in view");
    assert_eq!(
        systems["filter"],
        format!("A1:P{}", plan.systems.len() + 1),
        "a filter over every row"
    );
    assert!(
        systems["width_b"].as_f64().unwrap() > 20.0,
        "names get room"
    );
    assert_eq!(
        systems["rows"].as_array().unwrap().len(),
        plan.systems.len() + 1
    );
    let esdh = row_of(systems, "esdh");
    assert_eq!(esdh["Navn"], "KMD WorkZone (ESDH)");
    assert_eq!(esdh["RTO"], "1 døgn");
    assert_eq!(esdh["Leverandørens genetablering"], "2 døgn");
    assert_eq!(esdh["Systemejer"], "Nanna Kristensen");
    assert!(
        esdh["Senest gennemgået"]
            .as_str()
            .unwrap()
            .starts_with("date:")
    );
    assert!(
        esdh["Fund"]
            .as_str()
            .unwrap()
            .contains("Leverandørens kontraktlige genopretningstid (2 døgn) er længere end RTO"),
        "{:?}",
        esdh["Fund"]
    );
    let esdh_system = plan.system("esdh").unwrap();
    let depends: Vec<&str> = esdh_system.depends_on.iter().map(|d| d.as_str()).collect();
    assert_eq!(esdh["Afhænger af"], depends.join(", ").as_str());
    let steps = &book[1];
    let total: usize = plan.systems.iter().map(|s| s.recovery_steps.len()).sum();
    assert_eq!(steps["rows"].as_array().unwrap().len(), total + 1);
    assert_eq!(steps["freeze"], "A2");
    let people = &book[2];
    let mette = row_of(people, "mette-holm");
    assert_eq!(mette["E-mail"], "meho@eksempel-kommune.dk");
    // Signed out, there is nothing to download.
    let anonymous = helpers::client_of(&app.address);
    assert_ne!(
        anonymous
            .get("/plans/example-kommune/plan.xlsx")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_command_line_writes_the_spreadsheet_in_english() {
    let Some(python) = openpyxl() else {
        return;
    };
    // The server imports the example plan and stops; the database stays.
    let db = helpers::sqlite_db();
    let url = db.url.clone();
    helpers::spawn_app(&url, &helpers::plans())
        .await
        .stop()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.xlsx");
    let run = helpers::beredskab(&[
        "sheet",
        "export",
        "--plan",
        "example-kommune",
        "--out",
        out.to_str().unwrap(),
        "--language",
        "en",
        "--database-url",
        &url,
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains(" systems, "));
    let book = read(&python, &out);
    assert_eq!(book[0]["name"], "Systems");
    let esdh = row_of(&book[0], "esdh");
    assert_eq!(esdh["RTO"], "1 day");
    let missing = helpers::beredskab(&[
        "sheet",
        "export",
        "--plan",
        "no-such-plan",
        "--out",
        "x.xlsx",
        "--database-url",
        &url,
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no plan \"no-such-plan\""));
    drop(db);
}
