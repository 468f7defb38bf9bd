//! Positive "nothing (else) was sent" checks.
//!
//! Watching a chat for a second and a half proves nothing when the bot is slow: the message
//! that must not come may simply not have come *yet*. These helpers first make the bot show it
//! has finished, and only then look at what it sent:
//!
//! - a **follow-up** command in the same chat (`/help` by default) and its reply: teloxide
//!   handles the updates of one chat one after another, so once the reply is there every update
//!   sent to that chat before it has been handled;
//! - a **scheduler fence**: two probe messages the test writes into the outbox, due at the
//!   clock the test set, each into a fresh private chat. A scheduler pass plans what fell due
//!   before it delivers, and a pass reads the due rows once, so the second probe (written only
//!   after the first was delivered) arrives in a pass that began after the fence did and has
//!   already planned everything due at that clock; waiting until no row due by then is still
//!   pending or being sent covers that pass's other deliveries.
//!
//! Probes go through the bot's real delivery path, so the fence must not be used while a
//! `fail_next("sendMessage", …)` fault is still armed (a probe would take it).

use std::sync::atomic::{AtomicI64, Ordering};

use super::{FakeApi, SentMessage, TestEnv, WAIT};

/// The probes' private chats: user ids far from any a test uses, one per probe, so Telegram's
/// one-message-a-second-per-chat limit (kept by the bot's rate limiter) never delays one.
const PROBE_CHAT_BASE: i64 = 7_000_000_000;
static PROBES: AtomicI64 = AtomicI64::new(0);

/// A harmless command whose reply proves the bot has handled what came before it in `chat`.
#[derive(Clone, Debug)]
pub struct FollowUp {
    pub from: i64,
    pub chat: i64,
    pub text: String,
    /// Text the reply contains.
    pub reply: String,
}

impl FollowUp {
    /// `/help`, answered in private chats and groups alike (bound or not) and changing nothing
    /// but the sender's stored name. `from` should be someone who already wrote to the bot.
    pub fn help(from: i64, chat: i64) -> FollowUp {
        FollowUp::new(from, chat, "/help", "支部工作助手")
    }

    pub fn new(from: i64, chat: i64, text: &str, reply: &str) -> FollowUp {
        FollowUp {
            from,
            chat,
            text: text.to_owned(),
            reply: reply.to_owned(),
        }
    }
}

/// Sends the follow-up, waits for its reply and returns it.
pub async fn follow_up(api: &FakeApi, follow_up: &FollowUp) -> SentMessage {
    let mark = api.mark();
    api.push_text(follow_up.from, follow_up.chat, &follow_up.text);
    api.wait_for_text_since(mark, follow_up.chat, &follow_up.reply, WAIT)
        .await
}

/// Waits until a scheduler pass that began after this call has planned everything due at the
/// current test clock, and everything due by then has been delivered, given up or postponed.
pub async fn scheduler_fence(api: &FakeApi, env: &TestEnv) {
    let now = env.now().timestamp();
    for _ in 0..2 {
        let n = PROBES.fetch_add(1, Ordering::Relaxed);
        let chat = PROBE_CHAT_BASE + n;
        api.add_user(chat, "fence probe", None);
        api.add_private_chat(chat);
        env.execute(&format!(
            "INSERT INTO outbox (dedup_key, chat_id, text, due_at, created_at)
             VALUES ('test-probe:{n}', {chat}, 'probe {n}', {now}, {now})"
        ))
        .await;
        api.wait_until("a scheduler probe to be delivered", WAIT, |api| {
            api.messages_in(chat).into_iter().next()
        })
        .await;
    }
    env.eventually_i64(
        &format!(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')
             AND COALESCE(next_attempt_at, due_at) <= {now}"
        ),
        0,
    )
    .await;
}

/// Lets the bot finish what it was doing: sends the follow-up, waits for its reply (every update
/// before it in that chat has been handled), then for a scheduler pass (what the handlers put
/// into the outbox has gone out). Returns the reply.
pub async fn settle(api: &FakeApi, env: &TestEnv, follow: &FollowUp) -> SentMessage {
    let reply = follow_up(api, follow).await;
    scheduler_fence(api, env).await;
    reply
}

/// Sends `follow_up`, waits for its reply and for a scheduler pass, then panics if any text
/// message in `chat` sent after `mark` (other than the reply) matches `unexpected`. With mark 0
/// every message counts, so a duplicate sent before the call is caught too.
pub async fn assert_quiet_until_reply(
    api: &FakeApi,
    env: &TestEnv,
    mark: usize,
    follow: FollowUp,
    chat: i64,
    unexpected: impl Fn(&SentMessage) -> bool,
) {
    let reply = settle(api, env, &follow).await;
    assert_none_since(api, mark, chat, |m| {
        !(m.chat_id == reply.chat_id && m.message_id == reply.message_id) && unexpected(m)
    });
}

/// For what only the scheduler sends (reminders, announcements): waits for a scheduler pass
/// at the current clock, then panics if a text message in `chat` sent after `mark` matches
/// `unexpected`.
pub async fn assert_scheduler_quiet(
    api: &FakeApi,
    env: &TestEnv,
    mark: usize,
    chat: i64,
    unexpected: impl Fn(&SentMessage) -> bool,
) {
    scheduler_fence(api, env).await;
    assert_none_since(api, mark, chat, unexpected);
}

fn assert_none_since(
    api: &FakeApi,
    mark: usize,
    chat: i64,
    unexpected: impl Fn(&SentMessage) -> bool,
) {
    let found: Vec<SentMessage> = api
        .messages_since(mark)
        .into_iter()
        .filter(|m| m.chat_id == chat && unexpected(m))
        .collect();
    assert!(
        found.is_empty(),
        "unexpected message(s) in chat {chat}: {:?}\n{}",
        found
            .iter()
            .map(|m| (m.message_id, m.plain_text.as_str()))
            .collect::<Vec<_>>(),
        api.dump()
    );
}
