//! Deterministic, seeded payees of the emulated MassPay account.
//!
//! Every tax year lists the fixed [hard cases](hard_cases) first, then `bulk_payees` generated
//! payees. Nothing is stored: bulk payee `i` is derived from `(seed, i)` (identity: token, name,
//! address, TIN, hold) and `(seed, year, i)` (that year's balance and transactions), so any row
//! can be produced in O(1) memory and the same `(seed, tax_year, bulk_payees)` always yields
//! byte-identical responses. The same contractors appear in every year; their balances differ.
//!
//! # Hard cases (identical in every year and for every seed)
//!
//! Token is `usr_edge_<slug>`, `internal_user_id` is `edge-<slug with - for _>`, email is
//! `edge.<slug with . for _>@example.test` unless noted. Country is `USA` unless noted. "valid SSN"
//! means a structurally valid, distinct SSN. `balance` is the exact JSON number text on the wire.
//!
//! | token | balance text | country | tax_id | notes |
//! |---|---|---|---|---|
//! | `usr_edge_bal_599_99` | `599.99` | USA | valid SSN | just under the $600 NEC threshold |
//! | `usr_edge_bal_600_00` | `600.00` | USA | valid SSN | exactly 600: NOT returned for `amount_threshold=600` |
//! | `usr_edge_bal_600_01` | `600.01` | USA | valid SSN | |
//! | `usr_edge_bal_1999_99` | `1999.99` | USA | valid SSN | |
//! | `usr_edge_bal_2000_00` | `2000.00` | USA | valid SSN | exactly 2000 |
//! | `usr_edge_bal_2000_01` | `2000.01` | USA | valid SSN | |
//! | `usr_edge_float_under_600` | `599.9999999999999` | USA | valid SSN | float noise; true value 600.00 (cents round up) |
//! | `usr_edge_float_over_600` | `600.0000000000001` | USA | valid SSN | float noise; true value 600.00 |
//! | `usr_edge_float_1234_56` | `1234.5600000000002` | USA | valid SSN | float noise; true value 1234.56 |
//! | `usr_edge_vendor_sample` | `1500` | USA | `123-45-678` | MassPay SDK fixture: John Doe, business "ABC Company", postal `90405` (number), `date_of_birth` `""`, email `jdoe@example.test`, integer balance, malformed 8-digit TIN |
//! | `usr_edge_exp_600` | `6.0E2` | USA | valid SSN | exponent form of 600 |
//! | `usr_edge_huge` | `12345678.91` | USA | valid SSN | huge exact amount |
//! | `usr_edge_zero` | `0` | USA | valid SSN | zero balance (listed when no threshold is given) |
//! | `usr_edge_one_cent` | `0.01` | USA | valid SSN | |
//! | `usr_edge_zip_lost_zero` | `2500` | USA | valid SSN | Boston ZIP `02108` stored; tax endpoint sends `postal_code: 2108` (number) |
//! | `usr_edge_zip_plus4` | `3100.5` | USA | valid SSN | ZIP+4: `postal_code: "02108-1234"` (string) |
//! | `usr_edge_zip_90405` | `812.4` | USA | valid SSN | `postal_code: 90405` (number) |
//! | `usr_edge_tin_absent` | `950` | USA | *(field absent)* | |
//! | `usr_edge_tin_null` | `1020.75` | USA | `null` | |
//! | `usr_edge_tin_empty` | `700.1` | USA | `""` | |
//! | `usr_edge_ssn_area_000` | `1800` | USA | `000-12-3456` | impossible SSN (area 000) |
//! | `usr_edge_ssn_area_666` | `1750.25` | USA | `666-12-3456` | impossible SSN (area 666) |
//! | `usr_edge_ssn_valid` | `4200` | USA | `524-71-8830` | valid SSN |
//! | `usr_edge_itin_55` | `3300.33` | USA | `912-55-1234` | ITIN group 55: valid per IRS (python-stdnum wrongly rejects) |
//! | `usr_edge_itin_78` | `2750` | USA | `912-78-1234` | ITIN group 78 |
//! | `usr_edge_ein_business` | `15000` | USA | `12-3456789` | EIN; business "Acme Widgets LLC" |
//! | `usr_edge_ein_bad_prefix` | `6400.8` | USA | `07-1234567` | EIN with invalid prefix 07; business "Bright Path Consulting Inc." |
//! | `usr_edge_tin_bare9` | `1320` | USA | `123456789` | bare 9 digits: SSN or EIN cannot be told |
//! | `usr_edge_business_with_ssn` | `5200` | USA | `401-55-7821` | business "Rivera Design Studio" with an individual SSN |
//! | `usr_edge_individual_with_ein` | `2300.45` | USA | `45-2837461` | no business name, EIN |
//! | `usr_edge_same_tin_a` | `1100` | USA | `318-62-4405` | Ryan Mitchell; same TIN as `_b` |
//! | `usr_edge_same_tin_b` | `2200.2` | USA | `318-62-4405` | Rachel Mitchell-Hayes; same TIN as `_a` |
//! | `usr_edge_foreign_mex` | `4100` | MEX | `NUJJ850312AB1` | José Núñez; RFC; postal `03940` sent as number `3940` |
//! | `usr_edge_foreign_can` | `1800.5` | CAN | *(field absent)* | Émilie Tremblay; foreign, no tax_id; postal `"M5V 3L9"` |
//! | `usr_edge_foreign_gbr_us_ssn` | `9100` | GBR | `287-65-4321` | foreign payee with a US SSN; postal `"NW1 6XE"`; empty state |
//! | `usr_edge_foreign_deu` | `3600` | DEU | `12345678901` | Łukasz Żółć; German 11-digit Steuer-ID; postal `10117` (number) |
//! | `usr_edge_unicode_zoe` | `2450.5` | USA | valid SSN | Zoë Ångström |
//! | `usr_edge_unicode_wang_fang` | `1999` | USA | valid SSN | first_name `芳`, last_name `王` (Flushing, NY) |
//! | `usr_edge_formula_hyperlink` | `700` | USA | valid SSN | first_name `=HYPERLINK("http://x","y")` |
//! | `usr_edge_formula_plus` | `801` | USA | valid SSN | last_name `+15551234567` |
//! | `usr_edge_formula_minus` | `902` | USA | `27-1234567` | business_name `-2+3` |
//! | `usr_edge_formula_at` | `1003` | USA | `46-7654321` | business_name `@SUM(A1)` |
//! | `usr_edge_name_tab` | `1104` | USA | valid SSN | last_name `Van<TAB>Dyke` |
//! | `usr_edge_name_cr` | `1205` | USA | valid SSN | first_name `Mary<CR>Ann` |
//! | `usr_edge_empty_country` | `650` | *(`""`)* | valid SSN | empty country, state and postal (`postal_code: null`) |
//! | `usr_edge_hold_bank_statement` | `3200` | USA | valid SSN | DEACTIVE; payout → 400 with `https://l.maspay.io/aB3dE9xQ` (Account Number 12345) |
//! | `usr_edge_hold_government_id` | `2100` | USA | valid SSN | DEACTIVE; payout → 400 with `https://magic.veriff.me/v8f3k2LmQ9xR` |
//! | `usr_edge_active_needs_id` | `1500.75` | USA | valid SSN | ACTIVE; payout → 400 `Not a valid IDSelfieCollection` + veriff link `https://magic.veriff.me/v2Zp7TqW4nYc` |
//!
//! # Bulk payees
//!
//! Token `usr_xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` (UUID-shaped; the last group encodes the index,
//! scrambled with the seed, so a token resolves without storage), `internal_user_id`
//! `contractor-{index}`, email `payee{index}@example.test`. About 90% USA (5-digit ZIPs; New
//! England/NJ/PR ZIPs lose their leading zero on the tax endpoint), the rest MEX, CAN, GBR, DEU,
//! IND, PHL, BRA. Balances 0.01–10,000.00 (float-style text, e.g. `812.5`, `1200`; ~1% float
//! noise). TINs: ~80% valid SSNs (some bare digits), ~3% ITINs, ~10% EINs with a business name,
//! ~5% missing (absent/null/""), ~2% malformed. ~1.5% of users are held (DEACTIVE with an upload
//! link, or ACTIVE needing an ID).
//!
//! # Transactions
//!
//! Each payee's COMPLETED `payout` transactions in a calendar year sum exactly to that year's
//! balance rounded to cents (float noise removed). Some payees also have a CANCELLED payout,
//! `load`s and `spend back`s in the same year; those do not count toward the balance.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::dates;
use crate::json::{parse_number_text, write_key, write_str};

