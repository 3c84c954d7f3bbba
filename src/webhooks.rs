//! The receiver of MassPay status webhooks (`webhooks serve`).
//!
//! * Any path, `POST` only. `X-MassPay-Signature: t=TIMESTAMP,s=HEX`: HMAC-SHA512 over
//!   `TIMESTAMP|raw body`, keyed with `MASSPAY_WEBHOOK_SECRET`, compared in constant time; the
//!   timestamp (seconds or milliseconds) must be within the tolerance (default 5 minutes).
//!   Bad or stale signatures: 401, logged without the body. Bodies over the limit: 413.
//! * Every accepted event is stored (encrypted: a tax-interview event holds a full TIN) before
//!   the 2xx answer, once per distinct body: a redelivery or a replay answers 200, stores
//!   nothing new.
//! * Effects: a payout event adds to its status history (a flip is a notice) and `HOLD` opens a
//!   hold; a user event `ACTIVE` releases the user's hold; a tax-interview event becomes the
//!   payee's tax form on file (TIN encrypted), as an imported W-9 / W-8 is.

use anyhow::Result;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode};
use hmac::{Hmac, Mac};
use masspay_tax_store::Store;
use masspay_tax_store::holds::HoldInput;
use masspay_tax_store::tax_forms::TaxFormRow;
use serde_json::Value;
use sha2::Sha512;
use std::sync::Arc;

/// The environment variable holding the webhook secret.
pub const SECRET_ENV: &str = "MASSPAY_WEBHOOK_SECRET";
/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-masspay-signature";

/// The shared secret (never printed).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Result<Self> {
        let s = s.into();
        anyhow::ensure!(!s.trim().is_empty(), "the webhook secret is empty");
        Ok(Secret(s))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How the receiver checks and limits requests.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    pub secret: Secret,
    pub tolerance_secs: i64,
    pub max_body_bytes: usize,
}

/// Why a signature was refused (words for the log: never the body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Stale,
    Mismatch,
}

impl SignatureError {
    pub fn words(self) -> &'static str {
        match self {
            SignatureError::Missing => "no X-MassPay-Signature header",
            SignatureError::Malformed => "X-MassPay-Signature is not t=TIMESTAMP,s=HEX",
            SignatureError::Stale => "timestamp outside the tolerance (stale or replayed)",
            SignatureError::Mismatch => "signature does not match",
        }
    }
}

/// Verifies a signature header for `body` at `now` (Unix seconds). Returns the timestamp in
/// seconds.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &Secret,
    tolerance_secs: i64,
    now: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let (mut t, mut s) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.trim()),
            Some(("s", v)) => s = Some(v.trim()),
            _ => {}
        }
    }
    let (Some(t_text), Some(s)) = (t, s) else {
        return Err(SignatureError::Malformed);
    };
    let ts: i64 = t_text.parse().map_err(|_| SignatureError::Malformed)?;
    let secs = if ts.abs() >= 100_000_000_000 {
        ts / 1000
    } else {
        ts
    };
    let sig = hex::decode(s).map_err(|_| SignatureError::Malformed)?;
    let mut mac = Hmac::<Sha512>::new_from_slice(secret.0.as_bytes())
        .map_err(|_| SignatureError::Mismatch)?;
    mac.update(t_text.as_bytes());
    mac.update(b"|");
    mac.update(body);
    mac.verify_slice(&sig)
        .map_err(|_| SignatureError::Mismatch)?;
    if (now - secs).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    Ok(secs)
}

/// The event type: `event_type` when present, else from the token fields (older accounts).
pub fn event_type(v: &Value) -> String {
    if let Some(t) = v.get("event_type").and_then(Value::as_str) {
        return t.to_string();
    }
    let has = |k: &str| v.get(k).is_some();
    if has("payout_token") {
        "payout"
    } else if has("load_token") {
        "load"
    } else if has("spendback_token") {
        "spendback"
    } else if has("AccountId") || has("TIN") || has("FormType") {
        "tax-interview"
    } else if has("user_token") {
        "user"
    } else {
        "unknown"
    }
    .to_string()
}

