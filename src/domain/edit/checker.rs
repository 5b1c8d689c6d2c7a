//! The field checks the forms share: each reads one field's text into a plan value or records
//! what is wrong with it, one problem per field.

use super::{FieldError, MAX_FIELD_CHARS, Problem, char_code, forbidden_control};
use crate::domain::analysis::suggestion;
use crate::domain::{Criticality, Duration, PersonId, Plan, RoleId, SystemId};

/// Collects field errors while reading a form.
#[derive(Default)]
pub(super) struct Checker {
    pub(super) errors: Vec<FieldError>,
}

impl Checker {
    pub(super) fn fail(&mut self, field: &str, problem: Problem) {
        // One message per field: the first is the one to fix.
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError {
                field: field.to_string(),
                problem,
            });
        }
    }

    pub(super) fn text(&mut self, field: &str, value: &str) {
        if let Some(c) = forbidden_control(value) {
            self.fail(field, Problem::ControlCharacter { code: char_code(c) });
        }
        if value.chars().count() > MAX_FIELD_CHARS {
            self.fail(
                field,
                Problem::TooLong {
                    max: MAX_FIELD_CHARS,
                },
            );
        }
    }

    pub(super) fn required(&mut self, field: &str, value: &str) -> Option<String> {
        self.text(field, value);
        let value = value.trim();
        if value.is_empty() {
            self.fail(field, Problem::Required);
            return None;
        }
        Some(value.to_string())
    }

    /// An optional duration: empty means none.
    pub(super) fn duration(&mut self, field: &str, value: &str) -> Option<Duration> {
        if value.trim().is_empty() {
            return None;
        }
        self.required_duration(field, value)
    }

    pub(super) fn required_duration(&mut self, field: &str, value: &str) -> Option<Duration> {
        if value.trim().is_empty() {
            self.fail(field, Problem::Required);
            return None;
        }
        match Duration::parse(value) {
            Ok(d) => Some(d),
            Err(_) => {
                self.fail(
                    field,
                    Problem::Duration {
                        input: value.to_string(),
                    },
                );
                None
            }
        }
    }

    pub(super) fn criticality(&mut self, field: &str, value: &str) -> Option<Criticality> {
        match value.trim().parse::<i64>().ok().map(Criticality::new) {
            Some(Ok(c)) => Some(c),
            _ => {
                self.fail(
                    field,
                    Problem::Criticality {
                        input: value.to_string(),
                    },
                );
                None
            }
        }
    }

    /// An optional person: empty means none.
    pub(super) fn person(&mut self, field: &str, value: &str, plan: &Plan) -> Option<PersonId> {
        let id = value.trim();
        if id.is_empty() {
            return None;
        }
        match plan.person(id) {
            Some(p) => Some(p.id.clone()),
            None => {
                let hint = suggestion(id, plan.people.iter().map(|p| p.id.as_str()));
                self.fail(
                    field,
                    Problem::UnknownPerson {
                        id: id.to_string(),
                        suggestion: hint.map(str::to_string),
                    },
                );
                None
            }
        }
    }

    pub(super) fn role(&mut self, field: &str, value: &str, plan: &Plan) -> Option<RoleId> {
        let id = value.trim();
        if id.is_empty() {
            self.fail(field, Problem::Required);
            return None;
        }
        match plan.roles.iter().find(|r| r.id.as_str() == id) {
            Some(r) => Some(r.id.clone()),
            None => {
                let hint = suggestion(id, plan.roles.iter().map(|r| r.id.as_str()));
                self.fail(
                    field,
                    Problem::UnknownRole {
                        id: id.to_string(),
                        suggestion: hint.map(str::to_string),
                    },
                );
                None
            }
        }
    }

    pub(super) fn dependencies(
        &mut self,
        field: &str,
        value: &str,
        own: &SystemId,
        plan: &Plan,
    ) -> Vec<SystemId> {
        let mut out: Vec<SystemId> = Vec::new();
        for id in value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            if id == own.as_str() {
                self.fail(field, Problem::SelfDependency);
            } else if let Some(s) = plan.system(id) {
                if !out.contains(&s.id) {
                    out.push(s.id.clone());
                }
            } else {
                let hint = suggestion(id, plan.systems.iter().map(|s| s.id.as_str()));
                self.fail(
                    field,
                    Problem::UnknownSystem {
                        id: id.to_string(),
                        suggestion: hint.map(str::to_string),
                    },
                );
            }
        }
        out
    }
}
