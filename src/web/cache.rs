//! Plans in memory, so that pages do not reload a whole plan from the database on every request.
//! Each request asks the database for the plan's revision (one indexed row) and uses the cached
//! plan only when the revision is the same; every edit raises the revision, so a change made by
//! this or any other server process is seen at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use super::encoded::{Deflated, Encoded};
use crate::domain::{Finding, Plan, PlanId, analysis};
use crate::store::{self, StoreError};

#[derive(Default)]
pub struct PlanCache {
    plans: Mutex<HashMap<PlanId, Entry>>,
    /// Approved versions, which never change once approved.
    versions: Mutex<HashMap<(PlanId, i32), Arc<Plan>>>,
}

/// Most approved versions kept in memory; beyond it they are read again.
const MAX_VERSIONS: usize = 32;

struct Entry {
    revision: i64,
    plan: Arc<Plan>,
    /// The analysis findings, for the day they were computed (review deadlines move with it).
    findings: Option<(NaiveDate, Arc<Vec<Finding>>)>,
    /// The findings with exercise coverage, for the day and the coverage inputs (by a hash of
    /// them) they were computed for: a closed drill or an approval changes them without a new
    /// plan revision.
    with_coverage: Option<(NaiveDate, u64, Arc<Coverage>)>,
    /// Rendered pieces of pages of this revision, by a key that names everything they show.
    fragments: HashMap<String, Arc<Fragment>>,
    /// Whole bodies of this revision that are the same for every viewer, in each encoding.
    bodies: HashMap<String, Arc<Encoded>>,
}

/// A plan's findings with its exercise coverage, and when each system was last exercised.
pub struct Coverage {
    /// The day and stamp they were computed for: what rendered pieces showing them are keyed by.
    pub key: String,
    pub findings: Vec<Finding>,
    pub exercised: HashMap<String, store::drills::LastExercise>,
}

/// A rendered piece of a page and how many rows it holds.
#[derive(Default)]
pub struct Fragment {
    pub html: String,
    pub rows: usize,
    /// Rows that match the filter, on every page together.
    pub matches: usize,
    /// The page shown, from 1; 0 when every row is.
    pub page: usize,
    /// `html` compressed, made when a client first asks for gzip.
    pub(super) deflated: std::sync::OnceLock<Deflated>,
}

impl Fragment {
    /// A piece that is only its HTML.
    pub fn of(html: String) -> Fragment {
        Fragment {
            html,
            ..Default::default()
        }
    }

    /// The HTML compressed once, to be spliced into a gzip stream.
    pub fn deflated(&self) -> &Deflated {
        self.deflated
            .get_or_init(|| Deflated::new(self.html.as_bytes(), super::encoded::KEPT_LEVEL))
    }
}

/// Most fragments kept per plan revision; beyond it the oldest set is dropped.
const MAX_FRAGMENTS: usize = 256;

impl PlanCache {
    /// The plan at its current revision, or `None` if there is no such plan.
    pub async fn plan(
        &self,
        db: &sea_orm::DatabaseConnection,
        id: &PlanId,
    ) -> Result<Option<Arc<Plan>>, StoreError> {
        let Some(revisions) = store::plan_revisions(db, id).await? else {
            return Ok(None);
        };
        self.plan_at(db, id, revisions.revision).await
    }

