use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Bounded retries with exponential backoff and full jitter.
///
/// **One retry budget per logical call.** Each logical call (one client method such as
/// [`Client::user`](crate::Client::user), one page of history, or one whole tax pull including
/// the re-pulls after a body cut short) gets a single [`RetryBudget`]: at most `max_tries` HTTP
/// requests in all (the first one included, default 6), and no new try is started once
/// `max_elapsed` (default 5 minutes) has passed since the first one, nor a wait that would end
/// after it. Retries are never nested, so one logical call never sends more than `max_tries`
/// requests, whatever fails.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total tries of one logical call, first one included (at least 1).
    pub max_tries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Cap on a server's `Retry-After`, so a hostile or broken header cannot stall a job for hours.
    pub max_retry_after: Duration,
    /// Wall-clock budget of one logical call: no try starts after it.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(120),
            max_elapsed: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The wait before try `next_try` (2 = first retry): `Retry-After` when the server sent one
    /// (capped), otherwise a uniformly random delay in `[0, min(max, base·2^(n-2))]` ("full jitter").
    pub fn delay(&self, next_try: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_retry_after);
        }
        let exp = next_try.saturating_sub(2).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(if ms == 0 {
            0
        } else {
            rand::random_range(0..=ms)
        })
    }

    /// Whether an HTTP status is worth another try.
    pub fn retryable_status(status: u16) -> bool {
        matches!(status, 429 | 500 | 502 | 503 | 504)
    }

    /// A fresh budget for one logical call.
    pub fn budget(&self) -> RetryBudget {
        RetryBudget::new(self)
    }
}

/// The retry budget of one logical call (see [`RetryPolicy`]): counts the HTTP requests sent
/// and the time since the first. Shared by reference across the steps of the call, so nested
/// loops cannot multiply the tries.
#[derive(Debug)]
pub struct RetryBudget {
    policy: RetryPolicy,
    started: Instant,
    tries: AtomicU32,
}

impl RetryBudget {
    pub fn new(policy: &RetryPolicy) -> Self {
        RetryBudget {
            policy: policy.clone(),
            started: Instant::now(),
            tries: AtomicU32::new(0),
        }
    }

    /// Requests sent so far under this budget.
    pub fn tries(&self) -> u32 {
        self.tries.load(Ordering::SeqCst)
    }

    /// Most requests this budget allows.
    pub fn max_tries(&self) -> u32 {
        self.policy.max_tries.max(1)
    }

    /// Claims one try; `false` when the budget is spent (count or time).
    pub(crate) fn take_try(&self) -> bool {
        if self.tries() > 0 && self.started.elapsed() >= self.policy.max_elapsed {
            return false;
        }
        self.tries
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max_tries()).then_some(n + 1)
            })
            .is_ok()
    }

    /// The wait before the next try, or `None` when no try is left (count or time, the wait
    /// included).
    pub fn next_wait(&self, retry_after: Option<Duration>) -> Option<Duration> {
        let tries = self.tries();
        if tries >= self.max_tries() {
            return None;
        }
        let wait = self.policy.delay(tries + 1, retry_after);
        (self.started.elapsed() + wait < self.policy.max_elapsed).then_some(wait)
    }
}

/// Parses `Retry-After` as delta-seconds (the HTTP-date form is rare for APIs; treated as absent).
pub(crate) fn parse_retry_after(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let secs: u64 = value?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        let p = RetryPolicy::default();
        for n in 2..40 {
            assert!(p.delay(n, None) <= p.max_delay);
        }
        assert!(p.delay(2, None) <= p.base_delay);
        assert_eq!(
            p.delay(3, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            p.delay(3, Some(Duration::from_secs(100_000))),
            p.max_retry_after
        );
    }

    #[test]
    fn a_budget_counts_tries_and_time() {
        let p = RetryPolicy {
            max_tries: 3,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            ..RetryPolicy::default()
        };
        let b = p.budget();
        assert!(b.take_try() && b.take_try() && b.take_try());
        assert!(!b.take_try(), "the fourth try is refused");
        assert_eq!(b.tries(), 3);
        assert_eq!(b.next_wait(None), None);
        let short = RetryPolicy {
            max_elapsed: Duration::ZERO,
            ..p
        };
        let b = short.budget();
        assert!(b.take_try(), "the first try always goes");
        assert!(!b.take_try(), "no retry after the time budget");
        assert_eq!(b.next_wait(None), None);
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(RetryPolicy::retryable_status(s));
        }
        for s in [400, 401, 403, 404, 405, 501] {
            assert!(!RetryPolicy::retryable_status(s));
        }
    }

    #[test]
    fn retry_after_header() {
        let v = reqwest::header::HeaderValue::from_static("3");
        assert_eq!(parse_retry_after(Some(&v)), Some(Duration::from_secs(3)));
        let d = reqwest::header::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after(Some(&d)), None);
    }
}
