//! Buttons under a message, in a form both doors read, and the data a pressed button sends
//! back ([`CallbackData`]). Serialised, a [`Keyboard`] is exactly the Bot API's
//! `InlineKeyboardMarkup` JSON, which is how the outbox stores the buttons of a queued reminder.

mod data;

pub use data::CallbackData;

use serde::{Deserialize, Serialize};

/// Rows of buttons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyboard {
    pub inline_keyboard: Vec<Vec<Button>>,
}

/// One button: it either sends data back to the bot or opens a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Button {
    pub fn callback(text: impl Into<String>, data: impl Into<String>) -> Button {
        Button {
            text: text.into(),
            callback_data: Some(data.into()),
            url: None,
        }
    }

    pub fn url(text: impl Into<String>, url: impl Into<String>) -> Button {
        Button {
            text: text.into(),
            callback_data: None,
            url: Some(url.into()),
        }
    }
}

impl Keyboard {
    pub fn new(rows: impl IntoIterator<Item = impl IntoIterator<Item = Button>>) -> Keyboard {
        Keyboard {
            inline_keyboard: rows
                .into_iter()
                .map(|row| row.into_iter().collect())
                .collect(),
        }
    }

    /// The JSON the outbox stores.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{\"inline_keyboard\":[]}".to_owned())
    }

    /// Reads stored JSON back; `None` when it is not a keyboard.
    pub fn from_json(json: &str) -> Option<Keyboard> {
        serde_json::from_str(json).ok()
    }

    /// Every button in reading order, as the console numbers them.
    pub fn buttons(&self) -> impl Iterator<Item = &Button> {
        self.inline_keyboard.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_the_bot_api_shape() {
        let keyboard = Keyboard::new([[
            Button::callback("已召开", "h:1"),
            Button::url("加入", "https://t.me/b?start=j_x"),
        ]]);
        let json = keyboard.to_json();
        assert_eq!(
            json,
            r#"{"inline_keyboard":[[{"text":"已召开","callback_data":"h:1"},{"text":"加入","url":"https://t.me/b?start=j_x"}]]}"#
        );
        assert_eq!(Keyboard::from_json(&json), Some(keyboard));
        assert_eq!(Keyboard::from_json("not json"), None);
    }
}
