use crate::error::{ApiErrorBody, ClientError};
use crate::models::{AccountBalance, FoundUser, HistoryQuery, KycSession, StoredUser, Transaction};
use crate::retry::{RetryPolicy, parse_retry_after};
use crate::split::ArraySplitter;
use crate::tax::TaxPull;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use sha2::Digest;
use std::fmt;
use std::time::Duration;

/// MassPay's published environments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// `https://staging-api.masspay.io/v1.0.0/payout/`
    Sandbox,
    /// `https://api.masspay.io/v1.0.0/payout/`
    Production,
}

impl Environment {
    pub fn base_url(self) -> &'static str {
        match self {
            Environment::Sandbox => "https://staging-api.masspay.io/v1.0.0/payout/",
            Environment::Production => "https://api.masspay.io/v1.0.0/payout/",
        }
    }
}

/// Normalises a base URL written as MassPay's guide writes it
/// (`https://staging-api.masspay.io/v1.0.0/payout/`) or without the `payout/` part, to the form
/// without `/payout` and without a trailing slash (`https://staging-api.masspay.io/v1.0.0`).
pub fn normalize_base_url(url: &str) -> Result<String, ClientError> {
    let t = url.trim();
    if !(t.starts_with("https://") || t.starts_with("http://")) {
        return Err(ClientError::Config(format!(
            "base URL must start with https:// or http:// (got {:?})",
            t.chars().take(60).collect::<String>()
        )));
    }
    if t.contains(['?', '#', ' ']) {
        return Err(ClientError::Config(
            "base URL must not contain a query, fragment or spaces".into(),
        ));
    }
    let mut s = t.trim_end_matches('/');
    if let Some(stripped) = s.strip_suffix("/payout") {
        s = stripped.trim_end_matches('/');
    }
    Ok(s.to_string())
}

/// The API key. `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Result<Self, ClientError> {
        let key = key.into().trim().to_string();
        if key.is_empty() {
            return Err(ClientError::Config("the API key is empty".into()));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ClientError::Config(
                "the API key contains characters that cannot go in a header".into(),
            ));
        }
        Ok(ApiKey(key))
    }
    /// The key itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub api_key: ApiKey,
    pub retry: RetryPolicy,
    /// Whole-request timeout for ordinary calls (the streamed tax body is bounded by `read_timeout`).
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Longest silence allowed between two reads of a body.
    pub read_timeout: Duration,
}

impl ClientConfig {
    pub fn new(base_url: &str, api_key: ApiKey) -> Result<Self, ClientError> {
        Ok(ClientConfig {
            base_url: normalize_base_url(base_url)?,
            api_key,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
        })
    }
}

