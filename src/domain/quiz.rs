//! The knowledge test without I/O: drawing a test, checking and scoring answers, the compact
//! encodings stored in `attempt_questions`, the Leitner boxes behind `/practice`, and the
//! Telegram messages (HTML parse mode) a trainee reads.
//!
//! Indices are always *original* option indices (positions in `Question::options`); the
//! shuffled order a trainee sees is kept beside them as `option_order`, so a stored answer
//! never depends on how the options happened to be shown.

use std::collections::BTreeSet;

use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use teloxide::utils::html::escape;
use thiserror::Error;

use crate::questions::model::{option_letter, Question, QuestionKind};
use crate::texts::quiz as t;

/// Telegram's limit on the text of one message, in UTF-16 code units after entity parsing.
pub const TELEGRAM_TEXT_LIMIT: usize = 4096;

/// Option indices are stored as single decimal digits, so a question has at most ten options.
/// The bank loader must reject questions with more.
pub const MAX_OPTIONS: usize = 10;

/// The highest Leitner box; a question answered right often enough stays there.
pub const TOP_BOX: u8 = 4;

/// One question of a trainee's own draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    /// Index into the bank slice the draw was made from.
    pub question_index: usize,
    /// `option_order[i]` is the original option index shown at position `i` (letter A + i).
    pub option_order: Vec<u8>,
}

/// What a draw avoids besides repeating a question, as slices parallel to the bank.
#[derive(Debug, Clone, Copy)]
pub struct DrawLimits<'a> {
    /// `groups[i]` is the same-fact group of question `i` (see `questions::similarity`): a test
    /// holds at most one question of a group. Shorter than the bank: the rest are alone.
    pub groups: &'a [usize],
    /// `rounds_ago[i]` is how many of the trainee's rounds ago question `i` was last drawn for
    /// them (1 = their previous round), `None` when not recently. Shorter: the rest unseen.
    pub rounds_ago: &'a [Option<u32>],
}

impl DrawLimits<'_> {
    /// No groups, no history: every question stands alone and is unseen.
    pub const NONE: DrawLimits<'static> = DrawLimits {
        groups: &[],
        rounds_ago: &[],
    };

    fn group(&self, index: usize) -> Option<usize> {
        self.groups.get(index).copied()
    }

    /// Lower is drawn first: unseen questions, then those seen longest ago.
    fn freshness(&self, index: usize) -> u32 {
        match self.rounds_ago.get(index).copied().flatten() {
            None => 0,
            Some(ago) => u32::MAX - ago.min(u32::MAX - 1),
        }
    }
}

/// Draws `n` distinct questions (fewer if the bank is smaller), spread as evenly as possible over
/// the categories, in random order, each with its own option order.
///
/// Categories are visited round-robin in a shuffled order, so with 20 questions over 6
/// categories every category gets 3 or 4 and which ones get the extra question is random.
/// No two questions of one same-fact group are drawn, and a question the trainee saw recently
/// is drawn only once every fresher one has been: the round-robin first runs over the unseen
/// questions, then over those seen longest ago, and so on (`limits`).
pub fn draw(
    bank: &[Question],
    n: usize,
    limits: &DrawLimits<'_>,
    rng: &mut impl Rng,
) -> Vec<Drawn> {
    let mut by_category: Vec<(&str, Vec<usize>)> = Vec::new();
    for (index, question) in bank.iter().enumerate() {
        match by_category
            .iter_mut()
            .find(|(category, _)| *category == question.category)
        {
            Some((_, indices)) => indices.push(index),
            None => by_category.push((&question.category, vec![index])),
        }
    }
    for (_, indices) in &mut by_category {
        indices.shuffle(rng);
    }
    by_category.shuffle(rng);
    let mut tiers: Vec<u32> = (0..bank.len()).map(|i| limits.freshness(i)).collect();
    tiers.sort_unstable();
    tiers.dedup();

    let n = n.min(bank.len());
    let mut picked = Vec::with_capacity(n);
    let mut groups_taken = BTreeSet::new();
    for tier in tiers {
        // Within a tier the shuffled order stands; later tiers wait for this one to run out.
        let mut queues: Vec<std::collections::VecDeque<usize>> = by_category
            .iter()
            .map(|(_, indices)| {
                let in_tier = indices.iter().filter(|&&i| limits.freshness(i) == tier);
                in_tier.copied().collect()
            })
            .collect();
        while picked.len() < n && queues.iter().any(|q| !q.is_empty()) {
            for queue in &mut queues {
                if picked.len() == n {
                    break;
                }
                while let Some(index) = queue.pop_front() {
                    let fresh_group = limits.group(index).is_none_or(|g| groups_taken.insert(g));
                    if fresh_group {
                        picked.push(index);
                        break;
                    }
                }
            }
        }
    }
    picked.shuffle(rng);
    picked
        .into_iter()
        .map(|question_index| Drawn {
            question_index,
            option_order: shuffle_options(&bank[question_index], rng),
        })
        .collect()
}

/// The order to show a question's options in. 判断 keeps 对 before 错: shuffling two fixed
/// words only confuses.
pub fn shuffle_options(question: &Question, rng: &mut impl Rng) -> Vec<u8> {
    let count = question.options.len().min(MAX_OPTIONS) as u8;
    let mut order: Vec<u8> = (0..count).collect();
    if question.kind != QuestionKind::TrueFalse {
        order.shuffle(rng);
    }
    order
}

/// Whether `chosen` (original indices) is the right answer: exactly the set of correct options,
/// so a 多选 answer with one option missing or one too many is wrong.
pub fn is_correct(question: &Question, chosen: &[u8]) -> bool {
    let chosen: BTreeSet<u8> = chosen.iter().copied().collect();
    let answer: BTreeSet<u8> = question.answer.iter().copied().collect();
    !chosen.is_empty() && chosen == answer
}

