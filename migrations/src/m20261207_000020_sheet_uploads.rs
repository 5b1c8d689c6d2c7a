//! A spreadsheet uploaded to the import page, kept between its preview and the coordinator's
//! "apply" (on any server of the installation), and removed when applied or a day old; and the
//! columns a plan's coordinator chose to read otherwise than their headers say, kept for the
//! next sheet.

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
    /// The fields chosen for its columns on the page (JSON: header → field key or null).
    Columns,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SheetColumns {
    Table,
    PlanId,
    /// The header as the sheet writes it, trimmed and in lower case.
    Header,
    /// The field its column is read as (`rto`, …), or null: not read.
    Field,
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
                    .col(text(SheetUploads::Columns).default("{}"))
                    .col(blob(SheetUploads::Content))
                    .col(timestamp_with_time_zone(SheetUploads::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SheetColumns::Table)
                    .col(string(SheetColumns::PlanId))
                    .col(string(SheetColumns::Header))
                    .col(string_null(SheetColumns::Field))
                    .primary_key(
                        Index::create()
                            .col(SheetColumns::PlanId)
                            .col(SheetColumns::Header),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SheetColumns::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SheetUploads::Table).to_owned())
            .await
    }
}
