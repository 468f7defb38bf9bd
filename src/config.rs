//! Configuration from environment variables and an optional `branchbot.toml`.
//!
//! Environment variables win over the file, so an operator can override one setting for one run.
//! Every problem is reported as one line (in Chinese, like the bot) naming the setting and how to
//! fix it. [`SETTINGS`] lists every setting for `branchbot --help` and the README.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveTime;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::texts::setup as t;

/// Everything the bot reads at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Bot token from @BotFather.
    pub token: String,
    /// SQLite URL; the file is created on first start.
    pub database_url: String,
    /// Telegram user ids that may grant and revoke the administrator role.
    pub super_admins: Vec<u64>,
    /// The superior organisation's group chat, told when a branch falls behind.
    pub admin_chat: Option<i64>,
    /// Zone every schedule and date is evaluated in.
    pub timezone: Tz,
    /// When test rounds open: a cron expression (seconds first) in `timezone`.
    pub test_calendar: String,
    /// How long a round stays open.
    pub round_days: u32,
    /// Where the question bank files live.
    pub questions_dir: PathBuf,
    /// Whether `questions_dir` was set (environment or file). When it was not and `questions/`
    /// is missing, the bank built into the binary is used; a configured directory must exist.
    pub questions_dir_configured: bool,
    /// Questions drawn for each trainee's test.
    pub questions_per_test: usize,
    /// Time a trainee has for one test, enforced by the server.
    pub time_limit_minutes: u32,
    /// Score (out of 100) needed to pass.
    pub pass_mark: u32,
    /// Local time of the reminder the day before a meeting.
    pub day_before_time: NaiveTime,
    /// Local time of the reminder on the morning of a meeting.
    pub morning_time: NaiveTime,
    /// Another Bot API server (a local one, or the tests' fake); read by teloxide's convention.
    pub api_url: Option<url::Url>,
    /// Proxy for every request to Telegram (`BRANCHBOT_PROXY`, else `TELOXIDE_PROXY`); without
    /// it the usual `HTTPS_PROXY` / `ALL_PROXY` variables apply.
    pub proxy: Option<url::Url>,
    /// Where the daily backups go; default: `backups/` beside the database.
    pub backup_dir: PathBuf,
    /// How many daily backups to keep; 0 turns them off.
    pub backup_keep: u32,
    /// Whether charts may use fonts installed on the server for characters the embedded font
    /// lacks.
    pub system_fonts: bool,
    /// Who is due to take the test when a roster's 参加业务测试 is empty
    /// (`BRANCHBOT_ROSTER_TEST_ALL`): cadres by default, all 正式/预备党员 when set.
    pub roster_test_scope: crate::domain::roster::TestScope,
    /// Whether the day-before test reminder in a branch group with a roster names who has not
    /// finished (`BRANCHBOT_REMIND_NAMES`; off by default: names in a group are a choice).
    pub remind_names: bool,
    /// Messages a second the bot may send in all (Telegram's limit: 30). Above 30 new messages
    /// go with `allow_paid_broadcast` (up to 1,000 a second, 0.1 Star each, from the bot's
    /// balance). Every send and edit is paced by it.
    pub messages_per_second: u32,
    /// Test hook: read "now" from this file instead of the system clock.
    pub clock_file: Option<PathBuf>,
    /// Test hook: seed for the random generator, so draws are reproducible.
    pub seed: Option<u64>,
}

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("{}", t::config_error(setting, message))]
pub struct ConfigError {
    pub setting: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(setting: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            setting,
            message: message.into(),
        }
    }
}

/// The optional file; every key mirrors an environment variable.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    token: Option<String>,
    database_url: Option<String>,
    super_admins: Option<Vec<u64>>,
    admin_chat: Option<i64>,
    timezone: Option<String>,
    test_calendar: Option<String>,
    round_days: Option<u32>,
    questions_dir: Option<PathBuf>,
    questions_per_test: Option<usize>,
    time_limit_minutes: Option<u32>,
    pass_mark: Option<u32>,
    day_before_time: Option<String>,
    morning_time: Option<String>,
    proxy: Option<String>,
    backup_dir: Option<PathBuf>,
    backup_keep: Option<u32>,
    system_fonts: Option<bool>,
    roster_test_all: Option<bool>,
    remind_names: Option<bool>,
    messages_per_second: Option<u32>,
}

