//! What a bank editor reads when a question file or an uploaded sheet is checked.
//!
//! Each problem is one short sentence that says what is wrong and, where it helps, what
//! would be right; the place (file and line, or Excel row) is added by the caller.

/// Types as a bank editor would name them, for "should be text, found a number".
pub const TYPE_INTEGER: &str = "整数";
pub const TYPE_FLOAT: &str = "小数";
pub const TYPE_BOOL: &str = "布尔值";
pub const TYPE_DATETIME: &str = "日期时间";
pub const TYPE_ARRAY: &str = "列表";
pub const TYPE_TABLE: &str = "表";
pub const TYPE_STRING: &str = "文字";

/// A TOML key with its Chinese meaning, e.g. `字段 answer（答案）`.
pub fn toml_field_label(key: &str, meaning: &str) -> String {
    format!("字段 {key}（{meaning}）")
}

/// One entry of `options`, by position and by the letter it is shown with.
pub fn toml_option_label(position: usize, letter: char) -> String {
    format!("options 第{position}项（{letter}）")
}

/// An Excel column by its header.
pub fn column_label(header: &str) -> String {
    format!("「{header}」")
}

// --- reading files -------------------------------------------------------------------

pub fn dir_missing() -> String {
    "题库目录不存在或无法读取".to_owned()
}

pub fn dir_has_no_toml() -> String {
    "题库目录中没有 .toml 题目文件".to_owned()
}

pub fn read_failed(detail: &str) -> String {
    format!("无法读取文件（{detail}）")
}

pub fn not_utf8() -> String {
    "文件不是 UTF-8 编码，请用 UTF-8 保存".to_owned()
}

/// The parser's own wording is English; the common cases get a Chinese hint in front.
pub fn toml_syntax(detail: &str) -> String {
    let hint = if detail.contains("basic string") || detail.contains("literal string") {
        "引号没有配对，或字符串中有未转义的字符"
    } else if detail.contains("table header") {
        "表头写法不对，应为 [[question]]"
    } else if detail.contains("expected `.`, `=`") || detail.contains("invalid key") {
        "应写成 字段 = 值"
    } else if detail.contains("array") {
        "列表写法不对，应为 [\"甲\", \"乙\"]"
    } else {
        "格式不正确"
    };
    format!("TOML 语法错误：{hint}（{detail}）")
}

pub fn toml_duplicate_key(key: &str) -> String {
    format!("键 {key} 重复出现（同一道题中每个字段只能写一次）")
}

pub fn unknown_top_level_key(key: &str) -> String {
    format!("未知的顶层键 {key}，题目应写在 [[question]] 下")
}

pub fn question_not_array_of_tables() -> String {
    "question 应写成一组 [[question]] 表（注意是两层方括号）".to_owned()
}

pub fn question_item_not_table(found: &str) -> String {
    format!("question 列表中的每一项都应是一道题（表），这里是{found}")
}

pub fn no_questions_in_file() -> String {
    "文件中没有题目（每道题以 [[question]] 开头）".to_owned()
}

pub fn no_questions_in_sheet() -> String {
    "表格中没有题目".to_owned()
}

pub fn unsupported_upload() -> String {
    "只接受 .toml 题库文件或 .xlsx 表格".to_owned()
}

// --- fields --------------------------------------------------------------------------

pub fn unknown_field(key: &str, allowed: &str) -> String {
    format!("未知字段 {key}（可用字段：{allowed}）")
}

pub fn missing_field(label: &str) -> String {
    format!("缺少{label}")
}

pub fn wrong_type(label: &str, expected: &str, found: &str) -> String {
    format!("{label}应为{expected}，这里是{found}")
}

pub fn list_of_texts() -> String {
    "文字列表，如 [\"甲\", \"乙\"]".to_owned()
}

pub fn empty_field(label: &str) -> String {
    format!("{label}不能为空")
}

pub fn too_long(label: &str, max: usize, actual: usize) -> String {
    format!("{label}过长：{actual} 字，最多 {max} 字")
}

pub fn bad_id(id: &str, max: usize) -> String {
    format!("题号 {id} 不合规：只能用英文字母、数字和 - _ .，最多 {max} 个字符")
}

