//! What a bank editor reads about item-writing cues (`questions check`, uploads) and the cue
//! statistics (`questions check --stats`).

use crate::questions::Share;

pub const ID_SEPARATOR: &str = "、";
pub const LAX_GROUP: &str = "宽松词语（即可、无需、随意、自行、直接等）";
pub const ABSOLUTE_GROUP: &str = "绝对化词语（一律、只能、仅、都、全部等）";
pub const STRICT_GROUP: &str = "强制性词语（必须、不得、严禁、禁止）";
pub const ALL_CATEGORIES: &str = "全部";
pub const STATS_TITLE: &str = "线索统计：";

fn percent(rate: f64) -> u32 {
    (rate * 100.0).round() as u32
}

pub fn dependent_stem(reference: &str) -> String {
    format!("题干含“{reference}”，要先看过别的题才能作答；请把题干写完整，使本题单独成立")
}

pub fn option_refers_to_others(letter: char, reference: &str) -> String {
    format!("选项 {letter} 含“{reference}”，依赖其他选项；请改为一条独立的具体说法")
}

pub fn long_answer(kind: &str, answer_chars: usize, longest_wrong: usize) -> String {
    format!(
        "{kind}题的正确选项（{answer_chars} 字）比最长的错误选项（{longest_wrong} 字）长得多，\
         凭长度就能猜中；请精简正确选项或把错误选项写得同样具体"
    )
}

pub fn words_on_one_side(group: &str, letters: &str, looks_right: bool) -> String {
    let (side, effect, other) = if looks_right {
        ("正确", "选中", "错误")
    } else {
        ("错误", "排除", "正确")
    };
    format!(
        "只有{side}选项 {letters} 含{group}，凭措辞就能{effect}；\
         请改写这些选项，或让{other}选项也使用同类词语"
    )
}

pub fn multiple_all_correct() -> String {
    "多选题所有选项都正确，不考查辨别；请把至少一个选项改为似是而非的错误说法".to_owned()
}

pub fn longest_is_answer(category: &str, hits: usize, judged: usize, max_rate: f64) -> String {
    format!(
        "分类“{category}”中有唯一最长选项的单选题 {judged} 道，其中 {hits} 道最长的就是答案\
         （超过 {}%）；请在所列题目中把某个错误选项写得最长，或把选项写得一样长",
        percent(max_rate)
    )
}

pub fn longest_never_answer(category: &str, hits: usize, judged: usize, min_rate: f64) -> String {
    format!(
        "分类“{category}”中有唯一最长选项的单选题 {judged} 道，最长的是答案的只有 {hits} 道\
         （不到 {}%），“不选最长的”也成了线索；请在所列题目中挑几道，让正确选项成为最长的",
        percent(min_rate)
    )
}

pub fn true_false_word_cue(
    group: &str,
    following: usize,
    total: usize,
    looks_right: bool,
) -> String {
    let verdict = if looks_right { "对" } else { "错" };
    format!(
        "含{group}的判断题共 {total} 道，其中 {following} 道答案为“{verdict}”，凭措辞就能猜对\
         （所列为答案与措辞暗示一致的题）；请改写部分题目的措辞，或补充答案相反的同类题"
    )
}

pub fn multiple_wrong_last(count: usize, total: usize, max_rate: f64) -> String {
    format!(
        "多选题 {total} 道中有 {count} 道的错误选项全部排在最后（超过 {}%）；\
         请打乱所列题目的选项顺序",
        percent(max_rate)
    )
}

pub fn multiple_one_wrong(count: usize, total: usize, max_rate: f64) -> String {
    format!(
        "多选题 {total} 道中有 {count} 道只有一个错误选项（超过 {}%），“排除一个就全选”即可得分；\
         请在所列题目中增加似是而非的错误选项，使正确选项在 2–4 个之间分布",
        percent(max_rate)
    )
}

pub fn similar_stems(percent: u32) -> String {
    format!("两题题干几乎相同（相似度 {percent}%），同一次测试可能考两遍；请合并或改考不同的事实")
}

pub fn similar_facts(percent: u32) -> String {
    format!("两题的题干加正确选项考的是同一事实（相似度 {percent}%）；请合并或改考不同的事实")
}

pub fn warnings_title(count: usize) -> String {
    format!("出题提醒 {count} 条（不影响使用，但会让不懂规定的人也能猜对）：")
}

pub fn more_warnings(count: usize) -> String {
    format!("……还有 {count} 条提醒未列出，可用 branchbot questions check 查看全部")
}

pub fn strict_failed(count: usize) -> String {
    format!("严格模式（--strict）：有 {count} 条出题提醒，检查未通过。")
}

pub fn answer_pattern(letters: &str, options: usize) -> String {
    format!("{letters}/{options}")
}

fn share(s: Share) -> String {
    format!("{}/{}（{:.0}%）", s.count, s.total, s.percent())
}

pub fn stats_longest(category: &str, s: Share) -> String {
    format!("最长选项即答案（单选，{category}）：{}", share(s))
}

/// One word group: options carrying it that are on the side it suggests, and 判断
/// statements carrying it whose truth is the one it suggests.
pub fn stats_words(group: &str, looks_right: bool, options: Share, statements: Share) -> String {
    let (side, verdict) = if looks_right {
        ("正确", "对")
    } else {
        ("错误", "错")
    };
    format!(
        "含{group}：选项中{side}的 {}；判断题中答案为“{verdict}”的 {}",
        share(options),
        share(statements)
    )
}

pub fn stats_base(options_wrong: Share, statements_true: Share) -> String {
    format!(
        "对照：全部选择题选项中错误的 {}；全部判断题中答案为“对”的 {}",
        share(options_wrong),
        share(statements_true)
    )
}

pub fn stats_multiple(all: Share, one_wrong: Share, last: Share, one_last: Share) -> String {
    format!(
        "多选题：全部选项正确 {}；只有一个错误选项 {}；错误选项全在最后 {}；只有一个错误选项且在最后 {}",
        share(all),
        share(one_wrong),
        share(last),
        share(one_last)
    )
}

pub fn stats_patterns(patterns: &str) -> String {
    format!("多选答案（答案/选项数×题数）：{patterns}")
}

pub fn stats_near_duplicates(pairs: usize) -> String {
    format!("题干或事实相近的题对：{pairs}")
}
