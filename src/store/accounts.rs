//! Accounts, their browser sessions and API tokens, and failed logins (the login throttle).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::entities::{
    accounts, api_tokens, group_mappings, login_failures, memberships, sessions,
};
use super::{Result, StoreError};
use crate::domain::access::{AccessRole, Membership};

/// A stored account. The password hash never leaves the store except for verification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// The installation's administrator (`accounts.role` is `administrator`, else `member`).
    pub administrator: bool,
    /// The plans it may see, and its roles in each.
    #[serde(default)]
    pub memberships: Vec<Membership>,
    pub person_id: Option<String>,
    pub language: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// A break-glass account keeps password sign-in when local sign-in is otherwise off.
    #[serde(default)]
    pub break_glass: bool,
    /// Has a confirmed TOTP second factor.
    #[serde(default)]
    pub has_second_factor: bool,
    /// Has a local password: an account made at its first sign-in through the identity
    /// provider has none (until an administrator gives it one).
    #[serde(default)]
    pub has_password: bool,
}

/// What `accounts.role` holds: the installation's administrator, or a member of plans.
const ADMINISTRATOR: &str = "administrator";
const MEMBER: &str = "member";
/// `memberships.plan_id` and `group_mappings.plan_id` of every plan.
const EVERY_PLAN: &str = "*";

fn account(row: accounts::Model, memberships: Vec<Membership>) -> Result<(Account, String)> {
    if row.role != ADMINISTRATOR && row.role != MEMBER {
        return Err(StoreError::Corrupt {
            table: "accounts",
            key: row.username,
            reason: format!("unknown role {:?}", row.role),
        });
    }
    Ok((
        Account {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            administrator: row.role == ADMINISTRATOR,
            memberships,
            person_id: row.person_id,
            language: row.language,
            active: row.active,
            created_at: row.created_at,
            break_glass: row.break_glass,
            has_second_factor: row.totp_secret.is_some(),
            has_password: !row.password_hash.is_empty(),
        },
        row.password_hash,
    ))
}

/// A stored membership row as the domain's membership; `None` for a role that is not a plan's.
fn membership(plan_id: &str, role: &str, source: &str) -> Option<Membership> {
    Some(Membership {
        plan: (plan_id != EVERY_PLAN).then(|| plan_id.to_string()),
        role: AccessRole::parse_in_plan(role)?,
        group: (!source.is_empty()).then(|| source.to_string()),
    })
}

/// The memberships of these accounts, by account, in a stable order.
async fn memberships_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, Vec<Membership>>> {
    let mut by_account: std::collections::HashMap<i64, Vec<Membership>> = Default::default();
    let rows = memberships::Entity::find()
        .filter(memberships::Column::AccountId.is_in(ids))
        .order_by_asc(memberships::Column::Id)
        .all(db)
        .await?;
    for row in rows {
        if let Some(m) = membership(&row.plan_id, &row.role, &row.source) {
            by_account.entry(row.account_id).or_default().push(m);
        }
    }
    for list in by_account.values_mut() {
        list.sort();
        list.dedup();
    }
    Ok(by_account)
}

/// The row's account with its memberships, and its password hash.
async fn with_memberships(
    db: &impl ConnectionTrait,
    row: accounts::Model,
) -> Result<(Account, String)> {
    let held = memberships_of(db, [row.id]).await?.remove(&row.id);
    account(row, held.unwrap_or_default())
}

