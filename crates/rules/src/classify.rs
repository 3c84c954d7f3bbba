//! Payee classification: who gets a 1099-NEC, who is a 1042-S candidate, who is not reportable.
//!
//! Residency comes from one table, the ISO 3166-1 data of the `celes` crate: MassPay sends
//! `country` as alpha-3; alpha-2 and English short names (as spreadsheets hold them) are accepted
//! too. `USA`/`US` is [`Residency::Us`]; the US territories that file with US state codes
//! (Puerto Rico, Guam, the US Virgin Islands, American Samoa, the Northern Mariana Islands and
//! the US Minor Outlying Islands) are [`Residency::UsTerritory`] in every spelling; any other ISO
//! country is [`Residency::Foreign`]; an empty code, or one that is not in ISO 3166-1 (`ZZZ`,
//! `XX`, digits), is [`Residency::Unknown`]: a finding, never a 1042-S candidate, never dropped.
//!
//! [`classify`] is the year's form decision without any W-9/W-8 or TIN facts; the full decision
//! is [`crate::decision::decide`]. The API carries no entity type, so a payee with a business
//! name stays reportable and is marked `business` (a W-9 with an exempt payee code can take it
//! off later).

use crate::decision::{FormReason, PayeeFacts, decide};
use crate::thresholds::{ThresholdError, Thresholds};
use celes::Country;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Where a payee lives, as far as US information returns are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Residency {
    /// The United States (`USA`, `US`).
    Us,
    /// A US territory that files with a US state code (`PRI`/`PR`, `GUM`/`GU`, `VIR`/`VI`,
    /// `ASM`/`AS`, `MNP`/`MP`, `UMI`/`UM`). Counted with the US for the 1099-NEC.
    UsTerritory,
    /// Any other ISO 3166-1 country.
    Foreign,
    /// Empty, or not an ISO 3166-1 code or name: needs a decision.
    Unknown,
}

impl Residency {
    /// The United States or one of its territories (the 1099-NEC side).
    pub fn is_us_or_territory(self) -> bool {
        matches!(self, Residency::Us | Residency::UsTerritory)
    }

    /// `"us"`, `"us_territory"`, `"foreign"` or `"unknown"` (the serde names).
    pub fn as_str(self) -> &'static str {
        match self {
            Residency::Us => "us",
            Residency::UsTerritory => "us_territory",
            Residency::Foreign => "foreign",
            Residency::Unknown => "unknown",
        }
    }
}

/// ISO alpha-2 codes of the US territories that use US state codes on information returns.
pub const US_TERRITORIES_ALPHA2: [&str; 6] = ["PR", "GU", "VI", "AS", "MP", "UM"];

/// Spellings of the US territories that neither ISO's English short names nor `celes`'s aliases
/// cover, as W-9 spreadsheets write them. Keys are lower-case letters only.
const US_TERRITORY_NAMES: &[(&str, &str)] = &[
    ("virginislandsus", "VI"),
    ("unitedstatesvirginislands", "VI"),
    ("commonwealthofthenorthernmarianaislands", "MP"),
    ("usminoroutlyingislands", "UM"),
    ("commonwealthofpuertorico", "PR"),
    ("theunitedstates", "US"),
];

fn of_country(c: &Country) -> Residency {
    if c.alpha2 == "US" {
        Residency::Us
    } else if US_TERRITORIES_ALPHA2.contains(&c.alpha2) {
        Residency::UsTerritory
    } else {
        Residency::Foreign
    }
}

/// The ISO 3166-1 country a code or name denotes: alpha-3 (as MassPay sends it), alpha-2, or an
/// English short name (`Puerto Rico`, `Canada`; case, blanks and punctuation ignored).
pub fn iso_country(country: &str) -> Option<Country> {
    let t = country.trim();
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    // A code, possibly dotted as people write it ("U.S.A.").
    let code: String = t.chars().filter(|&c| c != '.').collect();
    let letters = code.bytes().all(|b| b.is_ascii_alphabetic());
    match code.len() {
        2 if letters => return Country::from_alpha2(&code).ok(),
        3 if letters => return Country::from_alpha3(&code).ok(),
        _ => {}
    }
    let key: String = t
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    // Names are at least four letters ("Chad", "Peru"): a short or digit-bearing text is not a
    // country (ISO numeric codes are not accepted: MassPay never sends them).
    if key.chars().count() < 4 || key.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    Country::from_name(&key)
        .or_else(|_| Country::from_name(format!("the{key}")))
        .ok()
        .or_else(|| {
            US_TERRITORY_NAMES
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, a2)| Country::from_alpha2(a2).ok())
        })
        // Names come first: celes's alias table maps "samoa" to American Samoa, but the
        // name table already answers Samoa (WS).
        .or_else(|| Country::from_alias(&key).ok())
}

/// Residency from MassPay's country code (alpha-3; alpha-2 and English names accepted).
///
/// Never `Foreign` for something that is not an ISO 3166-1 country: that is `Unknown`.
pub fn residency(country: &str) -> Residency {
    iso_country(country).map_or(Residency::Unknown, |c| of_country(&c))
}

/// The United States or a US territory (the W-9 side), in any spelling [`residency`] reads.
pub fn is_us_or_territory(country: &str) -> bool {
    residency(country).is_us_or_territory()
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
    /// The stable reason code (see [`FormReason`]).
    pub code: FormReason,
}

impl Classification {
    pub fn reportable_1099(&self) -> bool {
        self.form == FormKind::Nec1099
    }
}

