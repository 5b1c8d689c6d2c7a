//! Alerting the call tree of an incident by every channel at once (SMS and mail to each
//! person, an Adaptive Card to the plan's Teams channel), each person with an acknowledgement
//! link of their own; escalating to a deputy when no answer comes; and the events posted to
//! the plan's webhook endpoints.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::accounts::token_hash;
use super::notify::{Languages, Notice};
use super::{App, Result};
use crate::domain::{Person, Plan, sms};
use crate::store::alerts::{self, Acknowledged, NewRecipient, Recipient, Target};
use crate::store::incidents::{self as store_incidents, Changed, Incident};
use crate::store::outbox::{Channel, NewMessage};
use crate::store::webhooks::{self, Endpoint};

/// What an acknowledgement link opens.
pub struct Acknowledgement {
    pub recipient: Recipient,
    pub plan_id: String,
    /// The incident's title, or the drill's.
    pub title: String,
    /// The incident or the drill is closed: no answer is taken.
    pub closed: bool,
    /// A test of the call tree.
    pub test: bool,
}

/// Who a second alert goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everyone in the call tree.
    Everyone,
    /// Those who have not acknowledged an earlier alert of the incident.
    Unanswered,
}

/// What an alert says (the incident, what is down and who alerted) and where it points.
pub(super) struct AlertText {
    /// In message ids: `5` for incident 5, `d12` for a test of the call tree in occurrence 12.
    key: String,
    /// The page the alert is about: `/incidents/5`, `/occurrences/12`.
    page: String,
    /// What orders its messages to one recipient: `incident:5`, `occurrence:12`.
    topic: String,
    plan_id: String,
    title: String,
    criterion: String,
    down: Vec<String>,
    by: String,
    /// A test of the call tree (a drill), said so in every message.
    test: bool,
}

impl AlertText {
    fn of_incident(incident: &Incident, down: Vec<String>, by: String) -> AlertText {
        AlertText {
            key: incident.id.to_string(),
            page: format!("/incidents/{}", incident.id),
            topic: format!("incident:{}", incident.id),
            plan_id: incident.plan_id.clone(),
            title: incident.title.clone(),
            criterion: incident.criterion.clone(),
            down,
            by,
            test: false,
        }
    }
}

