//! The payer (withholding agent) printed on recipient statements and sent in e-file records.
//!
//! One definition for every document that names the payer: statements (Copy B), the year-end
//! packet's cover page and the IRIS CSV. The values come from `[payer]` in `masspay-tax.toml`
//! (each key also from `MASSPAY_TAX_PAYER_<KEY>`); [`PayerSettings::validate`] checks them
//! before any document is written, so a missing payer TIN is a clear error, never a blank box.

use crate::tin::{Tin, TinRules, TinStatus, TinType, check_tin};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The keys of `[payer]`, in the order the documents print them (a public interface).
pub const PAYER_KEYS: [&str; 19] = [
    "name",
    "name_line2",
    "name_type",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "tin",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "country",
    "phone",
    "email",
    "ch3_status_code",
    "ch4_status_code",
    "giin",
];

/// `[payer]` as written in the settings file and the environment: every key optional, checked by
/// [`PayerSettings::validate`].
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayerSettings {
    /// Business or entity name, line 1 (for an individual payer: the person's full name).
    pub name: Option<String>,
    /// Business name line 2 (e.g. a DBA).
    pub name_line2: Option<String>,
    /// `B` (business, the default) or `I` (individual).
    pub name_type: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub suffix: Option<String>,
    /// The payer's EIN (or SSN for an individual payer). Printed in full on recipient copies.
    pub tin: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    /// Two-letter country, default `US`.
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Form 1042-S box 12b: the withholding agent's own chapter 3 status code (e.g. `07` U.S.
    /// withholding agent - other; see the 1042-S instructions). Blank when not set.
    pub ch3_status_code: Option<String>,
    /// Form 1042-S box 12c: the withholding agent's chapter 4 status code (e.g. `01` U.S.
    /// withholding agent - FI, `02` U.S. withholding agent - other). Blank when not set.
    pub ch4_status_code: Option<String>,
    /// Form 1042-S box 12e: the withholding agent's GIIN, if it has one.
    pub giin: Option<String>,
}

