//! Test support, compiled once as a module of the one end-to-end test binary (`tests/e2e/`):
//! the fake Telegram Bot API (`fake_api`), Telegram's markup rules (`markup`), the harness that
//! runs the compiled `branchbot` binary against them with a controlled clock and random seed,
//! the steps every test module shares (`helpers`), and the positive "nothing else was sent"
//! checks (`quiet`).
//!
//! A typical end-to-end test:
//!
//! ```ignore
//! let api = FakeApi::start().await;
//! api.add_user(1001, "张三", "zhangsan");
//! api.add_group(-2001, "第一支部", &[1001], &[]);
//! let env = TestEnv::new().super_admins(&[1001]);
//! let mut bot = launch(&api, &env).await;
//! api.push_text(1001, -2001, "/status");
//! api.wait_for_text(-2001, "换届", WAIT).await;
//! assert!(bot.stop().await.success());
//! ```

#![allow(dead_code)]

pub mod chaos;
pub mod fake_api;
pub mod helpers;
pub mod markup;
pub mod quiet;

pub use chaos::ChaosConfig;
pub use fake_api::*;
pub use helpers::*;
pub use quiet::*;

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::mpsc,
    time::Duration,
};

use chrono::{DateTime, SecondsFormat, Utc};

/// The compiled bot under test.
pub const BOT_BIN: &str = env!("CARGO_BIN_EXE_branchbot");
/// The repository's question bank, the default `BRANCHBOT_QUESTIONS_DIR`.
pub const QUESTIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/questions");
/// The instant a fresh `TestEnv` clock shows: Monday 2026-03-02 10:00 in Asia/Shanghai.
pub const DEFAULT_NOW: &str = "2026-03-02T02:00:00Z";
/// How long `BotProcess::stop` waits after SIGTERM before it kills the bot and fails.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `run_cli` lets a subcommand run.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// Inherited variables the child must not see: they would configure it behind the test's back
/// (a developer's real token or database) or route 127.0.0.1 through a proxy.
const SCRUBBED_VARS: &[&str] = &[
    "TELOXIDE_TOKEN",
    "TELOXIDE_API_URL",
    "TELOXIDE_PROXY",
    "DATABASE_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// One test's private world: a temporary directory with the database and the clock file, and
/// the environment the bot is started with.
pub struct TestEnv {
    dir: tempfile::TempDir,
    vars: BTreeMap<String, String>,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    /// A fresh directory, the clock at [`DEFAULT_NOW`], seed 42, time zone Asia/Shanghai, the
    /// repository's question bank, no super-administrators and no admin chat.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("branchbot-test-")
            .tempdir()
            .expect("tempdir");
        let mut env = TestEnv {
            dir,
            vars: BTreeMap::new(),
        };
        let db = env.db_path();
        let clock = env.clock_file();
        env.vars.insert("TELOXIDE_TOKEN".into(), TOKEN.into());
        env.vars
            .insert("DATABASE_URL".into(), format!("sqlite://{}", db.display()));
        env.vars
            .insert("BRANCHBOT_CLOCK_FILE".into(), clock.display().to_string());
        env.vars.insert("BRANCHBOT_SEED".into(), "42".into());
        env.vars
            .insert("BRANCHBOT_TIMEZONE".into(), "Asia/Shanghai".into());
        env.vars
            .insert("BRANCHBOT_QUESTIONS_DIR".into(), QUESTIONS_DIR.into());
        let now = DateTime::parse_from_rfc3339(DEFAULT_NOW)
            .expect("DEFAULT_NOW")
            .to_utc();
        env.set_now(now);
        env
    }

    /// Sets (or overrides) an environment variable of the bot.
    pub fn var(mut self, key: &str, value: impl ToString) -> Self {
        self.set_var(key, value);
        self
    }

    pub fn set_var(&mut self, key: &str, value: impl ToString) {
        self.vars.insert(key.to_owned(), value.to_string());
    }

    /// Removes a variable, e.g. to test the start-up error for a missing setting.
    pub fn unset_var(&mut self, key: &str) {
        self.vars.remove(key);
    }

    pub fn super_admins(self, ids: &[i64]) -> Self {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        self.var("BRANCHBOT_SUPER_ADMINS", list.join(","))
    }

    pub fn admin_chat(self, chat_id: i64) -> Self {
        self.var("BRANCHBOT_ADMIN_CHAT", chat_id)
    }

    pub fn timezone(self, tz: &str) -> Self {
        self.var("BRANCHBOT_TIMEZONE", tz)
    }

    pub fn seed(self, seed: u64) -> Self {
        self.var("BRANCHBOT_SEED", seed)
    }

    pub fn questions_dir(self, dir: impl AsRef<Path>) -> Self {
        self.var("BRANCHBOT_QUESTIONS_DIR", dir.as_ref().display())
    }

    /// The environment the bot gets (besides the token and API URL).
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// The temporary directory (the bot's working directory, so no `branchbot.toml` of the
    /// developer's is picked up).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("bot.db")
    }

    pub fn database_url(&self) -> String {
        self.vars.get("DATABASE_URL").cloned().unwrap_or_default()
    }

    pub fn clock_file(&self) -> PathBuf {
        self.dir.path().join("clock")
    }

    /// Moves the bot's clock; written to a temporary file and renamed, so the bot never reads
    /// a half-written instant.
    pub fn set_now(&self, now: DateTime<Utc>) {
        let tmp = self.dir.path().join("clock.tmp");
        fs::write(&tmp, now.to_rfc3339_opts(SecondsFormat::Secs, true)).expect("write clock.tmp");
        fs::rename(&tmp, self.clock_file()).expect("rename the clock file");
    }

    pub fn now(&self) -> DateTime<Utc> {
        let text = fs::read_to_string(self.clock_file()).expect("read the clock file");
        DateTime::parse_from_rfc3339(text.trim())
            .expect("clock file holds RFC 3339")
            .to_utc()
    }

    /// Moves the clock forward (or back, with a negative duration) and returns the new now.
    pub fn advance(&self, by: chrono::Duration) -> DateTime<Utc> {
        let now = self.now() + by;
        self.set_now(now);
        now
    }
}

