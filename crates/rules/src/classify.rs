//! Payee classification: who gets a 1099-NEC, who is a 1042-S candidate, who is not reportable.
//!
//! MassPay sends `country` as ISO 3166-1 alpha-3. `USA` and the US territories (which use US
//! state codes on information returns) are domestic; any other code is foreign; an empty or
//! unreadable code is `Unknown`, which is never dropped: it is reported as a finding.
//! The API carries no entity type, so a payee with a business name stays reportable and is
//! marked `business` (a W-9 with an exempt corporation code can take it off later).

use crate::thresholds::{ThresholdError, Thresholds};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Residency {
    Us,
    Foreign,
    Unknown,
}

/// US territories that file with US state codes (PR, GU, VI, AS, MP, UM).
const US_TERRITORIES: [&str; 6] = ["PRI", "GUM", "VIR", "ASM", "MNP", "UMI"];

/// Residency from MassPay's country code (alpha-3; alpha-2 `US` is tolerated).
pub fn residency(country: &str) -> Residency {
    let c = country.trim().to_ascii_uppercase();
    if c.is_empty() || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Residency::Unknown;
    }
    match c.len() {
        3 if c == "USA" || US_TERRITORIES.contains(&c.as_str()) => Residency::Us,
        2 if c == "US" => Residency::Us,
        2 | 3 => Residency::Foreign,
        _ => Residency::Unknown,
    }
}

/// Which form a payee belongs on for the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormKind {
    /// US payee at or over the year's threshold.
    #[serde(rename = "1099-NEC")]
    Nec1099,
    /// Foreign payee with a positive amount (1042-S has no dollar minimum).
    #[serde(rename = "1042-S")]
    Candidate1042S,
    /// Below the threshold, nothing paid, or residency unknown (see `reason`).
    #[serde(rename = "none")]
    NotReportable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    pub form: FormKind,
    pub residency: Residency,
    /// The payee has a business name (the API has no entity type; kept reportable and marked).
    pub business: bool,
    /// Amount rounded to cents (the value compared and reported).
    pub amount: Decimal,
    pub threshold: Decimal,
    pub reason: &'static str,
}

impl Classification {
    pub fn reportable_1099(&self) -> bool {
        self.form == FormKind::Nec1099
    }
}

/// Classifies one payee's annual amount for `year`.
pub fn classify(
    thresholds: &Thresholds,
    year: i32,
    amount: Decimal,
    country: &str,
    business_name: Option<&str>,
) -> Result<Classification, ThresholdError> {
    let threshold = thresholds.nec(year)?;
    let amount = crate::money::round_cents(amount);
    let residency = residency(country);
    let business = business_name.is_some_and(|b| !b.trim().is_empty());
    let (form, reason) = match residency {
        Residency::Us if amount >= threshold => {
            (FormKind::Nec1099, "US payee at or over the threshold")
        }
        Residency::Us => (FormKind::NotReportable, "US payee below the threshold"),
        Residency::Foreign if amount > Decimal::ZERO => (
            FormKind::Candidate1042S,
            "foreign payee: 1042-S candidate (no dollar minimum)",
        ),
        Residency::Foreign => (FormKind::NotReportable, "foreign payee with nothing paid"),
        Residency::Unknown => (
            FormKind::NotReportable,
            "country missing or unreadable: review",
        ),
    };
    Ok(Classification {
        form,
        residency,
        business,
        amount,
        threshold,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn residency_from_alpha3() {
        assert_eq!(residency("USA"), Residency::Us);
        assert_eq!(residency(" usa "), Residency::Us);
        assert_eq!(residency("PRI"), Residency::Us);
        assert_eq!(residency("MEX"), Residency::Foreign);
        assert_eq!(residency(""), Residency::Unknown);
        assert_eq!(residency("12"), Residency::Unknown);
    }

    #[test]
    fn classifies_by_year_and_residency() {
        let t = Thresholds::default();
        let c = classify(&t, 2025, dec!(600.00), "USA", Some("ACME LLC")).unwrap();
        assert_eq!(c.form, FormKind::Nec1099);
        assert!(c.business);
        assert_eq!(
            classify(&t, 2025, dec!(599.99), "USA", None).unwrap().form,
            FormKind::NotReportable
        );
        assert_eq!(
            classify(&t, 2026, dec!(1999.99), "USA", None).unwrap().form,
            FormKind::NotReportable
        );
        assert_eq!(
            classify(&t, 2026, dec!(2000), "USA", None).unwrap().form,
            FormKind::Nec1099
        );
        assert_eq!(
            classify(&t, 2025, dec!(5), "MEX", None).unwrap().form,
            FormKind::Candidate1042S
        );
        assert_eq!(
            classify(&t, 2025, dec!(0), "MEX", None).unwrap().form,
            FormKind::NotReportable
        );
        assert!(classify(&t, 2031, dec!(5000), "USA", None).is_err());
    }
}
