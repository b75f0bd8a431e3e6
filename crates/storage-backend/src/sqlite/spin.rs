//! Keeping a task awake while SQLite's worker thread answers it.
//!
//! sqlx runs every SQLite connection on a thread of its own and hands each
//! result back through a channel. A statement of ours takes tens of
//! microseconds; the calling task, however, goes to sleep as soon as it
//! has sent the statement, and when its runtime thread has nothing else to
//! do that thread sleeps too. Waking it again costs several system calls
//! and a cross-core wake-up, three or four times per statement (the result,
//! the channel's lock, the channel's close), and on a virtual machine each
//! is dear: about a third of a single submission, and half of a read.
//!
//! [`SpinWait`] wraps a store call. Each time the call is pending within
//! its budget, it asks its runtime to poll it again at once (the
//! [`Waker::wake_by_ref`] of its own context) instead of letting it sleep.
//! The runtime still runs every other ready task in between, polls its
//! timers and sockets as usual, and never blocks; the thread simply stays
//! awake while the call is short. Past the budget the call waits as any
//! future does, so a call that is long for another reason (a lock held by
//! another process, a large batch) costs at most the budget's CPU time.
//!
//! Spinning pays only when the connection's thread can run on another CPU
//! meanwhile. With one CPU it can answer only once the spinning thread
//! gives the CPU up, at the scheduler's next turn or when the budget runs
//! out, so [`automatic`] turns spinning off there.
//!
//! [`Waker::wake_by_ref`]: std::task::Waker::wake_by_ref

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The budget where another CPU can answer: longer than a single
/// submission, approval or read takes, so those never put their thread to
/// sleep.
const BUDGET: Duration = Duration::from_micros(500);

/// The budget for a process that may run on `cpus` CPUs (`None` when the
/// system cannot tell): [`BUDGET`] with two or more, none otherwise.
fn for_cpus(cpus: Option<NonZeroUsize>) -> Duration {
    match cpus {
        Some(cpus) if cpus.get() > 1 => BUDGET,
        _ => Duration::ZERO,
    }
}

/// The budget for this process, from the CPUs it may use (its affinity
/// mask and CPU quota). Finding them reads a few small files, so it runs on
/// the blocking pool rather than on the caller's thread.
pub(crate) async fn automatic() -> Duration {
    let cpus = tokio::task::spawn_blocking(|| std::thread::available_parallelism().ok())
        .await
        .ok()
        .flatten();
    for_cpus(cpus)
}

pin_project_lite::pin_project! {
    /// A store call that stays awake for up to its budget while pending.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub(crate) struct SpinWait<F> {
        #[pin]
        call: F,
        budget: Duration,
        // When the call was first pending; `None` until then.
        since: Option<Instant>,
    }
}

impl<F> SpinWait<F> {
    /// Wraps `call`; a zero budget makes the wrapper a plain pass-through.
    pub(crate) fn new(call: F, budget: Duration) -> Self {
        Self {
            call,
            budget,
            since: None,
        }
    }
}

impl<F: Future> Future for SpinWait<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let poll = this.call.poll(cx);
        if poll.is_pending() && !this.budget.is_zero() {
            let now = Instant::now();
            let since = *this.since.get_or_insert(now);
            if now.saturating_duration_since(since) < *this.budget {
                cx.waker().wake_by_ref();
            }
        }
        poll
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    /// Counts the wake-ups it receives.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Pending `times` times (without arranging a wake-up), then ready.
    struct PendingFor(usize);

    impl Future for PendingFor {
        type Output = &'static str;

        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<&'static str> {
            if self.0 == 0 {
                return Poll::Ready("done");
            }
            self.0 -= 1;
            Poll::Pending
        }
    }

    /// Polls `future` `polls` times; the wake-ups it asked for, and its
    /// output if it finished.
    fn drive<F: Future + Unpin>(mut future: F, polls: usize) -> (usize, Option<F::Output>) {
        let wakes = Arc::new(Wakes::default());
        let waker = Arc::clone(&wakes).into();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..polls {
            if let Poll::Ready(output) = Pin::new(&mut future).poll(&mut cx) {
                return (wakes.0.load(Ordering::Relaxed), Some(output));
            }
        }
        (wakes.0.load(Ordering::Relaxed), None)
    }

    #[test]
    fn only_a_process_with_another_cpu_spins() {
        assert_eq!(for_cpus(None), Duration::ZERO);
        assert_eq!(for_cpus(NonZeroUsize::new(1)), Duration::ZERO);
        assert_eq!(for_cpus(NonZeroUsize::new(2)), BUDGET);
        assert_eq!(for_cpus(NonZeroUsize::new(64)), BUDGET);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_automatic_budget_follows_the_cpus_this_process_may_use() {
        let cpus = std::thread::available_parallelism().ok();
        assert_eq!(automatic().await, for_cpus(cpus));
    }

    #[test]
    fn a_pending_call_within_its_budget_asks_to_be_polled_again() {
        let call = SpinWait::new(PendingFor(3), Duration::from_secs(3_600));
        assert_eq!(drive(call, 4), (3, Some("done")));
    }

    #[test]
    fn a_ready_call_asks_for_nothing() {
        let call = SpinWait::new(PendingFor(0), Duration::from_secs(3_600));
        assert_eq!(drive(call, 1), (0, Some("done")));
    }

    #[test]
    fn a_zero_budget_passes_polls_through() {
        let call = SpinWait::new(PendingFor(3), Duration::ZERO);
        assert_eq!(drive(call, 4), (0, Some("done")));
    }

    #[test]
    fn past_its_budget_a_call_waits_like_any_future() {
        let mut call = SpinWait::new(PendingFor(usize::MAX), Duration::from_millis(1));
        assert_eq!(drive(Pin::new(&mut call), 1).0, 1);
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(drive(Pin::new(&mut call), 5).0, 0);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_call_woken_only_by_itself_still_finishes_on_a_runtime() {
        // Nothing else would ever wake this call: it finishes only because
        // the wrapper keeps asking for polls.
        let call = SpinWait::new(PendingFor(1_000), Duration::from_secs(3_600));
        assert_eq!(call.await, "done");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn other_tasks_run_while_a_call_spins() {
        let ran = Arc::new(AtomicUsize::new(0));
        let other = tokio::spawn({
            let ran = Arc::clone(&ran);
            async move {
                ran.fetch_add(1, Ordering::Relaxed);
            }
        });
        // The wrapped call finishes only after the other task ran: on a
        // single-threaded runtime that proves spinning yields the thread.
        let waits_for_other = std::future::poll_fn(|_| {
            if ran.load(Ordering::Relaxed) == 1 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        });
        SpinWait::new(waits_for_other, Duration::from_secs(3_600)).await;
        assert!(other.await.is_ok());
    }
}
