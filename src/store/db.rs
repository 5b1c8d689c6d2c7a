//! The connection: connecting and migrating, the pool and SQLite's pragmas, write
//! transactions, the store's errors (`StoreError`, and the `Outage` behind one) and the few
//! statement helpers every repository uses.

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::domain::{Duration, IdError};

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
/// The `n`th bind parameter of hand-written SQL, as the backend writes it.
pub(super) fn param(backend: DbBackend, n: usize) -> String {
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

/// Inserts rows in chunks; an empty list is a no-op.
pub(super) async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<()>
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

/// Turns stored values back into domain values, naming the row when one is unusable.
pub(super) struct Decode {
    table: &'static str,
    key: String,
}

impl Decode {
    pub(super) fn new(table: &'static str, key: impl Into<String>) -> Self {
        Decode {
            table,
            key: key.into(),
        }
    }

    pub(super) fn fail<T>(&self, reason: impl ToString) -> Result<T> {
        Err(StoreError::Corrupt {
            table: self.table,
            key: self.key.clone(),
            reason: reason.to_string(),
        })
    }

    pub(super) fn id<T>(&self, text: &str, parse: fn(&str) -> Result<T, IdError>) -> Result<T> {
        parse(text).or_else(|e| self.fail(e))
    }

    pub(super) fn opt_id<T>(
        &self,
        text: &Option<String>,
        parse: fn(&str) -> Result<T, IdError>,
    ) -> Result<Option<T>> {
        text.as_deref().map(|t| self.id(t, parse)).transpose()
    }

    pub(super) fn duration(&self, minutes: i64) -> Result<Duration> {
        u64::try_from(minutes)
            .map(Duration::from_minutes)
            .or_else(|_| self.fail(format!("negative duration {minutes}")))
    }
}
