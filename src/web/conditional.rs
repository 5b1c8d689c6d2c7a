//! Conditional requests. What is served from the revision-keyed caches gets a strong `ETag`
//! computed from the keys of its content, before anything is rendered; a client that sends it
//! back in `If-None-Match` gets `304 Not Modified` without a page being rendered or sent.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::auth::Viewer;

/// A strong entity tag: a digest of the build, the viewer (pages carry the session's CSRF token,
/// the account's name and its permissions) and the keys that name the content.
pub(super) struct Tag(String);

impl Tag {
    /// The tag of a response showing `parts` to `viewer`.
    pub fn new(state: &AppState, viewer: &Viewer, parts: &[&str]) -> Tag {
        let mut digest = Sha256::new();
        let account = viewer.user.as_ref().map(|u| u.account.id).unwrap_or(0);
        for piece in [
            state.templates.build.as_str(),
            viewer.lang.as_str(),
            viewer.csrf.as_deref().unwrap_or(""),
            &account.to_string(),
        ]
        .into_iter()
        .chain(parts.iter().copied())
        {
            digest.update(piece.as_bytes());
            digest.update([0]);
        }
        Tag(format!(
            "\"{}\"",
            super::render::hex(&digest.finalize()[..12])
        ))
    }

    /// The tag of a page of a plan showing `what` (the plan's id first): besides the viewer, it changes with the plan's
    /// revision, its latest version, its exercise coverage, the day (review deadlines and
    /// clocks move with it) and the account's role and person (what it may edit).
    pub fn plan_page(
        state: &AppState,
        viewer: &Viewer,
        plan_state: &crate::store::edits::PlanState,
        what: &[&str],
    ) -> Tag {
        let today = state.clock.today().to_string();
        let revision = plan_state.revisions.revision.to_string();
        let version = format!("{:?}", plan_state.latest.as_ref().map(|v| v.number));
        let coverage = format!("{:?}", plan_state.coverage_stamp());
        let actor = viewer
            .user
            .as_ref()
            .map(|u| {
                let a = &u.actor;
                format!("{}|{:?}|{:?}", a.administrator, a.roles, a.person)
            })
            .unwrap_or_default();
        let mut parts = vec![today.as_str(), &revision, &version, &coverage, &actor];
        parts.extend_from_slice(what);
        Tag::new(state, viewer, &parts)
    }

    /// Whether the request's `If-None-Match` names this tag (or is `*`). The comparison is the
    /// weak one RFC 9110 §13.1.2 prescribes for `If-None-Match`.
    pub fn matches(&self, headers: &HeaderMap) -> bool {
        headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .any(|given| given == "*" || given.trim_start_matches("W/") == self.0)
    }

    /// `304 Not Modified` with the tag, or `None` when the client lacks this version.
    pub fn not_modified(&self, headers: &HeaderMap) -> Option<Response> {
        self.matches(headers).then(|| {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            self.attach(&mut response);
            response
        })
    }

    /// Puts the tag on `response`, which browsers must revalidate before reuse.
    pub fn attach(&self, response: &mut Response) {
        if let Ok(value) = HeaderValue::from_str(&self.0) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }

    /// `response` with the tag on it.
    pub fn on(&self, response: impl IntoResponse) -> Response {
        let mut response = response.into_response();
        self.attach(&mut response);
        response
    }
}
