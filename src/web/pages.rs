//! The pages: plan list, plan overview, system page, language choice, static files.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use super::auth::{self, Viewer, cookie_language};
use super::cache::Fragment;
use super::conditional::Tag;
use super::i18n::{self, LANGUAGES};
use super::render::{self, url_escape};
use super::{AppState, Error, ErrorDetail, ErrorPage, LANG_COOKIE, Result};
use crate::app::plans::Coverage;
use crate::domain::analysis::{self, Finding, Severity};
use crate::domain::{Duration, Plan, PlanId, System};
use crate::render::{dur, person_name, tel};
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/", get(list_plans))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/my", get(my_systems))
        .route("/plans/{plan}", get(show_plan))
        .route("/plans/{plan}/systems/{system}", get(show_system))
        .route("/plans/{plan}/sections", get(show_sections))
        .route("/lang/{lang}", get(choose_language))
        .route("/static/{file}", get(static_asset))
        .fallback(not_found)
}

/// Renders page `name` for `viewer`: adds who is signed in, what they may do, and the CSRF
/// token for the page's forms.
pub(super) fn page(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    mut data: Value,
) -> Result<Html<String>> {
    if let Value::Object(map) = &mut data {
        if let Some(user) = &viewer.user {
            let a = &user.actor;
            map.insert(
                "user".into(),
                json!({
                    "username": user.account.username,
                    "name": user.account.display_name,
                    "role": format!("role.{}", a.role.as_str()),
                    "edits_plan": a.may_edit_plan(),
                    "approves": a.may_approve(),
                    "admin": a.may_manage_accounts(),
                    "audit": a.may_read_audit(),
                    "owner": a.person.is_some(),
                }),
            );
        }
        map.insert(
            "csrf".into(),
            json!(viewer.csrf.clone().unwrap_or_default()),
        );
        map.entry("path").or_insert_with(|| json!(viewer.path));
    }
    Ok(Html(state.templates.page(name, &viewer.lang, data)?))
}

