//! Replies of the first-run commands: /claim, /whoami, /adminchat. HTML parse mode.

pub const CLAIM_USAGE: &str =
    "用法：/claim 认领码\n认领码在机器人首次启动时打印在服务器的日志里（尚无超级管理员时才有）。";

pub const CLAIMED: &str = "认领成功，你现在是本机器人的<b>超级管理员</b>。\n\
认领码已作废。接下来可以：\n\
• 私聊发送 /grant 用户ID或@用户名 授权上级管理员\n\
• 把机器人拉进上级管理员群，在群里发送 /adminchat，把该群设为接收逾期提醒的管理员群\n\
• 发送 /help 查看全部命令";

pub const ALREADY_CLAIMED: &str =
    "本机器人已经有超级管理员，认领码已失效。如需管理员权限，请联系现有的超级管理员授权。";

pub const WRONG_CODE: &str =
    "认领码不对。请核对服务器日志中最近一次启动打印的认领码（区分新旧：每次启动都会换新的）。";

pub fn whoami_private(user_id: i64) -> String {
    format!("你的 Telegram 用户 ID：<code>{user_id}</code>")
}

pub fn whoami_group(user_id: i64, chat_id: i64) -> String {
    format!("你的 Telegram 用户 ID：<code>{user_id}</code>\n本群的 chat id：<code>{chat_id}</code>")
}

pub const ADMIN_CHAT_IS_BRANCH: &str =
    "本群已绑定为支部群，不能同时作上级管理员群。请在上级管理员自己的群里发送 /adminchat。";
