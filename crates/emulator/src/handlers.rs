//! Route handlers.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::data::{self, EmuPayee, Hold, Population, TxnKind, fnv1a, mix, rng_from, uuid_from};
use crate::dates;
use crate::errors::{ApiError, json_response, legacy_internal_body};
use crate::json::{RawNum, parse_number_text};
use crate::{AppState, Directive, Handled, PartialBody, default_tax_year};

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

const CHUNK_BYTES: usize = 64 * 1024;
const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

fn params(q: Params) -> Result<HashMap<String, String>, ApiError> {
    match q {
        Ok(Query(m)) => Ok(m),
        Err(e) => Err(ApiError::bad_request(
            "Invalid query string",
            vec![e.body_text()],
        )),
    }
}

/// A non-empty query value.
fn param<'a>(m: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    m.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

fn json_ok<T: Serialize>(value: &T) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

fn directive(d: Option<Extension<Directive>>) -> Directive {
    d.map(|Extension(d)| d).unwrap_or(Directive::None)
}

fn unknown_user(token: &str) -> ApiError {
    let _ = token;
    ApiError::not_found("The requested resource could not be found. User not found.")
}

fn parse_year(m: &HashMap<String, String>) -> Result<i32, ApiError> {
    match param(m, "tax_year") {
        None => Ok(default_tax_year()),
        Some(s) => s
            .parse::<i32>()
            .ok()
            .filter(|y| (1..=9999).contains(y) && s.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "Invalid tax_year",
                    vec![format!("tax_year must be a four-digit year, got '{s}'")],
                )
            }),
    }
}

// ----------------------------------------------------------------------------------------------
// GET /payout/tax

enum Phase {
    Rows,
    Abort,
    Done,
}

struct TaxStream {
    pop: Population,
    year: i32,
    threshold: Option<Decimal>,
    pos: u64,
    end: u64,
    drop_at: Option<u64>,
    started: bool,
    emitted: bool,
    phase: Phase,
}

