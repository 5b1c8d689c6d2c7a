//! Accounts: the administrator creates and changes them and resets passwords; a user changes
//! their own password and makes their calendar feed (API tokens and sessions: `sign_in`). Each act and its
//! audit record are one transaction. Secrets come in hashed.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use sha2::{Digest, Sha256};

use super::{App, Result};
use crate::domain::access::{Membership, demo_role};
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

/// An account's roles, person and state as the audit log shows them: `administrator`, or each
/// membership as `role@plan` (`*` for every plan).
pub fn describe(
    administrator: bool,
    memberships: &[Membership],
    person: &Option<String>,
    active: bool,
) -> String {
    let roles = if administrator {
        "administrator".to_string()
    } else {
        memberships_text(memberships)
    };
    format!(
        "{roles} {}{}",
        person.clone().unwrap_or_default(),
        if active { "" } else { " (inactive)" }
    )
    .trim()
    .to_string()
}

/// Memberships as `role@plan, …` (`*`: every plan; a group's in brackets after it).
pub fn memberships_text(memberships: &[Membership]) -> String {
    memberships
        .iter()
        .map(|m| {
            let plan = m.plan.as_deref().unwrap_or("*");
            match &m.group {
                Some(g) => format!("{}@{plan} [{g}]", m.role.as_str()),
                None => format!("{}@{plan}", m.role.as_str()),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl App {
    /// The names to show people by instead of their usernames.
    pub async fn names(&self) -> Result<Names> {
        Ok(accounts::names(&self.db).await?)
    }

    /// Creates an account; `None` (nothing written) if its username is taken.
    pub async fn create_account(&self, actor: &str, new: NewAccount) -> Result<Option<i64>> {
        let record = audit::Entry {
            after: describe(new.administrator, &new.memberships, &new.person_id, true),
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
            before: describe(
                before.administrator,
                &before.memberships,
                &before.person_id,
                before.active,
            ),
            after: describe(
                change.administrator,
                &merged(&before.memberships, &change.memberships),
                &change.person_id,
                change.active,
            ),
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

/// The memberships an account holds after an administrator gives it `given`: those, and the
/// ones its groups gave it, which stay.
fn merged(before: &[Membership], given: &[Membership]) -> Vec<Membership> {
    let mut all: Vec<Membership> = given
        .iter()
        .filter(|m| m.group.is_none())
        .chain(before.iter().filter(|m| m.group.is_some()))
        .cloned()
        .collect();
    all.sort();
    all.dedup();
    all
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
                administrator: true,
                memberships: Vec::new(),
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

/// One account per plan person (username = person id), with the role each plan gives them as
/// a membership of that plan, and one demo password, printed.
async fn demo_accounts(db: &DatabaseConnection, password: &str) -> anyhow::Result<()> {
    let hash = hash_password(password.to_string()).await?;
    // Each person's memberships across the plans, in the order the people are met.
    let mut people: Vec<(String, String, Vec<Membership>)> = Vec::new();
    for id in store::plan_ids(db).await? {
        let Some(plan) = store::load_plan(db, &id).await? else {
            continue;
        };
        for person in &plan.people {
            let username = person.id.to_string();
            let membership = Membership {
                plan: Some(plan.id.to_string()),
                role: demo_role(&plan, &username),
                group: None,
            };
            match people.iter_mut().find(|(u, _, _)| *u == username) {
                Some((_, _, held)) => held.push(membership),
                None => people.push((username, person.name.clone(), vec![membership])),
            }
        }
    }
    let mut lines = Vec::new();
    for (username, name, held) in people {
        match store::accounts::find_by_username(db, &username).await? {
            Some((account, _)) => {
                store::accounts::set_password_hash(db, account.id, hash.clone()).await?;
                let shown = describe(account.administrator, &account.memberships, &None, true);
                lines.push(format!("  {username:<24} {shown}"));
            }
            None => {
                lines.push(format!(
                    "  {username:<24} {}",
                    describe(false, &held, &None, true)
                ));
                store::accounts::create(
                    db,
                    store::accounts::NewAccount {
                        username: username.clone(),
                        display_name: name,
                        password_hash: hash.clone(),
                        administrator: false,
                        memberships: held,
                        person_id: Some(username),
                        break_glass: false,
                    },
                )
                .await?;
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
