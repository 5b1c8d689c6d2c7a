//! Accounts in the browser and the API: password hashing, sessions stored in the database
//! (with where each was signed in from), the signed-in user, bearer tokens, CSRF tokens, and
//! the accounts created at start. The login throttle is in the database (`app::sign_in`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{ConnectInfo, Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::{AppState, Error};
use crate::app::accounts::verify_password;
pub use crate::app::accounts::{hash_password, random_hex, random_password, token_hash};
use crate::app::sign_in::TokenCheck;
use crate::domain::access::{Actor, roles_in};
use crate::domain::edit::{char_code, forbidden_control};
use crate::store::{self, accounts::Account};

/// Session keys.
const ACCOUNT_KEY: &str = "account";
const CSRF_KEY: &str = "csrf";
/// Session keys set at sign-in: when (unix seconds), from which address and which browser.
const OPENED_KEY: &str = "opened";
const ADDR_KEY: &str = "addr";
const AGENT_KEY: &str = "agent";
/// Session key of a session signed in through an identity provider (`IdpSession`).
const IDP_KEY: &str = "idp";
/// The form field (or header) that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
const CSRF_HEADER: &str = "x-csrf-token";

/// Login state shared by all requests.
#[derive(Debug)]
pub struct Auth {
    /// A hash of a random password, verified for unknown usernames so that a login's timing
    /// does not tell whether the account exists.
    dummy_hash: String,
}

impl Auth {
    pub async fn new() -> anyhow::Result<Self> {
        Ok(Auth {
            dummy_hash: hash_password(random_password()).await?,
        })
    }
}

/// Sessions in the database, so they survive restarts and work across several servers.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    pub db: DatabaseConnection,
}

/// The session store's errors are strings; a database outage is marked at the start of one
/// so that `session_error` can answer 503 for it like for any other request.
const OUTAGE_MARK: &str = "database outage: ";
/// Each outage by the name it has in the mark.
const OUTAGES: [(store::Outage, &str); 4] = [
    (store::Outage::Unreachable, "unreachable"),
    (store::Outage::Full, "full"),
    (store::Outage::ReadOnly, "read-only"),
    (store::Outage::Busy, "busy"),
];

fn backend(e: store::StoreError) -> session_store::Error {
    let outage = e.outage();
    match OUTAGES.iter().find(|(o, _)| Some(*o) == outage) {
        Some((_, name)) => session_store::Error::Backend(format!("{OUTAGE_MARK}{name}: {e}")),
        None => session_store::Error::Backend(e.to_string()),
    }
}

/// The key under which `load` puts the session's account into the record.
const LOADED_ACCOUNT_KEY: &str = "loaded-account";
/// The key under which `load` puts whether the account's person owns or deputises a system.
const LOADED_OWNS_KEY: &str = "loaded-owns";

