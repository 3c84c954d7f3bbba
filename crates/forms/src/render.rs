//! The one renderer: a [`Document`] (the layout model) → PDF bytes, with the fonts embedded and
//! subset ([`FontSet::subset_for`]: the run's base set plus the document's own characters).
//!
//! * Every text item is its own text object (`BT … ET`) placed with the absolute `Tm` operator
//!   (printpdf's `SetTextCursor` is the relative `Td`); runs in different faces (the shipped
//!   font, the fallback font) follow each other at measured offsets.
//! * Deterministic bytes: font resource names are fixed (`F1`…), the document dates stay at
//!   printpdf's epoch default (documents print their generation time as text), and the trailer
//!   `/ID` is a hash of the document's text.

use crate::doc::{Align, Document, Item};
use crate::fonts::{Face, FontSet, Style, Subset};
use printpdf::{
    Color, FontId, Line as PdfLine, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfFontHandle,
    PdfPage, PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, Rect, Rgb, TextItem, TextMatrix,
    WindingOrder,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("building the PDF failed: {0}")]
    Render(String),
    #[error("serialising the PDF failed: {0}")]
    Save(String),
}

fn pt(mpt: i64) -> Pt {
    Pt(mpt as f32 / 1000.0)
}

fn grey(per_mille: u16) -> Color {
    let v = f32::from(per_mille.min(1000)) / 1000.0;
    Color::Rgb(Rgb::new(v, v, v, None))
}

/// The watermark's grey level and angle.
const WATERMARK_GREY: u16 = 860;
const WATERMARK_DEGREES: f32 = 35.0;

/// Renders the document to PDF bytes.
pub fn render(doc: &Document, fonts: &FontSet) -> Result<Vec<u8>, RenderError> {
    let mut lo = render_document(doc, fonts)?;
    let mut out = Vec::new();
    lo.save_to(&mut out)
        .map_err(|e| RenderError::Save(e.to_string()))?;
    Ok(out)
}

/// Renders the document to a PDF object tree (compressed, not yet serialised): what
/// [`render`] saves, and what [`crate::combined::CombinedPdf`] appends.
pub fn render_document(doc: &Document, fonts: &FontSet) -> Result<lopdf::Document, RenderError> {
    // Which characters each face draws, for subsetting.
    let mut used: BTreeMap<Face, BTreeSet<char>> = BTreeMap::new();
    for page in &doc.pages {
        for item in &page.items {
            let (text, style) = match item {
                Item::Text { text, style, .. } => (text, *style),
                Item::Watermark { text, .. } => (text, Style::Bold),
                _ => continue,
            };
            for (face, run) in fonts.runs(text, style) {
                used.entry(face).or_default().extend(run.chars());
            }
        }
    }
    let mut pdf = PdfDocument::new(&doc.title);
    pdf.metadata.info.creator = "masspay-tax".into();
    let mut ids: BTreeMap<Face, FontId> = BTreeMap::new();
    let mut subsets: Vec<Arc<Subset>> = Vec::new();
    for (n, (face, chars)) in used.iter().enumerate() {
        let loaded = fonts.loaded(*face);
        let parsed = match fonts.subset_for(*face, chars) {
            Some(sub) => {
                let parsed = sub.parsed.clone();
                subsets.push(sub);
                parsed
            }
            None => loaded.parsed.clone(),
        };
        let id = FontId(format!("F{}", n + 1));
        pdf.resources
            .fonts
            .map
            .insert(id.clone(), printpdf::PdfFont::new(parsed));
        ids.insert(*face, id);
    }

    let pages = doc
        .pages
        .iter()
        .map(|page| {
            let mut ops = Vec::with_capacity(page.items.len() * 6);
            for item in &page.items {
                draw(item, page.width, page.height, fonts, &ids, &mut ops);
            }
            PdfPage::new(Mm::from(pt(page.width)), Mm::from(pt(page.height)), ops)
        })
        .collect();
    pdf.with_pages(pages);

    let mut warnings = Vec::new();
    let mut lo = pdf.to_lopdf_document(&PdfSaveOptions::default(), &mut warnings);
    let errors: Vec<String> = warnings
        .iter()
        .filter(|w| w.severity == PdfParseErrorSeverity::Error)
        .map(|w| format!("page {}: {}", w.page + 1, w.msg))
        .collect();
    if !errors.is_empty() {
        return Err(RenderError::Render(errors.join("; ")));
    }
    let id = document_id(doc);
    if let Ok(parts) = lo.trailer.get_mut(b"ID").and_then(|o| o.as_array_mut()) {
        for part in parts.iter_mut() {
            if let Ok(bytes) = part.as_str_mut() {
                *bytes = id.clone().into_bytes();
            }
        }
    }
    if let Ok(info) = lo.trailer.get(b"Info").and_then(|o| o.as_reference())
        && let Ok(dict) = lo.get_dictionary_mut(info)
    {
        dict.remove(b"GTS_PDFXVersion");
    }
    compress(&mut lo, &subsets);
    Ok(lo)
}

