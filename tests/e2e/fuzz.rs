//! Fuzz test (issue 15, "must hold afterwards", third bullet): a seeded generator drives the
//! real conversation (`chat::handlers::on_message`/`on_press`, the service layer, storage and
//! the scheduler's outbox) in this process through a door that holds every request to the rules
//! Telegram enforces. Inputs: every command with generated arguments, from every role and chat
//! kind; button presses with real, mutated and forged callback data; uploaded files (banks
//! good and broken, random bytes, wrong names, oversized); clock moves with scheduler passes.
//! The door also fails 3% of its calls, as Telegram does under load.
//!
//! Must hold: no panic; every request one Telegram would accept (HTML parses, text ≤ 4096
//! UTF-16 units after entities and not empty, callback data 1–64 bytes, button answers ≤ 200
//! characters, each press answered at most once); and no input from someone without the role
//! changes the branches, terms, meeting plans and records, rounds, the bank or the roles.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Notify;

use branchbot::buttons::Keyboard;
use branchbot::chat::{
    handlers, Chat, ChatKind, Document, Door, Incoming, MessageRef, OutFile, Person, Press,
};
use branchbot::clock::{Clock, ManualClock};
use branchbot::config::Config;
use branchbot::error::{AppError, AppResult};
use branchbot::scheduler::delivery::{Outcome, Outgoing, Outlet};
use branchbot::service::AppState;

use crate::quiz::BANK;
use crate::support::markup;
use crate::support::*;

/// Inputs per run (the black-box run used 3,000); `BRANCHBOT_FUZZ_INPUTS` and
/// `BRANCHBOT_FUZZ_SEED` run more or other ones.
const INPUTS: usize = 3000;
const SEED: u64 = 1515;

