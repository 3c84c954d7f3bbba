//! A local, deterministic, seeded emulator of the MassPay payout API.
//!
//! It serves MassPay's real routes, shapes and quirks (see `shared/reference/masspay-api.md`)
//! on `127.0.0.1`, for tests, benchmarks and the CLI's built-in sandbox. Every route is served
//! under both `/v1.0.0/payout/...` and `/payout/...`. All routes need
//! `Authorization: Bearer <api_key>` (scheme case-insensitive); otherwise 401.
//!
//! | Route | Answer |
//! |---|---|
//! | `GET /payout/tax?tax_year=&amount_threshold=` | bare `TaxYearUserResp[]`, streamed; hard cases first, then bulk payees. `tax_year` defaults to the previous calendar year. `amount_threshold` keeps `balance > threshold`, compared exactly on the decimal value of the balance text. `postal_code` is a JSON number when all digits (leading zeros lost), a string otherwise (ZIP+4, foreign), `null` when empty. `tax_id` may be absent, `null`, `""` or any string. 400 for an unparseable parameter. |
//! | `GET /payout/account/balance` | `[{"token":"clnt_wlt_…","balance":…,"currency_code":"USD"}]` |
//! | `GET /payout/user/{user_token}` | `StoredUser` (`postal_code` is a string here, `status` ACTIVE/DEACTIVE) or 404 |
//! | `GET /payout/user/lookup?email=&first_name=` or `?internal_user_id=` | `FoundUser` (with `status`) or 404; 400 without usable parameters |
//! | `GET /payout/user/{user_token}/history`, `GET /payout/user/history` | bare `TxnHistoryResp[]`; `number_of_records` (default 10, 0–100), `page` (1-based), `start_date`/`end_date` (`YYYY-MM-DD`, default: the previous calendar year), `type` (`payout,load,spendback`; the response says `"spend back"`). The last page is the first one shorter than `number_of_records`. Per user: newest first. All users: grouped by user in listing order, newest first within a user. |
//! | `GET /payout/user/{user_token}/kyc/id` | `KYCSession[]` |
//! | `POST /payout/{user_token}` | needs `Idempotency-Key`; body `PayoutTxn` (`source_token` must be the `clnt_wlt_…` token, `destination_token`, `destination_currency_code`, one of `source_amount`/`destination_amount`). 200 `PayoutTxnResp` with `status: "SCHEDULED"`; held users get 400 `"Documentation required."` with the upload link inside `error.details`. The first result for a key (including 400 holds and injected 500s) is replayed byte-identically for 24 h; the same key with a different body or user is a 400. Validation errors are not saved. |
//! | `GET /payout/{user_token}/tax?return_url=` | `{"interview_url": "…"}` |
//! | anything else | 404 (405 for a known path with the wrong method), standard error body |
//!
//! Data: see [`data`] (hard-case table). Faults: see [`FaultConfig`] and [`FaultKind`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = masspay_emulator::spawn(masspay_emulator::EmulatorConfig::default()).await?;
//! let base = emu.base_url(); // "http://127.0.0.1:PORT/v1.0.0/payout/"
//! // GET {base}tax?tax_year=2024 with "Authorization: Bearer sandbox_test_key_not_secret"
//! emu.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod data;
mod dates;
mod errors;
mod faults;
mod handlers;
mod json;

pub use faults::{FaultConfig, FaultKind, fault_for};
pub use json::parse_number_text;

use errors::{ApiError, bad_gateway_html, json_response, legacy_internal_body};

/// The API key the sandbox accepts by default. Not a secret.
pub const SANDBOX_API_KEY: &str = "sandbox_test_key_not_secret";

/// The default data seed.
pub const DEFAULT_SEED: u64 = 2025;

/// Name of the response header that marks an injected fault.
pub const FAULT_HEADER: &str = "x-emulator-fault";

/// Emulator settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Data seed: same seed, same data, byte for byte.
    pub seed: u64,
    /// The only accepted bearer token.
    pub api_key: String,
    /// Generated payees per tax year, in addition to the fixed hard cases.
    pub bulk_payees: usize,
    /// Fault injection.
    pub faults: FaultConfig,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: DEFAULT_SEED,
            api_key: SANDBOX_API_KEY.to_string(),
            bulk_payees: 200,
            faults: FaultConfig::default(),
        }
    }
}

/// The tax year used when `tax_year` is not given: the previous calendar year (UTC).
pub fn default_tax_year() -> i32 {
    dates::current_year() - 1
}

/// What the fault layer asks of a handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Directive {
    None,
    Internal { legacy: bool },
    Drop,
}

/// Response marker: the handler produced the final answer under `Directive::Internal`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Handled;

/// Response marker: the handler implemented `Directive::Drop` itself (partial body then abort).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PartialBody;

pub(crate) struct AppState {
    pub(crate) config: EmulatorConfig,
    pub(crate) pop: data::Population,
    pub(crate) counter: Arc<AtomicU64>,
    pub(crate) idem: Mutex<HashMap<String, handlers::Saved>>,
}

