//! `/bank`'s list of questions the latest round's analysis flags.

/// Shown for a figure that could not be computed.
pub const NO_FIGURE: &str = "—";

pub fn title(round_id: i64, count: usize) -> String {
    format!("需要改写的题目（第{round_id}期测试题目分析标记，共 {count} 道）：")
}

pub fn line(
    id: &str,
    category: &str,
    facility: &str,
    correct: u32,
    answered: u32,
    discrimination: &str,
    flags: &str,
) -> String {
    format!("• {id}（{category}）答对率 {facility}（{correct}/{answered}），区分度 {discrimination}：{flags}")
}

pub fn more(count: usize, round_id: i64) -> String {
    format!("……还有 {count} 道，完整名单见 /report {round_id} 的 Excel 报表“题目”工作表。")
}

pub fn none_flagged(round_id: i64, min_answers: usize) -> String {
    format!(
        "第{round_id}期测试的题目分析没有标记需要改写的题目（每道题有 {min_answers} 人以上作答才评判）。"
    )
}
