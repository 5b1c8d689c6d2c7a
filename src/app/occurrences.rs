//! A drill as it runs: the facilitator starts it (the injects count from then), participants
//! record each system and take notes, the facilitator closes it. At the app's clock.

use super::notify::Notice;
use super::{App, Result};
use crate::domain::drill::InjectChannel;
use crate::domain::drill::SystemRecord;
use crate::domain::{Person, sms};
use crate::store::alerts::Target;
use crate::store::outbox::{Channel, NewMessage};
use crate::store::{self, drills::Drill};

impl App {
    /// Starts occurrence `id`; `false` if it was started or closed already. A test of the call
    /// tree alerts everyone in it at the start, in the same transaction.
    pub async fn start_occurrence(&self, id: i64, actor: &str) -> Result<bool> {
        let drill = self.drill_of_occurrence(id).await?;
        let test = match &drill {
            Some(drill) => self.call_tree_test(id, drill, actor).await?,
            None => None,
        };
        let alerting = test.is_some();
        let started = self
            .occurrence_act(id, drill.as_ref(), "drill.started", async |txn, now| {
                let started = store::drills::start(txn, id, now).await?;
                if started && let Some((round, recipients)) = test {
                    store::alerts::insert(txn, Target::Occurrence(id), round, recipients, now)
                        .await?;
                }
                Ok(started)
            })
            .await?;
        if started && alerting {
            self.mail_queued();
        }
        Ok(started)
    }

    /// The drill occurrence `id` belongs to.
    async fn drill_of_occurrence(&self, id: i64) -> Result<Option<Drill>> {
        Ok(match store::drills::occurrence(&self.db, id).await? {
            Some(o) => store::drills::find(&self.db, o.drill_id).await?,
            None => None,
        })
    }

    /// Does `act` to occurrence `id` of `drill` in a transaction with the webhook event `kind`
    /// of the drill, queued only when the act took.
    async fn occurrence_act(
        &self,
        id: i64,
        drill: Option<&Drill>,
        kind: &str,
        act: impl AsyncFnOnce(
            &sea_orm::DatabaseTransaction,
            chrono::DateTime<chrono::Utc>,
        ) -> Result<bool, store::StoreError>,
    ) -> Result<bool> {
        let now = self.clock.now();
        let events = match drill {
            Some(drill) => {
                let mut data = self.drill_data(drill.id, drill);
                data["occurrence"] = serde_json::json!({"id": id});
                self.webhook_events(&drill.plan_id, kind, &format!("drill:{}", drill.id), data)
                    .await?
            }
            None => Vec::new(),
        };
        let txn = store::begin_write(&self.db).await?;
        if !act(&txn, now).await? {
            return Ok(false);
        }
        let queued = !events.is_empty();
        store::outbox::queue(&txn, events, now).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        if queued {
            self.mail_queued();
        }
        Ok(true)
    }

    /// Saves what was recorded for `system`; `false` if the occurrence is closed.
    pub async fn record_system(
        &self,
        id: i64,
        system: &str,
        record: &SystemRecord,
        actor: &str,
    ) -> Result<bool> {
        Ok(
            store::drills::record_system(&self.db, id, system, record, actor, self.clock.now())
                .await?,
        )
    }

    /// A note on the occurrence's timeline; `false` if it is closed.
    pub async fn note_occurrence(&self, id: i64, author: &str, text: &str) -> Result<bool> {
        Ok(store::drills::add_note(&self.db, id, author, text, self.clock.now()).await?)
    }

    /// Plays inject `index` of `drill`'s scenario in occurrence `id`: the participants see it
    /// from now. Audited in the same transaction. `None` if the occurrence is closed, `false` if
    /// the inject was played already; `NotFound` for an inject the scenario does not have.
    pub async fn play_inject(
        &self,
        drill: &Drill,
        id: i64,
        index: usize,
        actor: &str,
    ) -> Result<Option<bool>> {
        let Some(inject) = drill.scenario.injects.get(index) else {
            return Err(super::Error::NotFound);
        };
        let entry = store::audit::Entry {
            actor: actor.to_string(),
            plan_id: Some(drill.plan_id.clone()),
            action: "inject-play".into(),
            field: format!("occurrence {id} inject {}", index + 1),
            after: inject.text.clone(),
            ..Default::default()
        };
        let messages = self.inject_messages(drill, id, index).await?;
        let queued = !messages.is_empty();
        let index = i32::try_from(index).map_err(|_| super::Error::NotFound)?;
        let played = store::drills::play_inject(
            &self.db,
            id,
            index,
            actor,
            self.clock.now(),
            entry,
            messages,
        )
        .await?;
        if queued && played == Some(true) {
            self.mail_queued();
        }
        Ok(played)
    }

