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

/// How many steps the checklist of `system` has (an empty system: the stand-down checklist);
/// `None` for a system the plan does not have.
fn steps_of(plan: &Plan, system: &str) -> Option<usize> {
    if system.is_empty() {
        Some(STAND_DOWN_ITEMS.len())
    } else {
        plan.system(system).map(|s| s.recovery_steps.len())
    }
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
    let steps = steps_of(&l.plan, &system);
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

/// The call tree's last alert of the incident, said as the page says it beside the button:
/// "Varslet {at} af {by}: {n} mails".
async fn last_alert(state: &AppState, lang: &str, id: i64) -> Result<Option<String>> {
    let events = store_incidents::events(&state.db, id).await?;
    let Some(e) = events.iter().rev().find(|e| e.kind == "alert") else {
        return Ok(None);
    };
    let names = state.names().await?;
    Ok(Some(
        state
            .templates
            .counted(
                lang,
                "incident.alerted",
                e.text.parse::<usize>().unwrap_or(0),
            )
            .replace("{at}", &local(state, e.at, lang))
            .replace("{by}", &names.of(&e.author)),
    ))
}

/// Asks before the call tree is alerted a second time.
async fn ask_alert(
    state: &AppState,
    viewer: &Viewer,
    l: &Loaded,
    before: String,
) -> Result<Response> {
    let lang = &viewer.lang;
    let t = |key: &str| state.templates.text(lang, key);
    let id = l.incident.id;
    let answered = state.answered(id).await?;
    let everyone = l.plan.call_tree.len();
    let unanswered = l
        .plan
        .call_tree
        .iter()
        .filter(|c| !answered.iter().any(|a| a == c.person.as_str()))
        .count();
    let count = |key: &str, n: usize| t(key).replace("{n}", &n.to_string());
    super::super::confirm::ask(
        state,
        viewer,
        super::super::confirm::Confirm {
            title: t("confirm.alert.title"),
            lead: t("confirm.alert.lead").replace("{before}", &before),
            points: vec![
                state
                    .templates
                    .counted(lang, "confirm.alert.again", unanswered),
            ],
            action: format!("/incidents/{id}/alert"),
            hidden: Vec::new(),
            choice: Some((
                "who",
                t("confirm.alert.who"),
                vec![
                    (
                        "unanswered".into(),
                        count("confirm.alert.unanswered", unanswered),
                    ),
                    ("all".into(), count("confirm.alert.everyone", everyone)),
                ],
            )),
            button: "incident.alert",
            back: format!("/incidents/{id}#call-tree"),
        },
    )
}

/// Asks before a second alert; with none before, goes back to the incident's button.
pub(super) async fn alert_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_lead {
        return Err(Error::Forbidden);
    }
    match last_alert(&state, &viewer.lang, id).await? {
        Some(before) if l.incident.state != store_incidents::CLOSED => {
            ask_alert(&state, &viewer, &l, before).await
        }
        _ => Ok(Redirect::to(&format!("/incidents/{id}#call-tree")).into_response()),
    }
}

