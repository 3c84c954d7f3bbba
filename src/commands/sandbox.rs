//! `masspay-tax sandbox serve`: the built-in MassPay emulator on 127.0.0.1.

use super::Ctx;
use anyhow::{Context, Result};
use clap::Subcommand;
use std::process::ExitCode;

/// The built-in MassPay emulator.
#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Serve the MassPay emulator on 127.0.0.1 until Ctrl-C.
    ///
    /// Example: masspay-tax sandbox serve --port 8080
    Serve {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Seed for the generated payees (same seed, same data).
        #[arg(long, default_value_t = masspay_emulator::DEFAULT_SEED)]
        seed: u64,
        /// Generated payees per tax year, besides the fixed hard cases.
        #[arg(long, default_value_t = 200)]
        payees: usize,
        /// Share of requests (0-100) answered with an injected fault.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
        fault_percent: u8,
        /// Send signed MassPay webhooks (payout statuses, user and tax-interview events) here,
        /// e.g. http://127.0.0.1:8090/ for `masspay-tax webhooks serve --listen 127.0.0.1:8090`.
        #[arg(long)]
        webhook_url: Option<String>,
        /// The webhook signing secret (never printed); default MASSPAY_WEBHOOK_SECRET.
        #[arg(long, env = "MASSPAY_WEBHOOK_SECRET", hide_env_values = true)]
        webhook_secret: Option<WebhookSecretArg>,
        /// Answer every `GET /payout/tax` with this recorded body, byte for byte (benchmarks:
        /// the emulator's own generation cost stays out of the figures).
        #[arg(long, value_name = "FILE")]
        tax_body: Option<std::path::PathBuf>,
    },
}

/// A webhook secret given on the command line: `Debug` redacts it.
#[derive(Clone)]
pub struct WebhookSecretArg(String);

impl std::str::FromStr for WebhookSecretArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err("the webhook secret is empty".into());
        }
        Ok(WebhookSecretArg(s.to_string()))
    }
}

impl std::fmt::Debug for WebhookSecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

pub async fn run(cmd: SandboxCommand, _ctx: &Ctx) -> Result<ExitCode> {
    let SandboxCommand::Serve {
        port,
        seed,
        payees,
        fault_percent,
        webhook_url,
        webhook_secret,
        tax_body,
    } = cmd;
    if let Some(p) = &tax_body {
        std::fs::metadata(p).with_context(|| format!("the recorded tax body {}", p.display()))?;
    }
    if webhook_url.is_some() && webhook_secret.is_none() {
        anyhow::bail!("--webhook-url needs --webhook-secret (or MASSPAY_WEBHOOK_SECRET)");
    }
    let config = masspay_emulator::EmulatorConfig {
        seed,
        bulk_payees: payees,
        faults: masspay_emulator::FaultConfig {
            percent: fault_percent,
            ..Default::default()
        },
        webhook_url: webhook_url.clone(),
        webhook_secret: webhook_secret.map(|s| s.0),
        recorded_tax_body: tax_body,
        ..Default::default()
    };
    let emu = masspay_emulator::spawn_on(config, port)
        .await
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    println!("MassPay emulator listening on {}", emu.base_url());
    println!("  export MASSPAY_BASE_URL={}", emu.base_url());
    println!(
        "  export MASSPAY_API_KEY={}   # the emulator's public test key",
        masspay_emulator::SANDBOX_API_KEY
    );
    if webhook_url.is_some() {
        println!("  signed webhooks are sent to the --webhook-url given");
    }
    println!("Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    emu.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
