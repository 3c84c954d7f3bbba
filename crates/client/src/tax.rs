//! `GET /payout/tax`: the year's annual balance of every payee, decoded as a stream.

use crate::error::ClientError;
use crate::split::ArraySplitter;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;

/// A postal code as MassPay sent it: 1.0.0 types it as a number (leading zeros lost), 0.1.4 as a
/// string (ZIP+4 and leading zeros survive). The text is kept; repair happens in the rules layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostalCode {
    Number(String),
    Text(String),
}

impl PostalCode {
    pub fn text(&self) -> &str {
        match self {
            PostalCode::Number(s) | PostalCode::Text(s) => s,
        }
    }
}

/// One decoded row of `TaxYearUserResp`. `tax_id` is the raw text as sent (a secret: `Debug` masks it).
#[derive(Clone, PartialEq, Eq)]
pub struct TaxRow {
    /// Position in the response array (0-based).
    pub index: usize,
    pub user_token: String,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub business_name: String,
    pub email: String,
    pub mobile_number: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state_province: String,
    pub postal_code: Option<PostalCode>,
    pub country: String,
    pub date_of_birth: String,
    /// Exact, from the JSON number's text.
    pub balance: Decimal,
    /// Raw tax ID text (any form); `None` when absent, null or blank.
    pub tax_id: Option<String>,
}

impl fmt::Debug for TaxRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaxRow")
            .field("index", &self.index)
            .field("user_token", &self.user_token)
            .field("country", &self.country)
            .field("balance", &self.balance)
            .field("tax_id", &self.tax_id.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A row that could not be decoded; the other rows still are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {index}{}: {message}", user_token.as_ref().map(|t| format!(" ({t})")).unwrap_or_default())]
pub struct RowError {
    pub index: usize,
    pub user_token: Option<String>,
    pub message: String,
}

/// A JSON string borrowed from the response where it has no escapes (most do not), owned
/// where it had to be unescaped: one allocation per field (the trimmed copy) instead of two.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

impl Text<'_> {
    /// The value without surrounding whitespace, as an owned string.
    fn trimmed(self) -> String {
        let t = self.0.trim();
        if t.len() == self.0.len() {
            self.0.into_owned()
        } else {
            t.to_owned()
        }
    }
}

#[derive(Deserialize)]
struct RawRow<'a> {
    #[serde(default, borrow)]
    user_token: Option<Text<'a>>,
    #[serde(default, borrow)]
    address1: Option<Text<'a>>,
    #[serde(default, borrow)]
    address2: Option<Text<'a>>,
    #[serde(default, borrow)]
    city: Option<Text<'a>>,
    #[serde(default, borrow)]
    state_province: Option<Text<'a>>,
    #[serde(default, borrow)]
    postal_code: Option<&'a RawValue>,
    #[serde(default, borrow)]
    country: Option<Text<'a>>,
    #[serde(default, borrow)]
    first_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    middle_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    last_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    email: Option<Text<'a>>,
    #[serde(default, borrow)]
    mobile_number: Option<Text<'a>>,
    #[serde(default, borrow)]
    business_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    date_of_birth: Option<Text<'a>>,
    #[serde(default, borrow)]
    balance: Option<&'a RawValue>,
    #[serde(default, borrow)]
    tax_id: Option<&'a RawValue>,
}

/// Text of a string-or-number JSON value; `None` for null/blank.
fn scalar_text(raw: Option<&RawValue>) -> Result<Option<(String, bool)>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let t = raw.get().trim();
    if t == "null" {
        return Ok(None);
    }
    if t.starts_with('"') {
        let s: String = serde_json::from_str(t).map_err(|_| "invalid string".to_string())?;
        let s = s.trim().to_string();
        return Ok((!s.is_empty()).then_some((s, false)));
    }
    if t.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Ok(Some((t.to_string(), true)));
    }
    Err("expected a string or a number".into())
}

