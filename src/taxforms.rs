//! W-9 / W-8 data imported into the store, as the report and the audit use it: an imported
//! W-9's TIN and declared type win over MassPay's untyped `tax_id`.

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
    pub declared: Option<TinType>,
    pub exempt_payee_code: Option<String>,
    pub country_of_residence: Option<String>,
}

impl fmt::Debug for FormInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormInfo")
            .field("form_type", &self.form_type)
            .field("tin", &self.tin.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl FormInfo {
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
            source: "w9",
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
