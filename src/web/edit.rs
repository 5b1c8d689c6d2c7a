//! Editing: a system section (with recovery steps and impact rows added, removed and reordered
//! without JavaScript) and the plan-level sections. Every save carries the revision the form
//! started from; a save over a newer revision is refused with 409 and a page showing both.

use crate::app::editing::Edited;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::auth::Viewer;
use super::pages::{load, page, page_with};
use super::{AppState, Error, Result};
use crate::domain::diff::{self, Change};
use crate::domain::edit::{
    FieldError, ImpactForm, PersonForm, Problem, SectionsForm, StepForm, SystemForm,
};
use crate::domain::{ImpactLevel, Plan, System};
use crate::store::{self};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/plans/{plan}/systems/{system}/reviewed",
            axum::routing::post(confirm_review),
        )
        .route(
            "/plans/{plan}/systems/{system}/edit",
            get(edit_system_form).post(edit_system),
        )
        .route(
            "/plans/{plan}/sections/edit",
            get(edit_sections_form).post(edit_sections),
        )
        .route("/plans/{plan}/people", get(list_people))
        .route(
            "/plans/{plan}/people/new",
            get(new_person_form).post(save_person),
        )
        .route(
            "/plans/{plan}/people/{person}/edit",
            get(edit_person_form).post(save_person),
        )
}

/// A form as submitted: name–value pairs in order.
pub(super) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The field's value, with the CRLF line ends browsers send turned into LF.
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    }

    /// Every value of a repeated field (ticked boxes), in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// How many rows `prefix-N-…` fields describe (one past the highest N).
    fn rows(&self, prefix: &str) -> usize {
        self.0
            .iter()
            .filter_map(|(k, _)| {
                k.strip_prefix(prefix)?
                    .split('-')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .map(|n| n + 1)
            .max()
            .unwrap_or(0)
            .min(500)
    }
}

fn system_form(f: &Fields) -> SystemForm {
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
enum Action {
    Save,
    AddStep,
    RemoveStep(usize),
    StepUp(usize),
    StepDown(usize),
    AddImpact,
    RemoveImpact(usize),
}

fn action(text: &str) -> Action {
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
fn rearrange(form: &mut SystemForm, action: &Action) {
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

/// A problem in the visitor's language.
pub(super) fn problem_text(state: &AppState, lang: &str, problem: &Problem) -> String {
    let t = |key: &str| state.templates.text(lang, key);
    let hint = |suggestion: &Option<String>| {
        suggestion
            .as_ref()
            .map(|s| format!(" {}", t("problem.suggestion").replace("{id}", s)))
            .unwrap_or_default()
    };
    match problem {
        Problem::Required => t("problem.required"),
        Problem::TooLong { max } => t("problem.too_long").replace("{max}", &max.to_string()),
        Problem::Duration { input } => t("problem.duration").replace("{input}", input),
        Problem::Criticality { input } => t("problem.criticality").replace("{input}", input),
        Problem::UnknownSystem { id, suggestion } => {
            t("problem.unknown_system").replace("{id}", id) + &hint(suggestion)
        }
        Problem::UnknownPerson { id, suggestion } => {
            t("problem.unknown_person").replace("{id}", id) + &hint(suggestion)
        }
        Problem::UnknownRole { id, suggestion } => {
            t("problem.unknown_role").replace("{id}", id) + &hint(suggestion)
        }
        Problem::SelfDependency => t("problem.self_dependency"),
        Problem::ImpactLevel { input } => t("problem.impact_level").replace("{input}", input),
        Problem::Finding { message } => t("problem.finding").replace("{message}", message),
        Problem::InvalidId { input } => t("problem.invalid_id").replace("{input}", input),
        Problem::Taken { id } => t("problem.taken").replace("{id}", id),
        Problem::Email { input } => t("problem.email").replace("{input}", input),
        Problem::Cron { input, reason } => t("problem.cron")
            .replace("{input}", input)
            .replace("{reason}", reason),
        Problem::TooOften { input } => t("problem.too_often").replace("{input}", input),
        Problem::DateTime { input } => t("problem.datetime").replace("{input}", input),
        Problem::InPast => t("problem.in_past"),
        Problem::ControlCharacter { code } => {
            t("problem.control_character").replace("{code}", code)
        }
        Problem::TimeGap { input } => t("problem.time_gap").replace("{input}", input),
        Problem::Number { input } => t("problem.number").replace("{input}", input),
    }
}

/// Field → message, for every field with a problem.
fn error_map(state: &AppState, lang: &str, errors: &[FieldError]) -> Map<String, Value> {
    errors
        .iter()
        .map(|e| {
            (
                e.field.clone(),
                json!(problem_text(state, lang, &e.problem)),
            )
        })
        .collect()
}

/// `{value, error}` for a field, so templates never look up a missing key.
fn field(value: &str, name: &str, errors: &Map<String, Value>) -> Value {
    json!({"name": name, "value": value, "error": errors.get(name).cloned().unwrap_or(Value::Null)})
}

fn options(items: impl Iterator<Item = (String, String)>, selected: &str) -> Vec<Value> {
    items
        .map(
            |(value, label)| json!({"value": value, "label": label, "selected": value == selected}),
        )
        .collect()
}

/// The data for the system form template.
fn system_form_view(
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

async fn editable_system(
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

async fn edit_system_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((plan_id, system_id)): Path<(String, String)>,
) -> Result<Response> {
    let (plan, system, revision) = editable_system(&state, &viewer, &plan_id, &system_id).await?;
    let form = SystemForm::from_system(&system);
    let data = system_form_view(&state, &viewer.lang, &plan, &system, &form, revision, &[]);
    Ok(page(&state, &viewer, "edit_system", data)?.into_response())
}

async fn edit_system(
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
async fn confirm_review(
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

/// The fields where the stored section and the visitor's input differ.
fn conflict_view(changes: &[Change]) -> Value {
    json!(
        changes
            .iter()
            .map(|c| json!({"field": c.field, "current": c.before, "mine": c.after}))
            .collect::<Vec<_>>()
    )
}

fn sections_view(
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

async fn edit_sections_form(
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

async fn edit_sections(
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

/// The people of a plan with their contact details and plan roles.
async fn list_people(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(plan_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<super::pages::SavedQuery>,
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

fn person_view(
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

async fn new_person_form(
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

async fn edit_person_form(
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
async fn save_person(
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