/// Removes values quoted by serde (`...`) from an error message, so no cell content leaks.
fn scrub(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut inside = false;
    for c in msg.chars() {
        if c == '`' {
            if !inside {
                out.push_str("`…`");
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

pub(crate) fn decode_row(index: usize, bytes: &[u8]) -> Result<TaxRow, RowError> {
    // Valid UTF-8 is checked once for the element; `from_str` then checks no string again.
    // (Invalid UTF-8 goes through `from_slice`, which says where it is.)
    let parsed = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str::<RawRow<'_>>(text),
        Err(_) => serde_json::from_slice::<RawRow<'_>>(bytes),
    };
    let row: RawRow<'_> = parsed.map_err(|e| RowError {
        index,
        user_token: None,
        message: format!("not a payee object: {}", scrub(&e.to_string())),
    })?;
    let token = row.user_token.map(Text::trimmed).filter(|t| !t.is_empty());
    let err = |message: String| RowError {
        index,
        user_token: token.clone(),
        message,
    };
    let Some(user_token) = token.clone() else {
        return Err(err("user_token is missing".into()));
    };
    let balance = match row.balance {
        None => return Err(err("balance is missing".into())),
        Some(raw) if raw.get() == "null" => return Err(err("balance is null".into())),
        Some(raw) => {
            crate::models::decimal_from_raw(raw.get()).map_err(|e| err(format!("balance: {e}")))?
        }
    };
    let postal_code = scalar_text(row.postal_code)
        .map_err(|e| err(format!("postal_code: {e}")))?
        .map(|(s, number)| {
            if number {
                PostalCode::Number(s)
            } else {
                PostalCode::Text(s)
            }
        });
    let tax_id = scalar_text(row.tax_id)
        .map_err(|e| err(format!("tax_id: {e}")))?
        .map(|(s, _)| s);
    let s = |v: Option<Text<'_>>| v.map(Text::trimmed).unwrap_or_default();
    Ok(TaxRow {
        index,
        user_token,
        first_name: s(row.first_name),
        middle_name: s(row.middle_name),
        last_name: s(row.last_name),
        business_name: s(row.business_name),
        email: s(row.email),
        mobile_number: s(row.mobile_number),
        address1: s(row.address1),
        address2: s(row.address2),
        city: s(row.city),
        state_province: s(row.state_province),
        postal_code,
        country: s(row.country),
        date_of_birth: s(row.date_of_birth),
        balance,
        tax_id,
    })
}

/// What was pulled, for the audit trail: rows, bytes and the SHA-256 of the exact body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxPullSummary {
    pub rows: usize,
    pub bytes: u64,
    pub sha256: String,
}

/// An open `GET /payout/tax` response, read row by row.
pub struct TaxPull {
    pub(crate) endpoint: String,
    pub(crate) response: reqwest::Response,
    pub(crate) splitter: ArraySplitter,
    pub(crate) hasher: Sha256,
    pub(crate) bytes: u64,
    pub(crate) next_index: usize,
    pub(crate) ended: bool,
    pub(crate) tries: u32,
}

impl TaxPull {
    /// Tries it took to get the response headers.
    pub fn tries(&self) -> u32 {
        self.tries
    }

    /// Body bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The `Content-Length`, when the server sent one.
    pub fn content_length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The next row: `Ok(Some(Ok(row)))`, a row-level problem `Ok(Some(Err(e)))`, the end
    /// `Ok(None)`, or a failure of the whole body (connection dropped, not an array) `Err`.
    pub async fn next_row(&mut self) -> Result<Option<Result<TaxRow, RowError>>, ClientError> {
        loop {
            if let Some(bytes) = self.splitter.next_element() {
                let index = self.next_index;
                self.next_index += 1;
                return Ok(Some(decode_row(index, bytes)));
            }
            if self.ended {
                return Ok(None);
            }
            let chunk = self
                .response
                .chunk()
                .await
                .map_err(|e| ClientError::Transport {
                    endpoint: self.endpoint.clone(),
                    tries: self.tries,
                    source: e.without_url(),
                })?;
            let split_err = |e: crate::split::SplitError| ClientError::Decode {
                endpoint: self.endpoint.clone(),
                message: e.to_string(),
            };
            match chunk {
                Some(c) => {
                    self.hasher.update(&c);
                    self.bytes += c.len() as u64;
                    self.splitter.push(&c).map_err(split_err)?;
                }
                None => {
                    self.ended = true;
                    self.splitter.finish().map_err(split_err)?;
                }
            }
        }
    }

