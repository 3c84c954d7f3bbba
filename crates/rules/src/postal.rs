//! US ZIP repair, the one rule for every input (MassPay rows and W-9 spreadsheets).
//!
//! MassPay 1.0.0 types `postal_code` as a JSON number, and spreadsheets store a ZIP typed into
//! a number cell (or saved to CSV from one) as a number, so `02108` arrives as `2108` and
//! `02108-1234` (as a number, `21081234`) loses its zero and its dash. The rule, for a US (or
//! territory) address whose code may have been a number ([`ZipSource::Number`],
//! [`ZipSource::SpreadsheetText`]) and holds digits only:
//!
//! * 3 or 4 digits: leading zeros restored to 5 (`2108` → `02108`, `501` → `00501`; the lowest
//!   ZIP is 00501, so a real ZIP never loses more than two zeros);
//! * 5 digits: kept;
//! * 6 to 9 digits: ZIP+4, zeros restored to 9 digits and the dash put back
//!   (`21081234` → `02108-1234`, `904051234` → `90405-1234`);
//! * anything else (1-2 digits, 10 or more, letters, a dash already there) is kept as it came,
//!   for [`is_valid_us_zip`] to flag.
//!
//! Text as the payee typed it ([`ZipSource::Text`], e.g. a JSON string from MassPay) is kept as
//! sent. A repair is always reported ([`ZipRepair`]), never silent. Foreign postal codes are
//! never repaired: callers check residency first ([`crate::classify::is_us_or_territory`]).

/// Where a postal code came from, which says whether its leading zeros can have been lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZipSource {
    /// A number: MassPay's JSON number, a spreadsheet number cell (its whole value as decimal
    /// digits). Leading zeros and the ZIP+4 dash are gone.
    Number,
    /// Text from a file that went through a spreadsheet (CSV, a text cell): digits only there
    /// mean the code was probably a number once, so it is repaired like one.
    SpreadsheetText,
    /// Text as the payee wrote it: kept as sent.
    Text,
}

/// The result of [`repair_zip`]: the code to keep and what was restored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ZipRepair {
    /// The code to store (trimmed; repaired when it had lost zeros or its dash).
    pub zip: String,
    /// How many leading zeros were put back (0 when none).
    pub zeros_restored: usize,
    /// The ZIP+4 dash was put back.
    pub dash_restored: bool,
}

impl ZipRepair {
    /// Whether anything was changed (other than trimming blanks).
    pub fn changed(&self) -> bool {
        self.zeros_restored > 0 || self.dash_restored
    }

    fn kept(t: &str) -> Self {
        ZipRepair {
            zip: t.to_string(),
            zeros_restored: 0,
            dash_restored: false,
        }
    }
}

/// Repairs a US ZIP that may have lost its leading zeros or ZIP+4 dash (see the module docs).
pub fn repair_zip(code: &str, source: ZipSource) -> ZipRepair {
    let t = code.trim();
    if source == ZipSource::Text || t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return ZipRepair::kept(t);
    }
    match t.len() {
        3 | 4 => ZipRepair {
            zip: format!("{t:0>5}"),
            zeros_restored: 5 - t.len(),
            dash_restored: false,
        },
        6..=9 => {
            let nine = format!("{t:0>9}");
            ZipRepair {
                zip: format!("{}-{}", &nine[..5], &nine[5..]),
                zeros_restored: 9 - t.len(),
                dash_restored: true,
            }
        }
        _ => ZipRepair::kept(t),
    }
}

/// The repaired code and whether it was changed; `was_number` selects [`ZipSource::Number`]
/// (else [`ZipSource::Text`]). Kept for existing callers; see [`repair_zip`].
pub fn repair_us_zip(code: &str, was_number: bool) -> (String, bool) {
    let source = if was_number {
        ZipSource::Number
    } else {
        ZipSource::Text
    };
    let r = repair_zip(code, source);
    let changed = r.changed();
    (r.zip, changed)
}

/// Whether a US ZIP is well formed (`12345` or `12345-6789`).
pub fn is_valid_us_zip(code: &str) -> bool {
    let b = code.as_bytes();
    match b.len() {
        5 => b.iter().all(u8::is_ascii_digit),
        10 => b[5] == b'-' && b[..5].iter().chain(&b[6..]).all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pads_numbers_that_lost_leading_zeros() {
        assert_eq!(repair_us_zip("2108", true), ("02108".into(), true));
        assert_eq!(repair_us_zip("501", true), ("00501".into(), true));
        assert_eq!(repair_us_zip("90405", true), ("90405".into(), false));
        assert_eq!(repair_us_zip("21081234", true), ("02108-1234".into(), true));
        assert_eq!(
            repair_us_zip("904051234", true),
            ("90405-1234".into(), true)
        );
        assert_eq!(
            repair_us_zip("2108", false),
            ("2108".into(), false),
            "text is kept as sent"
        );
        assert_eq!(
            repair_us_zip("02108-1234", false),
            ("02108-1234".into(), false)
        );
    }

    #[test]
    fn one_rule_for_numbers_and_spreadsheet_text() {
        for source in [ZipSource::Number, ZipSource::SpreadsheetText] {
            let r = repair_zip("2108", source);
            assert_eq!(
                r,
                ZipRepair {
                    zip: "02108".into(),
                    zeros_restored: 1,
                    dash_restored: false
                }
            );
            assert!(r.changed());
            let r = repair_zip(" 501 ", source);
            assert_eq!((r.zip.as_str(), r.zeros_restored), ("00501", 2));
            let r = repair_zip("90405", source);
            assert_eq!(r.zip, "90405");
            assert!(!r.changed());
            let r = repair_zip("21081234", source);
            assert_eq!(
                (r.zip.as_str(), r.zeros_restored, r.dash_restored),
                ("02108-1234", 1, true)
            );
            let r = repair_zip("904051234", source);
            assert_eq!(
                (r.zip.as_str(), r.zeros_restored, r.dash_restored),
                ("90405-1234", 0, true)
            );
            // Not a ZIP that lost zeros: kept as it came.
            for kept in [
                "12",
                "1",
                "1234567890",
                "02108-1234",
                "M5V 3L9",
                "",
                "2108a",
            ] {
                let r = repair_zip(kept, source);
                assert_eq!(r.zip, kept.trim(), "{kept:?}");
                assert!(!r.changed(), "{kept:?}");
            }
        }
        let r = repair_zip("2108", ZipSource::Text);
        assert_eq!(r.zip, "2108");
        assert!(!r.changed());
    }

    #[test]
    fn zip_shapes() {
        assert!(is_valid_us_zip("02108"));
        assert!(is_valid_us_zip("02108-1234"));
        assert!(!is_valid_us_zip("2108"));
        assert!(!is_valid_us_zip("02108 1234"));
    }

    proptest! {
        #[test]
        fn repaired_zips_are_valid(n in 100u64..=999_999_999) {
            let s = n.to_string();
            let r = repair_zip(&s, ZipSource::Number);
            prop_assert!(is_valid_us_zip(&r.zip), "{} -> {}", s, r.zip);
            // The digits are the number's, zero-padded.
            let digits: String = r.zip.chars().filter(char::is_ascii_digit).collect();
            prop_assert_eq!(digits.trim_start_matches('0'), s.trim_start_matches('0'));
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            for source in [ZipSource::Number, ZipSource::SpreadsheetText, ZipSource::Text] {
                let _ = repair_zip(&s, source);
            }
        }
    }
}
