//! Saving a person's entry: an edit, or a new person added to the plan.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter,
};

use super::{Saved, bump_plan};
use crate::domain::diff;
use crate::domain::{Person, PlanId};
use crate::store::db::insert_all;
use crate::store::entities::{people, person_roles};
use crate::store::plans::load_plan;
use crate::store::{Result, audit, begin_write};

/// One person of a plan with the revision they are at.
pub async fn load_person(
    db: &impl ConnectionTrait,
    plan: &PlanId,
    person: &str,
) -> Result<Option<(Person, i64)>> {
    let Some(row) = people::Entity::find_by_id((plan.to_string(), person.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let loaded = load_plan(db, plan).await?;
    Ok(loaded
        .and_then(|p| p.people.into_iter().find(|p| p.id.as_str() == person))
        .map(|p| (p, row.revision)))
}

/// Saves a person's entry if it is still at `expected`; `expected = None` adds a new person
/// (refused as a conflict if the id has been taken meanwhile).
pub async fn save_person(
    db: &DatabaseConnection,
    plan: &PlanId,
    actor: &str,
    person: &Person,
    expected: Option<i64>,
) -> Result<Saved<Option<Person>>> {
    let txn = begin_write(db).await?;
    let Some(revision) = bump_plan(&txn, plan, false).await? else {
        return Ok(Saved::Gone);
    };
    let stored = load_person(&txn, plan, person.id.as_str()).await?;
    let position = match (&stored, expected) {
        (Some((_, at)), Some(expected)) if *at == expected => None,
        (None, None) => Some(
            people::Entity::find()
                .filter(people::Column::PlanId.eq(plan.as_str()))
                .count(&txn)
                .await?,
        ),
        (None, Some(_)) => return Ok(Saved::Gone),
        (current, _) => {
            let (current, revision) = current.clone().map_or((None, 0), |(p, r)| (Some(p), r));
            return Ok(Saved::Conflict { current, revision });
        }
    };
    let before = stored.as_ref().map(|(p, _)| p);
    let changes = diff::person_changes(before, person);
    if changes.is_empty() {
        return Ok(Saved::Done {
            revision: stored.map_or(0, |(_, r)| r),
            changes,
        });
    }
    let pid = plan.as_str();
    let id = person.id.as_str();
    match position {
        None => {
            people::Entity::update_many()
                .col_expr(people::Column::Name, Expr::value(person.name.clone()))
                .col_expr(people::Column::Title, Expr::value(person.title.clone()))
                .col_expr(people::Column::Email, Expr::value(person.email.clone()))
                .col_expr(people::Column::Phone, Expr::value(person.phone.clone()))
                .col_expr(people::Column::Revision, Expr::value(revision))
                .filter(people::Column::PlanId.eq(pid))
                .filter(people::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
        Some(count) => {
            people::Entity::insert(
                people::Model {
                    plan_id: pid.to_string(),
                    id: id.to_string(),
                    position: i32::try_from(count).unwrap_or(i32::MAX),
                    name: person.name.clone(),
                    title: person.title.clone(),
                    email: person.email.clone(),
                    phone: person.phone.clone(),
                    revision,
                }
                .into_active_model(),
            )
            .exec_without_returning(&txn)
            .await?;
        }
    }
    person_roles::Entity::delete_many()
        .filter(person_roles::Column::PlanId.eq(pid))
        .filter(person_roles::Column::PersonId.eq(id))
        .exec(&txn)
        .await?;
    insert_all(
        &txn,
        person
            .roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                person_roles::Model {
                    plan_id: pid.to_string(),
                    person_id: id.to_string(),
                    position: i32::try_from(i).unwrap_or(i32::MAX),
                    role_id: r.to_string(),
                }
                .into_active_model()
            })
            .collect(),
    )
    .await?;
    audit::record(&txn, actor, plan, "edit-person", &changes).await?;
    txn.commit().await?;
    Ok(Saved::Done { revision, changes })
}
