use chrono::NaiveDate;

use super::*;
use crate::domain::plan::*;

fn d(text: &str) -> Duration {
    Duration::parse(text).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

fn role(id: &str) -> Role {
    Role {
        id: RoleId::parse(id).unwrap(),
        name: id.to_string(),
        responsibilities: String::new(),
    }
}

fn person(id: &str, roles: &[&str]) -> Person {
    Person {
        id: PersonId::parse(id).unwrap(),
        name: id.to_string(),
        title: String::new(),
        email: format!("{id}@example.org"),
        phone: String::new(),
        roles: roles.iter().map(|r| RoleId::parse(r).unwrap()).collect(),
    }
}

/// A system that raises no finding on its own: owned, reviewed, one step, RTO within MTPD.
fn system(id: &str, rto: &str, deps: &[&str]) -> System {
    System {
        id: SystemId::parse(id).unwrap(),
        name: id.to_uppercase(),
        description: String::new(),
        owner: Some(PersonId::parse("owner").unwrap()),
        deputy: None,
        criticality: Criticality::new(2).unwrap(),
        rto: Some(d(rto)),
        rpo: Some(d("1h")),
        mtpd: Some(d("4w")),
        depends_on: deps.iter().map(|s| SystemId::parse(s).unwrap()).collect(),
        supplier: None,
        workaround: String::new(),
        recovery_steps: vec![RecoveryStep {
            text: "restart".into(),
            role: RoleId::parse("tech").unwrap(),
            duration: d("1h"),
        }],
        verification: String::new(),
        last_reviewed: Some(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()),
        reviewed_by: None,
        review_interval: None,
        impact: vec![],
    }
}

/// power ← network ← ad ← esdh, and ad ← mail: RTOs shrink towards the bottom.
/// A moment written in RFC 3339, for tests.
pub(crate) fn utc(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

pub(crate) fn plan() -> Plan {
    Plan {
        id: PlanId::parse("test").unwrap(),
        name: "Test".into(),
        organisation: "Test Kommune".into(),
        owner_role: RoleId::parse("coordinator").unwrap(),
        approver_role: RoleId::parse("chief").unwrap(),
        review_interval: d("52w"),
        exercise_interval: d("52w"),
        alert_escalation_minutes: 10,
        call_tree_target_minutes: 15,
        dispensation_max_months: 12,
        sections: PlanSections::default(),
        roles: vec![role("chief"), role("coordinator"), role("tech")],
        people: vec![person("owner", &["tech"]), person("boss", &["chief"])],
        call_tree: vec![CallTreeEntry {
            person: PersonId::parse("boss").unwrap(),
            called_by: None,
            note: String::new(),
        }],
        channels: vec![],
        systems: vec![
            system("power", "1h", &[]),
            system("network", "2h", &["power"]),
            system("ad", "4h", &["network"]),
            system("esdh", "1d", &["ad", "network"]),
            system("mail", "8h", &["ad"]),
        ],
    }
}

fn sys<'a>(plan: &'a mut Plan, id: &str) -> &'a mut System {
    plan.systems
        .iter_mut()
        .find(|s| s.id.as_str() == id)
        .unwrap()
}

fn findings(plan: &Plan, code: Code) -> Vec<Finding> {
    check(plan, today())
        .into_iter()
        .filter(|f| f.code == code)
        .collect()
}

fn ids(list: &[SystemId]) -> Vec<&str> {
    list.iter().map(SystemId::as_str).collect()
}

#[test]
fn the_test_plan_is_clean() {
    assert_eq!(check(&plan(), today()), vec![]);
}

#[test]
fn every_code_has_a_distinct_string_and_the_intended_severity() {
    let names: HashSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(names.len(), Code::ALL.len());
    assert_eq!(Code::RtoInversion.severity(), Severity::Warning);
    assert_eq!(Code::DependencyCycle.severity(), Severity::Error);
}

#[test]
fn unknown_dependency_is_an_error_with_a_suggestion() {
    let mut p = plan();
    sys(&mut p, "esdh")
        .depends_on
        .push(SystemId::parse("ad2").unwrap());
    let found = findings(&p, Code::UnknownDependency);
    assert_eq!(found.len(), 1);
    assert_eq!(ids(&found[0].systems), ["esdh"]);
    assert_eq!(found[0].field.as_deref(), Some("depends_on[2]"));
    assert_eq!(
        found[0].message,
        r#"unknown system "ad2" (did you mean "ad"?)"#
    );

    let mut far = plan();
    sys(&mut far, "esdh")
        .depends_on
        .push(SystemId::parse("sap").unwrap());
    assert_eq!(
        findings(&far, Code::UnknownDependency)[0].message,
        r#"unknown system "sap""#
    );
    assert!(findings(&plan(), Code::UnknownDependency).is_empty());
}

