//! The whole emulated account: hard cases then bulk payees.

use std::sync::Arc;

#[allow(unused_imports)]
use super::*;

// ----------------------------------------------------------------------------------------------
// Population

/// The whole emulated account for one `(seed, bulk_payees)`: hard cases then bulk payees.
#[derive(Clone, Debug)]
pub struct Population {
    seed: u64,
    bulk: u64,
    hard: Arc<Vec<EmuPayee>>,
}

impl Population {
    /// A population with `bulk_payees` generated payees per year.
    pub fn new(seed: u64, bulk_payees: usize) -> Self {
        Population {
            seed,
            bulk: bulk_payees as u64,
            hard: Arc::new(hard_cases(0)),
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of hard cases.
    pub fn hard_count(&self) -> u64 {
        self.hard.len() as u64
    }

    /// Number of bulk payees.
    pub fn bulk_count(&self) -> u64 {
        self.bulk
    }

    /// Total payees listed per year.
    pub fn len(&self) -> u64 {
        self.hard_count() + self.bulk
    }

    /// Never empty (there are always hard cases).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Payee at listing position `pos` (hard cases first) for `year`.
    pub fn payee_at(&self, year: i32, pos: u64) -> Option<EmuPayee> {
        let h = self.hard_count();
        if pos < h {
            self.hard.get(pos as usize).cloned()
        } else if pos - h < self.bulk {
            Some(bulk_payee(self.seed, year, pos - h))
        } else {
            None
        }
    }

    /// Balance text and value at `pos` without building the whole payee.
    pub fn balance_at(&self, year: i32, pos: u64) -> Option<(String, Decimal)> {
        let h = self.hard_count();
        if pos < h {
            let p = &self.hard[pos as usize];
            Some((p.balance_text.clone(), p.balance))
        } else if pos - h < self.bulk {
            Some(bulk_balance(self.seed, year, pos - h))
        } else {
            None
        }
    }

    /// Listing position of a user token.
    pub fn position_of_token(&self, token: &str) -> Option<u64> {
        if let Some(i) = self.hard.iter().position(|p| p.user_token == token) {
            return Some(i as u64);
        }
        decode_bulk_token(self.seed, token, self.bulk).map(|i| i + self.hard_count())
    }

    /// Payee by user token.
    pub fn by_token(&self, year: i32, token: &str) -> Option<EmuPayee> {
        self.position_of_token(token)
            .and_then(|p| self.payee_at(year, p))
    }

    /// Payee by email (case-insensitive).
    pub fn by_email(&self, year: i32, email: &str) -> Option<EmuPayee> {
        let email = email.trim();
        if let Some(p) = self
            .hard
            .iter()
            .find(|p| p.email.eq_ignore_ascii_case(email))
        {
            return Some(p.clone());
        }
        let lower = email.to_ascii_lowercase();
        let idx = lower.strip_prefix("payee")?.strip_suffix("@example.test")?;
        let i: u64 = idx.parse().ok()?;
        (i.to_string() == idx && i < self.bulk).then(|| bulk_payee(self.seed, year, i))
    }

    /// Payee by `internal_user_id`.
    pub fn by_internal_id(&self, year: i32, id: &str) -> Option<EmuPayee> {
        if let Some(p) = self.hard.iter().find(|p| p.internal_user_id == id) {
            return Some(p.clone());
        }
        let idx = id.strip_prefix("contractor-")?;
        let i: u64 = idx.parse().ok()?;
        (i.to_string() == idx && i < self.bulk).then(|| bulk_payee(self.seed, year, i))
    }

    /// The client wallet token.
    pub fn client_wallet_token(&self) -> String {
        client_wallet_token(self.seed)
    }

    /// Account balance text (JSON number).
    pub fn account_balance_text(&self) -> String {
        let mut r = rng_from(mix(self.seed, SALT_WALLET ^ 7));
        Decimal::new(r.random_range(10_000_000..90_000_000i64), 2)
            .normalize()
            .to_string()
    }
}
