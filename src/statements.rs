//! `statements 1099` / `statements 1042s`: recipient statements (substitute Copy B), one PDF per
//! recipient in `DIR/1099-NEC-YEAR/<user_token>.pdf`, and the year-end packet `report 1099 --pdf`
//! writes. The documents themselves (layout, fonts, rendering, parallel batches) are in
//! `masspay_tax_forms`; this module picks the recipients and fills the models.
//!
//! **Which recipients** is decided in one place, [`nec_recipients`]: today exactly the payees
//! `report 1099` puts on the worksheet (reportable, not W-9-exempt). When the per-payee, per-year
//! decision lands, only that function changes.

use crate::report::{money, nec_row, require_sync};
use anyhow::{Context, Result, bail};
use futures_util::TryStreamExt;
use masspay_tax_forms::batch::{AnyStatement, BatchOptions, write_statements};
use masspay_tax_forms::fonts::FontSet;
use masspay_tax_forms::nec::NecRow;
use masspay_tax_forms::packet::{
    Exceptions, PacketInfo, WorksheetRow, packet_document, write_packet,
};
use masspay_tax_forms::statement::{Statement1099Nec, StatementPayer, StatementRun};
use masspay_tax_forms::template::{Kind, Layout};
use masspay_tax_store::{Store, SyncRun};
use rust_decimal::Decimal;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Whether a sync run's data came from the built-in sandbox (its `source` label says so).
/// The store will record this directly; until then the label decides.
pub fn is_sandbox(run: &SyncRun) -> bool {
    run.source
        .trim()
        .to_ascii_lowercase()
        .starts_with("sandbox")
}

/// The fonts for this run: the shipped DejaVu Sans, plus `[documents] fallback_font` if set.
pub fn fonts(settings: &crate::config::Settings) -> Result<FontSet> {
    match &settings.documents.fallback_font {
        None => Ok(FontSet::shipped()),
        Some(p) => Ok(FontSet::with_fallback(p)?),
    }
}

/// The layout for a document: `[documents] layouts` folder's copy, else the built-in one.
pub fn layout(settings: &crate::config::Settings, kind: Kind) -> Result<Layout> {
    Ok(Layout::load(kind, settings.documents.layouts.as_deref())?)
}

/// What [`nec_recipients`] found besides the rows.
pub struct NecSelection {
    pub run: SyncRun,
    /// Over the threshold but left off: an imported W-9 has exempt payee code 1-5.
    pub excluded_exempt: Vec<String>,
}

/// THE selection of the year's 1099-NEC recipients, each as its worksheet row with the TIN
/// masked (`***-**-1234`), sent one by one into `tx` (bounded: memory stays flat). Today: the
/// rows `report 1099` writes (`report::nec_row`, W-9 exempt payees left off).
pub async fn nec_recipients(
    store: &Store,
    settings: &crate::config::Settings,
    forms: &crate::taxforms::FormIndex,
    year: i32,
    tx: tokio::sync::mpsc::Sender<Result<NecRow, String>>,
) -> Result<NecSelection> {
    let result = select_nec(store, settings, forms, year, &tx).await;
    if let Err(e) = &result {
        // Tell the writer, so it replaces nothing.
        let _ = tx.send(Err(crate::errors::chain(e))).await;
    }
    result
}

async fn select_nec(
    store: &Store,
    settings: &crate::config::Settings,
    forms: &crate::taxforms::FormIndex,
    year: i32,
    tx: &tokio::sync::mpsc::Sender<Result<NecRow, String>>,
) -> Result<NecSelection> {
    let _ = forms; // the year view loads the forms on file itself
    let view = crate::year::YearView::load(store, settings, year).await?;
    let run = view.run.clone();
    let mut excluded_exempt = Vec::new();
    let mut stream = store.year_payees(year, None);
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
        let row = nec_row(&y, false)?;
        if tx.send(Ok(row)).await.is_err() {
            // The writer stopped (an error it reports itself).
            break;
        }
    }
    Ok(NecSelection {
        run,
        excluded_exempt,
    })
}

