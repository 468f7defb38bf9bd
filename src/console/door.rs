//! The terminal's [`Door`] and outbox [`Outlet`]: what the bot sends is printed, labelled with
//! the chat it went to; buttons get numbers a person types to press them; files are written to
//! a folder and their paths printed.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::buttons::{Button, Keyboard};
use crate::chat::{Document, Door, OutFile};
use crate::error::{AppError, AppResult};
use crate::scheduler::delivery::{Outcome, Outgoing, Outlet};
use crate::texts::console as t;

/// A chat the console knows: the private chat of a person, or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEntry {
    pub id: i64,
    pub name: String,
    /// Who administers the group (its creator, and whoever the script makes one).
    pub admins: HashSet<i64>,
}

/// A numbered button on the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownButton {
    pub chat_id: i64,
    pub message_id: i64,
    /// Buttons of a message that was edited since (or had its buttons removed) are gone.
    pub generation: u64,
    pub button: Button,
}

/// What the screen remembers: chats by id, the buttons shown, message numbering.
#[derive(Debug, Default)]
pub struct Screen {
    pub chats: HashMap<i64, ChatEntry>,
    /// People by id, for naming private chats.
    pub people: HashMap<i64, String>,
    /// Button number N is `buttons[N - 1]`.
    pub buttons: Vec<ShownButton>,
    /// The current keyboard generation of each message.
    generations: HashMap<(i64, i64), u64>,
    next_message_id: i64,
    /// Each file sent gets its own number, so two reports never overwrite each other.
    files_sent: u64,
}

impl Screen {
    /// The name a chat is shown under.
    pub fn chat_label(&self, chat: i64) -> String {
        if chat > 0 {
            let who = self
                .people
                .get(&chat)
                .cloned()
                .unwrap_or_else(|| chat.to_string());
            return t::private_chat_label(&who);
        }
        self.chats
            .get(&chat)
            .map_or_else(|| chat.to_string(), |c| c.name.clone())
    }

    /// The button a person pressed, if it is still on its message.
    pub fn pressable(&self, number: usize) -> Result<&ShownButton, &'static str> {
        let shown = number
            .checked_sub(1)
            .and_then(|i| self.buttons.get(i))
            .ok_or(t::NO_SUCH_BUTTON)?;
        let current = self
            .generations
            .get(&(shown.chat_id, shown.message_id))
            .copied();
        if current != Some(shown.generation) {
            return Err(t::BUTTON_GONE);
        }
        Ok(shown)
    }
}

/// The console's door: prints to `out`, writes files into `files_dir`.
pub struct ConsoleDoor {
    pub screen: Mutex<Screen>,
    out: Mutex<Box<dyn Write + Send>>,
    files_dir: PathBuf,
    /// While the demo sets its scene, nothing is printed.
    muted: AtomicBool,
    /// Scheduled messages show the local time they went out.
    tz: chrono_tz::Tz,
}

