//! Small banks that trigger, and just miss, each item-writing warning.

use super::cue_stats::{cue_stats, render_stats, Share};
use super::lint::{lint, WarningKind};
use super::model::{Question, QuestionKind};

fn choice(id: &str, kind: QuestionKind, text: &str, options: &[&str], answer: &[u8]) -> Question {
    Question {
        id: id.into(),
        kind,
        category: "换届选举".into(),
        text: text.into(),
        options: options.iter().map(|s| s.to_string()).collect(),
        answer: answer.to_vec(),
        explanation: "解析".into(),
        source: "党章".into(),
    }
}

fn single(id: &str, text: &str, options: &[&str], answer: u8) -> Question {
    choice(id, QuestionKind::Single, text, options, &[answer])
}

fn multiple(id: &str, text: &str, options: &[&str], answer: &[u8]) -> Question {
    choice(id, QuestionKind::Multiple, text, options, answer)
}

fn true_false(id: &str, text: &str, right: bool) -> Question {
    let answer = if right { 0 } else { 1 };
    choice(id, QuestionKind::TrueFalse, text, &["对", "错"], &[answer])
}

/// The warnings of one kind, as lists of ids.
fn of_kind(bank: &[Question], kind: WarningKind) -> Vec<Vec<String>> {
    lint(bank)
        .into_iter()
        .filter(|w| w.kind == kind)
        .map(|w| w.ids)
        .collect()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Distinct stems so the banks below do not also trip the near-duplicate check.
const STEMS: [&str; 8] = [
    "党支部委员会每届任期几年",
    "发展对象需经过多长时间的培养",
    "党费由哪一级组织负责收缴",
    "预备党员的预备期为多少时间",
    "党小组会一般多久召开一次",
    "入党介绍人一般由几名正式党员担任",
    "支部委员会会议须有多少委员到会",
    "民主评议党员一般每年开展几次",
];

#[test]
fn longest_option_is_answer_warns_above_the_rate_with_enough_questions() {
    // Six questions with one longest option; `hits` of them have it as the answer.
    let bank = |hits: usize| -> Vec<Question> {
        (0..6)
            .map(|i| {
                let answer = if i < hits { 3 } else { 0 };
                single(
                    &format!("q{i}"),
                    STEMS[i],
                    &["一甲", "二乙", "三丙", "四丁戊"],
                    answer,
                )
            })
            .collect()
    };
    // 3 of 6 = 50% > 35%: the three ids are listed.
    assert_eq!(
        of_kind(&bank(3), WarningKind::LongestIsAnswer),
        vec![ids(&["q0", "q1", "q2"])]
    );
    // 2 of 6 = 33%: chance-like, no warning.
    assert!(of_kind(&bank(2), WarningKind::LongestIsAnswer).is_empty());
    // Five questions are too few to judge, whatever the rate.
    assert!(of_kind(&bank(5)[..5], WarningKind::LongestIsAnswer).is_empty());
}

#[test]
fn a_longest_option_that_is_never_the_answer_warns_too() {
    let bank = |hits: usize| -> Vec<Question> {
        (0..10)
            .map(|i| {
                let answer = if i < hits { 3 } else { 0 };
                let text = format!("第{i}题");
                single(
                    &format!("q{i}"),
                    &text,
                    &["一甲", "二乙", "三丙", "四丁戊"],
                    answer,
                )
            })
            .collect()
    };
    // 0 of 10: every id with a longest option is listed.
    let found = of_kind(&bank(0), WarningKind::LongestNeverAnswer);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].len(), 10);
    // 1 of 10 is 10%, not below: no warning; nine questions are too few to judge.
    assert!(of_kind(&bank(1), WarningKind::LongestNeverAnswer).is_empty());
    assert!(of_kind(&bank(0)[..9], WarningKind::LongestNeverAnswer).is_empty());
}

