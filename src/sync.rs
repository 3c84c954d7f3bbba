//! `sync`: pull a tax year from MassPay into the store, atomically.
//!
//! The tax endpoint is read as a stream; each row is classified under the year's rules and
//! written into a snapshot transaction. If the connection drops mid-body the transaction is
//! rolled back and the whole pull is retried (bounded, with backoff), so a sync under faults
//! leaves exactly the store a clean one would, and a failed sync leaves the previous snapshot.

use anyhow::{Context, Result};
use masspay_client::{Client, ClientError, TaxRow, tax::PostalCode};
use masspay_tax_rules::{Residency, Thresholds, classify};
use masspay_tax_store::lease::SYNC_LEASE;
use masspay_tax_store::{
    BalanceRecord, Finding, LeaseHolder, Origin, PayeeRecord, SnapshotSummary, Store,
};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

/// What `sync` reports (also the `--format json` output).
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub tax_year: i32,
    /// The run's source label (a string since the first release; `sandbox` and `origin` below
    /// are the structured form every other summary calls `source`).
    pub source: String,
    /// The data is emulated (the built-in sandbox), not real payees.
    pub sandbox: bool,
    /// Where the store's data comes from, in words.
    pub origin: String,
    pub run_id: i64,
    pub payees: i64,
    pub rows_received: i64,
    pub rows_rejected: i64,
    /// Sum of all payees' amounts (rounded to cents per payee).
    pub total: String,
    pub reportable_1099_nec: i64,
    pub candidates_1042s: i64,
    pub threshold: String,
    pub findings: usize,
    pub body_sha256: String,
    pub tries: u32,
    pub duration_ms: u64,
}

/// Progress callback: rows read so far and body bytes.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Builds the store records for one row; findings are appended to `findings`.
pub fn to_records(
    row: &TaxRow,
    year: i32,
    thresholds: &Thresholds,
    findings: &mut Vec<Finding>,
) -> Result<(PayeeRecord, BalanceRecord), masspay_tax_rules::ThresholdError> {
    into_records(row.clone(), year, thresholds, findings)
}

/// [`to_records`] taking the row, whose strings move into the records (the sync's path: no
/// copy of a payee's fourteen strings per row).
pub fn into_records(
    row: TaxRow,
    year: i32,
    thresholds: &Thresholds,
    findings: &mut Vec<Finding>,
) -> Result<(PayeeRecord, BalanceRecord), masspay_tax_rules::ThresholdError> {
    let c = classify(
        thresholds,
        year,
        row.balance,
        &row.country,
        Some(&row.business_name),
    )?;
    let finding = |code: &str, severity: &str, message: String| Finding {
        user_token: Some(row.user_token.clone()),
        row_index: Some(row.index as i64),
        code: code.into(),
        severity: severity.into(),
        message,
    };
    let (postal_code, repaired) = match (&row.postal_code, c.residency) {
        (Some(PostalCode::Number(n)), Residency::Us | Residency::UsTerritory) => {
            masspay_tax_rules::postal::repair_us_zip(n, true)
        }
        (Some(p), _) => (p.text().to_string(), false),
        (None, _) => (String::new(), false),
    };
    if repaired {
        findings.push(finding(
            "postal_code_repaired",
            "info",
            format!(
                "postal_code arrived as the number {} and was repaired to {postal_code}",
                row.postal_code.as_ref().map(PostalCode::text).unwrap_or("")
            ),
        ));
    }
    if c.residency == Residency::Unknown {
        findings.push(finding(
            "country_unknown",
            "warning",
            format!("country {:?} is not an ISO alpha-3 code: not classified; fix the payee's country in MassPay", row.country),
        ));
    }
    if row.balance < Decimal::ZERO {
        findings.push(finding(
            "negative_balance",
            "warning",
            format!("annual balance is negative ({})", row.balance),
        ));
    }
    if row.balance.scale() > 2 && c.amount != row.balance {
        findings.push(finding(
            "amount_rounded",
            "info",
            format!(
                "balance {} has more than two decimals; rounded half-up to {}",
                row.balance, c.amount
            ),
        ));
    }
    let payee = PayeeRecord {
        user_token: row.user_token,
        first_name: row.first_name,
        middle_name: row.middle_name,
        last_name: row.last_name,
        business_name: row.business_name,
        email: row.email,
        mobile_number: row.mobile_number,
        address1: row.address1,
        address2: row.address2,
        city: row.city,
        state_province: row.state_province,
        postal_code,
        postal_code_repaired: repaired,
        country: row.country.trim().to_ascii_uppercase(),
        date_of_birth: row.date_of_birth,
        tin_raw: row.tax_id,
    };
    let balance = BalanceRecord {
        balance: row.balance,
        amount: c.amount,
        amount_cents: masspay_tax_rules::to_cents(c.amount).unwrap_or(i64::MAX),
        form: match c.form {
            masspay_tax_rules::FormKind::Nec1099 => "1099-NEC",
            masspay_tax_rules::FormKind::Candidate1042S => "1042-S",
            masspay_tax_rules::FormKind::NotReportable => "none",
        }
        .into(),
        business: c.business,
        residency: match c.residency {
            // Territories count with the US for the 1099-NEC (stored as before).
            Residency::Us | Residency::UsTerritory => "us",
            Residency::Foreign => "foreign",
            Residency::Unknown => "unknown",
        }
        .into(),
    };
    Ok((payee, balance))
}

