//! Telegram's text formatting, re-implemented so the fake API can hold the bot to the same
//! rules as the real server: what counts towards the 4096-character limit is the text after
//! markup is parsed (in UTF-16 code units), and malformed markup is refused with
//! "Bad Request: can't parse entities: ...". Error wording follows tdlib's parser where known.
//!
//! One deliberate difference: Telegram keeps a bare `&` that starts no entity as a literal
//! character, this parser refuses it, because in a bot that builds HTML it always means that
//! some user-supplied text was not escaped.

#![allow(dead_code)]

use serde_json::{json, Value};

/// One formatting entity of a parsed text, in Telegram's UTF-16 offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// Telegram's entity type name ("bold", "text_link", ...).
    pub kind: String,
    pub offset: usize,
    pub length: usize,
    /// Target of a `text_link`.
    pub url: Option<String>,
    /// Language of a `pre` block.
    pub language: Option<String>,
}

impl Entity {
    fn new(kind: &str, offset: usize, length: usize) -> Self {
        Self {
            kind: kind.to_owned(),
            offset,
            length,
            url: None,
            language: None,
        }
    }

    /// The entity as Telegram's MessageEntity JSON.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "type": self.kind, "offset": self.offset, "length": self.length });
        if let Some(url) = &self.url {
            v["url"] = json!(url);
        }
        if let Some(language) = &self.language {
            v["language"] = json!(language);
        }
        v
    }
}

/// A text as Telegram stores it after parsing: plain characters plus entities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub text: String,
    pub entities: Vec<Entity>,
}

impl Parsed {
    pub fn entities_json(&self) -> Value {
        Value::Array(self.entities.iter().map(Entity::to_json).collect())
    }
}

/// Length as Telegram counts it.
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Parses `text` in the given parse mode (`None` or an unknown mode: plain text).
///
/// The error is the complete Telegram description, starting with
/// "Bad Request: can't parse entities: ".
pub fn parse(text: &str, parse_mode: Option<&str>) -> Result<Parsed, String> {
    let parsed = match parse_mode {
        Some("HTML") => parse_html(text),
        Some("MarkdownV2") => parse_markdown_v2(text),
        Some("Markdown") => parse_markdown_legacy(text),
        _ => Ok(Parsed {
            text: text.to_owned(),
            entities: Vec::new(),
        }),
    };
    parsed
        .map(trim)
        .map_err(|e| format!("Bad Request: can't parse entities: {e}"))
}

/// Telegram strips leading and trailing whitespace from message texts and captions.
fn trim(parsed: Parsed) -> Parsed {
    let text = parsed.text.as_str();
    let start_trimmed = text.trim_start();
    let lead = utf16_len(&text[..text.len() - start_trimmed.len()]);
    let trimmed = start_trimmed.trim_end();
    let len = utf16_len(trimmed);
    let mut entities: Vec<Entity> = parsed
        .entities
        .into_iter()
        .filter_map(|mut e| {
            let start = e.offset.max(lead) - lead;
            let end = (e.offset + e.length).saturating_sub(lead).min(len);
            if end <= start {
                return None;
            }
            e.offset = start;
            e.length = end - start;
            Some(e)
        })
        .collect();
    entities.sort_by(|a, b| a.offset.cmp(&b.offset).then(b.length.cmp(&a.length)));
    Parsed {
        text: trimmed.to_owned(),
        entities,
    }
}

struct OpenTag {
    tag: String,
    kind: &'static str,
    start: usize,
    url: Option<String>,
    language: Option<String>,
}

