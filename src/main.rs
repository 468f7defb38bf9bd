//! The branchbot binary: parse the command line, read the configuration, run.

use std::process::ExitCode;

use clap::Parser;

use branchbot::cli::{Cli, Command, QuestionsAction};
use branchbot::config::Config;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let config = match Config::from_env() {
                Ok(config) => config,
                Err(err) => {
                    eprintln!("error: {err}");
                    return ExitCode::from(2);
                }
            };
            match runtime.block_on(branchbot::app::run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Questions {
            action: QuestionsAction::Check { dir, strict, stats },
        } => {
            // The same bank the bot would load: the argument, else the configured directory.
            let dir = dir
                .or_else(|| std::env::var_os("BRANCHBOT_QUESTIONS_DIR").map(Into::into))
                .unwrap_or_else(|| "questions".into());
            let (ok, report) = branchbot::questions::check_bank(
                &dir,
                branchbot::questions::CheckOptions { strict, stats },
            );
            if ok {
                println!("{report}");
                ExitCode::SUCCESS
            } else {
                eprintln!("{report}");
                ExitCode::FAILURE
            }
        }
        Command::Report { round, format, out } => {
            match runtime.block_on(branchbot::reports::cli_report(round, format, out)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
