//! Reads W-9 / W-8 data that compliance teams keep in spreadsheets, for the TIN audit.
//!
//! Pure parsing: [`read_file`] takes an `.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods` (calamine) or
//! `.csv`/`.tsv` (csv crate) file and returns the rows that can be imported
//! ([`TaxFormRecord`]) and, for every row that cannot, a [`RowProblem`] naming the sheet, the
//! spreadsheet row number as a person sees it (1-based), the column (header and letter) and the
//! reason. No database, no network: linking rows to payees and storing them is the caller's job
//! (`masspay-tax-store`'s `tax_forms` module).
//!
//! `cargo run -p masspay-tax-import --example dump -- FILE [FIELD=Header]...` prints what a
//! file reads as (records with secrets redacted, problems, notes).
//!
//! # How a sheet is read
//!
//! * **Header row.** The first [`ImportOptions::header_scan_rows`] non-blank rows of each sheet
//!   are scanned for the row naming the most known columns (see [`Field::header_variants`]:
//!   case, blanks and punctuation are ignored, `( ... )` remarks and W-9 line numbers such as
//!   `"1 Name"` too). It must name a legal-name column (or first + last name) and a link column
//!   (`user_token`, `internal_user_id` or `email`). Title lines above it are ignored. A sheet
//!   with no such row is skipped (see [`SheetSummary::skipped`]); the file is an error only when
//!   no sheet has one. Hidden sheets and chart sheets are skipped.
//! * **Overrides.** [`ColumnMap`] (`--map FIELD=Header`) maps a field to a header text first.
//! * **Rows.** Blank rows and a repeated header row are skipped silently. Every other row is
//!   validated; **a row with any problem is not imported** (all its problems are reported);
//!   warnings ([`TaxFormRecord::warnings`]) never block a row.
//!
//! # Row rules
//!
//! | check | outcome |
//! |---|---|
//! | no `user_token`, `internal_user_id` or email | error (no column) |
//! | the same `user_token` / `internal_user_id` / email (case-insensitive) on an earlier row of the file | error on the later row, naming the earlier one |
//! | blanks inside a user token; an email without `@` and a dotted domain | error |
//! | no legal name | error |
//! | a name (legal, business, first, last) starting with `=`, `+`, `-` or `@`, or held in a formula cell | error (formula injection) |
//! | tab / line break inside any text | replaced by a blank, warning |
//! | form type not W-9 / W-8xxx | error; no form column (or a blank cell) means W-9, unless W-8 fields are filled: then error |
//! | federal tax classification not recognised ([`EntityType::parse`]) | error; `LLC` without C/S/P: warning |
//! | declared TIN type not recognised (`TinType: FromStr`) | error |
//! | TIN malformed or invalid (`masspay_tax_rules::tin::check_tin`) | error with the rule's reasons; the rule's warnings (ambiguous bare number, ...) become warnings |
//! | TIN typed as a number that lost 1-2 leading zeros | zero-padded back to 9 digits, warning; lost more: error |
//! | TIN "Applied For", a placeholder, or none on a W-9 | no TIN, warning |
//! | exempt payee code not 1-13 | error |
//! | a date that cannot be read (see below), a date of birth in the future or before 1900 | error |
//! | signature date in the future | warning |
//! | W-9 with a non-US address country; W-8 with a US (or no) country of residence; W-8 fields on a W-9; an entity classification with an SSN | warning |
//! | ZIP code typed as a number that lost leading zeros (US address) | zero-padded, warning |
//! | a spreadsheet error value (`#N/A`) in a used column | error |
//!
//! Dates: date cells, or text `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY`, `MM-DD-YYYY`,
//! `Jan 15, 2026`, `15 Jan 2026`. Day-first (`15/01/2026`) and two-digit years are refused.
//!
//! # Secrets
//!
//! The TIN, the foreign TIN and the date of birth never appear in a message, a `Debug` output
//! or a panic: [`TaxFormRecord`]'s `Debug` redacts them, and messages quote a cell only when it
//! holds at most four digits.

mod cells;
mod columns;
mod conflicts;
mod engine;
mod forms;
mod read;

use chrono::NaiveDate;
use masspay_tax_rules::tin::{TinRules, TinType};
use std::fmt;
use std::path::{Path, PathBuf};

pub use columns::{ColumnMap, ColumnMapError, Field, column_letter, header_key};
pub use conflicts::{conflict_reason, rows_phrase};
pub use forms::{EntityType, FormType, LlcTaxClass};

