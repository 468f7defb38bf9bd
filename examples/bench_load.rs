//! Load benchmark (issue 14): the real bot and a bare teloxide bot side by side against one fake
//! Bot API, with trainees answering a test at once, a broadcast to 300 groups, and the answer
//! transaction's writes a second.
//!
//! `cargo build --release --bin branchbot --example bench_load && target/release/examples/bench_load`
//! (add `--quick` for a short smoke run, `BENCH_SIZES=100` for other numbers of trainees,
//! `BENCH_PAIRS=5` for more alternating runs of the two bots per size; 3 by default). Not part
//! of `cargo test`. Without arguments the example is the driver (the fake Bot
//! API, the simulated trainees, the measurements). It runs the real bot — the release binary
//! `branchbot`, exactly as deployed, allocator included — and, with `--serve-bare`, itself as the
//! baseline, each as a child process so its CPU time and memory are its own (read from
//! `/proc/<pid>/stat` and `/proc/<pid>/status`, the counters `getrusage` reports).
//!
//! The baseline is a bare teloxide 0.17 bot (same Cargo.lock, default dispatcher, no rate
//! limiter, no database) that makes the calls the real bot makes: `/test` sends an intro and the
//! question; a press is answered (`answerCallbackQuery`) and the message edited in place to the
//! next question (`editMessageText` with buttons); a 多选 tick edits the question; the last
//! answer edits the question without buttons and sends the result.
//!
//! The fake answers 429 with `retry_after` when Telegram would: more than the overall limit in
//! any second (30; 1,000 in the answer phase, where both bots are run as with paid broadcasts so
//! the comparison measures the bots, not the limit), two messages into one chat less than a
//! second apart (with 50 ms of tolerance for network jitter), more than 20 a minute into one
//! group. Every accepted socket gets TCP_NODELAY: without it each call waits ~40 ms for Nagle's
//! algorithm and the delayed ACK, which would hide everything measured here.
//!
//! For looking closer: `BENCH_ONLY=branchbot` (or `bare`) runs one bot's answer runs alone,
//! `BENCH_ONLY=answers` both bots' answer runs and nothing after them;
//! `BENCH_BOT_LOG` sets branchbot's `RUST_LOG`;
//! `BENCH_SMAPS=<file>` writes the bot's `/proc/<pid>/smaps` five seconds after the run;
//! `BENCH_PRELOAD` and `MALLOC_CONF` try other allocators and allocator settings.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::routing::post;
use axum::{Json, Router};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

const TOKEN: &str = "123456:BENCH";
const BOT_ID: i64 = 123456;
const QUESTIONS_PER_TEST: usize = 20;
const GROUPS: i64 = 300;
const ADMIN: i64 = 900;
/// Calls that put a message into a chat or change one: what Telegram's limits count.
const MESSAGE_CALLS: [&str; 6] = [
    "sendmessage",
    "editmessagetext",
    "editmessagereplymarkup",
    "senddocument",
    "sendphoto",
    "sendmediagroup",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    match args.get(1).map(String::as_str) {
        Some("--serve-bare") => runtime.block_on(bare::serve()),
        _ => runtime.block_on(drive(args.iter().any(|a| a == "--quick"))),
    }
}

// ------------------------------------------------------------------------------------------
// The fake Bot API
// ------------------------------------------------------------------------------------------

#[derive(Default)]
struct Fake {
    state: Mutex<FakeState>,
    updates_ready: Notify,
    /// Message calls per private chat, for the trainee waiting on it.
    watchers: Mutex<HashMap<i64, mpsc::UnboundedSender<(String, Value)>>>,
    overall_limit: AtomicU64,
    /// Every call but `getUpdates`.
    calls: AtomicU64,
    polls: AtomicU64,
    /// Message calls into private chats (the trainees').
    message_calls: AtomicU64,
    too_many: AtomicU64,
}

#[derive(Default)]
struct FakeState {
    updates: VecDeque<Value>,
    next_update: i64,
    next_message: i64,
    /// Accepted message calls, last second overall.
    recent: VecDeque<Instant>,
    per_chat: HashMap<i64, VecDeque<Instant>>,
    /// Sends into groups: (when, chat), for the broadcast figures.
    group_sends: Vec<Instant>,
}

impl Fake {
    fn push_update(&self, kind: &str, payload: Value) {
        {
            let mut st = self.state.lock().unwrap();
            st.next_update += 1;
            let id = st.next_update;
            st.updates
                .push_back(json!({ "update_id": id, kind: payload }));
        }
        self.updates_ready.notify_waiters();
    }

    fn push_text(&self, user: i64, text: &str) {
        let len = text.split(' ').next().unwrap_or("").chars().count();
        let message = json!({
            "message_id": 1, "date": now_secs(),
            "chat": { "id": user, "type": "private", "first_name": "学员" },
            "from": { "id": user, "is_bot": false, "first_name": "学员" },
            "text": text,
            "entities": [{ "type": "bot_command", "offset": 0, "length": len }],
        });
        self.push_update("message", message);
    }

