//! Editing through the pages over real HTTP: owners and their systems (403 for another owner's),
//! stale saves, wrong values named beside their field, recovery steps without JavaScript,
//! approval, versions and diffs, the plan sections, the people of the plan, one-click reviews,
//! "my systems", and the audit log. Runs on SQLite and (with `TEST_POSTGRES_URL`) PostgreSQL.

mod helpers;

use helpers::{TestApp, form_fields, location, set};

const PLAN: &str = "example-kommune";

#[tokio::test]
async fn an_owner_edits_their_system_and_gets_403_for_another_owners() {
    for (app, backend) in helpers::apps().await {
        app.login_as("jesper-moeller").await;
        // Owner of vmware, deputy for ad: both editable.
        for system in ["vmware", "ad"] {
            let (status, _) = app
                .page(&format!("/plans/{PLAN}/systems/{system}/edit"))
                .await;
            assert_eq!(status, 200, "{system} on {backend}");
        }
        let mut fields = app.system_form(PLAN, "vmware").await;
        set(&mut fields, "rto", "2h 30m");
        set(&mut fields, "step-0-text", "Tjek vCenter først");
        let response = app
            .submit("/plans/example-kommune/systems/vmware/edit", &fields)
            .await;
        assert_eq!(response.status().as_u16(), 303, "{backend}");
        assert_eq!(
            location(&response),
            "/plans/example-kommune/systems/vmware?saved=2"
        );
        let (_, page) = app
            .page("/plans/example-kommune/systems/vmware?saved=2")
            .await;
        assert!(page.contains("Gemt: 2 felter ændret."));
        assert!(page.contains("2 t. 30 min."));
        assert!(page.contains("Tjek vCenter først"));

        // loen belongs to others: no form, no save.
        let (status, page) = app.page(&format!("/plans/{PLAN}/systems/loen/edit")).await;
        assert_eq!(status, 403, "{backend}");
        assert!(page.contains("Ikke tilladt"));
        let response = app
            .submit("/plans/example-kommune/systems/loen/edit", &fields)
            .await;
        assert_eq!(response.status().as_u16(), 403);
        let (_, page) = app.page("/plans/example-kommune/systems/loen").await;
        assert!(!page.contains("Tjek vCenter først"));
        assert!(
            !page.contains("/systems/loen/edit"),
            "no edit link for others' systems"
        );
    }
}

#[tokio::test]
async fn a_stale_save_is_refused_with_409_and_a_page_showing_both() {
    for (app, backend) in helpers::apps().await {
        app.login_as("jesper-moeller").await;
        let other = app.signed_in("lars-nielsen").await;
        let mut mine = app.system_form(PLAN, "vmware").await;
        let mut theirs = other.system_form(PLAN, "vmware").await;
        set(&mut theirs, "verification", "Their check");
        let response = other
            .submit("/plans/example-kommune/systems/vmware/edit", &theirs)
            .await;
        assert_eq!(response.status().as_u16(), 303);
        set(&mut mine, "verification", "My check");
        let response = app
            .submit("/plans/example-kommune/systems/vmware/edit", &mine)
            .await;
        assert_eq!(response.status().as_u16(), 409, "{backend}");
        let page = response.text().await.unwrap();
        assert!(page.contains("En anden har gemt afsnittet"));
        assert!(
            page.contains("Their check") && page.contains("My check"),
            "{page}"
        );
        // Nothing was overwritten.
        let (_, shown) = app.page("/plans/example-kommune/systems/vmware").await;
        assert!(shown.contains("Their check") && !shown.contains("My check"));
        // The 409 page's form carries the new revision: saving it again is a conscious choice.
        let again = form_fields(&page, "/plans/example-kommune/systems/vmware/edit");
        let response = app
            .submit("/plans/example-kommune/systems/vmware/edit", &again)
            .await;
        assert_eq!(response.status().as_u16(), 303);
        let (_, shown) = app.page("/plans/example-kommune/systems/vmware").await;
        assert!(shown.contains("My check"));
    }
}

