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
use crate::render::findings::Words;
use crate::store::{self};

mod people;
mod sections;
mod system;

use people::*;
use sections::*;
use system::*;

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
        Problem::Finding { finding } => t("problem.finding").replace(
            "{message}",
            &Words::new(&state.templates.locales, lang, None).finding(finding),
        ),
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

/// The fields where the stored section and the visitor's input differ.
fn conflict_view(changes: &[Change]) -> Value {
    json!(
        changes
            .iter()
            .map(|c| json!({"field": c.field, "current": c.before, "mine": c.after}))
            .collect::<Vec<_>>()
    )
}
