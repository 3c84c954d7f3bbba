//! Notices (threshold alerts, KYC holds, payout flips) through the one notifier: recorded once,
//! delivered on every channel, retried until a channel accepts them. Both backends.

#[path = "notices/alerts.rs"]
mod alerts;
mod common;

use common::TestDb;
use masspay_tax::notify::{Notice, Notifier, NotifySettings, WEBHOOK_URL_ENV};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

/// A webhook receiver on 127.0.0.1: answers 500 to the first `fail_first` requests, then 200;
/// keeps every body it accepted.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    requests: Arc<AtomicUsize>,
}

async fn receiver(fail_first: usize) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(AtomicUsize::new(0));
    let (b, r) = (bodies.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    break Some(buf[end + 4..].to_vec());
                }
            };
            let n = r.fetch_add(1, Ordering::SeqCst);
            let status = if n < fail_first {
                "500 Internal Server Error"
            } else {
                if let Some(body) = body.and_then(|b| serde_json::from_slice(&b).ok()) {
                    b.lock().await.push(body);
                }
                "200 OK"
            };
            let _ = sock
                .write_all(
                    format!(
                        "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    )
                    .as_bytes(),
                )
                .await;
        }
    });
    Receiver {
        url,
        bodies,
        requests,
    }
}

fn notice(token: &str) -> Notice {
    Notice {
        kind: "alert".into(),
        text: format!("{token} crossed the 2026 threshold without a TIN"),
        fields: serde_json::json!({"user_token": token, "tax_year": 2026}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_is_recorded_once_and_a_failed_delivery_is_retried() {
    for db in TestDb::all().await {
        let store = db.open().await;
        let hook = receiver(1).await;
        let settings = NotifySettings {
            stdout: Some(true),
            webhook: true,
            ..Default::default()
        };
        let url = hook.url.clone();
        let n = Notifier::from_settings(&settings, |k| (k == WEBHOOK_URL_ENV).then(|| url.clone()))
            .unwrap();
        assert!(
            Notifier::record(&store, "alert:2026:usr_a:crossed", &notice("usr_a"))
                .await
                .unwrap()
        );
        assert!(
            !Notifier::record(&store, "alert:2026:usr_a:crossed", &notice("usr_a"))
                .await
                .unwrap(),
            "the same notice twice is recorded once ({})",
            db.label
        );
        let mut out = Vec::new();
        let r = n.deliver(&store, &mut out).await.unwrap();
        assert_eq!(r.channels["stdout"].sent, 1);
        assert_eq!(r.channels["webhook"].failed, 1, "the receiver answered 500");
        let err = r.channels["webhook"].error.clone().unwrap();
        assert!(err.contains("500") && !err.contains(&hook.url), "{err}");
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 1);
        assert!(hook.bodies.lock().await.is_empty(), "not marked sent");

        let mut out = Vec::new();
        let r = n.deliver(&store, &mut out).await.unwrap();
        assert_eq!(r.channels["webhook"].sent, 1, "retried on the next run");
        assert_eq!(r.channels["stdout"].sent, 0, "stdout already had it");
        assert!(out.is_empty());
        let bodies = hook.bodies.lock().await.clone();
        assert_eq!(bodies.len(), 1);
        assert!(
            bodies[0]["text"]
                .as_str()
                .unwrap()
                .contains("usr_a crossed")
        );
        assert_eq!(bodies[0]["notices"][0]["fields"]["user_token"], "usr_a");

        let r = n.deliver(&store, &mut Vec::new()).await.unwrap();
        assert_eq!(
            r.channels["webhook"],
            Default::default(),
            "sent once, then never again"
        );
        assert_eq!(hook.requests.load(Ordering::SeqCst), 2);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_mode_sends_one_message_and_a_command_gets_json_on_stdin() {
    for db in TestDb::all().await {
        let store = db.open().await;
        let hook = receiver(0).await;
        let dir = tempfile::tempdir().unwrap();
        let sink = dir.path().join("got.json");
        let settings = NotifySettings {
            stdout: Some(false),
            webhook: true,
            command: vec![
                "sh".into(),
                "-c".into(),
                format!("cat >> '{}'; echo >> '{}'", sink.display(), sink.display()),
            ],
            digest: true,
            ..Default::default()
        };
        let url = hook.url.clone();
        let n = Notifier::from_settings(&settings, |_| Some(url.clone())).unwrap();
        for t in ["usr_a", "usr_b", "usr_c"] {
            Notifier::record(&store, &format!("alert:2026:{t}:crossed"), &notice(t))
                .await
                .unwrap();
        }
        let r = n.deliver(&store, &mut Vec::new()).await.unwrap();
        assert_eq!(r.channels["webhook"].sent, 3);
        assert_eq!(r.channels["command"].sent, 3);
        assert_eq!(
            hook.requests.load(Ordering::SeqCst),
            1,
            "one message for three notices"
        );
        let bodies = hook.bodies.lock().await.clone();
        assert_eq!(bodies[0]["notices"].as_array().unwrap().len(), 3);
        let got = std::fs::read_to_string(&sink).unwrap();
        let lines: Vec<&str> = got.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 1, "one command run in digest mode");
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["notices"].as_array().unwrap().len(), 3);

        // A broken channel does not stop the others.
        let broken = NotifySettings {
            stdout: Some(true),
            command: vec!["/nonexistent/masspay-notify".into()],
            ..Default::default()
        };
        let n = Notifier::from_settings(&broken, |_| None).unwrap();
        Notifier::record(&store, "alert:2026:usr_d:crossed", &notice("usr_d"))
            .await
            .unwrap();
        let mut out = Vec::new();
        let r = n.deliver(&store, &mut out).await.unwrap();
        assert!(r.channels["command"].failed >= 1);
        assert!(r.channels["stdout"].sent >= 1);
        store.close().await;
        db.cleanup().await;
    }
}
