//! Drill programmes: changing, moving and cancelling a drill, with the calendar mail each
//! change sends to the people it concerns, queued in the change's own transaction.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::App;
use super::alerting::webhook_message;
use super::notify::Languages;
use crate::domain::Plan;
use crate::domain::drill::Schedule;
use crate::render::RenderError;
use crate::store::drills::{Drill, OccurrenceChange, Send};
use crate::store::outbox::NewMessage;
use crate::store::{self, StoreError};

/// How far ahead occurrences are created.
pub const HORIZON_DAYS: i64 = 400;

/// Messages rendered inside a store transaction: a template that fails there aborts the
/// transaction (nothing is written), and the caller gets the template's error itself.
#[derive(Default)]
pub(super) struct Rendering(std::sync::Mutex<Option<RenderError>>);

impl Rendering {
    /// `rendered` as the store's closures want it; a failure is kept for `result`.
    pub(super) fn keep<T>(&self, rendered: Result<T, RenderError>) -> Result<T, StoreError> {
        rendered.map_err(|e| {
            let aborted = StoreError::Corrupt {
                table: "templates",
                key: e.template.clone(),
                reason: "rendering failed: the change was not saved".into(),
            };
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            aborted
        })
    }

    /// The store's answer, or the template's error that aborted it.
    pub(super) fn result<T>(self, stored: Result<T, StoreError>) -> super::Result<T> {
        match self.0.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e.into()),
            None => Ok(stored?),
        }
    }
}

/// A schedule as the audit log and the drill pages show it.
pub fn schedule_text(s: &Schedule) -> String {
    match s {
        Schedule::Once { at } => at.format("%Y-%m-%d %H:%M").to_string(),
        Schedule::Recurring { cron } => format!("cron: {cron}"),
    }
}

/// A drill as the audit log shows it.
fn describe(d: &Drill) -> String {
    format!(
        "{} · {} · {} · {}",
        d.title,
        schedule_text(&d.schedule),
        d.location,
        d.participants.join(", ")
    )
}

/// The audit record of `action` by `actor` on drill `drill`.
fn drill_entry(actor: &str, drill: &Drill, action: &str) -> store::audit::Entry {
    store::audit::Entry {
        actor: actor.to_string(),
        plan_id: Some(drill.plan_id.clone()),
        action: action.into(),
        field: format!("drill {}", drill.id),
        ..Default::default()
    }
}

impl App {
    /// What a webhook event tells of drill `id`.
    pub(super) fn drill_data(&self, id: i64, drill: &Drill) -> serde_json::Value {
        serde_json::json!({
            "drill": {
                "id": id,
                "title": drill.title,
                "plan": drill.plan_id,
                "kind": drill.scenario.kind.as_str(),
                "url": self.config.link(&format!("/drills/{id}")),
            },
        })
    }

    /// Plans `drill` (its id is given by the store) and wakes the scheduler, which creates its
    /// occurrences; audited in the same transaction. Returns the new drill's id.
    pub async fn plan_drill(&self, actor: &str, drill: &Drill) -> Result<i64, StoreError> {
        let endpoints = self
            .webhook_endpoints(&drill.plan_id)
            .await
            .map_err(|e| match e {
                super::Error::Store(e) => e,
                other => StoreError::Corrupt {
                    table: "webhook_endpoints",
                    key: drill.plan_id.clone(),
                    reason: other.to_string(),
                },
            })?;
        let txn = store::begin_write(&self.db).await?;
        let id = store::drills::create(&txn, drill).await?;
        let data = self.drill_data(id, drill);
        let now = self.clock.now();
        store::outbox::queue(
            &txn,
            endpoints
                .iter()
                .map(|e| webhook_message(e, "drill.planned", &format!("drill:{id}"), &data, now))
                .collect(),
            now,
        )
        .await?;
        store::audit::write(
            &txn,
            vec![store::audit::Entry {
                after: format!("{}: {}", drill.title, schedule_text(&drill.schedule)),
                ..drill_entry(
                    actor,
                    &Drill {
                        id,
                        ..drill.clone()
                    },
                    "drill-plan",
                )
            }],
        )
        .await?;
        txn.commit().await?;
        self.scheduler.notify_one();
        self.mail_queued();
        Ok(id)
    }