/// A 128-bit fingerprint of a token, for duplicate detection in bounded memory.
fn token_key(state: &std::hash::RandomState, token: &str) -> u128 {
    let mut a = state.build_hasher();
    a.write(token.as_bytes());
    let mut b = state.build_hasher();
    b.write_u8(0xA5);
    b.write(token.as_bytes());
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// The duplicate set's hasher: its keys are [`token_key`]'s keyed 128-bit hashes already, so the
/// low 64 bits serve as the table hash (no third SipHash pass per row).
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

type SeenTokens = HashSet<u128, std::hash::BuildHasherDefault<Prehashed>>;
/// Body bytes per payee row assumed when the seen-token set is sized from `Content-Length`
/// (below the smallest real rows, so the set is not outgrown).
const SEEN_BYTES_PER_ROW: u64 = 256;
/// The most entries reserved up front (a 36 MiB table); past it the set grows as it needs.
const SEEN_MAX_RESERVE: usize = 1 << 20;

enum Attempt {
    Done(SyncReport),
    /// The body failed part-way; retry the whole pull.
    Retry(ClientError),
}

/// Environment variable: how many seconds a sync waits for another sync of the same store
/// before giving up (default [`DEFAULT_LOCK_WAIT`]).
pub const LOCK_WAIT_ENV: &str = "MASSPAY_TAX_SYNC_WAIT_SECS";
/// How long a sync waits for another sync of the same store.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);
/// The sync lease's time to live; renewed every third of it while the sync runs, so a killed
/// sync's lease lapses after at most this long (at once on the same host).
pub const SYNC_LEASE_TTL: Duration = Duration::from_secs(120);

/// Where the data of a sync comes from and how it waits for another sync of the store.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The run's `source` label (shown by `runs`).
    pub source_label: String,
    /// What the store records as the origin of its data; another kind is refused.
    pub origin: Origin,
    /// How long to wait for another sync of the same store.
    pub lock_wait: Duration,
}

impl SyncOptions {
    pub fn new(source_label: &str, origin: Origin) -> SyncOptions {
        SyncOptions {
            source_label: source_label.to_string(),
            origin,
            lock_wait: lock_wait_from_env(),
        }
    }
}

/// [`LOCK_WAIT_ENV`] or the default.
pub fn lock_wait_from_env() -> Duration {
    std::env::var(LOCK_WAIT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_LOCK_WAIT, Duration::from_secs)
}

