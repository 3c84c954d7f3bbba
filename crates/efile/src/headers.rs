//! The template's columns: the known 1099-NEC headers (data, `templates/iris/1099-nec-headers.txt`)
//! and the matching of a downloaded template's header row to the fields the tool fills.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// The built-in known-headers table.
pub const HEADERS_DATA: &str = include_str!("../../../templates/iris/1099-nec-headers.txt");

macro_rules! fields {
    ($($variant:ident => $key:literal),* $(,)?) => {
        /// What a column holds: the fields masspay-tax knows how to fill (or leaves blank).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field { $($variant),* }

        impl Field {
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];
            /// The key used in the headers data file.
            pub fn key(self) -> &'static str {
                match self { $(Field::$variant => $key),* }
            }
            pub fn from_key(key: &str) -> Option<Field> {
                match key { $($key => Some(Field::$variant),)* _ => None }
            }
        }
    };
}

fields! {
    FormType => "form_type",
    TaxYear => "tax_year",
    PayerTinType => "payer_tin_type",
    PayerTin => "payer_tin",
    PayerNameType => "payer_name_type",
    PayerName1 => "payer_name1",
    PayerName2 => "payer_name2",
    PayerFirst => "payer_first",
    PayerMiddle => "payer_middle",
    PayerLast => "payer_last",
    PayerSuffix => "payer_suffix",
    PayerCountry => "payer_country",
    PayerAddress1 => "payer_address1",
    PayerAddress2 => "payer_address2",
    PayerCity => "payer_city",
    PayerState => "payer_state",
    PayerZip => "payer_zip",
    PayerPhoneType => "payer_phone_type",
    PayerPhone => "payer_phone",
    PayerEmail => "payer_email",
    RecipientTinType => "recipient_tin_type",
    RecipientTin => "recipient_tin",
    RecipientNameType => "recipient_name_type",
    RecipientName1 => "recipient_name1",
    RecipientName2 => "recipient_name2",
    RecipientFirst => "recipient_first",
    RecipientMiddle => "recipient_middle",
    RecipientLast => "recipient_last",
    RecipientSuffix => "recipient_suffix",
    RecipientCountry => "recipient_country",
    RecipientAddress1 => "recipient_address1",
    RecipientAddress2 => "recipient_address2",
    RecipientCity => "recipient_city",
    RecipientState => "recipient_state",
    RecipientZip => "recipient_zip",
    RecipientEmail => "recipient_email",
    AccountNumber => "account_number",
    SecondTinNotice => "second_tin_notice",
    Box1 => "box1",
    Box4 => "box4",
    Blank => "blank",
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Fields a template must have a column for: without them IRIS cannot take the record.
pub const REQUIRED: &[Field] = &[
    Field::FormType,
    Field::TaxYear,
    Field::PayerTinType,
    Field::PayerTin,
    Field::PayerNameType,
    Field::RecipientTinType,
    Field::RecipientTin,
    Field::RecipientNameType,
    Field::RecipientName1,
    Field::RecipientFirst,
    Field::RecipientLast,
    Field::RecipientAddress1,
    Field::RecipientCity,
    Field::RecipientState,
    Field::RecipientZip,
    Field::Box1,
];

/// One line of the known-headers table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHeader {
    pub header: String,
    pub field: Field,
    /// Part of the built-in header row.
    pub default: bool,
    /// Longest value IRIS accepts (0: not checked by length here).
    pub max: usize,
    pub meaning: String,
}

/// The known-headers table, parsed and checked.
#[derive(Debug, Clone)]
pub struct KnownHeaders {
    pub headers: Vec<KnownHeader>,
    by_norm: HashMap<String, usize>,
}

