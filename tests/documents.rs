//! Word documents, read back by independent readers: python-docx (PyPI, in target/ci-venv as
//! `.ci/run` installs it; `REQUIRE_PYTHON_DOCX=1` there) finds the title page, every heading,
//! every system in recovery order and the tables; LibreOffice headless (Debian's
//! `libreoffice-writer-nogui`; `REQUIRE_OFFICE=1`) converts the file to PDF, and `pdftotext`
//! finds every system in it: a real office suite opens it.

mod helpers;

use std::path::{Path, PathBuf};
use std::time::Duration;

use helpers::TestApp;

/// The Python interpreter with python-docx, or why not.
fn python_docx() -> Option<std::path::PathBuf> {
    helpers::venv_python("docx", "python-docx", "REQUIRE_PYTHON_DOCX")
}

/// LibreOffice and pdftotext, or why not.
fn office() -> Option<(PathBuf, PathBuf)> {
    let found = helpers::which("soffice")
        .or_else(|| helpers::which("libreoffice"))
        .zip(helpers::which("pdftotext"));
    if found.is_none() {
        assert!(
            !std::env::var("REQUIRE_OFFICE").is_ok_and(|v| v == "1"),
            "REQUIRE_OFFICE=1 but LibreOffice (soffice) or pdftotext is missing"
        );
        println!(
            "skipped: LibreOffice or pdftotext is missing (apt install libreoffice-writer-nogui poppler-utils)"
        );
    }
    found
}