impl ConsoleDoor {
    pub fn new(out: Box<dyn Write + Send>, files_dir: PathBuf, tz: chrono_tz::Tz) -> ConsoleDoor {
        ConsoleDoor {
            screen: Mutex::new(Screen::default()),
            out: Mutex::new(out),
            files_dir,
            muted: AtomicBool::new(false),
            tz,
        }
    }

    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::SeqCst);
    }

    pub fn screen(&self) -> std::sync::MutexGuard<'_, Screen> {
        self.screen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Prints lines as they are; a failed write to the terminal has no one to be told to.
    pub fn print(&self, text: &str) {
        if self.muted.load(Ordering::SeqCst) {
            return;
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    /// Shows a message (new or edited) with its numbered buttons; returns its id.
    fn show(
        &self,
        chat: i64,
        message: Option<i64>,
        html: &str,
        keyboard: Option<&Keyboard>,
        scheduled_at: Option<i64>,
    ) -> i64 {
        let mut screen = self.screen();
        let id = message.unwrap_or_else(|| {
            screen.next_message_id += 1;
            screen.next_message_id
        });
        let generation = screen.generations.get(&(chat, id)).map_or(0, |g| g + 1);
        screen.generations.insert((chat, id), generation);
        let label = screen.chat_label(chat);
        let mut lines = vec![match (message, scheduled_at) {
            (Some(_), _) => t::edited_header(&label, id),
            (None, Some(at)) => t::scheduled_header(&label, id, &self.local_time(at)),
            (None, None) => t::message_header(&label, id),
        }];
        lines.push(indent(&plain_text(html)));
        let mut row_texts = Vec::new();
        for row in keyboard
            .map(|k| k.inline_keyboard.as_slice())
            .unwrap_or_default()
        {
            let mut cells = Vec::new();
            for button in row {
                screen.buttons.push(ShownButton {
                    chat_id: chat,
                    message_id: id,
                    generation,
                    button: button.clone(),
                });
                cells.push(format!("[{}] {}", screen.buttons.len(), button.text));
            }
            row_texts.push(format!("    {}", cells.join("  ")));
        }
        lines.extend(row_texts);
        drop(screen);
        self.print(&lines.join("\n"));
        id
    }

    fn local_time(&self, at: i64) -> String {
        chrono::DateTime::from_timestamp(at, 0)
            .map(|at| {
                at.with_timezone(&self.tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// Forgets the numbered buttons (after the demo's scene, which nobody saw).
    pub fn forget_buttons(&self) {
        self.screen().buttons.clear();
    }

    fn write_file(&self, file: &OutFile) -> AppResult<PathBuf> {
        std::fs::create_dir_all(&self.files_dir)
            .map_err(|e| AppError::Report(format!("{}: {e}", self.files_dir.display())))?;
        let number = {
            let mut screen = self.screen();
            screen.files_sent += 1;
            screen.files_sent
        };
        let safe: String = file
            .name
            .chars()
            .map(|c| {
                if matches!(c, '/' | '\\' | '\0') {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let path = self.files_dir.join(format!("{number:03}-{safe}"));
        std::fs::write(&path, &file.bytes)
            .map_err(|e| AppError::Report(format!("{}: {e}", path.display())))?;
        Ok(path)
    }

    fn show_file(&self, chat: i64, file: &OutFile) -> AppResult<()> {
        let path = self.write_file(file)?;
        let label = self.screen().chat_label(chat);
        let caption = file.caption.as_deref().map(plain_text).unwrap_or_default();
        self.print(&t::file_sent(&label, &path.display().to_string(), &caption));
        Ok(())
    }
}

#[async_trait]
impl Door for ConsoleDoor {
    async fn send(&self, chat: i64, html: &str, keyboard: Option<&Keyboard>) -> AppResult<i64> {
        Ok(self.show(chat, None, html, keyboard, None))
    }

    async fn edit(
        &self,
        chat: i64,
        message: i64,
        html: &str,
        keyboard: Option<&Keyboard>,
    ) -> AppResult<()> {
        self.show(chat, Some(message), html, keyboard, None);
        Ok(())
    }

    async fn clear_buttons(&self, chat: i64, message: i64) -> AppResult<()> {
        let mut screen = self.screen();
        if let Some(generation) = screen.generations.get_mut(&(chat, message)) {
            *generation += 1;
        }
        Ok(())
    }

    async fn answer(&self, _press: &str, text: Option<&str>, alert: bool) -> AppResult<()> {
        if let Some(text) = text {
            self.print(&t::press_answer(text, alert));
        }
        Ok(())
    }

    async fn send_files(&self, chat: i64, files: Vec<OutFile>) -> AppResult<()> {
        for file in &files {
            self.show_file(chat, file)?;
        }
        Ok(())
    }

    async fn send_picture(&self, chat: i64, picture: OutFile) -> AppResult<()> {
        self.show_file(chat, &picture)
    }

    async fn show_working(&self, _chat: i64) {}

    async fn is_group_admin(&self, chat: i64, user: i64) -> AppResult<bool> {
        Ok(self
            .screen()
            .chats
            .get(&chat)
            .is_some_and(|c| c.admins.contains(&user)))
    }

    /// A console "file" is a path on this machine.
    async fn download(&self, document: &Document) -> AppResult<Vec<u8>> {
        std::fs::read(&document.file_id)
            .map_err(|e| AppError::Report(format!("{}: {e}", document.file_id)))
    }

    async fn role_changed(&self, _user: i64, _admin: bool) {}
}

#[async_trait]
impl Outlet for ConsoleDoor {
    async fn deliver(&self, message: Outgoing<'_>) -> Outcome {
        let message_id = self.show(
            message.chat_id,
            None,
            message.html,
            message.keyboard,
            Some(message.now),
        );
        Outcome::Sent { message_id }
    }
}

/// What a person reads of an HTML message: tags dropped, entities decoded.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            plain_text("<b>第 1 期</b> a &lt;b&gt; &amp; c"),
            "第 1 期 a <b> & c"
        );
    }
}
