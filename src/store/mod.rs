//! The database: the only code that talks to it. SQLite (a file) is the embedded default,
//! PostgreSQL the production option; both run the same migrations and the same queries.
//!
//! Query functions take `&impl ConnectionTrait`, so they run inside or outside a transaction.

pub mod accounts;
pub mod actions;
pub mod audit;
pub mod backup;
pub mod drills;
pub mod edits;
pub mod entities;
pub mod health;
pub mod incidents;
pub mod outbox;
pub mod reviews;

use std::collections::HashMap;

use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, IntoActiveModel};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use crate::domain::diff;
use crate::domain::*;
pub use edits::{PlanRevisions, plan_revisions};
use entities::*;

/// The database URL used when none is given: an SQLite file in the working directory, created
/// on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://beredskab.db?mode=rwc";

/// Connections to an SQLite file: enough for reading pages beside a writer on a small server.
const SQLITE_CONNECTIONS: u32 = 8;

/// Rows per INSERT: keeps every statement below SQLite's limit of bound parameters.
const INSERT_CHUNK: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// A stored value the domain cannot accept: the database was changed outside the program.
    #[error("stored {table} row {key}: {reason}")]
    Corrupt {
        table: &'static str,
        key: String,
        reason: String,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why the database cannot serve a request when the cause lies outside the program: the
/// request can be tried again once an operator has fixed it, and nothing was half-written
/// (the transaction was rolled back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The server cannot be reached, or dropped the connection (restarting, network down).
    Unreachable,
    /// The disk holding the database is full.
    Full,
    /// The database or its disk accepts no writes.
    ReadOnly,
    /// Other changes held the database longer than a request waits (the busy timeout), or
    /// PostgreSQL broke a deadlock or a serialization conflict by cancelling this one.
    Busy,
}

impl StoreError {
    /// The outage behind this error, if it is one.
    pub fn outage(&self) -> Option<Outage> {
        use sea_orm::{RuntimeErr, sqlx};
        let StoreError::Db(e) = self else {
            return None;
        };
        let runtime = match e {
            // Getting or opening a connection failed, whatever the reason given.
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return Some(Outage::Unreachable),
            DbErr::Exec(r) | DbErr::Query(r) => r,
            _ => return None,
        };
        let RuntimeErr::SqlxError(e) = runtime else {
            return None;
        };
        match e.as_ref() {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Some(Outage::Unreachable),
            sqlx::Error::Database(db) => {
                let code = db.code()?;
                match code.parse::<i32>() {
                    // SQLite result codes (the primary code is the low byte of an extended one).
                    Ok(sqlite) => match sqlite & 0xff {
                        13 => Some(Outage::Full),          // SQLITE_FULL
                        8 => Some(Outage::ReadOnly),       // SQLITE_READONLY
                        10 | 14 => Some(Outage::ReadOnly), // SQLITE_IOERR, SQLITE_CANTOPEN
                        5 | 6 => Some(Outage::Busy),       // SQLITE_BUSY, SQLITE_LOCKED
                        _ => None,
                    },
                    // PostgreSQL SQLSTATEs: shutting down, cannot connect, disk full, read-only.
                    Err(_) => match code.as_ref() {
                        "57P01" | "57P02" | "57P03" | "08000" | "08003" | "08006" => {
                            Some(Outage::Unreachable)
                        }
                        "53100" => Some(Outage::Full),
                        "25006" => Some(Outage::ReadOnly),
                        "40001" | "40P01" | "55P03" => Some(Outage::Busy),
                        _ => None,
                    },
                }
            }
            _ => None,
        }
    }
}

/// A pool that closes a connection returned to it inside a transaction (see `connect`).
fn close_open_transactions(
    pool: sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Postgres>,
) -> sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Postgres> {
    pool.after_release(|conn, _| {
        Box::pin(async move { Ok(!sea_orm::sqlx::Connection::is_in_transaction(conn)) })
    })
}

/// A pool that closes a connection returned to it inside a transaction, or one that SQLite
/// opened read-only (see `connect`).
fn close_open_transactions_and_read_only(
    pool: sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Sqlite>,
) -> sea_orm::sqlx::pool::PoolOptions<sea_orm::sqlx::Sqlite> {
    pool.after_release(|conn, _| {
        Box::pin(async move {
            Ok(
                !sea_orm::sqlx::Connection::is_in_transaction(conn)
                    && !opened_read_only(conn).await,
            )
        })
    })
}

