//! One decision per payee and year: which form (1099-NEC, 1042-S candidate or none), why, and
//! whether backup withholding applies.
//!
//! [`decide`] is the one place that says "reportable". Every command that lists, counts or
//! filters reportable payees (the 1099-NEC worksheet, the TIN audit, the TIN Matching export,
//! and what is built later: 1042-S, holds, alerts) calls it with the same [`PayeeFacts`], so they
//! cannot disagree.
//!
//! # The rules, in the order they apply
//!
//! 1. **A user decision wins.** A per-payee [`FormOverride`] settles a conflict or an unknown
//!    country (`us_person` / `foreign_person`, then the rules below), or forces the form
//!    (`nec_1099`, e.g. attorneys' fees to an exempt corporation; `not_reportable`, e.g.
//!    foreign-source pay that needs no 1042-S).
//! 2. **Who the payee is.** A W-9 on file means a US person, a W-8 a foreign person (IRS Form
//!    W-9 / W-8 instructions; Regs. §1.6041-4(a)(1)). When the declared status contradicts the
//!    country (a W-8 with a US or territory address, a W-9 with a foreign one), or both forms are
//!    on file, the decision is a conflict with form none: it needs a person to decide. With no
//!    form on file the country decides (US and territories: US; an ISO foreign country:
//!    foreign); a country that is missing or not in ISO 3166 (and no form to say) is
//!    `unknown_country`, form none, needing a decision. A W-9 or W-8 also settles an unknown
//!    country.
//! 3. **Tax withheld makes a payee reportable whatever the amount** (i1099mec: a form is due
//!    for any payee with federal income tax withheld; the same holds for 1042-S). This applies
//!    before the exempt payee code: withheld tax must be reported.
//! 4. **Exempt payees.** A W-9 exempt payee code 1-5 takes a US payee off the 1099-NEC (W-9
//!    Rev. 3-2024, line 4: codes 1-5 for "payments over $600 required to be reported").
//! 5. **Thresholds.** A US person at or over the year's threshold gets a 1099-NEC: the amount is
//!    rounded to cents with the one money rule ([`crate::money::round_cents`]) and compared
//!    `>=`. A foreign person with anything paid is a 1042-S candidate (no dollar minimum).
//!
//! # Backup withholding (26 USC 3406, IRS Pub 1281)
//!
//! Only payees on the 1099-NEC path (the decision's form is 1099-NEC) can be backup-withheld:
//! §3406(b)(6) gates it on the payment being reportable, exempt payees are exempt, and foreign
//! persons are under chapter 3 withholding instead.
//!
//! * `backup_withholding`: the TIN is **missing** or **malformed** (not nine digits, letters):
//!   withholding (24%) starts now, until a TIN is furnished (§3406(a)(1)(A)).
//! * `b_notice_risk`: the TIN has nine digits but is **invalid** under IRS rules, or IRS TIN
//!   Matching answered **no match**: the IRS will send a CP2100 "B notice"; withholding starts
//!   only if no corrected W-9 comes back within 30 business days of it (§3406(a)(1)(B)).
//!
//! The two never both hold.

use crate::classify::Residency;
use crate::tin::TinStatus;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

pub use crate::classify::FormKind;

/// The US/foreign status documentation declares for a payee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormOnFile {
    /// No W-9 and no W-8.
    #[default]
    None,
    /// A W-9: the payee certifies US status.
    W9,
    /// A W-8 (BEN, BEN-E, ECI, EXP, IMY): the payee claims foreign status.
    W8,
    /// Both a W-9 and a W-8: the statuses contradict each other.
    Both,
}

impl FormOnFile {
    /// From whether a W-9 and whether a W-8 is on file.
    pub fn from_flags(w9: bool, w8: bool) -> Self {
        match (w9, w8) {
            (false, false) => FormOnFile::None,
            (true, false) => FormOnFile::W9,
            (false, true) => FormOnFile::W8,
            (true, true) => FormOnFile::Both,
        }
    }

