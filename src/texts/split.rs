//! Splitting long HTML messages under Telegram's limit without breaking tags or entities.

/// Telegram's limit on the text of one message, in UTF-16 code units after entity parsing.
pub const TELEGRAM_TEXT_LIMIT: usize = 4096;

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
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

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
    pub(crate) fn visible_units(html: &str) -> usize {
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

    pub(crate) fn tags_balanced(html: &str) -> bool {
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
}