fn authorized(headers: &HeaderMap, key: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    let token = token.trim().as_bytes();
    let key = key.as_bytes();
    // Length leaks, contents do not.
    scheme.eq_ignore_ascii_case("bearer")
        && token.len() == key.len()
        && token.iter().zip(key).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn aborted_response() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, io::Error>(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "emulated dropped connection",
        ))
    });
    Response::new(Body::from_stream(stream))
}

async fn gate(State(app): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let n = app.counter.fetch_add(1, Ordering::SeqCst);
    if !authorized(req.headers(), &app.config.api_key) {
        tracing::debug!(n, method = %req.method(), path = %req.uri().path(), "unauthorized");
        let mut resp = ApiError::unauthorized().into_response();
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    }
    let fault = fault_for(&app.config.faults, n);
    tracing::debug!(
        n,
        method = %req.method(),
        path = %req.uri().path(),
        fault = fault.map(FaultKind::as_str),
        "request"
    );
    let Some(kind) = fault else {
        req.extensions_mut().insert(Directive::None);
        return next.run(req).await;
    };
    let mut resp = match kind {
        FaultKind::Slow => {
            tokio::time::sleep(Duration::from_millis(app.config.faults.slow_ms)).await;
            req.extensions_mut().insert(Directive::None);
            next.run(req).await
        }
        FaultKind::TooManyRequests => {
            let mut r = ApiError::too_many_requests().into_response();
            if let Ok(v) = HeaderValue::from_str(&app.config.faults.retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        FaultKind::BadGateway => bad_gateway_html(),
        FaultKind::ServiceUnavailable => ApiError::service_unavailable().into_response(),
        FaultKind::GatewayTimeout => ApiError::gateway_timeout().into_response(),
        FaultKind::InternalError | FaultKind::InternalErrorLegacy => {
            let legacy = kind == FaultKind::InternalErrorLegacy;
            req.extensions_mut().insert(Directive::Internal { legacy });
            let r = next.run(req).await;
            if r.extensions().get::<Handled>().is_some() {
                r
            } else if legacy {
                json_response(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    legacy_internal_body(),
                )
            } else {
                ApiError::internal().into_response()
            }
        }
        FaultKind::DroppedConnection => {
            req.extensions_mut().insert(Directive::Drop);
            let r = next.run(req).await;
            if r.extensions().get::<PartialBody>().is_some() {
                r
            } else {
                aborted_response()
            }
        }
    };
    resp.headers_mut().insert(
        HeaderName::from_static(FAULT_HEADER),
        HeaderValue::from_static(kind.as_str()),
    );
    resp
}

fn build(config: EmulatorConfig) -> (Router, Arc<AtomicU64>) {
    let counter = Arc::new(AtomicU64::new(0));
    let state = Arc::new(AppState {
        pop: data::Population::new(config.seed, config.bulk_payees),
        config,
        counter: counter.clone(),
        idem: Mutex::new(HashMap::new()),
    });
    let api: Router<Arc<AppState>> = Router::new()
        .route("/tax", get(handlers::tax))
        .route("/account/balance", get(handlers::account_balance))
        .route("/user/lookup", get(handlers::user_lookup))
        .route("/user/history", get(handlers::all_history))
        .route("/user/{user_token}", get(handlers::get_user))
        .route("/user/{user_token}/history", get(handlers::user_history))
        .route("/user/{user_token}/kyc/id", get(handlers::kyc_sessions))
        .route("/{user_token}", post(handlers::initiate_payout))
        .route("/{user_token}/tax", get(handlers::tax_interview));
    let router = Router::new()
        .nest("/v1.0.0/payout", api.clone())
        .nest("/payout", api)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .fallback(handlers::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state);
    (router, counter)
}

/// The emulator as an axum router (for embedding; [`spawn`] is the usual entry point).
pub fn router(config: EmulatorConfig) -> Router {
    build(config).0
}

/// A running emulator. Dropping it starts a graceful shutdown; [`RunningEmulator::shutdown`]
/// also waits for it.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    shutdown_tx: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The bound address (always `127.0.0.1`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1.0.0/payout/`, written like MassPay's own bases.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1.0.0/payout/", self.addr)
    }

    /// Requests received so far (including 401s and faulted ones).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Stops accepting connections and waits (up to 5 s) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `127.0.0.1:0` and serves the emulator on a background task.
pub async fn spawn(config: EmulatorConfig) -> io::Result<RunningEmulator> {
    spawn_on(config, 0).await
}

/// Binds `127.0.0.1:port` and serves the emulator on a background task.
pub async fn spawn_on(config: EmulatorConfig, port: u16) -> io::Result<RunningEmulator> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let addr = listener.local_addr()?;
    let (router, requests) = build(config);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "MassPay emulator stopped with an error");
        }
    });
    tracing::info!(%addr, "MassPay emulator listening");
    Ok(RunningEmulator {
        addr,
        requests,
        shutdown_tx: Some(tx),
        task: Some(task),
    })
}
