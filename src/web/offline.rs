//! The installable app and what it keeps for a phone without a connection: the web app manifest
//! and its icons, the service worker (served from the root so that it may answer for every
//! page), and `/offline.json`, the list of pages the service worker keeps for the account
//! signed in: the latest approved runbook and the pocket plan (the call tree with phone
//! numbers) of each of its plans, and every open incident's page. Each page comes with a
//! version (it is fetched again when that changes) and the banner it shows offline. Signed out,
//! the list answers 401 and the service worker forgets everything it kept.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::auth::Viewer;
use super::{AppState, Result};
use crate::domain::PlanId;
use crate::render::{self, i18n};
use crate::store::{self, incidents as store_incidents};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/manifest.webmanifest", get(manifest))
        .route("/sw.js", get(service_worker))
        .route("/icons/{file}", get(icon))
        .route(
            "/apple-touch-icon.png",
            get(|| icon(Path("icon-180.png".into()))),
        )
        .route("/offline.json", get(offline_list))
}

/// The web app manifest, in the visitor's language.
async fn manifest(State(state): State<AppState>, viewer: Viewer) -> Response {
    let t = |key: &str| state.templates.text(&viewer.lang, key);
    let body = json!({
        "name": t("offline.app_name"),
        "short_name": "beredskab",
        "description": t("offline.app_description"),
        "lang": viewer.lang,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [
            {"src": render::asset_path("favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": "/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    });
    (
        [
            (header::CONTENT_TYPE, "application/manifest+json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// The service worker. Always asked for again, so a new one takes over at the next visit.
async fn service_worker() -> Response {
    match render::static_file("sw.js") {
        Some((bytes, mime)) => (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `icon-192.png`, `icon-512.png`, `icon-180.png` (Apple's): the favicon drawn at that size.
async fn icon(Path(file): Path<String>) -> Response {
    let size = file
        .strip_prefix("icon-")
        .and_then(|rest| rest.strip_suffix(".png"))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| [180, 192, 512].contains(n));
    match size.and_then(render::icon_png) {
        Some(png) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            png,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The pages to keep for the account signed in; 401 for nobody.
async fn offline_list(State(state): State<AppState>, viewer: Viewer) -> Result<Response> {
    let Some(user) = &viewer.user else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({"error": "not signed in"})),
        )
            .into_response());
    };
    let lang = viewer.lang.as_str();
    let t = |key: &str| state.templates.text(lang, key);
    let when = |at: chrono::DateTime<chrono::Utc>, key: &str| {
        let local = state.clock.local(at);
        t(key)
            .replace("{date}", &i18n::date(local.date_naive(), lang))
            .replace("{time}", &local.format("%H:%M").to_string())
    };
    let now = state.clock.now();
    let mut pages: Vec<Value> = Vec::new();
    for plan in store::plan_summaries(&state.db).await? {
        if !user.reads_plan(plan.id.as_str()) {
            continue;
        }
        let Ok(id) = PlanId::parse(plan.id.as_str()) else {
            continue;
        };
        if let Some(shown) = state.runbook(&id).await? {
            // The approved version, or the draft where none is approved yet.
            let (version, banner) = match &shown.version {
                Some(v) => (
                    format!("v{}", v.number),
                    when(v.approved_at, "offline.banner_version")
                        .replace("{number}", &v.number.to_string()),
                ),
                None => (
                    format!("r{}", shown.revision),
                    when(now, "offline.banner_draft"),
                ),
            };
            for page in ["runbook", "pocket"] {
                pages.push(json!({
                    "url": format!("/plans/{id}/{page}"),
                    "title": format!("{} – {}", t(&format!("offline.page_{page}")), plan.name),
                    "version": format!("{version}|{lang}"),
                    "banner": banner,
                }));
            }
        }
        for incident in store_incidents::list(&state.db, plan.id.as_str()).await? {
            if incident.state == store_incidents::CLOSED {
                continue;
            }
            pages.push(json!({
                "url": format!("/incidents/{}", incident.id),
                "title": incident.title,
                "version": format!("i{}|{lang}", incident.revision),
                "banner": when(now, "offline.banner_incident"),
            }));
        }
    }
    // Kept apart per account, so one person's pages never open for another on a shared phone.
    let key = format!(
        "{:x}",
        Sha256::digest(
            format!(
                "{}|{}",
                user.account.id,
                user.account.created_at.timestamp()
            )
            .as_bytes()
        )
    );
    let assets: Vec<String> = [
        "app.css",
        "queue.js",
        "incident.js",
        "offline.js",
        "favicon.svg",
    ]
    .iter()
    .map(|a| render::asset_path(a))
    .collect();
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({
            "user": &key[..32],
            "pages": pages,
            "assets": assets,
            "offline_title": t("offline.unavailable_title"),
            "offline_text": t("offline.unavailable"),
            "kept": t("offline.kept"),
        })),
    )
        .into_response())
}
