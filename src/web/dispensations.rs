//! The plan's register of dispensations (`/plans/{plan}/dispensations`): every dispensation
//! with where it stands today, filtered by state, system, finding and expiry, as CSV too; the
//! form to ask for one (of a warning the analysis makes now, and for the coordinator of a
//! completeness requirement or a requirement of the IT security policy); and each one's own
//! page with its history, the approver's decision and the withdrawal.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{SignedIn, Viewer};
use super::edit::Fields;
use super::pages::{finding_view, load, page};
use super::{AppState, Error, Result, i18n};
use crate::domain::completeness;
use crate::domain::dispensation::{self, Dispensation, State as DState, Subject};
use crate::domain::{Code, Finding, Plan, Severity, SystemId};
use crate::render::findings::Words;
use crate::store::dispensations::NewRequest;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/dispensations", get(list).post(ask))
        .route("/plans/{plan}/dispensations.csv", get(csv))
        .route("/plans/{plan}/dispensations/{id}", get(one))
        .route("/plans/{plan}/dispensations/{id}/decision", post(decide))
        .route("/plans/{plan}/dispensations/{id}/withdraw", post(withdraw))
}

/// A finding as the form's choice names it: `finding:code|system,system`.
fn choice(f: &Finding) -> String {
    let systems: Vec<&str> = f.systems.iter().map(SystemId::as_str).collect();
    format!("finding:{}|{}", f.code.as_str(), systems.join(","))
}

/// What the form asks a dispensation from: `finding:code|systems`, `requirement:check`, or
/// `policy` with its text.
fn subject_of(choice: &str, policy: &str) -> Option<Subject> {
    if let Some(rest) = choice.strip_prefix("finding:") {
        let (code, systems) = rest.split_once('|')?;
        return Some(Subject::Finding {
            code: Code::parse(code)?,
            systems: systems
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| SystemId::parse(s).ok())
                .collect::<Option<Vec<_>>>()?,
        });
    }
    if let Some(check) = choice.strip_prefix("requirement:") {
        return completeness::IDS
            .contains(&check)
            .then(|| Subject::Requirement {
                check: check.to_string(),
            });
    }
    (choice == "policy").then(|| Subject::Policy {
        text: policy.trim().to_string(),
    })
}

/// The register's filters, as the query string gives them.
#[derive(Debug, Default, Deserialize)]
struct Filter {
    state: Option<String>,
    system: Option<String>,
    finding: Option<String>,
    /// Approved and expiring within this many days.
    expires: Option<String>,
}

impl Filter {
    fn wanted(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|w| !w.is_empty())
    }

    fn expires(&self) -> Option<i64> {
        self.expires.as_deref().and_then(|d| d.trim().parse().ok())
    }

    fn keeps(&self, d: &Dispensation, today: NaiveDate) -> bool {
        let st = d.state(today);
        let (code, systems) = match &d.subject {
            Subject::Finding { code, systems } => (Some(code.as_str()), systems.as_slice()),
            _ => (None, &[][..]),
        };
        Self::wanted(&self.state).is_none_or(|w| w == st.as_str())
            && Self::wanted(&self.system).is_none_or(|w| systems.iter().any(|s| s.as_str() == w))
            && Self::wanted(&self.finding).is_none_or(|w| code == Some(w))
            && self.expires().is_none_or(|days| {
                st == DState::Approved
                    && d.expires_on()
                        .is_some_and(|u| (u - today).num_days() <= days)
            })
    }

    fn query(&self) -> String {
        let pairs = [
            ("state", &self.state),
            ("system", &self.system),
            ("finding", &self.finding),
            ("expires", &self.expires),
        ];
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                out.append_pair(name, v);
            }
        }
        out.finish()
    }
}

const STATES: [DState; 5] = [
    DState::Requested,
    DState::Approved,
    DState::Expired,
    DState::Rejected,
    DState::Withdrawn,
];

