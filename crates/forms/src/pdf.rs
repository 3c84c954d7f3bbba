//! The 1099-NEC worksheet as a PDF: the same rows as [`crate::nec`]'s CSV, laid out as a table
//! on US Letter landscape pages, for people who review or file by hand.
//!
//! * **One layout, two outputs.** [`nec_pdf_text`] returns the text laid out per page, line by
//!   line (the snapshot tests use it); [`nec_pdf`] draws exactly those lines.
//! * **Fonts.** Built-in Helvetica / Helvetica-Bold, not embedded, `/WinAnsiEncoding`. Every cell
//!   goes through [`pdf_text`]: control characters become spaces, Latin letters WinAnsi lacks
//!   (`Ł`, `ż`, `ő`, Vietnamese vowels …) are folded to ASCII, and anything else becomes `?`, so
//!   the measured width, the snapshot text and the bytes in the PDF always agree.
//! * **Determinism.** The same input gives byte-identical output: the document dates stay at
//!   printpdf's fixed default (the Unix epoch; the caller's [`PdfMeta::generated`] text is printed
//!   in the footer instead), and the trailer `/ID`, which printpdf fills from a process-wide
//!   counter, is replaced by a hash of the laid-out text.
//! * **No floats in the layout.** Positions and widths are integer milli-points (1/1000 pt);
//!   amounts stay `Decimal` until formatted. Only `pt()` and `grey()` (and the page size in
//!   `Mm`) make the `f32`s that printpdf's `Pt`, `Mm` and `Rgb` require.
//!
//! Formula neutralisation is a CSV concern: here text is shown as it is.

use crate::atomic::AtomicFile;
use crate::nec::NecRow;
use printpdf::{
    BuiltinFont, Color, Line as PdfLine, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument,
    PdfFontHandle, PdfPage, PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem,
    TextMatrix, WindingOrder,
};
use rust_decimal::Decimal;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Table rows per page. With the title block, header, totals and footer this fills a Letter
/// landscape page at 8 pt.
pub const ROWS_PER_PAGE: usize = 38;

/// What goes at the top and bottom of every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfMeta {
    /// e.g. `1099-NEC worksheet, tax year 2025`. Also the document title.
    pub title: String,
    /// e.g. `threshold $600.00 · 175 payees · box 1 total $12,956,097.29 · TINs masked`.
    pub subtitle: String,
    /// Date text printed in each page footer (`generated …`), supplied by the caller so the
    /// output is deterministic.
    pub generated: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// printpdf reported an error-level problem while building the document.
    #[error("building the PDF failed: {0}")]
    Render(String),
    /// Writing the document to bytes failed.
    #[error("serialising the PDF failed: {0}")]
    Save(String),
}

/// The PDF worksheet's file name for a year: `1099-NEC-2025.pdf`.
pub fn file_name(year: i32) -> String {
    format!("1099-NEC-{year}.pdf")
}

/// Writes `dir/1099-NEC-{year}.pdf` atomically (temporary file + rename) and returns its path.
pub fn write_nec_pdf(
    dir: &Path,
    year: i32,
    rows: &[NecRow],
    meta: &PdfMeta,
) -> std::io::Result<PathBuf> {
    let bytes = nec_pdf(rows, meta).map_err(std::io::Error::other)?;
    let mut file = AtomicFile::create(dir.join(file_name(year)))?;
    file.write_all(&bytes)?;
    file.commit()
}

/// The text of [`nec_pdf`]'s pages, line by line, as drawn (after encoding and truncation).
/// Table cells are joined with ` | `.
pub fn nec_pdf_text(rows: &[NecRow], meta: &PdfMeta) -> Vec<Vec<String>> {
    let fonts = Fonts::load();
    layout(rows, meta, &fonts)
        .iter()
        .map(|page| page.iter().map(Line::text).collect())
        .collect()
}

