//! Dispensations: a system owner or the coordinator asks, the approver (IT-chef) decides, the
//! requester or the coordinator withdraws. Each act is one transaction with its audit record.

use super::{App, Error, Result};
use crate::domain::Plan;
use crate::domain::access::Actor;
use crate::domain::dispensation::{self, Decision, Dispensation, State};
use crate::store::{self, audit, dispensations::NewRequest};

/// The longest a dispensation may be granted for, in months.
const MAX_MONTHS: u32 = dispensation::DEFAULT_MAX_MONTHS;

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
        plan: &Plan,
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
            MAX_MONTHS,
        )
        .map_err(|r| Error::Invalid(r.key()))?;
        let until = new.requested_until;
        let txn = store::begin_write(&self.db).await?;
        let id = store::dispensations::request(&txn, new, self.clock.now()).await?;
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
        plan: &Plan,
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
                MAX_MONTHS,
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
        let txn = store::begin_write(&self.db).await?;
        store::dispensations::decide(&txn, id, &decision, self.clock.now()).await?;
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