/// A dispensation's row, as the register, its page and the CSV file show it.
fn row(
    state: &AppState,
    user: &SignedIn,
    words: &Words,
    lang: &str,
    findings: &[Finding],
    names: &crate::store::accounts::Names,
    d: &Dispensation,
) -> Value {
    let today = state.clock.today();
    let t = |key: &str| state.templates.text(lang, key);
    let st = d.state(today);
    let systems = match &d.subject {
        Subject::Finding { systems, .. } => {
            systems.iter().map(|s| words.system(s.as_str())).collect()
        }
        _ => Vec::new(),
    };
    json!({
        "id": d.id,
        "kind": match &d.subject {
            Subject::Finding { .. } => t("dispensation.kind.finding"),
            Subject::Requirement { .. } => t("dispensation.kind.requirement"),
            Subject::Policy { .. } => t("dispensation.kind.policy"),
        },
        "code": match &d.subject { Subject::Finding { code, .. } => Some(code.as_str()), _ => None },
        "systems": systems.join(", "),
        "subject": words.dispensation_subject(d, findings),
        "state": st.as_str(),
        "state_said": t(&format!("dispensation.state.{}", st.as_str())),
        "until": d.expires_on().map(|u| i18n::date(u, lang)),
        "until_iso": d.expires_on().map(|u| u.to_string()),
        "asked_until": i18n::date(d.requested_until, lang),
        "asked_until_iso": d.requested_until.to_string(),
        "requested_by": names.of(&d.requested_by),
        "requested_on": i18n::date(d.requested_on, lang),
        "justification": d.justification,
        "compensating": d.compensating,
        "consequence": d.consequence,
        "solution": d.solution,
        "solution_on": d.solution_on.map(|u| i18n::date(u, lang)),
        "decided_by": d.decision().map(|x| names.of(&x.by)),
        "decided_on": d.decision().map(|x| i18n::date(x.on, lang)),
        "comment": d.decision().map(|x| x.comment.as_str()),
        "not_needed": d.no_longer_needed(findings, today),
        "may_decide": user.actor.may_approve() && matches!(st, DState::Requested | DState::Approved | DState::Expired),
        "may_withdraw": dispensation::may_withdraw(&user.actor, d) && matches!(st, DState::Requested | DState::Approved),
    })
}

/// What happened to `d`, oldest first: the request, each decision, the withdrawal, the expiry.
fn history(
    state: &AppState,
    lang: &str,
    names: &crate::store::accounts::Names,
    d: &Dispensation,
) -> Vec<Value> {
    let t = |key: &str| state.templates.text(lang, key);
    let today = state.clock.today();
    let mut out = vec![json!({
        "on": i18n::date(d.requested_on, lang),
        "by": names.of(&d.requested_by),
        "what": t("dispensation.history.requested").replace("{date}", &i18n::date(d.requested_until, lang)),
    })];
    for (n, x) in d.decisions.iter().enumerate() {
        let renewed = n > 0 && d.decisions[..n].iter().any(|e| e.approved);
        let what = match (x.approved, x.expires_on) {
            (true, Some(u)) if renewed => {
                t("dispensation.history.renewed").replace("{date}", &i18n::date(u, lang))
            }
            (true, Some(u)) => {
                t("dispensation.history.approved").replace("{date}", &i18n::date(u, lang))
            }
            _ => t("dispensation.history.rejected").to_string(),
        };
        out.push(json!({
            "on": i18n::date(x.on, lang),
            "by": names.of(&x.by),
            "what": what,
            "comment": (!x.comment.is_empty()).then_some(x.comment.as_str()),
        }));
    }
    if let Some(on) = d.withdrawn_on {
        out.push(json!({
            "on": i18n::date(on, lang),
            "by": d.withdrawn_by.as_deref().map(|b| names.of(b)),
            "what": t("dispensation.history.withdrawn"),
        }));
    } else if d.state(today) == DState::Expired
        && let Some(u) = d.expires_on()
    {
        out.push(json!({
            "on": i18n::date(u + chrono::Duration::days(1), lang),
            "what": t("dispensation.history.expired"),
        }));
    }
    out
}

