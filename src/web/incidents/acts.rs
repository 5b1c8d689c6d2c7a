//! What the incident lead and the people recovering do: mark systems down and recovered, tick
//! steps, note, alert the call tree, stand down, close; the incident report and its action
//! items.

use super::*;

/// The answer to a change: back to the page (at `anchor`), or JSON for the script; a closed
/// incident is 409, a change that was made already is said so.
pub(super) fn answer(
    state: &AppState,
    lang: &str,
    headers: &HeaderMap,
    id: i64,
    anchor: &str,
    changed: Changed,
) -> Result<Response> {
    let message = |key: &str| state.templates.text(lang, key);
    match changed {
        Changed::Gone => Err(Error::NotFound),
        Changed::Closed => {
            let text = message("incident.closed_refused");
            Ok(if crate::web::by_script(headers) {
                (StatusCode::CONFLICT, axum::Json(json!({"error": text}))).into_response()
            } else {
                (StatusCode::CONFLICT, text).into_response()
            })
        }
        Changed::Done | Changed::Unchanged => {
            let done = changed == Changed::Done;
            Ok(if crate::web::by_script(headers) {
                axum::Json(json!({"changed": done})).into_response()
            } else {
                let notice = if done { "" } else { "?unchanged=1" };
                Redirect::to(&format!("/incidents/{id}{notice}#{anchor}")).into_response()
            })
        }
    }
}

/// Marks a system down or recovered.
pub(super) async fn mark(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_work {
        return Err(Error::Forbidden);
    }
    let f = Fields(pairs);
    let typed = f.get("system");
    let typed = typed.trim();
    let Some(system) = crate::web::pages::pick_system(&l.plan, typed).map(|s| s.id.to_string())
    else {
        let text = if typed.is_empty() {
            state.templates.text(&viewer.lang, "incident.choose_system")
        } else {
            format!(
                "{} {}",
                state
                    .templates
                    .text(&viewer.lang, "incident.unknown_system")
                    .replace("{id}", typed),
                state.templates.text(&viewer.lang, "incident.choose_system")
            )
        };
        return Ok(crate::web::refusal(
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            text,
        ));
    };
    let down = f.get("state") != "recovered";
    let changed = state.mark_system(id, &system, down, &l.username).await?;
    answer(
        &state,
        &viewer.lang,
        &headers,
        id,
        &format!("sys-{system}"),
        changed,
    )
}

/// Ticks or un-ticks one step of a system's checklist, or of the stand-down checklist.
pub(super) async fn tick(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_work {
        return Err(Error::Forbidden);
    }
    let f = Fields(pairs);
    let system = f.get("system").trim().to_string();
    let steps = if system.is_empty() {
        Some(STAND_DOWN_ITEMS.len())
    } else {
        l.plan.system(&system).map(|s| s.recovery_steps.len())
    };
    let step = f.get("step").trim().parse::<usize>().ok();
    let Some(step) = step.filter(|n| steps.is_some_and(|steps| *n < steps)) else {
        let text = state
            .templates
            .text(&viewer.lang, "incident.unknown_step")
            .replace("{system}", &system)
            .replace(
                "{step}",
                &step.map_or_else(|| f.get("step"), |n| (n + 1).to_string()),
            );
        return Ok(crate::web::refusal(
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            text,
        ));
    };
    let done = f.get("done") != "0";
    let step = i32::try_from(step).unwrap_or(i32::MAX);
    let changed = state
        .tick_step(id, &system, step, done, &l.username)
        .await?;
    let anchor = if system.is_empty() {
        "stand-down".to_string()
    } else {
        format!("sys-{system}")
    };
    answer(&state, &viewer.lang, &headers, id, &anchor, changed)
}

pub(super) async fn note(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_work {
        return Err(Error::Forbidden);
    }
    let text = Fields(pairs).get("text");
    let text = text.trim();
    if text.chars().count() > crate::domain::edit::MAX_FIELD_CHARS {
        return Err(Error::TooLarge);
    }
    if text.is_empty() {
        return answer(
            &state,
            &viewer.lang,
            &headers,
            id,
            "timeline",
            Changed::Unchanged,
        );
    }
    let changed = state.note_incident(id, &l.username, text).await?;
    answer(&state, &viewer.lang, &headers, id, "timeline", changed)
}

/// Alerts the people of the call tree by mail.
pub(super) async fn alert(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_lead {
        return Err(Error::Forbidden);
    }
    let changed = state
        .alert_call_tree(&l.plan, &l.incident, &l.username)
        .await?;
    answer(&state, &viewer.lang, &headers, id, "call-tree", changed)
}

