//! A drill as it runs: the facilitator starts it (the injects count from then), participants
//! record each system and take notes, the facilitator closes it. At the app's clock.

use super::{App, Result};
use crate::domain::drill::SystemRecord;
use crate::store;

impl App {
    /// Starts occurrence `id`; `false` if it was started or closed already.
    pub async fn start_occurrence(&self, id: i64) -> Result<bool> {
        Ok(store::drills::start(&self.db, id, self.clock.now()).await?)
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

    /// Closes occurrence `id`; `false` if it was closed already.
    pub async fn close_occurrence(&self, id: i64, actor: &str) -> Result<bool> {
        Ok(store::drills::close(&self.db, id, actor, self.clock.now()).await?)
    }
}