/// The worksheet as PDF bytes.
pub fn nec_pdf(rows: &[NecRow], meta: &PdfMeta) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::load();
    let pages = layout(rows, meta, &fonts);

    let mut doc = PdfDocument::new(&strip_controls(&meta.title));
    doc.metadata.info.creator = "masspay-tax".into();
    // The dates are left at printpdf's default (1970-01-01T00:00:00Z) on purpose: a clock here
    // would make every run's bytes different. The footer carries `meta.generated`.
    let pdf_pages = pages
        .iter()
        .map(|lines| {
            let mut ops = Vec::new();
            for line in lines {
                draw(line, &fonts, &mut ops);
            }
            // US Letter landscape. `Mm` takes f32; these are the exact paper dimensions.
            PdfPage::new(Mm(279.4), Mm(215.9), ops)
        })
        .collect();
    doc.with_pages(pdf_pages);

    let mut warnings = Vec::new();
    let mut lo = doc.to_lopdf_document(&PdfSaveOptions::default(), &mut warnings);
    let errors: Vec<String> = warnings
        .iter()
        .filter(|w| w.severity == PdfParseErrorSeverity::Error)
        .map(|w| format!("page {}: {}", w.page + 1, w.msg))
        .collect();
    if !errors.is_empty() {
        return Err(PdfError::Render(errors.join("; ")));
    }

    // printpdf fills the trailer /ID from a process-wide counter, so two saves of the same
    // document differ. Replace both halves (permanent and changing id: equal for a new file) with
    // a hash of what is on the pages.
    let id = document_id(&pages, &meta.title);
    if let Ok(parts) = lo.trailer.get_mut(b"ID").and_then(|o| o.as_array_mut()) {
        for part in parts.iter_mut() {
            if let Ok(bytes) = part.as_str_mut() {
                *bytes = id.clone().into_bytes();
            }
        }
    }
    // printpdf always writes `/GTS_PDFXVersion` (empty by default), which readers take as a
    // PDF/X claim this document does not make.
    if let Ok(info) = lo.trailer.get(b"Info").and_then(|o| o.as_reference())
        && let Ok(dict) = lo.get_dictionary_mut(info)
    {
        dict.remove(b"GTS_PDFXVersion");
    }
    // What printpdf's own `save` does with the default options (`optimize: true`).
    lo.compress();
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| PdfError::Save(e.to_string()))?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Geometry, in milli-points (1 pt = 1000 mpt), origin bottom-left.

const fn p(points: i64) -> i64 {
    points * 1000
}

const PAGE_W: i64 = p(792);
const MARGIN: i64 = p(36);
const RIGHT: i64 = PAGE_W - MARGIN;

const TITLE_Y: i64 = p(560);
const SUBTITLE_Y: i64 = p(546);
const HEADER_Y: i64 = p(526);
const HEADER_RULE_Y: i64 = p(522);
const FIRST_ROW_Y: i64 = p(510);
const ROW_PITCH: i64 = p(12);
/// Zebra band: from this far below a row's baseline, [`ROW_PITCH`] high.
const BAND_BELOW: i64 = 3_500;
const FOOTER_RULE_Y: i64 = p(40);
const FOOTER_Y: i64 = p(28);

const TITLE_SIZE: i64 = 12;
const SUBTITLE_SIZE: i64 = 9;
const BODY_SIZE: i64 = 8;

const GAP: i64 = p(6);
/// Right-aligned text stops this far inside its column, clear of a left-aligned neighbour.
const RIGHT_PAD: i64 = p(5);

/// How a column's text sits in it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

struct Column {
    header: &'static str,
    width: i64,
    align: Align,
}

/// The table's columns, left to right. `address` takes what the others leave.
const COLUMNS: [Column; 9] = [
    col("user_token", 72, Align::Left),
    col("name / business name", 124, Align::Left),
    col("TIN type", 34, Align::Left),
    col("TIN", 50, Align::Left),
    col("TIN status", 48, Align::Left),
    col("box 1", 60, Align::Right),
    col("box 4", 50, Align::Right),
    col("address", 0, Align::Left),
    col("flags", 90, Align::Left),
];
const ADDRESS: usize = 7;
const BOX1: usize = 5;
const BOX4: usize = 6;

const fn col(header: &'static str, width_pt: i64, align: Align) -> Column {
    Column {
        header,
        width: p(width_pt),
        align,
    }
}

