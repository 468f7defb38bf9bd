//! Button data: one typed enum with one encode/decode pair. Telegram allows at most 64 bytes;
//! anything that does not decode exactly (forged, truncated, from an old version) is rejected.

/// What a pressed inline button means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackData {
    /// 单选/判断 in a test: shown option `option` for the question at `position`.
    Answer {
        attempt: i64,
        position: u8,
        option: u8,
    },
    /// 多选 in a test: tick (`on`) or untick shown option `option`. The button carries the
    /// state it sets, so a press Telegram redelivers after a crash is applied once. The data of
    /// an older version (`t:attempt:position:option`, a toggle) no longer decodes: such a
    /// press is refused as a stale button and `/test` shows the question with new buttons.
    Toggle {
        attempt: i64,
        position: u8,
        option: u8,
        on: bool,
    },
    /// 多选 in a test: submit the selection.
    Submit {
        attempt: i64,
        position: u8,
    },
    /// Practice question `nonce`: choose shown option.
    PracticeAnswer {
        nonce: i64,
        option: u8,
    },
    /// Practice 多选: tick or untick, like [`CallbackData::Toggle`].
    PracticeToggle {
        nonce: i64,
        option: u8,
        on: bool,
    },
    PracticeSubmit {
        nonce: i64,
    },
    /// Another practice question.
    PracticeNext,
    /// Start the test of the open round (from a private reminder).
    StartTest,
    /// Record a meeting occurrence as held today.
    Held {
        occurrence: i64,
    },
    /// Show the choices for moving a meeting occurrence.
    Move {
        occurrence: i64,
    },
    /// Move a meeting occurrence by `days` days from `from` (Unix seconds), the time it had
    /// when the choices were shown: a press Telegram redelivers after a crash finds the
    /// meeting moved already and changes nothing. The older data without `from` no longer
    /// decodes and is refused as a stale button.
    MoveBy {
        occurrence: i64,
        days: u8,
        from: i64,
    },
    /// Apply an uploaded question bank.
    ConfirmUpload {
        upload: i64,
    },
    /// Discard an uploaded question bank.
    CancelUpload {
        upload: i64,
    },
    /// Apply an uploaded organisation tree.
    ConfirmOrgImport {
        import: i64,
    },
    /// Discard an uploaded organisation tree.
    CancelOrgImport {
        import: i64,
    },
    /// Apply an uploaded roster (in the branch group, by its uploader).
    ConfirmRoster {
        upload: i64,
    },
    /// Discard an uploaded roster.
    CancelRoster {
        upload: i64,
    },
    /// "I am this roster person" (private chat, after joining a branch with a roster).
    ClaimPerson {
        person: i64,
    },
    /// The secretary confirms a claim by name in the group.
    ConfirmClaim {
        claim: i64,
    },
    /// The secretary refuses a claim by name.
    RefuseClaim {
        claim: i64,
    },
    /// Apply an organisation's roster sheet (private chat, by its uploader).
    ConfirmOrgRoster {
        upload: i64,
    },
    /// Discard an organisation's roster sheet.
    CancelOrgRoster {
        upload: i64,
    },
}

impl CallbackData {
    pub fn encode(&self) -> String {
        use CallbackData::*;
        match *self {
            Answer {
                attempt,
                position,
                option,
            } => format!("a:{attempt}:{position}:{option}"),
            Toggle {
                attempt,
                position,
                option,
                on,
            } => format!("t:{attempt}:{position}:{option}:{}", u8::from(on)),
            Submit { attempt, position } => format!("s:{attempt}:{position}"),
            PracticeAnswer { nonce, option } => format!("pa:{nonce}:{option}"),
            PracticeToggle { nonce, option, on } => {
                format!("pt:{nonce}:{option}:{}", u8::from(on))
            }
            PracticeSubmit { nonce } => format!("ps:{nonce}"),
            PracticeNext => "pn".to_owned(),
            StartTest => "st".to_owned(),
            Held { occurrence } => format!("h:{occurrence}"),
            Move { occurrence } => format!("m:{occurrence}"),
            MoveBy {
                occurrence,
                days,
                from,
            } => format!("mb:{occurrence}:{days}:{from}"),
            ConfirmUpload { upload } => format!("uc:{upload}"),
            CancelUpload { upload } => format!("ux:{upload}"),
            ConfirmOrgImport { import } => format!("oc:{import}"),
            CancelOrgImport { import } => format!("ox:{import}"),
            ConfirmRoster { upload } => format!("rc:{upload}"),
            CancelRoster { upload } => format!("rx:{upload}"),
            ClaimPerson { person } => format!("rp:{person}"),
            ConfirmClaim { claim } => format!("ry:{claim}"),
            RefuseClaim { claim } => format!("rn:{claim}"),
            ConfirmOrgRoster { upload } => format!("rgc:{upload}"),
            CancelOrgRoster { upload } => format!("rgx:{upload}"),
        }
    }

