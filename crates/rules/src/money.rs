//! Money: `Decimal` from the JSON number's text onward, never `f64`.
//!
//! **Rounding rule (the only one in the project):** amounts are rounded to cents *half away from
//! zero* (`599.995 → 600.00`, `-0.005 → -0.01`) before any comparison with a threshold and before
//! they are written to a worksheet. rust_decimal's plain `round_dp` is banker's rounding
//! (`0.125 → 0.12`), which is why the strategy is named here and used everywhere.

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// The project's rounding strategy for money: half away from zero ("half-up" for positives).
pub const MONEY_ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// Why an amount's text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount is empty")]
    Empty,
    #[error("amount {0:?} is not a number")]
    NotANumber(String),
    #[error("amount {0:?} is out of range")]
    OutOfRange(String),
}

/// Parses a JSON number's text (or a plain decimal string) exactly into a `Decimal`.
///
/// Accepts `1500`, `600.00`, `-12.5`, `599.9999999999999` and exponent forms such as `6.0E2`
/// or `1e-2`. Digits beyond `Decimal`'s 28 significant digits are rounded (never truncated
/// through a binary float).
pub fn parse_amount(text: &str) -> Result<Decimal, AmountError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(AmountError::Empty);
    }
    let bad = || AmountError::NotANumber(truncate_for_message(t));
    let valid_chars = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if !valid_chars || !t.bytes().any(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if t.contains(['e', 'E']) {
        return Decimal::from_scientific(t).map_err(|_| bad());
    }
    match Decimal::from_str(t) {
        Ok(d) => Ok(d),
        // More than 28 fractional digits: round rather than fail.
        Err(_) => Decimal::from_str_exact(t)
            .or_else(|_| round_long_decimal(t).ok_or_else(bad))
            .map_err(|_| AmountError::OutOfRange(truncate_for_message(t))),
    }
}

fn round_long_decimal(t: &str) -> Option<Decimal> {
    let (int, frac) = t.split_once('.')?;
    let keep = frac.len().min(20);
    Decimal::from_str(&format!("{int}.{}", &frac[..keep])).ok()
}

fn truncate_for_message(t: &str) -> String {
    t.chars().take(40).collect()
}

/// Rounds to cents under [`MONEY_ROUNDING`] and fixes the scale at 2 (`600` → `600.00`).
pub fn round_cents(amount: Decimal) -> Decimal {
    let mut d = amount.round_dp_with_strategy(2, MONEY_ROUNDING);
    d.rescale(2);
    d
}

/// The amount in integer cents (after [`round_cents`]); `None` if it does not fit an `i64`.
pub fn to_cents(amount: Decimal) -> Option<i64> {
    let cents = round_cents(amount) * Decimal::ONE_HUNDRED;
    i64::try_from(cents.trunc()).ok()
}

/// A plain decimal with exactly two places, as written to worksheets (`1234.50`).
pub fn format_amount(amount: Decimal) -> String {
    round_cents(amount).to_string()
}

/// Converts integer cents back to a two-place `Decimal`.
pub fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn parses_json_number_text_exactly() {
        assert_eq!(parse_amount("600").unwrap(), dec!(600));
        assert_eq!(parse_amount("600.00").unwrap(), dec!(600.00));
        assert_eq!(
            parse_amount("1234.5600000000002").unwrap(),
            dec!(1234.5600000000002)
        );
        assert_eq!(parse_amount("6.0E2").unwrap(), dec!(600));
        assert_eq!(parse_amount("1e-2").unwrap(), dec!(0.01));
        assert_eq!(parse_amount("-12.5").unwrap(), dec!(-12.5));
        assert_eq!(
            parse_amount("12345678901234567.89").unwrap(),
            dec!(12345678901234567.89),
            "no trip through f64"
        );
    }

    #[test]
    fn rejects_non_numbers() {
        assert_eq!(parse_amount(""), Err(AmountError::Empty));
        assert!(matches!(
            parse_amount("abc"),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_amount("--"),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_amount("NaN"),
            Err(AmountError::NotANumber(_))
        ));
    }

    #[test]
    fn rounding_is_half_away_from_zero_not_bankers() {
        assert_eq!(round_cents(dec!(0.125)), dec!(0.13));
        assert_eq!(round_cents(dec!(2.345)), dec!(2.35));
        assert_eq!(round_cents(dec!(-2.345)), dec!(-2.35));
        assert_eq!(round_cents(dec!(599.995)), dec!(600.00));
        assert_eq!(round_cents(dec!(599.994999)), dec!(599.99));
        assert_eq!(round_cents(dec!(599.9999999999999)), dec!(600.00));
        assert_eq!(round_cents(dec!(600.0000000000001)), dec!(600.00));
    }

    #[test]
    fn formats_two_places() {
        assert_eq!(format_amount(dec!(600)), "600.00");
        assert_eq!(format_amount(dec!(1234.5)), "1234.50");
        assert_eq!(format_amount(dec!(0)), "0.00");
    }

    #[test]
    fn cents_round_trip() {
        assert_eq!(to_cents(dec!(600.005)), Some(60001));
        assert_eq!(from_cents(60001), dec!(600.01));
        assert_eq!(to_cents(dec!(-0.005)), Some(-1));
    }
}
