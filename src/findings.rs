//! `findings`: what a year's last sync flagged, filtered by severity.

use anyhow::{Result, bail};
use futures_util::TryStreamExt;
use masspay_tax_store::{Finding, Store};

/// The severities a finding can have.
pub const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

fn check_severity(severity: Option<&str>) -> Result<()> {
    if let Some(sev) = severity
        && !SEVERITIES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(sev.trim()))
    {
        bail!("--severity takes error, warning or info, not {sev:?}");
    }
    Ok(())
}

/// The year's findings, optionally only one severity (`error`, `warning`, `info`).
pub async fn list(store: &Store, year: i32, severity: Option<&str>) -> Result<Vec<Finding>> {
    let mut v = Vec::new();
    each(store, year, severity, |f| {
        v.push(f);
        Ok(())
    })
    .await?;
    Ok(v)
}

/// [`list`] one finding at a time, in the order the sync recorded them (memory flat in their
/// number); returns how many were handed over.
pub async fn each(
    store: &Store,
    year: i32,
    severity: Option<&str>,
    mut f: impl FnMut(Finding) -> Result<()>,
) -> Result<usize> {
    check_severity(severity)?;
    let mut n = 0;
    let mut stream = store.findings_stream(year);
    while let Some(finding) = stream.try_next().await? {
        if severity.is_some_and(|s| !finding.severity.eq_ignore_ascii_case(s.trim())) {
            continue;
        }
        n += 1;
        f(finding)?;
    }
    Ok(n)
}
