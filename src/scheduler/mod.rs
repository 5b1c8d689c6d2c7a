//! The scheduler: a loop that runs every job once a minute (and at once when woken), each job a
//! plain `async fn(&App, now)` that tests call directly. Every send is claimed once in the
//! database, so the jobs are safe to run at any time, as often as wanted, in any number of
//! server processes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::drills::HORIZON_DAYS;
use crate::app::notify::{ActionView, Notice};
use crate::app::{App, Result};
use crate::domain::Plan;
use crate::store;
use crate::store::drills::{Drill, Send};

/// Every job once, in order: occurrences first, so that their invitations go out in the same
/// pass. Returns how many sends were queued (an invitation or reminder of an occurrence, an
/// evaluation, action or review reminder).
pub async fn run(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let drills = store::drills::list(&app.db, None).await?;
    create_occurrences(app, &drills, now).await?;
    let mut queued = invitations(app, &drills, now).await?;
    queued += evaluation_reminders(app, &drills, now).await?;
    queued += action_reminders(app, &drills, now).await?;
    queued += review_reminders(app, now).await?;
    queued += app.dispensation_reminders(now).await?;
    queued += app.escalate_unanswered(now).await?;
    queued += app.play_timed_injects(now).await?;
    if queued > 0 {
        app.mail_queued();
    }
    Ok(queued)
}

/// Creates the occurrences of every drill up to `HORIZON_DAYS` ahead.
pub async fn create_occurrences(app: &App, drills: &[Drill], now: DateTime<Utc>) -> Result<()> {
    for drill in drills.iter().filter(|d| !d.cancelled) {
        match drill.schedule.occurrences(
            drill.time_zone,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(HORIZON_DAYS),
        ) {
            Ok(starts) => store::drills::ensure_occurrences(&app.db, drill, &starts).await?,
            Err(e) => tracing::error!(drill = drill.id, error = %e, "schedule"),
        }
    }
    Ok(())
}

/// Queues each occurrence's invitation once its lead time has begun, and its reminder the day
/// before.
pub async fn invitations(app: &App, drills: &[Drill], now: DateTime<Utc>) -> Result<usize> {
    let mut queued = 0;
    for occurrence in store::drills::upcoming_uninvited(&app.db, now).await? {
        let Some(drill) = live(drills, occurrence.drill_id) else {
            continue;
        };
        let invite_from =
            occurrence.starts_at - chrono::Duration::days(i64::from(drill.invite_days_before));
        let what = if occurrence.invited_at.is_none() {
            if now < invite_from {
                continue;
            }
            Send::Invitation
        } else if now >= occurrence.starts_at - chrono::Duration::days(1) {
            Send::Reminder
        } else {
            continue;
        };
        let messages = occurrence_messages(app, drill, &occurrence, what).await?;
        if store::drills::record_send(
            &app.db,
            occurrence.id,
            occurrence.starts_at,
            what,
            messages,
            now,
        )
        .await?
        {
            queued += 1;
            tracing::info!(
                drill = drill.id,
                occurrence = occurrence.id,
                ?what,
                "queued drill mail"
            );
        }
    }
    Ok(queued)
}

