//! The form of one system section: its fields as text, filled in from the section and read back
//! into it, refused when the edit would give the plan a new error.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::checker::Checker;
use super::{FieldError, Problem};
use crate::domain::analysis::{self, Severity};
use crate::domain::{ImpactLevel, ImpactStep, Plan, RecoveryStep, Supplier, System};

/// One recovery step as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StepForm {
    pub text: String,
    pub role: String,
    pub duration: String,
}

/// One impact row as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImpactForm {
    pub after: String,
    pub level: String,
    pub citizens: String,
    pub staff: String,
}

/// A system section as typed in its form: every value as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SystemForm {
    pub name: String,
    pub description: String,
    pub owner: String,
    pub deputy: String,
    pub criticality: String,
    pub rto: String,
    pub rpo: String,
    pub mtpd: String,
    /// System ids, one per line (commas and spaces also separate).
    pub depends_on: String,
    pub supplier_name: String,
    pub supplier_contact: String,
    pub supplier_phone: String,
    pub supplier_email: String,
    pub supplier_contract_restore: String,
    pub workaround: String,
    pub verification: String,
    pub review_interval: String,
    pub steps: Vec<StepForm>,
    pub impact: Vec<ImpactForm>,
}

fn text_of<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(T::to_string).unwrap_or_default()
}

