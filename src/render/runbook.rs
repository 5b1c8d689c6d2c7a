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

/// The name of the Word file of a plan's runbook.
pub fn docx_file_name(plan: &PlanId) -> String {
    format!("beredskabsplan-{plan}.docx")
}

/// A person as the runbook names them: name, title, phone and e-mail.
fn who(person: &Value) -> String {
    let Some(name) = person["name"].as_str() else {
        return "—".to_string();
    };
    let mut out = name.to_string();
    if let Some(title) = person["title"].as_str().filter(|t| !t.is_empty()) {
        out.push_str(&format!(", {title}"));
    }
    for key in ["phone", "email"] {
        if let Some(v) = person[key].as_str().filter(|v| !v.is_empty()) {
            out.push_str(&format!(" · {v}"));
        }
    }
    out
}

fn text_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The runbook as a Word document laid out for print: a title page with the version and its
/// approval, the table of contents, activation, the call tree, stand-down, each system in
/// recovery order (horizons, people, workaround, steps, check, supplier, impact table), and the
/// people.
pub fn docx(templates: &Templates, shown: &Shown, lang: &str, today: NaiveDate) -> Result<Vec<u8>> {
    use super::document::Document;
    let d = data(shown, lang, true);
    let t = |key: &str| templates.text(lang, key);
    let plan_name = text_of(&d["plan"]["name"]);
    let title = format!("{}: {plan_name}", t("runbook.title"));
    let mut lines = vec![text_of(&d["plan"]["organisation"]).to_string()];
    match d["version"].as_object() {
        Some(v) => {
            lines.push(
                t("runbook.version")
                    .replace("{number}", &v["number"].to_string())
                    .replace("{by}", text_of(&v["approved_by"]))
                    .replace("{on}", text_of(&v["approved_on"])),
            );
            if shown.draft_changed {
                lines.push(t("runbook.draft_changed"));
            }
        }
        None => lines.push(t("runbook.no_version")),
    }
    lines.push(t("document.printed").replace("{date}", &i18n::date(today, lang)));
    let mut doc = Document::new(plan_name, &t("document.page"), &t("document.of"))
        .title_page(&title, &lines)
        .contents(&t("runbook.toc"));

    doc = doc.heading(1, &t("runbook.activation"), false);
    let activation = strings(&d["activation"]);
    doc = if activation.is_empty() {
        doc.paragraph(&t("runbook.none"))
    } else {
        doc.list(&activation, false)
    };
    if let Some(text) = d["incident_handling"].as_str().filter(|s| !s.is_empty()) {
        doc = doc
            .heading(2, &t("sections.incident_handling"), false)
            .paragraphs(text);
    }

    doc = doc.heading(1, &t("runbook.call_tree"), true);
    let calls: Vec<Vec<String>> = d["call_tree"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| {
            let by = c["called_by"]
                .as_str()
                .map_or(t("runbook.called_first"), |n| {
                    t("runbook.called_by").replace("{name}", n)
                });
            let note = text_of(&c["note"]);
            vec![
                (i + 1).to_string(),
                who(c),
                if note.is_empty() {
                    by
                } else {
                    format!("{by} · {note}")
                },
            ]
        })
        .collect();
    doc = if calls.is_empty() {
        doc.paragraph(&t("runbook.none"))
    } else {
        doc.table(
            &[
                t("document.number"),
                t("document.person"),
                t("document.called"),
            ],
            &calls,
            &[1, 8, 5],
        )
    };
    let channels: Vec<String> = d["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let purpose = text_of(&c["purpose"]);
            let mut line = format!("{}: {}", text_of(&c["name"]), text_of(&c["detail"]));
            if !purpose.is_empty() {
                line.push_str(&format!(" ({purpose})"));
            }
            line
        })
        .collect();
    if !channels.is_empty() {
        doc = doc
            .heading(2, &t("runbook.channels"), false)
            .list(&channels, false);
    }

    doc = doc.heading(1, &t("runbook.stand_down"), true);
    doc = doc.list(&strings(&d["stand_down"]), false);
    for (key, field) in [
        ("sections.return_to_normal", "return_to_normal"),
        ("sections.backups", "backups"),
    ] {
        if let Some(text) = d[field].as_str().filter(|s| !s.is_empty()) {
            doc = doc.heading(2, &t(key), false).paragraphs(text);
        }
    }

    doc = doc
        .heading(1, &t("runbook.systems"), true)
        .paragraph(&t("runbook.systems_help"));
    let none = t("system.none");
    for (i, s) in d["systems"].as_array().into_iter().flatten().enumerate() {
        let or_dash = |v: &Value| v.as_str().unwrap_or("—").to_string();
        doc = doc
            .heading(
                2,
                &format!("{}. {} ({})", i + 1, text_of(&s["name"]), text_of(&s["id"])),
                i > 0,
            )
            .strong(&format!(
                "{} {} · RTO {} · RPO {} · MTPD {}",
                t("system.crit"),
                s["crit"],
                or_dash(&s["rto"]),
                or_dash(&s["rpo"]),
                or_dash(&s["mtpd"]),
            ));
        let depends: Vec<&str> = s["depends_on"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| text_of(&x["name"]))
            .collect();
        doc = doc.table(
            &[t("document.what"), t("document.who")],
            &[
                vec![t("system.owner"), who(&s["owner"])],
                vec![t("system.deputy"), who(&s["deputy"])],
                vec![
                    t("system.depends_on"),
                    if depends.is_empty() {
                        none.clone()
                    } else {
                        depends.join(", ")
                    },
                ],
            ],
            &[3, 10],
        );
        doc = doc.heading(3, &t("system.workaround"), false);
        doc = match s["workaround"].as_str().filter(|w| !w.is_empty()) {
            Some(w) => doc.paragraphs(w),
            None => doc.paragraph(&none),
        };
        doc = doc.heading(3, &t("system.steps"), false);
        let steps: Vec<String> = s["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|st| {
                format!(
                    "{}\n{} · {}",
                    super::paragraphs_of(text_of(&st["text"])).join("\n"),
                    text_of(&st["role"]),
                    text_of(&st["duration"])
                )
            })
            .collect();
        doc = if steps.is_empty() {
            doc.paragraph(&t("system.no_steps"))
        } else {
            doc.list(&steps, true)
                .meta(&t("system.steps_total").replace("{total}", text_of(&s["steps_total"])))
        };
        if let Some(v) = s["verification"].as_str().filter(|v| !v.is_empty()) {
            doc = doc
                .heading(3, &t("system.verification"), false)
                .paragraphs(v);
        }
        doc = doc.heading(3, &t("system.supplier"), false);
        doc = match s["supplier"].as_object() {
            Some(x) => {
                let mut line = text_of(&x["name"]).to_string();
                for key in ["contact", "phone", "email"] {
                    if let Some(v) = x[key].as_str().filter(|v| !v.is_empty()) {
                        line.push_str(&format!(" · {v}"));
                    }
                }
                let doc = doc.paragraph(&line);
                match x["restore"].as_str() {
                    Some(r) => doc.paragraph(&t("system.contract_restore").replace("{restore}", r)),
                    None => doc,
                }
            }
            None => doc.paragraph(&none),
        };
        doc = doc.heading(3, &t("system.impact"), false);
        let impact: Vec<Vec<String>> = s["impact"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|row| {
                vec![
                    text_of(&row["after"]).to_string(),
                    t(text_of(&row["level_key"])),
                    text_of(&row["citizens"]).to_string(),
                    text_of(&row["staff"]).to_string(),
                ]
            })
            .collect();
        doc = if impact.is_empty() {
            doc.paragraph(&t("system.no_impact"))
        } else {
            doc.table(
                &[
                    t("system.impact_after"),
                    t("system.impact_level"),
                    t("system.impact_citizens"),
                    t("system.impact_staff"),
                ],
                &impact,
                &[2, 3, 6, 6],
            )
        };
    }

    doc = doc.heading(1, &t("runbook.people"), true);
    let people: Vec<Vec<String>> = d["people"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            vec![
                text_of(&p["name"]).to_string(),
                text_of(&p["title"]).to_string(),
                [text_of(&p["phone"]), text_of(&p["email"])]
                    .iter()
                    .filter(|v| !v.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join("\n"),
                text_of(&p["roles"]).to_string(),
            ]
        })
        .collect();
    doc.table(
        &[
            t("document.person"),
            t("document.title"),
            t("document.contact"),
            t("document.roles"),
        ],
        &people,
        &[4, 4, 5, 4],
    )
    .finish()
}
