//! The console's own words (`branchbot console`): headers around the bot's messages, and the
//! replies to the console's commands (`/as`, `/clock`, `/press`, `/file`, `/who`).

pub fn private_chat_label(person: &str) -> String {
    format!("{person}的私聊")
}

pub fn message_header(chat: &str, id: i64) -> String {
    format!("── 机器人 → {chat}（消息 #{id}）")
}

pub fn edited_header(chat: &str, id: i64) -> String {
    format!("── 机器人修改了 {chat} 的消息 #{id}")
}

pub fn scheduled_header(chat: &str, id: i64, when: &str) -> String {
    format!("── [{when}] 定时消息 → {chat}（消息 #{id}）")
}

pub fn file_sent(chat: &str, path: &str, caption: &str) -> String {
    if caption.is_empty() {
        format!("── 机器人 → {chat} 发送文件：{path}")
    } else {
        format!("── 机器人 → {chat} 发送文件：{path}\n  {caption}")
    }
}

pub fn press_answer(text: &str, alert: bool) -> String {
    if alert {
        format!("  ⚠ 弹窗：{text}")
    } else {
        format!("  ⓘ 提示：{text}")
    }
}

/// The line echoing what a person typed, so a transcript reads like a chat.
pub fn typed(person: &str, chat: &str, line: &str) -> String {
    format!("\n{person}@{chat}> {line}")
}

pub const NO_SUCH_BUTTON: &str = "没有这个编号的按钮。按钮编号显示在消息下方，例如 [3]。";
pub const BUTTON_GONE: &str = "这个按钮已经不在消息上了（消息已被修改或按钮已移除）。";

pub fn button_elsewhere(chat: &str, how: &str) -> String {
    format!("这个按钮在“{chat}”里。先发送 {how} 切换过去再按。")
}

pub fn private_chat_switch(person: &str) -> String {
    format!("/as {person} 私聊")
}

pub fn pressed(button: &str) -> String {
    format!("（按下按钮“{button}”）")
}

pub fn opened_link(url: &str) -> String {
    format!("（打开链接 {url}，转到与机器人的私聊）")
}

pub fn link_not_for_bot(url: &str) -> String {
    format!("（链接 {url} 不是机器人的链接，控制台无法打开）")
}

pub fn now_is(when: &str) -> String {
    format!("现在是 {when}")
}

pub fn clock_moved(when: &str) -> String {
    format!("⏰ 时间拨到 {when}")
}

pub const CLOCK_USAGE: &str =
    "用法：/clock 查看时间；/clock +3天、+2小时、+30分钟（也可写 +3d、+2h、+30m）向前拨；\
/clock 2026-12-25 09:00 拨到某一时刻。时间只能向前拨。";

pub const AS_USAGE: &str =
    "用法：/as <姓名> <私聊|群名>，例如 /as 王书记 第一党支部群、/as 张学员 私聊。\
新名字会建一个新人；新群名会建一个新群，说话的人是群主（群管理员）。";

pub fn now_acting(person: &str, chat: &str) -> String {
    format!("（现在以 {person} 的身份在 {chat} 中发言）")
}

pub const FILE_USAGE: &str =
    "用法：/file <本机文件路径>，把文件发给机器人（例如上传题库 .toml 或 .xlsx）。";

pub fn file_missing(path: &str) -> String {
    format!("找不到文件 {path}。")
}

pub const PRESS_USAGE: &str = "用法：/press <编号>，或直接输入按钮编号。";

pub fn who(people: &[String], chats: &[String], files: &str) -> String {
    format!(
        "人员：{}\n群聊：{}\n文件保存到：{files}",
        people.join("、"),
        if chats.is_empty() {
            "（无）".to_owned()
        } else {
            chats.join("、")
        }
    )
}

pub const HELP: &str = "控制台命令：\n\
  /as <姓名> <私聊|群名>  切换发言人和聊天\n\
  /clock [+3天|+2小时|日期 时间]  查看或向前拨时间，到期的提醒会依次出现\n\
  /press <编号> 或直接输入编号  按下消息下方的按钮\n\
  /file <路径>  发送本机文件（如题库）\n\
  /who  列出人员、群聊和文件目录\n\
  /quit  退出\n\
其余输入都作为当前发言人在当前聊天中发给机器人的消息，例如 /status、/test。";

pub fn demo_ready(branch: &str, group: &str, files: &str) -> String {
    format!(
        "演示数据已准备好：{branch}已绑定在“{group}”，书记是王书记（群管理员），\
党员张学员、李党员已加入，本届任期一个多月后届满，第 1 期测试已开放。\n\
管理员（超级管理员）在私聊中可用 /report、/rounds、/bank。\n\
试试：/as 王书记 {group} 然后 /status；/as 张学员 私聊 然后 /test；/clock +7天。\n\
输入 ? 查看控制台命令。文件保存到：{files}"
    )
}

pub const UNKNOWN_PERSON_HINT: &str = "（新的人员，已为其建立账号）";

pub fn new_group(group: &str, owner: &str) -> String {
    format!("（新建群“{group}”，群主：{owner}）")
}

pub const BYE: &str = "再见。";
