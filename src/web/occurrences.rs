//! A drill as it runs: the facilitator's and participants' page with its timeline and each
//! system's record, the close, the after-action report (page, file, JSON), its action items and
//! the evaluation.

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::Utc;
use serde_json::{Value, json};

use super::auth::Viewer;
use super::edit::{Fields, problem_text};
use super::pages::{load, page};
use super::{AppState, Error, Result};
use crate::domain::Plan;
use crate::store::{self, drills::Drill};

use super::actions::{ActionSource, action_rows, create_action};
use super::drills::local;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/occurrences/{id}", get(run))
        .route(
            "/occurrences/{id}/systems/{system}",
            axum::routing::post(record),
        )
        .route("/occurrences/{id}/notes", axum::routing::post(note))
        .route("/occurrences/{id}/close", get(close_form).post(close))
        .route(
            "/occurrences/{id}/injects/{n}/play",
            axum::routing::post(play),
        )
        .route("/occurrences/{id}/start", axum::routing::post(start))
        .route("/occurrences/{id}/report", get(report))
        .route("/occurrences/{id}/report.json", get(report_json))
        .route("/occurrences/{id}/report.html", get(report_html))
        .route("/occurrences/{id}/report.docx", get(report_docx))
        .route("/occurrences/{id}/actions", axum::routing::post(new_action))
        .route(
            "/occurrences/{id}/evaluation",
            axum::routing::post(evaluate),
        )
}

/// An occurrence with its drill and plan, and what the viewer may do with it.
struct Run {
    occurrence: store::drills::Occurrence,
    drill: Drill,
    plan: std::sync::Arc<Plan>,
    /// Who is asking, as recorded in the log.
    username: String,
    /// Participants, the facilitator, the coordinator and the administrator record.
    may_record: bool,
    /// The facilitator, the coordinator and the administrator close the record.
    may_close: bool,
}