/// A header as matched: lower case, letters and digits only (case, spaces, punctuation and a
/// trailing `*` ignored).
pub fn normalise(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A problem with the headers data or a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("known-headers data line {line}: {reason}")]
    Data { line: usize, reason: String },
    #[error(
        "the template has {} header(s) masspay-tax does not know: {}. Add each to \
         templates/iris/1099-nec-headers.txt with the field it holds (a data change), or check \
         that the file is the IRIS 1099-NEC template",
        .0.len(),
        .0.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
    )]
    Unknown(Vec<String>),
    #[error("the template's columns {first} and {second} both hold {field}")]
    Duplicate {
        first: usize,
        second: usize,
        field: String,
    },
    #[error("the template has no column for: {}", .0.join(", "))]
    Missing(Vec<String>),
    #[error("column {0} of the template has an empty header")]
    EmptyHeader(usize),
    #[error("the template has no header row")]
    NoHeader,
    #[error("the template could not be read: {0}")]
    Read(String),
}

impl KnownHeaders {
    pub fn parse(text: &str) -> Result<KnownHeaders, TemplateError> {
        let mut headers = Vec::new();
        let mut by_norm = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let bad = |reason: String| TemplateError::Data {
                line: i + 1,
                reason,
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split('|').map(str::trim).collect();
            let [header, field, default, max, meaning] = f.as_slice() else {
                return Err(bad("expected header|field|default|max|meaning".into()));
            };
            let field =
                Field::from_key(field).ok_or_else(|| bad(format!("unknown field {field:?}")))?;
            let default = match *default {
                "Y" => true,
                "N" => false,
                d => return Err(bad(format!("default must be Y or N, not {d:?}"))),
            };
            let max = max
                .parse()
                .map_err(|_| bad(format!("max must be a number, not {max:?}")))?;
            let norm = normalise(header);
            if norm.is_empty() {
                return Err(bad("empty header".into()));
            }
            if by_norm.insert(norm, headers.len()).is_some() {
                return Err(bad(format!("header {header:?} is listed twice")));
            }
            headers.push(KnownHeader {
                header: header.to_string(),
                field,
                default,
                max,
                meaning: meaning.to_string(),
            });
        }
        Ok(KnownHeaders { headers, by_norm })
    }

    /// The built-in table.
    pub fn builtin() -> &'static KnownHeaders {
        static K: OnceLock<KnownHeaders> = OnceLock::new();
        // Checked by a unit test; a broken edit would leave an empty table (every template
        // refused), never a panic.
        K.get_or_init(|| {
            KnownHeaders::parse(HEADERS_DATA).unwrap_or(KnownHeaders {
                headers: Vec::new(),
                by_norm: HashMap::new(),
            })
        })
    }

    pub fn lookup(&self, header: &str) -> Option<&KnownHeader> {
        self.by_norm
            .get(&normalise(header))
            .map(|&i| &self.headers[i])
    }

    /// The longest value for `field` (the smallest non-zero max of its headers; 0 = unchecked).
    pub fn max_len(&self, field: Field) -> usize {
        self.headers
            .iter()
            .filter(|h| h.field == field && h.max > 0)
            .map(|h| h.max)
            .min()
            .unwrap_or(0)
    }

    /// The built-in header row.
    pub fn default_template(&self) -> Template {
        Template {
            columns: self
                .headers
                .iter()
                .filter(|h| h.default)
                .map(|h| Column {
                    header: h.header.clone(),
                    field: h.field,
                })
                .collect(),
            source: "built-in".into(),
        }
    }

    /// Matches a template's header row (as read from its file) to known fields.
    pub fn template(&self, headers: &[String], source: &str) -> Result<Template, TemplateError> {
        let mut headers: Vec<&str> = headers.iter().map(|h| h.as_str()).collect();
        while headers.last().is_some_and(|h| h.trim().is_empty()) {
            headers.pop(); // a trailing comma
        }
        if headers.is_empty() {
            return Err(TemplateError::NoHeader);
        }
        let mut columns = Vec::new();
        let mut unknown = Vec::new();
        let mut seen: HashMap<Field, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            if normalise(h).is_empty() {
                return Err(TemplateError::EmptyHeader(i + 1));
            }
            match self.lookup(h) {
                None => unknown.push(h.trim().to_string()),
                Some(k) => {
                    if k.field != Field::Blank
                        && let Some(first) = seen.insert(k.field, i + 1)
                    {
                        return Err(TemplateError::Duplicate {
                            first,
                            second: i + 1,
                            field: k.field.key().into(),
                        });
                    }
                    columns.push(Column {
                        header: h.trim().trim_start_matches('\u{feff}').to_string(),
                        field: k.field,
                    });
                }
            }
        }
        if !unknown.is_empty() {
            return Err(TemplateError::Unknown(unknown));
        }
        let missing: Vec<String> = REQUIRED
            .iter()
            .filter(|f| !seen.contains_key(f))
            .map(|f| f.key().to_string())
            .collect();
        if !missing.is_empty() {
            return Err(TemplateError::Missing(missing));
        }
        Ok(Template {
            columns,
            source: source.to_string(),
        })
    }

    /// Reads the header row (the first record) of a downloaded template CSV.
    pub fn template_from_csv(&self, bytes: &[u8], source: &str) -> Result<Template, TemplateError> {
        let text = String::from_utf8_lossy(bytes);
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let first = r
            .records()
            .next()
            .ok_or(TemplateError::NoHeader)?
            .map_err(|e| TemplateError::Read(e.to_string()))?;
        let headers: Vec<String> = first.iter().map(str::to_string).collect();
        self.template(&headers, source)
    }
}