/// One imported form (a row that passed every check).
#[derive(Clone, PartialEq, Eq)]
pub struct TaxFormRecord {
    /// The sheet it came from (the file name without extension for CSV).
    pub sheet: String,
    /// Spreadsheet row number, 1-based.
    pub row: usize,
    /// Link to the payee: MassPay user token ...
    pub user_token: Option<String>,
    /// ... or your internal id ...
    pub internal_user_id: Option<String>,
    /// ... or email (as written).
    pub email: Option<String>,
    /// W-9 when the file has no form column.
    pub form_type: FormType,
    /// Line 1 name.
    pub legal_name: String,
    /// W-9 line 2.
    pub business_name: Option<String>,
    /// W-9 line 3a.
    pub entity_type: Option<EntityType>,
    /// **Secret.** The US TIN as 9 digits (checked valid), if any.
    pub tin: Option<String>,
    /// The TIN type the form declares.
    pub declared_tin_type: Option<TinType>,
    /// The TIN type the IRS rules resolve (`Unknown` for an undeclared bare number), when there
    /// is a TIN.
    pub tin_type: Option<TinType>,
    /// W-9 line 4, `"1"` ..= `"13"`.
    pub exempt_payee_code: Option<String>,
    /// Street.
    pub address1: Option<String>,
    /// Apartment / suite.
    pub address2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State / province.
    pub state: Option<String>,
    /// ZIP / postal code (leading zeros restored for US numbers).
    pub zip: Option<String>,
    /// Address country, as written.
    pub country: Option<String>,
    /// Date the form was signed.
    pub signature_date: Option<NaiveDate>,
    /// W-8: country of citizenship / residence, as written.
    pub country_of_residence: Option<String>,
    /// **Secret.** W-8 foreign tax identifying number, as written (trimmed).
    pub foreign_tin: Option<String>,
    /// **Personal data.** W-8BEN date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// W-8 treaty claim: the text of a treaty column, or `country: ...; article: ...; rate: ...`
    /// from separate columns.
    pub treaty_claim: Option<String>,
    /// W-8 / Form 8233: where the services were performed (`outside_us` / `in_us`).
    pub services_performed: Option<String>,
    /// W-8 / Form 8233: the US-source share of the pay, 0-100 (decimal text, `%` dropped).
    pub us_source_percent: Option<String>,
    /// Things to look at that did not block the row, each prefixed with its column
    /// (`"TIN (G): ..."`).
    pub warnings: Vec<String>,
}

impl TaxFormRecord {
    /// The last four digits of the TIN (safe to show).
    pub fn tin_last4(&self) -> Option<&str> {
        self.tin
            .as_deref()
            .and_then(|t| t.get(t.len().saturating_sub(4)..))
    }
}

impl fmt::Debug for TaxFormRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |o: bool| if o { Some("<redacted>") } else { None };
        f.debug_struct("TaxFormRecord")
            .field("sheet", &self.sheet)
            .field("row", &self.row)
            .field("user_token", &self.user_token)
            .field("internal_user_id", &self.internal_user_id)
            .field("email", &self.email)
            .field("form_type", &self.form_type)
            .field("legal_name", &self.legal_name)
            .field("business_name", &self.business_name)
            .field("entity_type", &self.entity_type)
            .field("tin_last4", &self.tin_last4())
            .field("declared_tin_type", &self.declared_tin_type)
            .field("tin_type", &self.tin_type)
            .field("exempt_payee_code", &self.exempt_payee_code)
            .field("address1", &self.address1)
            .field("address2", &self.address2)
            .field("city", &self.city)
            .field("state", &self.state)
            .field("zip", &self.zip)
            .field("country", &self.country)
            .field("signature_date", &self.signature_date)
            .field("country_of_residence", &self.country_of_residence)
            .field("foreign_tin", &redact(self.foreign_tin.is_some()))
            .field("date_of_birth", &redact(self.date_of_birth.is_some()))
            .field("treaty_claim", &self.treaty_claim)
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Why a row was not imported (one per broken rule). Serialisable (it holds no secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    /// Sheet name.
    pub sheet: String,
    /// Spreadsheet row number, 1-based.
    pub row: usize,
    /// The column as `"Header (D)"`, when the problem is about one cell.
    pub column: Option<String>,
    /// The column letter alone (`"D"`).
    pub column_letter: Option<String>,
    /// The field the column was mapped to.
    pub field: Option<Field>,
    /// What is wrong. Never holds a TIN, a foreign TIN or a date of birth.
    pub reason: String,
}