/// `(x, width)` of each column, in mpt.
fn column_spans() -> [(i64, i64); 9] {
    let fixed: i64 = COLUMNS.iter().map(|c| c.width).sum();
    let gaps = GAP * (COLUMNS.len() as i64 - 1);
    let address = RIGHT - MARGIN - fixed - gaps;
    let mut spans = [(0, 0); 9];
    let mut x = MARGIN;
    for (i, c) in COLUMNS.iter().enumerate() {
        let w = if i == ADDRESS { address } else { c.width };
        spans[i] = (x, w);
        x += w + GAP;
    }
    spans
}

// ---------------------------------------------------------------------------------------------
// Layout: what goes on each page, already encoded and truncated.

enum Line {
    Title(String),
    Subtitle(String),
    Header([String; 9]),
    Row {
        y: i64,
        shaded: bool,
        cells: [String; 9],
    },
    Empty {
        y: i64,
        text: String,
    },
    Totals {
        y: i64,
        label: String,
        box1: String,
        box4: String,
    },
    Footer {
        left: String,
        right: String,
    },
}

impl Line {
    fn text(&self) -> String {
        match self {
            Line::Title(s) | Line::Subtitle(s) | Line::Empty { text: s, .. } => s.clone(),
            Line::Header(cells) | Line::Row { cells, .. } => cells.join(" | "),
            Line::Totals {
                label, box1, box4, ..
            } => format!("{label} | box 1 {box1} | box 4 {box4}"),
            Line::Footer { left, right } => format!("{left} | {right}"),
        }
    }
}

fn layout(rows: &[NecRow], meta: &PdfMeta, fonts: &Fonts) -> Vec<Vec<Line>> {
    let spans = column_spans();
    let body = |s: &str, i: usize| fonts.fit(&pdf_text(s), Style::Regular, BODY_SIZE, spans[i].1);

    let chunks: Vec<&[NecRow]> = if rows.is_empty() {
        vec![&[]]
    } else {
        rows.chunks(ROWS_PER_PAGE).collect()
    };
    let page_count = chunks.len();
    let full_width = RIGHT - MARGIN;

    let mut pages = Vec::with_capacity(page_count);
    for (page_no, chunk) in chunks.iter().enumerate() {
        let mut lines = vec![
            Line::Title(fonts.fit(&pdf_text(&meta.title), Style::Bold, TITLE_SIZE, full_width)),
            Line::Subtitle(fonts.fit(
                &pdf_text(&meta.subtitle),
                Style::Regular,
                SUBTITLE_SIZE,
                full_width,
            )),
            Line::Header(std::array::from_fn(|i| {
                fonts.fit(COLUMNS[i].header, Style::Bold, BODY_SIZE, spans[i].1)
            })),
        ];
        for (i, r) in chunk.iter().enumerate() {
            let cells = [
                body(&r.user_token, 0),
                body(&name_cell(r), 1),
                body(&r.tin_type, 2),
                body(&r.tin, 3),
                body(&r.tin_status, 4),
                // Amounts are never truncated; a very wide one runs into its left neighbour.
                money(r.box1),
                money(r.box4),
                body(&address_cell(r), ADDRESS),
                body(&flags_cell(&r.flags), 8),
            ];
            lines.push(Line::Row {
                y: FIRST_ROW_Y - i as i64 * ROW_PITCH,
                shaded: i % 2 == 1,
                cells,
            });
        }
        if rows.is_empty() {
            lines.push(Line::Empty {
                y: FIRST_ROW_Y,
                text: "no reportable payees".into(),
            });
        }
        let last = page_no + 1 == page_count;
        if last {
            let used = chunk.len().max(1) as i64;
            // Sum what the rows show (cents), so the total adds up on paper.
            let cents = masspay_tax_rules::round_cents;
            let box1: Decimal = rows.iter().map(|r| cents(r.box1)).sum();
            let box4: Decimal = rows.iter().map(|r| cents(r.box4)).sum();
            let n = rows.len();
            lines.push(Line::Totals {
                y: FIRST_ROW_Y - used * ROW_PITCH - p(4),
                label: format!("total · {n} payee{}", if n == 1 { "" } else { "s" }),
                box1: money(box1),
                box4: money(box4),
            });
        }
        lines.push(Line::Footer {
            left: fonts.fit(
                &pdf_text(&format!("generated {}", meta.generated)),
                Style::Regular,
                BODY_SIZE,
                full_width / 2,
            ),
            right: format!("page {} of {page_count}", page_no + 1),
        });
        pages.push(lines);
    }
    pages
}

