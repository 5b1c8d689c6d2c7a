//! Live updates of incidents: one watcher per server, however many pages are open.
//!
//! A page that follows an incident subscribes here and waits on a `watch` channel holding the
//! incident's revision; nothing it does reads the database while it waits. The channel moves
//! when the revision rises:
//! - changes made in this process publish at once, after their transaction commits (`touch`);
//! - on PostgreSQL every change also sends `NOTIFY beredskab_incident, '<id>:<revision>'` in its
//!   own transaction (so only once it commits), and one listener per server passes on what
//!   other servers changed. When the listening connection was lost, every followed incident is
//!   read again once, since notifications sent meanwhile are gone.
//!
//! SQLite serves one server, so the in-process publishing suffices there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::watch;

use crate::store::incidents as store_incidents;

/// The channel every server listens on.
pub const CHANNEL: &str = store_incidents::NOTIFY_CHANNEL;

/// The incidents followed in this process, each with the latest revision known.
#[derive(Default)]
pub struct Live {
    followed: Mutex<HashMap<i64, watch::Sender<i64>>>,
}

impl Live {
    pub fn new() -> Arc<Live> {
        Arc::new(Live::default())
    }

    /// Follows incident `id`, whose revision is `current` as the caller read it.
    pub fn follow(&self, id: i64, current: i64) -> watch::Receiver<i64> {
        let mut followed = self.followed.lock().expect("live updates lock");
        followed.retain(|_, sender| sender.receiver_count() > 0);
        let sender = followed
            .entry(id)
            .or_insert_with(|| watch::channel(current).0);
        raise(sender, current);
        sender.subscribe()
    }

    /// Incident `id` is at `revision` (or later): followers whose revision is older are woken.
    pub fn publish(&self, id: i64, revision: i64) {
        let followed = self.followed.lock().expect("live updates lock");
        if let Some(sender) = followed.get(&id) {
            raise(sender, revision);
        }
    }

    /// The incidents someone in this process follows.
    pub fn followed(&self) -> Vec<i64> {
        let followed = self.followed.lock().expect("live updates lock");
        followed
            .iter()
            .filter(|(_, s)| s.receiver_count() > 0)
            .map(|(id, _)| *id)
            .collect()
    }

    /// How many pages follow incident `id` in this process.
    pub fn followers(&self, id: i64) -> usize {
        let followed = self.followed.lock().expect("live updates lock");
        followed.get(&id).map_or(0, watch::Sender::receiver_count)
    }

    /// After a change to incident `id` made in this process has committed: reads its revision
    /// (once, and only when someone here follows it) and wakes its followers.
    pub async fn touch(&self, db: &DatabaseConnection, id: i64) {
        if self.followers(id) == 0 {
            return;
        }
        match store_incidents::revision(db, id).await {
            Ok(Some(revision)) => self.publish(id, revision),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, incident = id, "live updates"),
        }
    }

    /// Reads every followed incident again: after the listener lost its connection.
    async fn catch_up(&self, db: &DatabaseConnection) {
        for id in self.followed() {
            self.touch(db, id).await;
        }
    }
}

/// Raises the channel's revision to `revision` if that is newer; only then are receivers woken.
fn raise(sender: &watch::Sender<i64>, revision: i64) {
    sender.send_if_modified(|known| {
        let newer = revision > *known;
        if newer {
            *known = revision;
        }
        newer
    });
}

/// `"<id>:<revision>"`, as the store notifies.
fn parse(payload: &str) -> Option<(i64, i64)> {
    let (id, revision) = payload.split_once(':')?;
    Some((id.parse().ok()?, revision.parse().ok()?))
}

/// On PostgreSQL: listens for changes made by every server and passes them on, until `stopping`.
/// On SQLite nothing is started.
pub fn spawn_listener(
    live: Arc<Live>,
    db: DatabaseConnection,
    mut stopping: watch::Receiver<bool>,
) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    tokio::spawn(async move {
        let pool = db.get_postgres_connection_pool().clone();
        loop {
            let listened = async {
                let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                // What changed while nobody listened.
                live.catch_up(&db).await;
                loop {
                    match listener.try_recv().await? {
                        Some(n) => match parse(n.payload()) {
                            Some((id, revision)) => live.publish(id, revision),
                            None => tracing::warn!(
                                payload = n.payload(),
                                "live updates: unknown notification"
                            ),
                        },
                        None => {
                            // The connection was lost; `try_recv` connects again and listens.
                            tracing::info!("live updates: listening again after a lost connection");
                            live.catch_up(&db).await;
                        }
                    }
                }
                #[allow(unreachable_code)]
                Ok::<(), sea_orm::sqlx::Error>(())
            };
            tokio::select! {
                _ = stopping.changed() => return,
                result = listened => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "live updates: cannot listen to the database; trying again in 2 s");
                    }
                }
            }
            tokio::select! {
                _ = stopping.changed() => return,
                () = tokio::time::sleep(Duration::from_secs(2)) => live.catch_up(&db).await,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn followers_wake_only_for_newer_revisions() {
        let live = Live::new();
        let mut a = live.follow(7, 3);
        let b = live.follow(7, 2);
        assert_eq!(
            *b.borrow(),
            3,
            "a later follower sees the newest revision known"
        );
        assert_eq!(live.followers(7), 2);
        live.publish(7, 3);
        assert!(!a.has_changed().unwrap(), "the same revision wakes nobody");
        live.publish(7, 4);
        assert!(a.has_changed().unwrap());
        assert_eq!(*a.borrow_and_update(), 4);
        live.publish(7, 2);
        assert!(!a.has_changed().unwrap(), "an older revision is ignored");
        live.publish(8, 9);
        assert_eq!(live.followed(), vec![7]);
        drop((a, b));
        assert!(live.followed().is_empty());
        let _c = live.follow(9, 1);
        assert_eq!(live.followed(), vec![9], "channels nobody holds are swept");
    }

    #[test]
    fn notifications_are_read_as_id_and_revision() {
        assert_eq!(parse("12:40"), Some((12, 40)));
        assert_eq!(parse("12"), None);
        assert_eq!(parse("x:1"), None);
    }
}