/// One setting: its environment variable, its `branchbot.toml` key, its default and meaning.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub variable: &'static str,
    pub key: Option<&'static str>,
    pub default: &'static str,
    pub meaning: &'static str,
}

const fn setting(
    variable: &'static str,
    key: Option<&'static str>,
    default: &'static str,
    meaning: &'static str,
) -> Setting {
    Setting {
        variable,
        key,
        default,
        meaning,
    }
}

/// Every setting, in the order `branchbot --help` lists them.
pub const SETTINGS: &[Setting] = &[
    setting(
        "TELOXIDE_TOKEN",
        Some("token"),
        "（必填）",
        "@BotFather 给出的机器人令牌",
    ),
    setting(
        "TELOXIDE_API_URL",
        None,
        "api.telegram.org",
        "另一个 Bot API 服务器（须以 http:// 或 https:// 开头）",
    ),
    setting(
        "BRANCHBOT_PROXY",
        Some("proxy"),
        "无（沿用 HTTPS_PROXY / ALL_PROXY）",
        "访问 Telegram 的代理：http://、https://、socks5://、socks5h://",
    ),
    setting(
        "DATABASE_URL",
        Some("database_url"),
        "sqlite://branchbot.db",
        "SQLite 数据库，首次启动时创建",
    ),
    setting(
        "BRANCHBOT_SUPER_ADMINS",
        Some("super_admins"),
        "无（首次启动用 /claim 认领）",
        "超级管理员的 Telegram 用户 ID，逗号分隔",
    ),
    setting(
        "BRANCHBOT_ADMIN_CHAT",
        Some("admin_chat"),
        "无（可在群里发 /adminchat 绑定）",
        "上级管理员群的 chat id",
    ),
    setting(
        "BRANCHBOT_TIMEZONE",
        Some("timezone"),
        "Asia/Shanghai",
        "所有日期、日程和提醒所用的时区",
    ),
    setting(
        "BRANCHBOT_TEST_CALENDAR",
        Some("test_calendar"),
        DEFAULT_TEST_CALENDAR,
        "何时开启一期测试（cron，第一项为秒）",
    ),
    setting(
        "BRANCHBOT_ROUND_DAYS",
        Some("round_days"),
        "7",
        "每期测试开放的天数",
    ),
    setting(
        "BRANCHBOT_QUESTIONS_DIR",
        Some("questions_dir"),
        "questions",
        "题库文件所在目录",
    ),
    setting(
        "BRANCHBOT_QUESTIONS_PER_TEST",
        Some("questions_per_test"),
        "20",
        "每人每次抽取的题数",
    ),
    setting(
        "BRANCHBOT_TIME_LIMIT_MINUTES",
        Some("time_limit_minutes"),
        "30",
        "每次测试的限时（分钟）",
    ),
    setting(
        "BRANCHBOT_PASS_MARK",
        Some("pass_mark"),
        "60",
        "及格分（满分 100）",
    ),
    setting(
        "BRANCHBOT_DAY_BEFORE_TIME",
        Some("day_before_time"),
        "09:00",
        "会前一天提醒和换届提醒的时间",
    ),
    setting(
        "BRANCHBOT_MORNING_TIME",
        Some("morning_time"),
        "08:00",
        "会议当天早上提醒的时间",
    ),
    setting(
        "BRANCHBOT_BACKUP_DIR",
        Some("backup_dir"),
        "数据库旁的 backups/",
        "每日自动备份的目录",
    ),
    setting(
        "BRANCHBOT_BACKUP_KEEP",
        Some("backup_keep"),
        "7",
        "保留的每日备份份数；0 为关闭每日备份",
    ),
    setting(
        "BRANCHBOT_SYSTEM_FONTS",
        Some("system_fonts"),
        "true",
        "图表遇到内置字体没有的生僻字时，是否使用服务器上的字体",
    ),
    setting(
        "BRANCHBOT_ROSTER_TEST_ALL",
        Some("roster_test_all"),
        "false",
        "名册中“参加业务测试”留空的人：false 为有职务（含党务工作者）的人参加，true 为全体正式、预备党员参加",
    ),
    setting(
        "BRANCHBOT_REMIND_NAMES",
        Some("remind_names"),
        "false",
        "测试结束前一天，是否在有名册的支部群里点名应参加而未完成（未完成、未加入分列）的人员；只列姓名",
    ),
    setting(
        "BRANCHBOT_MESSAGES_PER_SECOND",
        Some("messages_per_second"),
        "30",
        "机器人每秒最多发送的消息数（Telegram 的限制为 30；超过 30 时新消息按付费广播发送，每条 0.1 星，最多 1000）",
    ),
    setting(
        "BRANCHBOT_CONFIG",
        None,
        "./branchbot.toml（如存在）",
        "配置文件；环境变量优先于文件",
    ),
    setting(
        "RUST_LOG",
        None,
        "info,sqlx=warn",
        "日志级别（日志写到标准错误）",
    ),
];

