//! The 1099-NEC PDF worksheet: layout text (snapshots), pagination, determinism, and, when
//! poppler's `pdftotext` is installed, what a PDF reader actually extracts.

use masspay_tax_forms::nec::NecRow;
use masspay_tax_forms::pdf::{
    PdfMeta, ROWS_PER_PAGE, file_name, nec_pdf, nec_pdf_text, pdf_text, write_nec_pdf,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::process::Command;

fn meta(payees: usize, total: &str) -> PdfMeta {
    PdfMeta {
        title: "1099-NEC worksheet, tax year 2025".into(),
        subtitle: format!(
            "threshold $600.00 · {payees} payees · box 1 total ${total} · TINs masked"
        ),
        generated: "2026-01-15".into(),
    }
}

fn row(token: &str, name: &str, box1: Decimal) -> NecRow {
    NecRow {
        user_token: token.into(),
        name: name.into(),
        business_name: "".into(),
        tin_type: "ssn".into(),
        tin: "***-**-6789".into(),
        tin_status: "valid".into(),
        box1,
        box4: dec!(0),
        address1: "1 Main St".into(),
        address2: "".into(),
        city: "Boston".into(),
        state: "MA".into(),
        zip: "02108".into(),
        country: "USA".into(),
        email: "a@x.test".into(),
        tin_source: "api".into(),
        name_control: "".into(),
        flags: "".into(),
    }
}

fn sample() -> Vec<NecRow> {
    let formula = row("usr_0001", "=HYPERLINK(\"http://evil\",\"x\")", dec!(600));
    let mut accents = row("usr_0002", "José Núñez-Müller", dec!(1234.5));
    accents.city = "Åre".into();
    accents.country = "SE".into();
    let mut polish = row("usr_0003", "Łukasz Żółć\tKowalski", dec!(99999.994));
    polish.tin_status = "unverified".into();
    polish.flags = "zip_repaired;ambiguous_tin_type".into();
    let mut cjk = row("usr_0004", "王芳 (Wang Fang)", dec!(15000));
    cjk.tin_type = "ein".into();
    cjk.tin = "**-***6789".into();
    cjk.box4 = dec!(3600);
    cjk.flags = "backup_withholding".into();
    let mut long = row(
        "usr_9f3c2a1e-7b4d-4c8e-a1f0-123456789abc",
        "Maximilian Alexander Featherstonehaugh-Worthington III",
        dec!(1250000),
    );
    long.address1 = "12345 North Very Long Boulevard Name Extension".into();
    long.address2 = "Suite 1000, Building C\r\nRear entrance".into();
    long.city = "San Francisco".into();
    long.state = "CA".into();
    long.zip = "94105-1234".into();
    let mut business = row("usr_0006", "Jane Smith", dec!(48250.75));
    business.business_name = "Smith Design Studio LLC".into();
    business.tin_type = "ein".into();
    business.tin = "**-***4321".into();
    business.tin_source = "w9".into();
    business.flags = "business".into();
    vec![formula, accents, polish, cjk, long, business]
}

#[test]
fn layout_text_snapshot() {
    let rows = sample();
    let pages = nec_pdf_text(&rows, &meta(rows.len(), "1,415,085.24"));
    insta::assert_yaml_snapshot!("nec_pdf_text", pages);
}

#[test]
fn zero_rows_say_so() {
    let pages = nec_pdf_text(&[], &meta(0, "0.00"));
    insta::assert_yaml_snapshot!("nec_pdf_text_empty", pages);
    assert_eq!(pages.len(), 1);
    assert!(pages[0].iter().any(|l| l == "no reportable payees"));
    let bytes = nec_pdf(&[], &meta(0, "0.00")).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
}

fn hundred() -> Vec<NecRow> {
    (0..100)
        .map(|i| {
            row(
                &format!("usr_{i:04}"),
                &format!("Payee {i}"),
                Decimal::new(60_000 + i, 2),
            )
        })
        .collect()
}

#[test]
fn hundred_rows_paginate_with_totals_on_the_last_page() {
    let rows = hundred();
    // 100 × 600.00 + (0 + 1 + … + 99) cents = 60,000 + 49.50
    let pages = nec_pdf_text(&rows, &meta(100, "60,049.50"));
    assert_eq!(pages.len(), 100usize.div_ceil(ROWS_PER_PAGE));
    assert_eq!(pages.len(), 3);
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page[0], "1099-NEC worksheet, tax year 2025");
        assert!(page[2].starts_with("user_token | name / business name | TIN type"));
        let footer = page.last().unwrap();
        assert_eq!(
            footer,
            &format!("generated 2026-01-15 | page {} of 3", i + 1)
        );
        let rows_here = page.iter().filter(|l| l.starts_with("usr_")).count();
        assert_eq!(
            rows_here,
            if i < 2 {
                ROWS_PER_PAGE
            } else {
                100 - 2 * ROWS_PER_PAGE
            }
        );
        let totals = page.iter().filter(|l| l.starts_with("total")).count();
        assert_eq!(totals, usize::from(i == 2), "page {}", i + 1);
    }
    assert_eq!(
        pages[2][pages[2].len() - 2],
        "total · 100 payees | box 1 60,049.50 | box 4 0.00"
    );
    let bytes = nec_pdf(&rows, &meta(100, "60,049.50")).unwrap();
    if let Some(text) = pdftotext(&bytes) {
        assert!(text.contains("page 3 of 3"), "{text}");
        assert!(text.contains("60,049.50"), "{text}");
        assert!(text.contains("usr_0099"), "{text}");
    }
}