async fn load_run(state: &AppState, viewer: &Viewer, id: i64) -> Result<Run> {
    viewer.require()?;
    let occurrence = store::drills::occurrence(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let drill = store::drills::find(&state.db, occurrence.drill_id)
        .await?
        .ok_or(Error::NotFound)?;
    let user = viewer.require_in(&drill.plan_id)?;
    let plan = load(state, &drill.plan_id).await?;
    let me = user.actor.person.as_deref();
    let facilitates = me.is_some() && drill.facilitator.as_deref() == me;
    let takes_part = me.is_some_and(|p| drill.participants.iter().any(|x| x == p));
    Ok(Run {
        username: user.actor.username.clone(),
        may_record: user.actor.may_edit_plan() || facilitates || takes_part,
        may_close: user.actor.may_edit_plan() || facilitates,
        occurrence,
        drill,
        plan,
    })
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

/// The facilitator's and participants' page while the drill runs.
async fn run(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    let lang = &viewer.lang;
    let tz = &r.drill;
    let now = state.clock.now();
    let records = store::drills::records(&state.db, id).await?;
    let results = crate::domain::drill::results(&r.plan, &r.drill.scenario, &records);
    let closed = r.occurrence.closed_at.is_some();
    let start = r.occurrence.started_at.unwrap_or(r.occurrence.starts_at);
    let plays = store::drills::inject_plays(&state.db, id).await?;
    let injects = inject_views(&r, &plays, lang);
    let unplayed = injects.iter().filter(|i| i["played"] != true).count();
    let systems: Vec<Value> = results
        .iter()
        .map(|x| {
            json!({
                "id": x.system,
                "name": x.name,
                "rto": x.rto.map(|d| super::i18n::duration(d, lang)),
                "found": yes_no(x.record.found),
                "followed": yes_no(x.record.followed),
                "recovery": x.record.recovery.map(|d| d.to_string()).unwrap_or_default(),
                "notes": x.record.notes,
                "met": x.rto_met,
            })
        })
        .collect();
    let timeline = timeline_view(&state, &r, lang, now).await?;
    let call_tree = call_tree_view(&state, &r, lang).await?;
    page(
        &state,
        &viewer,
        "run",
        json!({
            "plan": {"id": r.plan.id, "name": r.plan.name},
            "drill": {"id": r.drill.id, "title": r.drill.title, "narrative": r.drill.scenario.narrative},
            "occurrence": {
                "id": id,
                "when": local(r.occurrence.starts_at, tz, lang),
                "closed": closed,
                "started": r.occurrence.started_at.map(|t| local(t, tz, lang)),
                "start_utc": start.to_rfc3339(),
                // Not started and still ahead: how long until then, instead of a clock below zero.
                "starts_in": (r.occurrence.started_at.is_none() && start > now).then(|| {
                    let minutes = u64::try_from((start - now).num_minutes()).unwrap_or(0);
                    // Whole hours once it is a day or more away.
                    let minutes = if minutes >= 24 * 60 { minutes / 60 * 60 } else { minutes.max(1) };
                    super::i18n::duration(crate::domain::Duration::from_minutes(minutes), lang)
                }),
            },
            // The facilitator sees every inject and plays them; the participants only those
            // played, in the order they were played.
            "injects": if r.may_close {
                injects
            } else {
                let mut shown: Vec<Value> = injects.into_iter().filter(|i| i["played"] == true).collect();
                shown.sort_by(|a, b| a["played_utc"].as_str().cmp(&b["played_utc"].as_str()));
                shown
            },
            "unplayed": unplayed,
            "may_play": r.may_close && !closed,
            "systems": systems,
            "timeline": timeline,
            "call_tree": call_tree,
            "may_record": r.may_record && !closed,
            "may_close": r.may_close && !closed,
            "may_start": r.may_close && !closed && r.occurrence.started_at.is_none(),
        }),
    )
    .map(IntoResponse::into_response)
}

/// Every inject of the scenario, in its order, with when it was played (if it was).
fn inject_views(r: &Run, plays: &[store::drills::InjectPlay], lang: &str) -> Vec<Value> {
    r.drill
        .scenario
        .injects
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let play = plays
                .iter()
                .find(|p| usize::try_from(p.inject).is_ok_and(|x| x == n));
            json!({
                "n": n,
                "minute": i.minute,
                "text": i.text,
                "played": play.is_some(),
                "played_at": play.map(|p| local(p.played_at, &r.drill, lang)),
                "played_utc": play.map(|p| p.played_at.to_rfc3339()),
            })
        })
        .collect()
}

/// The drill's timeline: its start, each inject when the facilitator played it, the notes
/// taken, and the close; in time order, up to now or the close.
async fn timeline_view(
    state: &AppState,
    r: &Run,
    lang: &str,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<Value>> {
    let tz = &r.drill;
    let t = |key: &str| state.templates.text(lang, key);
    let o = &r.occurrence;
    let until = o.closed_at.unwrap_or(now);
    let start = o.started_at.unwrap_or(o.starts_at);
    let mut items: Vec<(chrono::DateTime<Utc>, u8, Value)> = Vec::new();
    if start <= until {
        items.push((
            start,
            0,
            json!({"text": t("drill.started"), "author": "", "event": true}),
        ));
    }
    for p in store::drills::inject_plays(&state.db, o.id).await? {
        let Some(i) = usize::try_from(p.inject)
            .ok()
            .and_then(|n| r.drill.scenario.injects.get(n))
        else {
            continue;
        };
        let label = t("drill.minute").replace("{n}", &i.minute.to_string());
        items.push((p.played_at, 1, json!({"text": format!("{}, {label}: {}", t("drill.inject"), i.text), "author": "", "event": true})));
    }
    let names = state.names().await?;
    // A test of the call tree: each answer, when it came.
    for a in store::alerts::of(&state.db, store::alerts::Target::Occurrence(o.id)).await? {
        let (Some(at), Some(answer)) = (a.acknowledged_at, &a.answer) else {
            continue;
        };
        let name = r
            .plan
            .person(&a.person_id)
            .map_or(a.person_id.clone(), |p| p.name.clone());
        let said = t(&format!("incident.ev.ack_{answer}"));
        let text = if a.note.is_empty() {
            said
        } else {
            format!("{said}: {}", a.note)
        };
        items.push((at, 2, json!({"text": text, "author": name, "event": true})));
    }
    for e in store::drills::timeline(&state.db, o.id).await? {
        items.push((
            e.at,
            2,
            json!({"text": e.text, "author": names.of(&e.author), "event": false}),
        ));
    }
    if let Some(closed) = o.closed_at {
        let by = o
            .closed_by
            .as_deref()
            .map(|b| names.of(b))
            .unwrap_or_default();
        items.push((
            closed,
            3,
            json!({"text": t("drill.closed_event"), "author": by, "event": true}),
        ));
    }
    items.sort_by_key(|(at, order, _)| (*at, *order));
    Ok(items
        .into_iter()
        .map(|(at, _, mut v)| {
            v["at"] = json!(local(at, tz, lang));
            v
        })
        .collect())
}

/// The facilitator starts the drill: the injects count from now.
async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    if r.occurrence.closed_at.is_some() {
        return Ok((StatusCode::CONFLICT, closed_text(&state, &viewer.lang)).into_response());
    }
    state.start_occurrence(id, &r.username).await?;
    Ok(Redirect::to(&format!("/occurrences/{id}")).into_response())
}