/// The environment variable a `branchbot.toml` key stands for.
fn variable_of(key: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .find(|s| s.key == Some(key))
        .map(|s| s.variable)
}

pub const DEFAULT_TEST_CALENDAR: &str = "0 0 9 1,16 * *";

impl Config {
    /// Reads the process environment and `BRANCHBOT_CONFIG` (default `./branchbot.toml` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Builds the configuration from any variable lookup (tests pass a map).
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file = match env("BRANCHBOT_CONFIG") {
            Some(path) => read_file(Path::new(&path))?,
            None if Path::new("branchbot.toml").exists() => read_file(Path::new("branchbot.toml"))?,
            None => FileConfig::default(),
        };
        let get = |key: &str| env(key).filter(|v| !v.trim().is_empty());
        let database_url = database_url(&get, file.database_url.clone())?;
        let configured_dir = get("BRANCHBOT_QUESTIONS_DIR")
            .map(PathBuf::from)
            .or(file.questions_dir.clone());
        Ok(Config {
            token: token(&get, file.token.clone())?,
            super_admins: match get("BRANCHBOT_SUPER_ADMINS") {
                Some(list) => parse_id_list(&list)?,
                None => file.super_admins.clone().unwrap_or_default(),
            },
            admin_chat: match get("BRANCHBOT_ADMIN_CHAT") {
                Some(v) => Some(parse_num("BRANCHBOT_ADMIN_CHAT", &v, t::EXPECT_CHAT_ID)?),
                None => file.admin_chat,
            },
            timezone: timezone(&get, file.timezone.clone())?,
            test_calendar: test_calendar(&get, file.test_calendar.clone())?,
            round_days: num_setting(&get, "BRANCHBOT_ROUND_DAYS", file.round_days, 7, 1..=31)?,
            questions_dir_configured: configured_dir.is_some(),
            questions_dir: configured_dir.unwrap_or_else(|| PathBuf::from("questions")),
            questions_per_test: num_setting(
                &get,
                "BRANCHBOT_QUESTIONS_PER_TEST",
                file.questions_per_test,
                20,
                1..=100,
            )?,
            time_limit_minutes: num_setting(
                &get,
                "BRANCHBOT_TIME_LIMIT_MINUTES",
                file.time_limit_minutes,
                30,
                1..=600,
            )?,
            pass_mark: num_setting(&get, "BRANCHBOT_PASS_MARK", file.pass_mark, 60, 0..=100)?,
            day_before_time: time_setting(
                &get,
                "BRANCHBOT_DAY_BEFORE_TIME",
                file.day_before_time.clone(),
                "09:00",
            )?,
            morning_time: time_setting(
                &get,
                "BRANCHBOT_MORNING_TIME",
                file.morning_time.clone(),
                "08:00",
            )?,
            api_url: get("TELOXIDE_API_URL")
                .map(|url| parse_api_url(&url))
                .transpose()?,
            proxy: proxy(&get, file.proxy.clone())?,
            backup_dir: get("BRANCHBOT_BACKUP_DIR")
                .map(PathBuf::from)
                .or(file.backup_dir.clone())
                .unwrap_or_else(|| default_backup_dir(&database_url)),
            backup_keep: num_setting(&get, "BRANCHBOT_BACKUP_KEEP", file.backup_keep, 7, 0..=3650)?,
            system_fonts: match get("BRANCHBOT_SYSTEM_FONTS") {
                Some(v) => parse_bool("BRANCHBOT_SYSTEM_FONTS", &v)?,
                None => file.system_fonts.unwrap_or(true),
            },
            roster_test_scope: roster_test_scope(&get, file.roster_test_all)?,
            remind_names: match get("BRANCHBOT_REMIND_NAMES") {
                Some(v) => parse_bool("BRANCHBOT_REMIND_NAMES", &v)?,
                None => file.remind_names.unwrap_or(false),
            },
            messages_per_second: num_setting(
                &get,
                "BRANCHBOT_MESSAGES_PER_SECOND",
                file.messages_per_second,
                30,
                1..=1000,
            )?,
            clock_file: get("BRANCHBOT_CLOCK_FILE").map(PathBuf::from),
            seed: get("BRANCHBOT_SEED")
                .map(|v| parse_num("BRANCHBOT_SEED", &v, t::EXPECT_NUMBER))
                .transpose()?,
            database_url,
        })
    }

    pub fn is_super_admin(&self, user_id: u64) -> bool {
        self.super_admins.contains(&user_id)
    }
}

