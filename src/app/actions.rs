//! Action items: a finding of a drill or an incident given to a person of the plan with a due
//! date; the owner is mailed in the same transaction.

use super::notify::ActionView;
use super::{App, Error, Result};
use crate::domain::Plan;
use crate::store;

/// Where an action item comes from.
pub struct ActionSource<'a> {
    /// The drill's or incident's title, for the owner's mail.
    pub title: &'a str,
    pub occurrence_id: Option<i64>,
    pub incident_id: Option<i64>,
}

/// A new action item as the form gives it.
pub struct NewAction<'a> {
    pub title: &'a str,
    /// A person id of the plan.
    pub owner: &'a str,
    /// `YYYY-MM-DD`.
    pub due: &'a str,
    /// A system id of the plan, or empty.
    pub system: &'a str,
}

impl App {
    /// Creates an action item of `plan` and queues the owner's mail with it, in one
    /// transaction. `Error::Invalid("action.invalid")` without a title, a person of the plan
    /// or a date; a system the plan does not have is left out.
    pub async fn create_action(
        &self,
        plan: &Plan,
        actor: &str,
        source: ActionSource<'_>,
        new: NewAction<'_>,
    ) -> Result<i64> {
        let title = new.title.trim();
        let owner = plan.person(new.owner.trim());
        let due = chrono::NaiveDate::parse_from_str(new.due.trim(), "%Y-%m-%d").ok();
        let system = Some(new.system.trim().to_string()).filter(|s| plan.system(s).is_some());
        let (Some(owner), Some(due), false) = (owner, due, title.is_empty()) else {
            return Err(Error::Invalid("action.invalid"));
        };
        let languages = self.languages().await?;
        let mail = self.action_message(
            plan,
            &languages,
            &ActionView {
                owner: owner.id.as_str(),
                title,
                due,
                source: source.title,
                from_incident: source.incident_id.is_some(),
                occurrence_id: source.occurrence_id,
            },
            false,
            // `create` puts the item's id in front.
            format!("{}@beredskab", owner.id),
        )?;
        let id = store::actions::create(
            &self.db,
            store::actions::NewAction {
                plan_id: plan.id.to_string(),
                occurrence_id: source.occurrence_id,
                incident_id: source.incident_id,
                system_id: system,
                title: title.to_string(),
                owner: owner.id.to_string(),
                due,
                created_by: actor.to_string(),
            },
            mail,
            self.clock.now(),
        )
        .await?;
        self.mail_queued();
        Ok(id)
    }

    /// Marks action item `id` done (or open again); `false` if it is gone.
    pub async fn set_action_status(&self, id: i64, done: bool, actor: &str) -> Result<bool> {
        Ok(store::actions::set_status(&self.db, id, done, actor, self.clock.now()).await?)
    }
}