/// The record's data as stored: without what `load` added.
fn stored_data(record: &Record) -> session_store::Result<String> {
    let data: HashMap<&String, &serde_json::Value> = record
        .data
        .iter()
        .filter(|(k, _)| k.as_str() != LOADED_ACCOUNT_KEY && k.as_str() != LOADED_OWNS_KEY)
        .collect();
    serde_json::to_string(&data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// The record as a row: its data, and what its owner is shown of it in columns of their own.
fn session_row(record: &Record) -> session_store::Result<store::accounts::SessionRow> {
    let text = |key: &str| {
        record
            .data
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    Ok(store::accounts::SessionRow {
        id: record.id.to_string(),
        data: stored_data(record)?,
        expires_at: record.expiry_date.unix_timestamp(),
        account_id: record.data.get(ACCOUNT_KEY).and_then(|v| v.as_i64()),
        opened_at: record.data.get(OPENED_KEY).and_then(|v| v.as_i64()),
        client_addr: text(ADDR_KEY),
        user_agent: text(AGENT_KEY),
        now: time::OffsetDateTime::now_utc().unix_timestamp(),
    })
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            if store::accounts::session_create(&self.db, session_row(record)?)
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        store::accounts::session_save(&self.db, session_row(record)?)
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some(store::accounts::LoadedSession {
            data,
            expires_at,
            last_used_at,
            account,
        }) = store::accounts::session_load_with_account(&self.db, &id.to_string(), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        // "Last used" on the account page: written at most once a minute, not per request, and
        // only a note: a database that takes no writes still serves what it can read.
        if account.is_some()
            && last_used_at.is_none_or(|at| now - at >= store::accounts::TOUCH_SECONDS)
            && let Err(e) = store::accounts::session_touch(&self.db, &id.to_string(), now).await
        {
            tracing::warn!(error = %e, "recording a session's last use");
        }
        let mut data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        // The account as stored now travels with this request's record (never stored with it:
        // see `stored_data`), so that a request reads its session and account in one query.
        if let Some((account, owns)) = account {
            let value = serde_json::to_value(account)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
            data.insert(LOADED_ACCOUNT_KEY.to_string(), value);
            data.insert(LOADED_OWNS_KEY.to_string(), serde_json::Value::Bool(owns));
        }
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        store::accounts::session_delete(&self.db, &id.to_string())
            .await
            .map_err(backend)
    }
}

/// The signed-in account of a request.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub account: Account,
    /// The account in the plan the request is about (its path's, or the one a handler put it
    /// in with `in_plan`): outside a plan it holds no role.
    pub actor: Actor,
    /// Owns or deputises for a system of some plan: the navigation offers "my systems".
    pub owns_systems: bool,
}

impl SignedIn {
    /// The account as it stands in plan `plan`: with its roles there; `None` when it may not
    /// see the plan (no membership of it, and not the administrator).
    pub fn in_plan(&self, plan: &str) -> Option<SignedIn> {
        let actor = Actor {
            roles: roles_in(&self.account.memberships, plan),
            ..self.actor.clone()
        };
        actor.reads_plan().then(|| SignedIn {
            actor,
            ..self.clone()
        })
    }

    /// The account with every role it holds in any plan: for what leads across plans (the
    /// navigation's links, whose pages show each plan as its roles there allow).
    pub fn anywhere(&self) -> Actor {
        let mut roles: Vec<_> = self.account.memberships.iter().map(|m| m.role).collect();
        roles.sort();
        roles.dedup();
        Actor {
            roles,
            ..self.actor.clone()
        }
    }

    /// Of `plans`, those in which the account may do what `allowed` says; `None` for the
    /// administrator, who sees every plan and what belongs to none.
    pub fn plans_where(
        &self,
        plans: impl IntoIterator<Item = String>,
        allowed: impl Fn(&Actor) -> bool,
    ) -> Option<Vec<String>> {
        if self.account.administrator {
            return None;
        }
        Some(
            plans
                .into_iter()
                .filter(|p| self.in_plan(p).is_some_and(|u| allowed(&u.actor)))
                .collect(),
        )
    }

    /// Whether the account may see plan `plan` at all.
    pub fn reads_plan(&self, plan: &str) -> bool {
        self.account.administrator || self.account.memberships.iter().any(|m| m.covers(plan))
    }
}

pub(super) fn signed_in(account: Account) -> SignedIn {
    SignedIn {
        owns_systems: false,
        actor: Actor {
            username: account.username.clone(),
            administrator: account.administrator,
            roles: Vec::new(),
            person: account.person_id.clone(),
        },
        account,
    }
}

/// The plan a path is about: `/plans/{plan}/…` and `/api/v1/plans/{plan}/…`.
fn plan_of_path(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/api/v1/plans/")
        .or_else(|| path.strip_prefix("/plans/"))?;
    rest.split('/').next().filter(|id| !id.is_empty())
}

/// The viewer a request's handler resolved, kept for the error page of that request, which
/// then shows the signed-in navigation without reading the session again.
#[derive(Clone, Default)]
pub(super) struct SeenViewer(std::sync::Arc<std::sync::OnceLock<Viewer>>);

impl SeenViewer {
    pub(super) fn get(&self) -> Option<&Viewer> {
        self.0.get()
    }
}

/// Who is asking, in which language, with the CSRF token for the forms on the page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub lang: String,
    pub user: Option<SignedIn>,
    pub csrf: Option<String>,
    /// The path and query asked for: where to come back to after logging in.
    pub path: String,
    /// The request's session, where an act leaves its message for the next page.
    pub session: Option<Session>,
    /// The message an act left for this page (`confirm::Flash`), taken out of the session.
    pub flash: Option<super::confirm::Flash>,
    /// The request's path names a plan the signed-in account has no membership of: it is
    /// answered as if there were no such plan.
    pub outside: bool,
}

impl Viewer {
    /// The signed-in user, or a redirect to the login page; 404 when the path names a plan
    /// they may not see.
    pub fn require(&self) -> Result<&SignedIn, Error> {
        let user = self.user.as_ref().ok_or_else(|| Error::LoginRequired {
            next: self.path.clone(),
        })?;
        if self.outside {
            return Err(Error::NotFound);
        }
        Ok(user)
    }

    /// The signed-in user as they stand in plan `plan` (of an incident, drill, …): 404 when
    /// they may not see it, so that its name is not told.
    pub fn require_in(&self, plan: &str) -> Result<SignedIn, Error> {
        self.require()?.in_plan(plan).ok_or(Error::NotFound)
    }

    /// The signed-in user if `allowed` says yes; 403 otherwise.
    pub fn require_that(&self, allowed: impl FnOnce(&Actor) -> bool) -> Result<&SignedIn, Error> {
        let user = self.require()?;
        if allowed(&user.actor) {
            Ok(user)
        } else {
            Err(Error::Forbidden)
        }
    }
}

/// The language a request asked for by cookie, if any.
pub fn cookie_language(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == super::LANG_COOKIE && super::i18n::LANGUAGES.contains(value))
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string());
        let session = parts.extensions.get::<Session>().cloned();
        let mut user = None;
        let mut csrf = None;
        if let Some(session) = &session {
            csrf = session
                .get::<String>(CSRF_KEY)
                .await
                .map_err(session_error)?;
            if let Some(id) = session
                .get::<i64>(ACCOUNT_KEY)
                .await
                .map_err(session_error)?
            {
                // Read with the session; a session signed in during this very request has not
                // been loaded, and reads the account itself.
                let loaded = session
                    .get::<store::accounts::Account>(LOADED_ACCOUNT_KEY)
                    .await
                    .map_err(session_error)?
                    .filter(|a| a.id == id);
                let owns = session
                    .get::<bool>(LOADED_OWNS_KEY)
                    .await
                    .map_err(session_error)?;
                user = match (loaded, owns) {
                    (Some(account), Some(owns)) => Some(SignedIn {
                        owns_systems: owns,
                        ..signed_in(account)
                    }),
                    _ => match store::accounts::find(&state.db, id).await? {
                        Some(account) => Some(with_ownership(state, account).await?),
                        None => None,
                    },
                }
                .filter(|u| u.account.active);
                // While a second factor is required, a session of an account without one (made
                // before the setting) counts for nothing: its next sign-in leads to enrolment.
                // A session signed in through the identity provider had its factor there.
                if state.config.require_mfa
                    && user.as_ref().is_some_and(|u| !u.account.has_second_factor)
                    && idp_session(session).await?.is_none()
                {
                    user = None;
                }
            }
        }
        if user.is_none() {
            user = bearer_user(&parts.headers, state).await?;
        }
        // A page opened (not a script's request or a live stream, not a form sent) shows the
        // waiting message.
        let stream = parts
            .headers
            .get(header::ACCEPT)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let flash = match &session {
            Some(session)
                if parts.method == Method::GET
                    && user.is_some()
                    && !stream
                    && !super::by_script(&parts.headers) =>
            {
                super::confirm::take(session).await?
            }
            _ => None,
        };
        // In a plan's pages the account has the roles it holds there; one without any sees
        // nothing of the plan.
        let mut outside = false;
        if let (Some(u), Some(plan)) = (&user, plan_of_path(parts.uri.path())) {
            match u.in_plan(plan) {
                Some(scoped) => user = Some(scoped),
                None => outside = true,
            }
        }
        let lang = user
            .as_ref()
            .and_then(|u| u.account.language.clone())
            .or_else(|| cookie_language(&parts.headers))
            .unwrap_or_else(|| state.config.language.clone());
        let viewer = Viewer {
            lang,
            user,
            csrf,
            path,
            session,
            flash,
            outside,
        };
        if let Some(seen) = parts.extensions.get::<SeenViewer>() {
            let _ = seen.0.set(viewer.clone());
        }
        Ok(viewer)
    }
}

