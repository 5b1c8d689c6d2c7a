//! Drill pages: the plan's drill programme and scenario library, planning a drill, one drill
//! with its occurrences and what was sent, and the outbox.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{SignedIn, Viewer};
use super::edit::{Fields, problem_text};
use super::i18n;
use super::pages::{load, page, page_with};
use super::{AppState, Error, Result};
use crate::app::drills::schedule_text;
use crate::domain::access::Actor;
use crate::domain::drill::{DrillForm, Schedule};
use crate::domain::{Plan, ScenarioId};
use crate::store::{self, drills::Drill, outbox};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{plan}/drills", get(list))
        .route("/plans/{plan}/drills/new", get(new_form).post(create))
        .route("/drills/{id}", get(show))
        .route("/drills/{id}/edit", get(edit_form).post(update))
        .route("/drills/{id}/cancel", get(cancel_form).post(cancel))
        .route("/drills/{id}/reschedule", axum::routing::post(reschedule))
        .route("/outbox", get(outbox_page))
}

/// A moment as the plan's people read it: local date and time in the drill's time zone.
pub(super) fn local(at: chrono::DateTime<Utc>, drill: &Drill, lang: &str) -> String {
    i18n::local_time(at.with_timezone(&drill.time_zone), lang)
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let library = store::drills::scenarios(&state.db, &plan.id).await?;
    let now = state.clock.now();
    let mut drills = Vec::new();
    for d in store::drills::list(&state.db, Some(&plan.id)).await? {
        let next = store::drills::occurrences(&state.db, d.id)
            .await?
            .into_iter()
            .find(|o| o.starts_at > now);
        drills.push(json!({
            "id": d.id,
            "title": d.title,
            "kind": format!("drill.kind.{}", d.scenario.kind.as_str()),
            "schedule": schedule_text(&d.schedule),
            "next": next.as_ref().map(|o| local(o.starts_at, &d, &viewer.lang)),
            "invited": next.as_ref().is_some_and(|o| o.invited_at.is_some()),
            "participants": d.participants.len(),
        }));
    }
    page(
        &state,
        &viewer,
        "drills",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "drills": drills,
            "scenarios": library.iter().map(|s| json!({
                "id": s.id,
                "title": s.title,
                "kind": format!("drill.kind.{}", s.kind.as_str()),
                "duration": super::i18n::duration(s.duration, &viewer.lang),
                "systems": s.systems_down,
            })).collect::<Vec<_>>(),
            "may_plan": user.actor.may_edit_plan(),
        }),
    )
    .map(IntoResponse::into_response)
}

#[derive(Deserialize)]
struct NewQuery {
    scenario: String,
}

async fn scenario_of(
    state: &AppState,
    plan: &Plan,
    id: &str,
) -> Result<crate::domain::drill::Scenario> {
    let id = ScenarioId::parse(id).map_err(|_| Error::NotFound)?;
    store::drills::scenarios(&state.db, &plan.id)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(Error::NotFound)
}

