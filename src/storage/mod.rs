//! SQLite storage: the connection, migrations, and one module of queries per area.
//! Queries are checked at compile time against the schema (`.sqlx/` holds the offline data).

pub mod branches;
pub mod outbox;
pub mod questions;
pub mod quiz;
pub mod reminders;
pub mod reports;
pub mod rounds;

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
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
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
