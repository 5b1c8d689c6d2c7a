//! Spreadsheets uploaded to the import page, kept between the preview and "apply": only the
//! account that uploaded one can read it back, and one is gone when applied or a day old.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::Result;
use super::entities::sheet_uploads;

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