fn answer(text: &str) -> Option<bool> {
    match text {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Saves one system's record. A form post is answered with a redirect back to the system; the
/// page's script saves as the participant types (`X-Requested-With: fetch`) and gets JSON.
async fn record(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, system)): Path<(i64, String)>,
    headers: axum::http::HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let answer_with =
        |status: StatusCode, message: String| super::refusal(&headers, status, message);
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_record {
        return Err(Error::Forbidden);
    }
    if r.occurrence.closed_at.is_some() {
        return Ok(answer_with(
            StatusCode::CONFLICT,
            closed_text(&state, &viewer.lang),
        ));
    }
    let Some(result) =
        crate::domain::drill::results(&r.plan, &r.drill.scenario, &Default::default())
            .into_iter()
            .find(|x| x.system.as_str() == system)
    else {
        return Err(Error::NotFound);
    };
    let f = Fields(pairs);
    let recovery_text = f.get("recovery");
    let recovery = match recovery_text.trim() {
        "" => None,
        text => match crate::domain::Duration::parse(text) {
            Ok(d) => Some(d),
            Err(_) => {
                let message = problem_text(
                    &state,
                    &viewer.lang,
                    &crate::domain::edit::Problem::Duration {
                        input: text.to_string(),
                    },
                );
                return Ok(answer_with(StatusCode::UNPROCESSABLE_ENTITY, message));
            }
        },
    };
    let entry = crate::domain::drill::SystemRecord {
        found: answer(&f.get("found")),
        followed: answer(&f.get("followed")),
        recovery,
        notes: f.get("notes").trim().to_string(),
    };
    if entry.notes.chars().count() > crate::domain::edit::MAX_FIELD_CHARS {
        return Err(Error::TooLarge);
    }
    if !state
        .record_system(id, &system, &entry, &r.username)
        .await?
    {
        return Ok(answer_with(
            StatusCode::CONFLICT,
            closed_text(&state, &viewer.lang),
        ));
    }
    if super::by_script(&headers) {
        let rto_met = match (entry.recovery, result.rto) {
            (Some(took), Some(rto)) => Some(took <= rto),
            _ => None,
        };
        return Ok(axum::Json(json!({
            "saved_at": local(state.clock.now(), &r.drill, &viewer.lang),
            "rto_met": rto_met,
        }))
        .into_response());
    }
    Ok(Redirect::to(&format!("/occurrences/{id}#sys-{system}")).into_response())
}

fn closed_text(state: &AppState, lang: &str) -> String {
    state.templates.text(lang, "drill.closed_refused")
}

async fn note(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_record {
        return Err(Error::Forbidden);
    }
    if r.occurrence.closed_at.is_some() {
        return Ok((StatusCode::CONFLICT, closed_text(&state, &viewer.lang)).into_response());
    }
    let text = Fields(pairs).get("text");
    let text = text.trim();
    if !text.is_empty() && !state.note_occurrence(id, &r.username, text).await? {
        return Ok((StatusCode::CONFLICT, closed_text(&state, &viewer.lang)).into_response());
    }
    Ok(Redirect::to(&format!("/occurrences/{id}#timeline")).into_response())
}

