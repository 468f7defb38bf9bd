//! End-to-end: the first hour on a new server, through the compiled bot and the fake Bot API.
//! Charts without a system font, reaching Telegram through a SOCKS5 or HTTP proxy, a wrong
//! token, an API that is down at start-up and comes back, claiming the bot with the start-up
//! code, binding the administrators' group from a chat, backups while answers are written, the
//! daily backup, and restore.
//!
//! The proxies and the TCP forwarder are tiny servers this file starts on 127.0.0.1. The fake
//! API speaks plain HTTP, so the HTTP proxy sees absolute-form requests (`POST http://…`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use branchbot::texts::setup as st;
use branchbot::texts::setup_replies as sr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const WAIT: Duration = Duration::from_secs(10);
const OWNER: i64 = 1001;
const STRANGER: i64 = 1002;
const ADMIN_GROUP: i64 = -3001;
const BRANCH_GROUP: i64 = -2001;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `host:port` of the fake API.
fn api_addr(api: &FakeApi) -> String {
    api.url().trim_start_matches("http://").to_owned()
}

/// Waits until the bot's log contains `needle`.
async fn wait_for_log(bot: &BotProcess, needle: &str, timeout: Duration) -> String {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let output = bot.output();
        if output.contains(needle) {
            return output;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log never said {needle:?}\n{output}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A minimal SOCKS5 proxy (no authentication, CONNECT only); counts the tunnels it opened.
async fn socks5_proxy() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let _ = socks5_handshake(client, &count).await;
            });
        }
    });
    (port, tunnels)
}

async fn socks5_handshake(mut client: TcpStream, count: &AtomicUsize) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; head[1] as usize];
    client.read_exact(&mut methods).await?;
    assert_eq!(head[0], 5, "a SOCKS5 greeting");
    client.write_all(&[5, 0]).await?;
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    assert_eq!(&request[..2], &[5, 1], "a CONNECT request");
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len).await?;
            let mut name = vec![0u8; len[0] as usize];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        other => panic!("address type {other} not supported by the test proxy"),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await?;
    let mut upstream = TcpStream::connect((host.as_str(), u16::from_be_bytes(port))).await?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
    count.fetch_add(1, Ordering::SeqCst);
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// A minimal HTTP proxy for plain-http targets: it reads the first request line of each
/// connection (absolute-form, `POST http://host:port/… HTTP/1.1`), records it, connects to that
/// host and pipes the connection through (the fake API accepts absolute-form targets).
async fn http_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let lines = seen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let lines = lines.clone();
            tokio::spawn(async move {
                let _ = http_forward(client, &lines).await;
            });
        }
    });
    (port, seen)
}

async fn http_forward(mut client: TcpStream, seen: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        client.read_exact(&mut byte).await?;
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head).trim().to_owned();
    seen.lock().unwrap().push(line.clone());
    let target = line.split_whitespace().nth(1).unwrap_or_default();
    let Some(rest) = target.strip_prefix("http://") else {
        client
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await?;
        return Ok(());
    };
    let authority = rest.split('/').next().unwrap_or_default().to_owned();
    let mut upstream = TcpStream::connect(authority).await?;
    upstream.write_all(&head).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Accepts on `listener` and pipes every connection to `target`.
fn forward(listener: TcpListener, target: String) {
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut upstream) = TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
}

/// The bot answers /whoami in private: proof that updates and replies flow.
async fn answers_whoami(api: &FakeApi) {
    api.push_text(OWNER, OWNER, "/whoami");
    api.wait_for_text(OWNER, &OWNER.to_string(), WAIT).await;
}

fn add_people(api: &FakeApi) {
    api.add_user(OWNER, "组织部张", "zhang");
    api.add_user(STRANGER, "路人甲", "luren");
    api.add_private_chat(OWNER);
    api.add_private_chat(STRANGER);
}

// ---------------------------------------------------------------------------------------------
// Charts without a system font
// ---------------------------------------------------------------------------------------------

/// One branch, one closed round with two finished attempts; ready for /report.
const REPORT_SEED: &str = "
INSERT INTO users (id, full_name, created_at) VALUES (3001, '张三', 0), (3002, '李四', 0);
INSERT INTO branches (id, chat_id, name, kind, join_code, active, created_at, updated_at) VALUES
  (1, -2001, '城关镇第一党支部', '社区', 'codeA', 1, 0, 0);