/// The binary with a clean environment: the test's variables (the fake token among them) and
/// `api_url`.
fn bot_command(api_url: &str, vars: &BTreeMap<String, String>, dir: &Path) -> Command {
    let mut cmd = Command::new(BOT_BIN);
    for var in SCRUBBED_VARS {
        cmd.env_remove(var);
    }
    for (key, _) in std::env::vars() {
        if key.starts_with("BRANCHBOT_") {
            cmd.env_remove(key);
        }
    }
    if std::env::var_os("RUST_LOG").is_none() {
        cmd.env("RUST_LOG", "info");
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("TELOXIDE_API_URL", api_url)
        .envs(vars)
        .current_dir(dir)
        .stdin(Stdio::null());
    cmd
}

/// Runs a subcommand of the binary (`branchbot <args>`) to completion with the test's
/// environment; panics if it takes longer than [`CLI_TIMEOUT`]. The API URL points at a closed
/// port: the CLI must not need Telegram.
pub fn run_cli(args: &[&str], env: &TestEnv) -> Output {
    run_cli_with_timeout(args, env, CLI_TIMEOUT)
}

pub fn run_cli_with_timeout(args: &[&str], env: &TestEnv, timeout: Duration) -> Output {
    run_cli_with_input(args, env, None, timeout)
}

/// Like [`run_cli`], with `input` written to the command's standard input (then closed).
pub fn run_cli_with_input(
    args: &[&str],
    env: &TestEnv,
    input: Option<&str>,
    timeout: Duration,
) -> Output {
    let mut command = bot_command("http://127.0.0.1:9", &env.vars, env.dir());
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {BOT_BIN}: {e}"));
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        use std::io::Write;
        stdin
            .write_all(input.as_bytes())
            .expect("write the command's input");
    }
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(output) => output.expect("wait for the branchbot binary"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let output = rx.recv().ok().and_then(Result::ok);
            let (stdout, stderr) = output
                .map(|o| {
                    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                    (text(&o.stdout), text(&o.stderr))
                })
                .unwrap_or_default();
            panic!(
                "`branchbot {}` did not finish within {timeout:?}\n---- stdout ----\n{stdout}\n\
                 ---- stderr ----\n{stderr}",
                args.join(" ")
            );
        }
    }
}

/// The bot binary running against a fake API. Its stderr (and stdout) go to files in the test
/// directory and are printed when the test fails; dropping it kills the process.
pub struct BotProcess {
    child: Option<Child>,
    api: FakeApi,
    api_url: String,
    env_vars: BTreeMap<String, String>,
    /// The test directory: working directory and home of the run logs.
    dir: PathBuf,
    logs: Vec<PathBuf>,
    runs: usize,
}

impl BotProcess {
    /// Starts the bot with `env`'s settings against `api`, whose message dates then follow
    /// `env`'s clock.
    pub fn spawn(api: &FakeApi, env: &TestEnv) -> BotProcess {
        api.use_clock_file(env.clock_file());
        let mut bot = BotProcess {
            child: None,
            api: api.clone(),
            api_url: api.url(),
            env_vars: env.vars.clone(),
            dir: env.dir().to_owned(),
            logs: Vec::new(),
            runs: 0,
        };
        bot.start();
        bot
    }

