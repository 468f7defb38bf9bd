//! `branchbot console`: the same product in a terminal, with no token and no network.
//!
//! A person types what they would send in Telegram; the line goes through the same conversation
//! (`chat::handlers`), service layer, storage and outbox as in the bot, with a [`ConsoleDoor`]
//! in place of Telegram. `/as` switches who speaks and in which chat, buttons are pressed by
//! number, files land in a folder, and `/clock` moves a simulated clock forward, stopping at
//! every instant something falls due, so reminders and announcements appear in order.
//!
//! The console always works on its own database (a fresh demo, or the file named with
//! `--database`), never on the bot's: it delivers the outbox to the screen, and a message shown
//! here is marked sent.

mod door;

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveTime, Utc};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::io::AsyncBufReadExt;
use tokio::sync::Notify;

use crate::clock::{Clock, ManualClock};
use crate::config::Config;
use crate::domain::dates::{local_instant, parse_date};
use crate::error::{AppError, AppResult};
use crate::service::AppState;
use crate::texts::console as t;
pub use door::{plain_text, ChatEntry, ConsoleDoor};

/// The bot's @username in the console's deep links.
const BOT_USERNAME: &str = "branchbot";
/// The demo's people: (id, name, @username). The first is the super-administrator.
const DEMO_PEOPLE: [(i64, &str, &str); 4] = [
    (1000, "管理员", "admin"),
    (1001, "王书记", "wang"),
    (1002, "张学员", "zhang"),
    (1003, "李党员", "li"),
];
const DEMO_GROUP: (i64, &str) = (-1_001_001, "第一党支部群");
const DEMO_BRANCH: &str = "第一党支部";
/// Ids for people and groups the script introduces.
const FIRST_NEW_PERSON: i64 = 2000;
const FIRST_NEW_GROUP: i64 = -1_002_001;
/// How many scheduler passes one clock move may take before the console stops waiting.
const MAX_PASSES: usize = 10_000;

/// How the console was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Start from a fresh demo database: a bound branch, a few members, a term near its end and
    /// an open round.
    pub demo: bool,
    /// The console's database (created if missing); a temporary file for a demo by default.
    pub database: Option<PathBuf>,
    /// Where files the bot sends are written.
    pub files_dir: PathBuf,
    /// The simulated clock's start; now by default.
    pub at: Option<DateTime<Utc>>,
    /// Seed of the random draws, for a reproducible transcript.
    pub seed: Option<u64>,
}

/// A person of the console's world.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    id: i64,
    name: String,
    username: Option<String>,
}

/// One console session.
pub struct Console {
    state: AppState,
    clock: Arc<ManualClock>,
    door: ConsoleDoor,
    people: Vec<Member>,
    /// Who speaks, and in which chat (a person's id for their private chat).
    speaker: i64,
    chat: i64,
    next_person: i64,
    next_group: i64,
    files_dir: PathBuf,
    interactive: bool,
}

/// Runs a console session on standard input and output until `/quit` or the end of input.
pub async fn run(options: Options) -> AppResult<()> {
    let interactive = std::io::stdin().is_terminal();
    let mut console = Console::open(options, Box::new(std::io::stdout()), interactive).await?;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            console.prompt();
        }
        let Some(line) = lines
            .next_line()
            .await
            .map_err(|e| AppError::Report(format!("stdin: {e}")))?
        else {
            break;
        };
        if !console.handle_line(&line).await? {
            break;
        }
    }
    console.door.print(t::BYE);
    console.state.db.close().await;
    Ok(())
}

