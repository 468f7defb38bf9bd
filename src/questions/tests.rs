//! The loaders against the fixture banks in `tests/fixtures/questions` and against banks
//! built here (long texts, Excel sheets). Assertions name the file, the line and the rule
//! broken, never the Chinese wording.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rust_xlsxwriter::{ExcelDateTime, Workbook};

use super::model::{Question, QuestionKind};
use super::*;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/questions")
        .join(path)
}

fn read_fixture(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn errors_of(path: &str) -> Vec<BankError> {
    match parse_toml(path, &read_fixture(path)) {
        Ok(questions) => panic!(
            "{path} should be refused, got {} questions",
            questions.len()
        ),
        Err(errors) => errors,
    }
}

/// (line, rule) of every error, in report order.
fn found(errors: &[BankError]) -> Vec<(usize, ErrorKind)> {
    errors.iter().map(|e| (e.line, e.kind)).collect()
}

/// A valid question with some fields replaced; `None` removes a field. Each field sits on a
/// known line: header 1, id 2, kind 3, category 4, text 5, options 6, answer 7,
/// explanation 8, source 9, extra keys after that.
fn toml_question(changes: &[(&str, Option<&str>)]) -> String {
    let mut fields = vec![
        ("id", "\"t-001\"".to_owned()),
        ("kind", "\"单选\"".to_owned()),
        ("category", "\"测试\"".to_owned()),
        ("text", "\"题干\"".to_owned()),
        ("options", "[\"甲\", \"乙\", \"丙\", \"丁\"]".to_owned()),
        ("answer", "\"A\"".to_owned()),
        ("explanation", "\"解析\"".to_owned()),
        ("source", "\"党章 第三十一条\"".to_owned()),
    ];
    for (key, value) in changes {
        match (fields.iter().position(|(k, _)| k == key), value) {
            (Some(i), Some(value)) => fields[i].1 = (*value).to_owned(),
            (Some(i), None) => fields[i].1 = String::new(),
            (None, Some(value)) => fields.push((key, (*value).to_owned())),
            (None, None) => {}
        }
    }
    let mut out = String::from("[[question]]\n");
    for (key, value) in fields {
        if value.is_empty() {
            // Keep the line numbers of the other fields.
            out.push_str("# removed\n");
        } else {
            out.push_str(&format!("{key} = {value}\n"));
        }
    }
    out
}

fn quoted(text: &str) -> String {
    format!("\"{text}\"")
}

fn options_of(texts: &[String]) -> String {
    let quoted: Vec<String> = texts.iter().map(|t| quoted(t)).collect();
    format!("[{}]", quoted.join(", "))
}

fn only_error(content: &str) -> (usize, ErrorKind) {
    match parse_toml("t.toml", content) {
        Ok(_) => panic!("should be refused:\n{content}"),
        Err(errors) => {
            assert_eq!(errors.len(), 1, "{errors:#?}");
            (errors[0].line, errors[0].kind)
        }
    }
}

// --- a good bank ---------------------------------------------------------------------

#[test]
fn good_bank_loads_with_normalised_answers_and_sources() {
    let questions = load_dir(&fixture("good")).unwrap_or_else(|errors| panic!("{errors:#?}"));
    let ids: Vec<&str> = questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(
        ids,
        ["hj-001", "hj-002", "hj-003", "zz-001", "zz-002", "zz-003"]
    );

    let by_id = |id: &str| {
        questions
            .iter()
            .find(|q| q.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}"))
    };
    let single = by_id("hj-001");
    assert_eq!(single.kind, QuestionKind::Single);
    assert_eq!(single.answer, [2]);
    assert_eq!(single.options.len(), 4);

    let multiple = by_id("hj-002");
    assert_eq!(multiple.kind, QuestionKind::Multiple);
    assert_eq!(multiple.answer, [0, 2, 3], "lower-case letters with spaces");
    assert!(
        multiple.text.starts_with("关于党支部选举"),
        "multi-line text is trimmed"
    );

    let true_false = by_id("hj-003");
    assert_eq!(true_false.options, ["对", "错"]);
    assert_eq!(true_false.answer, [0]);

    let full_width = by_id("zz-001");
    assert_eq!(full_width.answer, [1]);
    assert_eq!(
        full_width.source, "支部条例 第十二条",
        "full title becomes the short name"
    );

    assert_eq!(by_id("zz-002").answer, [0], "正确 means 对");

    let prefixed = by_id("zz-003");
    assert_eq!(
        prefixed.options[0], "党员一般按月交纳党费",
        "own letter prefix dropped"
    );
    assert_eq!(prefixed.answer, [0, 1, 2]);
}

/// The bank the bot ships with must always load, and survive being written back.
#[test]
fn the_shipped_bank_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("questions");
    let questions = load_dir(&dir).unwrap_or_else(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("{}", lines.join("\n"))
    });
    assert_eq!(
        parse_toml("shipped.toml", &to_toml(&questions)),
        Ok(questions)
    );
}

