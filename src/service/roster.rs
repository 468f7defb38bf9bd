//! Rosters from chat: uploading a branch's sheet and confirming it, linking a Telegram account to
//! a roster person (by verified phone, or by name with the secretary's confirmation), unlinking,
//! and the numbers `/roster` and `/status` show.
//!
//! A sheet is checked completely before anything changes; a valid one waits in `roster_uploads`
//! until the person who sent it confirms, and only the branch's newest upload can be applied,
//! once. The organisation-level upload (a 支部 column, many branches, an organisation's
//! administrator in private chat) is `service::roster_org`.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::roster::{self, normalize_phone, Counts, Election, Person};
use crate::error::{AppError, AppResult};
use crate::roster::sheet::{self, Layout, SheetError, SheetRow};
use crate::service::AppState;
use crate::storage::branches::{self, Branch};
use crate::storage::roster::{self as store, Applied, Stored, Via};

/// A roster of a few hundred people is some tens of KB; Telegram lets bots download 20 MB.
pub const MAX_UPLOAD_BYTES: u32 = 5 * 1024 * 1024;
/// How long after `/roster upload` the next sheet in the group is taken as a roster.
pub const REQUEST_MINUTES: i64 = 10;
/// Names offered as buttons to someone linking by name, at most (a branch has up to ~50).
pub const MAX_NAME_BUTTONS: usize = 90;

/// Whether a file name is a sheet the roster accepts.
pub fn accepted_name(name: &str) -> bool {
    name.trim().to_lowercase().ends_with(".xlsx")
}

/// Whether a document's caption says it is a roster (`/roster`, `/roster upload`, or 名册).
pub fn is_roster_caption(caption: &str, bot_name: &str) -> bool {
    let caption = caption.trim();
    let Some(rest) = caption.strip_prefix('/') else {
        return caption.contains("名册");
    };
    let word = rest.split_whitespace().next().unwrap_or_default();
    let (command, to) = word.split_once('@').unwrap_or((word, bot_name));
    command.eq_ignore_ascii_case("roster") && to.eq_ignore_ascii_case(bot_name)
}

// ---- what /roster shows ---------------------------------------------------------------------

/// Counts for `/roster` in the group: never who has which phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Overview {
    pub people: usize,
    pub members: usize,
    pub due: usize,
    pub linked: usize,
    pub due_linked: usize,
    pub left: usize,
    pub with_phone: usize,
}

pub async fn overview(state: &AppState, branch_id: i64) -> AppResult<Overview> {
    let scope = state.config.roster_test_scope;
    let all = store::people(&state.db, branch_id).await?;
    let mut o = Overview::default();
    for p in &all {
        if p.left_at.is_some() {
            o.left += 1;
            continue;
        }
        o.people += 1;
        o.members += usize::from(p.person.status.is_member());
        o.with_phone += usize::from(p.person.phone.is_some());
        o.linked += usize::from(p.user_id.is_some());
        if p.person.due_for_test(scope) {
            o.due += 1;
            o.due_linked += usize::from(p.user_id.is_some());
        }
    }
    Ok(o)
}

/// The election arithmetic from the current roster, and the 预备党员 whose 预备期 has ended
/// without a recorded 转正; `None` without a roster.
pub async fn election(
    state: &AppState,
    branch_id: i64,
    today: NaiveDate,
) -> AppResult<Option<(Election, Vec<String>)>> {
    let people = store::current(&state.db, branch_id).await?;
    if people.is_empty() {
        return Ok(None);
    }
    let election = Election::of(Counts::of(people.iter().map(|p| &p.person)));
    let overdue = people
        .iter()
        .filter(|p| p.person.probation_overdue(today))
        .map(|p| p.person.name.clone())
        .collect();
    Ok(Some((election, overdue)))
}

// ---- uploads --------------------------------------------------------------------------------

