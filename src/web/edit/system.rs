//! Editing a system section: the form with its steps and impact rows (added, removed and
//! reordered without JavaScript), saving it, and the one-click review.

use super::*;

pub(super) fn system_form(f: &Fields) -> SystemForm {
    let mut form = SystemForm::default();
    for (name, value) in form.fields_mut() {
        *value = f.get(name);
    }
    SystemForm {
        steps: (0..f.rows("step-"))
            .map(|i| StepForm {
                text: f.get(&format!("step-{i}-text")),
                role: f.get(&format!("step-{i}-role")),
                duration: f.get(&format!("step-{i}-duration")),
            })
            .collect(),
        impact: (0..f.rows("impact-"))
            .map(|i| ImpactForm {
                after: f.get(&format!("impact-{i}-after")),
                level: f.get(&format!("impact-{i}-level")),
                citizens: f.get(&format!("impact-{i}-citizens")),
                staff: f.get(&format!("impact-{i}-staff")),
            })
            .collect(),
        ..form
    }
}

/// What a submit button asked for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Action {
    Save,
    AddStep,
    RemoveStep(usize),
    StepUp(usize),
    StepDown(usize),
    AddImpact,
    RemoveImpact(usize),
}

pub(super) fn action(text: &str) -> Action {
    let index = |prefix: &str| text.strip_prefix(prefix).and_then(|n| n.parse().ok());
    if text == "add-step" {
        Action::AddStep
    } else if text == "add-impact" {
        Action::AddImpact
    } else if let Some(i) = index("remove-step-") {
        Action::RemoveStep(i)
    } else if let Some(i) = index("up-step-") {
        Action::StepUp(i)
    } else if let Some(i) = index("down-step-") {
        Action::StepDown(i)
    } else if let Some(i) = index("remove-impact-") {
        Action::RemoveImpact(i)
    } else {
        Action::Save
    }
}

/// Applies a row button to the form; a button for a row that is not there does nothing.
pub(super) fn rearrange(form: &mut SystemForm, action: &Action) {
    let steps = form.steps.len();
    match *action {
        Action::AddStep => form.steps.push(StepForm::default()),
        Action::RemoveStep(i) if i < steps => {
            form.steps.remove(i);
        }
        Action::StepUp(i) if i > 0 && i < steps => form.steps.swap(i - 1, i),
        Action::StepDown(i) if i + 1 < steps => form.steps.swap(i, i + 1),
        Action::AddImpact => form.impact.push(ImpactForm::default()),
        Action::RemoveImpact(i) if i < form.impact.len() => {
            form.impact.remove(i);
        }
        _ => {}
    }
}

/// The data for the system form template.
pub(super) fn system_form_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    system: &System,
    form: &SystemForm,
    revision: i64,
    errors: &[FieldError],
) -> Value {
    let e = error_map(state, lang, errors);
    let people = |selected: &str| {
        let mut list = vec![json!({"value": "", "label": "—", "selected": selected.is_empty()})];
        list.extend(options(
            plan.people
                .iter()
                .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.id))),
            selected,
        ));
        // A value that is not a person (typed by hand in the API, say) is kept, and named.
        if !selected.is_empty() && plan.person(selected).is_none() {
            list.push(json!({"value": selected, "label": selected, "selected": true}));
        }
        list
    };
    let roles = |selected: &str| {
        let mut list = options(
            plan.roles
                .iter()
                .map(|r| (r.id.to_string(), r.name.clone())),
            selected,
        );
        if !plan.roles.iter().any(|r| r.id.as_str() == selected) {
            list.insert(0, json!({"value": selected, "label": if selected.is_empty() { "—" } else { selected }, "selected": true}));
        }
        list
    };
    let steps: Vec<Value> = form
        .steps
        .iter()
        .enumerate()
        .map(|(i, st)| {
            json!({
                "index": i,
                "number": i + 1,
                "first": i == 0,
                "last": i + 1 == form.steps.len(),
                "text": field(&st.text, &format!("step-{i}-text"), &e),
                "role": field(&st.role, &format!("step-{i}-role"), &e),
                "roles": roles(&st.role),
                "duration": field(&st.duration, &format!("step-{i}-duration"), &e),
            })
        })
        .collect();
    let impact: Vec<Value> = form
        .impact
        .iter()
        .enumerate()
        .map(|(i, row)| {
            json!({
                "index": i,
                "number": i + 1,
                "after": field(&row.after, &format!("impact-{i}-after"), &e),
                "level": field(&row.level, &format!("impact-{i}-level"), &e),
                "levels": options(
                    ImpactLevel::ALL.iter().map(|l| (l.as_str().to_string(), format!("impact.{}", l.as_str()))),
                    row.level.trim(),
                ),
                "citizens": field(&row.citizens, &format!("impact-{i}-citizens"), &e),
                "staff": field(&row.staff, &format!("impact-{i}-staff"), &e),
            })
        })
        .collect();
    let mut fields = Map::new();
    for (name, value) in form.fields() {
        fields.insert(name.to_string(), field(value, name, &e));
    }
    json!({
        "plan": {"id": plan.id, "name": plan.name},
        "system": {"id": system.id, "name": system.name},
        "revision": revision,
        "f": fields,
        "owners": people(form.owner.trim()),
        "deputies": people(form.deputy.trim()),
        "crits": options((1..=4).map(|c| (c.to_string(), c.to_string())), form.criticality.trim()),
        "steps": steps,
        "impact": impact,
        "known_systems": plan.systems.iter().filter(|s| s.id != system.id).map(|s| json!({"id": s.id, "name": s.name})).collect::<Vec<_>>(),
        "error_count": errors.len(),
        "errors": errors.iter().map(|er| json!({"field": er.field, "message": problem_text(state, lang, &er.problem)})).collect::<Vec<_>>(),
    })
}