#[test]
fn summary_counts_by_kind_and_category() {
    let questions = load_dir(&fixture("good")).unwrap_or_else(|errors| panic!("{errors:#?}"));
    let summary = summarize(&questions);
    assert_eq!(summary.total, 6);
    assert_eq!(
        summary.by_kind,
        [
            (QuestionKind::Single, 2),
            (QuestionKind::Multiple, 2),
            (QuestionKind::TrueFalse, 2)
        ]
    );
    assert_eq!(
        summary.by_category,
        [
            ("换届选举".to_owned(), 3),
            ("组织生活".to_owned(), 2),
            ("党费".to_owned(), 1)
        ]
    );
    let text = render_summary(&summary);
    assert!(text.contains("换届选举") && text.contains('6'));
}

#[test]
fn check_dir_report_passes_a_good_bank_and_lists_every_error_of_a_bad_one() {
    let (ok, text) = check_dir_report(&fixture("good"));
    assert!(ok, "{text}");

    let (ok, text) = check_dir_report(&fixture("broken"));
    assert!(!ok);
    let errors = load_dir(&fixture("broken")).err().unwrap_or_default();
    assert!(!errors.is_empty());
    for error in &errors {
        assert!(
            text.contains(&error.to_string()),
            "missing from the report: {error}"
        );
    }
}