/// The score out of 100, rounded half up (17 of 20 → 85, 1 of 8 → 13).
pub fn score(correct: u32, total: u32) -> u32 {
    if total == 0 {
        return 0;
    }
    let correct = u64::from(correct.min(total));
    let total = u64::from(total);
    ((correct * 200 + total) / (2 * total)) as u32
}

/// The pass mark is reached, not exceeded: 60 passes with a pass mark of 60.
pub fn passed(score: u32, pass_mark: u32) -> bool {
    score >= pass_mark
}

/// Toggles one option of a 多选 selection, keeping it sorted.
pub fn toggle(selection: &[u8], index: u8) -> Vec<u8> {
    let mut set: BTreeSet<u8> = selection.iter().copied().collect();
    if !set.remove(&index) {
        set.insert(index);
    }
    set.into_iter().collect()
}

/// Why a stored or submitted index string was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndexCodeError {
    #[error("option index {0} does not fit in one digit")]
    TooLarge(u8),
    #[error("{0:?} is not a digit")]
    NotADigit(char),
    #[error("option {0} appears twice")]
    Duplicate(u8),
    #[error("option {index} does not exist (the question has {count})")]
    OutOfRange { index: u8, count: usize },
    #[error("the option order does not list every option exactly once")]
    NotAPermutation,
}

/// Encodes option indices as the digit string stored in the database: `[2, 0, 3, 1]` → `"2031"`.
pub fn encode_indices(indices: &[u8]) -> Result<String, IndexCodeError> {
    indices
        .iter()
        .map(|&index| char::from_digit(u32::from(index), 10).ok_or(IndexCodeError::TooLarge(index)))
        .collect()
}

/// Decodes a selection (a set of original indices) for a question with `option_count` options.
/// Refuses anything but distinct in-range digits; the result is sorted. `""` is the empty set.
pub fn decode_indices(code: &str, option_count: usize) -> Result<Vec<u8>, IndexCodeError> {
    let mut seen = BTreeSet::new();
    for c in code.chars() {
        let index = c.to_digit(10).ok_or(IndexCodeError::NotADigit(c))? as u8;
        if usize::from(index) >= option_count {
            return Err(IndexCodeError::OutOfRange {
                index,
                count: option_count,
            });
        }
        if !seen.insert(index) {
            return Err(IndexCodeError::Duplicate(index));
        }
    }
    Ok(seen.into_iter().collect())
}

/// Decodes a stored option order, which must list every option of the question exactly once.
pub fn decode_option_order(code: &str, option_count: usize) -> Result<Vec<u8>, IndexCodeError> {
    let mut order = Vec::with_capacity(code.len());
    for c in code.chars() {
        let index = c.to_digit(10).ok_or(IndexCodeError::NotADigit(c))? as u8;
        if usize::from(index) >= option_count {
            return Err(IndexCodeError::OutOfRange {
                index,
                count: option_count,
            });
        }
        if order.contains(&index) {
            return Err(IndexCodeError::Duplicate(index));
        }
        order.push(index);
    }
    if order.len() != option_count {
        return Err(IndexCodeError::NotAPermutation);
    }
    Ok(order)
}

/// The Leitner step after a practice answer: a wrong answer sends the question back to box 0,
/// a right one moves it up a box.
pub fn next_box(box_: u8, correct: bool) -> u8 {
    if correct {
        box_.saturating_add(1).min(TOP_BOX)
    } else {
        0
    }
}

/// A question a trainee could practise, with what the trainee's Leitner record says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeCandidate {
    /// Index into the bank; returned by [`pick_practice`].
    pub question_index: usize,
    /// The Leitner box, `None` when the trainee has never practised this question.
    pub box_: Option<u8>,
    /// When the trainee last practised it (unix seconds); the latest one is "just shown".
    pub seen_at: Option<i64>,
}

/// How long a question rests in each box before it is due again (0, 1, 3, 7, 14 days).
const BOX_INTERVAL_SECONDS: [i64; 5] = [0, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400];

/// Picks the next practice question and returns its `question_index`.
///
/// A weighted draw rather than a strict queue, so practice never feels mechanical: box 0 (got it
/// wrong) and never-seen questions weigh 64, and each box up halves the weight; a question
/// whose rest interval has not passed yet weighs a quarter of that. The most recently seen
/// question is left out whenever anything else is available, so the same question is not asked
/// twice in a row.
pub fn pick_practice(
    candidates: &[PracticeCandidate],
    now: i64,
    rng: &mut impl Rng,
) -> Option<usize> {
    let latest = candidates.iter().filter_map(|c| c.seen_at).max();
    let fresh: Vec<&PracticeCandidate> = candidates
        .iter()
        .filter(|c| latest.is_none() || c.seen_at != latest)
        .collect();
    let pool: Vec<&PracticeCandidate> = if fresh.is_empty() {
        candidates.iter().collect()
    } else {
        fresh
    };
    pool.choose_weighted(rng, |c| practice_weight(c, now))
        .ok()
        .map(|c| c.question_index)
}

fn practice_weight(candidate: &PracticeCandidate, now: i64) -> u32 {
    let (Some(box_), Some(seen_at)) = (candidate.box_, candidate.seen_at) else {
        return 64;
    };
    let box_ = box_.min(TOP_BOX);
    let base = 16u32 >> box_;
    let due = now.saturating_sub(seen_at) >= BOX_INTERVAL_SECONDS[usize::from(box_)];
    if due {
        base * 4
    } else {
        base
    }
}

/// One inline button under a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionButton {
    /// The option this button answers with; what the callback data should carry.
    pub original_index: u8,
    /// Where the option is shown (0 → A).
    pub shown_position: u8,
    /// The button text: a letter, ✅ + letter for a selected 多选 option, 对/错 for 判断.
    pub label: String,
}