/// The token of an `Authorization: Bearer <token>` header. The scheme's name is
/// case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are the same.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let (scheme, token) = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim()
        .split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The account signed in, with whether its person owns or deputises a system.
async fn with_ownership(state: &AppState, account: Account) -> Result<SignedIn, Error> {
    let owns = store::accounts::owns_systems(&state.db, &account).await?;
    Ok(SignedIn {
        owns_systems: owns,
        ..signed_in(account)
    })
}

/// The account of an `Authorization: Bearer <token>` header, if it names an active one; an
/// expired token is refused with the day it expired.
async fn bearer_user(headers: &HeaderMap, state: &AppState) -> Result<Option<SignedIn>, Error> {
    let Some(token) = bearer_token(headers) else {
        return Ok(None);
    };
    match state.check_token(&token_hash(token)).await? {
        TokenCheck::Valid(account) => Ok(Some(signed_in(account))),
        TokenCheck::Expired(at) => Err(Error::TokenExpired {
            on: state.clock.local(at).date_naive(),
        }),
        TokenCheck::Unknown => Ok(None),
    }
}

pub(super) fn session_error(e: tower_sessions::session::Error) -> Error {
    if let tower_sessions::session::Error::Store(session_store::Error::Backend(message)) = &e
        && let Some(rest) = message.strip_prefix(OUTAGE_MARK)
        && let Some((outage, _)) = OUTAGES
            .iter()
            .find(|(_, name)| rest.split(':').next() == Some(*name))
    {
        return Error::Unavailable(*outage);
    }
    Error::Internal(format!("session: {e}"))
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, Error> {
    if let Some(token) = session
        .get::<String>(CSRF_KEY)
        .await
        .map_err(session_error)?
    {
        return Ok(token);
    }
    let token = random_hex(32);
    session
        .insert(CSRF_KEY, &token)
        .await
        .map_err(session_error)?;
    // Stored now rather than after the response, so that a database that cannot take it
    // gives this request a 503 naming the cause (the layer could only answer an empty 500).
    session.save().await.map_err(session_error)?;
    Ok(token)
}

/// Where a request comes from: the client's address and its browser in a few words.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub addr: Option<String>,
    pub agent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip());
        let agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(short_agent)
            .filter(|a| !a.is_empty());
        Ok(Client {
            addr: peer.map(|p| client_addr(p, &parts.headers).to_string()),
            agent,
        })
    }
}

