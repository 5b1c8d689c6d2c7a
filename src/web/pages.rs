//! The pages: plan list, plan overview, system page, language choice, static files.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{SeenViewer, Viewer, cookie_language};
use super::cache::Fragment;
use super::conditional::Tag;
use super::i18n::{self};
use super::render::{self};
use super::{AppState, Error, ErrorDetail, ErrorPage, Result};
use crate::app::plans::Coverage;
use crate::domain::analysis::{self, Finding, Severity};
use crate::domain::{Duration, Plan, PlanId};
use crate::render::findings::Words;
use crate::render::{dur, person_name, tel};
use crate::store;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/", get(list_plans))
        .route("/my", get(my_systems))
        .route("/plans/{plan}/systems/{system}", get(show_system))
        .route("/plans/{plan}/sections", get(show_sections))
        .route("/static/{file}", get(static_asset))
        // Browsers ask for it on every site, whatever the page names.
        .route(
            "/favicon.ico",
            get(|| static_asset(Path("favicon.svg".to_string()))),
        )
        .fallback(not_found)
}

/// Renders page `name` for `viewer`: adds who is signed in, what they may do, and the CSRF
/// token for the page's forms.
/// The roles the header names: those in this page's plan, or outside a plan administrator or
/// every role held anywhere.
fn roles_named(state: &AppState, lang: &str, user: &super::auth::SignedIn) -> String {
    use crate::domain::access::AccessRole;
    let mut roles = if user.actor.roles.is_empty() {
        user.anywhere().roles
    } else {
        user.actor.roles.clone()
    };
    if user.account.administrator {
        roles.insert(0, AccessRole::Administrator);
    }
    roles
        .iter()
        .map(|r| state.templates.text(lang, &format!("role.{}", r.as_str())))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn page(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    mut data: Value,
) -> Result<Html<String>> {
    if let Value::Object(map) = &mut data {
        if let Some(user) = &viewer.user {
            // The links of the navigation lead to pages across plans: shown for what the
            // account may do in any of its plans.
            let anywhere = user.anywhere();
            map.insert(
                "user".into(),
                json!({
                    "username": user.account.username,
                    "name": user.account.display_name,
                    "role": roles_named(state, &viewer.lang, user),
                    "edits_plan": anywhere.may_edit_plan(),
                    "admin": anywhere.may_manage_accounts(),
                    "audit": anywhere.may_read_audit(),
                    "owner": user.owns_systems,
                    // A break-glass account must not rest on a password alone.
                    "enrol_hint": user.account.break_glass && !user.account.has_second_factor,
                }),
            );
        }
        if let Some(text) = viewer
            .flash
            .as_ref()
            .and_then(|f| f.text(state, &viewer.lang))
        {
            map.insert("flash".into(), json!(text));
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

/// An unknown page; the viewer is read so that the error page has their navigation.
async fn not_found(_viewer: Viewer) -> Error {
    Error::NotFound
}

/// Replaces the bodies of error responses with the error page, in the visitor's language and,
/// for someone signed in, with the page's navigation. The API answers in JSON itself and is
/// left alone.
pub(super) async fn error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let lang = cookie_language(request.headers()).unwrap_or_else(|| state.config.language.clone());
    let seen = SeenViewer::default();
    let mut request = request;
    request.extensions_mut().insert(seen.clone());
    let response = next.run(request).await;
    let (response, rejected) = rejection(response).await;
    let key = match response.extensions().get::<ErrorPage>().copied() {
        Some(ErrorPage(key)) => key,
        None => match &rejected {
            Some(d) if !d.field.is_empty() => "error.bad_field",
            Some(_) => "error.bad_request",
            None => return response,
        },
    };
    let status = response.status();
    let detail = response
        .extensions()
        .get::<ErrorDetail>()
        .or(rejected.as_ref());
    // Who is signed in, as the handler found out.
    let viewer = seen.get().filter(|v| v.user.is_some());
    let lang = viewer.map_or(lang, |v| v.lang.clone());
    let data = json!({
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
    });
    let rendered = match viewer {
        Some(viewer) => page(&state, viewer, "error", data).map(|Html(page)| page),
        None => state
            .templates
            .page("error", &lang, data)
            .map_err(Error::from),
    };
    match rendered {
        Ok(page) => {
            // As HTML: the body of the error response was text.
            let mut page = (status, Html(page)).into_response();
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

/// A request the extractors refused before any handler ran (a query string or form without a
/// field it needs, a value of the wrong kind), answered by axum in English plain text: the
/// response, and the field it names for the error page.
async fn rejection(response: Response) -> (Response, Option<ErrorDetail>) {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    let status = response.status();
    if !plain
        || !(status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY)
        || response.extensions().get::<ErrorPage>().is_some()
    {
        return (response, None);
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    // Axum's own words; a handler's plain-text answer (to a page's script) stays as it is.
    const REJECTIONS: [&str; 3] = ["Failed to deserialize", "Invalid URL", "Form requests"];
    if !REJECTIONS.iter().any(|r| text.starts_with(r)) {
        let body = axum::body::Body::from(bytes.clone());
        return (Response::from_parts(parts, body), None);
    }
    // `Failed to deserialize query string: missing field `from``: the name in backticks.
    let field = text
        .split('`')
        .nth(1)
        .map(str::to_string)
        .unwrap_or_default();
    tracing::info!(reason = %text, "request refused");
    let response = Response::from_parts(parts, axum::body::Body::empty());
    (
        response,
        Some(ErrorDetail {
            field,
            code: String::new(),
        }),
    )
}

async fn list_plans(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    let user = viewer.require()?;
    // The plans the account may see; the others are not named.
    let all = store::plan_summaries(&state.db).await?;
    let stored = all.len();
    let plans: Vec<_> = all
        .into_iter()
        .filter(|p| user.reads_plan(p.id.as_str()))
        .collect();
    if let [only] = plans.as_slice() {
        // A message waiting for this page is for the one it sends on to.
        if let Some(flash) = viewer.flash.clone() {
            super::confirm::tell(&viewer, flash).await?;
        }
        return Ok(Redirect::to(&format!("/plans/{}", only.id)).into_response());
    }
    let none = plans.is_empty() && stored > 0;
    let plans: Vec<Value> = plans
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name, "organisation": p.organisation}))
        .collect();
    Ok(page(
        &state,
        &viewer,
        "plans",
        json!({"plans": plans, "no_access": none}),
    )?
    .into_response())
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

/// The system a picker's text names: its id, or the name it is shown by (case and the spaces
/// around it do not count). A name two systems share picks neither.
pub(super) fn pick_system<'p>(plan: &'p Plan, typed: &str) -> Option<&'p crate::domain::System> {
    let typed = typed.trim();
    if typed.is_empty() {
        return None;
    }
    if let Some(system) = plan.system(typed) {
        return Some(system);
    }
    let wanted = typed.to_lowercase();
    let mut named = plan
        .systems
        .iter()
        .filter(|s| s.name.trim().to_lowercase() == wanted);
    match (named.next(), named.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// A finding as the `finding_item` partial shows it, in the words' language; `linked` puts a
/// link to the system it belongs to in front (where the list holds several systems' findings).
pub(super) fn finding_view(words: &Words, plan: &Plan, f: &Finding, linked: bool) -> Value {
    let system = f.system().filter(|_| linked);
    let text = words.finding(f);
    // The field, where the text does not already name it ("Senest gennemgået 10. juni 2025").
    let field = f
        .field
        .as_deref()
        .map(|path| words.field(path))
        .filter(|label| !text.to_lowercase().contains(&label.to_lowercase()));
    json!({
        "code": f.code.as_str(),
        "error": f.severity() == Severity::Error,
        "text": text,
        "field": field,
        "href": system.map(|s| format!("/plans/{}/systems/{s}", plan.id)),
        "system": system.map(|s| words.system(s.as_str())),
        "accepted": words.accepted(f),
        "dispensation_href": f.accepted().map(|a| format!("/plans/{}/dispensations/{}", plan.id, a.dispensation)),
    })
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

/// Places in the overview's shell that `splice` fills. Text from a plan can never produce
/// them: it is escaped, so it holds no `<`.
pub(super) const ROWS_MARK: &str = "<!--overview-rows-->";
pub(super) const FINDINGS_MARK: &str = "<!--overview-findings-->";
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
    let words = Words::new(&state.templates.locales, &viewer.lang, Some(&plan));
    let findings: Vec<Value> = coverage
        .findings
        .iter()
        .filter(|f| f.systems.contains(&system.id))
        .map(|f| finding_view(&words, &plan, f, f.system() != Some(&system.id)))
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
pub(super) fn version_view(
    latest: Option<&store::edits::VersionSummary>,
    revision: i64,
    lang: &str,
) -> Value {
    let changed = latest.is_none_or(|v| v.plan_revision != revision);
    json!({
        "latest": latest.map(|v| json!({
            "number": v.number,
            "approved_by": v.approver,
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
    let signed_in = viewer.require()?;
    let mut plans = Vec::new();
    for id in store::plan_ids(&state.db).await? {
        // Each plan as the account stands in it; plans it may not see are left out.
        let Some(user) = signed_in.in_plan(id.as_str()) else {
            continue;
        };
        let Some(plan) = state.plans.plan(&state.db, &id).await? else {
            continue;
        };
        let coverage = findings_of(&state, &plan).await?;
        let findings = &coverage.findings;
        let words = Words::new(&state.templates.locales, &viewer.lang, Some(&plan));
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
                    "findings": mine.iter().map(|f| finding_view(&words, &plan, f, f.system() != Some(&s.id))).collect::<Vec<_>>(),
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
