//! Every signed-in request asks whether the account's person owns or deputises a system (for
//! the "Mine systemer" link): indexes on a system's owner and deputy keep that a look-up, not a
//! scan of every system.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Systems {
    Table,
    Owner,
    Deputy,
}

const OWNER: &str = "idx_systems_owner";
const DEPUTY: &str = "idx_systems_deputy";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in [(OWNER, Systems::Owner), (DEPUTY, Systems::Deputy)] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Systems::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [OWNER, DEPUTY] {
            manager
                .drop_index(Index::drop().name(name).table(Systems::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