/// The client's address: the peer's, or, when the peer is a reverse proxy on this machine
/// (a loopback address), the address it says it saw (the last `X-Forwarded-For` entry).
fn client_addr(peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if !peer.is_loopback() {
        return peer;
    }
    // The right-most entry is the one the proxy added; what is left of it the client wrote.
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|a| a.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer)
}

/// A `User-Agent` in a few words: the browser and the system (`Firefox, Windows`), or the
/// program's name (`curl`).
pub fn short_agent(agent: &str) -> String {
    const BROWSERS: [(&str, &str); 6] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let browser = BROWSERS
        .iter()
        .find(|(mark, _)| agent.contains(mark))
        .map(|(_, name)| *name);
    let system = SYSTEMS
        .iter()
        .find(|(mark, _)| agent.contains(mark))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b}, {s}"),
        (Some(b), None) => b.to_string(),
        _ => agent
            .split(['/', ' '])
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .take(40)
            .collect(),
    }
}

/// Starts a signed-in session under a new id (no session fixation), with a new CSRF token,
/// remembering when and where from (shown on the account page).
pub async fn sign_in(session: &Session, account_id: i64, client: &Client) -> Result<(), Error> {
    session.cycle_id().await.map_err(session_error)?;
    session
        .insert(ACCOUNT_KEY, account_id)
        .await
        .map_err(session_error)?;
    let opened = time::OffsetDateTime::now_utc().unix_timestamp();
    session
        .insert(OPENED_KEY, opened)
        .await
        .map_err(session_error)?;
    for (key, value) in [(ADDR_KEY, &client.addr), (AGENT_KEY, &client.agent)] {
        if let Some(value) = value {
            session.insert(key, value).await.map_err(session_error)?;
        }
    }
    session
        .insert(CSRF_KEY, random_hex(32))
        .await
        .map_err(session_error)?;
    session.save().await.map_err(session_error)
}

/// What a session signed in through an identity provider keeps of it: the protocol, and the ID
/// token it was signed in with, to end the provider's session on logout (`id_token_hint`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdpSession {
    pub protocol: String,
    pub id_token: String,
}

/// Starts a signed-in session for an account the identity provider vouched for (`sign_in`),
/// marked as such: it needs no local second factor, and logging out ends the provider's too.
pub async fn sign_in_through_provider(
    session: &Session,
    account_id: i64,
    client: &Client,
    idp: IdpSession,
) -> Result<(), Error> {
    session.insert(IDP_KEY, idp).await.map_err(session_error)?;
    sign_in(session, account_id, client).await
}

/// The identity-provider sign-in of the session, if it was signed in that way.
pub async fn idp_session(session: &Session) -> Result<Option<IdpSession>, Error> {
    session
        .get::<IdpSession>(IDP_KEY)
        .await
        .map_err(session_error)
}

/// Ends the session: its record is deleted, so the old cookie is worth nothing.
pub async fn sign_out(session: &Session) -> Result<(), Error> {
    session.flush().await.map_err(session_error)
}

