//! The branchbot binary: parse the command line, read the configuration, run. Every error it
//! prints is one Chinese line (see `texts::setup`).

use std::io::Write;
use std::process::ExitCode;

use branchbot::cli::{Command, QuestionsAction};
use branchbot::config::Config;
use branchbot::error::AppError;
use branchbot::texts::setup as t;

/// jemalloc rather than glibc's malloc, on Linux, for Rust's allocations and (by the
/// unprefixed `malloc` it exports) SQLite's: after two hundred trainees answer at once, glibc
/// keeps much of the memory they freed in its per-thread arenas, jemalloc gives it back
/// (`bench_load`, BENCHMARKS.md).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main` runs: a background thread returns pages left unused
/// for a second, instead of waiting for later allocations to do it.
#[cfg(target_os = "linux")]
#[export_name = "malloc_conf"]
static JEMALLOC_OPTIONS: JemallocOptions =
    JemallocOptions(c"background_thread:true,dirty_decay_ms:1000".as_ptr());

/// The C string jemalloc reads its options from (`const char *malloc_conf`).
#[cfg(target_os = "linux")]
#[repr(transparent)]
struct JemallocOptions(*const std::ffi::c_char);

// SAFETY: the pointer is to a string literal, which is never written.
#[cfg(target_os = "linux")]
unsafe impl Sync for JemallocOptions {}

fn main() -> ExitCode {
    let cli = match branchbot::cli::parse() {
        Ok(cli) => cli,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => return fail(&t::runtime_failed(&err.to_string())),
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => {
            let config = match Config::from_env() {
                Ok(config) => config,
                Err(err) => {
                    eprintln!("{}", t::cli_error(&err.to_string()));
                    return ExitCode::from(2);
                }
            };
            match runtime.block_on(branchbot::app::run(config)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => fail(&err.to_string()),
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
                // A reader that stops early (`| head`) is no error of the check.
                let _ = writeln!(std::io::stdout(), "{report}");
                ExitCode::SUCCESS
            } else {
                eprintln!("{report}");
                ExitCode::FAILURE
            }
        }
        Command::Console {
            demo,
            database,
            files,
            at,
            seed,
        } => {
            let options = branchbot::console::Options {
                demo,
                database,
                files_dir: files,
                at: at.map(|at| at.with_timezone(&chrono::Utc)),
                seed,
            };
            match runtime.block_on(branchbot::console::run(options)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Report {
            round,
            org,
            format,
            out,
        } => {
            match runtime.block_on(branchbot::reports::cli_report(round, org, format, out)) {
                Ok(()) => ExitCode::SUCCESS,
                // A report's own errors are already a Chinese sentence; others are internal.
                Err(AppError::Report(message)) => fail(&message),
                Err(err) => fail(&err.to_string()),
            }
        }
        Command::Backup { file } => database_tool(&runtime, |config| async move {
            branchbot::backup::backup_command(&config, &file).await
        }),
        Command::Restore { file } => database_tool(&runtime, |config| async move {
            branchbot::backup::restore_command(&config, &file).await
        }),
    }
}

/// Runs a backup or restore with the bot's settings (no token needed); prints its outcome.
fn database_tool<F, Fut>(runtime: &tokio::runtime::Runtime, tool: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    let config = match branchbot::reports::cli::report_config(|key| std::env::var(key).ok()) {
        Ok(config) => config,
        Err(AppError::Report(message)) => return fail(&message),
        Err(err) => return fail(&err.to_string()),
    };
    match runtime.block_on(tool(config)) {
        Ok(done) => {
            eprintln!("{done}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(&err),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("{}", t::cli_error(message));
    ExitCode::FAILURE
}
