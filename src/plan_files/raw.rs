//! The file shapes of `plan.toml` and `systems/<id>.toml`, and their conversion to and from the
//! domain. Fields are plain strings and numbers here so that every bad value in a file can be
//! reported at once, each with its own code, instead of stopping at the first.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use toml::value::{Date, Datetime};

use crate::domain::analysis::Code;
use crate::domain::*;

/// A problem with one field of one file, before it has a line number.
pub struct FieldError {
    pub code: Code,
    pub field: String,
    pub message: String,
}

/// Collects field errors while converting one file.
#[derive(Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    fn push(&mut self, code: Code, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            code,
            field: field.into(),
            message: message.into(),
        });
    }

    fn duration(&mut self, field: impl Into<String>, text: &str) -> Option<Duration> {
        Duration::parse(text)
            .map_err(|e| self.push(Code::InvalidDuration, field, e.to_string()))
            .ok()
    }

    fn id<T>(
        &mut self,
        field: impl Into<String>,
        text: &str,
        parse: fn(&str) -> Result<T, IdError>,
    ) -> Option<T> {
        parse(text)
            .map_err(|e| self.push(Code::InvalidValue, field, e.to_string()))
            .ok()
    }

    fn opt_id<T>(
        &mut self,
        field: &str,
        text: &Option<String>,
        parse: fn(&str) -> Result<T, IdError>,
    ) -> Option<T> {
        text.as_deref().and_then(|t| self.id(field, t, parse))
    }
}

