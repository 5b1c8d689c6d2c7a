//! Running a drill: what participants record per system, the timeline, and closing.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DrillOccurrences {
    Table,
    ClosedAt,
    ClosedBy,
}

#[derive(DeriveIden)]
enum DrillRecords {
    Table,
    OccurrenceId,
    SystemId,
    /// Was the system's procedure found in the plan: yes, no, or not said.
    Found,
    Followed,
    /// Time to (simulated) recovery.
    RecoveryMinutes,
    /// What was missing or wrong.
    Notes,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DrillTimeline {
    Table,
    Id,
    OccurrenceId,
    At,
    Author,
    Text,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(DrillOccurrences::Table)
                    .add_column(timestamp_with_time_zone_null(DrillOccurrences::ClosedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(DrillOccurrences::Table)
                    .add_column(string_null(DrillOccurrences::ClosedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DrillRecords::Table)
                    .col(big_integer(DrillRecords::OccurrenceId))
                    .col(string(DrillRecords::SystemId))
                    .col(boolean_null(DrillRecords::Found))
                    .col(boolean_null(DrillRecords::Followed))
                    .col(big_integer_null(DrillRecords::RecoveryMinutes))
                    .col(text(DrillRecords::Notes))
                    .col(string(DrillRecords::UpdatedBy))
                    .col(timestamp_with_time_zone(DrillRecords::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(DrillRecords::OccurrenceId)
                            .col(DrillRecords::SystemId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DrillTimeline::Table)
                    .col(
                        big_integer(DrillTimeline::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(DrillTimeline::OccurrenceId))
                    .col(timestamp_with_time_zone(DrillTimeline::At))
                    .col(string(DrillTimeline::Author))
                    .col(text(DrillTimeline::Text))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DrillTimeline::Table.into_iden(),
            DrillRecords::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            DrillOccurrences::ClosedBy.into_iden(),
            DrillOccurrences::ClosedAt.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DrillOccurrences::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