fn setting(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
const BOT: &str = "branchbot_test_bot";

const SUPER: i64 = 1000;
const GROUP_ADMIN: i64 = 1001;
const MEMBER: i64 = 1002;
const STRANGER: i64 = 1003;
const GROUP: i64 = -2001;
const OTHER_GROUP: i64 = -2002;

/// What the door saw that Telegram would refuse.
#[derive(Default)]
struct Record {
    next_message: i64,
    /// Every keyboard sent or edited: (chat, message, callback data).
    buttons: Vec<(i64, i64, String)>,
    answered: HashMap<String, u32>,
    violations: Vec<String>,
    requests: usize,
    failures_injected: usize,
}

/// A door that checks each request as Telegram would and fails some of them.
struct FuzzDoor {
    record: Mutex<Record>,
    rng: Mutex<StdRng>,
    files: Mutex<HashMap<String, Vec<u8>>>,
}

impl FuzzDoor {
    fn new(seed: u64) -> Self {
        FuzzDoor {
            record: Mutex::new(Record {
                next_message: 100,
                ..Record::default()
            }),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            files: Mutex::new(HashMap::new()),
        }
    }

    fn violation(&self, what: String) {
        self.record.lock().unwrap().violations.push(what);
    }

    /// One request in three dozen fails, as under a 5xx spell.
    fn fails(&self) -> bool {
        let fail = self.rng.lock().unwrap().random_bool(0.03);
        let mut record = self.record.lock().unwrap();
        record.requests += 1;
        if fail {
            record.failures_injected += 1;
        }
        fail
    }

    fn check_html(&self, what: &str, html: &str, limit: usize) {
        match markup::parse_html(html) {
            Err(err) => self.violation(format!("{what}: {err}: {html:?}")),
            Ok(parsed) => {
                let len = markup::utf16_len(&parsed.text);
                if len > limit {
                    self.violation(format!("{what}: {len} UTF-16 units > {limit}"));
                }
                if parsed.text.trim().is_empty() {
                    self.violation(format!("{what}: empty text"));
                }
            }
        }
    }

    fn check_keyboard(&self, chat: i64, message: i64, keyboard: Option<&Keyboard>) {
        let Some(keyboard) = keyboard else { return };
        for button in keyboard.inline_keyboard.iter().flatten() {
            if button.text.trim().is_empty() {
                self.violation(format!("empty button text in {chat}"));
            }
            match (&button.callback_data, &button.url) {
                (Some(data), None) => {
                    if data.is_empty() || data.len() > 64 {
                        self.violation(format!("callback data of {} bytes: {data}", data.len()));
                    }
                    let mut record = self.record.lock().unwrap();
                    record.buttons.push((chat, message, data.clone()));
                }
                (None, Some(url)) => {
                    if !url.starts_with("https://") {
                        self.violation(format!("button URL {url}"));
                    }
                }
                _ => self.violation(format!("button {button:?} is neither data nor link")),
            }
        }
    }

    fn failure() -> AppError {
        AppError::Telegram(teloxide::RequestError::Api(teloxide::ApiError::Unknown(
            "Internal Server Error".to_owned(),
        )))
    }
}

#[async_trait]
impl Door for FuzzDoor {
    async fn send(&self, chat: i64, html: &str, keyboard: Option<&Keyboard>) -> AppResult<i64> {
        self.check_html("sendMessage", html, 4096);
        let id = {
            let mut record = self.record.lock().unwrap();
            record.next_message += 1;
            record.next_message
        };
        self.check_keyboard(chat, id, keyboard);
        if self.fails() {
            return Err(Self::failure());
        }
        Ok(id)
    }
    async fn edit(
        &self,
        chat: i64,
        message: i64,
        html: &str,
        keyboard: Option<&Keyboard>,
    ) -> AppResult<()> {
        self.check_html("editMessageText", html, 4096);
        self.check_keyboard(chat, message, keyboard);
        if self.fails() {
            return Err(Self::failure());
        }
        Ok(())
    }
    async fn clear_buttons(&self, _chat: i64, _message: i64) -> AppResult<()> {
        if self.fails() {
            return Err(Self::failure());
        }
        Ok(())
    }
    async fn answer(&self, press: &str, text: Option<&str>, _alert: bool) -> AppResult<()> {
        if let Some(text) = text {
            let chars = text.chars().count();
            if chars > 200 {
                self.violation(format!("callback answer of {chars} characters"));
            }
        }
        let times = {
            let mut record = self.record.lock().unwrap();
            let times = record.answered.entry(press.to_owned()).or_default();
            *times += 1;
            *times
        };
        if times > 1 {
            self.violation(format!("press {press} answered {times} times"));
        }
        if self.fails() {
            return Err(Self::failure());
        }
        Ok(())
    }
    async fn send_files(&self, _chat: i64, files: Vec<OutFile>) -> AppResult<()> {
        if files.is_empty() || files.len() > 10 {
            self.violation(format!("{} files in one group", files.len()));
        }
        for file in &files {
            if let Some(caption) = &file.caption {
                self.check_html("caption", caption, 1024);
            }
        }
        if self.fails() {
            return Err(Self::failure());
        }
        Ok(())
    }
    async fn send_picture(&self, _chat: i64, picture: OutFile) -> AppResult<()> {
        if let Some(caption) = &picture.caption {
            self.check_html("photo caption", caption, 1024);
        }
        Ok(())
    }
    async fn show_working(&self, _chat: i64) {}
    async fn is_group_admin(&self, chat: i64, user: i64) -> AppResult<bool> {
        Ok(user == GROUP_ADMIN && (chat == GROUP || chat == OTHER_GROUP))
    }
    async fn download(&self, document: &Document) -> AppResult<Vec<u8>> {
        if self.fails() {
            return Err(Self::failure());
        }
        Ok(self
            .files
            .lock()
            .unwrap()
            .get(&document.file_id)
            .cloned()
            .unwrap_or_default())
    }
    async fn role_changed(&self, _user: i64, _admin: bool) {}
}

#[async_trait]
impl Outlet for FuzzDoor {
    async fn deliver(&self, message: Outgoing<'_>) -> Outcome {
        match self
            .send(message.chat_id, message.html, message.keyboard)
            .await
        {
            Ok(message_id) => Outcome::Sent { message_id },
            Err(err) => Outcome::Retry {
                at: message.now + 60,
                error: err.to_string(),
            },
        }
    }
}

/// The rows that only someone with a role may change, as one comparable text.
async fn guarded_state(db: &sqlx::SqlitePool) -> String {
    let tables = [
        ("branches", "*"),
        ("terms", "*"),
        ("meeting_plans", "*"),
        ("meeting_occurrences", "*"),
        ("rounds", "*"),
        ("pending_uploads", "id, applied_at"),
        ("questions", "*"),
        ("bank_source", "*"),
        ("org_admins", "user_id, org_id"),
    ];
    let mut out = String::new();
    for (table, columns) in tables {
        let columns: Vec<String> = if columns == "*" {
            sqlx::query_scalar::<_, String>(&format!(
                "SELECT name FROM pragma_table_info('{table}')"
            ))
            .fetch_all(db)
            .await
            .unwrap()
        } else {
            columns.split(", ").map(str::to_owned).collect()
        };
        let quoted: Vec<String> = columns.iter().map(|c| format!("quote({c})")).collect();
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT {} FROM {table} ORDER BY 1",
            quoted.join(" || ',' || ")
        ))
        .fetch_all(db)
        .await
        .unwrap();
        out.push_str(table);
        out.push_str(&rows.join(";"));
        out.push('\n');
    }
    out
}

