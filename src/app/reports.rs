//! The annual report (årsrapport) to the finance committee: the plan's state at year end, the
//! year's changes and approvals, drills and incidents against the RTOs, action items, review
//! compliance and the open risks, with simple charts drawn as inline SVG. A printable page and one
//! self-contained HTML file (also written by `beredskab report annual`).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use handlebars::html_escape;
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

use super::{App, PlanCache};
use crate::domain::health::{
    self, AnnualInputs, Compliance, Tally, VersionFacts, end_of, start_of,
};
use crate::domain::{Plan, PlanId, SystemId, analysis, coverage};
use crate::render::{self, Templates, i18n};
use crate::store;

/// Why an annual report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum AnnualError {
    #[error("there is no plan {0:?}")]
    NoPlan(String),
    #[error("year {year} has not begun (today is {today})")]
    Future { year: i32, today: NaiveDate },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
}

/// The plan as it stood on `until`: the latest version approved by then, the draft while the
/// year runs (or when nothing was approved by then); with a description for the report.
/// `versions` are the plan's approved versions, newest first.
async fn plan_at(
    db: &DatabaseConnection,
    cache: &PlanCache,
    id: &PlanId,
    versions: &[VersionFacts],
    until: NaiveDate,
    today: NaiveDate,
) -> Result<Option<(Arc<Plan>, Option<i32>)>, store::StoreError> {
    if until < today {
        let approved = versions
            .iter()
            .find(|v| v.approved_at.date_naive() <= until);
        if let Some(v) = approved {
            let plan = cache.version(db, id, v.number).await?;
            return Ok(plan.map(|p| (p, Some(v.number))));
        }
    }
    let plan = cache.plan(db, id).await?;
    Ok(plan.map(|p| (p, None)))
}

impl App {
    /// Everything the annual report of plan `id` for `year` shows, for its templates.
    pub async fn annual_report(
        &self,
        id: &PlanId,
        year: i32,
        lang: &str,
    ) -> Result<Value, AnnualError> {
        annual_data(self, id, year, lang).await
    }
}