    fn push_press(&self, user: i64, message_id: i64, data: &str) {
        let query = json!({
            "id": format!("{user}{}", now_nanos()),
            "from": { "id": user, "is_bot": false, "first_name": "学员" },
            "message": {
                "message_id": message_id, "date": now_secs(),
                "chat": { "id": user, "type": "private", "first_name": "学员" },
                "from": { "id": BOT_ID, "is_bot": true, "first_name": "Bench", "username": "bench_bot" },
                "text": "题",
            },
            "chat_instance": "1",
            "data": data,
        });
        self.push_update("callback_query", query);
    }

    /// Whether Telegram would refuse a message into `chat` now; the seconds to wait if so.
    fn refuse(&self, st: &mut FakeState, chat: i64, now: Instant) -> Option<u64> {
        while st
            .recent
            .front()
            .is_some_and(|t| now - *t >= Duration::from_secs(1))
        {
            st.recent.pop_front();
        }
        if st.recent.len() as u64 >= self.overall_limit.load(Ordering::Relaxed) {
            return Some(1);
        }
        let sent = st.per_chat.entry(chat).or_default();
        while sent
            .front()
            .is_some_and(|t| now - *t >= Duration::from_secs(60))
        {
            sent.pop_front();
        }
        if sent
            .back()
            .is_some_and(|t| now - *t < Duration::from_millis(950))
        {
            return Some(1);
        }
        if chat < 0 && sent.len() >= 20 {
            return Some((60 - (now - sent[sent.len() - 20]).as_secs()).max(1));
        }
        sent.push_back(now);
        st.recent.push_back(now);
        None
    }
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

fn params(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| {
        // Form-encoded (teloxide sends JSON; anything else is answered generically).
        json!({})
    })
}

async fn handle(
    State(fake): State<Arc<Fake>>,
    UrlPath((_token, method)): UrlPath<(String, String)>,
    body: Bytes,
) -> Json<Value> {
    let method = method.to_ascii_lowercase();
    let p = params(&body);
    if method == "getupdates" {
        fake.polls.fetch_add(1, Ordering::Relaxed);
        return Json(json!({ "ok": true, "result": get_updates(&fake, &p).await }));
    }
    fake.calls.fetch_add(1, Ordering::Relaxed);
    let chat = p["chat_id"].as_i64().unwrap_or(0);
    let counted = MESSAGE_CALLS.contains(&method.as_str());
    if counted {
        if chat > 0 {
            fake.message_calls.fetch_add(1, Ordering::Relaxed);
        }
        let now = Instant::now();
        let refused = {
            let mut st = fake.state.lock().unwrap();
            let refused = fake.refuse(&mut st, chat, now);
            if refused.is_none() && chat < 0 && method == "sendmessage" {
                st.group_sends.push(now);
            }
            refused
        };
        if let Some(after) = refused {
            fake.too_many.fetch_add(1, Ordering::Relaxed);
            return Json(json!({
                "ok": false, "error_code": 429,
                "description": format!("Too Many Requests: retry after {after}"),
                "parameters": { "retry_after": after },
            }));
        }
    }
    let result = match method.as_str() {
        "getme" => json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Bench", "username": "bench_bot",
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false,
        }),
        "sendmessage" | "editmessagetext" | "editmessagereplymarkup" => {
            let id = match p["message_id"].as_i64() {
                Some(id) => id,
                None => {
                    let mut st = fake.state.lock().unwrap();
                    st.next_message += 1;
                    st.next_message
                }
            };
            let chat_json = if chat < 0 {
                json!({ "id": chat, "type": "supergroup", "title": "支部" })
            } else {
                json!({ "id": chat, "type": "private", "first_name": "学员" })
            };
            json!({
                "message_id": id, "date": now_secs(), "chat": chat_json,
                "from": { "id": BOT_ID, "is_bot": true, "first_name": "Bench", "username": "bench_bot" },
                "text": p["text"].as_str().unwrap_or("题"),
            })
        }
        "getwebhookinfo" => {
            json!({ "url": "", "has_custom_certificate": false, "pending_update_count": 0 })
        }
        "getmycommands" => json!([]),
        _ => json!(true),
    };
    if counted {
        if let Some(watcher) = fake.watchers.lock().unwrap().get(&chat) {
            let mut seen = p.clone();
            seen["message_id"] = result["message_id"].clone();
            let _ = watcher.send((method.clone(), seen));
        }
    }
    Json(json!({ "ok": true, "result": result }))
}