#[test]
fn check_dir_report_also_checks_one_toml_or_excel_file() {
    let (ok, text) = check_dir_report(&fixture("good/01-huanjie.toml"));
    assert!(ok, "{text}");
    let (ok, text) = check_dir_report(&fixture("broken/syntax.toml"));
    assert!(!ok && text.contains("syntax.toml:"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("题库.xlsx");
    let mut book = Workbook::new();
    let page = book.add_worksheet();
    let header = [
        "题号", "题型", "分类", "题干", "选项A", "选项B", "答案", "解析", "出处",
    ];
    let row = [
        "x-1", "单选", "党费", "题干", "甲", "乙", "A", "解析", "党章",
    ];
    for (col, (name, cell)) in header.iter().zip(row).enumerate() {
        page.write_string(0, col as u16, *name).unwrap();
        page.write_string(1, col as u16, cell).unwrap();
    }
    book.save(&sheet).unwrap();
    let (ok, text) = check_dir_report(&sheet);
    assert!(ok && text.contains("题库共 1 题"), "{text}");

    let other = dir.path().join("题库.docx");
    std::fs::write(&other, "x").unwrap();
    let (ok, text) = check_dir_report(&other);
    assert!(!ok && text.contains(".toml"), "{text}");
}

// --- the TOML file as a whole --------------------------------------------------------

#[test]
fn syntax_error_names_its_line() {
    let errors = errors_of("broken/syntax.toml");
    assert_eq!(found(&errors), [(6, ErrorKind::Syntax)]);
    assert_eq!(errors[0].file, "broken/syntax.toml");
}

#[test]
fn duplicate_key_is_a_syntax_error_on_the_second_key() {
    assert_eq!(
        found(&errors_of("broken/duplicate_key.toml")),
        [(8, ErrorKind::Syntax)]
    );
}

#[test]
fn wrong_shapes_are_reported_where_they_start() {
    assert_eq!(
        found(&errors_of("broken/structure.toml")),
        [(2, ErrorKind::Structure), (5, ErrorKind::Structure)]
    );
    assert_eq!(
        found(&errors_of("broken/structure_items.toml")),
        [(1, ErrorKind::Structure), (1, ErrorKind::Structure)]
    );
}

#[test]
fn a_file_without_questions_is_an_error() {
    assert_eq!(
        found(&errors_of("broken/empty.toml")),
        [(0, ErrorKind::NoQuestions)]
    );
    assert_eq!(only_error("question = []\n"), (0, ErrorKind::NoQuestions));
}

#[test]
fn missing_and_empty_directories_are_errors() {
    let missing = fixture("no-such-dir");
    let errors = load_dir(&missing).err().unwrap_or_default();
    assert_eq!(found(&errors), [(0, ErrorKind::Io)]);
    assert_eq!(errors[0].file, missing.display().to_string());

    let empty = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    std::fs::write(empty.path().join("README.md"), "不是题目")
        .unwrap_or_else(|err| panic!("{err}"));
    let errors = load_dir(empty.path()).err().unwrap_or_default();
    assert_eq!(found(&errors), [(0, ErrorKind::NoQuestions)]);
}

#[test]
fn a_file_that_is_not_utf8_is_named() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let path = dir.path().join("gbk.toml");
    // "题目" in GBK, as a Windows editor might save it.
    std::fs::write(&path, [0xCC, 0xE2, 0xC4, 0xBF]).unwrap_or_else(|err| panic!("{err}"));
    let errors = load_dir(dir.path()).err().unwrap_or_default();
    assert_eq!(found(&errors), [(0, ErrorKind::NotUtf8)]);
    assert_eq!(errors[0].file, path.display().to_string());
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let content = format!("\u{feff}{}", toml_question(&[]));
    assert!(parse_toml("bom.toml", &content).is_ok());
}

// --- fields ------------------------------------------------------------------------------

#[test]
fn field_errors_are_all_reported_with_their_lines() {
    assert_eq!(
        found(&errors_of("broken/fields.toml")),
        [
            (3, ErrorKind::MissingField),   // fd-001 has no answer …
            (9, ErrorKind::UnknownField),   // … because it is spelt `answers`
            (13, ErrorKind::MissingField),  // fd-002 has no source
            (22, ErrorKind::WrongType),     // id = 3
            (27, ErrorKind::WrongType),     // an option that is a number
            (35, ErrorKind::EmptyField),    // category
            (36, ErrorKind::EmptyField),    // text
            (38, ErrorKind::EmptyField),    // explanation of spaces only
            (42, ErrorKind::BadId),         // "fd 005"
            (43, ErrorKind::UnknownKind),   // 填空
            (49, ErrorKind::UnknownSource), // 百度百科
        ]
    );
}

#[test]
fn every_field_is_required() {
    let lines = [
        ("id", 1),
        ("kind", 1),
        ("category", 1),
        ("text", 1),
        ("options", 1),
        ("answer", 1),
        ("explanation", 1),
        ("source", 1),
    ];
    for (key, line) in lines {
        let content = toml_question(&[(key, None)]);
        assert_eq!(
            only_error(&content),
            (line, ErrorKind::MissingField),
            "{key}"
        );
    }
}

#[test]
fn length_limits_are_enforced_where_the_text_is() {
    let long = |n: usize| quoted(&"字".repeat(n));
    let cases = [
        ("text", MAX_TEXT_CHARS, 5),
        ("explanation", MAX_EXPLANATION_CHARS, 8),
        ("category", MAX_CATEGORY_CHARS, 4),
    ];
    for (key, max, line) in cases {
        assert!(
            parse_toml("t.toml", &toml_question(&[(key, Some(&long(max)))])).is_ok(),
            "{key} at the limit"
        );
        let content = toml_question(&[(key, Some(&long(max + 1)))]);
        assert_eq!(only_error(&content), (line, ErrorKind::TooLong), "{key}");
    }

    let source = quoted(&format!("党章{}", "字".repeat(MAX_SOURCE_CHARS - 1)));
    assert_eq!(
        only_error(&toml_question(&[("source", Some(&source))])),
        (9, ErrorKind::TooLong)
    );

    let options = vec!["甲".to_owned(), "字".repeat(MAX_OPTION_CHARS + 1)];
    assert_eq!(
        only_error(&toml_question(&[("options", Some(&options_of(&options)))])),
        (6, ErrorKind::TooLong)
    );

    let id = quoted(&"a".repeat(MAX_ID_CHARS + 1));
    assert_eq!(
        only_error(&toml_question(&[("id", Some(&id))])),
        (2, ErrorKind::BadId)
    );
}

#[test]
fn a_question_must_fit_one_telegram_message() {
    // Characters outside the BMP count twice in Telegram's limit, so texts within the
    // character limits can still overflow the message.
    let wide = |n: usize| "𠀀".repeat(n);
    let options: Vec<String> = (0..MAX_OPTIONS)
        .map(|i| format!("{i}{}", wide(MAX_OPTION_CHARS - 1)))
        .collect();
    let content = toml_question(&[
        ("text", Some(&quoted(&wide(MAX_TEXT_CHARS)))),
        ("options", Some(&options_of(&options))),
    ]);
    assert_eq!(only_error(&content), (5, ErrorKind::MessageTooLong));
}

#[test]
fn the_review_of_a_question_must_fit_one_telegram_message() {
    let options: Vec<String> = (0..MAX_OPTIONS)
        .map(|i| format!("{i}{}", "字".repeat(MAX_OPTION_CHARS - 1)))
        .collect();
    let content = toml_question(&[
        ("text", Some(&quoted(&"字".repeat(MAX_TEXT_CHARS)))),
        ("options", Some(&options_of(&options))),
        (
            "explanation",
            Some(&quoted(&"字".repeat(MAX_EXPLANATION_CHARS))),
        ),
    ]);
    assert_eq!(only_error(&content), (8, ErrorKind::MessageTooLong));
}

#[test]
fn types_other_than_text_are_refused() {
    assert_eq!(
        only_error(&toml_question(&[("kind", Some("1"))])),
        (3, ErrorKind::WrongType)
    );
    assert_eq!(
        only_error(&toml_question(&[("answer", Some("[\"A\"]"))])),
        (7, ErrorKind::WrongType)
    );
    assert_eq!(
        only_error(&toml_question(&[("options", Some("\"甲乙\""))])),
        (6, ErrorKind::WrongType)
    );
    assert_eq!(
        only_error(&toml_question(&[("text", Some("1979-05-27"))])),
        (5, ErrorKind::WrongType)
    );
    assert_eq!(
        only_error(&toml_question(&[("source", Some("{ a = 1 }"))])),
        (9, ErrorKind::WrongType)
    );
    assert_eq!(
        only_error(&toml_question(&[("note.x", Some("1"))])),
        (10, ErrorKind::UnknownField)
    );
}

// --- options and answers -----------------------------------------------------------

#[test]
fn very_many_options_are_counted_not_crashed_on() {
    let options: Vec<String> = (0..40).map(|i| format!("选项{i}")).collect();
    let content = toml_question(&[("options", Some(&options_of(&options)))]);
    assert_eq!(only_error(&content), (6, ErrorKind::OptionCount));
}

#[test]
fn option_errors_are_all_reported_with_their_lines() {
    assert_eq!(
        found(&errors_of("broken/options.toml")),
        [
            (8, ErrorKind::OptionCount),          // one option
            (18, ErrorKind::OptionCount),         // seven options
            (28, ErrorKind::OptionsForTrueFalse), // 判断 with options
            (41, ErrorKind::DuplicateOption),     // the third repeats the first
            (52, ErrorKind::EmptyField),          // an empty option B
        ]
    );
}

#[test]
fn answer_errors_are_all_reported_with_their_lines() {
    assert_eq!(
        found(&errors_of("broken/answers.toml")),
        [
            (9, ErrorKind::AnswerNoSuchOption),     // E with four options
            (19, ErrorKind::DuplicateAnswerLetter), // AA …
            (19, ErrorKind::AnswerCount),           // … which is one answer for a 多选
            (29, ErrorKind::AnswerCount),           // 多选 with one letter
            (39, ErrorKind::AnswerCount),           // 单选 with two letters
            (48, ErrorKind::BadAnswer),             // 判断 answered with a letter
            (58, ErrorKind::BadAnswer),             // not letters at all
        ]
    );
}

#[test]
fn answers_are_normalised_to_sorted_indices() {
    let cases = [
        ("\"dB\"", vec![1, 3]),
        ("\"Ｃ，ａ\"", vec![0, 2]),
        ("\"B A\"", vec![0, 1]),
    ];
    for (answer, expected) in cases {
        let content = toml_question(&[("kind", Some("\"多选\"")), ("answer", Some(answer))]);
        let questions =
            parse_toml("t.toml", &content).unwrap_or_else(|errors| panic!("{answer}: {errors:#?}"));
        assert_eq!(questions[0].answer, expected, "{answer}");
    }
    let content = toml_question(&[
        ("kind", Some("\"判断\"")),
        ("options", None),
        ("answer", Some("\"错\"")),
    ]);
    let questions = parse_toml("t.toml", &content).unwrap_or_else(|errors| panic!("{errors:#?}"));
    assert_eq!(
        (questions[0].options.len(), questions[0].answer.clone()),
        (2, vec![1])
    );
}

// --- ids ------------------------------------------------------------------------------

#[test]
fn duplicate_ids_across_files_name_both_places() {
    let errors = load_dir(&fixture("dup_ids")).err().unwrap_or_default();
    let b = fixture("dup_ids/b.toml").display().to_string();
    let a = fixture("dup_ids/a.toml").display().to_string();
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.file.as_str(), e.line, e.kind))
            .collect::<Vec<_>>(),
        [
            (b.as_str(), 11, ErrorKind::DuplicateId),
            (b.as_str(), 20, ErrorKind::DuplicateId)
        ]
    );
    assert!(
        errors[0].message.contains(&format!("{a}:2")),
        "points at the first use"
    );
    assert!(
        errors[1].message.contains(&format!("{b}:2")),
        "points at the first use"
    );
}

