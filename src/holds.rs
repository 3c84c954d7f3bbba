//! KYC holds: captured from MassPay's "Documentation required." answers as the platform logged
//! them (`holds ingest`), from payout webhooks in status `HOLD` (`webhooks serve`), and moved
//! through their life by `holds refresh` (`open` → `submitted` → `released`, or `declined` /
//! `expired`). Every step is idempotent. Upload links are personal: in reports, never in logs.

use crate::notify::{Notice, Notifier};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use masspay_client::ApiErrorBody;
use masspay_tax_store::Store;
use masspay_tax_store::holds::{HoldInput, HoldOpened, StoredHold};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// `link_kind` of an upload link.
pub fn link_kind(link: &str) -> &'static str {
    let host = link
        .trim_start_matches("https://")
        .split(['/', '?'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if host == "l.maspay.io" || host.ends_with(".maspay.io") {
        "bank_statement"
    } else if host.ends_with("veriff.me") {
        "government_id"
    } else {
        "other"
    }
}

/// A line of an ingest file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

/// The holds an ingest file describes, and its bad lines.
#[derive(Debug, Default)]
pub struct Parsed {
    pub holds: Vec<HoldInput>,
    pub errors: Vec<LineError>,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A hold from one logged error response (bare body with `user_token` beside it, or wrapped
/// `{user_token, logged_at, response}`).
pub fn hold_from_value(v: &Value, source: &str) -> Result<HoldInput, String> {
    let obj = v.as_object().ok_or("not a JSON object")?;
    let user_token = obj
        .get("user_token")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("no user_token")?
        .to_string();
    let response = obj.get("response").unwrap_or(v);
    let bytes = serde_json::to_vec(response).map_err(|e| e.to_string())?;
    let body = ApiErrorBody::parse(&bytes).ok_or("not a MassPay error response")?;
    if !body.is_documentation_required() {
        return Err("not a \"documentation required\" error (no hold in it)".into());
    }
    let at = match obj.get("logged_at") {
        None | Some(Value::Null) => now(),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s.trim())
            .map_err(|_| "logged_at is not an RFC 3339 time".to_string())?
            .with_timezone(&Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        Some(_) => return Err("logged_at is not an RFC 3339 time".into()),
    };
    let upload_link = body.upload_link();
    let reason = body
        .error
        .as_ref()
        .and_then(|e| e.reason.clone())
        .or_else(|| body.exception.clone())
        .or_else(|| body.message.clone())
        .filter(|r| !r.trim().is_empty());
    Ok(HoldInput {
        user_token,
        reason,
        link_kind: upload_link.as_deref().map(|l| link_kind(l).to_string()),
        upload_link,
        at,
        source: source.to_string(),
    })
}

/// Parses an ingest file: a JSON array, or one JSON object per line (blank lines skipped).
pub fn parse_ingest(text: &str) -> Parsed {
    let mut out = Parsed::default();
    if text.trim_start().starts_with('[') {
        match serde_json::from_str::<Vec<Value>>(text) {
            Ok(items) => {
                for (i, v) in items.iter().enumerate() {
                    match hold_from_value(v, "ingest") {
                        Ok(h) => out.holds.push(h),
                        Err(reason) => out.errors.push(LineError {
                            line: i + 1,
                            reason: format!("array element {}: {reason}", i + 1),
                        }),
                    }
                }
            }
            Err(e) => out.errors.push(LineError {
                line: e.line(),
                reason: format!("not a JSON array: {}", e.classify_words()),
            }),
        }
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r = serde_json::from_str::<Value>(line)
            .map_err(|e| format!("not JSON ({} at column {})", e.classify_words(), e.column()))
            .and_then(|v| hold_from_value(&v, "ingest"));
        match r {
            Ok(h) => out.holds.push(h),
            Err(reason) => out.errors.push(LineError {
                line: i + 1,
                reason,
            }),
        }
    }
    out
}

trait ClassifyWords {
    fn classify_words(&self) -> &'static str;
}

impl ClassifyWords for serde_json::Error {
    fn classify_words(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}

/// What opening holds did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct OpenReport {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Opens (or updates) a hold and records the "new hold" notice once.
pub async fn open(store: &Store, h: &HoldInput, report: &mut OpenReport) -> Result<()> {
    match store.open_hold(h).await? {
        HoldOpened::New(id) => {
            report.new += 1;
            let notice = Notice {
                kind: "hold_new".into(),
                text: format!(
                    "KYC hold for {}: {}",
                    h.user_token,
                    h.reason.as_deref().unwrap_or("documents required")
                ),
                fields: serde_json::json!({
                    "hold_id": id, "user_token": h.user_token, "reason": h.reason,
                    "link_kind": h.link_kind, "opened_at": h.at, "source": h.source,
                }),
            };
            Notifier::record(store, &format!("hold_new:{id}"), &notice).await?;
        }
        HoldOpened::Updated(_) => report.updated += 1,
        HoldOpened::Unchanged(_) => report.unchanged += 1,
    }
    Ok(())
}

/// Stores every hold of a parsed file.
pub async fn ingest(store: &Store, parsed: &Parsed) -> Result<OpenReport> {
    let mut report = OpenReport::default();
    for h in &parsed.holds {
        open(store, h, &mut report)
            .await
            .with_context(|| format!("storing the hold of {}", h.user_token))?;
    }
    Ok(report)
}

/// Where a hold goes after a look at the user's KYC sessions and status.
pub fn next_status(
    hold: &StoredHold,
    sessions: &[masspay_client::models::KycSession],
    user_active: bool,
) -> (Option<&'static str>, Option<String>) {
    let opened = DateTime::parse_from_rfc3339(&hold.opened_at).ok();
    let newer = sessions
        .iter()
        .filter(|s| {
            match (
                opened,
                s.session_time
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
            ) {
                (Some(o), Some(t)) => t >= o,
                _ => true,
            }
        })
        .max_by_key(|s| s.session_time.clone().unwrap_or_default());
    let kyc = newer.map(|s| s.status.as_str().to_string());
    let to = match kyc.as_deref() {
        Some("Approved") => Some("released"),
        Some("Declined") => Some("declined"),
        Some("Expired") | Some("Abandoned") => Some("expired"),
        Some("Submitted") | Some("Resubmitted") | Some("Review") => Some("submitted"),
        _ if hold.status == "submitted" && user_active => Some("released"),
        _ => None,
    };
    (to, kyc)
}

/// What `holds refresh` did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshReport {
    pub checked: usize,
    pub moved: usize,
    pub failed: usize,
}

/// Asks MassPay about every active hold and moves it; records the notices.
pub async fn refresh(
    store: &Store,
    client: &masspay_client::Client,
    settings: &crate::config::Settings,
) -> Result<RefreshReport> {
    let mut report = RefreshReport::default();
    for hold in store.holds(true).await? {
        report.checked += 1;
        let sessions = match client.kyc_sessions(&hold.user_token).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(user_token = %hold.user_token, "KYC sessions: {e}");
                report.failed += 1;
                continue;
            }
        };
        let active = match client.user(&hold.user_token).await {
            Ok(u) => u.status.as_ref().is_some_and(|s| s.as_str() == "ACTIVE"),
            Err(_) => false,
        };
        let (to, kyc) = next_status(&hold, &sessions, active);
        let at = now();
        let to = to.unwrap_or(hold.status.as_str());
        if store
            .transition_hold(hold.id, to, &at, "refresh", kyc.as_deref())
            .await?
        {
            report.moved += 1;
            if to == "released" {
                let n = Notice {
                    kind: "hold_released".into(),
                    text: format!("KYC hold released for {}", hold.user_token),
                    fields: serde_json::json!({"hold_id": hold.id, "user_token": hold.user_token, "released_at": at}),
                };
                Notifier::record(store, &format!("hold_released:{}", hold.id), &n).await?;
            }
        }
    }
    record_old_hold_notices(store, settings.alerts.hold_older_than_days).await?;
    Ok(report)
}

/// Records a "hold older than N days" notice once per hold.
pub async fn record_old_hold_notices(store: &Store, days: i64) -> Result<usize> {
    let mut n = 0;
    for h in store.holds(true).await? {
        let age = age_days(&h.opened_at);
        if age >= days {
            let notice = Notice {
                kind: "hold_old".into(),
                text: format!("KYC hold for {} open for {age} days", h.user_token),
                fields: serde_json::json!({"hold_id": h.id, "user_token": h.user_token, "age_days": age, "status": h.status}),
            };
            if Notifier::record(store, &format!("hold_old:{}:{days}", h.id), &notice).await? {
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Whole days since an RFC 3339 time (0 when unreadable).
pub fn age_days(at: &str) -> i64 {
    DateTime::parse_from_rfc3339(at)
        .map(|t| (Utc::now() - t.with_timezone(&Utc)).num_days().max(0))
        .unwrap_or(0)
}

/// One row of `holds list` / `holds export` (columns are a public interface).
#[derive(Debug, Clone, Serialize)]
pub struct HoldRow {
    pub user_token: String,
    pub name: String,
    pub status: String,
    pub reason: String,
    pub link_kind: String,
    pub upload_link: String,
    pub opened_at: String,
    pub age_days: i64,
    pub last_kyc_status: String,
    pub last_event_at: String,
    pub source: String,
    pub form: String,
    pub tin_status: String,
    #[serde(skip)]
    pub blocks_filing: bool,
}

pub const COLUMNS: [&str; 13] = [
    "user_token",
    "name",
    "status",
    "reason",
    "link_kind",
    "upload_link",
    "opened_at",
    "age_days",
    "last_kyc_status",
    "last_event_at",
    "source",
    "form",
    "tin_status",
];

impl HoldRow {
    pub fn cells(&self) -> [String; 13] {
        [
            self.user_token.clone(),
            self.name.clone(),
            self.status.clone(),
            self.reason.clone(),
            self.link_kind.clone(),
            self.upload_link.clone(),
            self.opened_at.clone(),
            self.age_days.to_string(),
            self.last_kyc_status.clone(),
            self.last_event_at.clone(),
            self.source.clone(),
            self.form.clone(),
            self.tin_status.clone(),
        ]
    }
}

/// The rows: payees on the current year's 1099-NEC or 1042-S with a missing or invalid TIN
/// first, then the oldest holds first.
pub async fn list(
    store: &Store,
    settings: &crate::config::Settings,
    active_only: bool,
    older_than_days: Option<i64>,
) -> Result<Vec<HoldRow>> {
    use futures_util::TryStreamExt;
    let holds = store.holds(active_only).await?;
    let wanted: std::collections::HashSet<&str> =
        holds.iter().map(|h| h.user_token.as_str()).collect();
    // The current tax year: this calendar year if synced, else the one before.
    let mut judged: HashMap<String, (String, String, String, bool)> = HashMap::new();
    let this_year = chrono::Datelike::year(&Utc::now());
    for year in [this_year, this_year - 1] {
        if store.latest_run(year).await?.is_none() {
            continue;
        }
        let Ok(view) = crate::year::YearView::load(store, settings, year).await else {
            continue;
        };
        let mut payees = view.on_file(store.year_payees(year, None));
        while let Some(p) = payees.try_next().await? {
            if !wanted.contains(p.0.user_token.as_str()) {
                continue;
            }
            let name = if !p.0.business_name.trim().is_empty() {
                p.0.business_name.clone()
            } else {
                crate::report::full_name(&p.0)
            };
            let token = p.0.user_token.clone();
            let y = view.judge(p)?;
            let form = serde_json::to_value(y.decision.form)?
                .as_str()
                .unwrap_or("none")
                .to_string();
            let tin = y.check.status.as_str().to_string();
            let blocks = form != "none" && tin != "valid";
            judged.insert(token, (name, form, tin, blocks));
        }
        break;
    }
    let mut rows: Vec<HoldRow> = holds
        .into_iter()
        .map(|h| {
            let (name, form, tin_status, blocks) =
                judged.get(&h.user_token).cloned().unwrap_or_default();
            HoldRow {
                age_days: age_days(&h.opened_at),
                user_token: h.user_token,
                name,
                status: h.status,
                reason: h.reason.unwrap_or_default(),
                link_kind: h.link_kind.unwrap_or_default(),
                upload_link: h.upload_link.unwrap_or_default(),
                opened_at: h.opened_at,
                last_kyc_status: h.last_kyc_status.unwrap_or_default(),
                last_event_at: h.last_event_at,
                source: h.source,
                form,
                tin_status,
                blocks_filing: blocks,
            }
        })
        .filter(|r| older_than_days.is_none_or(|d| r.age_days >= d))
        .collect();
    rows.sort_by(|a, b| {
        b.blocks_filing
            .cmp(&a.blocks_filing)
            .then_with(|| a.opened_at.cmp(&b.opened_at))
            .then_with(|| a.user_token.cmp(&b.user_token))
    });
    Ok(rows)
}

/// `14d`, `14`, `2w` → days.
pub fn parse_days(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('d') => (&s[..s.len() - 1], 1),
        Some('w') => (&s[..s.len() - 1], 7),
        _ => (s, 1),
    };
    num.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(|n| n * mult)
        .ok_or_else(|| format!("{s:?} is not a number of days (e.g. 14d, 2w)"))
}

/// Writes rows as CSV (formula-safe cells).
pub fn write_csv(rows: &[HoldRow], w: impl std::io::Write) -> Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    csv.write_record(COLUMNS)?;
    for r in rows {
        csv.write_record(
            r.cells()
                .iter()
                .map(|c| masspay_tax_forms::neutralize(c).into_owned()),
        )?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_kinds() {
        assert_eq!(link_kind("https://l.maspay.io/abc"), "bank_statement");
        assert_eq!(link_kind("https://magic.veriff.me/v/x"), "government_id");
        assert_eq!(parse_days("14d").unwrap(), 14);
        assert_eq!(parse_days("2w").unwrap(), 14);
        assert!(parse_days("x").is_err());
    }

    #[test]
    fn malformed_middle_line() {
        let ok = r#"{"user_token":"usr_1","response":{"error":{"reason":"Additional documentation required","details":["User is not active","Please upload ... at the following link: https://l.maspay.io/t1"]}}}"#;
        let text = format!("{ok}\n{{not json\n{}\n", ok.replace("usr_1", "usr_2"));
        let p = parse_ingest(&text);
        assert_eq!(p.holds.len(), 2);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].line, 2);
    }
}
