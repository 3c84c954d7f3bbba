//! Pure rules for US information returns on MassPay payouts.
//!
//! Nothing in this crate does I/O: every function takes values and returns values, so the rules
//! can be tested exhaustively and reused by the CLI, the store and the report writers.
//!
//! * [`money`]: exact decimal parsing of JSON number text and the project's one rounding rule.
//! * [`thresholds`]: 1099-NEC thresholds by tax year, as data (later years from configuration).
//! * [`classify`]: residency (US / US territory / foreign / unknown) from ISO 3166-1.
//! * [`decision`]: the one form decision per payee and year (1099-NEC, 1042-S candidate or
//!   none, with a reason code) and backup withholding / B-notice risk.
//! * [`tin`]: SSN / ITIN / ATIN / EIN parsing and validation under the IRS's rules.
//! * [`postal`]: US ZIP repair (leading zeros a number lost) and shape check.
//! * [`name_control`]: the IRS name control (first four significant characters).
//! * [`tin_match`]: IRS Publication 2108A bulk TIN Matching request and result records.

pub mod calendar;
pub mod classify;
pub mod decision;
pub mod money;
pub mod name_control;
pub mod payer;
pub mod postal;
pub mod thresholds;
pub mod tin;
pub mod tin_match;

pub use classify::{
    Classification, FormKind, Residency, classify, is_us_or_territory, iso_country, residency,
};
pub use decision::{
    Decision, FormOnFile, FormOverride, FormReason, PayeeFacts, PersonStatus, decide,
};
pub use money::{MONEY_ROUNDING, format_amount, parse_amount, round_cents, to_cents};
pub use thresholds::{Override as ThresholdOverride, ThresholdError, Thresholds};
pub use tin::{
    ParsedTin, PrefixPolicy, Tin, TinCheck, TinForm, TinParseError, TinRules, TinStatus, TinType,
    check_tin, parse_tin, type_from_form, type_from_text,
};
pub use tin_match::{MatchRequest, MatchResult, ResultLineError, ResultRecord};