#[test]
fn duplicate_ids_within_one_file_are_found_by_parse_toml() {
    let content = format!("{}\n{}", toml_question(&[]), toml_question(&[]));
    assert_eq!(only_error(&content), (12, ErrorKind::DuplicateId));
}

// --- Display and chat replies --------------------------------------------------------

#[test]
fn errors_display_as_file_line_message() {
    let errors = errors_of("broken/syntax.toml");
    assert!(errors[0].to_string().starts_with("broken/syntax.toml:6: "));
    let sheet = BankError {
        file: "题库.xlsx".to_owned(),
        line: 5,
        kind: ErrorKind::EmptyField,
        message: "说明".to_owned(),
        format: BankFormat::Xlsx,
    };
    assert_eq!(sheet.to_string(), "题库.xlsx:第5行: 说明");
}

#[test]
fn a_long_error_list_is_cut_to_fit_one_message() {
    let content: String = (0..100)
        .map(|i| {
            toml_question(&[
                ("id", Some(&quoted(&format!("q-{i}")))),
                ("answer", Some("\"Z\"")),
            ])
        })
        .collect::<Vec<_>>()
        .join("\n");
    let errors = parse_toml("很长的文件名.toml", &content)
        .err()
        .unwrap_or_default();
    assert_eq!(errors.len(), 100);
    let reply = render_errors(&errors);
    assert!(reply.encode_utf16().count() <= TELEGRAM_MESSAGE_LIMIT);
    assert!(reply.contains(&errors[0].to_string()));
    assert!(!reply.contains(&errors[MAX_ERRORS_SHOWN].to_string()));
    assert!(reply.contains(&(100 - MAX_ERRORS_SHOWN).to_string()));

    let upload = render_upload_result(&Err(errors));
    assert!(upload.encode_utf16().count() <= TELEGRAM_MESSAGE_LIMIT);
}