#[test]
fn same_input_same_bytes() {
    let rows = sample();
    let m = meta(rows.len(), "1,415,085.24");
    let a = nec_pdf(&rows, &m).unwrap();
    let b = nec_pdf(&rows, &m).unwrap();
    assert!(a == b, "two renders of the same rows differ");
    let c = nec_pdf(&hundred(), &m).unwrap();
    let d = nec_pdf(&hundred(), &m).unwrap();
    assert!(c == d, "two renders of 100 rows differ");
    assert!(a != c);
}

#[test]
fn pdf_framing() {
    let rows = sample();
    let bytes = nec_pdf(&rows, &meta(rows.len(), "1,415,085.24")).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .unwrap();
    assert!(bytes[..=end].ends_with(b"%%EOF"));
}

#[test]
fn written_atomically_under_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let rows = sample();
    let m = meta(rows.len(), "1,415,085.24");
    let path = write_nec_pdf(dir.path(), 2025, &rows, &m).unwrap();
    assert_eq!(path, dir.path().join("1099-NEC-2025.pdf"));
    assert_eq!(file_name(2025), "1099-NEC-2025.pdf");
    assert_eq!(std::fs::read(&path).unwrap(), nec_pdf(&rows, &m).unwrap());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn text_encoding() {
    assert_eq!(pdf_text("José Núñez Müller, Åre"), "José Núñez Müller, Åre");
    assert_eq!(pdf_text("Łukasz Żółć"), "Lukasz Zólc");
    assert_eq!(pdf_text("Nguyễn Thị Ánh"), "Nguyen Thi Ánh");
    assert_eq!(pdf_text("王芳"), "??");
    assert_eq!(pdf_text("a\tb\r\nc  d\u{0}"), "a b c d");
    assert_eq!(pdf_text("Jose\u{301} \u{200B}x"), "Jose x");
    assert_eq!(pdf_text("Škoda – 5 €"), "Škoda – 5 €");
    assert_eq!(pdf_text("=SUM(A1)"), "=SUM(A1)");
}

/// Runs poppler's `pdftotext -layout` on the bytes, or `None` if it is not installed.
fn pdftotext(bytes: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("w.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&pdf)
        .arg("-")
        .output()
        .ok()?;
    assert!(out.status.success(), "pdftotext failed: {out:?}");
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn pdftotext_sees_title_masked_tin_and_total() {
    let rows = sample();
    let bytes = nec_pdf(&rows, &meta(rows.len(), "1,415,085.24")).unwrap();
    let Some(text) = pdftotext(&bytes) else {
        eprintln!("pdftotext not installed: skipping");
        return;
    };
    for expected in [
        "1099-NEC worksheet, tax year 2025",
        "***-**-6789",
        "**-***4321",
        "1,415,085.24",
        "total · 6 payees",
        "José Núñez-Müller",
        "Åre",
        "Lukasz Zólc Kowalski",
        "?? (Wang Fang)",
        "=HYPERLINK(\"http://evil\",\"x\")",
        "page 1 of 1",
        "generated 2026-01-15",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}