/// Whether SQLite opened this connection read-only. It does so, silently, when the file or its
/// disk accepts no writes at the moment of opening, and the connection stays read-only after
/// the disk is writable again.
async fn opened_read_only(conn: &mut sea_orm::sqlx::SqliteConnection) -> bool {
    let Ok(mut handle) = conn.lock_handle().await else {
        return true;
    };
    // SAFETY: the handle is a live connection, locked for the length of the call, and the
    // schema name is a NUL-terminated string.
    unsafe {
        libsqlite3_sys::sqlite3_db_readonly(handle.as_raw_handle().as_ptr(), c"main".as_ptr()) == 1
    }
}

/// Starts a transaction that is going to write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`) and waits its turn behind another writer (the busy timeout). A deferred
/// transaction that read first would instead fail at its first write, without waiting, as
/// soon as another connection had committed in between (`SQLITE_BUSY_SNAPSHOT`): two system
/// owners saving at once, or a save during a scheduler pass. PostgreSQL needs nothing.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    Ok(db.begin_with_options(options).await?)
}

/// Takes the plan's row lock for the rest of the transaction (PostgreSQL; SQLite's write lock
/// is taken by `begin_write`) with an update that changes nothing. False if there is no plan.
async fn lock_plan(txn: &DatabaseTransaction, plan: &PlanId) -> Result<bool> {
    let locked = plans::Entity::update_many()
        .col_expr(plans::Column::Revision, Expr::col(plans::Column::Revision))
        .filter(plans::Column::Id.eq(plan.as_str()))
        .exec(txn)
        .await?;
    Ok(locked.rows_affected > 0)
}

/// The `n`th bind parameter of hand-written SQL, as the backend writes it.
fn param(backend: DbBackend, n: usize) -> String {
    if backend == DbBackend::Postgres {
        format!("${n}")
    } else {
        format!("?{n}")
    }
}

/// Connects to `url` (`sqlite://…` or `postgres://…`).
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_string());
    options.sqlx_logging(false);
    // While the database is unreachable a request fails after a few seconds with a clear
    // answer instead of waiting half a minute; the pool reconnects once it is back.
    options.acquire_timeout(std::time::Duration::from_secs(5));
    options.connect_timeout(std::time::Duration::from_secs(5));
    // A connection must come back to the pool outside any transaction. After a failed COMMIT
    // (a full disk) the driver still counts the transaction as open and SQLite keeps it open:
    // reused, every later "commit" on that connection would only release a savepoint inside
    // it, and acknowledged writes would never reach the file. Such a connection is closed
    // instead, which rolls the transaction back. A connection SQLite opened read-only (the disk
    // was read-only) is closed as well, so that writing works again, without a restart, as soon
    // as the disk does.
    options.map_sqlx_sqlite_pool_opts(close_open_transactions_and_read_only);
    if url.starts_with("sqlite:") && !url.contains(":memory:") {
        // The driver's default for SQLite is one connection, so every request would queue
        // behind one that waits for the write lock (another process importing, say). WAL lets
        // readers go on beside the writer; writers take turns (`begin_write`).
        options.max_connections(SQLITE_CONNECTIONS);
    }
    options.map_sqlx_postgres_pool_opts(close_open_transactions);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // Readers do not block the writer; concurrent writers wait instead of failing at once.
        db.execute_unprepared(
            "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;",
        )
        .await?;
    }
    Ok(db)
}

/// Brings the schema up to date.
pub async fn migrate(db: &DatabaseConnection) -> Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Created,
    Updated,
    /// The database already held exactly this plan: nothing was written.
    Unchanged,
}

