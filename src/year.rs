//! A payee as the rules see it for one tax year: the year's stored snapshot, the W-9/W-8 on file,
//! the TIN in use and its check, the IRS TIN Matching answer, and the one form decision
//! ([`masspay_tax_rules::decision::decide`]). Every command that says "reportable" (`report 1099`,
//! `audit tins --only-reportable`, `tin-match export --only-reportable`, and what is built on
//! them) judges payees here, so they cannot disagree.

use crate::audit::IrsMatch;
use crate::report::TinInfo;
use crate::taxforms::{FormIndex, FormInfo, tin_info};
use anyhow::Result;
use masspay_tax_rules::decision::{
    Decision, FormOnFile, FormOverride, PayeeFacts, decide, parse_exempt_payee_code,
};
use masspay_tax_rules::tin::{TinCheck, TinRules, check_tin};
use masspay_tax_rules::{MatchResult, residency};
use masspay_tax_store::overrides::PayeeOverride;
use masspay_tax_store::{Store, StoredPayee, SyncRun};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// What IRS TIN Matching said about the payee's current name and TIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IrsAnswer {
    /// Never matched.
    None,
    /// Matched against the TIN in use: the result code.
    Current(u8),
    /// An answer for an earlier TIN (the TIN changed since).
    Stale,
}

impl IrsAnswer {
    /// IRS TIN Matching answered "no match" (or "not issued") for the TIN in use.
    pub fn no_match(&self) -> bool {
        match self {
            IrsAnswer::Current(code) => {
                !MatchResult::from_code(*code).is_some_and(|r| r.is_match())
            }
            _ => false,
        }
    }
}

/// Where a store's data came from, as every JSON summary shows it (`"source": {...}`): a
/// worksheet made from the built-in sandbox must never pass for real data.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceInfo {
    /// The data is emulated (the built-in sandbox), not anyone's real payees.
    pub sandbox: bool,
    /// `the built-in sandbox (emulated payees)` or `MassPay at URL (real payees)`.
    pub origin: String,
}

impl SourceInfo {
    /// The store's recorded origin (a store with no sync yet: not sandbox, origin "none").
    pub async fn of(store: &Store) -> Result<SourceInfo> {
        Ok(match store.origin().await? {
            Some(o) => SourceInfo {
                sandbox: o.is_sandbox(),
                origin: o.to_string(),
            },
            None => SourceInfo {
                sandbox: false,
                origin: "none (no sync yet)".into(),
            },
        })
    }

    /// The marking printed on every page made from sandbox data.
    pub fn watermark(&self) -> Option<&'static str> {
        self.sandbox
            .then_some("SANDBOX DATA: emulated payees, not for filing")
    }
}

/// Everything needed to judge the payees of one year, loaded once.
pub struct YearView<'s> {
    pub store: &'s Store,
    pub year: i32,
    /// The latest completed sync of the year (what every report is made from).
    pub run: SyncRun,
    pub threshold: Decimal,
    /// The threshold comes from a deliberate override in the settings file.
    pub threshold_overridden: bool,
    /// Sandbox or real data.
    pub source: SourceInfo,
    pub rules: TinRules,
    pub forms: FormIndex,
    irs: HashMap<String, IrsMatch>,
    /// The year's per-payee decisions (`payees override`), by user token.
    pub overrides: HashMap<String, PayeeOverride>,
    /// `[foreign]` settings and the treaty rates in force (the 1042-S and the audit).
    pub foreign: crate::config::ForeignSettings,
    pub treaty_rates: crate::f1042s::TreatyRates,
}

/// One payee of the year, judged.
pub struct YearPayee<'v> {
    pub payee: StoredPayee,
    pub form: Option<&'v FormInfo>,
    pub check: TinCheck,
    pub irs: IrsAnswer,
    pub decision: Decision,
    /// The user's recorded decisions for this payee and year, if any.
    pub overrides: Option<&'v PayeeOverride>,
}

impl<'v> YearPayee<'v> {
    /// The TIN in use: the W-9/W-8's when it has one, else MassPay's `tax_id`.
    pub fn tin(&self) -> TinInfo<'_> {
        tin_info(&self.payee, self.form)
    }
}

impl<'s> YearView<'s> {
    /// Loads the year: fails with the "run sync first" message when the year was never synced.
    pub async fn load(
        store: &'s Store,
        settings: &crate::config::Settings,
        year: i32,
    ) -> Result<Self> {
        let threshold = settings.thresholds.nec(year)?;
        let run = crate::report::require_sync(store, year).await?;
        let forms = FormIndex::load(store).await?;
        let irs = crate::taxforms::load_tin_matches(store).await?;
        let source = SourceInfo::of(store).await?;
        let overrides = store
            .payee_overrides(i64::from(year))
            .await?
            .into_iter()
            .map(|o| (o.user_token.clone(), o))
            .collect();
        Ok(YearView {
            source,
            store,
            year,
            run,
            threshold,
            threshold_overridden: settings.thresholds.is_overridden(year),
            rules: settings.tin_rules.clone(),
            forms,
            irs,
            overrides,
            foreign: settings.foreign.clone(),
            treaty_rates: crate::f1042s::TreatyRates::load(&settings.foreign)?,
        })
    }

    /// Judges one payee of the year's snapshot.
    pub fn judge(&self, payee: StoredPayee) -> Result<YearPayee<'_>> {
        let form = self.forms.get(&payee.user_token);
        let TinInfo { text, declared, .. } = tin_info(&payee, form);
        let check = check_tin(text, declared, &self.rules);
        let irs = match (self.irs.get(&payee.user_token), &check.tin) {
            (Some(m), Some(t)) if m.tin_hash == self.store.vault().tin_hash(t.digits()) => {
                IrsAnswer::Current(m.code)
            }
            (Some(_), _) => IrsAnswer::Stale,
            (None, _) => IrsAnswer::None,
        };
        let facts = PayeeFacts {
            residency: residency(&payee.country),
            amount: payee.amount_decimal()?,
            tax_withheld: Decimal::ZERO,
            threshold: self.threshold,
            form_on_file: form.map(|f| form_on_file(&f.form_type)).unwrap_or_default(),
            exempt_payee_code: form
                .and_then(|f| f.exempt_payee_code.as_deref())
                .and_then(parse_exempt_payee_code),
            tin_status: check.status,
            irs_no_match: irs.no_match(),
        };
        let overrides = self.overrides.get(&payee.user_token);
        let user = match overrides.and_then(|o| o.form_override.as_deref()) {
            Some(s) => Some(s.parse::<FormOverride>().map_err(|e| {
                anyhow::anyhow!("stored form override of {}: {e}", payee.user_token)
            })?),
            None => None,
        };
        let decision = decide(&facts, user);
        Ok(YearPayee {
            payee,
            form,
            check,
            irs,
            decision,
            overrides,
        })
    }
}

/// A stored form type as the decision reads it: a Form 8233 is a foreign person's certificate,
/// like a W-8.
fn form_on_file(form_type: &str) -> FormOnFile {
    let key: String = form_type
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    if key == "8233" || key.eq_ignore_ascii_case("form8233") {
        FormOnFile::W8
    } else {
        FormOnFile::from_form_type(form_type)
    }
}
