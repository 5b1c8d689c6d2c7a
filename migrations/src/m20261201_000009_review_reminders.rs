//! Review reminders: for each system section past its review date, when its owner and deputy
//! were last reminded of that date, so that each reminder goes out once per cadence.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReviewReminders {
    Table,
    PlanId,
    SystemId,
    /// The review date that was missed (`never` for a section never reviewed).
    Due,
    LastSentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReviewReminders::Table)
                    .col(string(ReviewReminders::PlanId))
                    .col(string(ReviewReminders::SystemId))
                    .col(string(ReviewReminders::Due))
                    .col(timestamp_with_time_zone(ReviewReminders::LastSentAt))
                    .primary_key(
                        Index::create()
                            .col(ReviewReminders::PlanId)
                            .col(ReviewReminders::SystemId)
                            .col(ReviewReminders::Due),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReviewReminders::Table).to_owned())
            .await
    }
}
