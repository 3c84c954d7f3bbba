//! `audit tins`: one verdict per payee on the TIN the year's forms would carry.
//!
//! Status (`valid`, `invalid`, `malformed`, `missing`) and type (`ssn`, `itin`, `atin`, `ein`,
//! `unknown`) come from the IRS rules in `masspay_tax_rules::tin`, applied to the imported W-9's
//! TIN and declared type when there is one, else to MassPay's untyped `tax_id`. Warnings beside
//! the status cover what format checks cannot: duplicates, entity/TIN mismatches, backup
//! withholding, foreign payees with SSNs, missing forms, and IRS TIN Matching answers.

use crate::report::{TinInfo, full_name, mask};
use crate::year::{IrsAnswer, YearPayee, YearView};
use anyhow::{Context, Result};
use futures_util::TryStreamExt;
use masspay_tax_rules::decision::PersonStatus;
use masspay_tax_rules::tin::{TinStatus, TinType};
use masspay_tax_store::Store;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The IRS TIN Matching answer on file for a payee.
#[derive(Debug, Clone)]
pub struct IrsMatch {
    pub tin_hash: String,
    pub code: u8,
}

/// One payee's audit result (also a CSV/JSON row).
#[derive(Debug, Clone, Serialize)]
pub struct AuditResult {
    pub user_token: String,
    pub name: String,
    pub business_name: String,
    pub country: String,
    /// The one decision's form: `1099-NEC`, `1042-S` (candidate) or `none`.
    pub form: String,
    /// Why (a stable code, e.g. `us_at_or_over_threshold`, `exempt_payee_code`, `unknown_country`).
    pub form_reason: String,
    pub reportable: bool,
    pub amount: String,
    pub status: String,
    pub tin_type: String,
    /// Masked (last four).
    pub tin: String,
    pub tin_source: String,
    pub form_on_file: String,
    pub irs_match: String,
    /// Backup withholding (24%) applies now: the TIN is missing or malformed (IRC §3406(a)(1)(A)).
    pub backup_withholding: bool,
    /// The TIN is invalid or got an IRS "no match": withholding starts 30 business days after a
    /// CP2100 B notice without a corrected W-9 (IRC §3406(a)(1)(B), Pub 1281).
    pub b_notice_risk: bool,
    pub reasons: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditSummary {
    pub tax_year: i32,
    pub payees: usize,
    pub by_status: BTreeMap<String, usize>,
    pub reportable_by_status: BTreeMap<String, usize>,
    pub not_reportable_by_status: BTreeMap<String, usize>,
    pub with_warnings: usize,
    pub backup_withholding: usize,
    /// 1099-NEC payees whose TIN is invalid or got an IRS "no match" (a CP2100 B notice is likely).
    pub b_notice_risk: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Sandbox (emulated) or real MassPay data.
    pub source: crate::year::SourceInfo,
    /// One verdict per payee, in token order (before the summary, so the JSON streams).
    pub results: Vec<AuditResult>,
    pub summary: AuditSummary,
}

impl Audit {
    /// How many payees have one of these statuses (`--fail-on`: exit code 3 when any).
    pub fn count_with_status(&self, statuses: &[TinStatus]) -> usize {
        self.results
            .iter()
            .filter(|r| statuses.iter().any(|s| s.as_str() == r.status))
            .count()
    }
}

pub const B_NOTICE_RISK: &str = "reportable US payee whose TIN is impossible under IRS rules or got an IRS \"no match\": request a corrected W-9 now; \
     an IRS CP2100 notice would start backup withholding (24%) after 30 business days";

pub const BACKUP_WITHHOLDING: &str = "reportable US payee without a usable TIN: backup withholding at 24% applies to further \
     payments until a TIN is furnished (IRC §3406(a)(1)(A)); request a W-9";

fn name_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The verdict on one judged payee (before the cross-payee duplicate check).
fn audit_one(view: &YearView<'_>, y: &YearPayee<'_>) -> AuditResult {
    let p = &y.payee;
    let form = y.form.as_ref();
    let TinInfo { text, source, .. } = y.tin();
    let check = &y.check;
    let d = &y.decision;
    let reportable = d.reportable_1099();
    let us = d.person == PersonStatus::Us;
    let foreign = d.person == PersonStatus::Foreign;
    // The W-9's own facts win: its business name (line 2) and federal tax classification.
    let w9_business = form
        .and_then(|f| f.business_name.as_deref())
        .is_some_and(|b| !b.trim().is_empty());
    let entity = form.is_some_and(|f| f.is_entity());
    let sole_proprietor = form.is_some_and(|f| f.tax_classification.is_some() && !f.is_entity());
    let business = !p.business_name.trim().is_empty() || w9_business;
    let mut warnings = check.warnings.clone();
    if let Some(f) = form
        && f.tin_differs_from_api(p)
    {
        let last4 = |t: Option<&str>| {
            let d: String = t
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            d[d.len().saturating_sub(4)..].to_string()
        };
        warnings.push(format!(
            "tin_differs_from_api: the {} TIN (…{}) is not MassPay's tax_id (…{}); the form's is used",
            f.form_type,
            last4(f.tin.as_deref()),
            last4(p.tin())
        ));
    }
    if d.backup_withholding {
        warnings.push(BACKUP_WITHHOLDING.to_string());
    } else if d.b_notice_risk && check.status != TinStatus::Valid {
        warnings.push(B_NOTICE_RISK.to_string());
    }
    if d.needs_decision {
        warnings.push(format!("needs a decision: {}", d.reason_text));
    }
    if check.tin.is_some() {
        if business
            && !sole_proprietor
            && check.tin_type.is_individual()
            && check.tin_type != TinType::Unknown
        {
            warnings.push(
                "business name with an individual TIN: right for a sole proprietor (W-9 line 1 is the owner's name), \
                 otherwise get the business's EIN"
                    .into(),
            );
        }
        if !business && !entity && check.tin_type == TinType::Ein {
            warnings.push("individual (no business name) with an EIN: confirm the payee is an entity or a sole proprietor with an EIN".into());
        }
        if foreign && matches!(check.tin_type, TinType::Ssn) {
            warnings.push(
                "foreign payee with a US SSN: a US person needs a W-9; otherwise collect a W-8BEN"
                    .into(),
            );
        }
    }
    let form_on_file = form
        .map(|f| f.form_type.clone())
        .unwrap_or_else(|| "none".into());
    match (us, foreign, form) {
        (true, _, None) if reportable => warnings.push("no W-9 on file".into()),
        (_, true, None) => warnings.push("foreign payee with no W-8 on file: collect a W-8BEN / W-8BEN-E (30% withholding applies without one)".into()),
        _ => {}
    }
    if foreign {
        warnings.extend(crate::f1042s::foreign_audit_warnings(view, y));
    }
    let irs_match = match &y.irs {
        IrsAnswer::Current(code) => {
            let r = masspay_tax_rules::MatchResult::from_code(*code);
            let text = r
                .map(|r| r.description().to_string())
                .unwrap_or_else(|| format!("code {code}"));
            if !r.is_some_and(|r| r.is_match()) {
                warnings.push(format!("IRS TIN Matching: {text}"));
            }
            format!("{code}: {text}")
        }
        IrsAnswer::Stale => "stale (the TIN changed since it was matched)".into(),
        IrsAnswer::None => String::new(),
    };
    let name = full_name(p);
    let status = check.status;
    AuditResult {
        user_token: p.user_token.clone(),
        name,
        business_name: p.business_name.clone(),
        country: p.country.clone(),
        form: serde_json::to_value(d.form)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        form_reason: d.reason.as_str().to_string(),
        reportable,
        amount: p.amount.clone(),
        status: status.as_str().into(),
        tin_type: if status == TinStatus::Missing {
            String::new()
        } else {
            check.tin_type.as_str().into()
        },
        tin: mask(check, text),
        tin_source: if text.is_some() {
            source.into()
        } else {
            String::new()
        },
        form_on_file,
        irs_match,
        backup_withholding: d.backup_withholding,
        b_notice_risk: d.b_notice_risk,
        reasons: check.reasons.clone(),
        warnings,
    }
}

/// The name the duplicate-TIN check compares: the form's name for the name control, else the
/// business name of an EIN holder, else the person's name.
fn name_key_of(y: &YearPayee<'_>) -> String {
    let p = &y.payee;
    let w9_business = y
        .form
        .as_ref()
        .and_then(|f| f.business_name.as_deref())
        .is_some_and(|b| !b.trim().is_empty());
    let business = !p.business_name.trim().is_empty() || w9_business;
    match y.form.as_ref() {
        Some(f) => name_key(f.name_for_name_control()),
        None if business && y.check.tin_type == TinType::Ein => name_key(&p.business_name),
        None => name_key(&full_name(p)),
    }
}

/// Audits the year's payees into memory (the library's and the tests' view; the command streams
/// through [`audit_tins_to`]).
pub async fn audit_tins(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    only_reportable: bool,
) -> Result<Audit> {
    let mut results = Vec::new();
    let (source, summary) = audit_tins_each(
        store,
        settings,
        year,
        only_reportable,
        |_| Ok(()),
        |r| {
            results.push(r);
            Ok(())
        },
    )
    .await?;
    Ok(Audit {
        source,
        summary,
        results,
    })
}

/// The keyed hash of the TIN in use, as the duplicate check compares it.
fn tin_hash_of(view: &YearView<'_>, y: &YearPayee<'_>) -> Option<String> {
    y.check
        .tin
        .as_ref()
        .map(|t| view.store.vault().tin_hash(t.digits()))
}

/// "Same TIN as … under a different name", by user token: computed from the few payees the
/// store finds sharing a TIN hash ([`Store::year_payees_sharing_tin`]), judged as the main walk
/// judges them, in the same order, so the words are what a walk holding every result would say.
async fn shared_tin_warnings(
    view: &YearView<'_>,
    year: i32,
    only_reportable: bool,
) -> Result<HashMap<String, String>> {
    // (hash, user token, name key) in the walk's order.
    let mut members: Vec<(String, String, String)> = Vec::new();
    let mut stream = view.on_file(view.store.year_payees_sharing_tin(year));
    while let Some(p) = stream.try_next().await? {
        let y = view.judge(p)?;
        if only_reportable && !y.decision.reportable_1099() {
            continue;
        }
        if let Some(h) = tin_hash_of(view, &y) {
            members.push((h, y.payee.user_token.clone(), name_key_of(&y)));
        }
    }
    drop(stream);
    let mut by_hash: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (h, _, _)) in members.iter().enumerate() {
        by_hash.entry(h.as_str()).or_default().push(i);
    }
    let mut out = HashMap::new();
    for idx in by_hash.values().filter(|v| v.len() > 1) {
        let names: HashSet<&str> = idx.iter().map(|&i| members[i].2.as_str()).collect();
        if names.len() > 1 {
            for &i in idx {
                let others: Vec<&str> = idx
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| members[j].1.as_str())
                    .collect();
                out.insert(
                    members[i].1.clone(),
                    format!("same TIN as {} under a different name", others.join(", ")),
                );
            }
        }
    }
    Ok(out)
}