    /// From a stored form type (`W-9`, `W9`, `W-8BEN`, `W-8BEN-E`, ...); anything else is
    /// `None`.
    pub fn from_form_type(form_type: &str) -> Self {
        let key: String = form_type
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if key == "w9" {
            FormOnFile::W9
        } else if key.starts_with("w8") {
            FormOnFile::W8
        } else {
            FormOnFile::None
        }
    }
}

/// What a user decided for one payee and year; it wins over the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormOverride {
    /// The payee is a US person: the US rules (exempt payee code, threshold) decide the form.
    UsPerson,
    /// The payee is a foreign person: a 1042-S candidate when anything was paid.
    ForeignPerson,
    /// File a 1099-NEC whatever the rules say (e.g. attorneys' fees to an exempt corporation).
    #[serde(rename = "nec_1099")]
    Nec1099,
    /// Leave the payee off every form (e.g. foreign-source pay that needs no 1042-S).
    NotReportable,
}

impl FormOverride {
    /// `"us_person"`, `"foreign_person"`, `"nec_1099"` or `"not_reportable"` (the serde names).
    pub fn as_str(self) -> &'static str {
        match self {
            FormOverride::UsPerson => "us_person",
            FormOverride::ForeignPerson => "foreign_person",
            FormOverride::Nec1099 => "nec_1099",
            FormOverride::NotReportable => "not_reportable",
        }
    }
}

/// A [`FormOverride`] text that is not recognised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unrecognised form decision; expected us_person, foreign_person, nec_1099 or not_reportable"
)]
pub struct FormOverrideParseError;

impl std::str::FromStr for FormOverride {
    type Err = FormOverrideParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "usperson" | "us" => Ok(FormOverride::UsPerson),
            "foreignperson" | "foreign" => Ok(FormOverride::ForeignPerson),
            "nec1099" | "1099nec" | "1099" => Ok(FormOverride::Nec1099),
            "notreportable" | "none" => Ok(FormOverride::NotReportable),
            _ => Err(FormOverrideParseError),
        }
    }
}

/// Who the payee is treated as, once documentation, country and any override are weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// A US person (the 1099-NEC side).
    Us,
    /// A foreign person (the 1042-S side).
    Foreign,
    /// Not known: a conflict or an unknown country that needs a decision.
    Undetermined,
}

/// Why the decision came out as it did. Serialized as a stable snake_case code; see
/// [`FormReason::words`] for the text shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormReason {
    /// US person at or over the year's threshold: 1099-NEC.
    UsAtOrOverThreshold,
    /// US person below the threshold: no form.
    UsBelowThreshold,
    /// Tax was withheld: reportable whatever the amount.
    TaxWithheld,
    /// W-9 exempt payee code 1-5: off the 1099-NEC.
    ExemptPayeeCode,
    /// Foreign person with something paid: 1042-S candidate.
    ForeignPaid,
    /// Foreign person with nothing paid: no form.
    ForeignNothingPaid,
    /// Country missing or not in ISO 3166 and no W-9/W-8 to say: needs a decision.
    UnknownCountry,
    /// A W-8 on file but a US or territory address: needs a decision.
    W8WithUsAddress,
    /// A W-9 on file but a foreign address: needs a decision.
    W9WithForeignAddress,
    /// Both a W-9 and a W-8 on file: needs a decision.
    W9AndW8OnFile,
    /// A user decided: file a 1099-NEC.
    #[serde(rename = "override_nec_1099")]
    OverrideNec1099,
    /// A user decided: no form.
    OverrideNotReportable,
}

impl FormReason {
    /// Every reason, for documentation and exhaustive tests.
    pub const ALL: [FormReason; 12] = [
        FormReason::UsAtOrOverThreshold,
        FormReason::UsBelowThreshold,
        FormReason::TaxWithheld,
        FormReason::ExemptPayeeCode,
        FormReason::ForeignPaid,
        FormReason::ForeignNothingPaid,
        FormReason::UnknownCountry,
        FormReason::W8WithUsAddress,
        FormReason::W9WithForeignAddress,
        FormReason::W9AndW8OnFile,
        FormReason::OverrideNec1099,
        FormReason::OverrideNotReportable,
    ];