/// `name`, or `name / business name` when the business name says something more.
fn name_cell(r: &NecRow) -> String {
    let name = r.name.trim();
    let business = r.business_name.trim();
    if business.is_empty() || business == name {
        name.to_string()
    } else if name.is_empty() {
        business.to_string()
    } else {
        format!("{name} / {business}")
    }
}

/// `address1, address2, city, STATE zip, country` (empty parts left out).
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

/// `business;zip_repaired` → `business, zip_repaired`.
fn flags_cell(flags: &str) -> String {
    flags
        .split(';')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Cents with thousands separators: `12956097.289` → `12,956,097.29`.
fn money(d: Decimal) -> String {
    let plain = masspay_tax_rules::format_amount(d);
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// A stable 32-hex-digit id for the document: two FNV-1a 64 hashes of the page text.
fn document_id(pages: &[Vec<Line>], title: &str) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    let mut feed = |bytes: &[u8]| {
        for &byte in bytes {
            a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator byte that text never contains, so ("ab","c") ≠ ("a","bc").
        a = (a ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ 0xfe).wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(title.as_bytes());
    for page in pages {
        for line in page {
            feed(line.text().as_bytes());
        }
    }
    format!("{a:016x}{b:016x}")
}

// ---------------------------------------------------------------------------------------------
// Drawing.

/// mpt → printpdf's `Pt` (an `f32`, which its API requires). The only float conversion for
/// positions and sizes; 1/1000 pt is exact enough for any f32 on a page.
fn pt(mpt: i64) -> Pt {
    Pt(mpt as f32 / 1000.0)
}

/// A grey level in per mille (0 = black, 1000 = white) → printpdf's `Color` (f32 channels).
fn grey(per_mille: u16) -> Color {
    let v = f32::from(per_mille) / 1000.0;
    Color::Rgb(Rgb::new(v, v, v, None))
}

fn font_handle(style: Style) -> PdfFontHandle {
    PdfFontHandle::Builtin(match style {
        Style::Regular => BuiltinFont::Helvetica,
        Style::Bold => BuiltinFont::HelveticaBold,
    })
}

/// One text object per line: `BT`, font, then each piece at an absolute `Tm` (never the
/// relative `Td`), `ET`.
fn text_line(ops: &mut Vec<Op>, style: Style, size: i64, pieces: &[(i64, i64, &str)]) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetFont {
        font: font_handle(style),
        size: pt(p(size)),
    });
    for &(x, y, s) in pieces {
        if s.is_empty() {
            continue;
        }
        ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(pt(x), pt(y)),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(s.to_string())],
        });
    }
    ops.push(Op::EndTextSection);
}

fn rule(ops: &mut Vec<Op>, y: i64, thickness_mpt: i64, shade: u16) {
    ops.push(Op::SetOutlineColor { col: grey(shade) });
    ops.push(Op::SetOutlineThickness {
        pt: pt(thickness_mpt),
    });
    ops.push(Op::DrawLine {
        line: PdfLine {
            points: vec![
                LinePoint {
                    p: Point {
                        x: pt(MARGIN),
                        y: pt(y),
                    },
                    bezier: false,
                },
                LinePoint {
                    p: Point {
                        x: pt(RIGHT),
                        y: pt(y),
                    },
                    bezier: false,
                },
            ],
            is_closed: false,
        },
    });
}

/// x where a cell's text starts, given its measured width.
fn cell_x(span: (i64, i64), align: Align, text_width: i64) -> i64 {
    match align {
        Align::Left => span.0,
        Align::Right => span.0 + span.1 - RIGHT_PAD - text_width,
    }
}

fn draw_cells(ops: &mut Vec<Op>, fonts: &Fonts, style: Style, y: i64, cells: &[String; 9]) {
    let spans = column_spans();
    let pieces: Vec<(i64, i64, &str)> = cells
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let w = fonts.width(s, style, BODY_SIZE);
            (cell_x(spans[i], COLUMNS[i].align, w), y, s.as_str())
        })
        .collect();
    text_line(ops, style, BODY_SIZE, &pieces);
}