/// Arguments: dates good and bad, names, numbers, markup, very long and odd text.
fn argument(rng: &mut StdRng, codes: &[String]) -> String {
    const TOKENS: &[&str] = &[
        "2026-03-05",
        "2026-02-30",
        "2024-01-01",
        "2030-12-31",
        "3月5日",
        "明天",
        "去年春天",
        "12:00",
        "25:61",
        "支委会",
        "党小组会",
        "党员大会",
        "党课",
        "主题党日",
        "生活会",
        "评议",
        "读书会",
        "每月5日 15:00",
        "每季度第一个月10日",
        "每年12月20日",
        "每周一",
        "open",
        "close",
        "开启",
        "结束",
        "@lishuji",
        "@nobody",
        "1001",
        "1002",
        "-5",
        "0",
        "99999999999999999999",
        "<b>",
        "</i>",
        "&amp;",
        "&",
        "<a href=\"x\">",
        "第一党支部",
        "社区",
        "机关",
        "农村",
        "其他",
        "2026",
        "2026-Q1",
        "2026-03",
        "本月",
        "上季度",
        "xlsx",
        "csv",
        "all",
        "全部",
        "🎉",
        "\u{200b}",
        "a\nb",
        "t_",
        "  ",
        "'; DROP TABLE rounds; --",
    ];
    let mut parts = Vec::new();
    for _ in 0..rng.random_range(0..=3) {
        let token = match rng.random_range(0..20) {
            0 => "党".repeat(rng.random_range(50..3000)),
            1 => codes
                .get(rng.random_range(0..codes.len().max(1)))
                .cloned()
                .unwrap_or_default(),
            2 => format!("t_{}", codes.first().cloned().unwrap_or_default()),
            3 => rng.random_range(-3..100_000i64).to_string(),
            _ => TOKENS[rng.random_range(0..TOKENS.len())].to_owned(),
        };
        parts.push(token);
    }
    parts.join(" ")
}

const COMMANDS: &[&str] = &[
    "start", "help", "join", "grant", "revoke", "admins", "test", "practice", "myscores", "report",
    "overdue", "rounds", "bank", "bind", "unbind", "status", "invite", "term", "elected", "delay",
    "meetings", "plan", "unplan", "held", "nosuch",
];

fn text_input(rng: &mut StdRng, codes: &[String]) -> String {
    if rng.random_bool(0.08) {
        return argument(rng, codes);
    }
    let command = COMMANDS[rng.random_range(0..COMMANDS.len())];
    let suffix = match rng.random_range(0..10) {
        0 => format!("@{BOT}"),
        1 => "@otherbot".to_owned(),
        _ => String::new(),
    };
    format!("/{command}{suffix} {}", argument(rng, codes))
        .trim_end()
        .to_owned()
}

/// Callback data: a real button's, a mutated one, a forged one of the grammar, or garbage.
fn callback_data(rng: &mut StdRng, real: &[(i64, i64, String)]) -> (Option<MessageRef>, String) {
    let pick = (!real.is_empty()).then(|| real[rng.random_range(0..real.len())].clone());
    let message = |chat, id| {
        Some(MessageRef {
            chat_id: chat,
            message_id: id,
        })
    };
    match (rng.random_range(0..10), pick) {
        (0..=4, Some((chat, id, data))) => (message(chat, id), data),
        (5..=6, Some((chat, id, data))) => {
            let mut bytes = data.into_bytes();
            let at = rng.random_range(0..bytes.len().max(1));
            match rng.random_range(0..3) {
                0 if !bytes.is_empty() => bytes[at] = b"0123456789:-xa"[rng.random_range(0..14)],
                1 => bytes.truncate(at),
                _ => bytes.extend_from_slice(b":1"),
            }
            (
                message(chat, id + rng.random_range(-1..=1)),
                String::from_utf8_lossy(&bytes).into(),
            )
        }
        (7..=8, _) => {
            const TAGS: &[&str] = &[
                "a", "t", "s", "pa", "pt", "ps", "pn", "st", "h", "m", "mb", "uc", "ux",
            ];
            let tag = TAGS[rng.random_range(0..TAGS.len())];
            let fields: Vec<String> = (0..rng.random_range(0..5))
                .map(|_| match rng.random_range(0..4) {
                    0 => "-1".to_owned(),
                    1 => rng.random_range(0..3).to_string(),
                    2 => rng.random_range(0..300).to_string(),
                    _ => i64::MAX.to_string(),
                })
                .collect();
            let data = std::iter::once(tag.to_owned())
                .chain(fields)
                .collect::<Vec<_>>()
                .join(":");
            (message(MEMBER, rng.random_range(90..400)), data)
        }
        _ => {
            let len = rng.random_range(0..64);
            let data: String = (0..len)
                .map(|_| char::from(rng.random_range(32u8..127)))
                .collect();
            let message = rng.random_bool(0.5).then_some(MessageRef {
                chat_id: GROUP,
                message_id: 1,
            });
            (message, data)
        }
    }
}

