//! US ZIP repair. MassPay 1.0.0 types `postal_code` as a JSON number, so `02108` arrives as
//! `2108` and `02108-1234` (as a number, `21081234`) loses its zero and its dash. For US payees a
//! number with 3-4 digits is padded back to 5, and one with 6-8 digits back to ZIP+4 (9 digits);
//! the repair is always reported, never silent. Text codes are kept as sent.

/// The repaired code and whether it was changed.
pub fn repair_us_zip(code: &str, was_number: bool) -> (String, bool) {
    let t = code.trim();
    if !was_number || !t.bytes().all(|b| b.is_ascii_digit()) {
        return (t.to_string(), false);
    }
    match t.len() {
        3 | 4 => (format!("{t:0>5}"), true),
        5 => (t.to_string(), false),
        6..=8 => {
            let nine = format!("{t:0>9}");
            (format!("{}-{}", &nine[..5], &nine[5..]), true)
        }
        9 => (format!("{}-{}", &t[..5], &t[5..]), true),
        _ => (t.to_string(), false),
    }
}

/// Whether a US ZIP is well formed (`12345` or `12345-6789`).
pub fn is_valid_us_zip(code: &str) -> bool {
    let b = code.as_bytes();
    match b.len() {
        5 => b.iter().all(u8::is_ascii_digit),
        10 => b[5] == b'-' && b[..5].iter().chain(&b[6..]).all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_numbers_that_lost_leading_zeros() {
        assert_eq!(repair_us_zip("2108", true), ("02108".into(), true));
        assert_eq!(repair_us_zip("501", true), ("00501".into(), true));
        assert_eq!(repair_us_zip("90405", true), ("90405".into(), false));
        assert_eq!(repair_us_zip("21081234", true), ("02108-1234".into(), true));
        assert_eq!(
            repair_us_zip("904051234", true),
            ("90405-1234".into(), true)
        );
        assert_eq!(
            repair_us_zip("2108", false),
            ("2108".into(), false),
            "text is kept as sent"
        );
        assert_eq!(
            repair_us_zip("02108-1234", false),
            ("02108-1234".into(), false)
        );
    }

    #[test]
    fn zip_shapes() {
        assert!(is_valid_us_zip("02108"));
        assert!(is_valid_us_zip("02108-1234"));
        assert!(!is_valid_us_zip("2108"));
        assert!(!is_valid_us_zip("02108 1234"));
    }
}
