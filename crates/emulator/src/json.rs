//! Hand-rolled JSON writing for the hot path and exact number handling.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// Appends `s` as a JSON string literal (quotes included). Non-ASCII text is written as UTF-8;
/// control characters are escaped.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            _ => None,
        };
        if let Some(e) = esc {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(e);
            start = i + 1;
        } else if b < 0x20 {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `"key":` (the key must not need escaping).
pub(crate) fn write_key(out: &mut Vec<u8>, key: &str) {
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Parses JSON number text (`1500`, `599.9999999999999`, `6.0E2`) into an exact decimal.
/// Returns `None` for anything that is not a finite JSON number or does not fit a `Decimal`
/// exactly.
pub fn parse_number_text(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let valid_start = t
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.');
    if !valid_start
        || !t
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    if t.contains(['e', 'E']) {
        let (mantissa, exp) = t.split_once(['e', 'E'])?;
        let exp = exp.strip_prefix('+').unwrap_or(exp);
        if exp.is_empty() || mantissa.is_empty() {
            return None;
        }
        Decimal::from_scientific(&format!("{mantissa}e{exp}")).ok()
    } else {
        Decimal::from_str_exact(t)
            .ok()
            .or_else(|| Decimal::from_str(t).ok())
    }
}

/// A JSON number written verbatim from its text (so `599.9999999999999` or `6.0E2` reach the
/// client byte-exact).
#[derive(Clone, Debug)]
pub(crate) struct RawNum(pub String);

impl RawNum {
    /// A decimal amount written as a float serializer would (`100.5`, `1500`).
    pub(crate) fn amount(d: Decimal) -> Self {
        RawNum(d.normalize().to_string())
    }
}

impl Serialize for RawNum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.0.clone()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// A decimal amount as a JSON number value (`100.5`).
pub(crate) fn number_value(d: Decimal) -> serde_json::Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_keeps_unicode() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\td\re\nf\u{1}王");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\td\\re\\nf\\u0001王\""
        );
        let mut out = Vec::new();
        write_str(&mut out, "=HYPERLINK(\"http://x\",\"y\")");
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "=HYPERLINK(\"http://x\",\"y\")");
    }

    #[test]
    fn parses_number_text_exactly() {
        assert_eq!(parse_number_text("6.0E2").unwrap(), Decimal::from(600));
        assert_eq!(parse_number_text("6e+2").unwrap(), Decimal::from(600));
        assert_eq!(
            parse_number_text("599.9999999999999").unwrap().to_string(),
            "599.9999999999999"
        );
        assert_eq!(parse_number_text("1500").unwrap(), Decimal::from(1500));
        assert!(parse_number_text("").is_none());
        assert!(parse_number_text("NaN").is_none());
        assert!(parse_number_text("abc").is_none());
        assert!(parse_number_text("1e").is_none());
    }

    #[test]
    fn raw_num_serializes_verbatim() {
        #[derive(Serialize)]
        struct T {
            b: RawNum,
        }
        let s = serde_json::to_string(&T {
            b: RawNum("599.9999999999999".into()),
        })
        .unwrap();
        assert_eq!(s, r#"{"b":599.9999999999999}"#);
        assert_eq!(RawNum::amount(Decimal::new(10050, 2)).0, "100.5");
        assert_eq!(RawNum::amount(Decimal::new(150000, 2)).0, "1500");
    }
}
