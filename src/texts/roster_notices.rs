//! Texts the roster adds to reminders in the branch group: the election arithmetic under a
//! term reminder, and the names of those who have not finished the test the day before a round
//! closes. Each rule names its source as DOMAIN.md states it; names only, never phone numbers.
//! HTML parse mode; names are escaped here.

use chrono::DateTime;
use chrono_tz::Tz;

use crate::domain::roster::{least_candidates, Election, LadderFacts, COMMITTEE_SEATS};
use crate::texts::reminders::datetime_local;

/// The roster's part of a term reminder, from the facts the step needs; `seats` are the
/// committee posts on the roster now.
pub fn ladder_section(facts: &LadderFacts, e: &Election, seats: usize) -> String {
    let c = &e.counts;
    let mut lines = vec![String::new(), "【按本支部党员名册测算】".to_owned()];
    if facts.voters {
        let no_vote = c.probationary + (c.full - c.voters);
        lines.push(format!(
            "• 有选举权的正式党员 {} 人（正式党员 {} 人、预备党员 {} 人；预备党员和受留党察看处分的党员共 {no_vote} 人没有表决权、选举权，选举条例第五条）",
            c.voters, c.full, c.probationary
        ));
    }
    if facts.body {
        lines.push(if e.committee {
            format!(
                "• 正式党员 {} 人（7 人以上）：应选举支部委员会，委员一般 3 至 5 人、一般不超过 7 人（支部条例）",
                c.full
            )
        } else {
            format!(
                "• 正式党员 {} 人（不足 7 人）：不设支部委员会，由党员大会选举书记 1 人，必要时增设副书记（支部条例）",
                c.full
            )
        });
        if e.too_big {
            lines.push(format!(
                "• ⚠️ 党员 {} 人，超过 50 人：党支部党员人数一般不超过 50 名，可借换届考虑分设支部（支部条例第四条）",
                c.members()
            ));
        }
        if e.too_few_full {
            lines.push(format!(
                "• ⚠️ 正式党员只有 {} 人，不足 3 人（党章第三十条：正式党员 3 人以上的应成立党支部），请与上级党组织商议",
                c.full
            ));
        }
    }
    if facts.candidates && e.committee {
        lines.push(if COMMITTEE_SEATS.contains(&seats) {
            format!(
                "• 名册中现任支部委员 {seats} 人：下届仍选 {seats} 名委员的，委员候选人至少 {} 名（差额不少于应选人数的20%，选举条例第十三条）",
                least_candidates(seats)
            )
        } else {
            format!(
                "• 委员候选人差额不少于应选人数的20%（选举条例第十三条）：应选 3 人至少 {} 名，应选 5 人至少 {} 名，应选 7 人至少 {} 名",
                least_candidates(3),
                least_candidates(5),
                least_candidates(7)
            )
        });
    }
    if facts.quorum {
        lines.push(format!(
            "• 应到会有选举权的党员 {} 人：到会须超过应到会人数的五分之四，即至少 {} 人，会议方可进行选举（选举条例）",
            c.voters, e.quorum
        ));
    }
    lines.push("（人数按名册当前登记计算；如名册有误，请群管理员重新上传名册。）".to_owned());
    lines.join("\n")
}

/// Names listed per part of the day-before notice; the rest are counted (a branch generally
/// has at most 50 members, and two lists of 50 long names still fit one message).
pub const NAMES_SHOWN: usize = 50;

fn names(list: &[String]) -> String {
    let shown: Vec<String> = list
        .iter()
        .take(NAMES_SHOWN)
        .map(|n| crate::texts::esc(n))
        .collect();
    let mut text = shown.join("、");
    if list.len() > NAMES_SHOWN {
        text.push_str(&format!(" 等 {} 人", list.len()));
    }
    text
}

/// The day before a round closes, in the branch group: who on the roster is due and has not
/// finished. `branch` is escaped by the caller.
pub fn unfinished(
    round: i64,
    branch: &str,
    closes: &DateTime<Tz>,
    due: usize,
    took: usize,
    not_taken: &[String],
    never_joined: &[String],
) -> String {
    let mut lines = vec![
        format!(
            "⏰ <b>{branch}</b>：第{round}期党务业务测试将于 {} 结束。",
            datetime_local(closes)
        ),
        format!("按名册应参加 {due} 人，已完成 {took} 人。"),
    ];
    if !not_taken.is_empty() {
        lines.push(format!(
            "未完成（已加入，尚未交卷）{} 人：{}",
            not_taken.len(),
            names(not_taken)
        ));
    }
    if !never_joined.is_empty() {
        lines.push(format!(
            "未加入（从未使用机器人）{} 人：{}",
            never_joined.len(),
            names(never_joined)
        ));
    }
    lines.push(
        "请以上同志抓紧完成：已加入的在与我的私聊中继续作答；未加入的点击本群测试通知下方的按钮加入并开始测试。"
            .to_owned(),
    );
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::roster::{Counts, Election};
    use crate::domain::term::{LadderStep, TermReminder};

    fn election(full: usize, probationary: usize, voters: usize) -> Election {
        Election::of(Counts {
            full,
            probationary,
            voters,
        })
    }

    #[test]
    fn six_full_members_elect_only_a_secretary_and_no_candidate_count_is_given() {
        let facts = LadderFacts::for_reminder(&TermReminder::Step(LadderStep::ThreeMonths));
        let text = ladder_section(&facts, &election(6, 1, 5), 3);
        assert!(
            text.contains("不设支部委员会，由党员大会选举书记 1 人"),
            "{text}"
        );
        assert!(!text.contains("候选人"), "{text}");
        // Plain text: the ladder message goes out in HTML mode without markup of its own.
        assert!(!text.contains(['<', '>', '&']), "{text}");
    }

    #[test]
    fn seats_outside_a_committee_size_fall_back_to_the_usual_sizes() {
        let facts = LadderFacts::for_reminder(&TermReminder::Step(LadderStep::OneMonth));
        let text = ladder_section(&facts, &election(9, 0, 9), 1);
        assert!(
            text.contains("应选 3 人至少 4 名，应选 5 人至少 6 名，应选 7 人至少 9 名"),
            "{text}"
        );
        let text = ladder_section(&facts, &election(9, 0, 9), 5);
        assert!(
            text.contains("现任支部委员 5 人：下届仍选 5 名委员的，委员候选人至少 6 名"),
            "{text}"
        );
    }
}
