//! The Form 1042-S worksheet (one row per form: payee × income code × rate) and the Form 1042
//! summary file.
//!
//! Columns of `1042-S-YEAR.csv` (a public interface: add new ones at the end, rename none):
//! `user_token, name, business_name, country, address1, city, state, zip, income_code,
//! gross_income, us_source_percent, ch3_status, ch3_exemption, ch4_status, ch4_exemption, rate,
//! tax_withheld, tax_due, under_withheld, foreign_tin, us_tin, date_of_birth, lob_code,
//! form_on_file, issues`.
//!
//! `1042-summary-YEAR.csv` has the columns of [`SUMMARY_COLUMNS`]; its `kind` column says what a
//! line is (`total`, `grand_total`, `left_off`, `conflict`, `warning`).
//!
//! Every text cell is formula-neutralised ([`crate::neutralize`]); amounts are plain decimals with
//! two places; files appear only when complete ([`crate::AtomicFile`]).

use crate::atomic::AtomicFile;
use crate::cell::neutralize;
use rust_decimal::Decimal;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub const COLUMNS: [&str; 25] = [
    "user_token",
    "name",
    "business_name",
    "country",
    "address1",
    "city",
    "state",
    "zip",
    "income_code",
    "gross_income",
    "us_source_percent",
    "ch3_status",
    "ch3_exemption",
    "ch4_status",
    "ch4_exemption",
    "rate",
    "tax_withheld",
    "tax_due",
    "under_withheld",
    "foreign_tin",
    "us_tin",
    "date_of_birth",
    "lob_code",
    "form_on_file",
    "issues",
];

/// The columns of the Form 1042 summary file.
pub const SUMMARY_COLUMNS: [&str; 11] = [
    "kind",
    "income_code",
    "rate",
    "forms",
    "gross_income",
    "tax_withheld",
    "tax_due",
    "under_withheld",
    "user_token",
    "reason",
    "note",
];

/// One 1042-S worksheet row (one form). TINs and the date of birth are already masked unless
/// the user asked for them in full.
#[derive(Clone, PartialEq, Eq)]
pub struct F1042sRow {
    pub user_token: String,
    pub name: String,
    pub business_name: String,
    /// Country of residence (ISO 3166 code).
    pub country: String,
    pub address1: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    /// Box 1, two digits (`17`).
    pub income_code: String,
    /// Box 2, the US-source gross income of this form (cents).
    pub gross_income: Decimal,
    /// The US-source share applied (0-100).
    pub us_source_percent: Decimal,
    /// Box 13f.
    pub ch3_status: String,
    /// Box 3a.
    pub ch3_exemption: String,
    /// Box 13g.
    pub ch4_status: String,
    /// Box 4a.
    pub ch4_exemption: String,
    /// Box 3b, percent (`30.00`).
    pub rate: Decimal,
    /// Box 7a/10: tax withheld.
    pub tax_withheld: Decimal,
    /// rate × gross_income, rounded half-up to cents.
    pub tax_due: Decimal,
    /// tax_due − tax_withheld.
    pub under_withheld: Decimal,
    /// Box 13i (secret unless masked).
    pub foreign_tin: String,
    /// Box 13e (secret unless masked).
    pub us_tin: String,
    /// Box 13l, `YYYYMMDD` (personal data unless masked).
    pub date_of_birth: String,
    /// Box 13j.
    pub lob_code: String,
    /// `W-8BEN`, `W-8BEN-E`, `8233`, ... or empty.
    pub form_on_file: String,
    /// `;`-separated issues: missing required fields, failed treaty checks.
    pub issues: String,
}

impl std::fmt::Debug for F1042sRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("F1042sRow")
            .field("user_token", &self.user_token)
            .field("income_code", &self.income_code)
            .field("gross_income", &self.gross_income)
            .field("rate", &self.rate)
            .field("tax_due", &self.tax_due)
            .field("issues", &self.issues)
            .finish_non_exhaustive()
    }
}

/// A rate as the form prints it: `30.00`, `0.00`, `4.90`.
pub fn format_rate(rate: Decimal) -> String {
    let mut r = rate.round_dp(2);
    r.rescale(2);
    r.to_string()
}

/// Writes 1042-S rows to a CSV sink.
pub struct F1042sCsvWriter<W: Write> {
    csv: csv::Writer<W>,
    rows: usize,
}

