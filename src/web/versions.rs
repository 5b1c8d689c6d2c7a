//! Versions and the audit log: the draft against the latest approved version, approval by the
//! approver, the list of versions, a diff between any two, and who changed what when.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::pages::{load, page};
use super::{AppState, Error, Result, local};
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::domain::diff::{Change, Subject, is_text, plan_changes, words};
use crate::domain::{Plan, PlanId};
use crate::render::findings::Words;
use crate::store::accounts::Names;
use crate::store::audit::{AuditEvent, AuditFilter};
use crate::store::{self, edits::Approved};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/versions", get(list_versions))
        .route("/plans/{plan}/versions/diff", get(show_diff))
        .route("/plans/{plan}/approve", get(approve_form).post(approve))
        .route("/audit", get(audit_log))
        .route("/audit.csv", get(audit_csv))
}

/// `draft` or a version number.
fn side(text: &str) -> Option<Option<i32>> {
    if text == "draft" {
        Some(None)
    } else {
        text.parse().ok().filter(|n| *n > 0).map(Some)
    }
}

/// The plan as it was in `version` (the draft for `None`), and when that version was approved.
async fn plan_at(
    state: &AppState,
    plan: &Plan,
    version: Option<i32>,
) -> Result<(Plan, Option<DateTime<Utc>>)> {
    match version {
        None => Ok((plan.clone(), None)),
        Some(n) => store::edits::version_plan(&state.db, &plan.id, n)
            .await?
            .map(|(v, p)| (p, Some(v.approved_at)))
            .ok_or(Error::NotFound),
    }
}

/// Who changed each field between two versions, from the audit log: the latest edit of each
/// (system, field) and how many there were.
#[derive(Default)]
struct Edits(HashMap<(Option<String>, String), (AuditEvent, usize)>);

impl Edits {
    /// The edits made between two sides, each the time its version was approved or `None` for
    /// the draft (now), in either order.
    async fn between(
        state: &AppState,
        plan: &PlanId,
        a: Option<DateTime<Utc>>,
        b: Option<DateTime<Utc>>,
    ) -> Result<Edits> {
        let (after, until) = match (a, b) {
            (Some(a), Some(b)) => (a.min(b), Some(a.max(b))),
            (Some(t), None) | (None, Some(t)) => (t, None),
            (None, None) => return Ok(Edits::default()),
        };
        let mut edits = Edits::default();
        // Newest first, so the first seen of each field is its latest edit.
        for e in store::audit::plan_edits(&state.db, plan, Some(after), until).await? {
            edits
                .0
                .entry((e.system_id.clone(), e.field.clone()))
                .or_insert((e, 0))
                .1 += 1;
        }
        Ok(edits)
    }

    fn of(&self, change: &Change) -> Option<&(AuditEvent, usize)> {
        let system = change.subject.system().map(str::to_string);
        self.0.get(&(system, store::audit::field_name(change)))
    }
}

/// Changes grouped by what they concern, for the diff template: text fields compared word by
/// word, short ones as old → new, each with who changed it last and when.
fn grouped(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    changes: &[Change],
    edits: &Edits,
    names: &Names,
) -> Vec<Value> {
    let mut groups: Vec<(Subject, Vec<Value>)> = Vec::new();
    for c in changes {
        // The field by its name in the reader's language; the key where there is none.
        let label = state
            .templates
            .locales
            .get(lang, &format!("diff.label.{}", c.field.replace('.', "_")));
        let edit = edits.of(c);
        let imported = edit.is_some_and(|(e, _)| e.actor == store::IMPORT_ACTOR);
        let row = json!({
            "field": c.field,
            "label": label,
            "text": is_text(c.field),
            "pieces": if is_text(c.field) { words(&c.before, &c.after) } else { Vec::new() },
            "before": c.before,
            "after": c.after,
            "by": edit.map(|(e, _)| names.of(&e.actor)),
            "imported": imported,
            "when": edit.map(|(e, _)| super::local(state, e.at, lang)),
            "edits": edit.map_or(0, |(_, n)| *n),
        });
        match groups.last_mut() {
            Some((subject, rows)) if *subject == c.subject => rows.push(row),
            _ => groups.push((c.subject.clone(), vec![row])),
        }
    }
    groups
        .into_iter()
        .map(|(subject, rows)| {
            let (kind, id, name) = match &subject {
                Subject::Plan => ("plan", String::new(), plan.name.clone()),
                Subject::Role(id) => ("role", id.clone(), id.clone()),
                Subject::Person(id) => (
                    "person",
                    id.clone(),
                    plan.person(id).map_or(id.clone(), |p| p.name.clone()),
                ),
                Subject::System(id) => (
                    "system",
                    id.clone(),
                    plan.system(id).map_or(id.clone(), |s| s.name.clone()),
                ),
            };
            json!({"kind": format!("diff.kind.{kind}"), "id": id, "name": name, "system": kind == "system", "rows": rows})
        })
        .collect()
}