    /// The stable code (the serde name), e.g. `"exempt_payee_code"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FormReason::UsAtOrOverThreshold => "us_at_or_over_threshold",
            FormReason::UsBelowThreshold => "us_below_threshold",
            FormReason::TaxWithheld => "tax_withheld",
            FormReason::ExemptPayeeCode => "exempt_payee_code",
            FormReason::ForeignPaid => "foreign_paid",
            FormReason::ForeignNothingPaid => "foreign_nothing_paid",
            FormReason::UnknownCountry => "unknown_country",
            FormReason::W8WithUsAddress => "w8_with_us_address",
            FormReason::W9WithForeignAddress => "w9_with_foreign_address",
            FormReason::W9AndW8OnFile => "w9_and_w8_on_file",
            FormReason::OverrideNec1099 => "override_nec_1099",
            FormReason::OverrideNotReportable => "override_not_reportable",
        }
    }

    /// The reason in words, for reports.
    pub fn words(self) -> &'static str {
        match self {
            FormReason::UsAtOrOverThreshold => "US payee at or over the year's threshold",
            FormReason::UsBelowThreshold => "US payee below the year's threshold",
            FormReason::TaxWithheld => "tax was withheld: a form is due whatever the amount",
            FormReason::ExemptPayeeCode => {
                "W-9 exempt payee code 1-5: exempt from 1099-NEC reporting (attorneys' fees and \
                 medical payments stay reportable: review by hand)"
            }
            FormReason::ForeignPaid => "foreign payee: 1042-S candidate (no dollar minimum)",
            FormReason::ForeignNothingPaid => "foreign payee with nothing paid",
            FormReason::UnknownCountry => {
                "country missing or not an ISO 3166 code, and no W-9/W-8 on file: decide whether \
                 the payee is a US or a foreign person"
            }
            FormReason::W8WithUsAddress => {
                "a W-8 (foreign status) on file but a US address: confirm the payee's status"
            }
            FormReason::W9WithForeignAddress => {
                "a W-9 (US status) on file but a foreign address: confirm the payee's status"
            }
            FormReason::W9AndW8OnFile => {
                "both a W-9 and a W-8 on file: decide which one is current"
            }
            FormReason::OverrideNec1099 => "a user decided: file a 1099-NEC",
            FormReason::OverrideNotReportable => "a user decided: no form for this payee",
        }
    }

    /// The conflicts and unknowns a person has to settle (with a [`FormOverride`]).
    pub fn needs_decision(self) -> bool {
        matches!(
            self,
            FormReason::UnknownCountry
                | FormReason::W8WithUsAddress
                | FormReason::W9WithForeignAddress
                | FormReason::W9AndW8OnFile
        )
    }
}

impl fmt::Display for FormReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the decision needs about one payee and year. No secrets: the TIN is reduced to
/// its [`TinStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeeFacts {
    /// From MassPay's country code ([`crate::classify::residency`]).
    pub residency: Residency,
    /// The year's amount, any precision: rounded to cents here with the one money rule.
    pub amount: Decimal,
    /// Tax withheld in the year (zero when none).
    pub tax_withheld: Decimal,
    /// The year's 1099-NEC threshold ([`crate::Thresholds::nec`]).
    pub threshold: Decimal,
    /// W-9 / W-8 / none / both.
    pub form_on_file: FormOnFile,
    /// The W-9 exempt payee code (line 4, 1-13), if any. Only read with a W-9 on file.
    pub exempt_payee_code: Option<u8>,
    /// The status of the TIN in use ([`crate::tin::check_tin`]).
    pub tin_status: TinStatus,
    /// IRS TIN Matching answered "no match" for the payee's current name/TIN.
    pub irs_no_match: bool,
}

impl PayeeFacts {
    /// Facts from MassPay alone: no form on file, nothing withheld, a valid TIN, no IRS answer.
    pub fn new(residency: Residency, amount: Decimal, threshold: Decimal) -> Self {
        PayeeFacts {
            residency,
            amount,
            tax_withheld: Decimal::ZERO,
            threshold,
            form_on_file: FormOnFile::None,
            exempt_payee_code: None,
            tin_status: TinStatus::Valid,
            irs_no_match: false,
        }
    }
}