#[test]
fn longest_rate_is_judged_per_category() {
    let mut bank: Vec<Question> = (0..6)
        .map(|i| {
            single(
                &format!("q{i}"),
                STEMS[i],
                &["一甲", "二乙", "三丙", "四丁戊"],
                3,
            )
        })
        .collect();
    for question in bank.iter_mut().skip(3) {
        question.category = "党费".into();
    }
    // All six are hits, but each category has only three.
    assert!(of_kind(&bank, WarningKind::LongestIsAnswer).is_empty());
}

#[test]
fn an_answer_much_longer_than_every_wrong_option_warns() {
    let long = single(
        "long",
        STEMS[0],
        &["三年", "五年", "村和社区党组织每届任期五年", "四年"],
        2,
    );
    assert_eq!(
        of_kind(&[long], WarningKind::LongAnswer),
        vec![ids(&["long"])]
    );
    // Longer, but not 1.5 times the longest wrong option.
    let close = single(
        "close",
        STEMS[0],
        &["每届任期三年", "每届任期为五年整", "每届任期四年", "两年"],
        1,
    );
    assert!(of_kind(&[close], WarningKind::LongAnswer).is_empty());
    // 1.5 times, but only two characters more.
    let short = single("short", STEMS[0], &["3年", "5年", "四年以内", "2年"], 2);
    assert!(of_kind(&[short], WarningKind::LongAnswer).is_empty());
    // 多选: judged by the shortest correct option.
    let mixed = multiple(
        "mixed",
        STEMS[1],
        &[
            "经过一年以上的培养和教育考察",
            "一年",
            "两年",
            "经支部委员会讨论同意",
        ],
        &[0, 3],
    );
    assert_eq!(
        of_kind(std::slice::from_ref(&mixed), WarningKind::LongAnswer),
        vec![ids(&["mixed"])]
    );
    let mut fair = mixed;
    fair.options[1] = "经过半年以上的培养考察".into();
    assert!(of_kind(&[fair], WarningKind::LongAnswer).is_empty());
}

#[test]
fn absolute_words_only_in_wrong_options_warn_but_not_when_the_answer_has_them_too() {
    let cue = single(
        "cue",
        STEMS[2],
        &[
            "党支部",
            "一律由上级党委收缴",
            "党员自行决定交到哪里",
            "财务部门",
        ],
        0,
    );
    let found = of_kind(std::slice::from_ref(&cue), WarningKind::WordCue);
    // One warning for the lax word (自行), one for the absolute word (一律).
    assert_eq!(found, vec![ids(&["cue"]), ids(&["cue"])]);
    let message = lint(std::slice::from_ref(&cue))
        .into_iter()
        .find(|w| w.kind == WarningKind::WordCue)
        .map(|w| w.to_string())
        .unwrap_or_default();
    assert!(
        message.starts_with("cue：") && message.contains(" C "),
        "{message}"
    );

    let mut balanced = cue;
    // The answer now carries words of both groups too, so they no longer tell.
    balanced.options[0] = "党员自行交给党支部，一律按月收缴".into();
    assert!(of_kind(&[balanced], WarningKind::WordCue).is_empty());

    let plain = single(
        "plain",
        STEMS[2],
        &["党支部", "上级党委", "党小组", "财务部门"],
        0,
    );
    assert!(of_kind(&[plain], WarningKind::WordCue).is_empty());
}

#[test]
fn words_of_obligation_only_in_the_answer_warn() {
    let cue = single(
        "must",
        STEMS[6],
        &["半数", "必须有半数以上委员到会", "三分之一", "全体"],
        1,
    );
    assert_eq!(
        of_kind(std::slice::from_ref(&cue), WarningKind::WordCue),
        vec![ids(&["must"])]
    );
    let mut fair = cue;
    fair.options[0] = "必须有三分之一以上委员到会".into();
    assert!(of_kind(&[fair], WarningKind::WordCue).is_empty());
}

