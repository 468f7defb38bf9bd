//! Reports in chat: /report for administrators (private) and secretaries (their group), /overdue.

use teloxide::prelude::*;
use teloxide::types::User;

use crate::error::AppResult;
use crate::telegram::send;
use crate::telegram::AppState;
use crate::texts::common as t;

/// `/report [期次]` in private chat: the full report with files, administrators only.
pub async fn report_private(bot: &Bot, msg: &Message, _user: &User, _args: &str, _state: &AppState) -> AppResult<()> {
    send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND).await.map(drop)
}

/// `/report [期次]` in a branch group: that branch's participation and average only.
pub async fn report_group(bot: &Bot, msg: &Message, _user: &User, _args: &str, _state: &AppState) -> AppResult<()> {
    send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND).await.map(drop)
}

/// `/overdue [天数]`: the compliance report, administrators only.
pub async fn overdue(bot: &Bot, msg: &Message, _user: &User, _args: &str, _state: &AppState) -> AppResult<()> {
    send::html(bot, msg.chat.id, t::UNKNOWN_COMMAND).await.map(drop)
}
