//! 1099-NEC / 1099-MISC general thresholds by tax year, kept as data.
//!
//! * Payments made in 2025 and earlier: **$600 or more** (IRC §6041(a) before OBBBA).
//! * Payments made in 2026: **$2,000 or more** (OBBBA §70433, payments after 2025-12-31).
//! * 2027 onward: $2,000 indexed for inflation. The indexed figure is not published, so later
//!   years must come from configuration; an unknown year is a clear error, never a guess.
//!
//! A built-in year (up to [`LAST_BUILT_IN_YEAR`]) is the IRS's figure: configuration cannot
//! change it by accident ([`Thresholds::with_nec`] refuses). A deliberate change goes through
//! [`Thresholds::with_nec_override`], and the year is then recorded as overridden
//! ([`Thresholds::is_overridden`]) so that every report can say so.
//!
//! The comparison is `>=` on the amount rounded to cents (see [`crate::money`]).

use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The first tax year that has a built-in threshold; earlier years are refused as implausible.
pub const FIRST_KNOWN_YEAR: i32 = 2000;

/// The last tax year whose threshold is built in. Years up to this one are the IRS's and are
/// only changed by a deliberate override.
pub const LAST_BUILT_IN_YEAR: i32 = 2026;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error(
        "no 1099-NEC threshold is known for tax year {year}: the IRS has not published one built into this \
         version. Add it to the configuration file, e.g.\n  [thresholds.nec]\n  {year} = \"2000.00\""
    )]
    UnknownYear { year: i32 },
    #[error("threshold for tax year {year} must be positive, got {amount}")]
    NotPositive { year: i32, amount: Decimal },
    #[error(
        "the 1099-NEC threshold for tax year {year} is set by the IRS and built in (${built_in}); \
         a settings file cannot change it by accident. To change it deliberately (every report \
         will then say the threshold was overridden), write\n  [thresholds.nec]\n  \
         {year} = {{ amount = \"{amount}\", override = true }}"
    )]
    BuiltInYear {
        year: i32,
        built_in: Decimal,
        amount: Decimal,
    },
    #[error(
        "tax year {year} has no IRS threshold to override (only {FIRST_KNOWN_YEAR}-{LAST_BUILT_IN_YEAR} \
         are built in); for a later year write\n  [thresholds.nec]\n  {year} = \"{amount}\""
    )]
    NothingToOverride { year: i32, amount: Decimal },
    #[error("tax year {year} is before {FIRST_KNOWN_YEAR}: no threshold can be configured for it")]
    Implausible { year: i32 },
}

/// Thresholds by tax year: the built-in table plus any configured years, and which built-in
/// years were deliberately overridden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    nec: BTreeMap<i32, Decimal>,
    /// Built-in years whose amount was deliberately changed, with the IRS's amount.
    overridden: BTreeMap<i32, Decimal>,
}

/// A built-in year whose threshold was deliberately changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Override {
    pub year: i32,
    /// The amount in force.
    pub amount: Decimal,
    /// The IRS's (built-in) amount it replaces.
    pub built_in: Decimal,
}

/// The built-in (IRS) 1099-NEC threshold for `year`, if the year is built in.
#[allow(clippy::inconsistent_digit_grouping)]
pub fn built_in_nec(year: i32) -> Option<Decimal> {
    match year {
        FIRST_KNOWN_YEAR..=2025 => Some(Decimal::new(600_00, 2)),
        2026 => Some(Decimal::new(2000_00, 2)),
        _ => None,
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        let nec = (FIRST_KNOWN_YEAR..=LAST_BUILT_IN_YEAR)
            .filter_map(|y| built_in_nec(y).map(|a| (y, a)))
            .collect();
        Thresholds {
            nec,
            overridden: BTreeMap::new(),
        }
    }
}

impl Thresholds {
    /// Adds the threshold for a year the IRS has not published into this version (from
    /// configuration). A built-in year is refused unless `amount` is its IRS amount
    /// ([`ThresholdError::BuiltInYear`]); use [`Thresholds::with_nec_override`] to change one.
    pub fn with_nec(mut self, year: i32, amount: Decimal) -> Result<Self, ThresholdError> {
        if amount <= Decimal::ZERO {
            return Err(ThresholdError::NotPositive { year, amount });
        }
        let amount = crate::money::round_cents(amount);
        if let Some(built_in) = built_in_nec(year) {
            if amount != built_in {
                return Err(ThresholdError::BuiltInYear {
                    year,
                    built_in,
                    amount,
                });
            }
            return Ok(self);
        }
        if year < FIRST_KNOWN_YEAR {
            return Err(ThresholdError::Implausible { year });
        }
        self.nec.insert(year, amount);
        Ok(self)
    }