/// A worksheet row → the recipient statement.
pub fn nec_statement(row: &NecRow, payer: &StatementPayer, year: i32) -> Statement1099Nec {
    let business = row.flags.split(';').any(|f| f.trim() == "business");
    let name = row.name.trim();
    let biz = row.business_name.trim();
    // The name that goes with the TIN first: the business's for an EIN, else the person's.
    let (first, second) = if business && row.tin_type == "ein" && !biz.is_empty() {
        (biz, if name == biz { "" } else { name })
    } else if name.is_empty() {
        (biz, "")
    } else {
        (name, if biz == name { "" } else { biz })
    };
    let mut address: Vec<String> = [row.address1.trim(), row.address2.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut city = row.city.trim().to_string();
    if !row.state.trim().is_empty() {
        if !city.is_empty() {
            city.push_str(", ");
        }
        city.push_str(row.state.trim());
    }
    if !row.zip.trim().is_empty() {
        city.push(' ');
        city.push_str(row.zip.trim());
    }
    if !city.trim().is_empty() {
        address.push(city.trim().to_string());
    }
    let country = row.country.trim();
    if !country.is_empty() && !matches!(country, "US" | "USA") {
        address.push(country.to_string());
    }
    Statement1099Nec {
        tax_year: year,
        payer: payer.clone(),
        user_token: row.user_token.clone(),
        recipient_name: first.to_string(),
        recipient_name_line2: second.to_string(),
        recipient_address: address,
        recipient_tin: row.tin.clone(),
        account_number: row.user_token.clone(),
        box1: masspay_tax_rules::round_cents(row.box1),
        box2_direct_sales: false,
        box3: Decimal::ZERO,
        box4: masspay_tax_rules::round_cents(row.box4),
        states: Vec::new(),
        second_tin_notice: false,
        corrected: false,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementsSummary {
    pub form: &'static str,
    pub tax_year: i32,
    pub dir: PathBuf,
    pub combined: Option<PathBuf>,
    pub statements: usize,
    pub bytes: u64,
    pub total_box1: String,
    /// Payees whose name or address has characters no font could show (marked on the page).
    pub unrenderable: Vec<String>,
    pub excluded_exempt: Vec<String>,
    pub sandbox: bool,
    pub sync_run_id: i64,
    pub seconds: f64,
}

/// `statements 1099`: writes `out/1099-NEC-YEAR/<user_token>.pdf` (replacing the folder) and,
/// with `combined`, one print-ready file. The payer settings are checked before anything is
/// written.
pub async fn statements_1099(
    store: &Store,
    settings: &crate::config::Settings,
    forms: &crate::taxforms::FormIndex,
    year: i32,
    out: &Path,
    combined: Option<PathBuf>,
    progress: Arc<dyn Fn(usize) + Send + Sync>,
) -> Result<StatementsSummary> {
    let started = std::time::Instant::now();
    let payer = StatementPayer::from_payer(&settings.payer()?);
    settings.thresholds.nec(year)?;
    let run = require_sync(store, year).await?;
    let fonts = Arc::new(fonts(settings)?);
    let layout = Arc::new(layout(settings, Kind::Statement1099Nec)?);
    let sandbox = is_sandbox(&run);
    let statement_run = StatementRun {
        sandbox,
        generated: format!(
            "{}, sync run #{} ({})",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            run.id,
            run.source
        ),
    };
    let dir = out.join(format!("1099-NEC-{year}"));
    let opts = BatchOptions {
        dir: dir.clone(),
        combined: combined.clone(),
        title: format!("1099-NEC Copy B statements, tax year {year}"),
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<NecRow, String>>(256);
    let total = Arc::new(std::sync::Mutex::new(Decimal::ZERO));
    let writer = {
        let total = total.clone();
        let fonts = fonts.clone();
        let layout = layout.clone();
        tokio::task::spawn_blocking(move || {
            let items = std::iter::from_fn(move || rx.blocking_recv()).map(|row| {
                let row = row?;
                if let Ok(mut t) = total.lock() {
                    *t += masspay_tax_rules::round_cents(row.box1);
                }
                Ok(AnyStatement::Nec(Box::new(nec_statement(
                    &row, &payer, year,
                ))))
            });
            write_statements(items, &statement_run, &layout, &fonts, &opts, &*progress)
        })
    };
    let selection = nec_recipients(store, settings, forms, year, tx).await;
    let written = writer.await.context("the statement writer stopped")?;
    let selection = selection?;
    let report = written.with_context(|| format!("writing statements in {}", dir.display()))?;
    let mut total = total.lock().map(|t| *t).unwrap_or_default();
    total.rescale(2);
    Ok(StatementsSummary {
        form: "1099-NEC",
        tax_year: year,
        dir: report.dir,
        combined: report.combined,
        statements: report.written,
        bytes: report.bytes,
        total_box1: total.to_string(),
        unrenderable: report.unrenderable,
        excluded_exempt: selection.excluded_exempt,
        sandbox,
        sync_run_id: run.id,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `statements 1042s`: not yet — the 1042-S worksheet (income codes, chapter 3/4 status,
/// rates and withholding per payee) is built separately; its rows map onto
/// `masspay_tax_forms::statement::Statement1042S`, which the layout and writer already take.
pub async fn statements_1042s(year: i32) -> Result<StatementsSummary> {
    bail!(
        "1042-S statements for {year} need the 1042-S worksheet (income code, chapter 3/4 status, \
         rate and withholding per payee), which this version does not build yet; no statement \
         was written"
    )
}

/// The packet `report 1099 --pdf` writes: cover, exceptions, worksheet, at `path`.
#[allow(clippy::too_many_arguments)]
pub fn write_nec_packet(
    settings: &crate::config::Settings,
    run: &SyncRun,
    year: i32,
    path: &Path,
    rows: &[NecRow],
    threshold: Decimal,
    unmask: bool,
    statuses: &std::collections::BTreeMap<String, usize>,
    excluded_exempt: usize,
) -> Result<(PathBuf, bool)> {
    let fonts = fonts(settings)?;
    let layout = layout(settings, Kind::Packet)?;
    let mut b1 = Decimal::ZERO;
    let mut b4 = Decimal::ZERO;
    for r in rows {
        b1 += masspay_tax_rules::round_cents(r.box1);
        b4 += masspay_tax_rules::round_cents(r.box4);
    }
    b1.rescale(2);
    b4.rescale(2);
    let mut counts = vec![("reportable payees".to_string(), rows.len().to_string())];
    for (k, v) in statuses {
        counts.push((format!("TIN {k}"), v.to_string()));
    }
    counts.push((
        "left off (W-9 exempt payee code 1-5)".into(),
        excluded_exempt.to_string(),
    ));
    let sandbox = is_sandbox(run);
    let info = PacketInfo {
        form: "1099-NEC".into(),
        tax_year: year,
        payer: settings
            .payer()
            .ok()
            .map(|p| StatementPayer::from_payer(&p)),
        rules: vec![
            format!(
                "threshold {} (box 1 at or over it, compared on cents)",
                money(&masspay_tax_rules::format_amount(threshold))
            ),
            "amounts rounded half away from zero to cents".into(),
            if unmask {
                "FULL TINs (IRS-bound copy)".into()
            } else {
                "TINs masked to the last four digits".into()
            },
            "a W-9 on file wins over MassPay's tax_id".into(),
        ],
        counts,
        totals: vec![
            ("box 1".into(), money(&b1.to_string())),
            ("box 4".into(), money(&b4.to_string())),
        ],
        sync: vec![
            format!(
                "sync run #{} from {}, finished {}",
                run.id,
                run.source,
                run.finished_at.as_deref().unwrap_or("-")
            ),
            format!(
                "{} rows stored of {} received; body digest sha256 {}",
                run.rows_stored,
                run.rows_received,
                run.body_sha256.as_deref().unwrap_or("-")
            ),
        ],
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        sandbox,
    };
    let ws: Vec<WorksheetRow> = rows.iter().map(WorksheetRow::from_nec).collect();
    let (doc, missing) = packet_document(
        &info,
        &Exceptions::from_nec_rows(rows),
        &ws,
        &layout,
        &fonts,
    );
    let path = write_packet(path, &doc, &fonts)
        .with_context(|| format!("writing the packet {}", path.display()))?;
    Ok((path, missing))
}
