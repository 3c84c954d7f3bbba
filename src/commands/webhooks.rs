//! `masspay-tax webhooks serve`: the MassPay status-webhook receiver.

use super::Ctx;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use masspay_tax::webhooks::{ReceiverConfig, SECRET_ENV, Secret};
use std::process::ExitCode;

/// MassPay webhooks: a receiver that verifies `X-MassPay-Signature` and records the events
#[derive(Subcommand, Debug)]
pub enum WebhooksCommand {
    /// Receives MassPay webhooks (POST, any path) until SIGTERM / Ctrl-C. The secret comes
    /// from MASSPAY_WEBHOOK_SECRET only.
    Serve(ServeArgs),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (put a TLS proxy in front: MassPay posts to https URLs).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Signature timestamp tolerance in seconds (default: [webhooks] tolerance_secs, 300).
    #[arg(long)]
    pub tolerance_secs: Option<i64>,
}

pub async fn run(cmd: WebhooksCommand, ctx: &Ctx) -> Result<ExitCode> {
    match cmd {
        WebhooksCommand::Serve(a) => {
            let secret = std::env::var(SECRET_ENV)
                .ok()
                .filter(|s| !s.trim().is_empty())
                .with_context(|| format!("{SECRET_ENV} is not set"))?;
            let cfg = ReceiverConfig {
                secret: Secret::new(secret)?,
                tolerance_secs: a
                    .tolerance_secs
                    .unwrap_or(ctx.settings.webhooks.tolerance_secs),
                max_body_bytes: ctx.settings.webhooks.max_body_bytes,
            };
            let store = ctx.store.open().await?;
            let listener = tokio::net::TcpListener::bind(&a.listen)
                .await
                .with_context(|| format!("listening on {}", a.listen))?;
            eprintln!(
                "receiving MassPay webhooks on http://{}",
                listener.local_addr()?
            );
            masspay_tax::webhooks::serve(listener, store.clone(), cfg).await?;
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}