#[test]
fn dependency_cycle_lists_the_whole_cycle() {
    let mut p = plan();
    sys(&mut p, "power")
        .depends_on
        .push(SystemId::parse("ad").unwrap());
    let found = findings(&p, Code::DependencyCycle);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].message,
        "dependency cycle: power → ad → network → power"
    );
    assert_eq!(ids(&found[0].systems), ["power", "ad", "network"]);
    assert_eq!(found[0].field.as_deref(), Some("depends_on[0]"));
    assert!(findings(&plan(), Code::DependencyCycle).is_empty());
}

#[test]
fn a_system_depending_on_itself_is_a_cycle() {
    let mut p = plan();
    sys(&mut p, "mail")
        .depends_on
        .push(SystemId::parse("mail").unwrap());
    let found = findings(&p, Code::DependencyCycle);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "mail depends on itself");
    assert_eq!(ids(&found[0].systems), ["mail"]);
}

#[test]
fn duplicate_system_ids_are_an_error() {
    let mut p = plan();
    p.systems.push(system("ad", "4h", &[]));
    let found = findings(&p, Code::DuplicateSystem);
    assert_eq!(found.len(), 1);
    assert_eq!(ids(&found[0].systems), ["ad"]);
    assert!(findings(&plan(), Code::DuplicateSystem).is_empty());
}

#[test]
fn duplicate_people_and_roles_are_errors() {
    let mut p = plan();
    p.people.push(person("owner", &[]));
    p.roles.push(role("tech"));
    let found = findings(&p, Code::DuplicateId);
    let fields: Vec<&str> = found.iter().filter_map(|f| f.field.as_deref()).collect();
    assert_eq!(fields, ["people[2].id", "roles[3].id"]);
    assert!(findings(&plan(), Code::DuplicateId).is_empty());
}

#[test]
fn missing_owner_is_an_error() {
    let mut p = plan();
    sys(&mut p, "mail").owner = None;
    let found = findings(&p, Code::MissingOwner);
    assert_eq!(found.len(), 1);
    assert_eq!(ids(&found[0].systems), ["mail"]);
    assert!(findings(&plan(), Code::MissingOwner).is_empty());
}

#[test]
fn unknown_people_are_errors_wherever_they_are_named() {
    let mut p = plan();
    sys(&mut p, "mail").owner = Some(PersonId::parse("ownr").unwrap());
    sys(&mut p, "ad").deputy = Some(PersonId::parse("nobody").unwrap());
    p.call_tree[0].called_by = Some(PersonId::parse("ghost").unwrap());
    let found = findings(&p, Code::UnknownPerson);
    let fields: Vec<&str> = found.iter().filter_map(|f| f.field.as_deref()).collect();
    assert_eq!(fields, ["call_tree[0].called_by", "deputy", "owner"]);
    let owner = found
        .iter()
        .find(|f| f.field.as_deref() == Some("owner"))
        .unwrap();
    assert_eq!(
        owner.message,
        r#"unknown person "ownr" (did you mean "owner"?)"#
    );
    assert!(findings(&plan(), Code::UnknownPerson).is_empty());
}

#[test]
fn unknown_roles_are_errors() {
    let mut p = plan();
    sys(&mut p, "ad").recovery_steps[0].role = RoleId::parse("tec").unwrap();
    p.approver_role = RoleId::parse("ceo").unwrap();
    let found = findings(&p, Code::UnknownRole);
    let fields: Vec<&str> = found.iter().filter_map(|f| f.field.as_deref()).collect();
    assert_eq!(fields, ["approver_role", "recovery_steps[0].role"]);
    assert!(findings(&plan(), Code::UnknownRole).is_empty());
}

#[test]
fn rto_longer_than_mtpd_is_an_error_but_equal_is_fine() {
    let mut p = plan();
    sys(&mut p, "mail").mtpd = Some(d("4h"));
    let found = findings(&p, Code::RtoExceedsMtpd);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].message, "RTO (8h) is longer than the MTPD (4h)");
    sys(&mut p, "mail").mtpd = Some(d("8h"));
    assert!(findings(&p, Code::RtoExceedsMtpd).is_empty());
}

