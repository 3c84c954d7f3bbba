//! Issue 6: the spreadsheets companies really keep. Fixtures: `tests/sheets/` (made by
//! `tests/sheets/make_sheets.py`, committed).

use masspay_tax_import::{
    FileKind, ImportError, ImportOptions, ImportResult, TaxFormRecord, read_bytes, read_file,
};
use masspay_tax_rules::tin::TinType;
use std::path::PathBuf;

fn sheet(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sheets")
        .join(name)
}

fn opts() -> ImportOptions {
    ImportOptions {
        today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1),
        require_tin_column: true,
        ..ImportOptions::default()
    }
}

fn read(name: &str) -> ImportResult {
    read_file(&sheet(name), &opts()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn err(name: &str) -> ImportError {
    read_file(&sheet(name), &opts()).expect_err(name)
}

fn problems(r: &ImportResult) -> Vec<String> {
    r.problems.iter().map(ToString::to_string).collect()
}

fn rec<'a>(r: &'a ImportResult, token: &str) -> &'a TaxFormRecord {
    r.records
        .iter()
        .find(|x| x.user_token.as_deref() == Some(token))
        .unwrap_or_else(|| panic!("{token} not imported: {:?}", problems(r)))
}

#[test]
fn tin_types_come_from_the_written_form_without_a_type_column() {
    let r = read("no-type-column.csv");
    assert!(r.problems.is_empty(), "{:?}", problems(&r));
    for (token, ty) in [
        ("usr_type_ssn", TinType::Ssn),
        ("usr_type_ein", TinType::Ein),
        ("usr_type_itin", TinType::Itin),
        ("usr_type_bare", TinType::Unknown),
    ] {
        let x = rec(&r, token);
        assert_eq!(x.tin_type, Some(ty), "{token}");
        assert_eq!(x.declared_tin_type, None, "{token}");
    }
}

#[test]
fn ssn_and_ein_boxes_give_the_type() {
    let r = read("ssn-ein-boxes.csv");
    assert_eq!(rec(&r, "usr_box_ssn").tin_type, Some(TinType::Ssn));
    assert_eq!(rec(&r, "usr_box_ein").tin_type, Some(TinType::Ein));
    assert_eq!(rec(&r, "usr_box_ein").tin.as_deref(), Some("840467837"));
    assert_eq!(
        problems(&r),
        vec![
            "ssn-ein-boxes row 4, column EIN (D): both the SSN and the EIN box are filled; a W-9 gives one TIN: keep the one the 1099 must show"
        ]
    );
}

#[test]
fn three_conflicting_rows_are_all_refused_naming_every_row() {
    let r = read("conflicting-tins.csv");
    let reason = "conflicting-tins rows 2, 3 and 4 link to the same payee (same user_token, internal_user_id or email) with different TINs: none of them is imported; keep the one right row";
    assert_eq!(
        problems(&r),
        vec![
            format!("conflicting-tins row 2: {reason}"),
            format!("conflicting-tins row 3: {reason}"),
            format!("conflicting-tins row 4: {reason}"),
        ]
    );
    // The identical duplicate (rows 5 and 6) is one row, with a note.
    let tokens: Vec<_> = r.records.iter().map(|x| x.user_token.clone()).collect();
    assert_eq!(tokens, vec![Some("usr_other".to_string())]);
    assert_eq!(r.records[0].row, 5);
    assert!(
        r.notes.contains(
            &"sheet conflicting-tins row 6: the same form as conflicting-tins row 5; read once"
                .to_string()
        ),
        "{:?}",
        r.notes
    );
    let s = &r.sheets[0];
    assert_eq!((s.rows, s.imported, s.rejected), (4, 1, 3));
}