#[tokio::test]
async fn wrong_values_are_named_beside_their_field_and_the_input_is_kept() {
    let app = TestApp::spawn().await;
    app.login_as("jesper-moeller").await;
    let mut fields = app.system_form(PLAN, "vmware").await;
    set(&mut fields, "name", "  ");
    set(&mut fields, "rto", "fire timer");
    set(&mut fields, "depends_on", "storage-san\nstrom-koling");
    set(&mut fields, "step-1-duration", "kvarter");
    set(&mut fields, "workaround", "Kept as typed æøå");
    let response = app
        .submit("/plans/example-kommune/systems/vmware/edit", &fields)
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("4 felter skal rettes"), "{page}");
    assert!(page.contains("<p class=\"field-error\" id=\"name-error\">Feltet skal udfyldes.</p>"));
    assert!(page.contains("id=\"rto-error\">“fire timer” er ikke en varighed"));
    assert!(
        page.contains("Der er intet system “strom-koling” i planen. Mente du “strom-koeling”?")
    );
    assert!(page.contains("id=\"step-1-duration-error\">“kvarter” er ikke en varighed"));
    // The input is kept, including the fields that were fine.
    let kept = form_fields(&page, "/plans/example-kommune/systems/vmware/edit");
    let value = |name: &str| kept.iter().find(|(k, _)| k == name).unwrap().1.clone();
    assert_eq!(value("rto"), "fire timer");
    assert_eq!(value("workaround"), "Kept as typed æøå");
    assert_eq!(value("depends_on"), "storage-san\nstrom-koling");
    // Nothing was saved.
    let (_, shown) = app.page("/plans/example-kommune/systems/vmware").await;
    assert!(!shown.contains("Kept as typed"));

    // A dependency that closes a cycle is refused with the analysis' own words.
    let admin = app.signed_in("admin").await;
    let mut fields = admin.system_form(PLAN, "storage-san").await;
    set(&mut fields, "depends_on", "vmware");
    let response = admin
        .submit("/plans/example-kommune/systems/storage-san/edit", &fields)
        .await;
    assert_eq!(response.status().as_u16(), 422);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Det ville gøre planen ugyldig: Afhængighederne går i ring: ")
            && body.contains("storage-san → vmware"),
        "{body}"
    );
}

#[tokio::test]
async fn steps_are_added_removed_and_reordered_without_javascript() {
    let app = TestApp::spawn().await;
    app.login_as("jesper-moeller").await;
    let path = "/plans/example-kommune/systems/vmware/edit";
    let texts = |fields: &[(String, String)]| -> Vec<String> {
        fields
            .iter()
            .filter(|(k, _)| k.starts_with("step-") && k.ends_with("-text"))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let mut fields = app.system_form(PLAN, "vmware").await;
    let original = texts(&fields);
    assert!(original.len() >= 2);
    // Each button re-renders the form with the change, unsaved.
    let press = |mut fields: Vec<(String, String)>, action: &'static str| {
        set(&mut fields, "action", action);
        let app = &app;
        async move {
            let response = app.submit(path, &fields).await;
            assert_eq!(response.status().as_u16(), 200, "{action}");
            form_fields(&response.text().await.unwrap(), path)
        }
    };
    fields = press(fields, "down-step-0").await;
    assert_eq!(
        texts(&fields)[..2],
        [original[1].clone(), original[0].clone()]
    );
    fields = press(fields, "add-step").await;
    assert_eq!(texts(&fields).len(), original.len() + 1);
    let new = format!("step-{}-", original.len());
    set(&mut fields, &format!("{new}text"), "Nyt sidste trin");
    set(&mut fields, &format!("{new}role"), "driftstekniker");
    set(&mut fields, &format!("{new}duration"), "5m");
    fields = press(fields, "up-step-1").await;
    assert_eq!(texts(&fields)[0], original[0]);
    fields = press(fields, "remove-step-0").await;
    assert_eq!(texts(&fields)[0], original[1]);
    // Nothing is stored until Save.
    let (_, page) = app.page("/plans/example-kommune/systems/vmware").await;
    assert!(!page.contains("Nyt sidste trin"));
    set(&mut fields, "action", "save");
    let response = app.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let stored = app.system_form(PLAN, "vmware").await;
    let mut expected = original[1..].to_vec();
    expected.push("Nyt sidste trin".into());
    assert_eq!(texts(&stored), expected);
}