INSERT INTO members (user_id, branch_id, joined_at) VALUES (3001, 1, 0), (3002, 1, 0);
INSERT INTO rounds (id, opens_at, closes_at, status, closed_at) VALUES
  (1, 1771117200, 1771722000, 'closed', 1771722000);
INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at, finished_at, status,
                      question_count, correct_count, score) VALUES
  (1, 1, 3001, 1, 1771120000, 1771121800, 1771120600, 'finished', 2, 2, 90),
  (2, 1, 3002, 1, 1771120000, 1771121800, 1771120900, 'finished', 2, 1, 50);
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_chart_is_drawn_with_the_embedded_font_alone() {
    let api = FakeApi::start().await;
    add_people(&api);
    let env = TestEnv::new()
        .super_admins(&[OWNER])
        .var("BRANCHBOT_TEST_CALENDAR", "0 0 9 1 1 *")
        // No system font may be used, installed or not.
        .var("BRANCHBOT_SYSTEM_FONTS", "false");
    let db = branchbot::storage::connect(&env.database_url())
        .await
        .unwrap();
    sqlx::raw_sql(REPORT_SEED).execute(&db).await.unwrap();
    db.close().await;
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;

    api.push_text(OWNER, OWNER, "/report 1");
    let photo = api.wait_for_photo(OWNER, REPORT_WAIT).await;
    let decoder = png::Decoder::new(std::io::Cursor::new(photo.bytes.clone()));
    let mut reader = decoder.read_info().expect("the chart is a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut pixels).expect("a frame");
    let drawn = pixels.iter().filter(|&&b| b != 255).count();
    assert!(drawn > 10_000, "{drawn} drawn bytes");
    let log = wait_for_log(&bot, "drawing the report chart", WAIT).await;
    let line = log
        .lines()
        .find(|l| l.contains("drawing the report chart"))
        .unwrap();
    assert!(line.contains("Embedded"), "{line}");
    assert!(bot.stop().await.success());
}

// ---------------------------------------------------------------------------------------------
// Reaching Telegram
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_reaches_telegram_through_a_socks5_proxy() {
    let api = FakeApi::start().await;
    add_people(&api);
    let (port, tunnels) = socks5_proxy().await;
    let env = TestEnv::new().var("BRANCHBOT_PROXY", format!("socks5://127.0.0.1:{port}"));
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;
    answers_whoami(&api).await;
    assert!(
        tunnels.load(Ordering::SeqCst) >= 1,
        "every request went through the proxy"
    );
    assert!(bot.stop().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_reaches_telegram_through_an_http_proxy_set_either_way() {
    let api = FakeApi::start().await;
    add_people(&api);
    // BRANCHBOT_PROXY, then the usual ALL_PROXY (with the harness's NO_PROXY for 127.0.0.1
    // cleared, as on a server that needs the proxy for everything).
    for (variable, extra) in [
        ("BRANCHBOT_PROXY", None),
        ("ALL_PROXY", Some(("NO_PROXY", ""))),
    ] {
        let (port, seen) = http_proxy().await;
        let mut env = TestEnv::new().var(variable, format!("http://127.0.0.1:{port}"));
        if let Some((key, value)) = extra {
            env.set_var(key, value);
        }
        let mut bot = BotProcess::spawn(&api, &env);
        bot.wait_until_polling().await;
        answers_whoami(&api).await;
        let lines = seen.lock().unwrap().clone();
        let prefix = format!("POST http://{}/bot{}/getme", api_addr(&api), TOKEN).to_lowercase();
        assert!(
            lines.iter().any(|l| l.to_lowercase().starts_with(&prefix)),
            "{variable}: the proxy saw {lines:?}"
        );
        assert!(bot.stop().await.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_stops_start_up_at_once_and_says_so() {
    let api = FakeApi::start().await;
    let env = TestEnv::new().var("TELOXIDE_TOKEN", "123456:WRONG");
    let mut bot = BotProcess::spawn(&api, &env);
    let status = bot.wait_for_exit(WAIT).await.expect("the bot gives up");
    assert!(!status.success());
    let output = bot.output();
    assert!(output.contains("令牌无效"), "{output}");
    assert!(output.contains(&api.url()), "the URL that failed: {output}");
    assert!(
        !output.contains("重试"),
        "a wrong token is not retried: {output}"
    );
    assert!(
        !output.contains("WRONG"),
        "the token is not printed: {output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_is_retried_until_it_comes_back() {
    let api = FakeApi::start().await;
    add_people(&api);
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let env = TestEnv::new().var("TELOXIDE_API_URL", &url);
    let mut bot = BotProcess::spawn(&api, &env);
    let log = wait_for_log(&bot, st::CAUSE_REFUSED, WAIT).await;
    assert!(log.contains(&url), "names the URL that failed: {log}");
    assert!(bot.try_wait().is_none(), "still trying: {log}");
    // The network comes back: the port now leads to the API.
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    forward(listener, api_addr(&api));
    bot.wait_until_polling_for(Duration::from_secs(20)).await;
    answers_whoami(&api).await;
    assert!(bot.stop().await.success());
}

#[test]
fn malformed_network_settings_are_one_line_naming_them() {
    for (variable, value) in [
        ("TELOXIDE_API_URL", "localhost:9"),
        ("BRANCHBOT_PROXY", "127.0.0.1:1080"),
    ] {
        let env = TestEnv::new().var(variable, value);
        let out = run_cli(&[], &env);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].contains(variable) && lines[0].contains("配置错误"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn help_is_chinese_and_lists_the_settings() {
    let env = TestEnv::new();
    let out = run_cli(&["--help"], &env);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "用法",
        "TELOXIDE_TOKEN",
        "BRANCHBOT_PROXY",
        "BRANCHBOT_BACKUP_KEEP",
        "sqlite://branchbot.db",
        "backup",
        "restore",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
    let out = run_cli(&["frobnicate"], &env);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&st::unknown_command("frobnicate")),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// First run: claim, whoami, the administrators' group
// ---------------------------------------------------------------------------------------------

/// The claim code from the start-up banner in the log.
fn claim_code(output: &str) -> String {
    let start = output.find("/claim ").expect("a claim code in the log") + "/claim ".len();
    output[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_super_administrator_claims_the_bot_once() {
    let api = FakeApi::start().await;
    add_people(&api);
    api.add_group(ADMIN_GROUP, "组织部工作群", &[], &[OWNER, STRANGER]);
    api.add_group(BRANCH_GROUP, "第一党支部群", &[OWNER], &[]);
    let env = TestEnv::new();
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;
    let code = claim_code(&wait_for_log(&bot, "/claim ", WAIT).await);
    assert_eq!(code.len(), 10, "{code}");

    api.push_text(OWNER, OWNER, "/claim WRONG23456");
    api.wait_for_text(OWNER, "认领码不对", WAIT).await;
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM super_admins").await, 0);

    api.push_text(OWNER, OWNER, &format!("/claim {}", code.to_lowercase()));
    api.wait_for_text(OWNER, "认领成功", WAIT).await;
    assert_eq!(
        env.query_i64("SELECT user_id FROM super_admins").await,
        OWNER
    );
    // The second claim, even with the right code, is refused.
    api.push_text(STRANGER, STRANGER, &format!("/claim {code}"));
    api.wait_for_text(STRANGER, "已经有超级管理员", WAIT).await;
    assert_eq!(env.query_i64("SELECT COUNT(*) FROM super_admins").await, 1);

    // The owner now has the super-administrator's powers and menu.
    let menu = api
        .commands_for_scope(serde_json::json!({"type": "chat", "chat_id": OWNER}))
        .expect("the owner's own menu");
    let names: Vec<&str> = menu.iter().map(|(c, _)| c.as_str()).collect();
    assert!(
        names.contains(&"grant") && names.contains(&"whoami"),
        "{names:?}"
    );
    assert!(!names.contains(&"claim"), "{names:?}");
    api.push_text(OWNER, OWNER, "/help");
    api.wait_for_text(OWNER, "超级管理员命令", WAIT).await;
    api.push_text(STRANGER, ADMIN_GROUP, "/whoami");
    api.wait_for_text(ADMIN_GROUP, &ADMIN_GROUP.to_string(), WAIT)
        .await;

    // Only an administrator binds the administrators' group.
    api.push_text(STRANGER, ADMIN_GROUP, "/adminchat");
    api.wait_for_text(ADMIN_GROUP, "只有上级组织的管理员", WAIT)
        .await;
    api.push_text(OWNER, ADMIN_GROUP, "/adminchat");
    api.wait_for_text(ADMIN_GROUP, "已将本群设为", WAIT).await;
    let stored = env
        .query_one::<i64>("SELECT chat_id FROM org_admin_chats WHERE org_id = 1")
        .await;
    assert_eq!(stored, ADMIN_GROUP);

    // Escalations go to the bound group: the bot removed from a branch group is reported there.
    api.push_text(OWNER, BRANCH_GROUP, "/bind 第一党支部 学校");
    api.wait_for_text(BRANCH_GROUP, "已将本群绑定为支部", WAIT)
        .await;
    let bot_user = serde_json::json!({"id": api.bot_id(), "is_bot": true,
        "first_name": "branchbot", "username": api.bot_username()});
    api.remove_bot_from(BRANCH_GROUP);
    api.push_raw_update(
        "my_chat_member",
        serde_json::json!({
            "chat": {"id": BRANCH_GROUP, "type": "group", "title": "第一党支部群"},
            "from": {"id": OWNER, "is_bot": false, "first_name": "组织部张"},
            "date": 1_772_416_800,
            "old_chat_member": {"user": bot_user, "status": "member"},
            "new_chat_member": {"user": bot_user, "status": "kicked", "until_date": 0},
        }),
    );
    api.wait_for_text(ADMIN_GROUP, "机器人已被移出", WAIT).await;

    // After a restart the owner is still a super-administrator and no new code is printed.
    assert!(bot.restart().await.success());
    bot.wait_until_polling().await;
    let second_run = bot.output();
    let second_run = &second_run[second_run.find("bot run 2").unwrap()..];
    assert!(!second_run.contains("/claim "), "{second_run}");
    api.push_text(OWNER, OWNER, "/claim ABCDEFGHJK");
    api.wait_for_text(OWNER, sr::ALREADY_CLAIMED, WAIT).await;
    assert!(bot.stop().await.success());
}

// ---------------------------------------------------------------------------------------------
// Backups and restore
// ---------------------------------------------------------------------------------------------

/// A closed round and one attempt whose answers the test writes.
const ANSWER_SEED: &str = "
INSERT INTO users (id, full_name, created_at) VALUES (3001, '张三', 0);
INSERT INTO rounds (id, opens_at, closes_at, status, closed_at) VALUES (99, 1, 2, 'closed', 2);
INSERT INTO attempts (id, round_id, user_id, branch_id, started_at, deadline_at, status,
                      question_count) VALUES
  (99, 99, 3001, NULL, 1, 2, 'in_progress', 100000);
";

async fn answers(pool: &sqlx::SqlitePool) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM attempt_questions WHERE attempt_id = 99 ORDER BY 1")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn open(path: &std::path::Path) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

/// `branchbot <args>` to completion (call inside `block_in_place`: other tasks keep running).
fn cli(args: Vec<String>, env: &TestEnv) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_cli(&args, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_answers_are_written_holds_every_earlier_answer() {
    let api = FakeApi::start().await;
    add_people(&api);
    let env = TestEnv::new().super_admins(&[OWNER]);
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;
    env.execute(ANSWER_SEED).await;
    let question: String = env.query_one("SELECT id FROM questions LIMIT 1").await;

    // A writer answers one question per transaction, without pause, until told to stop.
    let pool = env.db().await;
    let written = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (pool, written, stop) = (pool.clone(), written.clone(), stop.clone());
        tokio::spawn(async move {
            let mut position = 0i64;
            while stop.load(Ordering::SeqCst) == 0 {
                sqlx::query(
                    "INSERT INTO attempt_questions (attempt_id, position, question_id, option_order,
                     chosen, is_correct, answered_at) VALUES (99, ?, ?, '01', '0', 1, ?)",
                )
                .bind(position)
                .bind(&question)
                .bind(position)
                .execute(&pool)
                .await
                .unwrap();
                position += 1;
                written.store(position as usize, Ordering::SeqCst);
            }
        })
    };
    while written.load(Ordering::SeqCst) < 200 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = written.load(Ordering::SeqCst) as i64;
    let copy = env.dir().join("copy.db");
    let args = vec!["backup".to_owned(), copy.display().to_string()];
    let out = tokio::task::block_in_place(|| cli(args, &env));
    let during = written.load(Ordering::SeqCst) as i64;
    stop.store(1, Ordering::SeqCst);
    writer.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("已备份到"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        during > before,
        "answers kept being written during the backup"
    );

    let backup = open(&copy).await;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&backup)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let saved = answers(&backup).await;
    assert!(saved.len() as i64 >= before, "{} < {before}", saved.len());
    assert_eq!(
        saved,
        (0..saved.len() as i64).collect::<Vec<_>>(),
        "no gaps"
    );
    backup.close().await;

    // A backup never overwrites a file.
    let args = vec!["backup".to_owned(), copy.display().to_string()];
    let again = tokio::task::block_in_place(|| cli(args, &env));
    assert!(!again.status.success());
    pool.close().await;
    assert!(bot.stop().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_backup_is_made_once_a_day_and_old_ones_are_pruned() {
    let api = FakeApi::start().await;
    let env = TestEnv::new().var("BRANCHBOT_BACKUP_KEEP", 2);
    let dir = env.dir().join("backups");
    let listing = || {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let wait_for = |count: usize| {
        let listing = &listing;
        async move {
            let deadline = tokio::time::Instant::now() + WAIT;
            while listing().len() != count {
                assert!(tokio::time::Instant::now() < deadline, "{:?}", listing());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;
    wait_for(1).await;
    assert_eq!(listing(), ["branchbot-2026-03-02.db"]);
    // A restart on the same day makes no second copy.
    bot.restart().await;
    bot.wait_until_polling().await;
    wait_for_log(&bot, "bot run 2", WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(listing(), ["branchbot-2026-03-02.db"]);
    // Two more days: three copies made, the oldest pruned to keep two.
    for _ in 0..2 {
        env.advance(chrono::Duration::days(1));
        bot.restart().await;
        bot.wait_until_polling().await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while listing() != ["branchbot-2026-03-03.db", "branchbot-2026-03-04.db"] {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", listing());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let copy = open(&dir.join("branchbot-2026-03-04.db")).await;
    let tables: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'branches'")
            .fetch_one(&copy)
            .await
            .unwrap();
    assert_eq!(tables, 1);
    copy.close().await;
    assert!(bot.stop().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_while_the_bot_runs_and_checks_the_file_first() {
    let api = FakeApi::start().await;
    add_people(&api);
    let env = TestEnv::new().super_admins(&[OWNER]);
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;
    env.execute("INSERT INTO users (id, full_name, created_at) VALUES (5001, '备份前', 0)")
        .await;
    let good = env.dir().join("good.db");
    let out = tokio::task::block_in_place(|| {
        cli(vec!["backup".into(), good.display().to_string()], &env)
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.execute("INSERT INTO users (id, full_name, created_at) VALUES (5002, '备份后', 0)")
        .await;

    // A second bot on the same database is refused too.
    let mut second = BotProcess::spawn(&api, &env);
    let status = second
        .wait_for_exit(WAIT)
        .await
        .expect("the second bot exits");
    assert!(!status.success());
    assert!(
        second.output().contains("另一个 branchbot"),
        "{}",
        second.output()
    );

    let restore = |file: &std::path::Path| {
        let args = vec!["restore".to_owned(), file.display().to_string()];
        tokio::task::block_in_place(|| cli(args, &env))
    };
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let refused = restore(&good);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains(st::RESTORE_BOT_RUNNING),
        "{}",
        stderr(&refused)
    );
    assert!(bot.stop().await.success());

    // Not a database; a database, but not branchbot's: refused, nothing changed.
    let junk = env.dir().join("junk.db");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    let other = env.dir().join("other.db");
    let created = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", other.display()))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE notes (text TEXT)")
        .execute(&created)
        .await
        .unwrap();
    created.close().await;
    for (file, expected) in [
        (&junk, "不是可用的 SQLite 数据库"),
        (&other, "不是 branchbot 的数据库"),
    ] {
        let out = restore(file);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
        assert!(stderr(&out).contains("未作改动"), "{}", stderr(&out));
    }
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM users WHERE id IN (5001, 5002)")
            .await,
        2
    );

    // The good backup: the answer written after it is gone, the earlier one is there, and the
    // replaced database is kept beside.
    let out = restore(&good);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("已从"), "{}", stderr(&out));
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM users WHERE id = 5001")
            .await,
        1
    );
    assert_eq!(
        env.query_i64("SELECT COUNT(*) FROM users WHERE id = 5002")
            .await,
        0
    );
    let kept = std::fs::read_dir(env.dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .any(|name| name.starts_with("bot.db.before-restore-"));
    assert!(kept, "the replaced database is kept");

    // The bot runs on the restored database.
    let mut bot = BotProcess::spawn(&api, &env);
    bot.wait_until_polling().await;
    answers_whoami(&api).await;
    assert!(bot.stop().await.success());
}
