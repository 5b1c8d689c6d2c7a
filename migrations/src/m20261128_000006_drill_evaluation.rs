//! The hot wash (evaluation) of a drill occurrence and the reminder when it is late.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DrillOccurrences {
    Table,
    WentWell,
    WentBadly,
    Lessons,
    EvaluatedAt,
    EvaluationRemindedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in [
            text_null(DrillOccurrences::WentWell),
            text_null(DrillOccurrences::WentBadly),
            text_null(DrillOccurrences::Lessons),
            timestamp_with_time_zone_null(DrillOccurrences::EvaluatedAt),
            timestamp_with_time_zone_null(DrillOccurrences::EvaluationRemindedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(DrillOccurrences::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            DrillOccurrences::EvaluationRemindedAt.into_iden(),
            DrillOccurrences::EvaluatedAt.into_iden(),
            DrillOccurrences::Lessons.into_iden(),
            DrillOccurrences::WentBadly.into_iden(),
            DrillOccurrences::WentWell.into_iden(),
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