/// The `client_id` written on every transaction.
pub const CLIENT_ID: u64 = 4172;

// ----------------------------------------------------------------------------------------------
// Seed mixing

const SALT_TOKEN: u64 = 0x746f_6b65_6e5f_7573;
const SALT_IDENT: u64 = 0x6964_656e_7469_7479;
const SALT_YEAR: u64 = 0x7965_6172_6261_6c61;
const SALT_TXN: u64 = 0x7478_6e68_6973_746f;
const SALT_MASK: u64 = 0x6d61_736b_3438_6269;
const SALT_WALLET: u64 = 0x636c_6e74_5f77_6c74;
const SALT_DEST: u64 = 0x6473_745f_746f_6b6e;
const SALT_KYC: u64 = 0x6b79_635f_7365_7373;

pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn mix(a: u64, b: u64) -> u64 {
    splitmix64(a ^ splitmix64(b).rotate_left(23))
}

pub(crate) fn mix3(a: u64, b: u64, c: u64) -> u64 {
    mix(mix(a, b), c)
}

/// FNV-1a, for deriving per-string seeds.
pub(crate) fn fnv1a(s: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn rng_from(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A v4-shaped UUID string from the RNG.
pub(crate) fn uuid_from(r: &mut ChaCha8Rng) -> String {
    let a: u32 = r.random();
    let b: u16 = r.random();
    let c: u16 = r.random::<u16>() & 0x0fff;
    let d: u16 = (r.random::<u16>() & 0x3fff) | 0x8000;
    let e: u64 = r.random::<u64>() & 0xffff_ffff_ffff;
    format!("{a:08x}-{b:04x}-4{c:03x}-{d:04x}-{e:012x}")
}

fn alnum(r: &mut ChaCha8Rng, n: usize) -> String {
    const CH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| CH[r.random_range(0..CH.len())] as char)
        .collect()
}

fn digits(r: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + r.random_range(0..10u8)))
        .collect()
}

fn pick<T: Copy>(r: &mut ChaCha8Rng, items: &[T]) -> T {
    items[r.random_range(0..items.len())]
}

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

    fn seed_key(&self) -> u64 {
        match self.bulk_index {
            Some(i) => i,
            None => fnv1a(self.user_token.as_bytes()),
        }
    }
}

fn balance_of(text: &str) -> Decimal {
    parse_number_text(text).unwrap_or_default()
}

// ----------------------------------------------------------------------------------------------
// Hard cases

struct HardAddr {
    a1: &'static str,
    a2: &'static str,
    city: &'static str,
    st: &'static str,
    zip: &'static str,
    area: u16,
    tz: &'static str,
}

const HARD_ADDRS: &[HardAddr] = &[
    HardAddr {
        a1: "4821 Wabash Ave",
        a2: "",
        city: "Chicago",
        st: "IL",
        zip: "60615",
        area: 312,
        tz: "America/Chicago",
    },
    HardAddr {
        a1: "77 Peachtree Pl NE",
        a2: "Apt 12",
        city: "Atlanta",
        st: "GA",
        zip: "30309",
        area: 404,
        tz: "America/New_York",
    },
    HardAddr {
        a1: "1200 Lamar Blvd",
        a2: "",
        city: "Austin",
        st: "TX",
        zip: "78703",
        area: 512,
        tz: "America/Chicago",
    },
    HardAddr {
        a1: "310 Pike St",
        a2: "Suite 400",
        city: "Seattle",
        st: "WA",
        zip: "98101",
        area: 206,
        tz: "America/Los_Angeles",
    },
    HardAddr {
        a1: "55 Larimer St",
        a2: "",
        city: "Denver",
        st: "CO",
        zip: "80205",
        area: 303,
        tz: "America/Denver",
    },
    HardAddr {
        a1: "900 Biscayne Blvd",
        a2: "Unit 1507",
        city: "Miami",
        st: "FL",
        zip: "33132",
        area: 305,
        tz: "America/New_York",
    },
    HardAddr {
        a1: "18 W 29th St",
        a2: "Fl 3",
        city: "New York",
        st: "NY",
        zip: "10001",
        area: 212,
        tz: "America/New_York",
    },
    HardAddr {
        a1: "2400 Nicollet Ave",
        a2: "",
        city: "Minneapolis",
        st: "MN",
        zip: "55404",
        area: 612,
        tz: "America/Chicago",
    },
];

/// Base hard case: US address, valid distinct SSN, everything plausible.
fn hc(n: usize, slug: &str, first: &str, middle: &str, last: &str, balance: &str) -> EmuPayee {
    let addr = &HARD_ADDRS[n % HARD_ADDRS.len()];
    let n16 = n as u16;
    let created_days = dates::days_from_civil(2019, 3, 1) + (n as i64) * 23;
    EmuPayee {
        user_token: format!("usr_edge_{slug}"),
        bulk_index: None,
        internal_user_id: format!("edge-{}", slug.replace('_', "-")),
        first_name: first.to_string(),
        middle_name: middle.to_string(),
        last_name: last.to_string(),
        business_name: String::new(),
        email: format!("edge.{}@example.test", slug.replace('_', ".")),
        mobile_number: format!("1{}555{:04}", addr.area, 100 + n16),
        address1: addr.a1.to_string(),
        address2: addr.a2.to_string(),
        city: addr.city.to_string(),
        state_province: addr.st.to_string(),
        postal_code: addr.zip.to_string(),
        tax_postal_code: TaxPostal::from_stored(addr.zip),
        country: "USA".to_string(),
        date_of_birth: format!("{}-{:02}-{:02}", 1960 + n % 40, 1 + n % 12, 1 + n % 28),
        language: "en".to_string(),
        timezone: addr.tz.to_string(),
        created_on: dates::format_local_timestamp(
            created_days * 86_400 + 3_600 * (8 + (n as i64 % 10)) + 61 * (n as i64 % 59),
        ),
        balance_text: balance.to_string(),
        balance: balance_of(balance),
        tax_id: TaxId::Text(format!(
            "{:03}-{:02}-{:04}",
            201 + n * 7,
            11 + n,
            1001 + n * 113
        )),
        hold: Hold::None,
    }
}

fn with_address(
    mut p: EmuPayee,
    a1: &str,
    a2: &str,
    city: &str,
    st: &str,
    postal: &str,
    country: &str,
) -> EmuPayee {
    p.address1 = a1.to_string();
    p.address2 = a2.to_string();
    p.city = city.to_string();
    p.state_province = st.to_string();
    p.postal_code = postal.to_string();
    p.tax_postal_code = TaxPostal::from_stored(postal);
    p.country = country.to_string();
    p
}

fn tin(s: &str) -> TaxId {
    TaxId::Text(s.to_string())
}