/// A new Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
fn new_secret() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system's random source is unavailable");
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// A new acknowledgement secret (22 characters, 128 bits) and its hash.
fn new_token() -> (String, String) {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

impl App {
    /// The people a test of the call tree (occurrence `occurrence` of `drill`) alerts, each
    /// with a test message and a link of their own; `None` when the drill is of another kind.
    pub(super) async fn call_tree_test(
        &self,
        occurrence: i64,
        drill: &crate::store::drills::Drill,
        actor: &str,
    ) -> Result<Option<(i64, Vec<NewRecipient>)>> {
        if drill.scenario.kind != crate::domain::drill::DrillKind::CallTreeTest {
            return Ok(None);
        }
        let Some(plan) = self.plan_named(&drill.plan_id).await? else {
            return Ok(None);
        };
        let languages = self.languages().await?;
        let text = AlertText {
            key: format!("d{occurrence}"),
            page: format!("/occurrences/{occurrence}"),
            topic: format!("occurrence:{occurrence}"),
            plan_id: drill.plan_id.clone(),
            title: drill.title.clone(),
            criterion: String::new(),
            down: Vec::new(),
            by: self.names().await?.of(actor),
            test: true,
        };
        let round = self.clock.now().timestamp_millis();
        let recipients = plan
            .call_tree
            .iter()
            .filter_map(|c| plan.person(c.person.as_str()))
            .map(|p| self.recipient(&languages, &text, p, round, None))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((round, recipients)))
    }

    /// The systems of `incident` still down, by name.
    async fn down_names(&self, plan: &Plan, incident: &Incident) -> Result<Vec<String>> {
        Ok(store_incidents::outages(&self.db, incident.id)
            .await?
            .iter()
            .filter(|o| o.recovered_at.is_none())
            .map(|o| {
                plan.system(o.system.as_str())
                    .map_or(o.system.to_string(), |s| s.name.clone())
            })
            .collect())
    }

    /// Person `person`'s alert: a new acknowledgement link, and a message by each channel
    /// they can be reached by (SMS when a gateway is configured and their number is usable,
    /// mail when they have an address).
    pub(super) fn recipient(
        &self,
        languages: &Languages,
        text: &AlertText,
        person: &Person,
        round: i64,
        escalated_from: Option<&Person>,
    ) -> Result<NewRecipient> {
        let (token, hash) = new_token();
        // Each alert of a person is a message of its own, even twice in one round (as
        // themselves and as someone's deputy).
        let tag = hash[..12].to_string();
        let ack = self.config.link(&format!("/k/{}/{token}", text.key));
        let lang = languages.of(person.id.as_str());
        let topic = text.topic.clone();
        let mut messages = Vec::new();
        let mut channels = Vec::new();
        if self.config.sms_provider.is_some()
            && let Some(number) = sms::e164(&person.phone)
        {
            let key = if text.test {
                "alert.sms_test"
            } else {
                "alert.sms"
            };
            let down = if text.down.is_empty() {
                String::new()
            } else {
                self.templates
                    .text(lang, "alert.sms_down")
                    .replace("{systems}", &text.down.join(", "))
            };
            let lead = self
                .templates
                .text(lang, key)
                .replace("{title}", &text.title)
                .replace("{down}", &down);
            let mut m = NewMessage::to(
                Channel::Sms,
                format!("sms.{}.{round}.{}.{tag}@beredskab", text.key, person.id),
                number,
            );
            m.kind = "alert".into();
            m.plan_id = Some(text.plan_id.clone());
            m.topic = Some(topic.clone());
            m.to_name = person.name.clone();
            m.body_text = sms::with_link(&lead, &ack);
            messages.push(m);
            channels.push("sms");
        }
        let notice = Notice::IncidentAlert {
            page: &text.page,
            title: &text.title,
            criterion: &text.criterion,
            down: &text.down,
            by: &text.by,
            ack: Some(&ack),
            test: text.test,
            escalated_from: escalated_from.map(|p| p.name.as_str()),
        };
        let mail = self.messages(&text.plan_id, languages, &[person], &notice, |p| {
            format!("alert.{}.{round}.{}.{tag}@beredskab", text.key, p.id)
        })?;
        if !mail.is_empty() {
            channels.push("mail");
        }
        messages.extend(mail.into_iter().map(|mut m| {
            m.topic = Some(topic.clone());
            m
        }));
        Ok(NewRecipient {
            person: person.id.to_string(),
            token_hash: hash,
            channels: channels.join(","),
            escalated_from: escalated_from.map(|p| p.id.to_string()),
            messages,
        })
    }

    /// Alerts the call tree of `incident` (everyone, or those who have not acknowledged an
    /// earlier alert) by SMS and mail at once, each person with their acknowledgement link,
    /// and the plan's Teams channels; records it on the timeline; one transaction. How many
    /// people were alerted.
    pub async fn alert_call_tree(
        &self,
        plan: &Plan,
        incident: &Incident,
        actor: &str,
        audience: Audience,
    ) -> Result<(Changed, usize)> {
        let languages = self.languages().await?;
        let answered = self.answered(incident.id).await?;
        let text = AlertText::of_incident(
            incident,
            self.down_names(plan, incident).await?,
            self.names().await?.of(actor),
        );
        let now = self.clock.now();
        let round = now.timestamp_millis();
        let people: Vec<&Person> = plan
            .call_tree
            .iter()
            .filter_map(|c| plan.person(c.person.as_str()))
            .filter(|p| audience == Audience::Everyone || !answered.contains(&p.id.to_string()))
            .collect();
        let recipients = people
            .iter()
            .map(|p| self.recipient(&languages, &text, p, round, None))
            .collect::<Result<Vec<_>>>()?;
        let teams = self.teams_messages(&text, round).await?;
        let n = recipients.len();
        let changed =
            alerts::alert(&self.db, incident.id, actor, round, recipients, teams, now).await?;
        self.incident_changed(incident.id).await;
        self.mail_queued();
        Ok((changed, n))
    }

    /// The people who acknowledged an alert of incident `id`.
    pub async fn answered(&self, id: i64) -> Result<Vec<String>> {
        Ok(alerts::of_incident(&self.db, id)
            .await?
            .into_iter()
            .filter(|r| r.acknowledged_at.is_some())
            .map(|r| r.person_id)
            .collect())
    }

    /// The Adaptive Card of an alert to each Teams channel of the incident's plan.
    async fn teams_messages(&self, text: &AlertText, round: i64) -> Result<Vec<NewMessage>> {
        let endpoints = webhooks::of_plan(&self.db, &text.plan_id).await?;
        let lang = self.config.language.as_str();
        let t = |key: &str| self.templates.text(lang, key);
        let mut facts = vec![json!({"title": t("incident.criterion"), "value": text.criterion})];
        if !text.down.is_empty() {
            facts.push(json!({"title": t("incident.down"), "value": text.down.join(", ")}));
        }
        facts.push(json!({"title": t("alert.card_by"), "value": text.by}));
        let heading = t(if text.test {
            "alert.card_test"
        } else {
            "alert.card_title"
        });
        let card = teams_card(
            &heading.replace("{title}", &text.title),
            facts,
            &t("alert.card_open"),
            &self.config.link(&text.page),
        );
        Ok(endpoints
            .iter()
            .filter(|e| e.kind == webhooks::TEAMS)
            .map(|e| {
                let mut m = NewMessage::to(
                    Channel::Teams,
                    format!("teams.{}.{round}.{}@beredskab", text.key, e.id),
                    e.url.clone(),
                );
                m.kind = "alert".into();
                m.plan_id = Some(text.plan_id.clone());
                m.topic = Some(text.topic.clone());
                m.to_name = e.description.clone();
                m.subject = heading.replace("{title}", &text.title);
                m.body_text = card.to_string();
                m.endpoint_id = Some(e.id);
                m
            })
            .collect())
    }

    /// What acknowledgement link `token` of `target` opens; `None` for a link that is not one
    /// (forged, or of another incident or drill).
    pub async fn acknowledgement(
        &self,
        target: Target,
        token: &str,
    ) -> Result<Option<Acknowledgement>> {
        let Some(recipient) = alerts::by_token(&self.db, &token_hash(token))
            .await?
            .filter(|r| r.target() == Some(target))
        else {
            return Ok(None);
        };
        let (plan_id, title, closed) = match target {
            Target::Incident(id) => match store_incidents::find(&self.db, id).await? {
                Some(i) => (i.plan_id, i.title, i.state == store_incidents::CLOSED),
                None => return Ok(None),
            },
            Target::Occurrence(id) => {
                let Some(o) = crate::store::drills::occurrence(&self.db, id).await? else {
                    return Ok(None);
                };
                let Some(drill) = crate::store::drills::find(&self.db, o.drill_id).await? else {
                    return Ok(None);
                };
                (drill.plan_id, drill.title, o.closed_at.is_some())
            }
        };
        Ok(Some(Acknowledgement {
            recipient,
            plan_id,
            title,
            closed,
            test: matches!(target, Target::Occurrence(_)),
        }))
    }

    /// Records the answer given through an acknowledgement link, once.
    pub async fn acknowledge(
        &self,
        link: &Acknowledgement,
        coming: bool,
        note: &str,
    ) -> Result<Acknowledged> {
        let recipient = &link.recipient;
        let plan = self.plan_named(&link.plan_id).await?;
        let name = plan
            .as_ref()
            .and_then(|p| p.person(&recipient.person_id).map(|p| p.name.clone()))
            .unwrap_or_else(|| recipient.person_id.clone());
        let answer = if coming {
            alerts::COMING
        } else {
            alerts::CANNOT
        };
        let note: String = note.trim().chars().take(500).collect();
        let incident = recipient.incident_id;
        let acknowledged =
            alerts::acknowledge(&self.db, recipient, &name, answer, &note, self.clock.now())
                .await?;
        if let Some(id) = incident {
            self.incident_changed(id).await;
        }
        Ok(acknowledged)
    }

    /// Escalates, once each, the people alerted at least the plan's `alert_escalation_minutes`
    /// before `now` who have not acknowledged: their deputy is alerted by the same channels.
    /// How many were escalated.
    pub async fn escalate_unanswered(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut escalated = 0;
        let candidates = alerts::unanswered(&self.db).await?;
        if candidates.is_empty() {
            return Ok(0);
        }
        let languages = self.languages().await?;
        let names = self.names().await?;
        for (recipient, incident) in candidates {
            let Some(plan) = self.plan_named(&incident.plan_id).await? else {
                continue;
            };
            let wait = chrono::Duration::minutes(i64::from(plan.alert_escalation_minutes));
            if recipient.created_at + wait > now {
                continue;
            }
            let (Some(person), Some(deputy)) = (
                plan.person(&recipient.person_id),
                deputy_of(&plan, &recipient.person_id),
            ) else {
                continue;
            };
            let alerted_by = store_incidents::events(&self.db, incident.id)
                .await?
                .into_iter()
                .rev()
                .find(|e| e.kind == "alert")
                .map(|e| e.author)
                .unwrap_or_default();
            let text = AlertText::of_incident(
                &incident,
                self.down_names(&plan, &incident).await?,
                names.of(&alerted_by),
            );
            let new = self.recipient(&languages, &text, deputy, recipient.round, Some(person))?;
            if alerts::escalate(&self.db, &recipient, new, now).await? {
                self.incident_changed(incident.id).await;
                escalated += 1;
            }
        }
        if escalated > 0 {
            self.mail_queued();
        }
        Ok(escalated)
    }

    /// The Standard Webhooks endpoints of plan `plan`.
    pub async fn webhook_endpoints(&self, plan: &str) -> Result<Vec<Endpoint>> {
        Ok(webhooks::of_plan(&self.db, plan)
            .await?
            .into_iter()
            .filter(|e| e.kind == webhooks::WEBHOOK)
            .collect())
    }

    /// The event `kind` (`incident.opened`, …) with `data` to each Standard Webhooks endpoint
    /// of plan `plan`, to queue in the transaction of the act; `topic` keeps the events about
    /// one thing in order.
    pub async fn webhook_events(
        &self,
        plan: &str,
        kind: &str,
        topic: &str,
        data: Value,
    ) -> Result<Vec<NewMessage>> {
        let endpoints = self.webhook_endpoints(plan).await?;
        let now = self.clock.now();
        Ok(endpoints
            .iter()
            .map(|e| webhook_message(e, kind, topic, &data, now))
            .collect())
    }
}