#[tokio::test]
async fn approval_versions_diff_and_the_audit_log() {
    for (app, backend) in helpers::apps().await {
        // An edit by the owner.
        app.login_as("jesper-moeller").await;
        let mut fields = app.system_form(PLAN, "vmware").await;
        set(&mut fields, "rto", "3h");
        assert_eq!(
            app.submit("/plans/example-kommune/systems/vmware/edit", &fields)
                .await
                .status()
                .as_u16(),
            303
        );
        let (_, page) = app.page("/plans/example-kommune").await;
        assert!(page.contains("Ingen version er godkendt endnu"));

        // Only the approver approves.
        let coordinator = app.signed_in("lars-nielsen").await;
        let response = coordinator
            .post_form(
                "/plans/example-kommune/approve",
                &[("comment", "no"), ("confirmed", "1")],
            )
            .await;
        assert_eq!(response.status().as_u16(), 403, "{backend}");
        let approver = app.signed_in("mette-holm").await;
        let (_, page) = approver.page("/plans/example-kommune/versions").await;
        assert!(page.contains("Godkend kladden"));
        let response = approver
            .post_form(
                "/plans/example-kommune/approve",
                &[("comment", "Årlig godkendelse"), ("confirmed", "1")],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303, "{backend}");
        let (_, page) = app.page("/plans/example-kommune").await;
        assert!(page.contains("Version 1 godkendt af Mette Holm"), "{page}");
        assert!(!page.contains("Kladden har ændringer"));

        // A later edit shows up as a difference between version 1 and the draft.
        let mut fields = app.system_form(PLAN, "vmware").await;
        set(&mut fields, "rto", "2h");
        app.submit("/plans/example-kommune/systems/vmware/edit", &fields)
            .await;
        let (_, page) = app.page("/plans/example-kommune").await;
        assert!(page.contains("Kladden har ændringer, der ikke er godkendt"));
        let (status, page) = app
            .page("/plans/example-kommune/versions/diff?from=1&to=draft")
            .await;
        assert_eq!(status, 200);
        assert!(
            page.contains("Fra Version 1 til Kladde: 1 ændret felt"),
            "{page}"
        );
        // A short value reads old → new.
        assert!(page.contains("<th scope=\"row\">RTO</th><td><div class=\"pre\"><del><span class=\"sr\">slettet: </span>3h</del> <span aria-hidden=\"true\">→</span> <ins><span class=\"sr\">tilføjet: </span>2h</ins></div>"), "{page}");
        let (_, page) = app.page("/plans/example-kommune/versions").await;
        assert!(page.contains("Årlig godkendelse"));
        // The comparison is preset to the latest approved version against the draft.
        let fields = helpers::form_fields(&page, "/plans/example-kommune/versions/diff");
        let value = |name: &str| fields.iter().find(|(k, _)| k == name).unwrap().1.clone();
        assert_eq!(
            (value("from"), value("to")),
            ("1".to_string(), "draft".to_string())
        );

        // The audit log, filtered, and as CSV.
        let (status, _) = app.page("/audit").await;
        assert_eq!(status, 403, "a system owner does not read the audit log");
        let today = chrono::Utc::now().date_naive().to_string();
        let (status, page) = coordinator
            .page(&format!(
                "/audit?actor=jesper-moeller&system=vmware&from={today}&to={today}"
            ))
            .await;
        assert_eq!(status, 200);
        assert!(page.contains("Systemafsnit ændret"));
        assert!(!page.contains("Version godkendt"));
        let response = coordinator
            .get("/audit.csv?plan=example-kommune&actor=jesper-moeller")
            .await;
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = response.text().await.unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "time,actor,plan,system,action,field,before,after");
        assert!(
            lines.iter().any(
                |l| l.ends_with(",jesper-moeller,example-kommune,vmware,edit-system,rto,3h,2h")
            ),
            "{csv}"
        );
        assert!(
            lines.iter().any(
                |l| l.ends_with(",jesper-moeller,example-kommune,vmware,edit-system,rto,4h,3h")
            ),
            "{csv}"
        );
        assert_eq!(lines.len(), 3, "{csv}");
        let response = coordinator.get("/audit.csv?actor=mette-holm").await;
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains(",approve,version 1,,Årlig godkendelse")
        );
        let (status, _) = coordinator.page("/audit?from=28-11-2026").await;
        assert_eq!(status, 400);
    }
}

