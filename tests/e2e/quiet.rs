//! The positive "nothing else was sent" checks of `support::quiet` must fail when something was
//! sent, even when the check starts before the bot has sent it (a slow bot): otherwise every
//! test that relies on them could pass vacuously.

use std::future::Future;
use std::sync::Arc;

use crate::support::*;

const SECRETARY: i64 = 1001;
const MEMBER: i64 = 1002;
const GROUP: i64 = -2001;

/// Runs `check` on its own task; the message it panicked with, if it did.
async fn panic_of(check: impl Future<Output = ()> + Send + 'static) -> Option<String> {
    let err = tokio::spawn(check).await.err()?;
    let payload = err.into_panic();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
}

async fn world() -> (FakeApi, Arc<TestEnv>, BotProcess) {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_user(MEMBER, "王党员", "wangdangyuan");
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[MEMBER]);
    let env = Arc::new(TestEnv::new());
    let bot = launch(&api, &env).await;
    (api, env, bot)
}

#[tokio::test]
async fn the_follow_up_check_fails_when_the_bot_did_answer() {
    let (api, env, mut bot) = world().await;
    // /status in an unbound group is answered. Checked at once, before the answer can have
    // come: the check waits for the reply to the follow-up, so it sees the answer and fails.
    let mark = api.mark();
    api.push_text(MEMBER, GROUP, "/status");
    let (a, e) = (api.clone(), env.clone());
    let failure = panic_of(async move {
        let unbound = |m: &SentMessage| m.plain_text.contains("尚未绑定");
        assert_quiet_until_reply(&a, &e, mark, FollowUp::help(MEMBER, GROUP), GROUP, unbound).await;
    })
    .await;
    assert!(
        failure
            .as_deref()
            .is_some_and(|f| f.contains("unexpected message")),
        "{failure:?}"
    );

    // A command for another bot is not answered: the same check passes, and the reply to the
    // follow-up (which says the group is not bound) does not count against it.
    let mark = api.mark();
    api.push_text(MEMBER, GROUP, "/status@someotherbot");
    assert_quiet_until_reply(
        &api,
        &env,
        mark,
        FollowUp::help(MEMBER, GROUP),
        GROUP,
        |m| m.plain_text.contains("尚未绑定"),
    )
    .await;
    assert!(bot.stop().await.success());
}

#[tokio::test]
async fn the_scheduler_check_fails_when_a_reminder_falls_due() {
    let (api, env, mut bot) = world().await;
    bind(&api, SECRETARY, GROUP, "第一党支部 机关").await;
    api.push_text(SECRETARY, GROUP, "/term 2023-09-10");
    api.wait_for_text(GROUP, "已设置本届任期", WAIT).await;
    let ladder = |m: &SentMessage| m.plain_text.contains("【换届提醒】");
    // Nothing is due yet: the check passes.
    assert_scheduler_quiet(&api, &env, 0, GROUP, ladder).await;

    // The first step falls due (10 March, 09:00 local). Checked at once, before the scheduler
    // can have looked at the new time: the fence waits for a whole pass, which sends it.
    env.set_now(at("2026-03-10T01:00:30Z"));
    let (a, e) = (api.clone(), env.clone());
    let failure = panic_of(async move {
        assert_scheduler_quiet(&a, &e, 0, GROUP, ladder).await;
    })
    .await;
    assert!(
        failure
            .as_deref()
            .is_some_and(|f| f.contains("unexpected message") && f.contains("【换届提醒】")),
        "{failure:?}"
    );
    assert_eq!(count_containing(&api, GROUP, "【换届提醒】"), 1);
    assert!(bot.stop().await.success());
}
