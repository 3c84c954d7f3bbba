//! `masspay-tax audit tins`: one TIN verdict per payee.

use super::Ctx;
use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Table,
    Csv,
    Json,
}

/// Compliance audits.
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// SSN / ITIN / ATIN / EIN completeness and validity, one verdict per payee.
    ///
    /// Example: masspay-tax audit tins --year 2025 --only-reportable --fail-on invalid,missing
    ///
    /// Status is valid, invalid (an IRS rule fails), malformed (not 9 digits) or missing; the type
    /// is ssn, itin, atin, ein or unknown (a bare 9-digit number with no W-9 is ambiguous, never
    /// guessed). An imported W-9's TIN and declared type win over MassPay's tax_id. TINs are masked
    /// in every format. Exit code 3 when --fail-on matches a payee.
    Tins {
        #[arg(long)]
        year: i32,
        /// Only payees reportable on the 1099-NEC.
        #[arg(long)]
        only_reportable: bool,
        #[arg(long, value_enum, default_value = "table")]
        format: AuditFormat,
        /// Statuses that make the command exit with code 3 (comma separated), e.g. invalid,missing.
        #[arg(long)]
        fail_on: Option<String>,
        /// Write to this file (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub async fn run(cmd: AuditCommand, ctx: &Ctx) -> Result<ExitCode> {
    let AuditCommand::Tins {
        year,
        only_reportable,
        format,
        fail_on,
        out,
    } = cmd;
    let fail_on = fail_on
        .as_deref()
        .map(masspay_tax::audit::parse_fail_on)
        .transpose()?
        .unwrap_or_default();
    let store = ctx.store.open_existing(Some(year)).await?;
    let format = match format {
        AuditFormat::Table => masspay_tax::audit::Format::Table,
        AuditFormat::Csv => masspay_tax::audit::Format::Csv,
        AuditFormat::Json => masspay_tax::audit::Format::Json,
    };
    // Rows go out as they are made: to a temp file renamed into place at the end (--out), or
    // to stdout.
    let written = match &out {
        Some(path) => {
            let f = masspay_tax_forms::AtomicFile::create(path)?;
            let sink = std::io::BufWriter::with_capacity(1 << 16, f);
            let (w, written) = masspay_tax::audit::audit_tins_to(
                &store,
                &ctx.settings,
                year,
                only_reportable,
                format,
                &fail_on,
                sink,
            )
            .await?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.commit()?;
            eprintln!("audit written to {}", path.display());
            written
        }
        None => {
            let sink = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
            let (mut w, written) = masspay_tax::audit::audit_tins_to(
                &store,
                &ctx.settings,
                year,
                only_reportable,
                format,
                &fail_on,
                sink,
            )
            .await?;
            std::io::Write::flush(&mut w)?;
            written
        }
    };
    store.close().await;
    if written.failing > 0 {
        eprintln!(
            "{} payees have a status listed in --fail-on",
            written.failing
        );
        return Ok(ExitCode::from(3));
    }
    Ok(ExitCode::SUCCESS)
}
