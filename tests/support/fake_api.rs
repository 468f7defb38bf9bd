//! A local stand-in for the Telegram Bot API, so the tests can run the real bot (teloxide over
//! HTTP, `TELOXIDE_API_URL`) with no internet. It answers with Telegram's response shapes and
//! error descriptions (teloxide maps errors by their exact description) and enforces Telegram's
//! limits, so a bot that would be refused by Telegram fails its test instead of reaching users.
//!
//! The server runs on its own thread and runtime: it keeps answering while a test blocks, and
//! tests that pause tokio's clock do not freeze it.

#![allow(dead_code)]

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    fmt::Write as _,
    path::PathBuf,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use axum::{
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State as AxState},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tokio::sync::{oneshot, watch};

use super::chaos::{Chaos, ChaosConfig, ChaosStats};
use super::markup::{self, Parsed};

/// The token the fake accepts; any other answers 401 "Unauthorized" like Telegram.
pub const TOKEN: &str = "123456:TEST";
/// The bot's user id, the numeric part of [`TOKEN`] as in real tokens.
pub const BOT_ID: i64 = 123456;
pub const BOT_USERNAME: &str = "branchbot_test_bot";
pub const BOT_FIRST_NAME: &str = "Branchbot Test";

/// Telegram's limits, in UTF-16 code units after entity parsing.
pub const MAX_TEXT_LEN: usize = 4096;
pub const MAX_CAPTION_LEN: usize = 1024;
pub const MAX_CALLBACK_ANSWER_LEN: usize = 200;
pub const MAX_CALLBACK_DATA_BYTES: usize = 64;

const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content \
                            and reply markup are exactly the same as a current content and reply \
                            markup of the message";
const QUERY_TOO_OLD: &str =
    "Bad Request: query is too old and response timeout expired or query id is invalid";
const CONFLICT: &str = "Conflict: terminated by other getUpdates request; make sure that only one \
                        bot instance is running";

/// Multipart text fields holding integers or booleans, recorded as JSON numbers and booleans so
/// `ApiCall::params` look the same whether the bot sent JSON or multipart.
const INT_FIELDS: &[&str] = &[
    "chat_id",
    "message_id",
    "message_thread_id",
    "user_id",
    "reply_to_message_id",
    "duration",
    "width",
    "height",
];
const BOOL_FIELDS: &[&str] = &[
    "disable_notification",
    "protect_content",
    "allow_sending_without_reply",
    "disable_content_type_detection",
    "has_spoiler",
    "show_caption_above_media",
    "allow_paid_broadcast",
];

/// Multipart text fields that carry JSON (teloxide serialises structs and lists as JSON parts;
/// every other field is a plain string, so a caption starting with `[` stays a string).
const JSON_FIELDS: &[&str] = &[
    "reply_markup",
    "media",
    "entities",
    "caption_entities",
    "reply_parameters",
    "link_preview_options",
    "allowed_updates",
    "commands",
    "scope",
];

/// A failure to inject into the next calls of a method, before the call takes effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 "Too Many Requests: retry after N" with `parameters.retry_after`; teloxide surfaces
    /// it as `RequestError::RetryAfter`.
    RetryAfter(u32),
    /// HTTP 500 "Internal Server Error". Note: teloxide itself sleeps 10 s on any 5xx status
    /// before returning `RequestError::Api(ApiError::Unknown("Internal Server Error"))`.
    ServerError,
    /// HTTP 502 "Bad Gateway" (the same 10 s teloxide delay applies).
    BadGateway,
    /// The body of a 500 "Internal Server Error" but with HTTP status 200, so teloxide returns
    /// the same error at once instead of after its 10 s server-error sleep. Use this to test
    /// the bot's retry of server errors quickly.
    ServerErrorInstant,
    /// The connection is cut before a response: `RequestError::Network`.
    Network,
    /// Any other Telegram error, e.g. `(403, "Forbidden: bot was blocked by the user")`.
    Api { code: u16, description: String },
}

/// A user's status in a group, as getChatMember reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    Creator,
    Administrator,
    Member,
    Restricted,
    Left,
    Kicked,
}

impl MemberStatus {
    fn is_admin(self) -> bool {
        matches!(self, Self::Creator | Self::Administrator)
    }
}

/// One file part of a multipart request.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The multipart field name (teloxide uses a random id referenced as `attach://<id>`).
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// One HTTP call the bot made, in arrival order of completion.
#[derive(Clone, Debug)]
pub struct ApiCall {
    /// The method name as the bot sent it (e.g. "sendMessage").
    pub method: String,
    /// JSON body, or the text fields of a multipart body (JSON fields parsed).
    pub params: Value,
    pub uploads: Vec<Upload>,
    /// The full JSON the fake answered (`{"ok":...}`).
    pub response: Value,
    /// When the call completed, for checks on retry delays and rates.
    pub at: Instant,
}

impl ApiCall {
    pub fn ok(&self) -> bool {
        self.response["ok"] == json!(true)
    }

    pub fn error_description(&self) -> Option<&str> {
        self.response["description"].as_str()
    }

    pub fn error_code(&self) -> Option<i64> {
        self.response["error_code"].as_i64()
    }

    /// The inline buttons the call sent (a message's or an edit's `reply_markup`).
    pub fn buttons(&self) -> Vec<InlineButton> {
        match &self.params["reply_markup"] {
            Value::String(text) => buttons_of(serde_json::from_str(text).ok().as_ref()),
            markup => buttons_of(Some(markup)),
        }
    }
}

/// One inline keyboard button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineButton {
    pub text: String,
    pub callback_data: Option<String>,
    pub url: Option<String>,
}

/// A text message the bot sent, in its current state (edits applied).
#[derive(Clone, Debug)]
pub struct SentMessage {
    pub chat_id: i64,
    pub message_id: i32,
    /// The text as the bot sent it (markup included).
    pub text: String,
    /// The text the user sees: markup parsed away, entities decoded, trimmed.
    pub plain_text: String,
    pub parse_mode: Option<String>,
    /// `reply_markup` as the bot sent it (inline keyboard, reply keyboard, ...).
    pub reply_markup: Option<Value>,
    pub edited: bool,
    /// How many successful edits (text or markup) the message received.
    pub edit_count: u32,
    pub deleted: bool,
    /// Unix time the fake stamped on the message.
    pub date: i64,
}

impl SentMessage {
    /// Inline keyboard buttons, row by row flattened.
    pub fn buttons(&self) -> Vec<InlineButton> {
        buttons_of(self.reply_markup.as_ref())
    }

    /// The callback data of the first button whose text contains `label`.
    pub fn callback_data(&self, label: &str) -> Option<String> {
        self.buttons()
            .into_iter()
            .find(|b| b.text.contains(label))
            .and_then(|b| b.callback_data)
    }
}

/// A document or photo the bot sent.
#[derive(Clone, Debug)]
pub struct SentFile {
    pub chat_id: i64,
    pub message_id: i32,
    pub file_id: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub caption: Option<String>,
    pub plain_caption: Option<String>,
    pub parse_mode: Option<String>,
    pub reply_markup: Option<Value>,
    pub media_group_id: Option<String>,
    pub edited: bool,
    pub deleted: bool,
}

/// An answerCallbackQuery the bot made, with the query it answered.
#[derive(Clone, Debug)]
pub struct CallbackAnswer {
    pub callback_query_id: String,
    pub text: Option<String>,
    pub show_alert: bool,
    pub url: Option<String>,
    /// The query being answered: who pressed which button on which message.
    pub from_user: i64,
    pub chat_id: i64,
    pub message_id: i32,
    pub data: String,
}

/// The fake server. Cheap to clone; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct FakeApi {
    shared: Arc<Shared>,
    url: String,
    _stop: Arc<StopOnDrop>,
}

struct StopOnDrop(Mutex<Option<oneshot::Sender<()>>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
    }
}

struct Shared {
    state: Mutex<State>,
    /// Bumped on every change so long polls and the waiting helpers wake up.
    version: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mutate<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.lock());
        self.version.send_modify(|v| *v += 1);
        r
    }
}

