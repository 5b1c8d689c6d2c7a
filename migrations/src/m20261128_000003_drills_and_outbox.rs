//! Drills: the scenario library, drill programmes with their schedules, each occurrence with
//! what has been sent for it, and the mail outbox.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Scenarios {
    Table,
    PlanId,
    Id,
    Title,
    Kind,
    /// The whole scenario as JSON.
    Definition,
}

#[derive(DeriveIden)]
enum Drills {
    Table,
    Id,
    PlanId,
    ScenarioId,
    Title,
    /// The scenario as it is run (a copy that may be edited), as JSON.
    Definition,
    Facilitator,
    /// Person ids as a JSON list.
    Participants,
    Location,
    /// The schedule as JSON.
    Schedule,
    TimeZone,
    InviteDaysBefore,
    CreatedBy,
    CreatedAt,
    Cancelled,
}

#[derive(DeriveIden)]
enum DrillOccurrences {
    Table,
    Id,
    DrillId,
    StartsAt,
    Uid,
    Sequence,
    State,
    InvitedAt,
    RemindedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    MessageId,
    Kind,
    OccurrenceId,
    ToAddress,
    ToName,
    Subject,
    BodyText,
    BodyHtml,
    Ics,
    State,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Scenarios::Table)
                    .col(string(Scenarios::PlanId))
                    .col(string(Scenarios::Id))
                    .col(text(Scenarios::Title))
                    .col(string(Scenarios::Kind))
                    .col(text(Scenarios::Definition))
                    .primary_key(Index::create().col(Scenarios::PlanId).col(Scenarios::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Drills::Table)
                    .col(big_integer(Drills::Id).auto_increment().primary_key())
                    .col(string(Drills::PlanId))
                    .col(string_null(Drills::ScenarioId))
                    .col(text(Drills::Title))
                    .col(text(Drills::Definition))
                    .col(string_null(Drills::Facilitator))
                    .col(text(Drills::Participants))
                    .col(text(Drills::Location))
                    .col(text(Drills::Schedule))
                    .col(string(Drills::TimeZone))
                    .col(integer(Drills::InviteDaysBefore))
                    .col(string(Drills::CreatedBy))
                    .col(timestamp_with_time_zone(Drills::CreatedAt))
                    .col(boolean(Drills::Cancelled))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DrillOccurrences::Table)
                    .col(
                        big_integer(DrillOccurrences::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(DrillOccurrences::DrillId))
                    .col(timestamp_with_time_zone(DrillOccurrences::StartsAt))
                    .col(string(DrillOccurrences::Uid).unique_key())
                    .col(integer(DrillOccurrences::Sequence))
                    .col(string(DrillOccurrences::State))
                    .col(timestamp_with_time_zone_null(DrillOccurrences::InvitedAt))
                    .col(timestamp_with_time_zone_null(DrillOccurrences::RemindedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_drill_occurrences_drill")
                            .from(DrillOccurrences::Table, DrillOccurrences::DrillId)
                            .to(Drills::Table, Drills::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_drill_occurrences_drill_start")
                    .table(DrillOccurrences::Table)
                    .col(DrillOccurrences::DrillId)
                    .col(DrillOccurrences::StartsAt)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_integer(Outbox::Id).auto_increment().primary_key())
                    .col(string(Outbox::MessageId).unique_key())
                    .col(string(Outbox::Kind))
                    .col(big_integer_null(Outbox::OccurrenceId))
                    .col(text(Outbox::ToAddress))
                    .col(text(Outbox::ToName))
                    .col(text(Outbox::Subject))
                    .col(text(Outbox::BodyText))
                    .col(text(Outbox::BodyHtml))
                    .col(text_null(Outbox::Ics))
                    .col(string(Outbox::State))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                    .col(text(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_state_next")
                    .table(Outbox::Table)
                    .col(Outbox::State)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Outbox::Table.into_iden(),
            DrillOccurrences::Table.into_iden(),
            Drills::Table.into_iden(),
            Scenarios::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
