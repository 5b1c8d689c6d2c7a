//! Typed notifications: every message the program sends is one `Notice`, rendered in the
//! recipient's language through one code path (`App::message`): subject and plain text
//! without HTML escaping, the HTML part escaped and in the one mail layout, and the calendar
//! part where there is one.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::App;
use crate::domain::dispensation::Dispensation;
use crate::domain::{Finding, Person, Plan, System};
use crate::mail::ics;
use crate::render::findings::Words;
use crate::render::{RenderError, i18n};
use crate::store::drills::{Drill, Occurrence, Send};
use crate::store::outbox::{Channel, NewMessage};

/// The languages people chose for their accounts, and the default for everyone else.
pub struct Languages {
    pub chosen: HashMap<String, String>,
    pub default: String,
}

impl Languages {
    /// The language of person `id`.
    pub fn of(&self, id: &str) -> &str {
        self.chosen
            .get(id)
            .map_or(self.default.as_str(), String::as_str)
    }
}

/// What the mail about an action item says of it.
pub struct ActionView<'a> {
    pub owner: &'a str,
    pub title: &'a str,
    pub due: NaiveDate,
    /// The drill (or incident) it came from.
    pub source: &'a str,
    /// It came from an incident, not a drill.
    pub from_incident: bool,
    pub occurrence_id: Option<i64>,
}

/// One kind of message, with what it tells.
pub enum Notice<'a> {
    /// An occurrence of a drill: its invitation, reminder, update or cancellation (with the
    /// calendar part), or, to the facilitator, that its evaluation is late.
    Drill {
        what: Send,
        drill: &'a Drill,
        occurrence: &'a Occurrence,
    },
    /// An action item given to its owner (`overdue` false), or past its due date.
    Action {
        plan: &'a Plan,
        item: &'a ActionView<'a>,
        overdue: bool,
    },
    /// A system section past its review date (`due` `None`: never reviewed).
    ReviewDue {
        plan: &'a Plan,
        system: &'a System,
        due: Option<NaiveDate>,
    },
    /// Systems an approved version changed significantly, to be exercised again.
    ExerciseAgain {
        plan: &'a Plan,
        version: i32,
        changed: &'a BTreeMap<String, Vec<String>>,
    },
    /// An inject of a running drill, sent to its participants.
    Inject {
        drill: &'a Drill,
        occurrence: i64,
        /// Its number in the scenario, from 1.
        number: usize,
        text: &'a str,
    },
    /// An incident: the call tree is alerted.
    IncidentAlert {
        /// The page it is about: `/incidents/5`, or the drill occurrence of a test.
        page: &'a str,
        title: &'a str,
        criterion: &'a str,
        /// The names of the systems down.
        down: &'a [String],
        /// Who alerted.
        by: &'a str,
        /// The person's acknowledgement link.
        ack: Option<&'a str>,
        /// A test of the call tree, not a real incident.
        test: bool,
        /// The person who did not answer, when this alert is in their place.
        escalated_from: Option<&'a str>,
    },
    /// A dispensation asked for (to the approver), decided (to the requester and the owners
    /// concerned), or about to expire (to all of them).
    Dispensation {
        plan: &'a Plan,
        dispensation: &'a Dispensation,
        what: DispensationNews,
        /// The findings of the plan now, which name what it is from.
        findings: &'a [Finding],
    },
}

/// What a message about a dispensation tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispensationNews {
    Requested,
    Approved,
    Renewed,
    Rejected,
    /// It expires in this many days.
    Expiring(u32),
}

impl DispensationNews {
    pub fn as_str(self) -> &'static str {
        match self {
            DispensationNews::Requested => "requested",
            DispensationNews::Approved => "approved",
            DispensationNews::Renewed => "renewed",
            DispensationNews::Rejected => "rejected",
            DispensationNews::Expiring(_) => "expiring",
        }
    }
}

impl Send {
    /// The name of this send in message ids, outbox kinds and locale keys.
    pub fn kind(self) -> &'static str {
        match self {
            Send::Invitation => "invitation",
            Send::Reminder => "reminder",
            Send::Cancellation => "cancellation",
            Send::Update => "update",
            Send::EvaluationReminder => "evaluation",
        }
    }
}