fn is_empty(s: &str) -> bool {
    s.is_empty()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub name: String,
    pub organisation: String,
    pub owner_role: String,
    pub approver_role: String,
    pub review_interval: String,
    /// A year when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise_interval: Option<String>,
    /// Ten when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_escalation_minutes: Option<u32>,
    /// Fifteen when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_tree_target_minutes: Option<u32>,
    /// Twelve when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispensation_max_months: Option<u32>,
    #[serde(default)]
    pub sections: SectionsFile,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<PersonFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub call_tree: Vec<CallTreeFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelFile>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionsFile {
    #[serde(default, skip_serializing_if = "is_empty")]
    pub purpose: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub scope: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub audience: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activation_criteria: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stand_down_criteria: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub resources: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub backups: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub return_to_normal: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub incident_handling: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleFile {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub responsibilities: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonFile {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub phone: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallTreeFile {
    pub person: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_by: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelFile {
    pub name: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub purpose: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemFile {
    pub name: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deputy: Option<String>,
    pub criticality: i64,
    pub rto: String,
    pub rpo: String,
    pub mtpd: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub workaround: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub verification: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reviewed: Option<Datetime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_interval: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<SupplierFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovery_steps: Vec<StepFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub impact: Vec<ImpactFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupplierFile {
    pub name: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub contact: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub phone: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_restore: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    pub text: String,
    pub role: String,
    pub duration: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactFile {
    pub after: String,
    pub level: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub citizens: String,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub staff: String,
}

fn date_from_toml(value: &Datetime) -> Option<NaiveDate> {
    match (value.date, value.time, value.offset) {
        (Some(d), None, None) => {
            NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
        }
        _ => None,
    }
}

fn date_to_toml(date: NaiveDate) -> Datetime {
    Datetime {
        date: Some(Date {
            year: date.year() as u16,
            month: date.month() as u8,
            day: date.day() as u8,
        }),
        time: None,
        offset: None,
    }
}

impl PlanFile {
    /// The plan without its systems; `None` only if a required value is unusable.
    pub fn into_plan(self, id: PlanId, errors: &mut Errors) -> Option<Plan> {
        let owner_role = errors.id("owner_role", &self.owner_role, RoleId::parse);
        let approver_role = errors.id("approver_role", &self.approver_role, RoleId::parse);
        let review_interval = errors.duration("review_interval", &self.review_interval);
        let exercise_interval = match &self.exercise_interval {
            None => Some(Plan::default_exercise_interval()),
            Some(text) => errors.duration("exercise_interval", text),
        };
        let roles = self
            .roles
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| {
                Some(Role {
                    id: errors.id(format!("roles[{i}].id"), &r.id, RoleId::parse)?,
                    name: r.name,
                    responsibilities: r.responsibilities,
                })
            })
            .collect();
        let people = self
            .people
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let roles = p
                    .roles
                    .iter()
                    .enumerate()
                    .filter_map(|(j, r)| {
                        errors.id(format!("people[{i}].roles[{j}]"), r, RoleId::parse)
                    })
                    .collect();
                Some(Person {
                    id: errors.id(format!("people[{i}].id"), &p.id, PersonId::parse)?,
                    name: p.name,
                    title: p.title,
                    email: p.email,
                    phone: p.phone,
                    roles,
                })
            })
            .collect();
        let call_tree = self
            .call_tree
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let called_by = errors.opt_id(
                    &format!("call_tree[{i}].called_by"),
                    &c.called_by,
                    PersonId::parse,
                );
                Some(CallTreeEntry {
                    person: errors.id(
                        format!("call_tree[{i}].person"),
                        &c.person,
                        PersonId::parse,
                    )?,
                    called_by,
                    note: c.note,
                })
            })
            .collect();
        let channels = self
            .channels
            .into_iter()
            .map(|c| Channel {
                name: c.name,
                purpose: c.purpose,
                detail: c.detail,
            })
            .collect();
        let s = self.sections;
        Some(Plan {
            id,
            name: self.name,
            organisation: self.organisation,
            owner_role: owner_role?,
            approver_role: approver_role?,
            review_interval: review_interval?,
            exercise_interval: exercise_interval?,
            alert_escalation_minutes: self
                .alert_escalation_minutes
                .unwrap_or_else(Plan::default_alert_escalation_minutes),
            call_tree_target_minutes: self
                .call_tree_target_minutes
                .unwrap_or_else(Plan::default_call_tree_target_minutes),
            dispensation_max_months: self
                .dispensation_max_months
                .unwrap_or_else(Plan::default_dispensation_max_months),
            sections: PlanSections {
                purpose: s.purpose,
                scope: s.scope,
                audience: s.audience,
                activation_criteria: s.activation_criteria,
                stand_down_criteria: s.stand_down_criteria,
                resources: s.resources,
                backups: s.backups,
                return_to_normal: s.return_to_normal,
                incident_handling: s.incident_handling,
            },
            roles,
            people,
            call_tree,
            channels,
            systems: Vec::new(),
        })
    }

    pub fn from_plan(plan: &Plan) -> Self {
        let s = &plan.sections;
        PlanFile {
            name: plan.name.clone(),
            organisation: plan.organisation.clone(),
            owner_role: plan.owner_role.to_string(),
            approver_role: plan.approver_role.to_string(),
            review_interval: plan.review_interval.to_string(),
            exercise_interval: Some(plan.exercise_interval.to_string()),
            alert_escalation_minutes: (plan.alert_escalation_minutes
                != Plan::default_alert_escalation_minutes())
            .then_some(plan.alert_escalation_minutes),
            call_tree_target_minutes: (plan.call_tree_target_minutes
                != Plan::default_call_tree_target_minutes())
            .then_some(plan.call_tree_target_minutes),
            dispensation_max_months: (plan.dispensation_max_months
                != Plan::default_dispensation_max_months())
            .then_some(plan.dispensation_max_months),
            sections: SectionsFile {
                purpose: s.purpose.clone(),
                scope: s.scope.clone(),
                audience: s.audience.clone(),
                activation_criteria: s.activation_criteria.clone(),
                stand_down_criteria: s.stand_down_criteria.clone(),
                resources: s.resources.clone(),
                backups: s.backups.clone(),
                return_to_normal: s.return_to_normal.clone(),
                incident_handling: s.incident_handling.clone(),
            },
            roles: plan
                .roles
                .iter()
                .map(|r| RoleFile {
                    id: r.id.to_string(),
                    name: r.name.clone(),
                    responsibilities: r.responsibilities.clone(),
                })
                .collect(),
            people: plan
                .people
                .iter()
                .map(|p| PersonFile {
                    id: p.id.to_string(),
                    name: p.name.clone(),
                    title: p.title.clone(),
                    email: p.email.clone(),
                    phone: p.phone.clone(),
                    roles: p.roles.iter().map(RoleId::to_string).collect(),
                })
                .collect(),
            call_tree: plan
                .call_tree
                .iter()
                .map(|c| CallTreeFile {
                    person: c.person.to_string(),
                    called_by: c.called_by.as_ref().map(PersonId::to_string),
                    note: c.note.clone(),
                })
                .collect(),
            channels: plan
                .channels
                .iter()
                .map(|c| ChannelFile {
                    name: c.name.clone(),
                    purpose: c.purpose.clone(),
                    detail: c.detail.clone(),
                })
                .collect(),
        }
    }
}

impl SystemFile {
    /// The system, with every unusable value reported. Horizons that cannot be read become
    /// `None`; other unusable values are left out or set to a neutral value (the plan has an
    /// error either way, and import refuses it).
    pub fn into_system(self, id: SystemId, errors: &mut Errors) -> System {
        let criticality = Criticality::new(self.criticality)
            .map_err(|e| errors.push(Code::InvalidValue, "criticality", e.to_string()))
            .unwrap_or(Criticality::LEAST);
        let depends_on = self
            .depends_on
            .iter()
            .enumerate()
            .filter_map(|(i, d)| errors.id(format!("depends_on[{i}]"), d, SystemId::parse))
            .collect();
        let last_reviewed = self.last_reviewed.as_ref().and_then(|value| {
            let date = date_from_toml(value);
            if date.is_none() {
                errors.push(
                    Code::InvalidValue,
                    "last_reviewed",
                    format!("expected a date like 2026-05-12, found {value}"),
                );
            }
            date
        });
        let supplier = self.supplier.map(|s| Supplier {
            contract_restore: s
                .contract_restore
                .as_deref()
                .and_then(|t| errors.duration("supplier.contract_restore", t)),
            name: s.name,
            contact: s.contact,
            phone: s.phone,
            email: s.email,
        });
        let recovery_steps = self
            .recovery_steps
            .into_iter()
            .enumerate()
            .filter_map(|(i, step)| {
                let duration = errors
                    .duration(format!("recovery_steps[{i}].duration"), &step.duration)
                    .unwrap_or(Duration::ZERO);
                Some(RecoveryStep {
                    role: errors.id(
                        format!("recovery_steps[{i}].role"),
                        &step.role,
                        RoleId::parse,
                    )?,
                    text: step.text,
                    duration,
                })
            })
            .collect();
        let impact = self
            .impact
            .into_iter()
            .enumerate()
            .filter_map(|(i, row)| {
                let after = errors.duration(format!("impact[{i}].after"), &row.after);
                let level = ImpactLevel::parse(&row.level);
                if level.is_none() {
                    errors.push(
                        Code::InvalidValue,
                        format!("impact[{i}].level"),
                        format!(
                            "unknown impact level {:?}: use minor, moderate, serious or unacceptable",
                            row.level
                        ),
                    );
                }
                Some(ImpactStep {
                    after: after?,
                    level: level?,
                    citizens: row.citizens,
                    staff: row.staff,
                })
            })
            .collect();
        System {
            owner: errors.opt_id("owner", &self.owner, PersonId::parse),
            deputy: errors.opt_id("deputy", &self.deputy, PersonId::parse),
            reviewed_by: errors.opt_id("reviewed_by", &self.reviewed_by, PersonId::parse),
            rto: errors.duration("rto", &self.rto),
            rpo: errors.duration("rpo", &self.rpo),
            mtpd: errors.duration("mtpd", &self.mtpd),
            review_interval: self
                .review_interval
                .as_deref()
                .and_then(|t| errors.duration("review_interval", t)),
            id,
            name: self.name,
            description: self.description,
            criticality,
            depends_on,
            supplier,
            workaround: self.workaround,
            recovery_steps,
            verification: self.verification,
            last_reviewed,
            impact,
        }
    }

    pub fn from_system(s: &System) -> Self {
        let text = |d: Option<Duration>| d.map(|d| d.to_string()).unwrap_or_default();
        SystemFile {
            name: s.name.clone(),
            description: s.description.clone(),
            owner: s.owner.as_ref().map(PersonId::to_string),
            deputy: s.deputy.as_ref().map(PersonId::to_string),
            criticality: s.criticality.into(),
            rto: text(s.rto),
            rpo: text(s.rpo),
            mtpd: text(s.mtpd),
            depends_on: s.depends_on.iter().map(SystemId::to_string).collect(),
            workaround: s.workaround.clone(),
            verification: s.verification.clone(),
            last_reviewed: s.last_reviewed.map(date_to_toml),
            reviewed_by: s.reviewed_by.as_ref().map(PersonId::to_string),
            review_interval: s.review_interval.map(|d| d.to_string()),
            supplier: s.supplier.as_ref().map(|x| SupplierFile {
                name: x.name.clone(),
                contact: x.contact.clone(),
                phone: x.phone.clone(),
                email: x.email.clone(),
                contract_restore: x.contract_restore.map(|d| d.to_string()),
            }),
            recovery_steps: s
                .recovery_steps
                .iter()
                .map(|st| StepFile {
                    text: st.text.clone(),
                    role: st.role.to_string(),
                    duration: st.duration.to_string(),
                })
                .collect(),
            impact: s
                .impact
                .iter()
                .map(|r| ImpactFile {
                    after: r.after.to_string(),
                    level: r.level.as_str().to_string(),
                    citizens: r.citizens.clone(),
                    staff: r.staff.clone(),
                })
                .collect(),
        }
    }
}
