//! Accounts and browser sessions.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::entities::{accounts, sessions};
use super::{Result, StoreError};
use crate::domain::access::AccessRole;

/// A stored account. The password hash never leaves the store except for verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: AccessRole,
    pub person_id: Option<String>,
    pub language: Option<String>,
    pub active: bool,
    pub has_api_token: bool,
    pub created_at: DateTime<Utc>,
    /// A break-glass account keeps password sign-in when local sign-in is otherwise off.
    #[serde(default)]
    pub break_glass: bool,
    /// Has a confirmed TOTP second factor.
    #[serde(default)]
    pub has_second_factor: bool,
}

fn account(row: accounts::Model) -> Result<(Account, String)> {
    let Some(role) = AccessRole::parse(&row.role) else {
        return Err(StoreError::Corrupt {
            table: "accounts",
            key: row.username,
            reason: format!("unknown role {:?}", row.role),
        });
    };
    Ok((
        Account {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            role,
            person_id: row.person_id,
            language: row.language,
            active: row.active,
            has_api_token: row.api_token_hash.is_some(),
            created_at: row.created_at,
            break_glass: row.break_glass,
            has_second_factor: row.totp_secret.is_some(),
        },
        row.password_hash,
    ))
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: AccessRole,
    pub person_id: Option<String>,
    pub break_glass: bool,
}

/// Creates an account; `None` if the username is taken.
pub async fn create(db: &impl ConnectionTrait, new: NewAccount) -> Result<Option<i64>> {
    if find_by_username(db, &new.username).await?.is_some() {
        return Ok(None);
    }
    let row = accounts::ActiveModel {
        id: NotSet,
        username: Set(new.username),
        display_name: Set(new.display_name),
        password_hash: Set(new.password_hash),
        role: Set(new.role.as_str().to_string()),
        person_id: Set(new.person_id),
        language: Set(None),
        active: Set(true),
        api_token_hash: Set(None),
        created_at: Set(Utc::now()),
        break_glass: Set(new.break_glass),
        totp_secret: Set(None),
        totp_last_step: Set(None),
    };
    let id = accounts::Entity::insert(row).exec(db).await?.last_insert_id;
    Ok(Some(id))
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(accounts::Entity::find().count(db).await?)
}

