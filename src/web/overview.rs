//! The plan overview: every system with its horizons, owner, review state and findings,
//! filtered, sorted and paged, its table and findings list rendered once per plan revision.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::cache::Fragment;
use super::conditional::Tag;
use super::i18n::{self};
use super::render::url_escape;
use super::{AppState, Error, Result};
use crate::domain::System;
use crate::domain::analysis::{self, Finding, Severity};
use crate::render::dur;
use crate::render::findings::Words;

use super::pages::{
    FINDINGS_MARK, ROWS_MARK, finding_view, load_with_state, page, spliced, version_view,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}", get(show_plan))
        .route("/plans/{plan}/plan.xlsx", get(spreadsheet))
}

/// The draft as a spreadsheet ("Hent som regneark"), in the reader's language.
async fn spreadsheet(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require()?;
    let plan = super::pages::load(&state, &plan_id).await?;
    let bytes = state.app.plan_sheet(&plan, &viewer.lang).await?;
    Ok(super::attachment(
        &crate::render::sheet::file_name(&plan.id),
        crate::render::sheet::CONTENT_TYPE,
        bytes,
    ))
}

#[derive(Deserialize, Default)]
struct OverviewQuery {
    /// Text to find in id, name or owner.
    q: Option<String>,
    /// Only this criticality.
    crit: Option<String>,
    /// `findings` or `overdue`.
    only: Option<String>,
    /// Column to sort by.
    sort: Option<String>,
    /// `desc` for descending.
    dir: Option<String>,
    /// The page of the table, from 1, or `all`.
    page: Option<String>,
}

/// Rows of the overview's table on one page: a plan of a thousand systems is ten pages, each
/// quick to load on a phone; `page=all` shows every row at once (to print or search in).
const PAGE_ROWS: usize = 100;

/// Sort keys the overview accepts, in column order.
const SORTS: [&str; 7] = ["name", "crit", "rto", "rpo", "owner", "review", "findings"];