    /// Rows seen and the digest of the body. Call after `next_row` returned `Ok(None)`.
    pub fn summary(self) -> TaxPullSummary {
        TaxPullSummary {
            rows: self.next_index,
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decodes_the_sdk_fixture_row() {
        let r = decode_row(
            0,
            br#"{"user_token":"123e4567-e89b-12d3-a456-426614174000","address1":"2000 main st","address2":"apt D",
            "city":"Santa Monica","state_province":"CA","postal_code":90405,"country":"USA","first_name":"John",
            "middle_name":"","last_name":"Doe","email":"jdoe@gmail.com","mobile_number":"16502000226",
            "business_name":"ABC Company","date_of_birth":"","balance":1500,"tax_id":"123-45-678"}"#,
        )
        .unwrap();
        assert_eq!(r.balance, dec!(1500));
        assert_eq!(r.postal_code, Some(PostalCode::Number("90405".into())));
        assert_eq!(r.tax_id.as_deref(), Some("123-45-678"));
        assert!(
            !format!("{r:?}").contains("123-45-678"),
            "Debug must not show the tax id"
        );
    }

    #[test]
    fn float_noise_and_odd_types() {
        let r = decode_row(
            3,
            br#"{"user_token":"u","balance":599.9999999999999,"postal_code":"02108-1234","tax_id":null,"first_name":null}"#,
        )
        .unwrap();
        assert_eq!(r.balance, dec!(599.9999999999999));
        assert_eq!(r.postal_code, Some(PostalCode::Text("02108-1234".into())));
        assert_eq!(r.tax_id, None);
        let r = decode_row(
            0,
            br#"{"user_token":"u","balance":"12.30","tax_id":123456789}"#,
        )
        .unwrap();
        assert_eq!(r.balance, dec!(12.30));
        assert_eq!(r.tax_id.as_deref(), Some("123456789"));
    }

    #[test]
    fn row_errors_name_the_row_and_do_not_echo_values() {
        let e = decode_row(7, br#"{"user_token":"usr_x","balance":"abc"}"#).unwrap_err();
        assert_eq!(e.index, 7);
        assert_eq!(e.user_token.as_deref(), Some("usr_x"));
        assert!(e.to_string().starts_with("row 7 (usr_x): balance"));
        let e = decode_row(1, br#"{"user_token":"usr_y"}"#).unwrap_err();
        assert!(e.message.contains("balance is missing"));
        let e = decode_row(
            2,
            br#"{"user_token":"u","balance":1,"first_name":987654321}"#,
        )
        .unwrap_err();
        assert!(!e.message.contains("987654321"), "{}", e.message);
        assert!(decode_row(0, b"null").is_err());
    }

    #[test]
    fn strings_borrowed_or_unescaped_are_trimmed_the_same() {
        let r = decode_row(
            0,
            "{\"user_token\":\"  u1 \",\"balance\":1,\"first_name\":\"Jos\\u00e9\\t\",\
             \"last_name\":\"O\\\"Brien\",\"city\":\" Zürich\",\"email\":\"\\n a@b.c \",\
             \"address1\":\"\",\"address2\":null}"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(r.user_token, "u1");
        assert_eq!(r.first_name, "José");
        assert_eq!(r.last_name, "O\"Brien");
        assert_eq!(r.city, "Zürich");
        assert_eq!(r.email, "a@b.c");
        assert_eq!((r.address1.as_str(), r.address2.as_str()), ("", ""));
        // A blank token is a missing one, escaped or not.
        let e = decode_row(1, br#"{"user_token":" \t ","balance":1}"#).unwrap_err();
        assert!(e.message.contains("user_token is missing"), "{}", e.message);
        // Invalid UTF-8 inside a string is a row problem, not a panic, and echoes nothing.
        let e = decode_row(
            2,
            b"{\"user_token\":\"u\",\"balance\":1,\"city\":\"\xff\xfe\"}",
        )
        .unwrap_err();
        assert!(e.message.starts_with("not a payee object"), "{}", e.message);
        // A number where a string belongs is still refused, without its value.
        let e = decode_row(3, br#"{"user_token":"u","balance":1,"city":4242}"#).unwrap_err();
        assert!(e.message.contains("expected a string"), "{}", e.message);
        assert!(!e.message.contains("4242"), "{}", e.message);
    }
}
