//! Stored drill rows as the domain reads them, shared by `drills` and `health`.

use chrono::{DateTime, Utc};

use super::entities::{drill_occurrences, drill_records};
use crate::domain::drill::SystemRecord;

/// When an occurrence was held: when the facilitator started it, else its planned start, or when
/// it was closed if that came first.
pub(super) fn held_at(o: &drill_occurrences::Model) -> DateTime<Utc> {
    let held = o.started_at.unwrap_or(o.starts_at);
    o.closed_at.map_or(held, |closed| held.min(closed))
}

/// A stored record as the domain reads it.
pub(super) fn system_record(r: drill_records::Model) -> SystemRecord {
    SystemRecord {
        found: r.found,
        followed: r.followed,
        recovery: r
            .recovery_minutes
            .and_then(|m| u64::try_from(m).ok())
            .map(crate::domain::Duration::from_minutes),
        notes: r.notes,
    }
}
