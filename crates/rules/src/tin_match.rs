//! IRS bulk TIN Matching (Publication 2108A) request and result records.
//!
//! A request file is plain text, one record per line, at most [`MAX_ROWS_PER_FILE`] lines:
//!
//! ```text
//! TIN type;TIN;Name;Account number
//! 2;183421111;Matthew Mulberry;89765
//! ```
//!
//! * TIN type `1` = EIN, `2` = SSN (also ITIN/ATIN), `3` = unknown (the IRS checks both files).
//! * TIN: 9 digits, no hyphens.
//! * Name: up to 40 characters; letters, digits, blank, `-` and `&` only ([`clean_name`]).
//! * Account number: optional, up to 20 letters/digits, returned unchanged ([`clean_account`]).
//!   When empty the field stays, so the line ends with `;`.
//!
//! The result file repeats each request line with one more field, the result code 0-8
//! ([`MatchResult`]). Nothing here does I/O.

use crate::name_control::fold_to_ascii;
use crate::tin::{Tin, TinType};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Most records the IRS accepts in one bulk file.
pub const MAX_ROWS_PER_FILE: usize = 100_000;

/// Longest name the IRS format accepts.
pub const MAX_NAME_CHARS: usize = 40;

/// Longest account number the IRS format accepts.
pub const MAX_ACCOUNT_CHARS: usize = 20;

/// The TIN Matching TIN-type code: `1` EIN, `2` SSN/ITIN/ATIN, `3` unknown.
pub fn tin_type_code(ty: TinType) -> u8 {
    match ty {
        TinType::Ein => 1,
        TinType::Ssn | TinType::Itin | TinType::Atin => 2,
        TinType::Unknown => 3,
    }
}

/// A name as the IRS accepts it: accents folded to ASCII, only letters, digits, blank, `-` and
/// `&` kept (other characters dropped without a gap: "O'Malley & Sons" → "OMalley & Sons"),
/// runs of blanks collapsed, trimmed, cut to [`MAX_NAME_CHARS`].
pub fn clean_name(name: &str) -> String {
    let folded = fold_to_ascii(name);
    let mut out = String::with_capacity(folded.len().min(MAX_NAME_CHARS + 1));
    let mut gap = false;
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '&' {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
            if out.len() >= MAX_NAME_CHARS {
                break;
            }
        } else if c.is_ascii_whitespace() {
            gap = true;
        }
    }
    out.truncate(MAX_NAME_CHARS);
    let end = out.trim_end().len();
    out.truncate(end);
    out
}

/// An account number as the IRS accepts it: ASCII letters and digits only (accents folded,
/// everything else dropped), cut to [`MAX_ACCOUNT_CHARS`].
pub fn clean_account(account: &str) -> String {
    fold_to_ascii(account)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(MAX_ACCOUNT_CHARS)
        .collect()
}

/// Why a [`MatchRequest`] cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatchRequestError {
    /// The name has no letters or digits left after cleaning (the IRS would answer code 4).
    #[error("name is empty after removing characters TIN Matching does not accept")]
    EmptyName,
}

/// One bulk TIN Matching request record. The name and account are cleaned on construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRequest {
    tin_type_code: u8,
    tin: Tin,
    name: String,
    account: String,
}

impl MatchRequest {
    /// A request for `tin` of type `ty` (an ambiguous TIN goes as `Unknown`, code 3), with the
    /// name and account cleaned ([`clean_name`], [`clean_account`]).
    pub fn new(
        ty: TinType,
        tin: Tin,
        name: &str,
        account: &str,
    ) -> Result<Self, MatchRequestError> {
        let name = clean_name(name);
        if name.is_empty() {
            return Err(MatchRequestError::EmptyName);
        }
        Ok(MatchRequest {
            tin_type_code: tin_type_code(ty),
            tin,
            name,
            account: clean_account(account),
        })
    }

    /// `1`, `2` or `3`.
    pub fn tin_type_code(&self) -> u8 {
        self.tin_type_code
    }

    /// The TIN.
    pub fn tin(&self) -> &Tin {
        &self.tin
    }

    /// The cleaned name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cleaned account number (may be empty).
    pub fn account(&self) -> &str {
        &self.account
    }
}

/// The request line `type;TIN;name;account`, without a line ending. **Contains the full TIN.**
pub fn request_line(req: &MatchRequest) -> String {
    format!(
        "{};{};{};{}",
        req.tin_type_code,
        req.tin.digits(),
        req.name,
        req.account
    )
}