pub(crate) async fn tax(
    State(app): State<Arc<AppState>>,
    dir: Option<Extension<Directive>>,
    q: Params,
) -> Response {
    let m = match params(q) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let year = match parse_year(&m) {
        Ok(y) => y,
        Err(e) => return e.into_response(),
    };
    let threshold = match param(&m, "amount_threshold") {
        None => None,
        Some(s) => match parse_number_text(s) {
            Some(d) => Some(d),
            None => {
                return ApiError::bad_request(
                    "Invalid amount_threshold",
                    vec![format!("amount_threshold must be a number, got '{s}'")],
                )
                .into_response();
            }
        },
    };
    let dropping = matches!(directive(dir), Directive::Drop);
    let pop = app.pop.clone();
    let end = pop.len();
    let st = TaxStream {
        pop,
        year,
        threshold,
        pos: 0,
        end,
        drop_at: dropping.then_some((end / 2).max(1)),
        started: false,
        emitted: false,
        phase: Phase::Rows,
    };
    let stream = futures_util::stream::unfold(st, |mut st| async move {
        match st.phase {
            Phase::Done => None,
            Phase::Abort => {
                // Let the partial body reach the client before the connection is cut.
                tokio::time::sleep(Duration::from_millis(30)).await;
                st.phase = Phase::Done;
                Some((
                    Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "emulated dropped connection",
                    )),
                    st,
                ))
            }
            Phase::Rows => {
                let mut buf = Vec::with_capacity(CHUNK_BYTES + 1024);
                if !st.started {
                    buf.push(b'[');
                    st.started = true;
                }
                let limit = st.drop_at.unwrap_or(st.end).min(st.end);
                let mut scanned = 0u32;
                while st.pos < limit && buf.len() < CHUNK_BYTES {
                    let keep = match st.threshold {
                        None => true,
                        Some(t) => st
                            .pop
                            .balance_at(st.year, st.pos)
                            .is_some_and(|(_, b)| b > t),
                    };
                    if keep && let Some(p) = st.pop.payee_at(st.year, st.pos) {
                        if st.emitted {
                            buf.push(b',');
                        }
                        p.write_tax_json(&mut buf);
                        st.emitted = true;
                    }
                    st.pos += 1;
                    scanned += 1;
                    if scanned.is_multiple_of(4096) {
                        tokio::task::yield_now().await;
                    }
                }
                if st.pos >= limit {
                    if st.drop_at.is_some() {
                        st.phase = Phase::Abort;
                    } else {
                        buf.push(b']');
                        st.phase = Phase::Done;
                    }
                }
                Some((Ok(Bytes::from(buf)), st))
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if dropping {
        resp.extensions_mut().insert(PartialBody);
    }
    resp
}

// ----------------------------------------------------------------------------------------------
// GET /payout/account/balance

#[derive(Serialize)]
struct BalanceOut {
    token: String,
    balance: RawNum,
    currency_code: &'static str,
}

pub(crate) async fn account_balance(State(app): State<Arc<AppState>>) -> Response {
    json_ok(&[BalanceOut {
        token: app.pop.client_wallet_token(),
        balance: RawNum(app.pop.account_balance_text()),
        currency_code: "USD",
    }])
}

// ----------------------------------------------------------------------------------------------
// Users

#[derive(Serialize)]
struct StoredUserOut<'a> {
    user_token: &'a str,
    status: &'static str,
    created_on: &'a str,
    internal_user_id: &'a str,
    address1: &'a str,
    address2: &'a str,
    city: &'a str,
    state_province: &'a str,
    postal_code: &'a str,
    country: &'a str,
    first_name: &'a str,
    middle_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    language: &'a str,
    mobile_number: &'a str,
    business_name: &'a str,
    timezone: &'a str,
    date_of_birth: &'a str,
    metadata: serde_json::Map<String, serde_json::Value>,
}

impl<'a> StoredUserOut<'a> {
    fn of(p: &'a EmuPayee) -> Self {
        StoredUserOut {
            user_token: &p.user_token,
            status: p.status().as_str(),
            created_on: &p.created_on,
            internal_user_id: &p.internal_user_id,
            address1: &p.address1,
            address2: &p.address2,
            city: &p.city,
            state_province: &p.state_province,
            postal_code: &p.postal_code,
            country: &p.country,
            first_name: &p.first_name,
            middle_name: &p.middle_name,
            last_name: &p.last_name,
            email: &p.email,
            language: &p.language,
            mobile_number: &p.mobile_number,
            business_name: &p.business_name,
            timezone: &p.timezone,
            date_of_birth: &p.date_of_birth,
            metadata: serde_json::Map::new(),
        }
    }
}

#[derive(Serialize)]
struct FoundUserOut<'a> {
    user_token: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    internal_user_id: &'a str,
    status: &'static str,
}

pub(crate) async fn get_user(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    match app.pop.by_token(default_tax_year(), &token) {
        Some(p) => json_ok(&StoredUserOut::of(&p)),
        None => unknown_user(&token).into_response(),
    }
}

