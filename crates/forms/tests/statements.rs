//! Recipient statements and the packet: the layout model (snapshots) and what a PDF reader
//! extracts from the rendered bytes (lopdf, through the embedded font's /ToUnicode map).

use masspay_tax_forms::batch::{AnyStatement, BatchOptions, write_statements};
use masspay_tax_forms::fonts::{FontSet, MISSING_MARK};
use masspay_tax_forms::nec::NecRow;
use masspay_tax_forms::packet::{Exceptions, PacketInfo, WorksheetRow, packet_document};
use masspay_tax_forms::render::render;
use masspay_tax_forms::statement::{
    StateLine, Statement1042S, Statement1099Nec, StatementPayer, StatementRun, layout_1042_s,
    layout_1099_nec, single,
};
use masspay_tax_forms::template::{Kind, Layout};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn payer() -> StatementPayer {
    StatementPayer {
        name: "Acme Payouts Inc".into(),
        name_line2: None,
        address_lines: vec!["1 Main St".into(), "Boston, MA 02108".into()],
        phone: "617-555-0100".into(),
        tin: "12-3456789".into(),
        country: "US".into(),
    }
}

fn run(sandbox: bool) -> StatementRun {
    StatementRun {
        sandbox,
        generated: "2026-01-15 10:00 UTC, sync run #7".into(),
    }
}

pub fn nec(token: &str, name: &str, box1: Decimal) -> Statement1099Nec {
    Statement1099Nec {
        tax_year: 2025,
        payer: payer(),
        user_token: token.into(),
        recipient_name: name.into(),
        recipient_name_line2: String::new(),
        recipient_address: vec!["12 Elm St Apt 4".into(), "Springfield, IL 62701".into()],
        recipient_tin: "***-**-1234".into(),
        account_number: token.into(),
        box1,
        box2_direct_sales: false,
        box3: Decimal::ZERO,
        box4: dec!(0),
        states: vec![],
        second_tin_notice: false,
        corrected: false,
    }
}

fn s1042(token: &str, name: &str) -> Statement1042S {
    Statement1042S {
        tax_year: 2025,
        withholding_agent: payer(),
        user_token: token.into(),
        unique_form_id: "2025000001".into(),
        amendment_no: 0,
        income_code: "17".into(),
        gross_income: dec!(15000.00),
        chapter: "3".into(),
        ch3_exemption_code: "04".into(),
        ch3_tax_rate: "00.00".into(),
        ch4_exemption_code: "15".into(),
        ch4_tax_rate: "00.00".into(),
        withholding_allowance: None,
        net_income: None,
        federal_tax_withheld: dec!(0),
        escrow_procedures: false,
        subsequent_year_partnership: false,
        tax_withheld_by_other_agents: dec!(0),
        overwithheld_repaid: dec!(0),
        total_withholding_credit: dec!(0),
        tax_paid_by_agent: dec!(0),
        agent_ch3_status: "03".into(),
        agent_ch4_status: "20".into(),
        agent_giin: String::new(),
        agent_country: "US".into(),
        agent_foreign_tin: String::new(),
        recipient_name: name.into(),
        recipient_country: "GR".into(),
        recipient_address1: "Odos Ermou 10".into(),
        recipient_address2: "Athens 10563, Greece".into(),
        recipient_us_tin: String::new(),
        recipient_ch3_status: "16".into(),
        recipient_ch4_status: "23".into(),
        recipient_giin: String::new(),
        lob_code: String::new(),
        account_number: token.into(),
        recipient_foreign_tin: "*****6789".into(),
        recipient_dob: String::new(),
        primary_agent_name: String::new(),
        primary_agent_ein: String::new(),
        intermediary: String::new(),
        payer_name: String::new(),
        payer_tin: String::new(),
        state_tax_withheld: None,
        payer_state_tax_no: String::new(),
        state_name: String::new(),
    }
}

/// The text lopdf extracts from every page.
fn extract(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text extracts")
}