/// Alerts the people of the call tree by mail. When it was alerted already, only once the
/// confirmation was seen.
pub(super) async fn alert(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_lead {
        return Err(Error::Forbidden);
    }
    if l.incident.state != store_incidents::CLOSED
        && !super::super::confirm::confirmed(&pairs)
        && let Some(before) = last_alert(&state, &viewer.lang, id).await?
    {
        if crate::web::by_script(&headers) {
            let text = state.templates.text(&viewer.lang, "confirm.alert.title");
            return Ok((StatusCode::CONFLICT, axum::Json(json!({"error": text}))).into_response());
        }
        return ask_alert(&state, &viewer, &l, before).await;
    }
    let audience = if pairs.iter().any(|(k, v)| k == "who" && v == "all") {
        Audience::Everyone
    } else {
        Audience::Unanswered
    };
    let (changed, n) = state
        .alert_call_tree(&l.plan, &l.incident, &l.username, audience)
        .await?;
    if changed == Changed::Done && !crate::web::by_script(&headers) {
        super::super::confirm::tell(
            &viewer,
            super::super::confirm::Flash::new("flash.alerted").count(n),
        )
        .await?;
    }
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

/// What is unfinished when the incident is closed: the stand-down checklist, systems still
/// marked down, and their recovery steps not ticked.
async fn unfinished(state: &AppState, l: &Loaded, lang: &str) -> Result<Vec<String>> {
    let id = l.incident.id;
    let ticks = store_incidents::ticks(&state.db, id).await?;
    let ticked = |system: &str, step: usize| {
        ticks
            .iter()
            .any(|t| t.system_id == system && usize::try_from(t.step).is_ok_and(|s| s == step))
    };
    let t = &state.templates;
    let count = |n: usize| i18n::count(i64::try_from(n).unwrap_or(0), lang);
    let mut points = Vec::new();
    let open_items = (0..STAND_DOWN_ITEMS.len())
        .filter(|n| !ticked(STAND_DOWN, *n))
        .count();
    if open_items > 0 {
        points.push(
            t.counted(lang, "confirm.close_incident.stand_down", open_items)
                .replace("{total}", &count(STAND_DOWN_ITEMS.len())),
        );
    }
    let outages = store_incidents::outages(&state.db, id).await?;
    let down: Vec<&Outage> = outages
        .iter()
        .filter(|o| o.recovered_at.is_none())
        .collect();
    if !down.is_empty() {
        let names: Vec<String> = down
            .iter()
            .map(|o| {
                l.plan
                    .system(o.system.as_str())
                    .map_or(o.system.to_string(), |s| s.name.clone())
            })
            .collect();
        points.push(
            t.counted(lang, "confirm.close_incident.down", down.len())
                .replace("{systems}", &names.join(", ")),
        );
        let (all, open) = down.iter().fold((0, 0), |(all, open), o| {
            let steps = l
                .plan
                .system(o.system.as_str())
                .map_or(0, |s| s.recovery_steps.len());
            let left = (0..steps)
                .filter(|n| !ticked(o.system.as_str(), *n))
                .count();
            (all + steps, open + left)
        });
        if open > 0 {
            points.push(
                t.counted(lang, "confirm.close_incident.steps", open)
                    .replace("{total}", &count(all)),
            );
        }
    }
    Ok(points)
}

async fn ask_close(state: &AppState, viewer: &Viewer, l: &Loaded) -> Result<Response> {
    let id = l.incident.id;
    if l.incident.state == store_incidents::CLOSED {
        return Ok(Redirect::to(&format!("/incidents/{id}/report")).into_response());
    }
    let lang = &viewer.lang;
    let t = |key: &str| state.templates.text(lang, key);
    let mut points = unfinished(state, l, lang).await?;
    if points.is_empty() {
        points.push(t("confirm.close_incident.complete"));
    }
    super::super::confirm::ask(
        state,
        viewer,
        super::super::confirm::Confirm {
            title: t("confirm.close_incident.title").replace("{title}", &l.incident.title),
            lead: t("confirm.close_incident.lead"),
            points,
            action: format!("/incidents/{id}/close"),
            hidden: Vec::new(),
            choice: None,
            button: "incident.close",
            back: format!("/incidents/{id}#stand-down"),
        },
    )
}

/// Asks before the incident is closed: what is still unfinished.
pub(super) async fn close_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_lead {
        return Err(Error::Forbidden);
    }
    ask_close(&state, &viewer, &l).await
}

/// Closes the incident once the confirmation was seen (without it, asks): the record is kept
/// as it is, and the report is made from it.
pub(super) async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    if !super::super::confirm::confirmed(&pairs) {
        let l = load_incident(&state, &viewer, id).await?;
        if !l.may_lead {
            return Err(Error::Forbidden);
        }
        return ask_close(&state, &viewer, &l).await;
    }
    let response = advance(&state, &viewer, &headers, id, store_incidents::CLOSED).await?;
    if response.status() == StatusCode::SEE_OTHER
        && response
            .headers()
            .get(axum::http::header::LOCATION)
            .is_some_and(|l| l.as_bytes().ends_with(b"/report"))
    {
        super::super::confirm::tell(
            &viewer,
            super::super::confirm::Flash::new("flash.incident_closed"),
        )
        .await?;
    }
    Ok(response)
}

/// The incident report: per system marked down, how long it was out against its RTO, and the
/// timeline; built like a drill's after-action report.
pub(super) async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let data = report_view(&state, &viewer, id).await?;
    page(&state, &viewer, "incident_report", data).map(IntoResponse::into_response)
}