impl SystemForm {
    /// The one-line fields (all but the steps and the impact rows) by their names in forms,
    /// field errors and the API, in form order: the one list of them.
    pub fn fields(&self) -> [(&'static str, &String); 17] {
        [
            ("name", &self.name),
            ("description", &self.description),
            ("owner", &self.owner),
            ("deputy", &self.deputy),
            ("criticality", &self.criticality),
            ("rto", &self.rto),
            ("rpo", &self.rpo),
            ("mtpd", &self.mtpd),
            ("depends_on", &self.depends_on),
            ("supplier_name", &self.supplier_name),
            ("supplier_contact", &self.supplier_contact),
            ("supplier_phone", &self.supplier_phone),
            ("supplier_email", &self.supplier_email),
            ("supplier_contract_restore", &self.supplier_contract_restore),
            ("workaround", &self.workaround),
            ("verification", &self.verification),
            ("review_interval", &self.review_interval),
        ]
    }

    /// `fields`, to fill in.
    pub fn fields_mut(&mut self) -> [(&'static str, &mut String); 17] {
        [
            ("name", &mut self.name),
            ("description", &mut self.description),
            ("owner", &mut self.owner),
            ("deputy", &mut self.deputy),
            ("criticality", &mut self.criticality),
            ("rto", &mut self.rto),
            ("rpo", &mut self.rpo),
            ("mtpd", &mut self.mtpd),
            ("depends_on", &mut self.depends_on),
            ("supplier_name", &mut self.supplier_name),
            ("supplier_contact", &mut self.supplier_contact),
            ("supplier_phone", &mut self.supplier_phone),
            ("supplier_email", &mut self.supplier_email),
            (
                "supplier_contract_restore",
                &mut self.supplier_contract_restore,
            ),
            ("workaround", &mut self.workaround),
            ("verification", &mut self.verification),
            ("review_interval", &mut self.review_interval),
        ]
    }

    /// The form filled in with a stored section.
    pub fn from_system(s: &System) -> Self {
        let supplier = s.supplier.clone().unwrap_or_default();
        SystemForm {
            name: s.name.clone(),
            description: s.description.clone(),
            owner: text_of(&s.owner),
            deputy: text_of(&s.deputy),
            criticality: s.criticality.level().to_string(),
            rto: text_of(&s.rto),
            rpo: text_of(&s.rpo),
            mtpd: text_of(&s.mtpd),
            depends_on: s
                .depends_on
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            supplier_name: supplier.name,
            supplier_contact: supplier.contact,
            supplier_phone: supplier.phone,
            supplier_email: supplier.email,
            supplier_contract_restore: text_of(&supplier.contract_restore),
            workaround: s.workaround.clone(),
            verification: s.verification.clone(),
            review_interval: text_of(&s.review_interval),
            steps: s
                .recovery_steps
                .iter()
                .map(|st| StepForm {
                    text: st.text.clone(),
                    role: st.role.to_string(),
                    duration: st.duration.to_string(),
                })
                .collect(),
            impact: s
                .impact
                .iter()
                .map(|row| ImpactForm {
                    after: row.after.to_string(),
                    level: row.level.as_str().to_string(),
                    citizens: row.citizens.clone(),
                    staff: row.staff.clone(),
                })
                .collect(),
        }
    }

    /// Checks every field against `plan` and builds the edited section of `existing`, or says
    /// what is wrong with each field. Review date and reviewer are kept from `existing`.
    pub fn apply(&self, existing: &System, plan: &Plan) -> Result<System, Vec<FieldError>> {
        let mut c = Checker::default();
        let name = c.required("name", &self.name);
        c.text("description", &self.description);
        let owner = c.person("owner", &self.owner, plan);
        let deputy = c.person("deputy", &self.deputy, plan);
        let criticality = c.criticality("criticality", &self.criticality);
        let rto = c.duration("rto", &self.rto);
        let rpo = c.duration("rpo", &self.rpo);
        let mtpd = c.duration("mtpd", &self.mtpd);
        let review_interval = c.duration("review_interval", &self.review_interval);
        let depends_on = c.dependencies("depends_on", &self.depends_on, &existing.id, plan);
        for (field, value) in [
            ("supplier_contact", &self.supplier_contact),
            ("supplier_phone", &self.supplier_phone),
            ("supplier_email", &self.supplier_email),
            ("workaround", &self.workaround),
            ("verification", &self.verification),
        ] {
            c.text(field, value);
        }
        let contract_restore =
            c.duration("supplier_contract_restore", &self.supplier_contract_restore);
        let supplier_name = self.supplier_name.trim();
        c.text("supplier_name", supplier_name);
        let supplier_given = !supplier_name.is_empty()
            || [
                &self.supplier_contact,
                &self.supplier_phone,
                &self.supplier_email,
                &self.supplier_contract_restore,
            ]
            .iter()
            .any(|v| !v.trim().is_empty());
        if supplier_given && supplier_name.is_empty() {
            c.fail("supplier_name", Problem::Required);
        }

        let mut steps = Vec::new();
        for (i, st) in self.steps.iter().enumerate() {
            let text = c.required(&format!("step-{i}-text"), &st.text);
            let role = c.role(&format!("step-{i}-role"), &st.role, plan);
            let duration = c.required_duration(&format!("step-{i}-duration"), &st.duration);
            if let (Some(text), Some(role), Some(duration)) = (text, role, duration) {
                steps.push(RecoveryStep {
                    text,
                    role,
                    duration,
                });
            }
        }
        let mut impact = Vec::new();
        for (i, row) in self.impact.iter().enumerate() {
            let after = c.required_duration(&format!("impact-{i}-after"), &row.after);
            let level = match ImpactLevel::parse(row.level.trim()) {
                Some(level) => Some(level),
                None => {
                    c.fail(
                        &format!("impact-{i}-level"),
                        Problem::ImpactLevel {
                            input: row.level.clone(),
                        },
                    );
                    None
                }
            };
            c.text(&format!("impact-{i}-citizens"), &row.citizens);
            c.text(&format!("impact-{i}-staff"), &row.staff);
            if let (Some(after), Some(level)) = (after, level) {
                impact.push(ImpactStep {
                    after,
                    level,
                    citizens: row.citizens.trim().to_string(),
                    staff: row.staff.trim().to_string(),
                });
            }
        }
        impact.sort_by_key(|row| row.after);

        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        let (Some(name), Some(criticality)) = (name, criticality) else {
            unreachable!("a missing required value is an error above");
        };
        let edited = System {
            id: existing.id.clone(),
            name,
            description: self.description.trim().to_string(),
            owner,
            deputy,
            criticality,
            rto,
            rpo,
            mtpd,
            depends_on,
            supplier: supplier_given.then(|| Supplier {
                name: supplier_name.to_string(),
                contact: self.supplier_contact.trim().to_string(),
                phone: self.supplier_phone.trim().to_string(),
                email: self.supplier_email.trim().to_string(),
                contract_restore,
            }),
            workaround: self.workaround.trim().to_string(),
            recovery_steps: steps,
            verification: self.verification.trim().to_string(),
            last_reviewed: existing.last_reviewed,
            reviewed_by: existing.reviewed_by.clone(),
            review_interval,
            impact,
        };
        new_errors(plan, &edited)?;
        Ok(edited)
    }
}

/// Refuses an edit that gives the plan an error it did not have (a dependency cycle, say),
/// naming the field the analysis points at.
fn new_errors(plan: &Plan, edited: &System) -> Result<(), Vec<FieldError>> {
    // Review deadlines do not matter here: only errors are compared.
    let today = NaiveDate::MIN;
    let errors = |p: &Plan| -> HashSet<String> {
        analysis::check(p, today)
            .into_iter()
            .filter(|f| f.severity() == Severity::Error)
            .map(|f| f.message)
            .collect()
    };
    let before = errors(plan);
    let mut after_plan = plan.clone();
    match after_plan.systems.iter_mut().find(|s| s.id == edited.id) {
        Some(slot) => *slot = edited.clone(),
        None => after_plan.systems.push(edited.clone()),
    }
    let fresh: Vec<FieldError> = analysis::check(&after_plan, today)
        .into_iter()
        .filter(|f| f.severity() == Severity::Error && !before.contains(&f.message))
        .map(|f| FieldError {
            field: form_field(f.field.as_deref().unwrap_or("name")),
            problem: Problem::Finding {
                finding: Box::new(f),
            },
        })
        .collect();
    if fresh.is_empty() { Ok(()) } else { Err(fresh) }
}

/// The form field for an analysis path: `depends_on[2]` → `depends_on`,
/// `recovery_steps[1].role` → `step-1-role`.
fn form_field(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("recovery_steps[")
        && let Some((index, field)) = rest.split_once("].")
    {
        return format!("step-{index}-{field}");
    }
    path.split(['[', '.']).next().unwrap_or(path).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Duration;
    use crate::domain::analysis::tests::plan;

    fn problems(result: Result<System, Vec<FieldError>>) -> Vec<(String, Problem)> {
        result
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field, e.problem))
            .collect()
    }