/// The fixed hard cases (see the table in the module docs). Identical for every year and seed;
/// `year` is accepted so callers need not special-case it.
pub fn hard_cases(year: i32) -> Vec<EmuPayee> {
    let _ = year;
    let mut v = Vec::with_capacity(48);
    let mut n = 0usize;
    let mut next = || {
        n += 1;
        n - 1
    };
    v.push(hc(next(), "bal_599_99", "Olivia", "", "Bennett", "599.99"));
    v.push(hc(next(), "bal_600_00", "Liam", "J", "Carter", "600.00"));
    v.push(hc(next(), "bal_600_01", "Emma", "", "Reyes", "600.01"));
    v.push(hc(next(), "bal_1999_99", "Noah", "", "Patel", "1999.99"));
    v.push(hc(next(), "bal_2000_00", "Ava", "M", "Thompson", "2000.00"));
    v.push(hc(next(), "bal_2000_01", "Ethan", "", "Brooks", "2000.01"));
    v.push(hc(
        next(),
        "float_under_600",
        "Sophia",
        "",
        "Kim",
        "599.9999999999999",
    ));
    v.push(hc(
        next(),
        "float_over_600",
        "Mason",
        "",
        "Rivera",
        "600.0000000000001",
    ));
    v.push(hc(
        next(),
        "float_1234_56",
        "Isabella",
        "",
        "Chen",
        "1234.5600000000002",
    ));
    {
        let mut p = with_address(
            hc(next(), "vendor_sample", "John", "", "Doe", "1500"),
            "2000 main st",
            "apt D",
            "Santa Monica",
            "CA",
            "90405",
            "USA",
        );
        p.email = "jdoe@example.test".to_string();
        p.mobile_number = "16502000226".to_string();
        p.business_name = "ABC Company".to_string();
        p.date_of_birth = String::new();
        p.tax_id = tin("123-45-678");
        p.timezone = "America/Los_Angeles".to_string();
        v.push(p);
    }
    v.push(hc(next(), "exp_600", "Lucas", "", "Ward", "6.0E2"));
    v.push(hc(next(), "huge", "Harper", "", "Sullivan", "12345678.91"));
    v.push(hc(next(), "zero", "Elijah", "", "Foster", "0"));
    v.push(hc(next(), "one_cent", "Amelia", "", "Hughes", "0.01"));
    v.push(EmuPayee {
        timezone: "America/New_York".to_string(),
        mobile_number: "16175550114".to_string(),
        ..with_address(
            hc(next(), "zip_lost_zero", "Benjamin", "", "Walsh", "2500"),
            "1 Beacon St",
            "Apt 3",
            "Boston",
            "MA",
            "02108",
            "USA",
        )
    });
    v.push(EmuPayee {
        timezone: "America/New_York".to_string(),
        mobile_number: "16175550115".to_string(),
        ..with_address(
            hc(next(), "zip_plus4", "Charlotte", "", "Murphy", "3100.5"),
            "24 Beacon St",
            "",
            "Boston",
            "MA",
            "02108-1234",
            "USA",
        )
    });
    v.push(EmuPayee {
        timezone: "America/Los_Angeles".to_string(),
        mobile_number: "13105550116".to_string(),
        ..with_address(
            hc(next(), "zip_90405", "Henry", "", "Alvarez", "812.4"),
            "1400 Ocean Ave",
            "Unit 2",
            "Santa Monica",
            "CA",
            "90405",
            "USA",
        )
    });
    v.push(EmuPayee {
        tax_id: TaxId::Absent,
        ..hc(next(), "tin_absent", "Mia", "", "Coleman", "950")
    });
    v.push(EmuPayee {
        tax_id: TaxId::Null,
        ..hc(next(), "tin_null", "Alexander", "", "Price", "1020.75")
    });
    v.push(EmuPayee {
        tax_id: tin(""),
        ..hc(next(), "tin_empty", "Evelyn", "", "Jenkins", "700.1")
    });
    v.push(EmuPayee {
        tax_id: tin("000-12-3456"),
        ..hc(next(), "ssn_area_000", "Daniel", "", "Perry", "1800")
    });
    v.push(EmuPayee {
        tax_id: tin("666-12-3456"),
        ..hc(next(), "ssn_area_666", "Abigail", "", "Russell", "1750.25")
    });
    v.push(EmuPayee {
        tax_id: tin("524-71-8830"),
        ..hc(next(), "ssn_valid", "Michael", "A", "Griffin", "4200")
    });
    v.push(EmuPayee {
        tax_id: tin("912-55-1234"),
        ..hc(next(), "itin_55", "Camila", "", "Ortega", "3300.33")
    });
    v.push(EmuPayee {
        tax_id: tin("912-78-1234"),
        ..hc(next(), "itin_78", "Mateo", "", "Herrera", "2750")
    });
    v.push(EmuPayee {
        tax_id: tin("12-3456789"),
        business_name: "Acme Widgets LLC".to_string(),
        ..hc(next(), "ein_business", "Grace", "", "Holloway", "15000")
    });
    v.push(EmuPayee {
        tax_id: tin("07-1234567"),
        business_name: "Bright Path Consulting Inc.".to_string(),
        ..hc(next(), "ein_bad_prefix", "Samuel", "", "Ng", "6400.8")
    });
    v.push(EmuPayee {
        tax_id: tin("123456789"),
        ..hc(next(), "tin_bare9", "Chloe", "", "Bishop", "1320")
    });
    v.push(EmuPayee {
        tax_id: tin("401-55-7821"),
        business_name: "Rivera Design Studio".to_string(),
        ..hc(next(), "business_with_ssn", "Daniela", "", "Rivera", "5200")
    });
    v.push(EmuPayee {
        tax_id: tin("45-2837461"),
        ..hc(
            next(),
            "individual_with_ein",
            "Jack",
            "",
            "Turner",
            "2300.45",
        )
    });
    v.push(EmuPayee {
        tax_id: tin("318-62-4405"),
        ..hc(next(), "same_tin_a", "Ryan", "", "Mitchell", "1100")
    });
    v.push(EmuPayee {
        tax_id: tin("318-62-4405"),
        ..hc(
            next(),
            "same_tin_b",
            "Rachel",
            "",
            "Mitchell-Hayes",
            "2200.2",
        )
    });
    v.push(EmuPayee {
        tax_id: tin("NUJJ850312AB1"),
        mobile_number: "5215512345678".to_string(),
        language: "es".to_string(),
        timezone: "America/Mexico_City".to_string(),
        ..with_address(
            hc(next(), "foreign_mex", "José", "", "Núñez", "4100"),
            "Av. Insurgentes Sur 1602",
            "Piso 4",
            "Ciudad de México",
            "CDMX",
            "03940",
            "MEX",
        )
    });
    v.push(EmuPayee {
        tax_id: TaxId::Absent,
        mobile_number: "14165550133".to_string(),
        language: "fr".to_string(),
        timezone: "America/Toronto".to_string(),
        ..with_address(
            hc(next(), "foreign_can", "Émilie", "", "Tremblay", "1800.5"),
            "350 King St W",
            "Suite 1200",
            "Toronto",
            "ON",
            "M5V 3L9",
            "CAN",
        )
    });
    v.push(EmuPayee {
        tax_id: tin("287-65-4321"),
        mobile_number: "447700900134".to_string(),
        timezone: "Europe/London".to_string(),
        ..with_address(
            hc(
                next(),
                "foreign_gbr_us_ssn",
                "Oliver",
                "",
                "Hughes-Wright",
                "9100",
            ),
            "221B Baker Street",
            "",
            "London",
            "",
            "NW1 6XE",
            "GBR",
        )
    });
    v.push(EmuPayee {
        tax_id: tin("12345678901"),
        mobile_number: "4915123456135".to_string(),
        language: "de".to_string(),
        timezone: "Europe/Berlin".to_string(),
        ..with_address(
            hc(next(), "foreign_deu", "Łukasz", "", "Żółć", "3600"),
            "Friedrichstraße 43",
            "",
            "Berlin",
            "BE",
            "10117",
            "DEU",
        )
    });
    v.push(hc(next(), "unicode_zoe", "Zoë", "", "Ångström", "2450.5"));
    v.push(EmuPayee {
        timezone: "America/New_York".to_string(),
        mobile_number: "17185550137".to_string(),
        ..with_address(
            hc(next(), "unicode_wang_fang", "芳", "", "王", "1999"),
            "41-60 Main St",
            "Apt 5C",
            "Flushing",
            "NY",
            "11355",
            "USA",
        )
    });
    v.push(hc(
        next(),
        "formula_hyperlink",
        "=HYPERLINK(\"http://x\",\"y\")",
        "",
        "Smith",
        "700",
    ));
    v.push(hc(
        next(),
        "formula_plus",
        "Paul",
        "",
        "+15551234567",
        "801",
    ));
    v.push(EmuPayee {
        tax_id: tin("27-1234567"),
        business_name: "-2+3".to_string(),
        ..hc(next(), "formula_minus", "Nora", "", "Quinn", "902")
    });
    v.push(EmuPayee {
        tax_id: tin("46-7654321"),
        business_name: "@SUM(A1)".to_string(),
        ..hc(next(), "formula_at", "Owen", "", "Price", "1003")
    });
    v.push(hc(next(), "name_tab", "Lily", "", "Van\tDyke", "1104"));
    v.push(hc(next(), "name_cr", "Mary\rAnn", "", "Stone", "1205"));
    v.push(EmuPayee {
        timezone: "UTC".to_string(),
        ..with_address(
            hc(next(), "empty_country", "Caleb", "", "Dunn", "650"),
            "PO Box 118",
            "",
            "",
            "",
            "",
            "",
        )
    });
    v.push(EmuPayee {
        hold: Hold::BankStatement {
            account_number: "12345".to_string(),
            link: "https://l.maspay.io/aB3dE9xQ".to_string(),
        },
        ..hc(
            next(),
            "hold_bank_statement",
            "Victoria",
            "",
            "Lane",
            "3200",
        )
    });
    v.push(EmuPayee {
        hold: Hold::GovernmentId {
            link: "https://magic.veriff.me/v8f3k2LmQ9xR".to_string(),
        },
        ..hc(next(), "hold_government_id", "Wyatt", "", "Cross", "2100")
    });
    v.push(EmuPayee {
        hold: Hold::IdSelfie {
            link: "https://magic.veriff.me/v2Zp7TqW4nYc".to_string(),
        },
        ..hc(next(), "active_needs_id", "Hazel", "", "Pierce", "1500.75")
    });
    v
}