/// The incident report as a Word document, to file with the minutes.
pub(super) async fn report_docx(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response> {
    let data = report_view(&state, &viewer, id).await?;
    let bytes = crate::render::reports::incident(&state.templates, &data, &viewer.lang)?;
    let name = format!(
        "{}-{id}.docx",
        state.templates.text(&viewer.lang, "incident.report_file")
    );
    Ok(super::super::attachment(
        &name,
        crate::render::document::CONTENT_TYPE,
        bytes,
    ))
}

/// Everything the incident report shows.
async fn report_view(state: &AppState, viewer: &Viewer, id: i64) -> Result<Value> {
    let l = load_incident(state, viewer, id).await?;
    let lang = &viewer.lang;
    let outages: Vec<Outage> = store_incidents::outages(&state.db, id).await?;
    let now = state.clock.now();
    let until = l.incident.closed_at.unwrap_or(now);
    let record = incident::closing_record(&l.plan, &outages, until);
    let met = record.iter().filter(|r| r.rto_met == Some(true)).count();
    let missed = record.iter().filter(|r| r.rto_met == Some(false)).count();
    let mut data = incident_view(state, &l, lang, None).await?;
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
    let when =
        |at: Option<DateTime<Utc>>| at.map_or_else(|| not_yet.clone(), |at| local(state, at, lang));
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
    let draft = load(state, &l.incident.plan_id).await?;
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
    Ok(data)
}

/// A finding of the incident becomes an action item for a person of the plan.
pub(super) async fn new_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    viewer.require()?;
    let incident = store_incidents::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let user = viewer.require_in(&incident.plan_id)?;
    if !user.actor.may_lead_incident() {
        return Err(Error::Forbidden);
    }
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

/// Actions a phone took while it was offline, as its script sends them when it is back.
#[derive(Deserialize)]
pub(super) struct OfflineBatch {
    actions: Vec<OfflineInput>,
}

#[derive(Deserialize)]
struct OfflineInput {
    /// Made on the phone (a UUID).
    id: String,
    /// When it happened on the phone (RFC 3339).
    at: String,
    /// `tick`, `untick`, `note`, `down`, `recovered`.
    kind: String,
    #[serde(default)]
    system: String,
    #[serde(default)]
    step: Option<i64>,
    #[serde(default)]
    text: String,
}

/// At most this many actions in one batch.
const OFFLINE_BATCH_MAX: usize = 500;

/// An action as sent, checked against the plan: what to apply, or why not (a locale key's text).
fn offline_action(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    input: &OfflineInput,
) -> std::result::Result<store_incidents::OfflineAction, String> {
    use store_incidents::OfflineKind;
    let t = |key: &str| state.templates.text(lang, key);
    let id = input.id.trim();
    if !(8..=64).contains(&id.len())
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(t("incident.offline.bad_id"));
    }
    let happened_at = DateTime::parse_from_rfc3339(input.at.trim())
        .map_err(|_| t("incident.offline.bad_time").replace("{input}", &input.at))?
        .with_timezone(&Utc);
    let system = input.system.trim();
    let unknown = || t("incident.unknown_system").replace("{id}", system);
    let kind = match input.kind.as_str() {
        "tick" | "untick" => {
            let steps = steps_of(plan, system).ok_or_else(unknown)?;
            let step = input
                .step
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n < steps)
                .ok_or_else(|| {
                    t("incident.unknown_step")
                        .replace("{system}", system)
                        .replace("{step}", &input.step.map_or(0, |n| n + 1).to_string())
                })?;
            OfflineKind::Tick {
                system: system.to_string(),
                step: i32::try_from(step).unwrap_or(i32::MAX),
                done: input.kind == "tick",
            }
        }
        // By its id, or by its name as typed in the picker.
        "down" | "recovered" => OfflineKind::Mark {
            system: crate::web::pages::pick_system(plan, system)
                .map(|s| s.id.to_string())
                .ok_or_else(unknown)?,
            down: input.kind == "down",
        },
        "note" => {
            let text = input.text.trim();
            if text.is_empty() || text.chars().count() > crate::domain::edit::MAX_FIELD_CHARS {
                return Err(t("incident.offline.bad_note"));
            }
            OfflineKind::Note {
                text: text.to_string(),
            }
        }
        other => return Err(t("incident.offline.bad_kind").replace("{kind}", other)),
    };
    Ok(store_incidents::OfflineAction {
        id: id.to_string(),
        happened_at,
        kind,
    })
}

/// Applies what a phone did while offline, each action once by its id: `{revision, results:
/// [{id, outcome: applied | late | repeat | refused, error?}]}`. An action that cannot be
/// read is refused on its own, with why; the others still apply.
pub(super) async fn offline(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    axum::Json(batch): axum::Json<OfflineBatch>,
) -> Result<Response> {
    let l = load_incident(&state, &viewer, id).await?;
    if !l.may_work {
        return Err(Error::Forbidden);
    }
    if batch.actions.len() > OFFLINE_BATCH_MAX {
        return Err(Error::TooLarge);
    }
    let mut results: Vec<Value> = Vec::with_capacity(batch.actions.len());
    let mut valid = Vec::new();
    for input in &batch.actions {
        match offline_action(&state, &viewer.lang, &l.plan, input) {
            Ok(action) => {
                results.push(json!({"id": action.id}));
                valid.push((results.len() - 1, action));
            }
            Err(error) => {
                results.push(json!({"id": input.id, "outcome": "refused", "error": error}))
            }
        }
    }
    // In the order they happened on the phone.
    valid.sort_by_key(|(_, a)| a.happened_at);
    let actions: Vec<_> = valid.iter().map(|(_, a)| a.clone()).collect();
    let outcomes = state.apply_offline(id, &l.username, &actions).await?;
    for ((at, _), outcome) in valid.iter().zip(outcomes) {
        results[*at]["outcome"] = json!(match outcome {
            store_incidents::Offline::Applied => "applied",
            store_incidents::Offline::Late => "late",
            store_incidents::Offline::Repeat => "repeat",
            store_incidents::Offline::Gone => "gone",
        });
    }
    let revision = store_incidents::revision(&state.db, id).await?.unwrap_or(0);
    Ok(axum::Json(json!({"revision": revision, "results": results})).into_response())
}
