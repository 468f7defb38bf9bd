//! The commands users type, one enum per kind of chat. Parsing uses teloxide's command derive,
//! which is plain string work; `telegram::menus` registers the same enums as Telegram menus.

use teloxide::utils::command::BotCommands;

/// Commands in a private chat with the bot.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum PrivateCommand {
    #[command(description = "开始使用")]
    Start(String),
    #[command(description = "查看帮助")]
    Help,
    #[command(description = "用加入码加入支部")]
    Join(String),
    #[command(description = "参加本期业务测试")]
    Test,
    #[command(description = "练习题（优先复习错题）")]
    Practice,
    #[command(description = "我的成绩")]
    Myscores,
    #[command(description = "成绩报告（管理员）")]
    Report(String),
    #[command(description = "换届逾期与会议缺失（管理员）")]
    Overdue(String),
    #[command(description = "测试日历与开闭（管理员）")]
    Rounds(String),
    #[command(description = "题库情况（管理员）")]
    Bank,
    #[command(description = "管理员名单（管理员）")]
    Admins,
    #[command(description = "组织架构（管理员）")]
    Org(String),
    #[command(description = "授予管理员（超级管理员）")]
    Grant(String),
    #[command(description = "撤销管理员（超级管理员）")]
    Revoke(String),
    #[command(description = "查看我的用户 ID")]
    Whoami,
    #[command(description = "用认领码成为第一位超级管理员")]
    Claim(String),
}

/// Commands in a branch's group chat.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum GroupCommand {
    #[command(description = "开始使用")]
    Start(String),
    #[command(description = "查看帮助")]
    Help,
    #[command(description = "支部情况与换届进度")]
    Status,
    #[command(description = "会议计划")]
    Meetings,
    #[command(description = "本支部测试情况")]
    Report(String),
    #[command(description = "绑定本群为支部")]
    Bind(String),
    #[command(description = "解除绑定")]
    Unbind,
    #[command(description = "发布加入支部按钮")]
    Invite,
    #[command(description = "设置本届任期")]
    Term(String),
    #[command(description = "记录完成换届")]
    Elected(String),
    #[command(description = "记录批准延期换届")]
    Delay(String),
    #[command(description = "新增或修改会议计划")]
    Plan(String),
    #[command(description = "删除会议计划")]
    Unplan(String),
    #[command(description = "记录会议已召开")]
    Held(String),
    #[command(description = "查看我的用户 ID 和本群 chat id")]
    Whoami,
    #[command(description = "设本群为本组织的管理员群（管理员）")]
    Adminchat(String),
    #[command(description = "党员名册：统计、模板、上传、解除关联")]
    Roster(String),
}

/// How a slash-text in a chat relates to this bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<C> {
    Command(C),
    /// A command of the other kind of chat.
    WrongChat,
    /// Addressed to us (or to nobody) but not a command we know.
    Unknown,
    /// Not a command, or a command for another bot.
    NotForUs,
}

/// Parses a message text as a command `C`, telling apart commands of the other chat kind and
/// commands meant for other bots in the same group.
pub fn parse<C: BotCommands, Other: BotCommands>(text: &str, bot_name: &str) -> Parsed<C> {
    let Some(first) = text
        .strip_prefix('/')
        .and_then(|t| t.split_whitespace().next())
    else {
        return Parsed::NotForUs;
    };
    if let Some((_, mention)) = first.split_once('@') {
        if !mention.eq_ignore_ascii_case(bot_name) {
            return Parsed::NotForUs;
        }
    }
    match C::parse(text, bot_name) {
        Ok(cmd) => Parsed::Command(cmd),
        Err(_) if Other::parse(text, bot_name).is_ok() => Parsed::WrongChat,
        Err(_) => Parsed::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_per_chat_kind() {
        let p = |t: &str| parse::<GroupCommand, PrivateCommand>(t, "branchbot");
        assert_eq!(
            p("/bind 一支部 农村"),
            Parsed::Command(GroupCommand::Bind("一支部 农村".into()))
        );
        assert_eq!(
            p("/status@branchbot"),
            Parsed::Command(GroupCommand::Status)
        );
        assert_eq!(p("/status@otherbot"), Parsed::NotForUs);
        assert_eq!(p("/practice"), Parsed::WrongChat);
        assert_eq!(p("/frobnicate"), Parsed::Unknown);
        assert_eq!(p("hello"), Parsed::NotForUs);
    }
}