/// Parses a W-9 exempt payee code as stored (`"5"`, `" 05 "`); anything else is `None`.
pub fn parse_exempt_payee_code(code: &str) -> Option<u8> {
    code.trim()
        .parse::<u8>()
        .ok()
        .filter(|c| (1..=13).contains(c))
}

/// Whether a W-9 exempt payee code takes a payee off the 1099-NEC (codes 1-5).
pub fn exempt_from_1099_nec(code: u8) -> bool {
    (1..=5).contains(&code)
}

/// The decision for one payee and year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// `"1099-NEC"`, `"1042-S"` (candidate) or `"none"`.
    pub form: FormKind,
    /// Stable code, e.g. `"exempt_payee_code"`.
    pub reason: FormReason,
    /// The reason in words.
    pub reason_text: &'static str,
    /// Who the payee is treated as.
    pub person: PersonStatus,
    /// The amount rounded to cents (the value compared and reported).
    pub amount: Decimal,
    /// The threshold compared against.
    pub threshold: Decimal,
    /// Backup withholding (24%) applies now: a 1099-NEC payee whose TIN is missing or malformed.
    pub backup_withholding: bool,
    /// A 1099-NEC payee whose TIN is invalid under IRS rules or got an IRS "no match": a CP2100
    /// B notice is likely, and withholding starts 30 business days after it without a corrected
    /// W-9.
    pub b_notice_risk: bool,
    /// A conflict or unknown country that a person has to settle with a [`FormOverride`].
    pub needs_decision: bool,
    /// A user decision ([`FormOverride`]) was applied.
    pub overridden: bool,
}

impl Decision {
    /// The payee belongs on the year's 1099-NEC.
    pub fn reportable_1099(&self) -> bool {
        self.form == FormKind::Nec1099
    }

    /// The payee belongs on some form (1099-NEC or 1042-S candidate).
    pub fn reportable(&self) -> bool {
        self.form != FormKind::NotReportable
    }
}

/// Who the payee is, from documentation and country: `Err(reason)` for a conflict or unknown.
fn person_status(residency: Residency, on_file: FormOnFile) -> Result<PersonStatus, FormReason> {
    match (on_file, residency) {
        (FormOnFile::Both, _) => Err(FormReason::W9AndW8OnFile),
        (FormOnFile::W8, Residency::Us | Residency::UsTerritory) => {
            Err(FormReason::W8WithUsAddress)
        }
        (FormOnFile::W9, Residency::Foreign) => Err(FormReason::W9WithForeignAddress),
        (FormOnFile::W9, _) => Ok(PersonStatus::Us),
        (FormOnFile::W8, _) => Ok(PersonStatus::Foreign),
        (FormOnFile::None, Residency::Us | Residency::UsTerritory) => Ok(PersonStatus::Us),
        (FormOnFile::None, Residency::Foreign) => Ok(PersonStatus::Foreign),
        (FormOnFile::None, Residency::Unknown) => Err(FormReason::UnknownCountry),
    }
}

/// The form for a payee whose status is known (`us`: a US person, else foreign). `amount` is
/// already rounded.
fn decide_form(
    us: bool,
    amount: Decimal,
    tax_withheld: Decimal,
    threshold: Decimal,
    exempt_payee_code: Option<u8>,
) -> (FormKind, FormReason) {
    let withheld = tax_withheld > Decimal::ZERO;
    if us {
        if amount >= threshold {
            if !withheld && exempt_payee_code.is_some_and(exempt_from_1099_nec) {
                (FormKind::NotReportable, FormReason::ExemptPayeeCode)
            } else {
                (FormKind::Nec1099, FormReason::UsAtOrOverThreshold)
            }
        } else if withheld {
            (FormKind::Nec1099, FormReason::TaxWithheld)
        } else if exempt_payee_code.is_some_and(exempt_from_1099_nec) {
            (FormKind::NotReportable, FormReason::ExemptPayeeCode)
        } else {
            (FormKind::NotReportable, FormReason::UsBelowThreshold)
        }
    } else if amount > Decimal::ZERO {
        (FormKind::Candidate1042S, FormReason::ForeignPaid)
    } else if withheld {
        (FormKind::Candidate1042S, FormReason::TaxWithheld)
    } else {
        (FormKind::NotReportable, FormReason::ForeignNothingPaid)
    }
}