async fn show_plan(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(plan_id): Path<String>,
    axum::extract::RawQuery(raw_query): axum::extract::RawQuery,
    Query(query): Query<OverviewQuery>,
) -> Result<Response> {
    let user = viewer.require()?;
    let lang = viewer.lang.clone();
    let (plan, plan_state) = load_with_state(&state, &plan_id).await?;
    let tag = Tag::plan_page(
        &state,
        &viewer,
        &plan_state,
        &[
            "overview",
            plan.id.as_str(),
            raw_query.as_deref().unwrap_or(""),
        ],
    );
    if let Some(not_modified) = tag.not_modified(&headers) {
        return Ok(not_modified);
    }
    let version = version_view(
        plan_state.latest.as_ref(),
        plan_state.revisions.revision,
        &lang,
    );
    let coverage = state
        .findings_stamped(&plan, plan_state.coverage_stamp())
        .await?;
    let findings = &coverage.findings;
    let needle = query.q.as_deref().unwrap_or("").trim().to_lowercase();
    let crit: Option<u8> = query.crit.as_deref().and_then(|c| c.parse().ok());
    let people: HashMap<&str, &str> = plan
        .people
        .iter()
        .map(|p| (p.id.as_str(), p.name.as_str()))
        .collect();
    let owner_name = |s: &System| -> &str {
        s.owner
            .as_ref()
            .and_then(|o| people.get(o.as_str()).copied())
            .unwrap_or("")
    };
    let sort = query
        .sort
        .as_deref()
        .filter(|s| SORTS.contains(s))
        .unwrap_or("crit");
    let desc = query.dir.as_deref() == Some("desc");
    let only = query.only.as_deref().unwrap_or("");
    let all_rows = query.page.as_deref() == Some("all");
    let page_asked = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    // The table depends on the plan revision, the day, the language, the filter and sort, and
    // which rows this user may edit; it is rendered once for each combination and then served from memory.
    let scope = if user.actor.edits_whole_plan() {
        "all".to_string()
    } else if user.actor.edits_own_systems_only() {
        format!("owner:{}", user.actor.person.as_deref().unwrap_or(""))
    } else {
        "none".to_string()
    };
    // Review deadlines move with the date.
    let today = state.clock.today();
    // Exercise coverage changes without a new plan revision (a drill is closed): its stamp is
    // part of the key.
    let coverage_key = &coverage.key;
    let key = format!(
        "overview|{today}|{lang}|{scope}|{needle}|{crit:?}|{only}|{sort}|{desc}|{coverage_key}|{}",
        if all_rows {
            "all".to_string()
        } else {
            page_asked.to_string()
        }
    );
    let table = state.plans.kept_or(&plan, &key, || {
        let mut by_system: HashMap<&str, Vec<&Finding>> = HashMap::new();
        for f in findings.iter() {
            for s in &f.systems {
                by_system.entry(s.as_str()).or_default().push(f);
            }
        }
        let has = |s: &System, code: analysis::Code| {
            by_system.get(s.id.as_str()).is_some_and(|fs| {
                fs.iter()
                    .any(|f| f.code == code && f.system() == Some(&s.id))
            })
        };
        let overdue = |s: &System| has(s, analysis::Code::ReviewOverdue);
        let unexercised = |s: &System| has(s, analysis::Code::NotExercised);
        let inverted = |s: &System| has(s, analysis::Code::RtoInversion);
        let infeasible = if only == "infeasible" {
            crate::domain::health::infeasible(&plan)
        } else {
            Vec::new()
        };
        let mut rows: Vec<&System> = plan
            .systems
            .iter()
            .filter(|s| {
                needle.is_empty()
                    || s.id.as_str().contains(&needle)
                    || s.name.to_lowercase().contains(&needle)
                    || owner_name(s).to_lowercase().contains(&needle)
            })
            .filter(|s| crit.is_none_or(|c| s.criticality.level() == c))
            .filter(|s| match query.only.as_deref() {
                Some("findings") => by_system.contains_key(s.id.as_str()),
                Some("overdue") => overdue(s),
                Some("exercise") => unexercised(s),
                Some("inversion") => inverted(s),
                Some("infeasible") => infeasible.binary_search(&s.id).is_ok(),
                _ => true,
            })
            .collect();
        let count = |s: &System| by_system.get(s.id.as_str()).map_or(0, Vec::len);
        rows.sort_by(|a, b| {
            let order = match sort {
                "name" => i18n::sort_key(&a.name).cmp(&i18n::sort_key(&b.name)),
                "rto" => a.rto.cmp(&b.rto),
                "rpo" => a.rpo.cmp(&b.rpo),
                "owner" => owner_name(a).cmp(owner_name(b)),
                "review" => a.last_reviewed.cmp(&b.last_reviewed),
                "findings" => count(b).cmp(&count(a)),
                _ => a.criticality.cmp(&b.criticality).then(a.rto.cmp(&b.rto)),
            }
            .then_with(|| a.id.cmp(&b.id));
            if desc { order.reverse() } else { order }
        });
        let matches = rows.len();
        let last_page = matches.div_ceil(PAGE_ROWS).max(1);
        let page = if all_rows {
            0
        } else {
            page_asked.min(last_page)
        };
        if !all_rows {
            rows = rows
                .into_iter()
                .skip((page - 1) * PAGE_ROWS)
                .take(PAGE_ROWS)
                .collect();
        }
        let counted = |key: &str, n: usize| state.templates.counted(&lang, key, n);
        // Strings that repeat on every row are looked up once, not once per row.
        let t = |key: &str| state.templates.text(&lang, key);
        let systems: Vec<Value> = rows
            .iter()
            .map(|s| {
                let mine = by_system.get(s.id.as_str());
                let n = |which: fn(&Finding) -> bool| {
                    mine.map_or(0, |fs| fs.iter().filter(|f| which(f)).count())
                };
                let errors = n(|f| f.severity() == Severity::Error);
                let warnings = n(Finding::is_open_warning);
                let accepted = n(|f| f.accepted().is_some());
                json!({
                    "id": s.id,
                    "name": s.name,
                    "crit": s.criticality.level(),
                    "rto": dur(s.rto, &lang),
                    "rpo": dur(s.rpo, &lang),
                    "owner": owner_name(s),
                    "reviewed": s.last_reviewed.map(|d| i18n::date(d, &lang)),
                    "overdue": overdue(s),
                    "unexercised": unexercised(s),
                    "errors": (errors > 0).then(|| counted("overview.errors", errors)),
                    "warnings": (warnings > 0).then(|| counted("overview.warnings", warnings)),
                    "accepted": (accepted > 0).then(|| counted("overview.accepted", accepted)),
                    "editable": user.actor.may_edit_system(s),
                })
            })
            .collect();
        let labels = json!({
            "crit": t("overview.col.crit"),
            "owner": t("overview.col.owner"),
            "review": t("overview.col.review"),
            "findings": t("overview.col.findings"),
            "no_owner": t("overview.no_owner"),
            "overdue": t("overview.overdue"),
            "never": t("overview.never"),
            "unexercised": t("overview.not_exercised"),
            "ok": t("overview.ok"),
            "edit": t("overview.edit"),
        });

        let html = state.templates.fragment(
            "overview_rows",
            &lang,
            json!({"plan": {"id": plan.id}, "systems": systems, "labels": labels}),
        )?;
        Ok::<_, Error>(Fragment {
            rows: systems.len(),
            matches,
            page,
            ..Fragment::of(html)
        })
    })?;
    let base = format!("/plans/{}", plan.id);
    let filter_query =
        |extra: &str| {
            let mut parts: Vec<String> = Vec::new();
            if !needle.is_empty() {
                parts.push(format!("q={}", url_escape(&needle)));
            }
            if let Some(c) = crit {
                parts.push(format!("crit={c}"));
            }
            if let Some(o) = query.only.as_deref().filter(|o| {
                ["findings", "overdue", "exercise", "infeasible", "inversion"].contains(o)
            }) {
                parts.push(format!("only={o}"));
            }
            parts.push(extra.to_string());
            parts.join("&")
        };
    let columns: Vec<Value> = SORTS
        .iter()
        .map(|key| {
            let active = *key == sort;
            let next_dir = if active && !desc { "desc" } else { "asc" };
            json!({
                "key": key,
                "label": format!("overview.col.{key}"),
                "href": format!("{base}?{}", filter_query(&format!("sort={key}&dir={next_dir}"))),
                "active": active,
                "desc": active && desc,
                "aria_sort": if active { if desc { "descending" } else { "ascending" } } else { "none" },
            })
        })
        .collect();
    let errors = findings
        .iter()
        .filter(|f| f.severity() == Severity::Error)
        .count();
    let accepted_count = findings.iter().filter(|f| f.accepted().is_some()).count();
    let sorted = format!("sort={sort}&dir={}", if desc { "desc" } else { "asc" });
    let page_href =
        |page: &str| format!("{base}?{}", filter_query(&format!("{sorted}&page={page}")));
    let last_page = table.matches.div_ceil(PAGE_ROWS).max(1);
    let pages: Vec<Value> = if last_page > 1 && table.page > 0 {
        (1..=last_page)
            .map(|n| json!({"number": n, "href": page_href(&n.to_string()), "current": n == table.page}))
            .collect()
    } else {
        Vec::new()
    };
    let first = table.page.saturating_sub(1) * PAGE_ROWS + 1;
    // The list of findings changes with the coverage, not with the filter: rendered once.
    let findings_html = state.plans.kept_or(
        &plan,
        &format!("findings|{lang}|{coverage_key}"),
        || {
            let words = Words::new(&state.templates.locales, &lang, Some(&plan));
            let html = state.templates.fragment(
                "overview_findings",
                &lang,
                json!({
                    "plan_id": plan.id,
                    // Open coverage warnings are one line with a link to the systems, not one line
                    // each; accepted ones are listed with their dispensation.
                    "findings": findings.iter().filter(|f| f.code != analysis::Code::NotExercised || f.accepted().is_some()).map(|f| finding_view(&words, &plan, f, true)).collect::<Vec<_>>(),
                    "unexercised": findings.iter().filter(|f| f.code == analysis::Code::NotExercised && f.accepted().is_none()).count(),
                }),
            )?;
            Ok::<_, Error>(Fragment::of(html))
        },
    )?;
    let path = format!(
        "{base}?{}",
        filter_query(&format!(
            "sort={sort}&dir={}",
            if desc { "desc" } else { "asc" }
        ))
    );
    // The two cached pieces go into the page after rendering, copied once, instead of through
    // the template data (each a copy, and the output grown piece by piece).
    let Html(shell) = page(
        &state,
        &viewer,
        "overview",
        json!({
            "path": path,
            "version": version,
            "plan": {"id": plan.id, "name": plan.name, "organisation": plan.organisation},
            "total": plan.systems.len(),
            "shown": table.rows,
            "matches": table.matches,
            "first": first,
            "last": first + table.rows.saturating_sub(1),
            "pages": pages,
            "prev": (table.page > 1).then(|| page_href(&(table.page - 1).to_string())),
            "next": (table.page > 0 && table.page < last_page).then(|| page_href(&(table.page + 1).to_string())),
            "all": page_href("all"),
            "rows": ROWS_MARK,
            "findings_html": FINDINGS_MARK,
            "columns": columns,
            "errors": errors,
            "warnings": findings.iter().filter(|f| f.is_open_warning()).count(),
            "accepted": (accepted_count > 0).then(|| state.templates.counted(&lang, "overview.accepted", accepted_count)),
            "filter": {
                "q": needle,
                "crit": crit,
                "only": query.only.as_deref().unwrap_or(""),
                "crits": (1..=4).map(|c| json!({"value": c, "selected": crit == Some(c)})).collect::<Vec<_>>(),
                "only_findings": query.only.as_deref() == Some("findings"),
                "only_overdue": query.only.as_deref() == Some("overdue"),
                "only_exercise": query.only.as_deref() == Some("exercise"),
                "only_inversion": query.only.as_deref() == Some("inversion"),
                "only_infeasible": query.only.as_deref() == Some("infeasible"),
            },
            "sort": sort,
            "dir": if desc { "desc" } else { "asc" },
        }),
    )?;
    Ok(tag.on(spliced(
        &headers,
        &shell,
        &[(ROWS_MARK, &table), (FINDINGS_MARK, &findings_html)],
    )))
}