pub async fn expect_upload(state: &AppState, chat_id: i64, user_id: i64) -> AppResult<()> {
    let expires = state.now().timestamp() + REQUEST_MINUTES * 60;
    store::expect_upload(&state.db, chat_id, user_id, expires).await
}

/// Whether `/roster upload` was sent by `user` in `chat` lately; the request is used up.
pub async fn upload_expected(state: &AppState, chat_id: i64, user_id: i64) -> AppResult<bool> {
    store::take_upload_request(&state.db, chat_id, user_id, state.now().timestamp()).await
}

/// A checked sheet waiting for confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub upload_id: i64,
    pub total: usize,
    pub diff: roster::RosterDiff,
}

/// Why a sheet was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    Errors(Vec<SheetError>),
    /// An organisation's sheet (支部 column): needs the organisation tree.
    OrganisationSheet,
}

/// Checks a branch's sheet and, when valid, keeps it pending for its uploader's confirmation.
pub async fn check_upload(
    state: &AppState,
    branch_id: i64,
    uploader: i64,
    name: &str,
    bytes: &[u8],
) -> AppResult<Result<Checked, Rejected>> {
    let rows = match sheet::parse(bytes, Layout::Branch) {
        Ok(rows) => rows,
        Err(errors) => {
            let org = errors
                .iter()
                .any(|e| e.problem == sheet::Problem::OrganisationSheet);
            return Ok(Err(if org {
                Rejected::OrganisationSheet
            } else {
                Rejected::Errors(errors)
            }));
        }
    };
    let people: Vec<Person> = rows.into_iter().map(|r| r.person).collect();
    let current: Vec<Person> = store::current(&state.db, branch_id)
        .await?
        .into_iter()
        .map(|s| s.person)
        .collect();
    let diff = roster::diff(&current, &people);
    let json = serde_json::to_string(&people).map_err(|e| AppError::Report(e.to_string()))?;
    let now = state.now().timestamp();
    let upload_id = store::create_upload(&state.db, branch_id, uploader, name, &json, now).await?;
    tracing::info!(
        upload = upload_id,
        branch = branch_id,
        uploader,
        people = people.len(),
        "roster uploaded, awaiting confirmation"
    );
    Ok(Ok(Checked {
        upload_id,
        total: people.len(),
        diff,
    }))
}

/// Rows grouped by their 支部 cell, in the order branches first appear (the import benchmark's
/// grouping; an administrator's upload resolves the cells to branches in
/// `service::roster_org`).
pub fn group_by_branch(rows: Vec<SheetRow>) -> Vec<(String, Vec<Person>)> {
    let mut order: Vec<(String, Vec<Person>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let branch = row.branch.unwrap_or_default();
        let i = *index.entry(branch.clone()).or_insert_with(|| {
            order.push((branch, Vec::new()));
            order.len() - 1
        });
        order[i].1.push(row.person);
    }
    order
}

/// Why a confirm or cancel button does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Gone,
    /// The button is on a message in another branch's group.
    WrongBranch,
    NotYours,
    DoneAlready,
    NotNewest,
    /// The branch's roster changed after this upload was checked (an organisation's upload
    /// was applied meanwhile): applying it would undo that change unseen.
    ChangedSince,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Applied(Applied),
    Cancelled,
}

