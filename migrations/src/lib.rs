//! Database migrations, one file per step. A migration that has landed is never edited: a change
//! is a new step.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_plan_tables;
mod m20261128_000002_accounts_versions_audit;
mod m20261128_000003_drills_and_outbox;
mod m20261128_000004_drill_records;
mod m20261128_000005_action_items;
mod m20261128_000006_drill_evaluation;
mod m20261201_000007_coverage_and_reminders;
mod m20261201_000008_incidents;
mod m20261201_000009_review_reminders;
mod m20261201_000010_calendar_feeds;
mod m20261203_000011_outbox_order;
mod m20261203_000012_inject_plays;
mod m20261203_000013_second_factor;
mod m20261203_000014_sessions_tokens_throttle;
mod m20261203_000015_system_owner_index;
mod m20261204_000016_memberships;
mod m20261204_000017_identity_provider;
mod m20261204_000018_alerting;
mod m20261204_000019_dispensations;
mod m20261207_000020_sheet_uploads;
mod m20261208_000021_offline_actions;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_plan_tables::Migration),
            Box::new(m20261128_000002_accounts_versions_audit::Migration),
            Box::new(m20261128_000003_drills_and_outbox::Migration),
            Box::new(m20261128_000004_drill_records::Migration),
            Box::new(m20261128_000005_action_items::Migration),
            Box::new(m20261128_000006_drill_evaluation::Migration),
            Box::new(m20261201_000007_coverage_and_reminders::Migration),
            Box::new(m20261201_000008_incidents::Migration),
            Box::new(m20261201_000009_review_reminders::Migration),
            Box::new(m20261201_000010_calendar_feeds::Migration),
            Box::new(m20261203_000011_outbox_order::Migration),
            Box::new(m20261203_000012_inject_plays::Migration),
            Box::new(m20261203_000013_second_factor::Migration),
            Box::new(m20261203_000014_sessions_tokens_throttle::Migration),
            Box::new(m20261203_000015_system_owner_index::Migration),
            Box::new(m20261204_000016_memberships::Migration),
            Box::new(m20261204_000017_identity_provider::Migration),
            Box::new(m20261204_000018_alerting::Migration),
            Box::new(m20261204_000019_dispensations::Migration),
            Box::new(m20261207_000020_sheet_uploads::Migration),
            Box::new(m20261208_000021_offline_actions::Migration),
        ]
    }
}
