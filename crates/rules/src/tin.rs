//! SSN / ITIN / ATIN / EIN parsing and validation under the IRS's rules.
//!
//! * [`parse_tin`] reads any text a person or the API might send (blanks, dashes, spaces or dots
//!   between the digit groups) into a [`Tin`] (the 9 digits, a secret) and the [`TinForm`] the
//!   separators showed.
//! * [`check_tin`] resolves the TIN type (a declared type from a W-9 wins; otherwise the written
//!   form) and applies the rules, returning a [`TinCheck`] with a status and human-readable
//!   reasons that never contain more than the last four digits.
//!
//! The rules follow the IRS, not python-stdnum: ITIN groups **50-65** are valid
//! (IRS Pub 1915 / Pub 4757), and EIN prefixes are data ([`TinRules`]) the user can extend.
//!
//! Format checks cannot prove a name/TIN pair is right; that is IRS TIN Matching
//! ([`crate::tin_match`]).
//!
//! Odd separators: a text with exactly 9 digits whose separators are not in the SSN (3-2-4) or
//! EIN (2-7) positions, such as `1234-56789` or `123-456-789`, still parses, as
//! [`TinForm::Bare`] with [`ParsedTin::irregular_separators`] set; [`check_tin`] adds a warning.
//! The digits are what is filed; the misplaced separators only mean the text says nothing about
//! the type.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

// ---------------------------------------------------------------------------------------------
// Rule data
// ---------------------------------------------------------------------------------------------

/// SSNs that were never valid although they look so (published samples), with where they came
/// from. Checked after the structural SSN rules.
pub const KNOWN_INVALID_SSNS: &[(&str, &str)] = &[
    (
        "078051120",
        "the 1938 Woolworth wallet-insert sample number",
    ),
    ("457555462", "the number published in LifeLock advertising"),
    (
        "219099999",
        "the Social Security Board's 1940 pamphlet sample",
    ),
];

/// ITIN groups (digits 4-5) per IRS Pub 1915 / Pub 4757. python-stdnum omits 50-65; the IRS
/// does not.
pub const ITIN_GROUPS: &[RangeInclusive<u8>] = &[50..=65, 70..=88, 90..=92, 94..=99];

/// The ATIN group (digits 4-5): an ATIN is `9XX-93-XXXX`.
pub const ATIN_GROUP: u8 = 93;

/// Groups of `9XX-GG-XXXX` numbers known to be IRSNs (IRS internal numbers, never valid on an
/// information return). Any 9XX group outside [`ITIN_GROUPS`] and [`ATIN_GROUP`] is invalid
/// anyway; this list only names the reason.
pub const IRSN_GROUPS: &[RangeInclusive<u8>] =
    &[1..=10, 17..=19, 28..=29, 37..=39, 49..=49, 66..=69, 89..=89];

/// Valid EIN prefixes by IRS campus, from the IRS page "How EINs are assigned and valid EIN
/// prefixes" (as in python-stdnum's `ein.dat`). The union is 83 prefixes.
pub const IRS_EIN_PREFIXES: &[(&str, &[u8])] = &[
    ("Andover", &[10, 12]),
    ("Atlanta", &[60, 67]),
    ("Austin", &[50, 53]),
    (
        "Brookhaven",
        &[
            1, 2, 3, 4, 5, 6, 11, 13, 14, 16, 21, 22, 23, 25, 34, 51, 52, 54, 55, 56, 57, 58, 59,
            65,
        ],
    ),
    ("Cincinnati", &[30, 32, 35, 36, 37, 38, 61]),
    ("Fresno", &[15, 24]),
    ("Internet", &[20, 26, 27, 45, 46, 47, 81, 82, 83, 84]),
    ("Kansas City", &[40, 44]),
    ("Memphis", &[94, 95]),
    ("Ogden", &[80, 90]),
    (
        "Philadelphia",
        &[
            33, 39, 41, 42, 43, 46, 48, 62, 63, 64, 66, 68, 71, 72, 73, 74, 75, 76, 77, 85, 86, 87,
            88, 91, 92, 93, 98, 99,
        ],
    ),
    ("Small Business Administration", &[31]),
];

/// EIN prefixes the IRS has never assigned (the complement of [`IRS_EIN_PREFIXES`]).
pub const IRS_INVALID_EIN_PREFIXES: &[u8] = &[
    0, 7, 8, 9, 17, 18, 19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97,
];

const AMBIGUOUS_WARNING: &str = "bare 9-digit number: type ambiguous (could be SSN or EIN); \
                                 supply the type from a W-9";

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/// The kind of taxpayer identification number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TinType {
    /// Social Security Number.
    Ssn,
    /// Individual Taxpayer Identification Number (`9XX-GG-XXXX`, ITIN groups).
    Itin,
    /// Adoption Taxpayer Identification Number (`9XX-93-XXXX`).
    Atin,
    /// Employer Identification Number.
    Ein,
    /// Not known (a bare number with no declared type).
    Unknown,
}

impl TinType {
    /// `"ssn"`, `"itin"`, `"atin"`, `"ein"` or `"unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TinType::Ssn => "ssn",
            TinType::Itin => "itin",
            TinType::Atin => "atin",
            TinType::Ein => "ein",
            TinType::Unknown => "unknown",
        }
    }

    /// Upper-case label for messages (`"SSN"`, `"EIN"`, ...).
    pub fn label(self) -> &'static str {
        match self {
            TinType::Ssn => "SSN",
            TinType::Itin => "ITIN",
            TinType::Atin => "ATIN",
            TinType::Ein => "EIN",
            TinType::Unknown => "unknown type",
        }
    }

    /// SSN, ITIN or ATIN: an individual's number (1099 TIN type 2).
    pub fn is_individual(self) -> bool {
        matches!(self, TinType::Ssn | TinType::Itin | TinType::Atin)
    }
}

impl fmt::Display for TinType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TIN type text that is not recognised. The text is not echoed (it may hold a TIN).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unrecognised TIN type; expected ssn, itin, atin, ein or unknown (or the 1099 codes 1 = EIN, \
     2 = SSN)"
)]
pub struct TinTypeParseError;

impl FromStr for TinType {
    type Err = TinTypeParseError;