#[test]
fn true_false_truth_predictable_from_words_warns_with_the_following_ids() {
    let statements = [
        "预备党员即可参加表决",
        "党员无需按月交纳党费",
        "支部书记可以自行决定发展党员",
        "党小组会随意召开即可",
        "党员可以直接向中央反映情况",
    ];
    // Four of five lax statements are 错 (80% > 70%): the four are listed.
    let bank: Vec<Question> = statements
        .iter()
        .enumerate()
        .map(|(i, text)| true_false(&format!("t{i}"), text, i == 4))
        .collect();
    assert_eq!(
        of_kind(&bank, WarningKind::TrueFalseWordCue),
        vec![ids(&["t0", "t1", "t2", "t3"])]
    );
    // Three of five (60%): the words no longer tell.
    let mut balanced = bank.clone();
    balanced[3].answer = vec![0];
    assert!(of_kind(&balanced, WarningKind::TrueFalseWordCue).is_empty());
    // Three statements are too few to judge.
    assert!(of_kind(&bank[..3], WarningKind::TrueFalseWordCue).is_empty());

    let strict: Vec<Question> = ["必须按期换届", "不得委托他人", "严禁弄虚作假", "禁止拉票"]
        .iter()
        .enumerate()
        .map(|(i, text)| true_false(&format!("s{i}"), text, true))
        .collect();
    assert_eq!(
        of_kind(&strict, WarningKind::TrueFalseWordCue),
        vec![ids(&["s0", "s1", "s2", "s3"])]
    );
}

#[test]
fn a_multiple_with_every_option_correct_warns() {
    let all = multiple(
        "all",
        STEMS[3],
        &["甲项", "乙项", "丙项", "丁项"],
        &[0, 1, 2, 3],
    );
    assert_eq!(
        of_kind(&[all], WarningKind::MultipleAllCorrect),
        vec![ids(&["all"])]
    );
    let some = multiple("some", STEMS[3], &["甲项", "乙项", "丙项", "丁项"], &[0, 2]);
    assert!(of_kind(&[some], WarningKind::MultipleAllCorrect).is_empty());
}

/// Six 多选 on distinct stems with the given answers over four options.
fn multiples(answers: &[&[u8]]) -> Vec<Question> {
    answers
        .iter()
        .enumerate()
        .map(|(i, answer)| {
            multiple(
                &format!("m{i}"),
                STEMS[i],
                &["甲说法", "乙说法", "丙说法", "丁说法"],
                answer,
            )
        })
        .collect()
}

#[test]
fn wrong_options_always_last_and_one_wrong_option_warn_bank_wide() {
    // Three of six answer "ABC" (wrong option last, one wrong): 50% > 35% and 50% = 50%.
    let bank = multiples(&[
        &[0, 1, 2],
        &[0, 1, 2],
        &[0, 1, 2],
        &[1, 3],
        &[0, 2],
        &[1, 2],
    ]);
    assert_eq!(
        of_kind(&bank, WarningKind::MultipleWrongLast),
        vec![ids(&["m0", "m1", "m2"])]
    );
    assert!(of_kind(&bank, WarningKind::MultipleOneWrong).is_empty());
    // Four with one wrong option (67% > 50%), two of them last (33%).
    let bank = multiples(&[
        &[0, 1, 2],
        &[0, 1, 2],
        &[0, 1, 3],
        &[1, 2, 3],
        &[0, 2],
        &[1, 3],
    ]);
    assert!(of_kind(&bank, WarningKind::MultipleWrongLast).is_empty());
    assert_eq!(
        of_kind(&bank, WarningKind::MultipleOneWrong),
        vec![ids(&["m0", "m1", "m2", "m3"])]
    );
    // Five 多选 are too few to judge.
    let few = multiples(&[&[0, 1, 2], &[0, 1, 2], &[0, 1, 2], &[0, 1, 2], &[0, 1, 2]]);
    assert!(of_kind(&few, WarningKind::MultipleWrongLast).is_empty());
}