impl FakeApi {
    /// Binds 127.0.0.1 on a free port and serves until the last clone is dropped.
    pub async fn start() -> FakeApi {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let (version, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new()),
            version,
        });
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(60 * 1024 * 1024))
            .with_state(shared.clone());
        std::thread::Builder::new()
            .name("fake-telegram-api".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("fake API runtime");
                runtime.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    tokio::select! {
                        r = axum::serve(listener, app) => {
                            if let Err(e) = r {
                                eprintln!("fake-api: server error: {e}");
                            }
                        }
                        _ = stop_rx => {}
                    }
                });
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .expect("spawn the fake API thread");
        FakeApi {
            shared,
            url: format!("http://{addr}"),
            _stop: Arc::new(StopOnDrop(Mutex::new(Some(stop_tx)))),
        }
    }

    /// The value for `TELOXIDE_API_URL`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn token(&self) -> &'static str {
        TOKEN
    }

    pub fn bot_id(&self) -> i64 {
        BOT_ID
    }

    pub fn bot_username(&self) -> &'static str {
        BOT_USERNAME
    }

    // ---- chats and users ----------------------------------------------------------------

    /// Registers a user (`username`: `"name"` or `None`).
    pub fn add_user<'a>(&self, id: i64, first_name: &str, username: impl Into<Option<&'a str>>) {
        let username = username.into().filter(|u| !u.is_empty()).map(str::to_owned);
        self.shared.mutate(|st| {
            st.users.insert(
                id,
                UserInfo {
                    id,
                    first_name: first_name.to_owned(),
                    username,
                },
            )
        });
    }

    /// Opens the private chat of a registered user, as if they had pressed Start. (Pushing a
    /// message from a user into the chat with their own id does this too.)
    pub fn add_private_chat(&self, user: i64) {
        self.shared.mutate(|st| {
            assert!(
                st.users.contains_key(&user),
                "add_private_chat: add_user({user}) first"
            );
            st.ensure_private_chat(user);
        });
    }

    /// Creates a group with the bot in it. Ids at or below -1000000000000 (`-100…`) are
    /// supergroups, other negative ids basic groups, as in Telegram. The first admin is the
    /// creator, the others administrators; users must be registered with `add_user`.
    pub fn add_group(&self, chat_id: i64, title: &str, admins: &[i64], members: &[i64]) {
        assert!(
            chat_id < 0,
            "add_group: group ids are negative, got {chat_id}"
        );
        self.shared.mutate(|st| {
            let mut statuses = BTreeMap::new();
            for (i, &id) in admins.iter().enumerate() {
                assert!(
                    st.users.contains_key(&id),
                    "add_group: add_user({id}) first"
                );
                let status = if i == 0 {
                    MemberStatus::Creator
                } else {
                    MemberStatus::Administrator
                };
                statuses.insert(id, status);
            }
            for &id in members {
                assert!(
                    st.users.contains_key(&id),
                    "add_group: add_user({id}) first"
                );
                statuses.entry(id).or_insert(MemberStatus::Member);
            }
            let kind = if chat_id <= -1_000_000_000_000 {
                ChatKind::Supergroup
            } else {
                ChatKind::Group
            };
            st.chats.insert(
                chat_id,
                ChatState {
                    id: chat_id,
                    kind,
                    title: title.to_owned(),
                    members: statuses,
                    bot: BotPresence::Member,
                },
            );
        });
    }

    /// Changes one user's status in a group (promote, demote, leave, ban).
    pub fn set_member_status(&self, chat_id: i64, user: i64, status: MemberStatus) {
        self.shared.mutate(|st| {
            let chat = st
                .chats
                .get_mut(&chat_id)
                .expect("set_member_status: unknown chat");
            chat.members.insert(user, status);
        });
    }

    /// Makes the bot an administrator of a group (or not).
    pub fn set_bot_admin(&self, chat_id: i64, admin: bool) {
        self.shared.mutate(|st| {
            let chat = st
                .chats
                .get_mut(&chat_id)
                .expect("set_bot_admin: unknown chat");
            chat.bot = if admin {
                BotPresence::Admin
            } else {
                BotPresence::Member
            };
        });
    }

    /// The bot is kicked from a group, or blocked by the user of a private chat. Sends then
    /// answer 403 "Forbidden: bot was kicked from the group chat" (supergroup: "... from the
    /// supergroup chat") or "Forbidden: bot was blocked by the user".
    pub fn remove_bot_from(&self, chat_id: i64) {
        self.shared.mutate(|st| {
            let chat = st
                .chats
                .get_mut(&chat_id)
                .expect("remove_bot_from: unknown chat");
            chat.bot = BotPresence::Removed;
        });
    }

    /// Undoes `remove_bot_from` (re-added to the group, or unblocked).
    pub fn restore_bot_in(&self, chat_id: i64) {
        self.shared.mutate(|st| {
            let chat = st
                .chats
                .get_mut(&chat_id)
                .expect("restore_bot_in: unknown chat");
            chat.bot = BotPresence::Member;
        });
    }

    /// Fixes the date stamped on new messages; by default the clock file of the bot under test
    /// (set by `BotProcess::spawn`) or else the system time.
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.shared.mutate(|st| st.now_override = Some(now));
    }

    /// Stamps messages with the instant held in this file (the bot's test clock).
    pub fn use_clock_file(&self, path: impl Into<PathBuf>) {
        let path = path.into();
        self.shared.mutate(|st| st.clock_file = Some(path));
    }

    /// How long getUpdates holds a request at most (default 1 s), whatever `timeout` asks.
    pub fn set_poll_hold(&self, hold: Duration) {
        self.shared.mutate(|st| st.poll_hold = hold);
    }

    // ---- updates ---------------------------------------------------------------------------

    /// A user writes `text` in a chat; returns the update id. A leading `/command` gets a
    /// `bot_command` entity. Writing into the chat with the user's own id opens (or unblocks)
    /// the private chat; writing in a group makes the user a member if they were not.
    pub fn push_text(&self, from_user: i64, chat_id: i64, text: &str) -> i64 {
        self.shared.mutate(|st| {
            let message_id = st.push_user_message(from_user, chat_id, |msg| {
                msg.content = Content::Text(Parsed {
                    text: text.to_owned(),
                    entities: command_entity(text).into_iter().collect(),
                });
                msg.raw_text = text.to_owned();
            });
            let json = st.message_json(chat_id, message_id);
            st.push_update("message", json)
        })
    }

    /// The id of the message an update carries (its `message` or `callback_query.message`).
    pub fn message_id_of(&self, update_id: i64) -> Option<i32> {
        let st = self.shared.lock();
        let (_, u) = st.all_updates.iter().find(|(id, _)| *id == update_id)?;
        let m = u
            .get("message")
            .or_else(|| u.get("callback_query").and_then(|c| c.get("message")))?;
        m["message_id"].as_i64().map(|id| id as i32)
    }

    /// A user presses an inline button with `data` on message `message_id`; returns the
    /// callback query id. The query carries the message as last sent or edited, as Telegram
    /// does; an unknown message is sent as an inaccessible message (date 0).
    pub fn push_callback(
        &self,
        from_user: i64,
        chat_id: i64,
        message_id: i32,
        data: &str,
    ) -> String {
        self.shared.mutate(|st| {
            let user = st.user_json(from_user);
            st.next_callback += 1;
            let id = format!(
                "{}{:06}",
                4_000_000 + from_user.rem_euclid(1_000_000),
                st.next_callback
            );
            let message = match st.messages.get(&(chat_id, message_id)) {
                Some(m) if !m.deleted => st.message_json(chat_id, message_id),
                _ => json!({ "chat": st.chat_json(chat_id), "message_id": message_id, "date": 0 }),
            };
            let query = json!({
                "id": id,
                "from": user,
                "message": message,
                "chat_instance": format!("{}", chat_id.unsigned_abs() * 7 + 13),
                "data": data,
            });
            st.callbacks.insert(
                id.clone(),
                PendingCallback {
                    from_user,
                    chat_id,
                    message_id,
                    data: data.to_owned(),
                    answered: false,
                },
            );
            st.push_update("callback_query", query);
            id
        })
    }

    /// A user sends a file; the bytes are served by getFile and the file download URL.
    /// Returns the update id.
    pub fn push_document(
        &self,
        from_user: i64,
        chat_id: i64,
        file_name: &str,
        bytes: &[u8],
        caption: Option<&str>,
    ) -> i64 {
        self.shared.mutate(|st| {
            let file_id = st.store_file("documents", file_name, bytes.to_vec());
            let message_id = st.push_user_message(from_user, chat_id, |msg| {
                msg.content = Content::Document {
                    file_id: file_id.clone(),
                    caption: caption.map(|c| Parsed {
                        text: c.to_owned(),
                        entities: Vec::new(),
                    }),
                };
                msg.raw_text = caption.unwrap_or_default().to_owned();
            });
            let json = st.message_json(chat_id, message_id);
            st.push_update("message", json)
        })
    }

    /// Any other update, e.g. `push_raw_update("my_chat_member", json!({...}))`.
    pub fn push_raw_update(&self, kind: &str, payload: Value) -> i64 {
        self.shared.mutate(|st| st.push_update(kind, payload))
    }

    /// Queues faults for the next `n` calls of `method` (e.g. "sendMessage", case-insensitive).
    pub fn fail_next(&self, method: &str, n: usize, fault: Fault) {
        self.shared.mutate(|st| {
            for _ in 0..n {
                st.faults
                    .push_back((method.to_ascii_lowercase(), fault.clone()));
            }
        });
    }

    /// Switches random faults on (see `chaos.rs`); `None` switches them off and ends an outage.
    pub fn set_chaos(&self, config: Option<ChaosConfig>) {
        self.shared.mutate(|st| st.chaos = config.map(Chaos::new));
    }

    /// Every call answers 502 Bad Gateway for `length` from now (chaos must be on).
    pub fn start_outage(&self, length: Duration) {
        self.shared.mutate(|st| {
            st.chaos
                .as_mut()
                .expect("set_chaos before start_outage")
                .start_outage(length)
        });
    }

    /// What the chaos injected so far (all zero when it is off).
    pub fn chaos_stats(&self) -> ChaosStats {
        let st = self.shared.lock();
        st.chaos.as_ref().map(Chaos::stats).unwrap_or_default()
    }

    // ---- inspection ------------------------------------------------------------------------

    /// Every call, getUpdates included, in order of completion.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.shared.lock().calls.clone()
    }

    /// Every call except getUpdates.
    pub fn calls_without_polling(&self) -> Vec<ApiCall> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| !is_polling(&c.method))
            .cloned()
            .collect()
    }

    /// The calls of one method (case-insensitive).
    pub fn calls_to(&self, method: &str) -> Vec<ApiCall> {
        let st = self.shared.lock();
        st.calls
            .iter()
            .filter(|c| c.method.eq_ignore_ascii_case(method))
            .cloned()
            .collect()
    }

    /// Every text message the bot sent, in sending order, each in its current state.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.shared.lock().sent_messages(None, 0)
    }

    /// A position in the bot's output (messages, documents and photos sent so far), to look
    /// only at what comes after it: `messages_since`, `wait_for_text_since`.
    pub fn mark(&self) -> usize {
        self.shared.lock().bot_messages.len()
    }

    /// Text messages sent after `mark` (in their current state), all chats.
    pub fn messages_since(&self, mark: usize) -> Vec<SentMessage> {
        self.shared.lock().sent_messages(None, mark)
    }

    pub fn messages_in(&self, chat_id: i64) -> Vec<SentMessage> {
        self.shared.lock().sent_messages(Some(chat_id), 0)
    }

    /// Every document the bot sent (media groups included), in sending order.
    pub fn documents(&self) -> Vec<SentFile> {
        self.shared.lock().sent_files(None, FileKind::Document)
    }

    pub fn documents_in(&self, chat_id: i64) -> Vec<SentFile> {
        self.shared
            .lock()
            .sent_files(Some(chat_id), FileKind::Document)
    }

    pub fn photos_in(&self, chat_id: i64) -> Vec<SentFile> {
        self.shared
            .lock()
            .sent_files(Some(chat_id), FileKind::Photo)
    }

    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.shared.lock().callback_answers.clone()
    }

    /// The commands set for a scope (`BotCommandScope` or its JSON, e.g.
    /// `json!({"type": "all_private_chats"})`) with no language code; `None` if never set or
    /// deleted.
    pub fn commands_for_scope(
        &self,
        scope: impl serde::Serialize,
    ) -> Option<Vec<(String, String)>> {
        self.commands_for_scope_lang(scope, "")
    }

    pub fn commands_for_scope_lang(
        &self,
        scope: impl serde::Serialize,
        language_code: &str,
    ) -> Option<Vec<(String, String)>> {
        let scope = normalize_scope(serde_json::to_value(scope).ok());
        let st = self.shared.lock();
        st.commands
            .get(&(scope.to_string(), language_code.to_owned()))
            .cloned()
    }

    /// The `allowed_updates` the bot last asked for (`None` if it never said).
    pub fn allowed_updates(&self) -> Option<Vec<String>> {
        self.shared.lock().allowed_updates.clone()
    }

    /// Updates pushed but not yet confirmed by a later getUpdates offset.
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().updates.len()
    }

    /// How many getUpdates calls were cut off by a newer one (two bot instances polling).
    pub fn poll_conflicts(&self) -> usize {
        self.shared.lock().conflicts
    }

    /// A readable account of what the bot sent and called, for failure messages.
    pub fn dump(&self) -> String {
        self.shared.lock().dump()
    }

    // ---- waiting ---------------------------------------------------------------------------

    /// Waits until `check` returns `Some`, re-checking on every change; panics with `what` and
    /// the dump after `timeout`. Runs `check` outside the lock on a clone of this handle.
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&FakeApi) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.shared.version.subscribe();
        loop {
            rx.borrow_and_update();
            if let Some(t) = check(self) {
                return t;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                if let Some(t) = check(self) {
                    return t;
                }
                panic!(
                    "fake-api: timed out after {timeout:?} waiting for {what}\n{}",
                    self.dump()
                );
            }
        }
    }

    /// Waits for a text message in `chat_id` (current state, so an edit can satisfy it).
    pub async fn wait_for_message(
        &self,
        chat_id: i64,
        predicate: impl Fn(&SentMessage) -> bool,
        timeout: Duration,
    ) -> SentMessage {
        let what = format!("a message in chat {chat_id} matching the predicate");
        self.wait_until(&what, timeout, |api| {
            api.messages_in(chat_id)
                .into_iter()
                .rev()
                .find(|m| !m.deleted && predicate(m))
        })
        .await
    }

    /// Waits for a message sent after `mark` (see [`FakeApi::mark`]) whose visible text
    /// contains `needle`; older messages that match do not count.
    pub async fn wait_for_text_since(
        &self,
        mark: usize,
        chat_id: i64,
        needle: &str,
        timeout: Duration,
    ) -> SentMessage {
        let what =
            format!("a new message (after mark {mark}) in chat {chat_id} containing {needle:?}");
        self.wait_until(&what, timeout, |api| {
            api.messages_since(mark).into_iter().find(|m| {
                m.chat_id == chat_id
                    && !m.deleted
                    && (m.plain_text.contains(needle) || m.text.contains(needle))
            })
        })
        .await
    }

    /// Waits for a message whose visible text contains `needle` (the newest such message;
    /// one sent before the call counts too, see `wait_for_text_since`).
    pub async fn wait_for_text(
        &self,
        chat_id: i64,
        needle: &str,
        timeout: Duration,
    ) -> SentMessage {
        let what = format!("a message in chat {chat_id} containing {needle:?}");
        self.wait_until(&what, timeout, |api| {
            api.messages_in(chat_id)
                .into_iter()
                .rev()
                .find(|m| !m.deleted && (m.plain_text.contains(needle) || m.text.contains(needle)))
        })
        .await
    }

    /// Waits until the number of messages in `chat_id` reaches `count`; returns them all.
    pub async fn wait_for_message_count(
        &self,
        chat_id: i64,
        count: usize,
        timeout: Duration,
    ) -> Vec<SentMessage> {
        let what = format!("{count} messages in chat {chat_id}");
        self.wait_until(&what, timeout, |api| {
            let all = api.messages_in(chat_id);
            (all.len() >= count).then_some(all)
        })
        .await
    }

    /// Waits until at least `count` calls to `method` were made; returns all calls to it.
    pub async fn wait_for_calls(
        &self,
        method: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<ApiCall> {
        let what = format!("{count} call(s) to {method}");
        self.wait_until(&what, timeout, |api| {
            let calls = api.calls_to(method);
            (calls.len() >= count).then_some(calls)
        })
        .await
    }

    /// Waits for a document in `chat_id` matching the predicate.
    pub async fn wait_for_document(
        &self,
        chat_id: i64,
        predicate: impl Fn(&SentFile) -> bool,
        timeout: Duration,
    ) -> SentFile {
        let what = format!("a document in chat {chat_id} matching the predicate");
        self.wait_until(&what, timeout, |api| {
            api.documents_in(chat_id).into_iter().find(&predicate)
        })
        .await
    }

    pub async fn wait_for_photo(&self, chat_id: i64, timeout: Duration) -> SentFile {
        let what = format!("a photo in chat {chat_id}");
        self.wait_until(&what, timeout, |api| {
            api.photos_in(chat_id).into_iter().next()
        })
        .await
    }

    /// Waits until the bot answered the callback query `id`.
    pub async fn wait_for_callback_answer(&self, id: &str, timeout: Duration) -> CallbackAnswer {
        let what = format!("an answer to callback query {id}");
        self.wait_until(&what, timeout, |api| {
            api.callback_answers()
                .into_iter()
                .find(|a| a.callback_query_id == id)
        })
        .await
    }

    /// Waits until the bot has fetched update `update_id` with getUpdates.
    pub async fn wait_for_delivery(&self, update_id: i64, timeout: Duration) {
        let what = format!("getUpdates to fetch update {update_id}");
        self.wait_until(&what, timeout, |api| {
            (api.shared.lock().max_delivered >= update_id).then_some(())
        })
        .await
    }

    /// Waits until the bot is long-polling (a getUpdates call arrived after this call).
    pub async fn wait_for_polling(&self, timeout: Duration) {
        let started = self.shared.lock().poll_gen;
        self.wait_until("the bot to poll getUpdates", timeout, |api| {
            (api.shared.lock().poll_gen > started).then_some(())
        })
        .await
    }

    /// Watches `chat_id` for `duration` and panics if any text message in it matches
    /// `predicate`: one already sent before the call counts too. To look only at what comes
    /// after a point, use `assert_no_message_since`.
    ///
    /// A silence proves nothing about a bot that may simply be slow: for the bot under test use
    /// `support::quiet` (`assert_quiet_until_reply`, `assert_scheduler_quiet`), which first
    /// makes the bot show it has finished. This is for what the test itself sends.
    pub async fn assert_no_message(
        &self,
        chat_id: i64,
        predicate: impl Fn(&SentMessage) -> bool,
        duration: Duration,
    ) {
        self.assert_no_message_since(0, chat_id, predicate, duration)
            .await;
    }

    /// Like `assert_no_message`, for messages sent after `mark` (see [`FakeApi::mark`]).
    pub async fn assert_no_message_since(
        &self,
        mark: usize,
        chat_id: i64,
        predicate: impl Fn(&SentMessage) -> bool,
        duration: Duration,
    ) {
        let deadline = tokio::time::Instant::now() + duration;
        let mut rx = self.shared.version.subscribe();
        loop {
            rx.borrow_and_update();
            let found = self
                .messages_since(mark)
                .into_iter()
                .find(|m| m.chat_id == chat_id && predicate(m));
            if let Some(m) = found {
                panic!(
                    "fake-api: unexpected message {} in chat {chat_id}: {:?}\n{}",
                    m.message_id,
                    m.plain_text,
                    self.dump()
                );
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

fn is_polling(method: &str) -> bool {
    method.eq_ignore_ascii_case("getUpdates")
}

// ---- state ----------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct UserInfo {
    id: i64,
    first_name: String,
    username: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChatKind {
    Private,
    Group,
    Supergroup,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BotPresence {
    Member,
    Admin,
    /// Kicked from the group / blocked by the user.
    Removed,
    /// The bot left by leaveChat.
    Left,
}

#[derive(Clone, Debug)]
struct ChatState {
    id: i64,
    kind: ChatKind,
    title: String,
    members: BTreeMap<i64, MemberStatus>,
    bot: BotPresence,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    Document,
    Photo,
}

#[derive(Clone, Debug)]
enum Content {
    Text(Parsed),
    Document {
        file_id: String,
        caption: Option<Parsed>,
    },
    Photo {
        file_id: String,
        caption: Option<Parsed>,
    },
}

#[derive(Clone, Debug)]
struct Msg {
    chat_id: i64,
    message_id: i32,
    from: i64,
    date: i64,
    edit_date: Option<i64>,
    content: Content,
    /// Text or caption as sent, before parsing.
    raw_text: String,
    parse_mode: Option<String>,
    reply_markup: Option<Value>,
    media_group_id: Option<String>,
    edit_count: u32,
    deleted: bool,
}

#[derive(Clone, Debug)]
struct StoredFile {
    unique_id: String,
    path: String,
    file_name: String,
    bytes: Vec<u8>,
}

#[derive(Clone, Debug)]
struct PendingCallback {
    from_user: i64,
    chat_id: i64,
    message_id: i32,
    data: String,
    answered: bool,
}

struct State {
    users: BTreeMap<i64, UserInfo>,
    chats: BTreeMap<i64, ChatState>,
    next_message_id: HashMap<i64, i32>,
    messages: BTreeMap<(i64, i32), Msg>,
    /// Messages sent by the bot, in sending order.
    bot_messages: Vec<(i64, i32)>,
    files: HashMap<String, StoredFile>,
    next_file: u64,
    /// Unconfirmed updates, oldest first.
    updates: VecDeque<(i64, Value)>,
    /// Every update ever pushed, for `message_id_of`.
    all_updates: Vec<(i64, Value)>,
    next_update_id: i64,
    max_delivered: i64,
    allowed_updates: Option<Vec<String>>,
    poll_gen: u64,
    poll_hold: Duration,
    conflicts: usize,
    callbacks: HashMap<String, PendingCallback>,
    next_callback: u64,
    callback_answers: Vec<CallbackAnswer>,
    commands: BTreeMap<(String, String), Vec<(String, String)>>,
    faults: VecDeque<(String, Fault)>,
    /// Random faults and outages (`tests/support/chaos.rs`), when switched on.
    chaos: Option<Chaos>,
    calls: Vec<ApiCall>,
    now_override: Option<DateTime<Utc>>,
    clock_file: Option<PathBuf>,
    next_media_group: u64,
}

/// A refused call: HTTP status / error_code, description, optional retry_after.
#[derive(Debug)]
struct Failure {
    code: u16,
    description: String,
}

fn bad(description: impl std::fmt::Display) -> Failure {
    Failure {
        code: 400,
        description: format!("Bad Request: {description}"),
    }
}

fn failure(code: u16, description: &str) -> Failure {
    Failure {
        code,
        description: description.to_owned(),
    }
}

type Outcome = Result<Value, Failure>;

impl State {
    fn new() -> Self {
        State {
            users: BTreeMap::new(),
            chats: BTreeMap::new(),
            next_message_id: HashMap::new(),
            messages: BTreeMap::new(),
            bot_messages: Vec::new(),
            files: HashMap::new(),
            next_file: 0,
            updates: VecDeque::new(),
            all_updates: Vec::new(),
            next_update_id: 10_000,
            max_delivered: 0,
            allowed_updates: None,
            poll_gen: 0,
            poll_hold: Duration::from_secs(1),
            conflicts: 0,
            callbacks: HashMap::new(),
            next_callback: 0,
            callback_answers: Vec::new(),
            commands: BTreeMap::new(),
            faults: VecDeque::new(),
            chaos: None,
            calls: Vec::new(),
            now_override: None,
            clock_file: None,
            next_media_group: 0,
        }
    }

    fn now(&self) -> i64 {
        if let Some(now) = self.now_override {
            return now.timestamp();
        }
        if let Some(path) = &self.clock_file {
            if let Some(now) = std::fs::read_to_string(path)
                .ok()
                .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
            {
                return now.timestamp();
            }
        }
        Utc::now().timestamp()
    }

    fn ensure_private_chat(&mut self, user: i64) {
        let title = self
            .users
            .get(&user)
            .map(|u| u.first_name.clone())
            .unwrap_or_default();
        let chat = self.chats.entry(user).or_insert_with(|| ChatState {
            id: user,
            kind: ChatKind::Private,
            title,
            members: BTreeMap::from([(user, MemberStatus::Member)]),
            bot: BotPresence::Member,
        });
        chat.bot = BotPresence::Member;
    }

    fn alloc_message_id(&mut self, chat_id: i64) -> i32 {
        let next = self.next_message_id.entry(chat_id).or_insert(0);
        *next += 1;
        *next
    }

    /// Stores a message from a user (panicking on a test set-up mistake, not a bot bug).
    fn push_user_message(
        &mut self,
        from_user: i64,
        chat_id: i64,
        fill: impl FnOnce(&mut Msg),
    ) -> i32 {
        assert!(
            self.users.contains_key(&from_user),
            "push: add_user({from_user}) first"
        );
        if chat_id == from_user {
            self.ensure_private_chat(from_user);
        }
        let chat = self.chats.get_mut(&chat_id).unwrap_or_else(|| {
            panic!("push: unknown chat {chat_id} (add_group first, or use the user's own id)")
        });
        let status = chat
            .members
            .entry(from_user)
            .or_insert(MemberStatus::Member);
        if matches!(status, MemberStatus::Left | MemberStatus::Kicked) {
            *status = MemberStatus::Member;
        }
        let message_id = self.alloc_message_id(chat_id);
        let mut msg = Msg {
            chat_id,
            message_id,
            from: from_user,
            date: self.now(),
            edit_date: None,
            content: Content::Text(Parsed {
                text: String::new(),
                entities: Vec::new(),
            }),
            raw_text: String::new(),
            parse_mode: None,
            reply_markup: None,
            media_group_id: None,
            edit_count: 0,
            deleted: false,
        };
        fill(&mut msg);
        self.messages.insert((chat_id, message_id), msg);
        message_id
    }

    fn push_update(&mut self, kind: &str, payload: Value) -> i64 {
        self.next_update_id += 1;
        let id = self.next_update_id;
        let mut update = json!({ "update_id": id });
        update[kind] = payload;
        self.updates.push_back((id, update.clone()));
        self.all_updates.push((id, update));
        id
    }

    fn store_file(&mut self, dir: &str, file_name: &str, bytes: Vec<u8>) -> String {
        self.next_file += 1;
        let n = self.next_file;
        let ext = file_name
            .rsplit_once('.')
            .map(|(_, e)| e)
            .filter(|e| !e.is_empty());
        let ext = ext.unwrap_or(if dir == "photos" { "jpg" } else { "bin" });
        let file_id = format!("BQACAgIAAxkBAAI{n:05}FakeFileId");
        self.files.insert(
            file_id.clone(),
            StoredFile {
                unique_id: format!("AgAD{n:05}"),
                path: format!("{dir}/file_{n}.{ext}"),
                file_name: file_name.to_owned(),
                bytes,
            },
        );
        file_id
    }

    // ---- JSON ----

    fn user_json(&self, id: i64) -> Value {
        if id == BOT_ID {
            return json!({
                "id": BOT_ID, "is_bot": true, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME
            });
        }
        let user = self.users.get(&id);
        let mut v = json!({
            "id": id,
            "is_bot": false,
            "first_name": user.map(|u| u.first_name.clone()).unwrap_or_else(|| format!("User {id}")),
            "language_code": "zh-hans",
        });
        if let Some(username) = user.and_then(|u| u.username.clone()) {
            v["username"] = json!(username);
        }
        v
    }

    fn chat_json(&self, chat_id: i64) -> Value {
        match self.chats.get(&chat_id) {
            Some(c) if c.kind == ChatKind::Private => {
                let mut v = json!({ "id": chat_id, "type": "private" });
                if let Some(u) = self.users.get(&chat_id) {
                    v["first_name"] = json!(u.first_name);
                    if let Some(name) = &u.username {
                        v["username"] = json!(name);
                    }
                }
                v
            }
            Some(c) => json!({
                "id": chat_id,
                "type": if c.kind == ChatKind::Group { "group" } else { "supergroup" },
                "title": c.title,
            }),
            None if chat_id > 0 => json!({ "id": chat_id, "type": "private", "first_name": "?" }),
            None => json!({ "id": chat_id, "type": "group", "title": "?" }),
        }
    }

    fn message_json(&self, chat_id: i64, message_id: i32) -> Value {
        let Some(m) = self.messages.get(&(chat_id, message_id)) else {
            return Value::Null;
        };
        let mut v = json!({
            "message_id": m.message_id,
            "from": self.user_json(m.from),
            "chat": self.chat_json(chat_id),
            "date": m.date,
        });
        if let Some(edit_date) = m.edit_date {
            v["edit_date"] = json!(edit_date);
        }
        let put_caption = |v: &mut Value, caption: &Option<Parsed>| {
            if let Some(c) = caption {
                v["caption"] = json!(c.text);
                if !c.entities.is_empty() {
                    v["caption_entities"] = c.entities_json();
                }
            }
        };
        match &m.content {
            Content::Text(p) => {
                v["text"] = json!(p.text);
                if !p.entities.is_empty() {
                    v["entities"] = p.entities_json();
                }
            }
            Content::Document { file_id, caption } => {
                let f = &self.files[file_id];
                v["document"] = json!({
                    "file_name": f.file_name,
                    "mime_type": mime_type(&f.file_name),
                    "file_id": file_id,
                    "file_unique_id": f.unique_id,
                    "file_size": f.bytes.len(),
                });
                put_caption(&mut v, caption);
            }
            Content::Photo { file_id, caption } => {
                let f = &self.files[file_id];
                let (w, h) = image_size(&f.bytes).unwrap_or((1, 1));
                v["photo"] = json!([{
                    "file_id": file_id,
                    "file_unique_id": f.unique_id,
                    "width": w,
                    "height": h,
                    "file_size": f.bytes.len(),
                }]);
                put_caption(&mut v, caption);
            }
        }
        if let Some(markup) = m
            .reply_markup
            .as_ref()
            .filter(|r| r.get("inline_keyboard").is_some())
        {
            v["reply_markup"] = markup.clone();
        }
        if let Some(group) = &m.media_group_id {
            v["media_group_id"] = json!(group);
        }
        v
    }

    // ---- inspection ----

    fn sent_messages(&self, chat: Option<i64>, since: usize) -> Vec<SentMessage> {
        self.bot_messages
            .iter()
            .skip(since)
            .filter(|(c, _)| chat.is_none_or(|x| x == *c))
            .filter_map(|key| {
                let m = &self.messages[key];
                let Content::Text(p) = &m.content else {
                    return None;
                };
                Some(SentMessage {
                    chat_id: m.chat_id,
                    message_id: m.message_id,
                    text: m.raw_text.clone(),
                    plain_text: p.text.clone(),
                    parse_mode: m.parse_mode.clone(),
                    reply_markup: m.reply_markup.clone(),
                    edited: m.edit_count > 0,
                    edit_count: m.edit_count,
                    deleted: m.deleted,
                    date: m.date,
                })
            })
            .collect()
    }

    fn sent_files(&self, chat: Option<i64>, kind: FileKind) -> Vec<SentFile> {
        self.bot_messages
            .iter()
            .filter(|(c, _)| chat.is_none_or(|x| x == *c))
            .filter_map(|key| {
                let m = &self.messages[key];
                let (file_id, caption) = match (&m.content, kind) {
                    (Content::Document { file_id, caption }, FileKind::Document)
                    | (Content::Photo { file_id, caption }, FileKind::Photo) => (file_id, caption),
                    _ => return None,
                };
                let f = &self.files[file_id];
                Some(SentFile {
                    chat_id: m.chat_id,
                    message_id: m.message_id,
                    file_id: file_id.clone(),
                    file_name: f.file_name.clone(),
                    bytes: f.bytes.clone(),
                    caption: caption.as_ref().map(|_| m.raw_text.clone()),
                    plain_caption: caption.as_ref().map(|c| c.text.clone()),
                    parse_mode: m.parse_mode.clone(),
                    reply_markup: m.reply_markup.clone(),
                    media_group_id: m.media_group_id.clone(),
                    edited: m.edit_count > 0,
                    deleted: m.deleted,
                })
            })
            .collect()
    }

    fn dump(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "==== what the bot sent (fake Telegram API) ====");
        let mut chats: Vec<i64> = self.bot_messages.iter().map(|(c, _)| *c).collect();
        chats.sort_unstable();
        chats.dedup();
        if chats.is_empty() {
            let _ = writeln!(out, "(no messages)");
        }
        for chat in chats {
            let title = self
                .chats
                .get(&chat)
                .map(|c| c.title.clone())
                .unwrap_or_default();
            let _ = writeln!(out, "-- chat {chat} ({title})");
            for key in self.bot_messages.iter().filter(|(c, _)| *c == chat) {
                let m = &self.messages[key];
                let mut flags = String::new();
                if m.edit_count > 0 {
                    let _ = write!(flags, " edited×{}", m.edit_count);
                }
                if m.deleted {
                    flags.push_str(" deleted");
                }
                let body = match &m.content {
                    Content::Text(p) => p.text.clone(),
                    Content::Document { file_id, caption } => format!(
                        "[document {:?}, {} bytes] {}",
                        self.files[file_id].file_name,
                        self.files[file_id].bytes.len(),
                        caption
                            .as_ref()
                            .map(|c| c.text.as_str())
                            .unwrap_or_default()
                    ),
                    Content::Photo { file_id, caption } => format!(
                        "[photo, {} bytes] {}",
                        self.files[file_id].bytes.len(),
                        caption
                            .as_ref()
                            .map(|c| c.text.as_str())
                            .unwrap_or_default()
                    ),
                };
                let _ = writeln!(out, "  #{}{flags}: {}", m.message_id, clip(&body, 600));
                let buttons = buttons_of(m.reply_markup.as_ref());
                if !buttons.is_empty() {
                    let labels: Vec<String> = buttons
                        .iter()
                        .map(|b| match (&b.callback_data, &b.url) {
                            (Some(d), _) => format!("[{} → {d}]", b.text),
                            (_, Some(u)) => format!("[{} → {u}]", b.text),
                            _ => format!("[{}]", b.text),
                        })
                        .collect();
                    let _ = writeln!(out, "      buttons: {}", labels.join(" "));
                }
            }
        }
        if !self.callback_answers.is_empty() {
            let _ = writeln!(out, "-- callback answers");
            for a in &self.callback_answers {
                let _ = writeln!(out, "  {} ({}): {:?}", a.callback_query_id, a.data, a.text);
            }
        }
        let calls: Vec<&ApiCall> = self
            .calls
            .iter()
            .filter(|c| !is_polling(&c.method))
            .collect();
        let _ = writeln!(
            out,
            "-- last calls (getUpdates omitted), {} in all",
            calls.len()
        );
        for c in calls.iter().skip(calls.len().saturating_sub(40)) {
            match c.error_description() {
                None => {
                    let _ = writeln!(out, "  {} ok", c.method);
                }
                Some(e) => {
                    let _ = writeln!(out, "  {} FAILED: {e}", c.method);
                }
            }
        }
        let _ = writeln!(
            out,
            "-- {} update(s) not yet confirmed by getUpdates",
            self.updates.len()
        );
        out
    }

    // ---- checks shared by the methods ----

    fn chat(&self, chat_id: i64) -> Result<&ChatState, Failure> {
        match self.chats.get(&chat_id) {
            Some(chat) => Ok(chat),
            None if self.users.contains_key(&chat_id) => Err(failure(
                403,
                "Forbidden: bot can't initiate conversation with a user",
            )),
            None => Err(bad("chat not found")),
        }
    }

    /// The chat must exist and the bot must still be in it (403 otherwise).
    fn chat_for_bot(&self, chat_id: i64) -> Result<&ChatState, Failure> {
        let chat = self.chat(chat_id)?;
        match (chat.bot, chat.kind) {
            (BotPresence::Removed, ChatKind::Private) => {
                Err(failure(403, "Forbidden: bot was blocked by the user"))
            }
            (BotPresence::Removed, ChatKind::Group) => Err(failure(
                403,
                "Forbidden: bot was kicked from the group chat",
            )),
            (BotPresence::Removed, ChatKind::Supergroup) => Err(failure(
                403,
                "Forbidden: bot was kicked from the supergroup chat",
            )),
            (BotPresence::Left, ChatKind::Supergroup) => Err(failure(
                403,
                "Forbidden: bot is not a member of the supergroup chat",
            )),
            (BotPresence::Left, _) => Err(failure(
                403,
                "Forbidden: bot is not a member of the group chat",
            )),
            _ => Ok(chat),
        }
    }

    fn new_bot_message(&mut self, chat_id: i64, content: Content, p: &Params) -> i32 {
        let message_id = self.alloc_message_id(chat_id);
        let raw_text = p
            .str("text")
            .or_else(|| p.str("caption"))
            .unwrap_or_default();
        let msg = Msg {
            chat_id,
            message_id,
            from: BOT_ID,
            date: self.now(),
            edit_date: None,
            content,
            raw_text,
            parse_mode: p.str("parse_mode"),
            reply_markup: normalize_markup(p.json("reply_markup")),
            media_group_id: None,
            edit_count: 0,
            deleted: false,
        };
        self.messages.insert((chat_id, message_id), msg);
        self.bot_messages.push((chat_id, message_id));
        message_id
    }

    fn check_reply_to(&self, chat_id: i64, p: &Params) -> Result<(), Failure> {
        let Some(reply) = p.json("reply_parameters") else {
            return Ok(());
        };
        let target = reply["message_id"].as_i64().unwrap_or(0) as i32;
        let allow = reply["allow_sending_without_reply"]
            .as_bool()
            .unwrap_or(false);
        let exists = self
            .messages
            .get(&(chat_id, target))
            .is_some_and(|m| !m.deleted);
        if !exists && !allow {
            return Err(bad("message to be replied not found"));
        }
        Ok(())
    }

    // ---- methods ----

    fn dispatch(&mut self, method: &str, p: &Params) -> Option<Outcome> {
        let outcome = match method.to_ascii_lowercase().as_str() {
            "getme" => Ok(json!({
                "id": BOT_ID,
                "is_bot": true,
                "first_name": BOT_FIRST_NAME,
                "username": BOT_USERNAME,
                "can_join_groups": true,
                "can_read_all_group_messages": false,
                "supports_inline_queries": false,
                "can_connect_to_business": false,
                "has_main_web_app": false,
            })),
            "getwebhookinfo" => Ok(json!({
                "url": "",
                "has_custom_certificate": false,
                "pending_update_count": self.updates.len(),
            })),
            "deletewebhook" => {
                if p.bool("drop_pending_updates") {
                    self.updates.clear();
                }
                Ok(json!(true))
            }
            "logout" | "close" => Ok(json!(true)),
            "sendmessage" => self.send_message(p),
            "editmessagetext" => self.edit_message_text(p),
            "editmessagereplymarkup" => self.edit_message_reply_markup(p),
            "editmessagecaption" => self.edit_message_caption(p),
            "deletemessage" => self.delete_message(p),
            "answercallbackquery" => self.answer_callback_query(p),
            "senddocument" => self.send_file(p, FileKind::Document),
            "sendphoto" => self.send_file(p, FileKind::Photo),
            "sendmediagroup" => self.send_media_group(p),
            "sendchataction" => p
                .chat_id()
                .and_then(|c| self.chat_for_bot(c))
                .map(|_| json!(true)),
            "getchatmember" => self.get_chat_member(p),
            "getchatadministrators" => self.get_chat_administrators(p),
            "getchat" => self.get_chat(p),
            "leavechat" => self.leave_chat(p),
            "setmycommands" => self.set_my_commands(p),
            "deletemycommands" => {
                let key = commands_key(p);
                self.commands.remove(&key);
                Ok(json!(true))
            }
            "getmycommands" => {
                let list = self
                    .commands
                    .get(&commands_key(p))
                    .cloned()
                    .unwrap_or_default();
                let list: Vec<Value> = list
                    .into_iter()
                    .map(|(c, d)| json!({ "command": c, "description": d }))
                    .collect();
                Ok(Value::Array(list))
            }
            "getfile" => {
                let id = p.str("file_id").unwrap_or_default();
                match self.files.get(&id) {
                    Some(f) => Ok(json!({
                        "file_id": id,
                        "file_unique_id": f.unique_id,
                        "file_size": f.bytes.len(),
                        "file_path": f.path,
                    })),
                    None => Err(bad("invalid file id")),
                }
            }
            _ => return None,
        };
        Some(outcome)
    }

    fn send_message(&mut self, p: &Params) -> Outcome {
        let chat_id = p.chat_id()?;
        self.chat_for_bot(chat_id)?;
        let parsed = parse_text(p, "text", MAX_TEXT_LEN)?;
        validate_markup(p.json("reply_markup").as_ref())?;
        self.check_reply_to(chat_id, p)?;
        let id = self.new_bot_message(chat_id, Content::Text(parsed), p);
        Ok(self.message_json(chat_id, id))
    }

    fn message_to_edit(&self, p: &Params) -> Result<(i64, i32), Failure> {
        if p.has("inline_message_id") {
            return Err(bad("inline messages are not supported by the fake API"));
        }
        let chat_id = p.chat_id()?;
        self.chat_for_bot(chat_id)?;
        let Some(message_id) = p.i64("message_id") else {
            return Err(bad("message identifier is not specified"));
        };
        let key = (chat_id, message_id as i32);
        match self.messages.get(&key) {
            Some(m) if !m.deleted && m.from == BOT_ID => Ok(key),
            Some(m) if !m.deleted => Err(bad("message can't be edited")),
            _ => Err(bad("message to edit not found")),
        }
    }

    fn edit_message_text(&mut self, p: &Params) -> Outcome {
        let key = self.message_to_edit(p)?;
        if !matches!(self.messages[&key].content, Content::Text(_)) {
            return Err(bad("there is no text in the message to edit"));
        }
        let parsed = parse_text(p, "text", MAX_TEXT_LEN)?;
        validate_markup(p.json("reply_markup").as_ref())?;
        let markup = normalize_markup(p.json("reply_markup"));
        let now = self.now();
        let m = self.messages.get_mut(&key).expect("checked above");
        if matches!(&m.content, Content::Text(old) if *old == parsed) && m.reply_markup == markup {
            return Err(failure(400, NOT_MODIFIED));
        }
        m.content = Content::Text(parsed);
        m.raw_text = p.str("text").unwrap_or_default();
        m.parse_mode = p.str("parse_mode");
        m.reply_markup = markup;
        m.edit_count += 1;
        m.edit_date = Some(now);
        Ok(self.message_json(key.0, key.1))
    }

    fn edit_message_reply_markup(&mut self, p: &Params) -> Outcome {
        let key = self.message_to_edit(p)?;
        validate_markup(p.json("reply_markup").as_ref())?;
        let markup = normalize_markup(p.json("reply_markup"));
        let now = self.now();
        let m = self.messages.get_mut(&key).expect("checked above");
        if m.reply_markup == markup {
            return Err(failure(400, NOT_MODIFIED));
        }
        m.reply_markup = markup;
        m.edit_count += 1;
        m.edit_date = Some(now);
        Ok(self.message_json(key.0, key.1))
    }

    fn edit_message_caption(&mut self, p: &Params) -> Outcome {
        let key = self.message_to_edit(p)?;
        let caption = parse_caption(p)?;
        validate_markup(p.json("reply_markup").as_ref())?;
        let markup = normalize_markup(p.json("reply_markup"));
        let now = self.now();
        let m = self.messages.get_mut(&key).expect("checked above");
        let slot = match &mut m.content {
            Content::Text(_) => return Err(bad("there is no caption in the message to edit")),
            Content::Document { caption, .. } | Content::Photo { caption, .. } => caption,
        };
        if *slot == caption && m.reply_markup == markup {
            return Err(failure(400, NOT_MODIFIED));
        }
        *slot = caption;
        m.raw_text = p.str("caption").unwrap_or_default();
        m.parse_mode = p.str("parse_mode");
        m.reply_markup = markup;
        m.edit_count += 1;
        m.edit_date = Some(now);
        Ok(self.message_json(key.0, key.1))
    }

    fn delete_message(&mut self, p: &Params) -> Outcome {
        let chat_id = p.chat_id()?;
        self.chat_for_bot(chat_id)?;
        let message_id = p.i64("message_id").unwrap_or(0) as i32;
        match self.messages.get_mut(&(chat_id, message_id)) {
            Some(m) if !m.deleted => {
                m.deleted = true;
                Ok(json!(true))
            }
            _ => Err(bad("message to delete not found")),
        }
    }

    fn answer_callback_query(&mut self, p: &Params) -> Outcome {
        let id = p.str("callback_query_id").unwrap_or_default();
        let text = p.str("text");
        if text
            .as_deref()
            .is_some_and(|t| markup::utf16_len(t) > MAX_CALLBACK_ANSWER_LEN)
        {
            return Err(bad("MESSAGE_TOO_LONG"));
        }
        let Some(query) = self.callbacks.get_mut(&id).filter(|q| !q.answered) else {
            return Err(failure(400, QUERY_TOO_OLD));
        };
        query.answered = true;
        let answer = CallbackAnswer {
            callback_query_id: id,
            text,
            show_alert: p.bool("show_alert"),
            url: p.str("url"),
            from_user: query.from_user,
            chat_id: query.chat_id,
            message_id: query.message_id,
            data: query.data.clone(),
        };
        self.callback_answers.push(answer);
        Ok(json!(true))
    }

    /// Resolves a file parameter: an uploaded part, `attach://<part>`, or a known file_id.
    fn input_file(
        &self,
        p: &Params,
        value: Option<&str>,
        field: &str,
    ) -> Result<(String, Vec<u8>), Failure> {
        if let Some(u) = p.uploads.iter().find(|u| u.field == field) {
            return Ok((u.file_name.clone(), u.bytes.clone()));
        }
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Err(bad(format!("there is no {field} in the request")));
        };
        if let Some(part) = value.strip_prefix("attach://") {
            return match p.uploads.iter().find(|u| u.field == part) {
                Some(u) => Ok((u.file_name.clone(), u.bytes.clone())),
                None => match p.map.get(part).and_then(Value::as_str) {
                    Some(text) => Ok((String::new(), text.as_bytes().to_vec())),
                    None => Err(bad(format!("file {value} not found in the request"))),
                },
            };
        }
        if let Some(f) = self.files.get(value) {
            return Ok((f.file_name.clone(), f.bytes.clone()));
        }
        if value.starts_with("http://") || value.starts_with("https://") {
            return Err(bad("failed to get HTTP URL content"));
        }
        Err(bad("wrong file identifier/HTTP URL specified"))
    }

    fn send_file(&mut self, p: &Params, kind: FileKind) -> Outcome {
        let chat_id = p.chat_id()?;
        self.chat_for_bot(chat_id)?;
        let field = if kind == FileKind::Photo {
            "photo"
        } else {
            "document"
        };
        let (file_name, bytes) = self.input_file(p, p.str(field).as_deref(), field)?;
        check_file(&bytes, kind)?;
        let caption = parse_caption(p)?;
        validate_markup(p.json("reply_markup").as_ref())?;
        self.check_reply_to(chat_id, p)?;
        let file_id = self.store_file(
            if kind == FileKind::Photo {
                "photos"
            } else {
                "documents"
            },
            &file_name,
            bytes,
        );
        let content = match kind {
            FileKind::Photo => Content::Photo { file_id, caption },
            FileKind::Document => Content::Document { file_id, caption },
        };
        let id = self.new_bot_message(chat_id, content, p);
        Ok(self.message_json(chat_id, id))
    }

    fn send_media_group(&mut self, p: &Params) -> Outcome {
        let chat_id = p.chat_id()?;
        self.chat_for_bot(chat_id)?;
        let media = p
            .json("media")
            .and_then(|m| m.as_array().cloned())
            .unwrap_or_default();
        if media.len() > 10 {
            return Err(bad("Too much messages to send as an album"));
        }
        if media.len() < 2 {
            return Err(bad("MEDIA_GROUP_COUNT_INVALID"));
        }
        let kinds: Vec<&str> = media
            .iter()
            .map(|m| m["type"].as_str().unwrap_or(""))
            .collect();
        if kinds.contains(&"document") && kinds.iter().any(|k| *k != "document") {
            return Err(bad("document can't be mixed with other media types"));
        }
        let mut items = Vec::new();
        for item in &media {
            let kind = match item["type"].as_str() {
                Some("document") => FileKind::Document,
                Some("photo") => FileKind::Photo,
                other => {
                    return Err(bad(format!(
                        "unsupported media type {other:?} in the fake API"
                    )))
                }
            };
            let (file_name, bytes) = self.input_file(p, item["media"].as_str(), "media")?;
            check_file(&bytes, kind)?;
            let item_params = Params::from_value(item.clone());
            let caption = parse_caption(&item_params)?;
            items.push((kind, file_name, bytes, caption, item_params));
        }
        self.check_reply_to(chat_id, p)?;
        self.next_media_group += 1;
        let group_id = format!("1{:017}", self.next_media_group);
        let mut out = Vec::new();
        for (kind, file_name, bytes, caption, item_params) in items {
            let dir = if kind == FileKind::Photo {
                "photos"
            } else {
                "documents"
            };
            let file_id = self.store_file(dir, &file_name, bytes);
            let content = match kind {
                FileKind::Photo => Content::Photo { file_id, caption },
                FileKind::Document => Content::Document { file_id, caption },
            };
            let id = self.new_bot_message(chat_id, content, &item_params);
            if let Some(m) = self.messages.get_mut(&(chat_id, id)) {
                m.media_group_id = Some(group_id.clone());
            }
            out.push(self.message_json(chat_id, id));
        }
        Ok(Value::Array(out))
    }

    fn member_json(&self, chat: &ChatState, user: i64) -> Result<Value, Failure> {
        let status = if user == BOT_ID {
            match chat.bot {
                BotPresence::Admin => MemberStatus::Administrator,
                BotPresence::Member => MemberStatus::Member,
                BotPresence::Removed => MemberStatus::Kicked,
                BotPresence::Left => MemberStatus::Left,
            }
        } else if !self.users.contains_key(&user) {
            return Err(bad("user not found"));
        } else if chat.kind == ChatKind::Private {
            if user != chat.id {
                return Err(bad("user not found"));
            }
            MemberStatus::Member
        } else {
            chat.members
                .get(&user)
                .copied()
                .unwrap_or(MemberStatus::Left)
        };
        let mut v = json!({ "user": self.user_json(user) });
        match status {
            MemberStatus::Creator => {
                v["status"] = json!("creator");
                v["is_anonymous"] = json!(false);
            }
            MemberStatus::Administrator => {
                v["status"] = json!("administrator");
                for (k, b) in [
                    ("can_be_edited", false),
                    ("is_anonymous", false),
                    ("can_manage_chat", true),
                    ("can_delete_messages", true),
                    ("can_manage_video_chats", true),
                    ("can_restrict_members", true),
                    ("can_promote_members", false),
                    ("can_change_info", true),
                    ("can_invite_users", true),
                    ("can_post_stories", false),
                    ("can_edit_stories", false),
                    ("can_delete_stories", false),
                    ("can_pin_messages", true),
                ] {
                    v[k] = json!(b);
                }
            }
            MemberStatus::Member => v["status"] = json!("member"),
            MemberStatus::Restricted => {
                v["status"] = json!("restricted");
                v["until_date"] = json!(0);
                v["is_member"] = json!(true);
                for k in [
                    "can_send_messages",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_manage_topics",
                ] {
                    v[k] = json!(false);
                }
            }
            MemberStatus::Left => v["status"] = json!("left"),
            MemberStatus::Kicked => {
                v["status"] = json!("kicked");
                v["until_date"] = json!(0);
            }
        }
        Ok(v)
    }

    fn get_chat_member(&mut self, p: &Params) -> Outcome {
        let chat_id = p.chat_id()?;
        let chat = self.chat_for_bot(chat_id)?;
        let Some(user) = p.i64("user_id") else {
            return Err(bad("user not found"));
        };
        self.member_json(chat, user)
    }

    fn get_chat_administrators(&mut self, p: &Params) -> Outcome {
        let chat_id = p.chat_id()?;
        let chat = self.chat_for_bot(chat_id)?;
        if chat.kind == ChatKind::Private {
            return Err(bad("there are no administrators in the private chat"));
        }
        let mut admins = Vec::new();
        let mut ids: Vec<(i64, MemberStatus)> = chat
            .members
            .iter()
            .filter(|(_, s)| s.is_admin())
            .map(|(&id, &s)| (id, s))
            .collect();
        ids.sort_by_key(|&(id, s)| (s != MemberStatus::Creator, id));
        for (id, _) in ids {
            admins.push(self.member_json(chat, id)?);
        }
        if chat.bot == BotPresence::Admin {
            admins.push(self.member_json(chat, BOT_ID)?);
        }
        Ok(Value::Array(admins))
    }

    fn get_chat(&mut self, p: &Params) -> Outcome {
        let chat_id = p.chat_id()?;
        let chat = self.chat(chat_id)?;
        if chat.kind != ChatKind::Private {
            self.chat_for_bot(chat_id)?;
        }
        let mut v = self.chat_json(chat_id);
        v["accent_color_id"] = json!(0);
        v["max_reaction_count"] = json!(11);
        v["accepted_gift_types"] = json!({
            "unlimited_gifts": false,
            "limited_gifts": false,
            "unique_gifts": false,
            "premium_subscription": false,
        });
        if chat.kind != ChatKind::Private {
            v["permissions"] = json!({
                "can_send_messages": true,
                "can_send_audios": true,
                "can_send_documents": true,
                "can_send_photos": true,
                "can_send_videos": true,
                "can_send_video_notes": true,
                "can_send_voice_notes": true,
                "can_send_polls": true,
                "can_send_other_messages": true,
                "can_add_web_page_previews": true,
                "can_change_info": false,
                "can_invite_users": true,
                "can_pin_messages": false,
                "can_manage_topics": false,
            });
        }
        Ok(v)
    }

    fn leave_chat(&mut self, p: &Params) -> Outcome {
        let chat_id = p.chat_id()?;
        let kind = self.chat_for_bot(chat_id)?.kind;
        if kind == ChatKind::Private {
            return Err(bad("chat member status can't be changed in private chats"));
        }
        if let Some(chat) = self.chats.get_mut(&chat_id) {
            chat.bot = BotPresence::Left;
        }
        Ok(json!(true))
    }

    fn set_my_commands(&mut self, p: &Params) -> Outcome {
        let list = p
            .json("commands")
            .and_then(|c| c.as_array().cloned())
            .unwrap_or_default();
        if list.len() > 100 {
            return Err(bad("BOT_COMMANDS_TOO_MUCH"));
        }
        let mut commands = Vec::new();
        for c in list {
            // teloxide's `BotCommands::bot_commands()` prefixes a '/', which Telegram strips.
            let command = c["command"].as_str().unwrap_or_default();
            let command = command.strip_prefix('/').unwrap_or(command).to_owned();
            let description = c["description"].as_str().unwrap_or_default().to_owned();
            let valid = (1..=32).contains(&command.len())
                && command
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            if !valid {
                return Err(bad("BOT_COMMAND_INVALID"));
            }
            if !(1..=256).contains(&description.chars().count()) {
                return Err(bad("BOT_COMMAND_DESCRIPTION_INVALID"));
            }
            commands.push((command, description));
        }
        if let Some(chat_id) = p.json("scope").and_then(|s| id_of(&s["chat_id"])) {
            self.chat(chat_id)?;
        }
        let key = commands_key(p);
        if commands.is_empty() {
            self.commands.remove(&key);
        } else {
            self.commands.insert(key, commands);
        }
        Ok(json!(true))
    }

    // ---- updates ----

    /// Drops confirmed updates (`offset` as in the Bot API, negative: keep the last -offset).
    fn confirm(&mut self, offset: i64) {
        if offset < 0 {
            let keep = offset.unsigned_abs() as usize;
            while self.updates.len() > keep {
                self.updates.pop_front();
            }
        } else if offset > 0 {
            self.updates.retain(|(id, _)| *id >= offset);
        }
    }

    fn allowed(&self, update: &Value) -> bool {
        let kind = update
            .as_object()
            .and_then(|o| o.keys().find(|k| *k != "update_id").cloned())
            .unwrap_or_default();
        match &self.allowed_updates {
            Some(list) if !list.is_empty() => list.contains(&kind),
            _ => !matches!(
                kind.as_str(),
                "chat_member" | "message_reaction" | "message_reaction_count"
            ),
        }
    }

    fn take_available(&mut self, limit: usize) -> Vec<Value> {
        // Telegram discards updates of kinds the bot did not ask for.
        let updates = std::mem::take(&mut self.updates);
        self.updates = updates
            .into_iter()
            .filter(|(_, u)| self.allowed(u))
            .collect();
        let out: Vec<(i64, Value)> = self.updates.iter().take(limit).cloned().collect();
        if let Some((id, _)) = out.last() {
            self.max_delivered = self.max_delivered.max(*id);
        }
        out.into_iter().map(|(_, u)| u).collect()
    }
}

/// The `bot_command` entity of a text starting with `/command`.
fn command_entity(text: &str) -> Option<markup::Entity> {
    if !text.starts_with('/') {
        return None;
    }
    let token = text.split(char::is_whitespace).next().unwrap_or_default();
    (token.len() > 1).then(|| markup::Entity {
        kind: "bot_command".to_owned(),
        offset: 0,
        length: markup::utf16_len(token),
        url: None,
        language: None,
    })
}

/// Parses a message text parameter and applies Telegram's emptiness and length limits.
fn parse_text(p: &Params, field: &str, max: usize) -> Result<Parsed, Failure> {
    let raw = p.str(field).unwrap_or_default();
    if raw.trim().is_empty() {
        return Err(bad("message text is empty"));
    }
    let parsed = parse_with_mode(p, &raw)?;
    if parsed.text.is_empty() {
        return Err(bad("message text is empty"));
    }
    if markup::utf16_len(&parsed.text) > max {
        return Err(bad("message is too long"));
    }
    Ok(parsed)
}

fn parse_caption(p: &Params) -> Result<Option<Parsed>, Failure> {
    let Some(raw) = p.str("caption") else {
        return Ok(None);
    };
    let parsed = parse_with_mode(p, &raw)?;
    if markup::utf16_len(&parsed.text) > MAX_CAPTION_LEN {
        return Err(bad("message caption is too long"));
    }
    Ok((!parsed.text.is_empty()).then_some(parsed))
}

fn parse_with_mode(p: &Params, raw: &str) -> Result<Parsed, Failure> {
    let mode = p.str("parse_mode");
    let mut parsed = markup::parse(raw, mode.as_deref()).map_err(|description| Failure {
        code: 400,
        description,
    })?;
    if mode.is_none() {
        let explicit = p.json("entities").or_else(|| p.json("caption_entities"));
        if let Some(list) = explicit.and_then(|e| e.as_array().cloned()) {
            parsed.entities = list
                .iter()
                .map(|e| markup::Entity {
                    kind: e["type"].as_str().unwrap_or_default().to_owned(),
                    offset: e["offset"].as_u64().unwrap_or(0) as usize,
                    length: e["length"].as_u64().unwrap_or(0) as usize,
                    url: e["url"].as_str().map(str::to_owned),
                    language: e["language"].as_str().map(str::to_owned),
                })
                .collect();
        }
    }
    Ok(parsed)
}

/// An empty inline keyboard is the same as none, as far as "not modified" goes.
fn normalize_markup(markup: Option<Value>) -> Option<Value> {
    let markup = markup?;
    if let Some(rows) = markup.get("inline_keyboard").and_then(Value::as_array) {
        if rows
            .iter()
            .all(|r| r.as_array().is_none_or(|r| r.is_empty()))
        {
            return None;
        }
    }
    Some(markup)
}

fn validate_markup(markup: Option<&Value>) -> Result<(), Failure> {
    let Some(rows) = markup
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
    else {
        return Ok(());
    };
    for button in rows.iter().filter_map(Value::as_array).flatten() {
        let text = button["text"].as_str().unwrap_or_default();
        if text.is_empty() {
            return Err(bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"));
        }
        if let Some(data) = button.get("callback_data") {
            let len = data.as_str().map_or(0, str::len);
            if !(1..=MAX_CALLBACK_DATA_BYTES).contains(&len) {
                return Err(bad("BUTTON_DATA_INVALID"));
            }
        } else if let Some(url) = button.get("url") {
            let url = url.as_str().unwrap_or_default();
            let ok = ["http://", "https://", "tg://"]
                .iter()
                .any(|s| url.starts_with(s))
                && !url.chars().any(char::is_whitespace);
            if !ok {
                return Err(bad("BUTTON_URL_INVALID"));
            }
            check_deep_link(url);
        } else if ![
            "switch_inline_query",
            "switch_inline_query_current_chat",
            "login_url",
            "web_app",
            "copy_text",
            "pay",
            "callback_game",
            "switch_inline_query_chosen_chat",
        ]
        .iter()
        .any(|k| button.get(k).is_some())
        {
            return Err(bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
            ));
        }
    }
    Ok(())
}

/// Telegram accepts any link, but clients silently drop a `start` parameter that is not
/// 1-64 characters of `A-Za-z0-9_-`; say so loudly, because the deep link then does nothing.
fn check_deep_link(url: &str) {
    let Some((_, query)) = url.split_once('?') else {
        return;
    };
    for pair in query.split('&') {
        if let Some(payload) = pair
            .strip_prefix("start=")
            .or_else(|| pair.strip_prefix("startgroup="))
        {
            let valid = (1..=64).contains(&payload.len())
                && payload
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                eprintln!(
                    "fake-api: WARNING: deep link {url}: Telegram clients ignore a start parameter \
                     that is not 1-64 characters of A-Za-z0-9_-"
                );
            }
        }
    }
}

fn buttons_of(markup: Option<&Value>) -> Vec<InlineButton> {
    let Some(rows) = markup
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    rows.iter()
        .filter_map(Value::as_array)
        .flatten()
        .map(|b| InlineButton {
            text: b["text"].as_str().unwrap_or_default().to_owned(),
            callback_data: b["callback_data"].as_str().map(str::to_owned),
            url: b["url"].as_str().map(str::to_owned),
        })
        .collect()
}

fn check_file(bytes: &[u8], kind: FileKind) -> Result<(), Failure> {
    if bytes.is_empty() {
        return Err(bad("file must be non-empty"));
    }
    let limit = if kind == FileKind::Photo { 10 } else { 50 };
    if bytes.len() > limit * 1024 * 1024 {
        return Err(failure(413, "Request Entity Too Large"));
    }
    if kind == FileKind::Photo {
        let Some((w, h)) = image_size(bytes) else {
            return Err(bad("IMAGE_PROCESS_FAILED"));
        };
        let (w, h) = (w.max(1), h.max(1));
        if w + h > 10_000 || w.max(h) / w.min(h) > 20 {
            return Err(bad("PHOTO_INVALID_DIMENSIONS"));
        }
    }
    Ok(())
}

/// Width and height of a PNG, JPEG, GIF, WebP or BMP picture; `None` if it is none of them.
fn image_size(b: &[u8]) -> Option<(u32, u32)> {
    let be32 = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    };
    let be16 = |i: usize| {
        b.get(i..i + 2)
            .map(|s| u16::from_be_bytes([s[0], s[1]]) as u32)
    };
    let le16 = |i: usize| {
        b.get(i..i + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]) as u32)
    };
    let le32 = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((be32(16)?, be32(20)?));
    }
    if b.starts_with(b"GIF8") {
        return Some((le16(6)?, le16(8)?));
    }
    if b.starts_with(b"BM") {
        return Some((le32(18)?, le32(22)?));
    }
    if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        return Some((1, 1));
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let mut i = 2;
        while i + 9 < b.len() {
            if b[i] != 0xFF {
                return None;
            }
            let marker = b[i + 1];
            if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
                return Some((be16(i + 7)?, be16(i + 5)?));
            }
            i += 2 + be16(i + 2)? as usize;
        }
        return Some((1, 1));
    }
    None
}