/// Telegram's HTML: https://core.telegram.org/bots/api#html-style
pub fn parse_html(src: &str) -> Result<Parsed, String> {
    let bytes = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut pos16 = 0usize;
    let mut stack: Vec<OpenTag> = Vec::new();
    let mut entities = Vec::new();
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'&' => {
                let (ch, next) = decode_html_entity(src, i).ok_or_else(|| {
                    format!(
                        "Character '&' at byte offset {i} does not start an HTML entity; \
                         escape it as &amp; (Telegram would show it as is, the fake API \
                         refuses it because it means some text was not escaped)"
                    )
                })?;
                out.push(ch);
                pos16 += ch.len_utf16();
                i = next;
            }
            b'<' if bytes.get(i + 1) == Some(&b'/') => {
                let begin = i;
                let close = src[i..]
                    .find('>')
                    .ok_or_else(|| format!("Unclosed end tag at byte offset {begin}"))?
                    + i;
                let name = src[i + 2..close].trim().to_ascii_lowercase();
                let Some(open) = stack.pop() else {
                    return Err(format!("Unexpected end tag at byte offset {begin}"));
                };
                if open.tag != name {
                    return Err(format!(
                        "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \
                         \"</{name}>\"",
                        open.tag
                    ));
                }
                close_tag(open, pos16, &mut stack, &mut entities);
                i = close + 1;
            }
            b'<' => {
                let begin = i;
                let mut j = i + 1;
                while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                    j += 1;
                }
                if j >= bytes.len() {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                let tag = src[i + 1..j].to_ascii_lowercase();
                let kind = match tag.as_str() {
                    "b" | "strong" => "bold",
                    "i" | "em" => "italic",
                    "u" | "ins" => "underline",
                    "s" | "strike" | "del" => "strikethrough",
                    "span" | "tg-spoiler" => "spoiler",
                    "a" => "text_link",
                    "code" => "code",
                    "pre" => "pre",
                    "blockquote" => "blockquote",
                    _ => {
                        return Err(format!(
                            "Unsupported start tag \"{tag}\" at byte offset {begin}"
                        ))
                    }
                };
                let (attrs, next) = parse_attributes(src, j, &tag, begin)?;
                let attr = |name: &str| {
                    attrs
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                };
                let mut open = OpenTag {
                    tag: tag.clone(),
                    kind,
                    start: pos16,
                    url: None,
                    language: None,
                };
                match tag.as_str() {
                    "span" if attr("class").as_deref() != Some("tg-spoiler") => {
                        return Err(format!(
                            "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                        ));
                    }
                    "a" => open.url = attr("href").and_then(|h| normalize_url(&h)),
                    "code" => {
                        open.language = attr("class")
                            .and_then(|c| c.strip_prefix("language-").map(str::to_owned))
                    }
                    "blockquote" if attr("expandable").is_some() => {
                        open.kind = "expandable_blockquote"
                    }
                    _ => {}
                }
                stack.push(open);
                i = next;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or_default();
                out.push(ch);
                pos16 += ch.len_utf16();
                i += ch.len_utf8();
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            open.tag
        ));
    }
    Ok(Parsed {
        text: out,
        entities,
    })
}

fn close_tag(open: OpenTag, pos16: usize, stack: &mut [OpenTag], entities: &mut Vec<Entity>) {
    let length = pos16 - open.start;
    if open.tag == "code" {
        if let (Some(lang), Some(parent)) = (&open.language, stack.last_mut()) {
            if parent.tag == "pre" && parent.start == open.start {
                parent.language = Some(lang.clone());
                return;
            }
        }
    }
    if length == 0 || (open.kind == "text_link" && open.url.is_none()) {
        return;
    }
    let mut e = Entity::new(open.kind, open.start, length);
    if open.kind == "text_link" {
        e.url = open.url;
    }
    if open.kind == "pre" {
        e.language = open.language;
    }
    entities.push(e);
}

/// Telegram prepends `http://` to links without a scheme; links it cannot use are dropped.
fn normalize_url(href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.chars().any(char::is_whitespace) {
        return None;
    }
    match href.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && !rest.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            Some(href.to_owned())
        }
        Some(_) => None,
        None => Some(format!("http://{href}")),
    }
}

type Attributes = Vec<(String, String)>;

/// Parses the attributes of a start tag from `j` (just after the tag name) up to its `>`.
fn parse_attributes(
    src: &str,
    mut j: usize,
    tag: &str,
    begin: usize,
) -> Result<(Attributes, usize), String> {
    let bytes = src.as_bytes();
    let unclosed = || format!("Unclosed start tag at byte offset {begin}");
    let mut attrs = Vec::new();
    loop {
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        match bytes.get(j) {
            None => return Err(unclosed()),
            Some(b'>') => return Ok((attrs, j + 1)),
            _ => {}
        }
        let name_start = j;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-' || bytes[j] == b'_')
        {
            j += 1;
        }
        if j == name_start {
            return Err(format!(
                "Empty attribute name in the tag \"{tag}\" at byte offset {name_start}"
            ));
        }
        let name = src[name_start..j].to_ascii_lowercase();
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if bytes.get(j) != Some(&b'=') {
            attrs.push((name, String::new()));
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let value = match bytes.get(j) {
            None => return Err(unclosed()),
            Some(&q @ (b'"' | b'\'')) => {
                let end = src[j + 1..].find(q as char).ok_or_else(unclosed)? + j + 1;
                let raw = &src[j + 1..end];
                j = end + 1;
                decode_attribute(raw, name_start)?
            }
            Some(_) => {
                let start = j;
                while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                    j += 1;
                }
                decode_attribute(&src[start..j], start)?
            }
        };
        attrs.push((name, value));
    }
}