#[test]
fn numbers_are_restored_only_when_the_format_shows_the_zeros() {
    let r = read("number-formats.xlsx");
    assert_eq!(
        problems(&r),
        vec![
            "W9 row 2, column TIN (C): the TIN cell holds a number of 8 digit(s) in a General (or other) number format, so leading zeros may be lost; a TIN has exactly 9: type it as text, or format the cell 000-00-0000 / 00-0000000"
        ]
    );
    assert_eq!(rec(&r, "usr_fmt_ssn").tin.as_deref(), Some("041234567"));
    assert_eq!(rec(&r, "usr_fmt_ein").tin.as_deref(), Some("012345678"));
    assert_eq!(rec(&r, "usr_fmt_plain9").tin.as_deref(), Some("041234567"));
    assert_eq!(
        rec(&r, "usr_fmt_ssn").warnings[0],
        "TIN (C): the cell holds a number formatted to show 9 digits, which dropped 1 leading zero(s); restored to 9 digits as the format shows them"
    );
    // The same 8 digits in a CSV are refused too.
    let csv = read_bytes(
        b"user_token,Legal Name,TIN\nusr_1,Ann,41234567\n",
        FileKind::Csv,
        "t",
        &opts(),
    )
    .unwrap();
    assert_eq!(csv.records.len(), 0);
    assert!(problems(&csv)[0].contains("TIN has 8 digit(s)"));
}

