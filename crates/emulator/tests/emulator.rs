//! End-to-end tests over 127.0.0.1 with reqwest.

use std::collections::HashMap;

use futures_util::StreamExt;
use masspay_emulator::data::{self, hard_cases};
use masspay_emulator::{
    EmulatorConfig, FAULT_HEADER, FaultConfig, FaultKind, RunningEmulator, SANDBOX_API_KEY,
    default_tax_year, fault_for, parse_number_text, spawn,
};
use rust_decimal::Decimal;
use serde_json::Value;
use serde_json::value::RawValue;

type RawRow = HashMap<String, Box<RawValue>>;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn cfg(seed: u64, bulk: usize) -> EmulatorConfig {
    EmulatorConfig {
        seed,
        bulk_payees: bulk,
        ..EmulatorConfig::default()
    }
}

async fn get(emu: &RunningEmulator, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", emu.base_url()))
        .bearer_auth(SANDBOX_API_KEY)
        .send()
        .await
        .unwrap()
}

async fn get_text(emu: &RunningEmulator, path: &str) -> (u16, String) {
    let r = get(emu, path).await;
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn rows(body: &str) -> Vec<RawRow> {
    serde_json::from_str(body).unwrap()
}

fn token_of(row: &RawRow) -> String {
    serde_json::from_str(row["user_token"].get()).unwrap()
}

fn row_for<'a>(rows: &'a [RawRow], token: &str) -> &'a RawRow {
    rows.iter()
        .find(|r| token_of(r) == token)
        .unwrap_or_else(|| panic!("{token} not listed"))
}

async fn payout(
    emu: &RunningEmulator,
    user: &str,
    key: Option<&str>,
    body: &Value,
) -> (u16, String) {
    let mut req = client()
        .post(format!("{}{user}", emu.base_url()))
        .bearer_auth(SANDBOX_API_KEY)
        .json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn payout_body(seed: u64, amount: &str) -> Value {
    serde_json::from_str(&format!(
        r#"{{"client_transfer_id":"inv-1","source_token":"{}","destination_token":"dst_1","destination_currency_code":"USD","source_amount":{amount}}}"#,
        data::client_wallet_token(seed)
    ))
    .unwrap()
}

#[tokio::test]
async fn same_seed_gives_byte_identical_tax_responses() {
    let a = spawn(cfg(7, 300)).await.unwrap();
    let b = spawn(cfg(7, 300)).await.unwrap();
    let c = spawn(cfg(8, 300)).await.unwrap();
    let (sa, ta) = get_text(&a, "tax?tax_year=2024").await;
    let (sb, tb) = get_text(&b, "tax?tax_year=2024").await;
    let (_, tc) = get_text(&c, "tax?tax_year=2024").await;
    assert_eq!((sa, sb), (200, 200));
    assert_eq!(ta, tb);
    assert_ne!(ta, tc, "a different seed must give different bulk payees");
    let (_, other_year) = get_text(&a, "tax?tax_year=2023").await;
    assert_ne!(ta, other_year);
    // The un-versioned base serves the same thing.
    let r = client()
        .get(format!("http://{}/payout/tax?tax_year=2024", a.addr()))
        .bearer_auth(SANDBOX_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), ta);
    let parsed = rows(&ta);
    assert_eq!(parsed.len(), hard_cases(2024).len() + 300);
    // Hard cases first, in table order.
    let hard: Vec<String> = hard_cases(2024).into_iter().map(|p| p.user_token).collect();
    let listed: Vec<String> = parsed.iter().take(hard.len()).map(token_of).collect();
    assert_eq!(listed, hard);
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
}

