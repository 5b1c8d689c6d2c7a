//! Approval: the IT-chef approves the draft as a new version.

use super::App;
use crate::domain::PlanId;
use crate::store::edits::Approved;
use crate::store::{self, StoreError};

impl App {
    /// Approves the draft; the coordinators are mailed, in the same transaction, which systems the
    /// version changed significantly, so that they are exercised again.
    pub async fn approve_draft(
        &self,
        id: &PlanId,
        actor: &str,
        comment: &str,
    ) -> Result<Approved, StoreError> {
        let languages = self.languages().await?;
        let approved =
            store::edits::approve(&self.db, id, actor, comment, |plan, version, changed| {
                self.exercise_again_messages(plan, &languages, version, changed)
                    .map_err(super::drills::in_store)
            })
            .await?;
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