#[test]
fn uploads_are_dispatched_by_extension() {
    let content = toml_question(&[]);
    assert!(parse_upload("bank.TOML", content.as_bytes()).is_ok());
    let errors = parse_upload("bank.docx", b"PK").err().unwrap_or_default();
    assert_eq!(found(&errors), [(0, ErrorKind::UnsupportedFile)]);
    let errors = parse_upload("bank.xlsx", b"not a zip")
        .err()
        .unwrap_or_default();
    assert_eq!(found(&errors), [(0, ErrorKind::NotXlsx)]);
}

#[test]
fn the_example_in_format_md_is_a_valid_bank() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("questions/FORMAT.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{err}"));
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("no toml example in FORMAT.md"));
    let questions = parse_toml("FORMAT.md", example).unwrap_or_else(|errors| panic!("{errors:#?}"));
    assert_eq!(questions.len(), 3);
}

// --- round trip ------------------------------------------------------------------------

#[test]
fn the_good_bank_survives_a_round_trip() {
    let questions = load_dir(&fixture("good")).unwrap_or_else(|errors| panic!("{errors:#?}"));
    let written = to_toml(&questions);
    assert_eq!(parse_toml("written.toml", &written), Ok(questions));
}

fn question_with(text: String, options: Vec<String>, explanation: String) -> Question {
    Question {
        id: "rt-1".to_owned(),
        kind: QuestionKind::Multiple,
        category: "测试".to_owned(),
        text,
        options,
        answer: vec![0, 1],
        explanation,
        source: "党章 第三十一条".to_owned(),
    }
}

