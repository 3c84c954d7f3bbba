//! Payout commit, status and list; sandbox controls; signed webhooks delivered to a local
//! listener and verified with MassPay's documented scheme (HMAC-SHA512 over `TIMESTAMP|body`).

use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use masspay_emulator::{EmulatorConfig, PayoutClock, RunningEmulator, SANDBOX_API_KEY, spawn};
use serde_json::Value;
use sha2::Sha512;
use tokio::sync::mpsc;

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn call(
    emu: &RunningEmulator,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http()
        .request(method, url)
        .bearer_auth(SANDBOX_API_KEY)
        .header("Idempotency-Key", uuid_like(emu));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn uuid_like(emu: &RunningEmulator) -> String {
    format!("key-{}", emu.request_count())
}

fn api(emu: &RunningEmulator, path: &str) -> String {
    format!("{}{path}", emu.base_url())
}

fn sandbox(emu: &RunningEmulator, path: &str) -> String {
    format!("{}/sandbox/{path}", emu.root_url())
}

async fn initiate(emu: &RunningEmulator, user: &str, transfer_id: &str) -> String {
    let wallet = masspay_emulator::data::client_wallet_token(masspay_emulator::DEFAULT_SEED);
    let body = serde_json::json!({"client_transfer_id": transfer_id, "source_token": wallet,
        "destination_token": "dst_1", "destination_currency_code": "USD", "source_amount": 75.5});
    let (status, v) = call(emu, reqwest::Method::POST, api(emu, user), Some(body)).await;
    assert_eq!(status, 200, "{v}");
    v["payout_token"].as_str().unwrap().to_string()
}

/// A webhook listener on 127.0.0.1: every delivery is passed on as (signature header, body).
async fn listener() -> (String, mpsc::UnboundedReceiver<(String, Bytes)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let tx = tx.clone();
        async move {
            let sig = headers
                .get("x-masspay-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let _ = tx.send((sig, body));
            "ok"
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/masspay", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, rx)
}

/// MassPay's scheme, written from the reference, independent of the emulator's code.
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut s = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("s", v)) => s = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(s)) = (t, s) else {
        return false;
    };
    let mut mac = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}|").as_bytes());
    mac.update(body);
    let Ok(sig) = hex::decode(s) else {
        return false;
    };
    mac.verify_slice(&sig).is_ok()
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Bytes)>) -> (String, Value, Bytes) {
    let (sig, body) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("a webhook arrives")
        .unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    (sig, v, body)
}