fn draw(line: &Line, fonts: &Fonts, ops: &mut Vec<Op>) {
    ops.push(Op::SetFillColor { col: grey(0) });
    match line {
        Line::Title(s) => text_line(ops, Style::Bold, TITLE_SIZE, &[(MARGIN, TITLE_Y, s)]),
        Line::Subtitle(s) => text_line(
            ops,
            Style::Regular,
            SUBTITLE_SIZE,
            &[(MARGIN, SUBTITLE_Y, s)],
        ),
        Line::Header(cells) => {
            draw_cells(ops, fonts, Style::Bold, HEADER_Y, cells);
            rule(ops, HEADER_RULE_Y, 600, 0);
        }
        Line::Row { y, shaded, cells } => {
            if *shaded {
                ops.push(Op::SetFillColor { col: grey(935) });
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        x: pt(MARGIN - p(2)),
                        y: pt(y - BAND_BELOW),
                        width: pt(RIGHT - MARGIN + p(4)),
                        height: pt(ROW_PITCH),
                        mode: Some(PaintMode::Fill),
                        winding_order: Some(WindingOrder::NonZero),
                    },
                });
                ops.push(Op::SetFillColor { col: grey(0) });
            }
            draw_cells(ops, fonts, Style::Regular, *y, cells);
        }
        Line::Empty { y, text } => text_line(ops, Style::Regular, BODY_SIZE, &[(MARGIN, *y, text)]),
        Line::Totals {
            y,
            label,
            box1,
            box4,
        } => {
            let spans = column_spans();
            rule(ops, y + p(9), 400, 0);
            let w1 = fonts.width(box1, Style::Bold, BODY_SIZE);
            let w4 = fonts.width(box4, Style::Bold, BODY_SIZE);
            text_line(
                ops,
                Style::Bold,
                BODY_SIZE,
                &[
                    (MARGIN, *y, label),
                    (cell_x(spans[BOX1], Align::Right, w1), *y, box1),
                    (cell_x(spans[BOX4], Align::Right, w4), *y, box4),
                ],
            );
        }
        Line::Footer { left, right } => {
            rule(ops, FOOTER_RULE_Y, 300, 600);
            let w = fonts.width(right, Style::Regular, BODY_SIZE);
            text_line(
                ops,
                Style::Regular,
                BODY_SIZE,
                &[(MARGIN, FOOTER_Y, left), (RIGHT - w, FOOTER_Y, right)],
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fonts and text encoding.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Regular,
    Bold,
}

/// Helvetica's metrics, from the subset files printpdf ships for its built-in fonts.
struct Fonts {
    regular: Option<ParsedFont>,
    bold: Option<ParsedFont>,
}

/// Width for a glyph the metrics do not know: Helvetica's digit width, about its average.
const FALLBACK_ADVANCE: i64 = 556;

impl Fonts {
    fn load() -> Fonts {
        Fonts {
            regular: BuiltinFont::Helvetica.get_parsed_font(),
            bold: BuiltinFont::HelveticaBold.get_parsed_font(),
        }
    }

    /// Width of already-encoded text in mpt.
    fn width(&self, s: &str, style: Style, size: i64) -> i64 {
        let font = match style {
            Style::Regular => self.regular.as_ref(),
            Style::Bold => self.bold.as_ref(),
        };
        let (units, per_em) = match font {
            Some(f) => (
                s.chars()
                    .map(|c| {
                        f.lookup_glyph_index(u32::from(c))
                            .and_then(|g| f.get_glyph_width(g))
                            .map_or(FALLBACK_ADVANCE, i64::from)
                    })
                    .sum::<i64>(),
                i64::from(f.units_per_em.max(1)),
            ),
            None => (s.chars().count() as i64 * FALLBACK_ADVANCE, 1000),
        };
        units * p(size) / per_em
    }

    /// The text, cut and ended with `…` if it is wider than `max` mpt.
    fn fit(&self, s: &str, style: Style, size: i64, max: i64) -> String {
        if self.width(s, style, size) <= max {
            return s.to_string();
        }
        let room = max - self.width("…", style, size);
        let mut out = String::new();
        let mut used = 0;
        for c in s.chars() {
            let mut buf = [0; 4];
            let w = self.width(c.encode_utf8(&mut buf), style, size);
            if used + w > room {
                break;
            }
            used += w;
            out.push(c);
        }
        let mut out = out.trim_end().to_string();
        out.push('…');
        out
    }
}

/// Control characters (TAB, CR, LF, …) → spaces, runs of whitespace → one space, trimmed.
fn strip_controls(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A cell as the built-in fonts can show it: WinAnsi characters as they are, Latin letters
/// WinAnsi lacks folded to ASCII (`Ł` → `L`, `ż` → `z`, `ệ` → `e`), combining accents and
/// invisible format characters dropped, anything else `?`. Control characters become spaces
/// and whitespace runs collapse (as in `strip_controls`).
pub fn pdf_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || c.is_whitespace() {
            out.push(' ');
        } else if is_invisible(c) {
            // zero-width, bidi and soft-hyphen marks: nothing to show
        } else if is_win_ansi(c) {
            out.push(c);
        } else if let Some(ascii) = fold_latin(c) {
            out.push_str(ascii);
        } else {
            out.push('?');
        }
    }
    strip_controls(&out)
}

