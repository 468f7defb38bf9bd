//! Texts of the command line and of start-up: settings errors, reaching Telegram, the claim code,
//! backups and restores. They are printed to a terminal or a log, so they are plain text.

/// The one line a bad setting stops start-up with.
pub fn config_error(setting: &str, message: &str) -> String {
    format!("配置错误：{setting}：{message}")
}

pub const TOKEN_MISSING: &str = "未设置。请在 Telegram 中找 @BotFather 发送 /newbot 创建机器人，\
然后运行 TELOXIDE_TOKEN=<它给的令牌> branchbot";
pub const TOKEN_MALFORMED: &str =
    "不像机器人令牌（应为“数字:字母”的形式，即 @BotFather 给出的那一串）";

pub fn not_sqlite(url: &str) -> String {
    format!("“{url}”不是 SQLite 地址；请写成 sqlite://branchbot.db 这样的形式")
}

pub fn not_valid(value: &str, expected: &str) -> String {
    format!("“{value}”无效；应为{expected}")
}

pub const EXPECT_USER_IDS: &str = "以逗号分隔的 Telegram 用户 ID";
pub const EXPECT_CHAT_ID: &str = "群的 chat id，如 -1001234567890";
pub const EXPECT_NUMBER: &str = "整数";
pub const EXPECT_BOOL: &str = "true 或 false";

pub fn not_timezone(value: &str) -> String {
    format!("“{value}”不是 IANA 时区名；请写成 Asia/Shanghai 这样的形式")
}

pub fn not_cron(value: &str, default: &str) -> String {
    format!("“{value}”不是 cron 表达式（第一项为秒）；默认值为“{default}”")
}

pub fn out_of_range(value: &str, low: &str, high: &str) -> String {
    format!("{value} 超出范围；请使用 {low} 到 {high} 之间的数")
}

pub fn not_time(value: &str, default: &str) -> String {
    format!("“{value}”不是时间；请写成 HH:MM，如 {default}")
}

pub fn not_api_url(value: &str) -> String {
    format!(
        "“{value}”不是完整的网址（需以 http:// 或 https:// 开头，如 http://127.0.0.1:8081）；\
         不设置即使用 api.telegram.org"
    )
}

pub fn not_proxy_url(value: &str) -> String {
    format!(
        "“{value}”不是代理地址；请写成 http://主机:端口、https://主机:端口、\
         socks5://主机:端口 或 socks5h://主机:端口（可带 用户名:密码@）"
    )
}

pub fn config_file_unreadable(path: &str, error: &str) -> String {
    format!("无法读取 {path}：{error}")
}

pub fn config_file_syntax(path: &str, line: usize, error: &str) -> String {
    format!("{path} 第 {line} 行格式有误：{error}")
}

pub fn config_file_key(path: &str, line: usize, key: &str, variable: &str, error: &str) -> String {
    format!("{path} 第 {line} 行的键 {key}（即 {variable}）的值不对：{error}")
}

pub fn config_file_unknown_key(path: &str, key: &str) -> String {
    format!("{path} 中有未知的键 {key}；可用的键见 branchbot --help")
}

// ---- Reaching Telegram ----

pub fn start_retry(url: &str, cause: &str, seconds: u64) -> String {
    format!("无法连接 Telegram Bot API（{url}）：{cause}。{seconds} 秒后重试……")
}

pub fn start_token_rejected(url: &str) -> String {
    format!(
        "令牌无效：Telegram（{url}）拒绝了 TELOXIDE_TOKEN（401 Unauthorized）。\
         请在 @BotFather 中核对令牌（/token）后重新启动"
    )
}

pub fn start_api_error(url: &str, error: &str) -> String {
    format!("Telegram Bot API（{url}）返回错误：{error}")
}

pub const CAUSE_DNS: &str = "域名解析失败（DNS），请检查服务器的网络和 DNS 设置";
pub const CAUSE_REFUSED: &str = "连接被拒绝，对方端口没有服务在监听";
pub const CAUSE_TIMEOUT: &str =
    "连接超时；在中国大陆通常需要设置代理（BRANCHBOT_PROXY，如 socks5://127.0.0.1:1080）";
pub const CAUSE_TLS: &str = "TLS 握手失败（证书或加密连接有问题）";
pub const CAUSE_PROXY: &str = "代理出错（无法连接代理，或代理拒绝转发），请检查 BRANCHBOT_PROXY";
pub const CAUSE_NETWORK: &str = "网络错误";

pub fn cause_with_detail(cause: &str, detail: &str) -> String {
    format!("{cause}（{detail}）")
}