/// Classifies one payee's annual amount for `year`: [`crate::decision::decide`] without any
/// W-9/W-8, tax withheld or TIN facts (what a sync knows from MassPay alone).
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
    let d = decide(&PayeeFacts::new(residency, amount, threshold), None);
    let (form, code) = (d.form, d.reason);
    let reason = match code {
        FormReason::UsAtOrOverThreshold => "US payee at or over the threshold",
        FormReason::UsBelowThreshold => "US payee below the threshold",
        FormReason::ForeignPaid => "foreign payee: 1042-S candidate (no dollar minimum)",
        FormReason::ForeignNothingPaid => "foreign payee with nothing paid",
        FormReason::UnknownCountry => "country missing or unreadable: review",
        other => other.words(),
    };
    Ok(Classification {
        form,
        residency,
        business,
        amount,
        threshold,
        reason,
        code,
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
        assert_eq!(residency("PRI"), Residency::UsTerritory);
        assert_eq!(residency("MEX"), Residency::Foreign);
        assert_eq!(residency(""), Residency::Unknown);
        assert_eq!(residency("12"), Residency::Unknown);
    }

    #[test]
    fn territories_in_both_spellings() {
        for (a2, a3) in [
            ("PR", "PRI"),
            ("GU", "GUM"),
            ("VI", "VIR"),
            ("AS", "ASM"),
            ("MP", "MNP"),
            ("UM", "UMI"),
        ] {
            assert_eq!(residency(a2), Residency::UsTerritory, "{a2}");
            assert_eq!(residency(a3), Residency::UsTerritory, "{a3}");
            assert_eq!(residency(&a2.to_ascii_lowercase()), Residency::UsTerritory);
            assert!(is_us_or_territory(a2) && is_us_or_territory(a3));
        }
        assert_eq!(residency("US"), Residency::Us);
        assert_eq!(residency("USA"), Residency::Us);
        assert_eq!(residency("us"), Residency::Us);
        assert!(is_us_or_territory("USA"));
        assert!(!is_us_or_territory("CAN"));
        assert!(!is_us_or_territory("ZZZ"));
        assert!(!is_us_or_territory(""));
    }

    #[test]
    fn not_iso_is_unknown_never_foreign() {
        for code in [
            "ZZZ", "XX", "", "   ", "123", "840", "12", "U", "USAA", "U-S", "EU", "UK", "\u{0}",
            "🇺🇸", "Narnia",
        ] {
            assert_eq!(residency(code), Residency::Unknown, "{code:?}");
        }
        for code in [
            "CAN", "CA", "GBR", "GB", "DEU", "MEX", "IND", "PHL", "BRA", "WSM", "WS", "XK",
        ] {
            assert_eq!(residency(code), Residency::Foreign, "{code}");
        }
    }

    #[test]
    fn names_as_spreadsheets_write_them() {
        for name in [
            "United States",
            "United States of America",
            "america",
            "U.S.A.",
            "U.S.",
            "The United States",
        ] {
            assert_eq!(residency(name), Residency::Us, "{name}");
        }
        for name in [
            "Puerto Rico",
            "puertorico",
            "Guam",
            "US Virgin Islands",
            "Virgin Islands, U.S.",
            "American Samoa",
            "Northern Mariana Islands",
            "United States Minor Outlying Islands",
        ] {
            assert_eq!(residency(name), Residency::UsTerritory, "{name}");
        }
        for name in [
            "Canada",
            "Mexico",
            "Samoa",
            "Netherlands",
            "United Kingdom",
            "Germany",
        ] {
            assert_eq!(residency(name), Residency::Foreign, "{name}");
        }
        assert_eq!(residency("British Virgin Islands"), Residency::Foreign);
        // Every spelling the W-9 import accepted as US before it used this function.
        for name in [
            "US",
            "USA",
            "United States",
            "United States of America",
            "America",
            "PR",
            "PRI",
            "Puerto Rico",
            "GU",
            "GUM",
            "Guam",
            "VI",
            "VIR",
            "US Virgin Islands",
            "AS",
            "ASM",
            "American Samoa",
            "MP",
            "MNP",
            "Northern Mariana Islands",
            "united-states",
            "  Puerto  Rico ",
        ] {
            assert!(is_us_or_territory(name), "{name}");
        }
        assert_eq!(iso_country("Samoa").map(|c| c.alpha2), Some("WS"));
        assert_eq!(iso_country("PRI").map(|c| c.alpha2), Some("PR"));
    }

    #[test]
    fn residency_serde_names() {
        for r in [
            Residency::Us,
            Residency::UsTerritory,
            Residency::Foreign,
            Residency::Unknown,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
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
        let c = classify(&t, 2025, dec!(700), "PR", None).unwrap();
        assert_eq!(c.form, FormKind::Nec1099, "territories count with the US");
        assert_eq!(c.residency, Residency::UsTerritory);
        let c = classify(&t, 2025, dec!(700), "ZZZ", None).unwrap();
        assert_eq!(
            c.form,
            FormKind::NotReportable,
            "unknown is never a 1042-S candidate"
        );
        assert_eq!(c.code, FormReason::UnknownCountry);
        assert_eq!(c.reason, "country missing or unreadable: review");
        let c = classify(&t, 2025, dec!(599.995), "USA", None).unwrap();
        assert_eq!(c.form, FormKind::Nec1099);
        assert_eq!(c.amount, dec!(600.00));
    }
}