/// Pulls `year` into the store. The origin is the sandbox when `source` is the built-in
/// sandbox's label (`sandbox ...`), else the MassPay environment at the client's base URL; see
/// [`sync_year_with`].
pub async fn sync_year(
    client: &Client,
    store: &Store,
    thresholds: &Thresholds,
    year: i32,
    source: &str,
    progress: Option<Progress<'_>>,
) -> Result<SyncReport> {
    let origin = match Origin::from_source_label(source) {
        Origin::Sandbox => Origin::Sandbox,
        Origin::MassPay { .. } => Origin::masspay(client.base_url()),
    };
    sync_year_with(
        client,
        store,
        thresholds,
        year,
        &SyncOptions::new(source, origin),
        progress,
    )
    .await
}

/// Pulls `year` into the store, as one sync of it at a time (lease `sync`, waited for up to
/// `options.lock_wait`), refusing data from another kind of origin than the store's.
pub async fn sync_year_with(
    client: &Client,
    store: &Store,
    thresholds: &Thresholds,
    year: i32,
    options: &SyncOptions,
    progress: Option<Progress<'_>>,
) -> Result<SyncReport> {
    // Refuse an unknown year, or data from another kind of origin, before touching anything.
    let threshold = thresholds.nec(year)?;
    store.check_origin(&options.origin).await?;
    let lease = store
        .lease_wait(
            SYNC_LEASE,
            &LeaseHolder::this_process(),
            SYNC_LEASE_TTL,
            options.lock_wait,
        )
        .await?;
    let keeper = store.keep_lease(lease);
    let result = sync_locked(
        client, store, thresholds, year, threshold, options, progress,
    )
    .await;
    if let Err(e) = keeper.release().await {
        tracing::warn!(error = %e, "could not release the sync lease; it lapses on its own");
    }
    result
}

