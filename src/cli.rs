//! The command line: run the bot (the default), or administrators' tools on the server. It
//! speaks Chinese like the bot; `--help` lists every setting ([`crate::config::SETTINGS`]).

use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::SETTINGS;
use crate::texts::setup as t;

const HELP_TEMPLATE: &str = "\
{before-help}{name} {version} — {about}

用法：{usage}

命令：
{subcommands}

选项：
{options}{after-help}";

const SUBCOMMAND_TEMPLATE: &str = "\
{about}

用法：{usage}

{all-args}{after-help}";

#[derive(Debug, Parser)]
#[command(
    name = "branchbot",
    version,
    about = "党支部工作助手：换届和会议提醒、每半月业务测试、成绩报告（Telegram 机器人）",
    help_template = HELP_TEMPLATE,
    subcommand_help_heading = "命令",
    subcommand_value_name = "命令",
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    after_help = settings_help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// 显示帮助
    #[arg(
        short = 'h',
        long = "help",
        action = clap::ArgAction::Help,
        global = true,
        help_heading = "参数和选项"
    )]
    help: Option<bool>,
    /// 显示版本
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version, help_heading = "选项")]
    version: Option<bool>,
}

#[derive(Debug, Subcommand)]
#[command(help_template = SUBCOMMAND_TEMPLATE, next_help_heading = "参数和选项")]
pub enum Command {
    /// 运行机器人（不带命令时的默认动作）
    #[command(help_template = SUBCOMMAND_TEMPLATE, next_help_heading = "参数和选项")]
    Run,
    /// 题库工具
    #[command(
        help_template = SUBCOMMAND_TEMPLATE,
        next_help_heading = "参数和选项",
        subcommand_value_name = "命令",
        subcommand_help_heading = "命令"
    )]
    Questions {
        #[command(subcommand)]
        action: QuestionsAction,
    },
    /// 在终端里体验整个产品，不需要令牌和网络：以任何人身份在任何聊天中发言，按编号点按钮，拨动时钟看提醒到期
    #[command(
        help_template = SUBCOMMAND_TEMPLATE,
        next_help_heading = "参数和选项",
        override_usage = "branchbot console [--demo] [--database 文件] [--files 目录] [--at 时刻] [--seed 种子]"
    )]
    Console {
        /// 从全新的演示数据开始：已绑定的支部、几名党员、即将届满的任期、一期正在进行的测试
        #[arg(long)]
        demo: bool,
        /// 控制台自己的数据库文件（不存在则新建），默认为临时文件。
        /// 不要指向机器人的数据库：控制台会把待发消息显示在屏幕上并记为已发送
        #[arg(long, value_name = "文件")]
        database: Option<PathBuf>,
        /// 机器人发出的文件（报告等）保存到这个目录
        #[arg(long, value_name = "目录", default_value = "branchbot-console-files")]
        files: PathBuf,
        /// 模拟时钟的起始时刻（RFC 3339），例如 2026-12-01T09:00:00+08:00；默认为现在
        #[arg(long, value_name = "时刻")]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
        /// 随机抽题的种子，便于得到可重复的记录
        #[arg(long, value_name = "种子")]
        seed: Option<u64>,
    },
    /// 把某一期的成绩报告写到文件
    #[command(
        help_template = SUBCOMMAND_TEMPLATE,
        next_help_heading = "参数和选项",
        override_usage = "branchbot report [--round 期次] [--org 组织] [--format text|xlsx|csv] [--out 文件或目录]"
    )]
    Report {
        /// 期次；默认为最近结束的一期，没有则为正在进行的一期
        #[arg(long, value_name = "期次")]
        round: Option<i64>,
        /// 只看某个组织及其下级（组织名称或编号）；默认为全部
        #[arg(long, value_name = "组织")]
        org: Option<String>,
        /// 格式：text（文本，默认）、xlsx（Excel）、csv
        #[arg(
            long,
            value_enum,
            default_value = "text",
            value_name = "格式",
            hide_default_value = true,
            hide_possible_values = true
        )]
        format: ReportFormat,
        /// 输出位置：xlsx 和 text 为文件，csv 为目录（每张表一个文件）；text 默认输出到屏幕
        #[arg(long, value_name = "文件或目录")]
        out: Option<PathBuf>,
    },
    /// 把数据库备份到一个新文件（机器人运行时也可以，得到的是一致的副本）
    #[command(help_template = SUBCOMMAND_TEMPLATE, next_help_heading = "参数和选项")]
    Backup {
        /// 备份文件（不能已存在）
        #[arg(value_name = "文件")]
        file: PathBuf,
    },
    /// 用备份文件恢复数据库（须先停止机器人；文件先经检查，原数据库改名保留）
    #[command(help_template = SUBCOMMAND_TEMPLATE, next_help_heading = "参数和选项")]
    Restore {
        /// 备份文件
        #[arg(value_name = "文件")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuestionsAction {
    /// 检查目录（默认 BRANCHBOT_QUESTIONS_DIR，即 questions）中的全部题库文件，或一个 .toml、.xlsx
    /// 文件；有任何错误时以非零状态退出。出题写法上的问题（提示线索、近似重复等）作为警告列出
    #[command(help_template = SUBCOMMAND_TEMPLATE, next_help_heading = "参数和选项")]
    Check {
        #[arg(value_name = "目录或文件")]
        dir: Option<PathBuf>,
        /// 有警告时也以非零状态退出（供持续集成使用）
        #[arg(long)]
        strict: bool,
        /// 同时列出线索统计（最长选项即答案的比例、绝对化用语、多选答案分布）
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

/// The settings section of `--help`: variable, default, meaning.
fn settings_help() -> String {
    let mut text = String::from(
        "\n设置（环境变量；也可写在 branchbot.toml 中，键名为小写，如 pass_mark）：\n",
    );
    for setting in SETTINGS {
        text.push_str(&format!(
            "  {}\n      {}；默认：{}\n",
            setting.variable, setting.meaning, setting.default
        ));
    }
    text
}

/// Parses the command line. Help and version are printed as they are; every other mistake
/// becomes one Chinese line (and a hint to `--help`) instead of clap's English.
pub fn parse() -> Result<Cli, String> {
    Cli::try_parse().map_err(|err| match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            std::process::exit(0);
        }
        _ => format!("{}\n{}", t::cli_error(&describe(&err)), t::SEE_HELP),
    })
}