/// The `<del>` and `<ins>` of a page, without their hidden "slettet:"/"tilføjet:" labels.
fn marked(page: &str, tag: &str) -> Vec<String> {
    page.split(&format!("<{tag}>"))
        .skip(1)
        .filter_map(|rest| rest.split(&format!("</{tag}>")).next())
        .map(|inner| inner.rsplit("</span>").next().unwrap_or(inner).to_string())
        .collect()
}

/// The row of a diff page for the field labelled `label`.
fn line_of(page: &str, label: &str) -> String {
    let start = format!("<th scope=\"row\">{label}</th>");
    let at = page
        .find(&start)
        .unwrap_or_else(|| panic!("{label} in {page}"));
    page[at..].split("</tr>").next().unwrap().to_string()
}

#[tokio::test]
async fn a_one_word_edit_of_a_workaround_marks_only_that_word_and_names_who_made_it() {
    for (app, backend) in helpers::apps().await {
        let approver = app.signed_in("mette-holm").await;
        let response = approver
            .post_form(
                "/plans/example-kommune/approve",
                &[("comment", ""), ("confirmed", "1")],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303, "{backend}");

        // One word of the workaround, by the owner; the RTO three times, the last by the
        // coordinator.
        app.login_as("jesper-moeller").await;
        let coordinator = app.signed_in("lars-nielsen").await;
        for (editor, rto, workaround) in [
            (&app, "3h", Some(("Skybaserede", "Cloudbaserede"))),
            (&app, "2h", None),
            (&coordinator, "90m", None),
        ] {
            let mut fields = editor.system_form(PLAN, "vmware").await;
            set(&mut fields, "rto", rto);
            if let Some((old, new)) = workaround {
                let text = fields
                    .iter()
                    .find(|(k, _)| k == "workaround")
                    .unwrap()
                    .1
                    .clone();
                assert!(text.contains(old));
                set(&mut fields, "workaround", &text.replace(old, new));
            }
            let response = editor
                .submit("/plans/example-kommune/systems/vmware/edit", &fields)
                .await;
            assert_eq!(response.status().as_u16(), 303, "{backend}");
        }

        let (status, page) = app
            .page("/plans/example-kommune/versions/diff?from=1&to=draft")
            .await;
        assert_eq!(status, 200, "{backend}");
        assert_eq!(
            marked(&page, "del"),
            ["4h", "Skybaserede"],
            "{backend}: {page}"
        );
        assert_eq!(
            marked(&page, "ins"),
            ["1h 30m", "Cloudbaserede"],
            "{backend}"
        );
        assert!(page.contains("<span class=\"sr\">slettet: </span>Skybaserede</del>"));
        // The rest of the paragraph is there once, unmarked.
        assert_eq!(
            page.matches("så længe netværk og internet virker").count(),
            1
        );

        // Who changed each field and when: names, not usernames; the latest of several edits.
        let today = chrono::Utc::now().date_naive();
        let line = |start: &str| {
            let at = page
                .find(start)
                .unwrap_or_else(|| panic!("{start} in {page}"));
            page[at..].split("</p>").next().unwrap().to_string()
        };
        let workaround = line("Ændret af ");
        assert!(
            workaround.starts_with("Ændret af Jesper Møller, "),
            "{workaround}"
        );
        let year = chrono::Datelike::year(&today).to_string();
        assert!(workaround.contains(&year), "{workaround}");
        let rto = line("Senest ændret af ");
        assert!(rto.starts_with("Senest ændret af Lars Nielsen, "), "{rto}");
        assert!(rto.ends_with("(3 ændringer)"), "{rto}");
        assert!(!page.contains("jesper-moeller") && !page.contains("lars-nielsen"));

        // The same on the versions page, and with the sides the other way round.
        let (_, page) = app.page("/plans/example-kommune/versions").await;
        assert!(page.contains("Ændret af Jesper Møller, "), "{backend}");
        let (_, page) = app
            .page("/plans/example-kommune/versions/diff?from=draft&to=1")
            .await;
        assert_eq!(marked(&page, "ins"), ["4h", "Skybaserede"], "{backend}");
        assert!(page.contains("(3 ændringer)"), "{backend}");

        // In the reader's language.
        let english = app.signed_in("michael-skov").await;
        english.get("/lang/en").await;
        let (_, page) = english
            .page("/plans/example-kommune/versions/diff?from=1&to=draft")
            .await;
        assert!(page.contains("<span class=\"sr\">deleted: </span>Skybaserede</del>"));
        assert!(page.contains("<span class=\"sr\">added: </span>Cloudbaserede</ins>"));
        assert!(page.contains("Changed by Jesper Møller, "), "{backend}");
        assert!(page.contains("Last changed by Lars Nielsen, "), "{backend}");
        assert!(page.contains("(3 changes)"), "{backend}");

        // Version 2, then one more edit: between versions 1 and 2 the three edits, between
        // version 2 and the draft the last one only; the comparison starts at version 2.
        let response = approver
            .post_form(
                "/plans/example-kommune/approve",
                &[("comment", ""), ("confirmed", "1")],
            )
            .await;
        assert_eq!(response.status().as_u16(), 303, "{backend}");
        let mut fields = app.system_form(PLAN, "vmware").await;
        set(&mut fields, "rto", "45m");
        let response = app
            .submit("/plans/example-kommune/systems/vmware/edit", &fields)
            .await;
        assert_eq!(response.status().as_u16(), 303, "{backend}");
        let (_, page) = app.page("/plans/example-kommune/versions").await;
        let fields = form_fields(&page, "/plans/example-kommune/versions/diff");
        let value = |name: &str| fields.iter().find(|(k, _)| k == name).unwrap().1.clone();
        assert_eq!((value("from"), value("to")), ("2".into(), "draft".into()));
        let (_, page) = app
            .page("/plans/example-kommune/versions/diff?from=1&to=2")
            .await;
        assert_eq!(
            marked(&page, "ins"),
            ["1h 30m", "Cloudbaserede"],
            "{backend}"
        );
        assert!(line_of(&page, "RTO").contains("Senest ændret af Lars Nielsen, "));
        assert!(line_of(&page, "RTO").contains("(3 ændringer)"), "{backend}");
        let (_, page) = app
            .page("/plans/example-kommune/versions/diff?from=2&to=draft")
            .await;
        assert_eq!(marked(&page, "ins"), ["45m"], "{backend}");
        let rto = line_of(&page, "RTO");
        assert!(
            rto.contains("Ændret af Jesper Møller, ") && !rto.contains("ændringer"),
            "{rto}"
        );
    }
}

