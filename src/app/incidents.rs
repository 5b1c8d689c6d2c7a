//! Incidents: the incident lead opens one against a real outage, marks systems down and
//! recovered, ticks recovery steps, notes what happens, alerts the call tree and advances it to
//! stand-down and closing. Each act is one transaction with its timeline entry, at the app's
//! clock.

use super::notify::Notice;
use super::{App, Result};
use crate::domain::Plan;
use crate::store::incidents::{self as store_incidents, Changed, Incident, NewIncident};

impl App {
    /// Alerts every person of the plan's call tree by mail that incident `incident` is on,
    /// naming the systems down, and records it on the incident's timeline; one transaction.
    pub async fn alert_call_tree(
        &self,
        plan: &Plan,
        incident: &Incident,
        actor: &str,
    ) -> Result<Changed> {
        let languages = self.languages().await?;
        let by = self.names().await?.of(actor);
        let outages = store_incidents::outages(&self.db, incident.id).await?;
        let down: Vec<String> = outages
            .iter()
            .filter(|o| o.recovered_at.is_none())
            .map(|o| {
                plan.system(o.system.as_str())
                    .map_or(o.system.to_string(), |s| s.name.clone())
            })
            .collect();
        let now = self.clock.now();
        let stamp = now.timestamp_millis();
        let people: Vec<_> = plan
            .call_tree
            .iter()
            .filter_map(|c| plan.person(c.person.as_str()))
            .collect();
        let notice = Notice::IncidentAlert {
            id: incident.id,
            title: &incident.title,
            criterion: &incident.criterion,
            down: &down,
            by: &by,
        };
        let messages = self.messages(&incident.plan_id, &languages, &people, &notice, |p| {
            format!("alert.{}.{stamp}.{}@beredskab", incident.id, p.id)
        })?;
        let changed = store_incidents::alert(&self.db, incident.id, actor, messages, now).await?;
        self.mail_queued();
        Ok(changed)
    }

    /// Opens an incident; returns its id.
    pub async fn open_incident(&self, new: NewIncident) -> Result<i64> {
        Ok(store_incidents::open(&self.db, new, self.clock.now()).await?)
    }

    /// Marks `system` down (or recovered, `down` false).
    pub async fn mark_system(
        &self,
        id: i64,
        system: &str,
        down: bool,
        actor: &str,
    ) -> Result<Changed> {
        Ok(store_incidents::mark(&self.db, id, system, down, actor, self.clock.now()).await?)
    }

    /// Ticks (or un-ticks, `done` false) recovery step `step` of `system`; an empty system is
    /// the stand-down checklist.
    pub async fn tick_step(
        &self,
        id: i64,
        system: &str,
        step: i32,
        done: bool,
        actor: &str,
    ) -> Result<Changed> {
        Ok(
            store_incidents::tick(&self.db, id, system, step, done, actor, self.clock.now())
                .await?,
        )
    }

    /// A note on the incident's timeline.
    pub async fn note_incident(&self, id: i64, actor: &str, text: &str) -> Result<Changed> {
        Ok(store_incidents::note(&self.db, id, actor, text, self.clock.now()).await?)
    }

    /// Moves the incident on to state `to` (standing down, closed).
    pub async fn advance_incident(&self, id: i64, to: &str, actor: &str) -> Result<Changed> {
        Ok(store_incidents::advance(&self.db, id, to, actor, self.clock.now()).await?)
    }
}
