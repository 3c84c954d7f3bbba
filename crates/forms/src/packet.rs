//! The year-end packet: a cover page, an exceptions page, then the worksheet (page headers,
//! "page N of M", totals per page and carried forward, the full totals on the last page). Built
//! as one [`Document`] of the layout model and drawn by [`crate::render`], like the statements.
//!
//! The packet is form-neutral: [`PacketInfo::form`] names the form (`1099-NEC` today, `1042-S`
//! next) and the worksheet takes [`WorksheetRow`]s, which a 1042-S worksheet maps to as well.

use crate::doc::{Align, Canvas, Document, PT, Page, money};
use crate::f1042s::F1042sRow;
use crate::fonts::{FontSet, Style};
use crate::nec::NecRow;
use crate::statement::StatementPayer;
use crate::template::{ColumnAlign, Layout};
use rust_decimal::Decimal;
use serde::Serialize;

/// What the cover page says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PacketInfo {
    /// `1099-NEC` or `1042-S`.
    pub form: String,
    pub tax_year: i32,
    /// `None` when `[payer]` is not configured (the cover says so).
    pub payer: Option<StatementPayer>,
    /// One line each: `threshold $600.00 (box 1 >= threshold, on cents)`, `TINs masked`, …
    pub rules: Vec<String>,
    /// `(label, value)`: `reportable payees` → `175`, …
    pub counts: Vec<(String, String)>,
    /// `(label, value)`: `box 1` → `$12,956,097.29`, …
    pub totals: Vec<(String, String)>,
    /// The sync run: `#12, sandbox, finished 2026-01-15T10:00:00Z, body digest sha256:…`.
    pub sync: Vec<String>,
    /// `2026-01-15 10:00 UTC`.
    pub generated: String,
    /// Watermark every page.
    pub sandbox: bool,
}

/// One payee on the exceptions page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionRow {
    pub user_token: String,
    pub name: String,
    /// What is wrong: `tin missing`, `zip 2108 → 02108`, …
    pub detail: String,
}

/// One section of the exceptions page: its heading is the layout's label `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionSection {
    /// The label key of the heading (`exceptions_tin`, …).
    pub key: String,
    pub rows: Vec<ExceptionRow>,
    /// The store holds no data of this kind (e.g. no KYC holds were ever recorded): the section
    /// prints the label `<key>_none` instead of rows.
    pub no_data: bool,
}

impl ExceptionSection {
    pub fn new(key: &str, rows: Vec<ExceptionRow>) -> ExceptionSection {
        ExceptionSection {
            key: key.into(),
            rows,
            no_data: false,
        }
    }

    /// Open KYC holds: `None` when the store has no hold data at all.
    pub fn kyc(holds: Option<Vec<ExceptionRow>>) -> ExceptionSection {
        ExceptionSection {
            key: "exceptions_kyc".into(),
            no_data: holds.is_none(),
            rows: holds.unwrap_or_default(),
        }
    }
}

/// The exceptions page: sections in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Exceptions {
    pub sections: Vec<ExceptionSection>,
}

impl Exceptions {
    /// The exceptions the 1099-NEC worksheet rows themselves show (their `tin_status` and
    /// flags), then open KYC holds (`None`: no hold data in the store).
    pub fn from_nec_rows(rows: &[NecRow], kyc_holds: Option<Vec<ExceptionRow>>) -> Exceptions {
        let mut found: [Vec<ExceptionRow>; 3] = Default::default();
        for r in rows {
            for (list, e) in found.iter_mut().zip(nec_exceptions(r)) {
                list.extend(e);
            }
        }
        let [tin, zip, conflicts] = found;
        Exceptions {
            sections: vec![
                ExceptionSection::new(NEC_SECTIONS[0], tin),
                ExceptionSection::new(NEC_SECTIONS[1], zip),
                ExceptionSection::new(NEC_SECTIONS[2], conflicts),
                ExceptionSection::kyc(kyc_holds),
            ],
        }
    }

    /// The 1042-S exceptions: rows with issues (missing foreign TIN or date of birth, a treaty
    /// claim not applied, …), then the payees the caller lists as conflicts or needing a
    /// decision, then open KYC holds.
    pub fn from_1042s_rows(
        rows: &[F1042sRow],
        conflicts: Vec<ExceptionRow>,
        undecided: Vec<ExceptionRow>,
        kyc_holds: Option<Vec<ExceptionRow>>,
    ) -> Exceptions {
        let mut issues: Vec<ExceptionRow> = Vec::new();
        let mut last = None;
        for r in rows {
            issues.extend(merge_issue(&mut last, r));
        }
        issues.extend(last);
        Exceptions {
            sections: vec![
                ExceptionSection::new("exceptions_issues", issues),
                ExceptionSection::new("exceptions_conflicts", conflicts),
                ExceptionSection::new("exceptions_undecided", undecided),
                ExceptionSection::kyc(kyc_holds),
            ],
        }
    }
}

