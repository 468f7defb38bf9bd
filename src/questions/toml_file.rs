//! The hand-edited bank format: `questions/*.toml`, each a list of `[[question]]` tables.
//!
//! The file is read into located strings first and judged by `validate` afterwards, so a
//! typo in one question does not hide the problems of the next one: an editor gets every
//! error of the bank in one run. Only a TOML syntax error stops a file early, because
//! nothing after it can be trusted.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::error::{BankError, BankFormat, ErrorKind};
use super::model::{option_letter, Question, QuestionKind};
use super::validate::{report_duplicate_ids, Checker, Field, Located, Placed, RawQuestion, Slot};
use crate::texts::questions as texts;

/// Parses and validates one TOML file; `file_name` is only used in the errors.
pub fn parse_toml(file_name: &str, content: &str) -> Result<Vec<Question>, Vec<BankError>> {
    let (placed, mut errors) = read_toml(file_name, content);
    report_duplicate_ids(&placed, &mut errors);
    finish(placed, errors)
}

/// Loads every `*.toml` of `dir` in name order as one bank; ids must be unique across files.
pub fn load_dir(dir: &Path) -> Result<Vec<Question>, Vec<BankError>> {
    let dir_label = dir.display().to_string();
    let dir_error = |kind, message| {
        Err(vec![BankError::new(
            &dir_label,
            0,
            BankFormat::Toml,
            kind,
            message,
        )])
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return dir_error(ErrorKind::Io, texts::dir_missing());
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return dir_error(ErrorKind::NoQuestions, texts::dir_has_no_toml());
    }

    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        let label = path.display().to_string();
        let file_error = |kind, message| BankError::new(&label, 0, BankFormat::Toml, kind, message);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) => {
                errors.push(file_error(
                    ErrorKind::Io,
                    texts::read_failed(&err.to_string()),
                ));
                continue;
            }
        };
        match String::from_utf8(bytes) {
            Ok(content) => sources.push((label, content)),
            Err(_) => errors.push(file_error(ErrorKind::NotUtf8, texts::not_utf8())),
        }
    }
    let sources: Vec<(&str, &str)> = sources
        .iter()
        .map(|(label, content)| (label.as_str(), content.as_str()))
        .collect();
    load_sources(&sources, errors)
}

/// Loads a bank from (file label, content) pairs, as if they were the files of a directory.
pub fn load_sources(
    sources: &[(&str, &str)],
    mut errors: Vec<BankError>,
) -> Result<Vec<Question>, Vec<BankError>> {
    let mut placed = Vec::new();
    for (label, content) in sources {
        let (file_placed, file_errors) = read_toml(label, content);
        placed.extend(file_placed);
        errors.extend(file_errors);
    }
    report_duplicate_ids(&placed, &mut errors);
    finish(placed, errors)
}

/// Writes questions back in the file format, e.g. to turn an uploaded Excel bank into
/// files that live in `questions/`. Parsing the result gives the same questions.
pub fn to_toml(questions: &[Question]) -> String {
    let mut out = String::new();
    for (n, question) in questions.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        out.push_str("[[question]]\n");
        push_entry(&mut out, "id", &quote(&question.id));
        push_entry(&mut out, "kind", &quote(question.kind.label()));
        push_entry(&mut out, "category", &quote(&question.category));
        push_entry(&mut out, "text", &quote(&question.text));
        let answer = if question.kind == QuestionKind::TrueFalse {
            let index = question.answer.first().copied().unwrap_or(0);
            question
                .options
                .get(usize::from(index))
                .cloned()
                .unwrap_or_else(|| "对".to_owned())
        } else {
            let options: Vec<String> = question.options.iter().map(|o| quote(o)).collect();
            push_entry(&mut out, "options", &format!("[{}]", options.join(", ")));
            question.answer.iter().map(|&i| option_letter(i)).collect()
        };
        push_entry(&mut out, "answer", &quote(&answer));
        push_entry(&mut out, "explanation", &quote(&question.explanation));
        push_entry(&mut out, "source", &quote(&question.source));
    }
    out
}