// ----------------------------------------------------------------------------------------------
// Bulk payees

struct City {
    name: &'static str,
    st: &'static str,
    zip3: u16,
    area: u16,
    tz: &'static str,
}

macro_rules! city {
    ($n:expr, $s:expr, $z:expr, $a:expr, $tz:expr) => {
        City {
            name: $n,
            st: $s,
            zip3: $z,
            area: $a,
            tz: $tz,
        }
    };
}

const NY: &str = "America/New_York";
const CHI: &str = "America/Chicago";
const DEN: &str = "America/Denver";
const LA: &str = "America/Los_Angeles";

const US_CITIES: &[City] = &[
    city!("Boston", "MA", 21, 617, NY),
    city!("Providence", "RI", 29, 401, NY),
    city!("Portland", "ME", 41, 207, NY),
    city!("Burlington", "VT", 54, 802, NY),
    city!("Hartford", "CT", 61, 860, NY),
    city!("Newark", "NJ", 71, 973, NY),
    city!("San Juan", "PR", 9, 787, "America/Puerto_Rico"),
    city!("New York", "NY", 100, 212, NY),
    city!("Brooklyn", "NY", 112, 718, NY),
    city!("Philadelphia", "PA", 191, 215, NY),
    city!("Baltimore", "MD", 212, 410, NY),
    city!("Washington", "DC", 200, 202, NY),
    city!("Atlanta", "GA", 303, 404, NY),
    city!("Miami", "FL", 331, 305, NY),
    city!("Orlando", "FL", 328, 407, NY),
    city!("Charlotte", "NC", 282, 704, NY),
    city!("Nashville", "TN", 372, 615, CHI),
    city!("Detroit", "MI", 482, 313, "America/Detroit"),
    city!("Columbus", "OH", 432, 614, NY),
    city!("Chicago", "IL", 606, 312, CHI),
    city!("Minneapolis", "MN", 554, 612, CHI),
    city!("St. Louis", "MO", 631, 314, CHI),
    city!("Dallas", "TX", 752, 214, CHI),
    city!("Austin", "TX", 787, 512, CHI),
    city!("Houston", "TX", 770, 713, CHI),
    city!("Denver", "CO", 802, 303, DEN),
    city!("Phoenix", "AZ", 850, 602, "America/Phoenix"),
    city!("Salt Lake City", "UT", 841, 801, DEN),
    city!("Las Vegas", "NV", 891, 702, LA),
    city!("Los Angeles", "CA", 900, 213, LA),
    city!("Santa Monica", "CA", 904, 310, LA),
    city!("San Diego", "CA", 921, 619, LA),
    city!("San Francisco", "CA", 941, 415, LA),
    city!("Seattle", "WA", 981, 206, LA),
    city!("Portland", "OR", 972, 503, LA),
    city!("Anchorage", "AK", 995, 907, "America/Anchorage"),
    city!("Honolulu", "HI", 968, 808, "Pacific/Honolulu"),
];

const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Washington Blvd",
    "Park Ave",
    "Lake Rd",
    "Hill St",
    "Sunset Blvd",
    "2nd St",
    "Broadway",
    "Pine St",
    "River Rd",
    "Church St",
    "Highland Ave",
    "Jefferson St",
    "Mill Rd",
    "Franklin Ave",
    "Lincoln Way",
];

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Christopher",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Steven",
    "Emily",
    "Andrew",
    "Michelle",
    "Joshua",
    "Amanda",
    "Kevin",
    "Melissa",
    "Brian",
    "Stephanie",
    "Wei",
    "Mei",
    "Priya",
    "Arjun",
    "José",
    "María",
    "Zoë",
    "Renée",
    "Søren",
    "Aoife",
    "Minh",
    "Olumide",
    "Fatima",
    "Ahmed",
    "Yuki",
    "Chloé",
    "François",
    "Sean",
];

const MIDDLE_NAMES: &[&str] = &[
    "A.", "B.", "C.", "D.", "E.", "J.", "K.", "L.", "M.", "R.", "S.", "T.", "Lee", "Marie", "Ann",
    "James", "Lynn", "Rose", "Paul", "Grace",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "García",
    "Müller",
    "Nguyễn",
    "O'Brien",
    "Smith-Jones",
    "Kowalski",
    "Patel",
    "Chen",
    "Kim",
    "Okafor",
    "Schmidt",
    "Dubois",
    "Rossi",
    "Silva",
    "Sato",
    "McAllister",
];

const BUSINESS_SUFFIXES: &[&str] = &[
    "LLC",
    "Inc.",
    "Consulting LLC",
    "Studio",
    "Design Co.",
    "Services LLC",
    "& Associates",
    "Labs Inc.",
    "Media Group",
    "Logistics LLC",
];

const BUSINESS_WORDS: &[&str] = &[
    "Blue Harbor",
    "Summit",
    "Northwind",
    "Red Cedar",
    "Brightline",
    "Ironwood",
    "Silver Creek",
    "Keystone",
    "Evergreen",
    "Lakeside",
];

/// Valid EIN prefixes (IRS campus list).
const EIN_PREFIXES: &[u8] = &[
    1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23, 24, 25, 26, 27, 30, 31, 32, 33,
    34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 50, 51, 52, 53, 54, 55, 56, 57, 58,
    59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 71, 72, 73, 74, 75, 76, 77, 80, 81, 82, 83, 84, 85, 86,
    87, 88, 90, 91, 92, 93, 94, 95, 98, 99,
];

const ITIN_GROUPS: &[u8] = &[
    50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 70, 71, 72, 73, 74, 75, 76, 77,
    78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 90, 91, 92, 94, 95, 96, 97, 98, 99,
];

const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn valid_ssn(r: &mut ChaCha8Rng) -> String {
    loop {
        let area: u16 = r.random_range(1..900);
        let group: u8 = r.random_range(1..100);
        let serial: u16 = r.random_range(1..10_000);
        let s = format!("{area:03}-{group:02}-{serial:04}");
        if area != 666 && !matches!(s.as_str(), "078-05-1120" | "457-55-5462" | "219-09-9999") {
            return s;
        }
    }
}

fn valid_ein(r: &mut ChaCha8Rng) -> String {
    let p = pick(r, EIN_PREFIXES);
    format!("{p:02}-{:07}", r.random_range(0..10_000_000u32))
}

fn valid_itin(r: &mut ChaCha8Rng) -> String {
    let g = pick(r, ITIN_GROUPS);
    format!(
        "9{:02}-{g:02}-{:04}",
        r.random_range(0..100u8),
        r.random_range(0..10_000u16)
    )
}

fn malformed_tin(r: &mut ChaCha8Rng) -> String {
    match r.random_range(0..6u8) {
        0 => format!("{}-{}-{}", digits(r, 3), digits(r, 2), digits(r, 3)),
        1 => digits(r, 8),
        2 => digits(r, 10),
        3 => "N/A".to_string(),
        4 => format!("{}-{}", digits(r, 3), digits(r, 5)),
        _ => "TBD".to_string(),
    }
}

