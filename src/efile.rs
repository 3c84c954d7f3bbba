//! `efile iris 1099`: the IRIS Taxpayer Portal CSV files for Form 1099-NEC
//! (`DIR/iris-1099-NEC-YEAR-001.csv`, …), from the store, checked before they are written.
//!
//! Which payees and with what TIN comes from ONE function, [`each_nec_payee`], built the way the
//! 1099-NEC worksheet is (`report::report_1099`): the year's 1099-NEC payees, W-9 exempt payees
//! left off, the W-9's TIN over MassPay's, the worksheet's box 1. So the box 1 total written
//! equals the worksheet's total minus the rows left out.

use crate::calendar::NextDeadline;
use anyhow::{Context, Result, bail};
use futures_util::TryStreamExt;
use masspay_tax_efile::{
    DEFAULT_MAX_RECORDS, FilesWriter, KnownHeaders, MAX_RECORDS_LIMIT, PayerBlock, Problem,
    Recipient, WrittenFile, record,
};
use masspay_tax_rules::format_amount;
use masspay_tax_rules::tin::TinType;
use masspay_tax_store::Store;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// What `efile iris 1099` was asked for.
#[derive(Debug, Clone)]
pub struct EfileOptions {
    pub year: i32,
    pub out: PathBuf,
    /// The header row of the template downloaded from the portal (default: the built-in row).
    pub template: Option<PathBuf>,
    pub max_records: usize,
    /// Write rows IRIS would reject too (they are still listed).
    pub include_invalid: bool,
}

impl EfileOptions {
    pub fn new(year: i32, out: impl Into<PathBuf>) -> Self {
        EfileOptions {
            year,
            out: out.into(),
            template: None,
            max_records: DEFAULT_MAX_RECORDS,
            include_invalid: false,
        }
    }
}

/// THE input of the e-file job: each payee on the 1099-NEC for `year`, in token order, with
/// the TIN decision (W-9 over API), the name decision (`B` with the business name when the payee
/// files with an EIN, as for the name control; else `I`), the address, the stable account
/// number, the 2nd-TIN-notice flag and the worksheet's box 1 / box 4, handed to `each` one at a
/// time (memory flat in the payee count). Returns the payees left off the worksheet too: an
/// imported W-9 with exempt payee code 1-5.
pub async fn each_nec_payee(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    mut each: impl FnMut(Recipient) -> Result<()>,
) -> Result<Vec<String>> {
    let flagged: HashSet<String> = store
        .second_tin_notices()
        .await?
        .into_iter()
        .map(|n| n.user_token)
        .collect();
    let mut excluded_exempt = Vec::new();
    let view = crate::year::YearView::load(store, settings, year).await?;
    // The worksheet's walk: only the payees a 1099-NEC decision can reach (the rest are below
    // the threshold with nothing on file), and no date of birth (IRIS takes none).
    let mut stream = view.on_file(store.year_payees_where(
        year,
        masspay_tax_store::YearQuery {
            min_cents_unless_on_file: Some(masspay_tax_rules::decision::nec_floor_cents(
                view.threshold,
            )),
            skip_date_of_birth: true,
            ..masspay_tax_store::YearQuery::default()
        },
    ));
    while let Some(p) = stream.try_next().await? {
        let y = view.judge(p)?;
        if y.decision.reason == masspay_tax_rules::decision::FormReason::ExemptPayeeCode
            && y.decision.amount >= view.threshold
        {
            excluded_exempt.push(y.payee.user_token.clone());
            continue;
        }
        if !y.decision.reportable_1099() {
            continue;
        }
        let row = crate::report::nec_row(&y, false)?;
        let check = y.check.clone();
        let p = y.payee;
        let uses_business_name = (p.business != 0 && check.tin_type == TinType::Ein)
            || y.form.as_ref().is_some_and(|f| f.is_entity());
        each(Recipient {
            name: masspay_tax_efile::record::recipient_name(
                &p.first_name,
                &p.middle_name,
                &p.last_name,
                &p.business_name,
                uses_business_name,
            ),
            tin: check,
            address1: p.address1.clone(),
            address2: p.address2.clone(),
            city: p.city.clone(),
            state: p.state_province.clone(),
            zip: p.postal_code.clone(),
            country: p.country.clone(),
            email: p.email.clone(),
            account_number: crate::tinmatch::account_for(store.vault(), &p.user_token),
            second_tin_notice: flagged.contains(&p.user_token),
            box1: row.box1,
            box4: row.box4,
            user_token: p.user_token,
        })?;
    }
    Ok(excluded_exempt)
}

