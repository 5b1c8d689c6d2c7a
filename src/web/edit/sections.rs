//! Editing the plan's common sections: activation, stand-down, return to normal, the call tree
//! and the channels.

use super::*;

pub(super) fn sections_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    form: &SectionsForm,
    revision: i64,
    errors: &[FieldError],
) -> Value {
    let e = error_map(state, lang, errors);
    let mut fields = Map::new();
    for (name, value) in [
        ("purpose", &form.purpose),
        ("scope", &form.scope),
        ("audience", &form.audience),
        ("activation_criteria", &form.activation_criteria),
        ("stand_down_criteria", &form.stand_down_criteria),
        ("call_tree", &form.call_tree),
        ("channels", &form.channels),
        ("resources", &form.resources),
        ("backups", &form.backups),
        ("return_to_normal", &form.return_to_normal),
        ("incident_handling", &form.incident_handling),
    ] {
        fields.insert(name.to_string(), field(value, name, &e));
    }
    json!({
        "plan": {"id": plan.id, "name": plan.name},
        "revision": revision,
        "f": fields,
        "people": plan.people.iter().map(|p| json!({"id": p.id, "name": p.name})).collect::<Vec<_>>(),
        "error_count": errors.len(),
        "errors": errors.iter().map(|er| json!({"field": er.field, "message": problem_text(state, lang, &er.problem)})).collect::<Vec<_>>(),
    })
}

pub(super) async fn edit_sections_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_edit_plan())?;
    let plan = load(&state, &plan_id).await?;
    let revision = store::plan_revisions(&state.db, &plan.id)
        .await?
        .ok_or(Error::NotFound)?
        .sections;
    let data = sections_view(
        &state,
        &viewer.lang,
        &plan,
        &SectionsForm::from_plan(&plan),
        revision,
        &[],
    );
    Ok(page(&state, &viewer, "edit_sections", data)?.into_response())
}

pub(super) async fn edit_sections(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_edit_plan())?;
    let plan = load(&state, &plan_id).await?;
    let f = Fields(pairs);
    let form = SectionsForm {
        purpose: f.get("purpose"),
        scope: f.get("scope"),
        audience: f.get("audience"),
        activation_criteria: f.get("activation_criteria"),
        stand_down_criteria: f.get("stand_down_criteria"),
        call_tree: f.get("call_tree"),
        channels: f.get("channels"),
        resources: f.get("resources"),
        backups: f.get("backups"),
        return_to_normal: f.get("return_to_normal"),
        incident_handling: f.get("incident_handling"),
    };
    let revision: i64 = f.get("revision").parse().unwrap_or(-1);
    let lang = &viewer.lang;
    let edited = match form.apply(&plan) {
        Ok(edited) => edited,
        Err(errors) => {
            let data = sections_view(&state, lang, &plan, &form, revision, &errors);
            return page_with(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "edit_sections",
                data,
            );
        }
    };
    match state
        .save_sections(&plan.id, &user.actor.username, &edited, revision)
        .await?
    {
        Edited::Done { changes, .. } => Ok(Redirect::to(&format!(
            "/plans/{}/sections?saved={}",
            plan.id,
            changes.len()
        ))
        .into_response()),
        Edited::Conflict { current, revision } => {
            let mut mine = current.clone();
            mine.sections = edited.sections;
            mine.call_tree = edited.call_tree;
            mine.channels = edited.channels;
            let changes = diff::plan_changes(&current, &mine);
            let mut data = sections_view(&state, lang, &current, &form, revision, &[]);
            data["conflict"] = conflict_view(&changes);
            page_with(&state, &viewer, StatusCode::CONFLICT, "edit_sections", data)
        }
    }
}