    /// Deliberately replaces the IRS threshold of a built-in year. The year is then recorded as
    /// overridden (unless `amount` equals the IRS amount). A year that is not built in is
    /// refused ([`ThresholdError::NothingToOverride`]): add it with [`Thresholds::with_nec`].
    pub fn with_nec_override(mut self, year: i32, amount: Decimal) -> Result<Self, ThresholdError> {
        if amount <= Decimal::ZERO {
            return Err(ThresholdError::NotPositive { year, amount });
        }
        let amount = crate::money::round_cents(amount);
        let Some(built_in) = built_in_nec(year) else {
            return Err(ThresholdError::NothingToOverride { year, amount });
        };
        self.nec.insert(year, amount);
        if amount == built_in {
            self.overridden.remove(&year);
        } else {
            self.overridden.insert(year, built_in);
        }
        Ok(self)
    }

    /// Whether the threshold in force for `year` is a deliberate override of the IRS's.
    pub fn is_overridden(&self, year: i32) -> bool {
        self.overridden.contains_key(&year)
    }

    /// The override in force for `year`, if any (amount and the IRS amount it replaces).
    pub fn override_for(&self, year: i32) -> Option<Override> {
        let built_in = *self.overridden.get(&year)?;
        Some(Override {
            year,
            amount: *self.nec.get(&year)?,
            built_in,
        })
    }

    /// Every overridden year, oldest first.
    pub fn overrides(&self) -> impl Iterator<Item = Override> + '_ {
        self.overridden.keys().filter_map(|&y| self.override_for(y))
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
        assert!(
            !t.is_overridden(2027),
            "a later year is an addition, not an override"
        );
        assert!(Thresholds::default().with_nec(2027, dec!(0)).is_err());
    }

    #[test]
    fn built_in_years_are_not_changed_by_accident() {
        let err = Thresholds::default().with_nec(2025, dec!(1)).unwrap_err();
        assert_eq!(
            err,
            ThresholdError::BuiltInYear {
                year: 2025,
                built_in: dec!(600.00),
                amount: dec!(1.00)
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("2025 = { amount = \"1.00\", override = true }"),
            "{msg}"
        );
        assert!(msg.contains("$600.00"), "{msg}");
        assert!(Thresholds::default().with_nec(2026, dec!(600)).is_err());
        assert!(Thresholds::default().with_nec(2010, dec!(2000)).is_err());
        // Restating the IRS amount changes nothing and is accepted.
        let t = Thresholds::default().with_nec(2026, dec!(2000)).unwrap();
        assert_eq!(t, Thresholds::default());
        assert!(matches!(
            Thresholds::default().with_nec(1999, dec!(600)),
            Err(ThresholdError::Implausible { year: 1999 })
        ));
    }

    #[test]
    fn deliberate_override_is_recorded() {
        let t = Thresholds::default()
            .with_nec_override(2025, dec!(1))
            .unwrap();
        assert_eq!(t.nec(2025).unwrap(), dec!(1.00));
        assert!(t.is_overridden(2025));
        assert!(!t.is_overridden(2024));
        assert!(!t.is_overridden(2026));
        assert_eq!(
            t.override_for(2025),
            Some(Override {
                year: 2025,
                amount: dec!(1.00),
                built_in: dec!(600.00)
            })
        );
        assert_eq!(t.overrides().count(), 1);
        assert!(t.meets_nec(2025, dec!(1)).unwrap());
        // Overriding back to the IRS amount is no override.
        let t = t.with_nec_override(2025, dec!(600)).unwrap();
        assert!(!t.is_overridden(2025));
        // Nothing to override for a year that is not built in.
        assert!(matches!(
            Thresholds::default().with_nec_override(2027, dec!(2100)),
            Err(ThresholdError::NothingToOverride { year: 2027, .. })
        ));
        assert!(
            Thresholds::default()
                .with_nec_override(2025, dec!(-1))
                .is_err()
        );
    }
}
