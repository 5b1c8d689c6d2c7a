//! Editing the draft: a system section, the plan's common sections, a person. Each save is one
//! transaction with its audit records, refused (nothing written) when someone saved since the
//! form was opened; the plan cache follows the save.

use super::{App, Error, Result};
use crate::domain::diff::Change;
use crate::domain::edit::EditedSections;
use crate::domain::{Person, Plan, PlanId, System};
use crate::store::edits::{self, Saved};

/// A save that was carried out, or refused because of a newer one.
pub enum Edited<T> {
    /// Written at `revision`, with these changes (none: nothing differed, nothing written).
    Done { revision: i64, changes: Vec<Change> },
    /// Someone saved since the form was opened: nothing was written; `current` is what is
    /// stored now, at `revision`.
    Conflict { current: T, revision: i64 },
}

impl App {
    /// Saves system section `edited` of plan `plan`, read at `revision`.
    pub async fn save_system(
        &self,
        plan: &PlanId,
        actor: &str,
        edited: &System,
        revision: i64,
    ) -> Result<Edited<System>> {
        let saved = edits::save_system(&self.db, plan, actor, edited, revision).await?;
        self.follow(plan, saved, |p| p.replace_system(edited.clone()))
    }

    /// Saves the plan's common sections (activation, call tree, channels, …) as `edited` has
    /// them, read at `revision`.
    pub async fn save_sections(
        &self,
        plan: &PlanId,
        actor: &str,
        edited: &EditedSections,
        revision: i64,
    ) -> Result<Edited<Plan>> {
        let saved = edits::save_sections(&self.db, plan, actor, edited, revision).await?;
        self.follow(plan, saved, |p| {
            p.sections = edited.sections.clone();
            p.call_tree = edited.call_tree.clone();
            p.channels = edited.channels.clone();
        })
    }

    /// Saves person `person` of plan `plan`: new when `expected` is `None`, else read at that
    /// revision.
    pub async fn save_person(
        &self,
        plan: &PlanId,
        actor: &str,
        person: &Person,
        expected: Option<i64>,
    ) -> Result<Edited<Option<Person>>> {
        let saved = edits::save_person(&self.db, plan, actor, person, expected).await?;
        self.follow(plan, saved, |p| p.replace_person(person.clone()))
    }

    /// The cached plan follows a save that changed something; a plan or section gone meanwhile
    /// is not found.
    fn follow<T>(
        &self,
        plan: &PlanId,
        saved: Saved<T>,
        change: impl FnOnce(&mut Plan),
    ) -> Result<Edited<T>> {
        match saved {
            Saved::Done { revision, changes } => {
                if !changes.is_empty() {
                    self.plans.saved(plan, revision, change);
                }
                Ok(Edited::Done { revision, changes })
            }
            Saved::Conflict { current, revision } => Ok(Edited::Conflict { current, revision }),
            Saved::Gone => Err(Error::NotFound),
        }
    }
}