/// A TIN Matching result code (Pub 2108A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchResult {
    /// 0: the name/TIN combination matches IRS records.
    Matched = 0,
    /// 1: TIN missing or not 9-digit numeric.
    TinMissing = 1,
    /// 2: the TIN is not currently issued.
    NotIssued = 2,
    /// 3: the name/TIN combination does not match IRS records.
    NoMatch = 3,
    /// 4: invalid request (missing fields, bad characters).
    InvalidRequest = 4,
    /// 5: duplicate request.
    Duplicate = 5,
    /// 6: matched on SSN (TIN type 3, unknown).
    MatchedSsn = 6,
    /// 7: matched on EIN (TIN type 3).
    MatchedEin = 7,
    /// 8: matched on both SSN and EIN (TIN type 3).
    MatchedBoth = 8,
}

impl MatchResult {
    /// All codes, 0 to 8.
    pub const ALL: [MatchResult; 9] = [
        MatchResult::Matched,
        MatchResult::TinMissing,
        MatchResult::NotIssued,
        MatchResult::NoMatch,
        MatchResult::InvalidRequest,
        MatchResult::Duplicate,
        MatchResult::MatchedSsn,
        MatchResult::MatchedEin,
        MatchResult::MatchedBoth,
    ];

    /// The numeric code, 0-8.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The result for a numeric code, `None` outside 0-8.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The IRS meaning of the code.
    pub fn description(self) -> &'static str {
        match self {
            MatchResult::Matched => "Name/TIN combination matches IRS records",
            MatchResult::TinMissing => "TIN missing or not 9-digit numeric",
            MatchResult::NotIssued => "TIN entered is not currently issued",
            MatchResult::NoMatch => "Name/TIN combination does not match IRS records",
            MatchResult::InvalidRequest => "Invalid request (e.g. missing fields, bad characters)",
            MatchResult::Duplicate => "Duplicate request",
            MatchResult::MatchedSsn => "Matched on SSN (TIN type unknown)",
            MatchResult::MatchedEin => "Matched on EIN (TIN type unknown)",
            MatchResult::MatchedBoth => "Matched on both SSN and EIN (TIN type unknown)",
        }
    }

    /// Codes 0, 6, 7 and 8: the name/TIN pair is on file.
    pub fn is_match(self) -> bool {
        matches!(
            self,
            MatchResult::Matched
                | MatchResult::MatchedSsn
                | MatchResult::MatchedEin
                | MatchResult::MatchedBoth
        )
    }
}

impl fmt::Display for MatchResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.description())
    }
}

/// One line of a TIN Matching result file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultRecord {
    /// `1`, `2` or `3`, as sent.
    pub tin_type_code: u8,
    /// The TIN, as sent.
    pub tin: Tin,
    /// The name, as sent.
    pub name: String,
    /// The account number, as sent (empty if none).
    pub account: String,
    /// The IRS answer.
    pub result: MatchResult,
}

/// Why a result line cannot be read. Never echoes the TIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultLineError {
    /// A blank line (callers skip these).
    #[error("empty line")]
    Empty,
    /// Not `type;TIN;name;account;result` (or `type;TIN;name;result`).
    #[error(
        "expected 5 fields separated by ';' (TIN type;TIN;Name;Account number;Result), found {found}"
    )]
    FieldCount {
        /// Fields found.
        found: usize,
    },
    /// The TIN type field is not 1, 2 or 3.
    #[error("TIN type field (field 1) must be 1, 2 or 3")]
    TinType,
    /// The TIN field is not exactly 9 digits.
    #[error(
        "TIN field (field 2) must be exactly 9 digits with no separators; it has {chars} character(s), {digits} of them digits"
    )]
    Tin {
        /// Characters in the field.
        chars: usize,
        /// Digits among them.
        digits: usize,
    },
    /// The result field is not a code 0-8.
    #[error("result field (last field) must be a code 0-8, found {found}")]
    ResultCode {
        /// The field if short, else its length.
        found: String,
    },
}

