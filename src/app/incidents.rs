//! Incidents: alerting the call tree.

use super::notify::Notice;
use super::{App, Result};
use crate::domain::Plan;
use crate::store::incidents::{self as store_incidents, Changed, Incident};

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
            by: actor,
        };
        let messages = self.messages(&languages, &people, &notice, |p| {
            format!("alert.{}.{stamp}.{}@beredskab", incident.id, p.id)
        })?;
        let changed = store_incidents::alert(&self.db, incident.id, actor, messages, now).await?;
        self.mail_queued();
        Ok(changed)
    }
}
