//! Start-up and shutdown: open the database, load the question bank, connect to Telegram, then
//! read updates and run the scheduler side by side until SIGINT or SIGTERM.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use teloxide::prelude::*;
use tokio::sync::{watch, Notify};

use crate::clock::{FileClock, SharedClock, SystemClock};
use crate::config::Config;
use crate::error::AppError;
use crate::service::AppState;
use crate::storage;
use crate::storage::direct::DirectWrites;
use crate::telegram::network::ReachError;
use crate::telegram::{self, delivery::TelegramOutlet, menus, Api};
use crate::texts::setup as t;

/// How long updates in flight may go on after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the bot could not start, for the one-line (Chinese) message `main` prints.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{}", t::database_open_failed(url, &source.to_string()))]
    Database { url: String, source: AppError },
    #[error("{}", t::bank_errors(dir, report))]
    Bank { dir: String, report: String },
    #[error("{0}")]
    Telegram(#[from] ReachError),
    #[error("{0}")]
    Lock(String),
    #[error("{0}")]
    Runtime(#[from] AppError),
}

/// Builds the shared state from the configuration: clock, database, random generator.
pub async fn build_state(
    config: Config,
    bot_username: String,
) -> Result<Arc<AppState>, StartError> {
    let clock: SharedClock = match &config.clock_file {
        Some(path) => Arc::new(FileClock::new(path.clone())),
        None => Arc::new(SystemClock),
    };
    let db = storage::connect(&config.database_url)
        .await
        .map_err(|source| StartError::Database {
            url: config.database_url.clone(),
            source,
        })?;
    let direct_writes =
        DirectWrites::open(&config.database_url).map_err(|source| StartError::Database {
            url: config.database_url.clone(),
            source,
        })?;
    let rng = match config.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    Ok(Arc::new(AppState {
        db,
        config: Arc::new(config),
        clock,
        rng: Mutex::new(rng),
        wake: Arc::new(Notify::new()),
        nudges: Default::default(),
        bot_username,
        bank: Default::default(),
        live_attempts: Default::default(),
        direct_writes,
    }))
}

/// The bot on the configured HTTP client (proxy) and API URL.
pub fn make_bot(config: &Config) -> Result<Bot, ReachError> {
    crate::telegram::network::make_bot(config)
}

/// Runs the bot until a shutdown signal; in-flight updates finish before it returns.
pub async fn run(config: Config) -> Result<(), StartError> {
    // Held until the process ends: `branchbot restore` refuses while it is taken.
    let _instance = crate::backup::lock_instance(&config.database_url).map_err(StartError::Lock)?;
    crate::reports::chart::use_system_fonts(config.system_fonts);
    let bot = make_bot(&config)?;
    let me = crate::telegram::network::get_me_with_retry(&bot, &config).await?;
    let state = build_state(config, me.username().to_owned()).await?;
    crate::startup::prepare(&state).await?;
    crate::service::first_run::offer_claim(&state).await?;

    let mut admin_ids = crate::service::first_run::super_admin_ids(&state).await?;
    admin_ids.extend(
        crate::storage::orgs::admins(&state.db)
            .await?
            .iter()
            .map(|(u, _)| u.id),
    );
    admin_ids.sort_unstable();
    admin_ids.dedup();
    if let Err(err) = menus::register(&bot, &admin_ids).await {
        tracing::warn!(error = %err, "could not register the command menus");
    }

    // Ready to poll (a webhook, if set, removed) before any background task starts: from here on
    // to the signal handler below nothing awaits Telegram, so a stop signal finds the handler.
    let updates = telegram::Updates::new(bot.clone()).await;

    // One rate limiter for replies and deliveries, so a broadcast does not make replies earn 429s.
    let api = Api::new(bot, state.config.messages_per_second);
    let (stop_tx, stop_rx) = watch::channel(false);
    let backups = tokio::spawn(crate::backup::run_daily(state.clone(), stop_rx.clone()));
    // Buttons of questions that are over go (see `chat::sweep`).
    let sweeper = tokio::spawn(crate::chat::sweep::run(
        telegram::TelegramDoor::new(api.clone()),
        state.clone(),
        stop_rx.clone(),
    ));

    let mut stopping = stop_rx.clone();
    let scheduler = tokio::spawn(crate::scheduler::run(
        state.clone(),
        Arc::new(TelegramOutlet::new(api.clone())),
        stop_rx,
    ));

    let stop_updates = updates.stopper();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: finishing updates in flight");
        let _ = stop_tx.send(true);
        stop_updates.stop();
    });
    tracing::info!(bot = %state.bot_username, "branchbot is running");
    // The updates are read in a task on the runtime's workers, not on the thread that called
    // `run`: each update's lane then starts on the worker that read it, instead of waking another
    // thread for it (context switches per answer, BENCHMARKS.md).
    let mut reading = tokio::spawn(updates.run(state.clone(), api, telegram::Lanes::new()));
    tokio::select! {
        done = &mut reading => {
            if let Err(err) = done {
                tracing::error!(error = %err, "the task reading updates failed");
            }
        }
        // Replies wait their turn in the rate limiter (one a second into a chat): a burst of
        // commands can keep updates in flight for long after a stop signal. Their changes are
        // stored already; only replies still queued are given up.
        _ = async {
            let _ = stopping.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!(
                grace = ?SHUTDOWN_GRACE,
                "updates still in flight after the grace period; stopping without their replies"
            );
            reading.abort();
        }
    }
    if let Err(err) = scheduler.await {
        tracing::error!(error = %err, "scheduler task failed");
    }
    if let Err(err) = backups.await {
        tracing::error!(error = %err, "backup task failed");
    }
    if let Err(err) = sweeper.await {
        tracing::error!(error = %err, "stale-button sweeper failed");
    }
    state.db.close().await;
    let (in_place, pooled) = state.direct_writes.counts();
    tracing::info!(in_place, pooled, "stopped; answer writes since the start");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
