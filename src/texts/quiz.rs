//! What a trainee reads during a test, a practice question and the review afterwards.
//!
//! Plain words only: the HTML markup is added by `domain::quiz`, which also escapes every
//! piece of user-supplied text before it reaches a message.

/// Header of a test question; `position` is 1-based here, as people count.
pub fn question_header(position: usize, total: usize, kind: &str, category: &str) -> String {
    format!("第 {position}/{total} 题 · {kind}题 · {category}")
}

/// Header of a /practice question, which has no place in a test.
pub fn practice_header(kind: &str, category: &str) -> String {
    format!("练习题 · {kind}题 · {category}")
}

/// How to answer each kind, shown under the options.
pub const HINT_SINGLE: &str = "请点击下方按钮选择一个答案。";
pub const HINT_MULTIPLE: &str = "多选题：请选择全部正确选项（可多选），选好后点击“提交”。";
pub const HINT_TRUE_FALSE: &str = "请判断对错。";

/// The 多选 state line; `letters` is e.g. "A、C".
pub fn selected(letters: &str) -> String {
    format!("已选：{letters}")
}
pub const NOTHING_SELECTED: &str = "已选：（尚未选择）";

/// The button that submits a 多选 answer.
pub const SUBMIT: &str = "提交";
/// Marks a selected 多选 option on its button.
pub const SELECTED_MARK: &str = "✅";

/// Separator between letters or options listed in one line.
pub const LIST_SEPARATOR: &str = "、";

/// Review after the test: one block per missed question.
pub fn review_heading(missed: usize) -> String {
    format!("答错的题目（共 {missed} 题）")
}
pub fn review_item_header(number: usize, kind: &str, category: &str) -> String {
    format!("{number}. {kind}题 · {category}")
}
pub const YOUR_ANSWER: &str = "你的答案：";
pub const CORRECT_ANSWER: &str = "正确答案：";
pub const EXPLANATION: &str = "解析：";
pub const SOURCE: &str = "依据：";
pub const NOT_ANSWERED: &str = "未作答";
pub const NOTHING_MISSED: &str = "全部答对，没有错题，继续保持！";

/// The score line at the end of a test.
pub fn score_line(score: u32) -> String {
    format!("本次测试得分：{score} 分")
}
pub fn correct_line(correct: u32, total: u32) -> String {
    format!("答对 {correct}/{total} 题")
}
pub fn pass_mark_line(pass_mark: u32) -> String {
    format!("及格线：{pass_mark} 分")
}
pub const PASSED: &str = "✅ 已通过";
pub const FAILED: &str = "❌ 未通过";
pub const TIMED_OUT: &str = "⏰ 答题时间已到，未作答的题目按答错计。";
pub const RESULT_TITLE: &str = "测试结束";
