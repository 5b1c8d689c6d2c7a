//! iCalendar invitations (RFC 5545/5546): one UID per drill occurrence, so an update or a
//! cancellation changes the same calendar entry.

use chrono::{DateTime, Utc};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus, Property};

/// A meeting as it goes into an invitation.
pub struct Meeting<'a> {
    pub uid: &'a str,
    pub sequence: u32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: &'a str,
    pub description: &'a str,
    pub location: &'a str,
    /// (name, address)
    pub organizer: (&'a str, &'a str),
    pub attendees: &'a [(String, String)],
    /// When the invitation was made (`DTSTAMP`).
    pub made: DateTime<Utc>,
}

/// `METHOD:REQUEST` for an invitation or update; `METHOD:CANCEL` with `STATUS:CANCELLED` for a
/// cancellation.
pub fn calendar(m: &Meeting, cancel: bool) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//beredskab//drills//DA"))
        .append_property(("METHOD", if cancel { "CANCEL" } else { "REQUEST" }));
    let mut event = Event::new();
    event
        .uid(m.uid)
        .timestamp(m.made)
        .starts(m.start)
        .ends(m.end)
        .sequence(m.sequence)
        .summary(m.summary)
        .description(m.description)
        .location(m.location)
        .append_property(
            Property::new("ORGANIZER", format!("mailto:{}", m.organizer.1))
                .add_parameter("CN", m.organizer.0)
                .done(),
        );
    for (name, address) in m.attendees {
        event.append_multi_property(
            Property::new("ATTENDEE", format!("mailto:{address}"))
                .add_parameter("CN", name)
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("RSVP", "TRUE")
                .done(),
        );
    }
    if cancel {
        event.status(EventStatus::Cancelled);
    }
    cal.push(event.done());
    cal.to_string()
}
