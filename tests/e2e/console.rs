//! `branchbot console`: a scripted session (standard input in, transcript out) through the
//! compiled binary, started in an empty directory so the bank built into the binary is used.

use std::time::Duration;

use crate::support::*;

/// The console's demo with a fixed start and seed, in a directory with no `questions/`.
fn console(script: &str) -> (String, String, TestEnv) {
    let mut env = TestEnv::new();
    env.unset_var("BRANCHBOT_QUESTIONS_DIR");
    assert!(!env.dir().join("questions").exists());
    let output = run_cli_with_input(
        &[
            "console",
            "--demo",
            "--database",
            "console.db",
            "--at",
            "2026-12-01T09:30:00+08:00",
            "--seed",
            "7",
        ],
        &env,
        Some(script),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "console failed\n---- stdout ----\n{stdout}\n---- stderr ----\n{stderr}"
    );
    (stdout, stderr, env)
}

/// The part of the transcript after the line echoing `typed`.
fn after<'a>(transcript: &'a str, typed: &str) -> &'a str {
    let at = transcript
        .find(&format!("> {typed}\n"))
        .unwrap_or_else(|| panic!("`{typed}` not in the transcript:\n{transcript}"));
    &transcript[at..]
}

/// The part of `text` before the next typed line.
fn until_next_prompt(text: &str) -> &str {
    let body = text.split_once('\n').map_or("", |(_, rest)| rest);
    let end = body.find("\n\n").map_or(body.len(), |i| i);
    &body[..end]
}

#[test]
fn a_scripted_session_walks_a_secretary_a_trainee_and_an_administrator_through_the_product() {
    let script = "\
/status
/as 张学员 第一党支部群
/term 2020-01-01
/as 张学员 私聊
/test
1
1
/as 管理员 私聊
/clock +7天
/report
/as 王书记 第一党支部群
/clock +10天
/quit
";
    let (transcript, stderr, env) = console(script);
    // The bank came from the binary: this directory has no questions/.
    assert!(stderr.contains("built into the binary"), "{stderr}");
    assert!(transcript.contains("演示数据已准备好"), "{transcript}");

    // The secretary's /status shows the demo's term, forty days from its end.
    let status = until_next_prompt(after(&transcript, "/status"));
    assert!(
        status.contains("第一党支部（农村）") && status.contains("剩余天数：40天"),
        "{status}"
    );

    // A member who is not a group administrator cannot set the term; nothing changed.
    let refused = until_next_prompt(after(&transcript, "/term 2020-01-01"));
    assert!(refused.contains("管理员"), "{refused}");
    assert!(!refused.contains("已保存"), "{refused}");

    // The trainee starts the test and answers by pressing numbered buttons.
    let test = until_next_prompt(after(&transcript, "/test"));
    assert!(test.contains("第 1 期业务测试开始"), "{test}");
    assert!(
        test.contains("第 1/20 题") && test.contains("[1]"),
        "{test}"
    );
    let first_press = until_next_prompt(after(&transcript, "1"));
    assert!(first_press.contains("已记录"), "{first_press}");
    assert!(first_press.contains("第 2/20 题"), "{first_press}");
    // Pressing the first question's button again: its message was edited, the button is gone.
    assert!(
        transcript.contains("这个按钮已经不在消息上了"),
        "{transcript}"
    );

    // A week later: the time limit had ended the test (result sent at its deadline), the round
    // closed with a summary in the group, and the unfinished member was reminded the day before.
    let week = until_next_prompt(after(&transcript, "/clock +7天"));
    assert!(
        week.contains("[2026-12-01 10:00] 定时消息 → 张学员的私聊"),
        "{week}"
    );
    assert!(week.contains("测试结束"), "{week}");
    assert!(week.contains("→ 李党员的私聊"), "{week}");
    assert!(week.contains("→ 第一党支部群"), "{week}");
    assert!(week.contains("时间拨到 2026年12月8日 09:30"), "{week}");

    // The administrator's report arrives as files written to the folder.
    let report = until_next_prompt(after(&transcript, "/report"));
    assert!(report.contains("发送文件："), "{report}");
    let files: Vec<String> = std::fs::read_dir(env.dir().join("branchbot-console-files"))
        .expect("the files folder exists")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().any(|f| f.ends_with(".xlsx")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with(".png")), "{files:?}");
    assert!(
        files.iter().filter(|f| f.ends_with(".csv")).count() >= 5,
        "{files:?}"
    );

    // Ten more days: the election ladder's one-month step reaches the group at its time.
    let ladder = until_next_prompt(after(&transcript, "/clock +10天"));
    assert!(
        ladder.contains("[2026-12-10 09:00] 定时消息 → 第一党支部群"),
        "{ladder}"
    );
    assert!(transcript.trim_end().ends_with("再见。"), "{transcript}");
}

#[test]
fn console_commands_refuse_what_they_cannot_do_and_change_nothing() {
    let script = "\
/press 99
/clock +3年
/clock 2020-01-01 09:00
/as 王书记
/file no-such-file.toml
/clock
/as 张学员 私聊
/test
/as 王书记 第一党支部群
1
";
    let (transcript, _, _) = console(script);
    assert!(after(&transcript, "/press 99").contains("没有这个编号的按钮"));
    assert!(after(&transcript, "/clock +3年").contains("用法：/clock"));
    let back = until_next_prompt(after(&transcript, "/clock 2020-01-01 09:00"));
    assert!(back.contains("时间只能向前拨"), "{back}");
    assert!(after(&transcript, "/as 王书记").contains("用法：/as"));
    assert!(after(&transcript, "/file no-such-file.toml").contains("找不到文件"));
    // The clock did not move.
    let now = until_next_prompt(after(&transcript, "/clock"));
    assert!(now.contains("现在是 2026年12月1日 09:30"), "{now}");
    // Only the trainee can press the buttons in the trainee's private chat.
    let elsewhere = until_next_prompt(after(&transcript, "1"));
    assert!(
        elsewhere.contains("先发送 /as 张学员 私聊") && !elsewhere.contains("已记录"),
        "{elsewhere}"
    );
}
