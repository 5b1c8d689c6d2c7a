//! Dispensations on a fixed clock: a system owner asks for their own system's warning (not for
//! another's), only the approver decides, the finding is accepted until the expiry everywhere it
//! is shown and counted apart, reminders go out 30, 7 and 1 day(s) before, once each, the
//! expiry makes it an open warning again and is audited, a renewal keeps the history, a
//! rejection changes nothing; on both databases, through the application, the pages, the API
//! and `validate`.

mod helpers;

use beredskab::app::Error;
use beredskab::domain::access::{AccessRole, Actor};
use beredskab::domain::dispensation::{State, Subject};
use beredskab::domain::{Code, PlanId, SystemId};
use beredskab::store::dispensations::NewRequest;
use chrono::{DateTime, NaiveDate, Utc};
use helpers::TestApp;

const PLAN: &str = "example-kommune";

fn actor(username: &str, role: AccessRole) -> Actor {
    Actor {
        username: username.into(),
        administrator: false,
        roles: vec![role],
        person: Some(username.into()),
    }
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn request(by: &str, system: &str, code: Code, until: &str) -> NewRequest {
    NewRequest {
        plan_id: PLAN.into(),
        subject: Subject::Finding {
            code,
            systems: vec![SystemId::parse(system).unwrap()],
        },
        justification: "Øvelsen er flyttet til foråret".into(),
        compensating: "Gendannelsen testes teknisk hver måned".into(),
        consequence: "En øvelse uden forberedelse".into(),
        solution: "Øvelse i marts".into(),
        solution_on: Some(day("2027-03-15")),
        requested_until: day(until),
        requested_by: by.into(),
    }
}

/// The `not-exercised` finding of vmware as the application has it now: whether it is
/// accepted, by which dispensation and until when.
async fn vmware_accepted(app: &beredskab::app::App) -> Option<(i64, NaiveDate)> {
    let plan = app
        .plan(&PlanId::parse(PLAN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let findings = app.findings(&plan).await.unwrap();
    let f = findings
        .findings
        .iter()
        .find(|f| f.code == Code::NotExercised && f.systems[0].as_str() == "vmware")
        .expect("vmware is not exercised");
    f.accepted().map(|a| (a.dispensation, a.until))
}

async fn audited(app: &beredskab::app::App, action: &str) -> usize {
    beredskab::store::audit::query(&app.db, &Default::default())
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == action)
        .count()
}

#[tokio::test]
async fn the_life_cycle_on_a_fixed_clock_on_both_databases() {
    for db in helpers::databases().await {
        let backend = db.backend;
        let zone = beredskab::config::Config::default().time_zone;
        let clock = beredskab::app::Clock::fixed(zone, at("2026-12-04T10:00:00Z"));
        let mut server =
            helpers::spawn_app_on_clock(&db.url, &helpers::plans(), |_| {}, clock).await;
        server.keep_db(db);
        let app = server.handle().clone();
        let plan = app
            .plan(&PlanId::parse(PLAN).unwrap())
            .await
            .unwrap()
            .unwrap();
        // Jesper Møller owns vmware, not esdh.
        let owner = actor("jesper-moeller", AccessRole::SystemOwner);
        let refused = app
            .request_dispensation(
                &plan,
                &owner,
                request(
                    "jesper-moeller",
                    "esdh",
                    Code::SupplierRestoreExceedsRto,
                    "2027-03-31",
                ),
            )
            .await;
        assert!(
            matches!(refused, Err(Error::Forbidden)),
            "{backend}: another's system"
        );
        for (code, until, why) in [
            (
                Code::DependencyCycle,
                "2027-03-31",
                "dispensation.not_dispensable",
            ),
            (
                Code::NotExercised,
                "2028-01-01",
                "dispensation.expiry_too_far",
            ),
            (
                Code::NotExercised,
                "2026-12-04",
                "dispensation.expiry_passed",
            ),
            (
                Code::RtoInversion,
                "2027-03-31",
                "dispensation.no_such_finding",
            ),
        ] {
            let got = app
                .request_dispensation(
                    &plan,
                    &owner,
                    request("jesper-moeller", "vmware", code, until),
                )
                .await;
            assert!(
                matches!(got, Err(Error::Invalid(k)) if k == why),
                "{backend}: {why}"
            );
        }
        let id = app
            .request_dispensation(
                &plan,
                &owner,
                request("jesper-moeller", "vmware", Code::NotExercised, "2027-03-31"),
            )
            .await
            .unwrap();
        assert_eq!(
            vmware_accepted(&app).await,
            None,
            "{backend}: asked is not accepted"
        );
        // The request mails the approver.
        server.deliver_mail().await;
        let asked = server.mail_with_id(&format!("dispensation.{id}.requested."));
        assert_eq!(asked.len(), 1, "{backend}: to the IT-chef only");
        assert!(asked[0].contains("meho@eksempel-kommune.dk"));

        // Only the approver decides.
        let coordinator = actor("lars-nielsen", AccessRole::Coordinator);
        assert!(matches!(
            app.decide_dispensation(&plan, &coordinator, id, Some(day("2027-03-31")), "")
                .await,
            Err(Error::Forbidden)
        ));
        let approver = actor("mette-holm", AccessRole::Approver);
        let d = app
            .decide_dispensation(&plan, &approver, id, Some(day("2027-03-31")), "Til øvelsen")
            .await
            .unwrap();
        assert_eq!(d.state(day("2026-12-04")), State::Approved);
        assert_eq!(
            vmware_accepted(&app).await,
            Some((id, day("2027-03-31"))),
            "{backend}"
        );
        server.deliver_mail().await;
        let decided = server.mail_with_id(&format!("dispensation.{id}.approved."));
        assert_eq!(
            decided.len(),
            2,
            "{backend}: the requester and vmware's deputy"
        );

        // Reminders 30, 7 and 1 day(s) before, each once however often the job runs.
        for (now, left) in [
            ("2027-03-01T08:00:00Z", "30 dage"),
            ("2027-03-24T08:00:00Z", "7 dage"),
            ("2027-03-30T08:00:00Z", "1 dag,"),
        ] {
            app.clock.set(at(now));
            assert_eq!(
                app.dispensation_reminders(at(now)).await.unwrap(),
                3,
                "{backend}: {now}"
            );
            assert_eq!(
                app.dispensation_reminders(at(now)).await.unwrap(),
                0,
                "{backend}: once"
            );
            server.deliver_mail().await;
            let all = server.mail_with_id(&format!("dispensation.{id}.expiring-"));
            assert!(
                all.iter()
                    .any(|m| helpers::quoted_printable_text(m).contains(left)),
                "{backend}: {left}"
            );
        }
        assert_eq!(
            server
                .mail_with_id(&format!("dispensation.{id}.expiring-"))
                .len(),
            9,
            "three times to the requester, vmware's deputy and the IT-chef"
        );
        app.clock.set(at("2027-03-31T21:00:00Z")); // the last day, in Copenhagen
        assert_eq!(vmware_accepted(&app).await, Some((id, day("2027-03-31"))));

        // Expired the day after: an open warning again, and the expiry audited once.
        app.clock.set(at("2027-03-31T22:30:00Z")); // 1 April in Copenhagen
        assert_eq!(vmware_accepted(&app).await, None, "{backend}: open again");
        for _ in 0..2 {
            app.dispensation_reminders(app.clock.now()).await.unwrap();
        }
        assert_eq!(audited(&app, "dispensation-expire").await, 1, "{backend}");

        // Renewed: a second decision, the first kept, accepted again.
        let d = app
            .decide_dispensation(&plan, &approver, id, Some(day("2027-09-30")), "Forlænget")
            .await
            .unwrap();
        assert_eq!(d.decisions.len(), 2);
        assert_eq!(vmware_accepted(&app).await, Some((id, day("2027-09-30"))));

        // A rejected request changes nothing.
        let other = app
            .request_dispensation(
                &plan,
                &coordinator,
                request(
                    "lars-nielsen",
                    "esdh",
                    Code::SupplierRestoreExceedsRto,
                    "2027-06-01",
                ),
            )
            .await
            .unwrap();
        app.decide_dispensation(&plan, &approver, other, None, "Nej")
            .await
            .unwrap();
        let findings = app.findings(&plan).await.unwrap();
        assert!(
            findings
                .findings
                .iter()
                .filter(|f| f.code == Code::SupplierRestoreExceedsRto)
                .all(|f| f.accepted().is_none()),
            "{backend}: rejected"
        );

        // Withdrawn by its requester (another owner may not), once.
        let sofie = actor("sofie-andersen", AccessRole::SystemOwner);
        assert!(matches!(
            app.withdraw_dispensation(&plan, &sofie, id).await,
            Err(Error::Forbidden)
        ));
        assert!(app.withdraw_dispensation(&plan, &owner, id).await.unwrap());
        assert!(
            !app.withdraw_dispensation(&plan, &owner, id).await.unwrap(),
            "once"
        );
        assert_eq!(vmware_accepted(&app).await, None);
        assert!(matches!(
            app.decide_dispensation(&plan, &approver, id, Some(day("2027-09-30")), "")
                .await,
            Err(Error::Invalid("dispensation.closed"))
        ));
        for action in [
            "dispensation-request",
            "dispensation-approve",
            "dispensation-renew",
            "dispensation-reject",
            "dispensation-withdraw",
        ] {
            assert!(audited(&app, action).await >= 1, "{backend}: {action}");
        }
        server.stop().await;
    }
}

/// The id at the end of a redirect to a dispensation's page.
fn id_of(response: &reqwest::Response) -> String {
    helpers::location(response)
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

const XSS: &str = "<script>alert(1)</script>";

#[tokio::test]
async fn asked_and_decided_on_the_pages_and_shown_as_accepted_everywhere() {
    let app = TestApp::spawn_at(at("2026-12-04T10:00:00Z")).await;
    let owner = app.signed_in("jesper-moeller").await;
    let (status, page) = owner.page("/plans/example-kommune/dispensations").await;
    assert_eq!(status, 200);
    assert!(page.contains("Planen har ingen dispensationer."));
    // Jesper is offered his own systems' warnings only, and no policy requirement.
    assert!(
        page.contains("value=\"finding:not-exercised|vmware\""),
        "{page}"
    );
    assert!(!page.contains("value=\"finding:supplier-restore-exceeds-rto|esdh\""));
    assert!(!page.contains("value=\"policy\""));
    let ask = |subject: &'static str, justification: &'static str| {
        let owner = &owner;
        async move {
            owner
                .post_form(
                    "/plans/example-kommune/dispensations",
                    &[
                        ("subject", subject),
                        ("justification", justification),
                        ("compensating", XSS),
                        ("consequence", XSS),
                        ("solution", XSS),
                        ("until", "2027-03-31"),
                    ],
                )
                .await
        }
    };
    assert_eq!(
        ask("finding:supplier-restore-exceeds-rto|esdh", "x")
            .await
            .status(),
        403
    );
    let empty = ask("finding:not-exercised|vmware", " ").await;
    assert_eq!(empty.status(), 422);
    assert!(empty.text().await.unwrap().contains("Skriv begrundelsen"));
    let asked = ask("finding:not-exercised|vmware", XSS).await;
    assert_eq!(asked.status(), 303);
    let id = id_of(&asked);
    let path = format!("/plans/example-kommune/dispensations/{id}");
    let (_, page) = owner.page(&path).await;
    assert!(page.contains("Anmodet"), "{page}");
    assert!(!page.contains(XSS), "every text field is escaped");
    assert_eq!(page.matches("&lt;script&gt;").count(), 4, "{page}");
    assert!(!page.contains("/decision\""), "the owner does not decide");

    // The approver decides on its page; a date past the plan's limit is refused with it.
    let approver = app.signed_in("mette-holm").await;
    let decide = format!("{path}/decision");
    let far = approver
        .post_form(&decide, &[("decision", "approve"), ("until", "2028-12-01")])
        .await;
    assert_eq!(far.status(), 422);
    assert!(
        far.text()
            .await
            .unwrap()
            .contains("højst gælde 12 måneder frem")
    );
    let response = approver
        .post_form(
            &decide,
            &[
                ("decision", "approve"),
                ("until", "2027-03-31"),
                ("comment", XSS),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = owner.page(&path).await;
    assert!(page.contains("Godkendt"));
    assert!(
        page.contains("godkendt til 31. marts 2027"),
        "the history: {page}"
    );
    assert!(!page.contains(XSS));

    // Accepted everywhere the finding is shown, and counted apart.
    let accepted = format!("accepteret til 31. marts 2027 (dispensation {id})");
    let (_, overview) = owner.page("/plans/example-kommune").await;
    assert!(overview.contains(&accepted), "{overview}");
    assert!(overview.contains("1 accepteret risiko"));
    let (_, system) = owner.page("/plans/example-kommune/systems/vmware").await;
    assert!(system.contains(&accepted));
    let coordinator = app.signed_in("lars-nielsen").await;
    let (_, dashboard) = coordinator.page("/plans/example-kommune/dashboard").await;
    let figure = |page: &str, id: &str| -> String {
        let at = page.find(&format!("id=\"{id}\"")).unwrap();
        page[at..]
            .split("<strong>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(figure(&dashboard, "fig-accepted"), "1");
    assert_eq!(figure(&dashboard, "fig-expiring"), "0");
    let findings: serde_json::Value = owner
        .get("/api/v1/plans/example-kommune/findings")
        .await
        .json()
        .await
        .unwrap();
    let vmware = findings
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "not-exercised" && f["systems"][0] == "vmware")
        .unwrap();
    assert_eq!(vmware["accepted"]["dispensation"].to_string(), id);
    assert_eq!(vmware["accepted"]["until"], "2027-03-31");

    // The register's filters and its CSV.
    let (_, approved) = owner
        .page("/plans/example-kommune/dispensations?state=approved&system=vmware")
        .await;
    assert!(approved.contains(&format!("id=\"dispensation-{id}\"")));
    let (_, requested) = owner
        .page("/plans/example-kommune/dispensations?state=requested")
        .await;
    assert!(requested.contains("Ingen dispensationer passer til filteret."));
    let csv = owner
        .get("/plans/example-kommune/dispensations.csv?expires=200")
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("id,state,kind,code,systems"), "{csv}");
    assert!(
        csv.contains(&format!("{id},approved,finding,not-exercised,vmware")),
        "{csv}"
    );
    let (_, none) = owner
        .page("/plans/example-kommune/dispensations?expires=30")
        .await;
    assert!(
        !none.contains(&format!("id=\"dispensation-{id}\"")),
        "not within 30 days"
    );

    // The approver sees what the version relies on before approving it.
    let (_, versions) = approver.page("/plans/example-kommune/versions").await;
    assert!(versions.contains("id=\"relied-on\""), "{versions}");
    assert!(versions.contains(&format!("/dispensations/{id}\"")));

    // A completeness requirement, asked by the coordinator, counts as "dispenseret".
    let response = coordinator
        .post_form(
            "/plans/example-kommune/dispensations",
            &[
                ("subject", "requirement:tests"),
                (
                    "justification",
                    "Øvelsesplanen for 2027 er ved at blive lagt",
                ),
                ("until", "2027-02-01"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let requirement = id_of(&response);
    approver
        .post_form(
            &format!("/plans/example-kommune/dispensations/{requirement}/decision"),
            &[("decision", "approve"), ("until", "2027-02-01")],
        )
        .await;
    let (_, completeness) = coordinator
        .page("/plans/example-kommune/completeness")
        .await;
    assert!(
        completeness.contains(&format!(
            "Dispenseret til 1. februar 2027 (dispensation {requirement})"
        )),
        "{completeness}"
    );
    assert!(completeness.contains("1 ikke opfyldt, men dispenseret."));

    // Near the expiry the dashboard counts it; the annual report and the evidence list them.
    app.handle().clock.set(at("2027-01-10T10:00:00Z"));
    let (_, dashboard) = coordinator.page("/plans/example-kommune/dashboard").await;
    assert_eq!(figure(&dashboard, "fig-expiring"), "1");
    let (_, report) = coordinator.page("/plans/example-kommune/report/2026").await;
    assert!(
        report.contains("I året blev 2 dispensationer givet, 0 forlænget, 0 afvist, og 0 udløb."),
        "{report}"
    );
    assert!(report.contains("id=\"a-dispensations-active\""));
    let evidence = coordinator
        .get("/plans/example-kommune/evidence")
        .await
        .text()
        .await
        .unwrap();
    assert!(evidence.contains("id=\"e-dispensations\""));
    assert!(evidence.contains("godkendt til 31. marts 2027"));
}

/// `POST path` with `body` as JSON, in `who`'s session.
async fn post(who: &TestApp, path: String, body: serde_json::Value) -> reqwest::Response {
    let csrf = who.csrf().await;
    who.client
        .post(format!("{}{path}", who.address))
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_api_asks_lists_and_decides_with_the_same_rules() {
    let app = TestApp::spawn_at(at("2026-12-04T10:00:00Z")).await;
    let base = "/api/v1/plans/example-kommune/dispensations".to_string();
    let body = serde_json::json!({
        "subject": {"kind": "finding", "code": "supplier-restore-exceeds-rto", "systems": ["esdh"]},
        "justification": "Kontrakten genforhandles i 2027",
        "until": "2027-06-01",
    });
    let owner = app.signed_in("jesper-moeller").await;
    assert_eq!(post(&owner, base.clone(), body.clone()).await.status(), 403);
    let coordinator = app.signed_in("lars-nielsen").await;
    let too_far = serde_json::json!({"subject": body["subject"], "justification": "x", "until": "2099-01-01"});
    let refused = post(&coordinator, base.clone(), too_far).await;
    assert_eq!(refused.status(), 422);
    let error: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        error["error"],
        "A dispensation can hold for at most 12 months ahead."
    );
    let created = post(&coordinator, base.clone(), body).await;
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    assert_eq!(created["state"], "requested");
    let id = created["id"].as_i64().unwrap();
    let decision = format!("{base}/{id}/decision");
    let approve = serde_json::json!({"approve": true, "until": "2027-06-01", "comment": "OK"});
    assert_eq!(
        post(&coordinator, decision.clone(), approve.clone())
            .await
            .status(),
        403
    );
    let approver = app.signed_in("mette-holm").await;
    let missing = post(
        &approver,
        decision.clone(),
        serde_json::json!({"approve": true}),
    )
    .await;
    assert_eq!(missing.status(), 422);
    let decided = post(&approver, decision, approve).await;
    assert_eq!(decided.status(), 200);
    let decided: serde_json::Value = decided.json().await.unwrap();
    assert_eq!(decided["state"], "approved");
    assert_eq!(decided["expires_on"], "2027-06-01");
    assert_eq!(decided["decisions"][0]["by"], "mette-holm");
    let list: serde_json::Value = owner.get(&base).await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(owner.get(&format!("{base}/999")).await.status(), 404);
    let document: serde_json::Value = owner
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/plans/{plan}/dispensations",
        "/plans/{plan}/dispensations/{id}/decision",
    ] {
        assert!(
            document["paths"][path].is_object(),
            "{path} in the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn validate_marks_what_a_dispensation_in_the_database_accepts() {
    let db = helpers::sqlite_db();
    let url = db.url.clone();
    let mut server = helpers::spawn_app(&url, &helpers::plans()).await;
    server.keep_db(db);
    let app = server.handle().clone();
    let plan = app
        .plan(&PlanId::parse(PLAN).unwrap())
        .await
        .unwrap()
        .unwrap();
    let coordinator = actor("lars-nielsen", AccessRole::Coordinator);
    let until = helpers::today() + chrono::Duration::days(90);
    let mut new = request(
        "lars-nielsen",
        "esdh",
        Code::SupplierRestoreExceedsRto,
        "2000-01-01",
    );
    new.requested_until = until;
    let id = app
        .request_dispensation(&plan, &coordinator, new)
        .await
        .unwrap();
    let approver = actor("mette-holm", AccessRole::Approver);
    app.decide_dispensation(&plan, &approver, id, Some(until), "")
        .await
        .unwrap();
    let dir = helpers::example_plan();
    let dir = dir.to_str().unwrap();
    let with = helpers::beredskab(&["validate", dir, "--format", "json", "--database-url", &url]);
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&with.stdout).unwrap();
    let esdh = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "supplier-restore-exceeds-rto")
        .unwrap();
    assert_eq!(esdh["accepted"]["dispensation"], id);
    assert_eq!(esdh["accepted"]["until"], until.to_string());
    let text = helpers::beredskab(&["validate", dir, "--database-url", &url]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(&format!("accepted until {until} (dispensation {id})")),
        "{text}"
    );
    assert!(text.contains("1 accepted"), "{text}");
    // A folder alone is unchanged.
    let alone = helpers::beredskab(&["validate", dir, "--format", "json"]);
    assert!(
        !String::from_utf8(alone.stdout)
            .unwrap()
            .contains("accepted")
    );
    server.stop().await;
}
