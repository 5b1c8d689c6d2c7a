//! Drill programmes at work: the scheduler that creates each occurrence ahead of time and
//! queues its invitation and reminder, rendered in each recipient's language.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::sync::Notify;

use crate::domain::drill::time_zone;
use crate::domain::{Person, Plan, PlanId};
use crate::mail::ics;
use crate::render::Templates;
use crate::store::drills::{Drill, Occurrence, Send};
use crate::store::outbox::NewMessage;
use crate::store::{self, StoreError};
use crate::web::PlanCache;

impl Context {
    pub fn new(
        db: &DatabaseConnection,
        templates: &Arc<Templates>,
        config: &crate::config::Config,
        outbox: &Arc<Notify>,
        plans: &Arc<PlanCache>,
    ) -> anyhow::Result<Self> {
        let from: lettre::message::Mailbox = config.mail_from.parse()?;
        Ok(Context {
            db: db.clone(),
            templates: templates.clone(),
            language: config.language.clone(),
            organizer: (
                from.name.clone().unwrap_or_else(|| "beredskab".into()),
                from.email.to_string(),
            ),
            public_url: config.public_url.clone(),
            outbox: outbox.clone(),
            evaluation_days: config.evaluation_days,
            action_reminder_days: config.action_reminder_days,
            review_reminder_days: config.review_reminder_days,
            time_zone: time_zone(&config.time_zone)?,
            plans: plans.clone(),
        })
    }

