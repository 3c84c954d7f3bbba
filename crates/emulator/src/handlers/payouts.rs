//! Payouts: initiate (`POST /payout/{user_token}`), commit (`PUT /payout/{user_token}/{payout_token}`),
//! status (`GET /payout/{user_token}/{payout_token}`) and a user's list (`GET /payout/{user_token}`).

#[allow(unused_imports)]
use super::*;

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
    auto_commit: bool,
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
        auto_commit: req.auto_commit.unwrap_or(false),
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
    let payee = app.sim().live(payee);
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
        let bytes = payout_success(&app, &payee, &key, &valid);
        (
            StatusCode::OK,
            record_payout(&app, &token, bytes, &valid),
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

/// Keeps an initiated payout (a quote until committed); with `auto_commit`, commits it and
/// answers `PayoutTxnCommitResp` instead.
fn record_payout(app: &AppState, user_token: &str, bytes: Vec<u8>, v: &ValidPayout) -> Vec<u8> {
    let Ok(serde_json::Value::Object(body)) = serde_json::from_slice::<serde_json::Value>(&bytes)
    else {
        return bytes;
    };
    let Some(token) = body
        .get("payout_token")
        .and_then(|t| t.as_str())
        .map(str::to_string)
    else {
        return bytes;
    };
    let fate = crate::sim::Fate::of(app.pop.seed(), &token, &v.client_transfer_id);
    let mut sim = app.sim();
    sim.insert(
        token.clone(),
        crate::sim::PayoutRec {
            user_token: user_token.to_string(),
            body,
            status: "SCHEDULED",
            status_reason: String::new(),
            since: 0,
            committed: false,
            fate,
            created_ms: dates::now_millis(),
        },
    );
    if !v.auto_commit {
        return bytes;
    }
    let event = sim.commit(&token, app.config.webhook_payout_user_token);
    drop(sim);
    app.webhooks.send(event.into_iter().collect());
    serde_json::to_vec(
        &serde_json::json!({"payout_token": token, "status": "success", "pickup_code": ""}),
    )
    .unwrap_or_default()
}

fn unknown_payout() -> ApiError {
    ApiError::not_found("Payout not found.")
}

/// Quotes are valid for 2 minutes (MassPay §7.1).
const QUOTE_MILLIS: i64 = 120_000;

pub(crate) async fn commit_payout(
    State(app): State<Arc<AppState>>,
    Path((user, payout)): Path<(String, String)>,
) -> Response {
    let Some(payee) = app.pop.by_token(default_tax_year(), &user) else {
        return unknown_user(&user).into_response();
    };
    let mut sim = app.sim();
    let hold = sim.hold_of(&payee);
    let Some(rec) = sim.payout(&payout).filter(|r| r.user_token == user) else {
        return unknown_payout().into_response();
    };
    let answer = |status: &str, errors: Option<&str>| {
        let mut v = serde_json::json!({"payout_token": payout, "status": status});
        if let Some(e) = errors {
            v["errors"] = serde_json::Value::String(e.to_string());
        } else {
            v["pickup_code"] = serde_json::Value::String(String::new());
        }
        json_ok(&v)
    };
    if rec.committed {
        return answer("success", None);
    }
    if !matches!(hold, Hold::None) {
        return answer("failure", Some("User is not active"));
    }
    if dates::now_millis() > rec.created_ms + QUOTE_MILLIS {
        return answer(
            "ex_rate_expired",
            Some("The exchange rate quote has expired; initiate the payout again"),
        );
    }
    let event = sim.commit(&payout, app.config.webhook_payout_user_token);
    drop(sim);
    app.webhooks.send(event.into_iter().collect());
    answer("success", None)
}

/// A seeded history payout as `PayoutTxnResp`.
fn txn_payout_json(t: &data::Txn, country: &str) -> serde_json::Value {
    let rate = if t.source_amount.is_zero() {
        Decimal::ONE
    } else {
        (t.destination_amount / t.source_amount).round_dp(4)
    };
    serde_json::json!({
        "payout_token": t.token,
        "client_transfer_id": t.client_transfer_id,
        "source_currency_code": t.source_currency_code,
        "destination_currency_code": t.destination_currency_code,
        "source_token": t.source_token,
        "destination_token": t.destination_token,
        "destination_amount": crate::json::number_value(t.destination_amount),
        "source_amount": crate::json::number_value(t.source_amount),
        "attr_set_token": "",
        "exchange_rate": crate::json::number_value(rate),
        "fee": crate::json::number_value(t.fee),
        "expiration": dates::format_timestamp(t.time + 120),
        "pickup_code": t.pickup_code,
        "status": t.status,
        "payer_name": t.payer_name,
        "delivery_type": t.delivery_type.unwrap_or("BANK_DEPOSIT"),
        "country_code": if country.is_empty() { "USA" } else { country },
        "metadata": {},
        "estimated_availability": dates::format_timestamp(t.time + 86_400),
        "status_reason": t.status_reason,
    })
}

/// The seeded payouts of a payee in the current and previous year (and sandbox additions).
fn seeded_payouts(app: &AppState, user: &str) -> Vec<serde_json::Value> {
    let current = dates::current_year();
    let mut out = Vec::new();
    let sim = app.sim();
    for year in [current, current - 1] {
        let Some(p) = app.pop.by_token(year, user) else {
            continue;
        };
        let mut txns = data::transactions(app.pop.seed(), year, &p);
        txns.extend(sim.added_txns(app.pop.seed(), year, &p));
        txns.sort_by_key(|t| std::cmp::Reverse(t.time));
        out.extend(
            txns.iter()
                .filter(|t| t.kind == TxnKind::Payout)
                .map(|t| txn_payout_json(t, &p.country)),
        );
    }
    out
}

pub(crate) async fn get_payout(
    State(app): State<Arc<AppState>>,
    Path((user, payout)): Path<(String, String)>,
) -> Response {
    if app.pop.position_of_token(&user).is_none() {
        return unknown_user(&user).into_response();
    }
    if let Some(rec) = app.sim().payout(&payout).filter(|r| r.user_token == user) {
        return json_ok(&rec.to_json());
    }
    match seeded_payouts(&app, &user)
        .into_iter()
        .find(|v| v["payout_token"] == payout.as_str())
    {
        Some(v) => json_ok(&v),
        None => unknown_payout().into_response(),
    }
}

pub(crate) async fn user_payouts(
    State(app): State<Arc<AppState>>,
    Path(user): Path<String>,
) -> Response {
    if app.pop.position_of_token(&user).is_none() {
        return unknown_user(&user).into_response();
    }
    let mut out: Vec<serde_json::Value> = app
        .sim()
        .payouts
        .iter()
        .rev()
        .filter(|r| r.user_token == user)
        .map(|r| r.to_json())
        .collect();
    out.extend(seeded_payouts(&app, &user));
    json_ok(&out)
}