fn describe(err: &clap::Error) -> String {
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(", "),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    match err.kind() {
        ErrorKind::InvalidSubcommand => {
            t::unknown_command(&context(ContextKind::InvalidSubcommand))
        }
        ErrorKind::UnknownArgument => t::unknown_argument(&context(ContextKind::InvalidArg)),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => t::invalid_value(
            &context(ContextKind::InvalidArg),
            &context(ContextKind::InvalidValue),
        ),
        ErrorKind::MissingRequiredArgument | ErrorKind::MissingSubcommand => {
            t::missing_argument(&context(ContextKind::InvalidArg))
        }
        _ => t::bad_arguments(err.kind().as_str().unwrap_or("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn help_lists_every_setting_with_its_default() {
        let help = Cli::command().render_long_help().to_string();
        for setting in SETTINGS {
            assert!(help.contains(setting.variable), "{}", setting.variable);
        }
        assert!(
            help.contains("用法") && help.contains("sqlite://branchbot.db"),
            "{help}"
        );
    }

    #[test]
    fn mistakes_are_told_in_chinese() {
        let err = Cli::try_parse_from(["branchbot", "frobnicate"]).unwrap_err();
        assert_eq!(describe(&err), t::unknown_command("frobnicate"));
        let err = Cli::try_parse_from(["branchbot", "report", "--format", "pdf"]).unwrap_err();
        assert!(describe(&err).contains("pdf"), "{}", describe(&err));
        let err = Cli::try_parse_from(["branchbot", "backup"]).unwrap_err();
        assert!(describe(&err).starts_with("缺少参数"), "{}", describe(&err));
    }
}