/// Deflates every stream: a font program that is one of this run's cached subsets gets the
/// subset's already-deflated bytes, the rest (page contents, /ToUnicode) are compressed here
/// at the fast level.
fn compress(lo: &mut lopdf::Document, subsets: &[Arc<Subset>]) {
    for object in lo.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let cached = subsets
            .iter()
            .find(|s| s.parsed.original_bytes == stream.content);
        let deflated = match cached {
            Some(s) => s.deflated.clone(),
            // Page contents: every document has its own, so the fast level.
            None => crate::fonts::deflate(&stream.content, 1),
        };
        if deflated.len() + 19 < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(deflated);
        }
    }
}

fn draw(
    item: &Item,
    page_w: i64,
    page_h: i64,
    fonts: &FontSet,
    ids: &BTreeMap<Face, FontId>,
    ops: &mut Vec<Op>,
) {
    match item {
        Item::Text {
            x,
            y,
            size,
            style,
            align,
            text,
            grey: g,
        } => {
            let width = fonts.width(text, *style, *size);
            let start = match align {
                Align::Left => *x,
                Align::Right => x - width,
                Align::Center => x - width / 2,
            };
            ops.push(Op::StartTextSection);
            ops.push(Op::SetFillColor { col: grey(*g) });
            let mut cx = start;
            for (face, run) in fonts.runs(text, *style) {
                let Some(id) = ids.get(&face) else { continue };
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(id.clone()),
                    size: pt(*size),
                });
                ops.push(Op::SetTextMatrix {
                    matrix: TextMatrix::Translate(pt(cx), pt(*y)),
                });
                cx += fonts.width(&run, *style, *size);
                ops.push(Op::ShowText {
                    items: vec![TextItem::Text(run)],
                });
            }
            ops.push(Op::EndTextSection);
            if *g != 0 {
                ops.push(Op::SetFillColor { col: grey(0) });
            }
        }
        Item::Line {
            x1,
            y1,
            x2,
            y2,
            thickness,
            grey: g,
        } => {
            ops.push(Op::SetOutlineColor { col: grey(*g) });
            ops.push(Op::SetOutlineThickness { pt: pt(*thickness) });
            let point = |x: i64, y: i64| LinePoint {
                p: Point { x: pt(x), y: pt(y) },
                bezier: false,
            };
            ops.push(Op::DrawLine {
                line: PdfLine {
                    points: vec![point(*x1, *y1), point(*x2, *y2)],
                    is_closed: false,
                },
            });
        }
        Item::Rect {
            x,
            y,
            w,
            h,
            fill,
            stroke,
        } => {
            let mode = match (fill, stroke) {
                (Some(_), Some(_)) => PaintMode::FillStroke,
                (Some(_), None) => PaintMode::Fill,
                _ => PaintMode::Stroke,
            };
            if let Some(f) = fill {
                ops.push(Op::SetFillColor { col: grey(*f) });
            }
            if let Some(s) = stroke {
                ops.push(Op::SetOutlineColor { col: grey(0) });
                ops.push(Op::SetOutlineThickness { pt: pt(*s) });
            }
            ops.push(Op::DrawRectangle {
                rectangle: Rect {
                    x: pt(*x),
                    y: pt(*y),
                    width: pt(*w),
                    height: pt(*h),
                    mode: Some(mode),
                    winding_order: Some(WindingOrder::NonZero),
                },
            });
            if fill.is_some() {
                ops.push(Op::SetFillColor { col: grey(0) });
            }
        }
        Item::Watermark { text, size } => {
            let width = fonts.width(text, Style::Bold, *size);
            let rad = f64::from(WATERMARK_DEGREES).to_radians();
            // Start so the text's middle sits at the page's centre.
            let half = width as f64 / 2.0;
            let x = page_w as f64 / 2.0 - half * rad.cos();
            let y = page_h as f64 / 2.0 - half * rad.sin() - *size as f64 / 3.0;
            ops.push(Op::StartTextSection);
            ops.push(Op::SetFillColor {
                col: grey(WATERMARK_GREY),
            });
            let mut offset = 0.0;
            for (face, run) in fonts.runs(text, Style::Bold) {
                let Some(id) = ids.get(&face) else { continue };
                ops.push(Op::SetFont {
                    font: PdfFontHandle::External(id.clone()),
                    size: pt(*size),
                });
                ops.push(Op::SetTextMatrix {
                    matrix: TextMatrix::TranslateRotate(
                        Pt(((x + offset * rad.cos()) / 1000.0) as f32),
                        Pt(((y + offset * rad.sin()) / 1000.0) as f32),
                        WATERMARK_DEGREES,
                    ),
                });
                offset += fonts.width(&run, Style::Bold, *size) as f64;
                ops.push(Op::ShowText {
                    items: vec![TextItem::Text(run)],
                });
            }
            ops.push(Op::EndTextSection);
            ops.push(Op::SetFillColor { col: grey(0) });
        }
    }
}

/// A stable 32-hex-digit id: two FNV-1a 64 hashes of the document's text.
pub fn document_id(doc: &Document) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    let mut feed = |bytes: &[u8]| {
        for &byte in bytes {
            a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        a = (a ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ 0xfe).wrapping_mul(0x0000_0100_0000_01b3);
    };
    feed(doc.title.as_bytes());
    for page in doc.text() {
        for t in page {
            feed(t.as_bytes());
        }
    }
    format!("{a:016x}{b:016x}")
}
