//! Incidents: the incident lead opens one against a real outage, marks systems down and
//! recovered, ticks recovery steps, notes what happens, alerts the call tree and advances it to
//! stand-down and closing. Each act is one transaction with its timeline entry, at the app's
//! clock.

use serde_json::json;

use super::alerting::webhook_message;
use super::{App, Result};
use crate::store::incidents::{self as store_incidents, Changed, NewIncident};
use crate::store::outbox::NewMessage;

impl App {
    /// Opens an incident; returns its id.
    pub async fn open_incident(&self, new: NewIncident) -> Result<i64> {
        let endpoints = self.webhook_endpoints(&new.plan_id).await?;
        let now = self.clock.now();
        let (title, plan, down) = (new.title.clone(), new.plan_id.clone(), new.down.clone());
        let link = |id: i64| self.config.link(&format!("/incidents/{id}"));
        let events = |id: i64| {
            let data = json!({
                "incident": {"id": id, "title": title, "plan": plan, "url": link(id)},
                "systems_down": down,
            });
            endpoints
                .iter()
                .map(|e| {
                    webhook_message(e, "incident.opened", &format!("incident:{id}"), &data, now)
                })
                .collect()
        };
        let id = store_incidents::open(&self.db, new, events, now).await?;
        self.mail_queued();
        Ok(id)
    }

    /// The events of incident `incident` to its plan's webhook endpoints.
    async fn incident_events(
        &self,
        incident: i64,
        kind: &str,
        system: Option<&str>,
    ) -> Result<Vec<NewMessage>> {
        let Some(i) = store_incidents::find(&self.db, incident).await? else {
            return Ok(Vec::new());
        };
        // Most plans have no endpoint: then nothing more is read for the event.
        let endpoints = self.webhook_endpoints(&i.plan_id).await?;
        if endpoints.is_empty() {
            return Ok(Vec::new());
        }
        let mut data = json!({
            "incident": {
                "id": i.id,
                "title": i.title,
                "plan": i.plan_id,
                "url": self.config.link(&format!("/incidents/{}", i.id)),
            },
        });
        if let Some(system) = system {
            let plan = self.plan_named(&i.plan_id).await?;
            let name = plan
                .as_ref()
                .and_then(|p| p.system(system).map(|s| s.name.clone()))
                .unwrap_or_else(|| system.to_string());
            data["system"] = json!({"id": system, "name": name});
        }
        let (topic, now) = (format!("incident:{}", i.id), self.clock.now());
        Ok(endpoints
            .iter()
            .map(|e| webhook_message(e, kind, &topic, &data, now))
            .collect())
    }

    /// Marks `system` down (or recovered, `down` false).
    pub async fn mark_system(
        &self,
        id: i64,
        system: &str,
        down: bool,
        actor: &str,
    ) -> Result<Changed> {
        let kind = if down {
            "incident.system_down"
        } else {
            "incident.system_recovered"
        };
        let events = self.incident_events(id, kind, Some(system)).await?;
        let queued = !events.is_empty();
        let changed =
            store_incidents::mark(&self.db, id, system, down, actor, events, self.clock.now())
                .await?;
        self.incident_changed(id).await;
        if queued {
            self.mail_queued();
        }
        Ok(changed)
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
        let changed =
            store_incidents::tick(&self.db, id, system, step, done, actor, self.clock.now())
                .await?;
        self.incident_changed(id).await;
        Ok(changed)
    }

    /// A note on the incident's timeline.
    pub async fn note_incident(&self, id: i64, actor: &str, text: &str) -> Result<Changed> {
        let changed = store_incidents::note(&self.db, id, actor, text, self.clock.now()).await?;
        self.incident_changed(id).await;
        Ok(changed)
    }

    /// Moves the incident on to state `to` (standing down, closed).
    pub async fn advance_incident(&self, id: i64, to: &str, actor: &str) -> Result<Changed> {
        let kind = if to == store_incidents::CLOSED {
            "incident.closed"
        } else {
            "incident.stand_down"
        };
        let events = self.incident_events(id, kind, None).await?;
        let queued = !events.is_empty();
        let changed =
            store_incidents::advance(&self.db, id, to, actor, events, self.clock.now()).await?;
        self.incident_changed(id).await;
        if queued {
            self.mail_queued();
        }
        Ok(changed)
    }

    /// Applies actions taken on a phone while it was offline, each once by its id, in the order
    /// given (the order they happened on the phone); what became of each.
    pub async fn apply_offline(
        &self,
        id: i64,
        actor: &str,
        actions: &[store_incidents::OfflineAction],
    ) -> Result<Vec<store_incidents::Offline>> {
        let mut outcomes = Vec::with_capacity(actions.len());
        let mut queued = false;
        for action in actions {
            let events = match &action.kind {
                store_incidents::OfflineKind::Mark { system, down } => {
                    let kind = if *down {
                        "incident.system_down"
                    } else {
                        "incident.system_recovered"
                    };
                    self.incident_events(id, kind, Some(system)).await?
                }
                _ => Vec::new(),
            };
            queued |= !events.is_empty();
            outcomes.push(
                store_incidents::apply_offline(
                    &self.db,
                    id,
                    actor,
                    action,
                    events,
                    self.clock.now(),
                )
                .await?,
            );
        }
        self.incident_changed(id).await;
        if queued {
            self.mail_queued();
        }
        Ok(outcomes)
    }
}
