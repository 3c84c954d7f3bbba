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
//! | `usr_edge_foreign_can` | `1800.5` | CAN | *(field absent)* | Émilie Tremblay; foreign, no tax_id, no date of birth; postal `"M5V 3L9"` |
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

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
#[allow(unused_imports)]
use rust_decimal::prelude::ToPrimitive;
#[allow(unused_imports)]
use rust_decimal::{Decimal, RoundingStrategy};

mod bulk;
mod edge_cases;
mod kyc;
mod payee;
mod population;
mod txns;

pub use bulk::{bulk_balance, bulk_payee, bulk_token, decode_bulk_token, float_noise_text};
pub use edge_cases::hard_cases;
pub use kyc::kyc_sessions;
pub use payee::{EmuPayee, Hold, TaxId, TaxPostal, UserStatus};
pub use population::Population;
pub use txns::{
    Txn, TxnKind, client_wallet_token, currency_for, payee_wallet_tokens, transactions,
};

pub(crate) use bulk::MONTHS;

#[allow(unused_imports)]
use self::{bulk::*, edge_cases::*, kyc::*, payee::*, population::*, txns::*};
#[allow(unused_imports)]
use crate::dates;
#[allow(unused_imports)]
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

#[cfg(test)]
mod tests;