async fn list_versions(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let versions = store::edits::versions(&state.db, &plan.id).await?;
    let revisions = store::plan_revisions(&state.db, &plan.id)
        .await?
        .ok_or(Error::NotFound)?;
    let latest = versions.first();
    let draft_changed = latest.is_none_or(|v| v.plan_revision != revisions.revision);
    // The draft against the latest approved version (or against nothing, before the first).
    let (changes, edits) = match latest {
        Some(v) => (
            plan_changes(&plan_at(&state, &plan, Some(v.number)).await?.0, &plan),
            Edits::between(&state, &plan.id, Some(v.approved_at), None).await?,
        ),
        None => (Vec::new(), Edits::default()),
    };
    let names = state.names().await?;
    let lang = &viewer.lang;
    let rows: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "number": v.number,
                "approved_by": v.approver,
                "approved_on": super::i18n::date(v.approved_at.date_naive(), lang),
                "approved_at": v.approved_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                "comment": v.comment,
            })
        })
        .collect();
    // Compared by default: the latest approved version (newest first) against the draft.
    let newest = latest.map(|v| v.number);
    let choices: Vec<Value> = std::iter::once(
        json!({"value": "draft", "label": "draft", "from": newest.is_none(), "to": true}),
    )
    .chain(versions.iter().map(|v| {
        json!({"value": v.number.to_string(), "label": v.number.to_string(), "from": Some(v.number) == newest, "to": false})
    }))
    .collect();
    page(
        &state,
        &viewer,
        "versions",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "versions": rows,
            "latest": latest.map(|v| v.number),
            "draft_changed": draft_changed,
            "changes": grouped(&state, &viewer.lang, &plan, &changes, &edits, &names),
            "change_count": changes.len(),
            "may_approve": user.actor.may_approve(),
            "relied_on": if user.actor.may_approve() && draft_changed {
                super::dispensations::relied_on(&state, lang, &plan).await?
            } else {
                Vec::new()
            },
            "choices": choices,
        }),
    )
    .map(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct DiffQuery {
    /// A version's number or `draft`; without it, the latest approved version.
    from: Option<String>,
    /// A version's number or `draft` (the default).
    to: Option<String>,
}

async fn show_diff(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response> {
    viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let latest = match &q.from {
        Some(_) => None,
        None => store::edits::versions(&state.db, &plan.id)
            .await?
            .first()
            .map(|v| v.number.to_string()),
    };
    let from = q.from.as_deref().or(latest.as_deref()).unwrap_or("draft");
    let (Some(from), Some(to)) = (side(from), side(q.to.as_deref().unwrap_or("draft"))) else {
        return Err(Error::NotFound);
    };
    let (before, from_at) = plan_at(&state, &plan, from).await?;
    let (after, to_at) = plan_at(&state, &plan, to).await?;
    let changes = plan_changes(&before, &after);
    let edits = Edits::between(&state, &plan.id, from_at, to_at).await?;
    let names = state.names().await?;
    let t = |key: &str| state.templates.text(&viewer.lang, key);
    let label = |v: Option<i32>| {
        v.map_or_else(
            || t("versions.draft"),
            |n| t("versions.version").replace("{number}", &n.to_string()),
        )
    };
    page(
        &state,
        &viewer,
        "diff",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "from": label(from),
            "to": label(to),
            "changes": grouped(&state, &viewer.lang, &after, &changes, &edits, &names),
            "change_count": changes.len(),
        }),
    )
    .map(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct ApproveForm {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    confirmed: String,
}

/// Asks before the draft is approved: which version it becomes, how many systems it changes,
/// and whether a comment was written.
async fn ask_approve(
    state: &AppState,
    viewer: &Viewer,
    plan: &Plan,
    comment: &str,
) -> Result<Response> {
    let lang = &viewer.lang;
    let t = |key: &str| state.templates.text(lang, key);
    let versions = store::edits::versions(&state.db, &plan.id).await?;
    let revisions = store::plan_revisions(&state.db, &plan.id)
        .await?
        .ok_or(Error::NotFound)?;
    let latest = versions.first();
    if latest.is_some_and(|v| v.plan_revision == revisions.revision) {
        return Ok(Redirect::to(&format!("/plans/{}/versions", plan.id)).into_response());
    }
    let number = latest.map_or(1, |v| v.number + 1);
    let changed = match latest {
        Some(v) => {
            let mut systems: Vec<String> =
                plan_changes(&plan_at(state, plan, Some(v.number)).await?.0, plan)
                    .into_iter()
                    .filter_map(|c| match c.subject {
                        Subject::System(id) => Some(id),
                        _ => None,
                    })
                    .collect();
            systems.sort();
            systems.dedup();
            state
                .templates
                .counted(lang, "confirm.approve.changed", systems.len())
        }
        None => state
            .templates
            .counted(lang, "confirm.approve.first", plan.systems.len()),
    };
    let mut points = vec![changed];
    if comment.is_empty() {
        points.push(t("confirm.approve.no_comment"));
    } else {
        points.push(t("confirm.approve.comment").replace("{comment}", comment));
    }
    super::confirm::ask(
        state,
        viewer,
        super::confirm::Confirm {
            title: t("confirm.approve.title").replace("{number}", &number.to_string()),
            lead: t("confirm.approve.lead").replace("{number}", &number.to_string()),
            points,
            action: format!("/plans/{}/approve", plan.id),
            hidden: vec![("comment".into(), comment.to_string())],
            choice: None,
            button: "versions.approve",
            back: format!("/plans/{}/versions", plan.id),
        },
    )
}

async fn approve_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_approve())?;
    let plan = load(&state, &plan_id).await?;
    ask_approve(&state, &viewer, &plan, "").await
}

