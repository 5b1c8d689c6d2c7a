//! Every page and every mail in the reader's language, from a plan that has every finding the
//! analysis can make of a stored plan and every gap the completeness check names: no string of
//! the other language's locale file, no field path (`depends_on[0]`), no finding code outside a
//! `<code>` element, and no plural after a count of one.

mod helpers;

use std::collections::HashSet;

use beredskab::domain::{Code, Duration, ImpactLevel, PersonId, PlanId, RoleId, SystemId};
use beredskab::store;
use helpers::{TestApp, location, set, unescape};
use sea_orm::ConnectionTrait;

const PLAN: &str = "example-kommune";

fn d(text: &str) -> Duration {
    Duration::parse(text).unwrap()
}

/// The example plan made to trigger every finding of a stored plan and every completeness gap.
async fn break_plan(conn: &sea_orm::DatabaseConnection) {
    let id = PlanId::parse(PLAN).unwrap();
    let mut plan = store::load_plan(conn, &id).await.unwrap().unwrap();
    let sys = |plan: &mut beredskab::domain::Plan, id: &str| -> usize {
        plan.systems
            .iter()
            .position(|s| s.id.as_str() == id)
            .unwrap()
    };
    let sid = |id: &str| SystemId::parse(id).unwrap();
    // Warnings: an RTO inversion, a supplier slower than the RTO, steps missing, reviews overdue
    // and never done, an RTO past the unacceptable point.
    let ad = sys(&mut plan, "ad");
    plan.systems[ad].rto = Some(d("2h"));
    let esdh = sys(&mut plan, "esdh");
    if let Some(supplier) = plan.systems[esdh].supplier.as_mut() {
        supplier.contract_restore = Some(d("2d"));
    }
    let backup = sys(&mut plan, "backup");
    plan.systems[backup].recovery_steps.clear();
    let aula = sys(&mut plan, "aula");
    plan.systems[aula].last_reviewed = chrono::NaiveDate::from_ymd_opt(2024, 1, 10);
    let citrix = sys(&mut plan, "citrix");
    plan.systems[citrix].last_reviewed = None;
    let loen = sys(&mut plan, "loen");
    let unacceptable = plan.systems[loen]
        .impact
        .iter()
        .find(|s| s.level == ImpactLevel::Unacceptable)
        .map(|s| s.after)
        .unwrap();
    plan.systems[loen].rto = Some(unacceptable.saturating_add(d("1h")));
    plan.systems[loen].mtpd = Some(unacceptable.saturating_add(d("1w")));
    // Errors: RTO beyond the MTPD, no owner, an unknown deputy, dependency and role, a cycle
    // and a system depending on itself.
    let print = sys(&mut plan, "print");
    plan.systems[print].rto = Some(d("2w"));
    let website = sys(&mut plan, "website");
    plan.systems[website].owner = None;
    plan.systems[website].deputy = Some(PersonId::parse("ukendt-person").unwrap());
    plan.systems[website].depends_on.push(sid("ukendt-system"));
    let mdm = sys(&mut plan, "mdm");
    if let Some(step) = plan.systems[mdm].recovery_steps.first_mut() {
        step.role = RoleId::parse("ukendt-rolle").unwrap();
    }
    let byggesag = sys(&mut plan, "byggesag");
    plan.systems[byggesag].depends_on.push(sid("digital-post"));
    let digital_post = sys(&mut plan, "digital-post");
    plan.systems[digital_post].depends_on.push(sid("byggesag"));
    let klient = sys(&mut plan, "klientstyring");
    plan.systems[klient].depends_on.push(sid("klientstyring"));
    // Completeness gaps: an empty section, a role without responsibilities, a call-tree
    // person without a phone number, a system without impact or MTPD.
    plan.sections.purpose = String::new();
    plan.sections.return_to_normal = String::new();
    if let Some(role) = plan.roles.first_mut() {
        role.responsibilities = String::new();
    }
    let first_called = plan.call_tree[0].person.clone();
    if let Some(person) = plan.people.iter_mut().find(|p| p.id == first_called) {
        person.phone = String::new();
    }
    let selvbetjening = sys(&mut plan, "selvbetjening");
    plan.systems[selvbetjening].impact.clear();
    plan.systems[selvbetjening].mtpd = None;
    store::import_plan(conn, &plan).await.unwrap();
}