/// The facilitator shows inject `n` to the participants.
async fn play(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, n)): Path<(i64, usize)>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    match state.play_inject(&r.drill, id, n, &r.username).await? {
        None => Ok((StatusCode::CONFLICT, closed_text(&state, &viewer.lang)).into_response()),
        Some(_) => Ok(Redirect::to(&format!("/occurrences/{id}#inj-{n}")).into_response()),
    }
}

/// What is unfinished when a run is closed: not started, injects not played, systems with
/// nothing recorded.
async fn unfinished(state: &AppState, r: &Run, lang: &str) -> Result<Vec<String>> {
    let records = store::drills::records(&state.db, r.occurrence.id).await?;
    let results = crate::domain::drill::results(&r.plan, &r.drill.scenario, &records);
    let empty = crate::domain::drill::SystemRecord::default();
    let blank = results.iter().filter(|x| x.record == empty).count();
    let plays = store::drills::inject_plays(&state.db, r.occurrence.id).await?;
    let injects = r.drill.scenario.injects.len();
    let unplayed = injects.saturating_sub(plays.len());
    let t = &state.templates;
    let mut points = Vec::new();
    if r.occurrence.started_at.is_none() {
        points.push(t.text(lang, "confirm.close_run.not_started"));
    }
    if blank > 0 {
        points.push(t.counted(lang, "confirm.close_run.blank", blank).replace(
            "{total}",
            &super::i18n::count(i64::try_from(results.len()).unwrap_or(0), lang),
        ));
    }
    if unplayed > 0 {
        points.push(
            t.counted(lang, "confirm.close_run.unplayed", unplayed)
                .replace(
                    "{total}",
                    &super::i18n::count(i64::try_from(injects).unwrap_or(0), lang),
                ),
        );
    }
    Ok(points)
}

async fn ask_close(state: &AppState, viewer: &Viewer, r: &Run) -> Result<Response> {
    let id = r.occurrence.id;
    if r.occurrence.closed_at.is_some() {
        return Ok(Redirect::to(&format!("/occurrences/{id}/report")).into_response());
    }
    let lang = &viewer.lang;
    let t = |key: &str| state.templates.text(lang, key);
    let mut points = unfinished(state, r, lang).await?;
    if points.is_empty() {
        points.push(t("confirm.close_run.complete"));
    }
    super::confirm::ask(
        state,
        viewer,
        super::confirm::Confirm {
            title: t("confirm.close_run.title").replace("{title}", &r.drill.title),
            lead: t("confirm.close_run.lead"),
            points,
            action: format!("/occurrences/{id}/close"),
            hidden: Vec::new(),
            choice: None,
            button: "drill.close",
            back: format!("/occurrences/{id}"),
        },
    )
}

/// Asks before the run is closed: what is still unfinished.
async fn close_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    ask_close(&state, &viewer, &r).await
}

/// Closes the run once the confirmation was seen; without it, asks.
async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    if !super::confirm::confirmed(&pairs) {
        return ask_close(&state, &viewer, &r).await;
    }
    if state.close_occurrence(id, &r.username).await? {
        super::confirm::tell(&viewer, super::confirm::Flash::new("flash.run_closed")).await?;
    }
    Ok(Redirect::to(&format!("/occurrences/{id}/report")).into_response())
}

