//! The 1099-NEC worksheet, one row per reportable payee.
//!
//! Columns (a public interface: scripts read them by name; add new ones at the end, rename none):
//! `user_token, name, business_name, tin_type, tin, tin_status, box1, box4, address1, address2,
//! city, state, zip, country, email, tin_source, name_control, flags`.

use crate::atomic::AtomicFile;
use crate::cell::neutralize;
use rust_decimal::Decimal;
use std::io::Write;
use std::path::Path;

pub const COLUMNS: [&str; 18] = [
    "user_token",
    "name",
    "business_name",
    "tin_type",
    "tin",
    "tin_status",
    "box1",
    "box4",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "email",
    "tin_source",
    "name_control",
    "flags",
];

/// One worksheet row. `tin` is already masked unless the user asked for full TINs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NecRow {
    pub user_token: String,
    pub name: String,
    pub business_name: String,
    pub tin_type: String,
    pub tin: String,
    pub tin_status: String,
    /// Box 1, nonemployee compensation (rounded to cents).
    pub box1: Decimal,
    /// Box 4, federal income tax withheld.
    pub box4: Decimal,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
    pub email: String,
    /// `api` (MassPay's tax_id) or `w9` (an imported W-9), or empty.
    pub tin_source: String,
    pub name_control: String,
    /// `;`-separated markers: `business`, `zip_repaired`, `backup_withholding`, `ambiguous_tin_type`.
    pub flags: String,
}

/// Writes rows to a CSV sink, neutralising every text cell.
pub struct NecCsvWriter<W: Write> {
    csv: csv::Writer<W>,
    rows: usize,
}

impl<W: Write> NecCsvWriter<W> {
    pub fn new(sink: W) -> csv::Result<Self> {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(sink);
        csv.write_record(COLUMNS)?;
        Ok(NecCsvWriter { csv, rows: 0 })
    }

    pub fn write(&mut self, r: &NecRow) -> csv::Result<()> {
        let box1 = masspay_tax_rules::format_amount(r.box1);
        let box4 = masspay_tax_rules::format_amount(r.box4);
        let n = |s: &str| neutralize(s).into_owned();
        self.csv.write_record([
            n(&r.user_token),
            n(&r.name),
            n(&r.business_name),
            n(&r.tin_type),
            r.tin.clone(),
            n(&r.tin_status),
            box1,
            box4,
            n(&r.address1),
            n(&r.address2),
            n(&r.city),
            n(&r.state),
            n(&r.zip),
            n(&r.country),
            n(&r.email),
            n(&r.tin_source),
            n(&r.name_control),
            n(&r.flags),
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

/// The worksheet's file name for a year: `1099-NEC-2025.csv`.
pub fn file_name(year: i32) -> String {
    format!("1099-NEC-{year}.csv")
}

/// Opens an atomic CSV worksheet at `dir/1099-NEC-{year}.csv`.
pub fn create(
    dir: &Path,
    year: i32,
) -> std::io::Result<NecCsvWriter<std::io::BufWriter<AtomicFile>>> {
    let f = AtomicFile::create(dir.join(file_name(year)))?;
    NecCsvWriter::new(std::io::BufWriter::with_capacity(256 * 1024, f))
        .map_err(std::io::Error::other)
}

/// Finishes a worksheet from [`create`]: flush, sync, rename into place.
pub fn finish(
    w: NecCsvWriter<std::io::BufWriter<AtomicFile>>,
) -> std::io::Result<std::path::PathBuf> {
    let buf = w.into_inner()?;
    let file = buf.into_inner().map_err(|e| e.into_error())?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn row() -> NecRow {
        NecRow {
            user_token: "usr_1".into(),
            name: "=HYPERLINK(\"http://evil\",\"x\")".into(),
            business_name: "".into(),
            tin_type: "ssn".into(),
            tin: "***-**-6789".into(),
            tin_status: "valid".into(),
            box1: dec!(600),
            box4: dec!(0),
            address1: "1 Main St".into(),
            address2: "".into(),
            city: "Boston".into(),
            state: "MA".into(),
            zip: "02108".into(),
            country: "USA".into(),
            email: "@x.test".into(),
            tin_source: "api".into(),
            name_control: "HYPE".into(),
            flags: "".into(),
        }
    }

    #[test]
    fn header_amounts_and_neutralised_cells() {
        let mut w = NecCsvWriter::new(Vec::new()).unwrap();
        w.write(&row()).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let mut lines = text.split("\r\n");
        assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
        let line = lines.next().unwrap();
        assert!(
            line.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""),
            "{line}"
        );
        assert!(line.contains(",600.00,0.00,"), "{line}");
        assert!(line.contains(",'@x.test,"), "{line}");
    }

    #[test]
    fn atomic_worksheet_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = create(dir.path(), 2025).unwrap();
        w.write(&row()).unwrap();
        let path = finish(w).unwrap();
        assert_eq!(path.file_name().unwrap(), "1099-NEC-2025.csv");
        assert!(
            std::fs::read_to_string(path)
                .unwrap()
                .starts_with("user_token,name,")
        );
    }
}