/// Reminds the facilitator, once, of an evaluation not done `evaluation_days` after the drill.
pub async fn evaluation_reminders(
    app: &App,
    drills: &[Drill],
    now: DateTime<Utc>,
) -> Result<usize> {
    let late = now - chrono::Duration::days(i64::from(app.config.evaluation_days));
    let mut queued = 0;
    for occurrence in store::drills::evaluations_due(&app.db, late).await? {
        let Some(drill) = live(drills, occurrence.drill_id).filter(|d| d.facilitator.is_some())
        else {
            continue;
        };
        let messages =
            occurrence_messages(app, drill, &occurrence, Send::EvaluationReminder).await?;
        if store::drills::record_evaluation_reminder(&app.db, occurrence.id, messages, now).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Reminds the owner of every open action item past its due date: the day after the due date,
/// then every `action_reminder_days` while it stays open.
pub async fn action_reminders(app: &App, drills: &[Drill], now: DateTime<Utc>) -> Result<usize> {
    let today = app.clock.local(now).date_naive();
    let reminded_before = now - chrono::Duration::days(i64::from(app.config.action_reminder_days));
    let items = store::actions::overdue(&app.db, today, reminded_before).await?;
    if items.is_empty() {
        return Ok(0);
    }
    let languages = app.languages().await?;
    let mut plans: HashMap<String, Option<Arc<Plan>>> = HashMap::new();
    let mut queued = 0;
    for item in items {
        if !plans.contains_key(&item.plan_id) {
            let plan = app.plan_named(&item.plan_id).await?;
            plans.insert(item.plan_id.clone(), plan);
        }
        let Some(Some(plan)) = plans.get(&item.plan_id) else {
            continue;
        };
        let drill_id = match item.occurrence_id {
            Some(o) => store::drills::occurrence(&app.db, o)
                .await?
                .map(|o| o.drill_id),
            None => None,
        };
        let source = drills
            .iter()
            .find(|d| Some(d.id) == drill_id)
            .map_or("", |d| d.title.as_str());
        let view = ActionView {
            owner: &item.owner,
            title: &item.title,
            due: item.due,
            source,
            from_incident: item.incident_id.is_some(),
            occurrence_id: item.occurrence_id,
        };
        let message_id = format!("action.{}.overdue.{}@beredskab", item.id, now.timestamp());
        let messages = app
            .action_message(plan, &languages, &view, true, message_id)?
            .into_iter()
            .collect();
        if store::actions::record_reminder(&app.db, item.id, reminded_before, messages, now).await?
        {
            queued += 1;
            tracing::info!(action = item.id, "queued overdue reminder");
        }
    }
    Ok(queued)
}

/// Reminds the owner and deputy of every system section past its review date (or never
/// reviewed): once when it passes, then every `review_reminder_days` until it is reviewed,
/// which gives it a new date and so ends the reminders.
pub async fn review_reminders(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let today = app.clock.local(now).date_naive();
    let sent_before = now - chrono::Duration::days(i64::from(app.config.review_reminder_days));
    let languages = app.languages().await?;
    let mut queued = 0;
    for id in store::plan_ids(&app.db).await? {
        let Some(plan) = app.plan(&id).await? else {
            continue;
        };
        for system in &plan.systems {
            let due = plan.review_due(system);
            if due.is_some_and(|d| d >= today) {
                continue;
            }
            let due_key = due.map_or_else(|| "never".to_string(), |d| d.to_string());
            let people: Vec<_> = [&system.owner, &system.deputy]
                .into_iter()
                .flatten()
                .filter_map(|p| plan.person(p.as_str()))
                .collect();
            let notice = Notice::ReviewDue {
                plan: &plan,
                system,
                due,
            };
            let messages = app.messages(plan.id.as_str(), &languages, &people, &notice, |p| {
                format!(
                    "review.{}.{}.{due_key}.{}.{}@beredskab",
                    plan.id,
                    system.id,
                    now.timestamp(),
                    p.id
                )
            })?;
            if messages.is_empty() {
                continue;
            }
            if store::reviews::record_reminder(
                &app.db,
                plan.id.as_str(),
                system.id.as_str(),
                &due_key,
                sent_before,
                messages,
                now,
            )
            .await?
            {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// The drill `id` if it is there and not cancelled.
fn live(drills: &[Drill], id: i64) -> Option<&Drill> {
    drills.iter().find(|d| d.id == id && !d.cancelled)
}

/// The messages of `what` about an occurrence, or none if the drill's plan is gone.
async fn occurrence_messages(
    app: &App,
    drill: &Drill,
    occurrence: &store::drills::Occurrence,
    what: Send,
) -> Result<Vec<store::outbox::NewMessage>> {
    let Some(plan) = app.plan_named(&drill.plan_id).await? else {
        return Ok(Vec::new());
    };
    app.occurrence_messages(&plan, &app.languages().await?, drill, occurrence, what)
        .map_err(Into::into)
}

/// `run`, timed and counted in the metrics, its failure logged: one pass of the loop.
pub async fn pass(app: &App, now: DateTime<Utc>) -> Result<usize> {
    let started = std::time::Instant::now();
    let result = run(app, now).await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "scheduler");
    }
    app.metrics
        .scheduler_pass(started.elapsed(), result.is_ok(), app.clock.now());
    result
}

/// Runs `pass` at start (catching up on anything missed while the server was down), then every
/// `every`, and at once when the app's scheduler is woken (a drill was planned).
pub fn spawn(app: App, every: Duration) {
    app.metrics.scheduler_every(every);
    tokio::spawn(async move {
        loop {
            let _ = pass(&app, app.clock.now()).await;
            tokio::select! {
                () = app.scheduler.notified() => {}
                () = tokio::time::sleep(every) => {}
            }
        }
    });
}
