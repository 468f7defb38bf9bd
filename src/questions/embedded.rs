//! The question bank shipped with the binary: `questions/*.toml` as they were when it was built
//! (see `build.rs`). Used when the server has no `questions/` directory, so the bot runs from
//! any directory and a bare binary is a whole product.

use super::error::BankError;
use super::model::Question;
use super::toml_file::load_sources;

mod files {
    include!(concat!(env!("OUT_DIR"), "/embedded_bank.rs"));
}

/// The label errors and logs give the embedded bank's files.
pub const LABEL: &str = "（内置题库）";

/// The shipped bank, validated like any directory.
pub fn load() -> Result<Vec<Question>, Vec<BankError>> {
    let labelled: Vec<(String, &str)> = files::FILES
        .iter()
        .map(|(name, content)| (format!("{LABEL}{name}"), *content))
        .collect();
    let sources: Vec<(&str, &str)> = labelled
        .iter()
        .map(|(label, content)| (label.as_str(), *content))
        .collect();
    load_sources(&sources, Vec::new())
}

/// How many files the binary carries.
pub fn file_count() -> usize {
    files::FILES.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_bank_is_embedded_and_valid() {
        assert!(super::file_count() >= 8);
        let bank = super::load().expect("the shipped bank validates");
        let from_disk = crate::questions::load_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/questions"
        )))
        .expect("questions/ validates");
        assert_eq!(bank, from_disk);
    }
}
