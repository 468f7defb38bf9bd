//! One problem found in a question bank, located so a person can go and fix it.

use std::fmt;

/// Which rule a bank broke.
///
/// Tests and callers match on this instead of on the Chinese sentence, so the wording in
/// `texts::questions` can change without breaking anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The directory or a file could not be read.
    Io,
    /// A `.toml` file is not valid UTF-8.
    NotUtf8,
    /// The TOML itself does not parse (unclosed quote, duplicate key, ...).
    Syntax,
    /// The file is valid TOML but not a list of `[[question]]` tables.
    Structure,
    /// A file, sheet or directory holds no question at all.
    NoQuestions,
    /// A key that the format does not know (a typo such as `answers`).
    UnknownField,
    /// A required key is absent.
    MissingField,
    /// A key holds a number, table, ... where text or a list of texts is expected.
    WrongType,
    /// A required text (or one option) is empty.
    EmptyField,
    /// A text exceeds its length limit.
    TooLong,
    /// The id has characters or a length that cannot be stored and quoted safely.
    BadId,
    /// The id is already used by another question in the bank.
    DuplicateId,
    /// `kind` is not 单选, 多选 or 判断.
    UnknownKind,
    /// A 单选/多选 question has fewer than 2 or more than 6 options.
    OptionCount,
    /// A 判断 question lists options (they are always 对/错).
    OptionsForTrueFalse,
    /// Two options of one question have the same text.
    DuplicateOption,
    /// The answer contains something that is not an option letter.
    BadAnswer,
    /// An answer letter points at no option (e.g. `E` with four options).
    AnswerNoSuchOption,
    /// An answer letter is given twice (e.g. `AA`).
    DuplicateAnswerLetter,
    /// 单选 with other than one letter, or 多选 with fewer than two.
    AnswerCount,
    /// The question, or its review with explanation, does not fit one Telegram message.
    MessageTooLong,
    /// `source` does not start with one of DOMAIN.md's short document names.
    UnknownSource,
    /// The Excel sheet cannot be opened.
    NotXlsx,
    /// A required Excel column is absent.
    MissingColumn,
    /// Two Excel columns carry the same header.
    DuplicateColumn,
    /// An Excel cell holds a date or a formula error where text is expected.
    BadCell,
    /// An uploaded file is neither `.toml` nor `.xlsx`.
    UnsupportedFile,
}

/// How a location is shown: TOML files by line, Excel sheets by row as Excel numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BankFormat {
    Toml,
    Xlsx,
}

/// A problem with its place: `line` is 1-based (the Excel row for sheets); 0 means the
/// whole file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankError {
    pub file: String,
    pub line: usize,
    pub kind: ErrorKind,
    /// Chinese, ready to show to the person who edits the bank.
    pub message: String,
    /// Decides whether `line` reads as a line (TOML) or as an Excel row (第N行).
    pub format: BankFormat,
}

impl BankError {
    pub(crate) fn new(
        file: &str,
        line: usize,
        format: BankFormat,
        kind: ErrorKind,
        message: String,
    ) -> Self {
        BankError {
            file: file.to_owned(),
            line,
            kind,
            message,
            format,
        }
    }

    /// The place alone (`a.toml:12`, `题库.xlsx:第5行`), used when one error points at another.
    pub fn place(&self) -> String {
        place(&self.file, self.line, self.format)
    }
}

pub(crate) fn place(file: &str, line: usize, format: BankFormat) -> String {
    match (line, format) {
        (0, _) => file.to_owned(),
        (_, BankFormat::Toml) => format!("{file}:{line}"),
        (_, BankFormat::Xlsx) => format!("{file}:第{line}行"),
    }
}

impl fmt::Display for BankError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place(), self.message)
    }
}

impl std::error::Error for BankError {}
