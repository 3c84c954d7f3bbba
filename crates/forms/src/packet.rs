//! The year-end packet: a cover page, an exceptions page, then the worksheet (page headers,
//! "page N of M", totals per page and carried forward, the full totals on the last page). Built
//! as one [`Document`] of the layout model and drawn by [`crate::render`], like the statements.
//!
//! The packet is form-neutral: [`PacketInfo::form`] names the form (`1099-NEC` today, `1042-S`
//! next) and the worksheet takes [`WorksheetRow`]s, which a 1042-S worksheet maps to as well.

use crate::doc::{Align, Canvas, Document, PT, Page, money};
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

/// The exceptions page's sections.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Exceptions {
    /// Reportable payees with a missing, malformed or invalid TIN.
    pub tin: Vec<ExceptionRow>,
    /// ZIP codes repaired from the payout records.
    pub zip_repaired: Vec<ExceptionRow>,
    /// Records that disagree (ambiguous TIN type, W-9 vs. API …).
    pub conflicts: Vec<ExceptionRow>,
    /// Open KYC holds; `None` when the store has no such data (the page says so).
    pub kyc_holds: Option<Vec<ExceptionRow>>,
}

impl Exceptions {
    /// The exceptions the 1099-NEC worksheet rows themselves show (their `tin_status` and flags).
    pub fn from_nec_rows(rows: &[NecRow]) -> Exceptions {
        let mut e = Exceptions::default();
        for r in rows {
            let row = |detail: String| ExceptionRow {
                user_token: r.user_token.clone(),
                name: name_cell(&r.name, &r.business_name),
                detail,
            };
            if matches!(r.tin_status.as_str(), "missing" | "malformed" | "invalid") {
                e.tin.push(row(format!("TIN {}", r.tin_status)));
            }
            let flags: Vec<&str> = r.flags.split(';').map(str::trim).collect();
            if flags.contains(&"zip_repaired") {
                e.zip_repaired
                    .push(row(format!("ZIP now {}", r.zip.trim())));
            }
            if flags.contains(&"ambiguous_tin_type") {
                e.conflicts.push(row(format!(
                    "TIN type ambiguous (reported as {})",
                    r.tin_type
                )));
            }
        }
        e
    }
}

/// One worksheet row as the packet prints it (cells by column key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorksheetRow {
    pub user_token: String,
    pub name: String,
    pub tin_type: String,
    pub tin: String,
    pub tin_status: String,
    pub box1: Decimal,
    pub box4: Decimal,
    pub address: String,
    pub flags: String,
    pub email: String,
    pub name_control: String,
}

impl WorksheetRow {
    pub fn from_nec(r: &NecRow) -> WorksheetRow {
        WorksheetRow {
            user_token: r.user_token.clone(),
            name: name_cell(&r.name, &r.business_name),
            tin_type: r.tin_type.clone(),
            tin: r.tin.clone(),
            tin_status: r.tin_status.clone(),
            box1: masspay_tax_rules::round_cents(r.box1),
            box4: masspay_tax_rules::round_cents(r.box4),
            address: address_cell(r),
            flags: r
                .flags
                .split(';')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            email: r.email.clone(),
            name_control: r.name_control.clone(),
        }
    }

    fn cell(&self, key: &str) -> String {
        match key {
            "user_token" => self.user_token.clone(),
            "name" => self.name.clone(),
            "tin_type" => self.tin_type.clone(),
            "tin" => self.tin.clone(),
            "tin_status" => self.tin_status.clone(),
            "box1" => money(self.box1),
            "box4" => money(self.box4),
            "address" => self.address.clone(),
            "flags" => self.flags.clone(),
            "email" => self.email.clone(),
            "name_control" => self.name_control.clone(),
            _ => String::new(),
        }
    }
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

fn address_cell(r: &NecRow) -> String {
    let state_zip = [r.state.trim(), r.zip.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [
        r.address1.trim(),
        r.address2.trim(),
        r.city.trim(),
        state_zip.as_str(),
        r.country.trim(),
    ]
    .into_iter()
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
        let label_w = 110 * PT;
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
            None => vec!["not configured ([payer] in masspay-tax.toml)".into()],
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
        let none_kyc = vec![ExceptionRow {
            user_token: String::new(),
            name: l.label("exceptions_kyc_none").to_string(),
            detail: String::new(),
        }];
        let sections: [(&str, &[ExceptionRow]); 4] = [
            ("exceptions_tin", &exceptions.tin),
            ("exceptions_zip", &exceptions.zip_repaired),
            ("exceptions_conflicts", &exceptions.conflicts),
            (
                "exceptions_kyc",
                exceptions.kyc_holds.as_deref().unwrap_or(&none_kyc),
            ),
        ];
        let bottom = l.margin + 8 * PT;
        let cols = [
            (0, 150 * PT),
            (150 * PT, 230 * PT),
            (380 * PT, width - 380 * PT),
        ];
        for (key, list) in sections {
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
                &format!(
                    "{} ({})",
                    l.label(key),
                    if exceptions.kyc_holds.is_none() && key == "exceptions_kyc" {
                        0
                    } else {
                        list.len()
                    }
                ),
            );
            y -= ROW_PITCH + 2 * PT;
            if list.is_empty() {
                c.text(
                    left + 10 * PT,
                    y,
                    body,
                    Style::Regular,
                    Align::Left,
                    l.label("exceptions_none"),
                );
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
    let (mut run1, mut run4) = (Decimal::ZERO, Decimal::ZERO);
    let sums: Vec<usize> = l
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.key == "box1" || c.key == "box4")
        .map(|(i, _)| i)
        .collect();
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
                    "{}: box 1 {} · box 4 {}",
                    l.label("carried"),
                    money(run1),
                    money(run4)
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
        let (mut page1, mut page4) = (Decimal::ZERO, Decimal::ZERO);
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
            page1 += r.box1;
            page4 += r.box4;
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
        run1 += page1;
        run4 += page4;
        let used = chunk.len().max(1) as i64;
        let mut y = first_row - used * ROW_PITCH - 4 * PT;
        c.line(left, y + 9 * PT, right, y + 9 * PT, 400, 0);
        let last = k + 1 == n_chunks;
        let totals_line = |c: &mut Canvas<'_>, y: i64, label: String, b1: Decimal, b4: Decimal| {
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
            for &j in &sums {
                let v = if l.columns[j].key == "box1" { b1 } else { b4 };
                cell(
                    c,
                    l,
                    spans[j],
                    ColumnAlign::Right,
                    y,
                    Style::Bold,
                    &money(v),
                );
            }
        };
        totals_line(&mut c, y, l.label("page_total").to_string(), page1, page4);
        y -= ROW_PITCH;
        if last {
            let n = rows.len();
            totals_line(
                &mut c,
                y,
                format!(
                    "{} · {n} payee{}",
                    l.label("total"),
                    if n == 1 { "" } else { "s" }
                ),
                run1,
                run4,
            );
        } else {
            totals_line(&mut c, y, l.label("carried").to_string(), run1, run4);
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