/// The after-action report's content.
fn report_data(
    r: &Run,
    records: &std::collections::HashMap<String, crate::domain::drill::SystemRecord>,
    plays: &[store::drills::InjectPlay],
    lang: &str,
) -> Value {
    let results = crate::domain::drill::results(&r.plan, &r.drill.scenario, records);
    let met = results.iter().filter(|x| x.rto_met == Some(true)).count();
    let missed = results.iter().filter(|x| x.rto_met == Some(false)).count();
    json!({
        "plan": {"id": r.plan.id, "name": r.plan.name},
        "drill": {"id": r.drill.id, "title": r.drill.title, "kind": r.drill.scenario.kind.as_str()},
        "occurrence": {
            "id": r.occurrence.id,
            "starts_at": r.occurrence.starts_at.to_rfc3339(),
            // When it was held: started, else as planned.
            "when": local(r.occurrence.started_at.unwrap_or(r.occurrence.starts_at), &r.drill, lang),
            "closed": r.occurrence.closed_at.is_some(),
            "closed_by": r.occurrence.closed_by,
        },
        "evaluation": {
            "went_well": r.occurrence.went_well,
            "went_badly": r.occurrence.went_badly,
            "lessons": r.occurrence.lessons,
            "done": r.occurrence.evaluated_at.is_some(),
        },
        // Every inject of the scenario, with when it was played (null: never).
        "injects": inject_views(r, plays, lang),
        "rto_met": met,
        "rto_missed": missed,
        "rto_unknown": results.len() - met - missed,
        "systems": results.iter().map(|x| json!({
            "id": x.system,
            "name": x.name,
            "rto_minutes": x.rto.map(|d| d.minutes()),
            "rto": x.rto.map(|d| super::i18n::duration(d, lang)),
            "recovery_minutes": x.record.recovery.map(|d| d.minutes()),
            "recovery": x.record.recovery.map(|d| super::i18n::duration(d, lang)),
            "rto_met": x.rto_met,
            "procedure_found": x.record.found,
            "procedure_followed": x.record.followed,
            "findings": x.record.notes,
        })).collect::<Vec<_>>(),
    })
}

/// Everything the report page and its exported file show.
async fn report_view(state: &AppState, viewer: &Viewer, id: i64) -> Result<(Run, Value)> {
    let r = load_run(state, viewer, id).await?;
    let records = store::drills::records(&state.db, id).await?;
    let plays = store::drills::inject_plays(&state.db, id).await?;
    let mut data = report_data(&r, &records, &plays, &viewer.lang);
    data["actions"] = json!(action_rows(
        &r.plan,
        &store::actions::list(
            &state.db,
            store::actions::Filter {
                occurrence: Some(id),
                ..Default::default()
            }
        )
        .await?,
        &viewer.lang,
        state.clock.today(),
    ));
    data["may_act"] = json!(r.may_close);
    data["export"] = json!(false);
    data["people"] = json!(
        r.plan
            .people
            .iter()
            .map(|p| json!({"id": p.id, "name": p.name}))
            .collect::<Vec<_>>()
    );
    data["timeline"] = json!(timeline_view(state, &r, &viewer.lang, state.clock.now()).await?);
    data["call_tree"] = call_tree_view(state, &r, &viewer.lang).await?;
    Ok((r, data))
}

async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (_, data) = report_view(&state, &viewer, id).await?;
    page(&state, &viewer, "report", data).map(IntoResponse::into_response)
}

/// The report as one self-contained HTML file (styles inline, no links out, no script), to
/// attach to a mail or file with the minutes.
async fn report_html(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (r, mut data) = report_view(&state, &viewer, id).await?;
    data["may_act"] = json!(false);
    data["export"] = json!(true);
    data["css"] = json!(super::render::static_text("app.css"));
    data["exported_at"] = json!(local(state.clock.now(), &r.drill, &viewer.lang));
    let html = state
        .templates
        .fragment("report_export", &viewer.lang, data)?;
    let name = format!(
        "{}-{}.html",
        state.templates.text(&viewer.lang, "drill.report_file"),
        r.occurrence.starts_at.format("%Y-%m-%d")
    );
    Ok(super::self_contained_download(&name, html))
}

/// The report as a Word document, to file with the minutes.
async fn report_docx(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let (r, data) = report_view(&state, &viewer, id).await?;
    let bytes = crate::render::reports::drill(&state.templates, &data, &viewer.lang)?;
    let name = format!(
        "{}-{}.docx",
        state.templates.text(&viewer.lang, "drill.report_file"),
        r.occurrence.starts_at.format("%Y-%m-%d")
    );
    Ok(super::attachment(
        &name,
        crate::render::document::CONTENT_TYPE,
        bytes,
    ))
}