/// Every dispensation with its decisions, for the evidence file: what it is from, where it
/// stands, the justification and compensating measures, and its history.
pub(super) fn evidence(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    findings: &[Finding],
    names: &crate::store::accounts::Names,
    all: &[Dispensation],
) -> Vec<Value> {
    let words = Words::new(&state.templates.locales, lang, Some(plan));
    let today = state.clock.today();
    all.iter()
        .map(|d| {
            let st = d.state(today);
            json!({
                "id": d.id,
                "subject": words.dispensation_subject(d, findings),
                "state_said": state.templates.text(lang, &format!("dispensation.state.{}", st.as_str())),
                "until": d.expires_on().map(|u| i18n::date(u, lang)),
                "justification": d.justification,
                "compensating": d.compensating,
                "history": history(state, lang, names, d),
            })
        })
        .collect()
}

/// The approved dispensations the plan relies on today (those whose finding is gone left
/// out), as the approver sees them before approving a version.
pub(super) async fn relied_on(
    state: &AppState,
    lang: &str,
    plan: &Arc<Plan>,
) -> Result<Vec<Value>> {
    let coverage = state.app.findings(plan).await?;
    let today = state.clock.today();
    let words = Words::new(&state.templates.locales, lang, Some(plan));
    let all = crate::store::dispensations::of_plan(&state.db, plan.id.as_str()).await?;
    Ok(all
        .iter()
        .filter(|d| {
            d.state(today) == DState::Approved && !d.no_longer_needed(&coverage.findings, today)
        })
        .map(|d| {
            json!({
                "id": d.id,
                "subject": words.dispensation_subject(d, &coverage.findings),
                "until": d.expires_on().map(|u| i18n::date(u, lang)),
                "href": format!("/plans/{}/dispensations/{}", plan.id, d.id),
            })
        })
        .collect())
}

/// The register with the form to ask.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    plan: &Arc<Plan>,
    filter: &Filter,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response> {
    let user = viewer.require()?;
    let lang = viewer.lang.as_str();
    let t = |key: &str| state.templates.text(lang, key);
    let today = state.clock.today();
    let words = Words::new(&state.templates.locales, lang, Some(plan));
    let coverage = state.app.findings(plan).await?;
    let findings = &coverage.findings;
    let all = crate::store::dispensations::of_plan(&state.db, plan.id.as_str()).await?;
    let names = state.names().await?;
    let rows: Vec<Value> = all
        .iter()
        .rev()
        .filter(|d| filter.keeps(d, today))
        .map(|d| row(state, user, &words, lang, findings, &names, d))
        .collect();
    let choices: Vec<Value> = findings
        .iter()
        .filter(|f| f.severity() == Severity::Warning)
        .filter(|f| {
            subject_of(&choice(f), "")
                .is_some_and(|s| dispensation::may_request(&user.actor, plan, &s))
        })
        .map(|f| json!({"value": choice(f), "view": finding_view(&words, plan, f, true)}))
        .collect();
    let whole_plan = user.actor.edits_whole_plan();
    let requirements: Vec<Value> = if whole_plan {
        completeness::IDS
            .iter()
            .map(|id| json!({"value": format!("requirement:{id}"), "title": t(&format!("completeness.check.{id}.title"))}))
            .collect()
    } else {
        Vec::new()
    };
    // The systems and codes the register's dispensations name, for the filters.
    let mut systems: Vec<(String, String)> = Vec::new();
    let mut codes: Vec<&str> = Vec::new();
    for d in &all {
        if let Subject::Finding { code, systems: ids } = &d.subject {
            codes.push(code.as_str());
            systems.extend(
                ids.iter()
                    .map(|s| (s.to_string(), words.system(s.as_str()))),
            );
        }
    }
    systems.sort_by(|a, b| a.1.cmp(&b.1));
    systems.dedup();
    codes.sort_unstable();
    codes.dedup();
    let selected = |wanted: &Option<String>, value: &str| wanted.as_deref() == Some(value);
    let latest = today
        .checked_add_months(chrono::Months::new(plan.dispensation_max_months))
        .unwrap_or(today);
    let query = filter.query();
    let mut response = page(
        state,
        viewer,
        "dispensations",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "dispensations": rows,
            "total": all.len(),
            "filtered": !query.is_empty(),
            "csv": format!("/plans/{}/dispensations.csv{}{query}", plan.id, if query.is_empty() { "" } else { "?" }),
            "states": STATES.iter().map(|s| json!({"value": s.as_str(), "label": t(&format!("dispensation.state.{}", s.as_str())), "selected": selected(&filter.state, s.as_str())})).collect::<Vec<_>>(),
            "systems": systems.iter().map(|(id, name)| json!({"value": id, "label": name, "selected": selected(&filter.system, id)})).collect::<Vec<_>>(),
            "codes": codes.iter().map(|c| json!({"value": c, "selected": selected(&filter.finding, c)})).collect::<Vec<_>>(),
            "expires": filter.expires(),
            "choices": choices,
            "requirements": requirements,
            "policy": whole_plan,
            "may_ask": !choices.is_empty() || whole_plan,
            "error": error,
            "months": plan.dispensation_max_months,
            "min": (today + chrono::Duration::days(1)).to_string(),
            "max": latest.to_string(),
        }),
    )?
    .into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan): Path<String>,
    Query(filter): Query<Filter>,
) -> Result<Response> {
    viewer.require()?;
    let plan = load(&state, &plan).await?;
    render(&state, &viewer, &plan, &filter, StatusCode::OK, None).await
}

