//! What signing in leaves in the database, so that several servers on one database agree: the
//! failed logins per username (the throttle), the personal API tokens (checked, and their last
//! use recorded at most once a minute), and the sessions an account can see and end.

use chrono::{DateTime, Duration, Utc};

use super::{App, Result};
use crate::store::{self, accounts, accounts::Account, audit};

/// Failed logins a username may have within `THROTTLE_WINDOW` before further attempts are
/// refused, until the oldest of them is older than the window.
pub const THROTTLE_LIMIT: usize = 5;
/// The window the failures are counted in.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);

/// Days a new token is valid for unless its owner chooses otherwise, and at most.
pub const TOKEN_DAYS_DEFAULT: i64 = 90;
pub const TOKEN_DAYS_MAX: i64 = 365;
/// Longest token name, in characters.
pub const TOKEN_NAME_MAX: usize = 100;

/// What a bearer token is worth.
#[derive(Debug, Clone)]
pub enum TokenCheck {
    /// A valid token of this active account.
    Valid(Account),
    /// A token that expired at this moment.
    Expired(DateTime<Utc>),
    /// Unknown, revoked, or of an inactive account.
    Unknown,
}

/// What an administrator's "end all access" ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    pub sessions: u64,
    pub tokens: u64,
}

fn key(username: &str) -> String {
    username.trim().to_lowercase()
}

impl App {
    /// How much longer `username` is locked out, if it is.
    pub async fn login_locked(&self, username: &str) -> Result<Option<Duration>> {
        let now = self.clock.now();
        let failures =
            accounts::login_failures_since(&self.db, &key(username), now - THROTTLE_WINDOW).await?;
        Ok((failures.len() >= THROTTLE_LIMIT)
            .then(|| {
                failures
                    .first()
                    .map(|oldest| *oldest + THROTTLE_WINDOW - now)
            })
            .flatten())
    }