impl fmt::Display for RowProblem {
    /// `Forms row 7, column TIN (G): TIN has 8 digit(s); ...` or `Forms row 9: no user_token, ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} row {}", self.sheet, self.row)?;
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A column the header row mapped to a field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MappedColumn {
    /// The field.
    pub field: Field,
    /// The header text as written.
    pub header: String,
    /// Column letter.
    pub letter: String,
}

/// What happened to one sheet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SheetSummary {
    /// Sheet name.
    pub name: String,
    /// The header row (1-based), `None` when the sheet was skipped.
    pub header_row: Option<usize>,
    /// Mapped columns, left to right.
    pub columns: Vec<MappedColumn>,
    /// Non-blank data rows seen.
    pub rows: usize,
    /// Rows imported.
    pub imported: usize,
    /// Rows with problems.
    pub rejected: usize,
    /// Why the sheet was skipped (no header row, hidden, unreadable).
    pub skipped: Option<String>,
}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportResult {
    /// Rows that passed every check, in file order.
    pub records: Vec<TaxFormRecord>,
    /// Problems of the rows that did not, in file order (then column order).
    pub problems: Vec<RowProblem>,
    /// Every sheet, read or skipped, in workbook order.
    pub sheets: Vec<SheetSummary>,
    /// File-level remarks: unused columns, columns competing for a field, sheets skipped,
    /// encoding fallbacks.
    pub notes: Vec<String>,
}

impl ImportResult {
    /// Names of the sheets that had a header row and were read.
    pub fn sheets_read(&self) -> Vec<&str> {
        self.sheets
            .iter()
            .filter(|s| s.header_row.is_some())
            .map(|s| s.name.as_str())
            .collect()
    }

    /// The header row (1-based) of `sheet`, if it was read.
    pub fn header_row(&self, sheet: &str) -> Option<usize> {
        self.sheets
            .iter()
            .find(|s| s.name == sheet)
            .and_then(|s| s.header_row)
    }
}

/// How to read a file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// `--map FIELD=Header` overrides.
    pub columns: ColumnMap,
    /// The TIN rules (EIN prefixes, policy) to check TINs with.
    pub tin_rules: TinRules,
    /// "Today" for the future-date checks; `None` = the local date.
    pub today: Option<NaiveDate>,
    /// How many non-blank rows at the top of a sheet may hold the header row (default 20).
    pub header_scan_rows: usize,
    /// Refuse ([`ImportError::NoTinColumn`]) a sheet that has W-9 rows but no TIN column,
    /// instead of importing the W-9s without TINs (the CLI sets it; default `false`).
    pub require_tin_column: bool,
    /// Largest used range (rows × columns) a workbook sheet may declare (default 20 million
    /// cells); beyond it the file is refused before its cells are laid out in memory.
    pub max_sheet_cells: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            columns: ColumnMap::default(),
            tin_rules: TinRules::default(),
            today: None,
            header_scan_rows: 20,
            require_tin_column: false,
            max_sheet_cells: 20_000_000,
        }
    }
}

impl From<ColumnMap> for ImportOptions {
    fn from(columns: ColumnMap) -> Self {
        ImportOptions {
            columns,
            ..ImportOptions::default()
        }
    }
}

/// The kinds of file [`read_file`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.xlsx`, `.xlsm`.
    Xlsx,
    /// `.xlsb`.
    Xlsb,
    /// `.xls` (Excel 97-2003).
    Xls,
    /// `.ods` (OpenDocument).
    Ods,
    /// `.csv`, `.tsv` (UTF-8, with or without BOM, or Windows-1252; `,` `;` or tab separated).
    Csv,
}

impl FileKind {
    /// From the file extension, case-insensitively.
    pub fn from_path(path: &Path) -> Result<FileKind, ImportError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        Ok(match ext.as_str() {
            "xlsx" | "xlsm" => FileKind::Xlsx,
            "xlsb" => FileKind::Xlsb,
            "xls" => FileKind::Xls,
            "ods" => FileKind::Ods,
            "csv" | "tsv" => FileKind::Csv,
            _ => {
                return Err(ImportError::UnsupportedFileType {
                    extension: ext.chars().take(20).collect(),
                });
            }
        })
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Xlsx => "xlsx",
            FileKind::Xlsb => "xlsb",
            FileKind::Xls => "xls",
            FileKind::Ods => "ods",
            FileKind::Csv => "csv",
        })
    }
}

