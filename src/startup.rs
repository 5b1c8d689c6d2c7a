//! Start-up: connects the database and brings it up to date, imports the plans folder into an
//! empty database, builds the application, and starts the web server, the scheduler and the
//! mail worker. The only module that puts the web layer together with the rest.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::app::{App, Clock};
use crate::config::Config;
use crate::delivery::Senders;
use crate::mail::Mailer;
use crate::store::{self, StoreError};
use crate::{plan_files, scheduler, web};

/// Whether the background jobs run by themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jobs {
    /// The scheduler every minute, the mail worker whenever mail is queued: the server.
    Running,
    /// Only when `Background::run` is called: tests, which drive them step by step.
    ByHand,
}

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    app: App,
    senders: Senders,
    /// Tells the live streams the server is stopping.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Application {
    /// The server with the system clock and its background jobs running.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let clock = Clock::system(config.time_zone);
        Self::build_with(config, clock, Jobs::Running).await
    }

    /// Connects to the database, brings its schema up to date, imports the plans folder into
    /// an empty database, and binds the listener (port 0 picks a free port).
    pub async fn build_with(config: Config, clock: Clock, jobs: Jobs) -> anyhow::Result<Self> {
        let db = store::connect(&config.database_url).await?;
        store::migrate(&db).await?;
        if config.import && store::plan_ids(&db).await?.is_empty() {
            import_plans(&db, &config.plans_dir, clock.today()).await?;
            crate::metrics::release_freed_memory();
        }
        let listener = TcpListener::bind(config.bind).await?;
        // Port 0 picks a free port: the links follow the port bound.
        let mut config = config;
        if config.public_url.is_none() {
            config.bind = listener.local_addr()?;
        }
        tracing::info!(url = %config.public_url(), "links in mail and calendar feeds use this address");
        if let Some(warning) = config.public_url_warning() {
            tracing::warn!("{warning}");
        }
        let mailer = Mailer::from_config(&config)?;
        crate::app::accounts::bootstrap_accounts(&db, &config).await?;
        let app = App::new(db, config, clock)?;
        let senders = Senders::from_config(&app.config, mailer, app.live.clone())?;
        if jobs == Jobs::Running {
            crate::delivery::spawn_worker(
                app.db.clone(),
                senders.clone(),
                app.outbox.clone(),
                app.metrics.clone(),
            );
            scheduler::spawn(app.clone(), Duration::from_secs(60));
        }
        let (stop, stopping) = tokio::sync::watch::channel(false);
        crate::live::spawn_listener(app.live.clone(), app.db.clone(), stopping.clone());
        let router = web::router(app.clone(), stopping).await?;
        Ok(Application {
            listener,
            router,
            app,
            senders,
            stop,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The application the server serves.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The background jobs, to run by hand.
    pub fn background(&self) -> Background {
        Background {
            app: self.app.clone(),
            senders: self.senders.clone(),
        }
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = self.stop;
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Live streams never end by themselves: end them, so shutdown can finish.
            let _ = stop.send(true);
        })
        .await
    }
}

/// The scheduler's jobs and the mail worker's pass, run when asked.
#[derive(Clone)]
pub struct Background {
    app: App,
    senders: Senders,
}

impl Background {
    /// One pass of every scheduler job at `now`, then of the mail worker: returns how many
    /// sends the jobs queued and how many messages were handed over.
    pub async fn run(&self, now: DateTime<Utc>) -> crate::app::Result<(usize, usize)> {
        let queued = scheduler::pass(&self.app, now).await?;
        let sent = self.deliver_mail(now).await?;
        Ok((queued, sent))
    }

    /// One pass of the outbox worker at `now`: sends what is due, by every channel, until
    /// nothing is.
    pub async fn deliver_mail(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        crate::delivery::deliver_due_counted(&self.app.db, &self.senders, now, &self.app.metrics)
            .await
    }
}

/// Imports every valid plan folder under `dir`; folders with errors are logged and skipped.
async fn import_plans(
    db: &DatabaseConnection,
    dir: &std::path::Path,
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "plans folder not found: nothing imported");
        return Ok(());
    };
    let mut folders: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    for folder in folders {
        let loaded = plan_files::load(&folder, today)?;
        match loaded.plan {
            Some(plan) if !loaded.has_errors() => {
                store::import_plan(db, &plan).await?;
                store::drills::import_scenarios(db, &plan.id, &loaded.scenarios).await?;
                tracing::info!(plan = %plan.id, systems = plan.systems.len(), scenarios = loaded.scenarios.len(), "imported plan");
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
