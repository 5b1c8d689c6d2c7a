//! Backups of the embedded SQLite database: a consistent copy taken while the server runs
//! (`VACUUM INTO`, which reads one snapshot), and a restore that checks the copy before it
//! replaces the database file. PostgreSQL is backed up with its own tools (`pg_dump`), see the
//! README.

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use super::{Result, StoreError};

/// Why a backup or restore was refused.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backups are made of SQLite databases; back up PostgreSQL with pg_dump (see the README)"
    )]
    NotSqlite,
    #[error("{0} exists already: choose a new file name")]
    Exists(PathBuf),
    #[error("{path} is not a beredskab backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for BackupError {
    fn from(e: sea_orm::DbErr) -> Self {
        BackupError::Store(e.into())
    }
}

/// The file of an SQLite database URL (`sqlite://PATH?mode=rwc`), or `None` for another
/// database.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Writes a consistent copy of the database to `out` (through a temporary file, so `out` is
/// either absent or whole), while other connections go on reading and writing.
pub async fn backup(db: &DatabaseConnection, out: &Path) -> Result<(), BackupError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::NotSqlite);
    }
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    let tmp = out.with_extension("tmp-backup");
    let _ = std::fs::remove_file(&tmp);
    let target = tmp
        .to_str()
        .ok_or_else(|| BackupError::Io(format!("{} is not valid UTF-8", tmp.display())))?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await?;
    std::fs::rename(&tmp, out).map_err(|e| BackupError::Io(format!("{}: {e}", out.display())))?;
    Ok(())
}

/// Checks that `file` is a whole SQLite database of this program: it passes SQLite's integrity
/// check and carries the migrations table. Returns how many migrations it has applied.
pub async fn check(file: &Path) -> Result<usize, BackupError> {
    let not = |reason: String| BackupError::NotABackup {
        path: file.to_path_buf(),
        reason,
    };
    if !file.is_file() {
        return Err(not("no such file".into()));
    }
    // Read-only, and without the journal settings `connect` writes.
    let mut options = sea_orm::ConnectOptions::new(format!("sqlite://{}?mode=ro", file.display()));
    options.sqlx_logging(false);
    let db = sea_orm::Database::connect(options)
        .await
        .map_err(|e| not(e.to_string()))?;
    let integrity = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .map_err(|e| not(e.to_string()))?
        .and_then(|row| row.try_get_by_index::<String>(0).ok())
        .unwrap_or_default();
    if integrity != "ok" {
        return Err(not(format!("the integrity check says {integrity:?}")));
    }
    let applied = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM seaql_migrations",
        ))
        .await
        .map_err(|_| not("it has no beredskab schema (no migrations table)".into()))?
        .and_then(|row| row.try_get_by_index::<i64>(0).ok())
        .unwrap_or(0);
    db.close().await?;
    Ok(usize::try_from(applied).unwrap_or(0))
}

/// Replaces the database file `target` by the checked backup `file` (through a temporary file
/// and a rename, removing the old write-ahead log). The server must be stopped first.
pub async fn restore(file: &Path, target: &Path) -> Result<usize, BackupError> {
    let applied = check(file).await?;
    let tmp = target.with_extension("tmp-restore");
    let io = |e: std::io::Error| BackupError::Io(format!("{}: {e}", target.display()));
    std::fs::copy(file, &tmp).map_err(io)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(&tmp, target).map_err(io)?;
    Ok(applied)
}

/// Every row of every table, each as one line of quoted values in rowid order, by table name:
/// two databases with equal dumps hold the same data.
pub async fn dump(db: &DatabaseConnection) -> Result<Vec<(String, Vec<String>)>> {
    let tables = db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ))
        .await?;
    let mut out = Vec::new();
    for t in tables {
        let name: String = t.try_get_by_index(0)?;
        let columns: Vec<String> = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!(
                    "SELECT name FROM pragma_table_info('{}')",
                    name.replace('\'', "''")
                ),
            ))
            .await?
            .iter()
            .filter_map(|c| c.try_get_by_index::<String>(0).ok())
            .collect();
        let line = columns
            .iter()
            .map(|c| format!("quote(\"{}\")", c.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let rows = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!(
                    "SELECT {line} FROM \"{}\" ORDER BY rowid",
                    name.replace('"', "\"\"")
                ),
            ))
            .await?
            .iter()
            .filter_map(|r| r.try_get_by_index::<String>(0).ok())
            .collect();
        out.push((name, rows));
    }
    Ok(out)
}