    /// The plan, whose current revision the caller has just read as `revision`.
    pub async fn plan_at(
        &self,
        db: &sea_orm::DatabaseConnection,
        id: &PlanId,
        revision: i64,
    ) -> Result<Option<Arc<Plan>>, StoreError> {
        if let Some(entry) = self.lock().get(id)
            && entry.revision == revision
        {
            return Ok(Some(entry.plan.clone()));
        }
        // Loaded and checked in one transaction, so the plan is the one at that revision.
        let txn = sea_orm::TransactionTrait::begin(db).await?;
        let revision = store::plan_revisions(&txn, id).await?.map(|r| r.revision);
        let plan = store::load_plan(&txn, id).await?;
        txn.commit().await?;
        let (Some(revision), Some(plan)) = (revision, plan) else {
            return Ok(None);
        };
        let plan = Arc::new(plan);
        // Reading thousands of rows left much freed memory behind.
        crate::metrics::release_freed_memory();
        self.lock().insert(
            id.clone(),
            Entry {
                revision,
                plan: plan.clone(),
                findings: None,
                with_coverage: None,
                fragments: HashMap::new(),
                bodies: HashMap::new(),
            },
        );
        Ok(Some(plan))
    }

    /// Records a change this process saved at `revision`: when the cached plan is at the
    /// revision just before (no one else saved in between, since every save raises the
    /// revision by one), the change is applied to a copy instead of reloading the plan.
    pub fn saved(&self, id: &PlanId, revision: i64, change: impl FnOnce(&mut Plan)) {
        let mut plans = self.lock();
        match plans.get(id) {
            Some(entry) if entry.revision == revision - 1 => {
                let mut plan = (*entry.plan).clone();
                change(&mut plan);
                plans.insert(
                    id.clone(),
                    Entry {
                        revision,
                        plan: Arc::new(plan),
                        findings: None,
                        with_coverage: None,
                        fragments: HashMap::new(),
                        bodies: HashMap::new(),
                    },
                );
            }
            _ => {
                plans.remove(id);
            }
        }
    }

    /// The analysis findings of `plan` (as returned by `plan`) as of `today`, computed once.
    pub fn findings(&self, plan: &Arc<Plan>, today: NaiveDate) -> Arc<Vec<Finding>> {
        if let Some(entry) = self.lock().get(&plan.id)
            && Arc::ptr_eq(&entry.plan, plan)
            && let Some((day, findings)) = &entry.findings
            && *day == today
        {
            return findings.clone();
        }
        let findings = Arc::new(analysis::check(plan, today));
        if let Some(entry) = self.lock().get_mut(&plan.id)
            && Arc::ptr_eq(&entry.plan, plan)
        {
            entry.findings = Some((today, findings.clone()));
        }
        findings
    }

    /// The findings of `plan` (as returned by `plan`) with its exercise coverage as kept for
    /// `today` and coverage stamp `stamp`, if they are.
    pub fn coverage(
        &self,
        plan: &Arc<Plan>,
        today: NaiveDate,
        stamp: u64,
    ) -> Option<Arc<Coverage>> {
        let plans = self.lock();
        let entry = plans.get(&plan.id)?;
        match &entry.with_coverage {
            Some((day, key, c))
                if Arc::ptr_eq(&entry.plan, plan) && *day == today && *key == stamp =>
            {
                Some(c.clone())
            }
            _ => None,
        }
    }

    /// Keeps `coverage` for `plan` (as returned by `plan`), `today` and `stamp`.
    pub fn keep_coverage(
        &self,
        plan: &Arc<Plan>,
        today: NaiveDate,
        stamp: u64,
        coverage: Arc<Coverage>,
    ) {
        if let Some(entry) = self.lock().get_mut(&plan.id)
            && Arc::ptr_eq(&entry.plan, plan)
        {
            entry.with_coverage = Some((today, stamp, coverage));
        }
    }

    /// A fragment rendered for `plan` (as returned by `plan`) under `key`, or renders it now.
    pub fn fragment<E>(
        &self,
        plan: &Arc<Plan>,
        key: &str,
        render: impl FnOnce() -> Result<Fragment, E>,
    ) -> Result<Arc<Fragment>, E> {
        if let Some(entry) = self.lock().get(&plan.id)
            && Arc::ptr_eq(&entry.plan, plan)
            && let Some(fragment) = entry.fragments.get(key)
        {
            return Ok(fragment.clone());
        }
        let fragment = Arc::new(render()?);
        if let Some(entry) = self.lock().get_mut(&plan.id)
            && Arc::ptr_eq(&entry.plan, plan)
        {
            if entry.fragments.len() >= MAX_FRAGMENTS {
                entry.fragments.clear();
            }
            entry.fragments.insert(key.to_string(), fragment.clone());
        }
        Ok(fragment)
    }

