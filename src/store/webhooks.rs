//! The endpoints a plan's events are posted to: Standard Webhooks endpoints of other systems
//! (with their signing secret) and Teams workflows (whose address is their secret), and the
//! delivery log of each (its messages in the outbox).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::Result;
use super::entities::{outbox as outbox_rows, webhook_endpoints};
use super::outbox::Message;

pub type Endpoint = webhook_endpoints::Model;

/// A Standard Webhooks endpoint.
pub const WEBHOOK: &str = "webhook";
/// A Teams workflow.
pub const TEAMS: &str = "teams";

/// An endpoint to add.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub plan_id: String,
    pub kind: &'static str,
    pub url: String,
    pub secret: String,
    pub description: String,
    pub created_by: String,
}

/// Adds an endpoint (in the caller's transaction); its id.
pub async fn add(db: &impl ConnectionTrait, new: NewEndpoint, now: DateTime<Utc>) -> Result<i64> {
    Ok(
        webhook_endpoints::Entity::insert(webhook_endpoints::ActiveModel {
            id: NotSet,
            plan_id: Set(new.plan_id),
            kind: Set(new.kind.to_string()),
            url: Set(new.url),
            secret: Set(new.secret),
            description: Set(new.description),
            created_at: Set(now),
            created_by: Set(new.created_by),
        })
        .exec(db)
        .await?
        .last_insert_id,
    )
}

/// Removes an endpoint; whether there was one. Its delivery log stays in the outbox.
pub async fn remove(db: &impl ConnectionTrait, id: i64) -> Result<bool> {
    Ok(webhook_endpoints::Entity::delete_by_id(id)
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

pub async fn endpoint(db: &impl ConnectionTrait, id: i64) -> Result<Option<Endpoint>> {
    Ok(webhook_endpoints::Entity::find_by_id(id).one(db).await?)
}

/// A plan's endpoints, oldest first.
pub async fn of_plan(db: &impl ConnectionTrait, plan: &str) -> Result<Vec<Endpoint>> {
    Ok(webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::PlanId.eq(plan))
        .order_by_asc(webhook_endpoints::Column::Id)
        .all(db)
        .await?)
}

/// The newest `limit` messages to endpoint `id`, newest first.
pub async fn deliveries(db: &impl ConnectionTrait, id: i64, limit: u64) -> Result<Vec<Message>> {
    Ok(outbox_rows::Entity::find()
        .filter(outbox_rows::Column::EndpointId.eq(id))
        .order_by_desc(outbox_rows::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