/// Largest form accepted, in bytes.
pub const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// Refuses every state-changing request whose CSRF token (form field `csrf` or header
/// `X-CSRF-Token`) is not the session's. Requests with a bearer token carry no cookie and need
/// none. Forms are read here and handed on unchanged.
pub async fn csrf_guard(request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let session = request.extensions().get::<Session>().cloned();
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || bearer_token(request.headers()).is_some()
    {
        return next.run(request).await;
    }
    let expected = match &session {
        // The session cannot be read (the database is away): say so, not "form expired".
        Some(s) => match s.get::<String>(CSRF_KEY).await {
            Ok(token) => token,
            Err(e) => return session_error(e).into_response(),
        },
        None => None,
    };
    let header_token = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (parts, body) = request.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let is_upload =
        content_type.starts_with("multipart/form-data") && takes_upload(parts.uri.path());
    let limit = if is_upload {
        MAX_UPLOAD_BYTES
    } else {
        MAX_FORM_BYTES
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return Error::TooLarge.into_response(),
    };
    let pairs = if is_form {
        let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
        Form::<Vec<(String, String)>>::from_request(probe, &())
            .await
            .map(|Form(pairs)| pairs)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let form_token = if is_upload {
        upload_token(&parts, &bytes).await
    } else {
        pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.clone())
    };
    let given = header_token.or(form_token);
    match (expected, given) {
        (Some(expected), Some(given)) if crate::app::accounts::constant_time_eq(&expected, &given) => {
            if !checked_elsewhere(parts.uri.path())
                && let Some((field, c)) = pairs
                    .iter()
                    .find_map(|(k, v)| forbidden_control(v).map(|c| (k, c)))
            {
                return Error::ControlCharacter {
                    field: field.clone(),
                    code: char_code(c),
                }
                .into_response();
            }
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ if parts.uri.path().starts_with("/api/") => (
            axum::http::StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({
                "error": "missing or wrong X-CSRF-Token: send the session's token, or use a bearer token"
            })),
        )
            .into_response(),
        _ => Error::CsrfRejected.into_response(),
    }
}

/// Largest file accepted by a form that uploads one, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// The forms that upload a file (`multipart/form-data`): the spreadsheet import.
pub fn takes_upload(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(parts.as_slice(), ["", "plans", _, "import"])
}

/// The CSRF field of an upload form, which comes before its file.
async fn upload_token(
    parts: &axum::http::request::Parts,
    bytes: &axum::body::Bytes,
) -> Option<String> {
    let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
    let mut form = axum::extract::Multipart::from_request(probe, &())
        .await
        .ok()?;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some(CSRF_FIELD) {
            return field.text().await.ok();
        }
    }
    None
}

/// The forms that need no control-character check here: the system and plan-section editors,
/// whose every text is checked by the domain's field rules so that the problem is shown beside
/// its field with the input kept, and the login, which stores no text (its `next` is made a
/// safe path, and a wrong password is just wrong). Every other form is refused here, naming the
/// field.
fn checked_elsewhere(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "plans", _, "systems", _, "edit"]
            | ["", "plans", _, "sections", "edit"]
            | ["", "login"]
    )
}

/// Checks a login. `Ok(None)` for a wrong username or password (the same answer for both).
pub async fn check_login(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<Option<Account>, Error> {
    let found = store::accounts::find_by_username(&state.db, username.trim()).await?;
    let hash = found
        .as_ref()
        .map_or_else(|| state.auth.dummy_hash.clone(), |(_, h)| h.clone());
    let matches = verify_password(password.to_string(), hash).await;
    Ok(found
        .filter(|(account, _)| matches && account.active)
        .map(|(account, _)| account))
}

/// Sessions that expired, and failed logins that no longer count, are removed once an hour.
pub fn spawn_session_cleanup(app: crate::app::App) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            if let Err(e) = store::accounts::sessions_expire(&app.db, now).await {
                tracing::warn!(error = %e, "removing expired sessions");
            }
            if let Err(e) = app.login_failures_expire().await {
                tracing::warn!(error = %e, "removing old failed logins");
            }
        }
    });
}

/// The id of the request's session, if it has one.
pub async fn session_id(session: &Session) -> Option<String> {
    session.id().map(|id| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_read_as_browser_and_system() {
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(short_agent(firefox), "Firefox, Windows");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        assert_eq!(short_agent(edge), "Edge, Windows");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";
        assert_eq!(short_agent(iphone), "Safari, iOS");
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(short_agent(chrome), "Chrome, Linux");
        assert_eq!(short_agent("curl/8.5.0"), "curl");
        assert_eq!(short_agent(""), "");
    }

    #[test]
    fn a_local_proxy_names_the_client_and_others_cannot() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let remote: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_addr(local, &headers).to_string(), "198.51.100.7");
        assert_eq!(client_addr(remote, &headers), remote);
        assert_eq!(client_addr(local, &HeaderMap::new()), local);
    }
}
