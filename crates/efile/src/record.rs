//! One IRIS record: the payer block (from the checked `[payer]` settings) and a recipient's
//! fields, each formatted as IRIS takes it and checked against what IRIS rejects at submission.

use crate::codes::{US_STATES, iris_tin_type, irs_country};
use crate::headers::{Field, KnownHeaders, Template};
use crate::text::{Kind, clean, digits};
use masspay_tax_forms::cell::neutralize;
use masspay_tax_rules::payer::{NameType, Payer};
use masspay_tax_rules::tin::{TinCheck, TinStatus};
use masspay_tax_rules::{format_amount, round_cents};
use rust_decimal::Decimal;
use serde::Serialize;

/// The form every file holds.
pub const FORM_TYPE: &str = "1099-NEC";

/// How the recipient is named on the return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientName {
    /// Name type `B`: a business filing under its EIN.
    Business { line1: String, line2: String },
    /// Name type `I`.
    Individual {
        first: String,
        middle: String,
        last: String,
        suffix: String,
    },
}

/// Suffix words split off the end of a surname (`Griffin Jr.` → `Griffin` + `Jr`).
pub const SUFFIXES: &[&str] = &["JR", "SR", "II", "III", "IV", "V", "VI"];

/// `(surname, suffix)`: a trailing suffix word of `last` split off (the surname keeps at least
/// one word).
pub fn split_suffix(last: &str) -> (String, String) {
    let words: Vec<&str> = last.split_whitespace().collect();
    if words.len() > 1
        && let Some(w) = words.last()
    {
        let key: String = w
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if SUFFIXES.contains(&key.as_str()) {
            return (
                words[..words.len() - 1].join(" "),
                w.trim_end_matches('.').into(),
            );
        }
    }
    (last.trim().to_string(), String::new())
}

/// What the tool knows of one payee on the 1099-NEC for the year.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub user_token: String,
    /// The one TIN decision (W-9 over API), checked by the rules crate. `Debug` masks the TIN.
    pub tin: TinCheck,
    pub name: RecipientName,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    /// As MassPay or the W-9 gives it (ISO alpha-3 / alpha-2); converted to the IRS code.
    pub country: String,
    pub email: String,
    /// The stable per-payee account number (the TIN Matching export's).
    pub account_number: String,
    pub second_tin_notice: bool,
    pub box1: Decimal,
    pub box4: Decimal,
}

/// Why IRIS would reject a record (the `reason` codes are a public interface).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `tin_missing`, `tin_invalid`, `tin_type_unknown`, `name_missing`, `name_unrepresentable`,
    /// `address_missing`, `city_missing`, `state_missing`, `state_invalid`, `zip_missing`,
    /// `zip_invalid`, `country_unknown`, `too_long`, `box1_not_positive`.
    pub reason: &'static str,
    /// The column's field, when the problem is one field's.
    pub field: Option<&'static str>,
    /// For people; never holds a TIN (at most its last four digits).
    pub message: String,
}

/// A value per field, indexed by the field's position (empty: no value).
#[derive(Debug, Clone)]
struct Values(Vec<String>);

impl Values {
    fn new() -> Self {
        Values(vec![String::new(); Field::ALL.len()])
    }
    fn get(&self, f: Field) -> &str {
        self.0.get(f as usize).map_or("", String::as_str)
    }
    fn insert(&mut self, f: Field, v: String) {
        if let Some(slot) = self.0.get_mut(f as usize) {
            *slot = v;
        }
    }
}

/// One record, formatted: its values by field, and what IRIS would reject.
#[derive(Debug, Clone)]
pub struct Record {
    pub user_token: String,
    pub box1: Decimal,
    values: Values,
    pub problems: Vec<Problem>,
}

impl Record {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }
    pub fn value(&self, f: Field) -> &str {
        self.values.get(f)
    }
    /// The cells in the template's order (a `blank` column, or a field with no value, is empty).
    pub fn cells(&self, t: &Template) -> Vec<String> {
        self.cells_borrowed(t).map(|c| c.into_owned()).collect()
    }
    /// [`Self::cells`] without a copy of each value.
    pub fn cells_borrowed<'a>(
        &'a self,
        t: &'a Template,
    ) -> impl Iterator<Item = std::borrow::Cow<'a, str>> + 'a {
        t.columns.iter().map(|c| neutralize(self.value(c.field)))
    }
}

