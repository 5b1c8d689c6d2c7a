//! Editing a plan through forms: the text a person typed, checked field by field and turned into
//! plan values. Every problem names the field it belongs to, so a form can show it beside that
//! field and keep the rest of the input.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;

use super::analysis::{self, Severity, suggestion};
use super::{
    CallTreeEntry, Channel, Criticality, Duration, ImpactLevel, ImpactStep, Person, PersonId, Plan,
    PlanSections, RecoveryStep, RoleId, Supplier, System, SystemId,
};

/// Longest text accepted in one field (a step, a workaround): far beyond any real section.
pub const MAX_FIELD_CHARS: usize = 20_000;

/// The first character of `text` that no text of the plan may hold: a C0 control other than
/// tab, CR and LF, or DEL. Such characters arrive pasted (a vertical tab from a word processor,
/// an escape sequence from a terminal), are invisible on the page and break other programs that
/// read the plan.
pub fn forbidden_control(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| (c < ' ' && !matches!(c, '\t' | '\r' | '\n')) || c == '\u{7f}')
}

/// `U+000B`: how a control character is named in messages.
pub fn char_code(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// What is wrong with one field's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    Required,
    TooLong {
        max: usize,
    },
    Duration {
        input: String,
    },
    Criticality {
        input: String,
    },
    UnknownSystem {
        id: String,
        suggestion: Option<String>,
    },
    UnknownPerson {
        id: String,
        suggestion: Option<String>,
    },
    UnknownRole {
        id: String,
        suggestion: Option<String>,
    },
    SelfDependency,
    ImpactLevel {
        input: String,
    },
    InvalidId {
        input: String,
    },
    Taken {
        id: String,
    },
    Email {
        input: String,
    },
    Cron {
        input: String,
        reason: String,
    },
    /// A drill programme that would run more than once a day.
    TooOften {
        input: String,
    },
    DateTime {
        input: String,
    },
    InPast,
    TimeGap {
        input: String,
    },
    Number {
        input: String,
    },
    /// A control character that no text may hold (`U+0007`).
    ControlCharacter {
        code: String,
    },
    /// An edit that would give the plan a new error, in the analysis' own words.
    Finding {
        message: String,
    },
}

/// A problem and the form field it belongs to (`rto`, `step-2-duration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(flatten)]
    pub problem: Problem,
}

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
            problem: Problem::Finding { message: f.message },
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

/// The plan-level sections as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SectionsForm {
    pub purpose: String,
    pub scope: String,
    pub audience: String,
    /// One criterion per line.
    pub activation_criteria: String,
    pub stand_down_criteria: String,
    /// One entry per line: `person`, `person <- caller` or `person <- caller: note`.
    pub call_tree: String,
    /// One channel per line: `name | purpose | detail`.
    pub channels: String,
    pub resources: String,
    pub backups: String,
    pub return_to_normal: String,
    pub incident_handling: String,
}

/// The sections, call tree and channels of a plan after a sections edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditedSections {
    pub sections: PlanSections,
    pub call_tree: Vec<CallTreeEntry>,
    pub channels: Vec<Channel>,
}

impl SectionsForm {
    pub fn from_plan(p: &Plan) -> Self {
        let s = &p.sections;
        SectionsForm {
            purpose: s.purpose.clone(),
            scope: s.scope.clone(),
            audience: s.audience.clone(),
            activation_criteria: s.activation_criteria.join("\n"),
            stand_down_criteria: s.stand_down_criteria.join("\n"),
            call_tree: p
                .call_tree
                .iter()
                .map(|c| {
                    let mut line = c.person.to_string();
                    if let Some(by) = &c.called_by {
                        line.push_str(&format!(" <- {by}"));
                    }
                    if !c.note.is_empty() {
                        if c.called_by.is_none() {
                            line.push_str(" <-");
                        }
                        line.push_str(&format!(": {}", c.note));
                    }
                    line
                })
                .collect::<Vec<_>>()
                .join("\n"),
            channels: p
                .channels
                .iter()
                .map(|c| format!("{} | {} | {}", c.name, c.purpose, c.detail))
                .collect::<Vec<_>>()
                .join("\n"),
            resources: s.resources.clone(),
            backups: s.backups.clone(),
            return_to_normal: s.return_to_normal.clone(),
            incident_handling: s.incident_handling.clone(),
        }
    }