#[test]
fn rto_inversion_warns_on_the_dependent_and_names_both() {
    let mut p = plan();
    sys(&mut p, "ad").rto = Some(d("2d"));
    let found = findings(&p, Code::RtoInversion);
    let pairs: Vec<Vec<&str>> = found.iter().map(|f| ids(&f.systems)).collect();
    assert_eq!(pairs, [["esdh", "ad"], ["mail", "ad"]]);
    assert_eq!(
        found[1].message,
        r#"depends on "ad" whose RTO (2d) is longer than its own (8h)"#
    );
    assert_eq!(found[1].severity(), Severity::Warning);
    // Equal horizons are not an inversion.
    sys(&mut p, "ad").rto = Some(d("8h"));
    assert_eq!(findings(&p, Code::RtoInversion), vec![]);
}

#[test]
fn supplier_restore_longer_than_rto_warns() {
    let mut p = plan();
    sys(&mut p, "esdh").supplier = Some(Supplier {
        name: "Vendor".into(),
        contract_restore: Some(d("2d")),
        ..Supplier::default()
    });
    assert_eq!(findings(&p, Code::SupplierRestoreExceedsRto).len(), 1);
    sys(&mut p, "esdh")
        .supplier
        .as_mut()
        .unwrap()
        .contract_restore = Some(d("1d"));
    assert!(findings(&p, Code::SupplierRestoreExceedsRto).is_empty());
}

#[test]
fn critical_systems_without_steps_warn_but_less_critical_ones_do_not() {
    let mut p = plan();
    sys(&mut p, "mail").recovery_steps.clear();
    assert_eq!(
        ids(&findings(&p, Code::NoRecoverySteps)[0].systems),
        ["mail"]
    );
    sys(&mut p, "mail").criticality = Criticality::new(3).unwrap();
    assert!(findings(&p, Code::NoRecoverySteps).is_empty());
}

#[test]
fn review_overdue_after_the_interval_or_when_never_reviewed() {
    let mut p = plan();
    sys(&mut p, "mail").last_reviewed = NaiveDate::from_ymd_opt(2025, 11, 1);
    sys(&mut p, "ad").last_reviewed = None;
    let found = findings(&p, Code::ReviewOverdue);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].message, "the section has never been reviewed");
    assert_eq!(
        found[1].message,
        "last reviewed 2025-11-01, review was due 2026-10-31 (interval 52w)"
    );
    // A per-system interval overrides the plan's.
    sys(&mut p, "mail").review_interval = Some(d("60w"));
    sys(&mut p, "ad").last_reviewed = NaiveDate::from_ymd_opt(2026, 11, 28);
    assert!(findings(&p, Code::ReviewOverdue).is_empty());
}

#[test]
fn rto_after_unacceptable_impact_warns() {
    let mut p = plan();
    let impact = |after, level| ImpactStep {
        after: d(after),
        level,
        citizens: String::new(),
        staff: String::new(),
    };
    sys(&mut p, "esdh").impact = vec![
        impact("4h", ImpactLevel::Moderate),
        impact("12h", ImpactLevel::Unacceptable),
    ];
    let found = findings(&p, Code::RtoBeyondUnacceptableImpact);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].field.as_deref(), Some("impact[1].after"));
    sys(&mut p, "esdh").impact[1].after = d("1d");
    assert!(findings(&p, Code::RtoBeyondUnacceptableImpact).is_empty());
}

#[test]
fn impact_of_an_outage_follows_dependencies_upwards() {
    let p = plan();
    let a = assess(&p, Some(&[SystemId::parse("ad").unwrap()])).unwrap();
    assert_eq!(ids(&a.down), ["ad"]);
    assert_eq!(ids(&a.affected), ["ad", "esdh", "mail"]);
    let a = assess(&p, Some(&[SystemId::parse("mail").unwrap()])).unwrap();
    assert_eq!(ids(&a.affected), ["mail"]);
}