fn push_entry(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = ");
    out.push_str(value);
    out.push('\n');
}

/// A TOML string literal, escaped by the toml crate itself so any text survives.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// Errors sorted by place (files keep their name order) so a report reads top to bottom.
pub(crate) fn finish(
    placed: Vec<Placed>,
    mut errors: Vec<BankError>,
) -> Result<Vec<Question>, Vec<BankError>> {
    if errors.is_empty() {
        return Ok(placed.into_iter().map(|p| p.question).collect());
    }
    errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Err(errors)
}

/// A TOML value reduced to what the bank needs: texts, lists, and the name of anything else.
#[derive(Debug)]
enum Raw {
    Text(String),
    List(Vec<Spanned<Raw>>),
    Table,
    Other(&'static str),
}

impl Raw {
    fn type_name(&self) -> &'static str {
        match self {
            Raw::Text(_) => texts::TYPE_STRING,
            Raw::List(_) => texts::TYPE_ARRAY,
            Raw::Table => texts::TYPE_TABLE,
            Raw::Other(name) => name,
        }
    }
}

/// `toml::Value` cannot sit inside `Spanned` when a question has a dotted key
/// (`a.b = 1`), so values are read by hand and tables are only recognised, not kept.
impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

/// How toml passes a datetime through serde: as a one-entry map with this key.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_str<E>(self, value: &str) -> Result<Raw, E> {
        Ok(Raw::Text(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Raw, E> {
        Ok(Raw::Text(value))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Raw, E> {
        Ok(Raw::Other(texts::TYPE_INTEGER))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Raw, E> {
        Ok(Raw::Other(texts::TYPE_INTEGER))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Other(texts::TYPE_FLOAT))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::Other(texts::TYPE_BOOL))
    }

    fn visit_seq<A>(self, mut seq: A) -> Result<Raw, A::Error>
    where
        A: SeqAccess<'de>,
    {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::List(items))
    }

    fn visit_map<A>(self, mut map: A) -> Result<Raw, A::Error>
    where
        A: MapAccess<'de>,
    {
        let mut datetime = false;
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            datetime |= first && key == TOML_DATETIME_KEY;
            first = false;
            map.next_value::<IgnoredAny>()?;
        }
        Ok(if datetime {
            Raw::Other(texts::TYPE_DATETIME)
        } else {
            Raw::Table
        })
    }
}

type RawTable = BTreeMap<Spanned<String>, Raw>;

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    question: Vec<Spanned<RawTable>>,
}

/// Byte offsets → 1-based line numbers.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(content: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(content.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { starts }
    }

    fn of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// Reads one file into valid questions and errors, leaving duplicate ids to the caller
/// (which may be looking at several files).
pub(crate) fn read_toml(file_name: &str, content: &str) -> (Vec<Placed>, Vec<BankError>) {
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let lines = Lines::new(content);
    let mut errors = Vec::new();
    let mut checker = Checker {
        file: file_name,
        format: BankFormat::Toml,
        errors: &mut errors,
    };

    // First the shape of the file, which gives clear messages for `[question]`,
    // `[[questions]]` and the like before the questions themselves are read.
    let top: BTreeMap<Spanned<String>, Raw> = match toml::from_str(content) {
        Ok(top) => top,
        Err(err) => {
            push_syntax_error(&mut checker, &lines, &err);
            return (Vec::new(), errors);
        }
    };
    let mut keys: Vec<_> = top.iter().collect();
    keys.sort_by_key(|(key, _)| key.span().start);
    let mut has_questions = false;
    for (key, value) in keys {
        let line = lines.of(key.span().start);
        if key.get_ref() != "question" {
            checker.push(
                line,
                ErrorKind::Structure,
                texts::unknown_top_level_key(key.get_ref()),
            );
            continue;
        }
        let Raw::List(items) = value else {
            checker.push(
                line,
                ErrorKind::Structure,
                texts::question_not_array_of_tables(),
            );
            continue;
        };
        for item in items {
            if !matches!(item.get_ref(), Raw::Table) {
                let message = texts::question_item_not_table(item.get_ref().type_name());
                checker.push(lines.of(item.span().start), ErrorKind::Structure, message);
            }
        }
        has_questions = !items.is_empty();
    }
    if !checker.errors.is_empty() {
        return (Vec::new(), errors);
    }
    if !has_questions {
        checker.push(0, ErrorKind::NoQuestions, texts::no_questions_in_file());
        return (Vec::new(), errors);
    }

    let file: RawFile = match toml::from_str(content) {
        Ok(file) => file,
        Err(err) => {
            push_syntax_error(&mut checker, &lines, &err);
            return (Vec::new(), errors);
        }
    };
    let mut placed = Vec::new();
    for table in &file.question {
        let raw = raw_question(&mut checker, &lines, table);
        placed.extend(checker.question(&raw));
    }
    (placed, errors)
}