/// Applies (`confirm`) or discards upload `id` for its uploader, pressed in `branch`'s group.
pub async fn decide(
    state: &AppState,
    branch_id: i64,
    user: i64,
    id: i64,
    confirm: bool,
) -> AppResult<Result<Decision, Refusal>> {
    let Some(upload) = store::upload(&state.db, id).await? else {
        return Ok(Err(Refusal::Gone));
    };
    if upload.branch_id != branch_id {
        return Ok(Err(Refusal::WrongBranch));
    }
    if upload.uploader_id != user {
        return Ok(Err(Refusal::NotYours));
    }
    if upload.applied_at.is_some() || upload.cancelled_at.is_some() {
        return Ok(Err(Refusal::DoneAlready));
    }
    let now = state.now().timestamp();
    if !confirm {
        return Ok(if store::cancel_upload(&state.db, id, now).await? {
            Ok(Decision::Cancelled)
        } else {
            Err(Refusal::DoneAlready)
        });
    }
    if store::newest_upload(&state.db, branch_id).await? != Some(id) {
        return Ok(Err(Refusal::NotNewest));
    }
    if store::last_change(&state.db, branch_id).await? > Some(upload.created_at) {
        return Ok(Err(Refusal::ChangedSince));
    }
    let people: Vec<Person> = serde_json::from_str(&upload.people)
        .map_err(|e| AppError::Report(format!("roster upload {id}: {e}")))?;
    let applied = store::apply(&state.db, branch_id, &people, Some(id), now).await?;
    // The scheduler looks for 预备期 reminders the new roster may call for.
    state.wake.notify_one();
    tracing::info!(
        upload = id,
        branch = branch_id,
        added = applied.added,
        changed = applied.changed,
        left = applied.left,
        "roster applied"
    );
    Ok(Ok(Decision::Applied(applied)))
}

// ---- linking --------------------------------------------------------------------------------

/// What someone who joined a branch with a roster is offered to say who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The roster has phone numbers: the request_contact button is worth showing.
    pub phones: bool,
    /// Unlinked current people: (person id, 姓名).
    pub names: Vec<(i64, String)>,
}

/// `None` when the branch has no roster or `user` is linked to someone on it already.
pub async fn offer(state: &AppState, branch_id: i64, user: i64) -> AppResult<Option<Offer>> {
    let people = store::current(&state.db, branch_id).await?;
    if people.is_empty() || people.iter().any(|p| p.user_id == Some(user)) {
        return Ok(None);
    }
    Ok(Some(Offer {
        phones: people.iter().any(|p| p.person.phone.is_some()),
        names: people
            .iter()
            .filter(|p| p.user_id.is_none())
            .take(MAX_NAME_BUTTONS)
            .map(|p| (p.id, p.person.name.clone()))
            .collect(),
    }))
}

/// What a shared contact did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactOutcome {
    /// Someone else's contact (a forwarded card), or one without a Telegram account.
    NotOwn,
    /// No branch with a roster, or linked already.
    NotNeeded,
    NoMatch,
    /// The matching person is linked to another account.
    Taken,
    Linked {
        name: String,
        branch: String,
    },
}

/// A contact sent in private chat by `user`: linked when it is the sender's own (Telegram sets
/// `contact_user` to the sender for the request_contact button) and its number is on the roster
/// of the sender's branch.
pub async fn link_by_contact(
    state: &AppState,
    user: i64,
    contact_user: Option<i64>,
    phone: &str,
) -> AppResult<ContactOutcome> {
    if contact_user != Some(user) {
        return Ok(ContactOutcome::NotOwn);
    }
    let Some(branch) = branches::member_branch(&state.db, user).await? else {
        return Ok(ContactOutcome::NotNeeded);
    };
    if offer(state, branch.id, user).await?.is_none() {
        return Ok(ContactOutcome::NotNeeded);
    }
    let Some(phone) = normalize_phone(phone) else {
        return Ok(ContactOutcome::NoMatch);
    };
    let people = store::current(&state.db, branch.id).await?;
    let Some(person) = people
        .iter()
        .find(|p| p.person.phone.as_deref() == Some(phone.as_str()))
    else {
        return Ok(ContactOutcome::NoMatch);
    };
    if person.user_id.is_some() {
        return Ok(ContactOutcome::Taken);
    }
    let now = state.now().timestamp();
    if !store::link(&state.db, person.id, user, Via::Phone, None, now).await? {
        return Ok(ContactOutcome::Taken);
    }
    tracing::info!(
        user,
        person = person.id,
        "account linked to a roster person by phone"
    );
    Ok(ContactOutcome::Linked {
        name: person.person.name.clone(),
        branch: branch.name,
    })
}