#[tokio::test]
async fn the_coordinator_edits_the_plan_sections_and_they_are_audited() {
    let app = TestApp::spawn().await;
    app.login_as("jesper-moeller").await;
    let (status, _) = app.page("/plans/example-kommune/sections/edit").await;
    assert_eq!(status, 403);
    let coordinator = app.signed_in("lars-nielsen").await;
    let path = "/plans/example-kommune/sections/edit";
    let (_, page) = coordinator.page(path).await;
    let mut fields = form_fields(&page, path);
    set(
        &mut fields,
        "stand_down_criteria",
        "Alle kritiske systemer kører\nBorgerne er orienteret",
    );
    set(
        &mut fields,
        "call_tree",
        "anne-kjaer\nlars-nielsen <- anne-kjaer: Ringer videre\nukendt-person <- anne-kjaer",
    );
    let response = coordinator.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Der er ingen person “ukendt-person” i planen.")
    );
    set(
        &mut fields,
        "call_tree",
        "anne-kjaer\nlars-nielsen <- anne-kjaer: Ringer videre",
    );
    let response = coordinator.submit(path, &fields).await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = app.page("/plans/example-kommune/sections").await;
    assert!(page.contains("<li>Borgerne er orienteret</li>"));
    assert!(page.contains("Ringer videre"));
    let csv = coordinator
        .get("/audit.csv?actor=lars-nielsen")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("edit-sections,stand_down_criteria"), "{csv}");
    assert!(csv.contains("edit-sections,call_tree"), "{csv}");
}