    /// A message to one person of a plan from the email templates `{template}_subject`, `_text`
    /// and `_html`, in the person's language (`languages`, else the default); `None` for a person
    /// without an address.
    pub fn person_message(
        &self,
        languages: &HashMap<String, String>,
        person: &Person,
        template: &str,
        message_id: String,
        occurrence_id: Option<i64>,
        mut data: serde_json::Value,
    ) -> Result<Option<NewMessage>, StoreError> {
        let address = person.email.trim();
        if address.is_empty() {
            return Ok(None);
        }
        let lang = languages
            .get(person.id.as_str())
            .map_or(self.language.as_str(), String::as_str);
        data["name"] = json!(person.name);
        let body = self
            .templates
            .mail(template, lang, data)
            .map_err(|e| StoreError::Corrupt {
                table: "templates",
                key: template.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Some(NewMessage {
            message_id,
            kind: template.to_string(),
            occurrence_id,
            to_address: address.to_string(),
            to_name: person.name.clone(),
            subject: body.subject,
            body_text: body.text,
            body_html: body.html,
            ics: None,
        }))
    }

    /// The mail that tells an action item's owner about it: new (`overdue` false) or overdue.
    pub fn action_message(
        &self,
        plan: &Plan,
        languages: &HashMap<String, String>,
        item: &ActionView<'_>,
        overdue: bool,
        message_id: String,
    ) -> Result<Option<NewMessage>, StoreError> {
        let Some(owner) = plan.person(item.owner) else {
            return Ok(None);
        };
        let lang = languages
            .get(owner.id.as_str())
            .map_or(self.language.as_str(), String::as_str);
        self.person_message(
            languages,
            owner,
            "action",
            message_id,
            item.occurrence_id,
            json!({
                "title": item.title,
                "drill": item.source,
                "incident": item.from_incident,
                "overdue": overdue,
                "due": crate::render::i18n::date(item.due, lang),
                "link": format!("{}/plans/{}/actions", self.public_url.trim_end_matches('/'), plan.id),
            }),
        )
    }

    /// The mail that tells the plan's coordinators (the people holding its owner role) which
    /// systems approved version `version` changed significantly, so they are exercised again.
    pub fn exercise_again_messages(
        &self,
        plan: &Plan,
        languages: &HashMap<String, String>,
        version: i32,
        changed: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<NewMessage>, StoreError> {
        let systems: Vec<serde_json::Value> = changed
            .iter()
            .map(|(id, fields)| {
                json!({
                    "id": id,
                    "name": plan.system(id).map_or(id.as_str(), |s| s.name.as_str()),
                    "fields": fields.join(", "),
                })
            })
            .collect();
        let mut out = Vec::new();
        for person in plan
            .people
            .iter()
            .filter(|p| p.roles.contains(&plan.owner_role))
        {
            out.extend(self.person_message(
                languages,
                person,
                "exercise",
                format!("exercise.{}.{version}.{}@beredskab", plan.id, person.id),
                None,
                json!({
                    "plan": plan.name,
                    "version": version,
                    "systems": systems,
                    "link": format!("{}/plans/{}?only=exercise", self.public_url.trim_end_matches('/'), plan.id),
                }),
            )?);
        }
        Ok(out)
    }
}

/// What the mail about an action item says of it.
pub struct ActionView<'a> {
    pub owner: &'a str,
    pub title: &'a str,
    pub due: chrono::NaiveDate,
    /// The drill (or incident) it came from.
    pub source: &'a str,
    /// It came from an incident, not a drill.
    pub from_incident: bool,
    pub occurrence_id: Option<i64>,
}

/// The plan a drill belongs to and the languages its people chose, or `None` if the plan is gone.
async fn plan_of(
    ctx: &Context,
    drill: &Drill,
) -> Result<Option<(Arc<Plan>, HashMap<String, String>)>, StoreError> {
    let plan_id = PlanId::parse(&drill.plan_id).map_err(|e| StoreError::Corrupt {
        table: "drills",
        key: drill.id.to_string(),
        reason: e.to_string(),
    })?;
    let Some(plan) = ctx.plans.plan(&ctx.db, &plan_id).await? else {
        return Ok(None);
    };
    Ok(Some((
        plan,
        store::accounts::languages_by_person(&ctx.db).await?,
    )))
}

/// Cancels a drill and queues the calendar cancellations of its invited occurrences.
/// Returns `false` if it was cancelled already.
pub async fn cancel(
    ctx: &Context,
    drill: &Drill,
    now: DateTime<Utc>,
    audit: store::audit::Entry,
) -> Result<bool, StoreError> {
    let Some((plan, languages)) = plan_of(ctx, drill).await? else {
        return Ok(false);
    };
    let done = store::drills::cancel(&ctx.db, drill.id, now, audit, |o| {
        messages_for(ctx, &plan, &languages, drill, o, Send::Cancellation)
    })
    .await?;
    ctx.outbox.notify_one();
    Ok(done)
}

/// How far ahead occurrences are created.
pub const HORIZON_DAYS: i64 = 400;

/// What the scheduler needs to write mail.
pub struct Context {
    pub db: DatabaseConnection,
    pub templates: Arc<Templates>,
    /// The language for people without an account that says otherwise.
    pub language: String,
    /// (name, address) of the organiser in invitations.
    pub organizer: (String, String),
    pub public_url: String,
    /// Woken when mail is queued.
    pub outbox: Arc<Notify>,
    /// Days after a drill before the facilitator is reminded of an unfinished evaluation.
    pub evaluation_days: u32,
    /// Days between reminders of an overdue action item.
    pub action_reminder_days: u32,
    /// Days between reminders of a section past its review date.
    pub review_reminder_days: u32,
    /// Where "today" is decided for due dates.
    pub time_zone: chrono_tz::Tz,
    /// Plans by revision, shared with the web pages, so a pass re-reads only what changed.
    pub plans: Arc<PlanCache>,
}

/// One pass: creates the occurrences of every drill up to the horizon, then queues every
/// invitation and reminder that is due and not sent. Safe to run at any time, as often as
/// wanted, in any number of server processes: each send is claimed once in the database.
/// Returns how many invitations and reminders were queued.
pub async fn tick(ctx: &Context, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let drills = store::drills::list(&ctx.db, None).await?;
    for drill in drills.iter().filter(|d| !d.cancelled) {
        let Ok(tz) = time_zone(&drill.time_zone) else {
            tracing::error!(drill = drill.id, tz = %drill.time_zone, "unknown time zone");
            continue;
        };
        match drill.schedule.occurrences(
            tz,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(HORIZON_DAYS),
        ) {
            Ok(starts) => store::drills::ensure_occurrences(&ctx.db, drill, &starts).await?,
            Err(e) => tracing::error!(drill = drill.id, error = %e, "schedule"),
        }
    }
    let mut queued = 0;
    for occurrence in store::drills::upcoming_uninvited(&ctx.db, now).await? {
        let Some(drill) = drills.iter().find(|d| d.id == occurrence.drill_id) else {
            continue;
        };
        if drill.cancelled {
            continue;
        }
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
        let messages = messages(ctx, drill, &occurrence, what).await?;
        if store::drills::record_send(
            &ctx.db,
            occurrence.id,
            occurrence.starts_at,
            what,
            messages,
            now,
        )
        .await?
        {
            queued += 1;
            ctx.outbox.notify_one();
            tracing::info!(
                drill = drill.id,
                occurrence = occurrence.id,
                ?what,
                "queued drill mail"
            );
        }
    }
    // The evaluation: the facilitator is reminded once when it is late.
    let late = now - chrono::Duration::days(i64::from(ctx.evaluation_days));
    for occurrence in store::drills::evaluations_due(&ctx.db, late).await? {
        let Some(drill) = drills.iter().find(|d| d.id == occurrence.drill_id) else {
            continue;
        };
        if drill.cancelled || drill.facilitator.is_none() {
            continue;
        }
        let messages = messages(ctx, drill, &occurrence, Send::EvaluationReminder).await?;
        if store::drills::record_evaluation_reminder(&ctx.db, occurrence.id, messages, now).await? {
            queued += 1;
            ctx.outbox.notify_one();
        }
    }
    queued += remind_overdue_actions(ctx, &drills, now).await?;
    queued += remind_overdue_reviews(ctx, now).await?;
    Ok(queued)
}

/// Reminds the owner and deputy of every system section past its review date (or never
/// reviewed): once when it passes, then every `review_reminder_days` until it is reviewed, which
/// gives it a new date and so ends the reminders. Returns how many sections were reminded.
async fn remind_overdue_reviews(ctx: &Context, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let today = now.with_timezone(&ctx.time_zone).date_naive();
    let sent_before = now - chrono::Duration::days(i64::from(ctx.review_reminder_days));
    let languages = store::accounts::languages_by_person(&ctx.db).await?;
    let mut queued = 0;
    for id in store::plan_ids(&ctx.db).await? {
        let Some(plan) = ctx.plans.plan(&ctx.db, &id).await? else {
            continue;
        };
        for system in &plan.systems {
            let due = plan.review_due(system);
            if due.is_some_and(|d| d >= today) {
                continue;
            }
            let due_key = due.map_or_else(|| "never".to_string(), |d| d.to_string());
            let mut messages = Vec::new();
            for person in [&system.owner, &system.deputy]
                .into_iter()
                .flatten()
                .filter_map(|p| plan.person(p.as_str()))
            {
                let lang = languages
                    .get(person.id.as_str())
                    .map_or(ctx.language.as_str(), String::as_str);
                messages.extend(ctx.person_message(
                    &languages,
                    person,
                    "review",
                    format!(
                        "review.{}.{}.{due_key}.{}.{}@beredskab",
                        plan.id,
                        system.id,
                        now.timestamp(),
                        person.id
                    ),
                    None,
                    json!({
                        "system": system.name,
                        "plan": plan.name,
                        "due": due.map(|d| crate::render::i18n::date(d, lang)),
                        "link": format!(
                            "{}/plans/{}/systems/{}",
                            ctx.public_url.trim_end_matches('/'),
                            plan.id,
                            system.id
                        ),
                    }),
                )?);
            }
            if messages.is_empty() {
                continue;
            }
            if store::reviews::record_reminder(
                &ctx.db,
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
                ctx.outbox.notify_one();
            }
        }
    }
    Ok(queued)
}

/// Reminds the owner of every open action item past its due date: the day after the due date,
/// then every `action_reminder_days` while it stays open. Each reminder is claimed once in the
/// database, like the invitations. Returns how many were queued.
async fn remind_overdue_actions(
    ctx: &Context,
    drills: &[Drill],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let today = now.with_timezone(&ctx.time_zone).date_naive();
    let reminded_before = now - chrono::Duration::days(i64::from(ctx.action_reminder_days));
    let items = store::actions::overdue(&ctx.db, today, reminded_before).await?;
    if items.is_empty() {
        return Ok(0);
    }
    let languages = store::accounts::languages_by_person(&ctx.db).await?;
    let mut plans: HashMap<String, Option<Arc<Plan>>> = HashMap::new();
    let mut queued = 0;
    for item in items {
        if !plans.contains_key(&item.plan_id) {
            let plan = match PlanId::parse(&item.plan_id) {
                Ok(id) => ctx.plans.plan(&ctx.db, &id).await?,
                Err(_) => None,
            };
            plans.insert(item.plan_id.clone(), plan);
        }
        let Some(Some(plan)) = plans.get(&item.plan_id) else {
            continue;
        };
        let drill_id = match item.occurrence_id {
            Some(o) => store::drills::occurrence(&ctx.db, o)
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
        let messages = ctx
            .action_message(plan, &languages, &view, true, message_id)?
            .into_iter()
            .collect();
        if store::actions::record_reminder(&ctx.db, item.id, reminded_before, messages, now).await?
        {
            queued += 1;
            ctx.outbox.notify_one();
            tracing::info!(action = item.id, "queued overdue reminder");
        }
    }
    Ok(queued)
}

/// The invitation, reminder or cancellation of an occurrence, one message per participant with
/// an address.
pub async fn messages(
    ctx: &Context,
    drill: &Drill,
    occurrence: &Occurrence,
    what: Send,
) -> Result<Vec<NewMessage>, StoreError> {
    let Some((plan, languages)) = plan_of(ctx, drill).await? else {
        return Ok(Vec::new());
    };
    messages_for(ctx, &plan, &languages, drill, occurrence, what)
}

/// `messages`, with the plan and the people's languages at hand.
pub fn messages_for(
    ctx: &Context,
    plan: &crate::domain::Plan,
    languages: &std::collections::HashMap<String, String>,
    drill: &Drill,
    occurrence: &Occurrence,
    what: Send,
) -> Result<Vec<NewMessage>, StoreError> {
    let recipients: Vec<String> = match what {
        Send::EvaluationReminder => drill.facilitator.iter().cloned().collect(),
        _ => drill.participants.clone(),
    };
    messages_to(ctx, plan, languages, drill, occurrence, what, &recipients)
}

/// `messages_for`, to `recipients` (person ids) only.
fn messages_to(
    ctx: &Context,
    plan: &crate::domain::Plan,
    languages: &std::collections::HashMap<String, String>,
    drill: &Drill,
    occurrence: &Occurrence,
    what: Send,
    recipients: &[String],
) -> Result<Vec<NewMessage>, StoreError> {
    let tz = time_zone(&drill.time_zone).unwrap_or(chrono_tz::Europe::Copenhagen);
    let end = occurrence.starts_at
        + chrono::Duration::minutes(i64::try_from(drill.scenario.duration.minutes()).unwrap_or(60));
    let people: Vec<&crate::domain::Person> = recipients
        .iter()
        .filter_map(|id| plan.person(id))
        .filter(|p| !p.email.trim().is_empty())
        .collect();
    let attendees: Vec<(String, String)> = people
        .iter()
        .map(|p| (p.name.clone(), p.email.trim().to_string()))
        .collect();
    let kind = match what {
        Send::Invitation => "invitation",
        Send::Reminder => "reminder",
        Send::Cancellation => "cancellation",
        Send::Update => "update",
        Send::EvaluationReminder => "evaluation",
    };
    let ics = ics::calendar(
        &ics::Meeting {
            uid: &occurrence.uid,
            sequence: u32::try_from(occurrence.sequence).unwrap_or(0),
            start: occurrence.starts_at,
            end,
            summary: &drill.title,
            description: &drill.scenario.narrative,
            location: &drill.location,
            organizer: (&ctx.organizer.0, &ctx.organizer.1),
            attendees: &attendees,
        },
        what == Send::Cancellation,
    );
    let mut out = Vec::new();
    for person in people {
        let lang = languages
            .get(person.id.as_str())
            .cloned()
            .unwrap_or_else(|| ctx.language.clone());
        let local = occurrence.starts_at.with_timezone(&tz);
        let data = json!({
            "kind": kind,
            "subject_key": format!("drill.mail.{kind}_subject"),
            "intro_key": format!("drill.mail.{kind}_intro"),
            "name": person.name,
            "title": drill.title,
            "drill_kind": format!("drill.kind.{}", drill.scenario.kind.as_str()),
            "date": crate::render::i18n::date(local.date_naive(), &lang),
            "time": local.format("%H:%M").to_string(),
            "duration": crate::render::i18n::duration(drill.scenario.duration, &lang),
            "location": drill.location,
            "narrative": drill.scenario.narrative,
            "link": format!("{}/drills/{}", ctx.public_url.trim_end_matches('/'), drill.id),
        });
        let render = |name: &str| {
            ctx.templates
                .fragment(name, &lang, data.clone())
                .map_err(|e| StoreError::Corrupt {
                    table: "templates",
                    key: name.to_string(),
                    reason: e.to_string(),
                })
        };
        let subject = render("drill_subject")?.trim().to_string();
        out.push(NewMessage {
            // Unique per kind, calendar sequence and person; the same again if it is resent.
            message_id: format!(
                "{}.{}.{}.{}@beredskab",
                kind,
                occurrence.sequence,
                occurrence.uid.trim_end_matches("@beredskab"),
                person.id
            ),
            kind: kind.to_string(),
            occurrence_id: Some(occurrence.id),
            to_address: person.email.trim().to_string(),
            to_name: person.name.clone(),
            subject,
            body_text: render("drill_text")?,
            body_html: render("drill_html")?,
            ics: (what != Send::EvaluationReminder).then(|| ics.clone()),
        });
    }
    Ok(out)
}

/// Runs `tick` at start (catching up on anything missed while the server was down), then every
/// `every`, and at once when `wake` is notified (a drill was planned).
pub fn spawn_scheduler(
    ctx: Arc<Context>,
    every: Duration,
    wake: Arc<Notify>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    metrics.scheduler_every(every);
    tokio::spawn(async move {
        loop {
            let started = std::time::Instant::now();
            let result = tick(&ctx, Utc::now()).await;
            if let Err(e) = &result {
                tracing::error!(error = %e, "drill scheduler");
            }
            metrics.scheduler_pass(started.elapsed(), result.is_ok(), Utc::now());
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(every) => {}
            }
        }
    });
}

/// Changes a drill (`old` as stored, `new` as it should be): title, place, facilitator,
/// participants, invitation lead time, or a programme's cron expression. Of the occurrences
/// ahead that were invited to, people added get the invitation and people removed a calendar
/// cancellation; a new title or place is sent to everyone as a calendar update (SEQUENCE
/// raised). Occurrences a new cron expression no longer has are cancelled, with a calendar
/// cancellation if they were invited to; the scheduler creates the new ones. One transaction.
pub async fn update(
    ctx: &Context,
    old: &Drill,
    new: &Drill,
    now: DateTime<Utc>,
    audit: store::audit::Entry,
) -> Result<bool, StoreError> {
    let Some((plan, languages)) = plan_of(ctx, new).await? else {
        return Ok(false);
    };
    let tz = time_zone(&new.time_zone).unwrap_or(chrono_tz::Europe::Copenhagen);
    let starts: Option<std::collections::HashSet<DateTime<Utc>>> = if old.schedule == new.schedule {
        None
    } else {
        Some(
            new.schedule
                .occurrences(tz, now, now + chrono::Duration::days(HORIZON_DAYS + 1))
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
    // A person removed and added again gets new messages: the ids carry the moment of the change.
    let stamp = now.timestamp_millis();
    let mark = |mut messages: Vec<NewMessage>| {
        for m in &mut messages {
            m.message_id = format!("edit{stamp}.{}", m.message_id);
        }
        messages
    };
    let done = store::drills::update(&ctx.db, new, now, audit, |o| {
        let dropped = starts.as_ref().is_some_and(|s| !s.contains(&o.starts_at));
        let invited = o.invited_at.is_some();
        let mut c = o.clone();
        if dropped {
            let mut messages = Vec::new();
            if invited {
                c.sequence += 1;
                messages = mark(messages_for(
                    ctx,
                    &plan,
                    &languages,
                    old,
                    &c,
                    Send::Cancellation,
                )?);
            }
            return Ok(Some(store::drills::OccurrenceChange {
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
            messages.extend(messages_for(ctx, &plan, &languages, new, &c, Send::Update)?);
        } else if !added.is_empty() {
            messages.extend(messages_to(
                ctx,
                &plan,
                &languages,
                new,
                &c,
                Send::Invitation,
                &added,
            )?);
        }
        if !removed.is_empty() {
            messages.extend(messages_to(
                ctx,
                &plan,
                &languages,
                old,
                &c,
                Send::Cancellation,
                &removed,
            )?);
        }
        Ok(Some(store::drills::OccurrenceChange {
            cancel: false,
            sequence: c.sequence,
            messages: mark(messages),
        }))
    })
    .await?;
    ctx.outbox.notify_one();
    Ok(done)
}

/// Moves a one-time drill to `at` (local time in the drill's time zone): the occurrence keeps its
/// UID, its SEQUENCE is raised, and everyone already invited gets the calendar update; the
/// reminder goes out again the day before the new time. Returns `false` if there is no
/// occurrence ahead to move.
pub async fn reschedule(
    ctx: &Context,
    drill: &Drill,
    at: chrono::NaiveDateTime,
    now: DateTime<Utc>,
    audit: store::audit::Entry,
) -> Result<bool, StoreError> {
    let Some((plan, languages)) = plan_of(ctx, drill).await? else {
        return Ok(false);
    };
    let tz = time_zone(&drill.time_zone).unwrap_or(chrono_tz::Europe::Copenhagen);
    let Ok(starts_at) = crate::domain::drill::local_to_utc(at, tz) else {
        return Ok(false);
    };
    let mut moved = drill.clone();
    moved.schedule = crate::domain::drill::Schedule::Once { at };
    let done = store::drills::reschedule(&ctx.db, &moved, starts_at, now, audit, |o| {
        messages_for(ctx, &plan, &languages, &moved, o, Send::Update)
    })
    .await?;
    ctx.outbox.notify_one();
    Ok(done)
}