    #[test]
    fn an_unchanged_form_gives_back_the_same_section() {
        let plan = plan();
        for system in &plan.systems {
            let form = SystemForm::from_system(system);
            assert_eq!(form.apply(system, &plan).as_ref(), Ok(system));
        }
    }

    #[test]
    fn each_wrong_value_is_named_by_its_field() {
        let plan = plan();
        let ad = plan.system("ad").unwrap();
        let mut form = SystemForm::from_system(ad);
        form.name = "  ".into();
        form.rto = "fire timer".into();
        form.criticality = "5".into();
        form.depends_on = "netwrk, ad".into();
        form.owner = "nobody".into();
        form.steps[0].duration = String::new();
        form.steps[0].role = "tecj".into();
        form.impact.push(ImpactForm {
            after: "1h".into(),
            level: "bad".into(),
            ..ImpactForm::default()
        });
        form.supplier_phone = "+45 1234".into();
        assert_eq!(
            problems(form.apply(ad, &plan)),
            vec![
                ("name".into(), Problem::Required),
                (
                    "owner".into(),
                    Problem::UnknownPerson {
                        id: "nobody".into(),
                        suggestion: None
                    }
                ),
                (
                    "criticality".into(),
                    Problem::Criticality { input: "5".into() }
                ),
                (
                    "rto".into(),
                    Problem::Duration {
                        input: "fire timer".into()
                    }
                ),
                (
                    "depends_on".into(),
                    Problem::UnknownSystem {
                        id: "netwrk".into(),
                        suggestion: Some("network".into())
                    }
                ),
                ("supplier_name".into(), Problem::Required),
                (
                    "step-0-role".into(),
                    Problem::UnknownRole {
                        id: "tecj".into(),
                        suggestion: Some("tech".into())
                    }
                ),
                ("step-0-duration".into(), Problem::Required),
                (
                    "impact-0-level".into(),
                    Problem::ImpactLevel {
                        input: "bad".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn a_self_dependency_or_a_new_cycle_is_refused() {
        let plan = plan();
        let power = plan.system("power").unwrap();
        let mut form = SystemForm::from_system(power);
        form.depends_on = "power".into();
        assert_eq!(
            problems(form.apply(power, &plan)),
            vec![("depends_on".into(), Problem::SelfDependency)]
        );
        form.depends_on = "esdh".into();
        let found = problems(form.apply(power, &plan));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "depends_on");
        assert!(
            matches!(&found[0].1, Problem::Finding { finding } if finding.message.contains("dependency cycle"))
        );
    }

    #[test]
    fn steps_keep_their_order_and_text_is_trimmed() {
        let plan = plan();
        let ad = plan.system("ad").unwrap();
        let mut form = SystemForm::from_system(ad);
        form.steps.push(StepForm {
            text: " second \n".into(),
            role: "tech".into(),
            duration: "1h 30m".into(),
        });
        form.steps.swap(0, 1);
        let edited = form.apply(ad, &plan).unwrap();
        assert_eq!(edited.recovery_steps[0].text, "second");
        assert_eq!(
            edited.recovery_steps[0].duration,
            Duration::from_minutes(90)
        );
        assert_eq!(edited.recovery_steps[1].text, "restart");
    }
}