fn document(rng: &mut StdRng, door: &FuzzDoor, n: usize) -> Document {
    let names = [
        Some("题库.toml"),
        Some("bank.xlsx"),
        Some("notes.txt"),
        Some("题库.TOML"),
        None,
    ];
    let bytes: Vec<u8> = match rng.random_range(0..5) {
        0 => BANK.as_bytes().to_vec(),
        1 => BANK
            .replace("answer = \"A\"", "answer = \"Z\"")
            .into_bytes(),
        2 => (0..rng.random_range(0..2000))
            .map(|_| rng.random())
            .collect(),
        3 => Vec::new(),
        _ => b"[[question]]\nid = 1\n".to_vec(),
    };
    let file_id = format!("file-{n}");
    let size = if rng.random_bool(0.1) {
        50_000_000
    } else {
        bytes.len() as u32
    };
    door.files.lock().unwrap().insert(file_id.clone(), bytes);
    Document {
        file_id,
        file_name: names[rng.random_range(0..names.len())].map(str::to_owned),
        size,
    }
}

/// One generated input.
enum Input {
    Message(Incoming),
    Press(Press),
    /// Minutes the clock moves before a scheduler pass.
    Clock(i64),
}

fn person(id: i64) -> Person {
    let (name, username) = match id {
        SUPER => ("管理员", Some("admin")),
        GROUP_ADMIN => ("李书记", Some("lishuji")),
        MEMBER => ("王党员", None),
        _ => ("路人<b>甲</b>&", Some("stranger")),
    };
    Person {
        id,
        name: name.to_owned(),
        username: username.map(str::to_owned),
        is_bot: false,
    }
}