#[tokio::test]
async fn amount_threshold_strictly_exceeds() {
    let emu = spawn(cfg(3, 500)).await.unwrap();
    let (status, body) = get_text(&emu, "tax?tax_year=2024&amount_threshold=600").await;
    assert_eq!(status, 200);
    let at600 = rows(&body);
    let tokens: Vec<String> = at600.iter().map(token_of).collect();
    for absent in [
        "usr_edge_bal_600_00",
        "usr_edge_bal_599_99",
        "usr_edge_float_under_600",
        "usr_edge_exp_600",
        "usr_edge_zero",
    ] {
        assert!(
            !tokens.iter().any(|t| t == absent),
            "{absent} listed at 600"
        );
    }
    for present in [
        "usr_edge_bal_600_01",
        "usr_edge_float_over_600",
        "usr_edge_huge",
    ] {
        assert!(tokens.iter().any(|t| t == present), "{present} missing");
    }
    for r in &at600 {
        let b = parse_number_text(r["balance"].get()).unwrap();
        assert!(b > Decimal::from(600), "{} <= 600", r["balance"].get());
    }
    let (_, body) = get_text(&emu, "tax?tax_year=2024&amount_threshold=599.99").await;
    let tokens: Vec<String> = rows(&body).iter().map(token_of).collect();
    assert!(tokens.iter().any(|t| t == "usr_edge_bal_600_00"));
    assert!(tokens.iter().any(|t| t == "usr_edge_exp_600"));
    assert!(!tokens.iter().any(|t| t == "usr_edge_bal_599_99"));
    // Without a threshold everybody is listed, zero balance included.
    let (_, all) = get_text(&emu, "tax?tax_year=2024").await;
    let all = rows(&all);
    assert!(all.iter().any(|r| token_of(r) == "usr_edge_zero"));
    assert!(at600.len() < all.len());
    let (_, body) = get_text(&emu, "tax?tax_year=2024&amount_threshold=6E2").await;
    assert_eq!(rows(&body).len(), at600.len());
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_parameters_are_400_with_the_standard_body() {
    let emu = spawn(cfg(3, 10)).await.unwrap();
    for q in [
        "tax?tax_year=abc",
        "tax?tax_year=2024.0",
        "tax?amount_threshold=lots",
        "tax?amount_threshold=NaN",
        "user/history?number_of_records=101",
        "user/history?page=0",
        "user/history?type=spend%20back",
        "user/history?start_date=2024-02-30",
        "user/lookup?email=payee1@example.test",
    ] {
        let (status, body) = get_text(&emu, q).await;
        assert_eq!(status, 400, "{q}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], 400, "{q}");
        assert_eq!(v["title"], "Bad request.");
        assert!(v["message"].is_string());
        assert!(v["error"]["reason"].is_string());
        assert!(v["error"]["details"].is_array());
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn auth_is_required() {
    let emu = spawn(cfg(1, 5)).await.unwrap();
    let url = format!("{}tax", emu.base_url());
    let none = client().get(&url).send().await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    let v: Value = none.json().await.unwrap();
    assert_eq!(v["code"], 401);
    assert_eq!(v["title"], "Unauthorized.");
    let wrong = client()
        .get(&url)
        .bearer_auth("not_the_key")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let raw_key = client()
        .get(&url)
        .header("Authorization", SANDBOX_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw_key.status().as_u16(),
        401,
        "the Bearer scheme is required"
    );
    let lower = client()
        .get(&url)
        .header("Authorization", format!("bearer {SANDBOX_API_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status().as_u16(), 200);
    let unknown = client()
        .get(format!("{}nope/nothing/here", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 401);
    assert_eq!(emu.request_count(), 5);
    let custom = spawn(EmulatorConfig {
        api_key: "k2".into(),
        ..cfg(1, 5)
    })
    .await
    .unwrap();
    let r = client()
        .get(format!("{}account/balance", custom.base_url()))
        .bearer_auth("k2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn hard_cases_are_typed_as_specified() {
    let emu = spawn(cfg(2025, 0)).await.unwrap();
    let (status, body) = get_text(&emu, "tax?tax_year=2024").await;
    assert_eq!(status, 200);
    // Raw text reaches the client byte-exact.
    for needle in [
        r#""balance":599.9999999999999"#,
        r#""balance":600.0000000000001"#,
        r#""balance":1234.5600000000002"#,
        r#""balance":6.0E2"#,
        r#""balance":12345678.91"#,
        r#""balance":1500,"tax_id":"123-45-678""#,
        r#""postal_code":2108,"#,
        r#""postal_code":"02108-1234","#,
        r#""postal_code":90405,"#,
        r#""postal_code":null,"#,
        r#""tax_id":null"#,
        r#""tax_id":"""#,
        r#""tax_id":"912-55-1234""#,
        r#""first_name":"=HYPERLINK(\"http://x\",\"y\")""#,
        r#""last_name":"Van\tDyke""#,
        r#""first_name":"Mary\rAnn""#,
        r#""last_name":"王""#,
    ] {
        assert!(body.contains(needle), "missing {needle}");
    }
    let parsed = rows(&body);
    assert_eq!(parsed.len(), hard_cases(2024).len());
    let zip = row_for(&parsed, "usr_edge_zip_lost_zero");
    assert_eq!(zip["postal_code"].get(), "2108");
    assert!(!row_for(&parsed, "usr_edge_tin_absent").contains_key("tax_id"));
    assert!(!row_for(&parsed, "usr_edge_foreign_can").contains_key("tax_id"));
    assert_eq!(
        row_for(&parsed, "usr_edge_tin_null")["tax_id"].get(),
        "null"
    );
    assert_eq!(
        row_for(&parsed, "usr_edge_tin_empty")["tax_id"].get(),
        r#""""#
    );
    assert_eq!(
        row_for(&parsed, "usr_edge_same_tin_a")["tax_id"].get(),
        row_for(&parsed, "usr_edge_same_tin_b")["tax_id"].get()
    );
    assert_eq!(
        row_for(&parsed, "usr_edge_empty_country")["country"].get(),
        r#""""#
    );
    assert_eq!(
        row_for(&parsed, "usr_edge_vendor_sample")["date_of_birth"].get(),
        r#""""#
    );
    let values: Vec<Value> = serde_json::from_str(&body).unwrap();
    let jose = values
        .iter()
        .find(|v| v["user_token"] == "usr_edge_foreign_mex")
        .unwrap();
    assert_eq!(jose["first_name"], "José");
    assert_eq!(jose["last_name"], "Núñez");
    assert_eq!(jose["postal_code"], 3940);
    emu.shutdown().await;
}

#[tokio::test]
async fn default_tax_year_is_the_previous_year() {
    let emu = spawn(cfg(5, 40)).await.unwrap();
    let (_, implicit) = get_text(&emu, "tax").await;
    let (_, explicit) = get_text(&emu, &format!("tax?tax_year={}", default_tax_year())).await;
    assert_eq!(implicit, explicit);
    emu.shutdown().await;
}

#[tokio::test]
async fn streams_twenty_thousand_payees() {
    let emu = spawn(cfg(11, 20_000)).await.unwrap();
    let r = get(&emu, "tax?tax_year=2025").await;
    assert_eq!(r.status().as_u16(), 200);
    let body = r.bytes().await.unwrap();
    let parsed: Vec<&RawValue> = serde_json::from_slice(&body).unwrap();
    assert_eq!(parsed.len(), 20_000 + hard_cases(2025).len());
    // Bulk tokens resolve without storage.
    let last: RawRow = serde_json::from_str(parsed.last().unwrap().get()).unwrap();
    let token = token_of(&last);
    let (status, user) = get_text(&emu, &format!("user/{token}")).await;
    assert_eq!(status, 200);
    let user: Value = serde_json::from_str(&user).unwrap();
    assert_eq!(user["email"], "payee19999@example.test");
    assert_eq!(user["internal_user_id"], "contractor-19999");
    emu.shutdown().await;
}

#[tokio::test]
async fn users_lookup_kyc_and_interview() {
    let emu = spawn(cfg(4, 30)).await.unwrap();
    let (status, body) = get_text(&emu, "user/usr_edge_zip_lost_zero").await;
    assert_eq!(status, 200);
    let u: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(u["postal_code"], "02108", "StoredUser keeps the string");
    assert_eq!(u["status"], "ACTIVE");
    for key in ["created_on", "internal_user_id", "timezone", "language"] {
        assert!(u[key].is_string(), "{key}");
    }
    assert!(u["metadata"].is_object());
    let (_, body) = get_text(&emu, "user/usr_edge_hold_bank_statement").await;
    let u: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(u["status"], "DEACTIVE");
    let (status, body) = get_text(&emu, "user/usr_does_not_exist").await;
    assert_eq!(status, 404);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], 404);

    let (status, body) = get_text(
        &emu,
        "user/lookup?email=payee7@example.test&first_name=ignored",
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let p = data::bulk_payee(4, default_tax_year(), 7);
    let (status, body) = get_text(
        &emu,
        &format!(
            "user/lookup?email=payee7@example.test&first_name={}",
            p.first_name
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let f: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(f["user_token"], p.user_token.as_str());
    assert_eq!(f["internal_user_id"], "contractor-7");
    assert!(f["status"].is_string());
    let (status, body) =
        get_text(&emu, "user/lookup?internal_user_id=edge-hold-government-id").await;
    assert_eq!(status, 200);
    let f: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(f["status"], "DEACTIVE");
    assert_eq!(f["user_token"], "usr_edge_hold_government_id");

    let (status, body) = get_text(&emu, "user/usr_edge_hold_government_id/kyc/id").await;
    assert_eq!(status, 200);
    let sessions: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert!(!sessions.is_empty());
    assert_eq!(sessions[0]["provider"], "Veriff");

    let (status, body) = get_text(
        &emu,
        "usr_edge_ssn_valid/tax?return_url=https%3A%2F%2Fexample.test%2Fdone",
    )
    .await;
    assert_eq!(status, 200);
    let i: Value = serde_json::from_str(&body).unwrap();
    assert!(i["interview_url"].as_str().unwrap().starts_with("https://"));

    let (status, body) = get_text(&emu, "account/balance").await;
    assert_eq!(status, 200);
    let b: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["token"], data::client_wallet_token(4).as_str());
    assert!(b[0]["token"].as_str().unwrap().starts_with("clnt_wlt_"));
    assert!(b[0]["balance"].is_number());
    assert_eq!(b[0]["currency_code"], "USD");
    emu.shutdown().await;
}

#[tokio::test]
async fn history_pages_and_sums() {
    let emu = spawn(cfg(6, 20)).await.unwrap();
    let (_, tax) = get_text(&emu, "tax?tax_year=2024").await;
    let tax = rows(&tax);
    for row in tax.iter().step_by(5) {
        let token = token_of(row);
        let mut all = Vec::new();
        for page in 1.. {
            let (status, body) = get_text(
                &emu,
                &format!(
                    "user/{token}/history?start_date=2024-01-01&end_date=2024-12-31&number_of_records=2&page={page}"
                ),
            )
            .await;
            assert_eq!(status, 200);
            let items: Vec<Value> = serde_json::from_str(&body).unwrap();
            let n = items.len();
            all.extend(items);
            if n < 2 {
                break;
            }
        }
        let sum: Decimal = all
            .iter()
            .filter(|t| t["type"] == "payout" && t["status"] == "COMPLETED")
            .map(|t| {
                let raw = serde_json::to_string(&t["source_amount"]).unwrap();
                parse_number_text(&raw).unwrap()
            })
            .sum();
        let balance = parse_number_text(row["balance"].get()).unwrap();
        assert_eq!(
            sum,
            balance.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
            "{token}"
        );
        for t in &all {
            assert!(t["time_of_txn"].as_str().unwrap().starts_with("2024-"));
            assert!(["payout", "load", "spend back"].contains(&t["type"].as_str().unwrap()));
        }
    }
    let (status, body) = get_text(&emu, "user/history?type=spendback&number_of_records=100").await;
    assert_eq!(status, 200);
    let items: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|t| t["type"] == "spend back"));
    let (_, p1) = get_text(&emu, "user/history?number_of_records=3&page=1").await;
    let (_, p2) = get_text(&emu, "user/history?number_of_records=3&page=2").await;
    let (_, both) = get_text(&emu, "user/history?number_of_records=6&page=1").await;
    let mut joined: Vec<Value> = serde_json::from_str(&p1).unwrap();
    joined.extend(serde_json::from_str::<Vec<Value>>(&p2).unwrap());
    assert_eq!(joined, serde_json::from_str::<Vec<Value>>(&both).unwrap());
    let (status, _) = get_text(&emu, "user/usr_nobody/history").await;
    assert_eq!(status, 404);
    emu.shutdown().await;
}

#[tokio::test]
async fn payouts_holds_and_idempotency() {
    let seed = 21;
    let emu = spawn(cfg(seed, 10)).await.unwrap();
    let body = payout_body(seed, "125.5");

    let (status, text) = payout(&emu, "usr_edge_hold_bank_statement", Some("k-hold"), &body).await;
    assert_eq!(status, 400);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["title"], "Documentation required.");
    assert_eq!(v["code"], 400);
    assert_eq!(v["error"]["reason"], "Additional documentation required");
    let details: Vec<String> = serde_json::from_value(v["error"]["details"].clone()).unwrap();
    assert_eq!(details[0], "User is not active");
    assert!(
        details
            .iter()
            .any(|d| d.contains("at the following link: https://l.maspay.io/")),
        "{details:?}"
    );
    let (status2, text2) =
        payout(&emu, "usr_edge_hold_bank_statement", Some("k-hold"), &body).await;
    assert_eq!((status2, &text2), (400, &text), "replayed for the same key");

    let (status, text) = payout(&emu, "usr_edge_hold_government_id", Some("k-gov"), &body).await;
    assert_eq!(status, 400);
    assert!(text.contains("https://magic.veriff.me/v"));
    let (status, text) = payout(&emu, "usr_edge_active_needs_id", Some("k-id"), &body).await;
    assert_eq!(status, 400);
    assert!(text.contains("Not a valid IDSelfieCollection"));

    let (status, ok) = payout(&emu, "usr_edge_ssn_valid", Some("k-ok"), &body).await;
    assert_eq!(status, 200, "{ok}");
    let v: Value = serde_json::from_str(&ok).unwrap();
    assert_eq!(v["status"], "SCHEDULED");
    assert!(v["payout_token"].as_str().unwrap().starts_with("payout_"));
    assert!(ok.contains(r#""source_amount":125.5"#));
    let (_, again) = payout(&emu, "usr_edge_ssn_valid", Some("k-ok"), &body).await;
    assert_eq!(again, ok);
    let (status, _) = payout(
        &emu,
        "usr_edge_ssn_valid",
        Some("k-ok"),
        &payout_body(seed, "99"),
    )
    .await;
    assert_eq!(status, 400, "same key, different parameters");
    let (status, other) = payout(&emu, "usr_edge_ssn_valid", Some("k-ok-2"), &body).await;
    assert_eq!(status, 200);
    assert_ne!(other, ok);

    let (status, _) = payout(&emu, "usr_edge_ssn_valid", None, &body).await;
    assert_eq!(status, 400, "Idempotency-Key is required");
    let (status, _) = payout(&emu, "usr_nobody", Some("k-x"), &body).await;
    assert_eq!(status, 404);
    let bad: Value = serde_json::from_str(r#"{"source_token":"clnt_wlt_wrong","destination_token":"d","destination_currency_code":"USD","source_amount":1}"#).unwrap();
    let (status, _) = payout(&emu, "usr_edge_ssn_valid", Some("k-bad"), &bad).await;
    assert_eq!(status, 400);
    // Validation failures are not saved: the key stays usable.
    let (status, _) = payout(&emu, "usr_edge_ssn_valid", Some("k-bad"), &body).await;
    assert_eq!(status, 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let emu = spawn(cfg(1, 1)).await.unwrap();
    let (status, body) = get_text(&emu, "no/such/route/here").await;
    assert_eq!(status, 404);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], 404);
    assert_eq!(v["title"], "Not found.");
    let r = client()
        .delete(format!("{}tax", emu.base_url()))
        .bearer_auth(SANDBOX_API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 405);
    emu.shutdown().await;
}

/// Outcome of one request under fault injection: the fault header or "error" for a transport
/// error, or "ok".
async fn outcome(emu: &RunningEmulator, path: &str) -> String {
    let r = match client()
        .get(format!("{}{path}", emu.base_url()))
        .bearer_auth(SANDBOX_API_KEY)
        .send()
        .await
    {
        Ok(r) => r,
        Err(_) => return "error".into(),
    };
    let fault = r
        .headers()
        .get(FAULT_HEADER)
        .map(|v| v.to_str().unwrap().to_string());
    let status = r.status().as_u16();
    let body = r.bytes().await;
    match (fault, body) {
        (_, Err(_)) => "error".into(),
        (Some(f), Ok(_)) => format!("{f}:{status}"),
        (None, Ok(_)) => format!("ok:{status}"),
    }
}

fn faulty(percent: u8, seed: u64) -> EmulatorConfig {
    EmulatorConfig {
        faults: FaultConfig {
            percent,
            seed,
            retry_after_secs: 7,
            slow_ms: 5,
        },
        ..cfg(1, 5)
    }
}

#[tokio::test]
async fn every_request_faults_at_100_percent() {
    let emu = spawn(faulty(100, 3)).await.unwrap();
    for _ in 0..30 {
        let o = outcome(&emu, "account/balance").await;
        assert!(!o.starts_with("ok"), "{o}");
    }
    // Auth failures are never faults.
    let r = client()
        .get(format!("{}account/balance", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get(FAULT_HEADER).is_none());
    assert_eq!(emu.request_count(), 31);
    emu.shutdown().await;
}

#[tokio::test]
async fn partial_faults_are_in_band_and_reproducible() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let emu = spawn(faulty(30, 99)).await.unwrap();
        let mut seq = Vec::new();
        for _ in 0..50 {
            seq.push(outcome(&emu, "account/balance").await);
        }
        emu.shutdown().await;
        runs.push(seq);
    }
    assert_eq!(runs[0], runs[1]);
    let faults = runs[0].iter().filter(|o| !o.starts_with("ok")).count();
    assert!(
        (5..=28).contains(&faults),
        "{faults} faults in 50: {:?}",
        runs[0]
    );
    let expected = (0..50)
        .filter(|&n| fault_for(&faulty(30, 99).faults, n).is_some())
        .count();
    assert_eq!(faults, expected);
}

fn seed_where(want: &[Option<FaultKind>]) -> u64 {
    (0..200_000u64)
        .find(|&s| {
            let f = FaultConfig {
                percent: 100,
                seed: s,
                ..FaultConfig::default()
            };
            want.iter()
                .enumerate()
                .all(|(n, w)| w.is_none_or(|w| fault_for(&f, n as u64) == Some(w)))
        })
        .expect("a seed with the wanted fault sequence")
}

#[tokio::test]
async fn dropped_connection_is_a_client_body_error() {
    let seed = seed_where(&[
        Some(FaultKind::DroppedConnection),
        Some(FaultKind::DroppedConnection),
    ]);
    let emu = spawn(EmulatorConfig {
        faults: FaultConfig {
            percent: 100,
            seed,
            ..FaultConfig::default()
        },
        ..cfg(1, 400)
    })
    .await
    .unwrap();
    let r = get(&emu, "tax?tax_year=2024").await;
    assert_eq!(r.status().as_u16(), 200, "status and headers arrive");
    let mut stream = r.bytes_stream();
    let mut got = Vec::new();
    let mut failed = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => got.extend_from_slice(&c),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the body must end in an error");
    assert!(got.starts_with(br#"[{"user_token":"usr_edge_bal_599_99""#));
    assert!(
        serde_json::from_slice::<Value>(&got).is_err(),
        "partial array"
    );
    // Another route: no usable answer at all.
    let res = client()
        .get(format!("{}account/balance", emu.base_url()))
        .bearer_auth(SANDBOX_API_KEY)
        .send()
        .await;
    let complete = match res {
        Ok(r) => r.bytes().await.is_ok(),
        Err(_) => false,
    };
    assert!(!complete);
    emu.shutdown().await;
}

#[tokio::test]
async fn fault_bodies_and_headers() {
    let seed = seed_where(&[
        Some(FaultKind::TooManyRequests),
        Some(FaultKind::InternalErrorLegacy),
        Some(FaultKind::BadGateway),
        Some(FaultKind::GatewayTimeout),
        Some(FaultKind::Slow),
    ]);
    let emu = spawn(faulty(100, seed)).await.unwrap();
    let r = get(&emu, "account/balance").await;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let r = get(&emu, "account/balance").await;
    assert_eq!(r.status().as_u16(), 500);
    let v: Value = r.json().await.unwrap();
    assert!(v["Exception"].is_string());
    assert!(v["Errors"].is_array());
    let r = get(&emu, "account/balance").await;
    assert_eq!(r.status().as_u16(), 502);
    assert!(r.text().await.unwrap().contains("502 Bad Gateway"));
    let r = get(&emu, "account/balance").await;
    assert_eq!(r.status().as_u16(), 504);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], 504);
    let r = get(&emu, "account/balance").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()[FAULT_HEADER], "slow");
    emu.shutdown().await;
}

#[tokio::test]
async fn injected_500_on_payout_is_saved_under_the_key() {
    // Request 0: the payout hits an injected 500; request 1: the retry with the same key
    // replays it (MassPay saves 5xx results too); request 2: a new key succeeds.
    let seed = seed_where(&[
        Some(FaultKind::InternalError),
        Some(FaultKind::Slow),
        Some(FaultKind::Slow),
    ]);
    let emu = spawn(faulty(100, seed)).await.unwrap();
    let body = payout_body(1, "10");
    let (s1, b1) = payout(&emu, "usr_edge_ssn_valid", Some("key-500"), &body).await;
    assert_eq!(s1, 500);
    let (s2, b2) = payout(&emu, "usr_edge_ssn_valid", Some("key-500"), &body).await;
    assert_eq!((s2, b2), (500, b1));
    let (s3, _) = payout(&emu, "usr_edge_ssn_valid", Some("key-new"), &body).await;
    assert_eq!(s3, 200);
    emu.shutdown().await;
}

#[tokio::test]
async fn dropped_payout_is_still_created() {
    // The payout runs, the answer is lost; the retry with the same key gets the saved result.
    let seed = seed_where(&[Some(FaultKind::DroppedConnection), Some(FaultKind::Slow)]);
    let emu = spawn(faulty(100, seed)).await.unwrap();
    let body = payout_body(1, "10");
    let first = client()
        .post(format!("{}usr_edge_ssn_valid", emu.base_url()))
        .bearer_auth(SANDBOX_API_KEY)
        .header("Idempotency-Key", "drop-key")
        .json(&body)
        .send()
        .await;
    let complete = match first {
        Ok(r) => r.bytes().await.is_ok(),
        Err(_) => false,
    };
    assert!(!complete);
    let (status, text) = payout(&emu, "usr_edge_ssn_valid", Some("drop-key"), &body).await;
    assert_eq!(status, 200);
    assert!(text.contains("SCHEDULED"));
    emu.shutdown().await;
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The benchmark size: 1,000,000 bulk payees stream with bounded memory. Slow in debug builds,
/// so it is ignored by default: `cargo test -p masspay-emulator --release -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "large: run explicitly"]
async fn million_payees_stream_with_bounded_memory() {
    let emu = spawn(cfg(DEFAULT_SEED_FOR_BENCH, 1_000_000)).await.unwrap();
    let r = get(&emu, "tax?tax_year=2025").await;
    assert_eq!(r.status().as_u16(), 200);
    let mut stream = r.bytes_stream();
    let pattern = br#"{"user_token":"#;
    let mut carry: Vec<u8> = Vec::new();
    let mut rows = 0u64;
    let mut bytes = 0u64;
    let mut last = 0u8;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        bytes += chunk.len() as u64;
        if let Some(&b) = chunk.last() {
            last = b;
        }
        carry.extend_from_slice(&chunk);
        rows += carry
            .windows(pattern.len())
            .filter(|w| w == pattern)
            .count() as u64;
        let keep = carry.len().min(pattern.len() - 1);
        carry.drain(..carry.len() - keep);
    }
    assert_eq!(last, b']');
    assert_eq!(rows, 1_000_000 + hard_cases(2025).len() as u64);
    let peak = peak_rss_kib().unwrap_or(0);
    println!("{bytes} bytes, {rows} rows, peak RSS {peak} KiB");
    assert!(
        peak < 256 * 1024,
        "peak RSS {peak} KiB: the body must not be buffered"
    );
    emu.shutdown().await;
}

const DEFAULT_SEED_FOR_BENCH: u64 = masspay_emulator::DEFAULT_SEED;