/// Replaces the account's memberships of one kind: those an administrator gave (`group`
/// `None` in each), or those that came from identity-provider groups.
pub async fn set_memberships(
    db: &impl ConnectionTrait,
    account_id: i64,
    from_groups: bool,
    held: &[Membership],
) -> Result<()> {
    let kind = if from_groups {
        memberships::Column::Source.ne("")
    } else {
        memberships::Column::Source.eq("")
    };
    memberships::Entity::delete_many()
        .filter(memberships::Column::AccountId.eq(account_id))
        .filter(kind)
        .exec(db)
        .await?;
    let mut rows: Vec<&Membership> = held
        .iter()
        .filter(|m| m.group.is_some() == from_groups && m.role != AccessRole::Administrator)
        .collect();
    rows.sort();
    rows.dedup();
    if rows.is_empty() {
        return Ok(());
    }
    memberships::Entity::insert_many(rows.into_iter().map(|m| memberships::ActiveModel {
        id: NotSet,
        account_id: Set(account_id),
        plan_id: Set(m.plan.clone().unwrap_or_else(|| EVERY_PLAN.to_string())),
        role: Set(m.role.as_str().to_string()),
        source: Set(m.group.clone().unwrap_or_default()),
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A row of the group mapping: members of identity-provider group `group` get `role` in `plan`
/// (`None`: every plan).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct GroupMapping {
    pub group: String,
    pub plan: Option<String>,
    pub role: AccessRole,
}

/// The group mapping an administrator keeps, ordered by group, plan and role, each with its id.
pub async fn group_mappings(db: &impl ConnectionTrait) -> Result<Vec<(i64, GroupMapping)>> {
    let rows = group_mappings::Entity::find()
        .order_by_asc(group_mappings::Column::GroupName)
        .order_by_asc(group_mappings::Column::PlanId)
        .order_by_asc(group_mappings::Column::Role)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let m = membership(&row.plan_id, &row.role, "")?;
            Some((
                row.id,
                GroupMapping {
                    group: row.group_name,
                    plan: m.plan,
                    role: m.role,
                },
            ))
        })
        .collect())
}

/// Adds a row to the group mapping; `false` if it was there already.
pub async fn group_mapping_add(db: &impl ConnectionTrait, mapping: &GroupMapping) -> Result<bool> {
    let plan = mapping
        .plan
        .clone()
        .unwrap_or_else(|| EVERY_PLAN.to_string());
    let exists = group_mappings::Entity::find()
        .filter(group_mappings::Column::GroupName.eq(&mapping.group))
        .filter(group_mappings::Column::PlanId.eq(&plan))
        .filter(group_mappings::Column::Role.eq(mapping.role.as_str()))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(false);
    }
    group_mappings::Entity::insert(group_mappings::ActiveModel {
        id: NotSet,
        group_name: Set(mapping.group.clone()),
        plan_id: Set(plan),
        role: Set(mapping.role.as_str().to_string()),
    })
    .exec(db)
    .await?;
    Ok(true)
}

