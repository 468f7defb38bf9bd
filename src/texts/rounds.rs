//! Texts of the test calendar (rounds, 期次) and of the administrators' question-bank upload.
//!
//! HTML parse mode. Arguments that come from users (branch names, file names, anything a bank
//! file contains) are escaped by the caller; dates and numbers are formatted here.

use chrono::DateTime;
use chrono_tz::Tz;

use crate::texts::reminders::{datetime_local, zone_label};

// ---- the round in the groups and in private -------------------------------------------------

/// The announcement in a branch group when a round opens.
pub fn announcement(
    round: i64,
    branch: &str,
    closes: &DateTime<Tz>,
    questions: usize,
    minutes: u32,
    pass_mark: u32,
) -> String {
    format!(
        "📝 <b>第{round}期党务业务测试开始了</b>\n\
         {branch}的同志们：本期测试开放至 {}，共 {questions} 题，限时 {minutes} 分钟，{pass_mark} 分及格，每人一次。\n\
         点击下方按钮，在与我的私聊中作答（首次点击会同时加入本支部）。",
        datetime_local(closes)
    )
}

pub fn announcement_button(round: i64) -> String {
    format!("参加第{round}期测试")
}

/// The private reminder a day before closing, to members who have not finished.
pub fn reminder(round: i64, closes: &DateTime<Tz>) -> String {
    format!(
        "⏰ 第{round}期党务业务测试将于 {} 结束，你还没有完成。\n点击下方按钮开始作答；已开始的测试会从中断处继续。",
        datetime_local(closes)
    )
}

pub const REMINDER_BUTTON: &str = "开始测试";

/// The result in a branch group when a round closes: participation and average, no names.
/// A branch's round result for its group: `finished` of `due` (its roster's people due for the
/// test when `by_roster`, else its joined members), and the average of everyone who finished.
pub fn branch_result(
    round: i64,
    branch: &str,
    finished: i64,
    due: i64,
    average: Option<f64>,
    by_roster: bool,
) -> String {
    let head = format!("📊 <b>第{round}期党务业务测试已结束</b>\n{branch}\n");
    let basis = if by_roster {
        "按党员名册应参加人数统计"
    } else {
        "按已加入人数统计"
    };
    match average {
        Some(avg) => format!(
            "{head}参与情况：{finished}/{due} 人完成（{}，{basis}），平均分 {avg:.1} 分。\n个人成绩可私聊我发送 /myscores 查看。",
            percent(finished, due)
        ),
        None => format!("{head}本期无人完成测试（应参加 {due} 人，{basis}）。请支部督促大家参加下一期测试。"),
    }
}

fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".to_owned();
    }
    format!("{:.0}%", part as f64 * 100.0 / whole as f64)
}

// ---- /rounds --------------------------------------------------------------------------------

pub const ROUNDS_USAGE: &str = "用法：\n/rounds — 查看测试日历和各期情况\n/rounds open — 立即开启一期测试\n/rounds close — 立即结束进行中的一期";

/// The calendar part of `/rounds`.
pub fn calendar(description: &str, tz: Tz, round_days: u32) -> String {
    format!(
        "<b>测试日历</b>\n开考时间：{description}（{}）\n每期时长：{round_days} 天，结束前一天私聊提醒未完成的成员",
        zone_label(tz)
    )
}

pub fn current_round(
    round: i64,
    opens: &DateTime<Tz>,
    closes: &DateTime<Tz>,
    finished: i64,
    by_hand: bool,
) -> String {
    let how = if by_hand { "（手动开启）" } else { "" };
    format!(
        "<b>进行中</b>：第{round}期{how}\n开始：{}\n结束：{}\n已完成：{finished} 人",
        datetime_local(opens),
        datetime_local(closes)
    )
}

pub const NO_CURRENT_ROUND: &str = "<b>进行中</b>：目前没有进行中的测试。";

pub const RECENT_TITLE: &str = "<b>最近几期</b>";

pub fn recent_line(
    round: i64,
    opens: &DateTime<Tz>,
    closes: &DateTime<Tz>,
    finished: i64,
    open: bool,
) -> String {
    let state = if open { "进行中" } else { "已结束" };
    format!(
        "第{round}期 {} — {}，{state}，完成 {finished} 人",
        opens.format("%Y-%m-%d %H:%M"),
        closes.format("%Y-%m-%d %H:%M")
    )
}

pub const NO_ROUNDS_YET: &str = "还没有举行过测试。";

pub const NEXT_TITLE: &str = "<b>接下来的开考时间</b>";

pub const NO_NEXT_OPENINGS: &str =
    "按当前日历，之后没有开考时间，请检查配置 BRANCHBOT_TEST_CALENDAR。";

/// A calendar opening that falls while another round is still open waits for it to close, or is
/// skipped when that round covered more than half of its window.
pub const NEXT_WAITS_NOTE: &str =
    "（若届时上一期尚未结束，将在其结束后开启；若该期一半以上的时间已被上一期占用，则不再开启）";

pub const ROUNDS_COMMANDS: &str = "/rounds open — 立即开启一期；/rounds close — 立即结束本期";

pub fn opened_by_hand(round: i64, closes: &DateTime<Tz>, groups: usize) -> String {
    format!(
        "已开启第{round}期测试，开放至 {}。已向 {groups} 个支部群发送通知。",
        datetime_local(closes)
    )
}

pub fn already_open(round: i64) -> String {
    format!("第{round}期测试正在进行，不能同时开启两期。如需提前结束，请发送 /rounds close。")
}

pub fn closed_by_hand(round: i64, finished: i64, groups: usize) -> String {
    format!("已结束第{round}期测试，共 {finished} 人完成。已向 {groups} 个支部群发送本期参与情况。")
}