async fn sync_locked(
    client: &Client,
    store: &Store,
    thresholds: &Thresholds,
    year: i32,
    threshold: Decimal,
    options: &SyncOptions,
    progress: Option<Progress<'_>>,
) -> Result<SyncReport> {
    // Checked again under the lease: a sync that just finished may have claimed the store.
    store.check_origin(&options.origin).await?;
    let interrupted = store.mark_interrupted_runs().await?;
    if interrupted > 0 {
        tracing::warn!(
            runs = interrupted,
            "marked sync runs whose process had ended as interrupted"
        );
    }
    let source = options.source_label.as_str();
    let started = Instant::now();
    let run_id = store.begin_run(year, source).await?;
    // One retry budget for the whole pull, re-pulls included (retries never nest).
    let budget = client.budget();
    let mut pulls = 0u32;
    let mut total_tries = 0u32;
    loop {
        pulls += 1;
        let outcome = attempt(
            client,
            &budget,
            store,
            thresholds,
            year,
            run_id,
            &options.origin,
            progress,
            &mut total_tries,
        )
        .await;
        match outcome {
            Ok(Attempt::Done(mut r)) => {
                r.source = source.to_string();
                r.sandbox = options.origin.is_sandbox();
                r.origin = options.origin.to_string();
                r.threshold = masspay_tax_rules::format_amount(threshold);
                r.duration_ms = started.elapsed().as_millis() as u64;
                r.tries = total_tries;
                return Ok(r);
            }
            Ok(Attempt::Retry(e)) if budget.next_wait(None).is_some() => {
                let wait = budget.next_wait(None).unwrap_or_default();
                tracing::warn!(error = %e, pull = pulls, "tax body failed part-way; rolled back, retrying the pull");
                tokio::time::sleep(wait.max(Duration::from_millis(50))).await;
            }
            Ok(Attempt::Retry(e)) => {
                let _ = store
                    .fail_run(run_id, &e.to_string(), i64::from(total_tries))
                    .await;
                return Err(e).context(format!("sync of tax year {year} failed after {pulls} pulls; the previous snapshot is unchanged"));
            }
            Err(e) => {
                let _ = store
                    .fail_run(run_id, &format!("{e:#}"), i64::from(total_tries))
                    .await;
                return Err(e.context(format!(
                    "sync of tax year {year} failed; the previous snapshot is unchanged"
                )));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn attempt(
    client: &Client,
    budget: &masspay_client::RetryBudget,
    store: &Store,
    thresholds: &Thresholds,
    year: i32,
    run_id: i64,
    origin: &Origin,
    progress: Option<Progress<'_>>,
    total_tries: &mut u32,
) -> Result<Attempt> {
    // amount_threshold means "strictly exceeds": ask for everything above zero and apply the
    // IRS's ">= threshold" locally, so the payee paid exactly the threshold is never lost.
    let mut pull = match client.tax_pull_in(budget, year, Decimal::ZERO).await {
        Ok(p) => p,
        Err(e) => return Err(e.into()),
    };
    *total_tries += pull.tries();
    let mut writer = store.snapshot(run_id, year).await?;
    writer.claim_origin(origin.clone());
    let mut findings = Vec::new();
    let mut rejected = 0i64;
    let hasher = std::hash::RandomState::new();
    // Sized once from the body's length (a payee's row is some 300-450 bytes; capped, so a
    // wrong `Content-Length` costs nothing): no rehash while the year streams in, and no second
    // table beside the first at the last growth.
    let expect = pull
        .content_length()
        .map_or(0, |n| usize::try_from(n / SEEN_BYTES_PER_ROW).unwrap_or(0))
        .min(SEEN_MAX_RESERVE);
    let mut seen = SeenTokens::with_capacity_and_hasher(expect, Default::default());
    let mut rows = 0u64;
    let mut nfindings = 0usize;
    loop {
        // Findings go to the writer as they are made (the bulk writer stores them as it goes).
        nfindings += findings.len();
        for f in findings.drain(..) {
            writer.add_finding(f);
        }
        let next = match pull.next_row().await {
            Ok(n) => n,
            Err(e @ (ClientError::Transport { .. } | ClientError::Decode { .. })) => {
                writer.rollback().await?;
                return Ok(Attempt::Retry(e));
            }
            Err(e) => {
                writer.rollback().await?;
                return Err(e.into());
            }
        };
        let Some(row) = next else { break };
        rows += 1;
        if rows.is_multiple_of(1024)
            && let Some(p) = progress
        {
            p(rows, pull.bytes_read());
        }
        match row {
            Ok(row) => {
                if !seen.insert(token_key(&hasher, &row.user_token)) {
                    rejected += 1;
                    findings.push(Finding {
                        user_token: Some(row.user_token.clone()),
                        row_index: Some(row.index as i64),
                        code: "duplicate_row".into(),
                        severity: "error".into(),
                        message: "user_token appears more than once in the response; the first row was kept".into(),
                    });
                    continue;
                }
                let (payee, balance) = into_records(row, year, thresholds, &mut findings)?;
                writer.add(payee, balance).await?;
            }
            Err(e) => {
                rejected += 1;
                findings.push(Finding {
                    user_token: e.user_token.clone(),
                    row_index: Some(e.index as i64),
                    code: "row_rejected".into(),
                    severity: "error".into(),
                    message: e.message.clone(),
                });
            }
        }
    }
    if let Some(p) = progress {
        p(rows, pull.bytes_read());
    }
    let summary = pull.summary();
    let snap = SnapshotSummary {
        rows_received: summary.rows as i64,
        rows_rejected: rejected,
        body_bytes: summary.bytes as i64,
        body_sha256: summary.sha256.clone(),
        tries: i64::from(*total_tries),
    };
    // The tokens seen (16 bytes a payee) are done with before the commit's sorts need memory.
    drop(seen);
    let counts = writer.commit(&snap).await?;
    let mut total = counts.total;
    total.rescale(2);
    Ok(Attempt::Done(SyncReport {
        tax_year: year,
        source: String::new(),
        sandbox: false,
        origin: String::new(),
        run_id,
        payees: counts.stored,
        rows_received: summary.rows as i64,
        rows_rejected: rejected,
        total: total.to_string(),
        reportable_1099_nec: counts.reportable,
        candidates_1042s: counts.foreign,
        threshold: String::new(),
        findings: nfindings,
        body_sha256: summary.sha256,
        tries: 0,
        duration_ms: 0,
    }))
}
