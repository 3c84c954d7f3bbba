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
//! | `PUT /payout/{user_token}/{payout_token}` | commits an initiated payout: `PayoutTxnCommitResp` `{"payout_token","status":"success"}` (again `success` for a second commit; `failure` while the user is held; `ex_rate_expired` after the 2-minute quote). From then on the payout runs through its statuses (see [`sim`]) and each change is sent as a signed webhook. `auto_commit: true` on `POST` commits at once and answers `PayoutTxnCommitResp`. |
//! | `GET /payout/{user_token}/{payout_token}` | `PayoutTxnResp` with the current status (API payouts, and the payouts of the seeded history) or 404 |
//! | `GET /payout/{user_token}` | the user's `PayoutTxnResp[]`: payouts made through the API (newest first), then the seeded payouts of the current and previous year |
//! | `POST /payout/user/{user_token}/kyc/id` | an ID upload (`IDUpload[]`): counts as documents uploaded (below) |
//! | anything else | 404 (405 for a known path with the wrong method), standard error body |
//!
//! Sandbox controls (same bearer key; never faulted):
//!
//! | Route | Effect |
//! |---|---|
//! | `POST /sandbox/users/{user_token}/upload` | documents "uploaded": a `Submitted` KYC session now; after one step the hold is released (`ACTIVE`, payouts go through, `HOLD` payouts resume, a `user` webhook is sent). 200 `{"user_token","hold":"submitted"\|"none"}` |
//! | `POST /sandbox/tax/{year}/{user_token}/add` `{"amount": 100}` | adds a COMPLETED payout of `amount` to the payee's `year` (dated December 31, after its other payouts): the tax endpoint's balance and the history grow ("growing year"). 200 `{"user_token","tax_year","added","balance"}` |
//! | `POST /sandbox/clock/advance` `{"steps": n}` | moves the payout clock `n` steps. 200 `{"step"}` |
//! | `POST /sandbox/events` `{"kind":"load"\|"spendback"\|"user"\|"tax_interview","user_token":…,"amount"?,"tin"?}` | sends that webhook now (the tax-interview payload carries the payee's full TIN, or `tin`) |
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
pub mod sim;
pub mod webhooks;

pub use faults::{FaultConfig, FaultKind, fault_for};
pub use handlers::write_tax_body;
pub use json::parse_number_text;
pub use sim::PayoutClock;
pub use webhooks::{Delivery, SIGNATURE_HEADER, sign as sign_webhook};

use errors::{ApiError, bad_gateway_html, json_response, legacy_internal_body};

/// The API key the sandbox accepts by default. Not a secret.
pub const SANDBOX_API_KEY: &str = "sandbox_test_key_not_secret";

/// The default data seed.
pub const DEFAULT_SEED: u64 = 2025;

/// Name of the response header that marks an injected fault.
pub const FAULT_HEADER: &str = "x-emulator-fault";

/// Emulator settings. `Debug` hides the webhook secret.
#[derive(Clone, PartialEq, Eq)]
pub struct EmulatorConfig {
    /// Data seed: same seed, same data, byte for byte.
    pub seed: u64,
    /// The only accepted bearer token.
    pub api_key: String,
    /// Generated payees per tax year, in addition to the fixed hard cases.
    pub bulk_payees: usize,
    /// Fault injection.
    pub faults: FaultConfig,
    /// Where signed webhooks go (`None`: none are sent).
    pub webhook_url: Option<String>,
    /// The HMAC-SHA512 key of the `X-MassPay-Signature` header (a secret).
    pub webhook_secret: Option<String>,
    /// Whether payout webhooks also carry `user_token` (MassPay's published payload has none;
    /// without it a listener cannot tell whose payout went to `HOLD`). Default true.
    pub webhook_payout_user_token: bool,
    /// How payout statuses advance (default: one step per request received).
    pub payout_clock: PayoutClock,
    /// Server misbehaviour for client tests.
    pub quirks: Quirks,
    /// Serve this file, byte for byte, as the body of every `GET /payout/tax` (a recorded
    /// response, see [`write_tax_body`]), so a benchmark measures the client and not the
    /// emulator's own generation of the rows.
    pub recorded_tax_body: Option<std::path::PathBuf>,
}

/// Server misbehaviour, off by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quirks {
    /// History endpoints ignore `page` and always answer page 1.
    pub history_ignores_page: bool,
    /// History endpoints answer every page full (`number_of_records` distinct entries), forever.
    pub history_endless: bool,
    /// `GET /payout/account/balance` writes this string as `balance` (a body that does not
    /// decode).
    pub account_balance_text: Option<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: DEFAULT_SEED,
            api_key: SANDBOX_API_KEY.to_string(),
            bulk_payees: 200,
            faults: FaultConfig::default(),
            webhook_url: None,
            webhook_secret: None,
            webhook_payout_user_token: true,
            payout_clock: PayoutClock::default(),
            quirks: Quirks::default(),
            recorded_tax_body: None,
        }
    }
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("seed", &self.seed)
            .field("bulk_payees", &self.bulk_payees)
            .field("faults", &self.faults)
            .field("webhook_url", &self.webhook_url)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("payout_clock", &self.payout_clock)
            .field("quirks", &self.quirks)
            .finish_non_exhaustive()
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
    pub(crate) sim: Mutex<sim::Sim>,
    pub(crate) webhooks: webhooks::Webhooks,
    pub(crate) started: std::time::Instant,
}

