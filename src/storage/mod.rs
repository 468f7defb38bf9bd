//! SQLite storage: the connection, migrations, and one module of queries per area.
//! Queries are checked at compile time against the schema (`.sqlx/` holds the offline data).

pub mod branches;
pub mod direct;
pub mod draw_history;
pub mod keyboards;
pub mod orgs;
pub mod outbox;
pub mod questions;
pub mod quiz;
pub mod reminders;
pub mod reports;
pub mod roster;
pub mod roster_org;
pub mod rounds;
pub mod setup;
pub mod summaries;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::AppResult;

pub type Db = SqlitePool;

/// Opens (creating if needed) the database in WAL mode with foreign keys on, and migrates it.
pub async fn connect(url: &str) -> AppResult<Db> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        // A file on this machine does not go stale between uses; a ping before each use would
        // cost a round trip to the connection's thread on every request (issue 14).
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// Starts a write transaction.
///
/// `BEGIN IMMEDIATE` takes SQLite's write lock up front. A deferred transaction that reads and
/// then writes fails at once with SQLITE_BUSY_SNAPSHOT ("database is locked") when another
/// connection wrote in between — the scheduler and the handlers do so all the time — whereas an
/// immediate one simply waits its turn (busy timeout). Read-only transactions use `begin()`.
pub async fn write(db: &Db) -> AppResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
    Ok(db.begin_with("BEGIN IMMEDIATE").await?)
}

/// An in-memory database for tests: one connection, so every query sees the same data.
pub async fn connect_memory() -> AppResult<Db> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;
    use std::time::Duration;

    /// The scheduler and the handlers write concurrently. A transaction that reads before it
    /// writes must wait for the other writer, not fail with "database is locked".
    #[tokio::test]
    async fn a_write_transaction_that_reads_first_waits_for_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let db = connect(&format!("sqlite://{}/t.db", dir.path().display()))
            .await
            .unwrap();
        let mut first = write(&db).await.unwrap();
        sqlx::query("INSERT INTO users (id, full_name, created_at) VALUES (1, 'a', 0)")
            .execute(&mut *first)
            .await
            .unwrap();
        let other = db.clone();
        let second = tokio::spawn(async move {
            let mut tx = write(&other).await?;
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO users (id, full_name, created_at) VALUES (2, 'b', 0)")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<i64, AppError>(count)
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        first.commit().await.unwrap();
        assert_eq!(
            second.await.unwrap().unwrap(),
            1,
            "the second writer saw the first one's row"
        );
    }
}