    /// The SMS and mail of inject `index` of `drill` to its participants, by the channels the
    /// inject names (SMS only with a gateway configured and a usable number).
    async fn inject_messages(
        &self,
        drill: &Drill,
        occurrence: i64,
        index: usize,
    ) -> Result<Vec<NewMessage>> {
        let Some(inject) = drill.scenario.injects.get(index) else {
            return Ok(Vec::new());
        };
        if inject.send.is_empty() {
            return Ok(Vec::new());
        }
        let Some(plan) = self.plan_named(&drill.plan_id).await? else {
            return Ok(Vec::new());
        };
        let languages = self.languages().await?;
        let people: Vec<&Person> = drill
            .participants
            .iter()
            .filter_map(|id| plan.person(id))
            .collect();
        let number = index + 1;
        let topic = format!("occurrence:{occurrence}");
        let mut out = Vec::new();
        if inject.send.contains(&InjectChannel::Sms) && self.config.sms_provider.is_some() {
            let link = self.config.link(&format!("/occurrences/{occurrence}"));
            for person in &people {
                let Some(number_e164) = sms::e164(&person.phone) else {
                    continue;
                };
                let lead = self
                    .templates
                    .text(languages.of(person.id.as_str()), "drill.inject_mail.sms")
                    .replace("{title}", &drill.title)
                    .replace("{text}", &inject.text);
                let mut m = NewMessage::to(
                    Channel::Sms,
                    format!("inject.{occurrence}.{number}.{}.sms@beredskab", person.id),
                    number_e164,
                );
                m.kind = "inject".into();
                m.plan_id = Some(drill.plan_id.clone());
                m.topic = Some(topic.clone());
                m.to_name = person.name.clone();
                // The whole inject, even over several parts: the participants act on it.
                m.body_text = format!("{} {link}", sms::plain(lead.trim()));
                out.push(m);
            }
        }
        if inject.send.contains(&InjectChannel::Mail) {
            let notice = Notice::Inject {
                drill,
                occurrence,
                number,
                text: &inject.text,
            };
            out.extend(
                self.messages(&drill.plan_id, &languages, &people, &notice, |p| {
                    format!("inject.{occurrence}.{number}.{}@beredskab", p.id)
                })?,
            );
        }
        Ok(out)
    }

    /// Plays, once, every inject that is to be sent (`send`) whose minute has come in a running
    /// drill, counted from the facilitator's start; its messages go out with it. How many.
    pub async fn play_timed_injects(&self, now: chrono::DateTime<chrono::Utc>) -> Result<usize> {
        let mut played = 0;
        for occurrence in store::drills::running(&self.db).await? {
            let Some(started) = occurrence.started_at else {
                continue;
            };
            let Some(drill) = store::drills::find(&self.db, occurrence.drill_id).await? else {
                continue;
            };
            let done: Vec<i32> = store::drills::inject_plays(&self.db, occurrence.id)
                .await?
                .iter()
                .map(|p| p.inject)
                .collect();
            for (index, inject) in drill.scenario.injects.iter().enumerate() {
                let due = started + chrono::Duration::minutes(i64::from(inject.minute)) <= now;
                let i = i32::try_from(index).unwrap_or(i32::MAX);
                if inject.send.is_empty() || !due || done.contains(&i) {
                    continue;
                }
                if self
                    .play_inject(&drill, occurrence.id, index, "scheduler")
                    .await?
                    == Some(true)
                {
                    played += 1;
                }
            }
        }
        Ok(played)
    }

    /// Closes occurrence `id`; `false` if it was closed already.
    pub async fn close_occurrence(&self, id: i64, actor: &str) -> Result<bool> {
        let drill = self.drill_of_occurrence(id).await?;
        self.occurrence_act(id, drill.as_ref(), "drill.closed", async |txn, now| {
            store::drills::close(txn, id, actor, now).await
        })
        .await
    }
}