/// Stores `plan`, replacing any stored plan with its id, in one transaction: all or nothing.
/// Importing the same plan twice writes nothing the second time.
pub async fn import_plan(db: &DatabaseConnection, plan: &Plan) -> Result<ImportOutcome> {
    let txn = begin_write(db).await?;
    // On PostgreSQL concurrent imports and saves of one plan queue on its row before reading
    // it, as they queue for the write lock on SQLite. The row is updated in place, never
    // deleted, so whoever waited on it goes on with the plan as this import leaves it.
    lock_plan(&txn, &plan.id).await?;
    let existing = load_plan(&txn, &plan.id).await?;
    let (outcome, revision) = match existing {
        Some(stored) if stored == *plan => return Ok(ImportOutcome::Unchanged),
        Some(stored) => {
            // Revisions only grow, so a form opened before the import cannot save over it.
            let revision = plan_revisions(&txn, &plan.id)
                .await?
                .map_or(0, |r| r.revision)
                + 1;
            let changes = diff::plan_changes(&stored, plan);
            audit::record(&txn, IMPORT_ACTOR, &plan.id, "import", &changes).await?;
            delete_plan_contents(&txn, &plan.id).await?;
            (ImportOutcome::Updated, revision)
        }
        None => (ImportOutcome::Created, 1),
    };
    write_plan(&txn, plan, revision, outcome == ImportOutcome::Created).await?;
    txn.commit().await?;
    Ok(outcome)
}

/// The actor recorded in the audit log for changes that came from plan files.
pub const IMPORT_ACTOR: &str = "(import)";

/// Removes everything that belongs to a plan but its row in `plans`.
async fn delete_plan_contents(db: &impl ConnectionTrait, id: &PlanId) -> Result<()> {
    let id = id.as_str();
    // Children first, so this works whether or not the backend enforces foreign keys.
    delete_rows::<impact_levels::Entity>(db, impact_levels::Column::PlanId, id).await?;
    delete_rows::<recovery_steps::Entity>(db, recovery_steps::Column::PlanId, id).await?;
    delete_rows::<system_dependencies::Entity>(db, system_dependencies::Column::PlanId, id).await?;
    delete_rows::<systems::Entity>(db, systems::Column::PlanId, id).await?;
    delete_rows::<channels::Entity>(db, channels::Column::PlanId, id).await?;
    delete_rows::<call_tree::Entity>(db, call_tree::Column::PlanId, id).await?;
    delete_rows::<plan_criteria::Entity>(db, plan_criteria::Column::PlanId, id).await?;
    delete_rows::<person_roles::Entity>(db, person_roles::Column::PlanId, id).await?;
    delete_rows::<people::Entity>(db, people::Column::PlanId, id).await?;
    delete_rows::<plan_roles::Entity>(db, plan_roles::Column::PlanId, id).await?;
    Ok(())
}

async fn delete_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    plan_column: E::Column,
    plan_id: &str,
) -> Result<()> {
    E::delete_many()
        .filter(plan_column.eq(plan_id))
        .exec(db)
        .await?;
    Ok(())
}

fn minutes(d: Duration) -> i64 {
    i64::try_from(d.minutes()).unwrap_or(i64::MAX)
}

/// Inserts rows in chunks; an empty list is a no-op.
async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<()>
where
    A: sea_orm::ActiveModelTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(INSERT_CHUNK).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Writes `plan` at `revision`: its row in `plans` is inserted if `new`, else updated, and
