//! The OpenID Connect relying party: the provider's metadata and keys from discovery (kept, and
//! fetched again when they failed or have grown old, so that a provider that was down when the
//! server started does not keep it from signing anyone in later); the authorization request
//! (code flow with PKCE, `state` and `nonce`); and the way back: the code exchanged for an ID
//! token, the token checked, and its claims read into an `Identity` for `identity`. Also the
//! address that ends the session at the provider (RP-initiated logout).
//!
//! Nothing here touches the database: what the identity gets is decided in `identity`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::DateTime;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{
    AsyncHttpClient, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::RwLock;

use super::Clock;
use super::identity::Identity;
use crate::config::Config;
use crate::http_client::{HttpClient, HttpError};

/// The provider's metadata, with the end-session endpoint of RP-initiated logout.
type Metadata = openidconnect::ProviderMetadataWithLogout;

/// How long discovered metadata and keys are used before they are fetched again.
const METADATA_MAX_AGE: Duration = Duration::from_secs(6 * 3600);
/// How far the provider's clock may be from ours.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(60);

/// What the browser's session keeps between sending the person to the provider and their way
/// back: the three secrets of the request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// A sign-in through the provider that did not succeed, by cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The provider cannot be reached (or answered its discovery with something unusable).
    Unreachable(String),
    /// The provider sent the person back with an error (they cancelled, or it refused them).
    Provider(String),
    /// The provider refused to exchange the code: used before, expired, or not ours.
    CodeRefused(String),
    /// The provider's token answer cannot be read, or holds no ID token.
    BadResponse(String),
    /// The ID token expired.
    Expired(String),
    /// The ID token is not valid yet (issued in the future: the clocks differ).
    NotYetValid(String),
    /// The ID token is for another client.
    Audience(String),
    /// The ID token is from another issuer.
    Issuer(String),
    /// The ID token is unsigned (`alg: none`) or signed with an algorithm not allowed.
    Unsigned(String),
    /// The ID token's signature does not hold.
    Signature(String),
    /// The ID token's nonce is not the one of this browser's request.
    Nonce(String),
}

impl Failure {
    /// The cause for the log and the audit record.
    pub fn cause(&self) -> String {
        match self {
            Failure::Unreachable(m) => format!("identity provider unreachable: {m}"),
            Failure::Provider(m) => format!("the provider answered with an error: {m}"),
            Failure::CodeRefused(m) => format!("the provider refused the code: {m}"),
            Failure::BadResponse(m) => format!("unusable token response: {m}"),
            Failure::Expired(m) => format!("ID token expired: {m}"),
            Failure::NotYetValid(m) => format!("ID token not yet valid: {m}"),
            Failure::Audience(m) => format!("ID token for another audience: {m}"),
            Failure::Issuer(m) => format!("ID token from another issuer: {m}"),
            Failure::Unsigned(m) => format!("ID token unsigned or with a refused algorithm: {m}"),
            Failure::Signature(m) => format!("ID token signature: {m}"),
            Failure::Nonce(m) => format!("ID token nonce: {m}"),
        }
    }
}

/// The relying party of one provider, from the configuration.
pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    /// Where the provider sends people after logging them out: the login page.
    post_logout: String,
    scopes: Vec<String>,
    username_claim: String,
    groups_claim: String,
    email_claim: String,
    http: HttpClient,
    clock: Clock,
    discovered: RwLock<Option<Arc<Discovered>>>,
}

struct Discovered {
    metadata: Metadata,
    at: Instant,
}

