//! A payee as the rules see it for one tax year: the year's stored snapshot, the W-9/W-8 on file,
//! the TIN in use and its check, the IRS TIN Matching answer, and the one form decision
//! ([`masspay_tax_rules::decision::decide`]). Every command that says "reportable" (`report 1099`,
//! `audit tins --only-reportable`, `tin-match export --only-reportable`, and what is built on
//! them) judges payees here, so they cannot disagree.

use crate::audit::IrsMatch;
use crate::report::TinInfo;
use crate::taxforms::{FormInfo, tin_info};
use anyhow::Result;
use futures_util::stream::{BoxStream, StreamExt};
use masspay_tax_rules::decision::{
    Decision, FormOnFile, FormOverride, PayeeFacts, decide, parse_exempt_payee_code,
};
use masspay_tax_rules::tin::{TinCheck, TinRules, check_tin};
use masspay_tax_rules::{MatchResult, residency};
use masspay_tax_store::overrides::PayeeOverride;
use masspay_tax_store::{Store, StoreError, StoredPayee, SyncRun};
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
    /// The year's per-payee decisions (`payees override`), by user token.
    pub overrides: HashMap<String, PayeeOverride>,
    /// `[foreign]` settings and the treaty rates in force (the 1042-S and the audit).
    pub foreign: crate::config::ForeignSettings,
    pub treaty_rates: crate::f1042s::TreatyRates,
}

/// What is on file for a payee beside the year's snapshot: the imported W-9/W-8 and the IRS TIN
/// Matching answer, merged into a year walk by [`YearView::on_file`].
#[derive(Debug, Default)]
pub struct OnFile {
    pub form: Option<FormInfo>,
    pub irs: Option<IrsMatch>,
}

/// One payee of the year, judged.
pub struct YearPayee<'v> {
    pub payee: StoredPayee,
    pub form: Option<FormInfo>,
    pub check: TinCheck,
    pub irs: IrsAnswer,
    pub decision: Decision,
    /// The user's recorded decisions for this payee and year, if any.
    pub overrides: Option<&'v PayeeOverride>,
}

impl<'v> YearPayee<'v> {
    /// The TIN in use: the W-9/W-8's when it has one, else MassPay's `tax_id`.
    pub fn tin(&self) -> TinInfo<'_> {
        tin_info(&self.payee, self.form.as_ref())
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
            overrides,
            foreign: settings.foreign.clone(),
            treaty_rates: crate::f1042s::TreatyRates::load(&settings.foreign)?,
        })
    }

    /// A year walk (rows in token order, as every `Store::year_payees*` returns them) with what
    /// is on file for each payee merged in: the forms and the TIN Matching answers are read
    /// beside it in the same order, so neither is ever held whole in memory. A walk out of
    /// token order is an error, never a payee judged without its form.
    pub fn on_file<'a>(
        &'a self,
        payees: BoxStream<'a, Result<StoredPayee, StoreError>>,
    ) -> BoxStream<'a, Result<(StoredPayee, OnFile)>> {
        let forms = Merge::new(
            self.store
                .sealed_forms_in_token_order()
                .map(|r| r.map(|f| (f.user_token().to_string(), f))),
        );
        let irs = Merge::new(
            self.store
                .tin_matches_in_token_order()
                .map(|r| r.map(|m| (m.user_token.clone(), crate::taxforms_store::irs_match(m)))),
        );
        let state = (payees, forms, irs, None::<String>);
        let store = self.store;
        futures_util::stream::unfold(state, move |(mut payees, mut forms, mut irs, last)| async move {
            let p = match payees.next().await? {
                Ok(p) => p,
                Err(e) => return Some((Err(e.into()), (payees, forms, irs, last))),
            };
            if last.as_deref().is_some_and(|l| l >= p.user_token.as_str()) {
                let e = anyhow::anyhow!(
                    "the year's payees came out of token order at {}: forms on file could not be matched",
                    p.user_token
                );
                return Some((Err(e), (payees, forms, irs, last)));
            }
            let on_file = async {
                // Only the forms of payees the walk reaches are decrypted.
                let form = match forms.take(&p.user_token).await? {
                    Some(sealed) => Some(crate::taxforms_store::form_info(
                        store.open_form(sealed)?,
                    )),
                    None => None,
                };
                Ok::<_, anyhow::Error>(OnFile {
                    form,
                    irs: irs.take(&p.user_token).await?,
                })
            }
            .await;
            let last = Some(p.user_token.clone());
            Some((on_file.map(|f| (p, f)), (payees, forms, irs, last)))
        })
        .boxed()
    }

    /// Judges one payee of the year's snapshot, with what is on file for it ([`Self::on_file`];
    /// a single payee: [`OnFile::of`]).
    pub fn judge(&self, (payee, on_file): (StoredPayee, OnFile)) -> Result<YearPayee<'_>> {
        let OnFile { form, irs } = on_file;
        let TinInfo { text, declared, .. } = tin_info(&payee, form.as_ref());
        let check = check_tin(text, declared, &self.rules);
        let irs = match (irs, &check.tin) {
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
            form_on_file: form
                .as_ref()
                .map(|f| form_on_file(&f.form_type))
                .unwrap_or_default(),
            exempt_payee_code: form
                .as_ref()
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

impl OnFile {
    /// What is on file for one payee (a lookup by token, for commands that judge one payee).
    pub async fn of(store: &Store, user_token: &str) -> Result<OnFile> {
        Ok(OnFile {
            form: store
                .tax_form(user_token)
                .await?
                .map(crate::taxforms_store::form_info),
            irs: store
                .tin_match(user_token)
                .await?
                .map(crate::taxforms_store::irs_match),
        })
    }
}

/// Rows by user token in token order, taken one payee at a time as a walk in the same order
/// reaches them: the rows of payees the walk skips are passed over.
struct Merge<'a, T> {
    rows: BoxStream<'a, Result<(String, T), StoreError>>,
    next: Option<(String, T)>,
    last: Option<String>,
    done: bool,
}