/// `TELOXIDE_TOKEN`: required, and shaped like a token so a pasted sentence is caught here.
fn token(
    get: &impl Fn(&str) -> Option<String>,
    file: Option<String>,
) -> Result<String, ConfigError> {
    let token = get("TELOXIDE_TOKEN")
        .or(file)
        .ok_or_else(|| ConfigError::new("TELOXIDE_TOKEN", t::TOKEN_MISSING))?;
    if !looks_like_token(&token) {
        return Err(ConfigError::new("TELOXIDE_TOKEN", t::TOKEN_MALFORMED));
    }
    Ok(token)
}

/// `DATABASE_URL`: an SQLite URL, `sqlite://branchbot.db` by default.
fn database_url(
    get: &impl Fn(&str) -> Option<String>,
    file: Option<String>,
) -> Result<String, ConfigError> {
    let url = get("DATABASE_URL")
        .or(file)
        .unwrap_or_else(|| "sqlite://branchbot.db".to_owned());
    if !url.starts_with("sqlite:") {
        return Err(ConfigError::new("DATABASE_URL", t::not_sqlite(&url)));
    }
    Ok(url)
}

/// `BRANCHBOT_TIMEZONE`: an IANA zone name, `Asia/Shanghai` by default.
fn timezone(
    get: &impl Fn(&str) -> Option<String>,
    file: Option<String>,
) -> Result<Tz, ConfigError> {
    let name = get("BRANCHBOT_TIMEZONE")
        .or(file)
        .unwrap_or_else(|| "Asia/Shanghai".to_owned());
    Tz::from_str(name.trim())
        .map_err(|_| ConfigError::new("BRANCHBOT_TIMEZONE", t::not_timezone(&name)))
}

/// `BRANCHBOT_TEST_CALENDAR`: a cron expression the `cron` crate accepts.
fn test_calendar(
    get: &impl Fn(&str) -> Option<String>,
    file: Option<String>,
) -> Result<String, ConfigError> {
    let calendar = get("BRANCHBOT_TEST_CALENDAR")
        .or(file)
        .unwrap_or_else(|| DEFAULT_TEST_CALENDAR.to_owned());
    if cron::Schedule::from_str(&calendar).is_err() {
        return Err(ConfigError::new(
            "BRANCHBOT_TEST_CALENDAR",
            t::not_cron(&calendar, DEFAULT_TEST_CALENDAR),
        ));
    }
    Ok(calendar)
}

