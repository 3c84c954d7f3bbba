use super::*;

#[test]
fn hard_cases_are_unique_and_documented() {
    let hc = hard_cases(2024);
    let src = include_str!("mod.rs");
    let mut tokens: Vec<&str> = hc.iter().map(|p| p.user_token.as_str()).collect();
    for p in &hc {
        assert!(
            src.contains(&format!(
                "//! | `{}` | `{}` |",
                p.user_token, p.balance_text
            )),
            "{} / {} missing from the docs table",
            p.user_token,
            p.balance_text
        );
        assert!(parse_number_text(&p.balance_text).is_some());
    }
    tokens.sort_unstable();
    tokens.dedup();
    assert_eq!(tokens.len(), hc.len());
    let mut emails: Vec<String> = hc.iter().map(|p| p.email.to_lowercase()).collect();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), hc.len());
    assert_eq!(hard_cases(1999), hc);
}

#[test]
fn hard_case_specifics() {
    let hc = hard_cases(2024);
    let get = |slug: &str| {
        hc.iter()
            .find(|p| p.user_token == format!("usr_edge_{slug}"))
            .unwrap()
            .clone()
    };
    assert_eq!(
        get("zip_lost_zero").tax_postal_code,
        TaxPostal::Number(2108)
    );
    assert_eq!(
        get("zip_plus4").tax_postal_code,
        TaxPostal::Text("02108-1234".into())
    );
    assert_eq!(get("zip_90405").tax_postal_code, TaxPostal::Number(90405));
    assert_eq!(get("empty_country").tax_postal_code, TaxPostal::Null);
    assert_eq!(get("bal_600_00").balance, Decimal::new(60000, 2));
    assert_eq!(get("exp_600").balance, Decimal::from(600));
    assert_eq!(get("float_under_600").balance_cents(), Decimal::from(600));
    assert_eq!(get("float_over_600").balance_cents(), Decimal::from(600));
    assert_eq!(
        get("float_1234_56").balance_cents(),
        Decimal::new(123456, 2)
    );
    assert_eq!(get("same_tin_a").tax_id, get("same_tin_b").tax_id);
    assert_eq!(get("hold_bank_statement").status(), UserStatus::Deactive);
    assert_eq!(get("active_needs_id").status(), UserStatus::Active);
    let row = get("tin_absent").tax_json();
    assert!(!row.contains("tax_id"));
    let row = get("tin_null").tax_json();
    assert!(row.ends_with(r#","tax_id":null}"#));
    let row = get("zip_lost_zero").tax_json();
    assert!(row.contains(r#""postal_code":2108,"#), "{row}");
    let v: serde_json::Value = serde_json::from_str(&get("name_tab").tax_json()).unwrap();
    assert_eq!(v["last_name"], "Van\tDyke");
}

#[test]
fn bulk_tokens_round_trip() {
    for seed in [0, 1, 2025, u64::MAX] {
        for i in [0u64, 1, 2, 199, 12_345, 999_999] {
            let t = bulk_token(seed, i);
            assert_eq!(t.len(), 40, "{t}");
            assert_eq!(decode_bulk_token(seed, &t, 1_000_000), Some(i));
            assert_eq!(decode_bulk_token(seed, &t, i), None);
            assert_eq!(decode_bulk_token(seed ^ 1, &t, 1_000_000), None);
        }
    }
    assert_eq!(decode_bulk_token(1, "usr_edge_zero", 10), None);
    assert_eq!(decode_bulk_token(1, "usr_not-a-token", 10), None);
}

#[test]
fn bulk_is_deterministic_and_plausible() {
    let a = bulk_payee(7, 2024, 42);
    assert_eq!(a, bulk_payee(7, 2024, 42));
    let b = bulk_payee(7, 2023, 42);
    assert_eq!(a.user_token, b.user_token);
    assert_eq!(a.email, "payee42@example.test");
    let mut usa = 0;
    let mut missing = 0;
    for i in 0..2000 {
        let p = bulk_payee(2025, 2024, i);
        assert!(p.balance > Decimal::ZERO && p.balance <= Decimal::from(10_000));
        if p.country == "USA" {
            usa += 1;
            assert_eq!(p.postal_code.len(), 5);
        }
        if p.tax_id.as_text().is_none_or(str::is_empty) {
            missing += 1;
        }
        serde_json::from_str::<serde_json::Value>(&p.tax_json()).unwrap();
    }
    assert!((1700..=1900).contains(&usa), "usa={usa}");
    assert!((50..=250).contains(&missing), "missing={missing}");
}

#[test]
fn float_noise_texts() {
    assert_eq!(float_noise_text(60_000, false), "599.9999999999999");
    assert_eq!(float_noise_text(60_000, true), "600.0000000000001");
    assert_eq!(float_noise_text(123_456, true), "1234.560000000001");
    let t = float_noise_text(30, true);
    assert_eq!(
        round2(parse_number_text(&t).unwrap()),
        Decimal::new(30, 2),
        "{t}"
    );
    for c in [1i64, 99, 100, 101, 59_999, 999_999, 1_000_000] {
        for up in [true, false] {
            let t = float_noise_text(c, up);
            assert_eq!(
                round2(parse_number_text(&t).unwrap()),
                Decimal::new(c, 2),
                "{t}"
            );
        }
    }
}

#[test]
fn payouts_sum_to_balance() {
    let pop = Population::new(2025, 300);
    for year in [2023, 2024] {
        for pos in 0..pop.len() {
            let p = pop.payee_at(year, pos).unwrap();
            let sum: Decimal = transactions(2025, year, &p)
                .iter()
                .filter(|t| t.kind == TxnKind::Payout && t.status == "COMPLETED")
                .map(|t| t.source_amount)
                .sum();
            assert_eq!(sum, p.balance_cents(), "{}", p.user_token);
        }
    }
}

#[test]
fn lookups_resolve() {
    let pop = Population::new(9, 50);
    let p = pop.payee_at(2024, pop.hard_count() + 17).unwrap();
    assert_eq!(pop.by_token(2024, &p.user_token), Some(p.clone()));
    assert_eq!(pop.by_email(2024, "PAYEE17@example.test"), Some(p.clone()));
    assert_eq!(pop.by_internal_id(2024, "contractor-17"), Some(p));
    assert_eq!(pop.by_email(2024, "payee017@example.test"), None);
    assert_eq!(pop.by_email(2024, "payee50@example.test"), None);
    assert!(pop.by_token(2024, "usr_edge_zero").is_some());
    assert!(
        pop.by_internal_id(2024, "edge-hold-bank-statement")
            .is_some()
    );
    assert!(pop.by_email(2024, "jdoe@example.test").is_some());
}
