//! Row rules, header detection and `--map`, on small CSV texts; and random input never panics.

use masspay_tax_import::{
    ColumnMap, EntityType, FileKind, FormType, ImportError, ImportOptions, ImportResult,
    read_bytes, read_file,
};
use masspay_tax_rules::tin::TinType;
use rand::{Rng, SeedableRng, rngs::StdRng};

fn opts() -> ImportOptions {
    ImportOptions {
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23),
        ..ImportOptions::default()
    }
}

fn csv_with(text: &str, o: &ImportOptions) -> Result<ImportResult, ImportError> {
    read_bytes(text.as_bytes(), FileKind::Csv, "t", o)
}

fn csv(text: &str) -> ImportResult {
    csv_with(text, &opts()).unwrap_or_else(|e| panic!("{e}"))
}

fn problems(r: &ImportResult) -> Vec<String> {
    r.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn header_variants_and_first_last_name() {
    let r = csv("Report for Q3,,,,\n\
                 ,,,,\n\
                 Internal User ID;;;;\n\
                 internal_user_id,First Name,Last Name,SSN/EIN,TIN Type\n\
                 c-1,Ada,Lovelace,123-45-6789,ssn\n");
    assert_eq!(r.header_row("t"), Some(4), "{:?}", r.notes);
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    let rec = &r.records[0];
    assert_eq!(rec.row, 5);
    assert_eq!(rec.internal_user_id.as_deref(), Some("c-1"));
    assert_eq!(rec.legal_name, "Ada Lovelace");
    assert_eq!(rec.tin.as_deref(), Some("123456789"));
}

#[test]
fn semicolons_bom_and_cp1252() {
    let mut bytes = b"\xEF\xBB\xBFuser_token;Name;TIN\nusr_1;Zo\xC3\xAB;123-45-6789\n".to_vec();
    let r = read_bytes(&bytes, FileKind::Csv, "t", &opts()).unwrap();
    assert_eq!(r.records[0].legal_name, "Zoë");
    assert_eq!(r.records[0].user_token.as_deref(), Some("usr_1"));
    bytes = b"user_token,Name\nusr_1,Zo\xEB\n".to_vec();
    let r = read_bytes(&bytes, FileKind::Csv, "t", &opts()).unwrap();
    assert_eq!(r.records[0].legal_name, "Zoë");
    assert!(r.notes.iter().any(|n| n.contains("Windows-1252")));
}

#[test]
fn rows_with_quoted_line_breaks_keep_spreadsheet_numbers() {
    let r = csv("user_token,Name,Address\n\
                 usr_1,A,\"1 Main St\nApt 2\"\n\
                 \n\
                 usr_2,,x\n");
    assert_eq!(r.records[0].address1.as_deref(), Some("1 Main St Apt 2"));
    // header row 1, usr_1 row 2 (one cell spans two lines), blank row 3, usr_2 row 4
    assert_eq!(
        problems(&r),
        vec![
            "t row 4, column Name (B): no legal name (the name on the income tax return is required)"
        ]
    );
}

#[test]
fn map_overrides() {
    let text = "Account,Payee,Taxpayer ID Number,Tax ID\nusr_1,Ada,123-45-6789,999\n";
    // "Account" and "Payee" are not known headers; "Tax ID" would be taken for the TIN.
    let e = csv_with(text, &opts()).unwrap_err();
    assert!(matches!(e, ImportError::NoHeaderRow { .. }));
    assert!(e.to_string().contains("--map FIELD=HEADER"), "{e}");
    let o = ImportOptions {
        columns: ColumnMap::parse(["user_token=Account", "name=payee", "TIN=Taxpayer ID Number"])
            .unwrap(),
        ..opts()
    };
    let r = csv_with(text, &o).unwrap();
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    assert_eq!(r.records[0].tin.as_deref(), Some("123456789"));
    assert_eq!(r.records[0].legal_name, "Ada");
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("columns not used: Tax ID (D)")),
        "{:?}",
        r.notes
    );
}

#[test]
fn competing_columns_use_the_more_specific_header() {
    let r = csv("user_token,Name,Date,Signature Date\nusr_1,A,2020-01-01,2026-02-03\n");
    assert_eq!(
        r.records[0].signature_date,
        chrono::NaiveDate::from_ymd_opt(2026, 2, 3)
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("column Date (C) also looks like signature_date")),
        "{:?}",
        r.notes
    );
}