/// One event to one endpoint: `{type, timestamp, data}`, as Standard Webhooks recommends.
pub fn webhook_message(
    endpoint: &Endpoint,
    kind: &str,
    topic: &str,
    data: &Value,
    now: DateTime<Utc>,
) -> NewMessage {
    let body = json!({
        "type": kind,
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    });
    let mut m = NewMessage::to(
        Channel::Webhook,
        format!("msg_{}", uuid::Uuid::new_v4().simple()),
        endpoint.url.clone(),
    );
    m.kind = kind.to_string();
    m.plan_id = Some(endpoint.plan_id.clone());
    m.topic = Some(topic.to_string());
    m.to_name = endpoint.description.clone();
    m.subject = kind.to_string();
    m.body_text = body.to_string();
    m.endpoint_id = Some(endpoint.id);
    m
}

/// The message a Teams workflow posts to its channel: an Adaptive Card (version 1.4, the
/// highest Teams workflows render) with a heading, facts and a button to the page.
pub fn teams_card(heading: &str, facts: Vec<Value>, button: &str, link: &str) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": heading, "weight": "Bolder", "size": "Medium", "wrap": true, "color": "Attention"},
                    {"type": "FactSet", "facts": facts},
                ],
                "actions": [{"type": "Action.OpenUrl", "title": button, "url": link}],
            },
        }],
    })
}

