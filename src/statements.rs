//! `statements 1099` / `statements 1042s`: recipient statements (substitute Copy B), one PDF per
//! recipient in `DIR/1099-NEC-YEAR/<user_token>.pdf` / `DIR/1042-S-YEAR/<user_token>.pdf`, and
//! the year-end packets `report 1099 --pdf` / `report 1042s --pdf` write. The documents themselves (layout, fonts, rendering, parallel batches) are in
//! `masspay_tax_forms`; this module picks the recipients and fills the models.
//!
//! **Which recipients** is decided in one place, [`nec_recipients`]: today exactly the payees
//! `report 1099` puts on the worksheet (reportable, not W-9-exempt). When the per-payee, per-year
//! decision lands, only that function changes. The 1042-S recipients are exactly the rows of
//! `report 1042s` (`f1042s::recipients_1042s`, through the same per-payee `outcome`).

use crate::report::{money, nec_row, require_sync};
use anyhow::{Context, Result};
use futures_util::TryStreamExt;
use masspay_tax_forms::batch::{AnyStatement, BatchOptions, write_statements};
use masspay_tax_forms::f1042s::{F1042sRow, format_rate};
use masspay_tax_forms::fonts::FontSet;
use masspay_tax_forms::nec::NecRow;
use masspay_tax_forms::packet::{ExceptionRow, ExceptionSection, PacketInfo, PacketRows};
use masspay_tax_forms::statement::{
    Statement1042S, Statement1099Nec, StatementPayer, StatementRun,
};
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
    year: i32,
    tx: tokio::sync::mpsc::Sender<Result<NecRow, String>>,
) -> Result<NecSelection> {
    let result = select_nec(store, settings, year, &tx).await;
    if let Err(e) = &result {
        // Tell the writer, so it replaces nothing.
        let _ = tx.send(Err(crate::errors::chain(e))).await;
    }
    result
}

