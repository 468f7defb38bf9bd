//! Copies of the one SQLite file that holds every score: `branchbot backup FILE`, a daily backup
//! made by the bot itself, and `branchbot restore FILE`.
//!
//! A copy is made with `VACUUM INTO`, which writes a consistent snapshot of the database while
//! the bot keeps writing (WAL mode lets readers and one writer work at once). The daily backup is
//! named after the local date, so a restart on the same day finds it and makes no second one.
//! A restore must not pull the file from under a running bot: the bot holds an exclusive lock on
//! `<database>.lock` while it runs ([`InstanceLock`]), and a restore takes the same lock first.
//! The file to restore is checked (SQLite integrity check, branchbot's tables, no migration this
//! binary does not know) before anything is replaced, and the replaced database is kept beside.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;
use tokio::sync::watch;

use crate::config::{database_file, Config};
use crate::service::AppState;
use crate::texts::setup as t;

/// How often the bot checks whether today's backup exists.
const DAILY_CHECK: Duration = Duration::from_secs(300);
/// Tables every branchbot database has.
const BRANCHBOT_TABLES: &[&str] = &[
    "_sqlx_migrations",
    "branches",
    "users",
    "rounds",
    "attempts",
];

/// Held by the running bot: an exclusive lock on `<database>.lock`, released when the process
/// ends however it ends.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    pub path: PathBuf,
}

/// The lock file beside the database, or `None` for an in-memory database.
pub fn lock_path(database_url: &str) -> Option<PathBuf> {
    let file = database_file(database_url)?;
    let mut name = file.file_name()?.to_owned();
    name.push(".lock");
    Some(file.with_file_name(name))
}

/// Takes the instance lock. `Ok(None)`: an in-memory database, nothing to lock. The error is
/// the Chinese line to print.
pub fn lock_instance(database_url: &str) -> Result<Option<InstanceLock>, String> {
    let Some(path) = lock_path(database_url) else {
        return Ok(None);
    };
    let shown = path.display().to_string();
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| t::lock_failed(&shown, &e.to_string()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(InstanceLock { _file: file, path })),
        Err(TryLockError::WouldBlock) => Err(t::already_running(&shown)),
        Err(TryLockError::Error(e)) => Err(t::lock_failed(&shown, &e.to_string())),
    }
}

/// A connection to an existing database file without migrating it (a backup must not change
/// the database it copies).
async fn open_existing(file: &Path, read_only: bool) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(file)
        .read_only(read_only)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
}

/// Writes a consistent copy of the database `db` to `dest` (which must not exist): first to a
/// temporary name, then renamed, so a half-written file never has the final name. Returns the
/// copy's size in bytes.
pub async fn copy_to(db: &SqlitePool, dest: &Path) -> Result<u64, String> {
    let shown = dest.display().to_string();
    let fail = |e: &dyn std::fmt::Display| t::backup_failed(&shown, &e.to_string());
    let mut partial = dest.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let target = partial.to_str().ok_or_else(|| fail(&"path is not UTF-8"))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(db)
        .await
        .map_err(|e| fail(&e))?;
    std::fs::rename(&partial, dest).map_err(|e| fail(&e))?;
    std::fs::metadata(dest)
        .map(|m| m.len())
        .map_err(|e| fail(&e))
}

/// `branchbot backup FILE`: a copy of the configured database, safe while the bot runs.
pub async fn backup_command(config: &Config, dest: &Path) -> Result<String, String> {
    let shown = dest.display().to_string();
    if dest.exists() {
        return Err(t::backup_exists(&shown));
    }
    let file = existing_database(config)?;
    let db = open_existing(&file, true)
        .await
        .map_err(|e| t::database_open_failed(&config.database_url, &e.to_string()))?;
    let result = copy_to(&db, dest).await;
    db.close().await;
    Ok(t::backup_done(&shown, result?))
}

/// The configured database's file, which must exist.
fn existing_database(config: &Config) -> Result<PathBuf, String> {
    let file = database_file(&config.database_url)
        .ok_or_else(|| t::database_missing(&config.database_url))?;
    if !file.is_file() {
        return Err(t::database_missing(&file.display().to_string()));
    }
    Ok(file)
}

/// The name of the daily backup of `date`.
pub fn daily_name(date: NaiveDate) -> String {
    format!("branchbot-{}.db", date.format("%Y-%m-%d"))
}

fn is_daily_name(name: &str) -> bool {
    name.strip_prefix("branchbot-")
        .and_then(|rest| rest.strip_suffix(".db"))
        .is_some_and(|date| NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok())
}

/// Makes today's backup unless it exists (or backups are off), then keeps only the newest
/// `backup_keep`. Returns the file made, if any.
pub async fn daily(state: &AppState) -> Result<Option<PathBuf>, String> {
    let keep = state.config.backup_keep as usize;
    if keep == 0 || database_file(&state.config.database_url).is_none() {
        return Ok(None);
    }
    let dir = &state.config.backup_dir;
    let today = state
        .now()
        .with_timezone(&state.config.timezone)
        .date_naive();
    let dest = dir.join(daily_name(today));
    if dest.exists() {
        return Ok(None);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| t::cannot_create_dir(&dir.display().to_string(), &e.to_string()))?;
    let bytes = copy_to(&state.db, &dest).await?;
    tracing::info!(file = %dest.display(), bytes, "daily backup written");
    prune(dir, keep);
    Ok(Some(dest))
}

