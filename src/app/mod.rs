//! The application: the use cases every front end (web pages, the JSON API, the command line,
//! the scheduler) calls, on one `App` that holds what they share. Only this layer opens write
//! transactions through the store, writes audit records and queues outbox messages, so that
//! "every change is audited in the same transaction" holds in one place.

pub mod accounts;
pub mod actions;
pub mod alerting;
pub mod approval;
pub mod clock;
pub mod dispensations;
pub mod drills;
pub mod editing;
pub mod identity;
pub mod incidents;
pub mod memberships;
pub mod notify;
pub mod occurrences;
pub mod oidc;
pub mod plans;
pub mod reports;
pub mod runbook;
pub mod second_factor;
pub mod sheets;
pub mod sign_in;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::config::Config;
use crate::domain::{Plan, PlanId};
use crate::live::Live;
use crate::metrics::Metrics;
use crate::render::{self, Templates};
use crate::store::{self, StoreError};
pub use clock::Clock;
pub use plans::PlanCache;

/// What every use case works with. Cheap to clone: every part is shared.
#[derive(Clone)]
pub struct App {
    /// The database.
    pub db: DatabaseConnection,
    /// The configuration the program was started with.
    pub config: Arc<Config>,
    /// Templates and locale strings for pages, mail and documents.
    pub templates: Arc<Templates>,
    /// Plans and what was made from them, by revision.
    pub plans: Arc<PlanCache>,
    /// Every "now" and "today".
    pub clock: Clock,
    /// Wakes the mail worker when mail is queued.
    pub outbox: Arc<Notify>,
    /// Wakes the scheduler when a drill is planned or changed.
    pub scheduler: Arc<Notify>,
    /// Request, mail and scheduler figures for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The incidents open pages follow, woken when they change.
    pub live: Arc<Live>,
}

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// The actor may not do this.
    #[error("forbidden")]
    Forbidden,
    /// What the user gave cannot be used; the locale key says why.
    #[error("invalid: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl App {
    /// The application on database `db` (migrated), with the templates loaded.
    pub fn new(db: DatabaseConnection, config: Config, clock: Clock) -> anyhow::Result<App> {
        Ok(App {
            db,
            config: Arc::new(config),
            templates: Arc::new(Templates::load()?),
            plans: Arc::new(PlanCache::default()),
            clock,
            outbox: Arc::new(Notify::new()),
            scheduler: Arc::new(Notify::new()),
            metrics: Arc::new(Metrics::new()),
            live: Live::new(),
        })
    }

    /// The plan at its current revision, or `None` if there is no such plan.
    pub async fn plan(&self, id: &PlanId) -> Result<Option<Arc<Plan>>, StoreError> {
        self.plans.plan(&self.db, id).await
    }

    /// The plan a stored row names by its id, or `None` if the id is bad or the plan is gone.
    pub async fn plan_named(&self, id: &str) -> Result<Option<Arc<Plan>>, StoreError> {
        match PlanId::parse(id) {
            Ok(id) => self.plan(&id).await,
            Err(_) => Ok(None),
        }
    }

    /// After a change to an incident has committed: wakes the pages that follow it here.
    pub async fn incident_changed(&self, id: i64) {
        self.live.touch(&self.db, id).await;
    }

    /// Tells the mail worker there is mail to send.
    pub fn mail_queued(&self) {
        self.outbox.notify_one();
    }

    /// Reads the languages the people of the plans chose for their accounts.
    pub async fn languages(&self) -> Result<notify::Languages, StoreError> {
        Ok(notify::Languages {
            chosen: store::accounts::languages_by_person(&self.db).await?,
            default: self.config.language.clone(),
        })
    }
}