struct Foreign {
    country: &'static str,
    city: &'static str,
    st: &'static str,
    street: &'static str,
    phone: &'static str,
    phone_digits: usize,
    tz: &'static str,
    lang: &'static str,
}

const FOREIGN: &[Foreign] = &[
    Foreign {
        country: "MEX",
        city: "Ciudad de México",
        st: "CDMX",
        street: "Av. Insurgentes Sur",
        phone: "52155",
        phone_digits: 8,
        tz: "America/Mexico_City",
        lang: "es",
    },
    Foreign {
        country: "CAN",
        city: "Toronto",
        st: "ON",
        street: "King St W",
        phone: "1416",
        phone_digits: 7,
        tz: "America/Toronto",
        lang: "en",
    },
    Foreign {
        country: "GBR",
        city: "London",
        st: "",
        street: "High Street",
        phone: "447700",
        phone_digits: 6,
        tz: "Europe/London",
        lang: "en",
    },
    Foreign {
        country: "DEU",
        city: "Berlin",
        st: "BE",
        street: "Friedrichstraße",
        phone: "4915",
        phone_digits: 9,
        tz: "Europe/Berlin",
        lang: "de",
    },
    Foreign {
        country: "IND",
        city: "Bengaluru",
        st: "KA",
        street: "MG Road",
        phone: "9198",
        phone_digits: 8,
        tz: "Asia/Kolkata",
        lang: "en",
    },
    Foreign {
        country: "PHL",
        city: "Manila",
        st: "NCR",
        street: "Ayala Avenue",
        phone: "63917",
        phone_digits: 7,
        tz: "Asia/Manila",
        lang: "en",
    },
    Foreign {
        country: "BRA",
        city: "São Paulo",
        st: "SP",
        street: "Avenida Paulista",
        phone: "5511",
        phone_digits: 9,
        tz: "America/Sao_Paulo",
        lang: "pt",
    },
];

fn foreign_postal(r: &mut ChaCha8Rng, country: &str) -> String {
    let up = |r: &mut ChaCha8Rng| char::from(b'A' + r.random_range(0..26u8));
    let dg = |r: &mut ChaCha8Rng| char::from(b'0' + r.random_range(0..10u8));
    match country {
        "MEX" => format!("{:05}", r.random_range(1_000..17_000u32)),
        "CAN" => format!("M{}{} {}{}{}", dg(r), up(r), dg(r), up(r), dg(r)),
        "GBR" => format!("E{} {}{}{}", r.random_range(1..20u8), dg(r), up(r), up(r)),
        "DEU" => format!("{}", r.random_range(10_115..14_200u32)),
        "IND" => format!("{}", r.random_range(560_001..560_110u32)),
        "PHL" => format!("{}", r.random_range(1_000..1_019u32)),
        _ => format!(
            "0{:04}-{:03}",
            r.random_range(1_000..9_999u32),
            r.random_range(0..1_000u32)
        ),
    }
}

fn foreign_tin(r: &mut ChaCha8Rng, country: &str) -> String {
    let up = |r: &mut ChaCha8Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'A' + r.random_range(0..26u8)))
            .collect()
    };
    match country {
        "MEX" => format!("{}{}{}", up(r, 4), digits(r, 6), alnum(r, 3).to_uppercase()),
        "CAN" => format!("{} {} {}", digits(r, 3), digits(r, 3), digits(r, 3)),
        "GBR" => digits(r, 10),
        "DEU" => digits(r, 11),
        "IND" => format!("{}{}{}", up(r, 5), digits(r, 4), up(r, 1)),
        "PHL" => format!("{}-{}-{}-000", digits(r, 3), digits(r, 3), digits(r, 3)),
        _ => format!(
            "{}.{}.{}-{}",
            digits(r, 3),
            digits(r, 3),
            digits(r, 3),
            digits(r, 2)
        ),
    }
}

const MASK48: u64 = 0xffff_ffff_ffff;
const SCRAMBLE_MUL: u64 = 0x5DEE_CE66_D1B3; // odd, so invertible mod 2^48

fn inverse_mod_2_64(a: u64) -> u64 {
    // Newton's iteration: each step doubles the number of correct low bits.
    let mut x = a;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
    }
    x
}

fn index_mask(seed: u64) -> u64 {
    mix(seed, SALT_MASK) & MASK48
}

/// The `user_token` of bulk payee `index` (UUID-shaped, index recoverable with the seed).
pub fn bulk_token(seed: u64, index: u64) -> String {
    let mut r = rng_from(mix3(seed, SALT_TOKEN, index));
    let a: u32 = r.random();
    let b: u16 = r.random();
    let c: u16 = r.random::<u16>() & 0x0fff;
    let d: u16 = (r.random::<u16>() & 0x3fff) | 0x8000;
    let e = ((index ^ index_mask(seed)) & MASK48).wrapping_mul(SCRAMBLE_MUL) & MASK48;
    format!("usr_{a:08x}-{b:04x}-4{c:03x}-{d:04x}-{e:012x}")
}

/// Recovers the bulk index from a token produced by [`bulk_token`] with the same seed, if it is
/// one and the index is below `bulk_payees`.
pub fn decode_bulk_token(seed: u64, token: &str, bulk_payees: u64) -> Option<u64> {
    let hex = token.strip_prefix("usr_")?;
    if hex.len() != 36 {
        return None;
    }
    let last = hex.get(24..)?;
    if !last.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let e = u64::from_str_radix(last, 16).ok()?;
    let index = (e.wrapping_mul(inverse_mod_2_64(SCRAMBLE_MUL)) & MASK48) ^ index_mask(seed);
    (index < bulk_payees && bulk_token(seed, index) == token).then_some(index)
}

/// Text a float serializer would print for `cents` with a little binary noise, e.g.
/// `599.9999999999999` (down) or `600.0000000000001` (up) for 60000 cents.
pub fn float_noise_text(cents: i64, up: bool) -> String {
    let base = if up { cents } else { cents - 1 };
    let int = base / 100;
    let frac = base % 100;
    let int_digits = if int == 0 { 0 } else { int.to_string().len() };
    let frac_digits = if int == 0 {
        17
    } else {
        16usize.saturating_sub(int_digits).max(3)
    };
    let pad = frac_digits - 2 - 1;
    if up {
        format!("{int}.{frac:02}{}1", "0".repeat(pad))
    } else {
        format!("{int}.{frac:02}{}9", "9".repeat(pad))
    }
}

/// `(balance text, exact value)` of bulk payee `index` in `year`.
pub fn bulk_balance(seed: u64, year: i32, index: u64) -> (String, Decimal) {
    let mut r = rng_from(mix3(seed ^ SALT_YEAR, year as i64 as u64, index));
    let roll: u8 = r.random_range(0..100);
    let cents: i64 = match roll {
        0 => 60_000,
        1 => 59_999,
        2 => 60_001,
        3..=30 => r.random_range(1..60_000),
        31..=80 => r.random_range(60_000..500_000),
        _ => r.random_range(500_000..=1_000_000),
    };
    let text = if r.random_range(0..100u8) == 0 {
        float_noise_text(cents, r.random_range(0..2u8) == 0)
    } else {
        Decimal::new(cents, 2).normalize().to_string()
    };
    let value = balance_of(&text);
    (text, value)
}