impl AppState {
    pub(crate) fn sim(&self) -> std::sync::MutexGuard<'_, sim::Sim> {
        match self.sim.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The payout clock's step now (before manual steps).
    fn clock_step(&self) -> u64 {
        match self.config.payout_clock {
            PayoutClock::Requests(n) => self.counter.load(Ordering::SeqCst) / n.max(1),
            PayoutClock::Millis(ms) => {
                u64::try_from(self.started.elapsed().as_millis() / u128::from(ms.max(1)))
                    .unwrap_or(u64::MAX)
            }
            PayoutClock::Manual => 0,
        }
    }

    /// Brings the simulation to the current step and sends the webhooks of what changed.
    pub(crate) fn tick(&self) {
        let events = {
            let mut sim = self.sim();
            let step = self.clock_step() + sim.manual_steps;
            sim.advance_to(
                step,
                self.config.seed,
                self.config.webhook_payout_user_token,
            )
        };
        self.webhooks.send(events);
    }

    pub(crate) fn advance(&self, steps: u64) -> u64 {
        {
            let mut sim = self.sim();
            sim.manual_steps = sim.manual_steps.saturating_add(steps);
        }
        self.tick();
        self.sim().step
    }
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
    app.tick();
    if !authorized(req.headers(), &app.config.api_key) {
        tracing::debug!(n, method = %req.method(), path = %req.uri().path(), "unauthorized");
        let mut resp = ApiError::unauthorized().into_response();
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return resp;
    }
    let sandbox = req.uri().path().starts_with("/sandbox/");
    let fault = if sandbox {
        None
    } else {
        fault_for(&app.config.faults, n)
    };
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

fn build(config: EmulatorConfig) -> (Router, Arc<AppState>) {
    let counter = Arc::new(AtomicU64::new(0));
    let state = Arc::new(AppState {
        pop: data::Population::new(config.seed, config.bulk_payees),
        webhooks: webhooks::Webhooks::new(
            config.webhook_url.clone(),
            config.webhook_secret.clone(),
        ),
        config,
        counter,
        idem: Mutex::new(HashMap::new()),
        sim: Mutex::new(sim::Sim::default()),
        started: std::time::Instant::now(),
    });
    let api: Router<Arc<AppState>> = Router::new()
        .route("/tax", get(handlers::tax))
        .route("/account/balance", get(handlers::account_balance))
        .route("/user/lookup", get(handlers::user_lookup))
        .route("/user/history", get(handlers::all_history))
        .route("/user/{user_token}", get(handlers::get_user))
        .route("/user/{user_token}/history", get(handlers::user_history))
        .route(
            "/user/{user_token}/kyc/id",
            get(handlers::kyc_sessions).post(handlers::kyc_upload),
        )
        .route(
            "/{user_token}",
            post(handlers::initiate_payout).get(handlers::user_payouts),
        )
        .route("/{user_token}/tax", get(handlers::tax_interview))
        .route(
            "/{user_token}/{payout_token}",
            get(handlers::get_payout).put(handlers::commit_payout),
        );
    let sandbox: Router<Arc<AppState>> = Router::new()
        .route("/users/{user_token}/upload", post(handlers::sandbox_upload))
        .route("/tax/{year}/{user_token}/add", post(handlers::sandbox_add))
        .route("/clock/advance", post(handlers::sandbox_advance))
        .route("/events", post(handlers::sandbox_event));
    let router = Router::new()
        .nest("/v1.0.0/payout", api.clone())
        .nest("/payout", api)
        .nest("/sandbox", sandbox)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .fallback(handlers::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state.clone());
    (router, state)
}

/// The emulator as an axum router (for embedding; [`spawn`] is the usual entry point).
pub fn router(config: EmulatorConfig) -> Router {
    build(config).0
}

/// A running emulator. Dropping it starts a graceful shutdown; [`RunningEmulator::shutdown`]
/// also waits for it.
pub struct RunningEmulator {
    addr: SocketAddr,
    state: Arc<AppState>,
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
        self.state.counter.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:PORT`, the root of the `/sandbox/...` control routes.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Moves the payout clock `steps` steps; returns the step now.
    pub fn advance(&self, steps: u64) -> u64 {
        self.state.advance(steps)
    }

    /// Documents "uploaded" for a held user (as `POST /sandbox/users/{t}/upload`); `false`
    /// when the user is unknown or not held.
    pub fn upload_documents(&self, user_token: &str) -> bool {
        let Some(p) = self.state.pop.by_token(default_tax_year(), user_token) else {
            return false;
        };
        self.state.sim().upload(&p)
    }

    /// Adds `amount` to a payee's `year` (as `POST /sandbox/tax/{year}/{t}/add`); returns the
    /// year's new balance, or `None` for an unknown payee.
    pub fn add_to_year(
        &self,
        year: i32,
        user_token: &str,
        amount: rust_decimal::Decimal,
    ) -> Option<rust_decimal::Decimal> {
        handlers::add_to_year(&self.state, year, user_token, amount).ok()
    }

    /// Webhook deliveries so far, in order.
    pub fn webhook_deliveries(&self) -> Vec<Delivery> {
        self.state.webhooks.log()
    }

    /// Waits until every queued webhook was delivered or given up on.
    pub async fn webhooks_idle(&self) {
        self.state.webhooks.idle().await
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

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
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
    let (router, state) = build(config);
    if let PayoutClock::Millis(ms) = state.config.payout_clock {
        let weak = Arc::downgrade(&state);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(ms.max(1)));
            loop {
                every.tick().await;
                match weak.upgrade() {
                    Some(s) => s.tick(),
                    None => return,
                }
            }
        });
    }
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
        state,
        shutdown_tx: Some(tx),
        task: Some(task),
    })
}
