//! Configuration from environment variables and an optional `branchbot.toml`.
//!
//! Environment variables win over the file, so an operator can override one setting for one run.
//! Every problem is reported as one line naming the setting and how to fix it.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveTime;
use chrono_tz::Tz;
use serde::Deserialize;

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
    /// Test hook: read "now" from this file instead of the system clock.
    pub clock_file: Option<PathBuf>,
    /// Test hook: seed for the random generator, so draws are reproducible.
    pub seed: Option<u64>,
}

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {setting}: {message}")]
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

        let token = get("TELOXIDE_TOKEN").or(file.token).ok_or_else(|| {
            ConfigError::new(
                "TELOXIDE_TOKEN",
                "not set. Create a bot with @BotFather in Telegram (send /newbot), then run \
                 TELOXIDE_TOKEN=<the token it gives you> cargo run --release",
            )
        })?;
        if !looks_like_token(&token) {
            return Err(ConfigError::new(
                "TELOXIDE_TOKEN",
                "does not look like a bot token (expected <digits>:<letters>, as @BotFather gives it)",
            ));
        }

        let database_url = get("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| "sqlite://branchbot.db".to_owned());
        if !database_url.starts_with("sqlite:") {
            return Err(ConfigError::new(
                "DATABASE_URL",
                format!("'{database_url}' is not a SQLite URL; use e.g. sqlite://branchbot.db"),
            ));
        }

        let super_admins = match get("BRANCHBOT_SUPER_ADMINS") {
            Some(list) => parse_id_list(&list)?,
            None => file.super_admins.unwrap_or_default(),
        };
        let admin_chat = match get("BRANCHBOT_ADMIN_CHAT") {
            Some(v) => Some(parse_num(
                "BRANCHBOT_ADMIN_CHAT",
                &v,
                "a chat id such as -1001234567890",
            )?),
            None => file.admin_chat,
        };
        let tz_name = get("BRANCHBOT_TIMEZONE")
            .or(file.timezone)
            .unwrap_or_else(|| "Asia/Shanghai".to_owned());
        let timezone = Tz::from_str(tz_name.trim()).map_err(|_| {
            ConfigError::new(
                "BRANCHBOT_TIMEZONE",
                format!("'{tz_name}' is not an IANA time zone name; use e.g. Asia/Shanghai"),
            )
        })?;
        let test_calendar = get("BRANCHBOT_TEST_CALENDAR")
            .or(file.test_calendar)
            .unwrap_or_else(|| DEFAULT_TEST_CALENDAR.to_owned());
        if cron::Schedule::from_str(&test_calendar).is_err() {
            return Err(ConfigError::new(
                "BRANCHBOT_TEST_CALENDAR",
                format!(
                    "'{test_calendar}' is not a cron expression (seconds first); the default is '{DEFAULT_TEST_CALENDAR}'"
                ),
            ));
        }

        let round_days = num_setting(&get, "BRANCHBOT_ROUND_DAYS", file.round_days, 7, 1..=31)?;
        let questions_per_test = num_setting(
            &get,
            "BRANCHBOT_QUESTIONS_PER_TEST",
            file.questions_per_test,
            20,
            1..=100,
        )?;
        let time_limit_minutes = num_setting(
            &get,
            "BRANCHBOT_TIME_LIMIT_MINUTES",
            file.time_limit_minutes,
            30,
            1..=600,
        )?;
        let pass_mark = num_setting(&get, "BRANCHBOT_PASS_MARK", file.pass_mark, 60, 0..=100)?;
        let configured_dir = get("BRANCHBOT_QUESTIONS_DIR")
            .map(PathBuf::from)
            .or(file.questions_dir);
        let questions_dir_configured = configured_dir.is_some();
        let questions_dir = configured_dir.unwrap_or_else(|| PathBuf::from("questions"));
        let day_before_time = time_setting(
            &get,
            "BRANCHBOT_DAY_BEFORE_TIME",
            file.day_before_time,
            "09:00",
        )?;
        let morning_time =
            time_setting(&get, "BRANCHBOT_MORNING_TIME", file.morning_time, "08:00")?;
        let api_url = match get("TELOXIDE_API_URL") {
            Some(url) => Some(url::Url::parse(url.trim()).map_err(|_| {
                ConfigError::new(
                    "TELOXIDE_API_URL",
                    format!("'{url}' is not a URL; unset it to use api.telegram.org"),
                )
            })?),
            None => None,
        };
        let clock_file = get("BRANCHBOT_CLOCK_FILE").map(PathBuf::from);
        let seed = match get("BRANCHBOT_SEED") {
            Some(v) => Some(parse_num("BRANCHBOT_SEED", &v, "a whole number")?),
            None => None,
        };

        Ok(Config {
            token,
            database_url,
            super_admins,
            admin_chat,
            timezone,
            test_calendar,
            round_days,
            questions_dir,
            questions_dir_configured,
            questions_per_test,
            time_limit_minutes,
            pass_mark,
            day_before_time,
            morning_time,
            api_url,
            clock_file,
            seed,
        })
    }

    pub fn is_super_admin(&self, user_id: u64) -> bool {
        self.super_admins.contains(&user_id)
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            "BRANCHBOT_CONFIG",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        ConfigError::new(
            "BRANCHBOT_CONFIG",
            format!("{} is not valid: {}", path.display(), e.message()),
        )
    })
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
        .map(|s| {
            parse_num(
                "BRANCHBOT_SUPER_ADMINS",
                s,
                "Telegram user ids separated by commas",
            )
        })
        .collect()
}

fn parse_num<T: FromStr>(
    setting: &'static str,
    value: &str,
    expected: &str,
) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| {
        ConfigError::new(
            setting,
            format!("'{value}' is not valid; expected {expected}"),
        )
    })
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
        Some(v) => parse_num(setting, &v, "a whole number")?,
        None => from_file.unwrap_or(default),
    };
    if !range.contains(&value) {
        return Err(ConfigError::new(
            setting,
            format!(
                "{value} is out of range; use {} to {}",
                range.start(),
                range.end()
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
    NaiveTime::parse_from_str(value.trim(), "%H:%M").map_err(|_| {
        ConfigError::new(
            setting,
            format!("'{value}' is not a time; use HH:MM, e.g. {default}"),
        )
    })
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