/// What a reader sees of a page: its text without markup, scripts or styles.
fn visible(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        rest = &rest[open..];
        let lower = rest.get(..8).unwrap_or("").to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            "</script>"
        } else if lower.starts_with("<style") {
            "</style>"
        } else {
            ">"
        };
        match rest.find(skip_to) {
            Some(end) => rest = &rest[end + skip_to.len()..],
            None => rest = "",
        }
        text.push(' ');
    }
    text.push_str(rest);
    unescape(&text)
}

/// The page without what `<code>` elements hold.
fn without_code(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(open) = rest.find("<code") {
        out.push_str(&rest[..open]);
        match rest[open..].find("</code>") {
            Some(end) => rest = &rest[open + end + "</code>".len()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// The phrases of `other`'s locale file that `lang`'s never uses: each string split at its
/// placeholders, the pieces of two words or more.
fn foreign_phrases(lang: &str, other: &str) -> Vec<String> {
    let read = |l: &str| -> Vec<(String, String)> {
        let text =
            std::fs::read_to_string(helpers::repo().join(format!("templates/locales/{l}.toml")))
                .unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        let mut out = Vec::new();
        flatten("", &table, &mut out);
        out
    };
    let own = read(lang);
    let own_text: Vec<&str> = own.iter().map(|(_, v)| v.as_str()).collect();
    let mut phrases = HashSet::new();
    for (_, value) in read(other) {
        for piece in value.split(['{', '}']).step_by(2) {
            let piece = piece.trim_matches(|c: char| c.is_whitespace() || ".,:;()–-".contains(c));
            // Phrases of three words or more: two-word pieces turn up in plan texts too.
            if piece.len() >= 12
                && piece.split_whitespace().count() >= 3
                && !own_text.iter().any(|t| t.contains(piece))
            {
                phrases.insert(piece.to_string());
            }
        }
    }
    phrases.into_iter().collect()
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (key, value) in table {
        let full = format!("{prefix}{key}");
        match value {
            toml::Value::Table(t) => flatten(&format!("{full}."), t, out),
            toml::Value::String(s) => out.push((full, s.clone())),
            _ => {}
        }
    }
}

/// Words that are plural forms, by language: after a lone `1` they are a mistake.
fn plurals(lang: &str) -> &'static [&'static str] {
    match lang {
        "da" => &[
            "systemer",
            "felter",
            "personer",
            "deltagere",
            "mails",
            "punkter",
            "timer",
            "uger",
            "minutter",
            "versioner",
            "ændringer",
            "øvelser",
            "handlingspunkter",
            "roller",
            "advarsler",
            "krav",
            "dage",
            "sider",
            "poster",
            "systemejere",
        ],
        _ => &[
            "systems",
            "fields",
            "people",
            "participants",
            "mails",
            "items",
            "hours",
            "weeks",
            "days",
            "minutes",
            "versions",
            "changes",
            "drills",
            "findings",
            "warnings",
            "errors",
            "steps",
            "requirements",
            "pages",
            "records",
            "owners",
        ],
    }
}

/// What is wrong with one page or mail in `lang`, if anything.
fn problems(lang: &str, foreign: &[String], what: &str, html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let text = visible(html);
    for phrase in foreign {
        if text.contains(phrase.as_str()) {
            out.push(format!("{what}: {phrase:?} is of the other language"));
        }
    }
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('[') {
        let digits = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0
            && bytes.get(i + 1 + digits) == Some(&b']')
            && i > 0
            && (bytes[i - 1].is_ascii_lowercase() || bytes[i - 1] == b'_')
        {
            let from = text[..i].rfind(' ').map_or(0, |s| s + 1);
            out.push(format!(
                "{what}: field path {:?}",
                &text[from..i + digits + 2]
            ));
        }
    }
    let plain = visible(&without_code(html));
    for code in Code::ALL {
        if plain.contains(code.as_str()) {
            out.push(format!(
                "{what}: finding code {} outside <code>",
                code.as_str()
            ));
        }
    }
    for word in plurals(lang) {
        let needle = format!("1 {word}");
        for (i, _) in text.match_indices(&needle) {
            let before = text[..i].chars().next_back();
            let after = text[i + needle.len()..].chars().next();
            if !before.is_some_and(|c| c.is_ascii_digit() || c == '.' || c == ',' || c == '-')
                && !after.is_some_and(char::is_alphanumeric)
            {
                out.push(format!("{what}: {needle:?} takes the singular"));
            }
        }
    }
    out
}

/// The text parts of a stored message, decoded.
fn mail_text(raw: &str) -> String {
    let text = helpers::quoted_printable_text(&raw.replace("\r\n", "\n"));
    // Calendar attachments are base64 and in the calendar's own words; headers are not read.
    text.split("\n\n").skip(1).collect::<Vec<_>>().join("\n\n")
}

/// A page, following one redirect (`/report` goes to this year's).
async fn fetch(client: &TestApp, path: &str) -> (u16, String) {
    let response = client.get(path).await;
    if response.status().is_redirection() {
        let next = location(&response);
        return client.page(&next).await;
    }
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn sweep(lang: &str) {
    let other = if lang == "da" { "en" } else { "da" };
    let foreign = foreign_phrases(lang, other);
    assert!(
        foreign.len() > 100,
        "the other language's phrases were read"
    );
    let db = helpers::sqlite_db();
    let url = db.url.clone();
    let app = TestApp::spawn_on(db, &helpers::plans()).await;
    let conn = store::connect(&url).await.unwrap();
    conn.execute_unprepared(&format!("UPDATE accounts SET language = '{lang}'"))
        .await
        .unwrap();
    let approver = app.signed_in("mette-holm").await;
    let response = approver
        .post_form(
            &format!("/plans/{PLAN}/approve"),
            &[("comment", "Version 1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    break_plan(&conn).await;

    let coordinator = app.signed_in("lars-nielsen").await;
    let lead = app.signed_in("anne-kjaer").await;
    let admin = app.second_client();
    admin.login("admin", helpers::ADMIN_PASSWORD).await;

    // An incident with AD down, alerted; a drill planned and its run started.
    let response = lead
        .post_form(
            &format!("/plans/{PLAN}/incidents"),
            &[
                ("title", "AD nede"),
                ("criterion", ""),
                ("started", ""),
                ("down", "ad"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let incident = location(&response);
    let alerted = lead.post_form(&format!("{incident}/alert"), &[]).await;
    assert!(alerted.status().is_redirection() || alerted.status().is_success());
    let run = coordinator.planned_occurrence("ad-nede").await;
    // An edit refused for the error it would give the plan.
    let mut fields = coordinator.system_form(PLAN, "esdh").await;
    set(&mut fields, "rto", "2 uger");
    let refused = coordinator
        .submit(&format!("/plans/{PLAN}/systems/esdh/edit"), &fields)
        .await;
    assert_eq!(refused.status().as_u16(), 422);
    let refused = refused.text().await.unwrap();
    app.run_jobs().await;

    let plan = format!("/plans/{PLAN}");
    let mut pages: Vec<(&TestApp, String)> = [
        "/".to_string(),
        plan.clone(),
        format!("{plan}?only=findings"),
        format!("{plan}/sections"),
        format!("{plan}/sections/edit"),
        format!("{plan}/people"),
        format!("{plan}/versions"),
        format!("{plan}/versions/diff"),
        "/audit".to_string(),
        format!("{plan}/drills"),
        format!("{plan}/drills/new?scenario=ad-nede"),
        format!("{plan}/drills/new"),
        run.clone(),
        format!("{plan}/dashboard"),
        format!("{plan}/picture"),
        format!("{plan}/completeness"),
        format!("{plan}/evidence"),
        format!("{plan}/report"),
        format!("{plan}/incidents"),
        format!("{plan}/runbook"),
        format!("{plan}/runbook.html"),
        format!("{plan}/pocket"),
        format!("{plan}/calendar"),
        format!("{plan}/actions"),
        "/account".to_string(),
        "/my".to_string(),
        "/ingen-side".to_string(),
    ]
    .into_iter()
    .map(|p| (&coordinator, p))
    .collect();
    for system in [
        "ad",
        "esdh",
        "backup",
        "aula",
        "citrix",
        "loen",
        "print",
        "website",
        "mdm",
        "byggesag",
        "klientstyring",
        "selvbetjening",
    ] {
        pages.push((&coordinator, format!("{plan}/systems/{system}")));
    }
    pages.push((&coordinator, format!("{plan}/systems/esdh/edit")));
    // The confirmation steps of irreversible acts.
    pages.push((&coordinator, format!("{run}/close")));
    pages.push((&approver, format!("{plan}/approve")));
    pages.push((&lead, format!("{incident}/close")));
    pages.push((&lead, format!("{incident}/alert")));
    pages.push((&lead, incident.clone()));
    pages.push((&lead, format!("{incident}/report")));
    pages.push((&admin, "/admin/accounts".to_string()));
    pages.push((&admin, "/admin/groups".to_string()));
    pages.push((&admin, "/outbox".to_string()));
    let mut found = problems(lang, &foreign, "the refused edit", &refused);
    for (client, path) in &pages {
        let (status, body) = fetch(client, path).await;
        // An unknown page, and a form opened without what it needs, get the error page.
        let expected = match path.as_str() {
            "/ingen-side" => 404,
            p if p.ends_with("/drills/new") => 400,
            _ => 200,
        };
        assert_eq!(status, expected, "{path}: {body}");
        found.extend(problems(lang, &foreign, path, &body));
    }
    // The comparison opened bare is the latest approved version against the draft.
    let (_, diff) = fetch(&coordinator, &format!("{plan}/versions/diff")).await;
    let (from, to) = if lang == "da" {
        ("Fra Version 1 til Kladde", "Afhænger af")
    } else {
        ("From Version 1 to Draft", "Depends on")
    };
    assert!(diff.contains(from) && diff.contains(to), "{diff}");
    // The pages say what the analysis found, in the reader's words.
    let (_, esdh) = fetch(&coordinator, &format!("{plan}/systems/esdh")).await;
    let (_, aula) = fetch(&coordinator, &format!("{plan}/systems/aula")).await;
    if lang == "da" {
        assert!(
            esdh.contains("genopretningstid (2 døgn) er længere end RTO (1 døgn)"),
            "{esdh}"
        );
        assert!(aula.contains("Senest gennemgået 10. januar 2024"), "{aula}");
        assert!(
            refused.contains("RTO (2 uger) er længere end MTPD (3 døgn)"),
            "{refused}"
        );
    } else {
        assert!(
            esdh.contains("restore time (2 days) is longer than the RTO (1 day)"),
            "{esdh}"
        );
        assert!(aula.contains("Last reviewed 10 January 2024"), "{aula}");
        assert!(
            refused.contains("The RTO (2 weeks) is longer than the MTPD (3 days)"),
            "{refused}"
        );
    }

    let mail: Vec<String> = std::fs::read_dir(&app.mail_dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    assert!(
        mail.iter().any(|m| m.contains("Message-ID: <alert.")),
        "the alert is among the mail"
    );
    assert!(
        mail.len() >= 3,
        "alert, invitations and reminders: {}",
        mail.len()
    );
    for (i, message) in mail.iter().enumerate() {
        found.extend(problems(
            lang,
            &foreign,
            &format!("mail {i}"),
            &mail_text(message),
        ));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    app.stop().await;
}

#[tokio::test]
async fn every_page_and_mail_speaks_danish() {
    sweep("da").await;
}

#[tokio::test]
async fn every_page_and_mail_speaks_english() {
    sweep("en").await;
}

#[test]
fn the_command_line_writes_findings_in_danish_when_asked_and_keeps_codes_and_fields() {
    let plan = helpers::example_plan();
    let plan = plan.to_str().unwrap();
    let args = [
        "validate",
        plan,
        "--today",
        "2027-06-01",
        "--format",
        "json",
    ];
    let english = helpers::beredskab(&args);
    let english: serde_json::Value = serde_json::from_slice(&english.stdout).unwrap();
    let danish = helpers::beredskab(&[&args[..], &["--language", "da"]].concat());
    let danish: serde_json::Value = serde_json::from_slice(&danish.stdout).unwrap();
    let first = |v: &serde_json::Value| v["warnings"][0].clone();
    let (en, da) = (first(&english), first(&danish));
    assert_eq!(en["code"], "review-overdue");
    assert_eq!(en["code"], da["code"]);
    assert_eq!(en["field"], da["field"]);
    assert_eq!(en["values"], da["values"]);
    assert_eq!(en["values"]["interval"], "52w");
    assert!(
        en["message"]
            .as_str()
            .unwrap()
            .starts_with("last reviewed 2025-06-10"),
        "{en}"
    );
    assert!(
        da["message"]
            .as_str()
            .unwrap()
            .starts_with("Senest gennemgået 10. juni 2025; gennemgangen skulle være sket"),
        "{da}"
    );
    let text = helpers::beredskab(&[
        "validate",
        plan,
        "--today",
        "2027-06-01",
        "--language",
        "da",
    ]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("esdh: Leverandørens kontraktlige genopretningstid: Leverandørens kontraktlige genopretningstid (2 døgn) er længere end RTO (1 døgn)"),
        "{text}"
    );
}

#[tokio::test]
async fn the_api_answers_in_english_unless_asked_for_danish() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let findings = |lang: Option<&'static str>| {
        let app = &app;
        async move {
            let mut request = app
                .client
                .get(format!("{}/api/v1/plans/{PLAN}/findings", app.address));
            if let Some(lang) = lang {
                request = request.header("accept-language", lang);
            }
            let response = request.send().await.unwrap();
            assert!(
                response.headers()["vary"]
                    .to_str()
                    .unwrap()
                    .contains("accept-language")
            );
            let list: serde_json::Value = response.json().await.unwrap();
            list.as_array()
                .unwrap()
                .iter()
                .find(|f| f["code"] == "supplier-restore-exceeds-rto")
                .cloned()
                .unwrap()
        }
    };
    let english = findings(None).await;
    assert_eq!(
        english["message"],
        "the supplier's contract restore time (2d) is longer than the RTO (1d)"
    );
    assert_eq!(english["values"]["restore"], "2d");
    let danish = findings(Some("da-DK,da;q=0.9,en;q=0.5")).await;
    assert_eq!(
        danish["message"],
        "Leverandørens kontraktlige genopretningstid (2 døgn) er længere end RTO (1 døgn)"
    );
    assert_eq!(danish["field"], english["field"]);
    assert_eq!(
        findings(Some("en-GB, da;q=0.8")).await["message"],
        english["message"]
    );
}

#[tokio::test]
async fn a_page_opened_without_what_it_needs_says_so_in_danish() {
    let app = TestApp::spawn().await;
    app.login_as("lars-nielsen").await;
    let (status, page) = app.page(&format!("/plans/{PLAN}/drills/new")).await;
    assert_eq!(status, 400);
    assert!(page.contains("Der mangler en oplysning"), "{page}");
    assert!(page.contains("»scenario«"), "{page}");
    assert!(
        page.contains("action=\"/logout\""),
        "the signed-in navigation stays: {page}"
    );
    assert!(!page.contains("Failed to deserialize"), "{page}");
}