/// Decides the form for one payee and year, and whether backup withholding applies. Pure.
///
/// `user` is the per-payee decision a person recorded; it wins (see the module docs).
pub fn decide(facts: &PayeeFacts, user: Option<FormOverride>) -> Decision {
    let amount = crate::money::round_cents(facts.amount);
    let threshold = facts.threshold;
    let exempt = match facts.form_on_file {
        FormOnFile::W9 => facts.exempt_payee_code,
        _ => None,
    };
    let (person, form, reason) = match user {
        Some(FormOverride::Nec1099) => (
            PersonStatus::Us,
            FormKind::Nec1099,
            FormReason::OverrideNec1099,
        ),
        Some(FormOverride::NotReportable) => (
            person_status(facts.residency, facts.form_on_file)
                .unwrap_or(PersonStatus::Undetermined),
            FormKind::NotReportable,
            FormReason::OverrideNotReportable,
        ),
        Some(o @ (FormOverride::UsPerson | FormOverride::ForeignPerson)) => {
            let person = if o == FormOverride::UsPerson {
                PersonStatus::Us
            } else {
                PersonStatus::Foreign
            };
            // A user who says "US person" over a W-9 still has the W-9's exempt code.
            let exempt = if person == PersonStatus::Us {
                match facts.form_on_file {
                    FormOnFile::W9 | FormOnFile::Both => facts.exempt_payee_code,
                    _ => None,
                }
            } else {
                None
            };
            let (form, reason) = decide_form(
                person == PersonStatus::Us,
                amount,
                facts.tax_withheld,
                threshold,
                exempt,
            );
            (person, form, reason)
        }
        None => match person_status(facts.residency, facts.form_on_file) {
            Ok(person) => {
                let (form, reason) = decide_form(
                    person == PersonStatus::Us,
                    amount,
                    facts.tax_withheld,
                    threshold,
                    exempt,
                );
                (person, form, reason)
            }
            Err(conflict) => (
                PersonStatus::Undetermined,
                FormKind::NotReportable,
                conflict,
            ),
        },
    };
    let nec = form == FormKind::Nec1099;
    let backup_withholding =
        nec && matches!(facts.tin_status, TinStatus::Missing | TinStatus::Malformed);
    let b_notice_risk = nec
        && !backup_withholding
        && (facts.tin_status == TinStatus::Invalid || facts.irs_no_match);
    Decision {
        form,
        reason,
        reason_text: reason.words(),
        person,
        amount,
        threshold,
        backup_withholding,
        b_notice_risk,
        needs_decision: reason.needs_decision(),
        overridden: user.is_some(),
    }
}

