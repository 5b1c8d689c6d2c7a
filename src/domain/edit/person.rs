//! A person's entry in the plan as typed: new or edited.

use serde::Serialize;

use super::checker::Checker;
use super::{FieldError, Problem};
use crate::domain::{Person, PersonId, Plan};

/// A person's entry as typed. `roles` are role ids (ticked boxes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonForm {
    /// Only for a new person; an existing person keeps their id.
    pub id: String,
    pub name: String,
    pub title: String,
    pub email: String,
    pub phone: String,
    pub roles: Vec<String>,
}

impl PersonForm {
    pub fn from_person(p: &Person) -> Self {
        PersonForm {
            id: p.id.to_string(),
            name: p.name.clone(),
            title: p.title.clone(),
            email: p.email.clone(),
            phone: p.phone.clone(),
            roles: p.roles.iter().map(ToString::to_string).collect(),
        }
    }

    /// The person as edited (`existing`) or new (`None`: the id is checked and must be free).
    pub fn apply(&self, existing: Option<&Person>, plan: &Plan) -> Result<Person, Vec<FieldError>> {
        let mut c = Checker::default();
        let id = match existing {
            Some(p) => Some(p.id.clone()),
            None => {
                let id = self.id.trim();
                match PersonId::parse(id) {
                    Err(_) if id.is_empty() => {
                        c.fail("id", Problem::Required);
                        None
                    }
                    Err(_) => {
                        c.fail(
                            "id",
                            Problem::InvalidId {
                                input: id.to_string(),
                            },
                        );
                        None
                    }
                    Ok(_) if plan.person(id).is_some() => {
                        c.fail("id", Problem::Taken { id: id.to_string() });
                        None
                    }
                    Ok(id) => Some(id),
                }
            }
        };
        let name = c.required("name", &self.name);
        for (field, value) in [
            ("title", &self.title),
            ("email", &self.email),
            ("phone", &self.phone),
        ] {
            c.text(field, value);
        }
        let email = self.email.trim();
        if !email.is_empty() && !email.contains('@') {
            c.fail(
                "email",
                Problem::Email {
                    input: email.to_string(),
                },
            );
        }
        let mut roles = Vec::new();
        for role in &self.roles {
            if let Some(r) = c.role("roles", role, plan)
                && !roles.contains(&r)
            {
                roles.push(r);
            }
        }
        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        let (Some(id), Some(name)) = (id, name) else {
            unreachable!("a missing required value is an error above");
        };
        Ok(Person {
            id,
            name,
            title: self.title.trim().to_string(),
            email: email.to_string(),
            phone: self.phone.trim().to_string(),
            roles,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::plan;

    #[test]
    fn a_new_person_needs_a_free_valid_id() {
        let plan = plan();
        let form = |id: &str| PersonForm {
            id: id.into(),
            name: "X".into(),
            ..PersonForm::default()
        };
        let problem = |id: &str| form(id).apply(None, &plan).unwrap_err()[0].problem.clone();
        assert_eq!(problem(""), Problem::Required);
        assert_eq!(
            problem("Anne K"),
            Problem::InvalidId {
                input: "Anne K".into()
            }
        );
        assert_eq!(problem("boss"), Problem::Taken { id: "boss".into() });
        let mut ok = form("new-one");
        ok.roles = vec!["tech".into(), "tech".into()];
        ok.email = "x@example.org".into();
        let person = ok.apply(None, &plan).unwrap();
        assert_eq!(person.roles.len(), 1);
        ok.email = "nope".into();
        assert_eq!(
            ok.apply(None, &plan).unwrap_err()[0].problem,
            Problem::Email {
                input: "nope".into()
            }
        );
    }
}
