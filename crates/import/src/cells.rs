//! One cell, whatever the file format: calamine's `Data` and CSV text both become a [`Cell`].

use calamine::{Data, DataType};
use chrono::NaiveDate;

/// A cell's value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Empty,
    Text(String),
    /// A numeric cell: `whole` when it is a whole number, `text` as a spreadsheet would show it.
    Number {
        whole: Option<i64>,
        text: String,
    },
    Bool(bool),
    Date(NaiveDate),
    /// A date/time cell that is not a calendar date (a time of day, a duration, out of range).
    NotADate,
    /// A spreadsheet error value (`#N/A`, `#REF!`, ...).
    Error(String),
}

/// Shows the kind of value only: a cell may hold a TIN.
impl std::fmt::Debug for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Empty => f.write_str("Empty"),
            Cell::Text(s) => write!(f, "Text(<{} chars>)", s.chars().count()),
            Cell::Number { whole, .. } => write!(f, "Number(whole: {})", whole.is_some()),
            Cell::Bool(_) => f.write_str("Bool"),
            Cell::Date(_) => f.write_str("Date"),
            Cell::NotADate => f.write_str("NotADate"),
            Cell::Error(e) => write!(f, "Error({e})"),
        }
    }
}

impl Cell {
    pub(crate) fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as header text.
    pub(crate) fn header_text(&self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(clean(s).0),
            Cell::Number { text, .. } => Some(text.clone()),
            _ => None,
        }
    }

    pub(crate) fn from_text(s: &str) -> Cell {
        if s.trim().is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_string())
        }
    }

    pub(crate) fn from_data(d: &Data) -> Cell {
        match d {
            Data::Empty => Cell::Empty,
            Data::String(s) => Cell::from_text(s),
            Data::Int(i) => Cell::Number {
                whole: Some(*i),
                text: i.to_string(),
            },
            // calamine hands numbers over as f64: converted here, at once, to a whole number
            // (when it is one) and its shortest decimal text; no f64 goes further.
            Data::Float(f) => number_from_f64(*f),
            Data::Bool(b) => Cell::Bool(*b),
            Data::DateTime(dt) => {
                // calamine's own conversion panics (in chrono) on absurd serials: check the
                // range Excel itself supports (0 .. 9999-12-31) first.
                let serial = dt.as_f64();
                if dt.is_datetime() && (0.0..2_958_466.0).contains(&serial) {
                    dt.as_datetime()
                        .map(|t| Cell::Date(t.date()))
                        .unwrap_or(Cell::NotADate)
                } else {
                    Cell::NotADate
                }
            }
            Data::DateTimeIso(s) => match d.as_date() {
                Some(date) => Cell::Date(date),
                None => {
                    // A time-only ISO value ("T10:00:00") is not a date; other text stays text.
                    if s.contains(':') && !s.contains('-') {
                        Cell::NotADate
                    } else {
                        Cell::from_text(s)
                    }
                }
            },
            Data::DurationIso(_) => Cell::NotADate,
            Data::Error(e) => Cell::Error(e.to_string()),
        }
    }
}

/// calamine's only f64: see [`Cell::from_data`].
fn number_from_f64(f: f64) -> Cell {
    if !f.is_finite() {
        return Cell::Error("#NUM!".into());
    }
    // 2^53: every whole f64 below it is exact, and it fits an i64.
    let whole = (f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0).then_some(f as i64);
    let text = match whole {
        Some(w) => w.to_string(),
        None => format!("{f}"),
    };
    Cell::Number { whole, text }
}

