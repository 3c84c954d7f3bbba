//! `findings`: what a year's last sync flagged, filtered by severity.

use anyhow::{Result, bail};
use masspay_tax_store::{Finding, Store};

/// The severities a finding can have.
pub const SEVERITIES: [&str; 3] = ["error", "warning", "info"];

/// The year's findings, optionally only one severity (`error`, `warning`, `info`).
pub async fn list(store: &Store, year: i32, severity: Option<&str>) -> Result<Vec<Finding>> {
    if let Some(sev) = severity
        && !SEVERITIES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(sev.trim()))
    {
        bail!("--severity takes error, warning or info, not {sev:?}");
    }
    let mut findings = store.findings(year).await?;
    if let Some(sev) = severity {
        findings.retain(|f| f.severity.eq_ignore_ascii_case(sev.trim()));
    }
    Ok(findings)
}