    /// Records a failed local login of `username` (as typed) for the throttle, and audits it
    /// with `why` (`password`, `not-break-glass`, `code`), in one transaction.
    pub async fn login_failed(&self, username: &str, why: &str) -> Result<()> {
        let typed: String = username.trim().chars().take(100).collect();
        let txn = store::begin_write(&self.db).await?;
        accounts::login_failure_add(&txn, &key(username), self.clock.now()).await?;
        let record = audit::Entry {
            actor: typed.clone(),
            action: "sign-in-local-refused".into(),
            field: typed,
            after: why.to_string(),
            ..Default::default()
        };
        audit::write(&txn, vec![record]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(())
    }

    /// Forgets the failures of `account`, which just signed in with its local password (and
    /// second factor), and audits the sign-in, marked when the account is break-glass.
    pub async fn login_succeeded(&self, account: &Account) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        accounts::login_failures_clear(&txn, &key(&account.username)).await?;
        let record = audit::Entry {
            actor: account.username.clone(),
            action: "sign-in-local".into(),
            field: account.username.clone(),
            after: if account.break_glass {
                "break-glass".into()
            } else {
                String::new()
            },
            ..Default::default()
        };
        audit::write(&txn, vec![record]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(())
    }

    /// Failed logins older than the window, which count no more: removed by the cleanup task.
    pub async fn login_failures_expire(&self) -> Result<u64> {
        let before = self.clock.now() - THROTTLE_WINDOW;
        Ok(accounts::login_failures_expire(&self.db, before).await?)
    }

    /// The account of a bearer token (by its hash), recording its use at most once a minute.
    pub async fn check_token(&self, hash: &str) -> Result<TokenCheck> {
        let Some((token, account)) = accounts::find_by_token_hash(&self.db, hash).await? else {
            return Ok(TokenCheck::Unknown);
        };
        if !account.active {
            return Ok(TokenCheck::Unknown);
        }
        let now = self.clock.now();
        if token.expires_at <= now {
            return Ok(TokenCheck::Expired(token.expires_at));
        }
        // Read first, written only when due: a burst of calls writes once. Only a note: a
        // database that takes no writes still answers what it can read.
        if token
            .last_used_at
            .is_none_or(|at| now - at >= Duration::seconds(accounts::TOUCH_SECONDS))
            && let Err(e) = accounts::token_touch(&self.db, token.id, now).await
        {
            tracing::warn!(error = %e, "recording an API token's last use");
        }
        Ok(TokenCheck::Valid(account))
    }

    /// The tokens of an account, newest first.
    pub async fn tokens(&self, account: &Account) -> Result<Vec<accounts::ApiToken>> {
        Ok(accounts::tokens_of_account(&self.db, account.id).await?)
    }

    /// A new token for `account` (by its hash), named and valid for `days` (1 to
    /// `TOKEN_DAYS_MAX`); audited.
    pub async fn create_token(
        &self,
        account: &Account,
        name: &str,
        days: i64,
        hash: String,
    ) -> Result<accounts::ApiToken> {
        let name = name.trim();
        if name.is_empty() {
            return Err(super::Error::Invalid("account.token_name_missing"));
        }
        if name.chars().count() > TOKEN_NAME_MAX {
            return Err(super::Error::Invalid("account.token_name_long"));
        }
        if !(1..=TOKEN_DAYS_MAX).contains(&days) {
            return Err(super::Error::Invalid("account.token_days_range"));
        }
        let now = self.clock.now();
        let expires_at = now + Duration::days(days);
        let txn = store::begin_write(&self.db).await?;
        let id = accounts::token_create(
            &txn,
            accounts::NewToken {
                account_id: account.id,
                name: name.to_string(),
                hash,
                created_at: now,
                expires_at,
            },
        )
        .await?;
        let record = audit::Entry {
            actor: account.username.clone(),
            action: "api-token-create".into(),
            field: account.username.clone(),
            after: format!("{name} (until {})", expires_at.date_naive()),
            ..Default::default()
        };
        audit::write(&txn, vec![record]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(accounts::ApiToken {
            id,
            account_id: account.id,
            name: name.to_string(),
            created_at: now,
            expires_at,
            last_used_at: None,
        })
    }

    /// Revokes one of `account`'s own tokens; audited. `NotFound` for a token that is not
    /// theirs (or is gone already).
    pub async fn revoke_token(&self, account: &Account, id: i64) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        let Some(token) = accounts::token_revoke(&txn, account.id, id).await? else {
            return Err(super::Error::NotFound);
        };
        let record = audit::Entry {
            actor: account.username.clone(),
            action: "api-token-revoke".into(),
            field: account.username.clone(),
            before: token.name,
            ..Default::default()
        };
        audit::write(&txn, vec![record]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(())
    }

    /// The live sessions of an account, the one used last first.
    pub async fn sessions(&self, account: &Account) -> Result<Vec<accounts::SessionInfo>> {
        let now = self.clock.now().timestamp();
        Ok(accounts::sessions_of_account(&self.db, account.id, now).await?)
    }

    /// Ends one of `account`'s own sessions (by its id); `NotFound` for one that is not theirs.
    pub async fn end_session(&self, account: &Account, id: &str) -> Result<()> {
        if accounts::session_of_account_end(&self.db, account.id, id).await? {
            Ok(())
        } else {
            Err(super::Error::NotFound)
        }
    }

    /// Ends every session, revokes every API token and closes the calendar feed of `account`
    /// (someone who leaves), in one transaction with its audit record.
    pub async fn end_access(&self, actor: &str, account: &Account) -> Result<Ended> {
        let txn = store::begin_write(&self.db).await?;
        let sessions = accounts::sessions_of_account_end(&txn, account.id).await?;
        let tokens = accounts::tokens_of_account_revoke(&txn, account.id).await?;
        let feed = accounts::has_calendar_feed(&txn, account.id).await?;
        if feed {
            accounts::set_calendar_token_hash(&txn, account.id, None, self.clock.now()).await?;
        }
        let record = audit::Entry {
            actor: actor.to_string(),
            action: "account-access-end".into(),
            field: account.username.clone(),
            before: format!(
                "{sessions} sessions, {tokens} API tokens, {} calendar feed",
                u8::from(feed)
            ),
            ..Default::default()
        };
        audit::write(&txn, vec![record]).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(Ended { sessions, tokens })
    }
}