/// Approves the draft once the confirmation was seen; without it, asks.
async fn approve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Form(form): Form<ApproveForm>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_approve())?;
    let id = PlanId::parse(&plan_id).map_err(|_| Error::NotFound)?;
    let comment = form.comment.trim();
    if comment.chars().count() > crate::domain::edit::MAX_FIELD_CHARS {
        return Err(Error::TooLarge);
    }
    if form.confirmed != "1" {
        let plan = load(&state, &plan_id).await?;
        return ask_approve(&state, &viewer, &plan, comment).await;
    }
    match state
        .approve_draft(&id, &user.actor.username, comment)
        .await?
    {
        Approved::Version(v) => {
            tracing::info!(user = %user.actor.username, plan = %id, version = v.number, "approved");
            super::confirm::tell(
                &viewer,
                super::confirm::Flash::new("flash.version_approved").number(i64::from(v.number)),
            )
            .await?;
            Ok(Redirect::to(&format!("/plans/{id}/versions")).into_response())
        }
        Approved::NothingNew => {
            Ok(Redirect::to(&format!("/plans/{id}/versions?unchanged=1")).into_response())
        }
        Approved::Gone => Err(Error::NotFound),
    }
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    plan: Option<String>,
    actor: Option<String>,
    system: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The filter from the query; empty values mean "any". A date that cannot be read is named.
