//! `branchbot report`: the round report on the server, for an administrator with a shell.
//!
//! Reads the same settings as the bot (`DATABASE_URL`, `BRANCHBOT_*`, `branchbot.toml`) except
//! the token, which a report never needs. Errors come back as one line for `main` to print.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;

use crate::cli::ReportFormat;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::reports::{csv, text, xlsx};
use crate::service::reports::report_options;
use crate::storage::{self, reports as store};
use crate::texts::setup as t;

/// Writes round `round`'s report (default: the latest closed round, or the open one) as text
/// (to `out` or standard output), an Excel workbook (`out`, default `round-N.xlsx`) or CSV files
/// (into the directory `out`, default `round-N-csv`). Says on standard error where files went.
///
/// `org` (a name or number) limits the report to that organisation's subtree, as its
/// administrator would see it.
pub async fn cli_report(
    round: Option<i64>,
    org: Option<String>,
    format: ReportFormat,
    out: Option<PathBuf>,
) -> AppResult<()> {
    let config = report_config(|key| std::env::var(key).ok())?;
    ensure_database_exists(&config.database_url)?;
    let db = storage::connect(&config.database_url).await?;
    let picked = store::pick_round(&db, round).await?;
    let Some(picked) = picked else {
        db.close().await;
        return Err(AppError::Report(match round {
            Some(n) => t::report_no_round(n),
            None => t::REPORT_NO_ROUNDS.to_owned(),
        }));
    };
    let report = scoped(&db, &picked, &config, org.as_deref()).await;
    db.close().await;
    let report = report?;
    if report.is_empty() {
        eprintln!("{}", t::report_nobody(report.round_id));
    }
    match format {
        ReportFormat::Text => {
            let plain = plain_text(&text::round_summary(&report).join("\n"));
            match out {
                Some(path) => {
                    write_file(&path, plain.as_bytes())?;
                    eprintln!("{}", t::wrote(&path.display().to_string()));
                }
                None => println!("{plain}"),
            }
        }
        ReportFormat::Xlsx => {
            let bytes = xlsx::round_workbook(&report)
                .map_err(|e| AppError::Report(format!("workbook: {e}")))?;
            let path =
                out.unwrap_or_else(|| PathBuf::from(format!("round-{}.xlsx", report.round_id)));
            write_file(&path, &bytes)?;
            eprintln!("{}", t::wrote(&path.display().to_string()));
        }
        ReportFormat::Csv => {
            let files =
                csv::round_csv(&report).map_err(|e| AppError::Report(format!("csv: {e}")))?;
            let dir =
                out.unwrap_or_else(|| PathBuf::from(format!("round-{}-csv", report.round_id)));
            if dir.is_file() {
                return Err(AppError::Report(t::csv_out_is_file(
                    &dir.display().to_string(),
                )));
            }
            std::fs::create_dir_all(&dir).map_err(|e| {
                AppError::Report(t::cannot_create_dir(
                    &dir.display().to_string(),
                    &e.to_string(),
                ))
            })?;
            for (name, bytes) in files {
                write_file(&dir.join(name), &bytes)?;
            }
            eprintln!("{}", t::wrote(&dir.display().to_string()));
        }
    }
    Ok(())
}

/// The report of the whole tree, or of one organisation's subtree.
async fn scoped(
    db: &storage::Db,
    round: &store::RoundInfo,
    config: &Config,
    org: Option<&str>,
) -> AppResult<crate::reports::model::RoundReport> {
    let tree = storage::orgs::tree(db).await?;
    let holds = match org {
        None => vec![crate::domain::org::ROOT],
        Some(reference) => match crate::service::orgs::resolve(&tree, reference) {
            Ok(id) => vec![id],
            Err(refusal) => {
                let text = crate::texts::orgs::refusal(&refusal);
                return Err(AppError::Report(plain_text(&text)));
            }
        },
    };
    let viewer = crate::service::orgs::viewer_in(tree, &holds, false);
    crate::service::reports::scoped_round_report(db, round, &report_options(config), &viewer).await
}

/// The bot's configuration without its token: the report reads the database, never Telegram.
pub fn report_config(env: impl Fn(&str) -> Option<String>) -> AppResult<Config> {
    Config::from_lookup(|key| match key {
        "TELOXIDE_TOKEN" => Some("0:report".to_owned()),
        _ => env(key),
    })
    .map_err(|e| AppError::Report(e.to_string()))
}

/// A report of a database that is not there is a typo in `DATABASE_URL`, not an empty report:
/// refuse instead of creating an empty file.
fn ensure_database_exists(url: &str) -> AppResult<()> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| AppError::Report(t::config_error("DATABASE_URL", &e.to_string())))?;
    let file = options.get_filename();
    if url.contains(":memory:") || file.as_os_str().is_empty() || file.exists() {
        return Ok(());
    }
    Err(AppError::Report(t::database_missing(
        &file.display().to_string(),
    )))
}

fn write_file(path: &Path, bytes: &[u8]) -> AppResult<()> {
    std::fs::write(path, bytes)
        .map_err(|e| AppError::Report(t::cannot_write(&path.display().to_string(), &e.to_string())))
}

/// Telegram HTML as plain text for a terminal: tags dropped, entities decoded. The summaries
/// escape everything users typed, so every `<` in them starts a tag.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        match rest[start..].find('>') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_drops_tags_and_decodes_entities() {
        assert_eq!(
            plain_text("<b>第 3 期</b>\n张&lt;三&gt; &amp; 李四"),
            "第 3 期\n张<三> & 李四"
        );
        assert_eq!(plain_text("&amp;lt;"), "&lt;");
    }

    #[test]
    fn the_report_needs_no_token() {
        let config =
            report_config(|key| (key == "DATABASE_URL").then(|| "sqlite://x.db".to_owned()))
                .unwrap();
        assert_eq!(config.database_url, "sqlite://x.db");
        let bad = report_config(|key| (key == "BRANCHBOT_PASS_MARK").then(|| "abc".to_owned()));
        assert!(bad.is_err_and(|e| e.to_string().contains("BRANCHBOT_PASS_MARK")));
    }

    #[test]
    fn a_missing_database_file_is_refused() {
        assert!(ensure_database_exists("sqlite:///nonexistent/dir/branchbot.db").is_err());
        assert!(ensure_database_exists("sqlite::memory:").is_ok());
    }
}