    fn start(&mut self) {
        // Several `BotProcess`es may share a test directory (stop, then spawn anew).
        self.runs += 1;
        let log = (1..)
            .map(|n| self.dir.join(format!("bot-run{n}.log")))
            .find(|p| !p.exists())
            .expect("a free log name");
        let stderr = fs::File::create(&log).expect("create the bot log");
        let stdout = stderr.try_clone().expect("clone the log handle");
        let mut cmd = bot_command(&self.api_url, &self.env_vars, &self.dir);
        cmd.stdout(stdout).stderr(stderr);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {BOT_BIN}: {e}"));
        self.logs.push(log);
        self.child = Some(child);
    }

    /// The process id of the current run.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Everything the bot wrote to stderr/stdout, all runs so far.
    pub fn output(&self) -> String {
        let mut out = String::new();
        for (i, log) in self.logs.iter().enumerate() {
            out.push_str(&format!(
                "---- bot run {} ({}) ----\n",
                i + 1,
                log.display()
            ));
            out.push_str(&fs::read_to_string(log).unwrap_or_default());
        }
        out
    }

    /// Waits until the bot (this run or a later one) calls getUpdates; panics after 10 s.
    pub async fn wait_until_polling(&mut self) {
        self.wait_until_polling_for(Duration::from_secs(10)).await;
    }

    pub async fn wait_until_polling_for(&mut self, timeout: Duration) {
        let polls_before = self.api.calls_to("getUpdates").len();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.api.calls_to("getUpdates").len() > polls_before {
                return;
            }
            if let Some(status) = self.try_wait() {
                panic!(
                    "the bot exited with {status} before polling\n{}",
                    self.output()
                );
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("the bot did not poll within {timeout:?}\n{}", self.output());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `Some(status)` once the process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits up to `timeout` for the bot to exit by itself (e.g. a configuration error).
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Graceful shutdown: SIGTERM, then wait up to [`STOP_TIMEOUT`]. Panics (after SIGKILL) if
    /// the bot does not exit in time.
    pub async fn stop(&mut self) -> ExitStatus {
        let Some(pid) = self.pid() else {
            panic!("stop: the bot is not running")
        };
        if let Some(status) = self.try_wait() {
            self.child = None;
            return status;
        }
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid} failed");
        match self.wait_for_exit(STOP_TIMEOUT).await {
            Some(status) => {
                self.child = None;
                status
            }
            None => {
                self.kill();
                panic!(
                    "the bot did not exit within {STOP_TIMEOUT:?} of SIGTERM\n{}",
                    self.output()
                );
            }
        }
    }

    /// A crash: SIGKILL, no chance to clean up.
    pub fn kill(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = child.kill();
        child.wait().ok()
    }

    /// Stops the bot gracefully and starts it again with the same settings; returns the exit
    /// status of the stopped run.
    pub async fn restart(&mut self) -> ExitStatus {
        let status = self.stop().await;
        self.start();
        status
    }

    /// Kills the bot and starts it again (recovery after a crash).
    pub fn crash_and_restart(&mut self) {
        self.kill();
        self.start();
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("{}", self.output());
            eprintln!("{}", self.api.dump());
        }
    }
}

/// The bot's database, read and written by tests while the bot runs (SQLite in WAL mode lets
/// both work at once).
impl TestEnv {
    pub async fn db(&self) -> sqlx::SqlitePool {
        sqlx::SqlitePool::connect(&self.database_url())
            .await
            .unwrap()
    }

    /// The one value `sql` selects.
    pub async fn query_one<T>(&self, sql: &str) -> T
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        let pool = self.db().await;
        let value: T = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        value
    }

    /// One integer from `sql`, e.g. a `COUNT(*)`.
    pub async fn query_i64(&self, sql: &str) -> i64 {
        self.query_one(sql).await
    }

    pub async fn execute(&self, sql: &str) {
        let pool = self.db().await;
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }

    /// Creates the database with the bot's migrations and runs `script` (several statements)
    /// on it: a world seeded before the bot starts.
    pub async fn seed_database(&self, script: &str) {
        let db = branchbot::storage::connect(&self.database_url())
            .await
            .unwrap();
        sqlx::raw_sql(script).execute(&db).await.unwrap();
        db.close().await;
    }

    /// The join code of the branch bound to `chat`.
    pub async fn join_code(&self, chat: i64) -> String {
        self.query_one(&format!(
            "SELECT join_code FROM branches WHERE chat_id = {chat}"
        ))
        .await
    }

    /// Polls until `sql` gives `expected`: for what the bot writes in the background.
    pub async fn eventually_i64(&self, sql: &str, expected: i64) {
        self.eventually_i64_within(sql, expected, Duration::from_secs(10))
            .await
    }

    /// [`TestEnv::eventually_i64`] with a limit of its own.
    pub async fn eventually_i64_within(&self, sql: &str, expected: i64, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let value = self.query_i64(sql).await;
            if value == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{sql} gave {value}, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
