//! Exercise coverage and reminders: the plan's exercise interval, the systems each approved
//! version changed significantly (to be exercised again), when a drill actually started, and when
//! an overdue action item was last reminded.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plans {
    Table,
    ExerciseIntervalMinutes,
}

#[derive(DeriveIden)]
enum PlanVersions {
    Table,
    ExerciseAfter,
}

#[derive(DeriveIden)]
enum DrillOccurrences {
    Table,
    StartedAt,
}

#[derive(DeriveIden)]
enum ActionItems {
    Table,
    RemindedAt,
}

/// 52 weeks.
const YEAR_MINUTES: i64 = 52 * 7 * 24 * 60;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns: [(DynIden, ColumnDef); 4] = [
            (
                Plans::Table.into_iden(),
                big_integer(Plans::ExerciseIntervalMinutes)
                    .default(YEAR_MINUTES)
                    .to_owned(),
            ),
            (
                PlanVersions::Table.into_iden(),
                text_null(PlanVersions::ExerciseAfter),
            ),
            (
                DrillOccurrences::Table.into_iden(),
                timestamp_with_time_zone_null(DrillOccurrences::StartedAt),
            ),
            (
                ActionItems::Table.into_iden(),
                timestamp_with_time_zone_null(ActionItems::RemindedAt),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns: [(DynIden, DynIden); 4] = [
            (
                ActionItems::Table.into_iden(),
                ActionItems::RemindedAt.into_iden(),
            ),
            (
                DrillOccurrences::Table.into_iden(),
                DrillOccurrences::StartedAt.into_iden(),
            ),
            (
                PlanVersions::Table.into_iden(),
                PlanVersions::ExerciseAfter.into_iden(),
            ),
            (
                Plans::Table.into_iden(),
                Plans::ExerciseIntervalMinutes.into_iden(),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