fn form_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    scenario: &crate::domain::drill::Scenario,
    form: &DrillForm,
    errors: &[crate::domain::edit::FieldError],
) -> Value {
    let error = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| problem_text(state, lang, &e.problem))
    };
    let f = |name: &str, value: &str| json!({"name": name, "value": value, "error": error(name)});
    json!({
        "plan": {"id": plan.id, "name": plan.name},
        "scenario": {
            "id": scenario.id,
            "title": scenario.title,
            "kind": format!("drill.kind.{}", scenario.kind.as_str()),
            "narrative": scenario.narrative,
            "duration": super::i18n::duration(scenario.duration, lang),
        },
        "f": {
            "title": f("title", &form.title),
            "at": f("at", &form.at),
            "cron": f("cron", &form.cron),
            "location": f("location", &form.location),
            "invite_days_before": f("invite_days_before", &form.invite_days_before),
        },
        "recurring": form.repeat == "recurring",
        "facilitators": std::iter::once(json!({"value": "", "label": "—", "selected": form.facilitator.is_empty()}))
            .chain(plan.people.iter().map(|p| json!({"value": p.id, "label": p.name, "selected": form.facilitator == p.id.as_str()})))
            .collect::<Vec<_>>(),
        "people": plan.people.iter().map(|p| json!({
            "id": p.id,
            "name": p.name,
            "title": p.title,
            // Their roles in the plan, by name: whom a scenario's roles call in.
            "roles": p.roles.iter().map(|r| plan.roles.iter().find(|x| &x.id == r).map_or(r.as_str(), |x| x.name.as_str())).collect::<Vec<_>>().join(", "),
            "checked": form.participants.iter().any(|x| x == p.id.as_str()),
        })).collect::<Vec<_>>(),
        "editing": false,
        "drill_id": null,
        "participants_error": error("participants"),
        "facilitator_error": error("facilitator"),
        "error_count": errors.len(),
        "errors": errors.iter().map(|e| json!({"field": e.field, "message": problem_text(state, lang, &e.problem)})).collect::<Vec<_>>(),
    })
}

async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Query(q): Query<NewQuery>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_edit_plan())?;
    let plan = load(&state, &plan_id).await?;
    let scenario = scenario_of(&state, &plan, &q.scenario).await?;
    let form = DrillForm {
        title: scenario.title.clone(),
        repeat: "once".into(),
        participants: scenario
            .default_participants(&plan)
            .iter()
            .map(ToString::to_string)
            .collect(),
        invite_days_before: state.config.invite_days_before.to_string(),
        ..DrillForm::default()
    };
    let data = form_view(&state, &viewer.lang, &plan, &scenario, &form, &[]);
    page(&state, &viewer, "drill_new", data).map(IntoResponse::into_response)
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Query(q): Query<NewQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_edit_plan())?;
    let plan = load(&state, &plan_id).await?;
    let scenario = scenario_of(&state, &plan, &q.scenario).await?;
    let f = Fields(pairs);
    let form = DrillForm {
        title: f.get("title"),
        repeat: f.get("repeat"),
        at: f.get("at"),
        cron: f.get("cron"),
        location: f.get("location"),
        facilitator: f.get("facilitator"),
        participants: f.all("participant"),
        invite_days_before: f.get("invite_days_before"),
    };
    let planned = match form.apply(&plan, state.clock.zone(), state.clock.now()) {
        Ok(p) => p,
        Err(errors) => {
            let data = form_view(&state, &viewer.lang, &plan, &scenario, &form, &errors);
            return page_with(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "drill_new",
                data,
            );
        }
    };
    let drill = Drill {
        id: 0,
        plan_id: plan.id.to_string(),
        scenario_id: Some(scenario.id.to_string()),
        title: planned.title.clone(),
        scenario,
        facilitator: planned.facilitator.as_ref().map(ToString::to_string),
        participants: planned
            .participants
            .iter()
            .map(ToString::to_string)
            .collect(),
        location: planned.location,
        schedule: planned.schedule,
        time_zone: state.clock.zone(),
        invite_days_before: i32::try_from(planned.invite_days_before).unwrap_or(14),
        created_by: user.actor.username.clone(),
        created_at: state.clock.now(),
        cancelled: false,
    };
    let id = state.plan_drill(&user.actor.username, &drill).await?;
    Ok(Redirect::to(&format!("/drills/{id}")).into_response())
}

/// A drill that may still be changed: not cancelled, and with a time ahead.
fn changeable(drill: &Drill, now: chrono::DateTime<Utc>) -> bool {
    !drill.cancelled
        && match &drill.schedule {
            Schedule::Recurring { .. } => true,
            Schedule::Once { at } => crate::domain::drill::local_to_utc(*at, drill.time_zone)
                .ok()
                .is_some_and(|t| t > now),
        }
}