#[tokio::test]
async fn thousands_of_generated_inputs_break_no_rule() {
    let started = std::time::Instant::now();
    let questions_dir = tempfile::tempdir().unwrap();
    std::fs::write(questions_dir.path().join("bank.toml"), BANK).unwrap();
    let dir = questions_dir.path().display().to_string();
    let config = Config::from_lookup(|key| match key {
        "TELOXIDE_TOKEN" => Some("1:fuzz".to_owned()),
        "BRANCHBOT_QUESTIONS_DIR" => Some(dir.clone()),
        "BRANCHBOT_SUPER_ADMINS" => Some(SUPER.to_string()),
        "BRANCHBOT_QUESTIONS_PER_TEST" => Some("4".to_owned()),
        _ => None,
    })
    .unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-03-02T02:00:00Z")));
    let state = AppState {
        db: branchbot::storage::connect_memory().await.unwrap(),
        config: Arc::new(config),
        clock: clock.clone(),
        rng: Mutex::new(StdRng::seed_from_u64(7)),
        wake: Arc::new(Notify::new()),
        nudges: Default::default(),
        bot_username: BOT.to_owned(),
        bank: Default::default(),
        live_attempts: Default::default(),
        direct_writes: Default::default(),
    };
    branchbot::startup::prepare(&state).await.unwrap();
    let seed = setting("BRANCHBOT_FUZZ_SEED", SEED);
    let inputs = usize::try_from(setting("BRANCHBOT_FUZZ_INPUTS", INPUTS as u64)).unwrap();
    let door = FuzzDoor::new(seed + 1);
    let mut rng = StdRng::seed_from_u64(seed);
    // The scene: the group bound, the member joined, a round open.
    let group = Chat {
        id: GROUP,
        kind: ChatKind::Group,
    };
    let say = |from: i64, chat: Chat, text: &str| Incoming {
        chat,
        from: person(from),
        as_group_admin: false,
        text: Some(text.to_owned()),
        document: None,
        chat_title: None,
        contact: None,
    };
    handlers::on_message(
        &door,
        &say(GROUP_ADMIN, group, "/bind 第一党支部 机关"),
        &state,
    )
    .await;
    let code: String = sqlx::query_scalar("SELECT join_code FROM branches")
        .fetch_one(&state.db)
        .await
        .unwrap();
    let private = |id| Chat {
        id,
        kind: ChatKind::Private,
    };
    handlers::on_message(
        &door,
        &say(MEMBER, private(MEMBER), &format!("/join {code}")),
        &state,
    )
    .await;
    handlers::on_message(&door, &say(SUPER, private(SUPER), "/rounds open"), &state).await;

    let mut by_kind: HashMap<&str, usize> = HashMap::new();
    let mut unauthorised_checked = 0;
    let mut presses = HashSet::new();
    for n in 0..inputs {
        let codes: Vec<String> = sqlx::query_scalar("SELECT join_code FROM branches")
            .fetch_all(&state.db)
            .await
            .unwrap();
        let from = [SUPER, GROUP_ADMIN, MEMBER, MEMBER, STRANGER, STRANGER][rng.random_range(0..6)];
        let chat = match rng.random_range(0..10) {
            0..=4 => private(from),
            5..=7 => group,
            8 => Chat {
                id: OTHER_GROUP,
                kind: ChatKind::Group,
            },
            _ => Chat {
                id: -3001,
                kind: ChatKind::Other,
            },
        };
        // Only these may change guarded state: the super-administrator, a granted
        // administrator, and a group's Telegram administrator in a group.
        let granted: bool =
            sqlx::query_scalar("SELECT COUNT(*) > 0 FROM org_admins WHERE user_id = ?")
                .bind(from)
                .fetch_one(&state.db)
                .await
                .unwrap();
        let is_privileged = |where_: Option<i64>| {
            from == SUPER
                || granted
                || (from == GROUP_ADMIN && where_.is_some_and(|c| c == GROUP || c == OTHER_GROUP))
        };
        let (kind, input) = match rng.random_range(0..100) {
            0..=54 => {
                let text = text_input(&mut rng, &codes);
                ("text", Input::Message(say(from, chat, &text)))
            }
            55..=84 => {
                let real = door.record.lock().unwrap().buttons.clone();
                let (message, data) = callback_data(&mut rng, &real);
                let id = format!("press-{n}");
                presses.insert(id.clone());
                let press = Press {
                    id,
                    from: person(from),
                    message,
                    data: Some(data),
                };
                ("press", Input::Press(press))
            }
            85..=94 => {
                let incoming = Incoming {
                    chat,
                    from: person(from),
                    as_group_admin: false,
                    text: None,
                    document: Some(document(&mut rng, &door, n)),
                    chat_title: None,
                    contact: None,
                };
                ("file", Input::Message(incoming))
            }
            _ => ("clock", Input::Clock(rng.random_range(1..3000))),
        };
        // Only these may change guarded state: the super-administrator, a granted
        // administrator, and a group's Telegram administrator in (or on a button in) a group.
        let privileged = match &input {
            Input::Message(m) => {
                is_privileged((m.chat.kind == ChatKind::Group).then_some(m.chat.id))
            }
            Input::Press(p) => is_privileged(p.message.map(|m| m.chat_id)),
            Input::Clock(_) => true,
        };
        let before = if privileged {
            String::new()
        } else {
            guarded_state(&state.db).await
        };
        match input {
            Input::Message(incoming) => handlers::on_message(&door, &incoming, &state).await,
            Input::Press(press) => handlers::on_press(&door, &press, &state).await,
            Input::Clock(minutes) => {
                clock.advance(chrono::Duration::minutes(minutes));
                branchbot::scheduler::tick(&state, &door, clock.now())
                    .await
                    .unwrap();
            }
        }
        *by_kind.entry(kind).or_default() += 1;
        if !privileged {
            unauthorised_checked += 1;
            let after = guarded_state(&state.db).await;
            if before != after {
                let changed: Vec<&str> = after
                    .lines()
                    .filter(|line| !before.lines().any(|b| b == *line))
                    .collect();
                door.violation(format!(
                    "input {n} ({kind}) by {from} in {} changed guarded state: {changed:?}",
                    chat.id
                ));
            }
        }
    }
    let record = door.record.lock().unwrap();
    let unanswered = presses
        .iter()
        .filter(|id| !record.answered.contains_key(*id))
        .count();
    eprintln!(
        "fuzz (seed {seed}): {inputs} inputs {by_kind:?}, {unauthorised_checked} from people without the role checked \
         for changes, {} requests ({} failed on purpose), {unanswered} presses unanswered, {:?}",
        record.requests,
        record.failures_injected,
        started.elapsed()
    );
    assert!(
        record.violations.is_empty(),
        "{} violations, first ones:\n{}",
        record.violations.len(),
        record
            .violations
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
