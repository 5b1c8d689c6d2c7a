//! The runbook's plan: the latest approved version, or the draft when nothing is approved; and
//! the offline copy written after each approval.

use std::sync::Arc;

use super::{App, Result};
use crate::domain::{Plan, PlanId};
use crate::render::runbook as document;
use crate::store::{self, edits::VersionSummary};

/// The plan a runbook shows: the latest approved version (and whether the draft has changed
/// since), or the draft when nothing is approved yet.
pub struct Shown {
    pub plan: Arc<Plan>,
    pub version: Option<VersionSummary>,
    pub draft_changed: bool,
    /// The plan's revision when it was read.
    pub revision: i64,
}

impl Shown {
    /// What the runbook document shows of it.
    pub fn document(&self) -> document::Shown<'_> {
        document::Shown {
            plan: &self.plan,
            approved: self.version.as_ref().map(|v| document::Approved {
                number: v.number,
                by: &v.approver,
                on: v.approved_at.date_naive(),
            }),
            draft_changed: self.draft_changed,
        }
    }
}

impl App {
    /// The runbook's plan for `id`, or `None` if there is no such plan.
    pub async fn runbook(&self, id: &PlanId) -> Result<Option<Shown>> {
        // The revision and the latest version in one query.
        let Some(store::edits::PlanState {
            revisions, latest, ..
        }) = store::edits::plan_state(&self.db, id).await?
        else {
            return Ok(None);
        };
        let plan = match &latest {
            Some(v) => self.plans.version(&self.db, id, v.number).await?,
            None => self.plans.plan_at(&self.db, id, revisions.revision).await?,
        };
        Ok(plan.map(|plan| Shown {
            plan,
            draft_changed: latest
                .as_ref()
                .is_none_or(|v| v.plan_revision != revisions.revision),
            version: latest,
            revision: revisions.revision,
        }))
    }

    /// The runbook of `id` as one self-contained HTML file in `lang`; `draft` allows the draft
    /// when nothing is approved. `None` if there is no such plan.
    pub async fn offline_runbook(
        &self,
        id: &PlanId,
        lang: &str,
    ) -> Result<Option<(Shown, String)>> {
        let Some(shown) = self.runbook(id).await? else {
            return Ok(None);
        };
        let html = document::offline(&self.templates, &shown.document(), lang, self.clock.today())?;
        Ok(Some((shown, html)))
    }

    /// Writes the newest offline runbook of `plan` to the configured folder (through a
    /// temporary file and a rename, so a reader never sees half a file). Called after each
    /// approval.
    pub async fn store_offline_runbook(&self, plan: &PlanId) -> anyhow::Result<std::path::PathBuf> {
        let shown = self
            .runbook(plan)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no plan {plan}"))?;
        // Rendering a large plan takes a while and the file is written to disk: off the async
        // workers.
        let (templates, lang, today) = (
            self.templates.clone(),
            self.config.language.clone(),
            self.clock.today(),
        );
        let path = self.config.runbook_dir.join(document::file_name(plan));
        tokio::task::spawn_blocking(move || {
            let html = document::offline(&templates, &shown.document(), &lang, today)?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("html.tmp");
            std::fs::write(&tmp, html)?;
            std::fs::rename(&tmp, &path)?;
            Ok(path)
        })
        .await?
    }
}