/// Removes row `id` of the group mapping, returning it; `None` if there was no such row.
pub async fn group_mapping_remove(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<GroupMapping>> {
    let found = group_mappings(db)
        .await?
        .into_iter()
        .find(|(i, _)| *i == id);
    if found.is_some() {
        group_mappings::Entity::delete_by_id(id).exec(db).await?;
    }
    Ok(found.map(|(_, m)| m))
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub administrator: bool,
    /// Memberships an administrator gives (see `set_memberships` for those from groups).
    pub memberships: Vec<Membership>,
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
        role: Set(if new.administrator {
            ADMINISTRATOR
        } else {
            MEMBER
        }
        .to_string()),
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
    set_memberships(db, id, false, &new.memberships).await?;
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
    match accounts::Entity::find()
        .filter(accounts::Column::Username.eq(username))
        .one(db)
        .await?
    {
        Some(row) => Ok(Some(with_memberships(db, row).await?)),
        None => Ok(None),
    }
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Account>> {
    match accounts::Entity::find_by_id(id).one(db).await? {
        Some(row) => Ok(Some(with_memberships(db, row).await?.0)),
        None => Ok(None),
    }
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
    let rows = accounts::Entity::find()
        .order_by_asc(accounts::Column::Username)
        .all(db)
        .await?;
    let mut held = memberships_of(db, rows.iter().map(|r| r.id)).await?;
    rows.into_iter()
        .map(|row| {
            let memberships = held.remove(&row.id).unwrap_or_default();
            account(row, memberships).map(|(a, _)| a)
        })
        .collect()
}

/// What an administrator can change about an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChange {
    pub display_name: String,
    pub administrator: bool,
    /// The memberships an administrator gives; those from groups stay as they are.
    pub memberships: Vec<Membership>,
    pub person_id: Option<String>,
    pub active: bool,
    pub break_glass: bool,
}

pub async fn update(db: &impl ConnectionTrait, id: i64, change: AccountChange) -> Result<bool> {
    let row = accounts::ActiveModel {
        id: Set(id),
        display_name: Set(change.display_name),
        role: Set(if change.administrator {
            ADMINISTRATOR
        } else {
            MEMBER
        }
        .to_string()),
        person_id: Set(change.person_id),
        active: Set(change.active),
        break_glass: Set(change.break_glass),
        ..Default::default()
    };
    match accounts::Entity::update(row).exec(db).await {
        Ok(_) => {
            set_memberships(db, id, false, &change.memberships).await?;
            Ok(true)
        }
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

/// A live session as `session_load_with_account` reads it.
#[derive(Debug)]
pub struct LoadedSession {
    pub data: String,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    /// The account its data names, with whether its person owns or deputises a system.
    pub account: Option<(Account, bool)>,
}

/// A live session's data and expiry, with the account its data names (`"account": id`) as
/// stored now, in one query: what every signed-in request needs first.
pub async fn session_load_with_account(
    db: &impl ConnectionTrait,
    id: &str,
    now: i64,
) -> Result<Option<LoadedSession>> {
    use sea_orm::{FromQueryResult, IdenStatic, Iterable};
    let backend = db.get_database_backend();
    // The account's memberships come along as a JSON array of [plan, role, source].
    let (account_id, held) = if backend == sea_orm::DbBackend::Postgres {
        (
            "(s.data::jsonb ->> 'account')::bigint",
            "COALESCE(json_agg(json_build_array(m.plan_id, m.role, m.source)), '[]'::json)::text",
        )
    } else {
        (
            "json_extract(s.data, '$.account')",
            "json_group_array(json_array(m.plan_id, m.role, m.source))",
        )
    };
    let (p1, p2) = (super::db::param(backend, 1), super::db::param(backend, 2));
    let columns: Vec<String> = accounts::Column::iter()
        .map(|c| format!("a.{0} AS a_{0}", c.as_str()))
        .collect();
    let sql = format!(
        "SELECT s.data AS session_data, s.expires_at AS session_expires, \
         s.last_used_at AS session_last_used, \
         EXISTS (SELECT 1 FROM systems y WHERE (y.owner = a.person_id OR y.deputy = a.person_id) \
           AND (a.role = '{ADMINISTRATOR}' OR EXISTS (SELECT 1 FROM memberships v \
             WHERE v.account_id = a.id AND (v.plan_id = y.plan_id OR v.plan_id = '{EVERY_PLAN}')))) \
         AS owns_systems, \
         (SELECT {held} FROM memberships m WHERE m.account_id = a.id) AS memberships, {} \
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
    let last_used: Option<i64> = row.try_get("", "session_last_used")?;
    let account = match accounts::Model::from_query_result_optional(&row, "a_")? {
        Some(model) => {
            let owns: bool = row.try_get("", "owns_systems")?;
            let held: Option<String> = row.try_get("", "memberships")?;
            let rows: Vec<[String; 3]> = held
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| StoreError::Corrupt {
                    table: "memberships",
                    key: model.username.clone(),
                    reason: e.to_string(),
                })?
                .unwrap_or_default();
            let mut memberships: Vec<Membership> = rows
                .iter()
                .filter_map(|[plan, role, source]| membership(plan, role, source))
                .collect();
            memberships.sort();
            memberships.dedup();
            Some((account(model, memberships)?.0, owns))
        }
        None => None,
    };
    Ok(Some(LoadedSession {
        data,
        expires_at: expires,
        last_used_at: last_used,
        account,
    }))
}

/// Whether the account's person owns or deputises for a system of a plan the account may see.
pub async fn owns_systems(db: &impl ConnectionTrait, account: &Account) -> Result<bool> {
    use super::entities::systems;
    use sea_orm::Condition;
    let Some(person) = account.person_id.as_deref() else {
        return Ok(false);
    };
    let mut query = systems::Entity::find().filter(
        Condition::any()
            .add(systems::Column::Owner.eq(person))
            .add(systems::Column::Deputy.eq(person)),
    );
    // Only in the plans the account may see.
    if !account.administrator && account.memberships.iter().all(|m| m.plan.is_some()) {
        let plans: Vec<&str> = account
            .memberships
            .iter()
            .filter_map(|m| m.plan.as_deref())
            .collect();
        query = query.filter(systems::Column::PlanId.is_in(plans));
    }
    Ok(query.count(db).await? > 0)
}

/// A session as written: its data and expiry, and what its owner is shown of it.
#[derive(Debug, Clone, Default)]
pub struct SessionRow {
    pub id: String,
    pub data: String,
    pub expires_at: i64,
    pub account_id: Option<i64>,
    pub opened_at: Option<i64>,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
    /// Unix seconds: now.
    pub now: i64,
}

fn session_model(row: SessionRow) -> sessions::ActiveModel {
    sessions::ActiveModel {
        id: Set(row.id),
        data: Set(row.data),
        expires_at: Set(row.expires_at),
        account_id: Set(row.account_id),
        opened_at: Set(row.opened_at),
        last_used_at: Set(Some(row.now)),
        client_addr: Set(row.client_addr),
        user_agent: Set(row.user_agent),
    }
}

/// Every column but the id: what a save writes.
const SESSION_COLUMNS: [sessions::Column; 7] = [
    sessions::Column::Data,
    sessions::Column::ExpiresAt,
    sessions::Column::AccountId,
    sessions::Column::OpenedAt,
    sessions::Column::LastUsedAt,
    sessions::Column::ClientAddr,
    sessions::Column::UserAgent,
];

/// Inserts a new session; `false` if the id is taken.
pub async fn session_create(db: &impl ConnectionTrait, row: SessionRow) -> Result<bool> {
    let inserted = sessions::Entity::insert(session_model(row))
        .on_conflict(
            OnConflict::column(sessions::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted > 0)
}

pub async fn session_save(db: &impl ConnectionTrait, row: SessionRow) -> Result<()> {
    sessions::Entity::insert(session_model(row))
        .on_conflict(
            OnConflict::column(sessions::Column::Id)
                .update_columns(SESSION_COLUMNS)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Seconds between two updates of a session's or a token's last use.
pub const TOUCH_SECONDS: i64 = 60;

/// Records that session `id` was used at `now` (unix seconds), unless that was recorded less
/// than a minute ago; the condition is in the statement, so several servers agree.
pub async fn session_touch(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::LastUsedAt, now.into())
        .filter(sessions::Column::Id.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(sessions::Column::LastUsedAt.is_null())
                .add(sessions::Column::LastUsedAt.lte(now - TOUCH_SECONDS)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// A signed-in session as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: String,
    pub opened_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub client_addr: Option<String>,
    pub user_agent: Option<String>,
}

/// The live sessions of an account, the one used last first.
pub async fn sessions_of_account(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: i64,
) -> Result<Vec<SessionInfo>> {
    Ok(sessions::Entity::find()
        .filter(sessions::Column::AccountId.eq(account_id))
        .filter(sessions::Column::ExpiresAt.gt(now))
        .order_by_desc(sessions::Column::LastUsedAt)
        .order_by_desc(sessions::Column::OpenedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            id: s.id,
            opened_at: s.opened_at,
            last_used_at: s.last_used_at,
            client_addr: s.client_addr,
            user_agent: s.user_agent,
        })
        .collect())
}

/// Ends session `id` if it belongs to `account_id`; whether it did.
pub async fn session_of_account_end(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: &str,
) -> Result<bool> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::Id.eq(id))
        .filter(sessions::Column::AccountId.eq(account_id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
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

/// Ends every session of an account (after a password change or deactivation); returns how
/// many.
pub async fn sessions_of_account_end(db: &impl ConnectionTrait, account_id: i64) -> Result<u64> {
    let mut ended = sessions::Entity::delete_many()
        .filter(sessions::Column::AccountId.eq(account_id))
        .exec(db)
        .await?
        .rows_affected;
    // Sessions signed in before the account was a column of its own hold it only in their
    // JSON data (`"account":<id>`); a LIKE on it is exact enough because the id is followed by
    // a delimiter.
    for pattern in [
        format!("%\"account\":{account_id},%"),
        format!("%\"account\":{account_id}}}%"),
    ] {
        ended += sessions::Entity::delete_many()
            .filter(sessions::Column::Data.like(pattern))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(ended)
}

/// A personal API token as its owner sees it (never the token itself: only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

fn api_token(row: api_tokens::Model) -> ApiToken {
    ApiToken {
        id: row.id,
        account_id: row.account_id,
        name: row.name,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
    }
}

/// A new token of `account_id`, by its hash.
pub struct NewToken {
    pub account_id: i64,
    pub name: String,
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn token_create(db: &impl ConnectionTrait, new: NewToken) -> Result<i64> {
    let row = api_tokens::ActiveModel {
        id: NotSet,
        account_id: Set(new.account_id),
        name: Set(new.name),
        token_hash: Set(new.hash),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        last_used_at: Set(None),
    };
    Ok(api_tokens::Entity::insert(row)
        .exec(db)
        .await?
        .last_insert_id)
}

/// The tokens of an account, newest first.
pub async fn tokens_of_account(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<Vec<ApiToken>> {
    Ok(api_tokens::Entity::find()
        .filter(api_tokens::Column::AccountId.eq(account_id))
        .order_by_desc(api_tokens::Column::CreatedAt)
        .order_by_desc(api_tokens::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(api_token)
        .collect())
}

/// Revokes token `id` if it belongs to `account_id`; the token revoked.
pub async fn token_revoke(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: i64,
) -> Result<Option<ApiToken>> {
    let Some(row) = api_tokens::Entity::find_by_id(id)
        .filter(api_tokens::Column::AccountId.eq(account_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    api_tokens::Entity::delete_by_id(id).exec(db).await?;
    Ok(Some(api_token(row)))
}

/// Revokes every token of an account; returns how many.
pub async fn tokens_of_account_revoke(db: &impl ConnectionTrait, account_id: i64) -> Result<u64> {
    Ok(api_tokens::Entity::delete_many()
        .filter(api_tokens::Column::AccountId.eq(account_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// The token with this hash and its account.
pub async fn find_by_token_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<(ApiToken, Account)>> {
    let Some(token) = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(find(db, token.account_id)
        .await?
        .map(|account| (api_token(token), account)))
}

/// Records that token `id` was used at `now`, unless that was recorded less than a minute
/// before (the condition is in the statement, so several servers agree).
pub async fn token_touch(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> Result<()> {
    api_tokens::Entity::update_many()
        .col_expr(api_tokens::Column::LastUsedAt, now.into())
        .filter(api_tokens::Column::Id.eq(id))
        .filter(
            sea_orm::Condition::any()
                .add(api_tokens::Column::LastUsedAt.is_null())
                .add(
                    api_tokens::Column::LastUsedAt
                        .lte(now - chrono::Duration::seconds(TOUCH_SECONDS)),
                ),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// When `username` (lowercased) failed to sign in at or after `since`, oldest first.
pub async fn login_failures_since(
    db: &impl ConnectionTrait,
    username: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>> {
    Ok(login_failures::Entity::find()
        .filter(login_failures::Column::Username.eq(username))
        .filter(login_failures::Column::FailedAt.gt(since))
        .order_by_asc(login_failures::Column::FailedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.failed_at)
        .collect())
}

pub async fn login_failure_add(
    db: &impl ConnectionTrait,
    username: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    login_failures::Entity::insert(login_failures::ActiveModel {
        id: NotSet,
        username: Set(username.to_string()),
        failed_at: Set(at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Forgets the failures of `username` (after it signed in).
pub async fn login_failures_clear(db: &impl ConnectionTrait, username: &str) -> Result<()> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::Username.eq(username))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes failures at or before `before`; returns how many.
pub async fn login_failures_expire(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64> {
    Ok(login_failures::Entity::delete_many()
        .filter(login_failures::Column::FailedAt.lte(before))
        .exec(db)
        .await?
        .rows_affected)
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