/// The option buttons of a question in the order shown; a 多选 question also needs a
/// [`t::SUBMIT`] button, which the keyboard builder adds.
pub fn option_buttons(
    question: &Question,
    option_order: &[u8],
    selection: &[u8],
) -> Vec<OptionButton> {
    shown_options(question, option_order)
        .map(|(shown_position, original_index, text)| {
            let letter = option_letter(shown_position).to_string();
            let label = match question.kind {
                QuestionKind::TrueFalse => text.to_owned(),
                QuestionKind::Single => letter,
                QuestionKind::Multiple if selection.contains(&original_index) => {
                    format!("{} {letter}", t::SELECTED_MARK)
                }
                QuestionKind::Multiple => letter,
            };
            OptionButton {
                original_index,
                shown_position,
                label,
            }
        })
        .collect()
}

/// The message for question `position` (0-based) of `total` in a test.
pub fn render_question(
    question: &Question,
    option_order: &[u8],
    position: usize,
    total: usize,
    selection: &[u8],
) -> String {
    let header = t::question_header(
        position + 1,
        total,
        question.kind.label(),
        &question.category,
    );
    render_with_header(&header, question, option_order, selection)
}

/// The message for a `/practice` question.
pub fn render_practice_question(
    question: &Question,
    option_order: &[u8],
    selection: &[u8],
) -> String {
    let header = t::practice_header(question.kind.label(), &question.category);
    render_with_header(&header, question, option_order, selection)
}

fn render_with_header(
    header: &str,
    question: &Question,
    option_order: &[u8],
    selection: &[u8],
) -> String {
    let mut out = format!("<b>{}</b>\n\n{}\n", escape(header), escape(&question.text));
    if question.kind != QuestionKind::TrueFalse {
        out.push('\n');
        for (shown, original, text) in shown_options(question, option_order) {
            let mark = if question.kind == QuestionKind::Multiple && selection.contains(&original) {
                t::SELECTED_MARK
            } else {
                ""
            };
            out.push_str(&format!(
                "{mark}<b>{}.</b> {}\n",
                option_letter(shown),
                escape(text)
            ));
        }
    }
    out.push('\n');
    match question.kind {
        QuestionKind::Single => out.push_str(&format!("<i>{}</i>", t::HINT_SINGLE)),
        QuestionKind::TrueFalse => out.push_str(&format!("<i>{}</i>", t::HINT_TRUE_FALSE)),
        QuestionKind::Multiple => {
            out.push_str(&format!("<i>{}</i>\n", t::HINT_MULTIPLE));
            let letters: Vec<String> = shown_options(question, option_order)
                .filter(|(_, original, _)| selection.contains(original))
                .map(|(shown, _, _)| option_letter(shown).to_string())
                .collect();
            if letters.is_empty() {
                out.push_str(t::NOTHING_SELECTED);
            } else {
                out.push_str(&t::selected(&letters.join(t::LIST_SEPARATOR)));
            }
        }
    }
    out
}

/// `(shown position, original index, option text)` for each valid entry of `option_order`;
/// entries that do not name an option of this question are skipped rather than trusted.
fn shown_options<'q>(
    question: &'q Question,
    option_order: &'q [u8],
) -> impl Iterator<Item = (u8, u8, &'q str)> + 'q {
    option_order
        .iter()
        .take(MAX_OPTIONS)
        .enumerate()
        .filter_map(|(shown, &original)| {
            question
                .options
                .get(usize::from(original))
                .map(|text| (shown as u8, original, text.as_str()))
        })
}

/// The options named by `indices`, as text: letters would mislead, because the trainee saw the
/// options in their own shuffled order.
fn answer_text(question: &Question, indices: &[u8]) -> String {
    let texts: Vec<String> = indices
        .iter()
        .filter_map(|&i| question.options.get(usize::from(i)))
        .map(|text| escape(text))
        .collect();
    if texts.is_empty() {
        t::NOT_ANSWERED.to_owned()
    } else {
        texts.join("；")
    }
}

/// The review of missed questions (`chosen` = original indices, empty when unanswered), split
/// into messages Telegram accepts.
pub fn render_review(missed: &[(&Question, &[u8])]) -> Vec<String> {
    split_message(&review_text(missed), TELEGRAM_TEXT_LIMIT)
}

fn review_text(missed: &[(&Question, &[u8])]) -> String {
    if missed.is_empty() {
        return t::NOTHING_MISSED.to_owned();
    }
    let mut out = format!("<b>{}</b>", escape(&t::review_heading(missed.len())));
    for (number, (question, chosen)) in missed.iter().enumerate() {
        out.push_str(&format!(
            "\n\n<b>{}</b>\n{}\n{}{}\n{}<b>{}</b>",
            escape(&t::review_item_header(
                number + 1,
                question.kind.label(),
                &question.category
            )),
            escape(&question.text),
            t::YOUR_ANSWER,
            answer_text(question, chosen),
            t::CORRECT_ANSWER,
            answer_text(question, &question.answer),
        ));
        if !question.explanation.trim().is_empty() {
            out.push_str(&format!(
                "\n{}{}",
                t::EXPLANATION,
                escape(&question.explanation)
            ));
        }
        if !question.source.trim().is_empty() {
            out.push_str(&format!("\n{}{}", t::SOURCE, escape(&question.source)));
        }
    }
    out
}

/// The result of a finished test, as the trainee sees it on the last screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestResult {
    pub correct: u32,
    pub total: u32,
    pub pass_mark: u32,
    /// The time limit ended the test; unanswered questions count as wrong.
    pub timed_out: bool,
}

impl TestResult {
    pub fn score(&self) -> u32 {
        score(self.correct, self.total)
    }

    pub fn passed(&self) -> bool {
        passed(self.score(), self.pass_mark)
    }
}