/// Characters with no visible form (combining accents after a base letter, zero-width and
/// direction marks, BOM, soft hyphen).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0300}'..='\u{036F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}')
}

/// Whether printpdf can write `c` in `/WinAnsiEncoding` (the same table as its
/// `serialize::win_ansi_byte`: printable ASCII, Latin-1 0xA0–0xFF, and cp1252's 0x80–0x9F).
fn is_win_ansi(c: char) -> bool {
    matches!(c,
        '\u{20}'..='\u{7E}'
        | '\u{A0}'..='\u{FF}'
        | '€' | '‚' | 'ƒ' | '„' | '…' | '†' | '‡' | 'ˆ' | '‰' | 'Š' | '‹' | 'Œ' | 'Ž'
        | '\u{2018}' | '\u{2019}' | '\u{201C}' | '\u{201D}' | '•' | '–' | '—' | '˜' | '™'
        | 'š' | '›' | 'œ' | 'ž' | 'Ÿ')
}

/// Latin Extended-A (U+0100–U+017F), letter by letter, without diacritics.
const LATIN_EXT_A: [&str; 128] = [
    "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d", // 0100
    "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g", // 0110
    "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i", // 0120
    "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L", // 0130
    "l", "L", "l", "N", "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o", // 0140
    "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s", // 0150
    "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u", // 0160
    "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s", // 0170
];

/// An ASCII stand-in for a Latin letter (or a little punctuation) WinAnsi has no code for.
fn fold_latin(c: char) -> Option<&'static str> {
    let cp = u32::from(c);
    // Vietnamese vowels with two marks (U+1EA0–U+1EF9) alternate upper/lower case in runs.
    let vietnamese =
        |upper: &'static str, lower: &'static str| Some(if cp % 2 == 0 { upper } else { lower });
    match cp {
        0x0100..=0x017F => Some(LATIN_EXT_A[(cp - 0x0100) as usize]),
        0x1EA0..=0x1EB7 => vietnamese("A", "a"),
        0x1EB8..=0x1EC7 => vietnamese("E", "e"),
        0x1EC8..=0x1ECB => vietnamese("I", "i"),
        0x1ECC..=0x1EE3 => vietnamese("O", "o"),
        0x1EE4..=0x1EF1 => vietnamese("U", "u"),
        0x1EF2..=0x1EF9 => vietnamese("Y", "y"),
        _ => Some(match c {
            'Ơ' => "O",
            'ơ' => "o",
            'Ư' => "U",
            'ư' => "u",
            'Ǎ' => "A",
            'ǎ' => "a",
            'Ǐ' => "I",
            'ǐ' => "i",
            'Ǒ' => "O",
            'ǒ' => "o",
            'Ǔ' => "U",
            'ǔ' => "u",
            'Ș' => "S",
            'ș' => "s",
            'Ț' => "T",
            'ț' => "t",
            'ẞ' => "SS",
            'Ə' => "E",
            'ə' => "e",
            '\u{2010}'..='\u{2012}' | '\u{2212}' => "-",
            '\u{2032}' => "'",
            '\u{2033}' => "\"",
            _ => return None,
        }),
    }
}