pub(super) async fn advance(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    id: i64,
    to: &str,
) -> Result<Response> {
    let l = load_incident(state, viewer, id).await?;
    if !l.may_lead {
        return Err(Error::Forbidden);
    }
    let changed = state.advance_incident(id, to, &l.username).await?;
    if to == store_incidents::CLOSED && changed == Changed::Done && !crate::web::by_script(headers)
    {
        return Ok(Redirect::to(&format!("/incidents/{id}/report")).into_response());
    }
    answer(state, &viewer.lang, headers, id, "stand-down", changed)
}

/// Begins standing down (nedlukning): the return from workarounds to normal operation.
pub(super) async fn stand_down(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response> {
    advance(
        &state,
        &viewer,
        &headers,
        id,
        store_incidents::STANDING_DOWN,
    )
    .await
}

/// Closes the incident: the record is kept as it is, and the report is made from it.
pub(super) async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response> {
    advance(&state, &viewer, &headers, id, store_incidents::CLOSED).await
}

/// The incident report: per system marked down, how long it was out against its RTO, and the
/// timeline; built like a drill's after-action report.
pub(super) async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    let lang = &viewer.lang;
    let outages: Vec<Outage> = store_incidents::outages(&state.db, id).await?;
    let now = state.clock.now();
    let until = l.incident.closed_at.unwrap_or(now);
    let record = incident::closing_record(&l.plan, &outages, until);
    let met = record.iter().filter(|r| r.rto_met == Some(true)).count();
    let missed = record.iter().filter(|r| r.rto_met == Some(false)).count();
    let mut data = incident_view(&state, &l, lang, None).await?;
    data["record"] = json!(
        record
            .iter()
            .map(|r| json!({
                "id": r.id,
                "name": l.plan.system(r.id.as_str()).map_or(r.id.as_str(), |s| s.name.as_str()),
                "took": i18n::duration(r.took, lang),
                "took_minutes": r.took.minutes(),
                "rto": r.rto.map(|d| i18n::duration(d, lang)),
                "met": r.rto_met,
            }))
            .collect::<Vec<_>>()
    );
    // When it was opened, stood down and closed, and how long it lasted (so far, while open).
    let i = &l.incident;
    let not_yet = state.templates.text(lang, "incident.not_yet");
    let when = |at: Option<DateTime<Utc>>| {
        at.map_or_else(|| not_yet.clone(), |at| local(&state, at, lang))
    };
    let lasted = i18n::duration(
        crate::domain::Duration::from_minutes(
            u64::try_from((until - i.started_at).num_minutes()).unwrap_or(0),
        ),
        lang,
    );
    data["times"] = json!({
        "started": when(Some(i.started_at)),
        "stood_down": when(i.stood_down_at),
        "closed": when(i.closed_at),
        "lasted": if i.closed_at.is_some() {
            lasted
        } else {
            state.templates.text(lang, "incident.so_far").replace("{duration}", &lasted)
        },
    });
    data["rto_met"] = json!(met);
    data["rto_missed"] = json!(missed);
    data["rto_unknown"] = json!(record.len() - met - missed);
    let draft = load(&state, &l.incident.plan_id).await?;
    let items = store::actions::list(
        &state.db,
        store::actions::Filter {
            incident: Some(id),
            ..Default::default()
        },
    )
    .await?;
    data["actions"] = json!(crate::web::actions::action_rows(
        &draft,
        &items,
        lang,
        state.clock.today()
    ));
    data["may_act"] = json!(l.may_lead);
    data["people"] = json!(
        draft
            .people
            .iter()
            .map(|p| json!({"id": p.id, "name": p.name}))
            .collect::<Vec<_>>()
    );
    data["systems"] = json!(
        by_name(draft.systems.iter())
            .into_iter()
            .map(|s| json!({"id": s.id, "name": s.name}))
            .collect::<Vec<_>>()
    );
    page(&state, &viewer, "incident_report", data).map(IntoResponse::into_response)
}

/// A finding of the incident becomes an action item for a person of the plan.
pub(super) async fn new_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_lead_incident())?;
    let incident = store_incidents::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let draft = load(&state, &incident.plan_id).await?;
    let source = crate::web::actions::ActionSource {
        title: &incident.title,
        occurrence_id: None,
        incident_id: Some(id),
    };
    let actor = user.actor.username.clone();
    if let Some(refused) =
        crate::web::actions::create_action(&state, &viewer, &draft, &actor, source, pairs).await?
    {
        return Ok(refused);
    }
    Ok(Redirect::to(&format!("/incidents/{id}/report#actions")).into_response())
}
