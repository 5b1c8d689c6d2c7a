//! Injects are played by the facilitator: when each inject of an occurrence was shown to the
//! participants, and by whom. An inject is known by its place in the drill's scenario.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DrillInjectPlays {
    Table,
    OccurrenceId,
    /// The inject's index in the drill's scenario (0 for the first).
    Inject,
    PlayedAt,
    PlayedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DrillInjectPlays::Table)
                    .col(big_integer(DrillInjectPlays::OccurrenceId))
                    .col(integer(DrillInjectPlays::Inject))
                    .col(timestamp_with_time_zone(DrillInjectPlays::PlayedAt))
                    .col(string(DrillInjectPlays::PlayedBy))
                    .primary_key(
                        Index::create()
                            .col(DrillInjectPlays::OccurrenceId)
                            .col(DrillInjectPlays::Inject),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DrillInjectPlays::Table).to_owned())
            .await
    }
}
