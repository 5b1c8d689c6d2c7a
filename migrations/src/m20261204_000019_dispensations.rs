//! Dispensations: the IT-chef's decisions that a plan may lack something until a date. A
//! dispensation row holds the request; each decision (approval, rejection, renewal) is a row of
//! its own, so the history is kept; reminders before expiry are claimed once each.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Dispensations {
    Table,
    Id,
    PlanId,
    /// What it is from, as JSON (`{"kind": "finding", "code": …, "systems": […]}`).
    Subject,
    Justification,
    Compensating,
    Consequence,
    Solution,
    SolutionOn,
    RequestedUntil,
    RequestedBy,
    RequestedAt,
    WithdrawnAt,
    WithdrawnBy,
}

#[derive(DeriveIden)]
enum DispensationDecisions {
    Table,
    Id,
    DispensationId,
    DecidedBy,
    DecidedAt,
    DecidedOn,
    Approved,
    ExpiresOn,
    Comment,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    /// The longest a dispensation may be granted for, in months (12).
    DispensationMaxMonths,
}

#[derive(DeriveIden)]
enum DispensationReminders {
    Table,
    DispensationId,
    /// The decision whose expiry it is about (a renewal is reminded of again).
    DecisionId,
    /// 30, 7 or 1.
    DaysBefore,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Dispensations::Table)
                    .col(big_pk_auto(Dispensations::Id))
                    .col(string(Dispensations::PlanId))
                    .col(text(Dispensations::Subject))
                    .col(text(Dispensations::Justification))
                    .col(text(Dispensations::Compensating))
                    .col(text(Dispensations::Consequence))
                    .col(text(Dispensations::Solution))
                    .col(date_null(Dispensations::SolutionOn))
                    .col(date(Dispensations::RequestedUntil))
                    .col(string(Dispensations::RequestedBy))
                    .col(timestamp_with_time_zone(Dispensations::RequestedAt))
                    .col(timestamp_with_time_zone_null(Dispensations::WithdrawnAt))
                    .col(string_null(Dispensations::WithdrawnBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dispensations_plan")
                    .table(Dispensations::Table)
                    .col(Dispensations::PlanId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DispensationDecisions::Table)
                    .col(big_pk_auto(DispensationDecisions::Id))
                    .col(big_integer(DispensationDecisions::DispensationId))
                    .col(string(DispensationDecisions::DecidedBy))
                    .col(timestamp_with_time_zone(DispensationDecisions::DecidedAt))
                    .col(date(DispensationDecisions::DecidedOn))
                    .col(boolean(DispensationDecisions::Approved))
                    .col(date_null(DispensationDecisions::ExpiresOn))
                    .col(text(DispensationDecisions::Comment))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                DispensationDecisions::Table,
                                DispensationDecisions::DispensationId,
                            )
                            .to(Dispensations::Table, Dispensations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Every request reads the count of a plan's decisions (the findings' cache stamp).
        manager
            .create_index(
                Index::create()
                    .name("idx_dispensation_decisions_dispensation")
                    .table(DispensationDecisions::Table)
                    .col(DispensationDecisions::DispensationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DispensationReminders::Table)
                    .col(big_integer(DispensationReminders::DispensationId))
                    .col(big_integer(DispensationReminders::DecisionId))
                    .col(integer(DispensationReminders::DaysBefore))
                    .col(timestamp_with_time_zone(DispensationReminders::SentAt))
                    .primary_key(
                        Index::create()
                            .col(DispensationReminders::DecisionId)
                            .col(DispensationReminders::DaysBefore),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(integer(Plans::DispensationMaxMonths).default(12))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .drop_column(Plans::DispensationMaxMonths)
                    .to_owned(),
            )
            .await?;
        for table in [
            DispensationReminders::Table.into_iden(),
            DispensationDecisions::Table.into_iden(),
            Dispensations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
