//! Rows of one file that claim one payee with different TINs: all of them are refused.

use crate::{ImportResult, RowProblem, TaxFormRecord};

/// Placeholder reason pushed while a sheet is read; replaced by [`resolve`].
pub(crate) const MARK: &str = "\u{1}conflicting TIN";

/// Whether two records are the same form (provenance and warnings aside).
pub(crate) fn same_form(a: &TaxFormRecord, b: &TaxFormRecord) -> bool {
    let strip = |r: &TaxFormRecord| TaxFormRecord {
        sheet: String::new(),
        row: 0,
        warnings: Vec::new(),
        ..r.clone()
    };
    strip(a) == strip(b)
}

/// The words naming every row of a conflict group: `"Forms rows 4, 9 and 12"`.
pub fn rows_phrase(rows: &[(String, usize)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let sheet = &rows[i].0;
        let mut nums = Vec::new();
        while i < rows.len() && &rows[i].0 == sheet {
            nums.push(rows[i].1.to_string());
            i += 1;
        }
        let list = match nums.len() {
            1 => format!("row {}", nums[0]),
            _ => {
                let last = nums.pop().unwrap_or_default();
                format!("rows {} and {last}", nums.join(", "))
            }
        };
        parts.push(format!("{sheet} {list}"));
    }
    parts.join("; ")
}

/// The reason given on each row of a conflict group.
pub fn conflict_reason(rows: &[(String, usize)]) -> String {
    format!(
        "{} link to the same payee (same user_token, internal_user_id or email) with \
         different TINs: none of them is imported; keep the one right row",
        rows_phrase(rows)
    )
}

pub(crate) fn resolve(result: &mut ImportResult, groups: &[Vec<(String, usize)>]) {
    for group in groups {
        let mut rows = group.clone();
        rows.sort();
        rows.dedup();
        let reason = conflict_reason(&rows);
        for (sheet, row) in &rows {
            let before = result.records.len();
            result
                .records
                .retain(|r| !(&r.sheet == sheet && r.row == *row));
            if result.records.len() < before
                && let Some(s) = result.sheets.iter_mut().find(|s| &s.name == sheet)
            {
                s.imported = s.imported.saturating_sub(1);
                s.rejected += 1;
            }
            result
                .problems
                .retain(|p| !(&p.sheet == sheet && p.row == *row && p.reason == MARK));
            result.problems.push(RowProblem {
                sheet: sheet.clone(),
                row: *row,
                column: None,
                column_letter: None,
                field: None,
                reason: reason.clone(),
            });
        }
    }
    // A mark left without a group cannot happen; never show it.
    result.problems.retain(|p| p.reason != MARK);
}