    /// Accepts `ssn`/`itin`/`atin`/`ein`/`unknown`, the W-9 words ("Social security number",
    /// "Employer identification number", ...) and the 1099 TIN-type codes `1` (EIN), `2` (SSN)
    /// and `3` (unknown, as in TIN Matching). Case, blanks and punctuation are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut key = String::with_capacity(s.len());
        key.extend(
            s.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(|c| c.to_ascii_lowercase()),
        );
        match key.as_str() {
            "ssn" | "socialsecuritynumber" | "socialsecurity" | "2" => Ok(TinType::Ssn),
            "itin" | "individualtaxpayeridentificationnumber" => Ok(TinType::Itin),
            "atin" | "adoptiontaxpayeridentificationnumber" => Ok(TinType::Atin),
            "ein" | "fein" | "employeridentificationnumber" | "1" => Ok(TinType::Ein),
            "unknown" | "3" => Ok(TinType::Unknown),
            _ => Err(TinTypeParseError),
        }
    }
}

/// How the TIN was written, from where its separators were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TinForm {
    /// `AAA-GG-SSSS` (SSN, ITIN or ATIN).
    Individual,
    /// `PP-NNNNNNN`.
    Ein,
    /// Nine digits with no separators (or separators in no recognised position).
    Bare,
}

/// Outcome of [`check_tin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TinStatus {
    /// Passes every format rule for its type (this does not prove the name/TIN pair).
    Valid,
    /// Nine digits that break an IRS rule (see the reasons).
    Invalid,
    /// Not nine digits, or contains characters other than digits and separators.
    Malformed,
    /// No TIN given (blank, or a placeholder such as "Applied For").
    Missing,
}

impl TinStatus {
    /// `"valid"`, `"invalid"`, `"malformed"` or `"missing"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TinStatus::Valid => "valid",
            TinStatus::Invalid => "invalid",
            TinStatus::Malformed => "malformed",
            TinStatus::Missing => "missing",
        }
    }
}

impl fmt::Display for TinStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A taxpayer identification number: the normalised 9 digits. **A secret.**
///
/// `Debug` and `Display` show only the last four digits (`***-**-1234`). The full number is
/// available through [`Tin::digits`] and [`Tin::formatted`], meant for encryption and
/// IRS-bound files only. There is deliberately no `Serialize`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Tin([u8; 9]);

impl Tin {
    /// A TIN from exactly 9 ASCII digits (no separators, no blanks).
    pub fn from_digits(s: &str) -> Option<Tin> {
        let b = s.as_bytes();
        if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let mut d = [0u8; 9];
        d.copy_from_slice(b);
        Some(Tin(d))
    }

    /// The full 9 digits. Only for encryption at rest and IRS-bound files.
    pub fn digits(&self) -> &str {
        // Every constructor stores ASCII digits only, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The last four digits (safe to show).
    pub fn last4(&self) -> &str {
        &self.digits()[5..]
    }

    /// Truncated for display and payee statements: `**-***1234` for an EIN, `***-**-1234`
    /// otherwise (IRS truncation, Reg. §301.6109-4).
    pub fn masked(&self, ty: TinType) -> String {
        match ty {
            TinType::Ein => format!("**-***{}", self.last4()),
            _ => format!("***-**-{}", self.last4()),
        }
    }

    /// The full number with dashes for its type (`12-3456789` for an EIN, `123-45-6789` for
    /// SSN/ITIN/ATIN, the bare 9 digits for an unknown type). Only for IRS-bound files.
    pub fn formatted(&self, ty: TinType) -> String {
        let d = self.digits();
        match ty {
            TinType::Ein => format!("{}-{}", &d[..2], &d[2..]),
            TinType::Ssn | TinType::Itin | TinType::Atin => {
                format!("{}-{}-{}", &d[..3], &d[3..5], &d[5..])
            }
            TinType::Unknown => d.to_owned(),
        }
    }

    fn two(&self, i: usize) -> u8 {
        (self.0[i] - b'0') * 10 + (self.0[i + 1] - b'0')
    }

    /// EIN prefix: digits 1-2.
    fn prefix(&self) -> u8 {
        self.two(0)
    }

    /// SSN/ITIN group: digits 4-5.
    fn group(&self) -> u8 {
        self.two(3)
    }
}

impl fmt::Debug for Tin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tin(***-**-{})", self.last4())
    }
}

impl fmt::Display for Tin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "***-**-{}", self.last4())
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// A TIN read from text, with the form its separators showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTin {
    /// The 9 digits.
    pub tin: Tin,
    /// Individual (3-2-4), EIN (2-7) or bare.
    pub form: TinForm,
    /// Separators were present but in no recognised position (e.g. `1234-56789`); the form is
    /// then [`TinForm::Bare`].
    pub irregular_separators: bool,
}

/// Why a text is not a TIN. Messages never echo the digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TinParseError {
    /// Blank, or only separators.
    #[error("no TIN given")]
    Empty,
    /// The W-9 says "Applied For": the payee is waiting for a number.
    #[error("TIN \"Applied For\" on the W-9: no number issued yet")]
    AppliedFor,
    /// A placeholder such as "N/A" or "none".
    #[error("TIN field holds a placeholder, not a number")]
    Placeholder,
    /// Not exactly 9 digits.
    #[error("TIN has {digits} digit(s); a TIN has exactly 9{hint}", hint = length_hint(*digits))]
    WrongLength {
        /// How many digits the text had.
        digits: usize,
    },
    /// A character that is neither a digit nor a separator (blank, `-`, `.`).
    #[error(
        "TIN contains {ch:?} at character {position}; only digits and the separators '-', '.' and blank are allowed"
    )]
    NonDigit {
        /// The offending character.
        ch: char,
        /// 1-based position in the trimmed text.
        position: usize,
    },
}

fn length_hint(digits: usize) -> &'static str {
    if digits == 8 {
        " (a spreadsheet may have dropped a leading zero; check the source)"
    } else {
        ""
    }
}

impl TinParseError {
    /// The [`TinStatus`] this error means: `Missing` for empty/placeholder, else `Malformed`.
    pub fn status(&self) -> TinStatus {
        match self {
            TinParseError::Empty | TinParseError::AppliedFor | TinParseError::Placeholder => {
                TinStatus::Missing
            }
            TinParseError::WrongLength { .. } | TinParseError::NonDigit { .. } => {
                TinStatus::Malformed
            }
        }
    }
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        '-' | '.' | ' ' | '\t' | '\u{a0}' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{2007}' | '\u{202f}'
    )
}

/// Classifies a non-numeric text as a W-9 placeholder (cold path only).
fn placeholder(text: &str) -> Option<TinParseError> {
    let mut key = String::with_capacity(text.len());
    key.extend(
        text.chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase()),
    );
    match key.as_str() {
        "appliedfor" | "applied" => Some(TinParseError::AppliedFor),
        "na" | "none" | "null" | "nil" | "tbd" | "unknown" => Some(TinParseError::Placeholder),
        _ => None,
    }
}