    /// The body kept for `plan` (as returned by `plan`) under `key`, if there is one.
    pub fn body(&self, plan: &Arc<Plan>, key: &str) -> Option<Arc<Encoded>> {
        let plans = self.lock();
        let entry = plans.get(&plan.id)?;
        Arc::ptr_eq(&entry.plan, plan)
            .then(|| entry.bodies.get(key).cloned())
            .flatten()
    }

    /// Keeps `body` for `plan` (as returned by `plan`) under `key`, and returns it.
    pub fn keep_body(&self, plan: &Arc<Plan>, key: &str, body: Encoded) -> Arc<Encoded> {
        let body = Arc::new(body);
        if let Some(entry) = self.lock().get_mut(&plan.id)
            && Arc::ptr_eq(&entry.plan, plan)
        {
            if entry.bodies.len() >= MAX_FRAGMENTS {
                entry.bodies.clear();
            }
            entry.bodies.insert(key.to_string(), body.clone());
        }
        body
    }

    /// The plan as approved in version `number`, read once and then kept.
    pub async fn version(
        &self,
        db: &sea_orm::DatabaseConnection,
        id: &PlanId,
        number: i32,
    ) -> Result<Option<Arc<Plan>>, StoreError> {
        let key = (id.clone(), number);
        if let Some(plan) = self.versions_lock().get(&key) {
            return Ok(Some(plan.clone()));
        }
        let Some((_, plan)) = store::edits::version_plan(db, id, number).await? else {
            return Ok(None);
        };
        let plan = Arc::new(plan);
        let mut versions = self.versions_lock();
        if versions.len() >= MAX_VERSIONS {
            versions.clear();
        }
        versions.insert(key, plan.clone());
        Ok(Some(plan))
    }

    fn versions_lock(&self) -> std::sync::MutexGuard<'_, HashMap<(PlanId, i32), Arc<Plan>>> {
        self.versions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PlanId, Entry>> {
        self.plans.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Rendered pieces of pages that are not tied to a plan revision (an incident's live part, an
/// approved version's runbook), by a key that names everything they show. Bounded: beyond
/// `MAX_FRAGMENTS` the set is dropped.
#[derive(Default)]
pub struct Fragments {
    map: Mutex<HashMap<String, Arc<Fragment>>>,
    /// Held while a missing fragment is rendered, so that it is rendered once.
    rendering: tokio::sync::Mutex<()>,
}

impl Fragments {
    /// The fragment under `key`, rendered by `render` if missing. One request renders; those
    /// that ask meanwhile (every client of an incident at a new minute) wait for it instead of
    /// each rendering the same page.
    pub async fn get_or_render<E, F>(
        &self,
        key: String,
        render: impl FnOnce() -> F,
    ) -> Result<Arc<Fragment>, E>
    where
        F: std::future::Future<Output = Result<String, E>>,
    {
        if let Some(fragment) = self.get(&key) {
            return Ok(fragment);
        }
        let _rendering = self.rendering.lock().await;
        if let Some(fragment) = self.get(&key) {
            return Ok(fragment);
        }
        let fragment = Arc::new(Fragment::of(render().await?));
        self.put(key, fragment.clone());
        Ok(fragment)
    }

    fn get(&self, key: &str) -> Option<Arc<Fragment>> {
        self.lock().get(key).cloned()
    }

    fn put(&self, key: String, fragment: Arc<Fragment>) {
        let mut map = self.lock();
        if map.len() >= MAX_FRAGMENTS {
            map.clear();
        }
        map.insert(key, fragment);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Fragment>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}
