//! The command line: `validate`, `analyse`, `migrate`, `import`, `export`, `runbook export`,
//! `report annual`, `backup`, `restore`.
//!
//! Exit codes: 0 success (warnings allowed); 1 the plan has errors or the command failed;
//! 2 the input could not be read at all (or the command line is wrong).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::app::{App, Clock};
use crate::config::Config;
use crate::domain::analysis::{self, Assessment};
use crate::domain::{Duration, PlanId, SystemId};
use crate::plan_files::{self, LoadedPlan, Located};
use crate::startup::{self, Application};
use crate::store;

mod output;

use output::*;

#[derive(Parser, Debug)]
#[command(
    name = "beredskab",
    version,
    about = "ICT contingency plan manager and drill runner"
)]
pub struct Cli {
    /// Database: `sqlite://FILE?mode=rwc`, `postgres://…`, or a path to an SQLite file.
    /// [default: sqlite://beredskab.db?mode=rwc]
    #[arg(long, global = true, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Whether `--database-url` was given on the command line (not only in the environment).
    #[arg(skip)]
    database_given: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a plan folder: exit 0 without errors (warnings allowed), 1 with errors, 2 if the
    /// folder cannot be read. With `--database-url`, the warnings an approved dispensation in
    /// that database accepts are marked as accepted.
    Validate {
        /// The plan folder (holding plan.toml and systems/).
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The date review deadlines are checked against (default: today in Europe/Copenhagen).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// The language of the findings' messages (codes and fields stay as they are).
        #[arg(long, default_value = "en", value_parser = ["da", "en"])]
        language: String,
    },
    /// What an outage takes down, the order to recover in, and whether each RTO can be met.
    #[command(alias = "analyze")]
    Analyse {
        dir: PathBuf,
        /// Systems that are down, comma-separated (default: all of them, a full outage).
        #[arg(long, value_delimiter = ',', value_name = "ID,ID")]
        down: Option<Vec<String>>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run the web application.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
        /// A TOML configuration file (see the README for its keys).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The folder of plan folders imported into an empty database [default: plans].
        #[arg(long, value_name = "DIR")]
        plans: Option<PathBuf>,
        /// Do not import plans into an empty database.
        #[arg(long)]
        no_import: bool,
        /// Give every person in the plans an account with their plan role and a demo password,
        /// printed at start: for trying each role out.
        #[arg(long)]
        demo: bool,
    },
    /// Create or update the database schema.
    Migrate,
    /// Load a plan folder into the database (all or nothing; importing twice changes nothing).
    Import {
        dir: PathBuf,
        #[arg(long, value_name = "YYYY-MM-DD", hide = true)]
        today: Option<NaiveDate>,
    },
    /// Write a stored plan as a plan folder `DIR/<ID>/`.
    Export {
        /// The plan's id.
        #[arg(long)]
        plan: String,
        /// The folder to write the plan folder into.
        dir: PathBuf,
    },
    /// The offline runbook.
    Runbook {
        #[command(subcommand)]
        command: RunbookCommand,
    },
    /// Write a consistent copy of the SQLite database to FILE, while the server runs.
    Backup {
        /// The file to write (must not exist yet).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Replace the SQLite database by a backup, after checking it. Stop the server first.
    Restore {
        /// The backup to restore.
        file: PathBuf,
    },
    /// Reports on a stored plan.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// A stored plan as a spreadsheet.
    Sheet {
        #[command(subcommand)]
        command: SheetCommand,
    },
}

#[derive(Subcommand, Debug)]
enum SheetCommand {
    /// Read systems from an XLSX, ODS or CSV file into the draft (see the README for the
    /// columns): the preview, then one transaction. Exit 1 when a cell cannot be used (nothing
    /// is written), 2 when the file cannot be read.
    Import {
        file: PathBuf,
        #[arg(long)]
        plan: String,
        /// The sheet to read [default: the first].
        #[arg(long)]
        sheet: Option<String>,
        /// Show the preview only; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Leave out the rows with a cell that cannot be used (they are listed) and import the
        /// rest, instead of writing nothing.
        #[arg(long)]
        leave_out_errors: bool,
        /// Add to the plan the people the sheet names (by name or e-mail) that it lacks,
        /// instead of counting them as errors.
        #[arg(long)]
        create_people: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The language of the preview [default: da].
        #[arg(long, default_value = "da", value_parser = ["da", "en"])]
        language: String,
    },
    /// Write the draft's systems, recovery steps and people as an XLSX file.
    Export {
        #[arg(long)]
        plan: String,
        #[arg(long, value_name = "FILE.xlsx")]
        out: PathBuf,
        /// The language of headers and durations [default: da].
        #[arg(long, default_value = "da", value_parser = ["da", "en"])]
        language: String,
    },
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// Write the annual report (årsrapport) of a year as one self-contained HTML file, or as a
    /// Word document for the committee's agenda (`--format docx`).
    Annual {
        /// The plan's id.
        #[arg(long)]
        plan: String,
        /// The year to report on (up to today while it runs).
        #[arg(long)]
        year: i32,
        /// The file to write.
        #[arg(long, value_name = "FILE.html|FILE.docx")]
        out: PathBuf,
        /// What to write: one HTML file, or a Word document.
        #[arg(long, value_enum, default_value_t = DocumentFormat::Html)]
        format: DocumentFormat,
        /// The language of the file [default: da].
        #[arg(long, default_value = "da", value_parser = ["da", "en"])]
        language: String,
        /// The time zone the report's times are shown in.
        #[arg(long, default_value = "Europe/Copenhagen")]
        time_zone: String,
    },
}

#[derive(Subcommand, Debug)]
enum RunbookCommand {
    /// Write the latest approved version of a stored plan as one self-contained HTML file, or
    /// as a Word document for print (`--format docx`).
    Export {
        /// The plan's id.
        #[arg(long)]
        plan: String,
        /// The file to write.
        #[arg(long, value_name = "FILE.html|FILE.docx")]
        out: PathBuf,
        /// What to write: the offline HTML file, or a Word document laid out for print.
        #[arg(long, value_enum, default_value_t = DocumentFormat::Html)]
        format: DocumentFormat,
        /// Use the draft when no version is approved yet (it is marked as such in the file).
        #[arg(long)]
        draft: bool,
        /// The language of the file [default: da].
        #[arg(long, default_value = "da", value_parser = ["da", "en"])]
        language: String,
    },
}

/// The form of a document the command line writes.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum DocumentFormat {
    /// One self-contained HTML file.
    Html,
    /// A Word document (DOCX).
    Docx,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    cli.database_given = matches.value_source("database_url") == Some(ValueSource::CommandLine);
    match run(cli) {
        Ok(code) => code,
        // `beredskab analyse … | head`: the reader has all it wanted.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

const INVALID: u8 = 1;
const UNREADABLE: u8 = 2;

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let url = database_url(
        cli.database_url
            .as_deref()
            .unwrap_or(store::DEFAULT_DATABASE_URL),
    );
    match cli.command {
        Command::Serve {
            bind,
            config,
            plans,
            no_import,
            demo,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
                )
                .init();
            // The environment's DATABASE_URL is read by the configuration's own layering.
            let mut config = Config::load(config.as_deref(), |k| std::env::var(k).ok())?;
            if let Some(given) = cli.database_url {
                config.database_url = given;
            }
            config.database_url = database_url(&config.database_url);
            config.bind = bind.unwrap_or(config.bind);
            config.plans_dir = plans.unwrap_or(config.plans_dir);
            config.import &= !no_import;
            config.demo |= demo;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(async {
                let app = Application::build(config.clone()).await?;
                tracing::info!("listening on http://{}:{}", config.bind.ip(), app.port());
                app.run_until_stopped(startup::shutdown_signal()).await?;
                Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
            })
        }
        Command::Validate {
            dir,
            format,
            today,
            language,
        } => {
            let Some(mut loaded) = load(&dir, today)? else {
                return Ok(ExitCode::from(UNREADABLE));
            };
            if cli.database_given
                && let Some(plan) = &loaded.plan
            {
                let dispensations = block_on(async {
                    let db = store::connect(&url)
                        .await
                        .with_context(|| connecting(&url))?;
                    let found = store::dispensations::of_plan(&db, plan.id.as_str())
                        .await
                        .context("reading the plan's dispensations")?;
                    db.close().await.ok();
                    Ok(found)
                })?;
                accept(&mut loaded, &dispensations, today);
            }
            print_findings(&loaded, format, &language)?;
            Ok(ExitCode::from(if loaded.has_errors() {
                INVALID
            } else {
                0
            }))
        }
        Command::Analyse { dir, down, format } => {
            let Some(loaded) = load(&dir, None)? else {
                return Ok(ExitCode::from(UNREADABLE));
            };
            let plan = match loaded.plan {
                Some(plan) if !loaded.has_errors() => plan,
                _ => {
                    print_errors_to_stderr(&loaded);
                    return Ok(ExitCode::from(INVALID));
                }
            };
            let down = match down {
                None => None,
                Some(ids) => {
                    let mut parsed = Vec::new();
                    for id in ids.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
                        match SystemId::parse(id) {
                            Ok(id) => parsed.push(id),
                            Err(e) => {
                                eprintln!("error: --down: {e}");
                                return Ok(ExitCode::from(INVALID));
                            }
                        }
                    }
                    Some(parsed)
                }
            };
            let assessment = match analysis::assess(&plan, down.as_deref()) {
                Ok(a) => a,
                Err(unknown) => {
                    let hints: Vec<String> = unknown
                        .0
                        .iter()
                        .map(|id| {
                            analysis::did_you_mean(id, plan.systems.iter().map(|s| s.id.as_str()))
                        })
                        .collect();
                    eprintln!("error: --down: {unknown}{}", hints.concat());
                    return Ok(ExitCode::from(INVALID));
                }
            };
            print_assessment(&plan, &assessment, format, down.is_none())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => block_on(async {
            let db = store::connect(&url)
                .await
                .with_context(|| connecting(&url))?;
            store::migrate(&db).await?;
            println!("database schema is up to date");
            Ok(ExitCode::SUCCESS)
        }),
        Command::Import { dir, today } => {
            let Some(loaded) = load(&dir, today)? else {
                return Ok(ExitCode::from(UNREADABLE));
            };
            let plan = match loaded.plan {
                Some(plan) if !loaded.has_errors() => plan,
                _ => {
                    print_errors_to_stderr(&loaded);
                    eprintln!("nothing was imported: fix the errors above first");
                    return Ok(ExitCode::from(INVALID));
                }
            };
            block_on(async {
                let db = store::connect(&url)
                    .await
                    .with_context(|| connecting(&url))?;
                store::migrate(&db).await?;
                let busy = Progress::busy(&format!(
                    "writing {} systems to the database",
                    plan.systems.len()
                ));
                let outcome = store::import_plan(&db, &plan).await?;
                let library_changed =
                    store::drills::import_scenarios(&db, &plan.id, &loaded.scenarios).await?;
                busy.finish();
                let what = match outcome {
                    store::ImportOutcome::Unchanged if library_changed => "scenarios updated",
                    store::ImportOutcome::Created => "created",
                    store::ImportOutcome::Updated => "updated",
                    store::ImportOutcome::Unchanged => "unchanged",
                };
                println!(
                    "plan {}: {what} ({} systems, {} people, {} scenarios)",
                    plan.id,
                    plan.systems.len(),
                    plan.people.len(),
                    loaded.scenarios.len()
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Backup { out } => block_on(async {
            if store::backup::sqlite_path(&url).is_none() {
                anyhow::bail!(store::backup::BackupError::NotSqlite);
            }
            let db = store::connect(&url)
                .await
                .with_context(|| connecting(&url))?;
            store::backup::backup(&db, &out).await?;
            let size = std::fs::metadata(&out).map_or(0, |m| m.len());
            println!("wrote {} ({} KB)", out.display(), size / 1024);
            Ok(ExitCode::SUCCESS)
        }),
        Command::Restore { file } => block_on(async {
            let target = store::backup::sqlite_path(&url).ok_or_else(|| {
                anyhow::anyhow!(
                    "restore replaces an SQLite database file; restore PostgreSQL with pg_restore (see the README)"
                )
            })?;
            let applied = store::backup::restore(&file, &target).await?;
            // A backup from an older version is brought up to date.
            let db = store::connect(&url)
                .await
                .with_context(|| connecting(&url))?;
            store::migrate(&db).await?;
            println!(
                "restored {} from {} ({applied} migrations in the backup)",
                target.display(),
                file.display()
            );
            Ok(ExitCode::SUCCESS)
        }),
        Command::Report {
            command:
                ReportCommand::Annual {
                    plan,
                    year,
                    out,
                    format,
                    language,
                    time_zone,
                },
        } => {
            let id = PlanId::parse(&plan).map_err(|e| anyhow::anyhow!("--plan: {e}"))?;
            let time_zone = crate::domain::drill::time_zone(&time_zone)
                .map_err(|e| anyhow::anyhow!("--time-zone: {e}"))?;
            block_on(async {
                let app = open_app(&url, time_zone).await?;
                use crate::app::reports::{self, AnnualError};
                let data = app
                    .annual_report(&id, year, &language)
                    .await
                    .map_err(|e| match e {
                        AnnualError::NoPlan(_) => {
                            anyhow::anyhow!("--plan: no plan {:?} in the database", id.as_str())
                        }
                        e @ AnnualError::Future { .. } => anyhow::anyhow!("--year: {e}"),
                        e => anyhow::anyhow!(e),
                    })?;
                let bytes = match format {
                    DocumentFormat::Html => {
                        reports::annual_file(&app.templates, data, &language)?.into_bytes()
                    }
                    DocumentFormat::Docx => {
                        crate::render::reports::annual(&app.templates, &data, &language)?
                    }
                };
                write_bytes(&out, &bytes)?;
                println!("wrote {} ({} KB)", out.display(), bytes.len() / 1024);
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Sheet {
            command:
                SheetCommand::Import {
                    file,
                    plan,
                    sheet,
                    dry_run,
                    leave_out_errors,
                    create_people,
                    format,
                    language,
                },
        } => {
            let id = PlanId::parse(&plan).map_err(|e| anyhow::anyhow!("--plan: {e}"))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            block_on(async {
                let app = open_app(&url, Config::default().time_zone).await?;
                let Some(plan) = app.plan(&id).await? else {
                    anyhow::bail!("--plan: no plan {:?} in the database", id.as_str());
                };
                let actor = crate::domain::access::Actor {
                    username: store::IMPORT_ACTOR.to_string(),
                    administrator: true,
                    roles: Vec::new(),
                    person: None,
                };
                let act = if dry_run {
                    crate::app::sheets::SheetAct::Preview
                } else {
                    crate::app::sheets::SheetAct::Apply
                };
                let bar = output::SheetBar::new(&app, &language);
                let progress = |p| bar.show(p);
                let outcome = app
                    .sheet_import(
                        &id,
                        &actor,
                        &bytes,
                        crate::app::sheets::SheetOptions {
                            sheet: sheet.as_deref(),
                            how: crate::domain::sheet::Reading {
                                leave_out: leave_out_errors,
                                create_people,
                            },
                            columns: None,
                            progress: Some(&progress),
                        },
                        act,
                    )
                    .await;
                bar.done();
                match outcome {
                    Ok(done) => {
                        print_sheet_import(&app, &plan, &done, format, &language, dry_run)?;
                        Ok(ExitCode::from(if done.has_errors() || done.stale {
                            INVALID
                        } else {
                            0
                        }))
                    }
                    Err(crate::app::sheets::SheetImportError::Sheet(e)) => {
                        eprintln!("error: {}: {e}", file.display());
                        Ok(ExitCode::from(UNREADABLE))
                    }
                    Err(crate::app::sheets::SheetImportError::App(e)) => Err(e.into()),
                }
            })
        }
        Command::Sheet {
            command:
                SheetCommand::Export {
                    plan,
                    out,
                    language,
                },
        } => {
            let id = PlanId::parse(&plan).map_err(|e| anyhow::anyhow!("--plan: {e}"))?;
            block_on(async {
                let app = open_app(&url, Config::default().time_zone).await?;
                let Some(plan) = app.plan(&id).await? else {
                    anyhow::bail!("--plan: no plan {:?} in the database", id.as_str());
                };
                let bytes = app.plan_sheet(&plan, &language).await?;
                write_bytes(&out, &bytes)?;
                println!(
                    "wrote {} ({} systems, {} KB)",
                    out.display(),
                    plan.systems.len(),
                    bytes.len() / 1024
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Runbook {
            command:
                RunbookCommand::Export {
                    plan,
                    out,
                    format,
                    draft,
                    language,
                },
        } => {
            let id = PlanId::parse(&plan).map_err(|e| anyhow::anyhow!("--plan: {e}"))?;
            block_on(async {
                let app = open_app(&url, Config::default().time_zone).await?;
                let Some(shown) = app.runbook(&id).await? else {
                    anyhow::bail!("--plan: no plan {:?} in the database", id.as_str());
                };
                if shown.version.is_none() && !draft {
                    anyhow::bail!(
                        "plan {id} has no approved version yet: approve it first, or pass --draft"
                    );
                }
                let today = app.clock.today();
                let bytes = match format {
                    DocumentFormat::Html => crate::render::runbook::offline(
                        &app.templates,
                        &shown.document(),
                        &language,
                        today,
                    )?
                    .into_bytes(),
                    DocumentFormat::Docx => crate::render::runbook::docx(
                        &app.templates,
                        &shown.document(),
                        &language,
                        today,
                    )?,
                };
                write_bytes(&out, &bytes)?;
                println!(
                    "wrote {} ({}, {} systems, {} KB)",
                    out.display(),
                    shown
                        .version
                        .as_ref()
                        .map_or("the draft".to_string(), |v| format!("version {}", v.number)),
                    shown.plan.systems.len(),
                    bytes.len() / 1024
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Export { plan, dir } => {
            let id = PlanId::parse(&plan).map_err(|e| anyhow::anyhow!("--plan: {e}"))?;
            block_on(async {
                let db = store::connect(&url)
                    .await
                    .with_context(|| connecting(&url))?;
                store::migrate(&db).await?;
                let Some(plan) = store::load_plan(&db, &id).await? else {
                    let known: Vec<String> = store::plan_ids(&db)
                        .await?
                        .iter()
                        .map(|p| p.to_string())
                        .collect();
                    let known = if known.is_empty() {
                        "the database holds no plans".to_string()
                    } else {
                        format!("stored plans: {}", known.join(", "))
                    };
                    anyhow::bail!(
                        "--plan: no plan {:?} in the database ({known})",
                        id.as_str()
                    );
                };
                let out = dir.join(id.as_str());
                let library = store::drills::scenarios(&db, &id).await?;
                let bar = Progress::new("writing system files");
                plan_files::write_with_progress(&plan, &out, &mut |done, total| {
                    bar.at(done, total)
                })
                .inspect(|()| bar.finish())
                .and_then(|()| plan_files::scenarios::write(&library, &out))
                .with_context(|| format!("writing {}", out.display()))?;
                println!(
                    "wrote {} (plan.toml, {} system files and {} scenarios)",
                    out.display(),
                    plan.systems.len(),
                    library.len()
                );
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}

/// The application on the database at `url` (brought up to date), for a command that reads
/// plans the way the server does.
async fn open_app(url: &str, time_zone: chrono_tz::Tz) -> anyhow::Result<App> {
    let db = store::connect(url).await.with_context(|| connecting(url))?;
    store::migrate(&db).await?;
    let config = Config {
        database_url: url.to_string(),
        time_zone,
        ..Config::default()
    };
    App::new(db, config, Clock::system(time_zone))
}

fn connecting(url: &str) -> String {
    // Never print a password that may be part of the URL.
    let shown = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    };
    format!("connecting to {shown}")
}

/// A bare path means an SQLite file, created on first use.
fn database_url(given: &str) -> String {
    if given.contains(':') {
        given.to_string()
    } else {
        format!("sqlite://{given}?mode=rwc")
    }
}

fn block_on<T>(future: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(future)
}

/// Writes `bytes` to `out` through a temporary file and a rename.
fn write_bytes(out: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = out.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, out))
        .with_context(|| format!("writing {}", out.display()))
}
