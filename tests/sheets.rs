//! The plan as a spreadsheet, read back by an independent reader (openpyxl, from PyPI, in
//! target/ci-venv as `.ci/run` installs it): three sheets with frozen, filtered header rows,
//! every system, durations as the reader writes them, dates as dates, findings beside each
//! system; from the overview's link and from `beredskab sheet export`.

mod helpers;

use helpers::TestApp;

/// The Python interpreter with openpyxl, or why not.
fn openpyxl() -> Option<std::path::PathBuf> {
    helpers::venv_python("openpyxl", "openpyxl", "REQUIRE_OPENPYXL")
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

/// A database with the example plan imported (the server that imported it stopped).
async fn database() -> helpers::TestDb {
    let db = helpers::sqlite_db();
    helpers::spawn_app(&db.url, &helpers::plans())
        .await
        .stop()
        .await;
    db
}

fn sheet(args: &[&str], url: &str) -> (Option<i32>, String, String) {
    let mut all: Vec<&str> = vec!["sheet"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--database-url", url]);
    let out = helpers::beredskab(&all);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test]
async fn an_exported_sheet_imports_back_to_no_change_in_either_language() {
    let db = database().await;
    let dir = tempfile::tempdir().unwrap();
    for lang in ["da", "en"] {
        let file = dir.path().join(format!("plan-{lang}.xlsx"));
        let file = file.to_str().unwrap();
        let (code, _, err) = sheet(
            &[
                "export",
                "--plan",
                "example-kommune",
                "--out",
                file,
                "--language",
                lang,
            ],
            &db.url,
        );
        assert_eq!(code, Some(0), "{err}");
        let (code, out, err) = sheet(
            &[
                "import",
                file,
                "--plan",
                "example-kommune",
                "--format",
                "json",
            ],
            &db.url,
        );
        assert_eq!(code, Some(0), "{lang}: {out}{err}");
        let preview: serde_json::Value = serde_json::from_str(&out).unwrap();
        let changed: Vec<&serde_json::Value> = preview["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["state"] != "unchanged")
            .collect();
        assert!(changed.is_empty(), "{lang}: {changed:?}");
        assert_eq!(preview["errors"].as_array().unwrap().len(), 0);
        assert_eq!(preview["applied"], false, "nothing to write");
    }
    drop(db);
}

#[tokio::test]
async fn every_bad_cell_is_named_in_danish_and_nothing_is_written_unless_the_rest_is_asked_for() {
    let db = database().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fejl.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let rows: [[&str; 5]; 4] = [
        ["System", "RTO", "Systemejer", "Afhænger af", "Kritikalitet"],
        ["esdh", "tre timer", "", "", "2"],
        ["vmware", "4 t.", "Ukendt Person", "", "9"],
        [
            "Nyt system",
            "2 døgn",
            "meho@eksempel-kommune.dk",
            "findes-ikke",
            "3",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *text).unwrap();
        }
    }
    book.save(&file).unwrap();
    let file = file.to_str().unwrap();
    let (code, out, err) = sheet(&["import", file, "--plan", "example-kommune"], &db.url);
    assert_eq!(code, Some(1), "{out}{err}");
    for line in [
        "række 2, kolonne RTO: »tre timer« er ikke en varighed",
        "række 3, kolonne Systemejer: »Ukendt Person« er ikke en person i planen",
        "række 3, kolonne Kritikalitet: »9« er ikke en kritikalitet",
        "række 4, kolonne Afhænger af: »findes-ikke« er ikke et system",
        "Intet er skrevet: ret fejlene først.",
    ] {
        assert!(out.contains(line), "{line} in:\n{out}");
    }
    // A cycle the sheet would make is an error of the analysis: refused.
    let cycle = dir.path().join("ring.csv");
    std::fs::write(&cycle, "System,Afhænger af\nad,esdh\n").unwrap();
    let (code, out, _) = sheet(
        &[
            "import",
            cycle.to_str().unwrap(),
            "--plan",
            "example-kommune",
        ],
        &db.url,
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("dependency-cycle"), "{out}");
    assert!(out.contains("Intet er skrevet"));
    // With --leave-out-errors the rows without errors are written, the others listed.
    let mixed = dir.path().join("blandet.csv");
    std::fs::write(&mixed, "System;RTO\nesdh;5 t.\nvmware;tre timer\n").unwrap();
    let (code, out, _) = sheet(
        &[
            "import",
            mixed.to_str().unwrap(),
            "--plan",
            "example-kommune",
            "--leave-out-errors",
        ],
        &db.url,
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("Springes over: række 3, kolonne RTO: »tre timer«"),
        "{out}"
    );
    assert!(
        out.contains("1 række med fejl springes over og skrives ikke:"),
        "{out}"
    );
    assert!(out.contains("række 2: esdh ændres (rto)"), "{out}");
    assert!(out.contains("Skrevet til kladden."), "{out}");
    // With --create-people the people the sheet names that the plan lacks are added.
    let people = dir.path().join("personer.csv");
    std::fs::write(
        &people,
        "System;Systemejer;Stedfortræder\nesdh;Ny Kollega;a.hansen@eksempel-kommune.dk\nvmware;ny kollega;\n",
    )
    .unwrap();
    let (code, out, _) = sheet(
        &[
            "import",
            people.to_str().unwrap(),
            "--plan",
            "example-kommune",
            "--create-people",
        ],
        &db.url,
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("Ny person i planen: Ny Kollega (ny-kollega)"),
        "{out}"
    );
    assert!(
        out.contains("Ny person i planen: a hansen (a-hansen)"),
        "{out}"
    );
    assert_eq!(
        out.matches("Ny person i planen").count(),
        2,
        "one person named twice: {out}"
    );
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let stored = beredskab::store::load_plan(
        &conn,
        &beredskab::domain::PlanId::parse("example-kommune").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    conn.close().await.unwrap();
    let owner = |s: &str| {
        stored
            .system(s)
            .unwrap()
            .owner
            .as_ref()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        (owner("esdh"), owner("vmware")),
        ("ny-kollega".into(), "ny-kollega".into())
    );
    let hansen = stored
        .person("a-hansen")
        .expect("made from the e-mail address");
    assert_eq!(hansen.email, "a.hansen@eksempel-kommune.dk");
    // Not a spreadsheet at all.
    let pdf = dir.path().join("plan.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n\x00\x01\x02binary").unwrap();
    let (code, _, err) = sheet(
        &["import", pdf.to_str().unwrap(), "--plan", "example-kommune"],
        &db.url,
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("not a spreadsheet"), "{err}");
    // The plan is as it was: exporting again gives the same sheet as before the attempts.
    let (code, out, _) = sheet(
        &[
            "import",
            "--dry-run",
            file,
            "--plan",
            "example-kommune",
            "--sheet",
            "Nope",
        ],
        &db.url,
    );
    assert_eq!(code, Some(2), "{out}");
    drop(db);
}

#[tokio::test]
async fn a_danish_excel_csv_is_applied_once_in_one_audited_transaction() {
    let db = database().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("systemer.csv");
    // Windows-1252, semicolons: as Danish Excel saves "CSV (semikolonsepareret)".
    let text = "System;Navn;RTO;Systemejer;Afhænger af\r\nesdh;KMD WorkZone (ESDH);4 t.;Nanna Kristensen;ad\r\n;Løn til vikarer;2 døgn;meho@eksempel-kommune.dk;esdh\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    std::fs::write(&file, &bytes).unwrap();
    let file = file.to_str().unwrap();
    let (code, out, err) = sheet(
        &["import", "--dry-run", file, "--plan", "example-kommune"],
        &db.url,
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("række 2: esdh ændres (rto"), "{out}");
    assert!(out.contains("række 3: loen-til-vikarer er nyt"), "{out}");
    assert!(out.contains("Prøvekørsel: intet er skrevet."));
    let (code, out, _) = sheet(&["import", file, "--plan", "example-kommune"], &db.url);
    assert_eq!(code, Some(0));
    assert!(out.contains("Skrevet til kladden."), "{out}");
    let (_, again, _) = sheet(&["import", file, "--plan", "example-kommune"], &db.url);
    assert!(
        again.contains("Intet at skrive"),
        "the same sheet again changes nothing: {again}"
    );
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let audit = beredskab::store::audit::query(&conn, &Default::default())
        .await
        .unwrap();
    let imported: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "sheet-import")
        .collect();
    assert!(
        imported
            .iter()
            .any(|e| e.field == "rto" && e.system_id.as_deref() == Some("esdh")),
        "{imported:?}"
    );
    let plan = beredskab::store::load_plan(
        &conn,
        &beredskab::domain::PlanId::parse("example-kommune").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let added = plan.system("loen-til-vikarer").expect("the new system");
    assert_eq!(added.name, "Løn til vikarer");
    assert_eq!(added.owner.as_ref().unwrap().as_str(), "mette-holm");
    assert_eq!(added.depends_on[0].as_str(), "esdh");
    conn.close().await.unwrap();
    drop(db);
}

/// Posts `bytes` as file `name` from the import page's form, as a browser does.
async fn upload(client: &TestApp, name: &str, bytes: &[u8]) -> (u16, String) {
    upload_with(client, name, bytes, &[]).await
}

/// As [`upload`], with the check boxes `ticked` ticked.
async fn upload_with(
    client: &TestApp,
    name: &str,
    bytes: &[u8],
    ticked: &[&'static str],
) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new().text("csrf", client.csrf().await);
    for field in ticked {
        form = form.text(*field, "1");
    }
    let form = form
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        )
        .text("sheet", "");
    let response = client
        .client
        .post(format!("{}/plans/example-kommune/import", client.address))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, helpers::unescape(&response.text().await.unwrap()))
}

const APPLY: &str = "/plans/example-kommune/import/apply";

#[tokio::test]
async fn the_import_page_previews_a_sheet_and_applies_only_what_it_showed() {
    for (app, backend) in helpers::apps().await {
        let id = beredskab::domain::PlanId::parse("example-kommune").unwrap();
        let coordinator = app.signed_in("lars-nielsen").await;
        let (_, overview) = coordinator.page("/plans/example-kommune").await;
        assert!(overview.contains("href=\"/plans/example-kommune/import\""));
        let (status, page) = coordinator.page("/plans/example-kommune/import").await;
        assert_eq!(status, 200, "{backend}");
        assert!(page.contains("Indlæs systemer fra regneark"));
        assert!(page.contains("enctype=\"multipart/form-data\""));
        // An upload without the session's CSRF token is refused before it is read.
        let forged = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"System;RTO\nesdh;1 t.\n".to_vec()).file_name("x.csv"),
        );
        let response = coordinator
            .client
            .post(format!(
                "{}/plans/example-kommune/import",
                coordinator.address
            ))
            .multipart(forged)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{backend}");
        // A system owner may not import the whole plan's systems.
        let owner = app.signed_in("jesper-moeller").await;
        let (status, _) = upload(&owner, "a.csv", b"System;RTO\nvmware;4 t.\n").await;
        assert_eq!(status, 403, "{backend}");

        // A bad cell, named in Danish; no way on to "apply".
        let (status, page) = upload(
            &coordinator,
            "fejl.csv",
            "System;RTO\nesdh;tre timer\n".as_bytes(),
        )
        .await;
        assert_eq!(status, 422, "{backend}");
        assert!(
            page.contains("række 2, kolonne RTO: »tre timer« er ikke en varighed"),
            "{page}"
        );
        assert!(page.contains("Intet er skrevet: ret fejlene først."));
        assert!(!page.contains(APPLY));
        // Not a spreadsheet; no file at all.
        let (status, page) = upload(&coordinator, "plan.pdf", b"%PDF-1.7\n\x00\x01binary").await;
        assert_eq!(status, 422);
        assert!(page.contains("Filen er ikke et regneark"), "{page}");
        let (status, page) = upload(&coordinator, "", b"").await;
        assert_eq!(status, 422);
        assert!(page.contains("Vælg en fil at indlæse"), "{page}");

        // The README's example sheet, from the page's link: two new systems, previewed only.
        let example = coordinator.get("/import/systemer-eksempel.csv").await;
        assert_eq!(example.status(), 200);
        let example = example.bytes().await.unwrap();
        let (status, preview) = upload(&coordinator, "systemer-eksempel.csv", &example).await;
        assert_eq!(status, 200, "{backend}: {preview}");
        assert!(
            preview.contains("Rækker: 2 · nye: 2 · ændrede: 0 · uændrede: 0 · med fejl: 0"),
            "{preview}"
        );
        assert!(preview.contains("<code>parkering</code>"));
        assert!(preview.contains("Skriv til kladden (2 nye, 0 ændrede)"));
        let plan = app.handle().plan(&id).await.unwrap().unwrap();
        assert!(
            plan.system("parkering").is_none(),
            "nothing is written by the preview"
        );
        let example_apply = helpers::form_fields(&preview, APPLY);

        // Meanwhile another sheet changes the draft, applied through the page.
        let (_, other) = upload(
            &coordinator,
            "esdh.csv",
            "System;RTO\nesdh;3 t.\n".as_bytes(),
        )
        .await;
        assert!(other.contains("Ændres: rto"), "{other}");
        let response = coordinator
            .submit(APPLY, &helpers::form_fields(&other, APPLY))
            .await;
        assert_eq!(response.status(), 200);
        let done = helpers::unescape(&response.text().await.unwrap());
        assert!(
            done.contains("Regnearket er skrevet til kladden."),
            "{done}"
        );
        assert!(done.contains("href=\"/plans/example-kommune/versions\""));

        // The first preview is stale now: nothing written, the new preview shown instead.
        let response = coordinator.submit(APPLY, &example_apply).await;
        assert_eq!(response.status(), 409, "{backend}");
        let stale = helpers::unescape(&response.text().await.unwrap());
        assert!(
            stale.contains("Kladden er ændret, siden du så forhåndsvisningen"),
            "{stale}"
        );
        let plan = app.handle().plan(&id).await.unwrap().unwrap();
        assert!(plan.system("parkering").is_none());
        assert_eq!(plan.system("esdh").unwrap().rto.unwrap().to_string(), "3h");
        // Applying the fresh preview writes both systems, audited as the coordinator's.
        let response = coordinator
            .submit(APPLY, &helpers::form_fields(&stale, APPLY))
            .await;
        assert_eq!(response.status(), 200);
        let plan = app.handle().plan(&id).await.unwrap().unwrap();
        let parkering = plan.system("parkering").expect("imported");
        assert_eq!(parkering.owner.as_ref().unwrap().as_str(), "anne-kjaer");
        assert_eq!(
            parkering.deputy.as_ref().unwrap().as_str(),
            "jesper-moeller"
        );
        assert!(
            plan.system("kantine")
                .unwrap()
                .depends_on
                .iter()
                .any(|d| d.as_str() == "ad")
        );
        let audit = beredskab::store::audit::query(&app.handle().db, &Default::default())
            .await
            .unwrap();
        assert!(audit.iter().any(|e| e.action == "sheet-import"
            && e.actor == "lars-nielsen"
            && e.system_id.as_deref() == Some("parkering")));
        // An applied upload is gone: applying it twice writes nothing twice.
        let response = coordinator
            .submit(APPLY, &helpers::form_fields(&stale, APPLY))
            .await;
        assert_eq!(response.status(), 410);
        let gone = helpers::unescape(&response.text().await.unwrap());
        assert!(gone.contains("gemmes ikke længere"), "{gone}");
        // With "leave out the rows with errors" ticked, the good rows are written and the bad
        // ones listed.
        let (status, page) = upload_with(
            &coordinator,
            "blandet.csv",
            "System;RTO\nesdh;1 t.\nvmware;tre timer\n".as_bytes(),
            &["leave_out"],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {page}");
        assert!(
            page.contains("1 række med fejl springes over og skrives ikke:"),
            "{page}"
        );
        assert!(page.contains("række 3, kolonne RTO: »tre timer« er ikke en varighed"));
        let vmware_rto = app
            .handle()
            .plan(&id)
            .await
            .unwrap()
            .unwrap()
            .system("vmware")
            .unwrap()
            .rto;
        let response = coordinator
            .submit(APPLY, &helpers::form_fields(&page, APPLY))
            .await;
        assert_eq!(response.status(), 200);
        let plan = app.handle().plan(&id).await.unwrap().unwrap();
        assert_eq!(plan.system("esdh").unwrap().rto.unwrap().to_string(), "1h");
        assert_eq!(
            plan.system("vmware").unwrap().rto,
            vmware_rto,
            "the bad row is not written"
        );
        // With "add the people the sheet names" ticked, they are listed and made.
        let (status, page) = upload_with(
            &coordinator,
            "personer.csv",
            "System;Systemejer\nesdh;Helt Ny Person\n".as_bytes(),
            &["create_people"],
        )
        .await;
        assert_eq!(status, 200, "{backend}: {page}");
        assert!(page.contains("Personer, der oprettes i planen:"), "{page}");
        let response = coordinator
            .submit(APPLY, &helpers::form_fields(&page, APPLY))
            .await;
        assert_eq!(response.status(), 200);
        let plan = app.handle().plan(&id).await.unwrap().unwrap();
        assert_eq!(
            plan.person("helt-ny-person").unwrap().name,
            "Helt Ny Person"
        );
        // Columns whose headers say nothing: chosen on the page and kept for the next sheet.
        const COLUMNS: &str = "/plans/example-kommune/import/columns";
        let (status, page) = upload(
            &coordinator,
            "koder.csv",
            "Kode;Genopretning\nesdh;6 t.\n".as_bytes(),
        )
        .await;
        assert_eq!(status, 422, "{backend}: no column names the system");
        assert!(
            page.contains("Kolonner, der ikke læses: Kode, Genopretning"),
            "{page}"
        );
        let mut fields = helpers::form_fields(&page, COLUMNS);
        assert!(fields.contains(&("h1".to_string(), "Genopretning".to_string())));
        helpers::set(&mut fields, "f0", "id");
        helpers::set(&mut fields, "f1", "rto");
        helpers::set(&mut fields, "remember", "1");
        let response = coordinator.submit(COLUMNS, &fields).await;
        assert_eq!(response.status(), 200);
        let page = helpers::unescape(&response.text().await.unwrap());
        assert!(
            page.contains("Kolonnevalgene er gemt til næste regneark."),
            "{page}"
        );
        assert!(page.contains("Ændres: rto"), "{page}");
        let response = coordinator
            .submit(APPLY, &helpers::form_fields(&page, APPLY))
            .await;
        assert_eq!(response.status(), 200);
        let plan = app.handle().plan(&id).await.unwrap().unwrap();
        assert_eq!(plan.system("esdh").unwrap().rto.unwrap().to_string(), "6h");
        let (status, page) = upload(
            &coordinator,
            "koder.csv",
            "Kode;Genopretning\nesdh;7 t.\n".as_bytes(),
        )
        .await;
        assert_eq!(
            status, 200,
            "the next sheet is read with the kept columns: {page}"
        );
        assert!(page.contains("Ændres: rto"), "{page}");
        // Another account cannot apply someone's upload.
        let (_, again) = upload(
            &coordinator,
            "esdh.csv",
            "System;RTO\nesdh;2 t.\n".as_bytes(),
        )
        .await;
        let admin = app.signed_in("admin").await;
        let mut fields = helpers::form_fields(&again, APPLY);
        helpers::set(&mut fields, "csrf", &admin.csrf().await);
        assert_eq!(admin.submit(APPLY, &fields).await.status(), 410);
    }
}