proptest! {
    #[test]
    fn any_valid_text_survives_a_round_trip(
        text in "[题a-z\"'\\\\\n\t #=\\[\\]{}，。“”𠀀]{0,40}",
        option in "[选a-z\"'\\\\\n\t #=，。]{0,20}",
        explanation in "[解'\"\\\\\n]{0,20}'''",
    ) {
        // Wrapped in fixed characters so trimming and letter prefixes do not apply.
        let question = question_with(
            format!("问{text}？"),
            vec![format!("甲{option}。"), format!("乙{option}。")],
            format!("因{explanation}。"),
        );
        let written = to_toml(std::slice::from_ref(&question));
        prop_assert_eq!(parse_toml("rt.toml", &written), Ok(vec![question]));
    }
}

proptest! {
    #[test]
    fn no_input_makes_the_loaders_panic(
        raw in ".{0,200}",
        id in ".{0,40}",
        kind in prop::sample::select(vec!["单选", "多选", "判断", "x"]),
        options in prop::collection::vec(".{0,10}", 0..8),
        answer in ".{0,6}",
        source in ".{0,20}",
    ) {
        let _ = parse_toml("fuzz.toml", &raw);
        let _ = parse_xlsx("fuzz.xlsx", raw.as_bytes());
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let listed: Vec<String> = options.iter().map(|o| quote(o)).collect();
        let content = toml_question(&[
            ("id", Some(&quote(&id))),
            ("kind", Some(&quote(kind))),
            ("options", Some(&format!("[{}]", listed.join(", ")))),
            ("answer", Some(&quote(&answer))),
            ("source", Some(&quote(&source))),
        ]);
        if let Err(errors) = parse_toml("fuzz.toml", &content) {
            prop_assert!(errors.iter().all(|e| e.line <= 10));
            let _ = render_errors(&errors);
        }
    }
}

// --- Excel ------------------------------------------------------------------------------

const HEADER: [&str; 13] = [
    "题号", "题型", "分类", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "答案",
    "解析", "出处",
];

