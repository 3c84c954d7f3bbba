//! `masspay-tax statements 1099` and the `report 1099 --pdf` packet, end to end on the built-in
//! sandbox: the PDFs are opened and their text extracted (lopdf, through the embedded font's
//! /ToUnicode map).

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_masspay-tax");
const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

const PAYER_TOML: &str = "[payer]\nname = \"Acme Payouts Inc\"\ntin = \"12-3456789\"\n\
    address1 = \"1 Main St\"\ncity = \"Boston\"\nstate = \"MA\"\nzip = \"02108\"\n\
    phone = \"617-555-0100\"\n";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MASSPAY_TAX_KEY", KEY)
        .output()
        .expect("binary runs")
}

fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn extract(path: &Path) -> String {
    let doc = lopdf::Document::load(path).expect("the PDF parses");
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).expect("text extracts");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn statements_and_packet_on_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(d, &["sync", "--year", "2025"]));

    // Without [payer] nothing is written and the error names the missing TIN.
    let o = run(d, &["statements", "1099", "--year", "2025", "--out", "out"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("tin is missing"), "{err}");
    assert!(!d.join("out/1099-NEC-2025").exists());

    std::fs::write(d.join("masspay-tax.toml"), PAYER_TOML).unwrap();
    // A stale statement from an earlier run must not survive a re-run.
    std::fs::create_dir_all(d.join("out/1099-NEC-2025")).unwrap();
    std::fs::write(d.join("out/1099-NEC-2025/usr_gone.pdf"), b"stale").unwrap();
    let o = run(
        d,
        &[
            "statements",
            "1099",
            "--year",
            "2025",
            "--out",
            "out",
            "--combined",
            "out/copy-b.pdf",
            "--format",
            "json",
        ],
    );
    let s: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    let n = s["statements"].as_u64().unwrap() as usize;
    assert!(n > 10, "{s}");
    assert_eq!(s["sandbox"], true);
    assert!(
        s["unrenderable"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "usr_edge_unicode_wang_fang"),
        "王芳 cannot be shown without a fallback font, and the run says so: {s}"
    );
    let folder = d.join("out/1099-NEC-2025");
    assert!(!folder.join("usr_gone.pdf").exists());
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), n);

    let zoe = extract(&folder.join("usr_edge_unicode_zoe.pdf"));
    for want in [
        "Zoë Ångström",
        "2,450.50",
        "12-3456789",
        "Acme Payouts Inc",
        "Copy B",
        "For Recipient",
        "SANDBOX DATA — NOT FOR FILING",
    ] {
        assert!(zoe.contains(want), "missing {want:?} in {zoe}");
    }
    let valid = extract(&folder.join("usr_edge_ssn_valid.pdf"));
    assert!(valid.contains("***-**-8830"), "{valid}");
    assert!(!valid.contains("524-71-8830"), "recipient TIN truncated");
    let wang = extract(&folder.join("usr_edge_unicode_wang_fang.pdf"));
    assert!(wang.contains('\u{FFFD}'), "visible mark, not '?': {wang}");
    let combined = lopdf::Document::load(d.join("out/copy-b.pdf")).unwrap();
    assert_eq!(combined.get_pages().len(), n);

    // The packet: totals equal the CSV's, page numbers, the exceptions.
    let o = run(
        d,
        &[
            "report", "1099", "--year", "2025", "--out", "out", "--pdf", "--format", "json",
        ],
    );
    let r: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    let csv = std::fs::read_to_string(d.join("out/1099-NEC-2025.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let mut cents: i64 = 0;
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let (int, frac) = rec[6].split_once('.').unwrap_or((&rec[6], "00"));
        cents += int.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}").parse::<i64>().unwrap();
        rows += 1;
    }
    assert_eq!(rows, n, "the statements are the worksheet's payees");
    let total = format!("{}.{:02}", cents / 100, cents % 100);
    assert_eq!(r["total_box1"].as_str().unwrap(), total);
    let grouped = masspay_tax_forms::doc::money(total.parse().unwrap());
    let packet = extract(&d.join("out/1099-NEC-2025.pdf"));
    assert!(packet.contains(&format!("total · {n} payees")), "{packet}");
    assert!(
        packet.contains(&grouped),
        "packet total {grouped} in {packet}"
    );
    let pages = lopdf::Document::load(d.join("out/1099-NEC-2025.pdf"))
        .unwrap()
        .get_pages()
        .len();
    assert!(packet.contains(&format!("page 1 of {pages}")));
    assert!(packet.contains(&format!("page {pages} of {pages}")));
    assert!(
        packet.contains("usr_edge_tin_absent"),
        "TIN exception listed"
    );
    assert!(packet.contains("Exceptions, tax year 2025"));
    assert!(packet.contains("Zoë Ångström"));
}

fn cents(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, "00"));
    int.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}").parse::<i64>().unwrap()
}

fn grouped(cents: i64) -> String {
    masspay_tax_forms::doc::money(
        format!("{}.{:02}", cents / 100, cents % 100)
            .parse()
            .unwrap(),
    )
}