/// Parses one result line. Tolerates a byte-order mark, CR/LF line endings and blanks around
/// fields; a blank line is [`ResultLineError::Empty`] (skip it). Accepts 5 fields, or 4 when the
/// request had no account field at all.
pub fn parse_result_line(line: &str) -> Result<ResultRecord, ResultLineError> {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line).trim();
    if line.is_empty() {
        return Err(ResultLineError::Empty);
    }
    let fields: Vec<&str> = line.split(';').map(str::trim).collect();
    let (ty, tin, name, account, code) = match fields.as_slice() {
        [ty, tin, name, account, code] => (*ty, *tin, *name, *account, *code),
        [ty, tin, name, code] => (*ty, *tin, *name, "", *code),
        _ => {
            return Err(ResultLineError::FieldCount {
                found: fields.len(),
            });
        }
    };
    let tin_type_code = match ty {
        "1" => 1,
        "2" => 2,
        "3" => 3,
        _ => return Err(ResultLineError::TinType),
    };
    let tin = Tin::from_digits(tin).ok_or_else(|| ResultLineError::Tin {
        chars: tin.chars().count(),
        digits: tin.chars().filter(char::is_ascii_digit).count(),
    })?;
    let result = code
        .parse::<u8>()
        .ok()
        .filter(|_| code.len() == 1)
        .and_then(MatchResult::from_code)
        .ok_or_else(|| ResultLineError::ResultCode {
            found: if code.chars().count() <= 3 && !code.is_empty() {
                format!("{code:?}")
            } else {
                format!("{} characters", code.chars().count())
            },
        })?;
    Ok(ResultRecord {
        tin_type_code,
        tin,
        name: name.to_owned(),
        account: account.to_owned(),
        result,
    })
}

/// A result-file line that cannot be read, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct ResultFileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub error: ResultLineError,
}