impl fmt::Debug for PayerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayerSettings")
            .field("name", &self.name)
            .field("tin", &self.tin.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

impl PayerSettings {
    /// Mutable access by key (for environment overrides).
    pub fn field_mut(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "name" => &mut self.name,
            "name_line2" => &mut self.name_line2,
            "name_type" => &mut self.name_type,
            "first_name" => &mut self.first_name,
            "middle_name" => &mut self.middle_name,
            "last_name" => &mut self.last_name,
            "suffix" => &mut self.suffix,
            "tin" => &mut self.tin,
            "address1" => &mut self.address1,
            "address2" => &mut self.address2,
            "city" => &mut self.city,
            "state" => &mut self.state,
            "zip" => &mut self.zip,
            "country" => &mut self.country,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "ch3_status_code" => &mut self.ch3_status_code,
            "ch4_status_code" => &mut self.ch4_status_code,
            "giin" => &mut self.giin,
            _ => return None,
        })
    }

    /// Every problem at once (`[payer] tin is missing`, …), or the checked payer.
    pub fn validate(&self, rules: &TinRules) -> Result<Payer, PayerError> {
        let get = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut problems = Vec::new();
        let name_type = match get(&self.name_type).as_deref().map(str::to_ascii_uppercase) {
            None => NameType::Business,
            Some(t) if t == "B" => NameType::Business,
            Some(t) if t == "I" => NameType::Individual,
            Some(t) => {
                problems.push(format!("name_type must be \"B\" or \"I\", not {t:?}"));
                NameType::Business
            }
        };
        let name = get(&self.name);
        let (first, last) = (get(&self.first_name), get(&self.last_name));
        match name_type {
            NameType::Business if name.is_none() => problems.push("name is missing".into()),
            NameType::Individual if first.is_none() || last.is_none() => {
                problems.push("first_name and last_name are required when name_type = \"I\"".into())
            }
            _ => {}
        }
        let declared = match name_type {
            NameType::Business => Some(TinType::Ein),
            NameType::Individual => None,
        };
        let tin = match get(&self.tin) {
            None => {
                problems
                    .push("tin is missing (the payer's EIN, printed on every statement)".into());
                None
            }
            Some(t) => {
                let check = check_tin(Some(&t), declared, rules);
                match (check.status, check.tin) {
                    (TinStatus::Valid, Some(tin)) => Some((tin, check.tin_type)),
                    (_, _) => {
                        // Reasons never carry the TIN itself.
                        problems.push(format!(
                            "tin is not a valid EIN or SSN: {}",
                            check.reasons.join("; ")
                        ));
                        None
                    }
                }
            }
        };
        for (key, v) in [("address1", &self.address1), ("city", &self.city)] {
            if get(v).is_none() {
                problems.push(format!("{key} is missing"));
            }
        }
        let country = get(&self.country)
            .map(|c| c.to_ascii_uppercase())
            .unwrap_or_else(|| "US".into());
        let domestic = country == "US" || country == "USA";
        if domestic {
            match get(&self.state) {
                Some(s) if s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic()) => {}
                Some(_) => problems.push("state must be the 2-letter USPS code".into()),
                None => problems.push("state is missing".into()),
            }
            match get(&self.zip) {
                Some(z) if crate::postal::is_valid_us_zip(&z) => {}
                Some(_) => problems.push("zip must be 5 or 9 digits (12345 or 12345-6789)".into()),
                None => problems.push("zip is missing".into()),
            }
        }
        let phone = get(&self.phone);
        if phone.is_none() {
            problems.push("phone is missing (required on recipient statements)".into());
        }
        let phone_digits: String = phone
            .as_deref()
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let phone_type = if domestic
            && (phone_digits.len() == 10
                || (phone_digits.len() == 11 && phone_digits.starts_with('1')))
        {
            PhoneType::Domestic
        } else {
            PhoneType::International
        };
        if !problems.is_empty() {
            return Err(PayerError { problems });
        }
        let (tin, tin_type) = tin.expect("checked above");
        Ok(Payer {
            name_type,
            name: name.unwrap_or_else(|| {
                [&first, &get(&self.middle_name), &last]
                    .iter()
                    .filter_map(|s| s.as_deref())
                    .collect::<Vec<_>>()
                    .join(" ")
            }),
            name_line2: get(&self.name_line2),
            first_name: first,
            middle_name: get(&self.middle_name),
            last_name: last,
            suffix: get(&self.suffix),
            tin,
            tin_type,
            address1: get(&self.address1).unwrap_or_default(),
            address2: get(&self.address2),
            city: get(&self.city).unwrap_or_default(),
            state: get(&self.state).map(|s| s.to_ascii_uppercase()),
            zip: get(&self.zip),
            country: if country == "USA" {
                "US".into()
            } else {
                country
            },
            phone: phone.unwrap_or_default(),
            phone_type,
            email: get(&self.email),
            ch3_status_code: get(&self.ch3_status_code),
            ch4_status_code: get(&self.ch4_status_code),
            giin: get(&self.giin),
        })
    }
}