    pub fn decode(data: &str) -> Option<Self> {
        use CallbackData::*;
        let mut parts = data.split(':');
        let tag = parts.next()?;
        let fields: Vec<&str> = parts.collect();
        let id =
            |i: usize| -> Option<i64> { fields.get(i)?.parse::<i64>().ok().filter(|v| *v >= 0) };
        let small =
            |i: usize| -> Option<u8> { fields.get(i)?.parse::<u8>().ok().filter(|v| *v < 16) };
        let arity = |n: usize| (fields.len() == n).then_some(());
        let flag = |i: usize| -> Option<bool> {
            match *fields.get(i)? {
                "0" => Some(false),
                "1" => Some(true),
                _ => None,
            }
        };
        let decoded = match tag {
            "a" => arity(3).and(Some(Answer {
                attempt: id(0)?,
                position: fields.get(1)?.parse().ok()?,
                option: small(2)?,
            })),
            "t" => arity(4).and(Some(Toggle {
                attempt: id(0)?,
                position: fields.get(1)?.parse().ok()?,
                option: small(2)?,
                on: flag(3)?,
            })),
            "s" => arity(2).and(Some(Submit {
                attempt: id(0)?,
                position: fields.get(1)?.parse().ok()?,
            })),
            "pa" => arity(2).and(Some(PracticeAnswer {
                nonce: id(0)?,
                option: small(1)?,
            })),
            "pt" => arity(3).and(Some(PracticeToggle {
                nonce: id(0)?,
                option: small(1)?,
                on: flag(2)?,
            })),
            "ps" => arity(1).and(Some(PracticeSubmit { nonce: id(0)? })),
            "pn" => arity(0).and(Some(PracticeNext)),
            "st" => arity(0).and(Some(StartTest)),
            "h" => arity(1).and(Some(Held { occurrence: id(0)? })),
            "m" => arity(1).and(Some(Move { occurrence: id(0)? })),
            "mb" => arity(3).and(Some(MoveBy {
                occurrence: id(0)?,
                days: fields
                    .get(1)?
                    .parse()
                    .ok()
                    .filter(|d| (1..=60).contains(d))?,
                from: id(2)?,
            })),
            "uc" => arity(1).and(Some(ConfirmUpload { upload: id(0)? })),
            "ux" => arity(1).and(Some(CancelUpload { upload: id(0)? })),
            "oc" => arity(1).and(Some(ConfirmOrgImport { import: id(0)? })),
            "ox" => arity(1).and(Some(CancelOrgImport { import: id(0)? })),
            "rc" => arity(1).and(Some(ConfirmRoster { upload: id(0)? })),
            "rx" => arity(1).and(Some(CancelRoster { upload: id(0)? })),
            "rp" => arity(1).and(Some(ClaimPerson { person: id(0)? })),
            "ry" => arity(1).and(Some(ConfirmClaim { claim: id(0)? })),
            "rn" => arity(1).and(Some(RefuseClaim { claim: id(0)? })),
            "rgc" => arity(1).and(Some(ConfirmOrgRoster { upload: id(0)? })),
            "rgx" => arity(1).and(Some(CancelOrgRoster { upload: id(0)? })),
            _ => None,
        }?;
        // Reject non-canonical spellings such as "a:01:2:3" so one button has one encoding.
        (decoded.encode() == data).then_some(decoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_largest() -> Vec<CallbackData> {
        use CallbackData::*;
        let big = i64::MAX;
        vec![
            Answer {
                attempt: big,
                position: 255,
                option: 15,
            },
            ConfirmOrgImport { import: big },
            CancelOrgImport { import: big },
            Toggle {
                attempt: big,
                position: 255,
                option: 15,
                on: true,
            },
            Submit {
                attempt: big,
                position: 255,
            },
            PracticeAnswer {
                nonce: big,
                option: 15,
            },
            PracticeToggle {
                nonce: big,
                option: 15,
                on: false,
            },
            PracticeSubmit { nonce: big },
            PracticeNext,
            StartTest,
            Held { occurrence: big },
            Move { occurrence: big },
            MoveBy {
                occurrence: big,
                days: 60,
                from: big,
            },
            ConfirmUpload { upload: big },
            CancelUpload { upload: big },
            ConfirmRoster { upload: big },
            CancelRoster { upload: big },
            ClaimPerson { person: big },
            ConfirmClaim { claim: big },
            RefuseClaim { claim: big },
            ConfirmOrgRoster { upload: big },
            CancelOrgRoster { upload: big },
        ]
    }

    #[test]
    fn every_variant_round_trips_within_telegrams_64_bytes() {
        for data in all_largest() {
            let encoded = data.encode();
            assert!(encoded.len() <= 64, "{encoded}");
            assert_eq!(CallbackData::decode(&encoded), Some(data));
        }
    }

    #[test]
    fn forged_and_malformed_data_is_rejected() {
        for bad in [
            "",
            "a",
            "a:1:2",
            "a:1:2:3:4",
            "a:-1:2:3",
            "a:1:2:99",
            "a:01:2:3",
            "zz:1",
            "pn:1",
            "mb:1:0:5",
            "mb:1:400:5",
            // A move of the older encoding (no time it moves from).
            "mb:1:1",
            "h:x",
            "h:1 ",
            // Toggles of the older encoding (no state), and states other than 0 and 1.
            "t:1:2:3",
            "pt:1:2",
            "t:1:2:3:2",
            "pt:1:2:01",
        ] {
            assert_eq!(CallbackData::decode(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,70}") {
            if let Some(data) = CallbackData::decode(&s) {
                prop_assert_eq!(data.encode(), s);
            }
        }

        #[test]
        fn answers_round_trip(attempt in 0i64..i64::MAX, position in 0u8.., option in 0u8..16) {
            let data = CallbackData::Answer { attempt, position, option };
            prop_assert_eq!(CallbackData::decode(&data.encode()), Some(data));
        }
    }
}
