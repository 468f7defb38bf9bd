//! What a trainee reads around the questions: starting and resuming a test, refused button
//! presses, the end of a test by time or by the round closing, practice feedback and
//! `/myscores`. HTML parse mode; the question and review bodies come from `texts::quiz`.

pub const NO_OPEN_ROUND: &str = "目前没有正在进行的测试。新一期测试开放时，支部群里会发布通知。";

pub fn next_round_opens(when: &str) -> String {
    format!("\n按测试日历，下一期预计于 {when} 开放。")
}
pub const JOIN_FIRST: &str = "你还没有加入支部，请先加入后再参加测试：\n\
发送 /join 加入码（加入码可向支部书记索取），或点击支部群里的“加入支部”按钮。";
pub fn branch_unbound(branch: &str) -> String {
    format!(
        "你所在的 <b>{branch}</b> 已解除与支部群的绑定，暂时不能参加测试。\n\
         请向支部书记确认；如已转到其他支部，发送 /join 加入码 加入新的支部。"
    )
}
pub const EMPTY_BANK: &str = "题库中暂时没有可用的题目，无法开始测试。请联系管理员。";
pub const EMPTY_BANK_PRACTICE: &str = "题库中暂时没有可用的题目，暂时无法练习。请联系管理员。";

/// `deadline` is a local time such as `1月16日 09:30`.
pub fn test_intro(round: i64, count: usize, minutes: i64, deadline: &str) -> String {
    format!(
        "<b>第 {round} 期业务测试开始</b>\n共 {count} 题，限时 {minutes} 分钟，请在 <b>{deadline}</b> 前答完。\n\
         每道题点击按钮作答，答案提交后不能修改；中途退出后发送 /test 可以接着答。"
    )
}

pub fn test_resume(round: i64, answered: usize, total: usize, deadline: &str) -> String {
    format!("继续第 {round} 期测试：已答 {answered}/{total} 题，请在 <b>{deadline}</b> 前答完。")
}

pub fn already_done(round: i64, score: i64, pass_mark: u32, passed: bool) -> String {
    let verdict = if passed { "已通过" } else { "未通过" };
    format!(
        "你已完成第 {round} 期测试，得分 <b>{score}</b> 分（及格线 {pass_mark} 分，{verdict}）。\n\
         每期测试只能参加一次。发送 /myscores 查看历次成绩，发送 /practice 随时练习。"
    )
}

pub fn time_up_on_entry(round: i64) -> String {
    format!("第 {round} 期测试的答题时间已到，测试已结束，成绩马上发给你。")
}

/// Put before the result when the round closed while the trainee was still answering.
pub fn round_closed_notice(round: i64) -> String {
    format!("第 {round} 期测试已截止，你的测试按已作答的题目计分。")
}

/// Between the options of a 多选 answer; options themselves often contain "、".
pub const ANSWER_SEPARATOR: &str = "；";

/// The line that replaces the buttons of an answered test question.
pub fn answered(answer: &str) -> String {
    format!("已作答：<b>{answer}</b>")
}

/// The first line of the next question: what the previous one was answered with.
pub fn previous_answered(number: usize, answer: &str) -> String {
    format!("✔ 第 {number} 题已作答：<b>{answer}</b>")
}

/// Alerts for button presses that change nothing.
pub const NOT_YOUR_TEST: &str = "这不是你的测试题，不能替别人作答。";
pub const NOT_CURRENT_QUESTION: &str = "这道题不是当前要答的题，请回答最新发出的那道题。";
pub const ALREADY_ANSWERED: &str = "这道题已经作答，答案不能修改。";
pub const ATTEMPT_OVER: &str = "这次测试已经结束，不能再作答。发送 /myscores 查看成绩。";
pub const ROUND_CLOSED: &str = "本期测试已经截止，不能再作答。";
pub const TIME_UP: &str = "答题时间已到，测试已结束，成绩马上发给你。";
pub const EMPTY_SUBMIT: &str = "请至少选择一个选项，再点击“提交”。";
pub const ANSWER_SAVED: &str = "已记录";

/// Practice.
pub const PRACTICE_BUSY: &str =
    "你有一份测试正在进行，请先完成测试（发送 /test 接着答），再来练习。";
pub const PRACTICE_STALE: &str =
    "这道练习题已经作答或已换成新题。发送 /practice 或点击“下一题”继续练习。";
pub const PRACTICE_RIGHT: &str = "✅ 回答正确";
pub const PRACTICE_WRONG: &str = "❌ 回答错误";
pub const PRACTICE_NEXT: &str = "下一题 ▶";

/// `/myscores`.
pub const MYSCORES_EMPTY: &str =
    "你还没有参加过测试。测试开放时发送 /test 参加；平时可以发送 /practice 练习。";
pub const MYSCORES_TITLE: &str = "我的测试成绩";
pub const IN_PROGRESS: &str = "进行中";
pub const TIMED_OUT_MARK: &str = "（超时交卷）";
pub const PASSED_MARK: &str = "✅ 通过";
pub const FAILED_MARK: &str = "❌ 未通过";

pub fn myscores_line(round: i64, date: &str, result: &str) -> String {
    format!("第 {round} 期（{date}）：{result}")
}

pub fn score_result(score: i64, correct: i64, total: i64, verdict: &str) -> String {
    format!("<b>{score}</b> 分（答对 {correct}/{total}）{verdict}")
}

/// The change from the previous scored round.
pub fn trend(delta: i64) -> String {
    match delta {
        d if d > 0 => format!(" ↑+{d}"),
        d if d < 0 => format!(" ↓{d}"),
        _ => " →持平".to_owned(),
    }
}

pub fn myscores_summary(rounds: usize, average: i64, passed: usize, pass_mark: u32) -> String {
    format!("共参加 {rounds} 期，平均 {average} 分，通过 {passed} 期（及格线 {pass_mark} 分）。")
}

/// The alert for a press that changed nothing.
pub fn refusal(refusal: crate::domain::quiz::Refusal) -> &'static str {
    use crate::domain::quiz::Refusal as R;
    match refusal {
        R::Forged => super::common::STALE_BUTTON,
        R::NotYours => NOT_YOUR_TEST,
        R::AttemptOver => ATTEMPT_OVER,
        R::RoundClosed => ROUND_CLOSED,
        R::TimeUp => TIME_UP,
        R::AlreadyAnswered => ALREADY_ANSWERED,
        R::NotCurrent => NOT_CURRENT_QUESTION,
        R::EmptySubmit => EMPTY_SUBMIT,
    }
}