/// One worksheet row as the packet prints it: text cells and amounts by column key (the keys
/// of [`Kind::worksheet_columns`](crate::template::Kind::worksheet_columns)). Amounts are
/// summed per page, carried forward and totalled in full on the last page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorksheetRow {
    pub text: Vec<(&'static str, String)>,
    pub amounts: Vec<(&'static str, Decimal)>,
}

impl WorksheetRow {
    pub fn from_nec(r: &NecRow) -> WorksheetRow {
        WorksheetRow {
            text: vec![
                ("user_token", r.user_token.clone()),
                ("name", name_cell(&r.name, &r.business_name)),
                ("tin_type", r.tin_type.clone()),
                ("tin", r.tin.clone()),
                ("tin_status", r.tin_status.clone()),
                (
                    "address",
                    address_cell(&[
                        &r.address1,
                        &r.address2,
                        &r.city,
                        &state_zip(&r.state, &r.zip),
                        &r.country,
                    ]),
                ),
                ("flags", flags_cell(&r.flags)),
                ("email", r.email.clone()),
                ("name_control", r.name_control.clone()),
            ],
            amounts: vec![
                ("box1", masspay_tax_rules::round_cents(r.box1)),
                ("box4", masspay_tax_rules::round_cents(r.box4)),
            ],
        }
    }

    /// One 1042-S form (worksheet row).
    pub fn from_1042s(r: &F1042sRow) -> WorksheetRow {
        WorksheetRow {
            text: vec![
                ("user_token", r.user_token.clone()),
                ("name", name_cell(&r.name, &r.business_name)),
                ("country", r.country.clone()),
                (
                    "address",
                    address_cell(&[&r.address1, &r.city, &state_zip(&r.state, &r.zip)]),
                ),
                ("income_code", r.income_code.clone()),
                (
                    "us_source_percent",
                    crate::f1042s::format_rate(r.us_source_percent),
                ),
                ("ch3_status", r.ch3_status.clone()),
                ("ch3_exemption", r.ch3_exemption.clone()),
                ("ch4_status", r.ch4_status.clone()),
                ("ch4_exemption", r.ch4_exemption.clone()),
                ("rate", crate::f1042s::format_rate(r.rate)),
                ("foreign_tin", r.foreign_tin.clone()),
                ("us_tin", r.us_tin.clone()),
                ("lob_code", r.lob_code.clone()),
                ("form_on_file", r.form_on_file.clone()),
                ("issues", flags_cell(&r.issues)),
            ],
            amounts: vec![
                (
                    "gross_income",
                    masspay_tax_rules::round_cents(r.gross_income),
                ),
                (
                    "tax_withheld",
                    masspay_tax_rules::round_cents(r.tax_withheld),
                ),
                ("tax_due", masspay_tax_rules::round_cents(r.tax_due)),
                (
                    "under_withheld",
                    masspay_tax_rules::round_cents(r.under_withheld),
                ),
            ],
        }
    }

    pub fn amount(&self, key: &str) -> Decimal {
        self.amounts
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(Decimal::ZERO, |(_, v)| *v)
    }

    fn cell(&self, key: &str) -> String {
        if let Some((_, v)) = self.amounts.iter().find(|(k, _)| *k == key) {
            return money(*v);
        }
        self.text
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// `a;b` → `a, b`.
fn flags_cell(flags: &str) -> String {
    flags
        .split(';')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn state_zip(state: &str, zip: &str) -> String {
    [state.trim(), zip.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn name_cell(name: &str, business: &str) -> String {
    let (name, business) = (name.trim(), business.trim());
    if business.is_empty() || business == name {
        name.to_string()
    } else if name.is_empty() {
        business.to_string()
    } else {
        format!("{name} / {business}")
    }
}

fn address_cell(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

fn fill(template: &str, form: &str, year: i32) -> String {
    template
        .replace("{form}", form)
        .replace("{year}", &year.to_string())
}

const ROW_PITCH: i64 = 12 * PT;

/// The labels the packet code prints (every packet template has them).
pub const LABELS: [&str; 22] = [
    "cover_title",
    "cover_payer",
    "cover_payer_tin",
    "cover_rules",
    "cover_counts",
    "cover_totals",
    "cover_sync",
    "cover_generated",
    "cover_contents",
    "cover_no_payer",
    "exceptions_title",
    "exceptions_intro",
    "exceptions_conflicts",
    "exceptions_kyc",
    "exceptions_kyc_none",
    "exceptions_none",
    "worksheet_title",
    "carried",
    "page_total",
    "total",
    "page_of",
    "empty",
];

/// One worksheet row as the packet prints it: a cell per layout column, then the amounts of the
/// columns that are totalled. What [`PacketRows`] sets aside, so a packet holds one page of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedRow {
    cells: Vec<String>,
    sums: Vec<Decimal>,
}

/// The indexes of the layout's totalled columns.
fn sum_columns(l: &Layout) -> Vec<usize> {
    l.columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.total)
        .map(|(i, _)| i)
        .collect()
}

impl PrintedRow {
    pub fn new(r: &WorksheetRow, l: &Layout) -> PrintedRow {
        PrintedRow {
            cells: l.columns.iter().map(|c| r.cell(&c.key)).collect(),
            sums: sum_columns(l)
                .into_iter()
                .map(|j| r.amount(&l.columns[j].key))
                .collect(),
        }
    }

    fn fields(&self) -> Vec<String> {
        let mut v = self.cells.clone();
        v.extend(self.sums.iter().map(Decimal::to_string));
        v
    }

    fn from_fields(mut fields: Vec<String>, l: &Layout) -> std::io::Result<PrintedRow> {
        let n = l.columns.len();
        let bad = || std::io::Error::other("a set-aside worksheet row does not fit the layout");
        if fields.len() != n + sum_columns(l).len() {
            return Err(bad());
        }
        let sums = fields
            .split_off(n)
            .iter()
            .map(|s| s.parse::<Decimal>().map_err(|_| bad()))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(PrintedRow {
            cells: fields,
            sums,
        })
    }
}

/// The exceptions one 1099-NEC worksheet row shows, by section: TIN, ZIP, TIN type conflicts.
fn nec_exceptions(r: &NecRow) -> [Option<ExceptionRow>; 3] {
    let row = |detail: String| ExceptionRow {
        user_token: r.user_token.clone(),
        name: name_cell(&r.name, &r.business_name),
        detail,
    };
    let flags: Vec<&str> = r.flags.split(';').map(str::trim).collect();
    [
        matches!(r.tin_status.as_str(), "missing" | "malformed" | "invalid")
            .then(|| row(format!("TIN {}", r.tin_status))),
        flags
            .contains(&"zip_repaired")
            .then(|| row(format!("ZIP now {}", r.zip.trim()))),
        flags
            .contains(&"ambiguous_tin_type")
            .then(|| row(format!("TIN type ambiguous (reported as {})", r.tin_type))),
    ]
}

const NEC_SECTIONS: [&str; 3] = ["exceptions_tin", "exceptions_zip", "exceptions_conflicts"];

/// Adds a 1042-S row's issues to the payee line being built (`last`): one line per payee, as a
/// payee's forms share most issues. Returns the line of the previous payee once it is complete.
fn merge_issue(last: &mut Option<ExceptionRow>, r: &F1042sRow) -> Option<ExceptionRow> {
    let issues = r.issues.trim();
    if issues.is_empty() {
        return None;
    }
    let detail = format!("code {}: {issues}", r.income_code);
    match last {
        Some(l) if l.user_token == r.user_token => {
            if !l.detail.ends_with(issues) {
                l.detail.push_str(" | ");
                l.detail.push_str(&detail);
            }
            None
        }
        _ => last.replace(ExceptionRow {
            user_token: r.user_token.clone(),
            name: name_cell(&r.name, &r.business_name),
            detail,
        }),
    }
}

/// A packet's worksheet rows and row exceptions, set aside on disk (sealed, [`crate::spill`])
/// while the year is walked, so `--pdf` holds one page of rows at a time whatever the count.
pub struct PacketRows {
    layout: Layout,
    rows: crate::spill::Spill,
    sections: Vec<(&'static str, crate::spill::Spill)>,
    pending: Option<ExceptionRow>,
}

fn exception_fields(e: &ExceptionRow) -> [&str; 3] {
    [&e.user_token, &e.name, &e.detail]
}

impl PacketRows {
    fn with_sections(l: &Layout, keys: &[&'static str]) -> std::io::Result<PacketRows> {
        Ok(PacketRows {
            layout: l.clone(),
            rows: crate::spill::Spill::new()?,
            sections: keys
                .iter()
                .map(|k| Ok((*k, crate::spill::Spill::new()?)))
                .collect::<std::io::Result<_>>()?,
            pending: None,
        })
    }

    /// For the 1099-NEC packet (layout `packet.toml`).
    pub fn nec(l: &Layout) -> std::io::Result<PacketRows> {
        PacketRows::with_sections(l, &NEC_SECTIONS)
    }

    /// For the 1042-S packet (layout `packet-1042-s.toml`).
    pub fn f1042s(l: &Layout) -> std::io::Result<PacketRows> {
        PacketRows::with_sections(l, &["exceptions_issues"])
    }

    /// Worksheet rows set aside so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn push_nec(&mut self, r: &NecRow) -> std::io::Result<()> {
        let printed = PrintedRow::new(&WorksheetRow::from_nec(r), &self.layout);
        self.rows.push(&printed.fields())?;
        for ((_, spill), e) in self.sections.iter_mut().zip(nec_exceptions(r)) {
            if let Some(e) = e {
                spill.push(&exception_fields(&e))?;
            }
        }
        Ok(())
    }

    pub fn push_1042s(&mut self, r: &F1042sRow) -> std::io::Result<()> {
        let printed = PrintedRow::new(&WorksheetRow::from_1042s(r), &self.layout);
        self.rows.push(&printed.fields())?;
        if let Some(done) = merge_issue(&mut self.pending, r)
            && let Some((_, spill)) = self.sections.first_mut()
        {
            spill.push(&exception_fields(&done))?;
        }
        Ok(())
    }

    /// Draws the packet with the sections set aside first, then `more` (conflicts, KYC holds,
    /// …), and writes it to `path` atomically, one chunk of pages at a time. The bool says
    /// whether a character could not be shown. When `stop` turns true (Ctrl-C), the writing
    /// ends with an [`std::io::ErrorKind::Interrupted`] error and nothing appears at `path`.
    pub fn write(
        mut self,
        path: &std::path::Path,
        info: &PacketInfo,
        more: Vec<ExceptionSection>,
        fonts: &FontSet,
        stop: &std::sync::atomic::AtomicBool,
    ) -> std::io::Result<(std::path::PathBuf, bool)> {
        if let Some(done) = self.pending.take()
            && let Some((_, spill)) = self.sections.first_mut()
        {
            spill.push(&exception_fields(&done))?;
        }
        let l = self.layout;
        let mut sections: Vec<SectionSource<'_>> = Vec::new();
        for (key, spill) in self.sections {
            let r = spill.into_reader()?;
            sections.push(SectionSource {
                key: key.to_string(),
                no_data: false,
                len: r.len(),
                rows: Box::new(r.map(|f| {
                    let mut f = f?.into_iter();
                    let mut next = || f.next().unwrap_or_default();
                    Ok(ExceptionRow {
                        user_token: next(),
                        name: next(),
                        detail: next(),
                    })
                })),
            });
        }
        for s in more {
            sections.push(SectionSource {
                key: s.key,
                no_data: s.no_data,
                len: s.rows.len(),
                rows: Box::new(s.rows.into_iter().map(Ok)),
            });
        }
        let rows = self.rows.into_reader()?;
        let worksheet = WorksheetSource {
            len: rows.len(),
            rows: Box::new(rows.map(|f| PrintedRow::from_fields(f?, &l))),
        };
        let title = fill(l.label("cover_title"), &info.form, info.tax_year);
        let out = crate::combined::CombinedPdf::create(path, &title)?;
        // This thread draws; chunks of pages are rendered on every core and appended in order
        // by one more thread.
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        type Rendered = std::io::Result<(lopdf::Document, String)>;
        let (missing, out, sent, appended) = std::thread::scope(|scope| {
            let (job_tx, job_rx) = std::sync::mpsc::sync_channel::<(usize, Vec<Page>)>(1);
            let job_rx = std::sync::Arc::new(std::sync::Mutex::new(job_rx));
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<(usize, Rendered)>(1);
            for _ in 0..workers {
                let (job_rx, done_tx, title) = (job_rx.clone(), done_tx.clone(), title.clone());
                scope.spawn(move || {
                    loop {
                        let job = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok((i, pages)) = job else { return };
                        let doc = Document {
                            title: title.clone(),
                            pages,
                        };
                        let r = crate::render::render_document(&doc, fonts)
                            .map(|pdf| (pdf, crate::render::document_id(&doc)))
                            .map_err(std::io::Error::other);
                        if done_tx.send((i, r)).is_err() {
                            return;
                        }
                    }
                });
            }
            drop((job_rx, done_tx));
            let appender = scope.spawn(move || {
                let mut out = out;
                let mut waiting = std::collections::BTreeMap::new();
                let mut next = 0;
                for (i, r) in done_rx {
                    waiting.insert(i, r?);
                    while let Some((pdf, id)) = waiting.remove(&next) {
                        out.append(pdf, &id)?;
                        next += 1;
                    }
                }
                std::io::Result::Ok((out, next))
            });
            let mut chunk: Vec<Page> = Vec::with_capacity(PACKET_CHUNK);
            let mut sent = 0;
            let stopped = || std::io::Error::other("the packet's renderers stopped");
            let drawn = draw_packet(info, sections, worksheet, &l, fonts, &mut |page| {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::Interrupted,
                        "stopped before the packet was complete",
                    ));
                }
                chunk.push(page);
                if chunk.len() >= PACKET_CHUNK {
                    let pages = std::mem::take(&mut chunk);
                    job_tx.send((sent, pages)).map_err(|_| stopped())?;
                    sent += 1;
                }
                Ok(())
            })
            .and_then(|missing| {
                if !chunk.is_empty() {
                    let pages = std::mem::take(&mut chunk);
                    job_tx.send((sent, pages)).map_err(|_| stopped())?;
                    sent += 1;
                }
                Ok(missing)
            });
            // The renderers end when the jobs do, then the appender.
            drop(job_tx);
            let appended = appender
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the packet's writer stopped")));
            // The appender's error (the disk, a render) explains "renderers stopped".
            match (drawn, appended) {
                (_, Err(e)) | (Err(e), Ok(_)) => Err(e),
                (Ok(missing), Ok((out, n))) => Ok((missing, out, sent, n)),
            }
        })?;
        if appended != sent {
            return Err(std::io::Error::other(
                "not every chunk of the packet's pages was written",
            ));
        }
        Ok((out.finish()?, missing))
    }
}

/// Pages rendered and appended to the file at a time by [`PacketRows::write`].
const PACKET_CHUNK: usize = 100;

/// One exceptions section as the drawing reads it.
struct SectionSource<'s> {
    key: String,
    no_data: bool,
    len: usize,
    rows: Box<dyn Iterator<Item = std::io::Result<ExceptionRow>> + 's>,
}

/// The worksheet rows as the drawing reads them.
struct WorksheetSource<'s> {
    len: usize,
    rows: Box<dyn Iterator<Item = std::io::Result<PrintedRow>> + 's>,
}

/// Where the exceptions pages put things; one flow both counts the pages (for "page N of M")
/// and draws them.
enum Step {
    /// The current page is full: start the next.
    Break,
    Heading(usize, i64),
    Nothing(usize, i64),
    Row(usize, i64),
}

fn exception_steps(
    lens: &[usize],
    l: &Layout,
    mut f: impl FnMut(Step) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let top = l.height - l.margin;
    let bottom = l.margin + 8 * PT;
    let mut y = top - l.sizes.title - 16 * PT - 18 * PT;
    let next_page_y = top - l.sizes.title - 20 * PT;
    for (s, &len) in lens.iter().enumerate() {
        if y - 3 * ROW_PITCH < bottom {
            f(Step::Break)?;
            y = next_page_y;
        }
        f(Step::Heading(s, y))?;
        y -= ROW_PITCH + 2 * PT;
        if len == 0 {
            f(Step::Nothing(s, y))?;
            y -= ROW_PITCH;
        }
        for _ in 0..len {
            if y < bottom {
                f(Step::Break)?;
                y = next_page_y;
            }
            f(Step::Row(s, y))?;
            y -= ROW_PITCH;
        }
        y -= 8 * PT;
    }
    Ok(())
}

/// Worksheet rows on one page: room for the rows, the page total, the carried line, the footer.
fn rows_per_page(l: &Layout) -> usize {
    let top = l.height - l.margin;
    let header_y = top - l.sizes.title - 22 * PT;
    let first_row = header_y - 14 * PT;
    (((first_row - (l.margin + 3 * ROW_PITCH + 8 * PT)) / ROW_PITCH).max(1)) as usize
}

/// The whole packet as the layout model. The bool says whether a character could not be shown.
/// For a large year, [`PacketRows`] draws the same pages from rows set aside on disk.
pub fn packet_document(
    info: &PacketInfo,
    exceptions: &Exceptions,
    rows: &[WorksheetRow],
    l: &Layout,
    fonts: &FontSet,
) -> (Document, bool) {
    let sections = exceptions
        .sections
        .iter()
        .map(|s| SectionSource {
            key: s.key.clone(),
            no_data: s.no_data,
            len: s.rows.len(),
            rows: Box::new(s.rows.iter().cloned().map(Ok)),
        })
        .collect();
    let worksheet = WorksheetSource {
        len: rows.len(),
        rows: Box::new(rows.iter().map(|r| Ok(PrintedRow::new(r, l)))),
    };
    let mut pages = Vec::new();
    // In-memory rows and a Vec never fail.
    let missing = draw_packet(info, sections, worksheet, l, fonts, &mut |p| {
        pages.push(p);
        Ok(())
    })
    .unwrap_or(true);
    (
        Document {
            title: fill(l.label("cover_title"), &info.form, info.tax_year),
            pages,
        },
        missing,
    )
}

/// Draws the packet page by page into `emit`, each page complete with its footer ("page N of
/// M" is known before the first: the cover, the exceptions' flow, the worksheet's row count).
fn draw_packet(
    info: &PacketInfo,
    mut sections: Vec<SectionSource<'_>>,
    mut worksheet: WorksheetSource<'_>,
    l: &Layout,
    fonts: &FontSet,
    emit: &mut dyn FnMut(Page) -> std::io::Result<()>,
) -> std::io::Result<bool> {
    let mut missing = false;
    let left = l.margin;
    let right = l.width - l.margin;
    let width = right - left;
    let top = l.height - l.margin;
    let footer_y = l.margin - 8 * PT;
    let body = l.sizes.body;

    let lens: Vec<usize> = sections.iter().map(|s| s.len).collect();
    let mut exception_pages = 1;
    exception_steps(&lens, l, |s| {
        exception_pages += usize::from(matches!(s, Step::Break));
        Ok(())
    })?;
    let per_page = rows_per_page(l);
    let worksheet_pages = worksheet.len.div_ceil(per_page).max(1);
    let m = 1 + exception_pages + worksheet_pages;
    let mut n = 0;
    // Footer and watermark, then out.
    let mut finish = |c: Canvas<'_>, missing: &mut bool| -> std::io::Result<()> {
        let page = c.finish();
        let mut c = Canvas::new(fonts, l.width, l.height);
        c.page = page;
        n += 1;
        c.line(left, l.margin, right, l.margin, 300, 600);
        c.fit(
            left,
            footer_y,
            width * 2 / 3,
            l.sizes.small,
            l.sizes.min,
            Style::Regular,
            Align::Left,
            &format!(
                "{} {} · generated {}",
                info.form, info.tax_year, info.generated
            ),
        );
        c.text(
            right,
            footer_y,
            l.sizes.small,
            Style::Regular,
            Align::Right,
            &l.label("page_of")
                .replace("{n}", &n.to_string())
                .replace("{m}", &m.to_string()),
        );
        if info.sandbox {
            c.watermark(l.label("sandbox"), l.sizes.watermark);
        }
        *missing |= c.missing_glyphs;
        emit(c.finish())
    };

    // Cover.
    {
        let mut c = Canvas::new(fonts, l.width, l.height);
        let mut y = top - l.sizes.title;
        c.fit(
            left,
            y,
            width,
            l.sizes.title + 4 * PT,
            l.sizes.min,
            Style::Bold,
            Align::Left,
            &fill(l.label("cover_title"), &info.form, info.tax_year),
        );
        y -= 28 * PT;
        // The values start clear of the widest section label (at least 110 pt in).
        let label_w = [
            "cover_payer",
            "cover_payer_tin",
            "cover_rules",
            "cover_counts",
            "cover_totals",
            "cover_sync",
            "cover_generated",
        ]
        .iter()
        .map(|k| fonts.width(l.label(k), Style::Bold, l.sizes.heading) + 12 * PT)
        .max()
        .unwrap_or(0)
        .max(110 * PT);
        let section = |c: &mut Canvas<'_>, y: &mut i64, label: &str, lines: &[String]| {
            c.text(left, *y, l.sizes.heading, Style::Bold, Align::Left, label);
            for line in lines {
                c.fit(
                    left + label_w,
                    *y,
                    width - label_w,
                    l.sizes.heading,
                    l.sizes.min,
                    Style::Regular,
                    Align::Left,
                    line,
                );
                *y -= l.sizes.heading * 3 / 2;
            }
            if lines.is_empty() {
                *y -= l.sizes.heading * 3 / 2;
            }
            *y -= 6 * PT;
        };
        let payer_lines = match &info.payer {
            Some(p) => {
                let mut v = vec![p.name.clone()];
                v.extend(p.name_line2.clone());
                v.extend(p.address_lines.iter().cloned());
                v.push(p.phone.clone());
                v
            }
            None => vec![l.label("cover_no_payer").to_string()],
        };
        section(&mut c, &mut y, l.label("cover_payer"), &payer_lines);
        if let Some(p) = &info.payer {
            section(
                &mut c,
                &mut y,
                l.label("cover_payer_tin"),
                std::slice::from_ref(&p.tin),
            );
        }
        section(&mut c, &mut y, l.label("cover_rules"), &info.rules);
        let pairs = |v: &[(String, String)]| -> Vec<String> {
            v.iter().map(|(k, v)| format!("{k}: {v}")).collect()
        };
        section(
            &mut c,
            &mut y,
            l.label("cover_counts"),
            &pairs(&info.counts),
        );
        section(
            &mut c,
            &mut y,
            l.label("cover_totals"),
            &pairs(&info.totals),
        );
        section(&mut c, &mut y, l.label("cover_sync"), &info.sync);
        section(
            &mut c,
            &mut y,
            l.label("cover_generated"),
            std::slice::from_ref(&info.generated),
        );
        c.wrap(
            left,
            y,
            width,
            3 * body * 6 / 5,
            body,
            l.sizes.min,
            Style::Regular,
            l.label("cover_contents"),
        );
        missing |= c.missing_glyphs;
        finish(c, &mut missing)?;
    }

    // Exceptions: sections of rows, flowing onto more pages when long.
    {
        let title = fill(l.label("exceptions_title"), &info.form, info.tax_year);
        let new_page = |pages_done: usize| {
            let mut c = Canvas::new(fonts, l.width, l.height);
            let t = if pages_done == 0 {
                title.clone()
            } else {
                format!("{title} (continued)")
            };
            c.text(
                left,
                top - l.sizes.title,
                l.sizes.title,
                Style::Bold,
                Align::Left,
                &t,
            );
            c
        };
        let mut done = 0;
        let mut c = Some(new_page(done));
        let y = top - l.sizes.title - 16 * PT;
        if let Some(c) = c.as_mut() {
            c.text(
                left,
                y,
                body,
                Style::Regular,
                Align::Left,
                l.label("exceptions_intro"),
            );
        }
        let cols = [
            (0, 150 * PT),
            (150 * PT, 230 * PT),
            (380 * PT, width - 380 * PT),
        ];
        exception_steps(&lens, l, |step| {
            let canvas = c.as_mut().ok_or_else(|| std::io::Error::other("no page"))?;
            match step {
                Step::Break => {
                    missing |= canvas.missing_glyphs;
                    let full = c.take().ok_or_else(|| std::io::Error::other("no page"))?;
                    finish(full, &mut missing)?;
                    done += 1;
                    c = Some(new_page(done));
                }
                Step::Heading(s, y) => {
                    let sec = &sections[s];
                    canvas.text(
                        left,
                        y,
                        l.sizes.heading,
                        Style::Bold,
                        Align::Left,
                        &format!("{} ({})", l.label(&sec.key), sec.len),
                    );
                }
                Step::Nothing(s, y) => {
                    let sec = &sections[s];
                    let none = format!("{}_none", sec.key);
                    let none = if sec.no_data && !l.label(&none).is_empty() {
                        l.label(&none)
                    } else {
                        l.label("exceptions_none")
                    };
                    canvas.text(left + 10 * PT, y, body, Style::Regular, Align::Left, none);
                }
                Step::Row(s, y) => {
                    let row = sections[s].rows.next().unwrap_or_else(|| {
                        Err(std::io::Error::other("fewer exception rows than counted"))
                    })?;
                    for ((x, w), text) in cols.iter().zip([&row.user_token, &row.name, &row.detail])
                    {
                        canvas.fit(
                            left + 10 * PT + x,
                            y,
                            w - 8 * PT,
                            body,
                            l.sizes.min,
                            Style::Regular,
                            Align::Left,
                            text,
                        );
                    }
                }
            }
            Ok(())
        })?;
        let last = c.ok_or_else(|| std::io::Error::other("no page"))?;
        missing |= last.missing_glyphs;
        finish(last, &mut missing)?;
    }

    // Worksheet.
    let spans = column_spans(l);
    let header_y = top - l.sizes.title - 22 * PT;
    let first_row = header_y - 14 * PT;
    let title = fill(l.label("worksheet_title"), &info.form, info.tax_year);
    // The amount columns: summed per page, carried forward, totalled on the last page.
    let sums = sum_columns(l);
    let mut running = vec![Decimal::ZERO; sums.len()];
    let total_rows = worksheet.len;
    let mut chunk: Vec<PrintedRow> = Vec::with_capacity(per_page);
    for k in 0..worksheet_pages {
        chunk.clear();
        let take = per_page.min(total_rows - k * per_page);
        for _ in 0..take {
            chunk.push(worksheet.rows.next().unwrap_or_else(|| {
                Err(std::io::Error::other("fewer worksheet rows than counted"))
            })?);
        }
        let mut c = Canvas::new(fonts, l.width, l.height);
        c.fit(
            left,
            top - l.sizes.title,
            width * 2 / 3,
            l.sizes.title,
            l.sizes.min,
            Style::Bold,
            Align::Left,
            &title,
        );
        if k > 0 {
            c.fit(
                left + width * 2 / 3,
                top - l.sizes.title,
                width / 3,
                body,
                l.sizes.min,
                Style::Regular,
                Align::Right,
                &format!(
                    "{}: {}",
                    l.label("carried"),
                    sums.iter()
                        .zip(&running)
                        .map(|(&j, v)| format!("{} {}", l.columns[j].label, money(*v)))
                        .collect::<Vec<_>>()
                        .join(" · ")
                ),
            );
        }
        for (i, col) in l.columns.iter().enumerate() {
            cell(
                &mut c,
                l,
                spans[i],
                col.align,
                header_y,
                Style::Bold,
                &col.label,
            );
        }
        c.line(left, header_y - 4 * PT, right, header_y - 4 * PT, 600, 0);
        let mut page = vec![Decimal::ZERO; sums.len()];
        for (i, r) in chunk.iter().enumerate() {
            let y = first_row - i as i64 * ROW_PITCH;
            if i % 2 == 1 {
                c.rect(
                    left - 2 * PT,
                    y - 3500,
                    width + 4 * PT,
                    ROW_PITCH,
                    Some(935),
                    None,
                );
            }
            for (j, col) in l.columns.iter().enumerate() {
                cell(
                    &mut c,
                    l,
                    spans[j],
                    col.align,
                    y,
                    Style::Regular,
                    &r.cells[j],
                );
            }
            for (t, v) in page.iter_mut().zip(&r.sums) {
                *t += *v;
            }
        }
        if total_rows == 0 {
            c.text(
                left,
                first_row,
                body,
                Style::Regular,
                Align::Left,
                l.label("empty"),
            );
        }
        for (t, p) in running.iter_mut().zip(&page) {
            *t += *p;
        }
        let used = chunk.len().max(1) as i64;
        let mut y = first_row - used * ROW_PITCH - 4 * PT;
        c.line(left, y + 9 * PT, right, y + 9 * PT, 400, 0);
        let last = k + 1 == worksheet_pages;
        let totals_line = |c: &mut Canvas<'_>, y: i64, label: String, values: &[Decimal]| {
            c.fit(
                left,
                y,
                spans.first().map_or(width / 3, |s| s.1 * 3),
                body,
                l.sizes.min,
                Style::Bold,
                Align::Left,
                &label,
            );
            for (&j, v) in sums.iter().zip(values) {
                cell(
                    c,
                    l,
                    spans[j],
                    ColumnAlign::Right,
                    y,
                    Style::Bold,
                    &money(*v),
                );
            }
        };
        totals_line(&mut c, y, l.label("page_total").to_string(), &page);
        y -= ROW_PITCH;
        if last {
            let n = total_rows;
            totals_line(
                &mut c,
                y,
                l.label("total")
                    .replace("{n}", &n.to_string())
                    .replace("{s}", if n == 1 { "" } else { "s" }),
                &running,
            );
        } else {
            totals_line(&mut c, y, l.label("carried").to_string(), &running);
        }
        missing |= c.missing_glyphs;
        finish(c, &mut missing)?;
    }
    Ok(missing)
}

