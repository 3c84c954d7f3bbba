//! 1099-NEC / 1099-MISC general thresholds by tax year, kept as data.
//!
//! * Payments made in 2025 and earlier: **$600 or more** (IRC §6041(a) before OBBBA).
//! * Payments made in 2026: **$2,000 or more** (OBBBA §70433, payments after 2025-12-31).
//! * 2027 onward: $2,000 indexed for inflation. The indexed figure is not published, so later
//!   years must come from configuration; an unknown year is a clear error, never a guess.
//!
//! The comparison is `>=` on the amount rounded to cents (see [`crate::money`]).

use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The first tax year that has a built-in threshold; earlier years are refused as implausible.
pub const FIRST_KNOWN_YEAR: i32 = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error(
        "no 1099-NEC threshold is known for tax year {year}: the IRS has not published one built into this \
         version. Add it to the configuration file, e.g.\n  [thresholds.nec]\n  {year} = \"2000.00\""
    )]
    UnknownYear { year: i32 },
    #[error("threshold for tax year {year} must be positive, got {amount}")]
    NotPositive { year: i32, amount: Decimal },
}

/// Thresholds by tax year: the built-in table plus any configured years.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    nec: BTreeMap<i32, Decimal>,
}

impl Default for Thresholds {
    // Amounts in cents, grouped as dollars_cents (600_00 = $600.00).
    #[allow(clippy::inconsistent_digit_grouping)]
    fn default() -> Self {
        let mut nec = BTreeMap::new();
        for year in FIRST_KNOWN_YEAR..=2025 {
            nec.insert(year, Decimal::new(600_00, 2));
        }
        nec.insert(2026, Decimal::new(2000_00, 2));
        Thresholds { nec }
    }
}

impl Thresholds {
    /// Adds or replaces the threshold for one year (from configuration).
    pub fn with_nec(mut self, year: i32, amount: Decimal) -> Result<Self, ThresholdError> {
        if amount <= Decimal::ZERO {
            return Err(ThresholdError::NotPositive { year, amount });
        }
        self.nec.insert(year, crate::money::round_cents(amount));
        Ok(self)
    }

    /// The 1099-NEC threshold for `year` ("$X or more").
    pub fn nec(&self, year: i32) -> Result<Decimal, ThresholdError> {
        self.nec
            .get(&year)
            .copied()
            .ok_or(ThresholdError::UnknownYear { year })
    }

    /// Whether `amount` (any precision) meets the threshold for `year`: rounded to cents, then `>=`.
    pub fn meets_nec(&self, year: i32, amount: Decimal) -> Result<bool, ThresholdError> {
        Ok(crate::money::round_cents(amount) >= self.nec(year)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn built_in_years() {
        let t = Thresholds::default();
        assert_eq!(t.nec(2024).unwrap(), dec!(600.00));
        assert_eq!(t.nec(2025).unwrap(), dec!(600.00));
        assert_eq!(t.nec(2026).unwrap(), dec!(2000.00));
        assert_eq!(t.nec(2027), Err(ThresholdError::UnknownYear { year: 2027 }));
        assert!(
            t.nec(2027)
                .unwrap_err()
                .to_string()
                .contains("[thresholds.nec]")
        );
    }

    #[test]
    fn at_threshold_is_in_a_cent_below_is_out() {
        let t = Thresholds::default();
        assert!(t.meets_nec(2025, dec!(600.00)).unwrap());
        assert!(!t.meets_nec(2025, dec!(599.99)).unwrap());
        assert!(
            t.meets_nec(2025, dec!(599.995)).unwrap(),
            "rounds half-up to 600.00"
        );
        assert!(t.meets_nec(2025, dec!(599.9999999999999)).unwrap());
        assert!(!t.meets_nec(2026, dec!(1999.99)).unwrap());
        assert!(t.meets_nec(2026, dec!(2000.00)).unwrap());
    }

    #[test]
    fn configured_years() {
        let t = Thresholds::default().with_nec(2027, dec!(2100)).unwrap();
        assert_eq!(t.nec(2027).unwrap(), dec!(2100.00));
        assert!(Thresholds::default().with_nec(2027, dec!(0)).is_err());
    }
}
