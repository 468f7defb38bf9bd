//! The command line: run the bot (the default), or administrators' tools on the server.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "branchbot",
    version,
    about = "Telegram bot for party-branch work (党支部工作助手)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the bot (the default when no command is given).
    Run,
    /// Work with a question bank.
    Questions {
        #[command(subcommand)]
        action: QuestionsAction,
    },
    /// The whole product in this terminal, with no token and no network: type as any person in
    /// any chat, press buttons by number, move the clock to watch reminders fall due.
    Console {
        /// Start from a fresh demo: a bound branch, members, a term near its end, an open round.
        #[arg(long)]
        demo: bool,
        /// The console's own database file (created if missing); a temporary file by default.
        /// Never point it at the bot's database: the console delivers the outbox to the screen.
        #[arg(long)]
        database: Option<PathBuf>,
        /// Where files the bot sends (reports) are written.
        #[arg(long, default_value = "branchbot-console-files")]
        files: PathBuf,
        /// Start the simulated clock at this instant (RFC 3339), e.g. 2026-12-01T09:00:00+08:00.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// Seed the random draws, for a reproducible transcript.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Write a round's report to a file.
    Report {
        /// Round number (期次); default: the latest closed round, or the open one.
        #[arg(long)]
        round: Option<i64>,
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
        /// Output file (for csv: a directory, one file per table); default: standard output for text.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuestionsAction {
    /// Validate every question file in DIR (default: questions), or one .toml or .xlsx file,
    /// and exit non-zero on any error.
    Check { dir: Option<PathBuf> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Xlsx,
    Csv,
}