/// The form of a stored drill, as it stands.
fn form_of(drill: &Drill) -> DrillForm {
    let (repeat, at, cron) = match &drill.schedule {
        Schedule::Once { at } => (
            "once",
            at.format("%Y-%m-%dT%H:%M").to_string(),
            String::new(),
        ),
        Schedule::Recurring { cron } => ("recurring", String::new(), cron.clone()),
    };
    DrillForm {
        title: drill.title.clone(),
        repeat: repeat.into(),
        at,
        cron,
        location: drill.location.clone(),
        facilitator: drill.facilitator.clone().unwrap_or_default(),
        participants: drill.participants.clone(),
        invite_days_before: drill.invite_days_before.to_string(),
    }
}

/// The edit form's page data.
fn edit_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    drill: &Drill,
    form: &DrillForm,
    errors: &[crate::domain::edit::FieldError],
) -> Value {
    let mut data = form_view(state, lang, plan, &drill.scenario, form, errors);
    data["drill_id"] = json!(drill.id);
    data["editing"] = json!(true);
    data
}

async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (drill, _) = drill_in(&state, &viewer, id, Actor::may_edit_plan).await?;
    if !changeable(&drill, state.clock.now()) {
        return Err(Error::NotFound);
    }
    let plan = load(&state, &drill.plan_id).await?;
    let data = edit_view(&state, &viewer.lang, &plan, &drill, &form_of(&drill), &[]);
    page(&state, &viewer, "drill_new", data).map(IntoResponse::into_response)
}

/// Saves a changed drill; the people concerned are told by mail in the same transaction.
async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let (old, user) = drill_in(&state, &viewer, id, Actor::may_edit_plan).await?;
    let now = state.clock.now();
    if !changeable(&old, now) {
        return Err(Error::NotFound);
    }
    let plan = load(&state, &old.plan_id).await?;
    let f = Fields(pairs);
    let stored = form_of(&old);
    let form = DrillForm {
        title: f.get("title"),
        location: f.get("location"),
        facilitator: f.get("facilitator"),
        participants: f.all("participant"),
        invite_days_before: f.get("invite_days_before"),
        // A one-time drill keeps its time here (it is moved with its own form); a programme may
        // get a new cron expression.
        cron: if stored.repeat == "recurring" {
            f.get("cron")
        } else {
            String::new()
        },
        ..stored
    };
    let planned = match form.apply(&plan, old.time_zone, now) {
        Ok(p) => p,
        Err(errors) => {
            let data = edit_view(&state, &viewer.lang, &plan, &old, &form, &errors);
            return page_with(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "drill_new",
                data,
            );
        }
    };
    let new = Drill {
        title: planned.title,
        facilitator: planned.facilitator.as_ref().map(ToString::to_string),
        participants: planned
            .participants
            .iter()
            .map(ToString::to_string)
            .collect(),
        location: planned.location,
        schedule: planned.schedule,
        invite_days_before: i32::try_from(planned.invite_days_before).unwrap_or(14),
        ..old.clone()
    };
    state.update_drill(&user.actor.username, &old, &new).await?;
    Ok(Redirect::to(&format!("/drills/{id}")).into_response())
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (drill, user) = drill_in(&state, &viewer, id, Actor::reads_plan).await?;
    let plan = load(&state, &drill.plan_id).await?;
    let lang = &viewer.lang;
    let name = |id: &str| plan.person(id).map_or(id.to_string(), |p| p.name.clone());
    let mut occurrences = Vec::new();
    for o in store::drills::occurrences(&state.db, drill.id).await? {
        let mail = outbox::of_occurrence(&state.db, o.id).await?;
        let count = |state: &str| mail.iter().filter(|m| m.state == state).count();
        occurrences.push(json!({
            "id": o.id,
            "closed": o.closed_at.is_some(),
            "when": local(o.starts_at, &drill, lang),
            "invited": o.invited_at.map(|t| local(t, &drill, lang)),
            "reminded": o.reminded_at.map(|t| local(t, &drill, lang)),
            "sent": count(outbox::SENT),
            "queued": count(outbox::QUEUED) + count(outbox::SENDING),
            "failed": count(outbox::FAILED),
        }));
    }
    let s = &drill.scenario;
    // The facilitator's notes are for those who run the drill, not for the participants.
    let sees_notes = user.actor.may_edit_plan()
        || drill
            .facilitator
            .as_deref()
            .is_some_and(|f| user.actor.person.as_deref() == Some(f));
    page(
        &state,
        &viewer,
        "drill",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "drill": {
                "id": drill.id,
                "title": drill.title,
                "kind": format!("drill.kind.{}", s.kind.as_str()),
                "duration": super::i18n::duration(s.duration, lang),
                "schedule": schedule_text(&drill.schedule),
                "time_zone": drill.time_zone.name(),
                "location": drill.location,
                "facilitator": drill.facilitator.as_deref().map(name),
                "narrative": s.narrative,
                "notes": sees_notes.then(|| s.facilitator_notes.clone()),
                "questions": s.questions,
                // Injects are shown to the participants as the facilitator plays them.
                "injects": if sees_notes { s.injects.clone() } else { Vec::new() },
                "systems": s.systems_down.iter().map(|id| json!({"id": id, "name": plan.system(id.as_str()).map_or(id.to_string(), |x| x.name.clone())})).collect::<Vec<_>>(),
                "participants": drill.participants.iter().map(|p| name(p)).collect::<Vec<_>>(),
                "invite_days_before": drill.invite_days_before,
            },
            "occurrences": occurrences,
            "cancelled": drill.cancelled,
            "may_cancel": user.actor.may_edit_plan() && !drill.cancelled,
            "may_edit": user.actor.may_edit_plan() && changeable(&drill, state.clock.now()),
            "may_move": user.actor.may_edit_plan()
                && !drill.cancelled
                && matches!(drill.schedule, Schedule::Once { .. }),
        }),
    )
    .map(IntoResponse::into_response)
}

