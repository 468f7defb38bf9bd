use super::*;
use crate::storage::connect_memory;

async fn exec(db: &Db, sql: &str) {
    sqlx::raw_sql(sql).execute(db).await.unwrap();
}

fn person(name: &str, status: Status, duty: Option<Duty>) -> Person {
    Person {
        name: name.to_owned(),
        status,
        duty,
        phone: None,
        takes_test: None,
        joined_on: None,
        full_on: None,
        on_probation: false,
    }
}

/// Branches 1 and 2; users 11–15 members of branch 1; round 1 ran from 1000 to 2000.
async fn seeded() -> Db {
    let db = connect_memory().await.unwrap();
    exec(
        &db,
        "INSERT INTO branches (id, chat_id, name, kind, join_code, created_at, updated_at) VALUES
            (1, -1, '一支部', '机关', 'AAAA', 0, 0), (2, -2, '二支部', '机关', 'BBBB', 0, 0);
         INSERT INTO users (id, full_name, created_at) VALUES
            (11, 'u11', 0), (12, 'u12', 0), (13, 'u13', 0), (14, 'u14', 0), (15, 'u15', 0);
         INSERT INTO members (user_id, branch_id, joined_at) VALUES
            (11, 1, 0), (12, 1, 0), (13, 1, 0), (14, 1, 0), (15, 2, 0);
         INSERT INTO rounds (id, opens_at, closes_at, status) VALUES (1, 1000, 2000, 'closed');",
    )
    .await;
    db
}

async fn id_of(db: &Db, branch: i64, name: &str) -> i64 {
    current(db, branch)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.person.name == name)
        .unwrap()
        .id
}

#[tokio::test]
async fn applying_adds_changes_and_marks_leavers_never_deleting() {
    let db = seeded().await;
    let a = person("甲", Status::Full, Some(Duty::Secretary));
    let b = person("乙", Status::Full, None);
    let c = person("丙", Status::Probationary, None);
    let first = apply(&db, 1, &[a.clone(), b.clone(), c.clone()], None, 10)
        .await
        .unwrap();
    assert_eq!((first.added, first.changed, first.left), (3, 0, 0));
    assert!(has_roster(&db, 1).await.unwrap());
    assert!(!has_roster(&db, 2).await.unwrap());

    let mut b2 = b.clone();
    b2.duty = Some(Duty::Worker);
    let second = apply(&db, 1, &[a.clone(), b2], None, 20).await.unwrap();
    assert_eq!((second.added, second.changed, second.left), (0, 1, 1));
    let all = people(&db, 1).await.unwrap();
    assert_eq!(all.len(), 3, "丙 is kept, marked 转出");
    assert_eq!(all[2].left_at, Some(20));
    assert_eq!(current(&db, 1).await.unwrap().len(), 2);

    // 丙 comes back: the same row, so a link made before survives.
    let third = apply(&db, 1, &[a, c], None, 30).await.unwrap();
    assert_eq!((third.added, third.changed, third.left), (1, 0, 1));
    assert_eq!(people(&db, 1).await.unwrap().len(), 3);
    assert_eq!(all[2].id, id_of(&db, 1, "丙").await);
}

#[tokio::test]
async fn a_person_and_an_account_are_linked_once_each() {
    let db = seeded().await;
    let people_ = [
        person("甲", Status::Full, None),
        person("乙", Status::Full, None),
    ];
    apply(&db, 1, &people_, None, 10).await.unwrap();
    let a = id_of(&db, 1, "甲").await;
    let b = id_of(&db, 1, "乙").await;
    assert!(link(&db, a, 11, Via::Phone, None, 11).await.unwrap());
    assert!(
        !link(&db, a, 12, Via::Phone, None, 12).await.unwrap(),
        "甲 is taken"
    );
    assert!(
        !link(&db, b, 11, Via::Phone, None, 12).await.unwrap(),
        "11 is linked"
    );
    assert_eq!(linked_in(&db, 1, 11).await.unwrap().unwrap().id, a);
    assert!(unlink(&db, a).await.unwrap());
    assert!(!unlink(&db, a).await.unwrap());
    assert!(link(&db, b, 11, Via::Secretary, Some(14), 13)
        .await
        .unwrap());
}

#[tokio::test]
async fn claims_are_decided_once_and_superseded_by_a_link() {
    let db = seeded().await;
    apply(&db, 1, &[person("甲", Status::Full, None)], None, 10)
        .await
        .unwrap();
    let a = id_of(&db, 1, "甲").await;
    let first = create_claim(&db, a, 12, 11).await.unwrap();
    let second = create_claim(&db, a, 12, 12).await.unwrap();
    assert!(
        !decide_claim(&db, first, 14, true, 13).await.unwrap(),
        "replaced"
    );
    let other = create_claim(&db, a, 13, 13).await.unwrap();
    assert!(decide_claim(&db, second, 14, true, 14).await.unwrap());
    assert!(!decide_claim(&db, second, 14, false, 15).await.unwrap());
    assert!(link(&db, a, 12, Via::Secretary, Some(14), 14)
        .await
        .unwrap());
    assert_eq!(
        claim(&db, other).await.unwrap().unwrap().decided_at,
        Some(14)
    );
}