/// What choosing a name did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The person is not on the roster of the chooser's branch (any more).
    NotMember,
    AlreadyLinked,
    Taken,
    /// Waiting for the secretary: ask in `branch`'s group.
    Sent {
        claim_id: i64,
        name: String,
        branch: Branch,
    },
}

pub async fn claim_name(state: &AppState, user: i64, person_id: i64) -> AppResult<ClaimOutcome> {
    let Some(branch) = branches::member_branch(&state.db, user).await? else {
        return Ok(ClaimOutcome::NotMember);
    };
    let Some(person) = store::person(&state.db, person_id).await? else {
        return Ok(ClaimOutcome::NotMember);
    };
    if person.branch_id != branch.id || person.left_at.is_some() || !branch.active {
        return Ok(ClaimOutcome::NotMember);
    }
    if store::linked_in(&state.db, branch.id, user)
        .await?
        .is_some()
    {
        return Ok(ClaimOutcome::AlreadyLinked);
    }
    if person.user_id.is_some() {
        return Ok(ClaimOutcome::Taken);
    }
    let claim_id = store::create_claim(&state.db, person_id, user, state.now().timestamp()).await?;
    Ok(ClaimOutcome::Sent {
        claim_id,
        name: person.person.name,
        branch,
    })
}

/// Why a secretary's press on a claim does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    Gone,
    WrongBranch,
    DoneAlready,
    /// The name or the account was linked meanwhile.
    Taken,
}

/// A decided claim: who, as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimDecided {
    pub user_id: i64,
    pub user_name: String,
    pub person: String,
    pub branch: String,
    pub confirmed: bool,
}