struct Builder<'a> {
    known: &'a KnownHeaders,
    values: Values,
    problems: Vec<Problem>,
}

impl Builder<'_> {
    fn set(&mut self, f: Field, v: impl Into<String>) {
        self.values.insert(f, v.into());
    }

    fn problem(&mut self, reason: &'static str, f: Option<Field>, message: String) {
        self.problems.push(Problem {
            reason,
            field: f.map(Field::key),
            message,
        });
    }

    /// Cleans `raw` for its kind, reports a value that lost everything or is over-length
    /// (never cut), and stores it. Returns the cleaned value.
    fn text(&mut self, f: Field, kind: Kind, raw: &str, label: &str) -> String {
        let v = clean(kind, raw);
        if v.is_empty() && !raw.trim().is_empty() {
            self.problem(
                "name_unrepresentable",
                Some(f),
                format!("{label} has no letters IRIS accepts (it takes Latin letters only)"),
            );
        }
        self.check_len(f, &v, label, 0);
        self.set(f, v.clone());
        v
    }

    fn check_len(&mut self, f: Field, v: &str, label: &str, max_override: usize) {
        let max = if max_override > 0 {
            max_override
        } else {
            self.known.max_len(f)
        };
        let n = v.chars().count();
        if max > 0 && n > max {
            self.problem(
                "too_long",
                Some(f),
                format!(
                    "{label} is {n} characters ({v:?}); IRIS takes at most {max}: shorten it at the \
                     source (nothing was cut)"
                ),
            );
        }
    }
}

/// The payer's columns, from the checked `[payer]` settings.
#[derive(Debug, Clone)]
pub struct PayerBlock {
    values: Values,
}

/// Payer settings IRIS would not take (too long, no Latin letters, unknown country).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the [payer] settings cannot go into an IRIS file: {}", .0.join("; "))]
pub struct PayerBlockError(pub Vec<String>);

impl PayerBlock {
    pub fn new(p: &Payer, known: &KnownHeaders) -> Result<PayerBlock, PayerBlockError> {
        let mut b = Builder {
            known,
            values: Values::new(),
            problems: Vec::new(),
        };
        b.set(
            Field::PayerTinType,
            iris_tin_type(p.tin_type).unwrap_or("EIN"),
        );
        b.set(Field::PayerTin, p.tin.digits());
        b.set(Field::PayerNameType, p.name_type.code());
        match p.name_type {
            NameType::Business => {
                b.text(Field::PayerName1, Kind::Business, &p.name, "payer name");
                b.text(
                    Field::PayerName2,
                    Kind::Business,
                    p.name_line2.as_deref().unwrap_or(""),
                    "payer name line 2",
                );
            }
            NameType::Individual => {
                for (f, v, l) in [
                    (Field::PayerFirst, &p.first_name, "payer first name"),
                    (Field::PayerMiddle, &p.middle_name, "payer middle name"),
                    (Field::PayerLast, &p.last_name, "payer last name"),
                    (Field::PayerSuffix, &p.suffix, "payer suffix"),
                ] {
                    b.text(f, Kind::Person, v.as_deref().unwrap_or(""), l);
                }
            }
        }
        let country = irs_country(&p.country);
        match country {
            Some(c) => b.set(Field::PayerCountry, c.irs.clone()),
            None => b.problem(
                "country_unknown",
                None,
                format!(
                    "country {:?} is not in the IRS country-code table",
                    p.country
                ),
            ),
        }
        b.text(
            Field::PayerAddress1,
            Kind::Street,
            &p.address1,
            "payer address1",
        );
        b.text(
            Field::PayerAddress2,
            Kind::Street,
            p.address2.as_deref().unwrap_or(""),
            "payer address2",
        );
        b.text(Field::PayerCity, Kind::City, &p.city, "payer city");
        b.set(Field::PayerState, p.state.clone().unwrap_or_default());
        b.set(Field::PayerZip, digits(p.zip.as_deref().unwrap_or("")));
        b.set(Field::PayerPhoneType, p.phone_type.code());
        let phone = digits(&p.phone);
        b.check_len(Field::PayerPhone, &phone, "payer phone", 0);
        b.set(Field::PayerPhone, phone);
        b.set(
            Field::PayerEmail,
            p.email
                .as_deref()
                .map(str::trim)
                .filter(|e| e.contains('@'))
                .unwrap_or(""),
        );
        if b.problems.is_empty() {
            Ok(PayerBlock { values: b.values })
        } else {
            Err(PayerBlockError(
                b.problems.into_iter().map(|p| p.message).collect(),
            ))
        }
    }
}