async fn select_nec(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    tx: &tokio::sync::mpsc::Sender<Result<NecRow, String>>,
) -> Result<NecSelection> {
    let view = crate::year::YearView::load(store, settings, year).await?;
    let run = view.run.clone();
    let mut excluded_exempt = Vec::new();
    let mut stream = view.on_file(store.year_payees(year, None));
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
    /// Files written (one per recipient).
    pub statements: usize,
    /// Forms in them (a 1042-S recipient has one per income code and rate).
    pub forms: usize,
    pub bytes: u64,
    /// 1099-NEC: the box 1 total (empty for the 1042-S).
    pub total_box1: String,
    /// 1042-S: the box 2 total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_gross_income: Option<String>,
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
        generated: generated_line(&run),
    };
    let dir = out.join(format!("1099-NEC-{year}"));
    let opts = BatchOptions {
        dir: dir.clone(),
        combined: combined.clone(),
        title: format!("1099-NEC Copy B statements, tax year {year}"),
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<NecRow, String>>(256);
    let (walked, end) = WalkEnd::new(&tx);
    let total = Arc::new(std::sync::Mutex::new(Decimal::ZERO));
    let writer = {
        let total = total.clone();
        let fonts = fonts.clone();
        let layout = layout.clone();
        let walked = walked.clone();
        tokio::task::spawn_blocking(move || {
            let items = until_the_end(rx, walked).map(|row| {
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
    let selection = nec_recipients(store, settings, year, tx).await;
    end.reached();
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
        forms: report.written,
        bytes: report.bytes,
        total_box1: total.to_string(),
        total_gross_income: None,
        unrenderable: report.unrenderable,
        excluded_exempt: selection.excluded_exempt,
        sandbox,
        sync_run_id: run.id,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The withholding agent's own codes on a 1042-S (boxes 12b, 12c, 12e) from `[payer]`
/// (`ch3_status_code`, `ch4_status_code`, `giin`); blank when not set.
#[derive(Debug, Clone, Default)]
pub struct AgentCodes {
    pub ch3_status: String,
    pub ch4_status: String,
    pub giin: String,
}

impl AgentCodes {
    pub fn of(p: &masspay_tax_rules::payer::Payer) -> AgentCodes {
        AgentCodes {
            ch3_status: p.ch3_status_code.clone().unwrap_or_default(),
            ch4_status: p.ch4_status_code.clone().unwrap_or_default(),
            giin: p.giin.clone().unwrap_or_default(),
        }
    }
}

/// A 1042-S worksheet row (one form) → its Copy B. The row's TINs and date of birth are
/// already masked (`recipients_1042s` asks for masked rows); the withholding agent's EIN is
/// printed in full from `[payer]`.
pub fn s1042_statement(
    row: &F1042sRow,
    agent: &StatementPayer,
    codes: &AgentCodes,
    year: i32,
    unique_form_id: String,
) -> Statement1042S {
    let name = if row.name.trim().is_empty() {
        row.business_name.trim()
    } else {
        row.name.trim()
    };
    let city_line = [
        row.city.trim(),
        row.state.trim(),
        row.zip.trim(),
        row.country.trim(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    let withheld = masspay_tax_rules::round_cents(row.tax_withheld);
    Statement1042S {
        tax_year: year,
        withholding_agent: agent.clone(),
        user_token: row.user_token.clone(),
        unique_form_id,
        amendment_no: 0,
        income_code: row.income_code.clone(),
        gross_income: masspay_tax_rules::round_cents(row.gross_income),
        chapter: "3".into(),
        ch3_exemption_code: row.ch3_exemption.clone(),
        ch3_tax_rate: format_rate(row.rate),
        ch4_exemption_code: row.ch4_exemption.clone(),
        // Chapter 3 form: the chapter 4 rate box stays blank.
        ch4_tax_rate: String::new(),
        withholding_allowance: None,
        net_income: None,
        federal_tax_withheld: withheld,
        escrow_procedures: false,
        subsequent_year_partnership: false,
        tax_withheld_by_other_agents: Decimal::ZERO,
        overwithheld_repaid: Decimal::ZERO,
        // Box 10 = 7a + 8 + 9.
        total_withholding_credit: withheld,
        tax_paid_by_agent: Decimal::ZERO,
        agent_ch3_status: codes.ch3_status.clone(),
        agent_ch4_status: codes.ch4_status.clone(),
        agent_giin: codes.giin.clone(),
        agent_country: agent.country.clone(),
        agent_foreign_tin: String::new(),
        recipient_name: name.to_string(),
        recipient_country: row.country.clone(),
        recipient_address1: row.address1.trim().to_string(),
        recipient_address2: city_line,
        recipient_us_tin: row.us_tin.clone(),
        recipient_ch3_status: row.ch3_status.clone(),
        recipient_ch4_status: row.ch4_status.clone(),
        recipient_giin: String::new(),
        lob_code: row.lob_code.clone(),
        account_number: row.user_token.clone(),
        recipient_foreign_tin: row.foreign_tin.clone(),
        recipient_dob: row.date_of_birth.clone(),
        primary_agent_name: String::new(),
        primary_agent_ein: String::new(),
        intermediary: String::new(),
        payer_name: String::new(),
        payer_tin: String::new(),
        state_tax_withheld: None,
        payer_state_tax_no: String::new(),
        state_name: String::new(),
    }
}

/// Unique form identifiers (box "UNIQUE FORM IDENTIFIER": 10 digits, unique per withholding
/// agent and year): derived from the year, payee, income code and rate, so the same form keeps
/// its number from run to run; a clash within the run takes the next free number.
#[derive(Default)]
pub struct FormIds(std::collections::HashSet<u64>);

impl FormIds {
    pub fn next(&mut self, year: i32, row: &F1042sRow) -> String {
        use sha2::Digest;
        let key = format!(
            "{year}|{}|{}|{}",
            row.user_token,
            row.income_code,
            format_rate(row.rate)
        );
        let digest = sha2::Sha256::digest(key.as_bytes());
        let mut n = u64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8])) % 10_000_000_000;
        while !self.0.insert(n) {
            n = (n + 1) % 10_000_000_000;
        }
        format!("{n:010}")
    }
}

/// `statements 1042s`: writes `out/1042-S-YEAR/<user_token>.pdf` (one page per form the payee
/// has: a separate 1042-S per income code and rate) and, with `combined`, one print-ready file.
pub async fn statements_1042s(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    out: &Path,
    combined: Option<PathBuf>,
    progress: Arc<dyn Fn(usize) + Send + Sync>,
) -> Result<StatementsSummary> {
    let started = std::time::Instant::now();
    let payer = settings.payer()?;
    let agent = StatementPayer::from_payer(&payer);
    let codes = AgentCodes::of(&payer);
    let run = require_sync(store, year).await?;
    let fonts = Arc::new(fonts(settings)?);
    let layout = Arc::new(layout(settings, Kind::Statement1042S)?);
    let sandbox = is_sandbox(&run);
    let statement_run = StatementRun {
        sandbox,
        generated: generated_line(&run),
    };
    let dir = out.join(format!("1042-S-{year}"));
    let opts = BatchOptions {
        dir: dir.clone(),
        combined: combined.clone(),
        title: format!("1042-S Copy B statements, tax year {year}"),
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<F1042sRow>, String>>(256);
    let (walked, end) = WalkEnd::new(&tx);
    let total = Arc::new(std::sync::Mutex::new((Decimal::ZERO, 0usize)));
    let writer = {
        let total = total.clone();
        let fonts = fonts.clone();
        let layout = layout.clone();
        let walked = walked.clone();
        tokio::task::spawn_blocking(move || {
            let mut ids = FormIds::default();
            let items = until_the_end(rx, walked).map(move |rows| {
                let rows = rows?;
                let forms: Vec<Statement1042S> = rows
                    .iter()
                    .map(|r| s1042_statement(r, &agent, &codes, year, ids.next(year, r)))
                    .collect();
                if let Ok(mut t) = total.lock() {
                    t.0 += forms.iter().map(|f| f.gross_income).sum::<Decimal>();
                    t.1 += forms.len();
                }
                Ok(AnyStatement::S1042(forms))
            });
            write_statements(items, &statement_run, &layout, &fonts, &opts, &*progress)
        })
    };
    let selection = crate::f1042s::recipients_1042s(store, settings, year, tx).await;
    end.reached();
    let written = writer.await.context("the statement writer stopped")?;
    selection?;
    let report = written.with_context(|| format!("writing statements in {}", dir.display()))?;
    let (mut gross, forms) = total.lock().map(|t| *t).unwrap_or_default();
    gross.rescale(2);
    Ok(StatementsSummary {
        form: "1042-S",
        tax_year: year,
        dir: report.dir,
        combined: report.combined,
        statements: report.written,
        forms,
        bytes: report.bytes,
        total_box1: String::new(),
        total_gross_income: Some(gross.to_string()),
        unrenderable: report.unrenderable,
        excluded_exempt: Vec::new(),
        sandbox,
        sync_run_id: run.id,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `2026-01-15 10:00 UTC, sync run #12 (sandbox)`: the generation line of a run's documents.
fn generated_line(run: &SyncRun) -> String {
    format!(
        "{}, sync run #{} ({})",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        run.id,
        run.source
    )
}

/// The cover's lines about the data: which sync run, how much of it, its body digest.
fn sync_lines(run: &SyncRun) -> Vec<String> {
    vec![
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
    ]
}

/// Open KYC holds of the given payees, for the exceptions page; `None` when the store has no
/// hold data at all (the page says so instead of claiming there are none).
pub async fn kyc_exceptions(
    store: &Store,
    payees: &std::collections::HashSet<&str>,
) -> Result<Option<Vec<ExceptionRow>>> {
    let all = store.holds(false).await?;
    if all.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        all.into_iter()
            .filter(|h| h.closed_at.is_none() && payees.contains(h.user_token.as_str()))
            .map(|h| ExceptionRow {
                detail: format!(
                    "hold {} since {}{}",
                    h.status,
                    h.opened_at,
                    h.reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
                user_token: h.user_token,
                name: String::new(),
            })
            .collect(),
    ))
}

/// What a `--pdf` packet gathers while the year is walked: the worksheet rows and the row
/// exceptions, set aside on disk and sealed ([`PacketRows`]), the open KYC holds the walk meets,
/// and the box totals for the cover. Memory holds one page of rows, whatever the count.
pub struct PacketWalk {
    rows: PacketRows,
    held: HeldPayees,
    fonts: FontSet,
    box1: Decimal,
    box4: Decimal,
}

impl PacketWalk {
    /// For `report 1099 --pdf` (the settings' fonts and `packet.toml` layout are read now, so a
    /// bad template fails before the walk).
    pub async fn nec(store: &Store, settings: &crate::config::Settings) -> Result<PacketWalk> {
        let layout = layout(settings, Kind::Packet)?;
        PacketWalk::start(store, settings, PacketRows::nec(&layout)).await
    }

    /// For `report 1042s --pdf` (`packet-1042-s.toml`).
    pub async fn f1042s(store: &Store, settings: &crate::config::Settings) -> Result<PacketWalk> {
        let layout = layout(settings, Kind::Packet1042S)?;
        PacketWalk::start(store, settings, PacketRows::f1042s(&layout)).await
    }

    async fn start(
        store: &Store,
        settings: &crate::config::Settings,
        rows: std::io::Result<PacketRows>,
    ) -> Result<PacketWalk> {
        Ok(PacketWalk {
            rows: rows.context("setting aside the packet's rows")?,
            held: HeldPayees::load(store).await?,
            fonts: fonts(settings)?,
            box1: Decimal::ZERO,
            box4: Decimal::ZERO,
        })
    }

    pub fn push_nec(&mut self, r: &NecRow) -> Result<()> {
        self.held.meet(&r.user_token);
        self.box1 += masspay_tax_rules::round_cents(r.box1);
        self.box4 += masspay_tax_rules::round_cents(r.box4);
        self.rows
            .push_nec(r)
            .context("setting aside a row for the packet")
    }

    pub fn push_1042s(&mut self, r: &F1042sRow) -> Result<()> {
        self.held.meet(&r.user_token);
        self.rows
            .push_1042s(r)
            .context("setting aside a row for the packet")
    }

    /// Draws and writes the packet on a blocking thread, the exceptions set aside first, then
    /// `more`, then the open KYC holds. If this future is dropped (Ctrl-C), the thread stops at
    /// its next page and removes the unfinished file.
    async fn write(
        self,
        store: &Store,
        path: &Path,
        info: PacketInfo,
        mut more: Vec<ExceptionSection>,
    ) -> Result<(PathBuf, bool)> {
        more.push(self.held.section(store).await?);
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        struct StopOnDrop(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for StopOnDrop {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let _guard = StopOnDrop(stop.clone());
        let (rows, fonts, target) = (self.rows, self.fonts, path.to_path_buf());
        tokio::task::spawn_blocking(move || rows.write(&target, &info, more, &fonts, &stop))
            .await
            .context("the packet writer stopped")?
            .with_context(|| format!("writing the packet {}", path.display()))
    }
}

/// The payees with an open KYC hold, loaded before a walk; the walk marks those it meets, and
/// the packet lists their holds ([`kyc_exceptions`]).
pub struct HeldPayees {
    open: std::collections::HashSet<String>,
    met: std::collections::HashSet<String>,
}

impl HeldPayees {
    pub async fn load(store: &Store) -> Result<HeldPayees> {
        Ok(HeldPayees {
            open: store
                .holds(true)
                .await?
                .into_iter()
                .map(|h| h.user_token)
                .collect(),
            met: Default::default(),
        })
    }

    pub fn meet(&mut self, token: &str) {
        if self.open.contains(token) && !self.met.contains(token) {
            self.met.insert(token.to_string());
        }
    }

    /// The exceptions page's KYC section.
    pub async fn section(self, store: &Store) -> Result<ExceptionSection> {
        let met: std::collections::HashSet<&str> = self.met.iter().map(String::as_str).collect();
        Ok(ExceptionSection::kyc(kyc_exceptions(store, &met).await?))
    }
}

/// The packet `report 1042s --pdf` writes: cover (withholding agent, rules, counts, the Form
/// 1042 totals by income code and rate), exceptions, worksheet, at `path`. The same packet code
/// as the 1099-NEC's, with the `packet-1042-s.toml` layout.
pub async fn write_1042s_packet(
    store: &Store,
    settings: &crate::config::Settings,
    run: &SyncRun,
    path: &Path,
    packet: PacketWalk,
    s: &crate::f1042s::F1042Summary,
) -> Result<PathBuf> {
    let mut rules = vec![match s.services_performed {
        "not_set" => "services performed: NOT SET, the IRS presumption applies (US source, 30% \
                      unless a valid treaty claim)"
            .to_string(),
        other => format!("services performed: {other} ([foreign] services_performed)"),
    }];
    rules.push(if s.report_foreign_source {
        "foreign-source pay reported anyway (chapter 3 exemption code 03, rate 0.00)".into()
    } else {
        "foreign-source pay: no Form 1042-S (listed as left off)".into()
    });
    rules.push(
        "30% unless a treaty claim passes every check (certificate, signature, expiry, country, \
         TIN); one form per income code and rate"
            .into(),
    );
    rules.push("tax due = rate × US-source gross, rounded half away from zero to cents".into());
    rules.push(if s.tin_masked {
        "TINs and dates of birth masked".into()
    } else {
        "FULL TINs and dates of birth (IRS-bound copy)".into()
    });
    rules.extend(s.warnings.iter().map(|w| format!("WARNING: {w}")));
    let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for n in &s.left_off {
        *reasons.entry(n.reason.as_str()).or_default() += 1;
    }
    let mut counts = vec![
        ("Forms 1042-S".to_string(), s.forms.to_string()),
        ("payees with a form".to_string(), s.payees.to_string()),
        (
            "forms with issues".to_string(),
            s.rows_with_issues.to_string(),
        ),
    ];
    for (reason, n) in reasons {
        counts.push((format!("left off: {reason}"), n.to_string()));
    }
    let mut totals = vec![
        ("gross income".to_string(), money(&s.total_gross_income)),
        ("tax due".to_string(), money(&s.total_tax_due)),
        ("tax withheld".to_string(), money(&s.total_tax_withheld)),
        ("under-withheld".to_string(), money(&s.total_under_withheld)),
    ];
    for t in &s.totals {
        totals.push((
            format!("code {} at {}%", t.income_code, t.rate),
            format!(
                "{} form{}, gross {}, due {}, withheld {}",
                t.forms,
                if t.forms == 1 { "" } else { "s" },
                money(&t.gross_income),
                money(&t.tax_due),
                money(&t.tax_withheld)
            ),
        ));
    }
    let info = PacketInfo {
        form: "1042-S".into(),
        tax_year: s.tax_year,
        payer: settings
            .payer()
            .ok()
            .map(|p| StatementPayer::from_payer(&p)),
        rules,
        counts,
        totals,
        sync: sync_lines(run),
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        sandbox: is_sandbox(run),
    };
    let note = |n: &crate::f1042s::PayeeNote| ExceptionRow {
        user_token: n.user_token.clone(),
        name: String::new(),
        detail: n.words.clone(),
    };
    let more = vec![
        ExceptionSection::new(
            "exceptions_conflicts",
            s.conflicts.iter().map(note).collect(),
        ),
        ExceptionSection::new(
            "exceptions_undecided",
            s.left_off
                .iter()
                .filter(|n| n.reason == "unknown_country")
                .map(note)
                .collect(),
        ),
    ];
    let (path, _) = packet.write(store, path, info, more).await?;
    Ok(path)
}

/// The packet `report 1099 --pdf` writes: cover, exceptions, worksheet, at `path`.
#[allow(clippy::too_many_arguments)]
pub async fn write_nec_packet(
    store: &Store,
    settings: &crate::config::Settings,
    run: &SyncRun,
    year: i32,
    path: &Path,
    packet: PacketWalk,
    threshold: Decimal,
    unmask: bool,
    statuses: &std::collections::BTreeMap<String, usize>,
    excluded_exempt: usize,
) -> Result<(PathBuf, bool)> {
    let (mut b1, mut b4) = (packet.box1, packet.box4);
    b1.rescale(2);
    b4.rescale(2);
    let mut counts = vec![(
        "reportable payees".to_string(),
        packet.rows.len().to_string(),
    )];
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
        sync: sync_lines(run),
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        sandbox,
    };
    packet.write(store, path, info, Vec::new()).await
}

/// Whether the walk feeding a statement writer's thread got to the end of the year. The
/// channel closes the same way when the walk is dropped part-way (Ctrl-C), so the walk's side
/// holds one more sender, and drops it only after saying the end was reached.
struct WalkEnd<T> {
    walked: Arc<std::sync::atomic::AtomicBool>,
    _open: tokio::sync::mpsc::Sender<T>,
}

impl<T> WalkEnd<T> {
    fn new(tx: &tokio::sync::mpsc::Sender<T>) -> (Arc<std::sync::atomic::AtomicBool>, Self) {
        let walked = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let end = WalkEnd {
            walked: walked.clone(),
            _open: tx.clone(),
        };
        (walked, end)
    }

    /// The walk returned (with its rows or its error): the writer may take the channel's end
    /// for the year's.
    fn reached(self) {
        self.walked.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The items a statement writer takes: what the walk sends, then, if the channel closed
/// without the walk reaching the end (it was dropped), one error, so the batch is not finished
/// with part of the year.
fn until_the_end<T>(
    mut rx: tokio::sync::mpsc::Receiver<Result<T, String>>,
    walked: Arc<std::sync::atomic::AtomicBool>,
) -> impl Iterator<Item = Result<T, String>> {
    let mut cut_short = false;
    std::iter::from_fn(move || match rx.blocking_recv() {
        Some(item) => Some(item),
        None if walked.load(std::sync::atomic::Ordering::SeqCst) || cut_short => None,
        None => {
            cut_short = true;
            Some(Err("stopped before the end of the year".to_string()))
        }
    })
}