/// everything else is inserted (an update has deleted it first).
async fn write_plan(
    db: &impl ConnectionTrait,
    plan: &Plan,
    revision: i64,
    new: bool,
) -> Result<()> {
    let pid = plan.id.to_string();
    let s = &plan.sections;
    let row = plans::Model {
        id: pid.clone(),
        name: plan.name.clone(),
        organisation: plan.organisation.clone(),
        owner_role: plan.owner_role.to_string(),
        approver_role: plan.approver_role.to_string(),
        review_interval_minutes: minutes(plan.review_interval),
        exercise_interval_minutes: minutes(plan.exercise_interval),
        purpose: s.purpose.clone(),
        scope: s.scope.clone(),
        audience: s.audience.clone(),
        resources: s.resources.clone(),
        backups: s.backups.clone(),
        return_to_normal: s.return_to_normal.clone(),
        incident_handling: s.incident_handling.clone(),
        revision,
        sections_revision: revision,
    }
    .into_active_model();
    if new {
        plans::Entity::insert(row)
            .exec_without_returning(db)
            .await?;
    } else {
        // Every column is written, not only those the model marks as changed.
        plans::Entity::update(row.reset_all()).exec(db).await?;
    }

    let position = |i: usize| i32::try_from(i).unwrap_or(i32::MAX);
    insert_all(
        db,
        plan.roles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                plan_roles::Model {
                    plan_id: pid.clone(),
                    id: r.id.to_string(),
                    position: position(i),
                    name: r.name.clone(),
                    responsibilities: r.responsibilities.clone(),
                }
                .into_active_model()
            })
            .collect(),
    )
    .await?;
    insert_all(
        db,
        plan.people
            .iter()
            .enumerate()
            .map(|(i, p)| {
                people::Model {
                    plan_id: pid.clone(),
                    id: p.id.to_string(),
                    position: position(i),
                    name: p.name.clone(),
                    title: p.title.clone(),
                    email: p.email.clone(),
                    phone: p.phone.clone(),
                    revision,
                }
                .into_active_model()
            })
            .collect(),
    )
    .await?;
    insert_all(
        db,
        plan.people
            .iter()
            .flat_map(|p| {
                p.roles.iter().enumerate().map(|(i, r)| {
                    person_roles::Model {
                        plan_id: pid.clone(),
                        person_id: p.id.to_string(),
                        position: position(i),
                        role_id: r.to_string(),
                    }
                    .into_active_model()
                })
            })
            .collect(),
    )
    .await?;
    insert_section_rows(db, &pid, s, &plan.call_tree, &plan.channels).await?;
    let mut rows = SystemRows::default();
    for sys in &plan.systems {
        rows.add(&pid, sys, revision);
    }
    rows.insert(db).await
}

/// Inserts the rows of the plan-level lists: activation and stand-down criteria, call tree,
/// channels.
async fn insert_section_rows(
    db: &impl ConnectionTrait,
    pid: &str,
    s: &PlanSections,
    call_tree: &[CallTreeEntry],
    channels: &[Channel],
) -> Result<()> {
    let position = |i: usize| i32::try_from(i).unwrap_or(i32::MAX);
    let criteria = [
        (CRITERION_ACTIVATION, &s.activation_criteria),
        (CRITERION_STAND_DOWN, &s.stand_down_criteria),
    ];
    insert_all(
        db,
        criteria
            .iter()
            .flat_map(|(kind, list)| {
                list.iter().enumerate().map(|(i, text)| {
                    plan_criteria::Model {
                        plan_id: pid.to_string(),
                        kind: kind.to_string(),
                        position: position(i),
                        text: text.clone(),
                    }
                    .into_active_model()
                })
            })
            .collect(),
    )
    .await?;
    insert_all(
        db,
        call_tree
            .iter()
            .enumerate()
            .map(|(i, c)| {
                call_tree::Model {
                    plan_id: pid.to_string(),
                    position: position(i),
                    person_id: c.person.to_string(),
                    called_by: c.called_by.as_ref().map(PersonId::to_string),
                    note: c.note.clone(),
                }
                .into_active_model()
            })
            .collect(),
    )
    .await?;
    insert_all(
        db,
        channels
            .iter()
            .enumerate()
            .map(|(i, c)| {
                channels::Model {
                    plan_id: pid.to_string(),
                    position: position(i),
                    name: c.name.clone(),
                    purpose: c.purpose.clone(),
                    detail: c.detail.clone(),
                }
                .into_active_model()
            })
            .collect(),
    )
    .await
}

/// The rows of system sections, ready to insert.
#[derive(Default)]
struct SystemRows {
    systems: Vec<systems::ActiveModel>,
    dependencies: Vec<system_dependencies::ActiveModel>,
    steps: Vec<recovery_steps::ActiveModel>,
    impact: Vec<impact_levels::ActiveModel>,
}

