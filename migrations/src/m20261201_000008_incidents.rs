//! Incidents: the plan activated against a real outage, the systems marked down and recovered,
//! the recovery steps ticked off, and the incident's timeline. Action items may come from an
//! incident as well as from a drill.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Incidents {
    Table,
    Id,
    PlanId,
    /// The approved version the incident works from (none: the draft).
    Version,
    Title,
    /// The activation criterion that applies.
    Criterion,
    StartedAt,
    OpenedBy,
    /// `open`, `standing-down`, `closed`.
    State,
    StoodDownAt,
    ClosedAt,
    ClosedBy,
    /// Raised by every change: what live pages watch.
    Revision,
}

#[derive(DeriveIden)]
enum IncidentSystems {
    Table,
    IncidentId,
    SystemId,
    DownAt,
    RecoveredAt,
}

#[derive(DeriveIden)]
enum IncidentTicks {
    Table,
    IncidentId,
    /// Empty for the stand-down checklist.
    SystemId,
    Step,
    TickedBy,
    TickedAt,
}

#[derive(DeriveIden)]
enum IncidentEvents {
    Table,
    Id,
    IncidentId,
    At,
    Author,
    /// `open`, `down`, `recovered`, `tick`, `untick`, `note`, `alert`, `stand-down`, `close`.
    Kind,
    SystemId,
    Text,
}

#[derive(DeriveIden)]
enum ActionItems {
    Table,
    IncidentId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Incidents::Table)
                    .col(big_integer(Incidents::Id).auto_increment().primary_key())
                    .col(string(Incidents::PlanId))
                    .col(integer_null(Incidents::Version))
                    .col(text(Incidents::Title))
                    .col(text(Incidents::Criterion))
                    .col(timestamp_with_time_zone(Incidents::StartedAt))
                    .col(string(Incidents::OpenedBy))
                    .col(string(Incidents::State))
                    .col(timestamp_with_time_zone_null(Incidents::StoodDownAt))
                    .col(timestamp_with_time_zone_null(Incidents::ClosedAt))
                    .col(string_null(Incidents::ClosedBy))
                    .col(big_integer(Incidents::Revision))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentSystems::Table)
                    .col(big_integer(IncidentSystems::IncidentId))
                    .col(string(IncidentSystems::SystemId))
                    .col(timestamp_with_time_zone(IncidentSystems::DownAt))
                    .col(timestamp_with_time_zone_null(IncidentSystems::RecoveredAt))
                    .primary_key(
                        Index::create()
                            .col(IncidentSystems::IncidentId)
                            .col(IncidentSystems::SystemId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentTicks::Table)
                    .col(big_integer(IncidentTicks::IncidentId))
                    .col(string(IncidentTicks::SystemId))
                    .col(integer(IncidentTicks::Step))
                    .col(string(IncidentTicks::TickedBy))
                    .col(timestamp_with_time_zone(IncidentTicks::TickedAt))
                    .primary_key(
                        Index::create()
                            .col(IncidentTicks::IncidentId)
                            .col(IncidentTicks::SystemId)
                            .col(IncidentTicks::Step),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IncidentEvents::Table)
                    .col(
                        big_integer(IncidentEvents::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(IncidentEvents::IncidentId))
                    .col(timestamp_with_time_zone(IncidentEvents::At))
                    .col(string(IncidentEvents::Author))
                    .col(string(IncidentEvents::Kind))
                    .col(string_null(IncidentEvents::SystemId))
                    .col(text(IncidentEvents::Text))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("incident_events_by_incident")
                    .table(IncidentEvents::Table)
                    .col(IncidentEvents::IncidentId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ActionItems::Table)
                    .add_column(big_integer_null(ActionItems::IncidentId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ActionItems::Table)
                    .drop_column(ActionItems::IncidentId)
                    .to_owned(),
            )
            .await?;
        for table in [
            IncidentEvents::Table.into_iden(),
            IncidentTicks::Table.into_iden(),
            IncidentSystems::Table.into_iden(),
            Incidents::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
