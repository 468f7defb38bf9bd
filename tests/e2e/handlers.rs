//! Handler-level tests: the real handler tree and scheduler run in this process against the fake
//! Bot API, with a manual clock and a seeded generator, and the scheduler's pass (`tick`) is
//! called directly — no waiting for time to pass.

use std::sync::{Arc, Mutex};

use branchbot::clock::{Clock, ManualClock};
use branchbot::config::Config;
use branchbot::scheduler;
use branchbot::service::AppState;
use branchbot::telegram;
use branchbot::telegram::delivery::TelegramOutlet;
use rand::rngs::StdRng;
use rand::SeedableRng;
use teloxide::prelude::*;
use teloxide::stop::StopToken;
use tokio::sync::Notify;

use crate::support::*;

const SECRETARY: i64 = 1001;
const GROUP: i64 = -2001;

struct InProcess {
    state: Arc<AppState>,
    clock: Arc<ManualClock>,
    /// The one rate-limited Bot API the handlers and the outlet share, as in `app::run`.
    api: Arc<telegram::Api>,
    stop: StopToken,
    /// The task reading updates: it ends once `stop` is used and the lanes are empty.
    reading: tokio::task::JoinHandle<()>,
}

async fn in_process(api: &FakeApi) -> InProcess {
    let config = Config::from_lookup(|key| match key {
        "TELOXIDE_TOKEN" => Some(api.token().to_owned()),
        "BRANCHBOT_QUESTIONS_DIR" => Some(QUESTIONS_DIR.to_owned()),
        // Keep test rounds out of these tests: the calendar first fires in 2099.
        "BRANCHBOT_TEST_CALENDAR" => Some("0 0 9 1 1 * 2099".to_owned()),
        _ => None,
    })
    .unwrap();
    let clock = Arc::new(ManualClock::new(at("2026-03-02T02:00:00Z")));
    let state = Arc::new(AppState {
        db: branchbot::storage::connect_memory().await.unwrap(),
        config: Arc::new(config),
        clock: clock.clone(),
        rng: Mutex::new(StdRng::seed_from_u64(7)),
        wake: Arc::new(Notify::new()),
        nudges: Default::default(),
        bot_username: api.bot_username().to_owned(),
        bank: Default::default(),
        live_attempts: Default::default(),
        direct_writes: Default::default(),
    });
    branchbot::startup::prepare(&state).await.unwrap();
    let bot = Bot::new(api.token()).set_api_url(api.url().parse().unwrap());
    let shared = telegram::Api::new(bot.clone(), 30);
    let updates = telegram::Updates::new(bot).await;
    let stop = updates.stopper();
    let reading = tokio::spawn(updates.run(state.clone(), shared.clone(), telegram::Lanes::new()));
    api.wait_for_polling(WAIT).await;
    InProcess {
        state,
        clock,
        api: shared,
        stop,
        reading,
    }
}

impl InProcess {
    async fn shutdown(self) {
        self.stop.stop();
        self.reading.await.unwrap();
    }
}

async fn bound_world() -> (FakeApi, InProcess) {
    let api = FakeApi::start().await;
    api.add_user(SECRETARY, "李书记", "lishuji");
    api.add_group(GROUP, "第一党支部群", &[SECRETARY], &[]);
    let world = in_process(&api).await;
    api.push_text(SECRETARY, GROUP, "/bind 第一党支部 社区");
    api.wait_for_text(GROUP, "已将本群绑定为支部", WAIT).await;
    (api, world)
}

#[tokio::test]
async fn a_community_branch_gets_five_year_terms() {
    let (api, world) = bound_world().await;
    api.push_text(SECRETARY, GROUP, "/term 2022-03-01");
    let reply = api.wait_for_text(GROUP, "已设置本届任期", WAIT).await;
    assert!(
        reply.plain_text.contains("2027年3月1日"),
        "{}",
        reply.plain_text
    );
    world.shutdown().await;
}

#[tokio::test]
async fn one_scheduler_pass_sends_what_is_due_once_and_names_the_next_due_time() {
    let (api, world) = bound_world().await;
    // 社区: 5 years, ends 1 September 2026; six months before is 1 March — already past today
    // (2 March), so only the steps still ahead are planned.
    api.push_text(SECRETARY, GROUP, "/term 2021-09-01");
    api.wait_for_text(GROUP, "已设置本届任期", WAIT).await;
    let outlet = TelegramOutlet::new(world.api.clone());
    let state = &world.state;

    let now = world.clock.now();
    let next = scheduler::tick(state, &outlet, now)
        .await
        .unwrap()
        .expect("something is planned");
    assert!(api
        .messages_in(GROUP)
        .iter()
        .all(|m| !m.plain_text.contains("【换届提醒】")));

    // The three-month step: 1 June 2026, 09:00 in Shanghai — unless a meeting comes first.
    let three_months = at("2026-06-01T01:00:00Z");
    assert!(next <= three_months, "next due {next}");
    world.clock.set(three_months);
    scheduler::tick(state, &outlet, three_months).await.unwrap();
    scheduler::tick(state, &outlet, three_months).await.unwrap();
    let reminders: Vec<_> = api
        .messages_in(GROUP)
        .into_iter()
        .filter(|m| m.plain_text.contains("【换届提醒】届满前3个月"))
        .collect();
    assert_eq!(reminders.len(), 1, "{}", api.dump());
    world.shutdown().await;
}

#[tokio::test]
async fn the_scheduler_does_nothing_for_branches_that_are_not_due() {
    let (api, world) = bound_world().await;
    let outlet = TelegramOutlet::new(world.api.clone());
    let before = api.sent_messages().len();
    scheduler::tick(&world.state, &outlet, world.clock.now())
        .await
        .unwrap();
    assert_eq!(api.sent_messages().len(), before);
    world.shutdown().await;
}