/// With `MASSPAY_TAX_SAMPLES=DIR`, keeps the rendered PDFs there (to look at with pdftoppm).
fn keep(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("MASSPAY_TAX_SAMPLES") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn nec_statement_text_extracts_exactly() {
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1099Nec);
    let mut s = nec("usr_0001", "Дмитрий Иванов", dec!(12345.67));
    s.recipient_name_line2 = "Zoë Núñez Design".into();
    s.box4 = dec!(2962.96);
    s.states = vec![StateLine {
        tax_withheld: dec!(10),
        state_and_payer_no: "IL 1234-5678".into(),
        income: dec!(12345.67),
    }];
    let (page, missing) = layout_1099_nec(&s, &run(false), &l, &fonts);
    assert!(!missing);
    let bytes = render(&single("t".into(), page), &fonts).unwrap();
    keep("statement-1099-nec.pdf", &bytes);
    assert!(
        bytes.len() < 60_000,
        "subset fonts keep it small: {}",
        bytes.len()
    );
    let text = squash(&extract(&bytes));
    for want in [
        "Form 1099-NEC",
        "Copy B",
        "For Recipient",
        "For calendar year 2025",
        "12,345.67",
        "2,962.96",
        "***-**-1234",
        "12-3456789",
        "Дмитрий Иванов",
        "Zoë Núñez Design",
        "Acme Payouts Inc",
        "617-555-0100",
        "OMB No. 1545-0116",
        "important tax information",
        "generated from the payer's platform records",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(!text.contains("SANDBOX"), "{text}");
}

#[test]
fn statement_models_snapshot() {
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1099Nec);
    let (page, _) = layout_1099_nec(
        &nec("usr_0001", "Zoë Núñez", dec!(600)),
        &run(true),
        &l,
        &fonts,
    );
    insta::assert_yaml_snapshot!("statement_1099_nec_model", page);
    let l = Layout::embedded(Kind::Statement1042S);
    let (page, _) = layout_1042_s(
        &s1042("usr_0002", "Ελένη Παπαδοπούλου"),
        &run(false),
        &l,
        &fonts,
    );
    insta::assert_yaml_snapshot!("statement_1042_s_model", page);
}

#[test]
fn s1042_statement_text() {
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1042S);
    let (page, missing) = layout_1042_s(
        &s1042("usr_0002", "Ελένη Παπαδοπούλου"),
        &run(true),
        &l,
        &fonts,
    );
    assert!(!missing);
    let bytes = render(&single("t".into(), page), &fonts).unwrap();
    keep("statement-1042-s.pdf", &bytes);
    let text = squash(&extract(&bytes));
    for want in [
        "Form 1042-S",
        "Copy B for Recipient",
        "Tax year 2025",
        "15,000.00",
        "Ελένη Παπαδοπούλου",
        "12-3456789",
        "*****6789",
        "1 Income code",
        "13l Recipient's date of birth",
        "SANDBOX DATA — NOT FOR FILING",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn unrenderable_names_get_a_visible_mark_and_a_fallback_font_fixes_them() {
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1099Nec);
    let (page, missing) =
        layout_1099_nec(&nec("usr_0003", "王芳", dec!(700)), &run(false), &l, &fonts);
    assert!(missing);
    let text = extract(&render(&single("t".into(), page), &fonts).unwrap());
    assert!(
        text.contains(&format!("{MISSING_MARK}{MISSING_MARK}")),
        "{text}"
    );
    assert!(!text.contains("??"));
}

#[test]
fn long_names_fit_their_box() {
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1099Nec);
    let long = "Maximilian Alexander Featherstonehaugh-Worthington III of the Very Long Company Name Holdings International";
    let mut s = nec("usr_0004", long, dec!(1));
    s.recipient_address = vec![
        "12345 North Very Long Boulevard Name Extension, Suite 1000, Building C, Rear entrance"
            .into(),
        "San Francisco, CA 94105-1234".into(),
    ];
    let (page, _) = layout_1099_nec(&s, &run(false), &l, &fonts);
    for item in &page.items {
        if let masspay_tax_forms::doc::Item::Text {
            x,
            size,
            text,
            style,
            align,
            ..
        } = item
        {
            let w = fonts.width(text, *style, *size);
            let (x0, x1) = match align {
                masspay_tax_forms::doc::Align::Left => (*x, x + w),
                masspay_tax_forms::doc::Align::Right => (x - w, *x),
                masspay_tax_forms::doc::Align::Center => (x - w / 2, x + w / 2),
            };
            assert!(
                x0 >= l.margin - 1 && x1 <= l.width - l.margin + 1,
                "{text} overflows"
            );
        }
    }
    let texts: Vec<String> = single("t".into(), page).text().remove(0);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Maximilian") && t.ends_with('…'))
            || texts.iter().any(|t| t == long),
        "{texts:?}"
    );
}

fn nec_row(i: usize) -> NecRow {
    NecRow {
        user_token: format!("usr_{i:04}"),
        name: if i == 1 {
            "Дмитрий Петров".into()
        } else {
            format!("Payee {i}")
        },
        business_name: String::new(),
        tin_type: "ssn".into(),
        tin: if i == 2 {
            String::new()
        } else {
            "***-**-6789".into()
        },
        tin_status: if i == 2 {
            "missing".into()
        } else {
            "valid".into()
        },
        box1: Decimal::new(60_000 + i as i64, 2),
        box4: Decimal::ZERO,
        address1: "1 Main St".into(),
        address2: String::new(),
        city: "Boston".into(),
        state: "MA".into(),
        zip: "02108".into(),
        country: "US".into(),
        email: String::new(),
        tin_source: "api".into(),
        name_control: String::new(),
        flags: if i == 3 {
            "zip_repaired".into()
        } else {
            String::new()
        },
    }
}