fn decode_attribute(raw: &str, at: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut i = 0;
    while i < raw.len() {
        if raw.as_bytes()[i] == b'&' {
            let (ch, next) = decode_html_entity(raw, i).ok_or_else(|| {
                format!(
                    "Character '&' in an attribute at byte offset {at} must be escaped as &amp;"
                )
            })?;
            out.push(ch);
            i = next;
        } else {
            let ch = raw[i..].chars().next().unwrap_or_default();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    Ok(out)
}

/// Decodes the entity starting with `&` at byte `i`; returns the character and the byte after
/// the `;`. Telegram supports only these named entities and numeric ones.
fn decode_html_entity(src: &str, i: usize) -> Option<(char, usize)> {
    let rest = &src[i + 1..];
    let semi = rest.char_indices().take(12).find(|&(_, c)| c == ';')?.0;
    let name = &rest[..semi];
    let ch = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code).filter(|&c| c != '\0')?
        }
    };
    Some((ch, i + 1 + semi + 1))
}

const MDV2_RESERVED: &str = "_*[]()~`>#+-=|{}.!";

fn mdv2_name(kind: &str) -> &'static str {
    match kind {
        "bold" => "Bold",
        "italic" => "Italic",
        "underline" => "Underline",
        "strikethrough" => "Strikethrough",
        "spoiler" => "Spoiler",
        "code" => "Code",
        "pre" => "Pre",
        _ => "TextUrl",
    }
}

/// Telegram's MarkdownV2: https://core.telegram.org/bots/api#markdownv2-style
pub fn parse_markdown_v2(src: &str) -> Result<Parsed, String> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut out = String::with_capacity(src.len());
    let mut pos16 = 0usize;
    // (kind, start offset in UTF-16, byte offset of the marker)
    let mut stack: Vec<(&'static str, usize, usize)> = Vec::new();
    let mut entities = Vec::new();
    let mut quote: Option<usize> = None;
    let mut k = 0usize;
    let push = |out: &mut String, pos16: &mut usize, c: char| {
        out.push(c);
        *pos16 += c.len_utf16();
    };
    while k < chars.len() {
        let (at, c) = chars[k];
        let next = chars.get(k + 1).map(|&(_, c)| c);
        let line_start = k == 0 || chars[k - 1].1 == '\n';
        if c == '\\' {
            match next {
                Some(n) if (n as u32) >= 1 && (n as u32) <= 126 => {
                    push(&mut out, &mut pos16, n);
                    k += 2;
                    continue;
                }
                _ => {
                    return Err(format!(
                        "Character '\\' at byte offset {at} must be followed by an ASCII \
                         character to escape"
                    ))
                }
            }
        }
        if c == '\n' {
            if let Some(start) = quote {
                let next_is_quote = next == Some('>');
                if !next_is_quote {
                    if pos16 > start {
                        entities.push(Entity::new("blockquote", start, pos16 - start));
                    }
                    quote = None;
                }
            }
            push(&mut out, &mut pos16, c);
            k += 1;
            continue;
        }
        if c == '>' && line_start {
            if quote.is_none() {
                quote = Some(pos16);
            }
            k += 1;
            continue;
        }
        if c == '`' {
            let fence = next == Some('`') && chars.get(k + 2).map(|&(_, c)| c) == Some('`');
            let (kind, skip) = if fence { ("pre", 3) } else { ("code", 1) };
            k += skip;
            let start = pos16;
            let mut language = None;
            if fence {
                let line_end = chars[k..].iter().position(|&(_, c)| c == '\n' || c == '`');
                if let Some(n) = line_end {
                    if chars[k + n].1 == '\n' {
                        let lang: String = chars[k..k + n].iter().map(|&(_, c)| c).collect();
                        if !lang.trim().is_empty() {
                            language = Some(lang.trim().to_owned());
                        }
                        k += n + 1;
                    }
                }
            }
            let mut closed = false;
            while k < chars.len() {
                let (_, c) = chars[k];
                if c == '\\' {
                    if let Some(&(_, n)) = chars.get(k + 1) {
                        push(&mut out, &mut pos16, n);
                        k += 2;
                        continue;
                    }
                }
                if c == '`' {
                    let end_fence = chars.get(k + 1).map(|&(_, c)| c) == Some('`')
                        && chars.get(k + 2).map(|&(_, c)| c) == Some('`');
                    if !fence || end_fence {
                        k += skip;
                        closed = true;
                        break;
                    }
                }
                push(&mut out, &mut pos16, c);
                k += 1;
            }
            if !closed {
                return Err(format!(
                    "Can't find end of {} entity at byte offset {at}",
                    mdv2_name(kind)
                ));
            }
            if pos16 > start {
                let mut e = Entity::new(kind, start, pos16 - start);
                e.language = language;
                entities.push(e);
            }
            continue;
        }
        let marker: Option<(&'static str, usize)> = match c {
            '*' => Some(("bold", 1)),
            '_' if next == Some('_') => Some(("underline", 2)),
            '_' => Some(("italic", 1)),
            '~' => Some(("strikethrough", 1)),
            '|' if next == Some('|') => Some(("spoiler", 2)),
            '[' => Some(("text_link", 1)),
            _ => None,
        };
        if let Some((kind, skip)) = marker {
            k += skip;
            if kind == "text_link" {
                stack.push((kind, pos16, at));
                continue;
            }
            match stack.last() {
                Some(&(top, start, _)) if top == kind => {
                    stack.pop();
                    if pos16 > start {
                        entities.push(Entity::new(kind, start, pos16 - start));
                    }
                }
                _ => {
                    if let Some(&(open, _, open_at)) = stack.iter().find(|(k2, _, _)| *k2 == kind) {
                        return Err(format!(
                            "Can't find end of {} entity at byte offset {open_at}",
                            mdv2_name(open)
                        ));
                    }
                    stack.push((kind, pos16, at));
                }
            }
            continue;
        }
        if c == ']' {
            if let Some(&("text_link", start, _)) = stack.last() {
                stack.pop();
                if next != Some('(') {
                    // A bracketed text without a URL is allowed and is just text.
                    k += 1;
                    continue;
                }
                k += 2;
                let mut url = String::new();
                let mut closed = false;
                while k < chars.len() {
                    let (_, c) = chars[k];
                    if c == '\\' {
                        if let Some(&(_, n)) = chars.get(k + 1) {
                            url.push(n);
                            k += 2;
                            continue;
                        }
                    }
                    k += 1;
                    if c == ')' {
                        closed = true;
                        break;
                    }
                    url.push(c);
                }
                if !closed {
                    return Err(format!("Can't find end of a URL at byte offset {at}"));
                }
                if let (true, Some(url)) = (pos16 > start, normalize_url(&url)) {
                    let mut e = Entity::new("text_link", start, pos16 - start);
                    e.url = Some(url);
                    entities.push(e);
                }
                continue;
            }
        }
        if MDV2_RESERVED.contains(c) {
            return Err(format!(
                "Character '{c}' is reserved and must be escaped with the preceding '\\'"
            ));
        }
        push(&mut out, &mut pos16, c);
        k += 1;
    }
    if let Some(&(kind, _, at)) = stack.last() {
        return Err(format!(
            "Can't find end of {} entity at byte offset {at}",
            mdv2_name(kind)
        ));
    }
    if let Some(start) = quote {
        if pos16 > start {
            entities.push(Entity::new("blockquote", start, pos16 - start));
        }
    }
    Ok(Parsed {
        text: out,
        entities,
    })
}

