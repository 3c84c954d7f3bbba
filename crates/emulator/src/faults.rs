//! Deterministic fault injection.

use rand::Rng;

use crate::data::{mix, rng_from};

/// Fault injection settings. `percent` of requests (decided per request number from `seed`)
/// fail in one of the [`FaultKind`] ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultConfig {
    /// Share of requests that fault, 0–100 (values above 100 act as 100).
    pub percent: u8,
    /// Seed of the fault sequence (independent of the data seed).
    pub seed: u64,
    /// Value of `Retry-After` (seconds) on injected 429s.
    pub retry_after_secs: u64,
    /// Delay of [`FaultKind::Slow`] answers, in milliseconds.
    pub slow_ms: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            percent: 0,
            seed: 0,
            retry_after_secs: 1,
            slow_ms: 250,
        }
    }
}

/// What an injected fault does. Every faulted response carries an `x-emulator-fault: <name>`
/// header (where a response head is sent at all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// 500 with the standard 1.0.0 error body. On `POST /payout/{user_token}` the 500 is saved
    /// under the `Idempotency-Key` and replayed for that key, as MassPay documents.
    InternalError,
    /// 500 with the legacy body `{"Exception": "...", "Errors": [...]}` (also saved like above).
    InternalErrorLegacy,
    /// 502 with an HTML body from the "gateway".
    BadGateway,
    /// 503 with the standard error body.
    ServiceUnavailable,
    /// 504 with the standard error body (`"Gateway Time-out."`).
    GatewayTimeout,
    /// 429 with `Retry-After: <retry_after_secs>`.
    TooManyRequests,
    /// The connection is dropped. `GET /payout/tax` sends 200 and part of the array, then
    /// aborts the body. Other routes run the request (side effects happen, e.g. a payout is
    /// created and saved under its idempotency key) and then abort without a complete answer.
    DroppedConnection,
    /// Sleeps `slow_ms`, then answers normally.
    Slow,
}

impl FaultKind {
    /// Name used in the `x-emulator-fault` header.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::InternalError => "internal-error",
            FaultKind::InternalErrorLegacy => "internal-error-legacy",
            FaultKind::BadGateway => "bad-gateway",
            FaultKind::ServiceUnavailable => "service-unavailable",
            FaultKind::GatewayTimeout => "gateway-timeout",
            FaultKind::TooManyRequests => "too-many-requests",
            FaultKind::DroppedConnection => "dropped-connection",
            FaultKind::Slow => "slow",
        }
    }
}

/// The fault (if any) of the `n`-th request (0-based, counting every request the emulator
/// received, including ones rejected with 401, which are never faulted).
pub fn fault_for(config: &FaultConfig, n: u64) -> Option<FaultKind> {
    if config.percent == 0 {
        return None;
    }
    let mut r = rng_from(mix(config.seed ^ 0x6661_756c_7473_2121, n));
    let roll: u8 = r.random_range(0..100);
    if roll >= config.percent.min(100) {
        return None;
    }
    Some(match r.random_range(0..100u8) {
        0..=19 => FaultKind::InternalError,
        20..=29 => FaultKind::InternalErrorLegacy,
        30..=39 => FaultKind::BadGateway,
        40..=54 => FaultKind::ServiceUnavailable,
        55..=64 => FaultKind::GatewayTimeout,
        65..=79 => FaultKind::TooManyRequests,
        80..=89 => FaultKind::DroppedConnection,
        _ => FaultKind::Slow,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_bounds() {
        let none = FaultConfig::default();
        assert!((0..1000).all(|n| fault_for(&none, n).is_none()));
        let all = FaultConfig {
            percent: 100,
            ..FaultConfig::default()
        };
        assert!((0..1000).all(|n| fault_for(&all, n).is_some()));
        let some = FaultConfig {
            percent: 30,
            seed: 5,
            ..FaultConfig::default()
        };
        let count = (0..10_000)
            .filter(|&n| fault_for(&some, n).is_some())
            .count();
        assert!((2_700..=3_300).contains(&count), "{count}");
    }

    #[test]
    fn every_kind_occurs_and_is_reproducible() {
        let cfg = FaultConfig {
            percent: 100,
            seed: 11,
            ..FaultConfig::default()
        };
        let seq: Vec<_> = (0..2000).map(|n| fault_for(&cfg, n)).collect();
        let again: Vec<_> = (0..2000).map(|n| fault_for(&cfg, n)).collect();
        assert_eq!(seq, again);
        let kinds: std::collections::HashSet<_> = seq.into_iter().flatten().collect();
        assert_eq!(kinds.len(), 8);
    }
}
