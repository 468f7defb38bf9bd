//! The answer path's own connection, called on the thread that handles the press (issue 14).
//!
//! sqlx runs every SQLite statement on the connection's thread of its own: a query is a hand-off
//! to that thread and back, and the pool pings each connection it gets back, a second round trip.
//! For the one write a press makes, those hand-offs cost more than the write itself (`perf` in
//! BENCHMARKS.md: a fifth of the bot's CPU per answer was sqlx's threads, and twice the bare
//! bot's time in the kernel's scheduler). This connection runs the write in place, through
//! rusqlite on the same SQLite library sqlx links, but only when it can do so at once:
//!
//! - another task is using it: the write goes through the pool;
//! - another connection holds SQLite's write lock (its busy timeout is zero, so it never waits
//!   and never blocks the runtime's thread): the write goes through the pool, which waits its
//!   turn as every other write does.
//!
//! The write is the same statement either way, an autocommit `UPDATE` with its guards in SQL,
//! and as durable either way: committed to the same WAL file with `synchronous = NORMAL` before
//! the press is answered. A statement that fails here is rolled back whole, so running it again
//! through the pool cannot apply it twice (and its guards would refuse a second application).
//! Checkpoints are left to the pool's connections, which write after every finished test and
//! every delivery, so the fsync of a checkpoint never runs on the runtime's thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::SqliteConnectOptions;
use std::str::FromStr;

use crate::error::AppResult;
use crate::storage::Db;

/// The direct connection, when the database is a file; see the module's doc.
#[derive(Debug, Default)]
pub struct DirectWrites {
    conn: Option<Mutex<Connection>>,
    /// Writes run here and writes handed to the pool, for the tests and the logs.
    here: AtomicU64,
    pooled: AtomicU64,
}

impl DirectWrites {
    /// Every write goes through the pool: an in-memory database (each connection would see a
    /// database of its own), or a test that wants the pool's path.
    pub fn disabled() -> DirectWrites {
        DirectWrites::default()
    }

    /// Opens the connection beside the pool of `database_url`, after the pool has created and
    /// migrated the file. An in-memory URL gets [`DirectWrites::disabled`].
    pub fn open(database_url: &str) -> AppResult<DirectWrites> {
        if database_url.contains(":memory:") || database_url.contains("mode=memory") {
            return Ok(DirectWrites::disabled());
        }
        let options = SqliteConnectOptions::from_str(database_url)?;
        let conn = Connection::open_with_flags(
            options.get_filename(),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             PRAGMA synchronous = NORMAL;
             PRAGMA wal_autocheckpoint = 0;",
        )?;
        let journal: String = conn.query_row("PRAGMA journal_mode", [], |row| row.get(0))?;
        if !journal.eq_ignore_ascii_case("wal") {
            // Outside WAL a writer blocks readers: leave every write to the pool.
            tracing::warn!(
                journal,
                "direct writes are off: the database is not in WAL mode"
            );
            return Ok(DirectWrites::disabled());
        }
        Ok(DirectWrites {
            conn: Some(Mutex::new(conn)),
            ..DirectWrites::default()
        })
    }

    /// Runs one statement that changes rows, autocommit, and returns how many it changed: in
    /// place when that can be done at once, otherwise on `db`.
    pub async fn execute(&self, db: &Db, sql: &'static str, params: &[Value]) -> AppResult<u64> {
        if let Some(changed) = self.try_here(sql, params) {
            self.here.fetch_add(1, Ordering::Relaxed);
            return Ok(changed);
        }
        self.pooled.fetch_add(1, Ordering::Relaxed);
        let mut query = sqlx::query(sql);
        for param in params {
            query = match param {
                Value::Null => query.bind(None::<i64>),
                Value::Integer(v) => query.bind(*v),
                Value::Real(v) => query.bind(*v),
                Value::Text(v) => query.bind(v.as_str()),
                Value::Blob(v) => query.bind(v.as_slice()),
            };
        }
        Ok(query.execute(db).await?.rows_affected())
    }