/// `BRANCHBOT_PROXY` (or the file's `proxy`), else `TELOXIDE_PROXY`.
fn proxy(
    get: &impl Fn(&str) -> Option<String>,
    file: Option<String>,
) -> Result<Option<url::Url>, ConfigError> {
    match get("BRANCHBOT_PROXY").or(file) {
        Some(url) => parse_proxy("BRANCHBOT_PROXY", &url).map(Some),
        None => get("TELOXIDE_PROXY")
            .map(|url| parse_proxy("TELOXIDE_PROXY", &url))
            .transpose(),
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            "BRANCHBOT_CONFIG",
            t::config_file_unreadable(&shown, &e.to_string()),
        )
    })?;
    parse_file(&shown, &text)
}

/// Parses `branchbot.toml`. A wrong value is reported with its line, its key and the
/// environment variable the key stands for, so the operator knows which setting to fix.
fn parse_file(shown: &str, text: &str) -> Result<FileConfig, ConfigError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let line = e.span().map_or(1, |span| line_of(text, span.start));
        ConfigError::new(
            "BRANCHBOT_CONFIG",
            t::config_file_syntax(shown, line, e.message().trim()),
        )
    })?;
    if let Some(key) = table.keys().find(|key| variable_of(key).is_none()) {
        return Err(ConfigError::new(
            "BRANCHBOT_CONFIG",
            t::config_file_unknown_key(shown, key),
        ));
    }
    toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |span| line_of(text, span.start));
        let key = key_on_line(text, line).unwrap_or_default();
        let variable = variable_of(&key).unwrap_or("BRANCHBOT_CONFIG");
        ConfigError::new(
            variable,
            t::config_file_key(shown, line, &key, variable, e.message().trim()),
        )
    })
}

/// The 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// The key assigned on a `key = value` line.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let (key, _) = text.lines().nth(line - 1)?.split_once('=')?;
    Some(key.trim().trim_matches('"').to_owned())
}

/// `TELOXIDE_API_URL` must be a whole http(s) URL with a host: `localhost:9` parses as a URL of
/// scheme "localhost" and would make every request panic inside teloxide.
fn parse_api_url(value: &str) -> Result<url::Url, ConfigError> {
    let error = || ConfigError::new("TELOXIDE_API_URL", t::not_api_url(value));
    let url = url::Url::parse(value.trim()).map_err(|_| error())?;
    let web = matches!(url.scheme(), "http" | "https");
    if !web || url.host_str().is_none_or(str::is_empty) || url.cannot_be_a_base() {
        return Err(error());
    }
    Ok(url)
}

/// A proxy URL reqwest can use: http, https, socks5 or socks5h, with a host.
fn parse_proxy(setting: &'static str, value: &str) -> Result<url::Url, ConfigError> {
    let error = || ConfigError::new(setting, t::not_proxy_url(value));
    let url = url::Url::parse(value.trim()).map_err(|_| error())?;
    let known = matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h");
    if !known || url.host_str().is_none_or(str::is_empty) {
        return Err(error());
    }
    Ok(url)
}

/// `BRANCHBOT_ROSTER_TEST_ALL`: who is due for the test when a roster leaves it open.
fn roster_test_scope(
    get: &impl Fn(&str) -> Option<String>,
    file: Option<bool>,
) -> Result<crate::domain::roster::TestScope, ConfigError> {
    use crate::domain::roster::TestScope;
    let all = match get("BRANCHBOT_ROSTER_TEST_ALL") {
        Some(v) => parse_bool("BRANCHBOT_ROSTER_TEST_ALL", &v)?,
        None => file.unwrap_or(false),
    };
    Ok(if all {
        TestScope::AllMembers
    } else {
        TestScope::Cadres
    })
}

fn parse_bool(setting: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(
            setting,
            t::not_valid(value, t::EXPECT_BOOL),
        )),
    }
}

/// The database's file, or `None` for an in-memory database.
pub fn database_file(url: &str) -> Option<PathBuf> {
    use sqlx::sqlite::SqliteConnectOptions;
    if url.contains(":memory:") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    (!file.as_os_str().is_empty()).then(|| file.to_owned())
}

/// `backups/` in the database's directory.
fn default_backup_dir(database_url: &str) -> PathBuf {
    let dir = database_file(database_url)
        .and_then(|file| file.parent().map(Path::to_owned))
        .unwrap_or_default();
    dir.join("backups")
}