pub(crate) async fn user_lookup(State(app): State<Arc<AppState>>, q: Params) -> Response {
    let m = match params(q) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let year = default_tax_year();
    let email = param(&m, "email");
    let first = param(&m, "first_name");
    let internal = param(&m, "internal_user_id");
    let found = match (email, first, internal) {
        (Some(email), Some(first), _) => app
            .pop
            .by_email(year, email)
            .filter(|p| p.first_name.trim().to_lowercase() == first.to_lowercase()),
        (None, None, Some(id)) | (Some(_), None, Some(id)) | (None, Some(_), Some(id)) => {
            app.pop.by_internal_id(year, id)
        }
        (Some(_), None, None) => {
            return ApiError::bad_request(
                "Missing parameter",
                vec!["first_name is required if email is provided".to_string()],
            )
            .into_response();
        }
        (None, Some(_), None) => {
            return ApiError::bad_request(
                "Missing parameter",
                vec!["email is required if first_name is provided".to_string()],
            )
            .into_response();
        }
        (None, None, None) => {
            return ApiError::bad_request(
                "Missing parameter",
                vec!["Provide either (email and first_name) or internal_user_id".to_string()],
            )
            .into_response();
        }
    };
    match found {
        Some(p) => json_ok(&FoundUserOut {
            user_token: &p.user_token,
            first_name: &p.first_name,
            last_name: &p.last_name,
            internal_user_id: &p.internal_user_id,
            status: p.status().as_str(),
        }),
        None => unknown_user("").into_response(),
    }
}

// ----------------------------------------------------------------------------------------------
// History

#[derive(Serialize)]
struct TxnOut<'a> {
    token: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    time_of_txn: String,
    source_amount: RawNum,
    source_currency_code: &'static str,
    destination_amount: RawNum,
    destination_currency_code: &'static str,
    fee: RawNum,
    status: &'static str,
    notes: &'a str,
    payer_name: &'a str,
    pickup_code: &'a str,
    source_token: &'a str,
    destination_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivery_type: Option<&'static str>,
    client_transfer_id: &'a str,
    status_reason: &'a str,
    client_id: u64,
    user_token: &'a str,
}

impl<'a> TxnOut<'a> {
    fn of(t: &'a data::Txn) -> Self {
        TxnOut {
            token: &t.token,
            kind: t.kind.wire(),
            time_of_txn: dates::format_timestamp(t.time),
            source_amount: RawNum::amount(t.source_amount),
            source_currency_code: t.source_currency_code,
            destination_amount: RawNum::amount(t.destination_amount),
            destination_currency_code: t.destination_currency_code,
            fee: RawNum::amount(t.fee),
            status: t.status,
            notes: &t.notes,
            payer_name: &t.payer_name,
            pickup_code: &t.pickup_code,
            source_token: &t.source_token,
            destination_token: &t.destination_token,
            delivery_type: t.delivery_type,
            client_transfer_id: &t.client_transfer_id,
            status_reason: &t.status_reason,
            client_id: data::CLIENT_ID,
            user_token: &t.user_token,
        }
    }
}

struct HistoryQuery {
    per_page: u64,
    page: u64,
    start: i64,
    end: i64,
    first_year: i32,
    last_year: i32,
    kinds: Vec<TxnKind>,
}