/// Walks the year's payees once, handing the data's source to `start` before the first verdict
/// and each verdict to `each` as it is made (memory flat in the number of payees), and returns
/// the source and the summary counted on the way.
pub async fn audit_tins_each<S, F>(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    only_reportable: bool,
    start: S,
    mut each: F,
) -> Result<(crate::year::SourceInfo, AuditSummary)>
where
    S: FnOnce(&crate::year::SourceInfo) -> Result<()>,
    F: FnMut(AuditResult) -> Result<()>,
{
    let view = YearView::load(store, settings, year).await?;
    start(&view.source)?;
    let mut shared = shared_tin_warnings(&view, year, only_reportable).await?;
    let mut summary = AuditSummary {
        tax_year: year,
        ..Default::default()
    };
    let mut stream = view.on_file(
        store.year_payees_where(year, masspay_tax_store::YearQuery::without_date_of_birth()),
    );
    while let Some(p) = stream.try_next().await? {
        let y = view.judge(p)?;
        if only_reportable && !y.decision.reportable_1099() {
            continue;
        }
        let mut r = audit_one(&view, &y);
        if let Some(w) = shared.remove(&r.user_token) {
            r.warnings.push(w);
        }
        summary.payees += 1;
        *summary.by_status.entry(r.status.clone()).or_default() += 1;
        let bucket = if r.reportable {
            &mut summary.reportable_by_status
        } else {
            &mut summary.not_reportable_by_status
        };
        *bucket.entry(r.status.clone()).or_default() += 1;
        summary.with_warnings += usize::from(!r.warnings.is_empty());
        summary.backup_withholding += usize::from(r.backup_withholding);
        summary.b_notice_risk += usize::from(r.b_notice_risk);
        each(r)?;
    }
    drop(stream);
    Ok((view.source.clone(), summary))
}

