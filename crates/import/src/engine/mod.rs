//! Header detection and row validation, shared by every file format.

use crate::cells::{Cell, DateError, clean, echo, parse_date};
use crate::columns::{Field, column_letter, header_key, match_header};
use crate::forms::{EntityType, FormType};
use crate::{
    ImportError, ImportOptions, ImportResult, MappedColumn, RowProblem, SheetSummary, TaxFormRecord,
};
use chrono::NaiveDate;
use masspay_tax_rules::tin::{TinParseError, TinStatus, TinType, check_tin, parse_tin};
use std::collections::{HashMap, HashSet};

mod header;
mod row;

/// Cell positions (0-based absolute row, column) that hold a formula.
pub(crate) type Formulas = HashSet<(usize, usize)>;

/// What a reader knows about a sheet beyond its cell values.
#[derive(Debug, Default)]
pub(crate) struct SheetExtras {
    /// Cells holding a formula.
    pub(crate) formulas: Formulas,
    /// Hidden columns (0-based), ignored.
    pub(crate) hidden_columns: HashSet<usize>,
    /// Cells whose number format shows a 9-digit number's leading zeros (0-based row, column).
    pub(crate) zero_padded: HashSet<(usize, usize)>,
    /// Whether the reader knows number formats at all (`.xlsx`); when it does not, a number
    /// that lost leading zeros cannot be repaired.
    pub(crate) formats_known: bool,
}

#[derive(Debug, Clone)]
struct Column {
    idx: usize,
    letter: String,
    header: String,
    field: Field,
}

impl Column {
    fn label(&self) -> String {
        format!("{} ({})", self.header, self.letter)
    }
}

#[derive(Debug, Clone)]
struct Layout {
    columns: Vec<Column>,
    by_field: HashMap<Field, usize>,
}

impl Layout {
    fn col(&self, f: Field) -> Option<&Column> {
        self.by_field.get(&f).map(|&i| &self.columns[i])
    }
}

/// A candidate header row's mapping, with notes about columns that lost a field to a better
/// match and the overridden fields it holds.
struct Candidate {
    layout: Layout,
    notes: Vec<String>,
    overridden: HashSet<Field>,
    /// A field two columns match equally well, with the columns.
    ambiguous: Option<(Field, Vec<String>)>,
}

/// Collects records and problems across the sheets of one file.
pub(crate) struct Importer<'o> {
    opts: &'o ImportOptions,
    kind: crate::FileKind,
    today: NaiveDate,
    result: ImportResult,
    /// (field, normalised key) → (sheet, row, TIN) of the first row holding it.
    seen: HashMap<(Field, String), (String, usize, Option<String>)>,
    /// Rows that link to one payee with different TINs: groups of (sheet, row).
    pub(crate) conflicts: Vec<Vec<(String, usize)>>,
    overrides_found: HashSet<Field>,
    sheets_looked_at: Vec<String>,
    /// The first error that refuses the whole file (reported by `finish`).
    fatal: Option<ImportError>,
    /// Sheets that could not be read at all.
    unreadable: Vec<String>,
}

impl<'o> Importer<'o> {
    pub(crate) fn new(opts: &'o ImportOptions, kind: crate::FileKind) -> Self {
        Importer {
            opts,
            kind,
            today: opts
                .today
                .unwrap_or_else(|| chrono::Local::now().date_naive()),
            result: ImportResult::default(),
            seen: HashMap::new(),
            conflicts: Vec::new(),
            overrides_found: HashSet::new(),
            sheets_looked_at: Vec::new(),
            fatal: None,
            unreadable: Vec::new(),
        }
    }

    pub(crate) fn max_sheet_cells(&self) -> u64 {
        self.opts.max_sheet_cells
    }

    /// Records a sheet the reader could not read (damaged XML, reader failure).
    pub(crate) fn unreadable_sheet(&mut self, name: &str, why: String) {
        self.unreadable.push(format!("sheet {name}: {why}"));
        self.skip_sheet(name, format!("cannot be read: {why}"));
    }

    fn fail(&mut self, e: ImportError) {
        if self.fatal.is_none() {
            self.fatal = Some(e);
        }
    }

    pub(crate) fn note(&mut self, s: String) {
        self.result.notes.push(s);
    }

    /// Records a sheet that was not read at all (hidden, chart, unreadable).
    pub(crate) fn skip_sheet(&mut self, name: &str, why: String) {
        self.note(format!("sheet {name}: skipped ({why})"));
        self.result.sheets.push(SheetSummary {
            name: name.to_string(),
            header_row: None,
            columns: Vec::new(),
            rows: 0,
            imported: 0,
            rejected: 0,
            skipped: Some(why),
        });
    }

