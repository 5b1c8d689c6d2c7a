//! The second factor of a local account: a TOTP authenticator (RFC 6238: six digits, 30-second
//! steps, one step of clock skew either way) and ten single-use recovery codes. A code is
//! accepted once: the last time step taken is stored, and a step at or before it is refused.
//!
//! Recovery codes are stored as their SHA-256, not argon2: each is 16 random characters from a
//! 32-letter alphabet (80 bits), too many to guess even against a fast hash, and a plain hash
//! lets the one code typed be found by an indexed lookup instead of ten slow verifications.
//! Every act (enrolment, disabling, a recovery code used) and its audit record are one
//! transaction; a code itself is never recorded.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use totp_rs::{Builder, Secret, Totp};

use super::{App, Error, Result};
use crate::store::accounts::{self, Account};
use crate::store::{self, audit};

/// The name authenticator apps show beside the account.
const ISSUER: &str = "beredskab";
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
/// The letters of a recovery code: no `l` or `o`, which read as `1` and `0`.
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// Characters in a recovery code (each 5 bits).
const RECOVERY_CHARS: usize = 16;
/// TOTP step in seconds.
const STEP: u64 = 30;

/// A new TOTP secret (160 random bits, as RFC 4226 recommends), in base32 as apps take it.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).expect("the operating system's random source is unavailable");
    Secret::from(bytes).to_base32()
}

/// The authenticator for `secret` (base32) and `username`; `None` for a secret that is not one.
fn totp(secret: &str, username: &str) -> Option<Totp> {
    let bytes = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_secret(bytes)
        .with_issuer(Some(ISSUER))
        .with_account_name(username.replace(':', "_"))
        .build()
        .ok()
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn otpauth_url(secret: &str, username: &str) -> Option<String> {
    totp(secret, username)?.to_url().ok()
}

/// The QR code of `text` as an SVG `data:` address for an `<img>`.
pub fn qr_data_uri(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let mut uri = String::from("data:image/svg+xml,");
    for c in svg.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '#' => uri.push_str("%23"),
            '<' => uri.push_str("%3C"),
            '>' => uri.push_str("%3E"),
            '"' => uri.push('\''),
            '\n' | '\r' => {}
            c => uri.push(c),
        }
    }
    Some(uri)
}

/// The secret in groups of four, as people type it.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The time step of `now`.
fn step_of(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0) / STEP
}

/// The step, within one of `now` either way and after `after`, whose code `code` is.
fn matching_step(totp: &Totp, code: &str, now: DateTime<Utc>, after: Option<i64>) -> Option<i64> {
    let origin = step_of(now);
    (origin.saturating_sub(1)..=origin + 1)
        .filter(|step| after.is_none_or(|last| i64::try_from(*step).is_ok_and(|s| s > last)))
        .find(|step| {
            super::accounts::constant_time_eq(&totp.generate(step * STEP).to_string(), code)
        })
        .and_then(|step| i64::try_from(step).ok())
}

/// What was typed: six digits (spaces allowed) are an authenticator code; anything else is
/// read as a recovery code, without its hyphens and spaces and in lower case.
enum Typed {
    Totp(String),
    Recovery(String),
}

fn typed(input: &str) -> Option<Typed> {
    let compact: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
        Some(Typed::Totp(compact))
    } else if compact.chars().count() == RECOVERY_CHARS {
        Some(Typed::Recovery(compact.to_lowercase()))
    } else {
        None
    }
}

/// A recovery code's stored form.
fn recovery_hash(compact: &str) -> String {
    super::accounts::token_hash(compact)
}

/// Ten new recovery codes, as shown (`abcd-efgh-ijkm-npqr`).
fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; RECOVERY_CHARS];
            getrandom::fill(&mut bytes)
                .expect("the operating system's random source is unavailable");
            let letters: Vec<u8> = bytes
                .iter()
                .map(|b| RECOVERY_ALPHABET[usize::from(*b & 31)])
                .collect();
            letters
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// How a second factor was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// A code from the authenticator app.
    Code,
    /// A recovery code, with how many are left.
    Recovery { left: u64 },
}

/// Takes `input` as the second factor of `account` inside `txn`: an authenticator code not
/// used before, or an unused recovery code (marked used). `None` for anything else.
async fn accept(
    txn: &impl ConnectionTrait,
    account: &Account,
    input: &str,
    now: DateTime<Utc>,
) -> Result<Option<Accepted>> {
    let Some((secret, last_step)) = accounts::second_factor(txn, account.id).await? else {
        return Ok(None);
    };
    match typed(input) {
        Some(Typed::Totp(code)) => {
            let Some(totp) = totp(&secret, &account.username) else {
                return Ok(None);
            };
            let Some(step) = matching_step(&totp, &code, now, last_step) else {
                return Ok(None);
            };
            Ok(accounts::take_totp_step(txn, account.id, step)
                .await?
                .then_some(Accepted::Code))
        }
        Some(Typed::Recovery(code)) => {
            if !accounts::use_recovery_code(txn, account.id, &recovery_hash(&code), now).await? {
                return Ok(None);
            }
            let left = accounts::recovery_codes_left(txn, account.id).await?;
            Ok(Some(Accepted::Recovery { left }))
        }
        None => Ok(None),
    }
}

/// The audit record of `action` on `account`'s second factor, by `actor`.
fn entry(actor: &str, action: &str, account: &Account, after: String) -> audit::Entry {
    audit::Entry {
        actor: actor.to_string(),
        action: action.into(),
        field: account.username.clone(),
        after,
        ..Default::default()
    }
}

