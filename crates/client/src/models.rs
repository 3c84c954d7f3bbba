//! Typed models for the MassPay endpoints this project reads. Every field is optional or
//! defaulted where MassPay has been seen to omit it, extra fields are ignored, and enums keep
//! unknown values (`Other(String)`) instead of failing to decode.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

macro_rules! open_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name { $($variant,)+ /// A value this version does not know.
            Other(String) }
        impl $name {
            pub fn as_str(&self) -> &str { match self { $(Self::$variant => $text,)+ Self::Other(s) => s } }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self { match s.as_str() { $($text => Self::$variant,)+ _ => Self::Other(s) } }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> { Ok(String::deserialize(d)?.into()) }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
    };
}

open_enum!(
    /// Account status of a user (`CLOSED` appears on lookup since 2025-09).
    UserStatus { Active => "ACTIVE", Locked => "LOCKED", Deactive => "DEACTIVE", Closed => "CLOSED" }
);
open_enum!(
    /// Transaction type in history (note the space in `spend back`).
    TxnType { Load => "load", Payout => "payout", SpendBack => "spend back", Info => "info" }
);
open_enum!(
    TxnStatus { Pending => "PENDING", Processing => "PROCESSING", Completed => "COMPLETED", Cancelled => "CANCELLED",
        Scheduled => "SCHEDULED", ReadyForPickup => "READY_FOR_PICKUP", Hold => "HOLD", Error => "ERROR" }
);
open_enum!(
    KycSessionStatus { Started => "Started", Submitted => "Submitted", Abandoned => "Abandoned", Expired => "Expired",
        Resubmitted => "Resubmitted", Declined => "Declined", Approved => "Approved",
        ResubmissionRequested => "Resubmission requested", Review => "Review" }
);

/// Reads a money amount from a JSON number's text (or a string) without passing through `f64`.
/// Requires serde_json's `raw_value` feature.
pub fn decimal_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let raw: Box<serde_json::value::RawValue> = Deserialize::deserialize(d)?;
    decimal_from_raw(raw.get()).map_err(serde::de::Error::custom)
}

/// `Option` variant of [`decimal_from_json`]; `null` is `None`.
pub fn opt_decimal_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let raw: Option<Box<serde_json::value::RawValue>> = Deserialize::deserialize(d)?;
    match raw {
        None => Ok(None),
        Some(r) if r.get() == "null" => Ok(None),
        Some(r) => decimal_from_raw(r.get())
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

pub(crate) fn decimal_from_raw(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    let t = if let Some(inner) = t.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        inner
    } else {
        t
    };
    // The message names the problem, never the text (it could be anything, a TIN included).
    masspay_tax_rules::parse_amount(t).map_err(|e| {
        match e {
            masspay_tax_rules::money::AmountError::Empty => "the amount is empty",
            masspay_tax_rules::money::AmountError::NotANumber(_) => "not a number",
            masspay_tax_rules::money::AmountError::OutOfRange(_) => "the amount is out of range",
        }
        .to_string()
    })
}

/// `GET /payout/account/balance` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountBalance {
    #[serde(default)]
    pub token: String,
    #[serde(deserialize_with = "decimal_from_json")]
    pub balance: Decimal,
    #[serde(default)]
    pub currency_code: String,
}

/// `GET /payout/user/{user_token}`: StoredUser. `Debug` leaves out the activation link and
/// the date of birth.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct StoredUser {
    pub user_token: String,
    pub status: Option<UserStatus>,
    #[serde(default)]
    pub created_on: Option<String>,
    #[serde(default)]
    pub internal_user_id: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub business_name: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub activation_url: Option<String>,
    /// Personal data: never in `Debug`.
    #[serde(default)]
    pub date_of_birth: Option<String>,
}

impl std::fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredUser")
            .field("user_token", &self.user_token)
            .field("status", &self.status)
            .field("created_on", &self.created_on)
            .field("internal_user_id", &self.internal_user_id)
            .field("country", &self.country)
            .field(
                "activation_url",
                &self.activation_url.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "date_of_birth",
                &self.date_of_birth.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// `GET /payout/user/lookup`: FoundUser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FoundUser {
    pub user_token: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub internal_user_id: Option<String>,
    #[serde(default)]
    pub status: Option<UserStatus>,
}

/// `GET /payout/user/{user_token}/history` entry: TxnHistoryResp.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Transaction {
    pub token: String,
    #[serde(rename = "type")]
    pub txn_type: TxnType,
    #[serde(default)]
    pub time_of_txn: Option<String>,
    #[serde(deserialize_with = "decimal_from_json")]
    pub source_amount: Decimal,
    #[serde(default)]
    pub source_currency_code: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal_from_json")]
    pub destination_amount: Option<Decimal>,
    #[serde(default)]
    pub destination_currency_code: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal_from_json")]
    pub fee: Option<Decimal>,
    pub status: TxnStatus,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub client_transfer_id: Option<String>,
    #[serde(default)]
    pub user_token: Option<String>,
}

/// Query for the history endpoints (`number_of_records` is capped at 100 by MassPay).
#[derive(Debug, Clone, Default, Serialize)]
pub struct HistoryQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// `payout`, `load`, `spendback`, comma separated.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub txn_type: Option<String>,
}

/// `GET /payout/user/{user_token}/kyc/id` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KycSession {
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub session_time: Option<String>,
    pub status: KycSessionStatus,
}

open_enum!(
    /// `PayoutTxnCommitResp.status`.
    CommitStatus { Success => "success", Failure => "failure", AdditionalAttributesRequired => "addtl_attr_req",
        ExchangeRateExpired => "ex_rate_expired", InsufficientFunds => "nsf" }
);

