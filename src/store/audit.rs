//! The audit log: append-only, one row per changed field, written in the transaction of the
//! change it records.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Set,
};

use super::Result;
use super::db::insert_all;
use super::entities::audit_events;
use crate::domain::PlanId;
use crate::domain::diff::{Change, Subject};

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub plan_id: Option<String>,
    pub system_id: Option<String>,
    /// What was done: `edit-system`, `edit-sections`, `approve`, `import`, `account`, …
    pub action: String,
    /// The field, prefixed for people and roles (`person:anne.phone`).
    pub field: String,
    pub before: String,
    pub after: String,
}

/// A field as recorded: system fields as they are, people and roles with their id.
pub fn field_name(change: &Change) -> String {
    match &change.subject {
        Subject::Plan | Subject::System(_) => change.field.to_string(),
        Subject::Person(id) => format!("person:{id}.{}", change.field),
        Subject::Role(id) => format!("role:{id}.{}", change.field),
    }
}

/// A record about to be written.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub actor: String,
    pub plan_id: Option<String>,
    pub system_id: Option<String>,
    pub action: String,
    pub field: String,
    pub before: String,
    pub after: String,
}

/// Records every change of one action to a plan.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &str,
    plan: &PlanId,
    action: &str,
    changes: &[Change],
) -> Result<()> {
    write(
        db,
        changes
            .iter()
            .map(|c| Entry {
                actor: actor.to_string(),
                plan_id: Some(plan.to_string()),
                system_id: c.subject.system().map(str::to_string),
                action: action.to_string(),
                field: field_name(c),
                before: c.before.clone(),
                after: c.after.clone(),
            })
            .collect(),
    )
    .await
}

/// Writes records, all with the same time.
pub async fn write(db: &impl ConnectionTrait, entries: Vec<Entry>) -> Result<()> {
    let at = Utc::now();
    insert_all(
        db,
        entries
            .into_iter()
            .map(|e| audit_events::ActiveModel {
                id: NotSet,
                at: Set(at),
                actor: Set(e.actor),
                plan_id: Set(e.plan_id),
                system_id: Set(e.system_id),
                action: Set(e.action),
                field: Set(e.field),
                before: Set(e.before),
                after: Set(e.after),
            })
            .collect(),
    )
    .await
}

/// Which records to list. Every condition is optional; dates are inclusive, in UTC.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub plan: Option<String>,
    pub actor: Option<String>,
    pub system: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub limit: Option<u64>,
    /// Only records of these plans (records of no plan, such as account changes, are left
    /// out); `None`: every record.
    pub within: Option<Vec<String>>,
}

/// Matching records, newest first.
pub async fn query(db: &impl ConnectionTrait, filter: &AuditFilter) -> Result<Vec<AuditEvent>> {
    use audit_events::Column as C;
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let rows = audit_events::Entity::find()
        .apply_if(filter.plan.clone(), |q, v| q.filter(C::PlanId.eq(v)))
        .apply_if(filter.within.clone(), |q, v| q.filter(C::PlanId.is_in(v)))
        .apply_if(filter.actor.clone(), |q, v| q.filter(C::Actor.eq(v)))
        .apply_if(filter.system.clone(), |q, v| q.filter(C::SystemId.eq(v)))
        .apply_if(filter.from.and_then(start), |q, v| q.filter(C::At.gte(v)))
        .apply_if(
            filter.to.and_then(|d| d.succ_opt()).and_then(start),
            |q, v| q.filter(C::At.lt(v)),
        )
        .order_by_desc(C::At)
        .order_by_desc(C::Id)
        .apply_if(filter.limit, |q, n| q.limit(n))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(event).collect())
}

/// The edits of a plan's fields (from the pages, the API and the import; not approvals) made
/// after `after` and up to `until` (either open), newest first: who changed what, for a diff.
pub async fn plan_edits(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    after: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<AuditEvent>> {
    use audit_events::Column as C;
    Ok(audit_events::Entity::find()
        .filter(C::PlanId.eq(plan.as_str()))
        .filter(C::Action.ne("approve"))
        .apply_if(after, |q, v| q.filter(C::At.gt(v)))
        .apply_if(until, |q, v| q.filter(C::At.lte(v)))
        .order_by_desc(C::At)
        .order_by_desc(C::Id)
        .all(db)
        .await?
        .into_iter()
        .map(event)
        .collect())
}

fn event(r: audit_events::Model) -> AuditEvent {
    AuditEvent {
        id: r.id,
        at: r.at,
        actor: r.actor,
        plan_id: r.plan_id,
        system_id: r.system_id,
        action: r.action,
        field: r.field,
        before: r.before,
        after: r.after,
    }
}

/// Everyone who appears in the log (of the plans `within`, when given), for the filter's
/// choices.
pub async fn actors(db: &impl ConnectionTrait, within: Option<&[String]>) -> Result<Vec<String>> {
    let mut names: Vec<String> = audit_events::Entity::find()
        .apply_if(within.map(<[String]>::to_vec), |q, v| {
            q.filter(audit_events::Column::PlanId.is_in(v))
        })
        .select_only()
        .column(audit_events::Column::Actor)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    names.sort();
    Ok(names)
}