/// Why the payer settings cannot be used; lists every problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the payer settings are incomplete: {}. Set them in [payer] of masspay-tax.toml (keys: name, tin, \
     address1, address2, city, state, zip, country, phone, email) or as MASSPAY_TAX_PAYER_<KEY>",
    problems.join("; ")
)]
pub struct PayerError {
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NameType {
    /// `B`: business or entity.
    #[serde(rename = "B")]
    Business,
    /// `I`: individual.
    #[serde(rename = "I")]
    Individual,
}

impl NameType {
    pub fn code(self) -> &'static str {
        match self {
            NameType::Business => "B",
            NameType::Individual => "I",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PhoneType {
    /// `D`: a US number.
    #[serde(rename = "D")]
    Domestic,
    /// `I`: international.
    #[serde(rename = "I")]
    International,
}

impl PhoneType {
    pub fn code(self) -> &'static str {
        match self {
            PhoneType::Domestic => "D",
            PhoneType::International => "I",
        }
    }
}

/// A checked payer. Its TIN is printed in full on recipient statements (the payer's own number
/// is not the recipient's secret) but still never logged: `Debug` masks it.
#[derive(Clone, PartialEq, Eq)]
pub struct Payer {
    pub name_type: NameType,
    pub name: String,
    pub name_line2: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub suffix: Option<String>,
    pub tin: Tin,
    pub tin_type: TinType,
    pub address1: String,
    pub address2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub zip: Option<String>,
    /// Two letters, `US` for domestic.
    pub country: String,
    pub phone: String,
    pub phone_type: PhoneType,
    pub email: Option<String>,
    /// Form 1042-S boxes 12b, 12c and 12e (withholding agent), when set.
    pub ch3_status_code: Option<String>,
    pub ch4_status_code: Option<String>,
    pub giin: Option<String>,
}

impl fmt::Debug for Payer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payer")
            .field("name", &self.name)
            .field("tin", &self.tin.masked(self.tin_type))
            .finish_non_exhaustive()
    }
}

impl Payer {
    /// The TIN as printed: `12-3456789` for an EIN, `123-45-6789` for an SSN.
    pub fn tin_formatted(&self) -> String {
        self.tin.formatted(self.tin_type)
    }
    /// The address lines of a statement: street, optional line 2, `City, ST 12345`.
    pub fn address_lines(&self) -> Vec<String> {
        let mut lines = vec![self.address1.clone()];
        lines.extend(self.address2.clone());
        let mut last = self.city.clone();
        if let Some(s) = &self.state {
            last.push_str(", ");
            last.push_str(s);
        }
        if let Some(z) = &self.zip {
            last.push(' ');
            last.push_str(z);
        }
        if self.country != "US" {
            last.push(' ');
            last.push_str(&self.country);
        }
        lines.push(last);
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> PayerSettings {
        PayerSettings {
            name: Some("Acme Platform Inc.".into()),
            tin: Some("12-3456789".into()),
            address1: Some("1 Main St".into()),
            city: Some("Boston".into()),
            state: Some("ma".into()),
            zip: Some("02108".into()),
            phone: Some("(617) 555-0100".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_payer_validates() {
        let p = good().validate(&TinRules::default()).unwrap();
        assert_eq!(p.tin_formatted(), "12-3456789");
        assert_eq!(p.name_type, NameType::Business);
        assert_eq!(p.phone_type, PhoneType::Domestic);
        assert_eq!(p.state.as_deref(), Some("MA"));
        assert_eq!(p.address_lines(), ["1 Main St", "Boston, MA 02108"]);
        assert!(!format!("{p:?}").contains("3456789"));
    }

    #[test]
    fn a_missing_tin_is_a_clear_error_listing_everything() {
        let mut s = good();
        s.tin = None;
        s.phone = None;
        let e = s.validate(&TinRules::default()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("tin is missing"), "{text}");
        assert!(text.contains("phone is missing"), "{text}");
        assert!(text.contains("MASSPAY_TAX_PAYER_"), "{text}");
    }

    #[test]
    fn an_impossible_ein_is_refused_without_echoing_it() {
        let mut s = good();
        s.tin = Some("07-1234567".into());
        let text = s.validate(&TinRules::default()).unwrap_err().to_string();
        assert!(text.contains("tin is not a valid"), "{text}");
        assert!(!text.contains("1234567"), "{text}");
    }

    #[test]
    fn every_key_is_settable() {
        let mut s = PayerSettings::default();
        for k in PAYER_KEYS {
            *s.field_mut(k).unwrap() = Some("x".into());
        }
        assert!(s.field_mut("nope").is_none());
    }
}