impl SystemRows {
    fn add(&mut self, pid: &str, sys: &System, revision: i64) {
        let position = |i: usize| i32::try_from(i).unwrap_or(i32::MAX);
        let supplier = sys.supplier.clone().unwrap_or_default();
        self.systems.push(
            systems::Model {
                plan_id: pid.to_string(),
                id: sys.id.to_string(),
                name: sys.name.clone(),
                description: sys.description.clone(),
                owner: sys.owner.as_ref().map(PersonId::to_string),
                deputy: sys.deputy.as_ref().map(PersonId::to_string),
                criticality: sys.criticality.level().into(),
                rto_minutes: sys.rto.map(minutes),
                rpo_minutes: sys.rpo.map(minutes),
                mtpd_minutes: sys.mtpd.map(minutes),
                workaround: sys.workaround.clone(),
                verification: sys.verification.clone(),
                last_reviewed: sys.last_reviewed,
                reviewed_by: sys.reviewed_by.as_ref().map(PersonId::to_string),
                review_interval_minutes: sys.review_interval.map(minutes),
                supplier_name: sys.supplier.as_ref().map(|s| s.name.clone()),
                supplier_contact: supplier.contact,
                supplier_phone: supplier.phone,
                supplier_email: supplier.email,
                supplier_contract_restore_minutes: supplier.contract_restore.map(minutes),
                revision,
            }
            .into_active_model(),
        );
        self.dependencies
            .extend(sys.depends_on.iter().enumerate().map(|(i, d)| {
                system_dependencies::Model {
                    plan_id: pid.to_string(),
                    system_id: sys.id.to_string(),
                    position: position(i),
                    depends_on: d.to_string(),
                }
                .into_active_model()
            }));
        self.steps
            .extend(sys.recovery_steps.iter().enumerate().map(|(i, st)| {
                recovery_steps::Model {
                    plan_id: pid.to_string(),
                    system_id: sys.id.to_string(),
                    position: position(i),
                    text: st.text.clone(),
                    role_id: st.role.to_string(),
                    duration_minutes: minutes(st.duration),
                }
                .into_active_model()
            }));
        self.impact
            .extend(sys.impact.iter().enumerate().map(|(i, row)| {
                impact_levels::Model {
                    plan_id: pid.to_string(),
                    system_id: sys.id.to_string(),
                    position: position(i),
                    after_minutes: minutes(row.after),
                    level: row.level.as_str().to_string(),
                    citizens: row.citizens.clone(),
                    staff: row.staff.clone(),
                }
                .into_active_model()
            }));
    }

    /// Systems first: the other rows refer to them.
    async fn insert(self, db: &impl ConnectionTrait) -> Result<()> {
        insert_all(db, self.systems).await?;
        insert_all(db, self.dependencies).await?;
        insert_all(db, self.steps).await?;
        insert_all(db, self.impact).await?;
        Ok(())
    }
}

const CRITERION_ACTIVATION: &str = "activation";
const CRITERION_STAND_DOWN: &str = "stand_down";

/// Turns stored values back into domain values, naming the row when one is unusable.
struct Decode {
    table: &'static str,
    key: String,
}

impl Decode {
    fn new(table: &'static str, key: impl Into<String>) -> Self {
        Decode {
            table,
            key: key.into(),
        }
    }

    fn fail<T>(&self, reason: impl ToString) -> Result<T> {
        Err(StoreError::Corrupt {
            table: self.table,
            key: self.key.clone(),
            reason: reason.to_string(),
        })
    }

    fn id<T>(&self, text: &str, parse: fn(&str) -> Result<T, IdError>) -> Result<T> {
        parse(text).or_else(|e| self.fail(e))
    }

    fn opt_id<T>(
        &self,
        text: &Option<String>,
        parse: fn(&str) -> Result<T, IdError>,
    ) -> Result<Option<T>> {
        text.as_deref().map(|t| self.id(t, parse)).transpose()
    }

    fn duration(&self, minutes: i64) -> Result<Duration> {
        u64::try_from(minutes)
            .map(Duration::from_minutes)
            .or_else(|_| self.fail(format!("negative duration {minutes}")))
    }
}