pub(super) async fn editable_system(
    state: &AppState,
    viewer: &Viewer,
    plan_id: &str,
    system_id: &str,
) -> Result<(Arc<Plan>, System, i64)> {
    let user = viewer.require()?;
    let plan = load(state, plan_id).await?;
    let (system, revision) = store::edits::load_system(&state.db, &plan.id, system_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !user.actor.may_edit_system(&system) {
        return Err(Error::Forbidden);
    }
    Ok((plan, system, revision))
}

pub(super) async fn edit_system_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, system_id)): Path<(String, String)>,
) -> Result<Response> {
    let (plan, system, revision) = editable_system(&state, &viewer, &plan_id, &system_id).await?;
    let form = SystemForm::from_system(&system);
    let data = system_form_view(&state, &viewer.lang, &plan, &system, &form, revision, &[]);
    Ok(page(&state, &viewer, "edit_system", data)?.into_response())
}

pub(super) async fn edit_system(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, system_id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let (plan, system, _) = editable_system(&state, &viewer, &plan_id, &system_id).await?;
    let user = viewer.require()?;
    let fields = Fields(pairs);
    let mut form = system_form(&fields);
    let revision: i64 = fields.get("revision").parse().unwrap_or(-1);
    let requested = action(&fields.get("action"));
    let lang = &viewer.lang;
    if requested != Action::Save {
        rearrange(&mut form, &requested);
        let data = system_form_view(&state, lang, &plan, &system, &form, revision, &[]);
        return Ok(page(&state, &viewer, "edit_system", data)?.into_response());
    }
    let edited = match form.apply(&system, &plan) {
        Ok(edited) => edited,
        Err(errors) => {
            let data = system_form_view(&state, lang, &plan, &system, &form, revision, &errors);
            return page_with(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "edit_system",
                data,
            );
        }
    };
    match state
        .save_system(&plan.id, &user.actor.username, &edited, revision)
        .await?
    {
        Edited::Done { changes, .. } => {
            tracing::info!(user = %user.actor.username, plan = %plan.id, system = %edited.id, fields = changes.len(), "saved system section");
            Ok(Redirect::to(&format!(
                "/plans/{}/systems/{}?saved={}",
                plan.id,
                edited.id,
                changes.len()
            ))
            .into_response())
        }
        Edited::Conflict { current, revision } => {
            let theirs = diff::system_changes(Some(&current), Some(&edited));
            let mut data = system_form_view(&state, lang, &plan, &current, &form, revision, &[]);
            data["conflict"] = conflict_view(&theirs);
            page_with(&state, &viewer, StatusCode::CONFLICT, "edit_system", data)
        }
    }
}

/// "Reviewed, no change": the owner (or deputy, or coordinator) confirms the section is still
/// right; its review date becomes today, by the person confirming, audited like any edit.
pub(super) async fn confirm_review(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, system_id)): Path<(String, String)>,
) -> Result<Response> {
    let (plan, system, revision) = editable_system(&state, &viewer, &plan_id, &system_id).await?;
    let user = viewer.require()?;
    let mut edited = system.clone();
    edited.last_reviewed = Some(state.clock.today());
    edited.reviewed_by = user
        .actor
        .person
        .as_deref()
        .and_then(|p| plan.person(p))
        .map(|p| p.id.clone());
    match state
        .save_system(&plan.id, &user.actor.username, &edited, revision)
        .await?
    {
        Edited::Done { .. } => Ok(Redirect::to(&format!(
            "/plans/{}/systems/{}?reviewed=1",
            plan.id, edited.id
        ))
        .into_response()),
        // Changed between reading and saving: the visitor looks again.
        Edited::Conflict { .. } => {
            Ok(Redirect::to(&format!("/plans/{}/systems/{}", plan.id, edited.id)).into_response())
        }
    }
}
