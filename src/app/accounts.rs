//! Accounts: the administrator creates and changes them and resets passwords; a user changes
//! their own password and makes their calendar feed (API tokens and sessions: `sign_in`). Each act and its
//! audit record are one transaction. Secrets come in hashed.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use sha2::{Digest, Sha256};

use super::{App, Result};
use crate::domain::access::{AccessRole, demo_role};
use crate::store::accounts::{self, Account, AccountChange, Names, NewAccount};
use crate::store::{self, audit};

/// The audit record of `action` by `actor` on account `username`.
fn entry(actor: &str, action: &str, username: &str) -> audit::Entry {
    audit::Entry {
        actor: actor.to_string(),
        action: action.into(),
        field: username.to_string(),
        ..Default::default()
    }
}

/// An account's role, person and state as the audit log shows them.
fn describe(
    role: crate::domain::access::AccessRole,
    person: &Option<String>,
    active: bool,
) -> String {
    format!(
        "{} {}{}",
        role.as_str(),
        person.clone().unwrap_or_default(),
        if active { "" } else { " (inactive)" }
    )
}

impl App {
    /// The names to show people by instead of their usernames.
    pub async fn names(&self) -> Result<Names> {
        Ok(accounts::names(&self.db).await?)
    }

    /// Creates an account; `None` (nothing written) if its username is taken.
    pub async fn create_account(&self, actor: &str, new: NewAccount) -> Result<Option<i64>> {
        let record = audit::Entry {
            after: format!(
                "{} {}",
                new.role.as_str(),
                new.person_id.clone().unwrap_or_default()
            ),
            ..entry(actor, "account-create", &new.username)
        };
        let txn = store::begin_write(&self.db).await?;
        let Some(id) = accounts::create(&txn, new).await? else {
            return Ok(None);
        };
        finish(txn, record).await?;
        Ok(Some(id))
    }

    /// Changes an account's name, role, person or state (`before` as stored); an account made
    /// inactive is signed out everywhere.
    pub async fn change_account(
        &self,
        actor: &str,
        before: &Account,
        change: AccountChange,
    ) -> Result<()> {
        let record = audit::Entry {
            before: describe(before.role, &before.person_id, before.active),
            after: describe(change.role, &change.person_id, change.active),
            ..entry(actor, "account-change", &before.username)
        };
        let mut records = vec![record];
        if change.break_glass != before.break_glass {
            let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
            records.push(audit::Entry {
                before: yes_no(before.break_glass),
                after: yes_no(change.break_glass),
                ..entry(actor, "account-break-glass", &before.username)
            });
        }
        let txn = store::begin_write(&self.db).await?;
        let active = change.active;
        accounts::update(&txn, before.id, change).await?;
        if !active {
            accounts::sessions_of_account_end(&txn, before.id).await?;
        }
        audit::write(&txn, records).await?;
        txn.commit().await.map_err(store::StoreError::from)?;
        Ok(())
    }

    /// Gives `account` a new password (hashed) and signs it out everywhere.
    pub async fn reset_password(&self, actor: &str, account: &Account, hash: String) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        accounts::set_password_hash(&txn, account.id, hash).await?;
        accounts::sessions_of_account_end(&txn, account.id).await?;
        finish(
            txn,
            entry(actor, "account-password-reset", &account.username),
        )
        .await
    }

    /// A user's own new password (hashed).
    pub async fn change_own_password(&self, account: &Account, hash: String) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        accounts::set_password_hash(&txn, account.id, hash).await?;
        let actor = &account.username;
        finish(txn, entry(actor, "password-change", actor)).await
    }

    /// The language a user chose (pages and mail to them).
    pub async fn set_language(&self, account: &Account, lang: &str) -> Result<()> {
        Ok(accounts::set_language(&self.db, account.id, lang).await?)
    }

    /// A user's secret calendar feed address: made anew (its token's hash), replacing the old.
    pub async fn new_calendar_feed(&self, account: &Account, hash: String) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        accounts::set_calendar_token_hash(&txn, account.id, Some(hash), self.clock.now()).await?;
        let actor = &account.username;
        finish(txn, entry(actor, "calendar-feed-create", actor)).await
    }
}