fn parse_history(m: &HashMap<String, String>) -> Result<HistoryQuery, ApiError> {
    let bad = |field: &str, detail: String| {
        ApiError::bad_request(&format!("Invalid {field}"), vec![detail])
    };
    let per_page = match param(m, "number_of_records") {
        None => 10,
        Some(s) => s.parse::<u64>().ok().filter(|n| *n <= 100).ok_or_else(|| {
            bad(
                "number_of_records",
                format!("number_of_records must be an integer from 0 to 100, got '{s}'"),
            )
        })?,
    };
    let page = match param(m, "page") {
        None => 1,
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("page", format!("page must be an integer >= 1, got '{s}'")))?,
    };
    let date = |key: &str| -> Result<Option<i64>, ApiError> {
        match param(m, key) {
            None => Ok(None),
            Some(s) => dates::parse_date(s)
                .map(Some)
                .ok_or_else(|| bad(key, format!("{key} must be a date YYYY-MM-DD, got '{s}'"))),
        }
    };
    let start = date("start_date")?;
    let end = date("end_date")?;
    let year_of = |days: i64| dates::civil_from_days(days).0;
    let default_year = i64::from(default_tax_year());
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (
            s,
            dates::days_from_civil(year_of(s).max(default_year), 12, 31),
        ),
        (None, Some(e)) => (
            dates::days_from_civil(year_of(e).min(default_year), 1, 1),
            e,
        ),
        (None, None) => (
            dates::days_from_civil(default_year, 1, 1),
            dates::days_from_civil(default_year, 12, 31),
        ),
    };
    if end < start {
        return Err(bad(
            "date range",
            "end_date must not be before start_date".to_string(),
        ));
    }
    let (first_year, last_year) = (year_of(start), year_of(end));
    if last_year - first_year > 20 {
        return Err(bad(
            "date range",
            "the date range may span at most 20 years".to_string(),
        ));
    }
    let mut kinds = Vec::new();
    match param(m, "type") {
        None => kinds.extend([TxnKind::Payout, TxnKind::Load, TxnKind::SpendBack]),
        Some(s) => {
            for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let k = [TxnKind::Payout, TxnKind::Load, TxnKind::SpendBack]
                    .into_iter()
                    .find(|k| k.filter_name().eq_ignore_ascii_case(part))
                    .ok_or_else(|| {
                        bad(
                            "type",
                            format!(
                                "type must be a comma list of payout, load, spendback; got '{part}'"
                            ),
                        )
                    })?;
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
        }
    }
    Ok(HistoryQuery {
        per_page,
        page,
        start: start * 86_400,
        end: (end + 1) * 86_400,
        first_year: i32::try_from(first_year).unwrap_or(1),
        last_year: i32::try_from(last_year).unwrap_or(9999),
        kinds,
    })
}

/// A payee's matching transactions in the range, newest first.
fn payee_history(app: &AppState, pos: u64, hq: &HistoryQuery) -> Vec<data::Txn> {
    let mut out = Vec::new();
    for year in (hq.first_year..=hq.last_year).rev() {
        let Some(p) = app.pop.payee_at(year, pos) else {
            break;
        };
        let mut txns: Vec<data::Txn> = data::transactions(app.pop.seed(), year, &p)
            .into_iter()
            .filter(|t| t.time >= hq.start && t.time < hq.end && hq.kinds.contains(&t.kind))
            .collect();
        txns.reverse();
        out.extend(txns);
    }
    out
}

fn history_page(
    app: &AppState,
    positions: impl Iterator<Item = u64>,
    hq: &HistoryQuery,
) -> Response {
    let skip = (hq.page - 1).saturating_mul(hq.per_page);
    let mut seen = 0u64;
    let mut page = Vec::new();
    if hq.per_page > 0 {
        for pos in positions {
            let txns = payee_history(app, pos, hq);
            let n = txns.len() as u64;
            if seen + n <= skip {
                seen += n;
                continue;
            }
            for t in txns {
                if seen >= skip && (page.len() as u64) < hq.per_page {
                    page.push(t);
                }
                seen += 1;
            }
            if page.len() as u64 >= hq.per_page {
                break;
            }
        }
    }
    let out: Vec<TxnOut<'_>> = page.iter().map(TxnOut::of).collect();
    json_ok(&out)
}