impl Notice<'_> {
    /// The email templates `{name}_subject`, `{name}_text` and `{name}_html`.
    fn templates(&self) -> &'static str {
        match self {
            Notice::Drill { .. } => "drill",
            Notice::Action { .. } => "action",
            Notice::ReviewDue { .. } => "review",
            Notice::ExerciseAgain { .. } => "exercise",
            Notice::IncidentAlert { .. } => "alert",
            Notice::Inject { .. } => "inject",
            Notice::Dispensation { .. } => "dispensation",
        }
    }

    /// The outbox's name for the kind of message.
    fn kind(&self) -> &'static str {
        match self {
            Notice::Drill { what, .. } => what.kind(),
            other => other.templates(),
        }
    }

    fn occurrence_id(&self) -> Option<i64> {
        match self {
            Notice::Drill { occurrence, .. } => Some(occurrence.id),
            Notice::Action { item, .. } => item.occurrence_id,
            Notice::Inject { occurrence, .. } => Some(*occurrence),
            _ => None,
        }
    }

    /// What the templates show, in `lang`.
    fn data(&self, app: &App, lang: &str) -> Value {
        let config = &app.config;
        match self {
            Notice::Drill {
                what,
                drill,
                occurrence,
            } => {
                let kind = what.kind();
                let local = occurrence.starts_at.with_timezone(&drill.time_zone);
                json!({
                    "kind": kind,
                    "subject_key": format!("drill.mail.{kind}_subject"),
                    "intro_key": format!("drill.mail.{kind}_intro"),
                    "title": drill.title,
                    "drill_kind": format!("drill.kind.{}", drill.scenario.kind.as_str()),
                    "date": i18n::date(local.date_naive(), lang),
                    "time": local.format("%H:%M").to_string(),
                    "duration": i18n::duration(drill.scenario.duration, lang),
                    "location": drill.location,
                    "narrative": drill.scenario.narrative,
                    "link": config.link(&format!("/drills/{}", drill.id)),
                })
            }
            Notice::Action {
                plan,
                item,
                overdue,
            } => json!({
                "title": item.title,
                "drill": item.source,
                "incident": item.from_incident,
                "overdue": overdue,
                "due": i18n::date(item.due, lang),
                "link": config.link(&format!("/plans/{}/actions", plan.id)),
            }),
            Notice::ReviewDue { plan, system, due } => json!({
                "system": system.name,
                "plan": plan.name,
                "due": due.map(|d| i18n::date(d, lang)),
                "link": config.link(&format!("/plans/{}/systems/{}", plan.id, system.id)),
            }),
            Notice::ExerciseAgain {
                plan,
                version,
                changed,
            } => json!({
                "plan": plan.name,
                "version": version,
                "systems": changed.iter().map(|(id, fields)| json!({
                    "id": id,
                    "name": plan.system(id).map_or(id.as_str(), |s| s.name.as_str()),
                    "fields": fields.join(", "),
                })).collect::<Vec<_>>(),
                "link": config.link(&format!("/plans/{}?only=exercise", plan.id)),
            }),
            Notice::Inject {
                drill,
                occurrence,
                number,
                text,
            } => json!({
                "title": drill.title,
                "number": number,
                "text": text,
                "link": config.link(&format!("/occurrences/{occurrence}")),
            }),
            Notice::IncidentAlert {
                page,
                title,
                criterion,
                down,
                by,
                ack,
                test,
                escalated_from,
            } => json!({
                "title": title,
                "criterion": criterion,
                "down": down.join(", "),
                "by": by,
                "link": config.link(page),
                "ack": ack,
                "test": test,
                "escalated_from": escalated_from,
            }),
            Notice::Dispensation {
                plan,
                dispensation: d,
                what,
                findings,
            } => {
                let words = Words::new(&app.templates.locales, lang, Some(plan));
                let decision = d.decision();
                json!({
                    "plan": plan.name,
                    "id": d.id,
                    "what": what.as_str(),
                    "subject": words.dispensation_subject(d, findings),
                    "justification": d.justification,
                    "compensating": d.compensating,
                    "until": d.expires_on().or(Some(d.requested_until)).map(|u| i18n::date(u, lang)),
                    "days": match what {
                        DispensationNews::Expiring(n) => Some(app.templates.counted(lang, "dispensation.mail.days", *n as usize)),
                        _ => None,
                    },
                    "comment": decision.map(|x| x.comment.as_str()).filter(|c| !c.is_empty()),
                    "link": config.link(&format!("/plans/{}/dispensations/{}", plan.id, d.id)),
                })
            }
        }
    }

    /// The calendar part: the same for every recipient of a drill's message.
    fn calendar(&self, app: &App, attendees: &[&Person]) -> Option<String> {
        let Notice::Drill {
            what,
            drill,
            occurrence,
        } = self
        else {
            return None;
        };
        if *what == Send::EvaluationReminder {
            return None;
        }
        let minutes = i64::try_from(drill.scenario.duration.minutes()).unwrap_or(60);
        let attendees: Vec<(String, String)> = attendees
            .iter()
            .map(|p| (p.name.clone(), p.email.trim().to_string()))
            .collect();
        let from = &app.config.mail_from;
        let organizer = from.name.clone().unwrap_or_else(|| "beredskab".into());
        Some(ics::calendar(
            &ics::Meeting {
                uid: &occurrence.uid,
                sequence: u32::try_from(occurrence.sequence).unwrap_or(0),
                start: occurrence.starts_at,
                end: occurrence.starts_at + chrono::Duration::minutes(minutes),
                summary: &drill.title,
                description: &drill.scenario.narrative,
                location: &drill.location,
                organizer: (&organizer, from.email.as_ref()),
                attendees: &attendees,
                made: app.clock.now(),
            },
            *what == Send::Cancellation,
        ))
    }
}