/// A row IRIS would reject, with why.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedRow {
    pub user_token: String,
    pub box1: String,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EfileSummary {
    pub form: &'static str,
    pub tax_year: i32,
    /// `built-in` or the template file given.
    pub template: String,
    pub columns: usize,
    pub max_records: usize,
    pub files: Vec<WrittenFile>,
    pub records_written: usize,
    /// Box 1 total of what was written = `worksheet_total_box1` − `left_out_box1`.
    pub total_box1: String,
    pub worksheet_payees: usize,
    pub worksheet_total_box1: String,
    /// Rows left out (IRIS would reject them), with the reasons.
    pub left_out: Vec<RejectedRow>,
    pub left_out_by_reason: BTreeMap<String, usize>,
    pub left_out_box1: String,
    /// With `--include-invalid`: rows written although IRIS will reject them.
    pub written_invalid: Vec<RejectedRow>,
    pub excluded_exempt: Vec<String>,
    /// Files of an earlier run removed from the folder.
    pub removed_stale: Vec<PathBuf>,
    pub next_deadline: Option<NextDeadline>,
    pub sync_run_id: i64,
    pub synced_at: Option<String>,
}

fn load_template(path: Option<&Path>) -> Result<masspay_tax_efile::Template> {
    let known = KnownHeaders::builtin();
    match path {
        None => Ok(known.default_template()),
        Some(p) => {
            let bytes = std::fs::read(p)
                .with_context(|| format!("reading the template {}", p.display()))?;
            known
                .template_from_csv(&bytes, &p.display().to_string())
                .with_context(|| format!("template {}", p.display()))
        }
    }
}

/// Writes the IRIS files for `opts.year` and returns the summary.
pub async fn iris_1099(
    store: &Store,
    settings: &crate::config::Settings,
    opts: &EfileOptions,
) -> Result<EfileSummary> {
    if opts.max_records == 0 || opts.max_records > MAX_RECORDS_LIMIT {
        bail!(
            "--max-records must be between 1 and {MAX_RECORDS_LIMIT} (the IRS publications give \
             100 per file; vendors report 250 from TY2025), not {}",
            opts.max_records
        );
    }
    let payer = settings.payer()?;
    let known = KnownHeaders::builtin();
    let payer = PayerBlock::new(&payer, known)?;
    let template = load_template(opts.template.as_deref())?;
    let run = crate::report::require_sync(store, opts.year).await?;
    let mut worksheet_total = Decimal::ZERO;
    let mut worksheet_payees = 0usize;
    let mut left_out_total = Decimal::ZERO;
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    let mut left_out = Vec::new();
    let mut written_invalid = Vec::new();
    // Each record goes to its file as it is built: nothing of the year is held but the rows
    // left out (and the files are renamed into place only once all are written).
    let mut files = FilesWriter::new(&opts.out, opts.year, &template, opts.max_records)
        .with_context(|| format!("writing the IRIS files in {}", opts.out.display()))?;
    let excluded_exempt = each_nec_payee(store, settings, opts.year, |r| {
        worksheet_payees += 1;
        worksheet_total += r.box1;
        let rec = record(opts.year, &payer, &r, known);
        if !rec.is_valid() {
            let row = RejectedRow {
                user_token: rec.user_token.clone(),
                box1: format_amount(rec.box1),
                problems: rec.problems.clone(),
            };
            if opts.include_invalid {
                written_invalid.push(row);
            } else {
                let reasons: std::collections::BTreeSet<&str> =
                    rec.problems.iter().map(|p| p.reason).collect();
                for reason in reasons {
                    *by_reason.entry(reason.to_string()).or_default() += 1;
                }
                left_out_total += rec.box1;
                left_out.push(row);
                return Ok(());
            }
        }
        files
            .write(&rec)
            .with_context(|| format!("writing the IRIS files in {}", opts.out.display()))
    })
    .await?;
    let records_written = files.records();
    let written = files
        .finish()
        .with_context(|| format!("writing the IRIS files in {}", opts.out.display()))?;
    let total: Decimal = written.files.iter().map(|f| f.box1_total).sum();
    Ok(EfileSummary {
        form: "1099-NEC",
        tax_year: opts.year,
        template: template.source.clone(),
        columns: template.columns.len(),
        max_records: opts.max_records,
        records_written,
        files: written.files,
        total_box1: format_amount(total),
        worksheet_payees,
        worksheet_total_box1: format_amount(worksheet_total),
        left_out,
        left_out_by_reason: by_reason,
        left_out_box1: format_amount(left_out_total),
        written_invalid,
        excluded_exempt,
        removed_stale: written.removed,
        next_deadline: crate::calendar::next_from_today(),
        sync_run_id: run.id,
        synced_at: run.finished_at,
    })
}

/// The outcome of `efile second-notice`.
#[derive(Debug, Clone, Serialize)]
pub struct SecondNotice {
    pub user_token: String,
    /// The flag now.
    pub set: bool,
    /// Whether this call changed it.
    pub changed: bool,
}

/// Sets (or with `clear`, clears) a payee's 2nd TIN notice flag.
pub async fn second_notice(store: &Store, user_token: &str, clear: bool) -> Result<SecondNotice> {
    let token = user_token.trim();
    if !store.payee_exists(token).await? {
        bail!("no payee with user token {token:?} in this store (run a sync first)");
    }
    let before = store
        .second_tin_notices()
        .await?
        .iter()
        .any(|n| n.user_token == token);
    if clear {
        store.clear_second_tin_notice(token).await?;
    } else {
        store.set_second_tin_notice(token, "user").await?;
    }
    Ok(SecondNotice {
        user_token: token.to_string(),
        set: !clear,
        changed: before == clear,
    })
}