/// The 1099-NEC floor of a year, in cents of the rounded amount: a payee below it with no
/// W-9/W-8 on file, no per-payee override and nothing withheld is never on the 1099-NEC
/// worksheet, never left off it as exempt and never a residency conflict (all three need a form,
/// an override or the threshold), so a reader that only needs those payees may skip the rest
/// before decoding them. It is the threshold itself: [`decide`] compares `>=` on cents.
/// (The store carries no tax withheld; a store that does must read those payees too.)
pub fn nec_floor_cents(threshold: Decimal) -> i64 {
    crate::money::to_cents(threshold).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// [`nec_floor_cents`] skips only payees whose decision is "not on the 1099-NEC" without a
    /// conflict or an exemption, whatever their residency and TIN.
    #[test]
    fn below_the_floor_with_nothing_on_file_is_never_on_the_worksheet() {
        let threshold = dec!(600.00);
        let floor = nec_floor_cents(threshold);
        assert_eq!(floor, 60_000);
        for residency in [
            Residency::Us,
            Residency::UsTerritory,
            Residency::Foreign,
            Residency::Unknown,
        ] {
            for tin_status in [
                TinStatus::Valid,
                TinStatus::Invalid,
                TinStatus::Malformed,
                TinStatus::Missing,
            ] {
                for amount in [dec!(-5), dec!(0), dec!(0.01), dec!(599.99), dec!(599.994)] {
                    assert!(crate::money::to_cents(amount).unwrap() < floor);
                    let facts = PayeeFacts {
                        tin_status,
                        irs_no_match: true,
                        ..PayeeFacts::new(residency, amount, threshold)
                    };
                    let d = decide(&facts, None);
                    assert!(!d.reportable_1099(), "{residency:?} {amount}");
                    assert_ne!(d.reason, FormReason::ExemptPayeeCode);
                    assert!(
                        !d.needs_decision || d.reason == FormReason::UnknownCountry,
                        "{residency:?} {amount}: {:?}",
                        d.reason
                    );
                }
            }
        }
        // At the floor the decision is the threshold's.
        let d = decide(
            &PayeeFacts::new(Residency::Us, dec!(599.995), threshold),
            None,
        );
        assert!(d.reportable_1099());
    }

    fn us(amount: Decimal) -> PayeeFacts {
        PayeeFacts::new(Residency::Us, amount, dec!(600.00))
    }

    #[test]
    fn us_threshold_on_rounded_cents() {
        let d = decide(&us(dec!(599.995)), None);
        assert_eq!(d.amount, dec!(600.00));
        assert_eq!(
            d.form,
            FormKind::Nec1099,
            "599.995 rounds to 600.00: meets 2025"
        );
        assert_eq!(d.reason, FormReason::UsAtOrOverThreshold);
        let d = decide(&us(dec!(599.994)), None);
        assert_eq!(d.form, FormKind::NotReportable);
        assert_eq!(d.reason, FormReason::UsBelowThreshold);
        assert_eq!(decide(&us(dec!(600)), None).form, FormKind::Nec1099);
        let mut f = us(dec!(1999.99));
        f.threshold = dec!(2000.00);
        assert_eq!(decide(&f, None).form, FormKind::NotReportable);
    }

    #[test]
    fn territories_count_with_the_us() {
        let mut f = us(dec!(700));
        f.residency = Residency::UsTerritory;
        let d = decide(&f, None);
        assert_eq!(d.form, FormKind::Nec1099);
        assert_eq!(d.person, PersonStatus::Us);
    }

    #[test]
    fn withheld_but_below_threshold_is_reportable() {
        let mut f = us(dec!(50));
        f.tax_withheld = dec!(12.00);
        let d = decide(&f, None);
        assert_eq!(d.form, FormKind::Nec1099);
        assert_eq!(d.reason, FormReason::TaxWithheld);
        // Even with nothing paid this year.
        f.amount = dec!(0);
        assert_eq!(decide(&f, None).form, FormKind::Nec1099);
        // Over the threshold the threshold is the reason.
        f.amount = dec!(900);
        assert_eq!(decide(&f, None).reason, FormReason::UsAtOrOverThreshold);
        // A zero withholding changes nothing.
        let mut f = us(dec!(50));
        f.tax_withheld = dec!(0.00);
        assert_eq!(decide(&f, None).form, FormKind::NotReportable);
        // Foreign with withholding is reportable too.
        let mut f = PayeeFacts::new(Residency::Foreign, dec!(0), dec!(600));
        f.tax_withheld = dec!(3);
        let d = decide(&f, None);
        assert_eq!(d.form, FormKind::Candidate1042S);
        assert_eq!(d.reason, FormReason::TaxWithheld);
    }

    #[test]
    fn exempt_payee_code_takes_a_us_payee_off() {
        for code in 1..=5 {
            let mut f = us(dec!(5000));
            f.form_on_file = FormOnFile::W9;
            f.exempt_payee_code = Some(code);
            f.tin_status = TinStatus::Missing;
            let d = decide(&f, None);
            assert_eq!(d.form, FormKind::NotReportable, "code {code}");
            assert_eq!(d.reason, FormReason::ExemptPayeeCode);
            assert_eq!(serde_json::to_value(d.reason).unwrap(), "exempt_payee_code");
            assert!(
                !d.backup_withholding,
                "exempt payees are not backup-withheld"
            );
            assert!(!d.needs_decision);
        }
        for code in [6, 13] {
            let mut f = us(dec!(5000));
            f.form_on_file = FormOnFile::W9;
            f.exempt_payee_code = Some(code);
            assert_eq!(decide(&f, None).form, FormKind::Nec1099, "code {code}");
        }
        // Only a W-9's code counts.
        let mut f = us(dec!(5000));
        f.exempt_payee_code = Some(5);
        assert_eq!(decide(&f, None).form, FormKind::Nec1099);
        // Withheld tax is reported even for an exempt code.
        let mut f = us(dec!(5000));
        f.form_on_file = FormOnFile::W9;
        f.exempt_payee_code = Some(5);
        f.tax_withheld = dec!(1);
        assert_eq!(decide(&f, None).form, FormKind::Nec1099);
        assert_eq!(parse_exempt_payee_code(" 5 "), Some(5));
        assert_eq!(parse_exempt_payee_code("14"), None);
        assert_eq!(parse_exempt_payee_code("x"), None);
    }

    #[test]
    fn foreign_has_no_minimum() {
        let f = PayeeFacts::new(Residency::Foreign, dec!(0.01), dec!(600));
        let d = decide(&f, None);
        assert_eq!(d.form, FormKind::Candidate1042S);
        assert_eq!(d.reason, FormReason::ForeignPaid);
        assert_eq!(d.person, PersonStatus::Foreign);
        let f = PayeeFacts::new(Residency::Foreign, dec!(0.004), dec!(600));
        assert_eq!(decide(&f, None).reason, FormReason::ForeignNothingPaid);
        // A foreign payee is never backup-withheld here (chapter 3 instead).
        let mut f = PayeeFacts::new(Residency::Foreign, dec!(9000), dec!(600));
        f.tin_status = TinStatus::Missing;
        let d = decide(&f, None);
        assert!(!d.backup_withholding && !d.b_notice_risk);
    }

    #[test]
    fn unknown_country_needs_a_decision() {
        let mut f = PayeeFacts::new(Residency::Unknown, dec!(9000), dec!(600));
        f.tin_status = TinStatus::Missing;
        let d = decide(&f, None);
        assert_eq!(d.form, FormKind::NotReportable, "never a 1042-S candidate");
        assert_eq!(d.reason, FormReason::UnknownCountry);
        assert_eq!(serde_json::to_value(d.reason).unwrap(), "unknown_country");
        assert!(d.needs_decision);
        assert_eq!(d.person, PersonStatus::Undetermined);
        assert!(!d.backup_withholding);
        // A W-9 or W-8 says who the payee is.
        f.form_on_file = FormOnFile::W9;
        let d = decide(&f, None);
        assert_eq!(d.form, FormKind::Nec1099);
        assert!(d.backup_withholding);
        f.form_on_file = FormOnFile::W8;
        assert_eq!(decide(&f, None).form, FormKind::Candidate1042S);
        // A user decision settles it.
        f.form_on_file = FormOnFile::None;
        let d = decide(&f, Some(FormOverride::UsPerson));
        assert_eq!(d.form, FormKind::Nec1099);
        assert!(d.overridden && !d.needs_decision);
    }

    #[test]
    fn conflicts_between_status_and_country() {
        let cases = [
            (Residency::Us, FormOnFile::W8, FormReason::W8WithUsAddress),
            (
                Residency::UsTerritory,
                FormOnFile::W8,
                FormReason::W8WithUsAddress,
            ),
            (
                Residency::Foreign,
                FormOnFile::W9,
                FormReason::W9WithForeignAddress,
            ),
            (Residency::Us, FormOnFile::Both, FormReason::W9AndW8OnFile),
            (
                Residency::Foreign,
                FormOnFile::Both,
                FormReason::W9AndW8OnFile,
            ),
        ];
        for (residency, on_file, reason) in cases {
            let mut f = PayeeFacts::new(residency, dec!(5000), dec!(600));
            f.form_on_file = on_file;
            let d = decide(&f, None);
            assert_eq!(d.form, FormKind::NotReportable, "{reason}");
            assert_eq!(d.reason, reason);
            assert!(d.needs_decision);
            // The user decides, and wins.
            let d = decide(&f, Some(FormOverride::ForeignPerson));
            assert_eq!(d.form, FormKind::Candidate1042S, "{reason}");
            assert!(d.overridden && !d.needs_decision);
            let d = decide(&f, Some(FormOverride::UsPerson));
            assert_eq!(d.form, FormKind::Nec1099, "{reason}");
        }
        // Agreeing documentation is no conflict.
        let mut f = PayeeFacts::new(Residency::Foreign, dec!(5), dec!(600));
        f.form_on_file = FormOnFile::W8;
        assert_eq!(decide(&f, None).form, FormKind::Candidate1042S);
        let mut f = us(dec!(600));
        f.form_on_file = FormOnFile::W9;
        assert_eq!(decide(&f, None).form, FormKind::Nec1099);
    }

    #[test]
    fn overrides_force_the_form() {
        let mut f = us(dec!(5000));
        f.form_on_file = FormOnFile::W9;
        f.exempt_payee_code = Some(5);
        let d = decide(&f, Some(FormOverride::Nec1099));
        assert_eq!(d.form, FormKind::Nec1099);
        assert_eq!(d.reason, FormReason::OverrideNec1099);
        let d = decide(&f, Some(FormOverride::UsPerson));
        assert_eq!(
            d.reason,
            FormReason::ExemptPayeeCode,
            "the W-9's code still counts"
        );
        let d = decide(&us(dec!(5000)), Some(FormOverride::NotReportable));
        assert_eq!(d.form, FormKind::NotReportable);
        assert_eq!(d.reason, FormReason::OverrideNotReportable);
        assert_eq!(d.person, PersonStatus::Us);
        assert_eq!(
            "nec_1099".parse::<FormOverride>(),
            Ok(FormOverride::Nec1099)
        );
        assert_eq!(
            serde_json::to_value(FormOverride::Nec1099).unwrap(),
            FormOverride::Nec1099.as_str()
        );
        assert!("maybe".parse::<FormOverride>().is_err());
    }

    #[test]
    fn backup_withholding_and_b_notice() {
        let with = |status: TinStatus, no_match: bool| {
            let mut f = us(dec!(1000));
            f.tin_status = status;
            f.irs_no_match = no_match;
            let d = decide(&f, None);
            (d.backup_withholding, d.b_notice_risk)
        };
        assert_eq!(
            with(TinStatus::Missing, false),
            (true, false),
            "missing: withhold now"
        );
        assert_eq!(
            with(TinStatus::Malformed, false),
            (true, false),
            "malformed: now"
        );
        assert_eq!(with(TinStatus::Missing, true), (true, false));
        assert_eq!(
            with(TinStatus::Invalid, false),
            (false, true),
            "invalid: B-notice risk, not backup withholding"
        );
        assert_eq!(with(TinStatus::Valid, true), (false, true), "IRS no match");
        assert_eq!(with(TinStatus::Valid, false), (false, false));
        // Below the threshold: not on the 1099-NEC path, so neither.
        let mut f = us(dec!(10));
        f.tin_status = TinStatus::Missing;
        let d = decide(&f, None);
        assert!(!d.backup_withholding && !d.b_notice_risk);
    }

    #[test]
    fn reasons_are_stable_snake_case() {
        for r in FormReason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert!(
                r.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            );
            assert!(!r.words().is_empty());
        }
        let d = decide(&us(dec!(600)), None);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["form"], "1099-NEC");
        assert_eq!(v["reason"], "us_at_or_over_threshold");
        assert_eq!(v["person"], "us");
        assert_eq!(v["backup_withholding"], false);
        assert_eq!(v["amount"], "600.00");
    }

    #[test]
    fn form_on_file_from_types() {
        assert_eq!(FormOnFile::from_form_type("W-9"), FormOnFile::W9);
        assert_eq!(FormOnFile::from_form_type("w9"), FormOnFile::W9);
        assert_eq!(FormOnFile::from_form_type("W-8BEN-E"), FormOnFile::W8);
        assert_eq!(FormOnFile::from_form_type("W-8BEN"), FormOnFile::W8);
        assert_eq!(FormOnFile::from_form_type(""), FormOnFile::None);
        assert_eq!(FormOnFile::from_flags(true, true), FormOnFile::Both);
    }
}
