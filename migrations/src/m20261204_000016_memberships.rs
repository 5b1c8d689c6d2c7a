//! Roles per plan: an account holds memberships (a plan, or every plan, and a role), given by
//! an administrator or by an identity-provider group; the groups map to memberships through a
//! table an administrator keeps. Administrator stays a role of the installation, in
//! `accounts.role`; every other account's role there becomes `member`, and its old role a
//! membership of every plan that exists at the migration, so nothing changes for anyone. Each
//! outbox message names the plan it is about.

use sea_orm_migration::sea_orm::ConnectionTrait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    AccountId,
    /// A plan's id, or `*` for every plan (today's and later ones).
    PlanId,
    Role,
    /// The identity-provider group it comes from; empty when an administrator gave it.
    Source,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    /// The plan a message is about: the outbox shows each plan's to those who may see it.
    PlanId,
}

#[derive(DeriveIden)]
enum GroupMappings {
    Table,
    Id,
    /// The group's name or id as the identity provider sends it in the groups claim.
    GroupName,
    /// A plan's id, or `*` for every plan.
    PlanId,
    Role,
}

const MEMBERSHIP_INDEX: &str = "idx_memberships_unique";
const GROUP_INDEX: &str = "idx_group_mappings_unique";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(big_pk_auto(Memberships::Id))
                    .col(big_integer(Memberships::AccountId))
                    .col(string(Memberships::PlanId))
                    .col(string(Memberships::Role))
                    .col(string(Memberships::Source).default(""))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(MEMBERSHIP_INDEX)
                    .table(Memberships::Table)
                    .col(Memberships::AccountId)
                    .col(Memberships::PlanId)
                    .col(Memberships::Role)
                    .col(Memberships::Source)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMappings::Table)
                    .col(big_pk_auto(GroupMappings::Id))
                    .col(string(GroupMappings::GroupName))
                    .col(string(GroupMappings::PlanId))
                    .col(string(GroupMappings::Role))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(GROUP_INDEX)
                    .table(GroupMappings::Table)
                    .col(GroupMappings::GroupName)
                    .col(GroupMappings::PlanId)
                    .col(GroupMappings::Role)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(string_null(Outbox::PlanId))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Drill mail names its plan through the drill; older mail of other kinds stays without
        // one, which only the administrator sees.
        db.execute_unprepared(
            "UPDATE outbox SET plan_id = (SELECT d.plan_id FROM drill_occurrences o \
             JOIN drills d ON d.id = o.drill_id WHERE o.id = outbox.occurrence_id) \
             WHERE occurrence_id IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO memberships (account_id, plan_id, role, source) \
             SELECT a.id, p.id, a.role, '' FROM accounts a CROSS JOIN plans p \
             WHERE a.role <> 'administrator'",
        )
        .await?;
        db.execute_unprepared("UPDATE accounts SET role = 'member' WHERE role <> 'administrator'")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Each member gets back one role: the first it holds in any plan, else viewer.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE accounts SET role = COALESCE((SELECT MIN(m.role) FROM memberships m \
                 WHERE m.account_id = accounts.id), 'viewer') WHERE role = 'member'",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::PlanId)
                    .to_owned(),
            )
            .await?;
        for table in [
            GroupMappings::Table.into_iden(),
            Memberships::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