/// The record of a recovery code used (never the code: how many are left).
fn recovery_entry(account: &Account, left: u64) -> audit::Entry {
    entry(
        &account.username,
        "recovery-code-use",
        account,
        format!("{left} left"),
    )
}

async fn commit(txn: DatabaseTransaction, records: Vec<audit::Entry>) -> Result<()> {
    if !records.is_empty() {
        audit::write(&txn, records).await?;
    }
    txn.commit().await.map_err(store::StoreError::from)?;
    Ok(())
}

impl App {
    /// Confirms an enrolment: `code` must be a current code of the new `secret`, and an account
    /// that has a factor already confirms the move with `current`, a code of that factor (or a
    /// recovery code). Stores the secret with ten new recovery codes, which are returned to be
    /// shown once.
    pub async fn enrol_second_factor(
        &self,
        account: &Account,
        secret: &str,
        code: &str,
        current: &str,
    ) -> Result<Vec<String>> {
        let totp = totp(secret, &account.username).ok_or(Error::Invalid("mfa.code_wrong"))?;
        let step = match typed(code) {
            Some(Typed::Totp(code)) => matching_step(&totp, &code, self.clock.now(), None),
            _ => None,
        }
        .ok_or(Error::Invalid("mfa.code_wrong"))?;
        let codes = new_recovery_codes();
        let hashes = codes
            .iter()
            .map(|c| recovery_hash(&c.replace('-', "")))
            .collect();
        let txn = store::begin_write(&self.db).await?;
        let mut records = Vec::new();
        if accounts::second_factor(&txn, account.id).await?.is_some() {
            match accept(&txn, account, current, self.clock.now()).await? {
                None => {
                    txn.rollback().await.map_err(store::StoreError::from)?;
                    return Err(Error::Invalid("mfa.current_wrong"));
                }
                Some(Accepted::Recovery { left }) => records.push(recovery_entry(account, left)),
                Some(Accepted::Code) => {}
            }
        }
        accounts::set_second_factor(&txn, account.id, Some((secret.to_string(), step)), hashes)
            .await?;
        let after = "TOTP".to_string();
        records.push(entry(
            &account.username,
            "second-factor-enrol",
            account,
            after,
        ));
        commit(txn, records).await?;
        Ok(codes)
    }

    /// The second step of signing in: `None` (nothing written) unless `input` is a code not
    /// used before or an unused recovery code; a recovery code used is recorded.
    pub async fn check_second_factor(
        &self,
        account: &Account,
        input: &str,
    ) -> Result<Option<Accepted>> {
        let txn = store::begin_write(&self.db).await?;
        let accepted = accept(&txn, account, input, self.clock.now()).await?;
        let records = match accepted {
            None => {
                txn.rollback().await.map_err(store::StoreError::from)?;
                return Ok(None);
            }
            Some(Accepted::Code) => vec![],
            Some(Accepted::Recovery { left }) => vec![recovery_entry(account, left)],
        };
        commit(txn, records).await?;
        Ok(accepted)
    }

    /// A user turns their own second factor off, confirming with a current code (or a
    /// recovery code); `false` (nothing written) when the code is not accepted.
    pub async fn disable_second_factor(&self, account: &Account, input: &str) -> Result<bool> {
        let txn = store::begin_write(&self.db).await?;
        let Some(accepted) = accept(&txn, account, input, self.clock.now()).await? else {
            txn.rollback().await.map_err(store::StoreError::from)?;
            return Ok(false);
        };
        let mut records = Vec::new();
        if let Accepted::Recovery { left } = accepted {
            records.push(recovery_entry(account, left));
        }
        accounts::set_second_factor(&txn, account.id, None, vec![]).await?;
        let actor = &account.username;
        records.push(entry(
            actor,
            "second-factor-disable",
            account,
            String::new(),
        ));
        commit(txn, records).await?;
        Ok(true)
    }

    /// An administrator removes the second factor of an account whose owner lost it; they
    /// enrol anew at their next sign-in (or on their account page).
    pub async fn remove_second_factor(&self, actor: &str, account: &Account) -> Result<()> {
        let txn = store::begin_write(&self.db).await?;
        accounts::set_second_factor(&txn, account.id, None, vec![]).await?;
        let record = entry(actor, "second-factor-remove", account, String::new());
        commit(txn, vec![record]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_taken_only_after_the_last_step_and_within_one_step_of_now() {
        let secret = new_secret();
        let totp = totp(&secret, "anne").unwrap();
        let now = Utc::now();
        let step = i64::try_from(step_of(now)).unwrap();
        let code = totp.generate(now.timestamp() as u64).to_string();
        assert_eq!(matching_step(&totp, &code, now, None), Some(step));
        assert_eq!(matching_step(&totp, &code, now, Some(step)), None);
        let earlier = totp.generate(now.timestamp() as u64 - 30).to_string();
        assert_eq!(matching_step(&totp, &earlier, now, None), Some(step - 1));
        let too_old = totp.generate(now.timestamp() as u64 - 90).to_string();
        assert_eq!(matching_step(&totp, &too_old, now, None), None);
    }

    #[test]
    fn typed_codes_are_read_as_people_type_them() {
        assert!(matches!(typed(" 123 456 "), Some(Typed::Totp(c)) if c == "123456"));
        assert!(
            matches!(typed("ABCD-efgh-ijkm-npqr"), Some(Typed::Recovery(c)) if c == "abcdefghijkmnpqr")
        );
        assert!(typed("12345").is_none());
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 19));
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }
}