/// The score summary: score, questions right, pass mark, passed or not.
pub fn render_summary(result: &TestResult) -> String {
    let mut out = format!("<b>{}</b>\n", t::RESULT_TITLE);
    if result.timed_out {
        out.push_str(t::TIMED_OUT);
        out.push('\n');
    }
    out.push_str(&format!(
        "<b>{}</b>（{}）\n{}\n{}",
        t::score_line(result.score()),
        t::correct_line(result.correct, result.total),
        t::pass_mark_line(result.pass_mark),
        if result.passed() {
            t::PASSED
        } else {
            t::FAILED
        },
    ));
    out
}

/// The whole end-of-test output: the summary followed by the review, split into messages.
pub fn render_result(result: &TestResult, missed: &[(&Question, &[u8])]) -> Vec<String> {
    let text = format!("{}\n\n{}", render_summary(result), review_text(missed));
    split_message(&text, TELEGRAM_TEXT_LIMIT)
}

/// Splits HTML-mode text into messages of at most `limit` UTF-16 code units of visible text
/// (what Telegram counts: tags are not counted, an entity counts as the character it stands for).
///
/// Cuts prefer a blank line, then a line break, then a space or a Chinese full stop, in the
/// second half of the message; a cut never falls inside a tag, an entity or a surrogate pair.
/// Tags open at a cut are closed at the end of the message and reopened at the start of the
/// next, so every message is valid on its own. Blank messages are dropped, so an empty text
/// gives no messages at all.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let tokens = tokenize(text);
    let total: usize = tokens.iter().map(Token::units).sum();
    if total <= limit {
        return if has_visible_content(&tokens) {
            vec![text.to_owned()]
        } else {
            Vec::new()
        };
    }
    // A surrogate pair is two units and cannot be cut; a smaller limit could never progress.
    let limit = limit.max(2);
    let mut messages = Vec::new();
    let mut start = 0;
    let mut open_at_start: Vec<usize> = Vec::new();
    while start < tokens.len() {
        let mut units = 0;
        let mut end = start;
        let mut best: Option<(u8, usize)> = None;
        while end < tokens.len() {
            let token_units = tokens[end].units();
            if units > 0 && units + token_units > limit {
                break;
            }
            units += token_units;
            end += 1;
            if units >= limit / 2 {
                if let Some(priority) = break_priority(&tokens, end - 1) {
                    if best.is_none_or(|(p, _)| priority >= p) {
                        best = Some((priority, end));
                    }
                }
            }
        }
        let mut cut = if end == tokens.len() {
            end
        } else {
            best.map_or(end, |(_, position)| position)
        };
        // An opening tag right before the cut belongs with the text it opens.
        while cut > start + 1 && matches!(tokens[cut - 1].piece, Piece::Open(_)) {
            cut -= 1;
        }
        // Whitespace before the cut would only be trimmed by Telegram.
        let mut content_end = cut;
        while content_end > start && is_space(&tokens[content_end - 1]) {
            content_end -= 1;
        }
        let mut stack = open_at_start.clone();
        let mut message: String = open_at_start.iter().map(|&i| tokens[i].raw).collect();
        for (index, token) in tokens.iter().enumerate().take(content_end).skip(start) {
            message.push_str(token.raw);
            apply_tag(&tokens, &mut stack, index);
        }
        for &open in stack.iter().rev() {
            if let Piece::Open(name) = tokens[open].piece {
                message.push_str(&format!("</{name}>"));
            }
        }
        if has_visible_content(&tokens[start..cut]) {
            messages.push(message);
        }
        open_at_start = stack;
        start = cut;
        while start < tokens.len() && is_space(&tokens[start]) {
            start += 1;
        }
    }
    messages
}

#[derive(Debug, Clone, Copy)]
enum Piece<'a> {
    /// An opening tag and its lower-case name.
    Open(&'a str),
    /// A closing tag and its name.
    Close(&'a str),
    /// A tag that opens nothing (e.g. `<br/>`); takes no room.
    Other,
    /// Text: its UTF-16 length and, for a literal character, the character.
    Visible(usize, Option<char>),
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    raw: &'a str,
    piece: Piece<'a>,
}

impl Token<'_> {
    fn units(&self) -> usize {
        match self.piece {
            Piece::Visible(units, _) => units,
            _ => 0,
        }
    }
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c == '<' {
            rest.find('>').map(|end| end + 1)
        } else if c == '&' {
            entity_len(rest)
        } else {
            None
        };
        let token = match len {
            Some(len) if c == '<' => Token {
                raw: &rest[..len],
                piece: tag_piece(&rest[1..len - 1]),
            },
            Some(len) => Token {
                raw: &rest[..len],
                piece: Piece::Visible(entity_units(&rest[1..len - 1]), None),
            },
            None => Token {
                raw: &rest[..c.len_utf8()],
                piece: Piece::Visible(c.len_utf16(), Some(c)),
            },
        };
        rest = &rest[token.raw.len()..];
        tokens.push(token);
    }
    tokens
}

fn tag_piece(inner: &str) -> Piece<'_> {
    let (closing, body) = match inner.strip_prefix('/') {
        Some(body) => (true, body),
        None => (false, inner),
    };
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(body.len());
    let name = &body[..name_len];
    if name.is_empty() || inner.ends_with('/') {
        Piece::Other
    } else if closing {
        Piece::Close(name)
    } else {
        Piece::Open(name)
    }
}

/// The byte length of an entity such as `&amp;` or `&#128512;` at the start of `s`.
fn entity_len(s: &str) -> Option<usize> {
    let end = s.char_indices().take(33).find(|&(_, c)| c == ';')?.0;
    let body = &s[1..end];
    let valid = !body.is_empty() && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '#');
    valid.then_some(end + 1)
}

fn entity_units(body: &str) -> usize {
    let code = if let Some(hex) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if let Some(decimal) = body.strip_prefix('#') {
        decimal.parse().ok()
    } else {
        None
    };
    code.and_then(char::from_u32).map_or(1, char::len_utf16)
}

