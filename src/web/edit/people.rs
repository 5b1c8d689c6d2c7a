//! The people of a plan: the list with their contact details and plan roles, adding and
//! editing a person.

use super::*;

/// The people of a plan with their contact details and plan roles.
pub(super) async fn list_people(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<crate::web::pages::SavedQuery>,
) -> Result<Response> {
    let user = viewer.require()?;
    let plan = load(&state, &plan_id).await?;
    let role_name = |id: &crate::domain::RoleId| {
        plan.roles
            .iter()
            .find(|r| &r.id == id)
            .map_or(id.to_string(), |r| r.name.clone())
    };
    let people: Vec<Value> = plan
        .people
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.name,
                "title": p.title,
                "email": p.email,
                "phone": p.phone,
                "tel": p.phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect::<String>(),
                "roles": p.roles.iter().map(role_name).collect::<Vec<_>>(),
            })
        })
        .collect();
    let roles: Vec<Value> = plan
        .roles
        .iter()
        .map(|r| json!({"id": r.id, "name": r.name, "responsibilities": r.responsibilities}))
        .collect();
    Ok(page(
        &state,
        &viewer,
        "people",
        json!({
            "plan": {"id": plan.id, "name": plan.name},
            "people": people,
            "roles": roles,
            "editable": user.actor.may_edit_plan(),
            "saved": q.saved_view(),
        }),
    )?
    .into_response())
}

pub(super) fn person_view(
    state: &AppState,
    lang: &str,
    plan: &Plan,
    form: &PersonForm,
    existing: Option<i64>,
    errors: &[FieldError],
) -> Value {
    let e = error_map(state, lang, errors);
    let mut fields = Map::new();
    for (name, value) in [
        ("id", &form.id),
        ("name", &form.name),
        ("title", &form.title),
        ("email", &form.email),
        ("phone", &form.phone),
    ] {
        fields.insert(name.to_string(), field(value, name, &e));
    }
    json!({
        "plan": {"id": plan.id, "name": plan.name},
        "new": existing.is_none(),
        "person": {"id": form.id, "name": form.name},
        "revision": existing,
        "f": fields,
        "roles_error": e.get("roles").cloned().unwrap_or(Value::Null),
        "roles": plan.roles.iter().map(|r| json!({
            "id": r.id,
            "name": r.name,
            "checked": form.roles.iter().any(|x| x == r.id.as_str()),
        })).collect::<Vec<_>>(),
        "error_count": errors.len(),
        "errors": errors.iter().map(|er| json!({"field": er.field, "message": problem_text(state, lang, &er.problem)})).collect::<Vec<_>>(),
    })
}

pub(super) async fn new_person_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_edit_plan())?;
    let plan = load(&state, &plan_id).await?;
    let data = person_view(
        &state,
        &viewer.lang,
        &plan,
        &PersonForm::default(),
        None,
        &[],
    );
    Ok(page(&state, &viewer, "edit_person", data)?.into_response())
}

pub(super) async fn edit_person_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, person_id)): Path<(String, String)>,
) -> Result<Response> {
    viewer.require_that(|a| a.may_edit_plan())?;
    let plan = load(&state, &plan_id).await?;
    let (person, revision) = store::edits::load_person(&state.db, &plan.id, &person_id)
        .await?
        .ok_or(Error::NotFound)?;
    let data = person_view(
        &state,
        &viewer.lang,
        &plan,
        &PersonForm::from_person(&person),
        Some(revision),
        &[],
    );
    Ok(page(&state, &viewer, "edit_person", data)?.into_response())
}

/// Saves a new person (`/people/new`) or an edited one (`/people/{person}/edit`).
pub(super) async fn save_person(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(params): Path<Vec<(String, String)>>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let user = viewer.require_that(|a| a.may_edit_plan())?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let plan = load(&state, &param("plan").unwrap_or_default()).await?;
    let existing = match param("person") {
        Some(id) => Some(
            store::edits::load_person(&state.db, &plan.id, &id)
                .await?
                .ok_or(Error::NotFound)?,
        ),
        None => None,
    };
    let f = Fields(pairs);
    let mut form = PersonForm {
        id: f.get("id"),
        name: f.get("name"),
        title: f.get("title"),
        email: f.get("email"),
        phone: f.get("phone"),
        roles: f.all("role"),
    };
    let expected = existing
        .as_ref()
        .map(|_| f.get("revision").parse().unwrap_or(-1));
    if let Some((person, _)) = &existing {
        form.id = person.id.to_string();
    }
    let lang = &viewer.lang;
    let person = match form.apply(existing.as_ref().map(|(p, _)| p), &plan) {
        Ok(person) => person,
        Err(errors) => {
            let data = person_view(&state, lang, &plan, &form, expected, &errors);
            return page_with(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                "edit_person",
                data,
            );
        }
    };
    match state
        .save_person(&plan.id, &user.actor.username, &person, expected)
        .await?
    {
        Edited::Done { changes, .. } => Ok(Redirect::to(&format!(
            "/plans/{}/people?saved={}",
            plan.id,
            changes.len()
        ))
        .into_response()),
        Edited::Conflict { current, revision } => {
            let changes = diff::person_changes(current.as_ref(), &person);
            let mut data = person_view(&state, lang, &plan, &form, Some(revision), &[]);
            data["conflict"] = conflict_view(&changes);
            page_with(&state, &viewer, StatusCode::CONFLICT, "edit_person", data)
        }
    }
}
