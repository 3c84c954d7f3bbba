use crate::error::{ApiErrorBody, ClientError, decode_json};
use crate::models::{
    AccountBalance, FoundUser, HistoryQuery, InitiatedPayout, KycSession, Payout, PayoutCommit,
    PayoutRequest, StoredUser, TaxInterviewLink, Transaction,
};
use crate::retry::{RetryBudget, RetryPolicy, parse_retry_after};
use crate::split::ArraySplitter;
use crate::tax::TaxPull;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
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
///
/// The Bearer key never travels in clear: `http://` is accepted only for a loopback host
/// (`127.0.0.0/8`, `::1`, `localhost`), e.g. the local emulator; any other `http://` base is an
/// error. User info (`user:pass@`) is refused too.
pub fn normalize_base_url(url: &str) -> Result<String, ClientError> {
    let t = url.trim();
    if !(t.starts_with("https://") || t.starts_with("http://")) {
        return Err(ClientError::Config(format!(
            "base URL must start with https:// (got {:?})",
            t.chars().take(60).collect::<String>()
        )));
    }
    if t.contains(['?', '#', ' ']) {
        return Err(ClientError::Config(
            "base URL must not contain a query, fragment or spaces".into(),
        ));
    }
    check_transport(t)?;
    let mut s = t.trim_end_matches('/');
    if let Some(stripped) = s.strip_suffix("/payout") {
        s = stripped.trim_end_matches('/');
    }
    Ok(s.to_string())
}

/// Refuses a base URL over which the key would travel in clear.
pub(crate) fn check_transport(url: &str) -> Result<(), ClientError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|_| ClientError::Config("base URL is not a valid URL".into()))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(ClientError::Config(
            "base URL must not contain a user name or password".into(),
        ));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(ClientError::Config(format!(
            "base URL http://{}… is not loopback: the API key would travel in clear; use https:// \
             (http:// is accepted only for 127.0.0.0/8, ::1 and localhost)",
            parsed.host_str().unwrap_or("")
        ))),
        other => Err(ClientError::Config(format!(
            "base URL scheme {other}:// is not supported; use https://"
        ))),
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.eq_ignore_ascii_case("localhost.")
        }
        None => false,
    }
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
    /// Largest body accepted from any endpoint except the streamed `GET /payout/tax` array
    /// (default 16 MiB); a larger one is refused with [`ClientError::BodyTooLarge`].
    pub max_body_bytes: u64,
    /// Most pages one history listing may take (default 10,000 pages of 100 records).
    pub max_history_pages: u32,
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
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_history_pages: 10_000,
        })
    }
}

/// Default [`ClientConfig::max_body_bytes`]: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// Records per history page (MassPay's maximum).
pub const HISTORY_PAGE_SIZE: usize = 100;

/// A MassPay payout API client.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    retry: RetryPolicy,
    request_timeout: Duration,
    max_body_bytes: u64,
    max_history_pages: u32,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// `METHOD /payout/path`, never with the query (it may hold an email or an internal id).