/// Writes the audit record and commits.
async fn finish(txn: DatabaseTransaction, record: audit::Entry) -> Result<()> {
    audit::write(&txn, vec![record]).await?;
    txn.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

/// Hex of `n` random bytes from the operating system.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    crate::render::hex(&bytes)
}

/// A password people can type: 16 letters and digits without look-alikes (0/O, 1/l/I).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// An argon2id hash in PHC form. Slow on purpose: runs off the async workers.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

/// Whether `password` matches the PHC `hash`. A malformed hash never matches.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// API tokens are stored as their SHA-256.
pub fn token_hash(token: &str) -> String {
    crate::render::hex(&Sha256::digest(token.as_bytes()))
}

/// Whether two secrets are equal, in a time that does not tell how much of them matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Creates the first administrator in an empty accounts table and, with `demo`, an account for
/// every person in the stored plans. Passwords that were generated are printed to standard
/// output, once.
pub async fn bootstrap_accounts(
    db: &DatabaseConnection,
    config: &crate::config::Config,
) -> anyhow::Result<()> {
    if store::accounts::count(db).await? == 0 {
        let (password, generated) = match &config.admin_password {
            Some(p) => (p.expose().to_string(), false),
            None => (random_password(), true),
        };
        store::accounts::create(
            db,
            store::accounts::NewAccount {
                username: config.admin_user.clone(),
                display_name: "Administrator".to_string(),
                password_hash: hash_password(password.clone()).await?,
                role: AccessRole::Administrator,
                person_id: None,
                break_glass: true,
            },
        )
        .await?;
        tracing::info!(
            user = %config.admin_user,
            "created the administrator account, marked break-glass: sign in and set up two-step \
             verification on /account/second-factor"
        );
        if generated {
            println!(
                "Administrator account {:?} created with password: {password}\n\
                 (shown only now; set BEREDSKAB_ADMIN_PASSWORD to choose it yourself)\n\
                 It is a break-glass account: sign in and turn on two-step verification\n\
                 on /account/second-factor.",
                config.admin_user
            );
        }
    }
    if config.demo {
        let password = config
            .demo_password
            .as_ref()
            .map_or_else(random_password, |p| p.expose().to_string());
        demo_accounts(db, &password).await?;
    }
    Ok(())
}

/// One account per plan person (username = person id), with the role their plan gives them and
/// one demo password, printed.
async fn demo_accounts(db: &DatabaseConnection, password: &str) -> anyhow::Result<()> {
    let hash = hash_password(password.to_string()).await?;
    let mut lines = Vec::new();
    for id in store::plan_ids(db).await? {
        let Some(plan) = store::load_plan(db, &id).await? else {
            continue;
        };
        for person in &plan.people {
            let username = person.id.to_string();
            let role = demo_role(&plan, &username);
            match store::accounts::find_by_username(db, &username).await? {
                Some((account, _)) => {
                    store::accounts::set_password_hash(db, account.id, hash.clone()).await?;
                    lines.push(format!("  {username:<24} {}", account.role.as_str()));
                }
                None => {
                    store::accounts::create(
                        db,
                        store::accounts::NewAccount {
                            username: username.clone(),
                            display_name: person.name.clone(),
                            password_hash: hash.clone(),
                            role,
                            person_id: Some(username.clone()),
                            break_glass: false,
                        },
                    )
                    .await?;
                    lines.push(format!("  {username:<24} {}", role.as_str()));
                }
            }
        }
    }
    if !lines.is_empty() {
        println!(
            "Demo accounts, all with the password {password}:\n{}",
            lines.join("\n")
        );
    }
    Ok(())
}