/// Loads a whole plan, or `None` if there is no plan with this id.
pub async fn load_plan(db: &impl ConnectionTrait, id: &PlanId) -> Result<Option<Plan>> {
    let pid = id.as_str();
    let Some(row) = plans::Entity::find_by_id(pid.to_string()).one(db).await? else {
        return Ok(None);
    };
    let dec = Decode::new("plans", pid);

    let roles = plan_roles::Entity::find()
        .filter(plan_roles::Column::PlanId.eq(pid))
        .order_by_asc(plan_roles::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            let dec = Decode::new("plan_roles", &r.id);
            Ok(Role {
                id: dec.id(&r.id, RoleId::parse)?,
                name: r.name,
                responsibilities: r.responsibilities,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut roles_of: HashMap<String, Vec<RoleId>> = HashMap::new();
    for r in person_roles::Entity::find()
        .filter(person_roles::Column::PlanId.eq(pid))
        .order_by_asc(person_roles::Column::PersonId)
        .order_by_asc(person_roles::Column::Position)
        .all(db)
        .await?
    {
        let role = Decode::new("person_roles", &r.person_id).id(&r.role_id, RoleId::parse)?;
        roles_of.entry(r.person_id).or_default().push(role);
    }
    let people = people::Entity::find()
        .filter(people::Column::PlanId.eq(pid))
        .order_by_asc(people::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let dec = Decode::new("people", &p.id);
            Ok(Person {
                id: dec.id(&p.id, PersonId::parse)?,
                roles: roles_of.remove(&p.id).unwrap_or_default(),
                name: p.name,
                title: p.title,
                email: p.email,
                phone: p.phone,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut activation_criteria = Vec::new();
    let mut stand_down_criteria = Vec::new();
    for c in plan_criteria::Entity::find()
        .filter(plan_criteria::Column::PlanId.eq(pid))
        .order_by_asc(plan_criteria::Column::Kind)
        .order_by_asc(plan_criteria::Column::Position)
        .all(db)
        .await?
    {
        match c.kind.as_str() {
            CRITERION_ACTIVATION => activation_criteria.push(c.text),
            CRITERION_STAND_DOWN => stand_down_criteria.push(c.text),
            other => {
                return Decode::new("plan_criteria", pid).fail(format!("unknown kind {other:?}"));
            }
        }
    }

    let call_tree = call_tree::Entity::find()
        .filter(call_tree::Column::PlanId.eq(pid))
        .order_by_asc(call_tree::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            let dec = Decode::new("call_tree", c.position.to_string());
            Ok(CallTreeEntry {
                person: dec.id(&c.person_id, PersonId::parse)?,
                called_by: dec.opt_id(&c.called_by, PersonId::parse)?,
                note: c.note,
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let channels = channels::Entity::find()
        .filter(channels::Column::PlanId.eq(pid))
        .order_by_asc(channels::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|c| Channel {
            name: c.name,
            purpose: c.purpose,
            detail: c.detail,
        })
        .collect();

    let systems = load_systems(db, pid, None).await?;

    Ok(Some(Plan {
        id: id.clone(),
        owner_role: dec.id(&row.owner_role, RoleId::parse)?,
        approver_role: dec.id(&row.approver_role, RoleId::parse)?,
        review_interval: dec.duration(row.review_interval_minutes)?,
        exercise_interval: dec.duration(row.exercise_interval_minutes)?,
        name: row.name,
        organisation: row.organisation,
        sections: PlanSections {
            purpose: row.purpose,
            scope: row.scope,
            audience: row.audience,
            activation_criteria,
            stand_down_criteria,
            resources: row.resources,
            backups: row.backups,
            return_to_normal: row.return_to_normal,
            incident_handling: row.incident_handling,
        },
        roles,
        people,
        call_tree,
        channels,
        systems,
    }))
}

/// A plan's systems in id order (or only the system `only`), each with its dependencies, steps
/// and impact table.
async fn load_systems(
    db: &impl ConnectionTrait,
    pid: &str,
    only: Option<&str>,
) -> Result<Vec<System>> {
    let mut deps: HashMap<String, Vec<SystemId>> = HashMap::new();
    for d in system_dependencies::Entity::find()
        .filter(system_dependencies::Column::PlanId.eq(pid))
        .apply_if(only, |q, id| {
            q.filter(system_dependencies::Column::SystemId.eq(id))
        })
        .order_by_asc(system_dependencies::Column::SystemId)
        .order_by_asc(system_dependencies::Column::Position)
        .all(db)
        .await?
    {
        let dep =
            Decode::new("system_dependencies", &d.system_id).id(&d.depends_on, SystemId::parse)?;
        deps.entry(d.system_id).or_default().push(dep);
    }
    let mut steps: HashMap<String, Vec<RecoveryStep>> = HashMap::new();
    for st in recovery_steps::Entity::find()
        .filter(recovery_steps::Column::PlanId.eq(pid))
        .apply_if(only, |q, id| {
            q.filter(recovery_steps::Column::SystemId.eq(id))
        })
        .order_by_asc(recovery_steps::Column::SystemId)
        .order_by_asc(recovery_steps::Column::Position)
        .all(db)
        .await?
    {
        let dec = Decode::new("recovery_steps", &st.system_id);
        let step = RecoveryStep {
            role: dec.id(&st.role_id, RoleId::parse)?,
            duration: dec.duration(st.duration_minutes)?,
            text: st.text,
        };
        steps.entry(st.system_id).or_default().push(step);
    }
    let mut impact: HashMap<String, Vec<ImpactStep>> = HashMap::new();
    for row in impact_levels::Entity::find()
        .filter(impact_levels::Column::PlanId.eq(pid))
        .apply_if(only, |q, id| {
            q.filter(impact_levels::Column::SystemId.eq(id))
        })
        .order_by_asc(impact_levels::Column::SystemId)
        .order_by_asc(impact_levels::Column::Position)
        .all(db)
        .await?
    {
        let dec = Decode::new("impact_levels", &row.system_id);
        let Some(level) = ImpactLevel::parse(&row.level) else {
            return dec.fail(format!("unknown impact level {:?}", row.level));
        };
        let step = ImpactStep {
            after: dec.duration(row.after_minutes)?,
            level,
            citizens: row.citizens,
            staff: row.staff,
        };
        impact.entry(row.system_id).or_default().push(step);
    }

    systems::Entity::find()
        .filter(systems::Column::PlanId.eq(pid))
        .apply_if(only, |q, id| q.filter(systems::Column::Id.eq(id)))
        .order_by_asc(systems::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            let dec = Decode::new("systems", &s.id);
            let opt_duration = |m: Option<i64>| m.map(|m| dec.duration(m)).transpose();
            let supplier = match s.supplier_name {
                None => None,
                Some(name) => Some(Supplier {
                    name,
                    contact: s.supplier_contact,
                    phone: s.supplier_phone,
                    email: s.supplier_email,
                    contract_restore: opt_duration(s.supplier_contract_restore_minutes)?,
                }),
            };
            Ok(System {
                id: dec.id(&s.id, SystemId::parse)?,
                owner: dec.opt_id(&s.owner, PersonId::parse)?,
                deputy: dec.opt_id(&s.deputy, PersonId::parse)?,
                reviewed_by: dec.opt_id(&s.reviewed_by, PersonId::parse)?,
                criticality: Criticality::new(s.criticality.into()).or_else(|e| dec.fail(e))?,
                rto: opt_duration(s.rto_minutes)?,
                rpo: opt_duration(s.rpo_minutes)?,
                mtpd: opt_duration(s.mtpd_minutes)?,
                review_interval: opt_duration(s.review_interval_minutes)?,
                depends_on: deps.remove(&s.id).unwrap_or_default(),
                recovery_steps: steps.remove(&s.id).unwrap_or_default(),
                impact: impact.remove(&s.id).unwrap_or_default(),
                supplier,
                name: s.name,
                description: s.description,
                workaround: s.workaround,
                verification: s.verification,
                last_reviewed: s.last_reviewed,
            })
        })
        .collect()
}

/// The ids of every stored plan, in order.
pub async fn plan_ids(db: &impl ConnectionTrait) -> Result<Vec<PlanId>> {
    Ok(plan_summaries(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect())
}

/// A stored plan's name, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub id: PlanId,
    pub name: String,
    pub organisation: String,
}

/// Every stored plan's id and name, in id order: one query.
pub async fn plan_summaries(db: &impl ConnectionTrait) -> Result<Vec<PlanSummary>> {
    plans::Entity::find()
        .order_by_asc(plans::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            Ok(PlanSummary {
                id: Decode::new("plans", &p.id).id(&p.id, PlanId::parse)?,
                name: p.name,
                organisation: p.organisation,
            })
        })
        .collect()
}