/// Bulk payee `index` in `year` (identity from `(seed, index)`, balance from `(seed, year, index)`).
pub fn bulk_payee(seed: u64, year: i32, index: u64) -> EmuPayee {
    let (balance_text, balance) = bulk_balance(seed, year, index);
    let mut r = rng_from(mix3(seed, SALT_IDENT, index));
    let first = pick(&mut r, FIRST_NAMES);
    let last = pick(&mut r, LAST_NAMES);
    let middle = if r.random_range(0..10u8) < 4 {
        pick(&mut r, MIDDLE_NAMES)
    } else {
        ""
    };
    let foreign_roll: u8 = r.random_range(0..100);
    let house: u32 = r.random_range(1..9_999);
    let a2 = match r.random_range(0..10u8) {
        0 | 1 => format!("Apt {}", r.random_range(1..40u8)),
        2 => format!("Suite {}", r.random_range(100..999u16)),
        _ => String::new(),
    };
    let (address1, city, st, postal, country, mobile, tz, lang);
    if foreign_roll < 90 {
        let c = &US_CITIES[r.random_range(0..US_CITIES.len())];
        address1 = format!("{house} {}", pick(&mut r, STREETS));
        city = c.name;
        st = c.st;
        postal = format!("{:03}{:02}", c.zip3, r.random_range(1..100u8));
        country = "USA";
        mobile = format!("1{}{}", c.area, digits(&mut r, 7));
        tz = c.tz;
        lang = if r.random_range(0..10u8) == 0 {
            "es"
        } else {
            "en"
        };
    } else {
        let f = match foreign_roll {
            90..=92 => &FOREIGN[0],
            93..=94 => &FOREIGN[1],
            95 => &FOREIGN[2],
            96 => &FOREIGN[3],
            97 => &FOREIGN[4],
            98 => &FOREIGN[5],
            _ => &FOREIGN[6],
        };
        address1 = match f.country {
            "MEX" | "DEU" | "BRA" => format!("{} {house}", f.street),
            _ => format!("{house} {}", f.street),
        };
        city = f.city;
        st = f.st;
        postal = foreign_postal(&mut r, f.country);
        country = f.country;
        mobile = format!("{}{}", f.phone, digits(&mut r, f.phone_digits));
        tz = f.tz;
        lang = f.lang;
    }
    let mut business_name = String::new();
    let tax_id = if country == "USA" {
        let t: u16 = r.random_range(0..1000);
        match t {
            0..=19 => TaxId::Absent,
            20..=34 => TaxId::Null,
            35..=49 => TaxId::Text(String::new()),
            50..=69 => TaxId::Text(malformed_tin(&mut r)),
            70..=169 => {
                business_name = if r.random_range(0..2u8) == 0 {
                    format!("{last} {}", pick(&mut r, BUSINESS_SUFFIXES))
                } else {
                    format!(
                        "{} {}",
                        pick(&mut r, BUSINESS_WORDS),
                        pick(&mut r, BUSINESS_SUFFIXES)
                    )
                };
                TaxId::Text(valid_ein(&mut r))
            }
            170..=199 => TaxId::Text(valid_itin(&mut r)),
            _ => {
                let ssn = valid_ssn(&mut r);
                if t < 230 {
                    business_name = format!("{last} {}", pick(&mut r, BUSINESS_SUFFIXES));
                }
                if t.is_multiple_of(20) {
                    TaxId::Text(ssn.replace('-', ""))
                } else {
                    TaxId::Text(ssn)
                }
            }
        }
    } else {
        match r.random_range(0..10u8) {
            0..=3 => TaxId::Absent,
            4 | 5 => TaxId::Text(String::new()),
            6..=8 => TaxId::Text(foreign_tin(&mut r, country)),
            _ => TaxId::Text(valid_ssn(&mut r)),
        }
    };
    let date_of_birth = if r.random_range(0..10u8) == 0 {
        String::new()
    } else {
        let lo = dates::days_from_civil(1950, 1, 1);
        let hi = dates::days_from_civil(2004, 12, 31);
        dates::format_date(r.random_range(lo..=hi))
    };
    let created_lo = dates::days_from_civil(2017, 1, 1) * 86_400;
    let created_hi = dates::days_from_civil(2023, 12, 31) * 86_400;
    let created_on = dates::format_local_timestamp(r.random_range(created_lo..created_hi));
    let hold_roll: u16 = r.random_range(0..1000);
    let hold = match hold_roll {
        0..=7 => Hold::BankStatement {
            account_number: digits(&mut r, 5),
            link: format!("https://l.maspay.io/{}", alnum(&mut r, 8)),
        },
        8..=11 => Hold::GovernmentId {
            link: format!("https://magic.veriff.me/v{}", alnum(&mut r, 12)),
        },
        12..=14 => Hold::IdSelfie {
            link: format!("https://magic.veriff.me/v{}", alnum(&mut r, 12)),
        },
        _ => Hold::None,
    };
    EmuPayee {
        user_token: bulk_token(seed, index),
        bulk_index: Some(index),
        internal_user_id: format!("contractor-{index}"),
        first_name: first.to_string(),
        middle_name: middle.to_string(),
        last_name: last.to_string(),
        business_name,
        email: format!("payee{index}@example.test"),
        mobile_number: mobile,
        address1,
        address2: a2,
        city: city.to_string(),
        state_province: st.to_string(),
        tax_postal_code: TaxPostal::from_stored(&postal),
        postal_code: postal,
        country: country.to_string(),
        date_of_birth,
        language: lang.to_string(),
        timezone: tz.to_string(),
        created_on,
        balance_text,
        balance,
        tax_id,
        hold,
    }
}

// ----------------------------------------------------------------------------------------------
// Transactions

/// `TxnHistoryResp.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnKind {
    /// `payout`
    Payout,
    /// `load`
    Load,
    /// `spend back` (query filter value `spendback`)
    SpendBack,
}

impl TxnKind {
    /// Value of the response `type` field (note the space in `spend back`).
    pub fn wire(self) -> &'static str {
        match self {
            TxnKind::Payout => "payout",
            TxnKind::Load => "load",
            TxnKind::SpendBack => "spend back",
        }
    }

    /// Value accepted by the `type` query filter.
    pub fn filter_name(self) -> &'static str {
        match self {
            TxnKind::Payout => "payout",
            TxnKind::Load => "load",
            TxnKind::SpendBack => "spendback",
        }
    }
}

/// One history entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Txn {
    /// Transaction token.
    pub token: String,
    /// Kind.
    pub kind: TxnKind,
    /// Seconds since the epoch (UTC).
    pub time: i64,
    /// Amount in the source currency (USD).
    pub source_amount: Decimal,
    /// Always `USD`.
    pub source_currency_code: &'static str,
    /// Amount delivered.
    pub destination_amount: Decimal,
    /// ISO 4217.
    pub destination_currency_code: &'static str,
    /// Fee charged to the client.
    pub fee: Decimal,
    /// `COMPLETED` or `CANCELLED`.
    pub status: &'static str,
    /// Notes (loads and spend backs).
    pub notes: String,
    /// Payer (payouts).
    pub payer_name: String,
    /// Pickup code (cash pickup payouts).
    pub pickup_code: String,
    /// Source token.
    pub source_token: String,
    /// Destination token.
    pub destination_token: String,
    /// Payouts only.
    pub delivery_type: Option<&'static str>,
    /// Client's id for the transfer.
    pub client_transfer_id: String,
    /// Reason for CANCELLED.
    pub status_reason: String,
    /// Owner.
    pub user_token: String,
}