    pub(crate) fn finish(mut self) -> Result<ImportResult, ImportError> {
        if let Some(e) = self.fatal.take() {
            return Err(e);
        }
        if self.result.sheets.iter().all(|s| s.header_row.is_none()) && !self.unreadable.is_empty()
        {
            return Err(ImportError::Damaged {
                kind: self.kind,
                reason: self.unreadable.join("; "),
            });
        }
        if self.result.sheets.iter().all(|s| s.header_row.is_none()) {
            return Err(ImportError::NoHeaderRow {
                sheets: self.sheets_looked_at,
                scanned: self.opts.header_scan_rows,
            });
        }
        for (field, header) in self.opts.columns.overrides() {
            if !self.overrides_found.contains(&field) {
                return Err(ImportError::MappedColumnNotFound {
                    field,
                    header: header.to_string(),
                });
            }
        }
        let read: Vec<String> = self
            .result
            .sheets
            .iter()
            .filter(|s| s.header_row.is_some())
            .map(|s| s.name.clone())
            .collect();
        if self
            .result
            .sheets
            .iter()
            .filter(|s| s.header_row.is_some())
            .all(|s| s.rows == 0)
        {
            return Err(ImportError::NoDataRows { sheets: read });
        }
        crate::conflicts::resolve(&mut self.result, &self.conflicts);
        self.result
            .problems
            .sort_by_key(|p| (sheet_pos(&self.result.sheets, &p.sheet), p.row));
        Ok(self.result)
    }

    /// Reads one sheet: `rows` yields (1-based row number, cells indexed by absolute 0-based
    /// column), in row order.
    pub(crate) fn sheet(
        &mut self,
        name: &str,
        rows: impl Iterator<Item = (usize, Vec<Cell>)>,
        extras: &SheetExtras,
    ) {
        self.sheets_looked_at.push(name.to_string());
        let mut rows = rows.filter(|(_, cells)| !cells.iter().all(Cell::is_blank));
        let mut head: Vec<(usize, Vec<Cell>)> = Vec::new();
        for r in rows.by_ref() {
            head.push(r);
            if head.len() >= self.opts.header_scan_rows.max(1) {
                break;
            }
        }
        let Some((hpos, layout)) = self.detect(name, &head, &extras.hidden_columns) else {
            self.skip_sheet(
                name,
                format!(
                    "no header row with a name column and a user_token, internal_user_id or \
                     email column in its first {} non-blank rows",
                    self.opts.header_scan_rows
                ),
            );
            return;
        };
        let header_row = head[hpos].0;
        let head_headers: Vec<String> = head[hpos]
            .1
            .iter()
            .enumerate()
            .filter(|(i, _)| !extras.hidden_columns.contains(i))
            .filter_map(|(i, c)| {
                c.header_text()
                    .map(|h| format!("{h} ({})", column_letter(i)))
            })
            .collect();
        let mut w9_rows = 0usize;
        let mut summary = SheetSummary {
            name: name.to_string(),
            header_row: Some(header_row),
            columns: layout
                .columns
                .iter()
                .map(|c| MappedColumn {
                    field: c.field,
                    header: c.header.clone(),
                    letter: c.letter.clone(),
                })
                .collect(),
            rows: 0,
            imported: 0,
            rejected: 0,
            skipped: None,
        };
        let data = head.into_iter().skip(hpos + 1).chain(rows);
        for (row, cells) in data {
            let mapped_blank = layout
                .columns
                .iter()
                .all(|c| cells.get(c.idx).is_none_or(Cell::is_blank));
            if mapped_blank {
                continue;
            }
            let repeats_header = layout.columns.iter().all(|c| {
                cells
                    .get(c.idx)
                    .and_then(Cell::header_text)
                    .is_some_and(|t| header_key(&t) == header_key(&c.header))
            });
            if repeats_header {
                self.note(format!(
                    "sheet {name} row {row}: repeats the header row; skipped"
                ));
                continue;
            }
            if let Some(text) = footer_text(&cells, &extras.hidden_columns) {
                self.note(format!(
                    "sheet {name} row {row}: {} looks like a total or footer line; skipped",
                    echo(&text).unwrap_or_else(|| "the text".into())
                ));
                continue;
            }
            summary.rows += 1;
            let mut ctx = RowCtx {
                sheet: name,
                row,
                layout: &layout,
                cells: &cells,
                extras,
                problems: Vec::new(),
                warnings: Vec::new(),
                duplicate_of: None,
                is_w9: false,
            };
            let record = self.validate(&mut ctx);
            let RowCtx {
                mut problems,
                warnings,
                duplicate_of,
                is_w9,
                ..
            } = ctx;
            if is_w9 {
                w9_rows += 1;
            }
            if let Some((dsheet, drow)) = duplicate_of {
                self.note(format!(
                    "sheet {name} row {row}: the same form as {dsheet} row {drow}; read once"
                ));
                summary.rows -= 1;
                continue;
            }
            if problems.is_empty()
                && let Some(mut rec) = record
            {
                rec.warnings = warnings;
                self.result.records.push(rec);
                summary.imported += 1;
            } else {
                summary.rejected += 1;
                problems.sort_by_key(|p| {
                    p.column_letter
                        .as_ref()
                        .map(|l| (l.len(), l.clone()))
                        .unwrap_or_default()
                });
                self.result.problems.extend(problems);
            }
        }
        let has_tin_col = [Field::Tin, Field::TinSsn, Field::TinEin]
            .iter()
            .any(|f| layout.by_field.contains_key(f));
        if self.opts.require_tin_column && !has_tin_col && w9_rows > 0 {
            let headers = head_headers;
            self.fail(ImportError::NoTinColumn {
                sheet: name.to_string(),
                headers,
            });
        }
        self.result.sheets.push(summary);
    }
}