async fn outbox_page(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    let user = viewer.require()?;
    // The mail of the plans the user keeps.
    let plans = store::plan_ids(&state.db).await?;
    let kept = user.plans_where(plans.iter().map(|p| p.to_string()), Actor::may_edit_plan);
    if kept.as_ref().is_some_and(Vec::is_empty) {
        return Err(Error::Forbidden);
    }
    let messages = outbox::recent(&state.db, kept.as_deref(), 500).await?;
    page(
        &state,
        &viewer,
        "outbox",
        json!({
            "messages": messages.iter().map(|m| json!({
                "id": m.id,
                "to": if m.to_name.is_empty() { m.to_address.clone() } else { format!("{} <{}>", m.to_name, m.to_address) },
                "channel": format!("alert.channel_{}", m.channel),
                // A text message has no subject: its text is what was sent.
                "subject": if m.subject.is_empty() { m.body_text.clone() } else { m.subject.clone() },
                "kind": m.kind,
                "state": m.state,
                "state_key": format!("outbox.state.{}", m.state),
                "attempts": m.attempts,
                "error": m.last_error,
                "created": super::local(&state, m.created_at, &viewer.lang),
                "sent": m.sent_at.map(|t| super::local(&state, t, &viewer.lang)),
            })).collect::<Vec<_>>(),
        }),
    )
    .map(IntoResponse::into_response)
}

/// How many people a cancellation mails: the participants with an address, when an
/// occurrence still ahead was invited to (only those get a calendar cancellation).
fn cancellation_recipients(
    plan: &Plan,
    drill: &Drill,
    occurrences: &[store::drills::Occurrence],
    now: chrono::DateTime<Utc>,
) -> usize {
    let invited = occurrences.iter().any(|o| {
        o.starts_at > now && o.state == store::drills::SCHEDULED && o.invited_at.is_some()
    });
    if !invited {
        return 0;
    }
    drill
        .participants
        .iter()
        .filter(|p| plan.person(p).is_some_and(|p| !p.email.trim().is_empty()))
        .count()
}