/// How `audit tins` writes its verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// What [`audit_tins_to`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub summary: AuditSummary,
    /// Payees with a status listed in `fail_on`.
    pub failing: usize,
}

/// Streams the audit to `sink` in `format`, row by row: CSV and the table as each verdict is
/// made; JSON (`{"source", "results": [...], "summary"}`, byte for byte what serialising the
/// whole [`Audit`] gives: the summary last, so nothing waits for it).
/// The rows are written on a thread of their own while the walk goes on (batches over a bounded
/// channel); a walk dropped part-way (Ctrl-C) makes the writer stop and drop `sink` unfinished.
pub async fn audit_tins_to<W: std::io::Write + Send + 'static>(
    store: &Store,
    settings: &crate::config::Settings,
    year: i32,
    only_reportable: bool,
    format: Format,
    fail_on: &[TinStatus],
    sink: W,
) -> Result<(W, Written)> {
    const BATCH: usize = 512;
    enum Msg {
        Start(crate::year::SourceInfo),
        Rows(Vec<AuditResult>),
        Done(Box<(crate::year::SourceInfo, AuditSummary)>),
    }
    /// The walk's error when the writer is what stopped (its own error says why).
    #[derive(Debug)]
    struct WriterGone;
    impl std::fmt::Display for WriterGone {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("the audit's writer stopped")
        }
    }
    impl std::error::Error for WriterGone {}

    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(4);
    let writer = tokio::task::spawn_blocking(move || -> Result<W> {
        let mut sink = Some(sink);
        let mut rows: Option<Rows<W>> = None;
        for msg in rx {
            match (msg, rows.as_mut()) {
                (Msg::Start(source), None) => {
                    let sink = sink.take().context("the audit started twice")?;
                    rows = Some(match format {
                        Format::Csv => Rows::Csv(Box::new(CsvRows::new(sink)?)),
                        Format::Table => Rows::Table(TableRows::new(sink)?),
                        Format::Json => Rows::Json(JsonRows::new(sink, &source)?),
                    });
                }
                (Msg::Rows(batch), Some(rows)) => {
                    for r in &batch {
                        rows.row(r)?;
                    }
                }
                (Msg::Done(end), Some(_)) => {
                    let rows = rows.take().context("the audit ended twice")?;
                    return rows.finish(&end.0, &end.1);
                }
                _ => anyhow::bail!("the audit's rows came out of order"),
            }
        }
        anyhow::bail!("the audit stopped before its last payee")
    });
    let mut failing = 0usize;
    let mut batch = Vec::with_capacity(BATCH);
    let walked = audit_tins_each(
        store,
        settings,
        year,
        only_reportable,
        |source| {
            tx.send(Msg::Start(source.clone()))
                .map_err(|_| WriterGone.into())
        },
        |r| {
            failing += usize::from(fail_on.iter().any(|s| s.as_str() == r.status));
            batch.push(r);
            if batch.len() >= BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                tx.send(Msg::Rows(full)).map_err(|_| WriterGone)?;
            }
            Ok(())
        },
    )
    .await
    .and_then(|(source, summary)| {
        tx.send(Msg::Rows(std::mem::take(&mut batch)))
            .map_err(|_| WriterGone)?;
        tx.send(Msg::Done(Box::new((source, summary.clone()))))
            .map_err(|_| WriterGone)?;
        Ok(summary)
    });
    drop(tx);
    let written = writer.await.context("the audit's writer stopped")?;
    match (walked, written) {
        (Ok(summary), Ok(sink)) => Ok((sink, Written { summary, failing })),
        (Err(e), Err(w)) if e.is::<WriterGone>() => Err(w),
        (Err(e), _) => Err(e),
        (Ok(_), Err(w)) => Err(w),
    }
}