/// A page with a status other than 200 (a form with errors, a conflict).
pub(super) fn page_with(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    name: &str,
    data: Value,
) -> Result<Response> {
    Ok((status, page(state, viewer, name, data)?).into_response())
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

/// Static files: named by their content (`app.<hash>.css`, as the pages link them), kept by
/// browsers for a year; by their plain name, for an hour.
async fn static_asset(Path(file): Path<String>) -> Response {
    match render::static_asset(&file) {
        Some((bytes, mime, immutable)) => (
            [
                (header::CONTENT_TYPE, mime),
                (
                    header::CACHE_CONTROL,
                    if immutable {
                        "public, max-age=31536000, immutable"
                    } else {
                        "public, max-age=3600"
                    },
                ),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn not_found() -> Error {
    Error::NotFound
}

/// Replaces the bodies of error responses with the error page, in the visitor's language.
/// The API answers in JSON itself and is left alone.
pub(super) async fn error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let lang = cookie_language(request.headers()).unwrap_or_else(|| state.config.language.clone());
    let response = next.run(request).await;
    let Some(ErrorPage(key)) = response.extensions().get::<ErrorPage>().copied() else {
        return response;
    };
    let status = response.status();
    let detail = response.extensions().get::<ErrorDetail>();
    match state.templates.page(
        "error",
        &lang,
        json!({
            "status": status.as_u16(),
            "title": format!("{key}.title"),
            "text": format!("{key}.text"),
            // The field's label where the locale has one, else its name in the form.
            "field": detail.map_or(String::new(), |d| {
                state
                    .templates
                    .locales
                    .get(&lang, &format!("field.{}", d.field))
                    .unwrap_or(&d.field)
                    .to_string()
            }),
            "code": detail.map_or("", |d| d.code.as_str()),
        }),
    ) {
        Ok(page) => {
            let mut page = (status, page).into_response();
            if let Some(after) = response.headers().get(header::RETRY_AFTER) {
                page.headers_mut()
                    .insert(header::RETRY_AFTER, after.clone());
            }
            page
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page");
            response
        }
    }
}

/// After a save: how many fields changed.
#[derive(Deserialize)]
pub(super) struct SavedQuery {
    saved: Option<usize>,
    /// Set after a one-click review.
    reviewed: Option<u8>,
}

impl SavedQuery {
    /// `{n}` for the "saved" message, or null.
    pub fn saved_view(&self) -> Value {
        self.saved.map_or(Value::Null, |n| json!({"n": n}))
    }
}

#[derive(Deserialize)]
struct Return {
    next: Option<String>,
}

/// A path on this site to go back to, or `/`: never an open redirect, never a header that
/// cannot be sent.
///
/// Browsers drop tab, CR and LF anywhere in a URL and read `\` as `/`, so `/<TAB>/evil` and
/// `/\evil` take them to the host `evil`. A target is therefore kept only when it holds no
/// control character at all and no `\`, and is one `/` followed by anything but `/`: no scheme,
/// no host. Bytes a header cannot carry as they are (space, non-ASCII) are percent-encoded, as
/// a browser would send them.
pub(super) fn local_path(next: Option<String>) -> String {
    next.as_deref()
        .and_then(local_target)
        .unwrap_or_else(|| "/".to_string())
}

fn local_target(next: &str) -> Option<String> {
    let rest = next.strip_prefix('/')?;
    if rest.starts_with('/') || next.contains('\\') || next.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(next.len());
    for b in next.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

/// Remembers the chosen language (in a cookie, and for a signed-in user in their account) and
/// goes back to the page the visitor came from.
async fn choose_language(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(lang): Path<String>,
    Query(q): Query<Return>,
) -> Result<Response> {
    if !LANGUAGES.contains(&lang.as_str()) {
        return Err(Error::NotFound);
    }
    if let Some(user) = &viewer.user {
        store::accounts::set_language(&state.db, user.account.id, &lang).await?;
    }
    let cookie = format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly");
    let mut response = Redirect::to(&local_path(q.next)).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

async fn login_form(
    State(state): State<AppState>,
    session: Session,
    mut viewer: Viewer,
    Query(q): Query<Return>,
) -> Result<Response> {
    if viewer.user.is_some() {
        return Ok(Redirect::to(&local_path(q.next)).into_response());
    }
    viewer.csrf = Some(auth::csrf_token(&session).await?);
    let next = local_path(q.next);
    Ok(page(
        &state,
        &viewer,
        "login",
        json!({"next": next, "username": "", "error": Value::Null}),
    )?
    .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    session: Session,
    viewer: Viewer,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let username = form.username.trim().to_string();
    let next = local_path(form.next);
    let refuse = |status: StatusCode, error: Value| -> Result<Response> {
        Ok((
            status,
            page(
                &state,
                &viewer,
                "login",
                json!({"next": next, "username": username, "error": error}),
            )?,
        )
            .into_response())
    };
    if let Some(wait) = state.auth.throttle.locked(&username) {
        // Whole seconds, rounded up: asking again after `Retry-After` is never too early.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"key": "login.throttled", "minutes": seconds.div_ceil(60)}),
        )?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        return Ok(response);
    }
    match auth::check_login(&state, &username, &form.password).await? {
        Some(account) => {
            state.auth.throttle.succeeded(&username);
            auth::sign_in(&session, account.id).await?;
            tracing::info!(user = %account.username, "signed in");
            Ok(Redirect::to(&next).into_response())
        }
        None => {
            state.auth.throttle.failed(&username);
            tracing::warn!(user = %username, "failed login");
            refuse(StatusCode::UNAUTHORIZED, json!({"key": "login.wrong"}))
        }
    }
}

async fn logout(session: Session) -> Result<Response> {
    auth::sign_out(&session).await?;
    Ok(Redirect::to("/login").into_response())
}

async fn list_plans(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    viewer.require()?;
    let plans = store::plan_summaries(&state.db).await?;
    if let [only] = plans.as_slice() {
        return Ok(Redirect::to(&format!("/plans/{}", only.id)).into_response());
    }
    let plans: Vec<Value> = plans
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name, "organisation": p.organisation}))
        .collect();
    Ok(page(&state, &viewer, "plans", json!({"plans": plans}))?.into_response())
}

/// The plan with this id at its current revision (from the cache when it is current).
pub(super) async fn load(state: &AppState, id: &str) -> Result<Arc<Plan>> {
    let id = PlanId::parse(id).map_err(|_| Error::NotFound)?;
    state
        .plans
        .plan(&state.db, &id)
        .await?
        .ok_or(Error::NotFound)
}

/// The plan with the state every request reads (revision, latest version, drill stamp), in one
/// query, for the overview.
pub(super) async fn load_with_state(
    state: &AppState,
    id: &str,
) -> Result<(Arc<Plan>, store::edits::PlanState)> {
    let id = PlanId::parse(id).map_err(|_| Error::NotFound)?;
    let plan_state = store::edits::plan_state(&state.db, &id)
        .await?
        .ok_or(Error::NotFound)?;
    let plan = state
        .plans
        .plan_at(&state.db, &id, plan_state.revisions.revision)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((plan, plan_state))
}

/// The plan's findings as of now, with its exercise coverage.
pub(super) async fn findings_of(state: &AppState, plan: &Arc<Plan>) -> Result<Arc<Coverage>> {
    Ok(state.app.findings(plan).await?)
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
    } else if user.actor.role == crate::domain::access::AccessRole::SystemOwner {
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
                "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
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
                let n = |severity: Severity| {
                    mine.map_or(0, |fs| {
                        fs.iter().filter(|f| f.severity() == severity).count()
                    })
                };
                let (errors, warnings) = (n(Severity::Error), n(Severity::Warning));
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
            let html = state.templates.fragment(
                "overview_findings",
                &lang,
                json!({
                    "plan_id": plan.id,
                    // Coverage warnings are one line with a link to the systems, not one line each.
                    "findings": findings.iter().filter(|f| f.code != analysis::Code::NotExercised).map(finding_view).collect::<Vec<_>>(),
                    "unexercised": findings.iter().filter(|f| f.code == analysis::Code::NotExercised).count(),
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
            "warnings": findings.len() - errors,
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

/// Places in the overview's shell that `splice` fills. Text from a plan can never produce
/// them: it is escaped, so it holds no `<`.
const ROWS_MARK: &str = "<!--overview-rows-->";
const FINDINGS_MARK: &str = "<!--overview-findings-->";
/// The place of a page's cached body.
pub(super) const BODY_MARK: &str = "<!--body-->";

/// The page `shell` with the first occurrence of each mark replaced by its cached fragment. To
/// a client that accepts gzip it goes as one gzip stream in which each fragment was compressed
/// once and only the shell around them now; to others as HTML, made in one allocation.
pub(super) fn spliced(
    request: &axum::http::HeaderMap,
    shell: &str,
    parts: &[(&str, &Fragment)],
) -> Response {
    let mut places: Vec<(usize, &str, &Fragment)> = parts
        .iter()
        .filter_map(|(mark, fragment)| shell.find(mark).map(|at| (at, *mark, *fragment)))
        .collect();
    places.sort_by_key(|(at, _, _)| *at);
    if super::encoded::accepts_gzip(request) {
        use super::encoded::Piece;
        let mut pieces = Vec::with_capacity(2 * places.len() + 1);
        let mut from = 0;
        for (at, mark, fragment) in &places {
            pieces.push(Piece::Text(&shell[from..*at]));
            pieces.push(Piece::Kept(fragment.deflated()));
            from = at + mark.len();
        }
        pieces.push(Piece::Text(&shell[from..]));
        return (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "accept-encoding"),
            ],
            super::encoded::spliced_gzip(&pieces),
        )
            .into_response();
    }
    let mut out = String::with_capacity(
        shell.len() + places.iter().map(|(_, _, f)| f.html.len()).sum::<usize>(),
    );
    let mut from = 0;
    for (at, mark, fragment) in places {
        out.push_str(&shell[from..at]);
        out.push_str(&fragment.html);
        from = at + mark.len();
    }
    out.push_str(&shell[from..]);
    Html(out).into_response()
}

async fn show_system(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path((plan_id, system_id)): Path<(String, String)>,
    axum::extract::RawQuery(raw_query): axum::extract::RawQuery,
    Query(q): Query<SavedQuery>,
) -> Result<Response> {
    let user = viewer.require()?;
    let lang = viewer.lang.clone();
    let (plan, plan_state) = load_with_state(&state, &plan_id).await?;
    let system = plan.system(&system_id).ok_or(Error::NotFound)?;
    let tag = Tag::plan_page(
        &state,
        &viewer,
        &plan_state,
        &[
            "system",
            plan.id.as_str(),
            system.id.as_str(),
            raw_query.as_deref().unwrap_or(""),
        ],
    );
    if let Some(not_modified) = tag.not_modified(&headers) {
        return Ok(not_modified);
    }
    let coverage = state
        .findings_stamped(&plan, plan_state.coverage_stamp())
        .await?;
    let findings: Vec<Value> = coverage
        .findings
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
    let exercised = coverage.exercised.get(system.id.as_str()).map(|e| {
        let record = &e.record;
        json!({
            "occurrence": e.occurrence,
            "title": e.title,
            "on": i18n::date(e.held_at.date_naive(), &lang),
            "met": match (record.recovery, system.rto) {
                (Some(took), Some(rto)) => Some(took <= rto),
                _ => None,
            },
            "recovery": record.recovery.map(|d| i18n::duration(d, &lang)),
        })
    });
    let supplier = system.supplier.as_ref().map(|s| {
        json!({"name": s.name, "contact": s.contact, "phone": s.phone, "tel": tel(&s.phone), "email": s.email, "restore": dur(s.contract_restore, &lang)})
    });
    let page = page(
        &state,
        &viewer,
        "system",
        json!({
            "editable": user.actor.may_edit_system(system),
            "saved": q.saved_view(),
            "reviewed": q.reviewed.is_some(),
            "exercised": exercised,
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
    )?;
    Ok(tag.on(page))
}

/// The overview's version line: the latest approved version and whether the draft (at
/// `revision`) has changed since.
fn version_view(latest: Option<&store::edits::VersionSummary>, revision: i64, lang: &str) -> Value {
    let changed = latest.is_none_or(|v| v.plan_revision != revision);
    json!({
        "latest": latest.map(|v| json!({
            "number": v.number,
            "approved_by": v.approved_by,
            "approved_at": v.approved_at.to_rfc3339(),
            "approved_on": i18n::date(v.approved_at.date_naive(), lang),
            "comment": v.comment,
        })),
        "draft_changed": changed,
    })
}

/// The systems the signed-in person owns or deputises for, in every plan, with what needs their
/// attention: an overdue review, findings.
async fn my_systems(State(state): State<AppState>, viewer: Viewer) -> Result<Html<String>> {
    let user = viewer.require()?;
    let mut plans = Vec::new();
    for id in store::plan_ids(&state.db).await? {
        let Some(plan) = state.plans.plan(&state.db, &id).await? else {
            continue;
        };
        let coverage = findings_of(&state, &plan).await?;
        let findings = &coverage.findings;
        let systems: Vec<Value> = plan
            .systems
            .iter()
            .filter(|s| user.actor.owns(s))
            .map(|s| {
                let mine: Vec<&Finding> =
                    findings.iter().filter(|f| f.systems.contains(&s.id)).collect();
                json!({
                    "id": s.id,
                    "name": s.name,
                    "crit": s.criticality.level(),
                    "deputy": s.deputy.as_ref().is_some_and(|d| Some(d.as_str()) == user.actor.person.as_deref()),
                    "editable": user.actor.may_edit_system(s),
                    "reviewed": s.last_reviewed.map(|d| i18n::date(d, &viewer.lang)),
                    "overdue": mine.iter().any(|f| f.code == analysis::Code::ReviewOverdue && f.system() == Some(&s.id)),
                    "findings": mine.iter().map(|f| finding_view(f)).collect::<Vec<_>>(),
                })
            })
            .collect();
        let today = state.clock.today();
        let actions: Vec<Value> = match user.actor.person.as_deref() {
            Some(me) => store::actions::list(
                &state.db,
                store::actions::Filter {
                    plan: Some(plan.id.as_str()),
                    owner: Some(me),
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .filter(|a| a.status == store::actions::OPEN)
            .map(|a| {
                json!({
                    "title": a.title,
                    "due": i18n::date(a.due, &viewer.lang),
                    "overdue": a.due < today,
                    "system": a.system_id,
                })
            })
            .collect(),
            None => Vec::new(),
        };
        if !systems.is_empty() || !actions.is_empty() {
            plans.push(
                json!({"id": plan.id, "name": plan.name, "systems": systems, "actions": actions}),
            );
        }
    }
    page(&state, &viewer, "my", json!({"plans": plans}))
}

/// The plan-level sections, read-only, with an edit link for those who may edit them.
async fn show_sections(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Html<String>> {
    let user = viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let call_tree: Vec<Value> = plan
        .call_tree
        .iter()
        .map(|c| {
            json!({
                "person": person_name(&plan, Some(&c.person)),
                "called_by": person_name(&plan, c.called_by.as_ref()),
                "note": c.note,
            })
        })
        .collect();
    page(
        &state,
        &viewer,
        "sections",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "s": plan.sections,
            "call_tree": call_tree,
            "channels": plan.channels,
            "editable": user.actor.may_edit_plan(),
            "saved": q.saved_view(),
        }),
    )
}
