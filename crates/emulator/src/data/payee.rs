//! The types of one emulated payee: tax id, postal code, status, hold, the payee itself.

#[allow(unused_imports)]
use super::*;

// ----------------------------------------------------------------------------------------------
// Types

/// The `tax_id` field of a tax row: absent, JSON `null`, or a string (possibly `""`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaxId {
    /// The key is not in the object.
    Absent,
    /// `"tax_id": null`.
    Null,
    /// `"tax_id": "<text>"`, verbatim (may be empty or malformed).
    Text(String),
}

impl TaxId {
    /// The text, if any.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            TaxId::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// How `postal_code` is written in a `GET /payout/tax` row (1.0.0 types it as a number).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaxPostal {
    /// A JSON number: an all-digit stored code loses its leading zeros (`02108` → `2108`).
    Number(u64),
    /// A JSON string (ZIP+4, Canadian/UK codes…).
    Text(String),
    /// JSON `null` (nothing stored).
    Null,
}

impl TaxPostal {
    /// The rule the emulated backend applies: all-digit codes become numbers, others stay strings,
    /// empty becomes `null`.
    pub fn from_stored(stored: &str) -> Self {
        let s = stored.trim();
        if s.is_empty() {
            TaxPostal::Null
        } else if s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) {
            TaxPostal::Number(s.parse().unwrap_or(0))
        } else {
            TaxPostal::Text(s.to_string())
        }
    }
}

/// MassPay user account status (`StoredUser.status` / `FoundUser.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    /// `ACTIVE`
    Active,
    /// `LOCKED`
    Locked,
    /// `DEACTIVE`
    Deactive,
}

impl UserStatus {
    /// Wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "ACTIVE",
            UserStatus::Locked => "LOCKED",
            UserStatus::Deactive => "DEACTIVE",
        }
    }
}

/// A compliance hold, surfaced only when a payout is initiated (MassPay §6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hold {
    /// No hold.
    None,
    /// DEACTIVE; needs a bank statement or paper check, uploaded at an `l.maspay.io` link.
    BankStatement {
        /// The account number quoted in the message.
        account_number: String,
        /// `https://l.maspay.io/{token}`
        link: String,
    },
    /// DEACTIVE; needs a government ID, uploaded at a Veriff link.
    GovernmentId {
        /// `https://magic.veriff.me/v{token}`
        link: String,
    },
    /// Still ACTIVE, but payouts fail with `Not a valid IDSelfieCollection` and a Veriff link.
    IdSelfie {
        /// `https://magic.veriff.me/v{token}`
        link: String,
    },
}

impl Hold {
    /// The account status implied by the hold.
    pub fn status(&self) -> UserStatus {
        match self {
            Hold::BankStatement { .. } | Hold::GovernmentId { .. } => UserStatus::Deactive,
            Hold::None | Hold::IdSelfie { .. } => UserStatus::Active,
        }
    }

    /// The upload link, if any.
    pub fn upload_link(&self) -> Option<&str> {
        match self {
            Hold::None => None,
            Hold::BankStatement { link, .. }
            | Hold::GovernmentId { link }
            | Hold::IdSelfie { link } => Some(link),
        }
    }

    /// `error.details` of the 400 returned when a payout is initiated, if the hold blocks payouts.
    pub fn error_details(&self) -> Option<Vec<String>> {
        match self {
            Hold::None => None,
            Hold::BankStatement {
                account_number,
                link,
            } => Some(vec![
                "User is not active".to_string(),
                format!(
                    "Please upload a Bank Statement or Paper Check for Account Number {account_number} at the following link: {link}"
                ),
            ]),
            Hold::GovernmentId { link } => Some(vec![
                "User is not active".to_string(),
                format!("Please upload a government issued ID at the following link: {link}"),
            ]),
            Hold::IdSelfie { link } => Some(vec![
                "Not a valid IDSelfieCollection".to_string(),
                format!("Please upload a government issued ID at the following link: {link}"),
            ]),
        }
    }
}