#[tokio::test]
async fn script_quotes_and_danish_letters_round_trip_and_show_escaped() {
    let app = TestApp::spawn().await;
    app.login_as("jesper-moeller").await;
    let nasty = "<script>alert(\"x\")</script> 'æøå' & ÆØÅ";
    // An approved version first, so the versions page shows the change against it.
    let approver = app.signed_in("mette-holm").await;
    approver
        .post_form(
            "/plans/example-kommune/approve",
            &[("comment", ""), ("confirmed", "1")],
        )
        .await;
    let mut fields = app.system_form(PLAN, "vmware").await;
    set(&mut fields, "step-0-text", nasty);
    set(&mut fields, "name", nasty);
    app.submit("/plans/example-kommune/systems/vmware/edit", &fields)
        .await;
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#x27;æøå&#x27; &amp; ÆØÅ";
    let coordinator = app.signed_in("lars-nielsen").await;
    for path in [
        "/plans/example-kommune",
        "/plans/example-kommune/systems/vmware",
        "/plans/example-kommune/systems/vmware/edit",
        "/plans/example-kommune/versions",
        "/audit",
        "/my",
    ] {
        let client = if path == "/my" { &app } else { &coordinator };
        let (status, page) = client.page(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!page.contains("<script>"), "{path}");
        assert!(page.contains(escaped), "{path}");
    }
    // Stored and given back exactly as typed.
    let stored = app.system_form(PLAN, "vmware").await;
    assert_eq!(stored.iter().find(|(k, _)| k == "name").unwrap().1, nasty);
    let csv = coordinator.get("/audit.csv").await.text().await.unwrap();
    assert!(
        csv.contains("<script>alert(\"\"x\"\")</script> 'æøå' & ÆØÅ"),
        "{csv}"
    );
}

#[tokio::test]
async fn my_systems_lists_what_the_owner_must_look_at() {
    let app = TestApp::spawn().await;
    // The owner of adgangskontrol, whose review is overdue in the example plan.
    let owner = std::fs::read_to_string(
        helpers::repo().join("plans/example-kommune/systems/adgangskontrol.toml"),
    )
    .unwrap()
    .lines()
    .find_map(|l| {
        l.strip_prefix("owner = \"")
            .map(|r| r.trim_end_matches('"').to_string())
    })
    .unwrap();
    app.login_as(&owner).await;
    let (status, page) = app.page("/my").await;
    assert_eq!(status, 200);
    assert!(page.contains("/plans/example-kommune/systems/adgangskontrol\""));
    assert!(page.contains("Gennemgang overskredet"));
    assert!(page.contains("review-overdue"));
    assert!(!page.contains("/systems/loen\""));
}

#[tokio::test]
async fn the_coordinator_keeps_the_people_of_the_plan() {
    for (app, backend) in helpers::apps().await {
        app.login_as("lars-nielsen").await;
        let path = "/plans/example-kommune/people/anne-kjaer/edit";
        let (status, page) = app.page(path).await;
        assert_eq!(status, 200, "{backend}");
        let mut fields = form_fields(&page, path);
        set(&mut fields, "phone", "+45 11 22 33 44");
        set(&mut fields, "email", "no-at-sign");
        let response = app.submit(path, &fields).await;
        assert_eq!(response.status().as_u16(), 422);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("“no-at-sign” er ikke en e-mailadresse.")
        );
        set(&mut fields, "email", "anne@example.dk");
        // Unticking every role box but one.
        fields.retain(|(k, v)| k != "role" || v == "beredskabsleder");
        let response = app.submit(path, &fields).await;
        assert_eq!(response.status().as_u16(), 303, "{backend}");
        let (_, page) = app.page("/plans/example-kommune/people").await;
        assert!(page.contains("href=\"tel:+4511223344\""));
        // The same form again is stale.
        let response = app.submit(path, &fields).await;
        assert_eq!(response.status().as_u16(), 409);

        // A new person, then a second one with the same id.
        let new = "/plans/example-kommune/people/new";
        let (_, page) = app.page(new).await;
        let mut fields = form_fields(&page, new);
        set(&mut fields, "id", "ny-person");
        set(&mut fields, "name", "Ny Person");
        fields.push(("role".into(), "driftstekniker".into()));
        assert_eq!(app.submit(new, &fields).await.status().as_u16(), 303);
        let response = app.submit(new, &fields).await;
        assert_eq!(response.status().as_u16(), 422);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("“ny-person” er allerede brugt i planen.")
        );
        // The new person can own a system now.
        let mut system = app.system_form(PLAN, "print").await;
        set(&mut system, "deputy", "ny-person");
        assert_eq!(
            app.submit("/plans/example-kommune/systems/print/edit", &system)
                .await
                .status()
                .as_u16(),
            303
        );

        let csv = app
            .get("/audit.csv?actor=lars-nielsen")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            csv.contains("edit-person,person:anne-kjaer.phone,"),
            "{csv}"
        );
        assert!(
            csv.contains("edit-person,person:ny-person.name,,Ny Person"),
            "{csv}"
        );
    }
}