fn info() -> PacketInfo {
    PacketInfo {
        form: "1099-NEC".into(),
        tax_year: 2025,
        payer: Some(payer()),
        rules: vec!["threshold $600.00".into(), "TINs masked".into()],
        counts: vec![("reportable payees".into(), "100".into())],
        totals: vec![("box 1".into(), "$60,049.50".into())],
        sync: vec!["run #7, source sandbox, digest sha256:abc".into()],
        generated: "2026-01-15 10:00 UTC".into(),
        sandbox: true,
    }
}

#[test]
fn packet_pages_numbers_and_totals() {
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Packet);
    let rows: Vec<NecRow> = (0..100).map(nec_row).collect();
    let ws: Vec<WorksheetRow> = rows.iter().map(WorksheetRow::from_nec).collect();
    let (doc, missing) = packet_document(
        &info(),
        &Exceptions::from_nec_rows(&rows, None),
        &ws,
        &l,
        &fonts,
    );
    assert!(!missing);
    let m = doc.pages.len();
    assert!(m >= 4, "cover, exceptions, worksheet pages: {m}");
    let text = doc.text();
    for (n, page) in text.iter().enumerate() {
        assert!(page.contains(&format!("page {} of {m}", n + 1)), "{page:?}");
        assert!(page.iter().any(|t| t.contains("SANDBOX")));
    }
    let last = text.last().unwrap();
    assert!(last.iter().any(|t| t == "total · 100 payees"), "{last:?}");
    assert!(last.iter().any(|t| t == "60,049.50"), "{last:?}");
    assert!(
        text[1].iter().any(|t| t == "usr_0002"),
        "TIN exception listed"
    );
    let bytes = render(&doc, &fonts).unwrap();
    keep("packet.pdf", &bytes);
    let extracted = squash(&extract(&bytes));
    assert!(
        extracted.contains(&format!("page {m} of {m}")),
        "{extracted}"
    );
    assert!(extracted.contains("60,049.50"));
    assert!(extracted.contains("Дмитрий Петров"));
    let small: Vec<WorksheetRow> = ws.into_iter().take(3).collect();
    let (doc, _) = packet_document(
        &info(),
        &Exceptions::from_nec_rows(&rows[..3], None),
        &small,
        &l,
        &fonts,
    );
    insta::assert_yaml_snapshot!("packet_model", doc);
}

#[test]
fn batch_replaces_the_folder_and_reports_unrenderable() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("1099-NEC-2025");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("usr_stale.pdf"), b"old").unwrap();
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1099Nec);
    let items = (0..20).map(|i| {
        let name = if i == 5 {
            "王芳".to_string()
        } else {
            format!("Payee {i}")
        };
        Ok(AnyStatement::Nec(Box::new(nec(
            &format!("usr_{i:04}"),
            &name,
            dec!(600),
        ))))
    });
    let combined = dir.path().join("all.pdf");
    let report = write_statements(
        items,
        &run(false),
        &l,
        &fonts,
        &BatchOptions {
            dir: target.clone(),
            combined: Some(combined.clone()),
            title: "1099-NEC 2025".into(),
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    assert_eq!(report.written, 20);
    assert_eq!(report.unrenderable, vec!["usr_0005".to_string()]);
    let mut names: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 20, "{names:?}");
    assert!(!names.contains(&"usr_stale.pdf".to_string()));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let all = std::fs::read(&combined).unwrap();
    let doc = lopdf::Document::load_mem(&all).unwrap();
    assert_eq!(doc.get_pages().len(), 20);
    let one = extract(&std::fs::read(target.join("usr_0007.pdf")).unwrap());
    assert!(squash(&one).contains("Payee 7"));
}

#[test]
fn bad_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1099Nec);
    let items = std::iter::once(Ok(AnyStatement::Nec(Box::new(nec(
        "../evil",
        "x",
        dec!(1),
    )))));
    let err = write_statements(
        items,
        &run(false),
        &l,
        &fonts,
        &BatchOptions {
            dir: dir.path().join("out"),
            combined: None,
            title: String::new(),
            threads: 1,
        },
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("../evil"), "{err}");
    assert!(!dir.path().join("out").exists());
}