/// One payee of one tax year: identity, stored user fields and that year's balance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmuPayee {
    /// `usr_edge_…` for hard cases, `usr_<uuid>` for bulk payees.
    pub user_token: String,
    /// `None` for hard cases.
    pub bulk_index: Option<u64>,
    /// `edge-…` or `contractor-{index}`.
    pub internal_user_id: String,
    /// First name (representative's, for a business).
    pub first_name: String,
    /// Middle name, often `""`.
    pub middle_name: String,
    /// Last name.
    pub last_name: String,
    /// `""` for individuals.
    pub business_name: String,
    /// Email (unique).
    pub email: String,
    /// International format without `+`, e.g. `16502000226`.
    pub mobile_number: String,
    /// Street line 1.
    pub address1: String,
    /// Street line 2, often `""`.
    pub address2: String,
    /// City.
    pub city: String,
    /// State or province code, may be `""`.
    pub state_province: String,
    /// The postal code as stored on the user (`StoredUser.postal_code`, a string).
    pub postal_code: String,
    /// How the tax endpoint writes it.
    pub tax_postal_code: TaxPostal,
    /// ISO alpha-3, may be `""`.
    pub country: String,
    /// `YYYY-MM-DD` or `""`.
    pub date_of_birth: String,
    /// Two-letter language.
    pub language: String,
    /// IANA zone name.
    pub timezone: String,
    /// `YYYY-MM-DDTHH:MM:SS` (UTC, no zone).
    pub created_on: String,
    /// The balance exactly as written on the wire (JSON number text).
    pub balance_text: String,
    /// Exact decimal value of `balance_text`.
    pub balance: Decimal,
    /// The tax id field.
    pub tax_id: TaxId,
    /// Compliance hold.
    pub hold: Hold,
}

impl EmuPayee {
    /// Account status (`ACTIVE` / `DEACTIVE`).
    pub fn status(&self) -> UserStatus {
        self.hold.status()
    }

    /// The balance rounded half-up to cents: the "true" amount behind float-noise text.
    pub fn balance_cents(&self) -> Decimal {
        self.balance
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    }

    /// Appends this payee as one `TaxYearUserResp` JSON object.
    pub fn write_tax_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        write_key(out, "user_token");
        write_str(out, &self.user_token);
        let strings: [(&str, &str); 4] = [
            ("address1", &self.address1),
            ("address2", &self.address2),
            ("city", &self.city),
            ("state_province", &self.state_province),
        ];
        for (k, v) in strings {
            out.push(b',');
            write_key(out, k);
            write_str(out, v);
        }
        out.push(b',');
        write_key(out, "postal_code");
        match &self.tax_postal_code {
            TaxPostal::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
            TaxPostal::Text(s) => write_str(out, s),
            TaxPostal::Null => out.extend_from_slice(b"null"),
        }
        let strings: [(&str, &str); 8] = [
            ("country", &self.country),
            ("first_name", &self.first_name),
            ("middle_name", &self.middle_name),
            ("last_name", &self.last_name),
            ("email", &self.email),
            ("mobile_number", &self.mobile_number),
            ("business_name", &self.business_name),
            ("date_of_birth", &self.date_of_birth),
        ];
        for (k, v) in strings {
            out.push(b',');
            write_key(out, k);
            write_str(out, v);
        }
        out.push(b',');
        write_key(out, "balance");
        out.extend_from_slice(self.balance_text.as_bytes());
        match &self.tax_id {
            TaxId::Absent => {}
            TaxId::Null => {
                out.push(b',');
                write_key(out, "tax_id");
                out.extend_from_slice(b"null");
            }
            TaxId::Text(s) => {
                out.push(b',');
                write_key(out, "tax_id");
                write_str(out, s);
            }
        }
        out.push(b'}');
    }

    /// This payee as one `TaxYearUserResp` JSON object.
    pub fn tax_json(&self) -> String {
        let mut out = Vec::with_capacity(512);
        self.write_tax_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    pub(crate) fn seed_key(&self) -> u64 {
        match self.bulk_index {
            Some(i) => i,
            None => fnv1a(self.user_token.as_bytes()),
        }
    }
}

pub(super) fn balance_of(text: &str) -> Decimal {
    parse_number_text(text).unwrap_or_default()
}
