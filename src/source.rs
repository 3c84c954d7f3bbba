//! Where MassPay data comes from: the real API (`MASSPAY_API_KEY` + `--env` or
//! `MASSPAY_BASE_URL`) or the built-in emulator (`--sandbox`, and the default when no key is set).

use anyhow::{Context, Result, bail};
use masspay_client::{ApiKey, Client, ClientConfig, Environment};
use masspay_emulator::{EmulatorConfig, RunningEmulator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Env {
    /// MassPay staging: https://staging-api.masspay.io/v1.0.0/payout/
    Sandbox,
    /// MassPay production: https://api.masspay.io/v1.0.0/payout/
    Production,
}

/// How to reach MassPay, as given on the command line and in the environment.
#[derive(Debug, Clone, Default)]
pub struct SourceArgs {
    pub sandbox: bool,
    pub env: Option<Env>,
    pub base_url: Option<String>,
    /// From `MASSPAY_API_KEY` only (never a flag: flags show in `ps`).
    pub api_key: Option<String>,
}

/// A connected source. Holds the emulator alive while in use.
pub struct Source {
    pub client: Client,
    pub label: String,
    pub emulator: Option<RunningEmulator>,
}

impl Source {
    pub async fn connect(args: &SourceArgs) -> Result<Source> {
        let key = args
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if args.sandbox || (key.is_none() && args.base_url.is_none() && args.env.is_none()) {
            if !args.sandbox {
                eprintln!(
                    "note: MASSPAY_API_KEY is not set, so this runs against the built-in sandbox \
                     (emulated MassPay data, not your payees). Set MASSPAY_API_KEY to use your account."
                );
            }
            let emu = masspay_emulator::spawn(EmulatorConfig::default())
                .await
                .context("starting the built-in sandbox")?;
            let client = Client::new(ClientConfig::new(
                &emu.base_url(),
                ApiKey::new(masspay_emulator::SANDBOX_API_KEY)?,
            )?)?;
            return Ok(Source {
                client,
                label: "sandbox (built-in emulator)".into(),
                emulator: Some(emu),
            });
        }
        let Some(key) = key else {
            bail!(
                "MASSPAY_API_KEY is not set: it is required with --env or MASSPAY_BASE_URL (or use --sandbox)"
            );
        };
        let base = match (&args.base_url, args.env) {
            (Some(b), _) => b.clone(),
            (None, Some(Env::Sandbox)) => Environment::Sandbox.base_url().to_string(),
            (None, Some(Env::Production) | None) => Environment::Production.base_url().to_string(),
        };
        // The key never travels in clear: http:// only for a loopback host (the local emulator).
        let config = ClientConfig::new(&base, ApiKey::new(key)?).with_context(|| {
            if args.base_url.is_some() {
                "MASSPAY_BASE_URL / --base-url is not usable".to_string()
            } else {
                "the MassPay base URL is not usable".to_string()
            }
        })?;
        let label = config.base_url.clone();
        Ok(Source {
            client: Client::new(config)?,
            label,
            emulator: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn http_base_url_only_for_loopback() {
        let args = SourceArgs {
            base_url: Some("http://api.masspay.io/v1.0.0/payout/".into()),
            api_key: Some("sk_live_do_not_print".into()),
            ..SourceArgs::default()
        };
        let msg = format!("{:#}", Source::connect(&args).await.err().unwrap());
        assert!(msg.contains("MASSPAY_BASE_URL"), "{msg}");
        assert!(msg.contains("in clear"), "{msg}");
        assert!(!msg.contains("do_not_print"), "{msg}");
        let local = SourceArgs {
            base_url: Some("http://127.0.0.1:9/v1.0.0/payout/".into()),
            ..args
        };
        assert!(Source::connect(&local).await.is_ok());
    }
}
