//! Actions taken on a phone while it was offline and sent when it reached the server again:
//! each is applied once by its client-generated id, and the timeline keeps when it happened on
//! the phone apart from when the server recorded it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IncidentEvents {
    Table,
    /// When the server recorded an entry that happened earlier on a phone (`at`); null for
    /// what was recorded as it happened.
    RecordedAt,
}

#[derive(DeriveIden)]
enum IncidentClientActions {
    Table,
    /// The phone's id of the action (a UUID): the same id arriving again does nothing.
    Id,
    IncidentId,
    Username,
    /// `tick`, `untick`, `note`, `down`, `recovered`.
    Kind,
    /// `applied`, or `late` (kept on the timeline only: what it would do had happened already,
    /// or the incident was closed).
    Outcome,
    HappenedAt,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentEvents::Table)
                    .add_column(timestamp_with_time_zone_null(IncidentEvents::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentClientActions::Table)
                    .col(string(IncidentClientActions::Id).primary_key())
                    .col(big_integer(IncidentClientActions::IncidentId))
                    .col(string(IncidentClientActions::Username))
                    .col(string(IncidentClientActions::Kind))
                    .col(string(IncidentClientActions::Outcome))
                    .col(timestamp_with_time_zone(IncidentClientActions::HappenedAt))
                    .col(timestamp_with_time_zone(IncidentClientActions::RecordedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IncidentClientActions::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IncidentEvents::Table)
                    .drop_column(IncidentEvents::RecordedAt)
                    .to_owned(),
            )
            .await
    }
}