/// Drill `id` and the signed-in user as they stand in its plan, if `allowed` lets them: 404
/// for a drill of a plan they may not see, 403 for one they may see but not change.
async fn drill_in(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    allowed: impl FnOnce(&Actor) -> bool,
) -> Result<(Drill, SignedIn)> {
    viewer.require()?;
    let drill = store::drills::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let user = viewer.require_in(&drill.plan_id)?;
    if !allowed(&user.actor) {
        return Err(Error::Forbidden);
    }
    Ok((drill, user))
}

/// The drill, its plan, and how many a cancellation mails; for the coordinator only.
async fn to_cancel(state: &AppState, viewer: &Viewer, id: i64) -> Result<(Drill, usize)> {
    let (drill, _) = drill_in(state, viewer, id, Actor::may_edit_plan).await?;
    let plan = load(state, &drill.plan_id).await?;
    let occurrences = store::drills::occurrences(&state.db, id).await?;
    let n = cancellation_recipients(&plan, &drill, &occurrences, state.clock.now());
    Ok((drill, n))
}

/// Asks before a drill is cancelled: how many get a cancellation.
async fn cancel_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (drill, n) = to_cancel(&state, &viewer, id).await?;
    ask_cancel(&state, &viewer, &drill, n)
}

fn ask_cancel(state: &AppState, viewer: &Viewer, drill: &Drill, n: usize) -> Result<Response> {
    if drill.cancelled {
        return Ok(Redirect::to(&format!("/drills/{}", drill.id)).into_response());
    }
    let lang = &viewer.lang;
    let t = |key: &str| state.templates.text(lang, key);
    let lead = if n == 0 {
        t("confirm.cancel.nobody")
    } else {
        state.templates.counted(lang, "confirm.cancel.mailed", n)
    };
    super::confirm::ask(
        state,
        viewer,
        super::confirm::Confirm {
            title: t("confirm.cancel.title").replace("{title}", &drill.title),
            lead,
            points: vec![t("confirm.cancel.final")],
            action: format!("/drills/{}/cancel", drill.id),
            hidden: Vec::new(),
            choice: None,
            button: "drill.cancel",
            back: format!("/drills/{}", drill.id),
        },
    )
}

/// Cancels the drill once the confirmation was seen; without it, asks.
async fn cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let (drill, n) = to_cancel(&state, &viewer, id).await?;
    if !super::confirm::confirmed(&pairs) {
        return ask_cancel(&state, &viewer, &drill, n);
    }
    let user = viewer.require()?;
    if state.cancel_drill(&user.actor.username, &drill).await? {
        let flash = if n == 0 {
            super::confirm::Flash::new("flash.drill_cancelled")
        } else {
            super::confirm::Flash::new("flash.drill_cancelled_mailed").count(n)
        };
        super::confirm::tell(&viewer, flash).await?;
    }
    Ok(Redirect::to(&format!("/drills/{id}")).into_response())
}

async fn reschedule(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let (drill, user) = drill_in(&state, &viewer, id, Actor::may_edit_plan).await?;
    let plan = load(&state, &drill.plan_id).await?;
    if drill.cancelled || !matches!(drill.schedule, Schedule::Once { .. }) {
        return Err(Error::NotFound);
    }
    let form = DrillForm {
        title: drill.title.clone(),
        repeat: "once".into(),
        at: Fields(pairs).get("at"),
        invite_days_before: drill.invite_days_before.to_string(),
        ..DrillForm::default()
    };
    let planned = match form.apply(&plan, drill.time_zone, state.clock.now()) {
        Ok(p) => p,
        Err(errors) => {
            let message = errors
                .iter()
                .map(|e| problem_text(&state, &viewer.lang, &e.problem))
                .collect::<Vec<_>>()
                .join(" ");
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, message).into_response());
        }
    };
    let Schedule::Once { at } = planned.schedule else {
        return Err(Error::NotFound);
    };
    state
        .reschedule_drill(&user.actor.username, &drill, at)
        .await?;
    Ok(Redirect::to(&format!("/drills/{id}")).into_response())
}
