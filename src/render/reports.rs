//! The reports as Word documents, from the data their pages show: the annual report for the
//! committee's agenda (its charts as pictures), a drill's after-action report and an incident's
//! report, to file with the minutes.

use serde_json::Value;

use super::document::Document;
use super::{Result, Templates};

/// The locale strings of one language, said as the `t` helper says them in templates.
struct Say<'a> {
    templates: &'a Templates,
    lang: &'a str,
}

impl Say<'_> {
    fn t(&self, key: &str) -> String {
        self.templates.text(self.lang, key)
    }

    /// `{{t key n=… name=…}}`: `{n}` counted (`key_one` for one), each `{name}` filled in.
    fn said(&self, key: &str, count: Option<&Value>, values: &[(&str, &Value)]) -> String {
        let mut text = match count {
            Some(c) => self.templates.counted(
                self.lang,
                key,
                usize::try_from(c.as_u64().unwrap_or(0)).unwrap_or(usize::MAX),
            ),
            None => self.t(key),
        };
        for (name, value) in values {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            text = text.replace(&format!("{{{name}}}"), &value);
        }
        text
    }

    /// A label the page writes after a figure ("36 systemer, der …"), as a label of its own.
    fn label(&self, key: &str) -> String {
        let text = self.t(key);
        let mut chars = text.chars();
        chars.next().map_or(String::new(), |c| {
            c.to_uppercase().chain(chars).collect::<String>()
        })
    }

    /// "ja", "nej" or "–" for a yes/no the page may not know.
    fn yes_no(&self, v: &Value) -> String {
        match v.as_bool() {
            Some(true) => self.t("drill.yes"),
            Some(false) => self.t("drill.no"),
            None => "–".to_string(),
        }
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

fn rows(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// The action items of a drill or incident, each with its owner and deadline.
fn actions(doc: Document, say: &Say, items: &Value) -> Document {
    let doc = doc.heading(1, &say.t("action.title"), false);
    let items: Vec<String> = rows(items)
        .iter()
        .map(|a| {
            let mut line = format!(
                "{} · {} · {}",
                text(&a["title"]),
                text(&a["owner"]),
                text(&a["due"])
            );
            if a["done"] == true {
                line.push_str(&format!(" – {}", say.t("action.done")));
            } else if a["overdue"] == true {
                line.push_str(&format!(" – {}", say.t("action.overdue")));
            }
            line
        })
        .collect();
    if items.is_empty() {
        doc.paragraph(&say.t("action.none"))
    } else {
        doc.list(&items, false)
    }
}

/// The timeline: when, who, what.
fn timeline(doc: Document, say: &Say, items: &Value) -> Document {
    let doc = doc.heading(1, &say.t("drill.timeline"), false);
    let lines: Vec<Vec<String>> = rows(items)
        .iter()
        .map(|e| {
            // Done on a phone without a connection: when it arrived, beside when it happened.
            let at = match e["synced"].as_str() {
                Some(synced) => format!("{} ({synced})", text(&e["at"])),
                None => text(&e["at"]),
            };
            vec![at, text(&e["author"]), text(&e["text"])]
        })
        .collect();
    if lines.is_empty() {
        doc.paragraph(&say.t("drill.no_notes"))
    } else {
        doc.table(
            &[
                say.t("document.when"),
                say.t("document.who"),
                say.t("document.what_happened"),
            ],
            &lines,
            &[3, 3, 10],
        )
    }
}

/// The heading of a drill's or incident's systems, with how many met their RTO.
fn rto_heading(doc: Document, say: &Say, d: &Value) -> Document {
    doc.heading(1, &say.t("document.systems"), false)
        .paragraph(&say.said(
            "drill.rto_summary",
            None,
            &[
                ("met", &d["rto_met"]),
                ("missed", &d["rto_missed"]),
                ("unknown", &d["rto_unknown"]),
            ],
        ))
}

/// Per system, its RTO and how long it took, with whether the RTO held.
fn rto_cell(say: &Say, took: &Value, met: &Value) -> String {
    let took = took.as_str().unwrap_or("—");
    match met.as_bool() {
        Some(true) => format!("{took} – {}", say.t("drill.rto_met")),
        Some(false) => format!("{took} – {}", say.t("drill.rto_missed")),
        None => took.to_string(),
    }
}

/// A drill's after-action report: the systems against their RTO, the call tree's test, the
/// injects, the evaluation, the action items and the timeline.
pub fn drill(templates: &Templates, d: &Value, lang: &str) -> Result<Vec<u8>> {
    let say = Say { templates, lang };
    let title = format!("{}: {}", say.t("drill.report"), text(&d["drill"]["title"]));
    let mut lines = vec![format!(
        "{} · {}",
        text(&d["plan"]["name"]),
        text(&d["occurrence"]["when"])
    )];
    if d["occurrence"]["closed"] != true {
        lines.push(say.t("drill.not_closed"));
    }
    let mut doc = Document::new(&title, &say.t("document.page"), &say.t("document.of"))
        .title_page(&title, &lines);
    doc = rto_heading(doc, &say, d);
    let systems: Vec<Vec<String>> = rows(&d["systems"])
        .iter()
        .map(|s| {
            vec![
                format!("{} ({})", text(&s["name"]), text(&s["id"])),
                s["rto"].as_str().unwrap_or("—").to_string(),
                rto_cell(&say, &s["recovery"], &s["rto_met"]),
                say.yes_no(&s["procedure_found"]),
                say.yes_no(&s["procedure_followed"]),
                text(&s["findings"]),
            ]
        })
        .collect();
    doc = doc.table(
        &[
            "System".to_string(),
            "RTO".to_string(),
            say.t("drill.recovery"),
            say.t("drill.found"),
            say.t("drill.followed"),
            say.t("drill.findings"),
        ],
        &systems,
        &[5, 2, 4, 2, 2, 6],
    );
    let tree = &d["call_tree"];
    if tree.is_object() {
        let people: Vec<Vec<String>> = rows(&tree["people"])
            .iter()
            .map(|p| {
                let after = if p["never"] == true {
                    say.t("drill.call_tree.never")
                } else if p["within"] == true {
                    text(&p["after"])
                } else {
                    format!(
                        "{} ({})",
                        text(&p["after"]),
                        say.said("drill.call_tree.over", None, &[("target", &tree["target"])])
                    )
                };
                let mut answer = text(&p["answer"]);
                if let Some(note) = p["note"].as_str().filter(|n| !n.is_empty()) {
                    answer.push_str(&format!(" · »{note}«"));
                }
                if p["no_channel"] == true {
                    answer.push_str(&say.t("alert.no_channel"));
                }
                for failed in rows(&p["failed"]) {
                    answer.push_str(&format!("\n{}", text(&failed)));
                }
                vec![text(&p["name"]), after, answer]
            })
            .collect();
        doc = doc
            .heading(1, &say.t("drill.call_tree.title"), false)
            .strong(&text(&tree["summary"]))
            .table(
                &[
                    say.t("drill.call_tree.person"),
                    say.t("drill.call_tree.after"),
                    say.t("drill.call_tree.answer"),
                ],
                &people,
                &[4, 4, 6],
            );
    }
    let injects: Vec<String> = rows(&d["injects"])
        .iter()
        .map(|i| {
            let played = if i["played"] == true {
                say.said("drill.played_at", None, &[("at", &i["played_at"])])
            } else {
                say.t("drill.not_played")
            };
            format!(
                "{} · {played}\n{}",
                say.said("drill.minute", Some(&i["minute"]), &[]),
                text(&i["text"])
            )
        })
        .collect();
    if !injects.is_empty() {
        doc = doc
            .heading(1, &say.t("drill.injects"), false)
            .list(&injects, true);
    }
    let e = &d["evaluation"];
    doc = doc.heading(1, &say.t("drill.evaluation"), false);
    for (key, field) in [
        ("drill.went_well", "went_well"),
        ("drill.went_badly", "went_badly"),
        ("drill.lessons", "lessons"),
    ] {
        let said = text(&e[field]);
        doc = doc
            .heading(2, &say.t(key), false)
            .paragraph(if said.is_empty() { "–" } else { &said });
    }
    doc = actions(doc, &say, &d["actions"]);
    timeline(doc, &say, &d["timeline"]).finish()
}

/// An incident's report: when it began, was stood down and closed, each system marked down
/// against its RTO, the action items and the timeline.
pub fn incident(templates: &Templates, d: &Value, lang: &str) -> Result<Vec<u8>> {
    let say = Say { templates, lang };
    let i = &d["incident"];
    let title = format!("{}: {}", say.t("incident.report"), text(&i["title"]));
    let mut lines = vec![
        text(&d["plan"]["name"]),
        say.said(
            "incident.since",
            None,
            &[("at", &i["started"]), ("by", &i["opened_by"])],
        ),
    ];
    if let Some(criterion) = i["criterion"].as_str().filter(|c| !c.is_empty()) {
        lines.push(criterion.to_string());
    }
    if i["closed"] != true {
        lines.push(say.t("incident.not_closed"));
    }
    let times = &d["times"];
    let mut doc = Document::new(&title, &say.t("document.page"), &say.t("document.of"))
        .title_page(&title, &lines)
        .heading(1, &say.t("document.course"), false)
        .table(
            &[say.t("document.item"), say.t("document.when")],
            &[
                vec![say.t("incident.report_started"), text(&times["started"])],
                vec![
                    say.t("incident.report_stood_down"),
                    text(&times["stood_down"]),
                ],
                vec![say.t("incident.report_closed"), text(&times["closed"])],
                vec![say.t("incident.report_lasted"), text(&times["lasted"])],
            ],
            &[3, 4],
        );
    doc = rto_heading(doc, &say, d);
    let record: Vec<Vec<String>> = rows(&d["record"])
        .iter()
        .map(|r| {
            vec![
                format!("{} ({})", text(&r["name"]), text(&r["id"])),
                r["rto"].as_str().unwrap_or("—").to_string(),
                rto_cell(&say, &r["took"], &r["met"]),
            ]
        })
        .collect();
    doc = doc.table(
        &[
            "System".to_string(),
            "RTO".to_string(),
            say.t("incident.took"),
        ],
        &record,
        &[6, 2, 4],
    );
    doc = actions(doc, &say, &d["actions"]);
    timeline(doc, &say, &d["timeline"]).finish()
}

/// The report as a Word document for the committee's agenda: what the page shows, section by
/// section, with the charts as pictures and the tables as tables.
pub fn annual(templates: &Templates, d: &Value, lang: &str) -> Result<Vec<u8>> {
    let say = Say { templates, lang };
    let t = |key: &str| say.t(key);
    let said =
        |key: &str, count: Option<&Value>, values: &[(&str, &Value)]| say.said(key, count, values);
    let label = |key: &str| say.label(key);
    let plan = &d["plan"];
    let title = format!("{} {}", t("annual.title"), d["year"]);
    let mut lines = vec![format!(
        "{} · {}",
        text(&plan["name"]),
        text(&plan["organisation"])
    )];
    if d["running"] == true {
        lines.push(said("annual.running", None, &[("until", &d["until"])]));
    }
    lines.push(said("annual.generated", None, &[("on", &d["generated"])]));
    let mut doc = Document::new(&title, &t("document.page"), &t("document.of"))
        .title_page(&title, &lines)
        .contents(&t("runbook.toc"));

    doc = doc
        .heading(1, &t("annual.state"), false)
        .paragraph(&if d["version"].is_null() {
            said("annual.state_draft", None, &[("until", &d["until"])])
        } else {
            said(
                "annual.state_version",
                None,
                &[("number", &d["version"]), ("until", &d["until"])],
            )
        });
    let by_crit: Vec<String> = rows(&d["by_criticality"])
        .iter()
        .map(|c| format!("{}: {}", c["crit"], c["n"]))
        .collect();
    let compliance = &d["compliance"];
    doc = doc.table(
        &[t("document.item"), t("document.figure")],
        &[
            vec![t("annual.systems"), d["systems"].to_string()],
            vec![t("overview.col.crit"), by_crit.join(" · ")],
            vec![
                t("annual.compliance"),
                if compliance.is_null() {
                    "–".to_string()
                } else {
                    format!(
                        "{} / {} ({} %)",
                        compliance["on_time"], compliance["total"], compliance["percent"]
                    )
                },
            ],
            vec![
                label("dashboard.not_exercised"),
                d["not_exercised"].to_string(),
            ],
        ],
        &[3, 4],
    );

    doc = doc
        .heading(1, &t("annual.changes"), false)
        .paragraph(&format!(
            "{}, {}",
            said("annual.changes_saved", Some(&d["changes"]), &[]),
            said(
                "annual.versions_approved",
                Some(&d["counts"]["versions"]),
                &[]
            )
        ));
    let versions: Vec<Vec<String>> = rows(&d["versions"])
        .iter()
        .map(|v| {
            vec![
                v["number"].to_string(),
                text(&v["approved"]),
                text(&v["approved_by"]),
                text(&v["comment"]),
            ]
        })
        .collect();
    if !versions.is_empty() {
        doc = doc.table(
            &[
                t("annual.version"),
                t("annual.approved"),
                t("annual.approved_by"),
                t("annual.comment"),
            ],
            &versions,
            &[2, 4, 3, 8],
        );
    }

    let totals = &d["drill_totals"];
    doc = doc.heading(1, &t("annual.drills"), false).paragraph(&said(
        "annual.drills_text",
        Some(&d["counts"]["drills"]),
        &[
            ("met", &totals["met"]),
            ("missed", &totals["missed"]),
            ("unknown", &totals["unknown"]),
        ],
    ));
    let drills: Vec<Vec<String>> = rows(&d["drills"])
        .iter()
        .map(|r| {
            vec![
                text(&r["title"]),
                text(&r["held"]),
                r["met"].to_string(),
                r["missed"].to_string(),
                r["unknown"].to_string(),
            ]
        })
        .collect();
    if !drills.is_empty() {
        doc = doc
            .chart(
                d["charts"]["drills"].as_str().unwrap_or(""),
                &t("annual.chart.drills"),
            )
            .table(
                &[
                    t("dashboard.drill"),
                    t("dashboard.held"),
                    t("dashboard.met"),
                    t("dashboard.missed"),
                    t("dashboard.unknown"),
                ],
                &drills,
                &[6, 4, 2, 2, 2],
            );
    }

    doc = doc.heading(1, &t("annual.incidents"), false);
    let incidents = rows(&d["incidents"]);
    if incidents.is_empty() {
        doc = doc.paragraph(&t("annual.no_incidents"));
    } else {
        doc = doc.chart(
            d["charts"]["incidents"].as_str().unwrap_or(""),
            &t("annual.chart.incidents"),
        );
        for i in &incidents {
            let when = match i["closed"].as_str() {
                Some(closed) => format!("{} – {closed}", text(&i["started"])),
                None => text(&i["started"]),
            };
            let recoveries: Vec<String> = rows(&i["recoveries"])
                .iter()
                .map(|r| {
                    let mut line = format!("{}: {}", text(&r["name"]), text(&r["took"]));
                    if r["rto"].is_string() {
                        line.push_str(&format!(
                            " ({})",
                            said("annual.against_rto", None, &[("rto", &r["rto"])])
                        ));
                    }
                    if r["missed"] == true {
                        line.push_str(&format!(" – {}", t("drill.rto_missed")));
                    } else if r["met"] == true {
                        line.push_str(&format!(" – {}", t("drill.rto_met")));
                    }
                    line
                })
                .collect();
            doc = doc
                .heading(2, &text(&i["title"]), false)
                .meta(&when)
                .list(&recoveries, false);
        }
    }

    let actions = &d["actions"];
    doc = doc.heading(1, &t("action.title"), false).table(
        &[t("document.item"), t("document.figure")],
        &[
            vec![t("annual.actions_opened"), actions["opened"].to_string()],
            vec![t("annual.actions_closed"), actions["closed"].to_string()],
            vec![t("annual.actions_open"), actions["open_at_end"].to_string()],
            vec![
                t("annual.actions_overdue"),
                actions["overdue_at_end"].to_string(),
            ],
        ],
        &[3, 4],
    );

    doc = doc
        .heading(1, &t("annual.reviews"), false)
        .chart(
            d["charts"]["compliance"].as_str().unwrap_or(""),
            &t("annual.chart.compliance"),
        )
        .paragraph(&t("annual.compliance_help"));

    doc = doc.heading(1, &t("annual.risks"), false);
    for (key, field, count) in [
        ("dashboard.infeasible", "infeasible", "infeasible"),
        ("dashboard.inversions", "inversions", "inversions"),
    ] {
        let listed: Vec<String> = rows(&d[field])
            .iter()
            .map(|s| match s["rto"].as_str() {
                Some(rto) => format!("{} ({}) · RTO {rto}", text(&s["name"]), text(&s["id"])),
                None => format!("{} ({})", text(&s["name"]), text(&s["id"])),
            })
            .collect();
        doc = doc.heading(2, &format!("{} ({})", t(key), d["counts"][count]), false);
        doc = if listed.is_empty() {
            doc.paragraph(&t("annual.none"))
        } else {
            doc.list(&listed, false)
        };
    }

    let dispensations = &d["dispensations"];
    doc = doc
        .heading(1, &t("dispensation.title"), false)
        .paragraph(&said(
            "annual.dispensations",
            None,
            &[
                ("granted", &dispensations["granted"]),
                ("renewed", &dispensations["renewed"]),
                ("rejected", &dispensations["rejected"]),
                ("expired", &dispensations["expired"]),
            ],
        ));
    let running = d["running"] == true;
    let active: Vec<Vec<String>> = rows(&dispensations["active"])
        .iter()
        .map(|a| {
            vec![
                a["id"].to_string(),
                text(&a["subject"]),
                a["crit"]
                    .as_u64()
                    .map_or("–".to_string(), |c| c.to_string()),
                text(&a["until"]),
            ]
        })
        .collect();
    doc = if active.is_empty() {
        doc.paragraph(&t(if running {
            "annual.no_dispensations_now"
        } else {
            "annual.no_dispensations"
        }))
    } else {
        doc.strong(&t(if running {
            "annual.dispensations_active_now"
        } else {
            "annual.dispensations_active"
        }))
        .table(
            &[
                t("dispensation.col.number"),
                t("dispensation.col.subject"),
                t("overview.col.crit"),
                t("dispensation.col.until"),
            ],
            &active,
            &[2, 10, 3, 4],
        )
    };
    doc.finish()
}