/// Builds an .xlsx with the given rows of text cells, starting at the first row.
fn sheet(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                let (r, c) = (u32::try_from(r).unwrap_or(0), u16::try_from(c).unwrap_or(0));
                worksheet
                    .write_string(r, c, *cell)
                    .unwrap_or_else(|err| panic!("{err}"));
            }
        }
    }
    workbook
        .save_to_buffer()
        .unwrap_or_else(|err| panic!("{err}"))
}

fn good_row(id: &str) -> Vec<&str> {
    vec![
        id,
        "单选题",
        "换届选举",
        "村党支部委员会每届任期几年？",
        "A．3年",
        "B．5年",
        "",
        "",
        "",
        "",
        "b",
        "村、社区党组织每届任期5年。",
        "支部条例 第二十一条",
    ]
}

#[test]
fn a_good_sheet_loads_and_tolerates_layout() {
    // A title row above the header, columns in another order with spaces and an extra
    // column, a numeric id and a 判断 row.
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    let header = [
        "备注",
        " 题 干 ",
        "题号",
        "题型",
        "分类",
        "选项 a",
        "选项B",
        "选项C",
        "答案",
        "解析",
        "出处",
    ];
    let result: Result<(), rust_xlsxwriter::XlsxError> = (|| {
        ws.write_string(0, 0, "2026年党务知识题库")?;
        for (c, name) in header.iter().enumerate() {
            ws.write_string(1, u16::try_from(c).unwrap_or(0), *name)?;
        }
        let single = [
            "",
            "支部委员会会议一般多久召开一次？",
            "",
            "单选",
            "组织生活",
            "每周",
            "每月",
            "每季度",
            "B",
            "一般每月召开1次。",
            "支部条例 第十二条",
        ];
        for (c, cell) in single.iter().enumerate() {
            ws.write_string(2, u16::try_from(c).unwrap_or(0), *cell)?;
        }
        ws.write_number(2, 2, 101.0)?;
        let tf = [
            "",
            "组织生活会一般每年召开1次。",
            "zz-2",
            "判断",
            "组织生活",
            "",
            "",
            "",
            "",
            "一般每年召开1次。",
            "《中国共产党支部工作条例（试行）》第十七条",
        ];
        for (c, cell) in tf.iter().enumerate() {
            ws.write_string(3, u16::try_from(c).unwrap_or(0), *cell)?;
        }
        ws.write_boolean(3, 8, true)?;
        Ok(())
    })();
    result.unwrap_or_else(|err| panic!("{err}"));
    let bytes = workbook
        .save_to_buffer()
        .unwrap_or_else(|err| panic!("{err}"));

    let questions = parse_xlsx("题库.xlsx", &bytes).unwrap_or_else(|errors| panic!("{errors:#?}"));
    assert_eq!(questions.len(), 2);
    assert_eq!(questions[0].id, "101");
    assert_eq!(questions[0].options, ["每周", "每月", "每季度"]);
    assert_eq!(questions[0].answer, [1]);
    assert_eq!(questions[1].kind, QuestionKind::TrueFalse);
    assert_eq!(questions[1].answer, [0], "TRUE means 对");
    assert_eq!(questions[1].source, "支部条例 第十七条");
}

#[test]
fn a_sheet_and_its_toml_translation_are_the_same_bank() {
    let bytes = sheet(&[HEADER.to_vec(), good_row("hj-1"), good_row("hj-2")]);
    let questions = parse_xlsx("bank.xlsx", &bytes).unwrap_or_else(|errors| panic!("{errors:#?}"));
    assert_eq!(questions[0].options, ["3年", "5年"]);
    assert_eq!(parse_toml("bank.toml", &to_toml(&questions)), Ok(questions));
}