/// `(x, width)` of each column; the width-0 column takes what the others leave.
fn column_spans(l: &Layout) -> Vec<(i64, i64)> {
    let gap = 6 * PT;
    let left = l.margin;
    let width = l.width - 2 * l.margin;
    let fixed: i64 = l.columns.iter().map(|c| c.width).sum();
    let gaps = gap * (l.columns.len() as i64 - 1).max(0);
    let flexible = l.columns.iter().filter(|c| c.width == 0).count() as i64;
    let rest = if flexible > 0 {
        ((width - fixed - gaps) / flexible).max(20 * PT)
    } else {
        0
    };
    let mut x = left;
    l.columns
        .iter()
        .map(|c| {
            let w = if c.width == 0 { rest } else { c.width };
            let span = (x, w);
            x += w + gap;
            span
        })
        .collect()
}

fn cell(
    c: &mut Canvas<'_>,
    l: &Layout,
    span: (i64, i64),
    align: ColumnAlign,
    y: i64,
    style: Style,
    text: &str,
) {
    let align = match align {
        ColumnAlign::Left => Align::Left,
        ColumnAlign::Right => Align::Right,
    };
    // Right-aligned text stops short of the column edge, clear of a left-aligned neighbour.
    let w = if align == Align::Right {
        span.1 - 5 * PT
    } else {
        span.1
    };
    c.fit(span.0, y, w, l.sizes.body, l.sizes.min, style, align, text);
}

/// Renders the packet and writes it to `path` atomically.
pub fn write_packet(
    path: &std::path::Path,
    doc: &Document,
    fonts: &FontSet,
) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    let bytes = crate::render::render(doc, fonts).map_err(std::io::Error::other)?;
    let mut f = crate::atomic::AtomicFile::create(path)?;
    f.write_all(&bytes)?;
    f.commit()
}