#[tokio::test]
async fn signed_webhooks_follow_a_payout_through_its_statuses() {
    let (url, mut rx) = listener().await;
    let secret = "whsec_test_0123456789";
    let emu = spawn(EmulatorConfig {
        bulk_payees: 0,
        payout_clock: PayoutClock::Manual,
        webhook_url: Some(url),
        webhook_secret: Some(secret.into()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    assert!(
        !format!(
            "{:?}",
            EmulatorConfig {
                webhook_secret: Some(secret.into()),
                ..EmulatorConfig::default()
            }
        )
        .contains(secret)
    );
    let user = "usr_edge_ssn_valid";
    let token = initiate(&emu, user, "inv-emu-flip-cancel-7").await;
    let (status, v) = call(
        &emu,
        reqwest::Method::PUT,
        api(&emu, &format!("{user}/{token}")),
        None,
    )
    .await;
    assert_eq!((status, v["status"].as_str()), (200, Some("success")));
    let mut seen = Vec::new();
    let (sig, v, body) = next(&mut rx).await;
    assert!(verify(secret, &sig, &body), "signature verifies: {sig}");
    assert!(!verify("wrong secret", &sig, &body));
    assert_eq!(v["event_type"], "payout");
    assert_eq!(v["payout_token"], token.as_str());
    assert_eq!(v["client_transfer_id"], "inv-emu-flip-cancel-7");
    assert_eq!(v["source_amount"], serde_json::json!(75.5));
    seen.push(v["status"].as_str().unwrap().to_string());
    emu.advance(4);
    for _ in 0..3 {
        let (sig, v, body) = next(&mut rx).await;
        assert!(verify(secret, &sig, &body));
        seen.push(v["status"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, ["PENDING", "PROCESSING", "COMPLETED", "CANCELLED"]);
    let (_, v) = call(
        &emu,
        reqwest::Method::GET,
        api(&emu, &format!("{user}/{token}")),
        None,
    )
    .await;
    assert_eq!(v["status"], "CANCELLED");

    // A payout entering HOLD, the upload, the user event and the release.
    let held = initiate(&emu, user, "inv-emu-hold-7").await;
    call(
        &emu,
        reqwest::Method::PUT,
        api(&emu, &format!("{user}/{held}")),
        None,
    )
    .await;
    assert_eq!(next(&mut rx).await.1["status"], "PENDING");
    emu.advance(1);
    let (_, v, _) = next(&mut rx).await;
    assert_eq!(
        (v["status"].as_str(), v["user_token"].as_str()),
        (Some("HOLD"), Some(user))
    );
    let (status, v) = call(
        &emu,
        reqwest::Method::POST,
        sandbox(&emu, &format!("users/{user}/upload")),
        None,
    )
    .await;
    assert_eq!((status, v["hold"].as_str()), (200, Some("submitted")));
    let (_, v) = call(
        &emu,
        reqwest::Method::POST,
        sandbox(&emu, "clock/advance"),
        Some(serde_json::json!({"steps": 3})),
    )
    .await;
    assert!(v["step"].as_u64().unwrap() >= 3);
    let (_, v, _) = next(&mut rx).await;
    assert_eq!(
        (v["event_type"].as_str(), v["status"].as_str()),
        (Some("user"), Some("ACTIVE"))
    );
    assert_eq!(next(&mut rx).await.1["status"], "PROCESSING");
    assert_eq!(next(&mut rx).await.1["status"], "COMPLETED");

    // Events on demand: load, spendback, the tax interview with its full TIN.
    for (kind, extra) in [
        ("load", serde_json::json!({"amount": 100.5})),
        ("spendback", serde_json::json!({})),
        ("tax_interview", serde_json::json!({})),
    ] {
        let mut body = extra;
        body["kind"] = kind.into();
        body["user_token"] = user.into();
        let (status, _) = call(
            &emu,
            reqwest::Method::POST,
            sandbox(&emu, "events"),
            Some(body),
        )
        .await;
        assert_eq!(status, 200);
        let (sig, v, raw) = next(&mut rx).await;
        assert!(verify(secret, &sig, &raw));
        match kind {
            "load" => assert_eq!(
                (v["event_type"].as_str(), v["amount"].as_f64()),
                (Some("load"), Some(100.5))
            ),
            "spendback" => assert_eq!(v["event_type"], "spendback"),
            _ => {
                assert_eq!(v["AccountId"], user);
                assert_eq!(v["TIN"], "524718830");
                assert_eq!(v["FormType"], "W9");
                assert!(v.get("event_type").is_none());
            }
        }
    }
    emu.webhooks_idle().await;
    let log = emu.webhook_deliveries();
    assert!(
        log.iter().all(|d| d.delivered && d.attempts == 1),
        "{log:?}"
    );
    assert_eq!(log.last().unwrap().event_type, "tax-interview");
    emu.shutdown().await;
}

#[tokio::test]
async fn commit_errors_lists_and_the_404_message() {
    let emu = spawn(EmulatorConfig {
        bulk_payees: 0,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let (status, v) = call(
        &emu,
        reqwest::Method::PUT,
        api(&emu, "usr_edge_ssn_valid/payout_nope"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let msg = v["message"].as_str().unwrap();
    assert_eq!(msg.matches("could not be found").count(), 1, "{msg}");
    let (_, v) = call(
        &emu,
        reqwest::Method::GET,
        api(&emu, "no/such/thing/here"),
        None,
    )
    .await;
    assert_eq!(v["message"], "The requested resource could not be found.");
    let (_, v) = call(
        &emu,
        reqwest::Method::GET,
        api(&emu, "user/usr_nobody"),
        None,
    )
    .await;
    assert_eq!(
        v["message"],
        "The requested resource could not be found. User not found."
    );

    // With the default clock (one step per request) statuses move as requests arrive.
    let user = "usr_edge_bal_600_01";
    let token = initiate(&emu, user, "inv-emu-normal-1").await;
    call(
        &emu,
        reqwest::Method::PUT,
        api(&emu, &format!("{user}/{token}")),
        None,
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (_, v) = call(
            &emu,
            reqwest::Method::GET,
            api(&emu, &format!("{user}/{token}")),
            None,
        )
        .await;
        statuses.push(v["status"].as_str().unwrap().to_string());
    }
    assert_eq!(
        statuses,
        ["PROCESSING", "COMPLETED", "COMPLETED", "COMPLETED"]
    );
    let (status, list) = call(&emu, reqwest::Method::GET, api(&emu, user), None).await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list[0]["payout_token"], token.as_str());
    let seeded = list[1]["payout_token"].as_str().unwrap().to_string();
    let (status, v) = call(
        &emu,
        reqwest::Method::GET,
        api(&emu, &format!("{user}/{seeded}")),
        None,
    )
    .await;
    assert_eq!(
        (status, v["payout_token"].as_str()),
        (200, Some(seeded.as_str()))
    );

    // auto_commit answers the commit result at once.
    let wallet = masspay_emulator::data::client_wallet_token(masspay_emulator::DEFAULT_SEED);
    let body = serde_json::json!({"client_transfer_id": "inv-auto", "source_token": wallet, "auto_commit": true,
        "destination_token": "dst_1", "destination_currency_code": "USD", "source_amount": 5});
    let (status, v) = call(&emu, reqwest::Method::POST, api(&emu, user), Some(body)).await;
    assert_eq!(
        (status, v["status"].as_str()),
        (200, Some("success")),
        "{v}"
    );

    // A held user's commit fails; the growing year over HTTP.
    let (_, v) = call(
        &emu,
        reqwest::Method::POST,
        sandbox(&emu, "tax/2025/usr_edge_bal_599_99/add"),
        Some(serde_json::json!({"amount": "0.01"})),
    )
    .await;
    assert_eq!(v["balance"], serde_json::json!(600));
    let (status, _) = call(
        &emu,
        reqwest::Method::POST,
        sandbox(&emu, "tax/2025/usr_nobody/add"),
        Some(serde_json::json!({"amount": 1})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &emu,
        reqwest::Method::POST,
        sandbox(&emu, "tax/2025/usr_edge_bal_599_99/add"),
        Some(serde_json::json!({"amount": -3})),
    )
    .await;
    assert_eq!(status, 400);
    let (_, v) = call(
        &emu,
        reqwest::Method::POST,
        sandbox(&emu, "users/usr_edge_ssn_valid/upload"),
        None,
    )
    .await;
    assert_eq!(v["hold"], "none");
    let (_, v) = call(
        &emu,
        reqwest::Method::POST,
        api(&emu, "user/usr_edge_active_needs_id/kyc/id"),
        Some(serde_json::json!([{"type": "document-front", "content": "aGVsbG8="}])),
    )
    .await;
    assert_eq!(v, Value::Null);
    emu.shutdown().await;
}
