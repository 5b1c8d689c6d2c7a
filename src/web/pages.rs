//! The pages: plan list, plan overview, system page, language choice, static files.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::i18n::{self, LANGUAGES};
use super::render::{static_file, url_escape};
use super::{AppState, Error, Result};
use crate::domain::analysis::{self, Finding, Severity};
use crate::domain::{Duration, Plan, PlanId, System};
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/", get(list_plans))
        .route("/plans/{plan}", get(show_plan))
        .route("/plans/{plan}/systems/{system}", get(show_system))
        .route("/lang/{lang}", get(choose_language))
        .route("/static/{file}", get(static_asset))
        .fallback(not_found)
}

const LANG_COOKIE: &str = "lang";

/// The visitor's language: their remembered choice, else the server's default.
fn language(headers: &HeaderMap, state: &AppState) -> String {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == LANG_COOKIE && LANGUAGES.contains(value))
        .map(|(_, value)| value.to_string())
        .unwrap_or_else(|| state.config.language.clone())
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

async fn static_asset(Path(file): Path<String>) -> Response {
    match static_file(&file) {
        Some((bytes, mime)) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn not_found() -> Error {
    Error::NotFound
}

/// Turns every `Error::NotFound` into the not-found page, in the visitor's language.
pub(super) async fn not_found_page(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let lang = language(request.headers(), &state);
    let response = next.run(request).await;
    if response.extensions().get::<super::NotFoundPage>().is_none() {
        return response;
    }
    match state.templates.page("not_found", &lang, json!({})) {
        Ok(page) => (StatusCode::NOT_FOUND, page).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct Return {
    next: Option<String>,
}

/// Remembers the chosen language in a cookie and goes back to the page the visitor came from.
async fn choose_language(Path(lang): Path<String>, Query(q): Query<Return>) -> Result<Response> {
    if !LANGUAGES.contains(&lang.as_str()) {
        return Err(Error::NotFound);
    }
    // Only paths on this site: never an open redirect.
    let next = q
        .next
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/".to_string());
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly");
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

async fn list_plans(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let plans = store::plan_summaries(&state.db).await?;
    if let [only] = plans.as_slice() {
        return Ok(Redirect::to(&format!("/plans/{}", only.id)).into_response());
    }
    let plans: Vec<Value> = plans
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name, "organisation": p.organisation}))
        .collect();
    let lang = language(&headers, &state);
    Ok(state
        .templates
        .page("plans", &lang, json!({"plans": plans, "path": "/"}))?
        .into_response())
}

async fn load(state: &AppState, id: &str) -> Result<Plan> {
    let id = PlanId::parse(id).map_err(|_| Error::NotFound)?;
    store::load_plan(&state.db, &id)
        .await?
        .ok_or(Error::NotFound)
}

fn dur(d: Option<Duration>, lang: &str) -> Value {
    d.map_or(Value::Null, |d| Value::String(i18n::duration(d, lang)))
}

fn person_name(plan: &Plan, id: Option<&crate::domain::PersonId>) -> Value {
    match id {
        None => Value::Null,
        Some(id) => match plan.person(id.as_str()) {
            Some(p) => {
                json!({"id": p.id, "name": p.name, "title": p.title, "email": p.email, "phone": p.phone, "tel": tel(&p.phone)})
            }
            None => {
                json!({"id": id, "name": id.as_str(), "title": "", "email": "", "phone": "", "tel": ""})
            }
        },
    }
}

/// A phone number as a `tel:` target: digits and a leading `+` only.
fn tel(phone: &str) -> String {
    phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

fn finding_view(f: &Finding) -> Value {
    json!({
        "code": f.code.as_str(),
        "error": f.severity() == Severity::Error,
        "systems": f.systems,
        "field": f.field,
        "message": f.message,
    })
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
}

/// Sort keys the overview accepts, in column order.
const SORTS: [&str; 7] = ["name", "crit", "rto", "rpo", "owner", "review", "findings"];

async fn show_plan(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(plan_id): Path<String>,
    Query(query): Query<OverviewQuery>,
) -> Result<Html<String>> {
    let lang = language(&headers, &state);
    let plan = load(&state, &plan_id).await?;
    let today = chrono::Local::now().date_naive();
    let findings = analysis::check(&plan, today);
    let mut by_system: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &findings {
        for s in &f.systems {
            by_system.entry(s.as_str()).or_default().push(f);
        }
    }
    let overdue = |s: &System| {
        by_system.get(s.id.as_str()).is_some_and(|fs| {
            fs.iter()
                .any(|f| f.code == analysis::Code::ReviewOverdue && f.system() == Some(&s.id))
        })
    };
    let needle = query.q.as_deref().unwrap_or("").trim().to_lowercase();
    let crit: Option<u8> = query.crit.as_deref().and_then(|c| c.parse().ok());
    let owner_name = |s: &System| {
        s.owner
            .as_ref()
            .and_then(|o| plan.person(o.as_str()))
            .map(|p| p.name.clone())
            .unwrap_or_default()
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
            _ => true,
        })
        .collect();
    let sort = query
        .sort
        .as_deref()
        .filter(|s| SORTS.contains(s))
        .unwrap_or("crit");
    let desc = query.dir.as_deref() == Some("desc");
    let count = |s: &System| by_system.get(s.id.as_str()).map_or(0, Vec::len);
    rows.sort_by(|a, b| {
        let order = match sort {
            "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "rto" => a.rto.cmp(&b.rto),
            "rpo" => a.rpo.cmp(&b.rpo),
            "owner" => owner_name(a).cmp(&owner_name(b)),
            "review" => a.last_reviewed.cmp(&b.last_reviewed),
            "findings" => count(b).cmp(&count(a)),
            _ => a.criticality.cmp(&b.criticality).then(a.rto.cmp(&b.rto)),
        }
        .then_with(|| a.id.cmp(&b.id));
        if desc { order.reverse() } else { order }
    });
    let systems: Vec<Value> = rows
        .iter()
        .map(|s| {
            let mine = by_system.get(s.id.as_str());
            json!({
                "id": s.id,
                "name": s.name,
                "crit": s.criticality.level(),
                "rto": dur(s.rto, &lang),
                "rpo": dur(s.rpo, &lang),
                "owner": person_name(&plan, s.owner.as_ref()),
                "reviewed": s.last_reviewed.map(|d| i18n::date(d, &lang)),
                "overdue": overdue(s),
                "errors": mine.map_or(0, |fs| fs.iter().filter(|f| f.severity() == Severity::Error).count()),
                "warnings": mine.map_or(0, |fs| fs.iter().filter(|f| f.severity() == Severity::Warning).count()),
            })
        })
        .collect();
    let base = format!("/plans/{}", plan.id);
    let filter_query = |extra: &str| {
        let mut parts: Vec<String> = Vec::new();
        if !needle.is_empty() {
            parts.push(format!("q={}", url_escape(&needle)));
        }
        if let Some(c) = crit {
            parts.push(format!("crit={c}"));
        }
        if let Some(o) = query
            .only
            .as_deref()
            .filter(|o| ["findings", "overdue"].contains(o))
        {
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
    let path = format!(
        "{base}?{}",
        filter_query(&format!(
            "sort={sort}&dir={}",
            if desc { "desc" } else { "asc" }
        ))
    );
    state.templates.page(
        "overview",
        &lang,
        json!({
            "path": path,
            "plan": {"id": plan.id, "name": plan.name, "organisation": plan.organisation},
            "total": plan.systems.len(),
            "shown": systems.len(),
            "systems": systems,
            "columns": columns,
            "errors": errors,
            "warnings": findings.len() - errors,
            "findings": findings.iter().map(finding_view).collect::<Vec<_>>(),
            "filter": {
                "q": needle,
                "crit": crit,
                "only": query.only.as_deref().unwrap_or(""),
                "crits": (1..=4).map(|c| json!({"value": c, "selected": crit == Some(c)})).collect::<Vec<_>>(),
                "only_findings": query.only.as_deref() == Some("findings"),
                "only_overdue": query.only.as_deref() == Some("overdue"),
            },
            "sort": sort,
            "dir": if desc { "desc" } else { "asc" },
        }),
    )
}

async fn show_system(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((plan_id, system_id)): Path<(String, String)>,
) -> Result<Html<String>> {
    let lang = language(&headers, &state);
    let plan = load(&state, &plan_id).await?;
    let system = plan.system(&system_id).ok_or(Error::NotFound)?;
    let today = chrono::Local::now().date_naive();
    let findings: Vec<Value> = analysis::check(&plan, today)
        .iter()
        .filter(|f| f.systems.contains(&system.id))
        .map(finding_view)
        .collect();
    let link = |id: &crate::domain::SystemId| {
        let name = plan
            .system(id.as_str())
            .map_or(id.as_str(), |s| s.name.as_str());
        json!({"id": id, "name": name, "known": plan.system(id.as_str()).is_some()})
    };
    let dependents: Vec<Value> = plan
        .systems
        .iter()
        .filter(|s| s.depends_on.contains(&system.id))
        .map(|s| link(&s.id))
        .collect();
    let role_name = |id: &crate::domain::RoleId| {
        plan.roles
            .iter()
            .find(|r| &r.id == id)
            .map_or(id.to_string(), |r| r.name.clone())
    };
    let steps: Vec<Value> = system
        .recovery_steps
        .iter()
        .map(|st| json!({"text": st.text, "role": role_name(&st.role), "duration": i18n::duration(st.duration, &lang)}))
        .collect();
    let total = system
        .recovery_steps
        .iter()
        .fold(Duration::ZERO, |sum, st| sum.saturating_add(st.duration));
    let impact: Vec<Value> = system
        .impact
        .iter()
        .map(|row| json!({"after": i18n::duration(row.after, &lang), "level": row.level.as_str(), "level_key": format!("impact.{}", row.level.as_str()), "citizens": row.citizens, "staff": row.staff}))
        .collect();
    let supplier = system.supplier.as_ref().map(|s| {
        json!({"name": s.name, "contact": s.contact, "phone": s.phone, "tel": tel(&s.phone), "email": s.email, "restore": dur(s.contract_restore, &lang)})
    });
    state.templates.page(
        "system",
        &lang,
        json!({
            "path": format!("/plans/{}/systems/{}", plan.id, system.id),
            "plan": {"id": plan.id, "name": plan.name},
            "system": {
                "id": system.id,
                "name": system.name,
                "description": system.description,
                "crit": system.criticality.level(),
                "rto": dur(system.rto, &lang),
                "rpo": dur(system.rpo, &lang),
                "mtpd": dur(system.mtpd, &lang),
                "owner": person_name(&plan, system.owner.as_ref()),
                "deputy": person_name(&plan, system.deputy.as_ref()),
                "workaround": system.workaround,
                "verification": system.verification,
                "reviewed": system.last_reviewed.map(|d| i18n::date(d, &lang)),
                "reviewed_by": person_name(&plan, system.reviewed_by.as_ref()),
                "depends_on": system.depends_on.iter().map(link).collect::<Vec<_>>(),
                "dependents": dependents,
                "steps": steps,
                "steps_total": i18n::duration(total, &lang),
                "impact": impact,
                "supplier": supplier,
            },
            "findings": findings,
        }),
    )
}
