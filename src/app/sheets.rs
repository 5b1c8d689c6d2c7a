//! Systems from a spreadsheet: read, checked against the draft and previewed; applied by the
//! coordinator in one transaction on the draft, each changed field audited like an edit
//! (`sheet-import`). Nothing is written while a cell cannot be used or the result has an error
//! the plan did not have.

use super::{App, Error, Result};
use crate::domain::PlanId;
use crate::domain::access::Actor;
use crate::domain::analysis::{self, Finding, Severity};
use crate::domain::sheet::{self, Field, Mapping, Preview};
use crate::plan_files::sheet::SheetError;
use crate::store;

/// What a spreadsheet would do, or did, to a plan.
pub struct SheetImport {
    pub preview: Preview,
    /// Findings of the plan as it would be that the plan does not have now: errors stop it.
    pub new_findings: Vec<Finding>,
    /// The draft's revision the preview was made from.
    pub revision: i64,
    pub applied: bool,
    /// Not applied because the draft changed after the preview the user saw: this preview is
    /// of the draft as it is now.
    pub stale: bool,
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

/// What to do with a sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetAct {
    Preview,
    Apply,
    /// Apply, if the draft is still at the revision of the preview the user saw.
    ApplyAt(i64),
}

/// Why a sheet was not read.
#[derive(Debug, thiserror::Error)]
pub enum SheetImportError {
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error(transparent)]
    App(#[from] Error),
}

impl From<store::StoreError> for SheetImportError {
    fn from(e: store::StoreError) -> Self {
        SheetImportError::App(e.into())
    }
}

/// How a sheet is read.
#[derive(Clone, Copy, Default)]
pub struct SheetOptions<'a> {
    /// The sheet's name, else the first.
    pub sheet: Option<&'a str>,
    pub how: sheet::Reading,
    /// Columns chosen for this sheet, on top of those the plan keeps.
    pub columns: Option<&'a Mapping>,
    /// Told how far the reading is (the command line's progress bar).
    pub progress: Option<&'a (dyn Fn(SheetProgress) + Sync)>,
}

/// How far a sheet's reading is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetProgress {
    /// Unpacking and reading the file.
    Reading,
    /// Checking the rows against the plan: `done` of `of`.
    Checking { done: usize, of: usize },
    /// Analysing the plan as the sheet would leave it.
    Analysing,
}

/// A mapping as an upload keeps it: header → field key or null.
fn columns_json(m: &Mapping) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        m.0.iter()
            .map(|(h, f)| {
                (
                    h.clone(),
                    f.map_or(serde_json::Value::Null, |f| f.key().into()),
                )
            })
            .collect();
    serde_json::Value::Object(map).to_string()
}

/// The mapping an upload keeps; what cannot be read counts as nothing chosen.
fn columns_of(json: &str) -> Mapping {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).unwrap_or_default();
    Mapping(
        map.into_iter()
            .map(|(h, f)| (h, f.as_str().and_then(Field::from_key)))
            .collect(),
    )
}

impl App {
    /// Reads `bytes` against the draft of `plan` as `options` say, the columns as the plan
    /// keeps them chosen and as chosen for this sheet; to apply, with nothing in the way,
    /// writes the result in one transaction.
    pub async fn sheet_import(
        &self,
        plan: &PlanId,
        actor: &Actor,
        bytes: &[u8],
        options: SheetOptions<'_>,
        act: SheetAct,
    ) -> std::result::Result<SheetImport, SheetImportError> {
        if !actor.edits_whole_plan() {
            return Err(Error::Forbidden.into());
        }
        let tell = |p: SheetProgress| {
            if let Some(progress) = options.progress {
                progress(p);
            }
        };
        tell(SheetProgress::Reading);
        let rows = crate::plan_files::sheet::read(bytes, options.sheet)?;
        let kept = store::uploads::columns(&self.db, plan.as_str()).await?;
        let kept = Mapping(
            kept.into_iter()
                .map(|(h, f)| (h, f.as_deref().and_then(Field::from_key)))
                .collect(),
        );
        let columns = match options.columns {
            Some(chosen) => kept.with(chosen),
            None => kept,
        };
        let Some((revision, plan)) = self.plans.current(&self.db, plan).await? else {
            return Err(Error::NotFound.into());
        };
        let preview = sheet::read_rows(&plan, &rows, options.how, &columns, &|done, of| {
            tell(SheetProgress::Checking { done, of })
        });
        tell(SheetProgress::Analysing);
        let today = self.clock.today();
        let before = self.plans.findings(&plan, today);
        let mut new_findings: Vec<Finding> = analysis::check(&preview.plan, today)
            .into_iter()
            .filter(|f| {
                !before
                    .iter()
                    .any(|b| b.code == f.code && b.systems == f.systems)
            })
            .collect();
        analysis::sort_findings(&mut new_findings);
        let stale = matches!(act, SheetAct::ApplyAt(seen) if seen != revision);
        let mut outcome = SheetImport {
            preview,
            new_findings,
            revision,
            applied: false,
            stale,
        };
        let apply = matches!(act, SheetAct::Apply | SheetAct::ApplyAt(_)) && !stale;
        if apply && !outcome.has_errors() && outcome.preview.changes_anything() {
            let written = store::replace_plan_at(
                &self.db,
                &outcome.preview.plan,
                &actor.username,
                "sheet-import",
                revision,
            )
            .await?;
            outcome.applied = written.is_some();
            outcome.stale = written.is_none();
        }
        Ok(outcome)
    }