/// What python-docx reads in `file`: each paragraph's style and text, each table's cells, the
/// page size in millimetres and whether the footer holds a page-number field.
fn read(python: &Path, file: &Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import json, sys, docx
d = docx.Document(sys.argv[1])
s = d.sections[0]
print(json.dumps({
    "paragraphs": [{"style": p.style.name if p.style is not None else None, "text": p.text} for p in d.paragraphs],
    "tables": [[[c.text for c in r.cells] for r in t.rows] for t in d.tables],
    "page_mm": [round(s.page_width.mm), round(s.page_height.mm)],
    "page_number": "PAGE" in s.footer._element.xml,
    "toc": "TOC \\o" in d.element.body.xml,
}))
"#;
    let out = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-docx could not read the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The texts of the paragraphs of style `style`.
fn styled(book: &serde_json::Value, style: &str) -> Vec<String> {
    book["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["style"] == style)
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect()
}

/// The text LibreOffice prints of `file`, whitespace collapsed.
fn printed(soffice: &Path, pdftotext: &Path, file: &Path) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut convert = std::process::Command::new(soffice);
    convert
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("profile").display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(file);
    let (code, out, err) = helpers::run_bounded(convert, Duration::from_secs(120));
    assert_eq!(code, Some(0), "LibreOffice: {out}{err}");
    let pdf = dir
        .path()
        .join(file.with_extension("pdf").file_name().unwrap());
    assert!(pdf.is_file(), "LibreOffice wrote no PDF: {out}{err}");
    let mut text = std::process::Command::new(pdftotext);
    text.arg(&pdf).arg("-");
    let (code, out, err) = helpers::run_bounded(text, Duration::from_secs(60));
    assert_eq!(code, Some(0), "pdftotext: {err}");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn example_plan() -> beredskab::domain::Plan {
    beredskab::plan_files::load(&helpers::example_plan(), helpers::today())
        .unwrap()
        .plan
        .unwrap()
}

/// The example plan's systems in recovery order.
fn recovery_order(plan: &beredskab::domain::Plan) -> Vec<&beredskab::domain::System> {
    beredskab::domain::analysis::assess(plan, None)
        .unwrap()
        .recovery_order
        .iter()
        .map(|id| plan.system(id.as_str()).unwrap())
        .collect()
}

#[tokio::test]
async fn the_approved_runbook_as_word_opens_in_python_docx_and_libreoffice_in_recovery_order() {
    let python = python_docx();
    let office = office();
    if python.is_none() && office.is_none() {
        return;
    }
    let app = TestApp::spawn().await;
    let approver = app.signed_in("mette-holm").await;
    let response = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let lead = app.signed_in("anne-kjaer").await;
    let (_, page) = lead.page("/plans/example-kommune/runbook").await;
    assert!(page.contains("href=\"/plans/example-kommune/runbook.docx\""));
    assert!(page.contains("Hent som Word"));
    let response = lead.get("/plans/example-kommune/runbook.docx").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("beredskabsplan-example-kommune.docx")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("beredskabsplan-example-kommune.docx");
    std::fs::write(&file, response.bytes().await.unwrap()).unwrap();
    let plan = example_plan();
    let order = recovery_order(&plan);

    if let Some(python) = &python {
        let book = read(python, &file);
        assert_eq!(book["page_mm"], serde_json::json!([210, 297]), "A4");
        assert_eq!(book["page_number"], true, "page numbers in the footer");
        assert_eq!(book["toc"], true, "a table of contents field");
        let title = styled(&book, "Title");
        assert_eq!(
            title,
            ["Beredskabsplan: IT-beredskabsplan for Eksempel Kommune"]
        );
        let texts: Vec<&str> = book["paragraphs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["text"].as_str().unwrap())
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("Godkendt version 1, godkendt af")),
            "the approval on the title page"
        );
        assert_eq!(
            styled(&book, "Heading 1"),
            [
                "Aktivering af beredskabet",
                "Varslingstræ",
                "Nedlukning af beredskabet",
                "Systemer i reetableringsrækkefølge",
                "Personer og roller",
            ]
        );
        let systems: Vec<String> = styled(&book, "Heading 2")
            .into_iter()
            .filter(|h| h.contains(". "))
            .collect();
        let expected: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {} ({})", i + 1, s.name, s.id))
            .collect();
        assert_eq!(systems, expected, "every system, in recovery order");
        let headings3 = styled(&book, "Heading 3");
        assert_eq!(
            headings3.iter().filter(|h| *h == "Nødprocedure").count(),
            order.len()
        );
        // The call tree, one row per call, and the impact table of the first system with one.
        let tables = book["tables"].as_array().unwrap();
        let calls = &tables[0];
        assert_eq!(calls[0][1], "Person");
        assert_eq!(calls.as_array().unwrap().len(), plan.call_tree.len() + 1);
        let with_impact = order.iter().find(|s| !s.impact.is_empty()).unwrap();
        assert!(
            tables.iter().any(|t| t[0][0] == "Efter"
                && t.as_array().unwrap().len() == with_impact.impact.len() + 1),
            "an impact table of {} rows",
            with_impact.impact.len()
        );
        let people = tables.last().unwrap().as_array().unwrap();
        assert_eq!(people.len(), plan.people.len() + 1);
    }
    if let Some((soffice, pdftotext)) = &office {
        let text = printed(soffice, pdftotext, &file);
        for s in &order {
            let name: String = s.name.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(text.contains(&name), "{name} in the PDF");
        }
        assert!(text.contains("Side 2 af"), "page numbers in the PDF");
    }
}

#[test]
fn the_command_line_writes_the_draft_runbook_as_word_in_english() {
    let Some(python) = python_docx() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", tmp.path().join("d.db").display());
    let example = helpers::example_plan();
    let import = helpers::beredskab(&["--database-url", &url, "import", example.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(0));
    let out = tmp.path().join("plan.docx");
    let written = helpers::beredskab(&[
        "--database-url",
        &url,
        "runbook",
        "export",
        "--plan",
        "example-kommune",
        "--format",
        "docx",
        "--draft",
        "--language",
        "en",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        written.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let book = read(&python, &out);
    let texts: Vec<&str> = book["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"No version is approved yet: this is the draft."));
    assert_eq!(styled(&book, "Heading 1")[0], "Activating the plan");
    assert_eq!(
        styled(&book, "Heading 3")
            .iter()
            .filter(|h| *h == "Manual workaround")
            .count(),
        36
    );
}

#[tokio::test]
async fn the_annual_report_as_word_has_every_section_and_its_charts_as_pictures() {
    let python = python_docx();
    let office = office();
    if python.is_none() && office.is_none() {
        return;
    }
    let app = TestApp::spawn().await;
    let year = helpers::today().format("%Y").to_string();
    let approver = app.signed_in("mette-holm").await;
    let page = format!("/plans/example-kommune/report/{year}");
    let (_, html) = approver.page(&page).await;
    let link = format!("{page}/download.docx");
    assert!(
        html.contains(&format!("href=\"{link}\"")),
        "the page links to it"
    );
    let response = approver.get(&link).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("aarsrapport-example-kommune-{year}.docx"))
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("aarsrapport.docx");
    std::fs::write(&file, response.bytes().await.unwrap()).unwrap();
    let sections = [
        "Planen ved årets udgang",
        "Ændringer og godkendelser",
        "Øvelser og deres resultater mod RTO",
        "Hændelser og reetableringstider mod RTO",
        "Handlingspunkter",
        "Gennemgang til tiden over året",
        "Åbne risici",
        "Dispensationer",
    ];
    if let Some(python) = &python {
        let book = read(python, &file);
        assert_eq!(styled(&book, "Title"), [format!("Årsrapport {year}")]);
        assert_eq!(styled(&book, "Heading 1"), sections);
        // The review chart, drawn as a picture at twice its size.
        const PICTURES: &str = r#"
import json, sys, docx
d = docx.Document(sys.argv[1])
out = []
for shape in d.inline_shapes:
    part = d.part.related_parts[shape._inline.graphic.graphicData.pic.blipFill.blip.embed]
    out.append([part.content_type, part.image.px_width, part.image.px_height])
print(json.dumps(out))
"#;
        let out = std::process::Command::new(python)
            .args(["-c", PICTURES])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pictures: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            pictures,
            serde_json::json!([["image/png", 720, 360]]),
            "the compliance chart (no drills or incidents this year)"
        );
    }
    if let Some((soffice, pdftotext)) = &office {
        let text = printed(soffice, pdftotext, &file);
        for section in sections {
            assert!(text.contains(section), "{section} in the PDF");
        }
    }
}

#[tokio::test]
async fn a_drills_and_an_incidents_reports_as_word_hold_their_systems_actions_and_timeline() {
    let Some(python) = python_docx() else {
        return;
    };
    let app = TestApp::spawn().await;
    let approver = app.signed_in("mette-holm").await;
    let response = approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let dir = tempfile::tempdir().unwrap();
    let plan = example_plan();

    // The after-action report of a drill of "AD nede", linked from its report page.
    let coordinator = app.signed_in("lars-nielsen").await;
    let run = coordinator.planned_occurrence("ad-nede").await;
    let (_, page) = coordinator.page(&format!("{run}/report")).await;
    assert!(page.contains(&format!("href=\"{run}/report.docx\"")));
    let response = coordinator.get(&format!("{run}/report.docx")).await;
    assert_eq!(response.status(), 200);
    let file = dir.path().join("drill.docx");
    std::fs::write(&file, response.bytes().await.unwrap()).unwrap();
    let book = read(&python, &file);
    assert!(
        styled(&book, "Title")[0].starts_with("Evalueringsrapport: "),
        "{:?}",
        styled(&book, "Title")
    );
    assert_eq!(
        styled(&book, "Heading 1"),
        [
            "Systemerne mod deres RTO",
            "Indspil",
            "Evaluering",
            "Handlingspunkter",
            "Tidslinje"
        ]
    );
    let ad = plan.system("ad").unwrap();
    let systems = &book["tables"][0];
    assert_eq!(systems[0][0], "System");
    assert!(
        systems
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row[0] == format!("{} (ad)", ad.name)),
        "{systems}"
    );

    // An incident with ESDH down, its report linked from its page.
    let lead = app.signed_in("anne-kjaer").await;
    let response = lead
        .post_form(
            "/plans/example-kommune/incidents",
            &[
                ("title", "ESDH utilgængelig"),
                ("criterion", ""),
                ("started", ""),
                ("down", "esdh"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let incident = helpers::location(&response);
    let (_, page) = lead.page(&format!("{incident}/report")).await;
    assert!(page.contains(&format!("href=\"{incident}/report.docx\"")));
    let response = lead.get(&format!("{incident}/report.docx")).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("haendelsesrapport-")
    );
    let file = dir.path().join("incident.docx");
    std::fs::write(&file, response.bytes().await.unwrap()).unwrap();
    let book = read(&python, &file);
    assert_eq!(
        styled(&book, "Title"),
        ["Hændelsesrapport: ESDH utilgængelig"]
    );
    assert_eq!(
        styled(&book, "Heading 1"),
        [
            "Forløb",
            "Systemerne mod deres RTO",
            "Handlingspunkter",
            "Tidslinje"
        ]
    );
    let esdh = plan.system("esdh").unwrap();
    let tables = book["tables"].as_array().unwrap();
    assert_eq!(tables[0][1][0], "Startede");
    assert!(
        tables[1]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row[0] == format!("{} (esdh)", esdh.name)),
        "{}",
        tables[1]
    );
    let timeline = tables.last().unwrap().as_array().unwrap();
    assert!(
        timeline.len() > 1,
        "the timeline has the opening: {timeline:?}"
    );
}