/// Telegram's legacy Markdown: https://core.telegram.org/bots/api#markdown-style
pub fn parse_markdown_legacy(src: &str) -> Result<Parsed, String> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut out = String::new();
    let mut pos16 = 0usize;
    let mut entities = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let (at, c) = chars[k];
        let next = chars.get(k + 1).map(|&(_, c)| c);
        if c == '\\' && matches!(next, Some('_' | '*' | '`' | '[')) {
            let n = next.unwrap_or_default();
            out.push(n);
            pos16 += 1;
            k += 2;
            continue;
        }
        let (kind, end_marker): (&str, &str) = match c {
            '*' => ("bold", "*"),
            '_' => ("italic", "_"),
            '`' if src[at..].starts_with("```") => ("pre", "```"),
            '`' => ("code", "`"),
            '[' => ("text_link", "]"),
            _ => {
                out.push(c);
                pos16 += c.len_utf16();
                k += 1;
                continue;
            }
        };
        let body_start = at + if kind == "pre" { 3 } else { 1 };
        let Some(rel) = src[body_start..].find(end_marker) else {
            return Err(format!(
                "Can't find end of the entity starting at byte offset {at}"
            ));
        };
        let body = &src[body_start..body_start + rel];
        let mut after = body_start + rel + end_marker.len();
        let start = pos16;
        out.push_str(body);
        pos16 += utf16_len(body);
        let mut e = Entity::new(kind, start, pos16 - start);
        if kind == "text_link" {
            let url_part = src[after..]
                .strip_prefix('(')
                .and_then(|r| r.find(')').map(|e| (r, e)));
            match url_part {
                Some((r, end)) => {
                    e.url = normalize_url(&r[..end]);
                    after += end + 2;
                }
                None => e.url = None,
            }
        }
        if e.length > 0 && (kind != "text_link" || e.url.is_some()) {
            entities.push(e);
        }
        while k < chars.len() && chars[k].0 < after {
            k += 1;
        }
    }
    Ok(Parsed {
        text: out,
        entities,
    })
}
