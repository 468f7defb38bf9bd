//! Texts for the term commands and for delivery.

pub const LATE_PREFIX: &str = "【补发】因机器人曾暂停运行，此提醒晚于计划时间送达。\n";

pub const NO_TERM: &str =
    "<b>换届</b>：尚未设置本届任期。请发送 /term 本届选举日期 [任期年数]，例如 /term 2024-03-15。";

pub const TERM_USAGE: &str = "用法：/term 本届选举日期 [任期年数]\n例如：/term 2024-03-15 或 /term 2024年3月15日 3\n不写年数时按支部类型：村、社区党支部5年，其他3年。";
pub const ELECTED_USAGE: &str =
    "用法：/elected 选举日期 [任期年数]\n例如：/elected 2026-11-20。记录后自动开始新一届任期。";
pub const DELAY_USAGE: &str = "用法：/delay 新的届满日期\n例如：/delay 2027-06-30。延期须经上级党组织批准，一般不超过1年（选举条例 第三条）。";

pub const TERM_SAVED: &str =
    "已设置本届任期。今后将在届满前6个月、3个月、2个月、1个月、2周和1周提醒换届工作。";
pub const ELECTED_SAVED: &str = "已记录换届选举，新一届任期开始。请按规定将新一届委员会组成报上级党组织（委员备案，书记、副书记报批）。";
pub const DELAY_SAVED: &str = "已记录经批准的延期换届，提醒将按新的届满日期重新安排。";