/// Where the audit's rows go, by format.
enum Rows<W: std::io::Write> {
    Csv(Box<CsvRows<W>>),
    Table(TableRows<W>),
    Json(JsonRows<W>),
}

impl<W: std::io::Write> Rows<W> {
    fn row(&mut self, r: &AuditResult) -> Result<()> {
        match self {
            Rows::Csv(w) => w.row(r),
            Rows::Table(w) => w.row(r),
            Rows::Json(w) => w.row(r),
        }
    }

    fn finish(self, source: &crate::year::SourceInfo, summary: &AuditSummary) -> Result<W> {
        match self {
            Rows::Csv(w) => w.finish(),
            Rows::Table(w) => w.finish(source, summary),
            Rows::Json(w) => w.finish(summary),
        }
    }
}

/// `audit tins --format json`, one row at a time straight to the sink: `{"source", "results":
/// [...], "summary"}`, byte for byte what `serde_json`'s pretty printer makes of the whole
/// [`Audit`] (the summary last, as it is counted on the way).
struct JsonRows<W: std::io::Write> {
    sink: W,
    n: usize,
    buf: Vec<u8>,
}

use crate::json::pretty_at;

impl<W: std::io::Write> JsonRows<W> {
    fn new(mut sink: W, source: &crate::year::SourceInfo) -> Result<Self> {
        let mut buf = Vec::with_capacity(1024);
        sink.write_all(b"{\n  \"source\": ")?;
        pretty_at(&mut sink, &mut buf, source, b"  ")?;
        sink.write_all(b",\n  \"results\": [")?;
        Ok(JsonRows { sink, n: 0, buf })
    }

