//! The runbook as the incident lead reads it — when to activate, whom to call, and per system
//! the workaround, the recovery steps, the check that it is back and the supplier — for the
//! page and for the self-contained file that works when the server does not.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{Result, Templates, dur, i18n, person_name, tel};
use crate::domain::{Duration, Plan, PlanId, analysis};

/// The plan a runbook shows: an approved version (and whether the draft has changed since it),
/// or the draft when nothing is approved yet (`approved` `None`).
pub struct Shown<'a> {
    pub plan: &'a Plan,
    pub approved: Option<Approved<'a>>,
    pub draft_changed: bool,
}

/// An approved version: its number, who approved it and when.
pub struct Approved<'a> {
    pub number: i32,
    pub by: &'a str,
    pub on: NaiveDate,
}

/// Everything the runbook shows, for its templates. `offline` leaves out links to this server.
pub fn data(shown: &Shown, lang: &str, offline: bool) -> Value {
    let plan = shown.plan;
    let role_name = |id: &crate::domain::RoleId| {
        plan.roles
            .iter()
            .find(|r| &r.id == id)
            .map_or(id.to_string(), |r| r.name.clone())
    };
    // In the order a full outage is recovered in: what others depend on first.
    let order: Vec<&crate::domain::System> = match analysis::assess(plan, None) {
        Ok(a) => a
            .recovery_order
            .iter()
            .filter_map(|id| plan.system(id.as_str()))
            .collect(),
        Err(_) => plan.systems.iter().collect(),
    };
    let systems: Vec<Value> = order
        .iter()
        .map(|s| {
            let total = s
                .recovery_steps
                .iter()
                .fold(Duration::ZERO, |sum, st| sum.saturating_add(st.duration));
            json!({
                "id": s.id,
                "name": s.name,
                "crit": s.criticality.level(),
                "rto": dur(s.rto, lang),
                "rpo": dur(s.rpo, lang),
                "mtpd": dur(s.mtpd, lang),
                "owner": person_name(plan, s.owner.as_ref()),
                "deputy": person_name(plan, s.deputy.as_ref()),
                "depends_on": s.depends_on.iter().map(|d| json!({
                    "id": d,
                    "name": plan.system(d.as_str()).map_or(d.as_str(), |x| x.name.as_str()),
                })).collect::<Vec<_>>(),
                "workaround": s.workaround,
                "steps": s.recovery_steps.iter().map(|st| json!({
                    "text": st.text,
                    "role": role_name(&st.role),
                    "duration": i18n::duration(st.duration, lang),
                })).collect::<Vec<_>>(),
                "steps_total": i18n::duration(total, lang),
                "verification": s.verification,
                "supplier": s.supplier.as_ref().map(|x| json!({
                    "name": x.name, "contact": x.contact, "phone": x.phone, "tel": tel(&x.phone),
                    "email": x.email, "restore": dur(x.contract_restore, lang),
                })),
                "impact": s.impact.iter().map(|row| json!({
                    "after": i18n::duration(row.after, lang),
                    "level": row.level.as_str(),
                    "level_key": format!("impact.{}", row.level.as_str()),
                    "citizens": row.citizens,
                    "staff": row.staff,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let name_of = |id: &crate::domain::PersonId| {
        plan.person(id.as_str())
            .map_or(id.to_string(), |p| p.name.clone())
    };
    let s = &plan.sections;
    json!({
        "offline": offline,
        "plan": {"id": plan.id, "name": plan.name, "organisation": plan.organisation},
        "version": shown.approved.as_ref().map(|v| json!({
            "number": v.number,
            "approved_by": v.by,
            "approved_on": i18n::date(v.on, lang),
        })),
        "draft_changed": shown.draft_changed,
        "activation": s.activation_criteria,
        "stand_down": s.stand_down_criteria,
        "return_to_normal": s.return_to_normal,
        "incident_handling": s.incident_handling,
        "backups": s.backups,
        "resources": s.resources,
        "call_tree": plan.call_tree.iter().map(|c| {
            let mut p = person_name(plan, Some(&c.person));
            p["called_by"] = json!(c.called_by.as_ref().map(name_of));
            p["note"] = json!(c.note);
            p
        }).collect::<Vec<_>>(),
        "channels": plan.channels,
        "people": plan.people.iter().map(|p| {
            let mut v = person_name(plan, Some(&p.id));
            v["roles"] = json!(p.roles.iter().map(role_name).collect::<Vec<_>>().join(", "));
            v
        }).collect::<Vec<_>>(),
        "systems": systems,
    })
}

/// The runbook as one self-contained HTML file.
pub fn offline(
    templates: &Templates,
    shown: &Shown,
    lang: &str,
    today: NaiveDate,
) -> Result<String> {
    let mut data = data(shown, lang, true);
    let plan = shown.plan;
    let systems: Vec<&crate::domain::System> = plan.systems.iter().collect();
    let findings = analysis::check(plan, today);
    let title = templates.text(lang, "picture.title");
    data["picture"] = json!(super::picture::svg(
        &systems, &findings, None, &title, None, lang
    ));
    data["neighbours"] = super::picture::neighbourhoods(&systems, &|id| format!("#sys-{id}"));
    data["css"] = json!(super::static_text("app.css"));
    data["generated"] = json!(i18n::date(today, lang));
    templates.fragment("runbook_export", lang, data)
}

/// The file name of a plan's offline runbook.
pub fn file_name(plan: &PlanId) -> String {
    format!("beredskabsplan-{plan}.html")
}
