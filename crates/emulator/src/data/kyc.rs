//! KYC sessions of a payee.

#[allow(unused_imports)]
use super::*;

/// KYC sessions of a payee: `(provider, session_id, session_time, status)`.
pub fn kyc_sessions(seed: u64, payee: &EmuPayee) -> Vec<(String, String, String, String)> {
    let statuses: &[(&str, &str)] = match &payee.hold {
        Hold::GovernmentId { .. } => {
            &[("Veriff", "Declined"), ("Veriff", "Resubmission requested")]
        }
        Hold::IdSelfie { .. } => &[("Veriff", "Started")],
        Hold::BankStatement { .. } => &[("Veriff", "Approved")],
        Hold::None if payee.seed_key().is_multiple_of(3) => &[("Au10tix", "Approved")],
        Hold::None => &[],
    };
    let mut r = rng_from(mix3(seed, SALT_KYC, payee.seed_key()));
    let mut t = dates::days_from_civil(2024, 1, 1) * 86_400 + r.random_range(0..86_400 * 300);
    statuses
        .iter()
        .map(|(provider, status)| {
            t += r.random_range(3_600..86_400 * 30);
            (
                (*provider).to_string(),
                uuid_from(&mut r),
                dates::format_timestamp_millis(t * 1000),
                (*status).to_string(),
            )
        })
        .collect()
}