fn sheet_pos(sheets: &[SheetSummary], name: &str) -> usize {
    sheets
        .iter()
        .position(|s| s.name == name)
        .unwrap_or(usize::MAX)
}

fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !e.chars().any(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// The United States (and its territories, which file W-9s too): the rules crate's residency
/// table decides codes (`US`, `USA`, `PRI`, ...); the spelled-out names a person types into a
/// sheet are turned into the code first.
pub(crate) fn is_us(country: &str) -> bool {
    use masspay_tax_rules::classify::{Residency, residency};
    let code = match header_key(country).as_str() {
        "unitedstates" | "unitedstatesofamerica" | "america" => "USA",
        "puertorico" => "PRI",
        "guam" => "GUM",
        "usvirginislands" | "virginislandsus" => "VIR",
        "americansamoa" => "ASM",
        "northernmarianaislands" => "MNP",
        // alpha-2 territory codes, until the rules crate reads them itself
        "pr" => "PRI",
        "gu" => "GUM",
        "vi" => "VIR",
        "as" => "ASM",
        "mp" => "MNP",
        _ => country,
    };
    residency(code) == Residency::Us
}

/// W-9 line 4 as people write it: `5`, `5 - A corporation`, `(5)`, `Code 5`.
fn exempt_code_number(text: &str) -> Option<u8> {
    let t = text.trim();
    let t = t
        .strip_prefix("Code")
        .or_else(|| t.strip_prefix("code"))
        .unwrap_or(t)
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(' || c == '#');
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let rest = t[digits.len()..].trim_start();
    let rest_ok = rest.is_empty()
        || rest.starts_with(['-', '–', ')', ':', '.', ' '])
        || rest.chars().next().is_some_and(char::is_alphabetic) && digits.is_empty();
    if digits.is_empty() || digits.len() > 2 || !rest_ok {
        return None;
    }
    digits.parse().ok()
}

/// A row that is a total / footer line rather than a form: its only non-blank cell is text
/// starting with "Total", "Grand total", "Count", "Number of" or "Sum".
fn footer_text(cells: &[Cell], hidden: &HashSet<usize>) -> Option<String> {
    let mut filled = cells
        .iter()
        .enumerate()
        .filter(|(i, c)| !hidden.contains(i) && !c.is_blank());
    let (_, only) = filled.next()?;
    if filled.next().is_some() {
        return None;
    }
    let Cell::Text(t) = only else { return None };
    let k = header_key(t);
    [
        "total",
        "grandtotal",
        "subtotal",
        "count",
        "numberof",
        "sum",
    ]
    .iter()
    .any(|p| k.starts_with(p))
    .then(|| t.trim().to_string())
}

/// One row being validated.
struct RowCtx<'a> {
    sheet: &'a str,
    row: usize,
    layout: &'a Layout,
    cells: &'a [Cell],
    extras: &'a SheetExtras,
    problems: Vec<RowProblem>,
    warnings: Vec<String>,
    /// An identical earlier row (the row is then read once).
    duplicate_of: Option<(String, usize)>,
    /// The row is a W-9.
    is_w9: bool,
}

const NAME_FIELDS: [Field; 4] = [
    Field::LegalName,
    Field::FirstName,
    Field::LastName,
    Field::BusinessName,
];

/// A share 0-100 as plain decimal text (`40`, `12.5`, `40%`), trailing zeros dropped; `None`
/// when it is not one.
fn percent_0_100(text: &str) -> Option<String> {
    let v = text.trim().trim_end_matches('%').trim();
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || int.len() > 3 {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 4 {
        return None;
    }
    let n: u32 = int.parse().ok()?;
    let frac = frac.trim_end_matches('0');
    if n > 100 || (n == 100 && !frac.is_empty()) {
        return None;
    }
    Some(if frac.is_empty() {
        n.to_string()
    } else {
        format!("{n}.{frac}")
    })
}