#[tokio::test]
async fn uploads_and_requests() {
    let db = seeded().await;
    let one = create_upload(&db, 1, 11, "a.xlsx", "[]", 5).await.unwrap();
    let two = create_upload(&db, 1, 11, "b.xlsx", "[]", 6).await.unwrap();
    create_upload(&db, 2, 15, "c.xlsx", "[]", 7).await.unwrap();
    assert_eq!(newest_upload(&db, 1).await.unwrap(), Some(two));
    assert!(cancel_upload(&db, one, 8).await.unwrap());
    assert!(!cancel_upload(&db, one, 9).await.unwrap());
    apply(&db, 1, &[], Some(two), 10).await.unwrap();
    assert_eq!(
        upload(&db, two).await.unwrap().unwrap().applied_at,
        Some(10)
    );
    assert!(!cancel_upload(&db, two, 11).await.unwrap());

    expect_upload(&db, -1, 11, 100).await.unwrap();
    assert!(!take_upload_request(&db, -1, 12, 50).await.unwrap());
    assert!(take_upload_request(&db, -1, 11, 50).await.unwrap());
    assert!(
        !take_upload_request(&db, -1, 11, 50).await.unwrap(),
        "used up"
    );
    expect_upload(&db, -1, 11, 100).await.unwrap();
    assert!(
        !take_upload_request(&db, -1, 11, 101).await.unwrap(),
        "expired"
    );
}

#[tokio::test]
async fn participation_counts_the_due_against_the_roster() {
    let db = seeded().await;
    let mut exempt = person("戊", Status::Full, Some(Duty::Deputy));
    exempt.takes_test = Some(false);
    let mut volunteer = person("己", Status::Activist, None);
    volunteer.takes_test = Some(true);
    let roster = [
        person("甲", Status::Full, Some(Duty::Secretary)),
        person("乙", Status::Full, Some(Duty::Organisation)),
        person("丙", Status::Full, Some(Duty::Worker)),
        person("丁", Status::Full, None),
        exempt,
        volunteer,
        person("庚", Status::Full, Some(Duty::Propaganda)),
    ];
    apply(&db, 1, &roster, None, 500).await.unwrap();
    for (name, user) in [("甲", 11), ("乙", 12), ("丁", 13), ("己", 14)] {
        let id = id_of(&db, 1, name).await;
        assert!(link(&db, id, user, Via::Phone, None, 600).await.unwrap());
    }
    // 甲 finished, 乙 started and did not finish, 丁 (not due by default) finished, 己 timed out.
    exec(
        &db,
        "INSERT INTO attempts (round_id, user_id, branch_id, started_at, deadline_at, status, question_count)
         VALUES (1, 11, 1, 1100, 1200, 'finished', 10), (1, 12, 1, 1100, 1200, 'in_progress', 10),
                (1, 13, 1, 1100, 1200, 'finished', 10), (1, 14, 1, 1100, 1200, 'timed_out', 10);",
    )
    .await;
    // 庚 left before the round opened: not counted for it.
    exec(
        &db,
        "UPDATE roster_people SET left_at = 900 WHERE name = '庚'",
    )
    .await;
    let parts = participation(&db, 1, &[1, 2], TestScope::Cadres)
        .await
        .unwrap();
    let one = &parts[0];
    assert!(one.has_roster);
    assert_eq!(
        one.due, 4,
        "甲 乙 丙 己; 丁 has no 职务, 戊 said 否, 庚 left"
    );
    assert_eq!(one.took, 2);
    assert_eq!(one.never_joined, vec!["丙"]);
    assert_eq!(one.not_taken, vec!["乙"]);
    assert_eq!(
        parts[1],
        Participation {
            branch_id: 2,
            ..Participation::default()
        }
    );
    let all = participation(&db, 1, &[1], TestScope::AllMembers)
        .await
        .unwrap();
    assert_eq!((all[0].due, all[0].took), (5, 3), "甲 乙 丙 丁 己");

    // A roster uploaded after the round leaves the round's figures as they were.
    apply(
        &db,
        2,
        &[person("辛", Status::Full, Some(Duty::Secretary))],
        None,
        3000,
    )
    .await
    .unwrap();
    let later = participation(&db, 1, &[2], TestScope::Cadres)
        .await
        .unwrap();
    assert!(!later[0].has_roster);
    assert_eq!(
        participation(&db, 99, &[1], TestScope::Cadres)
            .await
            .unwrap()[0]
            .due,
        0
    );
}