/// Parses a whole result file, skipping blank lines. Stops at the first bad line.
pub fn parse_result_file(text: &str) -> Result<Vec<ResultRecord>, ResultFileError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_result_line(line) {
            Ok(r) => out.push(r),
            Err(ResultLineError::Empty) => {}
            Err(error) => return Err(ResultFileError { line: i + 1, error }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tin(s: &str) -> Tin {
        Tin::from_digits(s).unwrap()
    }

    #[test]
    fn type_codes() {
        assert_eq!(tin_type_code(TinType::Ein), 1);
        assert_eq!(tin_type_code(TinType::Ssn), 2);
        assert_eq!(tin_type_code(TinType::Itin), 2);
        assert_eq!(tin_type_code(TinType::Atin), 2);
        assert_eq!(tin_type_code(TinType::Unknown), 3);
    }

    #[test]
    fn names() {
        for (what, raw, want) in [
            ("IRS example", "O'Malley & Sons", "OMalley & Sons"),
            ("commas", "Doe, John", "Doe John"),
            ("periods", "Acme Co., Inc.", "Acme Co Inc"),
            ("hyphen kept", "Mary Cedar-Hawthorn", "Mary Cedar-Hawthorn"),
            ("accents folded", "José Núñez", "Jose Nunez"),
            (
                "repeated blanks",
                "  Matthew    Mulberry  ",
                "Matthew Mulberry",
            ),
            ("tabs", "A\tB", "A B"),
            ("semicolon dropped", "Evil;Name", "EvilName"),
            ("non-latin dropped", "李 Wei", "Wei"),
            ("only specials", "'\"!", ""),
            (
                "cut at 40",
                "Abcdefghij Abcdefghij Abcdefghij Abcdefghij Abcdefghij",
                "Abcdefghij Abcdefghij Abcdefghij Abcdefg",
            ),
            (
                "no trailing blank after cut",
                "Abcdefghij Abcdefghij Abcdefghij Abcdef Zed",
                "Abcdefghij Abcdefghij Abcdefghij Abcdef",
            ),
        ] {
            let got = clean_name(raw);
            assert_eq!(got, want, "{what}");
            assert!(got.len() <= MAX_NAME_CHARS, "{what}");
        }
    }

    #[test]
    fn accounts() {
        assert_eq!(clean_account("89765"), "89765");
        assert_eq!(clean_account("ACCT-89765"), "ACCT89765");
        assert_eq!(clean_account(" a;b c "), "abc");
        assert_eq!(
            clean_account("123456789012345678901234"),
            "12345678901234567890"
        );
        assert_eq!(clean_account(""), "");
    }

    #[test]
    fn request_lines() {
        let r =
            MatchRequest::new(TinType::Ssn, tin("183421111"), "Matthew Mulberry", "89765").unwrap();
        assert_eq!(request_line(&r), "2;183421111;Matthew Mulberry;89765");
        let r =
            MatchRequest::new(TinType::Ein, tin("562611111"), "O'Malley & Sons, LLC", "").unwrap();
        assert_eq!(request_line(&r), "1;562611111;OMalley & Sons LLC;");
        let r = MatchRequest::new(TinType::Unknown, tin("123456789"), "Ann", "x-1").unwrap();
        assert_eq!(request_line(&r), "3;123456789;Ann;x1");
        assert_eq!(r.tin_type_code(), 3);
        assert_eq!(r.name(), "Ann");
        assert_eq!(r.account(), "x1");
        assert!(!format!("{r:?}").contains("123456789"));
        assert_eq!(
            MatchRequest::new(TinType::Ssn, tin("123456789"), " ,' ", ""),
            Err(MatchRequestError::EmptyName)
        );
    }

    #[test]
    fn result_codes() {
        for (i, r) in MatchResult::ALL.iter().enumerate() {
            assert_eq!(usize::from(r.code()), i);
            assert_eq!(MatchResult::from_code(r.code()), Some(*r));
            assert!(!r.description().is_empty());
        }
        assert_eq!(MatchResult::from_code(9), None);
        let matches: Vec<u8> = MatchResult::ALL
            .iter()
            .filter(|r| r.is_match())
            .map(|r| r.code())
            .collect();
        assert_eq!(matches, vec![0, 6, 7, 8]);
        assert_eq!(
            MatchResult::NoMatch.description(),
            "Name/TIN combination does not match IRS records"
        );
    }

    #[test]
    fn result_lines() {
        let r = parse_result_line("2;183421111;Matthew Mulberry;89765;0").unwrap();
        assert_eq!(r.tin_type_code, 2);
        assert_eq!(r.tin.digits(), "183421111");
        assert_eq!(r.name, "Matthew Mulberry");
        assert_eq!(r.account, "89765");
        assert_eq!(r.result, MatchResult::Matched);

        let r = parse_result_line("\u{feff}1;562611111;Acme Inc;;3\r\n").unwrap();
        assert_eq!(r.account, "");
        assert_eq!(r.result, MatchResult::NoMatch);

        let r = parse_result_line("3;123456789;Ann;A1;8   ").unwrap();
        assert_eq!(r.result, MatchResult::MatchedBoth);

        // No account field at all.
        let r = parse_result_line("2;123456789;Ann;5").unwrap();
        assert_eq!(r.account, "");
        assert_eq!(r.result, MatchResult::Duplicate);

        // Round trip of a request line.
        let req = MatchRequest::new(TinType::Ein, tin("562611111"), "O'Malley & Sons", "").unwrap();
        let r = parse_result_line(&format!("{};2\r", request_line(&req))).unwrap();
        assert_eq!((r.tin, r.name.as_str()), (req.tin().clone(), req.name()));
        assert_eq!(r.result, MatchResult::NotIssued);
    }

    #[test]
    fn result_line_errors() {
        use ResultLineError as E;
        assert_eq!(parse_result_line(""), Err(E::Empty));
        assert_eq!(parse_result_line("  \r\n"), Err(E::Empty));
        assert_eq!(parse_result_line("\u{feff}"), Err(E::Empty));
        assert_eq!(
            parse_result_line("2;123456789;Ann"),
            Err(E::FieldCount { found: 3 })
        );
        assert_eq!(
            parse_result_line("2;123456789;Ann;1;2;3"),
            Err(E::FieldCount { found: 6 })
        );
        assert_eq!(parse_result_line("4;123456789;Ann;;0"), Err(E::TinType));
        let e = parse_result_line("2;123-45-6789;Ann;;0").unwrap_err();
        assert_eq!(
            e,
            E::Tin {
                chars: 11,
                digits: 9
            }
        );
        let e = parse_result_line("2;1234567890;Ann;;0").unwrap_err();
        assert!(!e.to_string().contains("1234567890"));
        assert!(!e.to_string().contains("123456789"));
        assert_eq!(
            parse_result_line("2;123456789;Ann;;9"),
            Err(E::ResultCode {
                found: "\"9\"".into()
            })
        );
        let e = parse_result_line("2;123456789;Ann;;123456789").unwrap_err();
        assert!(!e.to_string().contains("123456789"), "{e}");
        assert!(parse_result_line("2;123456789;Ann;;").is_err());
        assert!(parse_result_line("2;123456789;Ann;;+1").is_err());
    }

    #[test]
    fn result_file() {
        let text =
            "\u{feff}2;183421111;Matthew Mulberry;89765;0\r\n\r\n1;562611111;Acme Inc;;3\r\n";
        let rs = parse_result_file(text).unwrap();
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[1].result, MatchResult::NoMatch);
        let e = parse_result_file("2;183421111;A;;0\n\n2;18342111;B;;0\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("line 3: TIN field"));
    }
}
