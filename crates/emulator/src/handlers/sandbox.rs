//! `/sandbox/...` controls: document uploads, growing years, the payout clock and events on
//! demand.

#[allow(unused_imports)]
use super::*;

fn body_json(body: &Bytes) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(serde_json::Map::new()));
    }
    serde_json::from_slice(body).map_err(|_| {
        ApiError::bad_request(
            "Invalid request body",
            vec!["expected a JSON object".into()],
        )
    })
}

fn amount_field(v: &serde_json::Value) -> Result<Decimal, ApiError> {
    let text = match v.get("amount") {
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "Invalid amount",
                vec!["amount (a number) is required".into()],
            ));
        }
    };
    match parse_number_text(&text) {
        Some(d) if d > Decimal::ZERO && d.normalize().scale() <= 2 => Ok(d),
        _ => Err(ApiError::bad_request(
            "Invalid amount",
            vec!["amount must be a positive number with at most 2 decimal places".into()],
        )),
    }
}

/// `POST /sandbox/users/{user_token}/upload`.
pub(crate) async fn sandbox_upload(
    State(app): State<Arc<AppState>>,
    Path(token): Path<String>,
) -> Response {
    let Some(p) = app.pop.by_token(default_tax_year(), &token) else {
        return unknown_user(&token).into_response();
    };
    let held = app.sim().upload(&p);
    json_ok(&serde_json::json!({
        "user_token": token,
        "hold": if held { "submitted" } else { "none" },
    }))
}

/// Adds `amount` to `(year, user_token)`; the new balance of the year.
pub(crate) fn add_to_year(
    app: &AppState,
    year: i32,
    token: &str,
    amount: Decimal,
) -> Result<Decimal, ApiError> {
    let Some(p) = app.pop.by_token(year, token) else {
        return Err(unknown_user(token));
    };
    let total = app.sim().add(app.pop.seed(), year, token, amount);
    Ok((p.balance_cents() + total).normalize())
}

/// `POST /sandbox/tax/{year}/{user_token}/add` `{"amount": 100}`.
pub(crate) async fn sandbox_add(
    State(app): State<Arc<AppState>>,
    Path((year, token)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(year) = year
        .parse::<i32>()
        .ok()
        .filter(|y| (1900..=9999).contains(y))
    else {
        return ApiError::bad_request("Invalid tax_year", vec!["year must be YYYY".into()])
            .into_response();
    };
    let amount = match body_json(&body).and_then(|v| amount_field(&v)) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    match add_to_year(&app, year, &token, amount) {
        Ok(balance) => json_ok(&serde_json::json!({
            "user_token": token,
            "tax_year": year,
            "added": crate::json::number_value(amount),
            "balance": crate::json::number_value(balance),
        })),
        Err(e) => e.into_response(),
    }
}

/// `POST /sandbox/clock/advance` `{"steps": n}` (default 1).
pub(crate) async fn sandbox_advance(State(app): State<Arc<AppState>>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let steps = v.get("steps").and_then(|s| s.as_u64()).unwrap_or(1);
    let step = app.advance(steps);
    json_ok(&serde_json::json!({ "step": step }))
}

/// `POST /sandbox/events` `{"kind", "user_token", "amount"?, "tin"?}`.
pub(crate) async fn sandbox_event(State(app): State<Arc<AppState>>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let token = v.get("user_token").and_then(|t| t.as_str()).unwrap_or("");
    let Some(p) = app.pop.by_token(default_tax_year(), token) else {
        return unknown_user(token).into_response();
    };
    let n = app.counter.load(std::sync::atomic::Ordering::SeqCst);
    let seed = app.pop.seed();
    let event = match v.get("kind").and_then(|k| k.as_str()) {
        Some("load") => {
            let amount = match amount_field(&v) {
                Ok(a) => a,
                Err(e) => return e.into_response(),
            };
            crate::sim::load_event(seed, &p, amount, n)
        }
        Some("spendback") => crate::sim::spendback_event(seed, &p, n),
        Some("user") => {
            let status = app.sim().live(p.clone()).status().as_str();
            crate::sim::user_event(&p.user_token, status)
        }
        Some("tax_interview" | "tax-interview") => {
            let tin = v.get("tin").and_then(|t| t.as_str());
            crate::sim::tax_interview_event(seed, &p, tin)
        }
        _ => {
            return ApiError::bad_request(
                "Invalid kind",
                vec!["kind must be load, spendback, user or tax_interview".into()],
            )
            .into_response();
        }
    };
    let sent = app.config.webhook_url.is_some();
    app.webhooks.send(vec![event]);
    json_ok(&serde_json::json!({ "queued": sent }))
}
