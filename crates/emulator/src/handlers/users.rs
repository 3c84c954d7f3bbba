//! Users, lookup and transaction history.

#[allow(unused_imports)]
use super::*;

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
        Some(p) => json_ok(&StoredUserOut::of(&app.sim().live(p))),
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
    match found.map(|p| app.sim().live(p)) {
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
        let mut all = data::transactions(app.pop.seed(), year, &p);
        all.extend(app.sim().added_txns(app.pop.seed(), year, &p));
        all.sort_by_key(|t| t.time);
        let mut txns: Vec<data::Txn> = all
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
    let quirks = &app.config.quirks;
    if quirks.history_endless {
        return json_ok(&endless_page(app, hq));
    }
    let page_no = if quirks.history_ignores_page {
        1
    } else {
        hq.page
    };
    let skip = (page_no - 1).saturating_mul(hq.per_page);
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

/// `Quirks::history_endless`: every page full of distinct entries.
fn endless_page(app: &AppState, hq: &HistoryQuery) -> Vec<serde_json::Value> {
    let Some(p) = app.pop.payee_at(default_tax_year(), 0) else {
        return Vec::new();
    };
    let Some(base) = data::transactions(app.pop.seed(), default_tax_year(), &p)
        .into_iter()
        .next()
    else {
        return Vec::new();
    };
    (0..hq.per_page)
        .map(|i| {
            let mut t = base.clone();
            t.token = format!("payout_endless_{}_{i}", hq.page);
            serde_json::to_value(TxnOut::of(&t)).unwrap_or_default()
        })
        .collect()
}