/// Why a file could not be read at all (row problems are not errors: see [`RowProblem`]).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not one of the supported extensions.
    #[error(
        "unsupported file type {extension:?}: use .xlsx, .xlsm, .xlsb, .xls, .ods, .csv or .tsv"
    )]
    UnsupportedFileType {
        /// The extension, lower-cased (empty when there is none).
        extension: String,
    },
    /// The file could not be read from disk.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The content is not a valid file of its kind.
    #[error("not a readable {kind} file: {reason}")]
    Unreadable {
        /// The kind expected from the extension.
        kind: FileKind,
        /// The reader's complaint (long digit runs removed).
        reason: String,
    },
    /// No sheet has a header row.
    #[error(
        "no header row found: {where_} no row in the first {scanned} non-blank rows names both a \
         name column (\"Name\", \"Legal Name\", ...) and a user_token, internal_user_id or email \
         column; rename the headers or use --map FIELD=HEADER (fields: {fields})",
        where_ = if sheets.is_empty() { "the file has no sheet;".to_string() } else { format!("on sheet(s) {},", sheets.join(", ")) },
        fields = Field::ALL.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
    )]
    NoHeaderRow {
        /// The sheets looked at.
        sheets: Vec<String>,
        /// Rows scanned per sheet.
        scanned: usize,
    },
    /// The file has no bytes at all.
    #[error("the file is empty (0 bytes): export the sheet again")]
    EmptyFile,
    /// The content is another kind of document (a PDF, an HTML page, plain text) under a
    /// spreadsheet's name.
    #[error(
        "not a spreadsheet: the file is {looks_like}, not a {kind} file; export the sheet as .xlsx or .csv"
    )]
    NotASpreadsheet {
        /// The kind expected from the extension.
        kind: FileKind,
        /// What the content looks like (`"a PDF document"`, `"an HTML page"`, `"plain text"`, ...).
        looks_like: String,
    },
    /// A workbook whose parts cannot be read (broken zip or sheet XML).
    #[error(
        "damaged workbook: the {kind} file cannot be read ({reason}); open it in Excel or LibreOffice and save it again"
    )]
    Damaged {
        /// The kind expected from the extension.
        kind: FileKind,
        /// What failed (long digit runs removed).
        reason: String,
    },
    /// The workbook is encrypted with a password.
    #[error(
        "the workbook is password-protected: remove the password (File > Info > Protect Workbook) and import again"
    )]
    PasswordProtected,
    /// A header row was found but no data row under it.
    #[error("no rows: {} has a header row but no data rows under it", sheets.join(", "))]
    NoDataRows {
        /// The sheets read.
        sheets: Vec<String>,
    },
    /// W-9 rows, but no column holds the TIN.
    #[error(
        "sheet {sheet}: W-9 rows but no TIN column; headers seen: {}; use --map tin=HEADER to name it \
         (the W-9s are not imported without their TINs)",
        headers.join(", ")
    )]
    NoTinColumn {
        /// The sheet.
        sheet: String,
        /// The header texts seen, as `"Header (C)"`.
        headers: Vec<String>,
    },
    /// Two visible columns are equally good matches for one field.
    #[error(
        "sheet {sheet}: columns {} all look like {field}; say which one with --map {field}=HEADER",
        columns.join(" and ")
    )]
    AmbiguousColumns {
        /// The sheet.
        sheet: String,
        /// The field.
        field: Field,
        /// The competing columns, as `"Header (C)"`.
        columns: Vec<String>,
    },
    /// A sheet's used range is absurdly large (stray cells far away).
    #[error(
        "sheet {sheet}: the used range {range} spans {cells} cells (more than {limit}); delete the \
         stray cells outside the table (Ctrl+End shows the last one) and save again"
    )]
    UsedRangeTooLarge {
        /// The sheet.
        sheet: String,
        /// The range, as `A1:XFD1048576`.
        range: String,
        /// Rows × columns.
        cells: u64,
        /// The limit ([`ImportOptions::max_sheet_cells`]).
        limit: u64,
    },
    /// A `--map` header was found on no sheet that was read.
    #[error("--map {field}={header:?}: no sheet has a column with that header")]
    MappedColumnNotFound {
        /// The field.
        field: Field,
        /// The header text given.
        header: String,
    },
}

impl ImportError {
    /// The process exit code the CLI uses: 3 for a file that was read but holds nothing that
    /// can be imported as it stands ([`ImportError::NoDataRows`], [`ImportError::NoTinColumn`],
    /// [`ImportError::AmbiguousColumns`]), 1 for a file that cannot be read.
    pub fn exit_code(&self) -> u8 {
        match self {
            ImportError::NoDataRows { .. }
            | ImportError::NoTinColumn { .. }
            | ImportError::AmbiguousColumns { .. } => 3,
            _ => 1,
        }
    }
}

/// Reads `path` (kind from its extension, case-insensitive).
pub fn read_file(path: &Path, options: &ImportOptions) -> Result<ImportResult, ImportError> {
    let kind = FileKind::from_path(path)?;
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.is_empty() {
        return Err(ImportError::EmptyFile);
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "csv".to_string());
    read_bytes(&bytes, kind, &name, options)
}

/// Reads a file's content. `csv_sheet_name` names the single "sheet" of a CSV file (the file
/// name without extension, for [`read_file`]); workbooks use their own sheet names.
pub fn read_bytes(
    bytes: &[u8],
    kind: FileKind,
    csv_sheet_name: &str,
    options: &ImportOptions,
) -> Result<ImportResult, ImportError> {
    read::sniff(bytes, kind)?;
    let mut importer = engine::Importer::new(options, kind);
    match kind {
        FileKind::Csv => read::csv(bytes, csv_sheet_name, &mut importer)?,
        _ => read::workbook(bytes, kind, &mut importer)?,
    }
    importer.finish()
}
