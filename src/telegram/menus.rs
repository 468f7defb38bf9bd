//! The command menus Telegram shows (`setMyCommands` per scope), so each person's menu lists
//! what they can use there.

use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, Recipient};
use teloxide::utils::command::BotCommands;

use crate::chat::commands::{GroupCommand, PrivateCommand};

const TRAINEE_COMMANDS: &[&str] = &[
    "start", "help", "join", "test", "practice", "myscores", "whoami",
];
const MEMBER_GROUP_COMMANDS: &[&str] = &["help", "status", "meetings", "report", "whoami"];
/// Commands no menu shows: /claim is used once, by whoever reads the code in the server's log.
const UNLISTED: &[&str] = &["claim"];

/// teloxide's generated list spells commands with their slash; Telegram wants bare names.
fn bare(all: Vec<BotCommand>) -> Vec<BotCommand> {
    all.into_iter()
        .map(|c| BotCommand::new(c.command.trim_start_matches('/'), c.description))
        .collect()
}

fn only(all: Vec<BotCommand>, names: &[&str]) -> Vec<BotCommand> {
    bare(all)
        .into_iter()
        .filter(|c| names.contains(&c.command.as_str()))
        .collect()
}

/// Registers the menus: trainees' commands in every private chat, members' in groups, the full
/// group list for group administrators, and the full private list for each administrator.
pub async fn register(bot: &Bot, admin_ids: &[i64]) -> Result<(), teloxide::RequestError> {
    bot.set_my_commands(only(PrivateCommand::bot_commands(), TRAINEE_COMMANDS))
        .scope(BotCommandScope::AllPrivateChats)
        .await?;
    bot.set_my_commands(only(GroupCommand::bot_commands(), MEMBER_GROUP_COMMANDS))
        .scope(BotCommandScope::AllGroupChats)
        .await?;
    bot.set_my_commands(bare(GroupCommand::bot_commands()))
        .scope(BotCommandScope::AllChatAdministrators)
        .await?;
    for &id in admin_ids {
        register_admin(bot, id).await?;
    }
    Ok(())
}

/// The full private menu of administrators.
fn admin_menu() -> Vec<BotCommand> {
    bare(PrivateCommand::bot_commands())
        .into_iter()
        .filter(|c| !UNLISTED.contains(&c.command.as_str()))
        .collect()
}

/// Gives one administrator the full private menu (after /grant, or at start-up).
pub async fn register_admin(bot: &Bot, user_id: i64) -> Result<(), teloxide::RequestError> {
    bot.set_my_commands(admin_menu())
        .scope(BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(user_id)),
        })
        .await?;
    Ok(())
}

/// Takes an administrator's full menu away again (after /revoke).
pub async fn unregister_admin(bot: &Bot, user_id: i64) -> Result<(), teloxide::RequestError> {
    bot.delete_my_commands()
        .scope(BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(user_id)),
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menus_use_bare_command_names() {
        for command in bare(PrivateCommand::bot_commands())
            .iter()
            .chain(&bare(GroupCommand::bot_commands()))
        {
            assert!(
                command.command.bytes().all(|b| b.is_ascii_lowercase()),
                "{}",
                command.command
            );
        }
    }

    #[test]
    fn the_admin_menu_has_whoami_but_not_claim() {
        let names: Vec<String> = admin_menu().into_iter().map(|c| c.command).collect();
        assert!(names.contains(&"whoami".to_owned()), "{names:?}");
        assert!(!names.contains(&"claim".to_owned()), "{names:?}");
        assert_eq!(names.len(), PrivateCommand::bot_commands().len() - 1);
    }

    #[test]
    fn menus_are_subsets_of_the_enums() {
        assert_eq!(
            only(PrivateCommand::bot_commands(), TRAINEE_COMMANDS).len(),
            TRAINEE_COMMANDS.len()
        );
        assert_eq!(
            only(GroupCommand::bot_commands(), MEMBER_GROUP_COMMANDS).len(),
            MEMBER_GROUP_COMMANDS.len()
        );
    }
}