/// Destination currency and USD exchange rate for a payee country.
pub fn currency_for(country: &str) -> (&'static str, Decimal) {
    match country {
        "MEX" => ("MXN", Decimal::new(1855, 2)),
        "CAN" => ("CAD", Decimal::new(136, 2)),
        "GBR" => ("GBP", Decimal::new(79, 2)),
        "DEU" => ("EUR", Decimal::new(92, 2)),
        "IND" => ("INR", Decimal::new(832, 1)),
        "PHL" => ("PHP", Decimal::new(561, 1)),
        "BRA" => ("BRL", Decimal::new(505, 2)),
        _ => ("USD", Decimal::ONE),
    }
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn cents_of(d: Decimal) -> i64 {
    (round2(d) * Decimal::ONE_HUNDRED).to_i64().unwrap_or(0)
}

/// The deterministic `clnt_wlt_…` funding-account token of the emulated client.
pub fn client_wallet_token(seed: u64) -> String {
    format!(
        "clnt_wlt_{}",
        uuid_from(&mut rng_from(mix(seed, SALT_WALLET)))
    )
}

/// `(usr_wlt_…, dst_…)` tokens of a payee.
pub fn payee_wallet_tokens(seed: u64, payee: &EmuPayee) -> (String, String) {
    let mut r = rng_from(mix3(seed, SALT_DEST, payee.seed_key()));
    (
        format!("usr_wlt_{}", uuid_from(&mut r)),
        format!("dst_{}", uuid_from(&mut r)),
    )
}

/// The payee's transactions in `year`, oldest first. COMPLETED payouts sum to
/// [`EmuPayee::balance_cents`].
pub fn transactions(seed: u64, year: i32, payee: &EmuPayee) -> Vec<Txn> {
    let mut r = rng_from(mix3(seed ^ SALT_TXN, year as i64 as u64, payee.seed_key()));
    let client_wallet = client_wallet_token(seed);
    let (user_wallet, dest) = payee_wallet_tokens(seed, payee);
    let (currency, rate) = currency_for(&payee.country);
    let year_start = dates::days_from_civil(i64::from(year), 1, 1) * 86_400;
    let year_len = dates::days_in_year(i64::from(year)) * 86_400;
    let total = cents_of(payee.balance);
    let mut out = Vec::new();
    let payout = |r: &mut ChaCha8Rng, cents: i64, status: &'static str, reason: &str| {
        let amount = Decimal::new(cents, 2);
        let cash = currency == "MXN" && r.random_range(0..2u8) == 0;
        let (payer, delivery, pickup) = if cash {
            ("Elektra", "CASH_PICKUP", digits(r, 6))
        } else {
            ("Bank Deposit", "BANK_DEPOSIT", String::new())
        };
        let fee = if currency == "USD" {
            Decimal::new(25, 2)
        } else {
            Decimal::new(299, 2)
        };
        Txn {
            token: format!("payout_{}", uuid_from(r)),
            kind: TxnKind::Payout,
            time: year_start + r.random_range(0..year_len),
            source_amount: amount,
            source_currency_code: "USD",
            destination_amount: round2(amount * rate),
            destination_currency_code: currency,
            fee,
            status,
            notes: String::new(),
            payer_name: payer.to_string(),
            pickup_code: pickup,
            source_token: client_wallet.clone(),
            destination_token: dest.clone(),
            delivery_type: Some(delivery),
            client_transfer_id: format!("inv-{year}-{}", digits(r, 6)),
            status_reason: reason.to_string(),
            user_token: payee.user_token.clone(),
        }
    };
    if total > 0 {
        let k = r.random_range(1..=4i64).min(total);
        let mut cuts: Vec<i64> = Vec::with_capacity(k as usize + 1);
        while (cuts.len() as i64) < k - 1 {
            let c = r.random_range(1..total);
            if !cuts.contains(&c) {
                cuts.push(c);
            }
        }
        cuts.sort_unstable();
        cuts.push(total);
        let mut prev = 0;
        for c in cuts {
            out.push(payout(&mut r, c - prev, "COMPLETED", ""));
            prev = c;
        }
    }
    let extras: u8 = r.random_range(0..100);
    if extras < 10 {
        let c = r.random_range(5_000..50_000);
        out.push(payout(
            &mut r,
            c,
            "CANCELLED",
            "Beneficiary information is incorrect",
        ));
    }
    if extras.is_multiple_of(4) {
        let amount = Decimal::new(r.random_range(2_500..50_000), 2);
        let time = year_start + r.random_range(0..year_len);
        let (_, m, _) = dates::civil_from_days(time.div_euclid(86_400));
        out.push(Txn {
            token: format!("ld_{}", uuid_from(&mut r)),
            kind: TxnKind::Load,
            time,
            source_amount: amount,
            source_currency_code: "USD",
            destination_amount: amount,
            destination_currency_code: "USD",
            fee: Decimal::ZERO,
            status: "COMPLETED",
            notes: format!("Commission payment for {}", MONTHS[(m - 1) as usize]),
            payer_name: String::new(),
            pickup_code: String::new(),
            source_token: client_wallet.clone(),
            destination_token: user_wallet.clone(),
            delivery_type: None,
            client_transfer_id: format!("ld-{year}-{}", digits(&mut r, 6)),
            status_reason: String::new(),
            user_token: payee.user_token.clone(),
        });
    }
    if extras % 12 == 1 {
        let amount = Decimal::new(r.random_range(500..10_000), 2);
        out.push(Txn {
            token: uuid_from(&mut r),
            kind: TxnKind::SpendBack,
            time: year_start + r.random_range(0..year_len),
            source_amount: amount,
            source_currency_code: "USD",
            destination_amount: amount,
            destination_currency_code: "USD",
            fee: Decimal::ZERO,
            status: "COMPLETED",
            notes: "Spend back of unused wallet funds".to_string(),
            payer_name: String::new(),
            pickup_code: String::new(),
            source_token: user_wallet.clone(),
            destination_token: client_wallet.clone(),
            delivery_type: None,
            client_transfer_id: String::new(),
            status_reason: String::new(),
            user_token: payee.user_token.clone(),
        });
    }
    out.sort_by_key(|t| t.time);
    out
}

/// KYC sessions of a payee: `(provider, session_id, session_time, status)`.
pub fn kyc_sessions(seed: u64, payee: &EmuPayee) -> Vec<(String, String, String, String)> {
    let statuses: &[(&str, &str)] = match &payee.hold {
        Hold::GovernmentId { .. } => {
            &[("Veriff", "Declined"), ("Veriff", "Resubmission requested")]
        }
        Hold::IdSelfie { .. } => &[("Veriff", "Started")],
        Hold::BankStatement { .. } => &[("Veriff", "Approved")],
        Hold::None if payee.seed_key().is_multiple_of(3) => &[("Au10tix", "Approved")],
        Hold::None => &[],
    };
    let mut r = rng_from(mix3(seed, SALT_KYC, payee.seed_key()));
    let mut t = dates::days_from_civil(2024, 1, 1) * 86_400 + r.random_range(0..86_400 * 300);
    statuses
        .iter()
        .map(|(provider, status)| {
            t += r.random_range(3_600..86_400 * 30);
            (
                (*provider).to_string(),
                uuid_from(&mut r),
                dates::format_timestamp_millis(t * 1000),
                (*status).to_string(),
            )
        })
        .collect()
}

// ----------------------------------------------------------------------------------------------
// Population

/// The whole emulated account for one `(seed, bulk_payees)`: hard cases then bulk payees.
#[derive(Clone, Debug)]
pub struct Population {
    seed: u64,
    bulk: u64,
    hard: Arc<Vec<EmuPayee>>,
}