    /// `None` when the write should go through the pool: no connection, in use, or SQLite
    /// refused it here (busy, or anything else, which the pool's attempt will report).
    fn try_here(&self, sql: &str, params: &[Value]) -> Option<u64> {
        let conn = self.conn.as_ref()?.try_lock().ok()?;
        let done = conn
            .prepare_cached(sql)
            .and_then(|mut statement| statement.execute(rusqlite::params_from_iter(params)));
        match done {
            Ok(changed) => u64::try_from(changed).ok(),
            Err(err) => {
                if !is_busy(&err) {
                    tracing::warn!(error = %err, "a direct write failed; trying the pool");
                }
                None
            }
        }
    }

    /// How many writes ran in place and how many went through the pool.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.here.load(Ordering::Relaxed),
            self.pooled.load(Ordering::Relaxed),
        )
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{connect, write};

    const BUMP: &str = "UPDATE settings SET value = value + 1 WHERE key = ?";

    async fn file_db() -> (tempfile::TempDir, String, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let db = connect(&url).await.unwrap();
        sqlx::query("CREATE TABLE settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            .execute(&db)
            .await
            .unwrap();
        sqlx::query("INSERT INTO settings VALUES ('n', 0)")
            .execute(&db)
            .await
            .unwrap();
        (dir, url, db)
    }

    async fn value(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'n'")
            .fetch_one(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_write_runs_in_place_and_the_pool_sees_it() {
        let (_dir, url, db) = file_db().await;
        let direct = DirectWrites::open(&url).unwrap();
        let key = [Value::Text("n".into())];
        assert_eq!(direct.execute(&db, BUMP, &key).await.unwrap(), 1);
        assert_eq!(direct.execute(&db, BUMP, &key).await.unwrap(), 1);
        let missing = [Value::Text("m".into())];
        assert_eq!(direct.execute(&db, BUMP, &missing).await.unwrap(), 0);
        assert_eq!(value(&db).await, 2);
        assert_eq!(direct.counts(), (3, 0));
    }

    #[tokio::test]
    async fn while_another_connection_writes_the_write_waits_in_the_pool_instead() {
        let (_dir, url, db) = file_db().await;
        let direct = DirectWrites::open(&url).unwrap();
        let mut other = write(&db).await.unwrap();
        sqlx::query("UPDATE settings SET value = 10")
            .execute(&mut *other)
            .await
            .unwrap();
        let pending = async {
            let key = [Value::Text("n".into())];
            direct.execute(&db, BUMP, &key).await.unwrap()
        };
        let commit_later = async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            other.commit().await.unwrap();
        };
        let (changed, ()) = tokio::join!(pending, commit_later);
        assert_eq!(changed, 1);
        assert_eq!(value(&db).await, 11, "applied once, after the other write");
        assert_eq!(direct.counts(), (0, 1));
    }

    #[tokio::test]
    async fn a_statement_sqlite_refuses_here_is_reported_by_the_pool() {
        let (_dir, url, db) = file_db().await;
        let direct = DirectWrites::open(&url).unwrap();
        let err = direct
            .execute(&db, "UPDATE nowhere SET x = 1", &[])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("nowhere"), "{err}");
        assert_eq!(value(&db).await, 0);
    }

    #[tokio::test]
    async fn an_in_memory_database_writes_through_the_pool() {
        let db = crate::storage::connect_memory().await.unwrap();
        let direct = DirectWrites::open("sqlite::memory:").unwrap();
        sqlx::query("CREATE TABLE settings (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            .execute(&db)
            .await
            .unwrap();
        sqlx::query("INSERT INTO settings VALUES ('n', 0)")
            .execute(&db)
            .await
            .unwrap();
        let key = [Value::Text("n".into())];
        assert_eq!(direct.execute(&db, BUMP, &key).await.unwrap(), 1);
        assert_eq!(value(&db).await, 1);
        assert_eq!(direct.counts(), (0, 1));
    }
}