impl Console {
    /// Opens the console's database and, for a demo, sets the scene through the conversation.
    pub async fn open(
        options: Options,
        out: Box<dyn std::io::Write + Send>,
        interactive: bool,
    ) -> AppResult<Console> {
        let database = match &options.database {
            Some(path) => path.clone(),
            None => std::env::temp_dir().join(format!(
                "branchbot-console-{}-{}.db",
                std::process::id(),
                Utc::now().timestamp_micros()
            )),
        };
        if options.demo && database.exists() {
            std::fs::remove_file(&database)
                .map_err(|e| AppError::Report(format!("{}: {e}", database.display())))?;
        }
        let config = console_config(&database, options.seed)?;
        let clock = Arc::new(ManualClock::new(options.at.unwrap_or_else(Utc::now)));
        let db = crate::storage::connect(&config.database_url).await?;
        let direct_writes = crate::storage::direct::DirectWrites::open(&config.database_url)?;
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let state = AppState {
            db,
            config: Arc::new(config),
            clock: clock.clone(),
            rng: Mutex::new(rng),
            wake: Arc::new(Notify::new()),
            nudges: Default::default(),
            bot_username: BOT_USERNAME.to_owned(),
            bank: Default::default(),
            live_attempts: Default::default(),
            direct_writes,
        };
        crate::startup::prepare(&state)
            .await
            .map_err(|e| AppError::Report(e.to_string()))?;
        let door = ConsoleDoor::new(out, options.files_dir.clone(), state.config.timezone);
        let mut console = Console {
            state,
            clock,
            door,
            people: Vec::new(),
            speaker: DEMO_PEOPLE[0].0,
            chat: DEMO_PEOPLE[0].0,
            next_person: FIRST_NEW_PERSON,
            next_group: FIRST_NEW_GROUP,
            files_dir: options.files_dir,
            interactive,
        };
        for (id, name, username) in DEMO_PEOPLE {
            console.add_person(id, name, Some(username));
        }
        if options.demo {
            console.set_the_scene().await?;
        }
        Ok(console)
    }

    fn prompt(&self) {
        use std::io::Write;
        let (person, chat) = self.speaker_labels();
        print!("{person}@{chat}> ");
        let _ = std::io::stdout().flush();
    }

    fn speaker_labels(&self) -> (String, String) {
        let person = self
            .person(self.speaker)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let chat = if self.chat == self.speaker {
            "私聊".to_owned()
        } else {
            self.door.screen().chat_label(self.chat)
        };
        (person, chat)
    }