impl Oidc {
    /// The relying party `config` describes, or `None` when no provider is configured.
    /// Nothing is fetched yet (see `discover`).
    pub fn from_config(config: &Config, clock: Clock) -> anyhow::Result<Option<Oidc>> {
        let (Some(issuer), Some(client_id)) = (&config.oidc_issuer, &config.oidc_client_id) else {
            return Ok(None);
        };
        Ok(Some(Oidc {
            issuer: IssuerUrl::new(issuer.clone())?,
            client_id: ClientId::new(client_id.clone()),
            client_secret: config
                .oidc_client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose().to_string())),
            redirect: RedirectUrl::new(config.oidc_redirect_uri())?,
            post_logout: config.link("/login"),
            scopes: config.oidc_scope_list(),
            username_claim: config.oidc_username_claim.clone(),
            groups_claim: config.oidc_groups_claim.clone(),
            email_claim: config.oidc_email_claim.clone(),
            http: HttpClient::new()?,
            clock,
            discovered: RwLock::new(None),
        }))
    }

    /// The issuer, as configured.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// The provider's metadata and keys: those kept, unless they are older than
    /// `METADATA_MAX_AGE` or `fresh` is asked for; then fetched again, and when that fails the
    /// old ones are used while there are any.
    async fn metadata(&self, fresh: bool) -> Result<Arc<Discovered>, Failure> {
        let kept = self.discovered.read().await.clone();
        if let Some(kept) = &kept
            && !fresh
            && kept.at.elapsed() < METADATA_MAX_AGE
        {
            return Ok(kept.clone());
        }
        match Metadata::discover_async(self.issuer.clone(), &self.http).await {
            Ok(metadata) => {
                let discovered = Arc::new(Discovered {
                    metadata,
                    at: Instant::now(),
                });
                *self.discovered.write().await = Some(discovered.clone());
                tracing::info!(issuer = %self.issuer.as_str(), "identity provider discovered");
                Ok(discovered)
            }
            Err(e) => {
                let message = error_chain(&e);
                match kept {
                    Some(kept) => {
                        tracing::warn!(issuer = %self.issuer.as_str(), error = %message, "identity provider discovery failed: using what was discovered before");
                        Ok(kept)
                    }
                    None => Err(Failure::Unreachable(message)),
                }
            }
        }
    }

    /// Fetches the provider's metadata and keys now (at start, so that the first sign-in does
    /// not wait); a failure is logged, and discovery is tried again at the next sign-in.
    pub async fn discover(&self) {
        if let Err(e) = self.metadata(false).await {
            tracing::warn!(issuer = %self.issuer.as_str(), cause = %e.cause(), "identity provider not discovered: sign-in through it is tried again when someone signs in; local accounts work meanwhile");
        }
    }

    fn client(
        &self,
        metadata: &Metadata,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// The address to send the browser to, and what its session must keep until it comes back.
    pub async fn start(&self) -> Result<(String, Pending), Failure> {
        let discovered = self.metadata(false).await?;
        let client = self.client(&discovered.metadata);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        // `openid` is added by the request itself.
        for scope in self.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            Pending {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        ))
    }

    /// Exchanges the `code` the provider sent back for an ID token, checks the token against
    /// `pending` (the request this browser made) and reads who signed in. Also returns the ID
    /// token as received, for logging out at the provider later.
    pub async fn finish(
        &self,
        pending: &Pending,
        code: &str,
    ) -> Result<(Identity, String), Failure> {
        let discovered = self.metadata(false).await?;
        let metadata = &discovered.metadata;
        let Some(token_url) = metadata.token_endpoint().cloned() else {
            return Err(Failure::BadResponse(
                "the provider's metadata names no token endpoint".into(),
            ));
        };
        let client = self.client(metadata).set_token_uri(token_url);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(answer) => {
                    Failure::CodeRefused(answer.to_string())
                }
                RequestTokenError::Request(e) => Failure::Unreachable(error_chain(&e)),
                RequestTokenError::Parse(e, _) => Failure::BadResponse(e.to_string()),
                RequestTokenError::Other(m) => Failure::BadResponse(m),
            })?;
        let Some(id_token) = response.id_token() else {
            return Err(Failure::BadResponse("no ID token in the answer".into()));
        };
        let nonce = Nonce::new(pending.nonce.clone());
        let checked = {
            let verifier = self.verifier(&client);
            id_token.claims(&verifier, &nonce).cloned()
        };
        let claims = match checked {
            Ok(claims) => claims,
            // The provider may have moved to new keys since discovery: fetch them once more.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let discovered = self.metadata(true).await?;
                let client = self.client(&discovered.metadata);
                let verifier = self.verifier(&client);
                id_token
                    .claims(&verifier, &nonce)
                    .cloned()
                    .map_err(refused)?
            }
            Err(e) => return Err(refused(e)),
        };
        let raw = id_token.to_string();
        let payload = payload_of(&raw)
            .ok_or_else(|| Failure::BadResponse("the ID token's claims cannot be read".into()))?;
        // `nbf` is not an ID token claim of its own, but a provider may send it: honoured.
        if let Some(nbf) = payload.get("nbf").and_then(Value::as_i64)
            && let Some(nbf) = DateTime::from_timestamp(nbf, 0)
            && nbf > self.clock.now() + CLOCK_SKEW
        {
            return Err(Failure::NotYetValid(format!("not before {nbf}")));
        }
        if payload.contains_key("_claim_names") && !payload.contains_key(&self.groups_claim) {
            tracing::warn!(
                claim = %self.groups_claim,
                "the ID token refers to its groups elsewhere (too many groups for the token): \
                 have the provider send only the groups assigned to the application"
            );
        }
        let text = |name: &str| {
            payload
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let identity = Identity {
            protocol: "oidc",
            issuer: claims.issuer().as_str().to_string(),
            subject: claims.subject().as_str().to_string(),
            username: text(&self.username_claim),
            display_name: text("name"),
            email: text(&self.email_claim),
            groups: groups_of(payload.get(&self.groups_claim)),
        };
        Ok((identity, raw))
    }

    /// The ID token checks: the client's (issuer, audience, signature with the provider's keys,
    /// the algorithms it announces and never `none`), expiry on our clock with some leeway for
    /// the provider's, and no token issued in the future.
    fn verifier<'a>(
        &self,
        client: &'a CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            impl openidconnect::EndpointState,
            openidconnect::EndpointMaybeSet,
        >,
    ) -> openidconnect::IdTokenVerifier<'a, openidconnect::core::CoreJsonWebKey> {
        let (expiry_clock, issue_clock) = (self.clock.clone(), self.clock.clone());
        client
            .id_token_verifier()
            .set_time_fn(move || expiry_clock.now() - CLOCK_SKEW)
            .set_issue_time_verifier_fn(move |iat| {
                if iat > issue_clock.now() + CLOCK_SKEW {
                    Err(format!("{NOT_YET}: issued at {iat}"))
                } else {
                    Ok(())
                }
            })
    }

    /// Where to send the browser to end its session at the provider too, if the provider
    /// offers RP-initiated logout; from what was discovered (no call is made: logging out works
    /// while the provider is down).
    pub async fn logout_url(&self, id_token: &str) -> Option<String> {
        let discovered = self.discovered.read().await.clone()?;
        let endpoint = discovered
            .metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()?;
        let mut url = endpoint.url().clone();
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token)
            .append_pair("client_id", self.client_id.as_str())
            .append_pair("post_logout_redirect_uri", &self.post_logout);
        Some(url.to_string())
    }
}