impl<W: Write> F1042sCsvWriter<W> {
    pub fn new(sink: W) -> csv::Result<Self> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(sink);
        csv.write_record(COLUMNS)?;
        Ok(F1042sCsvWriter { csv, rows: 0 })
    }

    pub fn write(&mut self, r: &F1042sRow) -> csv::Result<()> {
        let n = |s: &str| neutralize(s).into_owned();
        let a = masspay_tax_rules::format_amount;
        self.csv.write_record([
            n(&r.user_token),
            n(&r.name),
            n(&r.business_name),
            n(&r.country),
            n(&r.address1),
            n(&r.city),
            n(&r.state),
            n(&r.zip),
            n(&r.income_code),
            a(r.gross_income),
            format_rate(r.us_source_percent),
            n(&r.ch3_status),
            n(&r.ch3_exemption),
            n(&r.ch4_status),
            n(&r.ch4_exemption),
            format_rate(r.rate),
            a(r.tax_withheld),
            a(r.tax_due),
            a(r.under_withheld),
            n(&r.foreign_tin),
            n(&r.us_tin),
            n(&r.date_of_birth),
            n(&r.lob_code),
            n(&r.form_on_file),
            n(&r.issues),
        ])?;
        self.rows += 1;
        Ok(())
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn into_inner(self) -> Result<W, std::io::Error> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}

/// `1042-S-2025.csv`.
pub fn file_name(year: i32) -> String {
    format!("1042-S-{year}.csv")
}

/// `1042-summary-2025.csv`.
pub fn summary_file_name(year: i32) -> String {
    format!("1042-summary-{year}.csv")
}

/// Opens an atomic worksheet at `dir/1042-S-{year}.csv`.
pub fn create(dir: &Path, year: i32) -> std::io::Result<F1042sCsvWriter<BufWriter<AtomicFile>>> {
    let f = AtomicFile::create(dir.join(file_name(year)))?;
    F1042sCsvWriter::new(BufWriter::with_capacity(256 * 1024, f)).map_err(std::io::Error::other)
}

/// Finishes a worksheet from [`create`]: flush, sync, rename into place.
pub fn finish(w: F1042sCsvWriter<BufWriter<AtomicFile>>) -> std::io::Result<PathBuf> {
    let buf = w.into_inner()?;
    let file = buf.into_inner().map_err(|e| e.into_error())?;
    file.commit()
}

/// One line of the Form 1042 summary file, as text cells in [`SUMMARY_COLUMNS`] order.
pub type SummaryLine = [String; 11];

/// Renders summary lines as CSV text (every cell neutralised).
pub fn summary_csv(lines: &[SummaryLine]) -> csv::Result<Vec<u8>> {
    let mut csv = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    csv.write_record(SUMMARY_COLUMNS)?;
    for l in lines {
        csv.write_record(l.iter().map(|c| neutralize(c).into_owned()))?;
    }
    csv.into_inner().map_err(|e| e.into_error().into())
}

/// Writes `dir/1042-summary-{year}.csv` atomically.
pub fn write_summary(dir: &Path, year: i32, lines: &[SummaryLine]) -> std::io::Result<PathBuf> {
    let bytes = summary_csv(lines).map_err(std::io::Error::other)?;
    let mut f = AtomicFile::create(dir.join(summary_file_name(year)))?;
    f.write_all(&bytes)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn row() -> F1042sRow {
        F1042sRow {
            user_token: "usr_1".into(),
            name: "=cmd|' /C calc'!A0".into(),
            business_name: String::new(),
            country: "MEX".into(),
            address1: "Av. Reforma 1".into(),
            city: "CDMX".into(),
            state: String::new(),
            zip: "03940".into(),
            income_code: "17".into(),
            gross_income: dec!(4100),
            us_source_percent: dec!(100),
            ch3_status: "16".into(),
            ch3_exemption: "00".into(),
            ch4_status: "23".into(),
            ch4_exemption: "15".into(),
            rate: dec!(30),
            tax_withheld: dec!(0),
            tax_due: dec!(1230),
            under_withheld: dec!(1230),
            foreign_tin: "****AB1".into(),
            us_tin: String::new(),
            date_of_birth: "********".into(),
            lob_code: String::new(),
            form_on_file: "W-8BEN".into(),
            issues: "-x".into(),
        }
    }

    #[test]
    fn header_rate_and_neutralised_cells() {
        let mut w = F1042sCsvWriter::new(Vec::new()).unwrap();
        w.write(&row()).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let mut lines = text.split("\r\n");
        assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
        let line = lines.next().unwrap();
        assert!(line.starts_with("usr_1,'=cmd|"), "{line}");
        assert!(
            line.contains(",17,4100.00,100.00,16,00,23,15,30.00,0.00,1230.00,1230.00,"),
            "{line}"
        );
        assert!(line.ends_with(",W-8BEN,'-x"), "{line}");
        assert_eq!(format_rate(dec!(4.9)), "4.90");
        assert!(!format!("{:?}", row()).contains("AB1"));
    }

    #[test]
    fn atomic_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = create(dir.path(), 2025).unwrap();
        w.write(&row()).unwrap();
        let p = finish(w).unwrap();
        assert_eq!(p.file_name().unwrap(), "1042-S-2025.csv");
        let line: SummaryLine =
            std::array::from_fn(|i| if i == 0 { "=x".into() } else { String::new() });
        let p = write_summary(dir.path(), 2025, &[line]).unwrap();
        let text = std::fs::read_to_string(p).unwrap();
        assert!(text.starts_with("kind,income_code,rate,"));
        assert!(text.contains("\r\n'=x,"));
    }
}