    /// Handles one typed line; false when the session should end.
    pub async fn handle_line(&mut self, line: &str) -> AppResult<bool> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(true);
        }
        if !self.interactive {
            let (person, chat) = self.speaker_labels();
            self.door.print(&t::typed(&person, &chat, line));
        }
        if line.starts_with('#') {
            return Ok(true);
        }
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        match word {
            "/quit" | "/exit" => return Ok(false),
            "?" | "？" => self.door.print(t::HELP),
            "/as" => self.switch(rest),
            "/who" => self.who(),
            "/clock" => self.clock_command(rest).await?,
            "/press" => match rest.parse::<usize>() {
                Ok(number) => self.press(number).await?,
                Err(_) => self.door.print(t::PRESS_USAGE),
            },
            "/file" => self.send_file(rest).await?,
            _ if line.chars().all(|c| c.is_ascii_digit()) => match line.parse::<usize>() {
                Ok(number) => self.press(number).await?,
                Err(_) => self.door.print(t::NO_SUCH_BUTTON),
            },
            _ => self.say(line).await?,
        }
        Ok(true)
    }

    fn person(&self, id: i64) -> Option<&Member> {
        self.people.iter().find(|p| p.id == id)
    }

    fn add_person(&mut self, id: i64, name: &str, username: Option<&str>) {
        self.people.push(Member {
            id,
            name: name.to_owned(),
            username: username.map(str::to_owned),
        });
        self.door.screen().people.insert(id, name.to_owned());
    }

    fn add_group(&mut self, id: i64, name: &str, owner: i64) {
        self.door.screen().chats.insert(
            id,
            ChatEntry {
                id,
                name: name.to_owned(),
                admins: HashSet::from([owner]),
            },
        );
    }

    /// `/as <姓名> <私聊|群名>`.
    fn switch(&mut self, args: &str) {
        let mut words = args.split_whitespace();
        let (Some(name), Some(chat), None) = (words.next(), words.next(), words.next()) else {
            return self.door.print(t::AS_USAGE);
        };
        let id = match self.people.iter().find(|p| p.name == name) {
            Some(person) => person.id,
            None => {
                let id = self.next_person;
                self.next_person += 1;
                self.add_person(id, name, None);
                self.door.print(t::UNKNOWN_PERSON_HINT);
                id
            }
        };
        self.speaker = id;
        self.chat = if chat == "私聊" {
            id
        } else {
            let existing = self
                .door
                .screen()
                .chats
                .values()
                .find(|c| c.name == chat)
                .map(|c| c.id);
            match existing {
                Some(group) => group,
                None => {
                    let group = self.next_group;
                    self.next_group -= 1;
                    self.add_group(group, chat, id);
                    self.door.print(&t::new_group(chat, name));
                    group
                }
            }
        };
        let (person, chat) = self.speaker_labels();
        self.door.print(&t::now_acting(&person, &chat));
    }

    fn who(&self) {
        let people: Vec<String> = self.people.iter().map(|p| p.name.clone()).collect();
        let mut chats: Vec<(i64, String)> = self
            .door
            .screen()
            .chats
            .values()
            .map(|c| (c.id, c.name.clone()))
            .collect();
        chats.sort();
        let chats: Vec<String> = chats.into_iter().map(|(_, name)| name).collect();
        self.door.print(&t::who(
            &people,
            &chats,
            &self.files_dir.display().to_string(),
        ));
    }

    fn speaker_person(&self) -> crate::chat::Person {
        let member = self.person(self.speaker);
        crate::chat::Person {
            id: self.speaker,
            name: member.map(|m| m.name.clone()).unwrap_or_default(),
            username: member.and_then(|m| m.username.clone()),
            is_bot: false,
        }
    }

    fn incoming(
        &self,
        text: Option<String>,
        document: Option<crate::chat::Document>,
    ) -> crate::chat::Incoming {
        let kind = if self.chat > 0 {
            crate::chat::ChatKind::Private
        } else {
            crate::chat::ChatKind::Group
        };
        crate::chat::Incoming {
            chat: crate::chat::Chat {
                id: self.chat,
                kind,
            },
            from: self.speaker_person(),
            as_group_admin: false,
            text,
            document,
            chat_title: (self.chat < 0)
                .then(|| {
                    let screen = self.door.screen();
                    screen.chats.get(&self.chat).map(|c| c.name.clone())
                })
                .flatten(),
            contact: None,
        }
    }

    /// A message from the speaker into the current chat, then whatever fell due.
    async fn say(&mut self, text: &str) -> AppResult<()> {
        let incoming = self.incoming(Some(text.to_owned()), None);
        crate::chat::handlers::on_message(&self.door, &incoming, &self.state).await;
        self.run_due().await
    }

    /// `/file <路径>`: sends a file from this machine into the current chat.
    async fn send_file(&mut self, path: &str) -> AppResult<()> {
        if path.is_empty() {
            self.door.print(t::FILE_USAGE);
            return Ok(());
        }
        let Ok(meta) = std::fs::metadata(path) else {
            self.door.print(&t::file_missing(path));
            return Ok(());
        };
        let document = crate::chat::Document {
            file_id: path.to_owned(),
            file_name: std::path::Path::new(path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
            size: u32::try_from(meta.len()).unwrap_or(u32::MAX),
        };
        let incoming = self.incoming(None, Some(document));
        crate::chat::handlers::on_message(&self.door, &incoming, &self.state).await;
        self.run_due().await
    }

    /// Presses button `number` as the speaker. A link to the bot opens the private chat with
    /// its /start payload, as Telegram does.
    async fn press(&mut self, number: usize) -> AppResult<()> {
        let shown = match self.door.screen().pressable(number) {
            Ok(shown) => shown.clone(),
            Err(refusal) => {
                self.door.print(refusal);
                return Ok(());
            }
        };
        // As in Telegram, a person presses buttons in the chat they are in.
        if shown.chat_id != self.chat {
            let chat = self.door.screen().chat_label(shown.chat_id);
            let person = self
                .person(self.speaker)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            // A private chat's buttons are for its owner alone.
            let how = match self.person(shown.chat_id) {
                Some(owner) => t::private_chat_switch(&owner.name),
                None => format!("/as {person} {chat}"),
            };
            self.door.print(&t::button_elsewhere(&chat, &how));
            return Ok(());
        }
        self.door.print(&t::pressed(&shown.button.text));
        if let Some(url) = &shown.button.url {
            let Some(payload) = deep_link_payload(url) else {
                self.door.print(&t::link_not_for_bot(url));
                return Ok(());
            };
            self.door.print(&t::opened_link(url));
            self.chat = self.speaker;
            return self.say(&format!("/start {payload}")).await;
        }
        let press = crate::chat::Press {
            id: format!("press-{number}"),
            from: self.speaker_person(),
            message: Some(crate::chat::MessageRef {
                chat_id: shown.chat_id,
                message_id: shown.message_id,
            }),
            data: shown.button.callback_data.clone(),
        };
        crate::chat::handlers::on_press(&self.door, &press, &self.state).await;
        self.run_due().await
    }

    /// `/clock`, `/clock +3天`, `/clock 2026-12-25 09:00`.
    async fn clock_command(&mut self, args: &str) -> AppResult<()> {
        let now = self.clock.now();
        if args.is_empty() {
            self.door.print(&t::now_is(&self.local(now)));
            return Ok(());
        }
        let Some(target) = parse_clock_target(args, now, self.state.config.timezone) else {
            self.door.print(t::CLOCK_USAGE);
            return Ok(());
        };
        if target < now {
            self.door.print(t::CLOCK_USAGE);
            return Ok(());
        }
        self.advance_to(target).await?;
        self.door.print(&t::clock_moved(&self.local(target)));
        Ok(())
    }

    fn local(&self, at: DateTime<Utc>) -> String {
        crate::service::reminders::format_when(&self.state, at)
    }

    /// Moves the clock to `target`, stopping at each instant something falls due so every
    /// reminder arrives at its own time (not as a late 补发).
    async fn advance_to(&mut self, target: DateTime<Utc>) -> AppResult<()> {
        for _ in 0..MAX_PASSES {
            let now = self.clock.now();
            let next = crate::scheduler::tick(&self.state, &self.door, now).await?;
            match next {
                Some(next) if next > now && next <= target => self.clock.set(next),
                _ => break,
            }
        }
        self.clock.set(target);
        self.run_due().await
    }

    /// One scheduler pass at the current time (what a change made due goes out at once).
    async fn run_due(&mut self) -> AppResult<()> {
        let now = self.clock.now();
        crate::scheduler::tick(&self.state, &self.door, now).await?;
        crate::chat::sweep::sweep(&self.door, &self.state).await?;
        Ok(())
    }

    /// The demo's scene, set through the conversation like a real first day: the secretary
    /// binds the group and sets the term, members join through the invitation button, the
    /// administrator opens a round.
    async fn set_the_scene(&mut self) -> AppResult<()> {
        let (group, group_name) = DEMO_GROUP;
        self.add_group(group, group_name, DEMO_PEOPLE[1].0);
        self.door.set_muted(true);
        let tz = self.state.config.timezone;
        let today = crate::domain::dates::local_date(tz, self.clock.now());
        // A 农村 branch's five-year term that ends about forty days from now.
        let elected = today
            .checked_sub_months(chrono::Months::new(60))
            .and_then(|d| d.checked_add_days(chrono::Days::new(40)))
            .unwrap_or(today);
        let script = [
            format!("/as 王书记 {group_name}"),
            format!("/bind {DEMO_BRANCH} 农村"),
            format!("/term {}", elected.format("%Y-%m-%d")),
            "/invite".to_owned(),
        ];
        for line in &script {
            self.handle_line(line).await?;
        }
        let invitation = self.door.screen().buttons.len();
        for member in ["张学员", "李党员"] {
            self.handle_line(&format!("/as {member} {group_name}"))
                .await?;
            self.press(invitation).await?;
        }
        for line in ["/as 管理员 私聊", "/rounds open"] {
            self.handle_line(line).await?;
        }
        self.handle_line(&format!("/as 王书记 {group_name}"))
            .await?;
        self.door.set_muted(false);
        self.door.forget_buttons();
        self.door.print(&t::demo_ready(
            DEMO_BRANCH,
            group_name,
            &self.files_dir.display().to_string(),
        ));
        Ok(())
    }
}