fn audit_filter(q: &AuditQuery) -> std::result::Result<AuditFilter, &'static str> {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let date = |v: &Option<String>, name: &'static str| match text(v) {
        None => Ok(None),
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| name),
    };
    Ok(AuditFilter {
        plan: text(&q.plan),
        actor: text(&q.actor),
        system: text(&q.system),
        from: date(&q.from, "from")?,
        to: date(&q.to, "to")?,
        limit: None,
        within: None,
    })
}

/// The plans whose audit records the user may read (`None`: every record), or 403 when none.
async fn audit_plans(state: &AppState, viewer: &Viewer) -> Result<Option<Vec<String>>> {
    let user = viewer.require()?;
    let plans = store::plan_ids(&state.db).await?;
    let within = user.plans_where(plans.iter().map(|p| p.to_string()), |a| a.may_read_audit());
    if within.as_ref().is_some_and(Vec::is_empty) {
        return Err(Error::Forbidden);
    }
    Ok(within)
}

/// Shown on the page; the CSV has all.
const AUDIT_PAGE_ROWS: u64 = 500;

async fn audit_log(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response> {
    let within = audit_plans(&state, &viewer).await?;
    let (mut filter, bad_date) = match audit_filter(&q) {
        Ok(f) => (f, None),
        Err(field) => (AuditFilter::default(), Some(field)),
    };
    filter.within = within.clone();
    let mut shown = filter.clone();
    shown.limit = Some(AUDIT_PAGE_ROWS);
    let events = store::audit::query(&state.db, &shown).await?;
    let actors = store::audit::actors(&state.db, within.as_deref()).await?;
    let words = Words::new(&state.templates.locales, &viewer.lang, None);
    let names = state.names().await?;
    let plans: Vec<_> = store::plan_summaries(&state.db)
        .await?
        .into_iter()
        .filter(|p| {
            within
                .as_ref()
                .is_none_or(|w| w.iter().any(|id| id == p.id.as_str()))
        })
        .collect();
    let query = serde_urlencoded_pairs(&q);
    let status = if bad_date.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = page(
        &state,
        &viewer,
        "audit",
        json!({
            "events": events.iter().map(|e| {
                let shown = Shown { state: &state, lang: &viewer.lang, words: &words };
                json!({
                    "at": local(&state, e.at, &viewer.lang),
                    "actor": names.of(&e.actor),
                    "plan": e.plan_id,
                    "system": e.system_id,
                    "action": shown.action(&e.action),
                    "code": e.action,
                    "field": shown.field(&e.field),
                    "before": shown.value(&e.action, &e.before),
                    "after": shown.value(&e.action, &e.after),
                })
            }).collect::<Vec<_>>(),
            "limited": events.len() as u64 == AUDIT_PAGE_ROWS,
            "actors": actors.iter().map(|a| json!({"value": a, "name": names.of(a), "selected": filter.actor.as_deref() == Some(a)})).collect::<Vec<_>>(),
            "plans": plans.iter().map(|p| json!({"value": p.id, "label": p.name, "selected": filter.plan.as_deref() == Some(p.id.as_str())})).collect::<Vec<_>>(),
            "filter": {
                "system": q.system.clone().unwrap_or_default(),
                "from": q.from.clone().unwrap_or_default(),
                "to": q.to.clone().unwrap_or_default(),
            },
            "bad_date": bad_date,
            "csv": format!("/audit.csv?{query}"),
        }),
    )?;
    Ok((status, body).into_response())
}

/// The query again, for the CSV link.
fn serde_urlencoded_pairs(q: &AuditQuery) -> String {
    [
        ("plan", &q.plan),
        ("actor", &q.actor),
        ("system", &q.system),
        ("from", &q.from),
        ("to", &q.to),
    ]
    .iter()
    .filter_map(|(k, v)| {
        v.as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| format!("{k}={}", super::render::url_escape(v)))
    })
    .collect::<Vec<_>>()
    .join("&")
}

/// A cell a spreadsheet would run as a formula is prefixed with `'`.
pub(super) fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

