//! Editing in the browser: revisions for optimistic locking, user accounts, sessions, approved
//! versions (plan snapshots) and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    /// Raised by every change anywhere in the plan.
    Revision,
    /// Raised by every change to the plan-level sections.
    SectionsRevision,
}

#[derive(DeriveIden)]
enum Systems {
    Table,
    Revision,
}

#[derive(DeriveIden)]
enum People {
    Table,
    Revision,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Role,
    PersonId,
    Language,
    Active,
    ApiTokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    Data,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PlanVersions {
    Table,
    PlanId,
    Number,
    PlanRevision,
    Snapshot,
    ApprovedBy,
    ApprovedAt,
    Comment,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Actor,
    PlanId,
    SystemId,
    Action,
    Field,
    Before,
    After,
}

async fn add_revision(
    manager: &SchemaManager<'_>,
    table: impl IntoIden,
    column: impl IntoIden,
) -> Result<(), DbErr> {
    // One column per statement: SQLite alters one thing at a time.
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(big_integer(column).default(0))
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_revision(manager, Plans::Table, Plans::Revision).await?;
        add_revision(manager, Plans::Table, Plans::SectionsRevision).await?;
        add_revision(manager, Systems::Table, Systems::Revision).await?;
        add_revision(manager, People::Table, People::Revision).await?;

        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(big_integer(Accounts::Id).auto_increment().primary_key())
                    .col(string(Accounts::Username).unique_key())
                    .col(text(Accounts::DisplayName))
                    .col(text(Accounts::PasswordHash))
                    .col(string(Accounts::Role))
                    .col(string_null(Accounts::PersonId))
                    .col(string_null(Accounts::Language))
                    .col(boolean(Accounts::Active))
                    .col(string_null(Accounts::ApiTokenHash).unique_key())
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::Id).primary_key())
                    .col(text(Sessions::Data))
                    .col(big_integer(Sessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_expires_at")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanVersions::Table)
                    .col(string(PlanVersions::PlanId))
                    .col(integer(PlanVersions::Number))
                    .col(big_integer(PlanVersions::PlanRevision))
                    .col(text(PlanVersions::Snapshot))
                    .col(string(PlanVersions::ApprovedBy))
                    .col(timestamp_with_time_zone(PlanVersions::ApprovedAt))
                    .col(text(PlanVersions::Comment))
                    .primary_key(
                        Index::create()
                            .col(PlanVersions::PlanId)
                            .col(PlanVersions::Number),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(big_integer(AuditEvents::Id).auto_increment().primary_key())
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(string(AuditEvents::Actor))
                    .col(string_null(AuditEvents::PlanId))
                    .col(string_null(AuditEvents::SystemId))
                    .col(string(AuditEvents::Action))
                    .col(string(AuditEvents::Field))
                    .col(text(AuditEvents::Before))
                    .col(text(AuditEvents::After))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_plan_at")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::PlanId)
                    .col(AuditEvents::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            PlanVersions::Table.into_iden(),
            Sessions::Table.into_iden(),
            Accounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (table, column) in [
            (People::Table.into_iden(), People::Revision.into_iden()),
            (Systems::Table.into_iden(), Systems::Revision.into_iden()),
            (
                Plans::Table.into_iden(),
                Plans::SectionsRevision.into_iden(),
            ),
            (Plans::Table.into_iden(), Plans::Revision.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