/// The configuration the console runs with: the usual settings, with its own database, no
/// token, and the demo's administrator among the super-administrators.
fn console_config(database: &std::path::Path, seed: Option<u64>) -> AppResult<Config> {
    let admins = match std::env::var("BRANCHBOT_SUPER_ADMINS") {
        Ok(list) if !list.trim().is_empty() => format!("{list},{}", DEMO_PEOPLE[0].0),
        _ => DEMO_PEOPLE[0].0.to_string(),
    };
    let overrides: HashMap<&str, String> = HashMap::from([
        ("TELOXIDE_TOKEN", "0:console".to_owned()),
        ("DATABASE_URL", format!("sqlite://{}", database.display())),
        ("BRANCHBOT_SUPER_ADMINS", admins),
    ]);
    let mut config = Config::from_lookup(|key| {
        overrides
            .get(key)
            .cloned()
            .or_else(|| std::env::var(key).ok())
    })
    .map_err(|e| AppError::Report(e.to_string()))?;
    if seed.is_some() {
        config.seed = seed;
    }
    // The console has no admin group; escalations show in no chat.
    config.clock_file = None;
    Ok(config)
}

/// The /start payload of a link to the bot (`https://t.me/branchbot?start=j_x`).
fn deep_link_payload(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    if url.host_str() != Some("t.me") || url.path().trim_matches('/') != BOT_USERNAME {
        return None;
    }
    url.query_pairs()
        .find(|(key, _)| key == "start")
        .map(|(_, value)| value.into_owned())
}

