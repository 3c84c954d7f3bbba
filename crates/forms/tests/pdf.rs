//! The year-end packet (1099-NEC and 1042-S, one packet code): pagination with "page N of M",
//! totals per page, carried forward and in full, an empty worksheet, determinism, framing,
//! atomic writes, the layout model (snapshots), and what a PDF reader extracts (lopdf; and
//! poppler's `pdftotext` when installed). These replace the tests of the old built-in-font
//! worksheet renderer (`pdf.rs`), which is gone: every PDF now comes from `render`.

use masspay_tax_forms::doc::{Document, money};
use masspay_tax_forms::f1042s::F1042sRow;
use masspay_tax_forms::fonts::FontSet;
use masspay_tax_forms::nec::NecRow;
use masspay_tax_forms::packet::{
    ExceptionRow, Exceptions, PacketInfo, WorksheetRow, packet_document, write_packet,
};
use masspay_tax_forms::render::render;
use masspay_tax_forms::template::{Kind, Layout};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::process::Command;

fn info(form: &str, sandbox: bool) -> PacketInfo {
    PacketInfo {
        form: form.into(),
        tax_year: 2025,
        payer: None,
        rules: vec!["threshold $600.00".into()],
        counts: vec![],
        totals: vec![],
        sync: vec!["sync run #7".into()],
        generated: "2026-01-15 10:00 UTC".into(),
        sandbox,
    }
}

fn nec_row(token: &str, name: &str, box1: Decimal) -> NecRow {
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
    let formula = nec_row("usr_0001", "=HYPERLINK(\"http://evil\",\"x\")", dec!(600));
    let mut accents = nec_row("usr_0002", "José Núñez-Müller", dec!(1234.5));
    accents.city = "Åre".into();
    accents.country = "SE".into();
    let mut polish = nec_row("usr_0003", "Łukasz Żółć\tKowalski", dec!(99999.994));
    polish.tin_status = "unverified".into();
    polish.flags = "zip_repaired;ambiguous_tin_type".into();
    let mut business = nec_row("usr_0006", "Jane Smith", dec!(48250.75));
    business.business_name = "Smith Design Studio LLC".into();
    business.tin_type = "ein".into();
    business.tin = "**-***4321".into();
    vec![formula, accents, polish, business]
}

fn nec_packet(rows: &[NecRow]) -> Document {
    let ws: Vec<WorksheetRow> = rows.iter().map(WorksheetRow::from_nec).collect();
    packet_document(
        &info("1099-NEC", false),
        &Exceptions::from_nec_rows(rows, None),
        &ws,
        &Layout::embedded(Kind::Packet),
        &FontSet::shipped(),
    )
    .0
}