fn mime_type(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xls" => "application/vnd.ms-excel",
        "csv" => "text/csv",
        "txt" => "text/plain",
        "toml" => "application/toml",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_owned();
    }
    let head: String = s.chars().take(max_chars).collect();
    format!("{head}… ({} chars)", s.chars().count())
}

fn id_of(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn normalize_scope(scope: Option<Value>) -> Value {
    let mut scope = scope
        .filter(|s| s.is_object())
        .unwrap_or_else(|| json!({ "type": "default" }));
    if let Some(id) = id_of(&scope["chat_id"]) {
        scope["chat_id"] = json!(id);
    }
    if let Some(id) = id_of(&scope["user_id"]) {
        scope["user_id"] = json!(id);
    }
    scope
}

fn commands_key(p: &Params) -> (String, String) {
    (
        normalize_scope(p.json("scope")).to_string(),
        p.str("language_code").unwrap_or_default(),
    )
}

// ---- HTTP -----------------------------------------------------------------------------------

/// The parameters of one call, from a JSON body or the fields of a multipart body.
struct Params {
    map: Map<String, Value>,
    uploads: Vec<Upload>,
}

impl Params {
    fn from_value(v: Value) -> Self {
        let map = match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Params {
            map,
            uploads: Vec::new(),
        }
    }

    fn has(&self, k: &str) -> bool {
        self.map.get(k).is_some_and(|v| !v.is_null())
    }

    fn i64(&self, k: &str) -> Option<i64> {
        self.map.get(k).and_then(id_of)
    }

    fn str(&self, k: &str) -> Option<String> {
        match self.map.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    fn bool(&self, k: &str) -> bool {
        match self.map.get(k) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        }
    }

    fn json(&self, k: &str) -> Option<Value> {
        match self.map.get(k)? {
            Value::String(s) => serde_json::from_str(s).ok(),
            Value::Null => None,
            v => Some(v.clone()),
        }
    }

    fn chat_id(&self) -> Result<i64, Failure> {
        match self.map.get("chat_id") {
            None | Some(Value::Null) => Err(bad("chat_id is empty")),
            Some(v) => id_of(v).ok_or_else(|| bad("chat not found")),
        }
    }
}

async fn read_params(req: Request) -> Result<Params, String> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let mut params = Params {
        map: Map::new(),
        uploads: Vec::new(),
    };
    for (k, v) in form_pairs(&query) {
        params.map.insert(k, Value::String(v));
    }
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| e.to_string())?;
        while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(|e| e.to_string())?;
            match (file_name, String::from_utf8(bytes.to_vec())) {
                (None, Ok(text)) => {
                    let name_is = |list: &[&str]| list.contains(&name.as_str());
                    let value = if name_is(JSON_FIELDS) {
                        serde_json::from_str(&text).unwrap_or(Value::String(text))
                    } else if let (true, Ok(n)) = (name_is(INT_FIELDS), text.trim().parse::<i64>())
                    {
                        json!(n)
                    } else if name_is(BOOL_FIELDS) && (text == "true" || text == "false") {
                        json!(text == "true")
                    } else {
                        Value::String(text)
                    };
                    params.map.insert(name, value);
                }
                (file_name, _) => params.uploads.push(Upload {
                    field: name,
                    file_name: file_name.unwrap_or_default(),
                    bytes: bytes.to_vec(),
                }),
            }
        }
        return Ok(params);
    }
    let body = Bytes::from_request(req, &())
        .await
        .map_err(|e| e.to_string())?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in form_pairs(&String::from_utf8_lossy(&body)) {
            params.map.insert(k, Value::String(v));
        }
    } else if !body.is_empty() {
        match serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string())? {
            Value::Object(m) => params.map.extend(m),
            _ => return Err("the JSON body is not an object".to_owned()),
        }
    }
    Ok(params)
}

fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(byte) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error_body(code: u16, description: &str) -> Value {
    json!({ "ok": false, "error_code": code, "description": description })
}

async fn handle(AxState(shared): AxState<Arc<Shared>>, req: Request) -> Response {
    let path = percent_decode(req.uri().path());
    let path = path.trim_start_matches('/').to_owned();
    if let Some(rest) = path.strip_prefix("file/bot") {
        return download(&shared, rest);
    }
    let Some((token, method)) = path.strip_prefix("bot").and_then(|r| r.split_once('/')) else {
        eprintln!("fake-api: request to an unknown path /{path}");
        return json_response(404, error_body(404, "Not Found"));
    };
    // teloxide names methods after its payloads ("SendMessage"); record Telegram's spelling.
    let method = method.trim_end_matches('/');
    let mut chars = method.chars();
    let method: String = chars
        .next()
        .map(|c| c.to_ascii_lowercase())
        .into_iter()
        .chain(chars)
        .collect();
    let params = match read_params(req).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("fake-api: {method}: unreadable request: {e}");
            return json_response(400, error_body(400, &format!("Bad Request: {e}")));
        }
    };
    let (status, body, cut) = if token != TOKEN {
        (401, error_body(401, "Unauthorized"), false)
    } else {
        respond(&shared, &method, &params).await
    };
    let mut recorded_params = Value::Object(params.map.clone());
    if !params.uploads.is_empty() {
        recorded_params["__uploads"] = json!(params
            .uploads
            .iter()
            .map(|u| json!({ "field": u.field, "file_name": u.file_name, "len": u.bytes.len() }))
            .collect::<Vec<_>>());
    }
    shared.mutate(|st| {
        st.calls.push(ApiCall {
            method: method.clone(),
            params: recorded_params,
            uploads: params.uploads,
            response: body.clone(),
            at: Instant::now(),
        })
    });
    if cut {
        let stream = futures::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("fake-api: connection cut"))
        });
        return Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(stream))
            .unwrap_or_else(|_| json_response(500, error_body(500, "Internal Server Error")));
    }
    json_response(status, body)
}

