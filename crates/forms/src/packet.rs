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
        let (mut tin, mut zip, mut conflicts) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            let row = |detail: String| ExceptionRow {
                user_token: r.user_token.clone(),
                name: name_cell(&r.name, &r.business_name),
                detail,
            };
            if matches!(r.tin_status.as_str(), "missing" | "malformed" | "invalid") {
                tin.push(row(format!("TIN {}", r.tin_status)));
            }
            let flags: Vec<&str> = r.flags.split(';').map(str::trim).collect();
            if flags.contains(&"zip_repaired") {
                zip.push(row(format!("ZIP now {}", r.zip.trim())));
            }
            if flags.contains(&"ambiguous_tin_type") {
                conflicts.push(row(format!(
                    "TIN type ambiguous (reported as {})",
                    r.tin_type
                )));
            }
        }
        Exceptions {
            sections: vec![
                ExceptionSection::new("exceptions_tin", tin),
                ExceptionSection::new("exceptions_zip", zip),
                ExceptionSection::new("exceptions_conflicts", conflicts),
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
        for r in rows.iter().filter(|r| !r.issues.trim().is_empty()) {
            let detail = format!("code {}: {}", r.income_code, r.issues.trim());
            match issues.last_mut() {
                // One line per payee: a payee's forms share most issues.
                Some(last) if last.user_token == r.user_token => {
                    if !last.detail.ends_with(r.issues.trim()) {
                        last.detail.push_str(" | ");
                        last.detail.push_str(&detail);
                    }
                }
                _ => issues.push(ExceptionRow {
                    user_token: r.user_token.clone(),
                    name: name_cell(&r.name, &r.business_name),
                    detail,
                }),
            }
        }
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

/// The whole packet as the layout model. The bool says whether a character could not be shown.
pub fn packet_document(
    info: &PacketInfo,
    exceptions: &Exceptions,
    rows: &[WorksheetRow],
    l: &Layout,
    fonts: &FontSet,
) -> (Document, bool) {
    let mut pages: Vec<Page> = Vec::new();
    let mut missing = false;
    let left = l.margin;
    let right = l.width - l.margin;
    let width = right - left;
    let top = l.height - l.margin;
    let footer_y = l.margin - 8 * PT;
    let body = l.sizes.body;

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
        pages.push(c.finish());
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
        let mut c = new_page(done);
        let mut y = top - l.sizes.title - 16 * PT;
        c.text(
            left,
            y,
            body,
            Style::Regular,
            Align::Left,
            l.label("exceptions_intro"),
        );
        y -= 18 * PT;
        let bottom = l.margin + 8 * PT;
        let cols = [
            (0, 150 * PT),
            (150 * PT, 230 * PT),
            (380 * PT, width - 380 * PT),
        ];
        for section in &exceptions.sections {
            let key = section.key.as_str();
            let list = &section.rows;
            if y - 3 * ROW_PITCH < bottom {
                missing |= c.missing_glyphs;
                pages.push(c.finish());
                done += 1;
                c = new_page(done);
                y = top - l.sizes.title - 20 * PT;
            }
            c.text(
                left,
                y,
                l.sizes.heading,
                Style::Bold,
                Align::Left,
                &format!("{} ({})", l.label(key), list.len()),
            );
            y -= ROW_PITCH + 2 * PT;
            if list.is_empty() {
                let none = format!("{key}_none");
                let none = if section.no_data && !l.label(&none).is_empty() {
                    l.label(&none)
                } else {
                    l.label("exceptions_none")
                };
                c.text(left + 10 * PT, y, body, Style::Regular, Align::Left, none);
                y -= ROW_PITCH;
            }
            for row in list {
                if y < bottom {
                    missing |= c.missing_glyphs;
                    pages.push(c.finish());
                    done += 1;
                    c = new_page(done);
                    y = top - l.sizes.title - 20 * PT;
                }
                for ((x, w), text) in cols.iter().zip([&row.user_token, &row.name, &row.detail]) {
                    c.fit(
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
                y -= ROW_PITCH;
            }
            y -= 8 * PT;
        }
        missing |= c.missing_glyphs;
        pages.push(c.finish());
    }

    // Worksheet.
    let spans = column_spans(l);
    let header_y = top - l.sizes.title - 22 * PT;
    let first_row = header_y - 14 * PT;
    // Room for the rows, the page total, the carried line and the footer.
    let rows_per_page =
        (((first_row - (l.margin + 3 * ROW_PITCH + 8 * PT)) / ROW_PITCH).max(1)) as usize;
    let chunks: Vec<&[WorksheetRow]> = if rows.is_empty() {
        vec![&[]]
    } else {
        rows.chunks(rows_per_page).collect()
    };
    let title = fill(l.label("worksheet_title"), &info.form, info.tax_year);
    // The amount columns: summed per page, carried forward, totalled on the last page.
    let sums: Vec<usize> = l
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.total)
        .map(|(i, _)| i)
        .collect();
    let mut running = vec![Decimal::ZERO; sums.len()];
    let n_chunks = chunks.len();
    for (k, chunk) in chunks.iter().enumerate() {
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
                    &r.cell(&col.key),
                );
            }
            for (t, &j) in page.iter_mut().zip(&sums) {
                *t += r.amount(&l.columns[j].key);
            }
        }
        if rows.is_empty() {
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
        let last = k + 1 == n_chunks;
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
            let n = rows.len();
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
        pages.push(c.finish());
    }

    // Footers and watermarks on every page, now that the count is known.
    let m = pages.len();
    let mut out = Vec::with_capacity(m);
    for (n, page) in pages.into_iter().enumerate() {
        let mut c = Canvas::new(fonts, l.width, l.height);
        c.page = page;
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
                .replace("{n}", &(n + 1).to_string())
                .replace("{m}", &m.to_string()),
        );
        if info.sandbox {
            c.watermark(l.label("sandbox"), l.sizes.watermark);
        }
        missing |= c.missing_glyphs;
        out.push(c.finish());
    }
    (
        Document {
            title: fill(l.label("cover_title"), &info.form, info.tax_year),
            pages: out,
        },
        missing,
    )
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