/// Trims, turns tabs, line breaks and other control characters into single blanks and collapses
/// runs of blanks. The flag says whether a control character was replaced.
pub(crate) fn clean(s: &str) -> (String, bool) {
    let mut out = String::with_capacity(s.len());
    let mut had_control = false;
    let mut pending_space = false;
    for c in s.trim().chars() {
        if c.is_control() {
            had_control = true;
            pending_space = true;
        } else if c.is_whitespace() {
            pending_space = true;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    (out, had_control)
}

/// The value quoted in a message, or `None` when it must not be shown: anything with more
/// than four digits might be a TIN or a date of birth.
pub(crate) fn echo(s: &str) -> Option<String> {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (digits <= 4 && s.chars().count() <= 40).then(|| format!("{:?}", s.trim()))
}

/// Why a text is not a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateError {
    /// Not in any accepted form.
    Format,
    /// A two-digit (or otherwise short) year.
    ShortYear,
}

/// Reads a date written as text: `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY`, `MM-DD-YYYY`,
/// `M/D/YYYY`, `Jan 15, 2026`, `January 15, 2026`, `15 Jan 2026`; a time after an ISO date
/// (`2026-01-15T10:00:00`, `2026-01-15 10:00`) is ignored. Day-first numeric dates
/// (`15/01/2026`) are refused: a US form's dates are month-first, and `03/04/2026` could be read
/// either way.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, DateError> {
    let t = text.trim();
    // ISO date with a time part.
    let t = match t.char_indices().nth(10) {
        Some((i, c)) if (c == 'T' || c == ' ') && t[..i].matches('-').count() == 2 => &t[..i],
        _ => t,
    };
    const FORMATS: &[&str] = &[
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%m/%d/%Y",
        "%m-%d-%Y",
        "%b %d, %Y",
        "%B %d, %Y",
        "%b %d %Y",
        "%B %d %Y",
        "%d %b %Y",
        "%d %B %Y",
        "%d-%b-%Y",
    ];
    for f in FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            if !(1000..=9999).contains(&d.year()) {
                return Err(DateError::ShortYear);
            }
            return Ok(d);
        }
    }
    Err(DateError::Format)
}

use chrono::Datelike;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2026-01-15"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date(" 2026/01/15 "), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("01/15/2026"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("1/5/2026"), Ok(d(2026, 1, 5)));
        assert_eq!(parse_date("01-15-2026"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("Jan 15, 2026"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("January 15, 2026"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("15 Jan 2026"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("15-Jan-2026"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("2026-01-15T10:20:00"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("2026-01-15 10:20"), Ok(d(2026, 1, 15)));
        assert_eq!(parse_date("1/15/26"), Err(DateError::ShortYear));
        assert_eq!(parse_date("15/01/2026"), Err(DateError::Format));
        assert_eq!(parse_date("2026-13-45"), Err(DateError::Format));
        assert_eq!(parse_date("yesterday"), Err(DateError::Format));
        assert_eq!(parse_date(""), Err(DateError::Format));
        assert_eq!(parse_date("ñññññññññññññ"), Err(DateError::Format));
    }

    #[test]
    fn numbers() {
        assert_eq!(
            Cell::from_data(&Data::Float(41234567.0)),
            Cell::Number {
                whole: Some(41234567),
                text: "41234567".into()
            }
        );
        assert_eq!(
            Cell::from_data(&Data::Float(12.5)),
            Cell::Number {
                whole: None,
                text: "12.5".into()
            }
        );
        assert_eq!(
            Cell::from_data(&Data::Float(f64::NAN)),
            Cell::Error("#NUM!".into())
        );
        assert!(matches!(
            Cell::from_data(&Data::Float(1e300)),
            Cell::Number { whole: None, .. }
        ));
    }

    #[test]
    fn absurd_date_serials_do_not_panic() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        for v in [-1e300, -1.0, 3e6, 1e300, f64::NAN, f64::INFINITY] {
            let c = Cell::from_data(&Data::DateTime(ExcelDateTime::new(
                v,
                ExcelDateTimeType::DateTime,
                false,
            )));
            assert_eq!(c, Cell::NotADate);
        }
        let c = Cell::from_data(&Data::DateTime(ExcelDateTime::new(
            46037.0,
            ExcelDateTimeType::DateTime,
            false,
        )));
        assert_eq!(c, Cell::Date(d(2026, 1, 15)));
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean("  Van\tDyke "), ("Van Dyke".into(), true));
        assert_eq!(clean("Mary\rAnn"), ("Mary Ann".into(), true));
        assert_eq!(clean("A  \u{a0} B"), ("A B".into(), false));
        assert_eq!(echo("foo"), Some("\"foo\"".into()));
        assert_eq!(echo("123456789"), None);
        assert_eq!(echo("12-34"), Some("\"12-34\"".into()));
    }
}