#[test]
fn cell_rules() {
    let r = csv(
        "user_token,email,Form,Name,Entity Type,TIN,TIN Type,Exempt payee code,ZIP,Country,Signature Date,DOB,Country of residence,Treaty Country,Treaty Article,Treaty Rate\n\
         usr_a,not-an-email,W-9,A,Individual,,,,,,,,,,,\n\
         usr_b,,1099,B,foo,,,14,,,,,,,,\n\
         usr_c,,W-9,C,LLC,12-3456789,EIN,,2108,USA,1/15/26,,,,,\n\
         usr_d,,,D,,,,,,,,1990-01-01,Germany,,,\n\
         usr_e,,W-8BEN,E,,,,,,,2099-01-01,2099-01-01,Germany,Germany,7,0%\n\
         usr_f,,W-9,F,C corp,123-45-6789,SSN,,,Canada,,,,,,\n\
         usr_g,,W-9,G,,Applied For,,,,,,,,,,\n\
         usr_h,,W-9,H,,123456789,,,,,,,,,,\n\
         usr_i,,W-8BEN,I,,,,,,,,1985-05-05,USA,,,\n\
         usr_j,,W-9,-2+3,,000-12-3456,,,,,,,,,,\n\
         usr j,,W-9,J,,,,,,,,,,,,\n\
         usr_k,,W-9,K,,,,,,,,,,,,\n",
    );
    assert_eq!(
        problems(&r),
        vec![
            "t row 2, column email (B): not an email address (expected name@domain.tld)",
            "t row 3, column Form (C): \"1099\" is not a W-9 or W-8 form name (expected W-9, W-8BEN, W-8BEN-E, W-8ECI, W-8EXP or W-8IMY)",
            "t row 3, column Entity Type (E): \"foo\" is not a federal tax classification (expected individual/sole proprietor, C corporation, S corporation, partnership, trust/estate, LLC (C, S or P) or other)",
            "t row 3, column Exempt payee code (H): the exempt payee code must be a number from 1 to 13 (W-9 line 4)",
            "t row 5, column Form (C): no form type, but W-8 fields are filled (date_of_birth, country_of_residence): say which form (W-8BEN, W-8BEN-E, ...)",
            "t row 6, column DOB (L): the date of birth is in the future",
            "t row 11, column Name (D): looks like a spreadsheet formula (starts with '-'); a name must be plain text",
            "t row 11, column TIN (F): SSN area (digits 1-3) 000 is never issued",
            "t row 12, column user_token (A): the user token contains blanks",
        ]
    );
    let get = |t: &str| {
        r.records
            .iter()
            .find(|x| x.user_token.as_deref() == Some(t))
            .unwrap_or_else(|| panic!("{t} missing: {:?}", problems(&r)))
    };
    let f = get("usr_f");
    assert_eq!(f.entity_type, Some(EntityType::CCorporation));
    assert_eq!(
        f.warnings,
        vec![
            "TIN (F): the classification is c_corporation but the TIN is an individual number (SSN); an entity normally has an EIN",
            "Country (J): a W-9 with a non-US address country (\"Canada\"); a W-9 is for US persons: check whether a W-8 is needed",
        ]
    );
    let g = get("usr_g");
    assert_eq!(g.tin, None);
    assert_eq!(
        g.warnings,
        vec!["TIN (F): TIN \"Applied For\" on the W-9: no number issued yet"]
    );
    let h = get("usr_h");
    assert_eq!(h.tin_type, Some(TinType::Unknown));
    assert!(
        h.warnings
            .iter()
            .any(|w| w.starts_with("TIN (F): ") && w.contains("would be valid as: SSN, EIN")),
        "{:?}",
        h.warnings
    );
    let i = get("usr_i");
    assert_eq!(i.form_type, FormType::W8Ben);
    assert_eq!(
        i.warnings,
        vec![
            "Country of residence (M): a W-8 with the United States as country of residence: a US person files a W-9"
        ]
    );
    let k = get("usr_k");
    assert_eq!(k.warnings, vec!["TIN (F): a W-9 without a TIN"]);
    assert!(
        r.records
            .iter()
            .all(|x| x.user_token.as_deref() != Some("usr_e"))
    );

    // LLC without its class, ZIP as text that lost a zero (CSV) are warnings only; the bad
    // date still rejected usr_c.
    let r = csv(
        "user_token,Name,Entity Type,ZIP,Treaty Country,Treaty Article,Treaty Rate,Form\n\
         usr_c,C,LLC,2108,,,,\n\
         usr_e,E,,,Germany,7,0%,W-8BEN-E\n",
    );
    assert!(problems(&r).is_empty(), "{:?}", problems(&r));
    assert_eq!(r.records[0].entity_type, Some(EntityType::Llc(None)));
    assert_eq!(r.records[0].zip.as_deref(), Some("02108"));
    assert_eq!(
        r.records[0].warnings,
        vec![
            "Entity Type (C): LLC without its tax classification (C, S or P)",
            "ZIP (D): the ZIP code has 4 digits; a leading zero was probably lost: restored to 02108",
        ]
    );
    assert_eq!(
        r.records[1].treaty_claim.as_deref(),
        Some("country: Germany; article: 7; rate: 0%")
    );
    assert_eq!(r.records[1].form_type, FormType::W8BenE);
}