impl<'a, T> Merge<'a, T> {
    fn new(
        rows: impl futures_util::Stream<Item = Result<(String, T), StoreError>> + Send + 'a,
    ) -> Self {
        Merge {
            rows: rows.boxed(),
            next: None,
            last: None,
            done: false,
        }
    }

    /// The row of `token`, if any (tokens must come in ascending order).
    async fn take(&mut self, token: &str) -> Result<Option<T>> {
        loop {
            if self.next.is_none() && !self.done {
                match self.rows.next().await {
                    Some(row) => {
                        let row = row?;
                        // Rows out of order would be passed over unseen: refuse instead.
                        if self.last.as_deref().is_some_and(|l| l >= row.0.as_str()) {
                            anyhow::bail!(
                                "the rows on file came out of token order at {}: the walk stops \
                                 rather than judge a payee without them",
                                row.0
                            );
                        }
                        self.last = Some(row.0.clone());
                        self.next = Some(row);
                    }
                    None => self.done = true,
                }
            }
            match &self.next {
                Some((t, _)) if t.as_str() < token => self.next = None,
                Some((t, _)) if t.as_str() == token => {
                    return Ok(self.next.take().map(|(_, v)| v));
                }
                _ => return Ok(None),
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(tokens: &[&str]) -> Merge<'static, usize> {
        let v: Vec<Result<(String, usize), StoreError>> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| Ok((t.to_string(), i)))
            .collect();
        Merge::new(futures_util::stream::iter(v))
    }

    #[tokio::test]
    async fn rows_on_file_are_taken_as_the_walk_reaches_them() {
        // Bytewise order, as both stores sort: `B` (0x42) before `a` (0x61).
        let mut m = rows(&["usr_B", "usr_a", "usr_c", "usr_e"]);
        assert_eq!(m.take("usr_0").await.unwrap(), None);
        assert_eq!(m.take("usr_B").await.unwrap(), Some(0));
        // `usr_a` is passed over (the walk skipped that payee).
        assert_eq!(m.take("usr_b").await.unwrap(), None);
        assert_eq!(m.take("usr_c").await.unwrap(), Some(2));
        assert_eq!(m.take("usr_d").await.unwrap(), None);
        assert_eq!(m.take("usr_e").await.unwrap(), Some(3));
        assert_eq!(m.take("usr_z").await.unwrap(), None);
    }

    #[tokio::test]
    async fn rows_out_of_order_stop_the_walk() {
        let mut m = rows(&["usr_b", "usr_a"]);
        assert_eq!(m.take("usr_b").await.unwrap(), Some(0));
        let e = m.take("usr_c").await.unwrap_err().to_string();
        assert!(e.contains("out of token order"), "{e}");
    }
}
