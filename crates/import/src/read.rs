//! File formats: workbooks through calamine, CSV through the csv crate. Both hand rows of
//! [`Cell`]s to the [`Importer`].

use crate::cells::Cell;
use crate::engine::{Formulas, Importer};
use crate::{FileKind, ImportError};
use calamine::{
    Data, Ods, Range, Reader, SheetType, SheetVisible, Sheets, Xls, Xlsb, Xlsx,
    open_workbook_from_rs,
};
use std::io::Cursor;
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
                importer.skip_sheet(&name, format!("cannot be read: {e}"));
                continue;
            }
            None => {
                importer.skip_sheet(&name, PANIC_REASON.into());
                continue;
            }
        };
        let formulas = formula_cells(formulas.as_ref());
        let rows = range_rows(&range);
        importer.sheet(&name, rows, &formulas);
    }
    Ok(())
}

fn open(bytes: &[u8], kind: FileKind) -> Result<Sheets<Cursor<&[u8]>>, ImportError> {
    let c = Cursor::new(bytes);
    let e = |e: &dyn std::fmt::Display| unreadable(kind, e);
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
    importer.sheet(name, rows.into_iter(), &Formulas::new());
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