fn endpoint_of(method: &Method, path: &str) -> String {
    format!("{method} /payout/{}", path.trim_start_matches('/'))
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        // `base_url` is a public field: check it again, whoever built the config.
        check_transport(&config.base_url)?;
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
            // A redirect could carry the key elsewhere (or to http://): never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(config.base_url.starts_with("https://"))
            .build()
            .map_err(|e| ClientError::Config(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: config.base_url,
            retry: config.retry,
            request_timeout: config.request_timeout,
            max_body_bytes: config.max_body_bytes,
            max_history_pages: config.max_history_pages.max(1),
        })
    }

    /// The normalised base URL (without `/payout`).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// A fresh retry budget for one logical call (see [`RetryPolicy`]).
    pub fn budget(&self) -> RetryBudget {
        self.retry.budget()
    }

    fn url(&self, path: &str) -> String {
        format!("{}/payout/{}", self.base, path.trim_start_matches('/'))
    }

    /// Sends a request under `budget` and returns the successful response (body unread).
    /// Every try of one mutating call carries the same `Idempotency-Key`.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        budget: &RetryBudget,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        whole_timeout: bool,
        idempotency_key: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let endpoint = endpoint_of(&method, path);
        let url = self.url(path);
        loop {
            if !budget.take_try() {
                return Err(ClientError::BudgetSpent {
                    endpoint,
                    tries: budget.tries(),
                });
            }
            let tries = budget.tries();
            let mut req = self.http.request(method.clone(), &url).query(query);
            if whole_timeout {
                req = req.timeout(self.request_timeout);
            }
            if let Some(key) = idempotency_key {
                req = req.header("Idempotency-Key", key);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after =
                        parse_retry_after(resp.headers().get(reqwest::header::RETRY_AFTER));
                    if RetryPolicy::retryable_status(status.as_u16())
                        && let Some(wait) = budget.next_wait(retry_after)
                    {
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
                    // The URL (and its query) never goes into a log line or an error.
                    let e = e.without_url();
                    if let Some(wait) = budget.next_wait(None) {
                        tracing::warn!(%endpoint, try_ = tries, wait_ms = wait.as_millis() as u64, error = %e, "retrying after transport error");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(ClientError::Transport {
                        endpoint,
                        tries,
                        source: e,
                    });
                }
            }
        }
    }

    /// A JSON call whose whole body is read (up to `max_body_bytes`), retried as a unit under one
    /// budget (a body cut short is retried too, on GETs and on calls with an idempotency key).
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, ClientError> {
        let key = (method != Method::GET).then(|| uuid::Uuid::new_v4().to_string());
        self.call_keyed(method, path, query, body, key.as_deref())
            .await
    }

    async fn call_keyed<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ClientError> {
        let endpoint = endpoint_of(&method, path);
        let budget = self.budget();
        let replay_safe = method == Method::GET || idempotency_key.is_some();
        loop {
            let resp = self
                .send(
                    &budget,
                    method.clone(),
                    path,
                    query,
                    body,
                    true,
                    idempotency_key,
                )
                .await?;
            match read_body(resp, self.max_body_bytes, &endpoint).await {
                Ok(bytes) => return decode_json(&endpoint, &bytes),
                Err(BodyError::TooLarge(limit)) => {
                    return Err(ClientError::BodyTooLarge { endpoint, limit });
                }
                Err(BodyError::Transport(e)) => {
                    let wait = if replay_safe {
                        budget.next_wait(None)
                    } else {
                        None
                    };
                    let Some(wait) = wait else {
                        return Err(ClientError::Transport {
                            endpoint,
                            tries: budget.tries(),
                            source: e,
                        });
                    };
                    tracing::warn!(%endpoint, error = %e, "body cut short; retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Opens `GET /payout/tax?tax_year=&amount_threshold=` for streaming, under a budget of
    /// its own. See [`Client::tax_pull_in`] to share one budget across re-pulls.
    ///
    /// `amount_threshold` keeps MassPay's meaning: rows whose balance **strictly exceeds** it. Pass
    /// `0` (or a value below the IRS threshold) and filter locally: passing the IRS threshold
    /// itself would drop the payee paid exactly that amount.
    pub async fn tax_pull(
        &self,
        tax_year: i32,
        amount_threshold: Decimal,
    ) -> Result<TaxPull, ClientError> {
        self.tax_pull_in(&self.budget(), tax_year, amount_threshold)
            .await
    }

    /// [`Client::tax_pull`] under a caller's budget: a sync that re-pulls after a body cut
    /// short passes the same budget every time, so the whole sync stays within one budget
    /// (ask [`RetryBudget::next_wait`] before pulling again).
    pub async fn tax_pull_in(
        &self,
        budget: &RetryBudget,
        tax_year: i32,
        amount_threshold: Decimal,
    ) -> Result<TaxPull, ClientError> {
        let query = [
            ("tax_year", tax_year.to_string()),
            ("amount_threshold", amount_threshold.normalize().to_string()),
        ];
        let before = budget.tries();
        let response = self
            .send(budget, Method::GET, "tax", &query, None, false, None)
            .await?;
        Ok(TaxPull {
            endpoint: "GET /payout/tax".into(),
            response,
            splitter: ArraySplitter::new(),
            hasher: sha2::Sha256::new(),
            bytes: 0,
            next_index: 0,
            ended: false,
            tries: budget.tries() - before,
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
    /// 100 until a short page (MassPay sends no total or cursor). Bounded even when every page
    /// is full: each page is one logical call with its own retry budget, at most
    /// [`ClientConfig::max_history_pages`] pages are asked for, and a page that repeats the one
    /// before (a server ignoring `page`) ends the listing; both are a [`ClientError::Paging`].
    pub async fn history(
        &self,
        user_token: Option<&str>,
        query: &HistoryQuery,
    ) -> Result<Vec<Transaction>, ClientError> {
        let path = match user_token {
            Some(t) => format!("user/{}/history", path_segment(t)?),
            None => "user/history".to_string(),
        };
        let endpoint = endpoint_of(&Method::GET, &path);
        let mut all: Vec<Transaction> = Vec::new();
        let mut previous: Option<Vec<String>> = None;
        for page in 1..=self.max_history_pages {
            let mut q = vec![
                ("number_of_records", HISTORY_PAGE_SIZE.to_string()),
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
            if batch.len() < HISTORY_PAGE_SIZE {
                all.extend(batch);
                return Ok(all);
            }
            let tokens: Vec<String> = batch.iter().map(|t| t.token.clone()).collect();
            if previous.as_ref() == Some(&tokens) {
                return Err(ClientError::Paging {
                    endpoint,
                    message: format!(
                        "page {page} repeats page {} (the server seems to ignore `page`); stopped",
                        page - 1
                    ),
                });
            }
            previous = Some(tokens);
            all.extend(batch);
        }
        Err(ClientError::Paging {
            endpoint,
            message: format!(
                "every one of {} pages was full; stopped at the page bound (max_history_pages)",
                self.max_history_pages
            ),
        })
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

    /// `GET /payout/{user_token}/tax`: the W-8/W-9 interview link.
    pub async fn tax_interview_link(
        &self,
        user_token: &str,
        return_url: Option<&str>,
    ) -> Result<TaxInterviewLink, ClientError> {
        let q: Vec<(&str, String)> = return_url
            .map(|r| ("return_url", r.to_string()))
            .into_iter()
            .collect();
        self.call(
            Method::GET,
            &format!("{}/tax", path_segment(user_token)?),
            &q,
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

    /// Typed `POST /payout/{user_token}`. The `Idempotency-Key` is the request's
    /// `client_transfer_id` when it has one (MassPay's advice), else a fresh UUID. The answer is
    /// a quote to commit, or the commit result when `auto_commit` was set.
    pub async fn create_payout(
        &self,
        user_token: &str,
        request: &PayoutRequest,
    ) -> Result<InitiatedPayout, ClientError> {
        let path = path_segment(user_token)?.to_string();
        let body = serde_json::to_value(request)
            .map_err(|_| ClientError::Config("the payout request cannot be written".into()))?;
        let key = request
            .client_transfer_id
            .clone()
            .filter(|k| !k.trim().is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let v: serde_json::Value = self
            .call_keyed(Method::POST, &path, &[], Some(&body), Some(&key))
            .await?;
        InitiatedPayout::from_value(&endpoint_of(&Method::POST, &path), v)
    }

    /// `PUT /payout/{user_token}/{payout_token}`: commits an initiated payout.
    pub async fn commit_payout(
        &self,
        user_token: &str,
        payout_token: &str,
    ) -> Result<PayoutCommit, ClientError> {
        let path = format!(
            "{}/{}",
            path_segment(user_token)?,
            path_segment(payout_token)?
        );
        // The same key on every try: a retried commit is never a second commit.
        let key = format!("commit-{}", path_segment(payout_token)?);
        self.call_keyed(Method::PUT, &path, &[], None, Some(&key))
            .await
    }

    /// `GET /payout/{user_token}/{payout_token}`: a payout and its current status.
    pub async fn payout(
        &self,
        user_token: &str,
        payout_token: &str,
    ) -> Result<Payout, ClientError> {
        self.call(
            Method::GET,
            &format!(
                "{}/{}",
                path_segment(user_token)?,
                path_segment(payout_token)?
            ),
            &[],
            None,
        )
        .await
    }

    /// `GET /payout/{user_token}`: the user's payouts.
    pub async fn user_payouts(&self, user_token: &str) -> Result<Vec<Payout>, ClientError> {
        self.call(Method::GET, path_segment(user_token)?, &[], None)
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

enum BodyError {
    TooLarge(u64),
    Transport(reqwest::Error),
}

/// Reads a whole body, refusing one over `limit` bytes (by `Content-Length` up front, or as
/// it arrives).
async fn read_body(
    mut resp: reqwest::Response,
    limit: u64,
    endpoint: &str,
) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        tracing::warn!(%endpoint, limit, "body over the size limit refused");
        return Err(BodyError::TooLarge(limit));
    }
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if (out.len() + chunk.len()) as u64 > limit {
                    tracing::warn!(%endpoint, limit, "body over the size limit refused");
                    return Err(BodyError::TooLarge(limit));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(BodyError::Transport(e.without_url())),
        }
    }
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
        for ok in [
            "http://127.0.0.1:8080/v1.0.0/payout/",
            "http://127.5.6.7/v1.0.0",
            "http://localhost:9/v1.0.0",
            "http://[::1]:9/v1.0.0",
        ] {
            assert!(normalize_base_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.masspay.io/v1.0.0",
            "http://10.0.0.1/v1.0.0",
            "http://localhost.evil.example/v1.0.0",
            "http://[::2]/v1.0.0",
            "https://user:pw@api.masspay.io/v1.0.0",
            "ftp://api.masspay.io/",
        ] {
            assert!(normalize_base_url(bad).is_err(), "{bad}");
        }
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
