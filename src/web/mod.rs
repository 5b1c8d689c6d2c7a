//! The web application: `beredskab serve`. Server-rendered pages that work without JavaScript,
//! from handlebars templates compiled into the binary.

pub mod i18n;
mod pages;
mod render;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::plan_files;
use crate::store;
pub use render::Templates;

/// Shared by every request handler.
#[derive(Clone)]
pub struct AppState {
    /// The database every page reads from.
    pub db: DatabaseConnection,
    /// The configuration the server was started with.
    pub config: Arc<Config>,
    /// Page templates and locale strings, loaded once at start.
    pub templates: Arc<Templates>,
}

/// Errors a request can end in. The status mapping lives in `into_response`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("rendering {template}: {message}")]
    Render { template: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::NotFound => {
                // The page itself is rendered by `pages::not_found_page`, which knows the
                // visitor's language.
                let mut response =
                    (StatusCode::NOT_FOUND, "Not found / Ikke fundet").into_response();
                response.extensions_mut().insert(NotFoundPage);
                response
            }
            other => {
                tracing::error!(error = %other, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error / Intern fejl: the server log has the details",
                )
                    .into_response()
            }
        }
    }
}

/// Marks a 404 that should be shown as the not-found page.
#[derive(Clone, Copy)]
struct NotFoundPage;

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Connects to the database, brings its schema up to date, imports the plans folder into an
    /// empty database, and binds the listener (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = store::connect(&config.database_url).await?;
        store::migrate(&db).await?;
        if config.import && store::plan_ids(&db).await?.is_empty() {
            import_plans(&db, &config.plans_dir).await?;
        }
        let templates = Templates::load()?;
        let listener = TcpListener::bind(config.bind).await?;
        let state = AppState {
            db,
            config: Arc::new(config),
            templates: Arc::new(templates),
        };
        Ok(Application {
            listener,
            router: router(state),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Imports every valid plan folder under `dir`; folders with errors are logged and skipped.
async fn import_plans(db: &DatabaseConnection, dir: &std::path::Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "plans folder not found: nothing imported");
        return Ok(());
    };
    let mut folders: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let today = chrono::Local::now().date_naive();
    for folder in folders {
        let loaded = plan_files::load(&folder, today)?;
        match loaded.plan {
            Some(plan) if !loaded.has_errors() => {
                store::import_plan(db, &plan).await?;
                tracing::info!(plan = %plan.id, systems = plan.systems.len(), "imported plan");
            }
            _ => {
                for e in loaded.errors() {
                    tracing::error!("{e}");
                }
                tracing::error!(folder = %folder.display(), "plan has errors: not imported");
            }
        }
    }
    Ok(())
}

fn router(state: AppState) -> Router {
    pages::router()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::not_found_page,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