/// Writes a decimal as a JSON number (its exact text), as MassPay expects amounts.
fn decimal_as_number<S: serde::Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        None => s.serialize_none(),
        Some(d) => serde_json::value::RawValue::from_string(d.normalize().to_string())
            .map_err(serde::ser::Error::custom)?
            .serialize(s),
    }
}

/// `POST /payout/{user_token}` body: PayoutTxn. Give one of `source_amount` /
/// `destination_amount`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PayoutRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_transfer_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_currency_code: Option<String>,
    pub destination_currency_code: String,
    /// The `token` of an [`AccountBalance`].
    pub source_token: String,
    pub destination_token: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "decimal_as_number"
    )]
    pub source_amount: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "decimal_as_number"
    )]
    pub destination_amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attr_set_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify_user: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_commit: Option<bool>,
}

/// A payout (`PayoutTxnResp`): `POST /payout/{user_token}`, `GET /payout/{user_token}` and
/// `GET /payout/{user_token}/{payout_token}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Payout {
    pub payout_token: String,
    #[serde(default)]
    pub client_transfer_id: Option<String>,
    #[serde(default)]
    pub source_currency_code: Option<String>,
    #[serde(default)]
    pub destination_currency_code: Option<String>,
    #[serde(default)]
    pub source_token: Option<String>,
    #[serde(default)]
    pub destination_token: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal_from_json")]
    pub source_amount: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal_from_json")]
    pub destination_amount: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal_from_json")]
    pub exchange_rate: Option<Decimal>,
    #[serde(default, deserialize_with = "opt_decimal_from_json")]
    pub fee: Option<Decimal>,
    #[serde(default)]
    pub expiration: Option<String>,
    pub status: TxnStatus,
    #[serde(default)]
    pub status_reason: Option<String>,
    #[serde(default)]
    pub payer_name: Option<String>,
    #[serde(default)]
    pub delivery_type: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default)]
    pub estimated_availability: Option<String>,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

/// `PUT /payout/{user_token}/{payout_token}`: PayoutTxnCommitResp.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PayoutCommit {
    pub payout_token: String,
    pub status: CommitStatus,
    #[serde(default)]
    pub pickup_code: Option<String>,
    #[serde(default)]
    pub errors: Option<String>,
}

/// What `POST /payout/{user_token}` answered: a quote to commit, or (with `auto_commit`) the
/// commit result.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one per call, never stored in bulk
pub enum InitiatedPayout {
    Quote(Payout),
    Committed(PayoutCommit),
}

impl InitiatedPayout {
    pub(crate) fn from_value(
        endpoint: &str,
        v: serde_json::Value,
    ) -> Result<Self, crate::ClientError> {
        let bytes = serde_json::to_vec(&v).unwrap_or_default();
        if v.get("source_token").is_some() || v.get("source_amount").is_some() {
            crate::error::decode_json(endpoint, &bytes).map(InitiatedPayout::Quote)
        } else {
            crate::error::decode_json(endpoint, &bytes).map(InitiatedPayout::Committed)
        }
    }

    pub fn payout_token(&self) -> &str {
        match self {
            InitiatedPayout::Quote(p) => &p.payout_token,
            InitiatedPayout::Committed(c) => &c.payout_token,
        }
    }
}

/// `GET /payout/{user_token}/tax`. The link is personal: `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct TaxInterviewLink {
    pub interview_url: String,
}

impl std::fmt::Debug for TaxInterviewLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TaxInterviewLink(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn unknown_enum_values_and_extra_fields_decode() {
        let u: StoredUser = serde_json::from_str(
            r#"{"user_token":"usr_1","status":"SUSPENDED_NEW","created_on":"2019-07-07T23:03:05","new_field":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(u.status, Some(UserStatus::Other("SUSPENDED_NEW".into())));
        let t: Transaction = serde_json::from_str(
            r#"{"token":"t","type":"spend back","source_amount":50.1,"status":"READY_FOR_PICKUP","fee":2.98}"#,
        )
        .unwrap();
        assert_eq!(t.txn_type, TxnType::SpendBack);
        assert_eq!(t.source_amount, dec!(50.1));
    }

    #[test]
    fn debug_hides_links_and_dates_of_birth() {
        let u: StoredUser = serde_json::from_str(
            r#"{"user_token":"usr_1","status":"ACTIVE","date_of_birth":"1980-02-03","activation_url":"https://members.masspay.io/activation?activation=SECRET"}"#,
        )
        .unwrap();
        let d = format!("{u:?}");
        assert!(!d.contains("1980") && !d.contains("SECRET"), "{d}");
        let l = TaxInterviewLink {
            interview_url: "https://x/secret".into(),
        };
        assert!(!format!("{l:?}").contains("secret"));
    }

    #[test]
    fn payout_request_writes_amounts_as_numbers() {
        let r = PayoutRequest {
            destination_currency_code: "USD".into(),
            source_token: "clnt_wlt_1".into(),
            destination_token: "dst_1".into(),
            source_amount: Some(dec!(100.50)),
            ..PayoutRequest::default()
        };
        let s = serde_json::to_string(&r).unwrap();
        assert!(s.contains(r#""source_amount":100.5"#), "{s}");
        assert!(!s.contains("destination_amount"), "{s}");
    }

    #[test]
    fn amounts_exact_from_text() {
        let b: Vec<AccountBalance> = serde_json::from_str(
            r#"[{"token":"clnt_wlt_1","balance":12345678901234567.89,"currency_code":"USD"}]"#,
        )
        .unwrap();
        assert_eq!(b[0].balance, dec!(12345678901234567.89));
    }
}
