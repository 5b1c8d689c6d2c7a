//! The form of the plan-level sections: the texts, the call tree and the channels, each list
//! one entry per line.

use serde::Serialize;

use super::checker::Checker;
use super::{FieldError, Problem};
use crate::domain::{CallTreeEntry, Channel, Plan, PlanSections};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::plan;

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
}
