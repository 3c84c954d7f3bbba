//! File formats: workbooks through calamine, CSV through the csv crate. Both hand rows of
//! [`Cell`]s to the [`Importer`].

use crate::cells::Cell;
use crate::engine::{Formulas, Importer, SheetExtras};
use crate::{FileKind, ImportError};
use calamine::{
    Data, Ods, Range, Reader, SheetType, SheetVisible, Sheets, Xls, Xlsb, Xlsx,
    open_workbook_from_rs,
};
use std::collections::HashSet;
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Removes runs of five or more digits (a reader's message could quote a cell) and keeps
/// messages short.
fn scrub(msg: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 5 {
            out.push('…');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in msg.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out.chars().take(300).collect()
}

fn unreadable(kind: FileKind, e: impl std::fmt::Display) -> ImportError {
    ImportError::Unreadable {
        kind,
        reason: scrub(&e.to_string()),
    }
}

const PANIC_REASON: &str = "the spreadsheet reader failed on this file (it may be damaged)";

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` (a calamine call) so that a panic inside it becomes `None` without printing the
/// usual "thread panicked" message: calamine 0.38 panics on some damaged `.xls` files (index
/// out of bounds in its CFB and BIFF readers). A process-wide panic hook is installed once; it
/// stays silent only while this thread is inside `f` and hands every other panic to the hook
/// that was there before. (Needs `panic = "unwind"`, the default.)
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let out = catch_unwind(AssertUnwindSafe(f)).ok();
    QUIET.with(|q| q.set(was));
    out
}

/// Reads every visible worksheet of a workbook.
pub(crate) fn workbook(
    bytes: &[u8],
    kind: FileKind,
    importer: &mut Importer<'_>,
) -> Result<(), ImportError> {
    // A damaged file must never bring the program down: a panic in calamine becomes an
    // `Unreadable` error (or a skipped sheet).
    let opened = guarded(|| open(bytes, kind)).ok_or_else(|| unreadable(kind, PANIC_REASON))??;
    let mut wb = opened;
    let metas = wb.sheets_metadata().to_vec();
    let metas_len = metas.len();
    let mut xlsx_info = match &mut wb {
        Sheets::Xlsx(x) => {
            let names: Vec<String> = metas
                .iter()
                .filter(|m| m.typ == SheetType::WorkSheet && m.visible == SheetVisible::Visible)
                .map(|m| m.name.clone())
                .collect();
            Some(xlsx_prescan(bytes, x, &names, importer.max_sheet_cells())?)
        }
        _ => None,
    };
    for meta in metas {
        let name = meta.name.clone();
        if meta.typ != SheetType::WorkSheet {
            importer.skip_sheet(&name, "not a worksheet".into());
            continue;
        }
        if meta.visible != SheetVisible::Visible {
            importer.skip_sheet(&name, "hidden sheet".into());
            continue;
        }
        let read = guarded(|| {
            let range = wb.worksheet_range(&name).map_err(|e| scrub(&e.to_string()));
            // Formulas only tell which cells are formulas; failing to read them is not fatal.
            let formulas = wb.worksheet_formula(&name).ok();
            (range, formulas)
        });
        let (range, formulas) = match read {
            Some((Ok(r), f)) => (r, f),
            Some((Err(e), _)) => {
                importer.unreadable_sheet(&name, e);
                continue;
            }
            None => {
                importer.unreadable_sheet(&name, PANIC_REASON.into());
                continue;
            }
        };
        let formulas = formula_cells(formulas.as_ref());
        let rows = range_rows(&range);
        let mut extras = SheetExtras {
            formulas,
            ..SheetExtras::default()
        };
        if let Some(x) = xlsx_info.as_mut().and_then(|m| m.remove(&name)) {
            extras.hidden_columns = x.hidden_columns;
            extras.zero_padded = x.zero_padded;
            extras.formats_known = true;
        }
        importer.sheet(&name, rows, &extras);
    }
    if metas_len == 0 {
        return Err(ImportError::Damaged {
            kind,
            reason: "the workbook lists no sheet".into(),
        });
    }
    Ok(())
}

/// What calamine's `Range` does not say about an `.xlsx` sheet: hidden columns and the cells
/// whose number format shows leading zeros (`000-00-0000`, `00-0000000`, `000000000`).
#[derive(Default)]
struct XlsxSheetInfo {
    hidden_columns: HashSet<usize>,
    zero_padded: HashSet<(usize, usize)>,
}

/// Whether a number format code shows a 9-digit number with its leading zeros.
pub(crate) fn shows_nine_zeros(code: &str) -> bool {
    let zeros = code.chars().filter(|&c| c == '0').count();
    zeros == 9
        && code
            .chars()
            .all(|c| matches!(c, '0' | '-' | ' ' | '\\' | '"' | '.'))
}

/// Streams every cell of every worksheet once (no dense range): refuses an absurd used range
/// before calamine lays it out in memory, and collects number formats and hidden columns.
fn xlsx_prescan(
    bytes: &[u8],
    wb: &mut Xlsx<Cursor<&[u8]>>,
    names: &[String],
    limit: u64,
) -> Result<std::collections::HashMap<String, XlsxSheetInfo>, ImportError> {
    let mut out = std::collections::HashMap::new();
    let hidden = xlsx_hidden_columns(bytes);
    for name in names {
        let mut info = XlsxSheetInfo {
            hidden_columns: hidden.get(name).cloned().unwrap_or_default(),
            ..XlsxSheetInfo::default()
        };
        let Some(reader) = guarded(|| -> Result<_, String> {
            let mut r = wb.worksheet_cells_reader(name).map_err(|e| e.to_string())?;
            let padded: Vec<bool> = r
                .styles()
                .iter()
                .map(|s| {
                    s.number_format
                        .as_ref()
                        .is_some_and(|f| shows_nine_zeros(&f.format_code))
                })
                .collect();
            let mut ext: Option<(u32, u32, u32, u32)> = None;
            let mut zero_padded = HashSet::new();
            while let Some((cell, style)) =
                r.next_cell_with_style_id().map_err(|e| e.to_string())?
            {
                let (row, col) = cell.get_position();
                ext = Some(match ext {
                    None => (row, col, row, col),
                    Some((r0, c0, r1, c1)) => (r0.min(row), c0.min(col), r1.max(row), c1.max(col)),
                });
                if padded.get(style).copied().unwrap_or(false) {
                    zero_padded.insert((row as usize, col as usize));
                }
            }
            Ok((ext, zero_padded))
        }) else {
            continue;
        };
        let Ok((ext, zero_padded)) = reader else {
            continue;
        };
        if let Some((r0, c0, r1, c1)) = ext {
            let cells = (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
            if cells > limit {
                return Err(ImportError::UsedRangeTooLarge {
                    sheet: name.clone(),
                    range: format!(
                        "{}{}:{}{}",
                        crate::column_letter(c0 as usize),
                        r0 + 1,
                        crate::column_letter(c1 as usize),
                        r1 + 1
                    ),
                    cells,
                    limit,
                });
            }
        }
        info.zero_padded = zero_padded;
        out.insert(name.clone(), info);
    }
    Ok(out)
}

/// Reads a zip member as text (at most `max` bytes).
fn zip_text(zip: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str, max: u64) -> Option<String> {
    let f = zip.by_name(name).ok()?;
    let mut s = String::new();
    f.take(max).read_to_string(&mut s).ok()?;
    Some(s)
}

/// The value of `attr="..."` inside one XML start tag.
fn xml_attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = tag[from..].find(attr) {
        let at = from + i;
        let before_ok = at == 0
            || tag[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_whitespace() || c == ':');
        let rest = &tag[at + attr.len()..];
        if before_ok && let Some(rest) = rest.strip_prefix("=\"") {
            return rest.split('"').next();
        }
        from = at + attr.len();
    }
    None
}

/// The start tags `<NAME ...>` (or `<x:NAME ...>`) of an XML text.
fn xml_tags<'a>(xml: &'a str, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    xml.split('<').filter_map(move |t| {
        let local = t
            .split_once(':')
            .filter(|(p, _)| !p.contains(' '))
            .map_or(t, |(_, l)| l);
        let rest = local.strip_prefix(name)?;
        rest.starts_with([' ', '/', '>'])
            .then(|| t.split('>').next().unwrap_or(t))
    })
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Hidden columns (`<col min max hidden="1">`) of every worksheet, by sheet name. Best effort:
/// a part that cannot be read gives no hidden column.
fn xlsx_hidden_columns(bytes: &[u8]) -> std::collections::HashMap<String, HashSet<usize>> {
    let mut out = std::collections::HashMap::new();
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return out;
    };
    let (Some(wb), Some(rels)) = (
        zip_text(&mut zip, "xl/workbook.xml", 8 << 20),
        zip_text(&mut zip, "xl/_rels/workbook.xml.rels", 8 << 20),
    ) else {
        return out;
    };
    let targets: std::collections::HashMap<&str, &str> = xml_tags(&rels, "Relationship")
        .filter_map(|t| Some((xml_attr(t, "Id")?, xml_attr(t, "Target")?)))
        .collect();
    for tag in xml_tags(&wb, "sheet") {
        let (Some(name), Some(id)) = (xml_attr(tag, "name"), xml_attr(tag, "id")) else {
            continue;
        };
        let Some(target) = targets.get(id) else {
            continue;
        };
        let path = match target.strip_prefix('/') {
            Some(abs) => abs.to_string(),
            None => format!("xl/{target}"),
        };
        // The <cols> element comes before <sheetData>: the head of the part is enough.
        let Some(head) = zip_text(&mut zip, &path, 4 << 20) else {
            continue;
        };
        let head = head.split("sheetData").next().unwrap_or("");
        let mut hidden = HashSet::new();
        for col in xml_tags(head, "col") {
            let on = xml_attr(col, "hidden").is_some_and(|v| v == "1" || v == "true");
            let min = xml_attr(col, "min").and_then(|v| v.parse::<usize>().ok());
            let max = xml_attr(col, "max").and_then(|v| v.parse::<usize>().ok());
            if let (true, Some(a), Some(b)) = (on, min, max)
                && a >= 1
                && b >= a
            {
                hidden.extend((a - 1)..b.min(16_384));
            }
        }
        out.insert(xml_unescape(name), hidden);
    }
    out
}

/// Recognises content that is not what the extension says (before any reader sees it).
pub(crate) fn sniff(bytes: &[u8], kind: FileKind) -> Result<(), ImportError> {
    if bytes.is_empty() {
        return if kind == FileKind::Csv {
            Ok(())
        } else {
            Err(ImportError::EmptyFile)
        };
    }
    const ZIP: &[u8] = b"PK\x03\x04";
    const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let head: Vec<u8> = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .iter()
        .copied()
        .skip_while(u8::is_ascii_whitespace)
        .take(512)
        .collect();
    let lower = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let not = |looks_like: &str| {
        Err(ImportError::NotASpreadsheet {
            kind,
            looks_like: looks_like.to_string(),
        })
    };
    if head.starts_with(b"%PDF") {
        return not("a PDF document");
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return not("an HTML page");
    }
    let is_zip = bytes.starts_with(ZIP);
    let is_cfb = bytes.starts_with(CFB);
    let encrypted = || {
        // "EncryptedPackage" as UTF-16LE in the compound file's directory.
        let needle: Vec<u8> = "EncryptedPackage"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        bytes.windows(needle.len()).any(|w| w == needle.as_slice())
    };
    match kind {
        FileKind::Xlsx | FileKind::Xlsb | FileKind::Ods => {
            if is_cfb && encrypted() {
                return Err(ImportError::PasswordProtected);
            }
            if is_cfb {
                return not("an Excel 97-2003 workbook (rename it to .xls)");
            }
            if !is_zip {
                if bytes
                    .iter()
                    .take(4096)
                    .all(|&b| b >= 0x20 || b"\t\r\n".contains(&b) || b >= 0x80)
                {
                    return not("plain text (a CSV? rename it to .csv)");
                }
                return Err(ImportError::Damaged {
                    kind,
                    reason: "it is not a zip package, as every .xlsx / .ods is".into(),
                });
            }
        }
        FileKind::Xls => {
            if is_zip {
                return not("an .xlsx / .ods workbook (rename it to .xlsx)");
            }
            if !is_cfb {
                if bytes
                    .iter()
                    .take(4096)
                    .all(|&b| b >= 0x20 || b"\t\r\n".contains(&b) || b >= 0x80)
                {
                    return not("plain text (a CSV? rename it to .csv)");
                }
                return Err(ImportError::Damaged {
                    kind,
                    reason: "it is not an Excel 97-2003 compound file".into(),
                });
            }
            if encrypted() {
                return Err(ImportError::PasswordProtected);
            }
        }
        FileKind::Csv => {
            if is_zip {
                return not("a workbook (.xlsx / .ods) saved with a .csv name");
            }
            if is_cfb {
                return not("an Excel 97-2003 workbook (rename it to .xls)");
            }
            if bytes.iter().take(4096).any(|&b| b == 0) {
                return not("binary data");
            }
        }
    }
    Ok(())
}

fn open(bytes: &[u8], kind: FileKind) -> Result<Sheets<Cursor<&[u8]>>, ImportError> {
    let c = Cursor::new(bytes);
    let e = |e: &dyn std::fmt::Display| {
        let msg = e.to_string();
        if msg.to_ascii_lowercase().contains("password") {
            ImportError::PasswordProtected
        } else {
            ImportError::Damaged {
                kind,
                reason: scrub(&msg),
            }
        }
    };
    Ok(match kind {
        FileKind::Xlsx => Sheets::Xlsx(open_workbook_from_rs::<Xlsx<_>, _>(c).map_err(|x| e(&x))?),
        FileKind::Xlsb => Sheets::Xlsb(open_workbook_from_rs::<Xlsb<_>, _>(c).map_err(|x| e(&x))?),
        FileKind::Xls => Sheets::Xls(open_workbook_from_rs::<Xls<_>, _>(c).map_err(|x| e(&x))?),
        FileKind::Ods => Sheets::Ods(open_workbook_from_rs::<Ods<_>, _>(c).map_err(|x| e(&x))?),
        FileKind::Csv => return Err(unreadable(kind, "not a workbook")),
    })
}

fn formula_cells(range: Option<&Range<String>>) -> Formulas {
    let mut out = Formulas::new();
    if let Some(r) = range
        && let Some((r0, c0)) = r.start()
    {
        for (row, col, f) in r.used_cells() {
            if !f.trim().is_empty() {
                out.insert((r0 as usize + row, c0 as usize + col));
            }
        }
    }
    out
}

/// The range's rows as (1-based row number, cells by absolute column).
fn range_rows(range: &Range<Data>) -> impl Iterator<Item = (usize, Vec<Cell>)> + '_ {
    let (r0, c0) = range
        .start()
        .map(|(r, c)| (r as usize, c as usize))
        .unwrap_or((0, 0));
    range.rows().enumerate().map(move |(i, row)| {
        let mut cells = Vec::with_capacity(c0 + row.len());
        cells.resize(c0, Cell::Empty);
        cells.extend(row.iter().map(Cell::from_data));
        (r0 + i + 1, cells)
    })
}

/// Windows-1252 bytes 0x80-0x9F (the rest of the high half is Latin-1).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

fn decode(bytes: &[u8]) -> (String, bool) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), false),
        Err(_) => (
            bytes
                .iter()
                .map(|&b| match b {
                    0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
                    _ => char::from(b),
                })
                .collect(),
            true,
        ),
    }
}

/// `,`, `;` or tab: whichever appears most in the first lines.
fn sniff_delimiter(text: &str) -> u8 {
    let sample: String = text.lines().take(30).collect::<Vec<_>>().join("\n");
    let count = |c: char| sample.matches(c).count();
    let (comma, semi, tab) = (count(','), count(';'), count('\t'));
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma {
        b';'
    } else {
        b','
    }
}

/// `\r\n`, `\n` and a lone `\r` each count as one line break.
fn line_breaks(b: &[u8]) -> usize {
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

/// Reads a CSV file as one sheet named `name`.
pub(crate) fn csv(
    bytes: &[u8],
    name: &str,
    importer: &mut Importer<'_>,
) -> Result<(), ImportError> {
    let (text, cp1252) = decode(bytes);
    if cp1252 {
        importer.note(format!(
            "{name}: not UTF-8; read as Windows-1252 (save as \"CSV UTF-8\" to be sure)"
        ));
    }
    let delimiter = sniff_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // A spreadsheet row is a record: count the line breaks before the record's first byte,
    // less those inside quoted cells of earlier records. (The csv crate's own line number is
    // taken before the blank lines it skips.)
    let bytes = text.as_bytes();
    let mut scanned = 0usize;
    let mut breaks_before = 0usize;
    let mut embedded = 0usize;
    for rec in reader.records() {
        let rec = rec.map_err(|e| unreadable(FileKind::Csv, e))?;
        let mut start = rec
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > scanned {
            breaks_before += line_breaks(&bytes[scanned..start]);
            scanned = start;
        }
        let row = (breaks_before + 1).saturating_sub(embedded).max(1);
        let inside: usize = rec.iter().map(|f| line_breaks(f.as_bytes())).sum();
        embedded += inside;
        rows.push((row, rec.iter().map(Cell::from_text).collect::<Vec<_>>()));
    }
    importer.sheet(name, rows.into_iter(), &SheetExtras::default());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing() {
        assert_eq!(scrub("bad cell 123456789 at 12"), "bad cell … at 12");
        assert_eq!(scrub("1234"), "1234");
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b"), ("a,b".into(), false));
        assert_eq!(decode(b"Zo\xEB \x80"), ("Zoë €".into(), true));
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff_delimiter("a;b;c\n1;2;3"), b';');
        assert_eq!(sniff_delimiter("a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter("a,b;c,d"), b',');
        assert_eq!(sniff_delimiter(""), b',');
    }
}