pub(crate) async fn user_history(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
    q: Params,
) -> Response {
    let Some(pos) = app.pop.position_of_token(&token) else {
        return unknown_user(&token).into_response();
    };
    let hq = match params(q).and_then(|m| parse_history(&m)) {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    history_page(&app, std::iter::once(pos), &hq)
}

pub(crate) async fn all_history(State(app): State<Arc<AppState>>, q: Params) -> Response {
    let hq = match params(q).and_then(|m| parse_history(&m)) {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    history_page(&app, 0..app.pop.len(), &hq)
}

// ----------------------------------------------------------------------------------------------
// KYC and tax interview

#[derive(Serialize)]
struct KycOut {
    provider: String,
    session_id: String,
    session_time: String,
    status: String,
    resp: serde_json::Map<String, serde_json::Value>,
}

pub(crate) async fn kyc_sessions(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    let Some(p) = app.pop.by_token(default_tax_year(), &token) else {
        return unknown_user(&token).into_response();
    };
    let out: Vec<KycOut> = data::kyc_sessions(app.pop.seed(), &p)
        .into_iter()
        .map(|(provider, session_id, session_time, status)| KycOut {
            provider,
            session_id,
            session_time,
            status,
            resp: serde_json::Map::new(),
        })
        .collect();
    json_ok(&out)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
struct InterviewOut {
    interview_url: String,
}

pub(crate) async fn tax_interview(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
    q: Params,
) -> Response {
    let m = match params(q) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if app.pop.position_of_token(&token).is_none() {
        return unknown_user(&token).into_response();
    }
    let session = uuid_from(&mut rng_from(mix(app.pop.seed(), fnv1a(token.as_bytes()))));
    let mut url = format!("https://emulator.masspay.invalid/tax/interview/{session}");
    if let Some(r) = param(&m, "return_url") {
        url.push_str("?return_url=");
        url.push_str(&percent_encode(r));
    }
    json_ok(&InterviewOut { interview_url: url })
}

// ----------------------------------------------------------------------------------------------
// POST /payout/{user_token}

/// A saved idempotent result.
pub(crate) struct Saved {
    user_token: String,
    request: Vec<u8>,
    status: StatusCode,
    body: Vec<u8>,
    at: Instant,
}

#[derive(Deserialize)]
struct PayoutReq {
    client_transfer_id: Option<String>,
    source_currency_code: Option<String>,
    destination_currency_code: Option<String>,
    source_token: Option<String>,
    destination_token: Option<String>,
    destination_amount: Option<Box<RawValue>>,
    source_amount: Option<Box<RawValue>>,
    attr_set_token: Option<String>,
    metadata: Option<Box<RawValue>>,
    #[allow(dead_code)]
    notify_user: Option<bool>,
    #[allow(dead_code)]
    auto_commit: Option<bool>,
}

#[derive(Serialize)]
struct PayoutOut<'a> {
    payout_token: String,
    client_transfer_id: &'a str,
    source_currency_code: &'static str,
    destination_currency_code: &'static str,
    source_token: &'a str,
    destination_token: &'a str,
    destination_amount: RawNum,
    source_amount: RawNum,
    attr_set_token: String,
    exchange_rate: RawNum,
    fee: RawNum,
    expiration: String,
    pickup_code: &'static str,
    status: &'static str,
    payer_name: &'static str,
    delivery_type: &'static str,
    country_code: &'a str,
    metadata: Box<RawValue>,
    estimated_availability: String,
    status_reason: &'static str,
}

const CURRENCIES: &[(&str, &str)] = &[
    ("USD", "USA"),
    ("MXN", "MEX"),
    ("CAD", "CAN"),
    ("GBP", "GBR"),
    ("EUR", "DEU"),
    ("INR", "IND"),
    ("PHP", "PHL"),
    ("BRL", "BRA"),
];

fn amount_of(raw: &RawValue, field: &str) -> Result<Decimal, ApiError> {
    let text = raw.get().trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let bad = |why: &str| {
        ApiError::bad_request(
            "Invalid amount",
            vec![format!("{field} {why}, got {}", raw.get())],
        )
    };
    let d = parse_number_text(text).ok_or_else(|| bad("must be a number"))?;
    if d <= Decimal::ZERO {
        return Err(bad("must be greater than 0"));
    }
    if d.normalize().scale() > 2 {
        return Err(bad("must have at most 2 decimal places"));
    }
    Ok(d)
}

struct ValidPayout {
    client_transfer_id: String,
    currency: &'static str,
    rate: Decimal,
    source_token: String,
    destination_token: String,
    source_amount: Decimal,
    destination_amount: Decimal,
    attr_set_token: Option<String>,
    metadata: Option<Box<RawValue>>,
}

fn validate_payout(app: &AppState, body: &[u8]) -> Result<ValidPayout, ApiError> {
    let req: PayoutReq = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("Invalid request body", vec![e.to_string()]))?;
    let mut missing = Vec::new();
    if req
        .destination_currency_code
        .as_deref()
        .is_none_or(str::is_empty)
    {
        missing.push("destination_currency_code is required".to_string());
    }
    if req.source_token.as_deref().is_none_or(str::is_empty) {
        missing.push("source_token is required".to_string());
    }
    if req.destination_token.as_deref().is_none_or(str::is_empty) {
        missing.push("destination_token is required".to_string());
    }
    if req.source_amount.is_none() && req.destination_amount.is_none() {
        missing.push("either source_amount or destination_amount is required".to_string());
    }
    if !missing.is_empty() {
        return Err(ApiError::bad_request("Missing required fields", missing));
    }
    if req.source_amount.is_some() && req.destination_amount.is_some() {
        return Err(ApiError::bad_request(
            "Invalid amount",
            vec!["provide either source_amount or destination_amount, not both".to_string()],
        ));
    }
    let source_currency = req.source_currency_code.as_deref().unwrap_or("USD");
    if !source_currency.eq_ignore_ascii_case("USD") {
        return Err(ApiError::bad_request(
            "Invalid source_currency_code",
            vec![format!(
                "source_currency_code {source_currency} is not supported by this funding account"
            )],
        ));
    }
    let dest_code = req.destination_currency_code.as_deref().unwrap_or_default();
    let Some(&(currency, country)) = CURRENCIES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(dest_code))
    else {
        return Err(ApiError::bad_request(
            "Invalid destination_currency_code",
            vec![format!(
                "destination_currency_code {dest_code} is not supported"
            )],
        ));
    };
    let (_, rate) = data::currency_for(country);
    let source_token = req.source_token.unwrap_or_default();
    if source_token != app.pop.client_wallet_token() {
        return Err(ApiError::bad_request(
            "Invalid source_token",
            vec![format!(
                "source_token {source_token} was not found; use the token from GET /payout/account/balance"
            )],
        ));
    }
    let client_transfer_id = req.client_transfer_id.unwrap_or_default();
    if client_transfer_id.chars().count() > 50 {
        return Err(ApiError::bad_request(
            "Invalid client_transfer_id",
            vec!["client_transfer_id must be at most 50 characters".to_string()],
        ));
    }
    let round = |d: Decimal| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let (source_amount, destination_amount) = match (&req.source_amount, &req.destination_amount) {
        (Some(s), _) => {
            let s = amount_of(s, "source_amount")?;
            (s, round(s * rate))
        }
        (None, Some(d)) => {
            let d = amount_of(d, "destination_amount")?;
            (round(d / rate), d)
        }
        (None, None) => unreachable!("checked above"),
    };
    let metadata = match req.metadata {
        Some(m) if m.get().trim_start().starts_with('{') => Some(m),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Invalid metadata",
                vec!["metadata must be an object".to_string()],
            ));
        }
        None => None,
    };
    Ok(ValidPayout {
        client_transfer_id,
        currency,
        rate,
        source_token,
        destination_token: req.destination_token.unwrap_or_default(),
        source_amount,
        destination_amount,
        attr_set_token: req.attr_set_token,
        metadata,
    })
}

