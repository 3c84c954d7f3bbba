//! Signed webhook delivery to the configured URL.
//!
//! Each event is POSTed as JSON with `X-MassPay-Signature: t=TIMESTAMP,s=HMAC`, where `HMAC`
//! is the lowercase hex HMAC-SHA512, keyed with the webhook secret, of `TIMESTAMP|raw body`
//! (the timestamp in Unix seconds, a pipe, then the exact bytes sent), as MassPay's
//! "Status Webhooks" page describes. Events go out one at a time in the order they happened; a
//! delivery that fails (no 2xx) is tried up to 5 times with a short backoff.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha512;
use tokio::sync::{Notify, mpsc};

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-MassPay-Signature";

/// `t=TIMESTAMP,s=HEX` for `body` sent at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b"|");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(digest.len() * 2);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("t={timestamp},s={hex}")
}

/// One delivery as the emulator saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// `event_type` of the payload (`payout`, `user`, …), or `tax-interview` for the
    /// PascalCase tax payload.
    pub event_type: String,
    /// Last HTTP status received, if any.
    pub status: Option<u16>,
    pub attempts: u32,
    pub delivered: bool,
}

pub(crate) struct Webhooks {
    tx: Option<mpsc::UnboundedSender<serde_json::Value>>,
    pending: Arc<AtomicUsize>,
    idle: Arc<Notify>,
    log: Arc<Mutex<Vec<Delivery>>>,
}

impl Webhooks {
    pub(crate) fn new(url: Option<String>, secret: Option<String>) -> Webhooks {
        let pending = Arc::new(AtomicUsize::new(0));
        let idle = Arc::new(Notify::new());
        let log = Arc::new(Mutex::new(Vec::new()));
        let runtime = tokio::runtime::Handle::try_current().ok();
        let tx = url.zip(runtime).map(|(url, rt)| {
            let (tx, rx) = mpsc::unbounded_channel();
            rt.spawn(deliver(
                url,
                secret.unwrap_or_default(),
                rx,
                pending.clone(),
                idle.clone(),
                log.clone(),
            ));
            tx
        });
        Webhooks {
            tx,
            pending,
            idle,
            log,
        }
    }

    pub(crate) fn send(&self, events: Vec<serde_json::Value>) {
        let Some(tx) = &self.tx else { return };
        for e in events {
            self.pending.fetch_add(1, Ordering::SeqCst);
            if tx.send(e).is_err() {
                self.pending.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    pub(crate) fn log(&self) -> Vec<Delivery> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits until every queued event was delivered or given up on.
    pub(crate) async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

fn event_type(v: &serde_json::Value) -> String {
    match v.get("event_type").and_then(|t| t.as_str()) {
        Some(t) => t.to_string(),
        None if v.get("TIN").is_some() => "tax-interview".into(),
        None => "unknown".into(),
    }
}

async fn deliver(
    url: String,
    secret: String,
    mut rx: mpsc::UnboundedReceiver<serde_json::Value>,
    pending: Arc<AtomicUsize>,
    idle: Arc<Notify>,
    log: Arc<Mutex<Vec<Delivery>>>,
) {
    let http = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "webhook client could not be built");
            return;
        }
    };
    while let Some(event) = rx.recv().await {
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let mut d = Delivery {
            event_type: event_type(&event),
            status: None,
            attempts: 0,
            delivered: false,
        };
        for attempt in 0..5u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            d.attempts += 1;
            let t = crate::dates::now_millis() / 1000;
            let r = http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, sign(&secret, t, &body))
                .body(body.clone())
                .send()
                .await;
            match r {
                Ok(resp) => {
                    d.status = Some(resp.status().as_u16());
                    if resp.status().is_success() {
                        d.delivered = true;
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e.without_url(), "webhook delivery failed");
                }
            }
        }
        tracing::debug!(event_type = %d.event_type, delivered = d.delivered, attempts = d.attempts, "webhook");
        if let Ok(mut l) = log.lock() {
            l.push(d);
        }
        pending.fetch_sub(1, Ordering::SeqCst);
        idle.notify_waiters();
    }
}
