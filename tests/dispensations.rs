//! Dispensations through the application on both databases, on a fixed clock: a system owner
//! asks for their own system's finding (not for another's), only the approver decides, the
//! finding is accepted until the expiry and open again the day after, a renewal keeps the
//! history, and each act is audited.

mod helpers;

use beredskab::app::Error;
use beredskab::domain::access::{AccessRole, Actor};
use beredskab::domain::dispensation::{self, State, Subject};
use beredskab::domain::{Code, PlanId, SystemId};
use beredskab::store::dispensations::NewRequest;
use chrono::NaiveDate;

fn actor(username: &str, role: AccessRole, person: Option<&str>) -> Actor {
    Actor {
        username: username.into(),
        administrator: false,
        roles: vec![role],
        person: person.map(str::to_string),
    }
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn request(system: &str, code: Code, until: &str) -> NewRequest {
    NewRequest {
        plan_id: "example-kommune".into(),
        subject: Subject::Finding {
            code,
            systems: vec![SystemId::parse(system).unwrap()],
        },
        justification: "Kontrakten genforhandles i 2027 <script>".into(),
        compensating: "Manuel nødprocedure testet hver måned".into(),
        consequence: "Nyt budget før tid".into(),
        solution: "Ny kontrakt".into(),
        solution_on: Some(day("2027-05-01")),
        requested_until: day(until),
        requested_by: "jesper-moeller".into(),
    }
}

#[tokio::test]
async fn a_dispensation_is_asked_for_decided_by_the_approver_and_expires() {
    for db in helpers::databases().await {
        let zone = beredskab::config::Config::default().time_zone;
        let at: chrono::DateTime<chrono::Utc> = "2026-12-04T10:00:00Z".parse().unwrap();
        let clock = beredskab::app::Clock::fixed(zone, at);
        let mut server =
            helpers::spawn_app_on_clock(&db.url, &helpers::plans(), |_| {}, clock).await;
        let backend = db.backend;
        server.keep_db(db);
        let app = server.handle().clone();
        let plan = app
            .plan(&PlanId::parse("example-kommune").unwrap())
            .await
            .unwrap()
            .unwrap();
        // Jesper Møller owns vmware, not esdh.
        let owner = actor(
            "jesper-moeller",
            AccessRole::SystemOwner,
            Some("jesper-moeller"),
        );
        let refused = app
            .request_dispensation(
                &plan,
                &owner,
                request("esdh", Code::SupplierRestoreExceedsRto, "2027-06-01"),
            )
            .await;
        assert!(
            matches!(refused, Err(Error::Forbidden)),
            "{backend}: another's system"
        );
        let error = app
            .request_dispensation(
                &plan,
                &owner,
                request("vmware", Code::DependencyCycle, "2027-06-01"),
            )
            .await;
        assert!(matches!(
            error,
            Err(Error::Invalid("dispensation.not_dispensable"))
        ));
        let far = app
            .request_dispensation(
                &plan,
                &owner,
                request("vmware", Code::NoRecoverySteps, "2028-01-01"),
            )
            .await;
        assert!(matches!(
            far,
            Err(Error::Invalid("dispensation.expiry_too_far"))
        ));
        let id = app
            .request_dispensation(
                &plan,
                &owner,
                request("vmware", Code::NoRecoverySteps, "2027-06-01"),
            )
            .await
            .unwrap();
        // Only the approver decides.
        let coordinator = actor(
            "lars-nielsen",
            AccessRole::Coordinator,
            Some("lars-nielsen"),
        );
        assert!(matches!(
            app.decide_dispensation(&plan, &coordinator, id, Some(day("2027-06-01")), "")
                .await,
            Err(Error::Forbidden)
        ));
        let approver = actor("mette-holm", AccessRole::Approver, Some("mette-holm"));
        let d = app
            .decide_dispensation(
                &plan,
                &approver,
                id,
                Some(day("2027-06-01")),
                "Til kontrakten er på plads",
            )
            .await
            .unwrap();
        assert_eq!(d.state(day("2026-12-04")), State::Approved);
        assert_eq!(
            d.justification, "Kontrakten genforhandles i 2027 <script>",
            "kept as written"
        );
        let finding = beredskab::domain::Finding::new(
            Code::NoRecoverySteps,
            vec![SystemId::parse("vmware").unwrap()],
            None,
            String::new(),
        );
        let all = beredskab::store::dispensations::of_plan(&app.db, "example-kommune")
            .await
            .unwrap();
        assert_eq!(all.len(), 1, "{backend}: the refused requests left nothing");
        let mut findings = [finding];
        dispensation::accept(&mut findings, &all, day("2027-06-01"));
        assert_eq!(findings[0].accepted.map(|a| a.dispensation), Some(id));
        dispensation::accept(&mut findings, &all, day("2027-06-02"));
        assert!(findings[0].accepted.is_none());
        // Renewed: a second decision, the first kept.
        let d = app
            .decide_dispensation(&plan, &approver, id, Some(day("2027-11-01")), "Forlænget")
            .await
            .unwrap();
        assert_eq!(d.decisions.len(), 2);
        assert_eq!(d.expires_on(), Some(day("2027-11-01")));
        // Withdrawn by its requester; another owner may not.
        let other = actor(
            "sofie-andersen",
            AccessRole::SystemOwner,
            Some("sofie-andersen"),
        );
        assert!(matches!(
            app.withdraw_dispensation(&plan, &other, id).await,
            Err(Error::Forbidden)
        ));
        assert!(app.withdraw_dispensation(&plan, &owner, id).await.unwrap());
        assert!(
            !app.withdraw_dispensation(&plan, &owner, id).await.unwrap(),
            "once"
        );
        assert!(matches!(
            app.decide_dispensation(&plan, &approver, id, Some(day("2027-11-01")), "")
                .await,
            Err(Error::Invalid("dispensation.closed"))
        ));
        // Each act audited.
        let actions: Vec<String> = beredskab::store::audit::query(&app.db, &Default::default())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .filter(|a| a.starts_with("dispensation-"))
            .collect();
        for action in [
            "dispensation-request",
            "dispensation-approve",
            "dispensation-renew",
            "dispensation-withdraw",
        ] {
            assert!(
                actions.iter().any(|a| a == action),
                "{backend}: {action} in {actions:?}"
            );
        }
        // Reminders are claimed once per decision and day count.
        let decision = beredskab::store::dispensations::standing_decision(&app.db, id)
            .await
            .unwrap()
            .unwrap();
        let now = chrono::Utc::now();
        assert!(
            beredskab::store::dispensations::claim_reminder(&app.db, id, decision, 30, now)
                .await
                .unwrap()
        );
        assert!(
            !beredskab::store::dispensations::claim_reminder(&app.db, id, decision, 30, now)
                .await
                .unwrap()
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn an_owner_asks_on_the_register_page_and_the_approver_decides_there() {
    let app = helpers::TestApp::spawn().await;
    let owner = app.signed_in("jesper-moeller").await;
    let (status, page) = owner.page("/plans/example-kommune/dispensations").await;
    assert_eq!(status, 200);
    assert!(page.contains("Planen har ingen dispensationer."));
    // Jesper is offered his own systems' warnings only.
    assert!(
        page.contains("value=\"finding:not-exercised|vmware\""),
        "{page}"
    );
    assert!(!page.contains("value=\"finding:supplier-restore-exceeds-rto|esdh\""));
    let until = (helpers::today() + chrono::Duration::days(90)).to_string();
    let response = owner
        .post_form(
            "/plans/example-kommune/dispensations",
            &[
                ("subject", "finding:supplier-restore-exceeds-rto|esdh"),
                ("justification", "x"),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 403, "not his system");
    let response = owner
        .post_form(
            "/plans/example-kommune/dispensations",
            &[
                ("subject", "finding:not-exercised|vmware"),
                ("justification", ""),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Skriv begrundelsen")
    );
    let response = owner
        .post_form(
            "/plans/example-kommune/dispensations",
            &[
                ("subject", "finding:not-exercised|vmware"),
                ("justification", "Øvelsen er flyttet til marts <b>"),
                ("compensating", "Gendannelsen testes teknisk hver måned"),
                ("until", &until),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = owner.page("/plans/example-kommune/dispensations").await;
    assert!(page.contains("Anmodet"));
    assert!(
        page.contains("Øvelsen er flyttet til marts &lt;b&gt;"),
        "shown as text"
    );
    assert!(!page.contains("/decision\""), "the owner does not decide");
    let approver = app.signed_in("mette-holm").await;
    let (_, page) = approver.page("/plans/example-kommune/dispensations").await;
    let id = page[page.find("id=\"dispensation-").unwrap() + 17..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let response = approver
        .post_form(
            &format!("/plans/example-kommune/dispensations/{id}/decision"),
            &[
                ("decision", "approve"),
                ("until", &until),
                ("comment", "OK til marts"),
            ],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let (_, page) = owner.page("/plans/example-kommune/dispensations").await;
    assert!(page.contains("Godkendt"), "{page}");
    assert!(page.contains("OK til marts"));
}