/// The account and its password hash.
pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<(Account, String)>> {
    accounts::Entity::find()
        .filter(accounts::Column::Username.eq(username))
        .one(db)
        .await?
        .map(account)
        .transpose()
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Account>> {
    Ok(accounts::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(account)
        .transpose()?
        .map(|(a, _)| a))
}

pub async fn find_by_token_hash(db: &impl ConnectionTrait, hash: &str) -> Result<Option<Account>> {
    Ok(accounts::Entity::find()
        .filter(accounts::Column::ApiTokenHash.eq(hash))
        .one(db)
        .await?
        .map(account)
        .transpose()?
        .map(|(a, _)| a))
}

/// The names people are shown by: each account's display name, by username.
pub struct Names(std::collections::HashMap<String, String>);

impl Names {
    /// The name of account `username` (the username itself for one that is gone, and for
    /// actors that are not accounts, such as the plan import).
    pub fn of(&self, username: &str) -> String {
        self.0
            .get(username)
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
            .unwrap_or(username)
            .to_string()
    }
}

/// Every account's name, by username.
pub async fn names(db: &impl ConnectionTrait) -> Result<Names> {
    Ok(Names(
        list(db)
            .await?
            .into_iter()
            .map(|a| (a.username, a.display_name))
            .collect(),
    ))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<Account>> {
    accounts::Entity::find()
        .order_by_asc(accounts::Column::Username)
        .all(db)
        .await?
        .into_iter()
        .map(|row| account(row).map(|(a, _)| a))
        .collect()
}

/// What an administrator can change about an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChange {
    pub display_name: String,
    pub role: AccessRole,
    pub person_id: Option<String>,
    pub active: bool,
    pub break_glass: bool,
}

pub async fn update(db: &impl ConnectionTrait, id: i64, change: AccountChange) -> Result<bool> {
    let row = accounts::ActiveModel {
        id: Set(id),
        display_name: Set(change.display_name),
        role: Set(change.role.as_str().to_string()),
        person_id: Set(change.person_id),
        active: Set(change.active),
        break_glass: Set(change.break_glass),
        ..Default::default()
    };
    match accounts::Entity::update(row).exec(db).await {
        Ok(_) => Ok(true),
        Err(sea_orm::DbErr::RecordNotUpdated) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn set_password_hash(db: &impl ConnectionTrait, id: i64, hash: String) -> Result<()> {
    accounts::Entity::update(accounts::ActiveModel {
        id: Set(id),
        password_hash: Set(hash),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

pub async fn set_language(db: &impl ConnectionTrait, id: i64, lang: &str) -> Result<()> {
    accounts::Entity::update(accounts::ActiveModel {
        id: Set(id),
        language: Set(Some(lang.to_string())),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The account's TOTP secret (base32) and the last time step accepted, if it has a second
/// factor.
pub async fn second_factor(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(String, Option<i64>)>> {
    Ok(accounts::Entity::find_by_id(id)
        .one(db)
        .await?
        .and_then(|row| Some((row.totp_secret?, row.totp_last_step))))
}

/// Gives the account a second factor (its secret, and the step of the code that confirmed it)
/// with new recovery codes (their hashes), or with `None` removes the factor and its codes.
pub async fn set_second_factor(
    db: &impl ConnectionTrait,
    id: i64,
    factor: Option<(String, i64)>,
    recovery_hashes: Vec<String>,
) -> Result<()> {
    use super::entities::recovery_codes;
    let (secret, step) = factor.map_or((None, None), |(s, n)| (Some(s), Some(n)));
    accounts::Entity::update(accounts::ActiveModel {
        id: Set(id),
        totp_secret: Set(secret),
        totp_last_step: Set(step),
        ..Default::default()
    })
    .exec(db)
    .await?;
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::AccountId.eq(id))
        .exec(db)
        .await?;
    if !recovery_hashes.is_empty() {
        recovery_codes::Entity::insert_many(recovery_hashes.into_iter().map(|hash| {
            recovery_codes::ActiveModel {
                id: NotSet,
                account_id: Set(id),
                code_hash: Set(hash),
                used_at: Set(None),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Takes TOTP time step `step` for the account: `false` when that step or a later one was
/// already taken, so that each code is accepted once (also across servers: one statement).
pub async fn take_totp_step(db: &impl ConnectionTrait, id: i64, step: i64) -> Result<bool> {
    use sea_orm::Condition;
    use sea_orm::sea_query::Expr;
    let result = accounts::Entity::update_many()
        .col_expr(accounts::Column::TotpLastStep, Expr::value(step))
        .filter(accounts::Column::Id.eq(id))
        .filter(accounts::Column::TotpSecret.is_not_null())
        .filter(
            Condition::any()
                .add(accounts::Column::TotpLastStep.is_null())
                .add(accounts::Column::TotpLastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Uses the account's unused recovery code with this hash: `false` if there is none.
pub async fn use_recovery_code(
    db: &impl ConnectionTrait,
    id: i64,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    use super::entities::recovery_codes;
    use sea_orm::sea_query::Expr;
    let result = recovery_codes::Entity::update_many()
        .col_expr(recovery_codes::Column::UsedAt, Expr::value(now))
        .filter(recovery_codes::Column::AccountId.eq(id))
        .filter(recovery_codes::Column::CodeHash.eq(hash))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// How many of the account's recovery codes are still unused.
pub async fn recovery_codes_left(db: &impl ConnectionTrait, id: i64) -> Result<u64> {
    use super::entities::recovery_codes;
    Ok(recovery_codes::Entity::find()
        .filter(recovery_codes::Column::AccountId.eq(id))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// Replaces the account's API token (by its hash); `None` revokes it.
pub async fn set_api_token_hash(
    db: &impl ConnectionTrait,
    id: i64,
    hash: Option<String>,
) -> Result<()> {
    accounts::Entity::update(accounts::ActiveModel {
        id: Set(id),
        api_token_hash: Set(hash),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Replaces the account's calendar feed token (by its hash), in one statement; `None` ends the
/// feed.
pub async fn set_calendar_token_hash(
    db: &impl ConnectionTrait,
    id: i64,
    hash: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    use super::entities::calendar_feeds;
    match hash {
        None => {
            calendar_feeds::Entity::delete_by_id(id).exec(db).await?;
        }
        Some(hash) => {
            calendar_feeds::Entity::insert(calendar_feeds::ActiveModel {
                account_id: Set(id),
                token_hash: Set(hash),
                created_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(calendar_feeds::Column::AccountId)
                    .update_columns([
                        calendar_feeds::Column::TokenHash,
                        calendar_feeds::Column::CreatedAt,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        }
    }
    Ok(())
}

/// Whether the account has a calendar feed.
pub async fn has_calendar_feed(db: &impl ConnectionTrait, id: i64) -> Result<bool> {
    use super::entities::calendar_feeds;
    Ok(calendar_feeds::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some())
}

/// The active account whose calendar feed token has this hash.
pub async fn find_by_calendar_token_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<Account>> {
    use super::entities::calendar_feeds;
    let Some(feed) = calendar_feeds::Entity::find()
        .filter(calendar_feeds::Column::TokenHash.eq(hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(find(db, feed.account_id).await?.filter(|a| a.active))
}

/// A live session's data and expiry, with the account its data names (`"account": id`) as
/// stored now, in one query: what every signed-in request needs first.
pub async fn session_load_with_account(
    db: &impl ConnectionTrait,
    id: &str,
    now: i64,
) -> Result<Option<(String, i64, Option<(Account, bool)>)>> {
    use sea_orm::{FromQueryResult, IdenStatic, Iterable};
    let backend = db.get_database_backend();
    let account_id = if backend == sea_orm::DbBackend::Postgres {
        "(s.data::jsonb ->> 'account')::bigint"
    } else {
        "json_extract(s.data, '$.account')"
    };
    let (p1, p2) = (super::db::param(backend, 1), super::db::param(backend, 2));
    let columns: Vec<String> = accounts::Column::iter()
        .map(|c| format!("a.{0} AS a_{0}", c.as_str()))
        .collect();
    let sql = format!(
        "SELECT s.data AS session_data, s.expires_at AS session_expires, \
         EXISTS (SELECT 1 FROM systems y WHERE y.owner = a.person_id OR y.deputy = a.person_id) \
         AS owns_systems, {} \
         FROM sessions s LEFT JOIN accounts a ON a.id = {account_id} \
         WHERE s.id = {p1} AND s.expires_at > {p2}",
        columns.join(", ")
    );
    let Some(row) = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [id.into(), now.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let data: String = row.try_get("", "session_data")?;
    let expires: i64 = row.try_get("", "session_expires")?;
    let account = match accounts::Model::from_query_result_optional(&row, "a_")? {
        Some(model) => {
            let owns: bool = row.try_get("", "owns_systems")?;
            Some((account(model)?.0, owns))
        }
        None => None,
    };
    Ok(Some((data, expires, account)))
}

/// Whether `person` owns or deputises for a system of any plan.
pub async fn owns_systems(db: &impl ConnectionTrait, person: &str) -> Result<bool> {
    use super::entities::systems;
    use sea_orm::Condition;
    Ok(systems::Entity::find()
        .filter(
            Condition::any()
                .add(systems::Column::Owner.eq(person))
                .add(systems::Column::Deputy.eq(person)),
        )
        .count(db)
        .await?
        > 0)
}

/// Inserts a new session; `false` if the id is taken.
pub async fn session_create(
    db: &impl ConnectionTrait,
    id: &str,
    data: String,
    expires_at: i64,
) -> Result<bool> {
    let row = sessions::ActiveModel {
        id: Set(id.to_string()),
        data: Set(data),
        expires_at: Set(expires_at),
    };
    let inserted = sessions::Entity::insert(row)
        .on_conflict(
            OnConflict::column(sessions::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

pub async fn session_save(
    db: &impl ConnectionTrait,
    id: &str,
    data: String,
    expires_at: i64,
) -> Result<()> {
    let row = sessions::ActiveModel {
        id: Set(id.to_string()),
        data: Set(data),
        expires_at: Set(expires_at),
    };
    sessions::Entity::insert(row)
        .on_conflict(
            OnConflict::column(sessions::Column::Id)
                .update_columns([sessions::Column::Data, sessions::Column::ExpiresAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn session_delete(db: &impl ConnectionTrait, id: &str) -> Result<()> {
    sessions::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?;
    Ok(())
}

/// Removes sessions that expired before `now`; returns how many.
pub async fn sessions_expire(db: &impl ConnectionTrait, now: i64) -> Result<u64> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// Ends every session of an account (after a password change or deactivation).
pub async fn sessions_of_account_end(db: &impl ConnectionTrait, account_id: i64) -> Result<()> {
    // Session data is JSON holding `"account":<id>`; a LIKE on it is exact enough because the
    // id is followed by a delimiter.
    for pattern in [
        format!("%\"account\":{account_id},%"),
        format!("%\"account\":{account_id}}}%"),
    ] {
        sessions::Entity::delete_many()
            .filter(sessions::Column::Data.like(pattern))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The language chosen by each account linked to a plan person, by person id.
pub async fn languages_by_person(
    db: &impl ConnectionTrait,
) -> Result<std::collections::HashMap<String, String>> {
    Ok(accounts::Entity::find()
        .filter(accounts::Column::PersonId.is_not_null())
        .filter(accounts::Column::Language.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|a| Some((a.person_id?, a.language?)))
        .collect())
}