async fn audit_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response> {
    let within = audit_plans(&state, &viewer).await?;
    let Ok(mut filter) = audit_filter(&q) else {
        return Ok((
            StatusCode::BAD_REQUEST,
            "from/to: expected a date like 2026-11-28\n",
        )
            .into_response());
    };
    filter.within = within;
    let events = store::audit::query(&state.db, &filter).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, row: [String; 8]| {
        out.write_record(row)
            .map_err(|e| Error::Internal(format!("writing CSV: {e}")))
    };
    write(
        &mut out,
        [
            "time", "actor", "plan", "system", "action", "field", "before", "after",
        ]
        .map(String::from),
    )?;
    for e in &events {
        write(
            &mut out,
            [
                e.at.to_rfc3339(),
                cell(&e.actor),
                cell(e.plan_id.as_deref().unwrap_or("")),
                cell(e.system_id.as_deref().unwrap_or("")),
                cell(&e.action),
                cell(&e.field),
                cell(&e.before),
                cell(&e.after),
            ],
        )?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Internal(format!("writing CSV: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// An audit record in the reader's words: what was done (`Punkt krydset af`, not
/// `incident-tick`), to what (`Hændelse 3`, `Reetableringstrin 2`) and the values that name a
/// state or a step. The CSV file keeps the codes.
struct Shown<'a> {
    state: &'a AppState,
    lang: &'a str,
    words: &'a Words<'a>,
}

impl Shown<'_> {
    fn text(&self, key: &str) -> Option<&str> {
        self.state.templates.locales.get(self.lang, key)
    }

    fn action(&self, code: &str) -> String {
        self.text(&format!("audit.action.{code}"))
            .map_or_else(|| code.to_string(), str::to_string)
    }

    /// `incident 3` is "Hændelse 3", `occurrence 7 inject 2` "Gennemførelse 7, indspil 2",
    /// `person:anne.phone` "Person anne: Telefon", a plan or system field its name; an
    /// account's username stays as it is.
    fn field(&self, field: &str) -> String {
        let words: Vec<&str> = field.split(' ').collect();
        let subjects: Option<Vec<String>> = words
            .chunks(2)
            .enumerate()
            .map(|(i, pair)| match pair {
                [kind, n] if n.bytes().all(|b| b.is_ascii_digit()) => {
                    let text = self.text(&format!("audit.subject.{kind}"))?;
                    let text = text.replace("{n}", n);
                    Some(if i == 0 { text } else { text.to_lowercase() })
                }
                _ => None,
            })
            .collect();
        if let Some(subjects) = subjects.filter(|_| words.len() >= 2) {
            return subjects.join(", ");
        }
        for kind in ["person", "role"] {
            if let Some((id, name)) = field
                .strip_prefix(kind)
                .and_then(|rest| rest.strip_prefix(':'))
                .and_then(|rest| rest.split_once('.'))
            {
                let of = self.text(&format!("diff.kind.{kind}")).unwrap_or(kind);
                return format!("{of} {id}: {}", self.words.field(name));
            }
        }
        if field.is_empty() || field.contains(['@', ' ']) {
            return field.to_string();
        }
        self.words.field(field)
    }

    /// `step 3` is "Trin 3"; an incident's state and an action item's status are named.
    fn value(&self, action: &str, value: &str) -> String {
        if let Some(n) = value.strip_prefix("step ")
            && let Some(text) = self.text("audit.step")
        {
            return text.replace("{n}", n);
        }
        if action == "recovery-code-use"
            && let Some(n) = value.strip_suffix(" left")
            && let Some(text) = self.text("audit.value.codes_left")
        {
            return text.replace("{n}", n);
        }
        let key = match action {
            "account-break-glass" => format!("audit.value.{value}"),
            "incident-stand-down" | "incident-close" => format!("incident.state.{value}"),
            "action-status" => format!("action.{value}"),
            "incident-down" | "incident-recovered" => format!("audit.value.{value}"),
            _ => return value.to_string(),
        };
        self.text(&key)
            .map_or_else(|| value.to_string(), str::to_string)
    }
}
