//! Adapter between the CLI's view of imported forms / IRS answers and the store's tables.

use crate::audit::IrsMatch;
use crate::taxforms::{FormIndex, FormInfo};
use crate::tinmatch::MatchAnswer;
use anyhow::Result;
use masspay_tax_rules::tin::TinType;
use masspay_tax_store::Store;
use masspay_tax_store::tax_forms::TinMatchRow;
use std::collections::HashMap;
use std::str::FromStr;

pub async fn load(store: &Store) -> Result<FormIndex> {
    let forms = store.tax_forms().await?;
    Ok(FormIndex(
        forms
            .into_iter()
            .map(|(token, s)| (token, form_info(s)))
            .collect(),
    ))
}

/// A stored form as the rules read it.
pub fn form_info(s: masspay_tax_store::tax_forms::StoredTaxForm) -> FormInfo {
    let f = s.form;
    // The declared type, else the one the import resolved from the form's own evidence
    // (written form, W-9 box); a bare number's `unknown` stays untyped.
    let declared = [f.declared_tin_type.as_deref(), f.tin_type.as_deref()]
        .into_iter()
        .flatten()
        .filter_map(|t| TinType::from_str(t).ok())
        .find(|&t| t != TinType::Unknown);
    let tax_classification = f
        .entity_type
        .as_deref()
        .and_then(masspay_tax_import::EntityType::from_code);
    FormInfo {
        form_type: f.form_type,
        legal_name: f.legal_name,
        business_name: f.business_name,
        entity_type: f.entity_type,
        tin: f.tin,
        declared,
        tax_classification,
        exempt_payee_code: f.exempt_payee_code,
        country_of_residence: f.country_of_residence,
        signature_date: f.signature_date,
        foreign_tin: f.foreign_tin,
        date_of_birth: f.date_of_birth,
        treaty_claim: f.treaty_claim,
        services_performed: f.services_performed,
        us_source_percent: f.us_source_percent,
    }
}

/// A stored TIN Matching answer as the rules read it.
pub fn irs_match(m: masspay_tax_store::tax_forms::StoredTinMatch) -> IrsMatch {
    IrsMatch {
        tin_hash: m.tin_hash,
        code: u8::try_from(m.result_code).unwrap_or(u8::MAX),
    }
}

pub async fn load_tin_matches(store: &Store) -> Result<HashMap<String, IrsMatch>> {
    Ok(store
        .tin_matches()
        .await?
        .into_iter()
        .map(|(token, m)| (token, irs_match(m)))
        .collect())
}

pub async fn save_tin_matches(store: &Store, answers: &[MatchAnswer], file: &str) -> Result<usize> {
    let rows: Vec<TinMatchRow> = answers
        .iter()
        .map(|a| TinMatchRow {
            user_token: a.user_token.clone(),
            tin_hash: a.tin_hash.clone(),
            tin_type_code: i64::from(a.tin_type_code),
            name: a.name.clone(),
            result_code: i64::from(a.result_code),
        })
        .collect();
    Ok(store.record_tin_match(&rows, file).await?)
}