/// LibreOffice, to write an ODS file as a spreadsheet program does, or why not.
fn soffice() -> Option<std::path::PathBuf> {
    let found = helpers::which("soffice").or_else(|| helpers::which("libreoffice"));
    if found.is_none() {
        assert!(
            !std::env::var("REQUIRE_OFFICE").is_ok_and(|v| v == "1"),
            "REQUIRE_OFFICE=1 but LibreOffice (soffice) is missing"
        );
        println!(
            "skipped the ODS part: LibreOffice is missing (apt install libreoffice-calc-nogui)"
        );
    }
    found
}

#[tokio::test]
async fn formulas_merged_headers_empty_rows_odd_files_and_too_much_are_each_told() {
    let db = database().await;
    let dir = tempfile::tempdir().unwrap();
    let plan = beredskab::plan_files::load(&helpers::example_plan(), helpers::today())
        .unwrap()
        .plan
        .unwrap();
    let crit = plan.system("esdh").unwrap().criticality.level();
    let other = if crit == 4 { 3 } else { crit + 1 };
    let preview = |file: &std::path::Path| {
        sheet(
            &[
                "import",
                "--dry-run",
                file.to_str().unwrap(),
                "--plan",
                "example-kommune",
            ],
            &db.url,
        )
    };

    // A formula counts by its cached value; a header merged across two columns leaves the
    // second without a name, and what stands under it is said not to be read; empty rows are
    // skipped.
    let file = dir.path().join("formler.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "System").unwrap();
    ws.write_string(0, 1, "Kritikalitet").unwrap();
    ws.merge_range(0, 2, 0, 3, "RTO", &rust_xlsxwriter::Format::new())
        .unwrap();
    ws.write_string(2, 0, "esdh").unwrap();
    ws.write_formula(
        2,
        1,
        rust_xlsxwriter::Formula::new(format!("={other}*1")).set_result(other.to_string()),
    )
    .unwrap();
    let esdh_rto = plan.system("esdh").unwrap().rto.unwrap().to_string();
    ws.write_string(2, 2, &esdh_rto).unwrap();
    ws.write_string(2, 3, "ekstra").unwrap();
    // vmware as the plan has it; its criticality left empty is kept.
    let vmware = plan.system("vmware").unwrap();
    ws.write_string(4, 0, "vmware").unwrap();
    ws.write_string(4, 2, vmware.rto.unwrap().to_string())
        .unwrap();
    book.save(&file).unwrap();
    let (code, out, err) = preview(&file);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("række 3: esdh ændres (criticality)"), "{out}");
    assert!(out.contains("række 5: vmware er uændret"), "{out}");
    assert!(out.contains("Kolonner, der ikke læses: D"), "{out}");
    assert!(
        out.contains("Rækker: 2 · nye: 0 · ændrede: 1 · uændrede: 1"),
        "the empty rows are skipped: {out}"
    );

    // More than 100,000 rows.
    let file = dir.path().join("mange.csv");
    let mut text = String::from("System;RTO\n");
    for i in 0..100_001 {
        text.push_str(&format!("s{i};4 t.\n"));
    }
    std::fs::write(&file, text).unwrap();
    let (code, _, err) = preview(&file);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("the sheet has 100001 rows; at most 100000 are read"),
        "{err}"
    );

    // Password-protected (an encrypted workbook is an OLE container), and damaged.
    let file = dir.path().join("kode.xlsx");
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(4096, 0);
    std::fs::write(&file, ole).unwrap();
    let (code, _, err) = preview(&file);
    assert_eq!(code, Some(2));
    assert!(err.contains("password-protected"), "{err}");
    let file = dir.path().join("halv.xlsx");
    let whole = std::fs::read(dir.path().join("formler.xlsx")).unwrap();
    std::fs::write(&file, &whole[..whole.len() / 2]).unwrap();
    let (code, _, err) = preview(&file);
    assert_eq!(code, Some(2));
    assert!(err.contains("damaged"), "{err}");

    // A zip bomb: a sheet that unpacks to 256 MB of spaces from a file of a few hundred KB.
    if let Some(python) = openpyxl() {
        let file = dir.path().join("bombe.xlsx");
        let script = r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml", "<Types/>")
    with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
        block = b" " * (1 << 20)
        for _ in range(256):
            f.write(block)
"#;
        let out = std::process::Command::new(&python)
            .args(["-c", script])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::metadata(&file).unwrap().len() < 2 * 1024 * 1024);
        let (code, _, err) = preview(&file);
        assert_eq!(code, Some(2));
        assert!(err.contains("unpacks to more than 200 MB"), "{err}");
    }

    // ODS as LibreOffice Calc saves it.
    if let Some(soffice) = soffice() {
        let csv = dir.path().join("ods-kilde.csv");
        std::fs::write(&csv, "System,RTO\nesdh,3 t.\n").unwrap();
        let mut convert = std::process::Command::new(soffice);
        convert
            .arg(format!(
                "-env:UserInstallation=file://{}",
                dir.path().join("profile").display()
            ))
            .args(["--headless", "--convert-to", "ods", "--outdir"])
            .arg(dir.path())
            .arg(&csv);
        let (code, out, err) = helpers::run_bounded(convert, std::time::Duration::from_secs(120));
        assert_eq!(code, Some(0), "LibreOffice: {out}{err}");
        let ods = dir.path().join("ods-kilde.ods");
        if ods.is_file() {
            let (code, out, err) = preview(&ods);
            assert_eq!(code, Some(0), "{out}{err}");
            assert!(out.contains("række 2: esdh ændres (rto)"), "{out}");
        } else {
            // LibreOffice without Calc writes no spreadsheet.
            assert!(
                !std::env::var("REQUIRE_OFFICE").is_ok_and(|v| v == "1"),
                "REQUIRE_OFFICE=1 but LibreOffice wrote no ODS (is libreoffice-calc-nogui installed?): {out}{err}"
            );
            println!(
                "skipped the ODS part: LibreOffice Calc is missing (apt install libreoffice-calc-nogui)"
            );
        }
    }
    // Nothing of it was written.
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let audit = beredskab::store::audit::query(&conn, &Default::default())
        .await
        .unwrap();
    assert!(!audit.iter().any(|e| e.action == "sheet-import"));
    conn.close().await.unwrap();
}