/// Deletes the oldest daily backups beyond `keep` (names sort by date).
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| is_daily_name(name))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    for name in &names[..excess] {
        match std::fs::remove_file(dir.join(name)) {
            Ok(()) => tracing::info!(file = %name, "old daily backup removed"),
            Err(err) => {
                tracing::warn!(file = %name, error = %err, "could not remove an old backup")
            }
        }
    }
}

/// The bot's backup task: today's backup at start-up, then a check every few minutes, until
/// `stop` turns true.
pub async fn run_daily(state: std::sync::Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(err) = daily(&state).await {
            tracing::error!("{err}");
        }
        tokio::select! {
            _ = tokio::time::sleep(DAILY_CHECK) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}

/// Why a file cannot be restored, checked before anything is replaced.
async fn check_restorable(from: &Path) -> Result<SqlitePool, String> {
    let shown = from.display().to_string();
    if !from.is_file() {
        return Err(t::restore_not_found(&shown));
    }
    let db = open_existing(from, true)
        .await
        .map_err(|e| t::restore_not_sqlite(&shown, &e.to_string()))?;
    let check: Result<Vec<String>, sqlx::Error> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&db)
        .await;
    let rows = match check {
        Ok(rows) => rows,
        Err(e) => {
            db.close().await;
            return Err(t::restore_not_sqlite(&shown, &e.to_string()));
        }
    };
    if rows != ["ok"] {
        db.close().await;
        return Err(t::restore_corrupt(&shown, &rows.join("; ")));
    }
    let verdict = branchbot_verdict(&db, &shown).await;
    if let Err(err) = verdict {
        db.close().await;
        return Err(err);
    }
    Ok(db)
}

/// Whether a sound SQLite file is a branchbot database this binary can run on.
async fn branchbot_verdict(db: &SqlitePool, shown: &str) -> Result<(), String> {
    let mut tables = 0;
    for name in BRANCHBOT_TABLES {
        let found: Option<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
                .bind(name)
                .fetch_optional(db)
                .await
                .map_err(|e| t::restore_not_sqlite(shown, &e.to_string()))?;
        tables += usize::from(found.is_some());
    }
    if tables < BRANCHBOT_TABLES.len() {
        return Err(t::restore_not_branchbot(shown));
    }
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(db)
        .await
        .map_err(|e| t::restore_not_sqlite(shown, &e.to_string()))?;
    let known = sqlx::migrate!("./migrations")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    if newest.unwrap_or(0) > known {
        return Err(t::restore_newer(shown));
    }
    Ok(())
}

/// `branchbot restore FILE`: refuses while the bot runs, checks the file, then puts a copy of
/// it in place of the database; the replaced database (with its WAL) is kept as
/// `<database>.before-restore-<time>`.
pub async fn restore_command(config: &Config, from: &Path) -> Result<String, String> {
    let target = database_file(&config.database_url)
        .ok_or_else(|| t::database_missing(&config.database_url))?;
    let _lock = match lock_instance(&config.database_url) {
        Ok(lock) => lock,
        Err(_) if lock_path(&config.database_url).is_some_and(|p| held(&p)) => {
            return Err(t::RESTORE_BOT_RUNNING.to_owned())
        }
        Err(err) => return Err(err),
    };
    let source = check_restorable(from).await?;
    let mut staged = target.as_os_str().to_owned();
    staged.push(".restoring");
    let staged = PathBuf::from(staged);
    let _ = std::fs::remove_file(&staged);
    let copied = copy_to(&source, &staged).await;
    source.close().await;
    copied.map_err(|e| t::restore_failed(&e))?;

    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    let previous = set_aside(&target, &stamp).map_err(|e| t::restore_failed(&e.to_string()))?;
    std::fs::rename(&staged, &target).map_err(|e| t::restore_failed(&e.to_string()))?;
    let from_shown = from.display().to_string();
    let previous_shown = previous.map(|p| p.display().to_string());
    Ok(t::restore_done(
        &from_shown,
        &target.display().to_string(),
        previous_shown.as_deref(),
    ))
}

/// Whether another process holds the lock at `path`.
fn held(path: &Path) -> bool {
    OpenOptions::new()
        .write(true)
        .open(path)
        .is_ok_and(|f| matches!(f.try_lock(), Err(TryLockError::WouldBlock)))
}

/// Renames the database and its `-wal` / `-shm` files aside; returns the new name of the
/// database, or `None` if there was none.
fn set_aside(target: &Path, stamp: &str) -> std::io::Result<Option<PathBuf>> {
    if !target.exists() {
        return Ok(None);
    }
    let with_suffix = |path: &Path, suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    let aside = with_suffix(target, &format!(".before-restore-{stamp}"));
    for extra in ["-wal", "-shm"] {
        let file = with_suffix(target, extra);
        if file.exists() {
            std::fs::rename(&file, with_suffix(&aside, extra))?;
        }
    }
    std::fs::rename(target, &aside)?;
    Ok(Some(aside))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_names_sort_by_date_and_others_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=5 {
            let date = NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
            std::fs::write(dir.path().join(daily_name(date)), b"x").unwrap();
        }
        std::fs::write(dir.path().join("mine.db"), b"x").unwrap();
        prune(dir.path(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "branchbot-2026-03-04.db",
                "branchbot-2026-03-05.db",
                "mine.db"
            ]
        );
    }

    #[test]
    fn a_second_lock_is_refused_while_the_first_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/bot.db", dir.path().display());
        let first = lock_instance(&url)
            .unwrap()
            .expect("a file database is locked");
        assert!(held(&first.path));
        assert!(lock_instance(&url).is_err());
        drop(first);
        assert!(lock_instance(&url).unwrap().is_some());
        assert!(lock_instance("sqlite::memory:").unwrap().is_none());
    }
}