    /// One element of `"results"`, indented as the pretty printer puts it at depth 2.
    fn row(&mut self, r: &AuditResult) -> Result<()> {
        self.sink
            .write_all(if self.n == 0 { b"\n    " } else { b",\n    " })?;
        pretty_at(&mut self.sink, &mut self.buf, r, b"    ")?;
        self.n += 1;
        Ok(())
    }

    fn finish(mut self, summary: &AuditSummary) -> Result<W> {
        self.sink
            .write_all(if self.n == 0 { b"]" } else { b"\n  ]" })?;
        self.sink.write_all(b",\n  \"summary\": ")?;
        pretty_at(&mut self.sink, &mut self.buf, summary, b"  ")?;
        self.sink.write_all(b"\n}")?;
        Ok(self.sink)
    }
}

/// Columns of `audit tins --format csv` (a public interface: add, never rename).
pub const CSV_COLUMNS: [&str; 18] = [
    "user_token",
    "status",
    "tin_type",
    "tin",
    "tin_source",
    "reportable",
    "form",
    "amount",
    "name",
    "business_name",
    "country",
    "form_on_file",
    "irs_match",
    "reasons",
    "warnings",
    "form_reason",
    "backup_withholding",
    "b_notice_risk",
];

pub fn write_csv<W: std::io::Write>(audit: &Audit, sink: W) -> Result<W> {
    let mut w = CsvRows::new(sink)?;
    for r in &audit.results {
        w.row(r)?;
    }
    w.finish()
}

/// `audit tins --format csv`, one row at a time.
pub struct CsvRows<W: std::io::Write>(csv::Writer<W>);

