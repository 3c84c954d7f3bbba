//! Pure rules for US information returns on MassPay payouts.
//!
//! Nothing in this crate does I/O: every function takes values and returns values, so the rules
//! can be tested exhaustively and reused by the CLI, the store and the report writers.
//!
//! * [`money`]: exact decimal parsing of JSON number text and the project's one rounding rule.
//! * [`thresholds`]: 1099-NEC thresholds by tax year, as data (later years from configuration).
//! * [`classify`]: US vs foreign payee, 1099-NEC reportable vs 1042-S candidate.
//! * [`tin`]: SSN / ITIN / ATIN / EIN parsing and validation under the IRS's rules.
//! * [`name_control`]: the IRS name control (first four significant characters).
//! * [`tin_match`]: IRS Publication 2108A bulk TIN Matching request and result records.

pub mod calendar;
pub mod classify;
pub mod money;
pub mod name_control;
pub mod payer;
pub mod postal;
pub mod thresholds;
pub mod tin;
pub mod tin_match;

pub use classify::{Classification, FormKind, Residency, classify, residency};
pub use money::{MONEY_ROUNDING, format_amount, parse_amount, round_cents, to_cents};
pub use thresholds::{ThresholdError, Thresholds};
pub use tin::{
    ParsedTin, PrefixPolicy, Tin, TinCheck, TinForm, TinParseError, TinRules, TinStatus, TinType,
    check_tin, parse_tin,
};
pub use tin_match::{MatchRequest, MatchResult, ResultLineError, ResultRecord};