fn payout_success(app: &AppState, payee: &EmuPayee, key: &str, v: &ValidPayout) -> Vec<u8> {
    let mut r = rng_from(mix(
        app.pop.seed(),
        fnv1a(format!("{}\n{key}", payee.user_token).as_bytes()),
    ));
    let now = dates::now_millis();
    let fee = if v.currency == "USD" {
        Decimal::new(25, 2)
    } else {
        Decimal::new(299, 2)
    };
    let payout_token = format!("payout_{}", uuid_from(&mut r));
    let attr = v
        .attr_set_token
        .clone()
        .unwrap_or_else(|| format!("attr_set_{}", uuid_from(&mut r)));
    let metadata = v
        .metadata
        .clone()
        .or_else(|| RawValue::from_string("{}".to_string()).ok())
        .unwrap_or_default();
    let out = PayoutOut {
        payout_token,
        client_transfer_id: &v.client_transfer_id,
        source_currency_code: "USD",
        destination_currency_code: v.currency,
        source_token: &v.source_token,
        destination_token: &v.destination_token,
        destination_amount: RawNum::amount(v.destination_amount),
        source_amount: RawNum::amount(v.source_amount),
        attr_set_token: attr,
        exchange_rate: RawNum::amount(v.rate),
        fee: RawNum::amount(fee),
        expiration: dates::format_timestamp_millis(now + 120_000),
        pickup_code: "",
        status: "SCHEDULED",
        payer_name: "Bank Deposit",
        delivery_type: "BANK_DEPOSIT",
        country_code: if payee.country.is_empty() {
            "USA"
        } else {
            &payee.country
        },
        metadata,
        estimated_availability: dates::format_timestamp_millis(now + 86_400_000),
        status_reason: "",
    };
    serde_json::to_vec(&out).unwrap_or_default()
}

