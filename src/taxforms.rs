//! W-9 / W-8 data imported into the store, as the report and the audit use it: an imported
//! W-9's TIN and its type win over MassPay's untyped `tax_id`.
//!
//! The type read back is the form's own evidence: the declared type, else the type the import
//! resolved from the TIN's written form (`AAA-GG-SSSS` → SSN/ITIN/ATIN, `PP-NNNNNNN` → EIN) or
//! from the W-9 box it came from; a bare 9-digit number stays untyped.
//!
//! For the audit (wired by the CLI): [`FormInfo::form_kind`] gives `tin_source` (`w9` / `w8`;
//! `api` when no form TIN is used, see [`tin_info`]); [`FormInfo::business_name`] (W-9 line 2)
//! and [`FormInfo::tax_classification`] (line 3a) feed the name control and the name-and-TIN-type
//! warnings (an entity classification with an EIN is not "an individual with an EIN");
//! [`FormInfo::tin_differs_from_api`] is the `tin_differs_from_api` warning.

use crate::report::TinInfo;
use anyhow::Result;
use masspay_tax_rules::tin::TinType;
use masspay_tax_store::{Store, StoredPayee};
use std::collections::HashMap;
use std::fmt;

/// The parts of a stored tax form the rules need.
#[derive(Clone, Default)]
pub struct FormInfo {
    pub form_type: String,
    pub legal_name: String,
    pub business_name: Option<String>,
    pub entity_type: Option<String>,
    /// Secret.
    pub tin: Option<String>,
    /// The declared type, else the type resolved from the form's evidence (never `Unknown`).
    pub declared: Option<TinType>,
    /// W-9 line 3a parsed (`entity_type`'s code read back).
    pub tax_classification: Option<masspay_tax_import::EntityType>,
    pub exempt_payee_code: Option<String>,
    pub country_of_residence: Option<String>,
    /// `YYYY-MM-DD`: when the form was signed (W-8 validity, Form 8233 year).
    pub signature_date: Option<String>,
    /// Secret. W-8 foreign TIN.
    pub foreign_tin: Option<String>,
    /// Personal data. `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    /// W-8 treaty claim (`country: ...; article: ...; rate: ...; lob: ...` or free text).
    pub treaty_claim: Option<String>,
    /// Where the services were performed (`outside_us` / `in_us`), from the import.
    pub services_performed: Option<String>,
    /// The US-source share of the pay, 0-100, from the import.
    pub us_source_percent: Option<String>,
}

impl fmt::Debug for FormInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormInfo")
            .field("form_type", &self.form_type)
            .field("tin", &self.tin.as_ref().map(|_| "<redacted>"))
            .field(
                "foreign_tin",
                &self.foreign_tin.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "date_of_birth",
                &self.date_of_birth.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl FormInfo {
    /// `w9` or `w8`: the `tin_source` of a TIN taken from this form.
    pub fn form_kind(&self) -> &'static str {
        if self.is_w9() { "w9" } else { "w8" }
    }

    /// The classification is an entity (corporation, partnership, trust/estate, LLC taxed as
    /// C/S/P): the payee is named by its business and should have an EIN.
    pub fn is_entity(&self) -> bool {
        self.tax_classification
            .as_ref()
            .is_some_and(masspay_tax_import::EntityType::expects_ein)
    }

    /// The name to build the IRS name control from: for an entity, the business name (line 2)
    /// when given, else line 1; for an individual, line 1.
    pub fn name_for_name_control(&self) -> &str {
        match &self.business_name {
            Some(b) if self.is_entity() && !b.trim().is_empty() => b,
            _ => &self.legal_name,
        }
    }

    /// The form's TIN is not the `tax_id` MassPay holds for the payee (both present).
    pub fn tin_differs_from_api(&self, p: &StoredPayee) -> bool {
        let d = |t: &str| t.chars().filter(char::is_ascii_digit).collect::<String>();
        match (self.tin.as_deref(), p.tin()) {
            (Some(f), Some(a)) => d(f) != d(a),
            _ => false,
        }
    }

    pub fn is_w9(&self) -> bool {
        self.form_type.eq_ignore_ascii_case("W-9") || self.form_type.eq_ignore_ascii_case("W9")
    }
    /// W-9 exempt payee codes 1-5 (501(a) orgs, US, states, foreign governments, corporations)
    /// are exempt from 1099-NEC reporting. Attorneys' fees and medical payments stay reportable
    /// even to corporations; MassPay does not say what a payment was for, so review those by hand.
    pub fn exempt_from_1099(&self) -> bool {
        self.is_w9()
            && self
                .exempt_payee_code
                .as_deref()
                .and_then(|c| c.trim().parse::<u8>().ok())
                .is_some_and(|c| (1..=5).contains(&c))
    }
}

/// Imported forms by user token.
#[derive(Debug, Default)]
pub struct FormIndex(pub HashMap<String, FormInfo>);

impl FormIndex {
    pub async fn load(store: &Store) -> Result<Self> {
        crate::taxforms_store::load(store).await
    }
    pub fn get(&self, user_token: &str) -> Option<&FormInfo> {
        self.0.get(user_token)
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The TIN to use for a payee: the W-9's when present, else MassPay's.
pub fn tin_info<'a>(p: &'a StoredPayee, form: Option<&'a FormInfo>) -> TinInfo<'a> {
    match form {
        Some(f) if f.tin.is_some() => TinInfo {
            text: f.tin.as_deref(),
            declared: f.declared,
            source: f.form_kind(),
        },
        _ => TinInfo {
            text: p.tin(),
            declared: None,
            source: "api",
        },
    }
}

/// IRS TIN Matching answers on file, by user token.
pub async fn load_tin_matches(store: &Store) -> Result<HashMap<String, crate::audit::IrsMatch>> {
    crate::taxforms_store::load_tin_matches(store).await
}