/// Answers one call: (HTTP status, JSON body, cut the connection instead).
async fn respond(shared: &Shared, method: &str, params: &Params) -> (u16, Value, bool) {
    let fault = {
        let mut st = shared.lock();
        let lower = method.to_ascii_lowercase();
        let at = st.faults.iter().position(|(m, _)| *m == lower);
        let queued = at.and_then(|i| st.faults.remove(i)).map(|(_, f)| f);
        let latency = st.chaos.as_ref().map(|c| c.latency(method));
        (
            queued.or_else(|| st.chaos.as_mut().and_then(|chaos| chaos.pick(method))),
            latency.unwrap_or_default(),
        )
    };
    let (fault, latency) = fault;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(fault) = fault {
        return match fault {
            Fault::RetryAfter(secs) => {
                let mut body = error_body(429, &format!("Too Many Requests: retry after {secs}"));
                body["parameters"] = json!({ "retry_after": secs });
                (429, body, false)
            }
            Fault::ServerError => (500, error_body(500, "Internal Server Error"), false),
            Fault::BadGateway => (502, error_body(502, "Bad Gateway"), false),
            Fault::ServerErrorInstant => (200, error_body(500, "Internal Server Error"), false),
            Fault::Network => (200, Value::Null, true),
            Fault::Api { code, description } => (code, error_body(code, &description), false),
        };
    }
    let outcome = if is_polling(method) {
        Some(get_updates(shared, params).await)
    } else {
        shared.mutate(|st| st.dispatch(method, params))
    };
    match outcome {
        Some(Ok(result)) => (200, json!({ "ok": true, "result": result }), false),
        Some(Err(f)) => (f.code, error_body(f.code, &f.description), false),
        None => {
            eprintln!(
                "fake-api: the bot called {method}, which the fake Telegram API does not \
                 implement; answering 404 Not Found (teloxide: ApiError::InvalidToken)"
            );
            (404, error_body(404, "Not Found"), false)
        }
    }
}

