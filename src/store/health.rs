//! The facts the dashboard, the annual report and the evidence export count: closed drills with
//! their records, incidents with their outages, action items, review dates and changes. A few
//! queries per plan, whatever its size.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QueryTrait,
};

use super::Result;
use super::drill_rows::{held_at, system_record};
use super::entities::{
    action_items, audit_events, drill_occurrences, drill_records, drills, incident_systems,
    incidents,
};
use crate::domain::PlanId;
use crate::domain::health::{ActionCounts, ActionFacts, HeldDrill, IncidentFacts, ReviewChange};

/// Every closed drill occurrence of the plan (closed at or after `closed_since`, when given) with
/// what was recorded in it, oldest first.
pub async fn held_drills(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    closed_since: Option<DateTime<Utc>>,
) -> Result<Vec<HeldDrill>> {
    let titles: HashMap<i64, (String, bool)> = drills::Entity::find()
        .filter(drills::Column::PlanId.eq(plan.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|d| {
            let test = serde_json::from_str::<crate::domain::drill::Scenario>(&d.definition)
                .is_ok_and(|s| s.kind == crate::domain::drill::DrillKind::CallTreeTest);
            (d.id, (d.title, test))
        })
        .collect();
    let mut held: Vec<HeldDrill> = drill_occurrences::Entity::find()
        .filter(drill_occurrences::Column::DrillId.is_in(titles.keys().copied()))
        .filter(drill_occurrences::Column::ClosedAt.is_not_null())
        .apply_if(closed_since, |q, since| {
            q.filter(drill_occurrences::Column::ClosedAt.gte(since))
        })
        .all(db)
        .await?
        .into_iter()
        .map(|o| HeldDrill {
            occurrence: o.id,
            title: titles
                .get(&o.drill_id)
                .map(|(t, _)| t.clone())
                .unwrap_or_default(),
            held_at: held_at(&o),
            records: HashMap::new(),
            call_tree_test: titles.get(&o.drill_id).is_some_and(|(_, test)| *test),
        })
        .collect();
    held.sort_by_key(|d| (d.held_at, d.occurrence));
    let index: HashMap<i64, usize> = held
        .iter()
        .enumerate()
        .map(|(i, d)| (d.occurrence, i))
        .collect();
    for r in drill_records::Entity::find()
        .filter(drill_records::Column::OccurrenceId.is_in(index.keys().copied()))
        .all(db)
        .await?
    {
        if let Some(&i) = index.get(&r.occurrence_id) {
            held[i]
                .records
                .insert(r.system_id.clone(), system_record(r));
        }
    }
    Ok(held)
}

/// Every incident of the plan with the systems marked down in it, oldest first.
pub async fn incidents(db: &impl ConnectionTrait, plan: &PlanId) -> Result<Vec<IncidentFacts>> {
    let mut out: Vec<IncidentFacts> = incidents::Entity::find()
        .filter(incidents::Column::PlanId.eq(plan.as_str()))
        .order_by_asc(incidents::Column::StartedAt)
        .order_by_asc(incidents::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|i| IncidentFacts {
            id: i.id,
            title: i.title,
            started_at: i.started_at,
            closed_at: i.closed_at,
            outages: Vec::new(),
        })
        .collect();
    let index: HashMap<i64, usize> = out.iter().enumerate().map(|(i, x)| (x.id, i)).collect();
    for o in incident_systems::Entity::find()
        .filter(incident_systems::Column::IncidentId.is_in(index.keys().copied()))
        .order_by_asc(incident_systems::Column::DownAt)
        .all(db)
        .await?
    {
        if let Some(&i) = index.get(&o.incident_id)
            && let Some(outage) = super::incidents::outage(o)
        {
            out[i].outages.push(outage);
        }
    }
    Ok(out)
}

/// The plan's action items, as far as counting goes.
pub async fn actions(db: &impl ConnectionTrait, plan: &PlanId) -> Result<Vec<ActionFacts>> {
    Ok(action_items::Entity::find()
        .filter(action_items::Column::PlanId.eq(plan.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| ActionFacts {
            opened_at: a.created_at,
            due: a.due,
            closed_at: a.closed_at,
        })
        .collect())
}

/// How many of the plan's action items are open, and how many of those are past due on `today`:
/// two counting queries.
pub async fn action_counts(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    today: NaiveDate,
) -> Result<ActionCounts> {
    let open = || {
        action_items::Entity::find()
            .filter(action_items::Column::PlanId.eq(plan.as_str()))
            .filter(action_items::Column::Status.eq(super::actions::OPEN))
    };
    Ok(ActionCounts {
        open: usize::try_from(open().count(db).await?).unwrap_or(usize::MAX),
        overdue: usize::try_from(
            open()
                .filter(action_items::Column::Due.lt(today))
                .count(db)
                .await?,
        )
        .unwrap_or(usize::MAX),
    })
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Every audited change of a section's last-reviewed date, oldest first.
pub async fn review_changes(db: &impl ConnectionTrait, plan: &PlanId) -> Result<Vec<ReviewChange>> {
    Ok(audit_events::Entity::find()
        .filter(audit_events::Column::PlanId.eq(plan.as_str()))
        .filter(audit_events::Column::Field.eq("last_reviewed"))
        .filter(audit_events::Column::SystemId.is_not_null())
        .order_by_asc(audit_events::Column::At)
        .order_by_asc(audit_events::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| ReviewChange {
            system: e.system_id.unwrap_or_default(),
            at: e.at,
            by: e.actor,
            before: date(&e.before),
            after: date(&e.after),
        })
        .collect())
}

/// How many changes to the plan's content (edits of systems, sections and people) were saved in
/// `[from, to)`.
pub async fn changes_between(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<u64> {
    Ok(audit_events::Entity::find()
        .filter(audit_events::Column::PlanId.eq(plan.as_str()))
        .filter(audit_events::Column::Action.starts_with("edit-"))
        .filter(audit_events::Column::At.gte(from))
        .filter(audit_events::Column::At.lt(to))
        .count(db)
        .await?)
}