/// A MassPay payout API client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    retry: RetryPolicy,
    request_timeout: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.api_key.expose()))
            .map_err(|_| ClientError::Config("the API key cannot go in a header".into()))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("masspay-tax/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .build()
            .map_err(|e| ClientError::Config(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: config.base_url,
            retry: config.retry,
            request_timeout: config.request_timeout,
        })
    }

    /// The normalised base URL (without `/payout`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    fn url(&self, path: &str) -> String {
        format!("{}/payout/{}", self.base, path.trim_start_matches('/'))
    }

    /// Sends a request with retries and returns the successful response (body unread).
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        whole_timeout: bool,
    ) -> Result<(reqwest::Response, u32), ClientError> {
        let endpoint = format!("{method} /payout/{}", path.trim_start_matches('/'));
        let url = self.url(path);
        // One key for every try of one mutating call, so a retry is never a second payout.
        let idempotency_key = (method != Method::GET).then(|| uuid::Uuid::new_v4().to_string());
        let max = self.retry.max_tries.max(1);
        let mut tries = 0;
        loop {
            tries += 1;
            let mut req = self.http.request(method.clone(), &url).query(query);
            if whole_timeout {
                req = req.timeout(self.request_timeout);
            }
            if let Some(key) = &idempotency_key {
                req = req.header("Idempotency-Key", key);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok((resp, tries)),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after =
                        parse_retry_after(resp.headers().get(reqwest::header::RETRY_AFTER));
                    if RetryPolicy::retryable_status(status.as_u16()) && tries < max {
                        let wait = self.retry.delay(tries + 1, retry_after);
                        tracing::warn!(%endpoint, status = status.as_u16(), try_ = tries, wait_ms = wait.as_millis() as u64, "retrying");
                        drop(resp);
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let bytes = read_limited(resp, 64 * 1024).await;
                    return Err(ClientError::Api {
                        endpoint,
                        status: status.as_u16(),
                        tries,
                        body: bytes.as_deref().and_then(ApiErrorBody::parse).map(Box::new),
                    });
                }
                Err(e) if e.is_builder() => {
                    return Err(ClientError::Config(format!(
                        "{endpoint}: could not build the request"
                    )));
                }
                Err(e) => {
                    if tries < max {
                        let wait = self.retry.delay(tries + 1, None);
                        tracing::warn!(%endpoint, try_ = tries, wait_ms = wait.as_millis() as u64, error = %e, "retrying after transport error");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ClientError::Transport {
                        endpoint,
                        tries,
                        source: e.without_url(),
                    });
                }
            }
        }
    }

    /// A JSON call whose whole body is read, retried as a unit (a body cut short is retried too).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClientError> {
        let endpoint = format!("{method} /payout/{}", path.trim_start_matches('/'));
        let max = self.retry.max_tries.max(1);
        let mut attempt = 1;
        loop {
            let (resp, _) = self.send(method.clone(), path, query, body, true).await?;
            match resp.bytes().await {
                Ok(bytes) => {
                    return serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
                        endpoint,
                        message: e.to_string(),
                    });
                }
                Err(e) if attempt < max && method == Method::GET => {
                    attempt += 1;
                    tracing::warn!(%endpoint, error = %e, "body cut short; retrying");
                    tokio::time::sleep(self.retry.delay(attempt, None)).await;
                }
                Err(e) => {
                    return Err(ClientError::Transport {
                        endpoint,
                        tries: attempt,
                        source: e.without_url(),
                    });
                }
            }
        }
    }

    /// Opens `GET /payout/tax?tax_year=&amount_threshold=` for streaming.
    ///
    /// `amount_threshold` keeps MassPay's meaning: rows whose balance **strictly exceeds** it. Pass
    /// `0` (or a value below the IRS threshold) and filter locally: passing the IRS threshold
    /// itself would drop the payee paid exactly that amount.
    pub async fn tax_pull(
        &self,
        tax_year: i32,
        amount_threshold: Decimal,
    ) -> Result<TaxPull, ClientError> {
        let query = [
            ("tax_year", tax_year.to_string()),
            ("amount_threshold", amount_threshold.normalize().to_string()),
        ];
        let (response, tries) = self.send(Method::GET, "tax", &query, None, false).await?;
        Ok(TaxPull {
            endpoint: "GET /payout/tax".into(),
            response,
            splitter: ArraySplitter::new(),
            hasher: sha2::Sha256::new(),
            bytes: 0,
            next_index: 0,
            ended: false,
            tries,
        })
    }

    /// `GET /payout/account/balance`.
    pub async fn account_balance(&self) -> Result<Vec<AccountBalance>, ClientError> {
        self.call(Method::GET, "account/balance", &[], None).await
    }

    /// `GET /payout/user/{user_token}`.
    pub async fn user(&self, user_token: &str) -> Result<StoredUser, ClientError> {
        self.call(
            Method::GET,
            &format!("user/{}", path_segment(user_token)?),
            &[],
            None,
        )
        .await
    }

    /// `GET /payout/user/lookup` by email and first name.
    pub async fn lookup_user(
        &self,
        email: &str,
        first_name: &str,
    ) -> Result<FoundUser, ClientError> {
        let q = [
            ("email", email.to_string()),
            ("first_name", first_name.to_string()),
        ];
        self.call(Method::GET, "user/lookup", &q, None).await
    }

    /// `GET /payout/user/lookup` by your own internal user id.
    pub async fn lookup_internal_id(
        &self,
        internal_user_id: &str,
    ) -> Result<FoundUser, ClientError> {
        let q = [("internal_user_id", internal_user_id.to_string())];
        self.call(Method::GET, "user/lookup", &q, None).await
    }

    /// Every page of `GET /payout/user/{user_token}/history` (or all users' when `None`): pages of
    /// 100 until a short page (MassPay sends no total or cursor).
    pub async fn history(
        &self,
        user_token: Option<&str>,
        query: &HistoryQuery,
    ) -> Result<Vec<Transaction>, ClientError> {
        const PAGE: usize = 100;
        let path = match user_token {
            Some(t) => format!("user/{}/history", path_segment(t)?),
            None => "user/history".to_string(),
        };
        let mut all = Vec::new();
        for page in 1.. {
            let mut q = vec![
                ("number_of_records", PAGE.to_string()),
                ("page", page.to_string()),
            ];
            if let Some(v) = &query.start_date {
                q.push(("start_date", v.clone()));
            }
            if let Some(v) = &query.end_date {
                q.push(("end_date", v.clone()));
            }
            if let Some(v) = &query.txn_type {
                q.push(("type", v.clone()));
            }
            let batch: Vec<Transaction> = self.call(Method::GET, &path, &q, None).await?;
            let short = batch.len() < PAGE;
            all.extend(batch);
            if short {
                break;
            }
        }
        Ok(all)
    }

    /// `GET /payout/user/{user_token}/kyc/id`.
    pub async fn kyc_sessions(&self, user_token: &str) -> Result<Vec<KycSession>, ClientError> {
        self.call(
            Method::GET,
            &format!("user/{}/kyc/id", path_segment(user_token)?),
            &[],
            None,
        )
        .await
    }

    /// `POST /payout/{user_token}` (initiate a payout). Sent with an `Idempotency-Key` reused on
    /// every retry. A KYC hold comes back as `ClientError::Api` with status 400 whose body's
    /// [`ApiErrorBody::upload_link`] is the document-upload link.
    pub async fn initiate_payout(
        &self,
        user_token: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ClientError> {
        self.call(Method::POST, path_segment(user_token)?, &[], Some(body))
            .await
    }

    /// Checks that the key is accepted (`GET /payout/account/balance`).
    pub async fn ping(&self) -> Result<(), ClientError> {
        self.account_balance().await.map(|_| ())
    }
}