impl Population {
    /// A population with `bulk_payees` generated payees per year.
    pub fn new(seed: u64, bulk_payees: usize) -> Self {
        Population {
            seed,
            bulk: bulk_payees as u64,
            hard: Arc::new(hard_cases(0)),
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Number of hard cases.
    pub fn hard_count(&self) -> u64 {
        self.hard.len() as u64
    }

    /// Number of bulk payees.
    pub fn bulk_count(&self) -> u64 {
        self.bulk
    }

    /// Total payees listed per year.
    pub fn len(&self) -> u64 {
        self.hard_count() + self.bulk
    }

    /// Never empty (there are always hard cases).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Payee at listing position `pos` (hard cases first) for `year`.
    pub fn payee_at(&self, year: i32, pos: u64) -> Option<EmuPayee> {
        let h = self.hard_count();
        if pos < h {
            self.hard.get(pos as usize).cloned()
        } else if pos - h < self.bulk {
            Some(bulk_payee(self.seed, year, pos - h))
        } else {
            None
        }
    }

    /// Balance text and value at `pos` without building the whole payee.
    pub fn balance_at(&self, year: i32, pos: u64) -> Option<(String, Decimal)> {
        let h = self.hard_count();
        if pos < h {
            let p = &self.hard[pos as usize];
            Some((p.balance_text.clone(), p.balance))
        } else if pos - h < self.bulk {
            Some(bulk_balance(self.seed, year, pos - h))
        } else {
            None
        }
    }

    /// Listing position of a user token.
    pub fn position_of_token(&self, token: &str) -> Option<u64> {
        if let Some(i) = self.hard.iter().position(|p| p.user_token == token) {
            return Some(i as u64);
        }
        decode_bulk_token(self.seed, token, self.bulk).map(|i| i + self.hard_count())
    }

    /// Payee by user token.
    pub fn by_token(&self, year: i32, token: &str) -> Option<EmuPayee> {
        self.position_of_token(token)
            .and_then(|p| self.payee_at(year, p))
    }

    /// Payee by email (case-insensitive).
    pub fn by_email(&self, year: i32, email: &str) -> Option<EmuPayee> {
        let email = email.trim();
        if let Some(p) = self
            .hard
            .iter()
            .find(|p| p.email.eq_ignore_ascii_case(email))
        {
            return Some(p.clone());
        }
        let lower = email.to_ascii_lowercase();
        let idx = lower.strip_prefix("payee")?.strip_suffix("@example.test")?;
        let i: u64 = idx.parse().ok()?;
        (i.to_string() == idx && i < self.bulk).then(|| bulk_payee(self.seed, year, i))
    }

    /// Payee by `internal_user_id`.
    pub fn by_internal_id(&self, year: i32, id: &str) -> Option<EmuPayee> {
        if let Some(p) = self.hard.iter().find(|p| p.internal_user_id == id) {
            return Some(p.clone());
        }
        let idx = id.strip_prefix("contractor-")?;
        let i: u64 = idx.parse().ok()?;
        (i.to_string() == idx && i < self.bulk).then(|| bulk_payee(self.seed, year, i))
    }

    /// The client wallet token.
    pub fn client_wallet_token(&self) -> String {
        client_wallet_token(self.seed)
    }

    /// Account balance text (JSON number).
    pub fn account_balance_text(&self) -> String {
        let mut r = rng_from(mix(self.seed, SALT_WALLET ^ 7));
        Decimal::new(r.random_range(10_000_000..90_000_000i64), 2)
            .normalize()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_cases_are_unique_and_documented() {
        let hc = hard_cases(2024);
        let src = include_str!("data.rs");
        let mut tokens: Vec<&str> = hc.iter().map(|p| p.user_token.as_str()).collect();
        for p in &hc {
            assert!(
                src.contains(&format!(
                    "//! | `{}` | `{}` |",
                    p.user_token, p.balance_text
                )),
                "{} / {} missing from the docs table",
                p.user_token,
                p.balance_text
            );
            assert!(parse_number_text(&p.balance_text).is_some());
        }
        tokens.sort_unstable();
        tokens.dedup();
        assert_eq!(tokens.len(), hc.len());
        let mut emails: Vec<String> = hc.iter().map(|p| p.email.to_lowercase()).collect();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), hc.len());
        assert_eq!(hard_cases(1999), hc);
    }

    #[test]
    fn hard_case_specifics() {
        let hc = hard_cases(2024);
        let get = |slug: &str| {
            hc.iter()
                .find(|p| p.user_token == format!("usr_edge_{slug}"))
                .unwrap()
                .clone()
        };
        assert_eq!(
            get("zip_lost_zero").tax_postal_code,
            TaxPostal::Number(2108)
        );
        assert_eq!(
            get("zip_plus4").tax_postal_code,
            TaxPostal::Text("02108-1234".into())
        );
        assert_eq!(get("zip_90405").tax_postal_code, TaxPostal::Number(90405));
        assert_eq!(get("empty_country").tax_postal_code, TaxPostal::Null);
        assert_eq!(get("bal_600_00").balance, Decimal::new(60000, 2));
        assert_eq!(get("exp_600").balance, Decimal::from(600));
        assert_eq!(get("float_under_600").balance_cents(), Decimal::from(600));
        assert_eq!(get("float_over_600").balance_cents(), Decimal::from(600));
        assert_eq!(
            get("float_1234_56").balance_cents(),
            Decimal::new(123456, 2)
        );
        assert_eq!(get("same_tin_a").tax_id, get("same_tin_b").tax_id);
        assert_eq!(get("hold_bank_statement").status(), UserStatus::Deactive);
        assert_eq!(get("active_needs_id").status(), UserStatus::Active);
        let row = get("tin_absent").tax_json();
        assert!(!row.contains("tax_id"));
        let row = get("tin_null").tax_json();
        assert!(row.ends_with(r#","tax_id":null}"#));
        let row = get("zip_lost_zero").tax_json();
        assert!(row.contains(r#""postal_code":2108,"#), "{row}");
        let v: serde_json::Value = serde_json::from_str(&get("name_tab").tax_json()).unwrap();
        assert_eq!(v["last_name"], "Van\tDyke");
    }

    #[test]
    fn bulk_tokens_round_trip() {
        for seed in [0, 1, 2025, u64::MAX] {
            for i in [0u64, 1, 2, 199, 12_345, 999_999] {
                let t = bulk_token(seed, i);
                assert_eq!(t.len(), 40, "{t}");
                assert_eq!(decode_bulk_token(seed, &t, 1_000_000), Some(i));
                assert_eq!(decode_bulk_token(seed, &t, i), None);
                assert_eq!(decode_bulk_token(seed ^ 1, &t, 1_000_000), None);
            }
        }
        assert_eq!(decode_bulk_token(1, "usr_edge_zero", 10), None);
        assert_eq!(decode_bulk_token(1, "usr_not-a-token", 10), None);
    }

    #[test]
    fn bulk_is_deterministic_and_plausible() {
        let a = bulk_payee(7, 2024, 42);
        assert_eq!(a, bulk_payee(7, 2024, 42));
        let b = bulk_payee(7, 2023, 42);
        assert_eq!(a.user_token, b.user_token);
        assert_eq!(a.email, "payee42@example.test");
        let mut usa = 0;
        let mut missing = 0;
        for i in 0..2000 {
            let p = bulk_payee(2025, 2024, i);
            assert!(p.balance > Decimal::ZERO && p.balance <= Decimal::from(10_000));
            if p.country == "USA" {
                usa += 1;
                assert_eq!(p.postal_code.len(), 5);
            }
            if p.tax_id.as_text().is_none_or(str::is_empty) {
                missing += 1;
            }
            serde_json::from_str::<serde_json::Value>(&p.tax_json()).unwrap();
        }
        assert!((1700..=1900).contains(&usa), "usa={usa}");
        assert!((50..=250).contains(&missing), "missing={missing}");
    }

    #[test]
    fn float_noise_texts() {
        assert_eq!(float_noise_text(60_000, false), "599.9999999999999");
        assert_eq!(float_noise_text(60_000, true), "600.0000000000001");
        assert_eq!(float_noise_text(123_456, true), "1234.560000000001");
        let t = float_noise_text(30, true);
        assert_eq!(
            round2(parse_number_text(&t).unwrap()),
            Decimal::new(30, 2),
            "{t}"
        );
        for c in [1i64, 99, 100, 101, 59_999, 999_999, 1_000_000] {
            for up in [true, false] {
                let t = float_noise_text(c, up);
                assert_eq!(
                    round2(parse_number_text(&t).unwrap()),
                    Decimal::new(c, 2),
                    "{t}"
                );
            }
        }
    }

    #[test]
    fn payouts_sum_to_balance() {
        let pop = Population::new(2025, 300);
        for year in [2023, 2024] {
            for pos in 0..pop.len() {
                let p = pop.payee_at(year, pos).unwrap();
                let sum: Decimal = transactions(2025, year, &p)
                    .iter()
                    .filter(|t| t.kind == TxnKind::Payout && t.status == "COMPLETED")
                    .map(|t| t.source_amount)
                    .sum();
                assert_eq!(sum, p.balance_cents(), "{}", p.user_token);
            }
        }
    }

    #[test]
    fn lookups_resolve() {
        let pop = Population::new(9, 50);
        let p = pop.payee_at(2024, pop.hard_count() + 17).unwrap();
        assert_eq!(pop.by_token(2024, &p.user_token), Some(p.clone()));
        assert_eq!(pop.by_email(2024, "PAYEE17@example.test"), Some(p.clone()));
        assert_eq!(pop.by_internal_id(2024, "contractor-17"), Some(p));
        assert_eq!(pop.by_email(2024, "payee017@example.test"), None);
        assert_eq!(pop.by_email(2024, "payee50@example.test"), None);
        assert!(pop.by_token(2024, "usr_edge_zero").is_some());
        assert!(
            pop.by_internal_id(2024, "edge-hold-bank-statement")
                .is_some()
        );
        assert!(pop.by_email(2024, "jdoe@example.test").is_some());
    }
}