#[test]
fn near_duplicate_pairs_are_reported_once_each() {
    let bank = vec![
        single(
            "a",
            "村党组织每届任期为几年？",
            &["三年", "五年", "四年"],
            1,
        ),
        single(
            "b",
            "村党组织每届任期是几年？",
            &["五年", "三年", "两年"],
            0,
        ),
        single(
            "c",
            "党费由哪一级组织收缴？",
            &["党支部", "党委", "党小组"],
            0,
        ),
    ];
    assert_eq!(
        of_kind(&bank, WarningKind::NearDuplicate),
        vec![ids(&["a", "b"])]
    );
    assert!(of_kind(&bank[1..], WarningKind::NearDuplicate).is_empty());
}

#[test]
fn stems_and_options_that_lean_on_others_warn() {
    let stem = single(
        "dep",
        "党员的义务还包括下列哪一项？",
        &["甲", "乙", "丙"],
        0,
    );
    assert_eq!(
        of_kind(&[stem], WarningKind::DependentStem),
        vec![ids(&["dep"])]
    );
    // "以上" as in the rule's own words is not a reference.
    let quorum = single(
        "ok",
        "正式党员三人以上的单位应当成立什么？",
        &["甲", "乙", "丙"],
        0,
    );
    assert!(lint(&[quorum]).is_empty());
    let option = single(
        "all",
        "支部的职责是什么？",
        &["教育党员", "服务群众", "以上都对"],
        2,
    );
    assert_eq!(
        of_kind(&[option], WarningKind::OptionRefersToOthers),
        vec![ids(&["all"])]
    );
}

#[test]
fn a_clean_bank_has_no_warning() {
    let bank = vec![
        single("q1", STEMS[0], &["三年", "五年", "四年", "两年"], 1),
        multiple(
            "q2",
            STEMS[1],
            &["半年", "一年以上", "经支部同意", "两年"],
            &[1, 2],
        ),
        true_false("q3", "党支部委员会由党员大会选举产生。", true),
    ];
    assert_eq!(lint(&bank), vec![]);
}

#[test]
fn stats_count_the_cues_as_the_checks_define_them() {
    let mut bank: Vec<Question> = (0..4)
        .map(|i| {
            let answer = if i < 3 { 3 } else { 0 };
            single(
                &format!("q{i}"),
                STEMS[i],
                &["一甲", "二乙", "三丙", "四丁戊"],
                answer,
            )
        })
        .collect();
    // Two options share the longest length, so this one is not judged for "longest".
    bank.push(single(
        "w",
        STEMS[4],
        &["党支部收", "一律上交", "党小组收"],
        0,
    ));
    bank.push(multiple(
        "m",
        STEMS[5],
        &["甲项", "乙项", "丙项", "丁项"],
        &[0, 1, 2],
    ));
    bank.push(true_false("t", "预备党员即可参加表决", false));
    let stats = cue_stats(&bank);
    assert_eq!(stats.longest_overall, Share { count: 3, total: 4 });
    let absolute = &stats.words[1];
    assert_eq!(absolute.options, Share { count: 1, total: 1 });
    let lax = &stats.words[0];
    assert_eq!(lax.statements, Share { count: 1, total: 1 });
    assert_eq!(stats.multiple_one_wrong_last, Share { count: 1, total: 1 });
    assert_eq!(stats.multiple_patterns, vec![("ABC/4".to_owned(), 1)]);
    let text = render_stats(&stats);
    assert!(text.contains("3/4（75%）"), "{text}");
}

#[test]
fn upload_warnings_fit_the_rest_of_one_message() {
    // Sixty questions that each lean on another: more warnings than one message holds.
    let bank: Vec<Question> = (0..60)
        .map(|i| {
            single(
                &format!("dep-{i:03}"),
                &format!("第{i}题还包括哪一项"),
                &["甲", "乙"],
                0,
            )
        })
        .collect();
    let reply_so_far = "题".repeat(1500);
    let text = super::upload_warnings(&bank, &reply_so_far).unwrap_or_default();
    let total = reply_so_far.encode_utf16().count() + 2 + text.encode_utf16().count();
    assert!(total <= super::TELEGRAM_MESSAGE_LIMIT, "{total}");
    assert!(text.contains("dep-000") && text.contains("还有"), "{text}");
    assert_eq!(super::upload_warnings(&bank[..0], &reply_so_far), None);
}