#[test]
fn unknown_down_systems_are_refused() {
    let err = assess(&plan(), Some(&[SystemId::parse("sap").unwrap()])).unwrap_err();
    assert_eq!(err.to_string(), r#"unknown system "sap""#);
}

#[test]
fn recovery_order_respects_dependencies_and_urgency() {
    let mut p = plan();
    // Two roots: "print" is urgent on its own; mail is more urgent than esdh.
    p.systems.push(system("print", "30m", &[]));
    let a = assess(&p, None).unwrap();
    assert_eq!(
        ids(&a.recovery_order),
        ["print", "power", "network", "ad", "mail", "esdh"]
    );
}

#[test]
fn a_slow_dependency_of_an_urgent_system_is_pulled_forward() {
    let mut p = plan();
    p.systems.push(system("archive", "1w", &[]));
    p.systems.push(system("tickets", "2w", &[]));
    sys(&mut p, "mail")
        .depends_on
        .push(SystemId::parse("archive").unwrap());
    let a = assess(&p, None).unwrap();
    let order = ids(&a.recovery_order);
    let pos = |id| order.iter().position(|x| *x == id).unwrap();
    assert!(pos("archive") < pos("esdh"), "{order:?}");
    assert_eq!(order.last(), Some(&"tickets"));
}

#[test]
fn earliest_recovery_adds_own_steps_after_dependencies() {
    let mut p = plan();
    sys(&mut p, "esdh").recovery_steps[0].duration = d("1d");
    let a = assess(&p, None).unwrap();
    let get = |id: &str| a.systems.iter().find(|s| s.id.as_str() == id).unwrap();
    // power 1h, network +1h, ad +1h, esdh +1d: 1d 3h, beyond its 1d RTO.
    assert_eq!(get("power").earliest_recovery, d("1h"));
    assert_eq!(get("ad").earliest_recovery, d("3h"));
    assert_eq!(get("esdh").earliest_recovery, d("1d 3h"));
    assert_eq!(get("esdh").feasible, Some(false));
    assert_eq!(get("mail").feasible, Some(true));

    // Only ad down: esdh is affected but needs no steps of its own.
    let a = assess(&p, Some(&[SystemId::parse("ad").unwrap()])).unwrap();
    let esdh = a.systems.iter().find(|s| s.id.as_str() == "esdh").unwrap();
    assert_eq!(esdh.earliest_recovery, d("1h"));
    assert_eq!(esdh.feasible, Some(true));
}

#[test]
fn required_rto_is_the_smallest_rto_above() {
    let a = assess(&plan(), None).unwrap();
    let get = |id: &str| a.systems.iter().find(|s| s.id.as_str() == id).unwrap();
    assert_eq!(get("power").required_rto, Some(d("2h")));
    assert_eq!(get("ad").required_rto, Some(d("8h")));
    assert_eq!(get("esdh").required_rto, None);
}

#[test]
fn a_cycle_does_not_stop_the_analysis() {
    let mut p = plan();
    sys(&mut p, "power")
        .depends_on
        .push(SystemId::parse("ad").unwrap());
    let a = assess(&p, None).unwrap();
    assert_eq!(a.recovery_order.len(), 5);
}

#[test]
fn a_very_deep_chain_is_analysed_without_recursion() {
    let mut p = plan();
    p.systems.clear();
    for i in 0..200_000 {
        let dep = (i > 0).then(|| format!("s{}", i - 1));
        let deps: Vec<&str> = dep.iter().map(String::as_str).collect();
        p.systems.push(system(&format!("s{i}"), "1h", &deps));
    }
    let a = assess(&p, Some(&[SystemId::parse("s0").unwrap()])).unwrap();
    assert_eq!(a.affected.len(), 200_000);
    assert_eq!(a.recovery_order[0].as_str(), "s0");
    assert!(check(&p, today()).is_empty());
}

#[test]
fn a_phone_number_no_sms_can_reach_is_a_warning_about_that_person() {
    let mut p = plan();
    p.people[0].phone = "72 36 41 00".into();
    assert!(
        findings(&p, Code::InvalidPhone).is_empty(),
        "8 Danish digits"
    );
    p.people[0].phone = "+46 8 123 456 78".into();
    assert!(
        findings(&p, Code::InvalidPhone).is_empty(),
        "a Swedish number"
    );
    p.people[0].phone = "lokal 4100".into();
    let found = findings(&p, Code::InvalidPhone);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].field.as_deref(), Some("people[0].phone"));
    assert_eq!(found[0].code.severity(), Severity::Warning);
    assert!(
        found[0].message.contains("\"lokal 4100\""),
        "{}",
        found[0].message
    );
    p.people[0].phone = String::new();
    assert!(
        findings(&p, Code::InvalidPhone).is_empty(),
        "no number is not a wrong one"
    );
}