fn apply_tag(tokens: &[Token<'_>], stack: &mut Vec<usize>, index: usize) {
    match tokens[index].piece {
        Piece::Open(_) => stack.push(index),
        Piece::Close(name) => {
            let position = stack.iter().rposition(|&open| {
                matches!(tokens[open].piece, Piece::Open(n) if n.eq_ignore_ascii_case(name))
            });
            if let Some(position) = position {
                stack.remove(position);
            }
        }
        _ => {}
    }
}

/// How good a cut right after token `index` is: blank line 3, line break 2, space or sentence
/// end 1, `None` elsewhere.
fn break_priority(tokens: &[Token<'_>], index: usize) -> Option<u8> {
    let Piece::Visible(_, Some(c)) = tokens[index].piece else {
        return None;
    };
    match c {
        '\n' => {
            let previous_is_newline =
                index > 0 && matches!(tokens[index - 1].piece, Piece::Visible(_, Some('\n')));
            Some(if previous_is_newline { 3 } else { 2 })
        }
        ' ' | '。' | '；' | '！' | '？' => Some(1),
        _ => None,
    }
}

fn is_space(token: &Token<'_>) -> bool {
    matches!(token.piece, Piece::Visible(_, Some(c)) if c.is_whitespace())
}

fn has_visible_content(tokens: &[Token<'_>]) -> bool {
    tokens.iter().any(|token| match token.piece {
        Piece::Visible(_, Some(c)) => !c.is_whitespace(),
        Piece::Visible(_, None) => true,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::HashMap;

    fn question(id: &str, kind: QuestionKind, category: &str) -> Question {
        let (options, answer) = match kind {
            QuestionKind::Single => (vec!["甲", "乙", "丙", "丁"], vec![1]),
            QuestionKind::Multiple => (vec!["甲", "乙", "丙", "丁"], vec![0, 2]),
            QuestionKind::TrueFalse => (vec!["对", "错"], vec![1]),
        };
        Question {
            id: id.to_owned(),
            kind,
            category: category.to_owned(),
            text: format!("题目 {id}"),
            options: options.into_iter().map(str::to_owned).collect(),
            answer,
            explanation: "因为条例这样规定。".to_owned(),
            source: "支部条例 第十一条".to_owned(),
        }
    }

    fn bank(per_category: &[(&str, usize)]) -> Vec<Question> {
        let kinds = [
            QuestionKind::Single,
            QuestionKind::Multiple,
            QuestionKind::TrueFalse,
        ];
        let mut out = Vec::new();
        for (category, count) in per_category {
            for i in 0..*count {
                out.push(question(&format!("{category}-{i}"), kinds[i % 3], category));
            }
        }
        out
    }

    #[test]
    fn draw_spreads_over_categories_without_duplicates() {
        let bank = bank(&[
            ("换届", 30),
            ("组织生活", 30),
            ("发展党员", 30),
            ("党费", 2),
        ]);
        for seed in 0..50 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let drawn = draw(&bank, 20, &DrawLimits::NONE, &mut rng);
            assert_eq!(drawn.len(), 20);
            let unique: BTreeSet<usize> = drawn.iter().map(|d| d.question_index).collect();
            assert_eq!(unique.len(), 20);
            let mut per_category: HashMap<&str, usize> = HashMap::new();
            for d in &drawn {
                *per_category
                    .entry(&bank[d.question_index].category)
                    .or_default() += 1;
            }
            // 党费 has only 2; the other 18 go 6/6/6.
            assert_eq!(per_category["党费"], 2);
            for category in ["换届", "组织生活", "发展党员"] {
                assert_eq!(per_category[category], 6, "seed {seed}");
            }
        }
    }

    #[test]
    fn draw_uneven_split_differs_by_at_most_one() {
        let bank = bank(&[("a", 10), ("b", 10), ("c", 10)]);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let drawn = draw(&bank, 8, &DrawLimits::NONE, &mut rng);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for d in &drawn {
            *counts.entry(&bank[d.question_index].category).or_default() += 1;
        }
        let mut values: Vec<usize> = counts.values().copied().collect();
        values.sort_unstable();
        assert_eq!(values, vec![2, 3, 3]);
    }

    #[test]
    fn draw_is_capped_by_bank_size_and_handles_empty_bank() {
        let bank = bank(&[("a", 3), ("b", 2)]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(draw(&bank, 20, &DrawLimits::NONE, &mut rng).len(), 5);
        assert!(draw(&[], 20, &DrawLimits::NONE, &mut rng).is_empty());
        assert!(draw(&bank, 0, &DrawLimits::NONE, &mut rng).is_empty());
    }

    #[test]
    fn option_orders_are_permutations_and_true_false_is_not_shuffled() {
        let bank = bank(&[("a", 30)]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut shuffled_somewhere = false;
        for d in draw(&bank, 30, &DrawLimits::NONE, &mut rng) {
            let q = &bank[d.question_index];
            let mut sorted = d.option_order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..q.options.len() as u8).collect::<Vec<_>>());
            if q.kind == QuestionKind::TrueFalse {
                assert_eq!(d.option_order, vec![0, 1]);
            } else if d.option_order != sorted {
                shuffled_somewhere = true;
            }
        }
        assert!(shuffled_somewhere);
    }

    #[test]
    fn draws_differ_between_trainees() {
        let bank = bank(&[("a", 20), ("b", 20)]);
        let first = draw(
            &bank,
            10,
            &DrawLimits::NONE,
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        let second = draw(
            &bank,
            10,
            &DrawLimits::NONE,
            &mut ChaCha8Rng::seed_from_u64(2),
        );
        assert_ne!(first, second);
    }

    #[test]
    fn correctness_needs_exactly_the_answer_set() {
        let single = question("s", QuestionKind::Single, "a");
        assert!(is_correct(&single, &[1]));
        assert!(!is_correct(&single, &[0]));
        assert!(!is_correct(&single, &[]));
        assert!(!is_correct(&single, &[0, 1]));
        let multiple = question("m", QuestionKind::Multiple, "a");
        assert!(is_correct(&multiple, &[2, 0]));
        assert!(!is_correct(&multiple, &[0]));
        assert!(!is_correct(&multiple, &[0, 1, 2]));
        let tf = question("t", QuestionKind::TrueFalse, "a");
        assert!(is_correct(&tf, &[1]));
        assert!(!is_correct(&tf, &[0]));
    }

    #[test]
    fn score_rounds_half_up() {
        assert_eq!(score(17, 20), 85);
        assert_eq!(score(1, 8), 13); // 12.5
        assert_eq!(score(2, 3), 67); // 66.67
        assert_eq!(score(1, 3), 33); // 33.33
        assert_eq!(score(0, 20), 0);
        assert_eq!(score(20, 20), 100);
        assert_eq!(score(25, 20), 100);
        assert_eq!(score(0, 0), 0);
        assert!(passed(60, 60));
        assert!(!passed(59, 60));
    }

    #[test]
    fn indices_round_trip_and_junk_is_refused() {
        assert_eq!(encode_indices(&[2, 0, 3, 1]).as_deref(), Ok("2031"));
        assert_eq!(encode_indices(&[]).as_deref(), Ok(""));
        assert_eq!(encode_indices(&[10]), Err(IndexCodeError::TooLarge(10)));
        assert_eq!(decode_option_order("2031", 4), Ok(vec![2, 0, 3, 1]));
        assert_eq!(decode_indices("20", 4), Ok(vec![0, 2]));
        assert_eq!(decode_indices("", 4), Ok(vec![]));
        assert_eq!(decode_indices("2x", 4), Err(IndexCodeError::NotADigit('x')));
        assert_eq!(decode_indices("22", 4), Err(IndexCodeError::Duplicate(2)));
        assert_eq!(
            decode_indices("4", 4),
            Err(IndexCodeError::OutOfRange { index: 4, count: 4 })
        );
        assert_eq!(decode_indices("-1", 4), Err(IndexCodeError::NotADigit('-')));
        assert_eq!(
            decode_indices("１", 4),
            Err(IndexCodeError::NotADigit('１'))
        );
        assert_eq!(
            decode_option_order("203", 4),
            Err(IndexCodeError::NotAPermutation)
        );
        assert_eq!(
            decode_option_order("2001", 4),
            Err(IndexCodeError::Duplicate(0))
        );
    }

    #[test]
    fn toggling_adds_and_removes() {
        assert_eq!(toggle(&[], 2), vec![2]);
        assert_eq!(toggle(&[2], 0), vec![0, 2]);
        assert_eq!(toggle(&[0, 2], 2), vec![0]);
    }

    #[test]
    fn leitner_boxes() {
        assert_eq!(next_box(0, true), 1);
        assert_eq!(next_box(3, true), 4);
        assert_eq!(next_box(4, true), 4);
        assert_eq!(next_box(200, true), 4);
        assert_eq!(next_box(3, false), 0);
    }

    #[test]
    fn practice_favours_wrong_and_new_questions_and_avoids_repeats() {
        let now = 1_000_000_000;
        let candidates = vec![
            // Just answered right: must never come up while others exist.
            PracticeCandidate {
                question_index: 0,
                box_: Some(1),
                seen_at: Some(now - 10),
            },
            // Got it wrong yesterday.
            PracticeCandidate {
                question_index: 1,
                box_: Some(0),
                seen_at: Some(now - 86_400),
            },
            // Mastered and recently seen.
            PracticeCandidate {
                question_index: 2,
                box_: Some(4),
                seen_at: Some(now - 3_600),
            },
            // Never seen.
            PracticeCandidate {
                question_index: 3,
                box_: None,
                seen_at: None,
            },
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut counts = [0u32; 4];
        for _ in 0..3000 {
            let picked = pick_practice(&candidates, now, &mut rng).expect("a candidate");
            counts[picked] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!(counts[1] > 10 * counts[2], "{counts:?}");
        assert!(counts[3] > 10 * counts[2], "{counts:?}");
        assert!(counts[2] > 0, "{counts:?}");
    }

    #[test]
    fn practice_with_one_or_no_candidates() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(pick_practice(&[], 0, &mut rng), None);
        let only = [PracticeCandidate {
            question_index: 7,
            box_: Some(2),
            seen_at: Some(5),
        }];
        assert_eq!(pick_practice(&only, 10, &mut rng), Some(7));
    }

    #[test]
    fn question_message_escapes_and_shows_options_in_drawn_order() {
        let mut q = question("s", QuestionKind::Single, "换届<选举>");
        q.text = "<script>alert(1)</script> & 更多".to_owned();
        q.options[2] = "a<b".to_owned();
        let text = render_question(&q, &[2, 0, 3, 1], 2, 20, &[]);
        assert!(text.contains("第 3/20 题"));
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; 更多"));
        assert!(text.contains("换届&lt;选举&gt;"));
        assert!(!text.contains("<script>"));
        assert!(text.contains("<b>A.</b> a&lt;b\n<b>B.</b> 甲\n<b>C.</b> 丁\n<b>D.</b> 乙"));
        assert!(text.contains(t::HINT_SINGLE));
    }

    #[test]
    fn multiple_choice_shows_selection_in_text_and_buttons() {
        let q = question("m", QuestionKind::Multiple, "a");
        let order = [3, 2, 1, 0];
        let text = render_question(&q, &order, 0, 1, &[0, 2]);
        assert!(text.contains(&t::selected("B、D")));
        let buttons = option_buttons(&q, &order, &[0, 2]);
        let labels: Vec<&str> = buttons.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, vec!["A", "✅ B", "C", "✅ D"]);
        assert_eq!(buttons[1].original_index, 2);
        assert_eq!(buttons[1].shown_position, 1);
        let none = render_question(&q, &order, 0, 1, &[]);
        assert!(none.contains(t::NOTHING_SELECTED));
    }

    #[test]
    fn true_false_buttons_say_right_and_wrong() {
        let q = question("t", QuestionKind::TrueFalse, "a");
        let labels: Vec<String> = option_buttons(&q, &[0, 1], &[])
            .into_iter()
            .map(|b| b.label)
            .collect();
        assert_eq!(labels, vec!["对", "错"]);
        let text = render_practice_question(&q, &[0, 1], &[]);
        assert!(text.contains(t::HINT_TRUE_FALSE));
    }

    #[test]
    fn corrupt_option_order_is_skipped_not_trusted() {
        let q = question("s", QuestionKind::Single, "a");
        let buttons = option_buttons(&q, &[0, 9, 1], &[]);
        assert_eq!(buttons.len(), 2);
    }

    #[test]
    fn review_shows_answers_explanation_and_source() {
        let q = question("s", QuestionKind::Single, "a");
        let tf = question("t", QuestionKind::TrueFalse, "b");
        let messages = render_review(&[(&q, &[0]), (&tf, &[])]);
        assert_eq!(messages.len(), 1);
        let text = &messages[0];
        assert!(text.contains(&format!("{}甲", t::YOUR_ANSWER)));
        assert!(text.contains(&format!("{}<b>乙</b>", t::CORRECT_ANSWER)));
        assert!(text.contains(&format!("{}{}", t::YOUR_ANSWER, t::NOT_ANSWERED)));
        assert!(text.contains(&format!("{}<b>错</b>", t::CORRECT_ANSWER)));
        assert!(text.contains("支部条例 第十一条"));
        assert!(text.contains("因为条例这样规定。"));
        assert_eq!(render_review(&[]), vec![t::NOTHING_MISSED.to_owned()]);
    }

    #[test]
    fn long_review_is_split_into_valid_messages() {
        let mut q = question("s", QuestionKind::Single, "a");
        q.explanation = "解析很长，<需要转义>。".repeat(60);
        let chosen: &[u8] = &[0];
        let missed: Vec<(&Question, &[u8])> = (0..20).map(|_| (&q, chosen)).collect();
        let messages = render_review(&missed);
        assert!(messages.len() > 1);
        for message in &messages {
            assert!(visible_units(message) <= TELEGRAM_TEXT_LIMIT);
            assert!(tags_balanced(message), "{message}");
        }
    }

    #[test]
    fn summary_states_score_pass_mark_and_outcome() {
        let result = TestResult {
            correct: 11,
            total: 20,
            pass_mark: 60,
            timed_out: true,
        };
        let text = render_summary(&result);
        assert!(text.contains(&t::score_line(55)));
        assert!(text.contains(&t::pass_mark_line(60)));
        assert!(text.contains(t::FAILED));
        assert!(text.contains(t::TIMED_OUT));
        let passed = TestResult {
            correct: 12,
            ..result
        };
        assert!(render_summary(&passed).contains(t::PASSED));
        let all = render_result(&passed, &[]);
        assert_eq!(all.len(), 1);
        assert!(all[0].contains(t::NOTHING_MISSED));
    }

    #[test]
    fn split_keeps_short_text_and_drops_blank_text() {
        assert_eq!(split_message("你好", 10), vec!["你好".to_owned()]);
        assert!(split_message("", 10).is_empty());
        assert!(split_message(" \n ", 10).is_empty());
    }

    #[test]
    fn split_counts_utf16_units_and_entities() {
        // Each emoji is 2 units; 3 emoji = 6 units, limit 5 → two messages, never a half pair.
        let parts = split_message("😀😀😀", 5);
        assert_eq!(parts, vec!["😀😀".to_owned(), "😀".to_owned()]);
        // "&amp;" counts as one character, so this fits exactly.
        assert_eq!(split_message("a&amp;b", 3), vec!["a&amp;b".to_owned()]);
        // A cut never lands inside an entity.
        assert_eq!(
            split_message("ab&amp;cd", 3),
            vec!["ab&amp;".to_owned(), "cd".to_owned()]
        );
    }

    #[test]
    fn split_prefers_line_breaks_and_reopens_tags() {
        let text = "<b>第一段第一行\n第一段第二行</b>\n\n<i>第二段</i>";
        let parts = split_message(text, 14);
        assert_eq!(
            parts,
            vec![
                "<b>第一段第一行\n第一段第二行</b>".to_owned(),
                "<i>第二段</i>".to_owned()
            ]
        );
        let parts = split_message("<b>一二三四五六七八</b>", 4);
        assert_eq!(
            parts,
            vec!["<b>一二三四</b>".to_owned(), "<b>五六七八</b>".to_owned()]
        );
        let parts = split_message("<a href=\"https://t.me/x\">链接文字很长</a>", 3);
        assert_eq!(parts[1], "<a href=\"https://t.me/x\">字很长</a>");
    }

    /// Visible length as Telegram counts it, by an independent route: strip tags, decode
    /// the few entities teloxide's escape produces.
    fn visible_units(html: &str) -> usize {
        visible_text(html).encode_utf16().count()
    }

    fn visible_text(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                _ if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    fn tags_balanced(html: &str) -> bool {
        let mut stack = Vec::new();
        for token in tokenize(html) {
            match token.piece {
                Piece::Open(name) => stack.push(name),
                Piece::Close(name) => {
                    let innermost = stack.pop();
                    if innermost != Some(name) {
                        return false;
                    }
                }
                _ => {}
            }
        }
        stack.is_empty()
    }

    fn html_strategy() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("中".to_owned()),
            Just("a".to_owned()),
            Just("😀".to_owned()),
            Just("&amp;".to_owned()),
            Just("&lt;".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("。".to_owned()),
        ];
        let leaf = prop::collection::vec(atom, 0..30).prop_map(|v| v.concat());
        leaf.prop_recursive(3, 200, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..6).prop_map(|v| v.concat()),
                inner.clone().prop_map(|s| format!("<b>{s}</b>")),
                inner.prop_map(|s| format!("<a href=\"https://x.y/?a=1&amp;b=2\">{s}</a>")),
            ]
        })
    }

    proptest! {
        #[test]
        fn split_messages_fit_are_valid_and_lose_nothing(text in html_strategy(), limit in 2usize..40) {
            let parts = split_message(&text, limit);
            for part in &parts {
                prop_assert!(visible_units(part) <= limit, "{part:?} over {limit}");
                prop_assert!(tags_balanced(part), "{part:?}");
                prop_assert!(!part.trim().is_empty());
            }
            let strip = |s: &str| visible_text(s).chars().filter(|c| !c.is_whitespace()).collect::<String>();
            let joined: String = parts.iter().map(|p| strip(p)).collect();
            prop_assert_eq!(joined, strip(&text));
        }
    }

    #[test]
    fn a_draw_never_holds_two_questions_of_one_fact_group() {
        // Ten questions in five pairs of the same fact: a test of ten can only hold five.
        let bank = bank(&[("a", 5), ("b", 5)]);
        let groups: Vec<usize> = (0..10).map(|i| i % 5).collect();
        let limits = DrawLimits {
            groups: &groups,
            rounds_ago: &[],
        };
        for seed in 0..20 {
            let drawn = draw(&bank, 10, &limits, &mut ChaCha8Rng::seed_from_u64(seed));
            let taken: BTreeSet<usize> = drawn.iter().map(|d| groups[d.question_index]).collect();
            assert_eq!(taken.len(), drawn.len());
            assert_eq!(drawn.len(), 5);
        }
    }

    #[test]
    fn questions_of_the_previous_round_come_back_only_when_nothing_fresher_is_left() {
        let bank = bank(&[("a", 10), ("b", 10)]);
        // The previous round drew a-0..a-4 and b-0..b-4; two rounds ago a-5, b-5.
        let mut rounds_ago = vec![None; 20];
        for i in (0..5).chain(10..15) {
            rounds_ago[i] = Some(1);
        }
        rounds_ago[5] = Some(2);
        rounds_ago[15] = Some(2);
        let limits = DrawLimits {
            groups: &[],
            rounds_ago: &rounds_ago,
        };
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Eight unseen questions remain: a draw of eight takes exactly them.
            let drawn: BTreeSet<usize> = draw(&bank, 8, &limits, &mut rng)
                .iter()
                .map(|d| d.question_index)
                .collect();
            assert!(drawn.iter().all(|&i| rounds_ago[i].is_none()), "{drawn:?}");
            // A draw of ten adds the two seen longest ago, none of the previous round.
            let drawn: Vec<usize> = draw(&bank, 10, &limits, &mut rng)
                .iter()
                .map(|d| d.question_index)
                .collect();
            assert!(drawn.contains(&5) && drawn.contains(&15), "{drawn:?}");
            assert!(drawn.iter().all(|&i| rounds_ago[i] != Some(1)));
        }
    }

    #[test]
    fn without_limits_the_draw_is_the_same_as_with_empty_ones() {
        let bank = bank(&[("a", 7), ("b", 9)]);
        let groups: Vec<usize> = (0..bank.len()).collect();
        let unseen = vec![None; bank.len()];
        let limits = DrawLimits {
            groups: &groups,
            rounds_ago: &unseen,
        };
        let plain = draw(
            &bank,
            10,
            &DrawLimits::NONE,
            &mut ChaCha8Rng::seed_from_u64(9),
        );
        let limited = draw(&bank, 10, &limits, &mut ChaCha8Rng::seed_from_u64(9));
        assert_eq!(plain, limited);
    }

    proptest! {
        /// Whatever the groups and history: distinct questions, one per group, as many as the
        /// groups allow, and a seen question only once no fresher question of a new group is left.
        #[test]
        fn draws_respect_groups_and_freshness(
            sizes in proptest::collection::vec(0usize..8, 1..5),
            group_count in 1usize..30,
            ago in proptest::collection::vec(proptest::option::of(1u32..4), 0..40),
            n in 0usize..25,
            seed in 0u64..1000,
        ) {
            let names = ["a", "b", "c", "d"];
            let spec: Vec<(&str, usize)> = sizes.iter().enumerate().map(|(i, &c)| (names[i], c)).collect();
            let bank = bank(&spec);
            let groups: Vec<usize> = (0..bank.len()).map(|i| (i * 7) % group_count).collect();
            let limits = DrawLimits { groups: &groups, rounds_ago: &ago };
            let drawn = draw(&bank, n, &limits, &mut ChaCha8Rng::seed_from_u64(seed));
            let indices: Vec<usize> = drawn.iter().map(|d| d.question_index).collect();
            let unique: BTreeSet<usize> = indices.iter().copied().collect();
            prop_assert_eq!(unique.len(), indices.len());
            let taken: BTreeSet<usize> = indices.iter().map(|&i| groups[i]).collect();
            prop_assert_eq!(taken.len(), indices.len());
            let all_groups: BTreeSet<usize> = groups.iter().copied().collect();
            prop_assert_eq!(indices.len(), n.min(all_groups.len()));
            // Freshness: any question left out whose group is not taken is no fresher than
            // the stalest question drawn.
            let stalest = indices.iter().map(|&i| limits.freshness(i)).max();
            for i in (0..bank.len()).filter(|i| !unique.contains(i) && !taken.contains(&groups[*i])) {
                if let Some(stalest) = stalest {
                    prop_assert!(limits.freshness(i) >= stalest, "left out {} fresher", i);
                }
            }
        }
    }
}
