//! Replies of the report commands in chat (/report, /overdue) and the names of their files.

use chrono::NaiveDate;

pub fn round_label(round_id: i64) -> String {
    format!("第{round_id}期")
}

pub fn report_usage() -> String {
    "用法：/report [期次]，例如 /report 3 或 /report 第三期。\n不写期次时，报告最近结束的一期（若还没有结束的，则报告进行中的一期）。"
        .to_owned()
}

pub fn no_such_round(round_id: i64) -> String {
    format!("没有第 {round_id} 期测试。发送 /report 查看最近一期的报告。")
}

pub const NO_ROUNDS: &str = "还没有任何一期测试，暂无报告。";

pub fn workbook_file_name(round_id: i64) -> String {
    format!("第{round_id}期测试报告.xlsx")
}

pub fn workbook_caption(round_id: i64) -> String {
    format!("第 {round_id} 期测试报告（Excel，含支部、学员、未参加、题目、分类、趋势等工作表）")
}

pub fn csv_caption(round_id: i64) -> String {
    format!("第 {round_id} 期测试报告的 CSV 文件，每表一个（UTF-8 编码，可直接用 Excel 打开）")
}

pub fn chart_file_name(round_id: i64) -> String {
    format!("第{round_id}期测试报告.png")
}

pub fn chart_caption(round_id: i64) -> String {
    format!(
        "第 {round_id} 期各支部平均分及近几期走势。括号内为实参加/应参加人数：有党员名册的支部按名册统计，标“已加入”的支部尚未上传名册，按已加入机器人的人数统计。"
    )
}

pub fn summary_title(round_id: i64) -> String {
    format!("第 {round_id} 期测试报告摘要")
}

pub fn summary_file_name(round_id: i64) -> String {
    format!("第{round_id}期测试报告摘要.html")
}

pub const SUMMARY_CUT: &str = "内容较长，以上只是开头部分，完整内容见随后的文件。";

pub const CHART_FAILED: &str = "图表生成失败，其余报告不受影响。";

pub fn overdue_usage(max_days: u32, default_days: u32) -> String {
    format!(
        "用法：/overdue [天数]，例如 /overdue 90。\n天数是统计会议缺开情况的时间范围（最近 1 至 {max_days} 天，默认 {default_days} 天）。"
    )
}

pub fn compliance_file_name(as_of: NaiveDate) -> String {
    format!("换届与会议情况_{}.xlsx", as_of.format("%Y-%m-%d"))
}

pub const COMPLIANCE_FILE_CAPTION: &str = "换届与会议情况（Excel）";