/// The mark the issue-time check puts on its message, to tell it from expiry.
const NOT_YET: &str = "issued in the future";

/// A refused ID token by cause.
fn refused(e: ClaimsVerificationError) -> Failure {
    match e {
        ClaimsVerificationError::Expired(m) if m.starts_with(NOT_YET) => Failure::NotYetValid(m),
        ClaimsVerificationError::Expired(m) => Failure::Expired(m),
        ClaimsVerificationError::InvalidAudience(m) => Failure::Audience(m),
        ClaimsVerificationError::InvalidIssuer(m) => Failure::Issuer(m),
        ClaimsVerificationError::InvalidNonce(m) => Failure::Nonce(m),
        ClaimsVerificationError::SignatureVerification(
            e @ (SignatureVerificationError::NoSignature
            | SignatureVerificationError::DisallowedAlg(_)
            | SignatureVerificationError::UnsupportedAlg(_)),
        ) => Failure::Unsigned(e.to_string()),
        ClaimsVerificationError::SignatureVerification(e) => Failure::Signature(e.to_string()),
        other => Failure::BadResponse(other.to_string()),
    }
}

/// The claims of a compact JWT, read without any check (the token was checked before).
fn payload_of(jwt: &str) -> Option<Map<String, Value>> {
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The groups of a groups claim: a list (of names or ids), or one group as a string.
fn groups_of(claim: Option<&Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match claim {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// An error with its sources, in one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_read_from_a_list_or_a_single_value() {
        let list = serde_json::json!(["beredskab-it", " ", 7, {"x": 1}]);
        assert_eq!(groups_of(Some(&list)), ["beredskab-it", "7"]);
        assert_eq!(
            groups_of(Some(&serde_json::json!("beredskab-it"))),
            ["beredskab-it"]
        );
        assert!(groups_of(None).is_empty());
        assert!(groups_of(Some(&Value::Null)).is_empty());
    }

    #[test]
    fn a_token_payload_is_read_from_its_middle_part() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"1","groups":["a"]}"#);
        let jwt = format!("eyJhbGciOiJub25lIn0.{payload}.");
        let claims = payload_of(&jwt).unwrap();
        assert_eq!(claims["sub"], "1");
        assert!(payload_of("no-dots").is_none());
        assert!(payload_of("a.!!!.c").is_none());
    }

    #[test]
    fn refusals_are_told_apart_by_cause() {
        assert!(matches!(
            refused(ClaimsVerificationError::Expired(format!("{NOT_YET}: x"))),
            Failure::NotYetValid(_)
        ));
        assert!(matches!(
            refused(ClaimsVerificationError::Expired("ID token expired".into())),
            Failure::Expired(_)
        ));
        assert!(matches!(
            refused(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoSignature
            )),
            Failure::Unsigned(_)
        ));
        assert!(matches!(
            refused(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::CryptoError("bad".into())
            )),
            Failure::Signature(_)
        ));
    }
}
