//! A spreadsheet uploaded to the import page, kept between its preview and the coordinator's
//! "apply" (on any server of the installation), and removed when applied or a day old.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SheetUploads {
    Table,
    /// A random UUID: the preview's form names the upload by it.
    Id,
    PlanId,
    /// Who uploaded it: only they can apply it.
    Username,
    FileName,
    /// The sheet asked for, if not the first.
    Sheet,
    /// Whether the rows with errors are left out.
    LeaveOut,
    /// Whether the people the sheet names that the plan lacks are made.
    CreatePeople,
    Content,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SheetUploads::Table)
                    .col(string(SheetUploads::Id).primary_key())
                    .col(string(SheetUploads::PlanId))
                    .col(string(SheetUploads::Username))
                    .col(string(SheetUploads::FileName))
                    .col(string_null(SheetUploads::Sheet))
                    .col(boolean(SheetUploads::LeaveOut).default(false))
                    .col(boolean(SheetUploads::CreatePeople).default(false))
                    .col(blob(SheetUploads::Content))
                    .col(timestamp_with_time_zone(SheetUploads::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SheetUploads::Table).to_owned())
            .await
    }
}
