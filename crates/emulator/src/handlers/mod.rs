//! Route handlers, one module per area of the API.

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

pub(crate) type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

pub(crate) const CHUNK_BYTES: usize = 64 * 1024;
pub(crate) const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

pub(crate) fn params(q: Params) -> Result<HashMap<String, String>, ApiError> {
    match q {
        Ok(Query(m)) => Ok(m),
        Err(e) => Err(ApiError::bad_request(
            "Invalid query string",
            vec![e.body_text()],
        )),
    }
}

/// A non-empty query value.
pub(crate) fn param<'a>(m: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    m.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

pub(crate) fn json_ok<T: Serialize>(value: &T) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

pub(crate) fn directive(d: Option<Extension<Directive>>) -> Directive {
    d.map(|Extension(d)| d).unwrap_or(Directive::None)
}

pub(crate) fn unknown_user(token: &str) -> ApiError {
    let _ = token;
    ApiError::not_found("User not found.")
}

pub(crate) fn parse_year(m: &HashMap<String, String>) -> Result<i32, ApiError> {
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

mod kyc;
mod payouts;
mod sandbox;
mod tax;
mod users;

pub(crate) use kyc::{kyc_sessions, kyc_upload};
pub(crate) use payouts::{Saved, commit_payout, get_payout, initiate_payout, user_payouts};
pub(crate) use sandbox::{
    add_to_year, sandbox_add, sandbox_advance, sandbox_event, sandbox_upload,
};
pub use tax::write_tax_body;
pub(crate) use tax::{tax, tax_interview};
pub(crate) use users::{all_history, get_user, user_history, user_lookup};

// ----------------------------------------------------------------------------------------------
// GET /payout/account/balance

#[derive(Serialize)]
struct BalanceOut {
    token: String,
    balance: RawNum,
    currency_code: &'static str,
}

pub(crate) async fn account_balance(State(app): State<Arc<AppState>>) -> Response {
    if let Some(text) = &app.config.quirks.account_balance_text {
        return json_ok(&[serde_json::json!({
            "token": app.pop.client_wallet_token(),
            "balance": text,
            "currency_code": "USD",
        })]);
    }
    json_ok(&[BalanceOut {
        token: app.pop.client_wallet_token(),
        balance: RawNum(app.pop.account_balance_text()),
        currency_code: "USD",
    }])
}

// ----------------------------------------------------------------------------------------------
// Fallbacks

pub(crate) async fn not_found(uri: Uri) -> Response {
    let _ = uri;
    ApiError::not_found("").into_response()
}

pub(crate) async fn method_not_allowed() -> Response {
    ApiError::method_not_allowed().into_response()
}