/// Every header variant the issue names and the usual vendor-tool exports, for every field.
#[test]
fn header_variants() {
    let table: &[(&str, &str)] = &[
        ("Vendor Email", "email"),
        ("Supplier Email", "email"),
        ("Work Email", "email"),
        ("Contact Email", "email"),
        ("E-mail Address", "email"),
        ("EMAIL", "email"),
        ("TIN/SSN", "tin"),
        ("Vendor Tax ID", "tin"),
        ("Federal ID Number", "tin"),
        ("Federal Tax ID", "tin"),
        ("Tax ID Number", "tin"),
        ("Taxpayer Identification Number (TIN)", "tin"),
        ("SSN/EIN", "tin"),
        ("Payee TIN", "tin"),
        ("SSN", "tin_ssn"),
        ("Social Security Number", "tin_ssn"),
        ("EIN", "tin_ein"),
        ("Employer Identification Number", "tin_ein"),
        ("FEIN", "tin_ein"),
        ("user token", "user_token"),
        ("MassPay User Token", "user_token"),
        ("Vendor ID", "internal_user_id"),
        ("Supplier Number", "internal_user_id"),
        ("Vendor Name", "legal_name"),
        ("Supplier Name", "legal_name"),
        ("Name (as shown on your income tax return)", "legal_name"),
        ("DBA", "business_name"),
        ("Business name/disregarded entity name", "business_name"),
        ("Federal tax classification", "entity_type"),
        ("Type of TIN", "tin_type"),
        ("Exempt payee code (if any)", "exempt_payee_code"),
        ("Street Address", "address1"),
        ("Address Line 2", "address2"),
        ("City", "city"),
        ("State/Province", "state"),
        ("ZIP/Postal Code", "zip"),
        ("Country/Region", "country"),
        ("Date Signed", "signature_date"),
    ];
    for (header, field) in table {
        // As written, and shouted with other punctuation: case and punctuation do not matter.
        let shouty = header.to_uppercase().replace(' ', "_");
        for h in [header.to_string(), shouty] {
            // The name and link columns the header row needs, unless the variant is one of them.
            let mut cols = vec![h.clone()];
            if !["email", "user_token", "internal_user_id"].contains(field) {
                cols.push("user_token".into());
            }
            if *field != "legal_name" {
                cols.push("Legal Name".into());
            }
            let quoted: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
            let text = format!(
                "{}\n{}\n",
                quoted.join(","),
                vec!["x"; cols.len()].join(",")
            );
            let r = read_bytes(
                text.as_bytes(),
                FileKind::Csv,
                "t",
                &ImportOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{h}: {e}"));
            let got = r.sheets[0]
                .columns
                .iter()
                .find(|c| c.header == h)
                .map(|c| c.field.name());
            assert_eq!(got, Some(*field), "header {h:?}");
        }
    }
}

#[test]
fn a_w9_sheet_without_a_tin_column_is_refused_with_the_headers_and_the_map() {
    let e = err("no-tin-column.csv");
    assert_eq!(e.exit_code(), 3);
    assert_eq!(
        e.to_string(),
        "sheet no-tin-column: W-9 rows but no TIN column; headers seen: user_token (A), Legal Name (B), Taxpayer Code Thing (C); use --map tin=HEADER to name it (the W-9s are not imported without their TINs)"
    );
    let mut o = opts();
    o.columns = masspay_tax_import::ColumnMap::parse(["tin=Taxpayer Code Thing"]).unwrap();
    let r = read_file(&sheet("no-tin-column.csv"), &o).unwrap();
    assert_eq!(r.records[0].tin_type, Some(TinType::Ssn));
}

#[test]
fn hidden_columns_and_sheets_are_ignored() {
    let r = read("hidden-column.xlsx");
    let x = rec(&r, "usr_hidden_1");
    assert_eq!(x.tin.as_deref(), Some("436253783"));
    assert_eq!(r.records.len(), 1);
    assert!(
        r.notes
            .contains(&"sheet W9: hidden columns ignored: TIN (C)".to_string()),
        "{:?}",
        r.notes
    );
    assert!(
        r.notes
            .contains(&"sheet Old forms: skipped (hidden sheet)".to_string()),
        "{:?}",
        r.notes
    );
    assert_eq!(r.sheets_read(), vec!["W9"]);
}

#[test]
fn two_visible_columns_for_one_field_stop_and_ask_for_map() {
    let e = err("two-tin-columns.csv");
    assert_eq!(e.exit_code(), 3);
    assert_eq!(
        e.to_string(),
        "sheet two-tin-columns: columns TIN (C) and Tax ID (D) all look like tin; say which one with --map tin=HEADER"
    );
    let mut o = opts();
    o.columns = masspay_tax_import::ColumnMap::parse(["tin=Tax ID"]).unwrap();
    let r = read_file(&sheet("two-tin-columns.csv"), &o).unwrap();
    assert_eq!(r.records[0].tin_last4(), Some("3784"));
}

#[test]
fn formula_tins_are_problems_that_say_formula_and_the_cached_kind() {
    let r = read("formula-tin.xlsx");
    assert_eq!(
        problems(&r),
        vec![
            "W9 row 2, column TIN (C): the TIN cell holds a formula (its cached value is empty: the file was saved without computed values); type the TIN as text",
            "W9 row 3, column TIN (C): the TIN cell holds a formula (its cached value is a number); type the TIN as text",
            "W9 row 4, column TIN (C): the TIN cell holds a formula (its cached value is text); type the TIN as text",
        ]
    );
    assert_eq!(r.records.len(), 1);
    assert_eq!(rec(&r, "usr_formula_ok").tin_last4(), Some("3783"));
}

#[test]
fn bad_files_are_named() {
    let cases: &[(&str, &str)] = &[
        (
            "empty.xlsx",
            "the file is empty (0 bytes): export the sheet again",
        ),
        (
            "pdf-renamed.xlsx",
            "not a spreadsheet: the file is a PDF document, not a xlsx file; export the sheet as .xlsx or .csv",
        ),
        (
            "html-renamed.xlsx",
            "not a spreadsheet: the file is an HTML page, not a xlsx file; export the sheet as .xlsx or .csv",
        ),
        (
            "text-renamed.xlsx",
            "not a spreadsheet: the file is plain text (a CSV? rename it to .csv), not a xlsx file; export the sheet as .xlsx or .csv",
        ),
        (
            "password.xlsx",
            "the workbook is password-protected: remove the password (File > Info > Protect Workbook) and import again",
        ),
        (
            "header-only.xlsx",
            "no rows: W9 has a header row but no data rows under it",
        ),
        (
            "header-only.csv",
            "no rows: header-only has a header row but no data rows under it",
        ),
    ];
    for (name, msg) in cases {
        let e = err(name);
        assert_eq!(&e.to_string(), msg, "{name}");
        let want = if name.starts_with("header-only") {
            3
        } else {
            1
        };
        assert_eq!(e.exit_code(), want, "{name}");
        assert!(!e.to_string().contains("EOCD"), "{name}");
    }
    let e = err("damaged.xlsx");
    assert!(matches!(e, ImportError::Damaged { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with("damaged workbook: the xlsx file cannot be read (sheet W9: "),
        "{text}"
    );
    assert!(!text.contains("has no sheet"), "{text}");
    assert_eq!(e.exit_code(), 1);
}

#[test]
fn an_absurd_used_range_is_refused_before_memory_runs_out() {
    let e = err("absurd-range.xlsx");
    assert_eq!(
        e.to_string(),
        "sheet W9: the used range A1:XFD1048576 spans 17179869184 cells (more than 20000000); delete the stray cells outside the table (Ctrl+End shows the last one) and save again"
    );
}

#[test]
fn smaller_points() {
    let r = read("smaller-points.csv");
    // The footer is one note, not problems.
    assert_eq!(
        problems(&r),
        vec![
            "smaller-points row 4, column TIN (C): TIN has 8 digit(s); a TIN has exactly 9 (a spreadsheet may have dropped a leading zero; check the source)"
        ]
    );
    let footer: Vec<_> = r.notes.iter().filter(|n| n.contains("Total")).collect();
    assert_eq!(
        footer,
        vec![
            "sheet smaller-points row 6: \"Total vendors: 12\" looks like a total or footer line; skipped"
        ]
    );
    // `5 - A corporation` is code 5.
    assert_eq!(
        rec(&r, "usr_small_1").exempt_payee_code.as_deref(),
        Some("5")
    );
    // A bad signature date is a warning; the good TIN imports.
    let d = rec(&r, "usr_small_2");
    assert_eq!(d.tin_last4(), Some("3783"));
    assert_eq!(d.signature_date, None);
    assert_eq!(
        d.warnings,
        vec![
            "Signature Date (E): not a date that can be read; write YYYY-MM-DD or MM/DD/YYYY (left empty)"
        ]
    );
    assert_eq!(r.records.len(), 2);
}

#[test]
fn an_llc_w9_keeps_its_business_name_and_classification() {
    let r = read("llc-w9.csv");
    let x = rec(&r, "usr_llc");
    assert_eq!(x.business_name.as_deref(), Some("Acme Widgets LLC"));
    assert_eq!(
        x.entity_type.as_ref().map(|e| e.code()),
        Some("llc_s".into())
    );
    assert_eq!(x.tin_type, Some(TinType::Ein));
    assert!(x.warnings.is_empty(), "{:?}", x.warnings);
}

/// No TIN, foreign TIN or date of birth in any message of the new cases, nor in `Debug`.
#[test]
fn new_messages_leak_no_secret() {
    let secrets = [
        "436253783",
        "436-25-3783",
        "436-25-3784",
        "436-25-3785",
        "41234567",
        "12345678",
        "840467837",
        "84-0467837",
        "912711234",
        "111-22-3333",
        "222-33-4444",
    ];
    let mut texts = Vec::new();
    for name in [
        "no-type-column.csv",
        "ssn-ein-boxes.csv",
        "conflicting-tins.csv",
        "number-formats.xlsx",
        "hidden-column.xlsx",
        "formula-tin.xlsx",
        "smaller-points.csv",
        "llc-w9.csv",
    ] {
        let r = read(name);
        texts.extend(problems(&r));
        texts.extend(r.notes.clone());
        texts.extend(r.records.iter().flat_map(|x| x.warnings.clone()));
        texts.push(format!("{r:?}"));
    }
    for name in [
        "two-tin-columns.csv",
        "no-tin-column.csv",
        "absurd-range.xlsx",
        "damaged.xlsx",
        "text-renamed.xlsx",
    ] {
        let e = err(name);
        texts.push(e.to_string());
        texts.push(format!("{e:?}"));
    }
    for t in &texts {
        for s in secrets {
            assert!(!t.contains(s), "{s} in {t}");
        }
    }
}
