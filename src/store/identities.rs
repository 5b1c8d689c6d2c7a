//! The identities accounts sign in with at an identity provider (issuer and subject), and the
//! plan person a new account of such an identity is linked to.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::Result;
use super::accounts::{self, Account};
use super::entities::{account_identities, people};

/// The account that identity (`issuer`, `subject`) belongs to.
pub async fn account_of(
    db: &impl ConnectionTrait,
    issuer: &str,
    subject: &str,
) -> Result<Option<Account>> {
    let Some(row) = account_identities::Entity::find()
        .filter(account_identities::Column::Issuer.eq(issuer))
        .filter(account_identities::Column::Subject.eq(subject))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    accounts::find(db, row.account_id).await
}

/// Gives `account_id` the identity (`issuer`, `subject`) of `protocol`.
pub async fn add(
    db: &impl ConnectionTrait,
    account_id: i64,
    protocol: &str,
    issuer: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    account_identities::Entity::insert(account_identities::ActiveModel {
        id: NotSet,
        account_id: Set(account_id),
        protocol: Set(protocol.to_string()),
        issuer: Set(issuer.to_string()),
        subject: Set(subject.to_string()),
        created_at: Set(now),
        last_sign_in_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Records a sign-in with the identity.
pub async fn touch(
    db: &impl ConnectionTrait,
    issuer: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    account_identities::Entity::update_many()
        .col_expr(account_identities::Column::LastSignInAt, Expr::value(now))
        .filter(account_identities::Column::Issuer.eq(issuer))
        .filter(account_identities::Column::Subject.eq(subject))
        .exec(db)
        .await?;
    Ok(())
}

/// The ids of the plan people whose e-mail address is `email` (letter case aside), each once,
/// in order.
pub async fn people_with_email(db: &impl ConnectionTrait, email: &str) -> Result<Vec<String>> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Ok(Vec::new());
    }
    let rows = people::Entity::find()
        .filter(ExprTrait::eq(
            Expr::expr(Func::lower(Expr::col(people::Column::Email))),
            email,
        ))
        .order_by_asc(people::Column::PlanId)
        .order_by_asc(people::Column::Id)
        .all(db)
        .await?;
    let mut ids: Vec<String> = Vec::new();
    for row in rows {
        if !ids.contains(&row.id) {
            ids.push(row.id);
        }
    }
    Ok(ids)
}
