//! Signing in with an identity an identity provider vouched for, whatever the protocol
//! (OpenID Connect today, `oidc`; SAML could hand over the same): the identity is found by its
//! issuer and subject, or gets an account just in time, linked to the plan person with its
//! e-mail address; its groups refresh its memberships, and an account they give nothing is
//! refused. Each sign-in, refusal and account created is audited.

use super::{App, Result};
use crate::store::accounts::{self, Account, NewAccount};
use crate::store::{self, audit, identities};

/// Longest username accepted from an identity provider, in characters.
pub const USERNAME_MAX: usize = 200;

/// Who the identity provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The protocol: `oidc`.
    pub protocol: &'static str,
    /// The provider (OpenID Connect `iss`).
    pub issuer: String,
    /// The person at the provider, which never changes (OpenID Connect `sub`).
    pub subject: String,
    /// The username a new account gets.
    pub username: Option<String>,
    /// The name a new account shows.
    pub display_name: Option<String>,
    /// The address that links a new account to a plan person.
    pub email: Option<String>,
    /// The groups the person is in at the provider.
    pub groups: Vec<String>,
}

/// Why an identity the provider vouched for does not get in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No account has the identity, and accounts are not created just in time.
    UnknownUser,
    /// The identity's account is deactivated.
    Inactive,
    /// A new account needs a username and the provider sent none that can be used.
    NoUsername,
    /// The username is another account's (a local one, or another identity's).
    UsernameTaken,
    /// None of the person's groups gives access to any plan.
    NoAccess,
}

impl Refusal {
    /// The cause in a few English words, for the log and the audit record.
    pub fn cause(self) -> &'static str {
        match self {
            Refusal::UnknownUser => "unknown user and just-in-time accounts are off",
            Refusal::Inactive => "the account is deactivated",
            Refusal::NoUsername => "no usable username claim",
            Refusal::UsernameTaken => "the username belongs to another account",
            Refusal::NoAccess => "no group gives access to any plan",
        }
    }
}

/// Policy for identities without an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewIdentities {
    /// Create their account just in time.
    pub create_accounts: bool,
}

/// A username as an identity provider gives it: trimmed and in lower case (user principal
/// names and e-mail addresses ignore case), without spaces or control characters.
pub fn username_of(claim: &str) -> Option<String> {
    let name = claim.trim().to_lowercase();
    (!name.is_empty()
        && name.chars().count() <= USERNAME_MAX
        && !name.chars().any(|c| c.is_whitespace() || c.is_control()))
    .then_some(name)
}

impl App {
    /// Signs in `identity`: its account, or the reason it gets none. Audited either way.
    pub async fn sign_in_identity(
        &self,
        identity: &Identity,
        policy: NewIdentities,
    ) -> Result<Result<Account, Refusal>> {
        let found = identities::account_of(&self.db, &identity.issuer, &identity.subject).await?;
        let account = match found {
            Some(account) => account,
            None if !policy.create_accounts => {
                return self.refuse(identity, None, Refusal::UnknownUser).await;
            }
            None => match self.create_identity_account(identity).await? {
                Ok(account) => account,
                Err(refusal) => return self.refuse(identity, None, refusal).await,
            },
        };
        if !account.active {
            return self
                .refuse(identity, Some(&account), Refusal::Inactive)
                .await;
        }
        let refresh = self
            .refresh_memberships_from_groups(account.id, &identity.groups)
            .await?;
        if !refresh.any {
            return self
                .refuse(identity, Some(&account), Refusal::NoAccess)
                .await;
        }
        let now = self.clock.now();
        let txn = store::begin_write(&self.db).await?;
        identities::touch(&txn, &identity.issuer, &identity.subject, now).await?;
        let record = audit::Entry {
            actor: account.username.clone(),
            action: "sign-in-idp".into(),
            field: account.username.clone(),
            after: format!("{}: {}", identity.protocol, identity.issuer),
            ..Default::default()
        };
        audit::write(&txn, vec![record]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(Ok(account))
    }

    /// Records a sign-in through an identity provider that failed before an identity was
    /// known (the provider refused the code, the ID token did not hold), with its cause.
    pub async fn identity_sign_in_failed(
        &self,
        protocol: &str,
        issuer: &str,
        cause: &str,
    ) -> Result<()> {
        let record = audit::Entry {
            actor: format!("{protocol}: {issuer}"),
            action: "sign-in-idp-refused".into(),
            after: cause.to_string(),
            ..Default::default()
        };
        let txn = store::begin_write(&self.db).await?;
        audit::write(&txn, vec![record]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(())
    }

    /// Audits `refusal` of `identity` (with its account, if it has one) and returns it.
    async fn refuse(
        &self,
        identity: &Identity,
        account: Option<&Account>,
        refusal: Refusal,
    ) -> Result<Result<Account, Refusal>> {
        let who = account
            .map(|a| a.username.clone())
            .or_else(|| identity.username.as_deref().and_then(username_of))
            .unwrap_or_else(|| format!("{}: {}", identity.protocol, identity.subject));
        let record = audit::Entry {
            actor: who.clone(),
            action: "sign-in-idp-refused".into(),
            field: who,
            after: refusal.cause().to_string(),
            ..Default::default()
        };
        let txn = store::begin_write(&self.db).await?;
        audit::write(&txn, vec![record]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(Err(refusal))
    }

    /// The account of a new identity, made just in time: its username from the provider, no
    /// password (an empty hash matches none), the reading role (memberships come from the
    /// groups), linked to the one plan person with its e-mail address. With its identity and
    /// audit record in one transaction.
    async fn create_identity_account(
        &self,
        identity: &Identity,
    ) -> Result<Result<Account, Refusal>> {
        let Some(username) = identity.username.as_deref().and_then(username_of) else {
            return Ok(Err(Refusal::NoUsername));
        };
        let person_id = match &identity.email {
            Some(email) => {
                let people = identities::people_with_email(&self.db, email).await?;
                if people.len() > 1 {
                    tracing::warn!(
                        user = %username,
                        people = ?people,
                        "several plan people have the e-mail address: the account is linked to none"
                    );
                }
                (people.len() == 1).then(|| people[0].clone())
            }
            None => None,
        };
        let display_name = identity
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&username)
            .to_string();
        let txn = store::begin_write(&self.db).await?;
        let new = NewAccount {
            username: username.clone(),
            display_name,
            password_hash: String::new(),
            // Its memberships come from its groups, at once below and at each sign-in.
            administrator: false,
            memberships: Vec::new(),
            person_id: person_id.clone(),
            break_glass: false,
        };
        let Some(id) = accounts::create(&txn, new).await? else {
            txn.rollback().await.map_err(store::StoreError::from)?;
            return Ok(Err(Refusal::UsernameTaken));
        };
        let now = self.clock.now();
        identities::add(
            &txn,
            id,
            identity.protocol,
            &identity.issuer,
            &identity.subject,
            now,
        )
        .await?;
        let record = audit::Entry {
            actor: username.clone(),
            action: "account-create-idp".into(),
            field: username.clone(),
            after: format!(
                "{} ({}: {})",
                person_id.unwrap_or_default(),
                identity.protocol,
                identity.issuer
            ),
            ..Default::default()
        };
        audit::write(&txn, vec![record]).await?;
        let account = accounts::find(&txn, id)
            .await?
            .ok_or(super::Error::NotFound)?;
        txn.commit().await.map_err(store::StoreError::from)?;
        tracing::info!(user = %account.username, "account created just in time");
        Ok(Ok(account))
    }
}