impl<W: std::io::Write> CsvRows<W> {
    /// Writes the header.
    pub fn new(sink: W) -> Result<Self> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(sink);
        w.write_record(CSV_COLUMNS)?;
        Ok(CsvRows(w))
    }

    pub fn row(&mut self, r: &AuditResult) -> Result<()> {
        use masspay_tax_forms::neutralize;
        let n = |s: &str| neutralize(s).into_owned();
        self.0.write_record([
            n(&r.user_token),
            r.status.clone(),
            r.tin_type.clone(),
            r.tin.clone(),
            r.tin_source.clone(),
            r.reportable.to_string(),
            r.form.clone(),
            r.amount.clone(),
            n(&r.name),
            n(&r.business_name),
            n(&r.country),
            n(&r.form_on_file),
            n(&r.irs_match),
            n(&r.reasons.join("; ")),
            n(&r.warnings.join("; ")),
            r.form_reason.clone(),
            r.backup_withholding.to_string(),
            r.b_notice_risk.to_string(),
        ])?;
        Ok(())
    }

    pub fn finish(self) -> Result<W> {
        self.0
            .into_inner()
            .map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))
    }
}

/// A plain table for people.
pub fn write_table<W: std::io::Write>(audit: &Audit, w: W) -> Result<()> {
    let mut t = TableRows::new(w)?;
    for r in &audit.results {
        t.row(r)?;
    }
    t.finish(&audit.source, &audit.summary)?;
    Ok(())
}

/// The table, one row at a time; the summary at the end.
pub struct TableRows<W: std::io::Write>(W);

impl<W: std::io::Write> TableRows<W> {
    pub fn new(mut w: W) -> Result<Self> {
        writeln!(
            w,
            "{:<44} {:<9} {:<7} {:<12} {:<4} {:>12}  notes",
            "user_token", "status", "type", "tin", "1099", "amount"
        )?;
        Ok(TableRows(w))
    }

    pub fn row(&mut self, r: &AuditResult) -> Result<()> {
        let notes: Vec<&str> = r
            .reasons
            .iter()
            .chain(r.warnings.iter())
            .map(String::as_str)
            .collect();
        writeln!(
            self.0,
            "{:<44} {:<9} {:<7} {:<12} {:<4} {:>12}  {}",
            r.user_token,
            r.status,
            r.tin_type,
            r.tin,
            if r.reportable { "yes" } else { "no" },
            r.amount,
            notes.join(" | ").replace(['\t', '\r', '\n'], " ")
        )?;
        Ok(())
    }

    pub fn finish(mut self, source: &crate::year::SourceInfo, s: &AuditSummary) -> Result<W> {
        let w = &mut self.0;
        if let Some(mark) = source.watermark() {
            writeln!(w, "\n{mark}")?;
        }
        let fmt = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(w)?;
        writeln!(
            w,
            "Tax year {}: {} payees: {}",
            s.tax_year,
            s.payees,
            fmt(&s.by_status)
        )?;
        writeln!(
            w,
            "  reportable (1099-NEC): {}",
            fmt(&s.reportable_by_status)
        )?;
        writeln!(
            w,
            "  not reportable:        {}",
            fmt(&s.not_reportable_by_status)
        )?;
        writeln!(
            w,
            "  {} with warnings; {} need backup withholding until a TIN is furnished; {} at risk of an IRS B notice",
            s.with_warnings, s.backup_withholding, s.b_notice_risk
        )?;
        Ok(self.0)
    }
}

/// Which statuses make `--fail-on` fail.
pub fn parse_fail_on(list: &str) -> Result<Vec<TinStatus>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "valid" => Ok(TinStatus::Valid),
            "invalid" => Ok(TinStatus::Invalid),
            "malformed" => Ok(TinStatus::Malformed),
            "missing" => Ok(TinStatus::Missing),
            other => anyhow::bail!("--fail-on takes valid, invalid, malformed, missing (comma separated), not {other:?}"),
        })
        .collect()
}
