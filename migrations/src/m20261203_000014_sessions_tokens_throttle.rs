//! Sign-in state that several servers on one database share: failed logins per username (the
//! login throttle), personal API tokens (several per account, each named and expiring; the
//! single token an account had moves into them), and what a session shows its owner (account,
//! when opened and last used, from which address and browser).

use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    /// Lowercased, as typed.
    Username,
    FailedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    AccountId,
    Name,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    /// The signed-in account (null for a session before sign-in).
    AccountId,
    /// Unix seconds, like `expires_at`.
    OpenedAt,
    LastUsedAt,
    ClientAddr,
    UserAgent,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    ApiTokenHash,
}

/// The name the single token of an account gets when it moves into `api_tokens`.
const MIGRATED_NAME: &str = "API-nøgle";
/// How long the moved token stays valid from the migration on.
const MIGRATED_DAYS: i64 = 90;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(big_pk_auto(LoginFailures::Id))
                    .col(string(LoginFailures::Username))
                    .col(timestamp_with_time_zone(LoginFailures::FailedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_failures_username")
                    .table(LoginFailures::Table)
                    .col(LoginFailures::Username)
                    .col(LoginFailures::FailedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(big_integer(ApiTokens::AccountId))
                    .col(string(ApiTokens::Name))
                    .col(string(ApiTokens::TokenHash).unique_key())
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone(ApiTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_tokens_account")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::AccountId)
                    .to_owned(),
            )
            .await?;
        // SQLite takes one column per ALTER TABLE.
        for column in [
            big_integer_null(Sessions::AccountId),
            big_integer_null(Sessions::OpenedAt),
            big_integer_null(Sessions::LastUsedAt),
            string_null(Sessions::ClientAddr),
            string_null(Sessions::UserAgent),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("sessions_account")
                    .table(Sessions::Table)
                    .col(Sessions::AccountId)
                    .to_owned(),
            )
            .await?;

        // The single token of each account becomes its first named token.
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let select = Query::select()
            .columns([Accounts::Id, Accounts::ApiTokenHash])
            .from(Accounts::Table)
            .and_where(Expr::col(Accounts::ApiTokenHash).is_not_null())
            .to_owned();
        let rows = db.query_all_raw(backend.build(&select)).await?;
        let now = chrono::Utc::now();
        let expires = now + chrono::Duration::days(MIGRATED_DAYS);
        for row in rows {
            let account: i64 = row.try_get("", "id")?;
            let hash: String = row.try_get("", "api_token_hash")?;
            let insert = Query::insert()
                .into_table(ApiTokens::Table)
                .columns([
                    ApiTokens::AccountId,
                    ApiTokens::Name,
                    ApiTokens::TokenHash,
                    ApiTokens::CreatedAt,
                    ApiTokens::ExpiresAt,
                ])
                .values_panic([
                    account.into(),
                    MIGRATED_NAME.into(),
                    hash.into(),
                    now.into(),
                    expires.into(),
                ])
                .to_owned();
            db.execute_raw(backend.build(&insert)).await?;
        }
        let clear = Query::update()
            .table(Accounts::Table)
            .value(Accounts::ApiTokenHash, Option::<String>::None)
            .to_owned();
        db.execute_raw(backend.build(&clear)).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Each account gets back its newest token as its single one.
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        db.execute_raw(Statement::from_string(
            backend,
            "UPDATE accounts SET api_token_hash = (SELECT t.token_hash FROM api_tokens t \
             WHERE t.account_id = accounts.id ORDER BY t.created_at DESC, t.id DESC LIMIT 1)",
        ))
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("sessions_account")
                    .table(Sessions::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Sessions::AccountId,
            Sessions::OpenedAt,
            Sessions::LastUsedAt,
            Sessions::ClientAddr,
            Sessions::UserAgent,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ApiTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await
    }
}
