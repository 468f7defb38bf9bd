//! The one error type of the application. Internal errors are logged, never shown to users:
//! users get a short Chinese apology from `texts::common::INTERNAL_ERROR`.

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database (direct connection): {0}")]
    Direct(#[from] rusqlite::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("telegram: {0}")]
    Telegram(#[from] teloxide::RequestError),
    #[error("telegram file download: {0}")]
    Download(#[from] teloxide::DownloadError),
    #[error("question bank: {0}")]
    Bank(String),
    #[error("report: {0}")]
    Report(String),
}

pub type AppResult<T> = Result<T, AppError>;