/// The US territories that file as US addresses (state = the territory's code).
const TERRITORIES: &[&str] = &["PR", "GU", "VI", "AS", "MP", "UM"];

/// Builds the record of one recipient for `year` and checks it.
pub fn record(year: i32, payer: &PayerBlock, r: &Recipient, known: &KnownHeaders) -> Record {
    let mut b = Builder {
        known,
        values: payer.values.clone(),
        problems: Vec::new(),
    };
    b.set(Field::FormType, FORM_TYPE);
    b.set(Field::TaxYear, year.to_string());

    // TIN: the rules crate's decision; IRIS wants the 9 digits and SSN/EIN.
    let last4 = r.tin.tin.as_ref().map(|t| t.last4().to_string());
    match r.tin.status {
        TinStatus::Missing => b.problem(
            "tin_missing",
            Some(Field::RecipientTin),
            "no TIN on file (collect a W-9)".into(),
        ),
        TinStatus::Invalid | TinStatus::Malformed => b.problem(
            "tin_invalid",
            Some(Field::RecipientTin),
            format!(
                "the TIN{} is {}: {}",
                last4
                    .as_deref()
                    .map(|l| format!(" ending {l}"))
                    .unwrap_or_default(),
                r.tin.status,
                r.tin.reasons.join("; ")
            ),
        ),
        TinStatus::Valid => {}
    }
    if let Some(t) = &r.tin.tin {
        b.set(Field::RecipientTin, t.digits());
    }
    match iris_tin_type(r.tin.tin_type) {
        Some(v) => b.set(Field::RecipientTinType, v),
        None if r.tin.status == TinStatus::Missing => {}
        None => b.problem(
            "tin_type_unknown",
            Some(Field::RecipientTinType),
            "a bare 9-digit TIN could be an SSN or an EIN: import the payee's W-9 (its TIN type \
             decides)"
                .into(),
        ),
    }

    // Name.
    match &r.name {
        RecipientName::Business { line1, line2 } => {
            b.set(Field::RecipientNameType, "B");
            let l1 = b.text(
                Field::RecipientName1,
                Kind::Business,
                line1,
                "business name line 1",
            );
            b.text(
                Field::RecipientName2,
                Kind::Business,
                line2,
                "business name line 2",
            );
            if line1.trim().is_empty() && l1.is_empty() {
                b.problem(
                    "name_missing",
                    Some(Field::RecipientName1),
                    "no business name".into(),
                );
            }
        }
        RecipientName::Individual {
            first,
            middle,
            last,
            suffix,
        } => {
            b.set(Field::RecipientNameType, "I");
            let f = b.text(Field::RecipientFirst, Kind::Person, first, "first name");
            b.text(Field::RecipientMiddle, Kind::Person, middle, "middle name");
            let l = b.text(Field::RecipientLast, Kind::Person, last, "last name");
            b.text(Field::RecipientSuffix, Kind::Person, suffix, "suffix");
            if (first.trim().is_empty() && f.is_empty()) || (last.trim().is_empty() && l.is_empty())
            {
                b.problem(
                    "name_missing",
                    Some(if l.is_empty() {
                        Field::RecipientLast
                    } else {
                        Field::RecipientFirst
                    }),
                    "IRIS needs both a first and a last name for an individual".into(),
                );
            }
        }
    }

    // Address: domestic (IRS code US, or a US territory) or foreign.
    let given = r.country.trim();
    let country = irs_country(given);
    let mut state = r.state.trim().to_ascii_uppercase();
    let domestic = match country {
        Some(c) if c.iso2 == "US" => true,
        Some(c) if TERRITORIES.contains(&c.iso2.as_str()) => {
            if state.is_empty() {
                state = c.iso2.clone();
            }
            true
        }
        Some(_) => false,
        None if given.is_empty() && US_STATES.contains(&state.as_str()) => true,
        None => {
            b.problem(
                "country_unknown",
                Some(Field::RecipientCountry),
                if given.is_empty() {
                    "no country, and no US state to show a US address".into()
                } else {
                    format!("country {given:?} is not in the IRS country-code table")
                },
            );
            false
        }
    };
    b.set(
        Field::RecipientCountry,
        match (domestic, country) {
            (true, _) => "US".to_string(),
            (false, Some(c)) => c.irs.clone(),
            (false, None) => String::new(),
        },
    );
    let a1 = b.text(
        Field::RecipientAddress1,
        Kind::Street,
        &r.address1,
        "address line 1",
    );
    b.text(
        Field::RecipientAddress2,
        Kind::Street,
        &r.address2,
        "address line 2",
    );
    let city = b.text(Field::RecipientCity, Kind::City, &r.city, "city");
    if a1.is_empty() {
        b.problem(
            "address_missing",
            Some(Field::RecipientAddress1),
            "no street address (address line 1)".into(),
        );
    }
    if city.is_empty() {
        b.problem("city_missing", Some(Field::RecipientCity), "no city".into());
    }
    if domestic {
        if state.is_empty() {
            b.problem(
                "state_missing",
                Some(Field::RecipientState),
                "no state for a US address".into(),
            );
        } else if !US_STATES.contains(&state.as_str()) {
            b.problem(
                "state_invalid",
                Some(Field::RecipientState),
                format!("state {state:?} is not a 2-letter USPS code"),
            );
        }
        b.set(Field::RecipientState, state);
        let zip = digits(&r.zip);
        if zip.is_empty() {
            b.problem(
                "zip_missing",
                Some(Field::RecipientZip),
                "no ZIP code for a US address".into(),
            );
        } else if zip.len() != 5 && zip.len() != 9 {
            b.problem(
                "zip_invalid",
                Some(Field::RecipientZip),
                format!("ZIP {:?} is not 5 or 9 digits", r.zip.trim()),
            );
        }
        b.set(Field::RecipientZip, zip);
    } else {
        let province = clean(Kind::City, &r.state);
        b.check_len(Field::RecipientState, &province, "province", 17);
        b.set(Field::RecipientState, province);
        let postal: String = crate::text::fold(&r.zip)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .collect::<String>()
            .trim()
            .to_string();
        b.check_len(Field::RecipientZip, &postal, "postal code", 16);
        b.set(Field::RecipientZip, postal);
    }
    let email = r.email.trim();
    if email.contains('@') && !email.contains(char::is_whitespace) {
        b.set(Field::RecipientEmail, email);
    }

    let account = r.account_number.trim();
    b.check_len(Field::AccountNumber, account, "account number", 0);
    b.set(Field::AccountNumber, account);
    b.set(
        Field::SecondTinNotice,
        if r.second_tin_notice { "Y" } else { "N" },
    );
    let box1 = round_cents(r.box1);
    if box1 <= Decimal::ZERO {
        b.problem(
            "box1_not_positive",
            Some(Field::Box1),
            format!(
                "box 1 is {}: IRIS takes only a positive amount",
                format_amount(box1)
            ),
        );
    }
    b.set(Field::Box1, format_amount(box1));
    b.set(Field::Box4, format_amount(r.box4));
    Record {
        user_token: r.user_token.clone(),
        box1,
        values: b.values,
        problems: b.problems,
    }
}

/// The name decision for a payee: `B` with the business name when the payee files with an EIN
/// (`uses_business_name`), else `I` with the person's parts (a suffix split off the surname; a
/// blank surname taken from the last word of the first name).
pub fn recipient_name(
    first: &str,
    middle: &str,
    last: &str,
    business_name: &str,
    uses_business_name: bool,
) -> RecipientName {
    if uses_business_name && !business_name.trim().is_empty() {
        return RecipientName::Business {
            line1: business_name.trim().to_string(),
            line2: String::new(),
        };
    }
    let (mut first, mut last) = (first.trim().to_string(), last.trim().to_string());
    if last.is_empty() {
        let (l, s) = split_suffix(&first);
        let mut words: Vec<&str> = l.split_whitespace().collect();
        if words.len() > 1 {
            let surname = words.pop().unwrap_or_default().to_string();
            let given = words.join(" ");
            return RecipientName::Individual {
                first: given,
                middle: middle.trim().into(),
                last: surname,
                suffix: s,
            };
        }
        first = l;
        last = String::new();
    }
    let (l, suffix) = split_suffix(&last);
    last = l;
    RecipientName::Individual {
        first,
        middle: middle.trim().into(),
        last,
        suffix,
    }
}