/// Reads a TIN from text.
///
/// Accepts surrounding blanks and separators (`-`, `.`, blanks, Unicode dashes; a run of them
/// counts as one) between digit groups: `123-45-6789`, `123 45 6789`, `12-3456789`,
/// `123456789`. The form comes from the separator positions: after digits 3 and 5 →
/// [`TinForm::Individual`]; after digit 2 only → [`TinForm::Ein`]; none → [`TinForm::Bare`];
/// anything else → `Bare` with `irregular_separators` set. Exactly 9 digits are required.
pub fn parse_tin(text: &str) -> Result<ParsedTin, TinParseError> {
    let t = text.trim();
    let mut digits = [0u8; 9];
    let mut n = 0usize;
    let mut seps = [usize::MAX; 2];
    let mut runs = 0usize;
    let mut in_sep = false;
    for (i, ch) in t.chars().enumerate() {
        if ch.is_ascii_digit() {
            if n < 9 {
                digits[n] = ch as u8;
            }
            n += 1;
            in_sep = false;
        } else if is_separator(ch) {
            if !in_sep {
                if runs < 2 {
                    seps[runs] = n;
                }
                runs += 1;
                in_sep = true;
            }
        } else {
            return Err(placeholder(t).unwrap_or(TinParseError::NonDigit {
                ch,
                position: i + 1,
            }));
        }
    }
    if n == 0 {
        return Err(TinParseError::Empty);
    }
    if n != 9 {
        return Err(TinParseError::WrongLength { digits: n });
    }
    let (form, irregular) = match (runs, seps) {
        (0, _) => (TinForm::Bare, false),
        (1, [2, _]) => (TinForm::Ein, false),
        (2, [3, 5]) => (TinForm::Individual, false),
        _ => (TinForm::Bare, true),
    };
    Ok(ParsedTin {
        tin: Tin(digits),
        form,
        irregular_separators: irregular,
    })
}

// ---------------------------------------------------------------------------------------------
// Configurable rules
// ---------------------------------------------------------------------------------------------

/// What to do with an EIN prefix that is in neither the valid nor the known-invalid list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrefixPolicy {
    /// Status valid, with a warning asking to add the prefix to the configuration (default).
    #[default]
    Warn,
    /// Status invalid.
    Reject,
}

/// A configured EIN prefix outside 00-99.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("EIN prefix {prefix} is out of range: a prefix is two digits, 00-99")]
pub struct TinRulesError {
    /// The rejected value.
    pub prefix: u8,
}

/// Where an EIN prefix stands under a [`TinRules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrefixStatus {
    /// In the valid list.
    Valid,
    /// In the known-invalid list.
    Invalid,
    /// In neither; [`PrefixPolicy`] decides.
    Unknown,
}

/// Updatable validation data: the EIN prefix lists and the policy for prefixes in neither.
///
/// [`TinRules::default`] is the IRS list of 83 valid prefixes, the 17 prefixes the IRS has never
/// assigned as known-invalid, and [`PrefixPolicy::Warn`] for anything else. A prefix the user
/// adds with [`TinRules::with_extra_ein_prefixes`] becomes valid (even if it was known-invalid:
/// the IRS can start assigning a prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinRules {
    /// Bit `p` set: prefix `p` is valid.
    ein_valid: u128,
    /// Bit `p` set: prefix `p` is known invalid.
    ein_invalid: u128,
    unknown_ein_prefix: PrefixPolicy,
}

impl Default for TinRules {
    fn default() -> Self {
        let mut valid = 0u128;
        for (_, prefixes) in IRS_EIN_PREFIXES {
            for &p in *prefixes {
                valid |= 1 << p;
            }
        }
        let mut invalid = 0u128;
        for &p in IRS_INVALID_EIN_PREFIXES {
            invalid |= 1 << p;
        }
        TinRules {
            ein_valid: valid,
            ein_invalid: invalid & !valid,
            unknown_ein_prefix: PrefixPolicy::Warn,
        }
    }
}

fn check_prefixes(prefixes: &[u8]) -> Result<(), TinRulesError> {
    match prefixes.iter().find(|&&p| p > 99) {
        Some(&prefix) => Err(TinRulesError { prefix }),
        None => Ok(()),
    }
}

impl TinRules {
    /// The IRS defaults plus configured extra valid prefixes and an unknown-prefix policy.
    pub fn from_config(extra_valid: &[u8], policy: PrefixPolicy) -> Result<Self, TinRulesError> {
        Ok(TinRules::default()
            .with_extra_ein_prefixes(extra_valid)?
            .with_unknown_prefix_policy(policy))
    }

    /// Marks prefixes valid (e.g. ones the IRS assigned after this list was made).
    pub fn with_extra_ein_prefixes(mut self, prefixes: &[u8]) -> Result<Self, TinRulesError> {
        check_prefixes(prefixes)?;
        for &p in prefixes {
            self.ein_valid |= 1 << p;
            self.ein_invalid &= !(1 << p);
        }
        Ok(self)
    }

    /// Marks prefixes known-invalid (always rejected, whatever the policy).
    pub fn with_invalid_ein_prefixes(mut self, prefixes: &[u8]) -> Result<Self, TinRulesError> {
        check_prefixes(prefixes)?;
        for &p in prefixes {
            self.ein_invalid |= 1 << p;
            self.ein_valid &= !(1 << p);
        }
        Ok(self)
    }

    /// Removes prefixes from both lists, so the [`PrefixPolicy`] decides them.
    pub fn without_ein_prefixes(mut self, prefixes: &[u8]) -> Result<Self, TinRulesError> {
        check_prefixes(prefixes)?;
        for &p in prefixes {
            self.ein_invalid &= !(1 << p);
            self.ein_valid &= !(1 << p);
        }
        Ok(self)
    }

    /// Sets what a prefix in neither list does.
    pub fn with_unknown_prefix_policy(mut self, policy: PrefixPolicy) -> Self {
        self.unknown_ein_prefix = policy;
        self
    }

    /// The policy for prefixes in neither list.
    pub fn unknown_prefix_policy(&self) -> PrefixPolicy {
        self.unknown_ein_prefix
    }

    /// Where `prefix` (0-99) stands. Values over 99 are `Unknown`.
    pub fn ein_prefix_status(&self, prefix: u8) -> PrefixStatus {
        if prefix > 99 {
            PrefixStatus::Unknown
        } else if self.ein_valid & (1 << prefix) != 0 {
            PrefixStatus::Valid
        } else if self.ein_invalid & (1 << prefix) != 0 {
            PrefixStatus::Invalid
        } else {
            PrefixStatus::Unknown
        }
    }

