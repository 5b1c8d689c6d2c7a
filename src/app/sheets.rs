//! Systems from a spreadsheet: read, checked against the draft and previewed; applied by the
//! coordinator in one transaction on the draft, each changed field audited like an edit
//! (`sheet-import`). Nothing is written while a cell cannot be used or the result has an error
//! the plan did not have.

use std::sync::Arc;

use super::{App, Error};
use crate::domain::Plan;
use crate::domain::access::Actor;
use crate::domain::analysis::{self, Finding, Severity};
use crate::domain::sheet::{self, Preview};
use crate::plan_files::sheet::SheetError;
use crate::store;

/// What a spreadsheet would do, or did, to a plan.
pub struct SheetImport {
    pub preview: Preview,
    /// Findings of the plan as it would be that the plan does not have now: errors stop it.
    pub new_findings: Vec<Finding>,
    pub applied: bool,
}

impl SheetImport {
    /// Whether anything stops it from being applied.
    pub fn has_errors(&self) -> bool {
        !self.preview.errors.is_empty()
            || self
                .new_findings
                .iter()
                .any(|f| f.severity() == Severity::Error)
    }
}

/// Why a sheet was not read.
#[derive(Debug, thiserror::Error)]
pub enum SheetImportError {
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error(transparent)]
    App(#[from] Error),
}

impl App {
    /// Reads `bytes` (sheet `sheet`, else the first) against the draft of `plan`; with `apply`,
    /// and nothing in the way, writes the result in one transaction.
    pub async fn sheet_import(
        &self,
        plan: &Arc<Plan>,
        actor: &Actor,
        bytes: &[u8],
        sheet: Option<&str>,
        apply: bool,
    ) -> std::result::Result<SheetImport, SheetImportError> {
        if !actor.edits_whole_plan() {
            return Err(Error::Forbidden.into());
        }
        let rows = crate::plan_files::sheet::read(bytes, sheet)?;
        let preview = sheet::preview(plan, &rows);
        let today = self.clock.today();
        let before = self.plans.findings(plan, today);
        let mut new_findings: Vec<Finding> = analysis::check(&preview.plan, today)
            .into_iter()
            .filter(|f| {
                !before
                    .iter()
                    .any(|b| b.code == f.code && b.systems == f.systems)
            })
            .collect();
        analysis::sort_findings(&mut new_findings);
        let mut outcome = SheetImport {
            preview,
            new_findings,
            applied: false,
        };
        if apply && !outcome.has_errors() && outcome.preview.changes_anything() {
            store::replace_plan(
                &self.db,
                &outcome.preview.plan,
                &actor.username,
                "sheet-import",
            )
            .await
            .map_err(Error::from)?;
            outcome.applied = true;
        }
        Ok(outcome)
    }
}