async fn get_updates(fake: &Fake, p: &Value) -> Vec<Value> {
    let offset = p["offset"].as_i64().unwrap_or(0);
    let timeout = Duration::from_secs(p["timeout"].as_u64().unwrap_or(0).min(10));
    let deadline = Instant::now() + timeout;
    loop {
        let notified = fake.updates_ready.notified();
        {
            let mut st = fake.state.lock().unwrap();
            while st
                .updates
                .front()
                .is_some_and(|u| u["update_id"].as_i64().unwrap_or(0) < offset)
            {
                st.updates.pop_front();
            }
            if !st.updates.is_empty() {
                return st.updates.iter().take(100).cloned().collect();
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Vec::new();
        }
        let _ = tokio::time::timeout(left, notified).await;
    }
}

async fn start_fake() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    fake.overall_limit.store(30, Ordering::Relaxed);
    let app = Router::new()
        .route("/{bot}/{method}", post(handle))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Every accepted socket without Nagle's delay.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (fake, url)
}

// ------------------------------------------------------------------------------------------
// The bots as child processes
// ------------------------------------------------------------------------------------------

struct Bot {
    child: Child,
}

/// The release build of the real bot beside this example (`target/release/branchbot`): the
/// binary as deployed, with its own allocator, which this example's process does not share.
fn branchbot_binary() -> PathBuf {
    let binary = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("branchbot"))
        .expect("the example runs from target/<profile>/examples");
    let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
    let sources = newest_change(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    if built.is_none() || built < sources {
        eprintln!(
            "bench_load measures the bot's own binary, and {} is missing or older than src/: \
             build both with `cargo build --release --bin branchbot --example bench_load`",
            binary.display()
        );
        std::process::exit(2);
    }
    binary
}

/// When a file under `dir` last changed.
fn newest_change(dir: &Path) -> Option<std::time::SystemTime> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            if meta.is_dir() {
                newest_change(&entry.path())
            } else {
                meta.modified().ok()
            }
        })
        .max()
}

