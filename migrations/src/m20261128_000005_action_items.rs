//! Action items: what a drill (or later an incident) found, with an owner and a due date.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ActionItems {
    Table,
    Id,
    PlanId,
    OccurrenceId,
    SystemId,
    Title,
    Owner,
    Due,
    Status,
    CreatedBy,
    CreatedAt,
    ClosedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ActionItems::Table)
                    .col(big_integer(ActionItems::Id).auto_increment().primary_key())
                    .col(string(ActionItems::PlanId))
                    .col(big_integer_null(ActionItems::OccurrenceId))
                    .col(string_null(ActionItems::SystemId))
                    .col(text(ActionItems::Title))
                    .col(string(ActionItems::Owner))
                    .col(date(ActionItems::Due))
                    .col(string(ActionItems::Status))
                    .col(string(ActionItems::CreatedBy))
                    .col(timestamp_with_time_zone(ActionItems::CreatedAt))
                    .col(timestamp_with_time_zone_null(ActionItems::ClosedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ActionItems::Table).to_owned())
            .await
    }
}
