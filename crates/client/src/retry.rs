use std::time::Duration;

/// Bounded retries with exponential backoff and full jitter.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total tries, first one included (at least 1).
    pub max_tries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Cap on a server's `Retry-After`, so a hostile or broken header cannot stall a job for hours.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(120),
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