pub(crate) async fn initiate_payout(
    State(app): State<Arc<AppState>>,
    dir: Option<Extension<Directive>>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(payee) = app.pop.by_token(default_tax_year(), &token) else {
        return unknown_user(&token).into_response();
    };
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
    else {
        return ApiError::bad_request(
            "Missing Idempotency-Key",
            vec!["The Idempotency-Key header is required for this request".to_string()],
        )
        .into_response();
    };
    let mut store = match app.idem.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(saved) = store.get(&key).filter(|s| s.at.elapsed() < IDEMPOTENCY_TTL) {
        if saved.user_token == token && saved.request == body.as_ref() {
            let mut resp = json_response(saved.status, saved.body.clone());
            resp.extensions_mut().insert(Handled);
            return resp;
        }
        return ApiError::bad_request(
            "Idempotency-Key reuse",
            vec![
                "This Idempotency-Key was already used with different request parameters"
                    .to_string(),
            ],
        )
        .into_response();
    }
    let valid = match validate_payout(&app, &body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let (status, bytes, handled) = if let Directive::Internal { legacy } = directive(dir) {
        let b = if legacy {
            legacy_internal_body()
        } else {
            ApiError::internal().body_bytes()
        };
        (StatusCode::INTERNAL_SERVER_ERROR, b, true)
    } else if let Some(details) = payee.hold.error_details() {
        let message = match payee.hold {
            Hold::IdSelfie { .. } => {
                "Additional documentation is required in order to process payouts for this account."
            }
            _ => {
                "The account is currently inactive and requires additional documentation in order to be activated."
            }
        };
        let e = ApiError::new(StatusCode::BAD_REQUEST, "Documentation required.", message)
            .with_error("Additional documentation required", details);
        (StatusCode::BAD_REQUEST, e.body_bytes(), false)
    } else {
        (
            StatusCode::OK,
            payout_success(&app, &payee, &key, &valid),
            false,
        )
    };
    store.retain(|_, s| s.at.elapsed() < IDEMPOTENCY_TTL);
    store.insert(
        key,
        Saved {
            user_token: token,
            request: body.to_vec(),
            status,
            body: bytes.clone(),
            at: Instant::now(),
        },
    );
    drop(store);
    let mut resp = json_response(status, bytes);
    if handled {
        resp.extensions_mut().insert(Handled);
    }
    resp
}

// ----------------------------------------------------------------------------------------------
// Fallbacks

pub(crate) async fn not_found(uri: Uri) -> Response {
    let _ = uri;
    ApiError::not_found("The requested resource could not be found.").into_response()
}

pub(crate) async fn method_not_allowed() -> Response {
    ApiError::method_not_allowed().into_response()
}