    /// Keeps an uploaded sheet for its "apply"; the upload's id.
    pub async fn keep_upload(
        &self,
        plan: &PlanId,
        actor: &Actor,
        file_name: &str,
        options: SheetOptions<'_>,
        content: Vec<u8>,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        store::uploads::put(
            &self.db,
            store::uploads::Upload {
                id: id.clone(),
                plan_id: plan.to_string(),
                username: actor.username.clone(),
                file_name: file_name.to_string(),
                sheet: options.sheet.map(str::to_string),
                leave_out: options.how.leave_out,
                create_people: options.how.create_people,
                columns: options
                    .columns
                    .map_or_else(|| "{}".to_string(), columns_json),
                content,
                created_at: self.clock.now(),
            },
        )
        .await?;
        Ok(id)
    }

    /// The sheet `actor` uploaded as `id` for `plan`, if it is still kept.
    pub async fn upload(
        &self,
        plan: &PlanId,
        actor: &Actor,
        id: &str,
    ) -> Result<Option<store::uploads::Upload>> {
        Ok(store::uploads::get(
            &self.db,
            id,
            plan.as_str(),
            &actor.username,
            self.clock.now(),
        )
        .await?)
    }

    /// Applies the sheet `actor` uploaded as `id`, if the draft is still at `seen`; the upload
    /// is removed once applied. `None` if the upload is gone.
    pub async fn apply_upload(
        &self,
        plan: &PlanId,
        actor: &Actor,
        id: &str,
        seen: i64,
    ) -> std::result::Result<Option<(store::uploads::Upload, SheetImport)>, SheetImportError> {
        let Some(upload) = self.upload(plan, actor, id).await? else {
            return Ok(None);
        };
        let columns = columns_of(&upload.columns);
        let done = self
            .sheet_import(
                plan,
                actor,
                &upload.content,
                upload_options(&upload, &columns),
                SheetAct::ApplyAt(seen),
            )
            .await?;
        if done.applied {
            store::uploads::remove(&self.db, id).await?;
        }
        Ok(Some((upload, done)))
    }

    /// Reads the sheet `actor` uploaded as `id` again with its columns read as `chosen` says
    /// (on top of what was chosen for it before); with `remember`, the plan keeps the choice
    /// for the next sheet. `None` if the upload is gone.
    pub async fn choose_columns(
        &self,
        plan: &PlanId,
        actor: &Actor,
        id: &str,
        chosen: &Mapping,
        remember: bool,
    ) -> std::result::Result<Option<(store::uploads::Upload, SheetImport)>, SheetImportError> {
        if !actor.edits_whole_plan() {
            return Err(Error::Forbidden.into());
        }
        let Some(mut upload) = self.upload(plan, actor, id).await? else {
            return Ok(None);
        };
        let columns = columns_of(&upload.columns).with(chosen);
        upload.columns = columns_json(&columns);
        store::uploads::set_columns(&self.db, id, upload.columns.clone()).await?;
        if remember {
            let entries: Vec<(String, Option<String>)> = chosen
                .0
                .iter()
                .map(|(h, f)| (h.clone(), f.map(|f| f.key().to_string())))
                .collect();
            store::uploads::save_columns(&self.db, plan.as_str(), &entries).await?;
            tracing::info!(plan = %plan, user = %actor.username, columns = entries.len(), "sheet columns kept");
        }
        let done = self
            .sheet_import(
                plan,
                actor,
                &upload.content,
                upload_options(&upload, &columns),
                SheetAct::Preview,
            )
            .await?;
        Ok(Some((upload, done)))
    }
}

/// How an upload is read again: as it was read first, its columns as `columns` say.
fn upload_options<'a>(
    upload: &'a store::uploads::Upload,
    columns: &'a Mapping,
) -> SheetOptions<'a> {
    SheetOptions {
        sheet: upload.sheet.as_deref(),
        how: sheet::Reading {
            leave_out: upload.leave_out,
            create_people: upload.create_people,
        },
        columns: Some(columns),
        progress: None,
    }
}