pub const NONE_OPEN: &str = "目前没有进行中的测试，无需结束。发送 /rounds open 可立即开启一期。";

// ---- /bank and uploads ----------------------------------------------------------------------

pub const BANK_TITLE: &str = "<b>当前题库</b>";

pub const BANK_EMPTY: &str = "当前题库是空的。";

pub const SOURCE_FILES: &str = "题库来源：服务器上的 questions/ 目录。";

pub fn source_upload(id: i64, file_name: &str, applied: &DateTime<Tz>) -> String {
    format!(
        "题库来源：管理员上传的 {file_name}（上传编号 {id}，{} 生效）。",
        datetime_local(applied)
    )
}

pub const BANK_HOW_TO_UPLOAD: &str = "<b>上传题库</b>\n\
直接把文件发给我（不超过 5 MB）：\n\
• <code>.toml</code> 文件，格式同服务器 questions/ 目录（见 questions/FORMAT.md）；\n\
• <code>.xlsx</code> 表格：读取第一个工作表，表头须有 题号、题型、分类、题干、选项A、选项B、答案、解析、出处（选项C–选项F 可选，列的顺序不限）。\n\
我会先逐条检查并列出所有错误（注明行号），有错误时不做任何更改；检查通过后，点“确认替换”才生效。\n\n\
<b>注意</b>：上传的题库会<b>整体替换</b>当前题库。不在新题库中的题目会停用（不删除，历史答题记录照常保留）。\n\
<b>重启后</b>：上传的题库继续有效。只有服务器上 questions/ 目录中的文件被修改过，重启时才会改用目录中的题库。";

pub const NOT_PRIVATE_DOCUMENT: &str = "请在与我的私聊中发送题库文件。";

pub const UPLOAD_NO_NAME: &str = "无法识别文件名。请发送扩展名为 .toml 或 .xlsx 的题库文件。";

pub fn upload_wrong_type(file_name: &str) -> String {
    format!("不支持文件“{file_name}”。题库只接受 .toml 文件或 .xlsx 表格（不支持 .xls、.csv、.docx）。发送 /bank 查看格式说明。")
}

pub fn upload_too_big(mb: f64, limit_mb: u32) -> String {
    format!(
        "文件太大（约 {mb:.1} MB），题库文件不能超过 {limit_mb} MB。请拆去图片等无关内容后重试。"
    )
}

pub const UPLOAD_DOWNLOAD_FAILED: &str = "从 Telegram 下载文件失败，未做任何更改。请稍后重新发送。";

/// The differences to the active bank, shown before the administrator confirms.
pub fn upload_diff(added: usize, changed: usize, unchanged: usize, retired: usize) -> String {
    format!("与当前题库相比：新增 {added} 题，修改 {changed} 题，不变 {unchanged} 题，停用 {retired} 题。")
}

pub fn upload_checked(file_name: &str) -> String {
    format!("✅ 题库文件 {file_name} 检查通过。")
}

pub const UPLOAD_CONFIRM_NOTE: &str = "确认后将<b>整体替换</b>当前题库：不在此文件中的题目会停用（不删除，历史答题记录保留）；已开始的测试不受影响。重启后上传的题库继续有效。";

/// Questions the upload reshapes (kind or number of options) while a running test uses them:
/// the upload waits until those tests end. `ids` is the escaped, shortened list.
pub fn upload_reshapes_in_use(ids: &str, minutes: u32) -> String {
    format!(
        "⚠️ 进行中的测试正在使用以下题目，而新题库改变了它们的题型或选项个数：{ids}。\n\
         这些测试结束前（最多 {minutes} 分钟）不能替换题库，否则答题按钮会失效。请稍后再点“确认替换”；\
         如果这些是新题目，请给它们换一个新题号后重新上传。"
    )
}

/// The list of ids in [`upload_reshapes_in_use`], cut after `shown` with how many more.
pub fn id_list(ids: &[String], shown: usize) -> String {
    let mut list = ids
        .iter()
        .take(shown)
        .cloned()
        .collect::<Vec<_>>()
        .join("、");
    if ids.len() > shown {
        list.push_str(&format!(" 等 {} 题", ids.len()));
    }
    list
}

/// An upload with fewer questions than a test draws: every test would be shorter.
pub fn upload_smaller_than_test(total: usize, per_test: usize) -> String {
    format!(
        "⚠️ 这份题库只有 {total} 题，少于每次测试抽取的 {per_test} 题。替换后每次测试只有 {total} 题，且每人题目相同。"
    )
}

pub const ALERT_IN_USE: &str = "有进行中的测试正在使用将被改动的题目，暂不能替换。详见消息。";

pub const BUTTON_CONFIRM: &str = "✅ 确认替换";
pub const BUTTON_CANCEL: &str = "取消";

pub fn upload_applied(
    added: usize,
    updated: usize,
    unchanged: usize,
    retired: usize,
    total: usize,
) -> String {
    format!(
        "✅ 题库已替换。新增 {added} 题，修改 {updated} 题，不变 {unchanged} 题，停用 {retired} 题；当前题库共 {total} 题。"
    )
}

pub const UPLOAD_CANCELLED: &str = "已取消，题库未作更改。";

pub const ALERT_NOT_YOURS: &str = "只有上传这份题库的管理员本人可以确认或取消。";
pub const ALERT_DONE_ALREADY: &str = "这份题库已经处理过了（已替换或已取消）。";
pub const ALERT_NOT_NEWEST: &str =
    "之后又有人上传了题库，这份已过时。请使用最新一份的按钮，或重新上传。";
pub const ALERT_GONE: &str = "找不到这份上传的题库，请重新上传。";
pub const ALERT_APPLIED: &str = "题库已替换";
pub const ALERT_CANCELLED: &str = "已取消";