impl Bot {
    fn spawn(mode: &str, url: &str, dir: &Path, extra: &[(&str, String)]) -> Bot {
        let mut cmd = if mode == "--serve-branchbot" {
            Command::new(branchbot_binary())
        } else {
            let mut cmd = Command::new(std::env::current_exe().unwrap());
            cmd.arg(mode);
            cmd
        };
        // The binary's own logging, as quiet as the bare bot's unless `BENCH_BOT_LOG` says
        // otherwise (`BENCH_BOT_LOG=info,sqlx::query=debug` lists its statements).
        let log = std::env::var("BENCH_BOT_LOG");
        cmd.env_clear()
            .env("RUST_LOG", log.as_deref().unwrap_or("warn,sqlx=error"))
            .current_dir(dir)
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TELOXIDE_TOKEN", TOKEN)
            .env("TELOXIDE_API_URL", url)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("bot.db").display()),
            )
            .env("BRANCHBOT_QUESTIONS_DIR", questions_dir())
            .env(
                "BRANCHBOT_QUESTIONS_PER_TEST",
                QUESTIONS_PER_TEST.to_string(),
            )
            .env("BRANCHBOT_SEED", "7")
            .env("BRANCHBOT_BACKUP_KEEP", "0");
        // `BENCH_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2`: the bare bot with another
        // allocator (the real bot's own `malloc` takes precedence over a preloaded one).
        if let Ok(preload) = std::env::var("BENCH_PRELOAD") {
            cmd.env("LD_PRELOAD", preload);
        }
        // jemalloc's run-time options pass through, e.g. `MALLOC_CONF=dirty_decay_ms:0`.
        if let Ok(options) = std::env::var("MALLOC_CONF") {
            cmd.env("MALLOC_CONF", options);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Bot {
            child: cmd.spawn().expect("spawn the bot"),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User plus system CPU time so far.
    fn cpu(&self) -> Duration {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
            + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
        Duration::from_millis(ticks * 10)
    }

    /// Context switches of all its threads so far (voluntary and not): each one is a thread
    /// parked and woken, which on this kind of machine costs as much as a small query.
    fn context_switches(&self) -> u64 {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.pid())) else {
            return 0;
        };
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
            .flat_map(|status| {
                status
                    .lines()
                    .filter(|l| l.contains("ctxt_switches:"))
                    .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                    .collect::<Vec<_>>()
            })
            .sum()
    }

    fn rss_mib(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    }

    /// Resident memory by kind (`RssAnon`, `RssFile`, `RssShmem`), in MiB.
    fn rss_kinds(&self) -> String {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .filter(|l| l.starts_with("Rss") || l.starts_with("Threads"))
            .map(|l| {
                let mut parts = l.split_whitespace();
                let name = parts.next().unwrap_or("").trim_end_matches(':');
                let value: f64 = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
                if name == "Threads" {
                    format!("{name} {value}")
                } else {
                    format!("{name} {:.1} MiB", value / 1024.0)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn stop(mut self) {
        unsafe_free_kill(&mut self.child);
    }
}

/// SIGTERM via `kill`, then wait (the bot shuts down within its grace period).
fn unsafe_free_kill(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn questions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("questions")
}

/// A database with `trainees` members of one branch and an open round; or, for the broadcast,
/// `GROUPS` bound branches and no round.
async fn seed(dir: &Path, trainees: i64, groups: i64) {
    let url = format!("sqlite://{}", dir.join("bot.db").display());
    let db = branchbot::storage::connect(&url).await.expect("database");
    let now = now_secs();
    let mut tx = db.begin().await.unwrap();
    for g in 0..groups.max(1) {
        sqlx::query("INSERT INTO branches (chat_id, name, kind, join_code, created_at, updated_at) VALUES (?, ?, '机关', ?, ?, ?)")
            .bind(-1_000_000 - g)
            .bind(format!("第{g}党支部"))
            .bind(format!("CODE{g}"))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for user in 1..=trainees {
        sqlx::query("INSERT INTO users (id, full_name, created_at) VALUES (?, ?, ?)")
            .bind(user)
            .bind(format!("学员{user}"))
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO members (user_id, branch_id, joined_at) VALUES (?, 1, ?)")
            .bind(user)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    if groups == 0 {
        sqlx::query(
            "INSERT INTO rounds (opens_at, closes_at, status, opened_by) VALUES (?, ?, 'open', 1)",
        )
        .bind(now - 60)
        .bind(now + 7 * 86400)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    db.close().await;
}

// ------------------------------------------------------------------------------------------
// Trainees
// ------------------------------------------------------------------------------------------

/// What one trainee measured.
#[derive(Default)]
struct Taken {
    latencies: Vec<Duration>,
    answers: usize,
}

fn buttons(p: &Value) -> Vec<String> {
    let markup = match &p["reply_markup"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        v => v.clone(),
    };
    markup["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|b| b["callback_data"].as_str().map(str::to_owned))
        .collect()
}

/// Takes the test: `/test`, then each question after a pause to read it: a 单选/判断 by its
/// first button; a 多选 by ticking its first option and submitting. Measures press → the next
/// question (or the answered last question) showing.
async fn trainee(fake: Arc<Fake>, user: i64, seed: u64) -> Taken {
    let (tx, mut rx) = mpsc::unbounded_channel();
    fake.watchers.lock().unwrap().insert(user, tx);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut taken = Taken::default();
    fake.push_text(user, "/test");
    // The question: a message call into the chat with question buttons.
    let mut message_id = 0;
    let mut data = loop {
        let Some((_, p)) = recv(&mut rx).await else {
            return taken;
        };
        let b = buttons(&p);
        if b.iter().any(|d| d.starts_with("a:") || d.starts_with("t:")) {
            message_id = p["message_id"].as_i64().unwrap_or(message_id);
            if message_id == 0 {
                message_id = 1;
            }
            break b;
        }
    };
    loop {
        tokio::time::sleep(Duration::from_millis(rng.random_range(1000..1500))).await;
        let multi = data.iter().any(|d| d.starts_with("t:"));
        if multi {
            let tick = data.iter().find(|d| d.starts_with("t:")).cloned().unwrap();
            fake.push_press(user, message_id, &tick);
            let Some((_, p)) = recv(&mut rx).await else {
                return taken;
            };
            data = buttons(&p);
            tokio::time::sleep(Duration::from_millis(rng.random_range(1000..1500))).await;
        }
        let press = if multi {
            data.iter().find(|d| d.starts_with("s:")).cloned()
        } else {
            data.iter().find(|d| d.starts_with("a:")).cloned()
        };
        let Some(press) = press else {
            return taken;
        };
        let pressed = Instant::now();
        fake.push_press(user, message_id, &press);
        let Some((_, p)) = recv(&mut rx).await else {
            return taken;
        };
        taken.latencies.push(pressed.elapsed());
        taken.answers += 1;
        data = buttons(&p);
        if data.is_empty() {
            return taken;
        }
    }
}

async fn recv(rx: &mut mpsc::UnboundedReceiver<(String, Value)>) -> Option<(String, Value)> {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .ok()
        .flatten()
}

struct Run {
    answers: usize,
    answers_per_sec: f64,
    cpu_per_answer_ms: f64,
    switches_per_answer: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    calls_per_answer: f64,
    message_calls_per_answer: f64,
    too_many: u64,
    rss_idle: f64,
    rss_after: f64,
    idle_ms_per_s: f64,
}

async fn answer_run(mode: &str, trainees: i64) -> Run {
    let (fake, url) = start_fake().await;
    // As with paid broadcasts: the overall limit is not what is measured here.
    fake.overall_limit.store(1000, Ordering::Relaxed);
    let dir = tempfile::tempdir().unwrap();
    if mode == "--serve-branchbot" {
        seed(dir.path(), trainees, 0).await;
    }
    let bot = Bot::spawn(
        mode,
        &url,
        dir.path(),
        &[("BRANCHBOT_MESSAGES_PER_SECOND", "1000".to_owned())],
    );
    // Started: polling, and a moment to settle.
    while fake.polls.load(Ordering::Relaxed) < 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = bot.rss_mib();
    eprintln!("{mode} idle: {}", bot.rss_kinds());
    eprintln!("{mode} pid {}", bot.pid());
    // What the bot spends doing nothing (its timers, the scheduler), to tell from the answers.
    let idle_from = bot.cpu();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_ms_per_s = (bot.cpu() - idle_from).as_secs_f64() * 1000.0 / 5.0;
    let cpu_before = bot.cpu();
    let switches_before = bot.context_switches();
    let calls_before = fake.calls.load(Ordering::Relaxed);
    let messages_before = fake.message_calls.load(Ordering::Relaxed);
    let started = Instant::now();
    let tasks: Vec<_> = (1..=trainees)
        .map(|user| tokio::spawn(trainee(fake.clone(), user, user as u64)))
        .collect();
    let mut latencies = Vec::new();
    let mut answers = 0;
    for task in tasks {
        let taken = task.await.unwrap();
        answers += taken.answers;
        latencies.extend(taken.latencies);
    }
    let elapsed = started.elapsed();
    let cpu = bot.cpu() - cpu_before;
    let switches = bot.context_switches() - switches_before;
    // getUpdates polls are not counted: they depend on how long the bot waits, not on answers.
    let calls = fake.calls.load(Ordering::Relaxed) - calls_before;
    let messages = fake.message_calls.load(Ordering::Relaxed) - messages_before;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = bot.rss_mib();
    eprintln!("{mode} after the run: {}", bot.rss_kinds());
    // Memory still held five seconds later is live, not waiting for the allocator to return it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    eprintln!("{mode} 5 s after the run: {}", bot.rss_kinds());
    if let Ok(path) = std::env::var("BENCH_SMAPS") {
        let smaps = std::fs::read_to_string(format!("/proc/{}/smaps", bot.pid()));
        let _ = std::fs::write(path, smaps.unwrap_or_default());
    }
    bot.stop();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let answers_f = answers.max(1) as f64;
    Run {
        answers,
        answers_per_sec: answers as f64 / elapsed.as_secs_f64(),
        cpu_per_answer_ms: cpu.as_secs_f64() * 1000.0 / answers_f,
        switches_per_answer: switches as f64 / answers_f,
        p50: pct(0.50),
        p95: pct(0.95),
        p99: pct(0.99),
        calls_per_answer: calls as f64 / answers_f,
        message_calls_per_answer: messages as f64 / answers_f,
        too_many: fake.too_many.load(Ordering::Relaxed),
        rss_idle,
        rss_after,
        idle_ms_per_s,
    }
}

/// `/rounds open` by a super-administrator: the round's announcement goes to 300 groups
/// through the outbox, at Telegram's 30 messages a second.
async fn broadcast_run() -> (usize, f64, u64) {
    let (fake, url) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), 0, GROUPS).await;
    let bot = Bot::spawn(
        "--serve-branchbot",
        &url,
        dir.path(),
        &[
            ("BRANCHBOT_SUPER_ADMINS", ADMIN.to_string()),
            // No round of the calendar's own: on the 1st or the 16th the bot would open one as it
            // starts, and its announcements would go out before the measured `/rounds open`.
            ("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 *".to_owned()),
        ],
    );
    while fake.polls.load(Ordering::Relaxed) < 1 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = fake.state.lock().unwrap().group_sends.len();
    let too_many_before = fake.too_many.load(Ordering::Relaxed);
    fake.push_text(ADMIN, "/rounds open");
    // Until no group message came for three seconds.
    let mut last_count = before;
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let count = fake.state.lock().unwrap().group_sends.len();
        if count != last_count {
            last_count = count;
            quiet_since = Instant::now();
        }
    }
    let sends: Vec<Instant> = fake.state.lock().unwrap().group_sends[before..].to_vec();
    bot.stop();
    // What the bot's outbox says, beside what the fake counted.
    let url = format!("sqlite://{}", dir.path().join("bot.db").display());
    let db = branchbot::storage::connect(&url).await.expect("database");
    let statuses: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM outbox WHERE chat_id < 0 GROUP BY status")
            .fetch_all(&db)
            .await
            .unwrap_or_default();
    let longest_gap = sends
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    eprintln!("broadcast: outbox {statuses:?}; longest gap between group messages {longest_gap:?}");
    db.close().await;
    let rate = match (sends.first(), sends.last()) {
        (Some(first), Some(last)) if sends.len() > 1 => {
            (sends.len() - 1) as f64 / (*last - *first).as_secs_f64()
        }
        _ => 0.0,
    };
    (
        sends.len(),
        rate,
        fake.too_many.load(Ordering::Relaxed) - too_many_before,
    )
}

/// The answer transaction alone: `service::quiz::press` from 8 tasks on one database file,
/// answers stored a second (each a write transaction), no Bot API.
async fn writes_per_second(trainees: i64) -> (usize, f64) {
    use branchbot::domain::quiz::PressKind;
    use branchbot::questions::model::QuestionKind;
    use branchbot::service::quiz::{self, Entry, Next, PressOutcome};
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), trainees, 0).await;
    let url = format!("sqlite://{}", dir.path().join("bot.db").display());
    let dir_s = questions_dir().display().to_string();
    let config = branchbot::config::Config::from_lookup(|k| match k {
        "TELOXIDE_TOKEN" => Some(TOKEN.to_owned()),
        "DATABASE_URL" => Some(url.clone()),
        "BRANCHBOT_QUESTIONS_DIR" => Some(dir_s.clone()),
        "BRANCHBOT_QUESTIONS_PER_TEST" => Some(QUESTIONS_PER_TEST.to_string()),
        _ => None,
    })
    .unwrap();
    let state = branchbot::app::build_state(config, "bench_bot".to_owned())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    branchbot::startup::prepare(&state)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut firsts = Vec::new();
    for user in 1..=trainees {
        match quiz::enter(&state, user).await.unwrap() {
            Entry::Started {
                next: Next::Question(q),
                ..
            } => firsts.push((user, q)),
            other => panic!("{other:?}"),
        }
    }
    let started = Instant::now();
    let answered = Arc::new(AtomicI64::new(0));
    let chunks: Vec<Vec<_>> = firsts
        .chunks(firsts.len().div_ceil(8))
        .map(<[_]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let state = state.clone();
        let answered = answered.clone();
        tasks.push(tokio::spawn(async move {
            for (user, mut q) in chunk {
                loop {
                    let position = u8::try_from(q.position).unwrap();
                    if q.shown.question.kind == QuestionKind::Multiple {
                        let tick = PressKind::Set { shown: 0, on: true };
                        quiz::press(&state, user, q.attempt_id, position, tick, None)
                            .await
                            .unwrap();
                    }
                    let press = if q.shown.question.kind == QuestionKind::Multiple {
                        PressKind::Submit
                    } else {
                        PressKind::Choose(0)
                    };
                    let outcome = quiz::press(&state, user, q.attempt_id, position, press, None)
                        .await
                        .unwrap();
                    answered.fetch_add(1, Ordering::Relaxed);
                    match outcome {
                        PressOutcome::Answered {
                            next: Next::Question(next),
                            ..
                        } => q = next,
                        PressOutcome::Answered {
                            next: Next::LastAnswered(test),
                            ..
                        } => {
                            quiz::conclude(&state, test).await.unwrap();
                            break;
                        }
                        PressOutcome::Answered { .. } => break,
                        other => panic!("{other:?}"),
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let n = answered.load(Ordering::Relaxed) as usize;
    (n, n as f64 / started.elapsed().as_secs_f64())
}

async fn drive(quick: bool) {
    let sizes: Vec<i64> = match std::env::var("BENCH_SIZES") {
        Ok(list) => list.split(',').filter_map(|n| n.parse().ok()).collect(),
        Err(_) if quick => vec![10],
        Err(_) => vec![50, 200],
    };
    let sizes = sizes.as_slice();
    // `BENCH_ONLY=branchbot` or `BENCH_ONLY=bare`: one bot's answer runs alone, for profiling;
    // `BENCH_ONLY=answers`: both bots' answer runs, nothing after them.
    let only = std::env::var("BENCH_ONLY").ok();
    let only_one = only.is_some();
    println!(
        "bench_load: {} questions per test; think time 1.0–1.5 s per question",
        QUESTIONS_PER_TEST
    );
    // `BENCH_PAIRS`: how many times each size runs branchbot and then the bare bot. On a shared
    // machine one run of either moves by a third from run to run; the table reports each
    // figure's median and the median of the pairs' ratios, which a slow minute spoils in one
    // pair only.
    let pairs: usize = std::env::var("BENCH_PAIRS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(if quick { 1 } else { 3 });
    let mut rows = Vec::new();
    for n in sizes.iter().flat_map(|&n| std::iter::repeat_n(n, pairs)) {
        for mode in ["--serve-branchbot", "--serve-bare"] {
            let name = mode.trim_start_matches("--serve-");
            if only
                .as_deref()
                .is_some_and(|only| only != name && only != "answers")
            {
                continue;
            }
            let run = answer_run(mode, n).await;
            let name = if mode == "--serve-bare" {
                "bare teloxide"
            } else {
                "branchbot"
            };
            println!(
                "{name:>14} n={n:<4} answers={:<5} {:.1}/s cpu/answer={:.3} ms switches/answer={:.1} p50={:.1} p95={:.1} p99={:.1} ms calls/answer={:.2} message calls/answer={:.2} 429={} rss idle={:.1} MiB after={:.1} MiB idle cpu={:.2} ms/s",
                run.answers, run.answers_per_sec, run.cpu_per_answer_ms, run.switches_per_answer, run.p50, run.p95, run.p99,
                run.calls_per_answer, run.message_calls_per_answer, run.too_many, run.rss_idle, run.rss_after,
                run.idle_ms_per_s
            );
            rows.push((name, n, run));
        }
    }
    if only_one {
        return;
    }
    let (sent, rate, too_many) = broadcast_run().await;
    println!(
        "broadcast: {sent} group messages at {rate:.2} msg/s ({:.3} of 30), {too_many} × 429",
        rate / 30.0
    );
    let (n, wps) = writes_per_second(if quick { 20 } else { 500 }).await;
    println!("answer transaction: {n} answers at {wps:.0} answers/s (8 tasks, one SQLite writer)");

    println!(
        "\n{pairs} pair(s) of runs per size; each figure is the median of its runs, each ratio the median of the pairs' ratios.\n\n| figure | trainees | branchbot | bare teloxide | ratio |\n|---|---|---|---|---|"
    );
    for &n in sizes {
        let runs = |name: &str| -> Vec<&Run> {
            rows.iter()
                .filter(|r| r.0 == name && r.1 == n)
                .map(|r| &r.2)
                .collect()
        };
        let (b, r) = (runs("branchbot"), runs("bare teloxide"));
        let line = |name: &str, figure: fn(&Run) -> f64, unit: &str| {
            let x = median(b.iter().map(|run| figure(run)));
            let y = median(r.iter().map(|run| figure(run)));
            let ratios: Vec<f64> = b
                .iter()
                .zip(&r)
                .filter(|(_, bare)| figure(bare) > 0.0)
                .map(|(bot, bare)| figure(bot) / figure(bare))
                .collect();
            let ratio = if ratios.is_empty() {
                "—".to_owned()
            } else if ratios.len() == 1 {
                format!("{:.2}×", ratios[0])
            } else {
                let each: Vec<String> = ratios.iter().map(|q| format!("{q:.2}")).collect();
                format!(
                    "{:.2}× (pairs: {})",
                    median(ratios.iter().copied()),
                    each.join(", ")
                )
            };
            println!("| {name} | {n} | {x:.2}{unit} | {y:.2}{unit} | {ratio} |");
        };
        line("answers/s", |run| run.answers_per_sec, "");
        line("CPU per answer", |run| run.cpu_per_answer_ms, " ms");
        line(
            "context switches per answer",
            |run| run.switches_per_answer,
            "",
        );
        line("press → next question p50", |run| run.p50, " ms");
        line("press → next question p95", |run| run.p95, " ms");
        line("press → next question p99", |run| run.p99, " ms");
        line(
            "Bot API calls per answer (all but getUpdates)",
            |run| run.calls_per_answer,
            "",
        );
        line(
            "message calls per answer (send/edit into trainee chats, whole test)",
            |run| run.message_calls_per_answer,
            "",
        );
        line("RSS idle", |run| run.rss_idle, " MiB");
        line(
            "CPU while idle (per second)",
            |run| run.idle_ms_per_s,
            " ms",
        );
        line("RSS after the run", |run| run.rss_after, " MiB");
        let too_many = |runs: &[&Run]| runs.iter().map(|run| run.too_many).sum::<u64>();
        println!(
            "| 429s (all runs) | {n} | {} | {} | |",
            too_many(&b),
            too_many(&r)
        );
    }
    println!(
        "| broadcast to {GROUPS} groups | | {rate:.2} msg/s ({:.3} of 30), {too_many} × 429 | | |",
        rate / 30.0
    );
    println!(
        "| answer transactions a second (one writer) | {} | {wps:.0} | | |",
        if quick { 20 } else { 500 }
    );
}

// ------------------------------------------------------------------------------------------
// The bare teloxide baseline
// ------------------------------------------------------------------------------------------

mod bare {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use branchbot::questions::model::{Question, QuestionKind};
    use branchbot::texts::quiz_view as view;
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    use teloxide::prelude::*;
    use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode};

    struct Session {
        questions: Vec<usize>,
        position: usize,
        selection: Vec<u8>,
    }

    struct Bare {
        bank: Vec<Question>,
        sessions: Mutex<HashMap<i64, Session>>,
        rng: Mutex<rand::rngs::StdRng>,
    }

    pub async fn serve() {
        let dir = std::env::var("BRANCHBOT_QUESTIONS_DIR").unwrap();
        let bank = branchbot::questions::toml_file::load_dir(std::path::Path::new(&dir))
            .unwrap_or_else(|e| panic!("{} errors", e.len()));
        let bare = Arc::new(Bare {
            bank,
            sessions: Mutex::new(HashMap::new()),
            rng: Mutex::new(rand::rngs::StdRng::seed_from_u64(7)),
        });
        let bot = Bot::from_env();
        let handler = dptree::entry()
            .branch(Update::filter_message().endpoint(on_message))
            .branch(Update::filter_callback_query().endpoint(on_press));
        Dispatcher::builder(bot, handler)
            .dependencies(dptree::deps![bare])
            .build()
            .dispatch()
            .await;
    }

    fn order(q: &Question) -> Vec<u8> {
        (0..q.options.len() as u8).collect()
    }

    fn keyboard(q: &Question, position: usize, selection: &[u8]) -> InlineKeyboardMarkup {
        let multi = q.kind == QuestionKind::Multiple;
        let row: Vec<InlineKeyboardButton> = view::option_buttons(q, &order(q), selection)
            .into_iter()
            .map(|b| {
                let data = if multi {
                    let on = !selection.contains(&b.original_index);
                    format!("t:1:{position}:{}:{}", b.shown_position, u8::from(on))
                } else {
                    format!("a:1:{position}:{}", b.shown_position)
                };
                InlineKeyboardButton::callback(b.label, data)
            })
            .collect();
        let mut rows = vec![row];
        if multi {
            rows.push(vec![InlineKeyboardButton::callback(
                branchbot::texts::quiz::SUBMIT,
                format!("s:1:{position}"),
            )]);
        }
        InlineKeyboardMarkup::new(rows)
    }

    async fn on_message(bot: Bot, msg: Message, bare: Arc<Bare>) -> ResponseResult<()> {
        if msg.text() != Some("/test") {
            return Ok(());
        }
        let mut picked: Vec<usize> = (0..bare.bank.len()).collect();
        picked.shuffle(&mut *bare.rng.lock().unwrap());
        picked.truncate(super::QUESTIONS_PER_TEST);
        let first = &bare.bank[picked[0]];
        let text = view::render_question(first, &order(first), 0, picked.len(), &[]);
        let markup = keyboard(first, 0, &[]);
        bare.sessions.lock().unwrap().insert(
            msg.chat.id.0,
            Session {
                questions: picked,
                position: 0,
                selection: Vec::new(),
            },
        );
        bot.send_message(msg.chat.id, "业务测试开始").await?;
        // One message a second into a chat, as Telegram asks.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        bot.send_message(msg.chat.id, text)
            .parse_mode(ParseMode::Html)
            .reply_markup(markup)
            .await?;
        Ok(())
    }

    async fn on_press(bot: Bot, q: CallbackQuery, bare: Arc<Bare>) -> ResponseResult<()> {
        let data = q.data.clone().unwrap_or_default();
        let chat = q.from.id.0 as i64;
        let message = q.message.as_ref().map(|m| m.id()).unwrap_or(MessageId(1));
        enum Show {
            Question(String, InlineKeyboardMarkup),
            Done(String),
        }
        let show = {
            let mut sessions = bare.sessions.lock().unwrap();
            let Some(s) = sessions.get_mut(&chat) else {
                return Ok(());
            };
            let question = &bare.bank[s.questions[s.position]];
            if let Some(rest) = data.strip_prefix("t:") {
                let option: u8 = rest
                    .split(':')
                    .nth(2)
                    .and_then(|o| o.parse().ok())
                    .unwrap_or(0);
                if !s.selection.contains(&option) {
                    s.selection.push(option);
                }
                let text = view::render_question(
                    question,
                    &order(question),
                    s.position,
                    s.questions.len(),
                    &s.selection,
                );
                Show::Question(text, keyboard(question, s.position, &s.selection))
            } else {
                let answered = s.position;
                s.position += 1;
                s.selection.clear();
                if s.position < s.questions.len() {
                    let next = &bare.bank[s.questions[s.position]];
                    let text = view::render_question(
                        next,
                        &order(next),
                        s.position,
                        s.questions.len(),
                        &[],
                    );
                    Show::Question(text, keyboard(next, s.position, &[]))
                } else {
                    Show::Done(view::answered_view(
                        question,
                        &order(question),
                        answered,
                        s.questions.len(),
                        &[0],
                    ))
                }
            }
        };
        bot.answer_callback_query(q.id.clone()).await?;
        match show {
            Show::Question(text, markup) => {
                bot.edit_message_text(ChatId(chat), message, text)
                    .parse_mode(ParseMode::Html)
                    .reply_markup(markup)
                    .await?;
            }
            Show::Done(text) => {
                bot.edit_message_text(ChatId(chat), message, text)
                    .parse_mode(ParseMode::Html)
                    .await?;
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                bot.send_message(ChatId(chat), "本次测试得分").await?;
            }
        }
        Ok(())
    }
}

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
