//! Accounts that sign in through an identity provider: each identity the provider vouches for
//! (its issuer and the subject it names the person by, which never changes, unlike a username
//! or an e-mail address) belongs to one account. Issuer and subject are what OpenID Connect and
//! SAML both give, so a second protocol uses the same table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AccountIdentities {
    Table,
    Id,
    AccountId,
    /// `oidc` (later also `saml`).
    Protocol,
    /// The provider's issuer (OpenID Connect `iss`, SAML entity id).
    Issuer,
    /// The person at the provider (OpenID Connect `sub`, SAML name id).
    Subject,
    CreatedAt,
    LastSignInAt,
}

const INDEX: &str = "idx_account_identities_issuer_subject";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountIdentities::Table)
                    .col(big_pk_auto(AccountIdentities::Id))
                    .col(big_integer(AccountIdentities::AccountId))
                    .col(string(AccountIdentities::Protocol))
                    .col(text(AccountIdentities::Issuer))
                    .col(text(AccountIdentities::Subject))
                    .col(timestamp_with_time_zone(AccountIdentities::CreatedAt))
                    .col(timestamp_with_time_zone(AccountIdentities::LastSignInAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountIdentities::Table, AccountIdentities::AccountId)
                            .to(Accounts::Table, Accounts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(AccountIdentities::Table)
                    .col(AccountIdentities::Issuer)
                    .col(AccountIdentities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccountIdentities::Table).to_owned())
            .await
    }
}