/// The register as CSV, with the same filters: one row per dispensation, codes and ISO dates
/// as they are stored, texts as written (a leading `=`, `+`, `-` or `@` quoted so a
/// spreadsheet does not run it).
async fn csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan): Path<String>,
    Query(filter): Query<Filter>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan).await?;
    let lang = viewer.lang.as_str();
    let today = state.clock.today();
    let words = Words::new(&state.templates.locales, lang, Some(&plan));
    let coverage = state.app.findings(&plan).await?;
    let all = crate::store::dispensations::of_plan(&state.db, plan.id.as_str()).await?;
    let names = state.names().await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| Error::Internal(format!("writing CSV: {e}"));
    out.write_record([
        "id",
        "state",
        "kind",
        "code",
        "systems",
        "subject",
        "requested_by",
        "requested_on",
        "requested_until",
        "decided_by",
        "decided_on",
        "expires_on",
        "justification",
        "compensating",
        "consequence",
        "solution",
        "solution_on",
        "comment",
        "no_longer_needed",
    ])
    .map_err(failed)?;
    for d in all.iter().filter(|d| filter.keeps(d, today)) {
        let r = row(&state, user, &words, lang, &coverage.findings, &names, d);
        let text = |name: &str| super::versions::cell(r[name].as_str().unwrap_or(""));
        let (kind, code, systems) = match &d.subject {
            Subject::Finding { code, systems } => (
                "finding",
                code.as_str().to_string(),
                systems
                    .iter()
                    .map(SystemId::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            Subject::Requirement { check } => ("requirement", check.clone(), String::new()),
            Subject::Policy { .. } => ("policy", String::new(), String::new()),
        };
        let decision = d.decision();
        out.write_record([
            d.id.to_string(),
            d.state(today).as_str().to_string(),
            kind.to_string(),
            code,
            systems,
            text("subject"),
            super::versions::cell(&d.requested_by),
            d.requested_on.to_string(),
            d.requested_until.to_string(),
            decision
                .map(|x| super::versions::cell(&x.by))
                .unwrap_or_default(),
            decision.map(|x| x.on.to_string()).unwrap_or_default(),
            d.expires_on().map(|u| u.to_string()).unwrap_or_default(),
            text("justification"),
            text("compensating"),
            text("consequence"),
            text("solution"),
            d.solution_on.map(|u| u.to_string()).unwrap_or_default(),
            decision
                .map(|x| super::versions::cell(&x.comment))
                .unwrap_or_default(),
            d.no_longer_needed(&coverage.findings, today).to_string(),
        ])
        .map_err(failed)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Internal(format!("writing CSV: {e}")))?;
    let name = format!("attachment; filename=\"dispensationer-{}.csv\"", plan.id);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

/// One dispensation's page: what it is from, where it stands, its history, and the approver's
/// decision and the withdrawal where they may be made.
async fn render_one(
    state: &AppState,
    viewer: &Viewer,
    plan: &Arc<Plan>,
    id: i64,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response> {
    let user = viewer.require()?;
    let lang = viewer.lang.as_str();
    let d = state.app.dispensation(plan, id).await?;
    let words = Words::new(&state.templates.locales, lang, Some(plan));
    let coverage = state.app.findings(plan).await?;
    let names = state.names().await?;
    let today = state.clock.today();
    let latest = today
        .checked_add_months(chrono::Months::new(plan.dispensation_max_months))
        .unwrap_or(today);
    let mut response = page(
        state,
        viewer,
        "dispensation",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "d": row(state, user, &words, lang, &coverage.findings, &names, &d),
            "history": history(state, lang, &names, &d),
            "error": error,
            "months": plan.dispensation_max_months,
            "min": (today + chrono::Duration::days(1)).to_string(),
            "max": latest.to_string(),
        }),
    )?
    .into_response();
    *response.status_mut() = status;
    Ok(response)
}

async fn one(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan, id)): Path<(String, i64)>,
) -> Result<Response> {
    viewer.require()?;
    let plan = load(&state, &plan).await?;
    render_one(&state, &viewer, &plan, id, StatusCode::OK, None).await
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

async fn ask(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan).await?;
    let f = Fields(pairs);
    let refused = async |key: &'static str| {
        render(
            &state,
            &viewer,
            &plan,
            &Filter::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(key),
        )
        .await
    };
    let Some(subject) = subject_of(&f.get("subject"), &f.get("policy_text")) else {
        return refused("dispensation.empty").await;
    };
    let Some(until) = date(&f.get("until")) else {
        return refused("dispensation.expiry_passed").await;
    };
    let new = NewRequest {
        plan_id: plan.id.to_string(),
        subject,
        justification: f.get("justification").trim().to_string(),
        compensating: f.get("compensating").trim().to_string(),
        consequence: f.get("consequence").trim().to_string(),
        solution: f.get("solution").trim().to_string(),
        solution_on: date(&f.get("solution_on")),
        requested_until: until,
        requested_by: user.actor.username.clone(),
    };
    match state
        .app
        .request_dispensation(&plan, &user.actor, new)
        .await
    {
        Ok(id) => {
            Ok(Redirect::to(&format!("/plans/{}/dispensations/{id}", plan.id)).into_response())
        }
        Err(crate::app::Error::Invalid(key)) => refused(key).await,
        Err(e) => Err(e.into()),
    }
}