#[tokio::test]
async fn a_change_saved_by_another_server_process_is_shown_at_once() {
    for db in helpers::databases().await {
        let (backend, url) = (db.backend, db.url.clone());
        let app = TestApp::spawn_on(db, &helpers::plans()).await;
        app.login_as("lars-nielsen").await;
        let (_, before) = app.page("/plans/example-kommune/systems/print").await;
        assert!(!before.contains("Saved elsewhere"));
        // Another process: the store used directly, bypassing this server's memory.
        let store = beredskab::store::connect(&url).await.unwrap();
        let plan = beredskab::domain::PlanId::parse(PLAN).unwrap();
        let (mut print, revision) = beredskab::store::edits::load_system(&store, &plan, "print")
            .await
            .unwrap()
            .unwrap();
        print.workaround = "Saved elsewhere".into();
        let saved = beredskab::store::edits::save_system(&store, &plan, "other", &print, revision)
            .await
            .unwrap();
        assert!(matches!(saved, beredskab::store::edits::Saved::Done { .. }));
        let (_, after) = app.page("/plans/example-kommune/systems/print").await;
        assert!(after.contains("Saved elsewhere"), "{backend}");
        let (_, overview) = app.page("/plans/example-kommune").await;
        assert!(overview.contains("Kladden har ændringer"));
        store.close().await.unwrap();
    }
}

#[tokio::test]
async fn an_owner_confirms_a_review_with_one_click_and_it_is_audited() {
    let app = TestApp::spawn().await;
    app.login_as("henrik-dahl").await;
    let (_, page) = app.page("/plans/example-kommune?only=overdue").await;
    assert!(page.contains("/systems/adgangskontrol\""));
    let path = "/plans/example-kommune/systems/adgangskontrol/reviewed";
    let (_, system) = app
        .page("/plans/example-kommune/systems/adgangskontrol")
        .await;
    assert!(system.contains(&format!("action=\"{path}\"")));
    let response = app.post_form(path, &[]).await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, system) = app.page(&helpers::location(&response)).await;
    assert!(system.contains("Gennemgangen er registreret."));
    let today = beredskab::render::i18n::date(helpers::today(), "da");
    assert!(
        system.contains(&format!("{today} (Henrik Dahl)")),
        "{system}"
    );
    let (_, page) = app.page("/plans/example-kommune?only=overdue").await;
    assert!(
        !page.contains("/systems/adgangskontrol\""),
        "no longer overdue"
    );
    // Another owner may not confirm it; the coordinator sees it in the audit log.
    let other = app.signed_in("jesper-moeller").await;
    assert_eq!(other.post_form(path, &[]).await.status().as_u16(), 403);
    let coordinator = app.signed_in("lars-nielsen").await;
    let (_, audit) = coordinator.page("/audit?system=adgangskontrol").await;
    assert!(audit.contains("Senest gennemgået"), "{audit}");
}