#[test]
fn sheet_errors_name_the_excel_row() {
    let mut no_answer = good_row("r-3");
    no_answer[10] = "";
    let mut bad_letter = good_row("r-4");
    bad_letter[10] = "D";
    let mut gap = good_row("r-5");
    gap[5] = "";
    gap[6] = "5年";
    let mut no_source = good_row("r-6");
    no_source[12] = "网上题库";
    let rows = vec![
        HEADER.to_vec(),
        good_row("r-2"),
        no_answer,
        bad_letter,
        vec![],
        gap,
        no_source,
        good_row("r-2"),
    ];
    let errors = parse_xlsx("题库.xlsx", &sheet(&rows))
        .err()
        .unwrap_or_default();
    assert_eq!(
        found(&errors),
        [
            (3, ErrorKind::EmptyField),
            (4, ErrorKind::AnswerNoSuchOption),
            // row 5 is empty and skipped
            (6, ErrorKind::EmptyField),
            (7, ErrorKind::UnknownSource),
            (8, ErrorKind::DuplicateId),
        ]
    );
    assert!(errors
        .iter()
        .all(|e| e.format == BankFormat::Xlsx && e.file == "题库.xlsx"));
    assert!(
        errors[4].message.contains("第2行"),
        "points at the first use"
    );
    assert!(errors[0].to_string().starts_with("题库.xlsx:第3行: "));
}

#[test]
fn missing_and_duplicate_columns_are_reported_on_the_header_row() {
    let header: Vec<&str> = HEADER
        .iter()
        .copied()
        .filter(|h| *h != "出处" && *h != "答案")
        .collect();
    let errors = parse_xlsx("x.xlsx", &sheet(&[header, vec!["1"]]))
        .err()
        .unwrap_or_default();
    assert_eq!(
        found(&errors),
        [(1, ErrorKind::MissingColumn), (1, ErrorKind::MissingColumn)]
    );

    let mut header = HEADER.to_vec();
    header.push("分类");
    let errors = parse_xlsx("x.xlsx", &sheet(&[header, good_row("a")]))
        .err()
        .unwrap_or_default();
    assert_eq!(found(&errors), [(1, ErrorKind::DuplicateColumn)]);
}

#[test]
fn date_cells_and_empty_sheets_are_refused() {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    let result: Result<(), rust_xlsxwriter::XlsxError> = (|| {
        for (c, name) in HEADER.iter().enumerate() {
            ws.write_string(0, u16::try_from(c).unwrap_or(0), *name)?;
        }
        for (c, cell) in good_row("d-1").iter().enumerate() {
            ws.write_string(1, u16::try_from(c).unwrap_or(0), *cell)?;
        }
        // Excel turns "3/5" typed into an option into a date.
        let date = ExcelDateTime::from_ymd(2026, 3, 5)?;
        let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        ws.write_datetime_with_format(1, 4, &date, &format)?;
        Ok(())
    })();
    result.unwrap_or_else(|err| panic!("{err}"));
    let bytes = workbook
        .save_to_buffer()
        .unwrap_or_else(|err| panic!("{err}"));
    let errors = parse_xlsx("x.xlsx", &bytes).err().unwrap_or_default();
    assert_eq!(found(&errors), [(2, ErrorKind::BadCell)]);

    let errors = parse_xlsx("x.xlsx", &sheet(&[HEADER.to_vec()]))
        .err()
        .unwrap_or_default();
    assert_eq!(found(&errors), [(0, ErrorKind::NoQuestions)]);
    let errors = parse_xlsx("x.xlsx", &sheet(&[])).err().unwrap_or_default();
    assert_eq!(found(&errors), [(0, ErrorKind::NoQuestions)]);
}

#[test]
fn sheet_and_toml_apply_the_same_rules() {
    let mut multiple = good_row("m-1");
    multiple[1] = "多选";
    multiple[10] = "A";
    let mut true_false = good_row("t-1");
    true_false[1] = "判断";
    true_false[10] = "对";
    let rows = vec![HEADER.to_vec(), multiple, true_false];
    let errors = parse_xlsx("x.xlsx", &sheet(&rows))
        .err()
        .unwrap_or_default();
    assert_eq!(
        found(&errors),
        [
            (2, ErrorKind::AnswerCount),
            (3, ErrorKind::OptionsForTrueFalse)
        ]
    );
}