fn looks_like_token(token: &str) -> bool {
    match token.split_once(':') {
        Some((id, secret)) => {
            !id.is_empty()
                && id.bytes().all(|b| b.is_ascii_digit())
                && !secret.is_empty()
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

fn parse_id_list(list: &str) -> Result<Vec<u64>, ConfigError> {
    list.split([',', ' ', ';'])
        .filter(|s| !s.is_empty())
        .map(|s| parse_num("BRANCHBOT_SUPER_ADMINS", s, t::EXPECT_USER_IDS))
        .collect()
}

fn parse_num<T: FromStr>(
    setting: &'static str,
    value: &str,
    expected: &str,
) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| ConfigError::new(setting, t::not_valid(value, expected)))
}

fn num_setting<T>(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    from_file: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let value = match get(setting) {
        Some(v) => parse_num(setting, &v, t::EXPECT_NUMBER)?,
        None => from_file.unwrap_or(default),
    };
    if !range.contains(&value) {
        return Err(ConfigError::new(
            setting,
            t::out_of_range(
                &value.to_string(),
                &range.start().to_string(),
                &range.end().to_string(),
            ),
        ));
    }
    Ok(value)
}

fn time_setting(
    get: &impl Fn(&str) -> Option<String>,
    setting: &'static str,
    from_file: Option<String>,
    default: &str,
) -> Result<NaiveTime, ConfigError> {
    let value = get(setting)
        .or(from_file)
        .unwrap_or_else(|| default.to_owned());
    NaiveTime::parse_from_str(value.trim(), "%H:%M")
        .map_err(|_| ConfigError::new(setting, t::not_time(&value, default)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_spec() {
        let c = config(&[("TELOXIDE_TOKEN", "123:abc")]).unwrap();
        assert_eq!(c.timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(c.test_calendar, DEFAULT_TEST_CALENDAR);
        assert_eq!(
            (
                c.round_days,
                c.questions_per_test,
                c.time_limit_minutes,
                c.pass_mark
            ),
            (7, 20, 30, 60)
        );
        assert_eq!(c.database_url, "sqlite://branchbot.db");
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases = [
            (vec![], "TELOXIDE_TOKEN"),
            (vec![("TELOXIDE_TOKEN", "nonsense")], "TELOXIDE_TOKEN"),
            (
                vec![
                    ("TELOXIDE_TOKEN", "1:a"),
                    ("BRANCHBOT_TIMEZONE", "Mars/Base"),
                ],
                "BRANCHBOT_TIMEZONE",
            ),
            (
                vec![
                    ("TELOXIDE_TOKEN", "1:a"),
                    ("BRANCHBOT_SUPER_ADMINS", "12,abc"),
                ],
                "BRANCHBOT_SUPER_ADMINS",
            ),
            (
                vec![
                    ("TELOXIDE_TOKEN", "1:a"),
                    ("BRANCHBOT_TEST_CALENDAR", "every day"),
                ],
                "BRANCHBOT_TEST_CALENDAR",
            ),
            (
                vec![("TELOXIDE_TOKEN", "1:a"), ("BRANCHBOT_PASS_MARK", "120")],
                "BRANCHBOT_PASS_MARK",
            ),
            (
                vec![("TELOXIDE_TOKEN", "1:a"), ("BRANCHBOT_MORNING_TIME", "8am")],
                "BRANCHBOT_MORNING_TIME",
            ),
            (
                vec![("TELOXIDE_TOKEN", "1:a"), ("DATABASE_URL", "postgres://x")],
                "DATABASE_URL",
            ),
        ];
        for (vars, setting) in cases {
            let err = config(&vars).unwrap_err();
            assert_eq!(err.setting, setting, "{err}");
        }
    }

    #[test]
    fn a_url_without_scheme_is_refused_not_a_panic() {
        for bad in ["localhost:9", "127.0.0.1:8081", "ftp://x", "http://"] {
            let err = config(&[("TELOXIDE_TOKEN", "1:a"), ("TELOXIDE_API_URL", bad)]).unwrap_err();
            assert_eq!(err.setting, "TELOXIDE_API_URL", "{bad}");
            assert!(err.to_string().contains("http://"), "{err}");
        }
        let ok = config(&[
            ("TELOXIDE_TOKEN", "1:a"),
            ("TELOXIDE_API_URL", "http://127.0.0.1:9"),
        ]);
        assert!(ok.unwrap().api_url.is_some());
    }

    #[test]
    fn proxies_of_four_schemes_are_taken() {
        for good in [
            "http://127.0.0.1:8080",
            "https://proxy.example:8443",
            "socks5://u:p@127.0.0.1:1080",
            "socks5h://127.0.0.1:1080",
        ] {
            let c = config(&[("TELOXIDE_TOKEN", "1:a"), ("BRANCHBOT_PROXY", good)]).unwrap();
            assert_eq!(c.proxy.unwrap().as_str().trim_end_matches('/'), good);
        }
        for bad in ["127.0.0.1:1080", "socks4://x:1", "socks5://"] {
            let err = config(&[("TELOXIDE_TOKEN", "1:a"), ("BRANCHBOT_PROXY", bad)]).unwrap_err();
            assert_eq!(err.setting, "BRANCHBOT_PROXY", "{bad}");
        }
        let c = config(&[
            ("TELOXIDE_TOKEN", "1:a"),
            ("TELOXIDE_PROXY", "socks5://h:1"),
        ])
        .unwrap();
        assert!(c.proxy.is_some(), "teloxide's own variable is honoured too");
    }

    #[test]
    fn backups_default_beside_the_database() {
        let c = config(&[
            ("TELOXIDE_TOKEN", "1:a"),
            ("DATABASE_URL", "sqlite:///srv/bot/branchbot.db"),
        ])
        .unwrap();
        assert_eq!(c.backup_dir, PathBuf::from("/srv/bot/backups"));
        assert_eq!(c.backup_keep, 7);
        assert!(c.system_fonts);
        let c = config(&[("TELOXIDE_TOKEN", "1:a")]).unwrap();
        assert_eq!(c.backup_dir, PathBuf::from("backups"));
        let err = config(&[
            ("TELOXIDE_TOKEN", "1:a"),
            ("BRANCHBOT_SYSTEM_FONTS", "maybe"),
        ]);
        assert_eq!(err.unwrap_err().setting, "BRANCHBOT_SYSTEM_FONTS");
    }

    #[test]
    fn a_file_type_error_names_its_key_and_variable() {
        let err = parse_file(
            "branchbot.toml",
            "timezone = \"Asia/Shanghai\"\npass_mark = \"sixty\"\n",
        )
        .unwrap_err();
        assert_eq!(err.setting, "BRANCHBOT_PASS_MARK");
        let line = err.to_string();
        assert!(
            line.contains("pass_mark") && line.contains("第 2 行"),
            "{line}"
        );
        let err = parse_file("branchbot.toml", "pass_mrak = 60\n").unwrap_err();
        assert!(err.to_string().contains("pass_mrak"), "{err}");
        let err = parse_file("branchbot.toml", "pass_mark = \n").unwrap_err();
        assert_eq!(err.setting, "BRANCHBOT_CONFIG");
        assert!(parse_file(
            "branchbot.toml",
            "backup_keep = 3\nproxy = \"socks5://h:1\"\n"
        )
        .is_ok());
    }

    #[test]
    fn every_file_key_has_a_setting() {
        for key in [
            "token",
            "database_url",
            "super_admins",
            "admin_chat",
            "timezone",
            "test_calendar",
            "round_days",
            "questions_dir",
            "questions_per_test",
            "time_limit_minutes",
            "pass_mark",
            "day_before_time",
            "morning_time",
            "proxy",
            "backup_dir",
            "backup_keep",
            "system_fonts",
            "messages_per_second",
        ] {
            assert!(variable_of(key).is_some(), "{key}");
        }
    }

    #[test]
    fn super_admins_are_a_list() {
        let c = config(&[
            ("TELOXIDE_TOKEN", "1:a"),
            ("BRANCHBOT_SUPER_ADMINS", "12, 34"),
        ])
        .unwrap();
        assert_eq!(c.super_admins, vec![12, 34]);
        assert!(c.is_super_admin(34));
    }
}