    /// The valid EIN prefixes.
    pub fn ein_prefixes(&self) -> BTreeSet<u8> {
        (0..=99u8)
            .filter(|&p| self.ein_valid & (1 << p) != 0)
            .collect()
    }

    /// The known-invalid EIN prefixes.
    pub fn invalid_ein_prefixes(&self) -> BTreeSet<u8> {
        (0..=99u8)
            .filter(|&p| self.ein_invalid & (1 << p) != 0)
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------------

/// The result of [`check_tin`]. `reasons` explain an `invalid`/`malformed`/`missing` status;
/// `warnings` accompany any status. Neither ever holds more than the last four digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TinCheck {
    /// Valid, invalid, malformed or missing.
    pub status: TinStatus,
    /// The resolved type (`Unknown` for an ambiguous bare number or when nothing was parsed and
    /// nothing declared).
    pub tin_type: TinType,
    /// The digits, when the text had exactly 9.
    pub tin: Option<Tin>,
    /// How the text was written, when it parsed.
    pub form: Option<TinForm>,
    /// A bare number with no declared type: could be an SSN or an EIN.
    pub ambiguous: bool,
    /// Why the status is not valid, one entry per broken rule.
    pub reasons: Vec<String>,
    /// Things to look at that do not make the TIN invalid.
    pub warnings: Vec<String>,
}

impl TinCheck {
    /// `status == Valid`.
    pub fn is_valid(&self) -> bool {
        self.status == TinStatus::Valid
    }
}

fn in_ranges(ranges: &[RangeInclusive<u8>], v: u8) -> bool {
    ranges.iter().any(|r| r.contains(&v))
}

/// Whether `group` (digits 4-5 of a 9XX number) is an ITIN group under the IRS ranges.
pub fn is_itin_group(group: u8) -> bool {
    in_ranges(ITIN_GROUPS, group)
}

/// The individual type an `AAA-GG-SSSS` number's digits say, whatever its validity: `9XX-93-XXXX`
/// is an ATIN, any other number starting with 9 an ITIN, anything else an SSN.
pub fn individual_type(tin: &Tin) -> TinType {
    if tin.0[0] != b'9' {
        TinType::Ssn
    } else if tin.group() == ATIN_GROUP {
        TinType::Atin
    } else {
        TinType::Itin
    }
}

/// The TIN type its written form says, with no declared type: `AAA-GG-SSSS` →
/// [`individual_type`] (ssn, or itin/atin when it starts with 9), `PP-NNNNNNN` → ein, a bare
/// 9-digit number (or one with separators in no recognised place) → unknown. Validity is not
/// looked at: [`check_tin`] says whether the number is valid for this type.
pub fn type_from_form(tin: &Tin, form: TinForm) -> TinType {
    match form {
        TinForm::Individual => individual_type(tin),
        TinForm::Ein => TinType::Ein,
        TinForm::Bare => TinType::Unknown,
    }
}

/// The TIN type a text's written form says ([`type_from_form`]), or `None` when the text is not
/// nine digits ([`parse_tin`] fails).
pub fn type_from_text(text: &str) -> Option<TinType> {
    parse_tin(text).ok().map(|p| type_from_form(&p.tin, p.form))
}

/// Checks an individual number (SSN, ITIN or ATIN, chosen by its digits) and returns the type it
/// resolves to, or `None` when it fits none (reasons pushed). `claimed` is the type the number
/// is taken as (declared, or from its form) and only words the reason, so that it never
/// contradicts the type reported.
fn check_individual(tin: &Tin, claimed: TinType, reasons: &mut Vec<String>) -> Option<TinType> {
    let d = &tin.0;
    if d[0] == b'9' {
        let group = tin.group();
        if is_itin_group(group) {
            return Some(TinType::Itin);
        }
        if group == ATIN_GROUP {
            return Some(TinType::Atin);
        }
        let what = if in_ranges(IRSN_GROUPS, group) {
            " (an IRSN range: an IRS internal number, not valid on information returns)"
        } else {
            ""
        };
        reasons.push(if claimed == TinType::Ssn {
            format!(
                "starts with 9, so it is not an SSN (SSN area 900-999 is never issued), and group \
                 (digits 4-5) {group:02} is not an ITIN group (50-65, 70-88, 90-92, 94-99) or the \
                 ATIN group (93){what}"
            )
        } else {
            format!(
                "starts with 9 (an ITIN or ATIN), but group (digits 4-5) {group:02} is not an ITIN \
                 group (50-65, 70-88, 90-92, 94-99) or the ATIN group (93){what}"
            )
        });
        return None;
    }
    let ok_before = reasons.len();
    if &d[..3] == b"000" {
        reasons.push("SSN area (digits 1-3) 000 is never issued".to_owned());
    } else if &d[..3] == b"666" {
        reasons.push("SSN area (digits 1-3) 666 is never issued".to_owned());
    }
    if &d[3..5] == b"00" {
        reasons.push("SSN group (digits 4-5) 00 is never issued".to_owned());
    }
    if &d[5..] == b"0000" {
        reasons.push("SSN serial (digits 6-9) 0000 is never issued".to_owned());
    }
    if reasons.len() == ok_before {
        for (number, source) in KNOWN_INVALID_SSNS {
            if number.as_bytes() == d {
                reasons.push(format!(
                    "SSN ending {} is a known invalid number ({source})",
                    tin.last4()
                ));
            }
        }
    }
    Some(TinType::Ssn)
}

/// Checks an EIN's prefix against the rules.
fn check_ein(tin: &Tin, rules: &TinRules, reasons: &mut Vec<String>, warnings: &mut Vec<String>) {
    let p = tin.prefix();
    match rules.ein_prefix_status(p) {
        PrefixStatus::Valid => {}
        PrefixStatus::Invalid => reasons.push(format!(
            "EIN prefix (digits 1-2) {p:02} has never been assigned by the IRS; if the IRS has \
             since assigned it, add it to the configuration"
        )),
        PrefixStatus::Unknown => {
            let msg = format!(
                "EIN prefix {p:02} is not in the IRS list of valid prefixes; if the IRS added it, \
                 add it to the configuration"
            );
            match rules.unknown_ein_prefix {
                PrefixPolicy::Warn => warnings.push(msg),
                PrefixPolicy::Reject => reasons.push(msg),
            }
        }
    }
}

fn missing_or_malformed(err: &TinParseError, declared: Option<TinType>) -> TinCheck {
    TinCheck {
        status: err.status(),
        tin_type: declared.unwrap_or(TinType::Unknown),
        tin: None,
        form: None,
        ambiguous: false,
        reasons: vec![err.to_string()],
        warnings: Vec::new(),
    }
}

/// Parses and validates a TIN.
///
/// * `None` or blank → `Missing`; not 9 digits or stray characters → `Malformed`; a broken IRS
///   rule → `Invalid`, one reason per rule.
/// * Type: a `declared` type (W-9, 1099 TIN-type field) wins over the written form. A declared
///   SSN/ITIN/ATIN is an individual number whose exact type comes from its digits (a number
///   starting with 9 is an ITIN or ATIN by its group, as the W-9 "SSN or ITIN" box allows); a
///   mismatch with the declared sub-type is a warning. Undeclared (or declared `Unknown`): the
///   form decides (`AAA-GG-SSSS` → individual, `PP-NNNNNNN` → EIN).
/// * A bare 9-digit number with no declared type gets `tin_type: Unknown`, `ambiguous: true` and
///   a warning. Its status is `Valid` if it passes the rules as at least one of SSN/ITIN/ATIN or
///   EIN (a warning says which), else `Invalid` with the reasons for each reading. Callers must
///   treat `ambiguous` as needing a W-9 type before filing.
/// * Undeclared, the type follows the text ([`type_from_form`]): `AAA-GG-SSSS` is `Itin` when it
///   starts with 9 (`Atin` when its group is 93) and `Ssn` otherwise, whatever its validity; the
///   status and reasons say whether it is valid (`932-69-2309` is an `Itin`, `Invalid`: its group
///   is not an ITIN group).
pub fn check_tin(text: Option<&str>, declared: Option<TinType>, rules: &TinRules) -> TinCheck {
    let parsed = match text.map(parse_tin) {
        None => return missing_or_malformed(&TinParseError::Empty, declared),
        Some(Err(e)) => return missing_or_malformed(&e, declared),
        Some(Ok(p)) => p,
    };
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    if parsed.irregular_separators {
        warnings.push(
            "separators are not in the SSN (AAA-GG-SSSS) or EIN (NN-NNNNNNN) positions; read as \
             a bare 9-digit number"
                .to_owned(),
        );
    }
    let tin = &parsed.tin;
    let declared = declared.filter(|&t| t != TinType::Unknown);
    let mut ambiguous = false;
    let tin_type = match (declared, parsed.form) {
        (Some(TinType::Ein), form) => {
            if form == TinForm::Individual {
                warnings.push(
                    "written as an individual number (AAA-GG-SSSS) but declared EIN; checked as \
                     an EIN"
                        .to_owned(),
                );
            }
            check_ein(tin, rules, &mut reasons, &mut warnings);
            TinType::Ein
        }
        (Some(decl), form) => {
            if form == TinForm::Ein {
                warnings.push(format!(
                    "written as an EIN (NN-NNNNNNN) but declared {}; checked as an individual \
                     number",
                    decl.label()
                ));
            }
            match check_individual(tin, decl, &mut reasons) {
                Some(found) => {
                    if found != decl && !(decl == TinType::Ssn && found != TinType::Ssn) {
                        warnings.push(format!(
                            "declared {} but the number is an {}",
                            decl.label(),
                            found.label()
                        ));
                    }
                    found
                }
                None => decl,
            }
        }
        (None, TinForm::Individual) => {
            let by_form = individual_type(tin);
            check_individual(tin, by_form, &mut reasons).unwrap_or(by_form)
        }
        (None, TinForm::Ein) => {
            check_ein(tin, rules, &mut reasons, &mut warnings);
            TinType::Ein
        }
        (None, TinForm::Bare) => {
            ambiguous = true;
            warnings.push(AMBIGUOUS_WARNING.to_owned());
            let mut ind_reasons = Vec::new();
            let ind = check_individual(tin, TinType::Ssn, &mut ind_reasons);
            let mut ein_reasons = Vec::new();
            let mut ein_warnings = Vec::new();
            check_ein(tin, rules, &mut ein_reasons, &mut ein_warnings);
            let ind_ok = ind_reasons.is_empty();
            let ein_ok = ein_reasons.is_empty();
            if ind_ok || ein_ok {
                let mut as_what = Vec::with_capacity(2);
                if let (true, Some(t)) = (ind_ok, ind) {
                    as_what.push(t.label());
                }
                if ein_ok {
                    as_what.push("EIN");
                    warnings.extend(ein_warnings);
                }
                warnings.push(format!("would be valid as: {}", as_what.join(", ")));
            } else {
                reasons.extend(
                    ind_reasons
                        .into_iter()
                        .map(|r| format!("as SSN/ITIN/ATIN: {r}")),
                );
                reasons.extend(ein_reasons.into_iter().map(|r| format!("as EIN: {r}")));
            }
            TinType::Unknown
        }
    };
    TinCheck {
        status: if reasons.is_empty() {
            TinStatus::Valid
        } else {
            TinStatus::Invalid
        },
        tin_type,
        tin: Some(parsed.tin),
        form: Some(parsed.form),
        ambiguous,
        reasons,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::de::IntoDeserializer;

    fn check(text: &str, declared: Option<TinType>) -> TinCheck {
        check_tin(Some(text), declared, &TinRules::default())
    }

    struct Case {
        name: &'static str,
        text: Option<&'static str>,
        declared: Option<TinType>,
        status: TinStatus,
        tin_type: TinType,
        ambiguous: bool,
        /// A substring one reason must contain (for non-valid cases).
        reason: Option<&'static str>,
    }

    const fn case(
        name: &'static str,
        text: Option<&'static str>,
        declared: Option<TinType>,
        status: TinStatus,
        tin_type: TinType,
    ) -> Case {
        Case {
            name,
            text,
            declared,
            status,
            tin_type,
            ambiguous: false,
            reason: None,
        }
    }

    use TinStatus::{Invalid, Malformed, Missing, Valid};
    use TinType::{Atin, Ein, Itin, Ssn, Unknown};

    fn cases() -> Vec<Case> {
        let r = |mut c: Case, reason: &'static str| {
            c.reason = Some(reason);
            c
        };
        let amb = |mut c: Case| {
            c.ambiguous = true;
            c
        };
        vec![
            case("valid SSN", Some("123-45-6789"), None, Valid, Ssn),
            case("valid SSN, spaces", Some("123 45 6789"), None, Valid, Ssn),
            case("valid SSN, dots", Some("123.45.6789"), None, Valid, Ssn),
            case(
                "valid SSN, blanks around",
                Some(" 123-45-6789 "),
                None,
                Valid,
                Ssn,
            ),
            case(
                "valid SSN, spaced dashes",
                Some("123 - 45 - 6789"),
                None,
                Valid,
                Ssn,
            ),
            case(
                "randomized area 773+",
                Some("800-12-3456"),
                None,
                Valid,
                Ssn,
            ),
            r(
                case("area 000", Some("000-12-3456"), None, Invalid, Ssn),
                "area (digits 1-3) 000",
            ),
            r(
                case("area 666", Some("666-12-3456"), None, Invalid, Ssn),
                "area (digits 1-3) 666",
            ),
            r(
                case(
                    "area 9xx declared SSN",
                    Some("900-12-3456"),
                    Some(Ssn),
                    Invalid,
                    Ssn,
                ),
                "area 900-999",
            ),
            r(
                case(
                    "area 9xx as individual form",
                    Some("999-00-3456"),
                    None,
                    Invalid,
                    Itin,
                ),
                "not an ITIN group",
            ),
            r(
                case("group 00", Some("123-00-4567"), None, Invalid, Ssn),
                "group (digits 4-5) 00",
            ),
            r(
                case("serial 0000", Some("123-45-0000"), None, Invalid, Ssn),
                "serial (digits 6-9) 0000",
            ),
            r(
                case("Woolworth", Some("078-05-1120"), None, Invalid, Ssn),
                "Woolworth",
            ),
            r(
                case("LifeLock", Some("457-55-5462"), None, Invalid, Ssn),
                "LifeLock",
            ),
            r(
                case("SSB pamphlet", Some("219-09-9999"), None, Invalid, Ssn),
                "pamphlet",
            ),
            r(
                case(
                    "blacklisted, declared",
                    Some("078051120"),
                    Some(Ssn),
                    Invalid,
                    Ssn,
                ),
                "known invalid",
            ),
            case(
                "ITIN group 50-65 (IRS, not stdnum)",
                Some("912-55-1234"),
                None,
                Valid,
                Itin,
            ),
            case("ITIN group 50", Some("912-50-1234"), None, Valid, Itin),
            case("ITIN group 65", Some("912-65-1234"), None, Valid, Itin),
            case("ITIN group 70", Some("912-70-1234"), None, Valid, Itin),
            case("ITIN group 99", Some("912-99-1234"), None, Valid, Itin),
            r(
                case("9xx group 89", Some("912-89-1234"), None, Invalid, Itin),
                "IRSN",
            ),
            r(
                case(
                    "9xx group 66 (IRSN)",
                    Some("912-66-1234"),
                    None,
                    Invalid,
                    Itin,
                ),
                "IRSN",
            ),
            r(
                case("9xx group 40", Some("912-40-1234"), None, Invalid, Itin),
                "not an ITIN group",
            ),
            case("ATIN", Some("912-93-1234"), None, Valid, Atin),
            case("ATIN 900-93-1234", Some("900-93-1234"), None, Valid, Atin),
            r(
                case(
                    "932-69-2309: an ITIN by its text, invalid group",
                    Some("932-69-2309"),
                    None,
                    Invalid,
                    Itin,
                ),
                "group (digits 4-5) 69 is not an ITIN group",
            ),
            amb(case(
                "bare 9xx stays unknown",
                Some("932692309"),
                None,
                Valid,
                Unknown,
            )),
            case(
                "declared SSN that is an ITIN (W-9 box)",
                Some("912-55-1234"),
                Some(Ssn),
                Valid,
                Itin,
            ),
            case(
                "declared SSN that is an ATIN",
                Some("912931234"),
                Some(Ssn),
                Valid,
                Atin,
            ),
            r(
                case(
                    "declared SSN, 9xx non-ITIN group",
                    Some("912-40-1234"),
                    Some(Ssn),
                    Invalid,
                    Ssn,
                ),
                "group (digits 4-5) 40",
            ),
            r(
                case(
                    "declared ITIN, bad group",
                    Some("912401234"),
                    Some(Itin),
                    Invalid,
                    Itin,
                ),
                "not an ITIN group",
            ),
            case("valid EIN", Some("12-3456789"), None, Valid, Ein),
            case("valid EIN, spaces", Some("12 3456789"), None, Valid, Ein),
            r(
                case("EIN prefix 07", Some("07-1234567"), None, Invalid, Ein),
                "prefix (digits 1-2) 07",
            ),
            r(
                case("EIN prefix 00", Some("00-1234567"), None, Invalid, Ein),
                "00",
            ),
            r(
                case(
                    "EIN prefix 96 declared",
                    Some("961234567"),
                    Some(Ein),
                    Invalid,
                    Ein,
                ),
                "96",
            ),
            r(
                case(
                    "vendor sample 8 digits",
                    Some("123-45-678"),
                    None,
                    Malformed,
                    Unknown,
                ),
                "8 digit",
            ),
            r(
                case("10 digits", Some("123-45-67890"), None, Malformed, Unknown),
                "10 digit",
            ),
            r(
                case("letters", Some("12A-45-6789"), None, Malformed, Unknown),
                "'A'",
            ),
            amb(case(
                "12-34-56789 (odd, 9 digits)",
                Some("12-34-56789"),
                None,
                Valid,
                Unknown,
            )),
            amb(case(
                "bare number ambiguous",
                Some("123456789"),
                None,
                Valid,
                Unknown,
            )),
            amb(case(
                "bare declared unknown",
                Some("123456789"),
                Some(Unknown),
                Valid,
                Unknown,
            )),
            amb(case(
                "odd separators",
                Some("1234-56789"),
                None,
                Valid,
                Unknown,
            )),
            amb(case(
                "odd separators 3-3-3",
                Some("123-456-789"),
                None,
                Valid,
                Unknown,
            )),
            amb(r(
                case(
                    "bare, invalid both ways",
                    Some("000001234"),
                    None,
                    Invalid,
                    Unknown,
                ),
                "as EIN: EIN prefix",
            )),
            case(
                "bare declared SSN",
                Some("123456789"),
                Some(Ssn),
                Valid,
                Ssn,
            ),
            case(
                "bare declared EIN",
                Some("123456789"),
                Some(Ein),
                Valid,
                Ein,
            ),
            case(
                "EIN form, declared SSN wins",
                Some("12-3456789"),
                Some(Ssn),
                Valid,
                Ssn,
            ),
            r(
                case(
                    "SSN form, declared EIN wins",
                    Some("070-12-3456"),
                    Some(Ein),
                    Invalid,
                    Ein,
                ),
                "prefix (digits 1-2) 07",
            ),
            r(case("None", None, None, Missing, Unknown), "no TIN"),
            r(case("empty", Some(""), None, Missing, Unknown), "no TIN"),
            r(
                case("blanks", Some("   "), None, Missing, Unknown),
                "no TIN",
            ),
            r(
                case("only dashes", Some(" --- "), None, Missing, Unknown),
                "no TIN",
            ),
            r(
                case("applied for", Some("Applied For"), Some(Ssn), Missing, Ssn),
                "Applied For",
            ),
            r(
                case("N/A", Some("N/A"), None, Missing, Unknown),
                "placeholder",
            ),
        ]
    }

    #[test]
    fn named_cases() {
        let rules = TinRules::default();
        let mut failures = Vec::new();
        for c in cases() {
            let got = check_tin(c.text, c.declared, &rules);
            let reason_ok = match c.reason {
                None => c.status != Valid || got.reasons.is_empty(),
                Some(s) => got.reasons.iter().any(|r| r.contains(s)),
            };
            if got.status != c.status
                || got.tin_type != c.tin_type
                || got.ambiguous != c.ambiguous
                || !reason_ok
            {
                failures.push(format!("{}: {got:?}", c.name));
            }
        }
        assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    }

    #[test]
    fn type_follows_the_text() {
        // 932-69-2309: the type is ITIN and the reasons agree (never "not an SSN").
        let c = check("932-69-2309", None);
        assert_eq!((c.tin_type, c.status), (Itin, Invalid));
        assert!(
            c.reasons.iter().all(|r| !r.contains("not an SSN")),
            "{:?}",
            c.reasons
        );
        assert!(
            c.reasons.iter().any(|r| r.contains("IRSN")),
            "{:?}",
            c.reasons
        );
        assert_eq!(check("900-93-1234", None).tin_type, Atin);
        assert_eq!(check("123-45-6789", None).tin_type, Ssn);
        assert_eq!(check("12-3456789", None).tin_type, Ein);
        // Invalid SSNs stay SSNs.
        assert_eq!(check("000-12-3456", None).tin_type, Ssn);
        // A bare number with no other evidence stays unknown.
        assert_eq!(check("123456789", None).tin_type, Unknown);
        assert_eq!(check("912551234", None).tin_type, Unknown);
        // A declared type still wins.
        let c = check("932-69-2309", Some(Ssn));
        assert_eq!((c.tin_type, c.status), (Ssn, Invalid));
        assert!(c.reasons.iter().any(|r| r.contains("not an SSN")));
        assert_eq!(check("932-69-2309", Some(Ein)).tin_type, Ein);
        assert_eq!(check("123-45-6789", Some(Ein)).tin_type, Ein);

        for (text, ty) in [
            ("932-69-2309", Some(Itin)),
            ("900-93-1234", Some(Atin)),
            ("912-55-1234", Some(Itin)),
            ("123-45-6789", Some(Ssn)),
            ("000-00-0000", Some(Ssn)),
            ("12-3456789", Some(Ein)),
            ("00-0000000", Some(Ein)),
            ("123456789", Some(Unknown)),
            ("1234-56789", Some(Unknown)),
            ("123-45-678", None),
            ("", None),
        ] {
            assert_eq!(type_from_text(text), ty, "{text}");
        }
    }

    #[test]
    fn forms() {
        let f = |s: &str| parse_tin(s).map(|p| (p.form, p.irregular_separators));
        assert_eq!(f("123-45-6789"), Ok((TinForm::Individual, false)));
        assert_eq!(f("12-3456789"), Ok((TinForm::Ein, false)));
        assert_eq!(f("123456789"), Ok((TinForm::Bare, false)));
        assert_eq!(f("1234-56789"), Ok((TinForm::Bare, true)));
        assert_eq!(f("-123456789"), Ok((TinForm::Bare, true)));
        assert_eq!(f("123-45-6789."), Ok((TinForm::Bare, true)));
        assert_eq!(
            f("123\u{2013}45\u{2013}6789"),
            Ok((TinForm::Individual, false))
        );
        assert_eq!(
            f("123-45-678"),
            Err(TinParseError::WrongLength { digits: 8 })
        );
        assert_eq!(
            f("123/45/6789"),
            Err(TinParseError::NonDigit {
                ch: '/',
                position: 4
            })
        );
        assert_eq!(
            f("１２３456789").map(|_| ()),
            Err(TinParseError::NonDigit {
                ch: '１',
                position: 1
            })
        );
    }

    #[test]
    fn warnings() {
        let c = check("123456789", None);
        assert!(c.warnings.iter().any(|w| w.contains("type ambiguous")));
        assert!(
            c.warnings
                .iter()
                .any(|w| w == "would be valid as: SSN, EIN")
        );
        let c = check("912-55-1234", Some(Itin));
        assert!(c.warnings.is_empty(), "{c:?}");
        let c = check("123-45-6789", Some(Itin));
        assert_eq!(c.tin_type, Ssn);
        assert!(c.warnings.iter().any(|w| w.contains("declared ITIN")));
        let c = check("12-3456789", Some(Ssn));
        assert!(c.warnings.iter().any(|w| w.contains("written as an EIN")));
        let c = check("1234-56789", Some(Ssn));
        assert!(c.warnings.iter().any(|w| w.contains("separators")));
        // bare 9xx with a prefix valid for an EIN but not an ITIN group: valid as EIN only
        let c = check("981234567", None);
        assert_eq!(c.status, Valid);
        assert!(c.warnings.iter().any(|w| w == "would be valid as: EIN"));
    }

    #[test]
    fn prefix_policy() {
        assert_eq!(TinRules::default().ein_prefixes().len(), 83);
        assert_eq!(TinRules::default().invalid_ein_prefixes().len(), 17);
        let all: BTreeSet<u8> = TinRules::default()
            .ein_prefixes()
            .union(&TinRules::default().invalid_ein_prefixes())
            .copied()
            .collect();
        assert_eq!(all.len(), 100);
        assert_eq!(
            TinRules::default().unknown_prefix_policy(),
            PrefixPolicy::Warn
        );

        // The user adds a prefix the IRS started assigning.
        let rules = TinRules::from_config(&[96], PrefixPolicy::Warn).unwrap();
        let c = check_tin(Some("96-1234567"), None, &rules);
        assert_eq!(c.status, Valid, "{c:?}");
        assert!(c.warnings.is_empty());

        // A prefix removed from both lists: Warn keeps it valid with a warning, Reject refuses.
        let rules = TinRules::default().without_ein_prefixes(&[12]).unwrap();
        let c = check_tin(Some("12-3456789"), None, &rules);
        assert_eq!(c.status, Valid);
        assert!(c.warnings.iter().any(|w| w.contains(
            "EIN prefix 12 is not in the IRS list of valid prefixes; if the IRS added it, add it to the configuration"
        )));
        let rules = rules.with_unknown_prefix_policy(PrefixPolicy::Reject);
        let c = check_tin(Some("12-3456789"), None, &rules);
        assert_eq!(c.status, Invalid);
        assert!(c.reasons[0].contains("not in the IRS list"));

        let rules = TinRules::default()
            .with_invalid_ein_prefixes(&[12])
            .unwrap();
        assert_eq!(check_tin(Some("12-3456789"), None, &rules).status, Invalid);
        assert_eq!(
            TinRules::from_config(&[100], PrefixPolicy::Warn),
            Err(TinRulesError { prefix: 100 })
        );
    }

    #[test]
    fn type_from_str() {
        for (s, t) in [
            ("ssn", Ssn),
            ("SSN", Ssn),
            (" S.S.N. ", Ssn),
            ("Social Security Number", Ssn),
            ("2", Ssn),
            ("EIN", Ein),
            ("employer identification number", Ein),
            ("1", Ein),
            ("ITIN", Itin),
            ("atin", Atin),
            ("unknown", Unknown),
        ] {
            assert_eq!(s.parse::<TinType>(), Ok(t), "{s}");
        }
        assert!("".parse::<TinType>().is_err());
        assert!("4".parse::<TinType>().is_err());
        assert!(
            "123456789"
                .parse::<TinType>()
                .unwrap_err()
                .to_string()
                .find("1234")
                .is_none()
        );
        for t in [Ssn, Itin, Atin, Ein, Unknown] {
            assert_eq!(t.as_str().parse::<TinType>(), Ok(t));
            let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
                t.as_str().into_deserializer();
            assert_eq!(TinType::deserialize(de), Ok(t));
        }
    }

    #[test]
    fn tin_display_is_masked() {
        let t = Tin::from_digits("123456789").unwrap();
        assert_eq!(format!("{t:?}"), "Tin(***-**-6789)");
        assert_eq!(t.to_string(), "***-**-6789");
        assert_eq!(t.masked(Ein), "**-***6789");
        assert_eq!(t.masked(Ssn), "***-**-6789");
        assert_eq!(t.formatted(Ein), "12-3456789");
        assert_eq!(t.formatted(Itin), "123-45-6789");
        assert_eq!(t.formatted(Unknown), "123456789");
        assert_eq!(t.digits(), "123456789");
        assert_eq!(t.last4(), "6789");
        assert!(Tin::from_digits("12345678").is_none());
        assert!(Tin::from_digits("12345678a").is_none());
        assert!(Tin::from_digits("123-45-6789").is_none());
        let c = check("123-45-6789", None);
        assert!(!format!("{c:?}").contains("123456789"));
    }

    fn ssn_parts() -> impl Strategy<Value = (u16, u8, u16)> {
        (1u16..=899, 1u8..=99, 1u16..=9999)
            .prop_filter("area 666", |(a, _, _)| *a != 666)
            .prop_filter("known invalid", |(a, g, s)| {
                let d = format!("{a:03}{g:02}{s:04}");
                !KNOWN_INVALID_SSNS.iter().any(|(n, _)| *n == d)
            })
    }

    fn spellings(a: &str, g: &str, s: &str) -> Vec<String> {
        vec![
            format!("{a}-{g}-{s}"),
            format!("{a} {g} {s}"),
            format!("{a}.{g}.{s}"),
            format!("  {a}-{g}-{s}\t"),
            format!("{a}{g}{s}"),
        ]
    }

    proptest! {
        #[test]
        fn valid_ssn_any_spelling((a, g, s) in ssn_parts()) {
            let (a, g, s) = (format!("{a:03}"), format!("{g:02}"), format!("{s:04}"));
            for text in spellings(&a, &g, &s) {
                let declared = if text.contains(|c: char| !c.is_ascii_digit()) { None } else { Some(Ssn) };
                let c = check(&text, declared);
                prop_assert_eq!(c.status, Valid, "{:?} {:?}", text, c);
                prop_assert_eq!(c.tin_type, Ssn);
            }
        }

        #[test]
        fn valid_itin((a, g, s) in (0u16..=99, prop::sample::select(
            ITIN_GROUPS.iter().flat_map(|r| r.clone()).collect::<Vec<u8>>()), 0u16..=9999)) {
            let (a, g, s) = (format!("9{a:02}"), format!("{g:02}"), format!("{s:04}"));
            for text in spellings(&a, &g, &s) {
                let declared = if text.contains(|c: char| !c.is_ascii_digit()) { None } else { Some(Ssn) };
                let c = check(&text, declared);
                prop_assert_eq!(c.status, Valid, "{:?} {:?}", text, c);
                prop_assert_eq!(c.tin_type, Itin);
            }
        }

        #[test]
        fn never_panics(s in ".{0,40}", declared in prop::option::of(prop::sample::select(vec![Ssn, Itin, Atin, Ein, Unknown]))) {
            let _ = check_tin(Some(&s), declared, &TinRules::default());
        }

        #[test]
        fn never_panics_digitish(s in "[0-9 .\\-]{0,20}") {
            let _ = check_tin(Some(&s), None, &TinRules::default());
        }

        #[test]
        fn secrets_never_leak(d in "[0-9]{9}", declared in prop::option::of(prop::sample::select(vec![Ssn, Itin, Atin, Ein, Unknown])),
                              sep in prop::sample::select(vec!["", "-", " "])) {
            let t = Tin::from_digits(&d).unwrap();
            let shown = format!("{t:?}");
            prop_assert!(!shown.contains(&d));
            prop_assert!(!t.to_string().contains(&d));
            let text = format!("{}{sep}{}{sep}{}", &d[..3], &d[3..5], &d[5..]);
            let c = check_tin(Some(&text), declared, &TinRules::default().with_unknown_prefix_policy(PrefixPolicy::Reject));
            for r in c.reasons.iter().chain(&c.warnings) {
                prop_assert!(!r.contains(&d), "{}", r);
            }
            let shown = format!("{c:?}");
            prop_assert!(!shown.contains(&d));
            // wrong lengths: the error does not echo the digits either
            let long = format!("{d}1");
            let c = check_tin(Some(&long), declared, &TinRules::default());
            prop_assert!(c.reasons.iter().all(|r| !r.contains(&d)));
        }
    }
}