/// The secretary of `branch` confirms or refuses claim `id`.
pub async fn decide_claim(
    state: &AppState,
    branch: &Branch,
    secretary: i64,
    id: i64,
    confirm: bool,
) -> AppResult<Result<ClaimDecided, ClaimRefusal>> {
    let Some(claim) = store::claim(&state.db, id).await? else {
        return Ok(Err(ClaimRefusal::Gone));
    };
    let Some(person) = store::person(&state.db, claim.person_id).await? else {
        return Ok(Err(ClaimRefusal::Gone));
    };
    if person.branch_id != branch.id {
        return Ok(Err(ClaimRefusal::WrongBranch));
    }
    if claim.decided_at.is_some() {
        return Ok(Err(ClaimRefusal::DoneAlready));
    }
    if confirm {
        let user_linked = store::linked_in(&state.db, branch.id, claim.user_id).await?;
        if person.user_id.is_some() || person.left_at.is_some() || user_linked.is_some() {
            return Ok(Err(ClaimRefusal::Taken));
        }
    }
    // Decided first, so a second press (or a second secretary) finds it done.
    let now = state.now().timestamp();
    if !store::decide_claim(&state.db, id, secretary, confirm, now).await? {
        return Ok(Err(ClaimRefusal::DoneAlready));
    }
    if confirm
        && !store::link(
            &state.db,
            person.id,
            claim.user_id,
            Via::Secretary,
            Some(secretary),
            now,
        )
        .await?
    {
        return Ok(Err(ClaimRefusal::Taken));
    }
    let user_name = branches::user(&state.db, claim.user_id)
        .await?
        .map(|u| u.full_name)
        .unwrap_or_default();
    tracing::info!(claim = id, secretary, confirm, "roster claim decided");
    Ok(Ok(ClaimDecided {
        user_id: claim.user_id,
        user_name,
        person: person.person.name,
        branch: branch.name.clone(),
        confirmed: confirm,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlinked {
    NotOnRoster,
    NotLinked,
    Unlinked,
}

/// `/roster unlink 姓名`.
pub async fn unlink(state: &AppState, branch_id: i64, name: &str) -> AppResult<Unlinked> {
    let people = store::current(&state.db, branch_id).await?;
    let Some(person) = people.iter().find(|p| p.person.name == name) else {
        return Ok(Unlinked::NotOnRoster);
    };
    Ok(if store::unlink(&state.db, person.id).await? {
        tracing::info!(person = person.id, "roster link removed");
        Unlinked::Unlinked
    } else {
        Unlinked::NotLinked
    })
}

/// Whether the 预备期 that began on `joined_on` (text as stored) has ended by `today`.
fn probation_ended(joined_on: &str, today: NaiveDate) -> bool {
    joined_on
        .parse::<NaiveDate>()
        .ok()
        .and_then(|d| d.checked_add_months(chrono::Months::new(12)))
        .is_some_and(|end| end <= today)
}

/// Branches (by name) with 预备党员 whose 预备期 has ended without a recorded 转正, for
/// `/overdue`: only the branches in `viewer`'s subtree.
pub async fn probation_overdue(
    state: &AppState,
    viewer: &crate::service::orgs::Viewer,
    today: NaiveDate,
) -> AppResult<Vec<(String, Vec<String>)>> {
    let people = store::probationers(&state.db).await?;
    let overdue: Vec<&store::ProbationCandidate> = people
        .iter()
        .filter(|c| viewer.scope.sees(c.org_id) && probation_ended(&c.joined_on, today))
        .collect();
    Ok(overdue
        .chunk_by(|a, b| a.branch_id == b.branch_id)
        .map(|group| {
            (
                group[0].branch_name.clone(),
                group.iter().map(|c| c.name.clone()).collect(),
            )
        })
        .collect())
}

/// Queues, once per person and 预备期, a reminder to the branch group naming the 预备党员 whose
/// one-year 预备期 has ended with no 转正 on the roster (党章 第七条). Called on every scheduler
/// pass; the candidates are the few 预备党员 not reminded yet.
pub async fn plan_probation_reminders(
    state: &AppState,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<usize> {
    let today = crate::domain::dates::local_date(state.config.timezone, now);
    let candidates = store::probation_candidates(&state.db).await?;
    let overdue: Vec<&store::ProbationCandidate> = candidates
        .iter()
        .filter(|c| probation_ended(&c.joined_on, today))
        .collect();
    let mut queued = 0;
    for group in overdue.chunk_by(|a, b| a.branch_id == b.branch_id) {
        let first = group[0];
        let names: Vec<String> = group.iter().map(|c| c.name.clone()).collect();
        let ids: Vec<String> = group.iter().map(|c| c.person_id.to_string()).collect();
        let message = crate::storage::outbox::NewMessage {
            key: format!("probation:{}:{}", first.branch_id, ids.join(",")),
            topic: None,
            chat_id: first.chat_id,
            text: crate::texts::roster::probation_reminder(
                &crate::texts::esc(&first.branch_name),
                &names,
            ),
            markup: None,
            due_at: now.timestamp(),
            expires_at: None,
        };
        store::queue_probation_reminder(&state.db, group, &message, now.timestamp()).await?;
        queued += 1;
    }
    if queued > 0 {
        tracing::info!(branches = queued, "预备期 reminders queued");
    }
    Ok(queued)
}

/// The roster people of a branch (for the door-neutral handlers that need one by id).
pub async fn person(state: &AppState, id: i64) -> AppResult<Option<Stored>> {
    store::person(&state.db, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_that_mark_a_roster() {
        for yes in [
            "/roster",
            "/roster upload",
            "/ROSTER@branchbot",
            "本支部名册",
        ] {
            assert!(is_roster_caption(yes, "branchbot"), "{yes}");
        }
        for no in ["", "/roster@otherbot", "/bank", "题库"] {
            assert!(!is_roster_caption(no, "branchbot"), "{no}");
        }
        assert!(accepted_name("名册.XLSX"));
        assert!(!accepted_name("名册.xls"));
    }
}
