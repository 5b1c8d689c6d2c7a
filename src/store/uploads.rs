//! Spreadsheets uploaded to the import page, kept between the preview and "apply": only the
//! account that uploaded one can read it back, and one is gone when applied or a day old. And
//! the columns a plan reads otherwise than their headers say, as its coordinator chose.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::Result;
use super::entities::{sheet_columns, sheet_uploads};

pub type Upload = sheet_uploads::Model;

/// How long an upload waits for its "apply".
pub const KEPT_FOR: Duration = Duration::hours(24);

/// Keeps `upload`, and removes the uploads older than [`KEPT_FOR`].
pub async fn put(db: &impl ConnectionTrait, upload: Upload) -> Result<()> {
    sheet_uploads::Entity::delete_many()
        .filter(sheet_uploads::Column::CreatedAt.lt(upload.created_at - KEPT_FOR))
        .exec(db)
        .await?;
    sheet_uploads::Entity::insert(sheet_uploads::ActiveModel {
        id: Set(upload.id),
        plan_id: Set(upload.plan_id),
        username: Set(upload.username),
        file_name: Set(upload.file_name),
        sheet: Set(upload.sheet),
        leave_out: Set(upload.leave_out),
        create_people: Set(upload.create_people),
        columns: Set(upload.columns),
        content: Set(upload.content),
        created_at: Set(upload.created_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The upload `id` of `plan` by `username`, if it is there and not older than [`KEPT_FOR`].
pub async fn get(
    db: &impl ConnectionTrait,
    id: &str,
    plan: &str,
    username: &str,
    now: DateTime<Utc>,
) -> Result<Option<Upload>> {
    Ok(sheet_uploads::Entity::find_by_id(id.to_string())
        .filter(sheet_uploads::Column::PlanId.eq(plan))
        .filter(sheet_uploads::Column::Username.eq(username))
        .filter(sheet_uploads::Column::CreatedAt.gte(now - KEPT_FOR))
        .one(db)
        .await?)
}

/// Removes upload `id`.
pub async fn remove(db: &impl ConnectionTrait, id: &str) -> Result<()> {
    sheet_uploads::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?;
    Ok(())
}

/// Sets the columns chosen for upload `id` (JSON).
pub async fn set_columns(db: &impl ConnectionTrait, id: &str, columns: String) -> Result<()> {
    sheet_uploads::Entity::update_many()
        .col_expr(
            sheet_uploads::Column::Columns,
            sea_orm::sea_query::Expr::value(columns),
        )
        .filter(sheet_uploads::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The columns plan `plan` reads otherwise than their headers say: header (trimmed, lower
/// case) and field key, or `None` for a column not read.
pub async fn columns(
    db: &impl ConnectionTrait,
    plan: &str,
) -> Result<Vec<(String, Option<String>)>> {
    Ok(sheet_columns::Entity::find()
        .filter(sheet_columns::Column::PlanId.eq(plan))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.header, c.field))
        .collect())
}

/// Keeps `chosen` as plan `plan`'s columns, replacing what it had for those headers, in one
/// transaction.
pub async fn save_columns(
    db: &sea_orm::DatabaseConnection,
    plan: &str,
    chosen: &[(String, Option<String>)],
) -> Result<()> {
    let txn = super::begin_write(db).await?;
    for (header, field) in chosen {
        sheet_columns::Entity::delete_many()
            .filter(sheet_columns::Column::PlanId.eq(plan))
            .filter(sheet_columns::Column::Header.eq(header.as_str()))
            .exec(&txn)
            .await?;
        sheet_columns::Entity::insert(sheet_columns::ActiveModel {
            plan_id: Set(plan.to_string()),
            header: Set(header.clone()),
            field: Set(field.clone()),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