fn raw_question(
    checker: &mut Checker<'_>,
    lines: &Lines,
    table: &Spanned<RawTable>,
) -> RawQuestion {
    let mut raw = RawQuestion {
        line: lines.of(table.span().start),
        ..RawQuestion::default()
    };
    let mut entries: Vec<_> = table.get_ref().iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    for (key, value) in entries {
        let line = lines.of(key.span().start);
        let Some(field) = Field::from_key(key.get_ref()) else {
            let allowed: Vec<&str> = Field::ALL.iter().map(|f| f.key()).collect();
            let message = texts::unknown_field(key.get_ref(), &allowed.join(", "));
            checker.push(line, ErrorKind::UnknownField, message);
            continue;
        };
        if field == Field::Options {
            raw.options = options_slot(checker, lines, value, line);
            continue;
        }
        let slot = match value {
            Raw::Text(text) => Slot::Present(Located {
                value: text.clone(),
                line,
            }),
            other => {
                let message =
                    texts::wrong_type(&checker.label(field), texts::TYPE_STRING, other.type_name());
                checker.push(line, ErrorKind::WrongType, message);
                Slot::Invalid
            }
        };
        match field {
            Field::Id => raw.id = slot,
            Field::Kind => raw.kind = slot,
            Field::Category => raw.category = slot,
            Field::Text => raw.text = slot,
            Field::Answer => raw.answer = slot,
            Field::Explanation => raw.explanation = slot,
            Field::Source => raw.source = slot,
            Field::Options => {}
        }
    }
    raw
}

fn options_slot(
    checker: &mut Checker<'_>,
    lines: &Lines,
    value: &Raw,
    line: usize,
) -> Slot<Vec<Located>> {
    let label = checker.label(Field::Options);
    let Raw::List(items) = value else {
        let message = texts::wrong_type(&label, &texts::list_of_texts(), value.type_name());
        checker.push(line, ErrorKind::WrongType, message);
        return Slot::Invalid;
    };
    let mut options = Vec::with_capacity(items.len());
    let mut valid = true;
    for item in items {
        let item_line = lines.of(item.span().start);
        match item.get_ref() {
            Raw::Text(text) => options.push(Located {
                value: text.clone(),
                line: item_line,
            }),
            other => {
                let message = texts::wrong_type(&label, &texts::list_of_texts(), other.type_name());
                checker.push(item_line, ErrorKind::WrongType, message);
                valid = false;
            }
        }
    }
    if valid {
        Slot::Present(options)
    } else {
        Slot::Invalid
    }
}

fn push_syntax_error(checker: &mut Checker<'_>, lines: &Lines, err: &toml::de::Error) {
    let line = err.span().map_or(0, |span| lines.of(span.start));
    let detail = err.message();
    let message = match detail
        .strip_prefix("duplicate key `")
        .and_then(|rest| rest.split('`').next())
    {
        Some(key) => texts::toml_duplicate_key(key),
        None => texts::toml_syntax(detail.lines().next().unwrap_or(detail)),
    };
    checker.push(line, ErrorKind::Syntax, message);
}