#[tokio::test]
async fn durations_are_typed_as_the_pages_show_them() {
    let app = TestApp::spawn().await;
    app.login_as("jesper-moeller").await;
    let mut fields = app.system_form(PLAN, "vmware").await;
    set(&mut fields, "rto", "3 timer");
    set(&mut fields, "rpo", "1,5 t");
    set(&mut fields, "mtpd", "2 døgn");
    set(&mut fields, "step-0-duration", "45 min.");
    let response = app
        .submit("/plans/example-kommune/systems/vmware/edit", &fields)
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{}",
        response.text().await.unwrap()
    );
    // Stored in the canonical form, shown in Danish, typed back as shown without a change.
    let body = app.system_json("vmware").await;
    assert_eq!(body["rto"], "3h");
    assert_eq!(body["rpo"], "1h 30m");
    assert_eq!(body["mtpd"], "2d");
    assert_eq!(body["recovery_steps"][0]["duration"], "45m");
    let (_, page) = app.page("/plans/example-kommune/systems/vmware").await;
    assert!(page.contains("3 t."), "{page}");
    assert!(page.contains("2 døgn"), "{page}");
    let mut again = app.system_form(PLAN, "vmware").await;
    set(&mut again, "rto", "3 t.");
    let response = app
        .submit("/plans/example-kommune/systems/vmware/edit", &again)
        .await;
    assert_eq!(response.status().as_u16(), 303);
    assert!(
        location(&response).ends_with("saved=0"),
        "{}",
        location(&response)
    );
}

#[tokio::test]
async fn approving_asks_first_saying_which_version_what_changed_and_that_no_comment_was_written() {
    let app = TestApp::spawn().await;
    let approver = app.signed_in("mette-holm").await;
    let approve = "/plans/example-kommune/approve";
    // The first version: the whole plan.
    let (status, question) = approver.page(approve).await;
    assert_eq!(status, 200);
    assert!(question.contains("Godkend version 1?"), "{question}");
    assert!(question.contains("Det er planens første version, med "));
    let response = approver
        .post_form(approve, &[("comment", "Første"), ("confirmed", "1")])
        .await;
    assert_eq!(response.status().as_u16(), 303);

    // Two systems changed.
    app.login_as("lars-nielsen").await;
    for (system, rto) in [("vmware", "3h"), ("ad", "3h")] {
        let mut fields = app.system_form(PLAN, system).await;
        set(&mut fields, "rto", rto);
        let path = format!("/plans/example-kommune/systems/{system}/edit");
        assert_eq!(app.submit(&path, &fields).await.status().as_u16(), 303);
    }

    // The versions page's form posts to the question: version 2, two systems, no comment.
    let response = approver.post_form(approve, &[("comment", "  ")]).await;
    assert_eq!(response.status().as_u16(), 200);
    let question = response.text().await.unwrap();
    assert!(question.contains("Godkend version 2?"), "{question}");
    assert!(
        question.contains("2 systemer er ændret siden seneste version."),
        "{question}"
    );
    assert!(question.contains("Der er ikke skrevet en kommentar."));
    let (_, page) = approver.page("/plans/example-kommune/versions").await;
    assert!(
        !page.contains("<td>2</td>"),
        "not approved by the bare post"
    );
    // A comment written is carried to the question and on with the confirmation.
    let response = approver
        .post_form(approve, &[("comment", "Nye RTO'er <b>")])
        .await;
    let question = response.text().await.unwrap();
    assert!(
        question.contains("Kommentar: “Nye RTO&#x27;er &lt;b&gt;”"),
        "{question}"
    );
    assert!(
        question.contains("name=\"comment\" value=\"Nye RTO&#x27;er &lt;b&gt;\""),
        "{question}"
    );
    assert!(!question.contains("Der er ikke skrevet en kommentar."));

    let response = approver
        .post_form(approve, &[("comment", "Nye RTO'er"), ("confirmed", "1")])
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = approver.page("/plans/example-kommune/versions").await;
    assert!(page.contains("Version 2 er godkendt."), "{page}");
    assert!(page.contains("<td>2</td>"));
    let (_, page) = approver.page("/plans/example-kommune/versions").await;
    assert!(!page.contains("Version 2 er godkendt."), "once");
}