/// A 1042-S recipient with two forms (two income codes): one file, one page per form; amounts to
/// the cent, the masked recipient TINs, the agent's EIN in full, a Cyrillic and an accented name
/// extracted exactly; and the combined file holds every page in input order.
#[test]
fn s1042_batch_writes_one_file_per_recipient_with_a_page_per_form() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("1042-S-2025");
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1042S);
    let mut a = s1042("usr_ru", "Дмитрий Иванов");
    a.gross_income = dec!(12345.67);
    a.federal_tax_withheld = dec!(3703.70);
    a.total_withholding_credit = dec!(3703.70);
    a.ch3_exemption_code = "00".into();
    a.ch3_tax_rate = "30.00".into();
    a.recipient_us_tin = "***-**-4321".into();
    a.recipient_country = "RUS".into();
    let mut a2 = a.clone();
    a2.income_code = "12".into();
    a2.gross_income = dec!(0.01);
    a2.unique_form_id = "2025000002".into();
    let mut b = s1042("usr_fr", "Émilie Tremblay-Gagné");
    b.gross_income = dec!(1800.50);
    let items = vec![
        Ok(AnyStatement::S1042(vec![a, a2])),
        Ok(AnyStatement::S1042(vec![b])),
    ];
    let combined = dir.path().join("all-1042.pdf");
    let report = write_statements(
        items.into_iter(),
        &run(false),
        &l,
        &fonts,
        &BatchOptions {
            dir: target.clone(),
            combined: Some(combined.clone()),
            title: "1042-S 2025".into(),
            threads: 2,
        },
        &|_| {},
    )
    .unwrap();
    assert_eq!(report.written, 2);
    let bytes = std::fs::read(target.join("usr_ru.pdf")).unwrap();
    keep("statement-1042-s-two-forms.pdf", &bytes);
    assert_eq!(
        lopdf::Document::load_mem(&bytes).unwrap().get_pages().len(),
        2
    );
    let text = squash(&extract(&bytes));
    for want in [
        "Дмитрий Иванов",
        "12,345.67",
        "3,703.70",
        "0.01",
        "30.00",
        "***-**-4321",
        "*****6789",
        "12-3456789",
        "Acme Payouts Inc",
        "Copy B for Recipient",
        "1 Income code",
        "17",
        "12",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(!text.contains("SANDBOX"));
    let fr = squash(&extract(&std::fs::read(target.join("usr_fr.pdf")).unwrap()));
    assert!(fr.contains("Émilie Tremblay-Gagné"), "{fr}");
    assert!(fr.contains("1,800.50"), "{fr}");
    let all = lopdf::Document::load(&combined).unwrap();
    let pages: Vec<u32> = all.get_pages().keys().copied().collect();
    assert_eq!(pages.len(), 3);
    let last = squash(&all.extract_text(&pages[2..]).unwrap());
    assert!(last.contains("Émilie"), "input order kept: {last}");
}

/// The streamed combined file across chunks: every page, in order, readable, and no temporary
/// file left beside it.
#[test]
fn combined_file_streams_chunks_in_order() {
    use masspay_tax_forms::combined::CombinedPdf;
    use masspay_tax_forms::render::{document_id, render_document};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    let fonts = FontSet::shipped();
    let l = Layout::embedded(Kind::Statement1099Nec);
    let mut out = CombinedPdf::create(&path, "Copy B — 2025").unwrap();
    assert!(!path.exists(), "nothing at the path before finish");
    let mut n = 0;
    for chunk in 0..3 {
        let pages = (0..2)
            .map(|_| {
                n += 1;
                let name = if n == 4 { "Ζωή Ñandú" } else { "Payee" };
                layout_1099_nec(
                    &nec(&format!("usr_{n:04}"), &format!("{name} {n}"), dec!(600)),
                    &run(false),
                    &l,
                    &fonts,
                )
                .0
            })
            .collect();
        let doc = masspay_tax_forms::doc::Document {
            title: format!("chunk {chunk}"),
            pages,
        };
        out.append(render_document(&doc, &fonts).unwrap(), &document_id(&doc))
            .unwrap();
    }
    assert_eq!(out.pages(), 6);
    out.finish().unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left");
    let doc = lopdf::Document::load(&path).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert_eq!(pages.len(), 6);
    for (i, p) in pages.iter().enumerate() {
        let t = squash(&doc.extract_text(&[*p]).unwrap());
        assert!(
            t.contains(&format!("usr_{:04}", i + 1)),
            "page {} {t}",
            i + 1
        );
    }
    let t = squash(&doc.extract_text(&[pages[3]]).unwrap());
    assert!(t.contains("Ζωή Ñandú 4"), "{t}");
}
