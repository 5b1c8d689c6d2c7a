//! Plans in memory, so that pages do not reload a whole plan from the database on every request.
//! Each request asks the database for the plan's revision (one indexed row) and uses the cached
//! plan only when the revision is the same; every edit raises the revision, so a change made by
//! this or any other server process is seen at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

use std::any::Any;

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
    /// What was made from this revision (rendered pieces of pages, whole bodies in each
    /// encoding), by a key that names everything they show.
    kept: HashMap<String, Arc<dyn Any + Send + Sync>>,
}

/// A plan's findings with its exercise coverage, and when each system was last exercised.
pub struct Coverage {
    /// The day and stamp they were computed for: what rendered pieces showing them are keyed by.
    pub key: String,
    pub findings: Vec<Finding>,
    pub exercised: HashMap<String, store::drills::LastExercise>,
}

/// Most things kept per plan revision; beyond it the set is dropped.
const MAX_KEPT: usize = 256;

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
        Ok(self.revised(db, id, revision).await?.map(|(_, plan)| plan))
    }

    /// The plan at its current revision, with that revision.
    pub async fn current(
        &self,
        db: &sea_orm::DatabaseConnection,
        id: &PlanId,
    ) -> Result<Option<(i64, Arc<Plan>)>, StoreError> {
        let Some(revisions) = store::plan_revisions(db, id).await? else {
            return Ok(None);
        };
        self.revised(db, id, revisions.revision).await
    }

    /// As [`PlanCache::plan_at`], with the revision the plan is at (a later one if it was
    /// changed since the caller read `revision`).
    async fn revised(
        &self,
        db: &sea_orm::DatabaseConnection,
        id: &PlanId,
        revision: i64,
    ) -> Result<Option<(i64, Arc<Plan>)>, StoreError> {
        if let Some(entry) = self.lock().get(id)
            && entry.revision == revision
        {
            return Ok(Some((revision, entry.plan.clone())));
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
                kept: HashMap::new(),
            },
        );
        Ok(Some((revision, plan)))
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
                        kept: HashMap::new(),
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

    /// What was made for `plan` (as returned by `plan`) under `key`, or makes it now.
    pub fn kept_or<T: Any + Send + Sync, E>(
        &self,
        plan: &Arc<Plan>,
        key: &str,
        make: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        if let Some(kept) = self.kept(plan, key) {
            return Ok(kept);
        }
        Ok(self.keep(plan, key, make()?))
    }

    /// What is kept for `plan` (as returned by `plan`) under `key`, if there is such a thing.
    pub fn kept<T: Any + Send + Sync>(&self, plan: &Arc<Plan>, key: &str) -> Option<Arc<T>> {
        let plans = self.lock();
        let entry = plans.get(&plan.id)?;
        if !Arc::ptr_eq(&entry.plan, plan) {
            return None;
        }
        entry.kept.get(key)?.clone().downcast().ok()
    }

    /// Keeps `value` for `plan` (as returned by `plan`) under `key`, and returns it.
    pub fn keep<T: Any + Send + Sync>(&self, plan: &Arc<Plan>, key: &str, value: T) -> Arc<T> {
        let value = Arc::new(value);
        if let Some(entry) = self.lock().get_mut(&plan.id)
            && Arc::ptr_eq(&entry.plan, plan)
        {
            if entry.kept.len() >= MAX_KEPT {
                entry.kept.clear();
            }
            entry.kept.insert(key.to_string(), value.clone());
        }
        value
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

impl super::App {
    /// The plan's findings as of now: the analysis (computed once per plan revision and day) and
    /// its exercise coverage (`not-exercised`), from the closed drills and the approved versions.
    pub async fn findings(&self, plan: &Arc<Plan>) -> Result<Arc<Coverage>, StoreError> {
        // One query; a plan removed meanwhile gets the empty stamp.
        let stamp = store::edits::plan_state(&self.db, &plan.id)
            .await?
            .map(|s| s.coverage_stamp())
            .unwrap_or_default();
        self.findings_stamped(plan, stamp).await
    }

    /// `findings_of`, with the coverage stamp already read.
    pub async fn findings_stamped(
        &self,
        plan: &Arc<Plan>,
        stamp: store::edits::CoverageStamp,
    ) -> Result<Arc<Coverage>, StoreError> {
        let stamp = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            stamp.hash(&mut h);
            h.finish()
        };
        let today = self.clock.today();
        if let Some(kept) = self.plans.coverage(plan, today, stamp) {
            return Ok(kept);
        }
        let exercised = store::drills::last_exercised(&self.db, &plan.id).await?;
        let last: HashMap<String, chrono::DateTime<chrono::Utc>> = exercised
            .iter()
            .map(|(system, e)| (system.clone(), e.held_at))
            .collect();
        let changes = store::edits::significant_changes(&self.db, &plan.id, None).await?;
        let mut findings = self.plans.findings(plan, today).to_vec();
        findings.extend(crate::domain::coverage::check(
            plan,
            &last,
            &changes,
            self.clock.now(),
        ));
        analysis::sort_findings(&mut findings);
        let dispensations = store::dispensations::of_plan(&self.db, plan.id.as_str()).await?;
        crate::domain::dispensation::accept(&mut findings, &dispensations, today);
        let coverage = Arc::new(Coverage {
            key: format!("{today}|{stamp:x}"),
            findings,
            exercised,
        });
        self.plans
            .keep_coverage(plan, today, stamp, coverage.clone());
        // The analysis of a large plan leaves much freed memory behind; once a day or per change.
        crate::metrics::release_freed_memory();
        Ok(coverage)
    }
}
