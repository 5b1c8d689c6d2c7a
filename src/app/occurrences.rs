//! A drill as it runs: the facilitator starts it (the injects count from then), participants
//! record each system and take notes, the facilitator closes it. At the app's clock.

use super::{App, Result};
use crate::domain::drill::SystemRecord;
use crate::store::{self, drills::Drill};

impl App {
    /// Starts occurrence `id`; `false` if it was started or closed already.
    pub async fn start_occurrence(&self, id: i64) -> Result<bool> {
        self.occurrence_act(id, "drill.started", async |txn, now| {
            store::drills::start(txn, id, now).await
        })
        .await
    }

    /// Does `act` to occurrence `id` in a transaction with the webhook event `kind` of its
    /// drill, queued only when the act took.
    async fn occurrence_act(
        &self,
        id: i64,
        kind: &str,
        act: impl AsyncFnOnce(
            &sea_orm::DatabaseTransaction,
            chrono::DateTime<chrono::Utc>,
        ) -> Result<bool, store::StoreError>,
    ) -> Result<bool> {
        let now = self.clock.now();
        let occurrence = store::drills::occurrence(&self.db, id).await?;
        let drill = match &occurrence {
            Some(o) => store::drills::find(&self.db, o.drill_id).await?,
            None => None,
        };
        let events = match &drill {
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
        let index = i32::try_from(index).map_err(|_| super::Error::NotFound)?;
        Ok(store::drills::play_inject(&self.db, id, index, actor, self.clock.now(), entry).await?)
    }

    /// Closes occurrence `id`; `false` if it was closed already.
    pub async fn close_occurrence(&self, id: i64, actor: &str) -> Result<bool> {
        self.occurrence_act(id, "drill.closed", async |txn, now| {
            store::drills::close(txn, id, actor, now).await
        })
        .await
    }
}
