//! The MassPay client against the local emulator: retries, bounded tries, error bodies, KYC
//! upload links, lookups and history paging, bounded requests, no secrets in logs or errors,
//! payouts through their statuses.

mod common;

use common::{client, emulator};
use masspay_client::models::{CommitStatus, InitiatedPayout, PayoutRequest, TxnStatus};
use masspay_client::{ApiKey, Client, ClientConfig, ClientError, RetryPolicy};
use masspay_emulator::{EmulatorConfig, FaultConfig, PayoutClock, Quirks, RunningEmulator};
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

async fn emulator_with(config: EmulatorConfig) -> RunningEmulator {
    masspay_emulator::spawn(config)
        .await
        .expect("emulator starts")
}

fn fast(max_tries: u32) -> RetryPolicy {
    RetryPolicy {
        max_tries,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

fn client_with(emu: &RunningEmulator, edit: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut cfg = ClientConfig::new(
        &emu.base_url(),
        ApiKey::new(masspay_emulator::SANDBOX_API_KEY).unwrap(),
    )
    .unwrap();
    cfg.retry = fast(3);
    edit(&mut cfg);
    Client::new(cfg).unwrap()
}

fn all_faults() -> EmulatorConfig {
    EmulatorConfig {
        bulk_payees: 5,
        faults: FaultConfig {
            percent: 100,
            seed: 3,
            retry_after_secs: 0,
            slow_ms: 1,
        },
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn one_budget_per_logical_call_under_total_faults() {
    let emu = emulator_with(all_faults()).await;
    let c = client_with(&emu, |c| c.retry = fast(4));
    let q = masspay_client::models::HistoryQuery::default();
    for round in 0..6 {
        let before = emu.request_count();
        let _ = match round % 3 {
            0 => c.account_balance().await.map(|_| ()),
            1 => c.lookup_internal_id("edge-ssn-valid").await.map(|_| ()),
            _ => c.history(Some("usr_edge_ssn_valid"), &q).await.map(|_| ()),
        };
        let sent = emu.request_count() - before;
        // A history listing is one call per page; under total faults it never gets past page 1.
        assert!(
            sent <= 4,
            "round {round}: {sent} requests for a budget of 4"
        );
    }
    // A whole tax pull with re-pulls after bodies cut short shares one budget, as sync does.
    let budget = c.budget();
    let before = emu.request_count();
    while let Ok(mut pull) = c.tax_pull_in(&budget, 2025, Decimal::ZERO).await {
        let mut failed = false;
        loop {
            match pull.next_row().await {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        if !failed || budget.next_wait(None).is_none() {
            break;
        }
    }
    let sent = emu.request_count() - before;
    assert!(
        sent <= 4,
        "a whole pull sent {sent} requests for a budget of 4"
    );
    assert_eq!(u64::from(budget.tries()), sent);
}

#[tokio::test]
async fn history_paging_stops_when_every_page_is_full() {
    let endless = emulator_with(EmulatorConfig {
        bulk_payees: 1,
        quirks: Quirks {
            history_endless: true,
            ..Quirks::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let c = client_with(&endless, |c| c.max_history_pages = 5);
    let q = masspay_client::models::HistoryQuery::default();
    let err = c.history(None, &q).await.unwrap_err();
    assert!(matches!(err, ClientError::Paging { .. }), "{err}");
    assert!(
        err.to_string().contains("GET /payout/user/history"),
        "{err}"
    );
    assert_eq!(endless.request_count(), 5, "exactly the page bound");

    let repeating = emulator_with(EmulatorConfig {
        bulk_payees: 300,
        quirks: Quirks {
            history_ignores_page: true,
            ..Quirks::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let c = client_with(&repeating, |_| {});
    let err = c.history(None, &q).await.unwrap_err();
    assert!(err.to_string().contains("repeats page 1"), "{err}");
    assert_eq!(repeating.request_count(), 2);
}

#[tokio::test]
async fn an_oversize_body_is_refused_and_named() {
    let emu = emulator(300, 0, 0).await;
    let c = client_with(&emu, |c| c.max_body_bytes = 4096);
    let q = masspay_client::models::HistoryQuery::default();
    let err = c.history(None, &q).await.unwrap_err();
    assert!(
        matches!(&err, ClientError::BodyTooLarge { limit: 4096, .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("GET /payout/user/history") && msg.contains("4096"),
        "{msg}"
    );
    assert_eq!(emu.request_count(), 1, "a refused body is not retried");
    // The streamed tax array has no such limit.
    let mut pull = c.tax_pull(2025, Decimal::ZERO).await.unwrap();
    let mut rows = 0;
    while pull.next_row().await.unwrap().is_some() {
        rows += 1;
    }
    assert!(pull.bytes_read() > 4096 && rows > 300);
}

#[tokio::test]
async fn the_key_never_goes_over_plain_http_to_a_remote_host() {
    let key = || ApiKey::new("sk_live_topsecret").unwrap();
    for bad in [
        "http://api.masspay.io/v1.0.0/payout/",
        "http://192.168.1.10:8080/v1.0.0",
        "http://localhost.example.com/v1.0.0",
    ] {
        let err = ClientConfig::new(bad, key()).unwrap_err().to_string();
        assert!(
            err.contains("in clear") && !err.contains("topsecret"),
            "{err}"
        );
    }
    let mut cfg = ClientConfig::new("https://api.masspay.io/v1.0.0", key()).unwrap();
    cfg.base_url = "http://api.masspay.io/v1.0.0".into();
    assert!(Client::new(cfg).is_err(), "checked again at construction");
    for ok in [
        "http://127.0.0.1:1/v1.0.0/payout/",
        "http://localhost:1/v1.0.0",
        "http://[::1]:1/v1.0.0",
    ] {
        assert!(
            Client::new(ClientConfig::new(ok, key()).unwrap()).is_ok(),
            "{ok}"
        );
    }
    let emu = emulator(0, 0, 0).await;
    assert!(!client(&emu, 1).account_balance().await.unwrap().is_empty());
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn query_values_never_reach_log_lines_or_errors() {
    let buf = Captured::default();
    let sink = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let emu = emulator_with(all_faults()).await;
    let c = client_with(&emu, |c| c.retry = fast(5));
    let e1 = c
        .lookup_user("zelda.secret@example.test", "Zeldasecret")
        .await
        .unwrap_err()
        .to_string();
    let e2 = c
        .lookup_internal_id("internal-XQ9-secret")
        .await
        .unwrap_err()
        .to_string();
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    // (What reaches the buffer depends on tracing's per-callsite interest cache, which other
    // tests in this binary share; the errors below always carry the endpoint.)
    assert!(e1.contains("/payout/user/lookup"), "{e1}");
    for text in [&logs, &e1, &e2] {
        for secret in [
            "zelda",
            "Zeldasecret",
            "XQ9",
            "example.test",
            "email=",
            "lookup?",
            "internal_user_id=",
        ] {
            assert!(!text.contains(secret), "{secret:?} leaked into: {text}");
        }
    }
}

#[tokio::test]
async fn decode_errors_name_the_field_not_the_value() {
    let emu = emulator_with(EmulatorConfig {
        bulk_payees: 0,
        quirks: Quirks {
            account_balance_text: Some("524-71-8830".into()),
            ..Quirks::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let err = client(&emu, 1).account_balance().await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ClientError::Decode { .. }), "{msg}");
    assert!(msg.contains("GET /payout/account/balance"), "{msg}");
    assert!(
        msg.contains("[0].balance") && msg.contains("line 1"),
        "{msg}"
    );
    assert!(
        !msg.contains("524-71-8830") && !msg.contains("8830"),
        "{msg}"
    );
    assert!(!format!("{err:?}").contains("8830"));
}

async fn quote(c: &Client, user: &str, transfer_id: &str) -> String {
    let source = c.account_balance().await.unwrap().remove(0).token;
    let req = PayoutRequest {
        client_transfer_id: Some(transfer_id.into()),
        destination_currency_code: "USD".into(),
        source_token: source,
        destination_token: "dst_00000000-0000-4000-8000-000000000000".into(),
        source_amount: Some(Decimal::new(10000, 2)),
        ..PayoutRequest::default()
    };
    match c.create_payout(user, &req).await.unwrap() {
        InitiatedPayout::Quote(p) => {
            assert_eq!(p.status, TxnStatus::Scheduled);
            p.payout_token
        }
        other => panic!("expected a quote, got {other:?}"),
    }
}

#[tokio::test]
async fn a_committed_payout_runs_through_its_statuses_and_flips() {
    let emu = emulator_with(EmulatorConfig {
        bulk_payees: 0,
        payout_clock: PayoutClock::Manual,
        ..EmulatorConfig::default()
    })
    .await;
    let c = client(&emu, 2);
    let user = "usr_edge_ssn_valid";
    let token = quote(&c, user, "inv-emu-flip-cancel-1").await;
    let commit = c.commit_payout(user, &token).await.unwrap();
    assert_eq!(commit.status, CommitStatus::Success);
    let status = |c: Client, t: String| async move { c.payout(user, &t).await.unwrap() };
    assert_eq!(
        status(c.clone(), token.clone()).await.status,
        TxnStatus::Pending
    );
    emu.advance(1);
    assert_eq!(
        status(c.clone(), token.clone()).await.status,
        TxnStatus::Processing
    );
    emu.advance(1);
    assert_eq!(
        status(c.clone(), token.clone()).await.status,
        TxnStatus::Completed
    );
    emu.advance(2);
    let flipped = status(c.clone(), token.clone()).await;
    assert_eq!(
        flipped.status,
        TxnStatus::Cancelled,
        "completed, then cancelled"
    );
    assert!(
        flipped
            .status_reason
            .unwrap_or_default()
            .contains("returned")
    );
    // A second commit changes nothing; the user's list has it first.
    assert_eq!(
        c.commit_payout(user, &token).await.unwrap().status,
        CommitStatus::Success
    );
    let list = c.user_payouts(user).await.unwrap();
    assert_eq!(list[0].payout_token, token);
    assert!(list.len() > 1, "the seeded payouts follow");

    let back = quote(&c, user, "inv-emu-flip-complete-1").await;
    c.commit_payout(user, &back).await.unwrap();
    emu.advance(2);
    assert_eq!(
        status(c.clone(), back.clone()).await.status,
        TxnStatus::Cancelled
    );
    emu.advance(2);
    assert_eq!(
        status(c.clone(), back.clone()).await.status,
        TxnStatus::Completed,
        "cancelled, then completed"
    );
    assert_eq!(
        c.payout(user, "payout_unknown").await.unwrap_err().status(),
        Some(404)
    );
}

#[tokio::test]
async fn uploaded_documents_release_the_hold() {
    let emu = emulator_with(EmulatorConfig {
        bulk_payees: 0,
        payout_clock: PayoutClock::Manual,
        ..EmulatorConfig::default()
    })
    .await;
    let c = client(&emu, 2);
    let held = "usr_edge_hold_bank_statement";
    let source = c.account_balance().await.unwrap().remove(0).token;
    let body = serde_json::json!({"client_transfer_id": "inv-h-1", "source_token": source,
        "destination_token": "dst_1", "destination_currency_code": "USD", "source_amount": 50});
    assert_eq!(
        c.initiate_payout(held, &body).await.unwrap_err().status(),
        Some(400)
    );
    let status = c.user(held).await.unwrap().status;
    assert_eq!(status, Some(masspay_client::models::UserStatus::Deactive));
    assert!(emu.upload_documents(held));

    let sessions = c.kyc_sessions(held).await.unwrap();
    assert_eq!(
        sessions.last().unwrap().status,
        masspay_client::models::KycSessionStatus::Submitted
    );
    emu.advance(1);
    let status = c.user(held).await.unwrap().status;
    assert_eq!(status, Some(masspay_client::models::UserStatus::Active));
    assert_eq!(
        c.kyc_sessions(held).await.unwrap().last().unwrap().status,
        masspay_client::models::KycSessionStatus::Approved
    );
    let body2 = serde_json::json!({"client_transfer_id": "inv-h-2", "source_token": body["source_token"],
        "destination_token": "dst_1", "destination_currency_code": "USD", "source_amount": 50});
    assert!(
        c.initiate_payout(held, &body2).await.is_ok(),
        "payouts go through"
    );

    // A payout that enters HOLD holds its user until documents are uploaded.
    let user = "usr_edge_ssn_valid";
    let token = quote(&c, user, "inv-emu-hold-1").await;
    c.commit_payout(user, &token).await.unwrap();
    emu.advance(1);
    assert_eq!(
        c.payout(user, &token).await.unwrap().status,
        TxnStatus::Hold
    );
    assert!(emu.upload_documents(user));
    emu.advance(3);
    assert_eq!(
        c.payout(user, &token).await.unwrap().status,
        TxnStatus::Completed
    );
}

#[tokio::test]
async fn a_growing_year_shows_on_the_tax_endpoint() {
    let emu = emulator(0, 0, 0).await;
    let c = client(&emu, 2);
    let balance = |c: Client| async move {
        let mut pull = c.tax_pull(2025, Decimal::ZERO).await.unwrap();
        let mut found = None;
        while let Some(row) = pull.next_row().await.unwrap() {
            let row = row.unwrap();
            if row.user_token == "usr_edge_bal_599_99" {
                found = Some(row.balance);
            }
        }
        found.unwrap()
    };
    assert_eq!(balance(c.clone()).await, Decimal::new(59999, 2));
    assert_eq!(
        emu.add_to_year(2025, "usr_edge_bal_599_99", Decimal::new(1, 2)),
        Some(Decimal::new(600, 0))
    );

    assert_eq!(balance(c.clone()).await, Decimal::new(600, 0));
    assert_eq!(
        emu.add_to_year(2025, "usr_edge_bal_599_99", Decimal::new(100, 0)),
        Some(Decimal::new(700, 0))
    );
    assert_eq!(balance(c.clone()).await, Decimal::new(700, 0));
    let q = masspay_client::models::HistoryQuery {
        start_date: Some("2025-01-01".into()),
        end_date: Some("2025-12-31".into()),
        txn_type: Some("payout".into()),
    };
    let sum: Decimal = c
        .history(Some("usr_edge_bal_599_99"), &q)
        .await
        .unwrap()
        .iter()
        .filter(|t| t.status == TxnStatus::Completed)
        .map(|t| t.source_amount)
        .sum();
    assert_eq!(
        sum,
        Decimal::new(700, 0),
        "history agrees with the tax endpoint"
    );
}

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
