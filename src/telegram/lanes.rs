//! One chat's updates handled one after another, different chats' side by side, and nothing
//! kept for a chat that has nothing to do.
//!
//! teloxide's dispatcher does the same ordering with a worker per chat, but it keeps each worker
//! (a task and a channel whose first block holds 32 updates of ~2 KB, about 62 KiB) until there
//! are more workers than were ever busy at once — and two hundred trainees writing /test in the
//! same second make that two hundred, for good (BENCHMARKS.md, issue 14). Here the polling loop
//! ([`super::updates`]) hands every update over at once and a chat's lane exists only while it
//! has work: its last job done, it leaves the map and its memory is freed.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

/// One update's handling, queued behind the chat's earlier ones.
pub type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The chats with work queued or running, and their lanes' tasks (for the shutdown to wait on).
#[derive(Default)]
pub struct Lanes {
    open: Arc<Mutex<HashMap<i64, mpsc::UnboundedSender<Job>>>>,
    tasks: TaskTracker,
}

impl Lanes {
    pub fn new() -> Arc<Lanes> {
        Arc::new(Lanes::default())
    }

    /// Queues `job` behind the jobs of `chat` that came before it; returns at once.
    pub fn submit(&self, chat: i64, job: Job) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        // A lane that is there still runs: it leaves the map, under this lock, only when its
        // queue is empty. A send fails only if its task ended abnormally (a panic in a job);
        // then a new lane takes over.
        let job = match open.get(&chat) {
            Some(lane) => match lane.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(job)) => job,
            },
            None => job,
        };
        let (lane, queue) = mpsc::unbounded_channel();
        // The receiver is alive: it is in `queue`.
        let _ = lane.send(job);
        open.insert(chat, lane);
        self.tasks.spawn(run(chat, queue, Arc::clone(&self.open)));
    }

    /// Takes no more lanes and waits until every queued job is done.
    pub async fn drain(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// How many chats have work queued or running.
    #[cfg(test)]
    fn busy_chats(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Runs a chat's jobs in order; when none is left, removes the lane from the map — checking
/// again under the map's lock, so a job submitted meanwhile is never stranded.
async fn run(
    chat: i64,
    mut queue: mpsc::UnboundedReceiver<Job>,
    open: Arc<Mutex<HashMap<i64, mpsc::UnboundedSender<Job>>>>,
) {
    loop {
        while let Ok(job) = queue.try_recv() {
            job.await;
        }
        let next = {
            let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
            match queue.try_recv() {
                Ok(job) => Some(job),
                Err(_) => {
                    open.remove(&chat);
                    None
                }
            }
        };
        match next {
            Some(job) => job.await,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Jobs of one chat run in the order they came, one at a time, even when an earlier one
    /// waits; other chats are not held up by it; an idle chat leaves no lane behind.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_chat_in_order_chats_side_by_side_and_nothing_kept_when_idle() {
        let lanes = Lanes::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        for i in 0..50u64 {
            let log = Arc::clone(&log);
            lanes.submit(
                1,
                Box::pin(async move {
                    // Early jobs take longer: a later one must still wait its turn.
                    tokio::time::sleep(Duration::from_millis(50u64.saturating_sub(i))).await;
                    log.lock().unwrap().push((1, i));
                }),
            );
        }
        let other = Arc::clone(&log);
        lanes.submit(
            2,
            Box::pin(async move { other.lock().unwrap().push((2, 0)) }),
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Chat 2 did not wait for chat 1's fifty jobs.
        assert_eq!(log.lock().unwrap().first(), Some(&(2, 0)));
        lanes.drain().await;
        let chat1: Vec<u64> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|(chat, _)| *chat == 1)
            .map(|(_, i)| *i)
            .collect();
        assert_eq!(chat1, (0..50).collect::<Vec<_>>());
        assert_eq!(lanes.busy_chats(), 0);
    }

    /// A job submitted just as its chat's lane runs dry is run, by that lane or a new one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_arriving_as_the_lane_empties_is_never_stranded() {
        let lanes = Lanes::new();
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..2000 {
            let done = Arc::clone(&done);
            lanes.submit(
                7,
                Box::pin(async move {
                    done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }),
            );
            tokio::task::yield_now().await;
        }
        lanes.drain().await;
        assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), 2000);
        assert_eq!(lanes.busy_chats(), 0);
    }

    /// A job that panics takes its lane down with it; the chat's next job gets a new lane.
    #[tokio::test]
    async fn a_panicking_job_does_not_stop_the_chat() {
        let lanes = Lanes::new();
        lanes.submit(3, Box::pin(async { panic!("handler bug") }));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&ran);
        lanes.submit(
            3,
            Box::pin(async move { flag.store(true, std::sync::atomic::Ordering::SeqCst) }),
        );
        lanes.drain().await;
        assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
    }
}