async fn annual_data(app: &App, id: &PlanId, year: i32, lang: &str) -> Result<Value, AnnualError> {
    let (db, cache, templates) = (&app.db, &*app.plans, &*app.templates);
    let today = app.clock.today();
    if year > today.year() {
        return Err(AnnualError::Future { year, today });
    }
    let year_end =
        NaiveDate::from_ymd_opt(year, 12, 31).ok_or(AnnualError::Future { year, today })?;
    let until = year_end.min(today);
    let versions: Vec<VersionFacts> = store::edits::versions(db, id)
        .await?
        .into_iter()
        .map(|v| VersionFacts {
            number: v.number,
            approved_at: v.approved_at,
            approved_by: v.approver,
            comment: v.comment,
        })
        .collect();
    let (plan, version) = plan_at(db, cache, id, &versions, until, today)
        .await?
        .ok_or_else(|| AnnualError::NoPlan(id.to_string()))?;
    let drills = store::health::held_drills(db, id, None).await?;
    let incidents = store::health::incidents(db, id).await?;
    let actions = store::health::actions(db, id).await?;
    let reviews = store::health::review_changes(db, id).await?;
    let dispensations = store::dispensations::of_plan(db, id.as_str()).await?;
    let start = start_of(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(year_end));
    let changes = store::health::changes_between(db, id, start, end_of(year_end)).await?;
    // The findings as of the report's day, with exercise coverage as it stood then.
    let mut last: HashMap<String, DateTime<Utc>> = HashMap::new();
    for d in drills.iter().filter(|d| d.held_at <= end_of(until)) {
        for system in d.records.keys() {
            let at = last.entry(system.clone()).or_insert(d.held_at);
            *at = (*at).max(d.held_at);
        }
    }
    let significant = store::edits::significant_changes(db, id, Some(end_of(until))).await?;
    // While the year runs the report's day is today, whose analysis the cache keeps.
    let mut findings = if until == today {
        cache.findings(&plan, today).to_vec()
    } else {
        analysis::check(&plan, until)
    };
    findings.extend(coverage::check(&plan, &last, &significant, end_of(until)));
    let a = health::annual(&AnnualInputs {
        year,
        plan: &plan,
        findings: &findings,
        versions: &versions,
        changes: usize::try_from(changes).unwrap_or(usize::MAX),
        drills: &drills,
        incidents: &incidents,
        actions: &actions,
        reviews: &reviews,
        dispensations: &dispensations,
        until,
    });
    let words = crate::render::findings::Words::new(&templates.locales, lang, Some(&plan));
    let dispensation_rows: Vec<Value> = a
        .dispensations
        .active
        .iter()
        .filter_map(|active| {
            let d = dispensations.iter().find(|d| d.id == active.id)?;
            Some(json!({
                "id": d.id,
                "subject": words.dispensation_subject(d, &findings),
                "until": i18n::date(active.until, lang),
                "crit": active.criticality,
            }))
        })
        .collect();

    let t = |key: &str| templates.text(lang, key);
    let local = |at: DateTime<Utc>| i18n::local_time(app.clock.local(at), lang);
    let named = |ids: &[SystemId]| -> Vec<Value> {
        ids.iter()
            .map(|id| {
                let s = plan.system(id.as_str());
                json!({
                    "id": id,
                    "name": s.map_or(id.as_str(), |s| s.name.as_str()),
                    "rto": s.and_then(|s| s.rto).map(|d| i18n::duration(d, lang)),
                })
            })
            .collect()
    };
    let quarters = |q: &[Tally; 4]| -> Vec<(String, [usize; 2])> {
        q.iter()
            .enumerate()
            .map(|(i, t)| (format!("K{}", i + 1), [t.met, t.missed]))
            .collect()
    };
    let series = [t("annual.chart.met"), t("annual.chart.missed")];
    let drill_chart = bar_chart(
        &t("annual.chart.drills"),
        &quarters(&a.drill_quarters),
        &series,
    );
    let incident_chart = bar_chart(
        &t("annual.chart.incidents"),
        &quarters(&a.incident_quarters),
        &series,
    );
    let compliance_chart = compliance_chart(
        &t("annual.chart.compliance"),
        &a.compliance,
        &month_labels(lang),
    );
    let final_compliance = a.compliance.last().copied();
    Ok(json!({
        "plan": {"id": plan.id, "name": plan.name, "organisation": plan.organisation},
        "year": year,
        "until": i18n::date(until, lang),
        "running": until < year_end,
        "version": version,
        "generated": i18n::date(today, lang),
        "systems": a.systems,
        "by_criticality": a.by_criticality.iter().enumerate().map(|(i, n)| json!({"crit": i + 1, "n": n})).collect::<Vec<_>>(),
        "versions": a.versions.iter().map(|v| json!({
            "number": v.number,
            "approved_by": v.approved_by,
            "approved": local(v.approved_at),
            "comment": v.comment,
        })).collect::<Vec<_>>(),
        "changes": a.changes,
        "counts": {
            "versions": a.versions.len(),
            "drills": a.drills.len(),
            "infeasible": a.infeasible.len(),
            "inversions": a.inversions.len(),
        },
        "drills": a.drills.iter().map(|d| json!({
            "occurrence": d.occurrence,
            "title": d.title,
            "held": local(d.held_at),
            "met": d.met,
            "missed": d.missed,
            "unknown": d.unknown,
        })).collect::<Vec<_>>(),
        "drill_totals": a.drill_quarters.iter().fold(Tally::default(), |s, q| Tally { met: s.met + q.met, missed: s.missed + q.missed, unknown: s.unknown + q.unknown }),
        "incidents": a.incidents.iter().map(|i| json!({
            "id": i.id,
            "title": i.title,
            "started": local(i.started_at),
            "closed": i.closed_at.map(local),
            "met": i.met,
            "missed": i.missed,
            "recoveries": i.recoveries.iter().map(|r| json!({
                "id": r.id,
                "name": plan.system(r.id.as_str()).map_or(r.id.as_str(), |s| s.name.as_str()),
                "took": i18n::duration(r.took, lang),
                "rto": r.rto.map(|d| i18n::duration(d, lang)),
                "met": r.rto_met,
                "missed": r.rto_met == Some(false),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "actions": a.actions,
        "compliance": final_compliance.map(|c| json!({
            "on_time": c.on_time,
            "total": c.total,
            "percent": percent(c.on_time, c.total),
        })),
        "infeasible": named(&a.infeasible),
        "inversions": named(&a.inversions),
        "not_exercised": a.not_exercised.len(),
        "review_overdue": a.review_overdue.len(),
        "dispensations": {
            "granted": a.dispensations.granted,
            "renewed": a.dispensations.renewed,
            "rejected": a.dispensations.rejected,
            "expired": a.dispensations.expired,
            "active": dispensation_rows,
            "by_criticality": a.dispensations.active_by_criticality.iter().enumerate().map(|(i, n)| json!({"crit": i + 1, "n": n})).collect::<Vec<_>>(),
            "plan_wide": a.dispensations.active_plan_wide,
        },
        "charts": {
            "drills": drill_chart,
            "incidents": incident_chart,
            "compliance": compliance_chart,
        },
    }))
}

/// The report as one self-contained HTML file.
pub fn annual_file(templates: &Templates, mut data: Value, lang: &str) -> render::Result<String> {
    data["css"] = json!(render::static_text("app.css"));
    data["offline"] = json!(true);
    templates.fragment("annual_export", lang, data)
}

/// The file name of a plan's annual report.
pub fn file_name(plan: &PlanId, year: i32) -> String {
    format!("aarsrapport-{plan}-{year}.html")
}

/// The file name of a plan's annual report as a Word document.
pub fn docx_file_name(plan: &PlanId, year: i32) -> String {
    format!("aarsrapport-{plan}-{year}.docx")
}

fn percent(part: usize, total: usize) -> usize {
    (part * 100).checked_div(total).unwrap_or(100)
}

fn month_labels(lang: &str) -> [&'static str; 12] {
    if lang == "da" {
        [
            "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
        ]
    } else {
        [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ]
    }
}

const CHART_W: usize = 360;
const CHART_H: usize = 180;
const COLOURS: [&str; 2] = ["#1a7f37", "#cf222e"];

/// Grouped bars: for each label, one bar per series (met, missed), with the counts written on
/// them, a legend, and the title as the picture's accessible name.
fn bar_chart(title: &str, groups: &[(String, [usize; 2])], series: &[String; 2]) -> String {
    let max = groups
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let (left, bottom, top) = (10, 30, 24);
    let plot_h = CHART_H - bottom - top;
    let group_w = (CHART_W - left * 2) / groups.len().max(1);
    let bar_w = group_w / 3;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = html_escape(title)
    );
    for (i, name) in series.iter().enumerate() {
        let x = left + i * 150;
        svg.push_str(&format!(
            r#"<rect x="{x}" y="4" width="12" height="12" fill="{c}"/><text x="{tx}" y="14" font-size="12">{n}</text>"#,
            c = COLOURS[i],
            tx = x + 16,
            n = html_escape(name)
        ));
    }
    for (g, (label, values)) in groups.iter().enumerate() {
        let gx = left + g * group_w;
        for (i, &v) in values.iter().enumerate() {
            let h = v * plot_h / max;
            let x = gx + bar_w / 2 + i * bar_w;
            let y = top + plot_h - h;
            svg.push_str(&format!(
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{c}"><title>{label}: {v}</title></rect><text x="{tx}" y="{ty}" font-size="11" text-anchor="middle">{v}</text>"#,
                w = bar_w - 2,
                c = COLOURS[i],
                tx = x + bar_w / 2,
                ty = y.saturating_sub(2).max(top),
                label = html_escape(label),
            ));
        }
        svg.push_str(&format!(
            r#"<text x="{x}" y="{y}" font-size="12" text-anchor="middle">{l}</text>"#,
            x = gx + group_w / 2,
            y = CHART_H - 10,
            l = html_escape(label)
        ));
    }
    svg.push_str(&format!(
        r##"<line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="#57606a"/></svg>"##,
        y = top + plot_h,
        x2 = CHART_W - left
    ));
    svg
}

/// Review compliance at each month end as bars from 0 to 100 %, labelled with the percentage.
fn compliance_chart(title: &str, points: &[Compliance], months: &[&str; 12]) -> String {
    let (left, bottom, top) = (28, 24, 10);
    let plot_h = CHART_H - bottom - top;
    let slot = (CHART_W - left - 4) / 12;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = html_escape(title)
    );
    for pct in [0, 50, 100] {
        let y = top + plot_h - pct * plot_h / 100;
        svg.push_str(&format!(
            r##"<line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="#d0d7de"/><text x="{tx}" y="{ty}" font-size="10" text-anchor="end">{pct}%</text>"##,
            x2 = CHART_W - 4,
            tx = left - 3,
            ty = y + 3
        ));
    }
    for p in points {
        let m = p.day.month0() as usize;
        if p.total == 0 {
            continue;
        }
        let pct = percent(p.on_time, p.total);
        let h = pct * plot_h / 100;
        let x = left + m * slot + 2;
        let y = top + plot_h - h;
        let colour = if pct >= 90 {
            "#1a7f37"
        } else if pct >= 70 {
            "#bf8700"
        } else {
            "#cf222e"
        };
        svg.push_str(&format!(
            r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{colour}"><title>{month}: {on}/{total} ({pct}%){unknown}</title></rect><text x="{tx}" y="{ty}" font-size="9" text-anchor="middle">{pct}</text>"#,
            w = slot - 4,
            month = months[m],
            on = p.on_time,
            total = p.total,
            unknown = if p.unknown > 0 {
                format!("; ? {}", p.unknown)
            } else {
                String::new()
            },
            tx = x + (slot - 4) / 2,
            ty = y.saturating_sub(2).max(9),
        ));
    }
    for (m, name) in months.iter().enumerate() {
        svg.push_str(&format!(
            r#"<text x="{x}" y="{y}" font-size="10" text-anchor="middle">{name}</text>"#,
            x = left + m * slot + slot / 2,
            y = CHART_H - 8
        ));
    }
    svg.push_str("</svg>");
    svg
}

impl App {
    /// The draft of `plan` as a spreadsheet (XLSX) in `lang`: its systems with their findings
    /// and when each was last exercised, recovery steps, people and roles.
    pub async fn plan_sheet(
        &self,
        plan: &std::sync::Arc<crate::domain::Plan>,
        lang: &str,
    ) -> Result<Vec<u8>, crate::app::Error> {
        let coverage = self.findings(plan).await?;
        let exercised: HashMap<String, NaiveDate> = coverage
            .exercised
            .iter()
            .map(|(id, e)| (id.clone(), self.clock.local(e.held_at).date_naive()))
            .collect();
        crate::render::sheet::workbook(
            &self.templates.locales,
            &crate::render::sheet::Input {
                plan,
                findings: &coverage.findings,
                exercised: &exercised,
                lang,
            },
        )
        .map_err(|e| {
            crate::render::RenderError {
                template: "sheet".into(),
                message: e.to_string(),
            }
            .into()
        })
    }
}