pub fn duplicate_id(id: &str, first_place: &str) -> String {
    format!("题号 {id} 重复，已在 {first_place} 使用")
}

pub fn unknown_kind(found: &str) -> String {
    format!("题型“{found}”无效，应为 单选、多选 或 判断")
}

pub fn option_count(kind: &str, count: usize, min: usize, max: usize) -> String {
    format!("{kind}题应有 {min}–{max} 个选项，这里有 {count} 个")
}

pub fn options_for_true_false() -> String {
    "判断题不写选项（选项固定为 对、错）".to_owned()
}

pub fn duplicate_option(letter: char, same_as: char) -> String {
    format!("选项 {letter} 与选项 {same_as} 内容相同")
}

pub fn answer_not_letters(found: &str) -> String {
    format!("答案“{found}”无效，应为选项字母，如 C 或 ACD")
}

pub fn answer_not_true_false(found: &str) -> String {
    format!("判断题答案“{found}”无效，应为 对 或 错")
}

pub fn answer_no_such_option(letter: char, option_count: usize) -> String {
    format!("答案中的 {letter} 没有对应的选项（本题只有 {option_count} 个选项）")
}

pub fn duplicate_answer_letter(letter: char) -> String {
    format!("答案中的 {letter} 重复出现")
}

pub fn single_needs_one(count: usize) -> String {
    format!("单选题只能有一个答案，这里有 {count} 个")
}

pub fn multiple_needs_two(count: usize) -> String {
    format!("多选题至少要有两个答案，这里只有 {count} 个")
}

pub fn question_message_too_long(len: usize, limit: usize) -> String {
    format!("题干加选项共约 {len} 字，超过一条 Telegram 消息的上限 {limit}，请精简")
}

pub fn review_message_too_long(len: usize, limit: usize) -> String {
    format!("题目加答案解析共约 {len} 字，超过一条 Telegram 消息的上限 {limit}，请精简解析或选项")
}

pub fn unknown_source(found: &str, short_names: &str) -> String {
    format!("出处“{found}”应以文件简称开头（{short_names}），如“党章 第三十一条”")
}

// --- Excel -----------------------------------------------------------------------------

pub fn not_xlsx(detail: &str) -> String {
    format!("无法读取 Excel 文件（只支持 .xlsx）：{detail}")
}

pub fn no_sheet() -> String {
    "Excel 文件中没有工作表".to_owned()
}

pub fn missing_column(header: &str) -> String {
    format!("缺少「{header}」列（表头应在第一个工作表的第一行）")
}

pub fn duplicate_column(header: &str) -> String {
    format!("「{header}」列出现了两次")
}

pub fn cell_is_date(label: &str) -> String {
    format!("{label}是日期/时间格式，请把单元格设为文本后重新填写")
}

pub fn cell_is_error(label: &str, error: &str) -> String {
    format!("{label}是公式错误 {error}，请填写文字")
}

// --- summaries -----------------------------------------------------------------------

pub fn summary_total(total: usize) -> String {
    format!("题库共 {total} 题")
}

pub fn summary_by_kind(parts: &str) -> String {
    format!("按题型：{parts}")
}

pub fn summary_by_category(parts: &str) -> String {
    format!("按分类：{parts}")
}

pub fn kind_count(kind: &str, count: usize) -> String {
    format!("{kind} {count}")
}

pub fn category_count(category: &str, count: usize) -> String {
    format!("{category} {count}")
}

pub fn more_categories(count: usize) -> String {
    format!("等，另有 {count} 个分类")
}

pub const LIST_SEPARATOR: &str = "，";

pub fn errors_title(count: usize) -> String {
    format!("题库有 {count} 处错误：")
}

pub fn more_errors(count: usize) -> String {
    format!("……还有 {count} 处错误未列出")
}

pub fn check_passed() -> String {
    "题库检查通过。".to_owned()
}

pub fn check_failed(count: usize) -> String {
    format!("题库检查未通过，共 {count} 处错误。")
}

pub fn upload_passed() -> String {
    "题库检查通过，可以使用。".to_owned()
}

pub fn upload_failed() -> String {
    "上传的题库有错误，未做任何更改。请修改后重新上传。".to_owned()
}