/// `statements 1042s` and `report 1042s --pdf` on the built-in sandbox (no `[foreign]` setting:
/// the IRS presumption, so the foreign payees get forms at 30%).
#[test]
fn s1042_statements_and_packet_on_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(d, &["sync", "--year", "2025"]));
    let o = run(
        d,
        &["statements", "1042s", "--year", "2025", "--out", "out"],
    );
    assert!(!o.status.success(), "no [payer]: refused");
    assert!(String::from_utf8_lossy(&o.stderr).contains("tin is missing"));
    assert!(!d.join("out/1042-S-2025").exists());
    // The withholding agent's own status codes (boxes 12b, 12c) come from [payer] too.
    std::fs::write(
        d.join("masspay-tax.toml"),
        format!("{PAYER_TOML}ch3_status_code = \"07\"\nch4_status_code = \"02\"\n"),
    )
    .unwrap();
    std::fs::create_dir_all(d.join("out/1042-S-2025")).unwrap();
    std::fs::write(d.join("out/1042-S-2025/usr_gone.pdf"), b"stale").unwrap();

    // The worksheet and the packet.
    let o = run(
        d,
        &[
            "report", "1042s", "--year", "2025", "--out", "out", "--pdf", "--format", "json",
        ],
    );
    let r: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(
        r["pdf"].as_str().map(|p| p.ends_with("1042-S-2025.pdf")),
        Some(true),
        "{r}"
    );
    let mut rdr = csv::Reader::from_path(d.join("out/1042-S-2025.csv")).unwrap();
    let h = rdr.headers().unwrap().clone();
    let col = |k: &str| h.iter().position(|c| c == k).unwrap();
    let (tok, gross_c, due_c) = (col("user_token"), col("gross_income"), col("tax_due"));
    let mut forms: Vec<(String, String)> = Vec::new();
    let (mut gross, mut due) = (0i64, 0i64);
    for rec in rdr.records() {
        let rec = rec.unwrap();
        gross += cents(&rec[gross_c]);
        due += cents(&rec[due_c]);
        forms.push((rec[tok].to_string(), rec[gross_c].to_string()));
    }
    assert!(
        forms.len() >= 3,
        "the sandbox has foreign payees: {forms:?}"
    );
    assert_eq!(cents(r["total_gross_income"].as_str().unwrap()), gross);
    let packet_path = d.join("out/1042-S-2025.pdf");
    let packet = extract(&packet_path);
    let m = lopdf::Document::load(&packet_path)
        .unwrap()
        .get_pages()
        .len();
    assert!(packet.contains(&format!("page 1 of {m}")), "{packet}");
    assert!(packet.contains(&format!("page {m} of {m}")), "{packet}");
    let n = forms.len();
    assert!(
        packet.contains(&format!("total · {n} form")),
        "total line in {packet}"
    );
    assert!(
        packet.contains(&grouped(gross)),
        "gross {gross} in {packet}"
    );
    assert!(packet.contains(&grouped(due)), "tax due {due} in {packet}");
    assert!(packet.contains("1042-S year-end packet, tax year 2025"));
    assert!(packet.contains("Exceptions, tax year 2025"));
    assert!(
        packet.contains("NOT SET"),
        "the presumption is on the cover"
    );
    assert!(packet.contains("SANDBOX DATA — NOT FOR FILING"));

    // The statements: one file per recipient, exactly the worksheet's payees.
    let o = run(
        d,
        &[
            "statements",
            "1042s",
            "--year",
            "2025",
            "--out",
            "out",
            "--combined",
            "out/1042-S-copy-b.pdf",
            "--format",
            "json",
        ],
    );
    let s: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    let folder = d.join("out/1042-S-2025");
    let mut files: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut tokens: Vec<String> = forms.iter().map(|(t, _)| format!("{t}.pdf")).collect();
    tokens.sort();
    tokens.dedup();
    assert_eq!(files, tokens, "no stale statement, one file per recipient");
    assert_eq!(s["statements"].as_u64().unwrap() as usize, tokens.len());
    assert_eq!(s["forms"].as_u64().unwrap() as usize, n);
    assert_eq!(cents(s["total_gross_income"].as_str().unwrap()), gross);
    let combined = lopdf::Document::load(d.join("out/1042-S-copy-b.pdf")).unwrap();
    assert_eq!(combined.get_pages().len(), n, "one page per form");

    let (jose_gross, _) = forms
        .iter()
        .find(|(t, _)| t == "usr_edge_foreign_mex")
        .map(|(_, g)| (g.clone(), ()))
        .expect("José is on the 1042-S");
    let jose = extract(&folder.join("usr_edge_foreign_mex.pdf"));
    for want in [
        "Form 1042-S",
        "Copy B for Recipient",
        "José Núñez",
        &grouped(cents(&jose_gross)),
        "12-3456789",
        "Acme Payouts Inc",
        "617-555-0100",
        "30.00",
        "SANDBOX DATA — NOT FOR FILING",
        "generated from the withholding agent's platform records",
    ] {
        assert!(jose.contains(want), "missing {want:?} in {jose}");
    }
    // Boxes 12b/12c: the label, then the value set in [payer].
    let compact: String = jose.split_whitespace().collect::<Vec<_>>().join(" ");
    for (label, value) in [
        ("12b Ch. 3 status code", "07"),
        ("12c Ch. 4 status code", "02"),
    ] {
        let at = compact
            .find(label)
            .unwrap_or_else(|| panic!("{label} in {compact}"));
        assert!(
            compact[at + label.len()..].trim_start().starts_with(value),
            "{label} then {value}: {}",
            &compact[at..(at + 60).min(compact.len())]
        );
    }
    let oliver = extract(&folder.join("usr_edge_foreign_gbr_us_ssn.pdf"));
    assert!(oliver.contains("***-**-4321"), "{oliver}");
    assert!(!oliver.contains("287-65-4321"), "recipient TIN truncated");
    let lukasz = extract(&folder.join("usr_edge_foreign_deu.pdf"));
    assert!(lukasz.contains("Łukasz Żółć"), "{lukasz}");
    assert!(!lukasz.contains("12345678901"), "foreign TIN masked");
}