    /// Records the evaluation (hot wash) of occurrence `occurrence` of `drill`; audited.
    pub async fn evaluate_occurrence(
        &self,
        actor: &str,
        drill: &Drill,
        occurrence: i64,
        evaluation: [&str; 3],
    ) -> Result<(), StoreError> {
        let [well, badly, lessons] = evaluation.map(str::trim);
        let txn = store::begin_write(&self.db).await?;
        store::drills::save_evaluation(&txn, occurrence, well, badly, lessons, self.clock.now())
            .await?;
        store::audit::write(
            &txn,
            vec![store::audit::Entry {
                field: format!("occurrence {occurrence}"),
                after: lessons.to_string(),
                ..drill_entry(actor, drill, "drill-evaluation")
            }],
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The plan a drill belongs to and the languages its people chose, or `None` if the plan
    /// is gone.
    async fn plan_of(&self, drill: &Drill) -> Result<Option<(Arc<Plan>, Languages)>, StoreError> {
        let Some(plan) = self.plan_named(&drill.plan_id).await? else {
            return Ok(None);
        };
        Ok(Some((plan, self.languages().await?)))
    }

    /// The messages of `what` about an occurrence to the drill's participants (the facilitator
    /// for an evaluation reminder).
    pub fn occurrence_messages(
        &self,
        plan: &Plan,
        languages: &Languages,
        drill: &Drill,
        occurrence: &store::drills::Occurrence,
        what: Send,
    ) -> Result<Vec<NewMessage>, RenderError> {
        let recipients: Vec<String> = match what {
            Send::EvaluationReminder => drill.facilitator.iter().cloned().collect(),
            _ => drill.participants.clone(),
        };
        self.drill_messages(plan, languages, drill, occurrence, what, &recipients)
    }

    /// Cancels a drill and queues the calendar cancellations of its invited occurrences.
    /// Returns `false` if it was cancelled already.
    pub async fn cancel_drill(&self, actor: &str, drill: &Drill) -> super::Result<bool> {
        let audit = store::audit::Entry {
            before: drill.title.clone(),
            ..drill_entry(actor, drill, "drill-cancel")
        };
        let Some((plan, languages)) = self.plan_of(drill).await? else {
            return Ok(false);
        };
        let rendering = Rendering::default();
        let stored = store::drills::cancel(&self.db, drill.id, self.clock.now(), audit, |o| {
            rendering.keep(self.occurrence_messages(
                &plan,
                &languages,
                drill,
                o,
                Send::Cancellation,
            ))
        })
        .await;
        let done = rendering.result(stored)?;
        self.mail_queued();
        Ok(done)
    }

    /// Changes a drill (`old` as stored, `new` as it should be): title, place, facilitator,
    /// participants, invitation lead time, or a programme's cron expression. Of the occurrences
    /// ahead that were invited to, people added get the invitation and people removed a
    /// calendar cancellation; a new title or place is sent to everyone as a calendar update
    /// (SEQUENCE raised). Occurrences a new cron expression no longer has are cancelled, with a
    /// calendar cancellation if they were invited to; the scheduler creates the new ones. One
    /// transaction.
    pub async fn update_drill(&self, actor: &str, old: &Drill, new: &Drill) -> super::Result<bool> {
        if new == old {
            return Ok(false);
        }
        let audit = store::audit::Entry {
            before: describe(old),
            after: describe(new),
            ..drill_entry(actor, old, "drill-edit")
        };
        let Some((plan, languages)) = self.plan_of(new).await? else {
            return Ok(false);
        };
        let now = self.clock.now();
        let starts: Option<HashSet<DateTime<Utc>>> = if old.schedule == new.schedule {
            None
        } else {
            Some(
                new.schedule
                    .occurrences(
                        new.time_zone,
                        now,
                        now + chrono::Duration::days(HORIZON_DAYS + 1),
                    )
                    .map_err(|e| StoreError::Corrupt {
                        table: "drills",
                        key: new.id.to_string(),
                        reason: e.to_string(),
                    })?
                    .into_iter()
                    .collect(),
            )
        };
        let added: Vec<String> = new
            .participants
            .iter()
            .filter(|p| !old.participants.contains(p))
            .cloned()
            .collect();
        let removed: Vec<String> = old
            .participants
            .iter()
            .filter(|p| !new.participants.contains(p))
            .cloned()
            .collect();
        let details = old.title != new.title || old.location != new.location;
        // A person removed and added again gets new messages: the ids carry the moment of the
        // change.
        let stamp = now.timestamp_millis();
        let mark = |mut messages: Vec<NewMessage>| {
            for m in &mut messages {
                m.message_id = format!("edit{stamp}.{}", m.message_id);
            }
            messages
        };
        let rendering = Rendering::default();
        let send = |drill: &Drill, o: &store::drills::Occurrence, what, to: &[String]| {
            rendering.keep(self.drill_messages(&plan, &languages, drill, o, what, to))
        };
        let stored = store::drills::update(&self.db, new, now, audit, |o| {
            let dropped = starts.as_ref().is_some_and(|s| !s.contains(&o.starts_at));
            let invited = o.invited_at.is_some();
            let mut c = o.clone();
            if dropped {
                let mut messages = Vec::new();
                if invited {
                    c.sequence += 1;
                    messages = mark(send(old, &c, Send::Cancellation, &old.participants)?);
                }
                return Ok(Some(OccurrenceChange {
                    cancel: true,
                    sequence: c.sequence,
                    messages,
                }));
            }
            if !invited || (!details && added.is_empty() && removed.is_empty()) {
                return Ok(None);
            }
            let mut messages = Vec::new();
            if details {
                c.sequence += 1;
                messages.extend(send(new, &c, Send::Update, &new.participants)?);
            } else if !added.is_empty() {
                messages.extend(send(new, &c, Send::Invitation, &added)?);
            }
            if !removed.is_empty() {
                messages.extend(send(old, &c, Send::Cancellation, &removed)?);
            }
            Ok(Some(OccurrenceChange {
                cancel: false,
                sequence: c.sequence,
                messages: mark(messages),
            }))
        })
        .await;
        let done = rendering.result(stored)?;
        self.mail_queued();
        self.scheduler.notify_one();
        Ok(done)
    }

    /// Moves a one-time drill to `at` (local time in the drill's time zone): the occurrence
    /// keeps its UID, its SEQUENCE is raised, and everyone already invited gets the calendar
    /// update; the reminder goes out again the day before the new time. Returns `false` if
    /// there is no occurrence ahead to move.
    pub async fn reschedule_drill(
        &self,
        actor: &str,
        drill: &Drill,
        at: chrono::NaiveDateTime,
    ) -> super::Result<bool> {
        let audit = store::audit::Entry {
            before: schedule_text(&drill.schedule),
            after: at.format("%Y-%m-%d %H:%M").to_string(),
            ..drill_entry(actor, drill, "drill-reschedule")
        };
        let Some((plan, languages)) = self.plan_of(drill).await? else {
            return Ok(false);
        };
        let Ok(starts_at) = crate::domain::drill::local_to_utc(at, drill.time_zone) else {
            return Ok(false);
        };
        let mut moved = drill.clone();
        moved.schedule = Schedule::Once { at };
        let rendering = Rendering::default();
        let stored =
            store::drills::reschedule(&self.db, &moved, starts_at, self.clock.now(), audit, |o| {
                rendering.keep(self.occurrence_messages(&plan, &languages, &moved, o, Send::Update))
            })
            .await;
        let done = rendering.result(stored)?;
        self.mail_queued();
        Ok(done)
    }
}