#[tokio::test]
async fn reading_a_sheet_tells_how_far_it_is_from_reading_to_analysing() {
    let app = TestApp::spawn().await;
    let handle = app.handle();
    let mut text = String::from("System;RTO\n");
    for i in 0..1_200 {
        text.push_str(&format!("ny-{i};4 t.\n"));
    }
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |p| seen.lock().unwrap().push(p);
    let actor = beredskab::domain::access::Actor {
        username: "lars-nielsen".to_string(),
        administrator: true,
        roles: Vec::new(),
        person: None,
    };
    let done = handle
        .sheet_import(
            &beredskab::domain::PlanId::parse("example-kommune").unwrap(),
            &actor,
            text.as_bytes(),
            beredskab::app::sheets::SheetOptions {
                progress: Some(&progress),
                ..Default::default()
            },
            beredskab::app::sheets::SheetAct::Preview,
        )
        .await
        .unwrap();
    assert_eq!(done.preview.rows.len(), 1_200);
    use beredskab::app::sheets::SheetProgress::{Analysing, Checking, Reading};
    assert_eq!(
        *seen.lock().unwrap(),
        [
            Reading,
            Checking { done: 0, of: 1_200 },
            Checking {
                done: 500,
                of: 1_200
            },
            Checking {
                done: 1_000,
                of: 1_200
            },
            Checking {
                done: 1_200,
                of: 1_200
            },
            Analysing,
        ]
    );
}
