//! Acts that cannot be undone ask first, and say afterwards that they happened.
//!
//! The button of such an act posts its form without `confirmed`, and is answered with the
//! confirmation page (also reached by a plain link, as a GET of the same address): what will
//! happen and what is still unfinished, in the reader's language, and a form that posts the
//! same fields again with `confirmed=1`. Only that post acts. The JSON API acts directly.
//!
//! After the act the handler leaves a [`Flash`] in the session; the next page rendered for that
//! session shows it once and removes it. A flash holds a locale key and numbers, never text a
//! user wrote.

use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::Session;

use super::auth::Viewer;
use super::pages::page;
use super::{AppState, Result};

/// The form field that says the confirmation page was seen.
pub(super) const FIELD: &str = "confirmed";

/// Whether a posted form carries the confirmation.
pub(super) fn confirmed(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, v)| k == FIELD && v == "1")
}

/// A choice of radio buttons on a confirmation page: its field, its legend (a finished text)
/// and its options (value, finished label), the first chosen.
pub(super) type Choice = (&'static str, String, Vec<(String, String)>);

/// A confirmation page: the question, the consequences, and the form that acts.
pub(super) struct Confirm {
    /// The page's heading, a finished text.
    pub title: String,
    /// What will happen, a finished text.
    pub lead: String,
    /// What is still unfinished or worth knowing first, each a finished text.
    pub points: Vec<String>,
    /// Where the confirmed form posts.
    pub action: String,
    /// Fields posted again with the confirmation (a comment written on the page before).
    pub hidden: Vec<(String, String)>,
    /// A choice to make with the confirmation.
    pub choice: Option<Choice>,
    /// The locale key of the confirming button.
    pub button: &'static str,
    /// The page to go back to without acting.
    pub back: String,
}

/// Renders the confirmation page.
pub(super) fn ask(
    state: &AppState,
    viewer: &Viewer,
    c: Confirm,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    page(
        state,
        viewer,
        "confirm",
        json!({
            "title": c.title,
            "lead": c.lead,
            "points": c.points,
            "action": c.action,
            "hidden": c.hidden.iter().map(|(name, value)| json!({"name": name, "value": value})).collect::<Vec<_>>(),
            "choice": c.choice.map(|(name, legend, options)| json!({
                "name": name,
                "legend": legend,
                "options": options.iter().enumerate().map(|(i, (value, label))| json!({"value": value, "label": label, "checked": i == 0, "id": format!("{name}-{i}")})).collect::<Vec<_>>(),
            })),
            "button": c.button,
            "back": c.back,
        }),
    )
    .map(IntoResponse::into_response)
}

/// The session key of the message waiting for the next page.
const FLASH_KEY: &str = "flash";

/// A message for the next page: a locale key of the `flash` table, with a count (`{n}`, and
/// the `_one` form for one) and a number written as it is (`{number}`: a version).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flash {
    pub key: String,
    pub n: Option<i64>,
    pub number: Option<i64>,
}

impl Flash {
    pub(super) fn new(key: &'static str) -> Self {
        Flash {
            key: key.to_string(),
            n: None,
            number: None,
        }
    }

    pub(super) fn count(mut self, n: usize) -> Self {
        self.n = Some(i64::try_from(n).unwrap_or(i64::MAX));
        self
    }

    pub(super) fn number(mut self, number: i64) -> Self {
        self.number = Some(number);
        self
    }

    /// The message in `lang`; nothing for a key outside the `flash` table.
    pub(super) fn text(&self, state: &AppState, lang: &str) -> Option<String> {
        if !self.key.starts_with("flash.") {
            return None;
        }
        let text = match self.n {
            Some(n) => state
                .templates
                .counted(lang, &self.key, usize::try_from(n).unwrap_or(0)),
            None => state.templates.locales.get(lang, &self.key)?.to_string(),
        };
        Some(match self.number {
            Some(number) => text.replace("{number}", &number.to_string()),
            None => text,
        })
    }
}

/// Leaves `flash` for the next page the viewer opens.
pub(super) async fn tell(viewer: &Viewer, flash: Flash) -> Result<()> {
    if let Some(session) = &viewer.session {
        session
            .insert(FLASH_KEY, flash)
            .await
            .map_err(super::auth::session_error)?;
    }
    Ok(())
}

/// The waiting message, taken out of the session (which is then saved without it). Only read
/// when there is one, so that a session without one is not written.
pub(super) async fn take(session: &Session) -> Result<Option<Flash>> {
    let waiting = session
        .get::<Flash>(FLASH_KEY)
        .await
        .map_err(super::auth::session_error)?;
    if waiting.is_some() {
        session
            .remove_value(FLASH_KEY)
            .await
            .map_err(super::auth::session_error)?;
    }
    Ok(waiting)
}
