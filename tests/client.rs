//! The MassPay client against the local emulator: retries, bounded tries, error bodies, KYC
//! upload links, lookups and history paging.

mod common;

use common::{client, emulator};
use masspay_client::ClientError;
use rust_decimal::Decimal;

#[tokio::test]
async fn tries_are_bounded_and_the_error_names_endpoint_and_status() {
    // Every request faults: three tries, then a clear error.
    let emu = emulator(5, 100, 11).await;
    let c = client(&emu, 3);
    let err = c.account_balance().await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("GET /payout/account/balance"), "{msg}");
    match &err {
        ClientError::Api { tries, status, .. } => {
            assert_eq!(*tries, 3);
            assert!([429, 500, 502, 503, 504].contains(status), "{status}");
        }
        ClientError::Transport { tries, .. } => assert_eq!(*tries, 3),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(emu.request_count(), 3, "exactly max_tries requests");
}

#[tokio::test]
async fn faults_are_retried_until_an_answer() {
    let emu = emulator(5, 30, 5).await;
    let c = client(&emu, 15);
    for _ in 0..10 {
        let b = c
            .account_balance()
            .await
            .expect("retries get through 30% faults");
        assert_eq!(b[0].currency_code, "USD");
    }
    assert!(emu.request_count() > 10, "some requests were retried");
}

#[tokio::test]
async fn wrong_key_is_401_without_retries() {
    let emu = emulator(0, 0, 0).await;
    let mut cfg = masspay_client::ClientConfig::new(
        &emu.base_url(),
        masspay_client::ApiKey::new("not_the_key").unwrap(),
    )
    .unwrap();
    cfg.retry.max_tries = 5;
    let c = masspay_client::Client::new(cfg).unwrap();
    let err = c.account_balance().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(emu.request_count(), 1, "4xx other than 429 is not retried");
    assert!(!err.to_string().contains("not_the_key"));
}

#[tokio::test]
async fn base_url_with_or_without_payout() {
    let emu = emulator(0, 0, 0).await;
    let without = emu
        .base_url()
        .trim_end_matches('/')
        .trim_end_matches("/payout")
        .to_string();
    for base in [emu.base_url(), without] {
        let cfg = masspay_client::ClientConfig::new(
            &base,
            masspay_client::ApiKey::new(masspay_emulator::SANDBOX_API_KEY).unwrap(),
        )
        .unwrap();
        let c = masspay_client::Client::new(cfg).unwrap();
        assert!(!c.account_balance().await.unwrap().is_empty(), "{base}");
    }
}

#[tokio::test]
async fn kyc_hold_upload_link_comes_out_of_error_details() {
    let emu = emulator(0, 0, 0).await;
    let c = client(&emu, 2);
    let source = c.account_balance().await.unwrap().remove(0).token;
    let body = serde_json::json!({
        "client_transfer_id": "inv-2025-001",
        "source_token": source,
        "destination_token": "usr_wlt_00000000-0000-4000-8000-000000000000",
        "source_amount": 100,
        "destination_currency_code": "USD",
    });
    let err = c
        .initiate_payout("usr_edge_hold_bank_statement", &body)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    let b = err.body().expect("error body decoded");
    assert!(b.is_documentation_required());
    assert_eq!(
        b.upload_link().as_deref(),
        Some("https://l.maspay.io/aB3dE9xQ")
    );
    let err = c
        .initiate_payout("usr_edge_hold_government_id", &body)
        .await
        .unwrap_err();
    assert_eq!(
        err.body().unwrap().upload_link().as_deref(),
        Some("https://magic.veriff.me/v8f3k2LmQ9xR")
    );
}

#[tokio::test]
async fn users_lookup_history_and_kyc_decode() {
    let emu = emulator(20, 0, 0).await;
    let c = client(&emu, 2);
    let u = c.user("usr_edge_hold_bank_statement").await.unwrap();
    assert_eq!(u.status, Some(masspay_client::models::UserStatus::Deactive));
    let found = c.lookup_internal_id("edge-ssn-valid").await.unwrap();
    assert_eq!(found.user_token, "usr_edge_ssn_valid");
    assert_eq!(c.user("usr_nobody").await.unwrap_err().status(), Some(404));
    let q = masspay_client::models::HistoryQuery {
        start_date: Some("2025-01-01".into()),
        end_date: Some("2025-12-31".into()),
        txn_type: Some("payout".into()),
    };
    let txns = c.history(Some("usr_edge_bal_600_00"), &q).await.unwrap();
    let completed: Decimal = txns
        .iter()
        .filter(|t| t.status == masspay_client::models::TxnStatus::Completed)
        .map(|t| t.source_amount)
        .sum();
    assert_eq!(
        completed,
        Decimal::new(60000, 2),
        "2025 payouts add up to the tax endpoint's $600.00"
    );
    let _ = c.kyc_sessions("usr_edge_active_needs_id").await.unwrap();
}

#[tokio::test]
async fn tax_stream_counts_rows_and_digests_the_body() {
    let emu = emulator(2000, 0, 0).await;
    let c = client(&emu, 2);
    let mut pull = c.tax_pull(2025, Decimal::ZERO).await.unwrap();
    let mut ok = 0;
    while let Some(row) = pull.next_row().await.unwrap() {
        row.unwrap();
        ok += 1;
    }
    let s = pull.summary();
    assert_eq!(s.rows, ok);
    assert!(s.rows > 2000);
    assert_eq!(s.sha256.len(), 64);
    // MassPay's amount_threshold strictly exceeds: $600.00 is not returned for 600.
    let mut pull = c.tax_pull(2025, Decimal::new(600, 0)).await.unwrap();
    let mut tokens = Vec::new();
    while let Some(row) = pull.next_row().await.unwrap() {
        tokens.push(row.unwrap().user_token);
    }
    assert!(
        !tokens.iter().any(|t| t == "usr_edge_bal_600_00"),
        "this is why the IRS threshold is applied locally"
    );
    assert!(tokens.iter().any(|t| t == "usr_edge_bal_600_01"));
}