pub fn via_proxy(proxy: &str) -> String {
    format!("，经代理 {proxy}")
}

// ---- First run ----

pub fn claim_code_banner(code: &str) -> String {
    format!(
        "尚无超级管理员。请在 Telegram 中私聊本机器人发送：/claim {code}\n\
         发送者将成为第一位超级管理员；此认领码只能使用一次，重启后会换新的。"
    )
}

// ---- Backups ----

pub fn backup_done(path: &str, bytes: u64) -> String {
    format!("已备份到 {path}（{bytes} 字节）")
}

pub fn backup_exists(path: &str) -> String {
    format!("{path} 已存在；为免覆盖，请换一个文件名或先删除它")
}

pub fn backup_failed(path: &str, error: &str) -> String {
    format!("备份到 {path} 失败：{error}")
}

pub fn database_missing(path: &str) -> String {
    format!(
        "数据库 {path} 不存在；请把 DATABASE_URL 设为机器人的数据库（默认 sqlite://branchbot.db）"
    )
}

pub const RESTORE_BOT_RUNNING: &str =
    "机器人正在运行，不能恢复。请先停止机器人（如 systemctl stop branchbot），再执行 branchbot restore";

pub fn restore_not_found(path: &str) -> String {
    format!("找不到备份文件 {path}")
}

pub fn restore_not_sqlite(path: &str, error: &str) -> String {
    format!("{path} 不是可用的 SQLite 数据库：{error}。现有数据库未作改动")
}

pub fn restore_corrupt(path: &str, report: &str) -> String {
    format!("{path} 未通过完整性检查（{report}）。现有数据库未作改动")
}

pub fn restore_not_branchbot(path: &str) -> String {
    format!("{path} 不是 branchbot 的数据库（缺少它的数据表）。现有数据库未作改动")
}

pub fn restore_newer(path: &str) -> String {
    format!("{path} 来自更新版本的 branchbot（含本程序不认识的数据库迁移），请用新版本恢复。现有数据库未作改动")
}

pub fn restore_done(from: &str, to: &str, previous: Option<&str>) -> String {
    match previous {
        Some(old) => format!("已从 {from} 恢复到 {to}；原数据库已保存为 {old}"),
        None => format!("已从 {from} 恢复到 {to}"),
    }
}

pub fn restore_failed(error: &str) -> String {
    format!("恢复失败：{error}")
}

pub fn already_running(lock: &str) -> String {
    format!("另一个 branchbot 正在使用这个数据库（锁文件 {lock} 被占用）；同一个数据库只能运行一个机器人")
}

pub fn lock_failed(lock: &str, error: &str) -> String {
    format!("无法创建锁文件 {lock}：{error}")
}

// ---- Command line ----

pub fn cli_error(message: &str) -> String {
    format!("错误：{message}")
}

pub fn runtime_failed(error: &str) -> String {
    format!("无法启动异步运行时：{error}")
}

pub fn database_open_failed(url: &str, error: &str) -> String {
    format!("无法打开数据库 {url}：{error}")
}

pub fn bank_errors(dir: &str, report: &str) -> String {
    format!("题库 {dir} 有错误：\n{report}")
}

pub fn report_no_round(n: i64) -> String {
    format!("没有第 {n} 期")
}

pub const REPORT_NO_ROUNDS: &str = "还没有任何一期测试";

pub fn report_nobody(round: i64) -> String {
    format!("提示：第 {round} 期还没有人提交答卷")
}

pub fn wrote(path: &str) -> String {
    format!("已写入 {path}")
}

pub fn csv_out_is_file(path: &str) -> String {
    format!("{path} 是文件；csv 格式的 --out 应为目录（每张表一个文件）")
}

pub fn cannot_create_dir(path: &str, error: &str) -> String {
    format!("无法创建目录 {path}：{error}")
}

pub fn cannot_write(path: &str, error: &str) -> String {
    format!("无法写入 {path}：{error}")
}

pub fn unknown_argument(arg: &str) -> String {
    format!("不认识的参数 {arg}")
}

pub fn unknown_command(arg: &str) -> String {
    format!("不认识的命令 {arg}")
}

pub fn invalid_value(arg: &str, value: &str) -> String {
    format!("参数 {arg} 的值“{value}”无效")
}

pub fn missing_argument(arg: &str) -> String {
    format!("缺少参数 {arg}")
}

pub fn bad_arguments(detail: &str) -> String {
    format!("命令行参数有误（{detail}）")
}

pub const SEE_HELP: &str = "运行 branchbot --help 查看用法";