struct AppState {
    store: Store,
    cfg: ReceiverConfig,
    /// One writer at a time (SQLite has one writer anyway; keeps transactions short).
    write: tokio::sync::Mutex<()>,
}

/// The receiver's router: `POST` on any path.
pub fn router(store: Store, cfg: ReceiverConfig) -> Router {
    let limit = cfg.max_body_bytes;
    let state = Arc::new(AppState {
        store,
        cfg,
        write: tokio::sync::Mutex::new(()),
    });
    Router::new()
        .fallback(receive)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn receive(
    State(app): State<Arc<AppState>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    if method != Method::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "POST only\n");
    }
    let now = chrono::Utc::now().timestamp();
    let header = headers.get(SIGNATURE_HEADER).and_then(|h| h.to_str().ok());
    let signed_at = match verify(header, &body, &app.cfg.secret, app.cfg.tolerance_secs, now) {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(bytes = body.len(), "webhook refused: {}", e.words());
            return (StatusCode::UNAUTHORIZED, "signature refused\n");
        }
    };
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        tracing::warn!(bytes = body.len(), "webhook refused: the body is not JSON");
        return (StatusCode::BAD_REQUEST, "body is not JSON\n");
    };
    let kind = event_type(&value);
    let store = &app.store;
    let key = store.webhook_event_key(&body);
    let payload = String::from_utf8_lossy(&body).into_owned();
    let _guard = app.write.lock().await;
    let id = match store
        .record_webhook_event(&key, &kind, signed_at, &payload)
        .await
    {
        Ok(Some(id)) => id,
        Ok(None) => return (StatusCode::OK, "duplicate\n"),
        Err(e) => {
            tracing::error!("storing a webhook event: {e}");
            return (StatusCode::SERVICE_UNAVAILABLE, "not stored\n");
        }
    };
    if let Err(e) = apply(store, &kind, &value).await {
        tracing::error!(event_type = %kind, "applying a webhook event: {e:#}");
        // Undo the record so MassPay's redelivery applies it again.
        let _ = store.delete_webhook_event(id).await;
        return (StatusCode::SERVICE_UNAVAILABLE, "not applied\n");
    }
    tracing::info!(event_type = %kind, "webhook event stored");
    (StatusCode::OK, "ok\n")
}

