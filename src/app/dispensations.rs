//! Dispensations: a system owner or the coordinator asks, the approver (IT-chef) decides, the
//! requester or the coordinator withdraws. Each act is one transaction with its audit record
//! and its mail: a request to the approvers, a decision to the requester and the owners
//! concerned; reminders 30, 7 and 1 day(s) before expiry go to all of them, and the expiry
//! itself is audited, each once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use super::notify::{DispensationNews, Notice};
use super::{App, Error, Result};
use crate::domain::access::Actor;
use crate::domain::dispensation::{self, Decision, Dispensation, State, Subject};
use crate::domain::{Person, Plan};
use crate::store::{self, audit, dispensations::NewRequest};

/// Who a message about a dispensation goes to.
#[derive(Clone, Copy)]
struct Audience {
    approvers: bool,
    requester: bool,
    owners: bool,
}

/// An expiry is recorded by the first scheduler pass after it, or within this many days if the
/// server was down: the older ones are not looked at again every minute.
const EXPIRY_WINDOW_DAYS: i64 = 31;

fn recently_expired(d: &Dispensation, today: chrono::NaiveDate) -> bool {
    d.state(today) == State::Expired
        && d.expires_on()
            .is_some_and(|u| (today - u).num_days() <= EXPIRY_WINDOW_DAYS)
}

/// The audit records' actor for what happens by itself (an expiry).
const ITSELF: &str = "beredskab";

fn entry(plan: &Plan, actor: &Actor, action: &str, id: i64, after: String) -> audit::Entry {
    audit::Entry {
        actor: actor.username.clone(),
        plan_id: Some(plan.id.to_string()),
        action: action.to_string(),
        field: format!("dispensation {id}"),
        after,
        ..Default::default()
    }
}

impl App {
    /// Records a request for a dispensation; its id. Refused when the actor may not ask for
    /// this subject, or when it cannot be dispensed or the expiry is not allowed.
    pub async fn request_dispensation(
        &self,
        plan: &Arc<Plan>,
        actor: &Actor,
        new: NewRequest,
    ) -> Result<i64> {
        if !dispensation::may_request(actor, plan, &new.subject) {
            return Err(Error::Forbidden);
        }
        let today = self.clock.today();
        dispensation::check_request(
            plan,
            &new.subject,
            &new.justification,
            new.requested_until,
            today,
            plan.dispensation_max_months,
        )
        .map_err(|r| Error::Invalid(r.key()))?;
        let until = new.requested_until;
        let findings = self.findings(plan).await?;
        if let Subject::Finding { code, systems } = &new.subject
            && code.severity() == crate::domain::Severity::Warning
            && !findings
                .findings
                .iter()
                .any(|f| f.code == *code && f.systems == *systems)
        {
            return Err(Error::Invalid("dispensation.no_such_finding"));
        }
        let txn = store::begin_write(&self.db).await?;
        let id = store::dispensations::request(&txn, new, self.clock.now()).await?;
        self.tell(
            &txn,
            plan,
            id,
            DispensationNews::Requested,
            &findings.findings,
        )
        .await?;
        audit::write(
            &txn,
            vec![entry(
                plan,
                actor,
                "dispensation-request",
                id,
                format!("until {until}"),
            )],
        )
        .await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(id)
    }

    /// The approver approves (until `until`, at most a year ahead), renews, or rejects
    /// dispensation `id` of `plan`.
    pub async fn decide_dispensation(
        &self,
        plan: &Arc<Plan>,
        actor: &Actor,
        id: i64,
        until: Option<chrono::NaiveDate>,
        comment: &str,
    ) -> Result<Dispensation> {
        if !actor.may_approve() {
            return Err(Error::Forbidden);
        }
        let d = self.dispensation(plan, id).await?;
        let today = self.clock.today();
        if matches!(d.state(today), State::Withdrawn | State::Rejected) {
            return Err(Error::Invalid("dispensation.closed"));
        }
        if let Some(until) = until {
            dispensation::check_request(
                plan,
                &d.subject,
                &d.justification,
                until,
                today,
                plan.dispensation_max_months,
            )
            .map_err(|r| Error::Invalid(r.key()))?;
        }
        let decision = Decision {
            by: actor.username.clone(),
            on: today,
            approved: until.is_some(),
            expires_on: until,
            comment: comment.trim().to_string(),
        };
        let action = match (until.is_some(), d.decision().is_some_and(|x| x.approved)) {
            (false, _) => "dispensation-reject",
            (true, true) => "dispensation-renew",
            (true, false) => "dispensation-approve",
        };
        let news = match action {
            "dispensation-reject" => DispensationNews::Rejected,
            "dispensation-renew" => DispensationNews::Renewed,
            _ => DispensationNews::Approved,
        };
        let findings = self.findings(plan).await?;
        let txn = store::begin_write(&self.db).await?;
        store::dispensations::decide(&txn, id, &decision, self.clock.now()).await?;
        self.tell(&txn, plan, id, news, &findings.findings).await?;
        let after = until.map_or_else(|| "rejected".to_string(), |u| format!("until {u}"));
        audit::write(&txn, vec![entry(plan, actor, action, id, after)]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        self.dispensation(plan, id).await
    }

    /// Withdraws dispensation `id` of `plan`: by its requester or the coordinator.
    pub async fn withdraw_dispensation(&self, plan: &Plan, actor: &Actor, id: i64) -> Result<bool> {
        let d = self.dispensation(plan, id).await?;
        if !dispensation::may_withdraw(actor, &d) {
            return Err(Error::Forbidden);
        }
        let txn = store::begin_write(&self.db).await?;
        let withdrawn =
            store::dispensations::withdraw(&txn, id, &actor.username, self.clock.now()).await?;
        if withdrawn {
            audit::write(
                &txn,
                vec![entry(
                    plan,
                    actor,
                    "dispensation-withdraw",
                    id,
                    String::new(),
                )],
            )
            .await?;
        }
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(withdrawn)
    }

    /// Dispensation `id` of `plan`; not found when it is of another plan.
    pub async fn dispensation(&self, plan: &Plan, id: i64) -> Result<Dispensation> {
        match store::dispensations::find(&self.db, id).await? {
            Some((of, d)) if of == plan.id.as_str() => Ok(d),
            _ => Err(Error::NotFound),
        }
    }
}

impl App {
    /// Queues, in `txn`, the mail telling `news` about dispensation `id` (as `txn` sees it).
    async fn tell(
        &self,
        txn: &impl ConnectionTrait,
        plan: &Plan,
        id: i64,
        news: DispensationNews,
        findings: &[crate::domain::Finding],
    ) -> Result<usize> {
        let Some((_, d)) = store::dispensations::find(txn, id).await? else {
            return Ok(0);
        };
        let audience = match news {
            DispensationNews::Requested => Audience {
                approvers: true,
                requester: false,
                owners: false,
            },
            DispensationNews::Expiring(_) => Audience {
                approvers: true,
                requester: true,
                owners: true,
            },
            _ => Audience {
                approvers: false,
                requester: true,
                owners: true,
            },
        };
        let people = self.audience(txn, plan, &d, audience).await?;
        let notice = Notice::Dispensation {
            plan,
            dispensation: &d,
            what: news,
            findings,
        };
        let languages = self.languages().await?;
        let decisions = d.decisions.len();
        // Each reminder before expiry has its own id: `expiring-7`.
        let what = match news {
            DispensationNews::Expiring(days) => format!("expiring-{days}"),
            other => other.as_str().to_string(),
        };
        let messages = self.messages(plan.id.as_str(), &languages, &people, &notice, |p| {
            format!("dispensation.{id}.{what}.{decisions}.{}@beredskab", p.id)
        })?;
        let n = messages.len();
        store::outbox::queue(txn, messages, self.clock.now()).await?;
        Ok(n)
    }