/// One column of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header as the template spells it (written back unchanged).
    pub header: String,
    pub field: Field,
}

/// The columns to write, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub columns: Vec<Column>,
    /// `built-in` or the template file's name.
    pub source: String,
}

impl Template {
    pub fn headers(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.header.as_str()).collect()
    }
    pub fn has(&self, field: Field) -> bool {
        self.columns.iter().any(|c| c.field == field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_parses_and_has_the_54_column_row() {
        let k = KnownHeaders::parse(HEADERS_DATA).unwrap();
        let t = k.default_template();
        assert_eq!(t.columns.len(), 54);
        assert_eq!(t.columns[0].header, "Form Type");
        assert_eq!(t.columns[38].field, Field::Box1);
        assert_eq!(t.columns[53].header, "State 2 - Special Data Entries");
        assert_eq!(k.max_len(Field::RecipientAddress1), 35);
        assert_eq!(k.max_len(Field::RecipientFirst), 20);
        // Every field but the email has a default column.
        for f in Field::ALL {
            assert!(
                *f == Field::RecipientEmail || t.has(*f),
                "{f} has no default column"
            );
        }
    }

    #[test]
    fn headers_match_ignoring_case_spaces_punctuation_and_star() {
        let k = KnownHeaders::builtin();
        for h in [
            "recipient city/town",
            "RECIPIENT CITY TOWN*",
            " Recipient City-Town * ",
            "\u{feff}Recipient City/Town",
        ] {
            assert_eq!(k.lookup(h).unwrap().field, Field::RecipientCity, "{h}");
        }
        assert!(k.lookup("Recipient Favourite Colour").is_none());
    }

    #[test]
    fn unknown_duplicate_and_missing_headers_are_refused() {
        let k = KnownHeaders::builtin();
        let mut h: Vec<String> = k
            .default_template()
            .headers()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut bad = h.clone();
        bad.push("Favourite Colour".into());
        let e = k.template(&bad, "t.csv").unwrap_err().to_string();
        assert!(e.contains("\"Favourite Colour\""), "{e}");
        let mut dup = h.clone();
        dup.push("Recipient ZIP Code".into());
        assert!(matches!(
            k.template(&dup, "t.csv"),
            Err(TemplateError::Duplicate { .. })
        ));
        h.retain(|x| x != "Box 1 - Nonemployee Compensation");
        let e = k.template(&h, "t.csv").unwrap_err().to_string();
        assert!(e.contains("box1"), "{e}");
        h.push(String::new()); // trailing comma is fine, empty in the middle is not
        h.insert(0, " ".into());
        assert_eq!(
            k.template(&h, "t.csv").unwrap_err(),
            TemplateError::EmptyHeader(1)
        );
    }

    #[test]
    fn bad_data_lines_are_named() {
        assert!(matches!(
            KnownHeaders::parse("A|nope|Y|0|x"),
            Err(TemplateError::Data { line: 1, .. })
        ));
        assert!(KnownHeaders::parse("A|box1|Y|0|x\na*|box4|N|0|y").is_err());
    }
}