/// `+3天`, `+2小时`, `+30分钟`, `+3d`, `+2h`, `+30m`, or a local `2026-12-25 09:00`.
fn parse_clock_target(args: &str, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    if let Some(amount) = args.strip_prefix('+') {
        let amount = amount.trim();
        let split = amount
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(amount.len());
        let (number, unit) = amount.split_at(split);
        let n: i64 = number.parse().ok()?;
        let step = match unit.trim() {
            "天" | "d" | "日" => Duration::days(n),
            "小时" | "h" | "时" => Duration::hours(n),
            "分钟" | "m" | "分" => Duration::minutes(n),
            "周" | "w" => Duration::weeks(n),
            _ => return None,
        };
        return now.checked_add_signed(step);
    }
    let mut words = args.split_whitespace();
    let date = parse_date(words.next()?).ok()?;
    let time = match words.next() {
        Some(time) => NaiveTime::parse_from_str(time, "%H:%M").ok()?,
        None => NaiveTime::MIN,
    };
    if words.next().is_some() {
        return None;
    }
    Some(local_instant(tz, date, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_targets() {
        let tz = chrono_tz::Asia::Shanghai;
        let now = DateTime::parse_from_rfc3339("2026-12-01T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_clock_target("+3天", now, tz),
            Some(now + Duration::days(3))
        );
        assert_eq!(
            parse_clock_target("+2h", now, tz),
            Some(now + Duration::hours(2))
        );
        assert_eq!(
            parse_clock_target("+30分钟", now, tz),
            Some(now + Duration::minutes(30))
        );
        let set = parse_clock_target("2026-12-25 09:00", now, tz).unwrap();
        assert_eq!(set.to_rfc3339(), "2026-12-25T01:00:00+00:00");
        for bad in ["", "+", "+3年", "明天", "2026-12-25 9点", "+x天"] {
            assert_eq!(parse_clock_target(bad, now, tz), None, "{bad}");
        }
    }

    #[test]
    fn deep_links_to_the_bot_give_their_payload() {
        assert_eq!(
            deep_link_payload("https://t.me/branchbot?start=j_ABC"),
            Some("j_ABC".to_owned())
        );
        assert_eq!(deep_link_payload("https://t.me/otherbot?start=j_ABC"), None);
        assert_eq!(deep_link_payload("https://example.com/?start=x"), None);
    }
}