/// A user token as one path segment: opaque, but no slashes or spaces.
fn path_segment(token: &str) -> Result<&str, ClientError> {
    let t = token.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(ClientError::Config(format!(
            "not a valid user token: {:?}",
            t.chars().take(60).collect::<String>()
        )));
    }
    Ok(t)
}

async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        out.extend_from_slice(&chunk);
        if out.len() >= limit {
            break;
        }
    }
    Some(out)
}

#[allow(dead_code)]
fn _status_is_send(_: StatusCode) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_as_masspay_writes_them() {
        for u in [
            "https://staging-api.masspay.io/v1.0.0/payout/",
            "https://staging-api.masspay.io/v1.0.0/payout",
            "https://staging-api.masspay.io/v1.0.0/",
            " https://staging-api.masspay.io/v1.0.0 ",
        ] {
            assert_eq!(
                normalize_base_url(u).unwrap(),
                "https://staging-api.masspay.io/v1.0.0",
                "{u}"
            );
        }
        assert_eq!(
            normalize_base_url(Environment::Production.base_url()).unwrap(),
            "https://api.masspay.io/v1.0.0"
        );
        assert!(normalize_base_url("staging-api.masspay.io").is_err());
        assert!(normalize_base_url("https://x/payout?x=1").is_err());
    }

    #[test]
    fn api_key_is_never_printed() {
        let k = ApiKey::new("sk_live_supersecret").unwrap();
        assert!(!format!("{k:?}").contains("supersecret"));
        assert!(ApiKey::new("  ").is_err());
        let c = Client::new(ClientConfig::new("http://127.0.0.1:1/v1.0.0", k).unwrap()).unwrap();
        assert!(!format!("{c:?}").contains("supersecret"));
    }

    #[test]
    fn tokens_are_checked_before_they_reach_a_path() {
        assert!(path_segment("usr_f4741aa2-9f39").is_ok());
        assert!(path_segment("../account").is_err());
        assert!(path_segment("a b").is_err());
    }
}