    /// The people of `plan` in `audience` for dispensation `d`, each once.
    async fn audience<'p>(
        &self,
        db: &impl ConnectionTrait,
        plan: &'p Plan,
        d: &Dispensation,
        audience: Audience,
    ) -> Result<Vec<&'p Person>> {
        let mut ids: Vec<&str> = Vec::new();
        if audience.approvers {
            ids.extend(
                plan.people
                    .iter()
                    .filter(|p| p.roles.contains(&plan.approver_role))
                    .map(|p| p.id.as_str()),
            );
        }
        let requester = match audience.requester {
            true => store::accounts::find_by_username(db, &d.requested_by)
                .await?
                .and_then(|(a, _)| a.person_id),
            false => None,
        };
        ids.extend(requester.as_deref());
        if audience.owners
            && let Subject::Finding { systems, .. } = &d.subject
        {
            for s in systems.iter().filter_map(|id| plan.system(id.as_str())) {
                ids.extend(s.owner.iter().chain(&s.deputy).map(|p| p.as_str()));
            }
        }
        let mut seen = std::collections::HashSet::new();
        Ok(ids
            .into_iter()
            .filter(|id| seen.insert(*id))
            .filter_map(|id| plan.person(id))
            .collect())
    }

    /// The reminders before expiry that are due on the day of `now` (each once per decision and
    /// day count), and the audit record of each expiry (once): the scheduler's job. How many
    /// reminders were queued.
    pub async fn dispensation_reminders(&self, now: DateTime<Utc>) -> Result<usize> {
        let today = self.clock.local(now).date_naive();
        let mut queued = 0;
        for id in store::plan_ids(&self.db).await? {
            let all = store::dispensations::of_plan(&self.db, id.as_str()).await?;
            let due: Vec<&Dispensation> = all
                .iter()
                .filter(|d| d.reminder_due(today).is_some() || recently_expired(d, today))
                .collect();
            if due.is_empty() {
                continue;
            }
            let Some(plan) = self.plan(&id).await? else {
                continue;
            };
            let findings = self.findings(&plan).await?;
            for d in due {
                let Some(decision) =
                    store::dispensations::standing_decision(&self.db, d.id).await?
                else {
                    continue;
                };
                let txn = store::begin_write(&self.db).await?;
                match d.reminder_due(today) {
                    // The day count 0 stands for the expiry itself.
                    None => {
                        if store::dispensations::claim_reminder(&txn, d.id, decision, 0, now)
                            .await?
                        {
                            let until = d.expires_on().map(|u| u.to_string()).unwrap_or_default();
                            audit::write(
                                &txn,
                                vec![audit::Entry {
                                    actor: ITSELF.to_string(),
                                    plan_id: Some(plan.id.to_string()),
                                    action: "dispensation-expire".to_string(),
                                    field: format!("dispensation {}", d.id),
                                    before: format!("until {until}"),
                                    after: "expired".to_string(),
                                    ..Default::default()
                                }],
                            )
                            .await?;
                        }
                    }
                    Some(days) => {
                        if store::dispensations::claim_reminder(&txn, d.id, decision, days, now)
                            .await?
                        {
                            let left = d.expires_on().map_or(days, |u| {
                                u32::try_from((u - today).num_days()).unwrap_or(days)
                            });
                            queued += self
                                .tell(
                                    &txn,
                                    &plan,
                                    d.id,
                                    DispensationNews::Expiring(left),
                                    &findings.findings,
                                )
                                .await?;
                        }
                    }
                }
                txn.commit().await.map_err(store::StoreError::from)?;
            }
        }
        Ok(queued)
    }
}