#[test]
fn duplicates_across_link_keys() {
    let r = csv("user_token,email,internal_user_id,Name\n\
                 usr_1,A@Example.test,c1,A\n\
                 usr_2,a@example.TEST,c2,B\n\
                 usr_3,c@example.test,c1,C\n");
    assert_eq!(
        problems(&r),
        vec![
            "t row 3, column email (B): duplicate email: already on t row 2",
            "t row 4, column internal_user_id (C): duplicate internal_user_id: already on t row 2",
        ]
    );
}

#[test]
fn repeated_header_and_blank_rows() {
    let r = csv("user_token,Name\nusr_1,A\n,\nuser_token,Name\nusr_2,B\n");
    assert_eq!(r.records.len(), 2);
    assert_eq!(r.records[1].row, 5);
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("row 4: repeats the header"))
    );
}

#[test]
fn empty_and_headerless_files() {
    for text in ["", "\n\n", "just,some,words\n1,2,3\n"] {
        let e = csv_with(text, &opts()).unwrap_err();
        assert!(matches!(e, ImportError::NoHeaderRow { .. }), "{e}");
    }
}

#[test]
fn fractional_and_long_numbers_in_the_tin_column() {
    // Only workbooks have number cells; the rules are exercised in the xlsx fixture. Here: text
    // that is too long is malformed, and a lone letter is reported without echoing digits.
    let r = csv("user_token,Name,TIN\nusr_1,A,1234567890\nusr_2,B,12A-45-6789\n");
    assert_eq!(
        problems(&r),
        vec![
            "t row 2, column TIN (C): TIN has 10 digit(s); a TIN has exactly 9",
            "t row 3, column TIN (C): TIN contains 'A' at character 3; only digits and the separators '-', '.' and blank are allowed",
        ]
    );
}

/// Random bytes and damaged fixtures give an error (or a result), never a panic.
#[test]
fn random_input_never_panics() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let dir = tempfile::tempdir().unwrap();
    let fixtures =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let originals: Vec<(String, Vec<u8>)> = ["xlsx", "ods", "xls", "csv"]
        .iter()
        .map(|e| {
            (
                e.to_string(),
                std::fs::read(fixtures.join(format!("w9-mistakes.{e}"))).unwrap(),
            )
        })
        .collect();
    for i in 0..60 {
        for ext in ["csv", "xlsx", "xls", "ods", "xlsb"] {
            let len = rng.random_range(0..4096);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let p = dir.path().join(format!("r{i}.{ext}"));
            std::fs::write(&p, &bytes).unwrap();
            let r = read_file(&p, &ImportOptions::default());
            assert!(r.is_err(), "{ext}: random bytes read as a sheet");
        }
        // damaged real files: flip a few bytes
        for (ext, orig) in &originals {
            let mut bytes = orig.clone();
            for _ in 0..rng.random_range(1..8) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] = rng.random();
            }
            if rng.random_bool(0.3) {
                bytes.truncate(rng.random_range(0..bytes.len()));
            }
            let p = dir.path().join(format!("d{i}.{ext}"));
            std::fs::write(&p, &bytes).unwrap();
            let _ = read_file(&p, &ImportOptions::default());
        }
    }
}