fn extract(bytes: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    doc.get_pages()
        .keys()
        .map(|p| {
            doc.extract_text(&[*p])
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// With `MASSPAY_TAX_SAMPLES=DIR`, keeps the rendered PDFs there (to look at with pdftoppm).
fn keep(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("MASSPAY_TAX_SAMPLES") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

#[test]
fn zero_rows_say_so() {
    let doc = nec_packet(&[]);
    assert_eq!(doc.pages.len(), 3, "cover, exceptions, one worksheet page");
    let last = doc.text().pop().unwrap();
    assert!(last.iter().any(|t| t == "no reportable payees"), "{last:?}");
    assert!(last.iter().any(|t| t == "total · 0 payees"), "{last:?}");
    assert!(last.iter().any(|t| t == "page 3 of 3"), "{last:?}");
    let bytes = render(&doc, &FontSet::shipped()).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
}

fn hundred() -> Vec<NecRow> {
    (0..100)
        .map(|i| {
            nec_row(
                &format!("usr_{i:04}"),
                &format!("Payee {i}"),
                Decimal::new(60_000 + i, 2),
            )
        })
        .collect()
}

/// Sums the amounts printed in a column of text items that follow `label` on a page.
fn after<'a>(page: &'a [String], label: &str) -> Vec<&'a str> {
    let i = page.iter().position(|t| t == label).unwrap_or(page.len());
    page[i + 1..].iter().map(String::as_str).collect()
}

#[test]
fn hundred_rows_paginate_with_totals_per_page_and_in_full() {
    let rows = hundred();
    let doc = nec_packet(&rows);
    let text = doc.text();
    let m = text.len();
    let worksheet: Vec<&Vec<String>> = text[2..].iter().collect();
    assert!(worksheet.len() >= 3, "100 rows take several pages: {m}");
    let mut running = Decimal::ZERO;
    let mut seen = 0;
    for (k, page) in worksheet.iter().enumerate() {
        let n = k + 3;
        assert!(page.contains(&format!("page {n} of {m}")), "{page:?}");
        assert_eq!(page[0], "1099-NEC worksheet, tax year 2025");
        let tokens: Vec<&String> = page.iter().filter(|t| t.starts_with("usr_")).collect();
        seen += tokens.len();
        // The page total is the sum of this page's rows.
        let page_sum: Decimal = rows
            .iter()
            .filter(|r| tokens.contains(&&r.user_token))
            .map(|r| r.box1)
            .sum();
        running += page_sum;
        assert_eq!(after(page, "page total")[0], money(page_sum), "page {n}");
        if k + 1 < worksheet.len() {
            assert_eq!(after(page, "carried forward")[0], money(running));
            assert!(!page.iter().any(|t| t.starts_with("total ·")));
        } else {
            assert_eq!(after(page, "total · 100 payees")[0], "60,049.50");
        }
        if k > 0 {
            assert!(
                page.iter()
                    .any(|t| t.starts_with("carried forward: box 1 ")),
                "the carried total heads every later page: {page:?}"
            );
        }
    }
    assert_eq!(seen, 100);
    assert_eq!(running, dec!(60049.50));
    let bytes = render(&doc, &FontSet::shipped()).unwrap();
    let pages = extract(&bytes);
    assert_eq!(pages.len(), m);
    assert!(pages[m - 1].contains(&format!("page {m} of {m}")));
    assert!(pages[m - 1].contains("60,049.50"));
    if let Some(t) = pdftotext(&bytes) {
        assert!(t.contains(&format!("page {m} of {m}")), "{t}");
        assert!(t.contains("usr_0099"), "{t}");
    }
}

#[test]
fn same_input_same_bytes() {
    let fonts = FontSet::shipped();
    let a = render(&nec_packet(&sample()), &fonts).unwrap();
    let b = render(&nec_packet(&sample()), &fonts).unwrap();
    assert!(a == b, "two renders of the same rows differ");
    let c = render(&nec_packet(&hundred()), &fonts).unwrap();
    assert!(a != c);
}

#[test]
fn pdf_framing_and_atomic_write() {
    let fonts = FontSet::shipped();
    let doc = nec_packet(&sample());
    let bytes = render(&doc, &fonts).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .unwrap();
    assert!(bytes[..=end].ends_with(b"%%EOF"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("1099-NEC-2025.pdf");
    assert_eq!(write_packet(&path, &doc, &fonts).unwrap(), path);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn names_extract_exactly_and_formulas_stay_text() {
    let bytes = render(&nec_packet(&sample()), &FontSet::shipped()).unwrap();
    let all = extract(&bytes).join(" ");
    for want in [
        "1099-NEC worksheet, tax year 2025",
        "***-**-6789",
        "**-***4321",
        "José Núñez-Müller",
        "Åre",
        "Łukasz Żółć Kowalski",
        "Jane Smith / Smith Design Studio LLC",
        "=HYPERLINK(\"http://evil\",\"x\")",
        "total · 4 payees",
        "150,085.24",
        "ZIP now 02108",
        "TIN type ambiguous",
        "page 1 of 3",
    ] {
        assert!(all.contains(want), "missing {want:?} in {all}");
    }
}

fn f1042s_row(token: &str, name: &str, code: &str, gross: Decimal, rate: Decimal) -> F1042sRow {
    let due = (gross * rate / dec!(100))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    F1042sRow {
        user_token: token.into(),
        name: name.into(),
        business_name: String::new(),
        country: "DEU".into(),
        address1: "Friedrichstraße 43".into(),
        city: "Berlin".into(),
        state: "BE".into(),
        zip: "10117".into(),
        income_code: code.into(),
        gross_income: gross,
        us_source_percent: dec!(100),
        ch3_status: "16".into(),
        ch3_exemption: if rate < dec!(30) { "04" } else { "00" }.into(),
        ch4_status: "23".into(),
        ch4_exemption: "15".into(),
        rate,
        tax_withheld: Decimal::ZERO,
        tax_due: due,
        under_withheld: due,
        foreign_tin: "****8901".into(),
        us_tin: String::new(),
        date_of_birth: "********".into(),
        lob_code: String::new(),
        form_on_file: "W-8BEN".into(),
        issues: String::new(),
    }
}

fn f1042s_rows(n: usize) -> Vec<F1042sRow> {
    (0..n)
        .map(|i| {
            let name = match i {
                0 => "Дмитрий Петров".to_string(),
                1 => "Émilie Tremblay".to_string(),
                _ => format!("Foreign Payee {i}"),
            };
            let mut r = f1042s_row(
                &format!("usr_f{i:04}"),
                &name,
                if i % 7 == 3 { "12" } else { "17" },
                Decimal::new(123_457 + i as i64 * 101, 2),
                if i % 5 == 0 { dec!(0) } else { dec!(30) },
            );
            if i == 2 {
                r.foreign_tin = String::new();
                r.issues = "foreign_tin missing; date_of_birth missing".into();
            }
            r
        })
        .collect()
}

fn f1042s_packet(rows: &[F1042sRow], sandbox: bool) -> (Document, Layout) {
    let l = Layout::embedded(Kind::Packet1042S);
    let ws: Vec<WorksheetRow> = rows.iter().map(WorksheetRow::from_1042s).collect();
    let conflict = ExceptionRow {
        user_token: "usr_conflict".into(),
        name: String::new(),
        detail: "W-8 on file but a US address".into(),
    };
    let (doc, missing) = packet_document(
        &info("1042-S", sandbox),
        &Exceptions::from_1042s_rows(rows, vec![conflict], vec![], Some(vec![])),
        &ws,
        &l,
        &FontSet::shipped(),
    );
    assert!(!missing);
    (doc, l)
}

/// The 1042-S packet: the same pagination and totals as the 1099-NEC's, over the four amount
/// columns; the totals equal the sum of the rows (as the CSV has them) to the cent.
#[test]
fn f1042s_packet_pages_and_totals() {
    let rows = f1042s_rows(90);
    let (doc, _) = f1042s_packet(&rows, true);
    let text = doc.text();
    let m = text.len();
    assert!(
        m >= 4,
        "cover, exceptions and more than one worksheet page: {m}"
    );
    for (n, page) in text.iter().enumerate() {
        assert!(page.contains(&format!("page {} of {m}", n + 1)), "{page:?}");
        assert!(page.iter().any(|t| t.contains("SANDBOX")));
    }
    let gross: Decimal = rows.iter().map(|r| r.gross_income).sum();
    let due: Decimal = rows.iter().map(|r| r.tax_due).sum();
    let last = text.last().unwrap();
    let totals = after(last, "total · 90 forms");
    assert_eq!(
        totals[..4],
        [money(gross), "0.00".into(), money(due), money(due)]
    );
    assert!(text[1].iter().any(|t| t == "usr_f0002"), "issue listed");
    assert!(
        text[1].iter().any(|t| t.contains("foreign_tin missing")),
        "{:?}",
        text[1]
    );
    assert!(text[1].iter().any(|t| t == "usr_conflict"));
    let bytes = render(&doc, &FontSet::shipped()).unwrap();
    keep("packet-1042-s.pdf", &bytes);
    let pages = extract(&bytes);
    let all = pages.join(" ");
    for want in [
        "1042-S year-end packet, tax year 2025",
        "1042-S worksheet, tax year 2025",
        "Дмитрий Петров",
        "Émilie Tremblay",
        "gross income",
        "under-withheld",
        &money(gross),
        &money(due),
        &format!("page {m} of {m}"),
    ] {
        assert!(all.contains(want), "missing {want:?}");
    }
}

#[test]
fn f1042s_packet_model_snapshot() {
    let (doc, _) = f1042s_packet(&f1042s_rows(3), false);
    insta::assert_yaml_snapshot!("packet_1042_s_model", doc);
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

/// The text of every page of a packet file, one string per page.
fn file_pages(path: &std::path::Path) -> Vec<String> {
    extract(&std::fs::read(path).unwrap())
}

/// A large year's packet is drawn from rows set aside on disk, one chunk of pages at a time
/// (`report --pdf`): page for page, it reads like the packet built in memory, across chunks,
/// across exception pages, for 0 rows, and for the 1042-S with its per-payee issue lines.
#[test]
fn a_packet_from_rows_set_aside_reads_like_the_one_built_in_memory() {
    use masspay_tax_forms::packet::{ExceptionSection, PacketRows};
    use std::sync::atomic::AtomicBool;
    let dir = tempfile::tempdir().unwrap();
    let fonts = FontSet::shipped();
    let go = AtomicBool::new(false);
    // 9,000 rows: over 200 worksheet pages (more than one chunk), and, with every tenth TIN
    // missing, a few exception pages.
    let many: Vec<NecRow> = (0..9_000)
        .map(|i| {
            let mut r = nec_row(
                &format!("usr_{i:05}"),
                &format!("Payee {i}"),
                Decimal::new(60_000 + i, 2),
            );
            if i % 10 == 3 {
                r.tin_status = "missing".into();
                r.tin = String::new();
            }
            r
        })
        .collect();
    for (k, rows) in [vec![], sample(), many].into_iter().enumerate() {
        let l = Layout::embedded(Kind::Packet);
        let memory = extract(&render(&nec_packet(&rows), &fonts).unwrap());
        let mut set_aside = PacketRows::nec(&l).unwrap();
        for r in &rows {
            set_aside.push_nec(r).unwrap();
        }
        assert_eq!(set_aside.len(), rows.len());
        let path = dir.path().join(format!("nec-{k}.pdf"));
        let (written, missing) = set_aside
            .write(
                &path,
                &info("1099-NEC", false),
                vec![ExceptionSection::kyc(None)],
                &fonts,
                &go,
            )
            .unwrap();
        assert!(!missing);
        let streamed = file_pages(&written);
        assert_eq!(streamed.len(), memory.len(), "{} rows", rows.len());
        if rows.len() == 9_000 {
            assert!(
                memory.len() > 200 + 4,
                "more than one chunk: {}",
                memory.len()
            );
            assert!(memory[2].contains("(continued)"), "exceptions flow on");
        }
        for (n, (a, b)) in streamed.iter().zip(&memory).enumerate() {
            assert_eq!(a, b, "page {} of the {}-row packet", n + 1, rows.len());
        }
    }

    let mut rows = f1042s_rows(40);
    // One payee, two forms, both with issues: one line on the exceptions page.
    rows[7].issues = "date_of_birth missing".into();
    rows[8].user_token = rows[7].user_token.clone();
    rows[8].issues = "date_of_birth missing".into();
    let (doc, l) = f1042s_packet(&rows, true);
    let memory = extract(&render(&doc, &fonts).unwrap());
    let mut set_aside = PacketRows::f1042s(&l).unwrap();
    for r in &rows {
        set_aside.push_1042s(r).unwrap();
    }
    let conflict = ExceptionRow {
        user_token: "usr_conflict".into(),
        name: String::new(),
        detail: "W-8 on file but a US address".into(),
    };
    let path = dir.path().join("1042-s.pdf");
    let (written, _) = set_aside
        .write(
            &path,
            &info("1042-S", true),
            vec![
                ExceptionSection::new("exceptions_conflicts", vec![conflict]),
                ExceptionSection::new("exceptions_undecided", vec![]),
                ExceptionSection::kyc(Some(vec![])),
            ],
            &fonts,
            &go,
        )
        .unwrap();
    assert_eq!(file_pages(&written), memory);
}

/// Ctrl-C while a packet is being written: the writing stops and nothing appears at the path
/// (an earlier packet there stays as it was).
#[test]
fn a_stopped_packet_leaves_the_earlier_file() {
    use masspay_tax_forms::packet::PacketRows;
    use std::sync::atomic::AtomicBool;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("1099-NEC-2025.pdf");
    std::fs::write(&path, b"the earlier packet").unwrap();
    let mut rows = PacketRows::nec(&Layout::embedded(Kind::Packet)).unwrap();
    for r in hundred() {
        rows.push_nec(&r).unwrap();
    }
    let stop = AtomicBool::new(true);
    let e = rows
        .write(
            &path,
            &info("1099-NEC", false),
            vec![],
            &FontSet::shipped(),
            &stop,
        )
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::Interrupted);
    assert_eq!(std::fs::read(&path).unwrap(), b"the earlier packet");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left beside it");
}