impl App {
    /// `notice` to each of `people` who has an address, in their language. `message_id` makes
    /// each message's id from the person: the same again when it is made again, so that a
    /// resent message is recognised.
    pub fn messages(
        &self,
        plan: &str,
        languages: &Languages,
        people: &[&Person],
        notice: &Notice,
        message_id: impl Fn(&Person) -> String,
    ) -> Result<Vec<NewMessage>, RenderError> {
        let people: Vec<&Person> = people
            .iter()
            .copied()
            .filter(|p| !p.email.trim().is_empty())
            .collect();
        let calendar = notice.calendar(self, &people);
        let mut out = Vec::with_capacity(people.len());
        for person in people {
            let lang = languages.of(person.id.as_str());
            let mut data = notice.data(self, lang);
            data["name"] = json!(person.name);
            let body = self.templates.mail(notice.templates(), lang, data)?;
            out.push(NewMessage {
                channel: Channel::Mail,
                topic: None,
                alert_recipient_id: None,
                endpoint_id: None,
                message_id: message_id(person),
                kind: notice.kind().to_string(),
                plan_id: Some(plan.to_string()),
                occurrence_id: notice.occurrence_id(),
                to_address: person.email.trim().to_string(),
                to_name: person.name.clone(),
                subject: body.subject,
                body_text: body.text,
                body_html: body.html,
                ics: calendar.clone(),
            });
        }
        Ok(out)
    }

    /// The invitation, reminder, update or cancellation of an occurrence to `recipients`
    /// (person ids of `plan`), or the evaluation reminder to the facilitator.
    pub fn drill_messages(
        &self,
        plan: &Plan,
        languages: &Languages,
        drill: &Drill,
        occurrence: &Occurrence,
        what: Send,
        recipients: &[String],
    ) -> Result<Vec<NewMessage>, RenderError> {
        let people: Vec<&Person> = recipients.iter().filter_map(|id| plan.person(id)).collect();
        let uid = occurrence.uid.trim_end_matches("@beredskab");
        // Unique per kind, calendar sequence and person; the same again if it is resent.
        self.messages(
            plan.id.as_str(),
            languages,
            &people,
            &Notice::Drill {
                what,
                drill,
                occurrence,
            },
            |p| {
                format!(
                    "{}.{}.{uid}.{}@beredskab",
                    what.kind(),
                    occurrence.sequence,
                    p.id
                )
            },
        )
    }

    /// The mail that tells an action item's owner about it: new (`overdue` false) or overdue.
    pub fn action_message(
        &self,
        plan: &Plan,
        languages: &Languages,
        item: &ActionView<'_>,
        overdue: bool,
        message_id: String,
    ) -> Result<Option<NewMessage>, RenderError> {
        let Some(owner) = plan.person(item.owner) else {
            return Ok(None);
        };
        let notice = Notice::Action {
            plan,
            item,
            overdue,
        };
        Ok(self
            .messages(plan.id.as_str(), languages, &[owner], &notice, |_| {
                message_id.clone()
            })?
            .pop())
    }

    /// The mail that tells the plan's coordinators (the people holding its owner role) which
    /// systems approved version `version` changed significantly, so they are exercised again.
    pub fn exercise_again_messages(
        &self,
        plan: &Plan,
        languages: &Languages,
        version: i32,
        changed: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<NewMessage>, RenderError> {
        let coordinators: Vec<&Person> = plan
            .people
            .iter()
            .filter(|p| p.roles.contains(&plan.owner_role))
            .collect();
        let notice = Notice::ExerciseAgain {
            plan,
            version,
            changed,
        };
        self.messages(plan.id.as_str(), languages, &coordinators, &notice, |p| {
            format!("exercise.{}.{version}.{}@beredskab", plan.id, p.id)
        })
    }
}
