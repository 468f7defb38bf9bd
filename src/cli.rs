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
    /// and exit non-zero on any error. Item-writing warnings (cues) are printed too.
    Check {
        dir: Option<PathBuf>,
        /// Also exit non-zero when there are item-writing warnings (for CI).
        #[arg(long)]
        strict: bool,
        /// Print the cue statistics (longest-is-answer, absolute words, 多选 patterns).
        #[arg(long)]
        stats: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Xlsx,
    Csv,
}