async fn report_json(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    let records = store::drills::records(&state.db, id).await?;
    let plays = store::drills::inject_plays(&state.db, id).await?;
    Ok(axum::Json(report_data(&r, &records, &plays, "en")).into_response())
}

/// A finding of the drill becomes an action item for a person of the plan.
async fn new_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    let source = ActionSource {
        title: &r.drill.title,
        occurrence_id: Some(id),
        incident_id: None,
    };
    if let Some(refused) =
        create_action(&state, &viewer, &r.plan, &r.username, source, pairs).await?
    {
        return Ok(refused);
    }
    Ok(Redirect::to(&format!("/occurrences/{id}/report#actions")).into_response())
}

/// The hot wash, written by the facilitator, coordinator or administrator.
async fn evaluate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let r = load_run(&state, &viewer, id).await?;
    if !r.may_close {
        return Err(Error::Forbidden);
    }
    let f = Fields(pairs);
    let (well, badly, lessons) = (f.get("went_well"), f.get("went_badly"), f.get("lessons"));
    state
        .evaluate_occurrence(&r.username, &r.drill, id, [&well, &badly, &lessons])
        .await?;
    Ok(Redirect::to(&format!("/occurrences/{id}/report#evaluation")).into_response())
}

/// The results of a test of the call tree: per person, how long they took to acknowledge
/// against the plan's target, who never answered, and whose number or address failed; `null`
/// for a drill of another kind, or one not started.
async fn call_tree_view(state: &AppState, r: &Run, lang: &str) -> Result<Value> {
    use crate::store::alerts::{self, COMING, Target};
    if r.drill.scenario.kind != crate::domain::drill::DrillKind::CallTreeTest {
        return Ok(Value::Null);
    }
    let Some(started) = r.occurrence.started_at else {
        return Ok(Value::Null);
    };
    let t = |key: &str| state.templates.text(lang, key);
    let target = Target::Occurrence(r.occurrence.id);
    let recipients = alerts::of(&state.db, target).await?;
    let messages = alerts::messages(&state.db, target).await?;
    let goal = i64::from(r.plan.call_tree_target_minutes);
    let mut within = 0;
    let people: Vec<Value> = recipients
        .iter()
        .map(|a| {
            let name = r.plan.person(&a.person_id).map_or(a.person_id.clone(), |p| p.name.clone());
            let minutes = a.acknowledged_at.map(|at| (at - started).num_minutes().max(0));
            let in_time = minutes.map(|m| m <= goal);
            if in_time == Some(true) {
                within += 1;
            }
            let failed: Vec<String> = messages
                .iter()
                .filter(|m| m.alert_recipient_id == Some(a.id) && m.state == crate::store::outbox::FAILED)
                .map(|m| format!("{}: {}", t(&format!("alert.channel_{}", m.channel)), m.last_error))
                .collect();
            json!({
                "name": name,
                "after": minutes.map(|m| super::i18n::duration(crate::domain::Duration::from_minutes(u64::try_from(m).unwrap_or(0)), lang)),
                "after_minutes": minutes,
                "within": in_time,
                "coming": a.answer.as_deref() == Some(COMING),
                "answer": a.answer.as_ref().map(|x| t(&format!("alert.answer_{x}"))),
                "note": a.note,
                "never": a.acknowledged_at.is_none(),
                "no_channel": a.channels.is_empty(),
                "failed": failed,
            })
        })
        .collect();
    let answered = recipients
        .iter()
        .filter(|a| a.acknowledged_at.is_some())
        .count();
    Ok(json!({
        "target": super::i18n::duration(crate::domain::Duration::from_minutes(u64::from(r.plan.call_tree_target_minutes)), lang),
        "summary": t("drill.call_tree.summary")
            .replace("{answered}", &answered.to_string())
            .replace("{total}", &recipients.len().to_string())
            .replace("{within}", &within.to_string())
            .replace("{target}", &super::i18n::duration(crate::domain::Duration::from_minutes(u64::from(r.plan.call_tree_target_minutes)), lang)),
        "people": people,
    }))
}