/// Who is alerted when `person` does not answer: the one who calls them in the call tree,
/// else the next person of the plan (after them, wrapping round) holding one of their roles.
pub fn deputy_of<'p>(plan: &'p Plan, person: &str) -> Option<&'p Person> {
    let caller = plan
        .call_tree
        .iter()
        .find(|c| c.person.as_str() == person)
        .and_then(|c| c.called_by.as_ref())
        .and_then(|id| plan.person(id.as_str()));
    if caller.is_some() {
        return caller;
    }
    let at = plan.people.iter().position(|p| p.id.as_str() == person)?;
    let roles = &plan.people[at].roles;
    let n = plan.people.len();
    (1..n)
        .map(|i| &plan.people[(at + i) % n])
        .find(|p| p.roles.iter().any(|r| roles.contains(r)))
}

/// An endpoint to add, as the coordinator typed it.
pub struct EndpointForm<'a> {
    /// `webhook` or `teams`.
    pub kind: &'a str,
    pub url: &'a str,
    pub description: &'a str,
}

impl App {
    /// Adds a webhook endpoint (with a new `whsec_` secret) or a Teams workflow to plan
    /// `plan`; audited in the same transaction. The new endpoint's id.
    pub async fn add_endpoint(
        &self,
        plan: &str,
        form: EndpointForm<'_>,
        actor: &str,
    ) -> Result<i64> {
        let kind = match form.kind {
            "webhook" => webhooks::WEBHOOK,
            "teams" => webhooks::TEAMS,
            _ => return Err(super::Error::Invalid("webhooks.bad_kind")),
        };
        let url = form.url.trim();
        let parsed = url::Url::parse(url).map_err(|_| super::Error::Invalid("webhooks.bad_url"))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(super::Error::Invalid("webhooks.bad_url"));
        }
        let description: String = form.description.trim().chars().take(200).collect();
        let secret = if kind == webhooks::WEBHOOK {
            new_secret()
        } else {
            String::new()
        };
        let now = self.clock.now();
        let txn = crate::store::begin_write(&self.db).await?;
        let id = webhooks::add(
            &txn,
            webhooks::NewEndpoint {
                plan_id: plan.to_string(),
                kind,
                url: url.to_string(),
                secret,
                description: description.clone(),
                created_by: actor.to_string(),
            },
            now,
        )
        .await?;
        crate::store::audit::write(
            &txn,
            vec![crate::store::audit::Entry {
                actor: actor.to_string(),
                plan_id: Some(plan.to_string()),
                action: "webhook-add".into(),
                field: format!("endpoint {id}"),
                // The address of a Teams workflow holds its key: only its host is kept here.
                after: format!("{kind} {} {description}", parsed.host_str().unwrap_or("")),
                ..Default::default()
            }],
        )
        .await?;
        txn.commit().await.map_err(crate::store::StoreError::from)?;
        Ok(id)
    }

    /// Removes endpoint `id` of plan `plan`; audited. `false` when there was none.
    pub async fn remove_endpoint(&self, plan: &str, id: i64, actor: &str) -> Result<bool> {
        let txn = crate::store::begin_write(&self.db).await?;
        let Some(endpoint) = webhooks::endpoint(&txn, id)
            .await?
            .filter(|e| e.plan_id == plan)
        else {
            return Ok(false);
        };
        webhooks::remove(&txn, id).await?;
        crate::store::audit::write(
            &txn,
            vec![crate::store::audit::Entry {
                actor: actor.to_string(),
                plan_id: Some(plan.to_string()),
                action: "webhook-remove".into(),
                field: format!("endpoint {id}"),
                before: format!("{} {}", endpoint.kind, endpoint.description),
                ..Default::default()
            }],
        )
        .await?;
        txn.commit().await.map_err(crate::store::StoreError::from)?;
        Ok(true)
    }

    /// Queues a test event to endpoint `id` of plan `plan` (`beredskab.test`, or a card saying
    /// it is a test for Teams). `false` when there is no such endpoint.
    pub async fn test_endpoint(&self, plan: &str, id: i64, actor: &str) -> Result<bool> {
        let Some(endpoint) = webhooks::endpoint(&self.db, id)
            .await?
            .filter(|e| e.plan_id == plan)
        else {
            return Ok(false);
        };
        let now = self.clock.now();
        let message = if endpoint.kind == webhooks::TEAMS {
            let lang = self.config.language.as_str();
            let t = |key: &str| self.templates.text(lang, key);
            let card = teams_card(
                &t("webhooks.test_card"),
                vec![json!({"title": t("alert.card_by"), "value": self.names().await?.of(actor)})],
                &t("webhooks.test_open"),
                &self.config.link(&format!("/plans/{plan}/webhooks")),
            );
            let mut m = NewMessage::to(
                Channel::Teams,
                format!("teams.test.{id}.{}@beredskab", now.timestamp_millis()),
                endpoint.url.clone(),
            );
            m.kind = "test".into();
            m.plan_id = Some(plan.to_string());
            m.to_name = endpoint.description.clone();
            m.subject = t("webhooks.test_card");
            m.body_text = card.to_string();
            m.endpoint_id = Some(id);
            m
        } else {
            let data = json!({"plan": plan, "by": actor, "url": self.config.link(&format!("/plans/{plan}/webhooks"))});
            webhook_message(
                &endpoint,
                "beredskab.test",
                &format!("endpoint:{id}"),
                &data,
                now,
            )
        };
        crate::store::outbox::queue(&self.db, vec![message], now).await?;
        self.mail_queued();
        Ok(true)
    }
}
