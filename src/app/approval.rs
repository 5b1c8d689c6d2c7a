//! Approval: the IT-chef approves the draft as a new version.

use serde_json::json;

use super::App;
use super::alerting::webhook_message;
use crate::domain::PlanId;
use crate::store;
use crate::store::edits::Approved;

impl App {
    /// Approves the draft; the coordinators are mailed, in the same transaction, which systems the
    /// version changed significantly, so that they are exercised again.
    pub async fn approve_draft(
        &self,
        id: &PlanId,
        actor: &str,
        comment: &str,
    ) -> super::Result<Approved> {
        let languages = self.languages().await?;
        let endpoints = self.webhook_endpoints(id.as_str()).await?;
        let now = self.clock.now();
        let rendering = super::drills::Rendering::default();
        let stored = store::edits::approve(
            &self.db,
            id,
            actor,
            comment,
            now,
            |plan, version, changed| {
                let mut messages = if changed.is_empty() {
                    Vec::new()
                } else {
                    rendering
                        .keep(self.exercise_again_messages(plan, &languages, version, changed))?
                };
                let data = json!({
                    "plan": {"id": plan.id, "name": plan.name},
                    "version": version,
                    "approved_by": actor,
                    "changed_systems": changed.keys().collect::<Vec<_>>(),
                    "url": self.config.link(&format!("/plans/{}/versions/{version}", plan.id)),
                });
                let topic = format!("plan:{}", plan.id);
                messages.extend(
                    endpoints
                        .iter()
                        .map(|e| webhook_message(e, "version.approved", &topic, &data, now)),
                );
                Ok(messages)
            },
        )
        .await;
        let approved = rendering.result(stored)?;
        self.mail_queued();
        if matches!(approved, Approved::Version(_)) {
            // The offline copy follows every approval; the approval stands even if the file fails.
            match self.store_offline_runbook(id).await {
                Ok(path) => {
                    tracing::info!(plan = %id, path = %path.display(), "offline runbook written")
                }
                Err(e) => tracing::error!(plan = %id, error = %e, "offline runbook not written"),
            }
        }
        Ok(approved)
    }
}