/// The answer to an act on one dispensation: back to its page, or its page with the reason it
/// was refused.
async fn after(
    state: &AppState,
    viewer: &Viewer,
    plan: &Arc<Plan>,
    id: i64,
    done: crate::app::Result<()>,
) -> Result<Response> {
    match done {
        Ok(()) => {
            Ok(Redirect::to(&format!("/plans/{}/dispensations/{id}", plan.id)).into_response())
        }
        Err(crate::app::Error::Invalid(key)) => {
            render_one(
                state,
                viewer,
                plan,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(key),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan, id)): Path<(String, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan).await?;
    if !user.actor.may_approve() {
        return Err(Error::Forbidden);
    }
    let f = Fields(pairs);
    let until = match (f.get("decision").as_str(), date(&f.get("until"))) {
        ("approve", Some(until)) => Some(until),
        ("approve", None) => {
            let refused = Err(crate::app::Error::Invalid("dispensation.expiry_passed"));
            return after(&state, &viewer, &plan, id, refused).await;
        }
        _ => None,
    };
    let done = state
        .app
        .decide_dispensation(&plan, &user.actor, id, until, &f.get("comment"))
        .await
        .map(|_| ());
    after(&state, &viewer, &plan, id, done).await
}

async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan, id)): Path<(String, i64)>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan).await?;
    let done = state
        .app
        .withdraw_dispensation(&plan, &user.actor, id)
        .await
        .map(|_| ());
    after(&state, &viewer, &plan, id, done).await
}