/// What an accepted event changes.
pub async fn apply(store: &Store, kind: &str, v: &Value) -> Result<()> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    match kind {
        "payout" => {
            crate::payouts::record_event(store, v, "webhook").await?;
            let status = v.get("status").and_then(Value::as_str).unwrap_or("");
            if status.eq_ignore_ascii_case("HOLD")
                && let Some(user) = v.get("user_token").and_then(Value::as_str)
            {
                let h = HoldInput {
                    user_token: user.to_string(),
                    reason: v
                        .get("status_reason")
                        .and_then(Value::as_str)
                        .filter(|s| !s.trim().is_empty())
                        .map(str::to_string)
                        .or_else(|| Some("Payout on hold".into())),
                    link_kind: None,
                    upload_link: None,
                    at: now,
                    source: "webhook".into(),
                };
                let mut r = crate::holds::OpenReport::default();
                crate::holds::open(store, &h, &mut r).await?;
            }
        }
        "user" => {
            let status = v.get("status").and_then(Value::as_str).unwrap_or("");
            if status.eq_ignore_ascii_case("ACTIVE")
                && let Some(user) = v.get("user_token").and_then(Value::as_str)
                && let Some(h) = store.active_hold(user).await?
                && store
                    .transition_hold(h.id, "released", &now, "webhook", None)
                    .await?
            {
                let n = crate::notify::Notice {
                    kind: "hold_released".into(),
                    text: format!("KYC hold released for {user}"),
                    fields: serde_json::json!({"hold_id": h.id, "user_token": user, "released_at": now}),
                };
                crate::notify::Notifier::record(store, &format!("hold_released:{}", h.id), &n)
                    .await?;
            }
        }
        "tax-interview" => {
            if let Some(row) = tax_form_from_event(v) {
                store
                    .import_tax_forms_with(
                        std::slice::from_ref(&row),
                        &masspay_tax_store::tax_forms::ImportWrite::default(),
                    )
                    .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The tax form a tax-interview (W-9 / W-8) event describes.
pub fn tax_form_from_event(v: &Value) -> Option<TaxFormRow> {
    use masspay_tax_rules::tin::{TinRules, TinType, check_tin};
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let user_token = s("AccountId").or_else(|| s("user_token"))?;
    let compact: String = s("FormType")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_uppercase();
    let form_type = match compact.as_str() {
        "W9" => "W-9",
        "W8BEN" => "W-8BEN",
        "W8BENE" => "W-8BEN-E",
        "W8ECI" => "W-8ECI",
        "W8EXP" => "W-8EXP",
        "W8IMY" => "W-8IMY",
        _ if v.get("IsUSPerson").and_then(Value::as_bool) == Some(true) => "W-9",
        _ => "W-8BEN",
    }
    .to_string();
    let declared = match s("TINType")
        .unwrap_or_default()
        .to_ascii_uppercase()
        .as_str()
    {
        "SSN" => Some(TinType::Ssn),
        "EIN" => Some(TinType::Ein),
        "ITIN" => Some(TinType::Itin),
        "ATIN" => Some(TinType::Atin),
        _ => None,
    };
    let tin_text = s("TIN");
    let foreign = s("TINType").is_some_and(|t| t.eq_ignore_ascii_case("FTIN"));
    let (tin, tin_type, foreign_tin) = if foreign || form_type != "W-9" && declared.is_none() {
        (None, None, tin_text)
    } else {
        let check = check_tin(tin_text.as_deref(), declared, &TinRules::default());
        (
            tin_text.map(|t| t.chars().filter(char::is_ascii_digit).collect()),
            Some(check.tin_type.as_str().to_string()),
            None,
        )
    };
    let legal_name = s("LegalName").unwrap_or_else(|| {
        [s("FirstName"), s("LastName")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    });
    Some(TaxFormRow {
        user_token,
        form_type,
        legal_name,
        tin,
        tin_type,
        declared_tin_type: declared.map(|d| d.as_str().to_string()),
        country_of_residence: s("TaxTreatyCountryCode"),
        foreign_tin,
        signature_date: s("ModifiedOn")
            .or_else(|| s("CreatedOn"))
            .and_then(|d| d.get(..10).map(str::to_string)),
        email: s("EmailAddress"),
        ..Default::default()
    })
}

/// Serves until SIGTERM / Ctrl-C (in-flight requests finish).
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    cfg: ReceiverConfig,
) -> Result<()> {
    axum::serve(listener, router(store, cfg))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let secret = Secret::new("whsec").unwrap();
        let body = br#"{"a":1}"#;
        let h = masspay_emulator::sign_webhook("whsec", 1_000, body);
        assert_eq!(verify(Some(&h), body, &secret, 300, 1_100), Ok(1_000));
        assert_eq!(
            verify(Some(&h), body, &secret, 300, 2_000),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(Some(&h), b"{}", &secret, 300, 1_000),
            Err(SignatureError::Mismatch)
        );
        let ms = masspay_emulator::sign_webhook("whsec", 1_000_000_000_000, body);
        assert!(verify(Some(&ms), body, &secret, 300, 1_000_000_000).is_ok());
        assert_eq!(
            verify(Some("junk"), body, &secret, 300, 0),
            Err(SignatureError::Malformed)
        );
        assert!(!format!("{secret:?}").contains("whsec"));
    }
}