async fn get_updates(shared: &Shared, p: &Params) -> Outcome {
    let limit = p.i64("limit").unwrap_or(100).clamp(1, 100) as usize;
    let asked = Duration::from_secs(p.i64("timeout").unwrap_or(0).max(0) as u64);
    let allowed: Option<Vec<String>> = p.json("allowed_updates").and_then(|v| {
        v.as_array().map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
    });
    let (gen, hold) = shared.mutate(|st| {
        st.poll_gen += 1;
        if let Some(offset) = p.i64("offset") {
            st.confirm(offset);
        }
        if let Some(list) = allowed {
            st.allowed_updates = Some(list);
        }
        (st.poll_gen, asked.min(st.poll_hold))
    });
    let deadline = tokio::time::Instant::now() + hold;
    let mut rx = shared.version.subscribe();
    loop {
        rx.borrow_and_update();
        let found = {
            let mut st = shared.lock();
            if st.poll_gen != gen {
                st.conflicts += 1;
                return Err(failure(409, CONFLICT));
            }
            st.take_available(limit)
        };
        if !found.is_empty() {
            shared.version.send_modify(|v| *v += 1);
            return Ok(Value::Array(found));
        }
        if tokio::time::timeout_at(deadline, rx.changed())
            .await
            .is_err()
        {
            return Ok(json!([]));
        }
    }
}

fn download(shared: &Shared, rest: &str) -> Response {
    let Some((token, file_path)) = rest.split_once('/') else {
        return json_response(404, error_body(404, "Not Found"));
    };
    if token != TOKEN {
        return json_response(401, error_body(401, "Unauthorized"));
    }
    let st = shared.lock();
    match st.files.values().find(|f| f.path == file_path) {
        Some(f) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            f.bytes.clone(),
        )
            .into_response(),
        None => json_response(404, error_body(404, "Not Found")),
    }
}
