//! CSV injection defence. A cell that a spreadsheet would run as a formula (it starts with `=`,
//! `+`, `-`, `@`, a TAB or a CR) gets a leading apostrophe, which spreadsheets show as text.
//! Only text cells go through this: amounts are written by us as plain decimals.

use std::borrow::Cow;

/// Returns the cell, prefixed with `'` when it could be read as a formula.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_neutralised() {
        for c in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+15551234567",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(neutralize(c), format!("'{c}"));
        }
        for c in ["José Núñez", "ACME LLC", "", "1234", "a=b"] {
            assert_eq!(neutralize(c), c);
        }
    }
}
