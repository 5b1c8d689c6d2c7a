//! The database: the only code that talks to it. SQLite (a file) is the embedded default,
//! PostgreSQL the production option; both run the same migrations and the same queries.
//!
//! Query functions take `&impl ConnectionTrait`, so they run inside or outside a transaction.
//!
//! `db` holds the connection and the errors, `plans` the plan repository (with `plan_rows`, the
//! rows it shares with `edits`); the other modules each keep one kind of record (accounts,
//! drills, incidents, the outbox, …).

pub mod accounts;
pub mod actions;
pub mod alerts;
pub mod audit;
pub mod backup;
mod db;
pub mod dispensations;
mod drill_rows;
pub mod drills;
pub mod edits;
pub mod entities;
pub mod health;
pub mod identities;
pub mod incidents;
pub mod outbox;
mod plan_rows;
mod plans;
pub mod reviews;
pub mod uploads;
pub mod webhooks;

pub use db::{DEFAULT_DATABASE_URL, Outage, Result, StoreError, begin_write, connect, migrate};
pub use plans::{
    IMPORT_ACTOR, ImportOutcome, PlanRevisions, PlanSummary, import_plan, load_plan, plan_ids,
    plan_revisions, plan_summaries, replace_plan, replace_plan_at,
};