    pub fn apply(&self, plan: &Plan) -> Result<EditedSections, Vec<FieldError>> {
        let mut c = Checker::default();
        for (field, value) in [
            ("purpose", &self.purpose),
            ("scope", &self.scope),
            ("audience", &self.audience),
            ("resources", &self.resources),
            ("backups", &self.backups),
            ("return_to_normal", &self.return_to_normal),
            ("incident_handling", &self.incident_handling),
            ("activation_criteria", &self.activation_criteria),
            ("stand_down_criteria", &self.stand_down_criteria),
            ("call_tree", &self.call_tree),
            ("channels", &self.channels),
        ] {
            c.text(field, value);
        }
        let criteria = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let mut call_tree = Vec::new();
        for line in self
            .call_tree
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let (who, rest) = match line.split_once("<-") {
                Some((who, rest)) => (who.trim(), rest.trim()),
                None => (line, ""),
            };
            let (by, note) = match rest.split_once(':') {
                Some((by, note)) => (by.trim(), note.trim()),
                None => (rest, ""),
            };
            let person = c.person("call_tree", who, plan);
            let called_by = c.person("call_tree", by, plan);
            if who.is_empty() {
                c.fail("call_tree", Problem::Required);
            }
            if let Some(person) = person {
                call_tree.push(CallTreeEntry {
                    person,
                    called_by,
                    note: note.to_string(),
                });
            }
        }
        let mut channels = Vec::new();
        for line in self
            .channels
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let mut parts = line.splitn(3, '|').map(str::trim);
            let name = parts.next().unwrap_or_default();
            if name.is_empty() {
                c.fail("channels", Problem::Required);
                continue;
            }
            channels.push(Channel {
                name: name.to_string(),
                purpose: parts.next().unwrap_or_default().to_string(),
                detail: parts.next().unwrap_or_default().to_string(),
            });
        }
        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        Ok(EditedSections {
            sections: PlanSections {
                purpose: self.purpose.trim().to_string(),
                scope: self.scope.trim().to_string(),
                audience: self.audience.trim().to_string(),
                activation_criteria: criteria(&self.activation_criteria),
                stand_down_criteria: criteria(&self.stand_down_criteria),
                resources: self.resources.trim().to_string(),
                backups: self.backups.trim().to_string(),
                return_to_normal: self.return_to_normal.trim().to_string(),
                incident_handling: self.incident_handling.trim().to_string(),
            },
            call_tree,
            channels,
        })
    }
}

/// Collects field errors while reading a form.
#[derive(Default)]
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: &str, problem: Problem) {
        // One message per field: the first is the one to fix.
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError {
                field: field.to_string(),
                problem,
            });
        }
    }

    fn text(&mut self, field: &str, value: &str) {
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

    fn required(&mut self, field: &str, value: &str) -> Option<String> {
        self.text(field, value);
        let value = value.trim();
        if value.is_empty() {
            self.fail(field, Problem::Required);
            return None;
        }
        Some(value.to_string())
    }

    /// An optional duration: empty means none.
    fn duration(&mut self, field: &str, value: &str) -> Option<Duration> {
        if value.trim().is_empty() {
            return None;
        }
        self.required_duration(field, value)
    }

    fn required_duration(&mut self, field: &str, value: &str) -> Option<Duration> {
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

    fn criticality(&mut self, field: &str, value: &str) -> Option<Criticality> {
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
    fn person(&mut self, field: &str, value: &str, plan: &Plan) -> Option<PersonId> {
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

    fn role(&mut self, field: &str, value: &str, plan: &Plan) -> Option<RoleId> {
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

    fn dependencies(
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
    fn text_may_hold_tab_cr_and_lf_but_no_other_control_character() {
        assert_eq!(forbidden_control("Linje 1\r\nLinje 2\tæøå"), None);
        for c in [
            '\0', '\u{7}', '\u{b}', '\u{c}', '\u{1b}', '\u{1f}', '\u{7f}',
        ] {
            assert_eq!(forbidden_control(&format!("før{c}efter")), Some(c), "{c:?}");
        }
        assert_eq!(char_code('\u{b}'), "U+000B");
    }

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
        form.rto = "4 timer".into();
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
                        input: "4 timer".into()
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
            matches!(&found[0].1, Problem::Finding { message } if message.contains("dependency cycle"))
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

    #[test]
    fn the_call_tree_and_channels_are_read_line_by_line() {
        let plan = plan();
        let form = SectionsForm {
            call_tree: "boss\nowner <- boss: Ringer til leverandøren\n\n".into(),
            channels: "Telefon | primær | +45 1234\nMøde".into(),
            activation_criteria: " Et kritisk system er nede \n\nflere\n".into(),
            ..SectionsForm::default()
        };
        let edited = form.apply(&plan).unwrap();
        assert_eq!(edited.call_tree.len(), 2);
        assert_eq!(
            edited.call_tree[1].called_by.as_ref().unwrap().as_str(),
            "boss"
        );
        assert_eq!(edited.call_tree[1].note, "Ringer til leverandøren");
        assert_eq!(edited.channels[0].detail, "+45 1234");
        assert_eq!(edited.channels[1].name, "Møde");
        assert_eq!(
            edited.sections.activation_criteria,
            ["Et kritisk system er nede", "flere"]
        );
        // Written back, the form reads the same.
        let mut after = plan.clone();
        after.call_tree = edited.call_tree.clone();
        after.channels = edited.channels.clone();
        let again = SectionsForm::from_plan(&after);
        assert_eq!(again.apply(&after).unwrap().call_tree, edited.call_tree);
        let bad = SectionsForm {
            call_tree: "ghost <- boss".into(),
            ..SectionsForm::default()
        };
        assert_eq!(
            bad.apply(&plan).unwrap_err()[0].problem,
            Problem::UnknownPerson {
                id: "ghost".into(),
                suggestion: None
            }
        );
    }

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
