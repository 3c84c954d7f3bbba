//! One notifier for every notice the tool sends: threshold alerts, KYC hold notices, payout
//! status flips. Notices are recorded in the store's outbox once (by a dedup key), then delivered
//! on every configured channel; a delivery is marked sent only after the channel accepted it, so
//! a failed one is retried on the next run, and one broken channel never stops the others.
//!
//! Channels (`[notify]` in `masspay-tax.toml`, any combination):
//! * `stdout = true`: one JSON object per line on the run's output;
//! * `webhook = true`: a POST to `$MASSPAY_TAX_NOTIFY_WEBHOOK_URL` with a Slack-compatible
//!   `text` plus the structured `notices` (the URL is a secret: never printed);
//! * `command = ["prog", "arg"]`: the program is run with the notice as JSON on stdin (exit 0:
//!   delivered).
//!
//! `digest = true` sends one message per channel and run, listing every new notice.

use anyhow::{Context, Result, bail};
use masspay_tax_store::Store;
use masspay_tax_store::outbox::StoredNotice;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

/// The environment variable holding the webhook URL (a secret: it carries a token).
pub const WEBHOOK_URL_ENV: &str = "MASSPAY_TAX_NOTIFY_WEBHOOK_URL";

/// `[notify]` in the settings file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// JSON lines on stdout. Default: on when no other channel is configured.
    pub stdout: Option<bool>,
    /// POST to `$MASSPAY_TAX_NOTIFY_WEBHOOK_URL`.
    #[serde(default)]
    pub webhook: bool,
    /// A program (and its arguments) run with each notice as JSON on stdin.
    #[serde(default)]
    pub command: Vec<String>,
    /// One message per channel and run instead of one per notice.
    #[serde(default)]
    pub digest: bool,
}

/// A notice: what happened, in words and as fields. Never holds a TIN or an upload link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `alert`, `hold_new`, `hold_old`, `hold_released`, `payout_flip`, …
    pub kind: String,
    /// One line for people (the Slack `text`, the e-mail subject line).
    pub text: String,
    /// The structured fields (user_token, tax_year, state, amount, …).
    pub fields: serde_json::Value,
}

/// A configured channel.
#[derive(Clone)]
pub enum Channel {
    Stdout,
    Webhook { url: String },
    Command { argv: Vec<String> },
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Channel {
    /// The name deliveries are recorded under.
    pub fn name(&self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Webhook { .. } => "webhook",
            Channel::Command { .. } => "command",
        }
    }
}

/// What one channel did in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelReport {
    pub sent: usize,
    pub failed: usize,
    /// The last failure, in words (never the webhook URL).
    pub error: Option<String>,
}

/// What a delivery run did, by channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub channels: BTreeMap<String, ChannelReport>,
}

impl DeliveryReport {
    pub fn failed(&self) -> usize {
        self.channels.values().map(|c| c.failed).sum()
    }
}

/// The channels and the digest setting, resolved from the settings and the environment.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub channels: Vec<Channel>,
    pub digest: bool,
    timeout: Duration,
}

impl Notifier {
    /// From `[notify]` and the environment (`env` looks up a variable).
    pub fn from_settings(s: &NotifySettings, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut channels = Vec::new();
        if s.webhook {
            let Some(url) = env(WEBHOOK_URL_ENV).filter(|u| !u.trim().is_empty()) else {
                bail!("[notify] webhook = true, but {WEBHOOK_URL_ENV} is not set");
            };
            let url = url.trim().to_string();
            check_webhook_url(&url)?;
            channels.push(Channel::Webhook { url });
        }
        if !s.command.is_empty() {
            if s.command[0].trim().is_empty() {
                bail!("[notify] command: the first element must be the program to run");
            }
            channels.push(Channel::Command {
                argv: s.command.clone(),
            });
        }
        if s.stdout.unwrap_or(channels.is_empty()) {
            channels.insert(0, Channel::Stdout);
        }
        Ok(Notifier {
            channels,
            digest: s.digest,
            timeout: Duration::from_secs(30),
        })
    }

    /// Records a notice once: `false` when a notice with this key was recorded before.
    pub async fn record(store: &Store, dedup_key: &str, notice: &Notice) -> Result<bool> {
        let payload = serde_json::to_string(notice)?;
        Ok(store
            .enqueue_notice(dedup_key, &notice.kind, &payload)
            .await?
            .is_some())
    }

    /// Delivers every pending notice on every channel. `out` is the stdout channel's sink.
    pub async fn deliver(&self, store: &Store, out: &mut dyn Write) -> Result<DeliveryReport> {
        let mut report = DeliveryReport::default();
        for channel in &self.channels {
            let pending = store.pending_notices(channel.name(), None).await?;
            let mut r = ChannelReport::default();
            let batches: Vec<Vec<&StoredNotice>> = if self.digest && !pending.is_empty() {
                vec![pending.iter().collect()]
            } else {
                pending.iter().map(|n| vec![n]).collect()
            };
            for batch in batches {
                let notices: Vec<Notice> = batch
                    .iter()
                    .map(|n| {
                        serde_json::from_str(&n.payload).with_context(|| {
                            format!("notice #{} in the store is not readable", n.id)
                        })
                    })
                    .collect::<Result<_>>()?;
                let outcome = self.send(channel, &notices, out).await;
                for n in &batch {
                    store
                        .record_delivery(
                            n.id,
                            channel.name(),
                            outcome.as_ref().err().map(String::as_str),
                        )
                        .await?;
                }
                match outcome {
                    Ok(()) => r.sent += batch.len(),
                    Err(e) => {
                        tracing::warn!(channel = channel.name(), "notice delivery failed: {e}");
                        r.failed += batch.len();
                        r.error = Some(e);
                    }
                }
            }
            report.channels.insert(channel.name().to_string(), r);
        }
        Ok(report)
    }

    async fn send(
        &self,
        channel: &Channel,
        notices: &[Notice],
        out: &mut dyn Write,
    ) -> Result<(), String> {
        match channel {
            Channel::Stdout => {
                for n in notices {
                    let line = serde_json::to_string(n).map_err(|e| e.to_string())?;
                    writeln!(out, "{line}").map_err(|e| format!("writing to stdout: {e}"))?;
                }
                Ok(())
            }
            Channel::Webhook { url } => {
                let body = webhook_body(notices);
                let client = reqwest::Client::builder()
                    .timeout(self.timeout)
                    .build()
                    .map_err(|e| e.without_url().to_string())?;
                let resp = client
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| format!("webhook ({WEBHOOK_URL_ENV}): {}", e.without_url()))?;
                if resp.status().is_success() {
                    Ok(())
                } else {
                    Err(format!(
                        "webhook ({WEBHOOK_URL_ENV}) answered HTTP {}",
                        resp.status().as_u16()
                    ))
                }
            }
            Channel::Command { argv } => {
                let input = if notices.len() == 1 {
                    serde_json::to_vec(&notices[0])
                } else {
                    serde_json::to_vec(&webhook_body(notices))
                }
                .map_err(|e| e.to_string())?;
                run_command(argv, &input, self.timeout).await
            }
        }
    }
}

/// A Slack-compatible body: `text` for people, `notices` for machines.
pub fn webhook_body(notices: &[Notice]) -> serde_json::Value {
    let text = match notices {
        [one] => one.text.clone(),
        many => {
            let mut t = format!("masspay-tax: {} new notices", many.len());
            for n in many {
                t.push_str("\n• ");
                t.push_str(&n.text);
            }
            t
        }
    };
    serde_json::json!({ "text": text, "notices": notices })
}

fn check_webhook_url(url: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = lower.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if host == "localhost" || host.starts_with("127.") || host == "[::1]" {
            return Ok(());
        }
    }
    bail!("{WEBHOOK_URL_ENV} must be an https:// URL (http:// only for a loopback host)")
}

async fn run_command(argv: &[String], input: &[u8], timeout: Duration) -> Result<(), String> {
    use tokio::io::AsyncWriteExt;
    let program = &argv[0];
    let mut child = tokio::process::Command::new(program)
        .args(&argv[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("command {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .await
            .map_err(|e| format!("command {program}: writing its input: {e}"))?;
    }
    match tokio::time::timeout(timeout, child.wait()).await {
        Err(_) => Err(format!(
            "command {program} did not finish within {} s",
            timeout.as_secs()
        )),
        Ok(Err(e)) => Err(format!("command {program}: {e}")),
        Ok(Ok(s)) if s.success() => Ok(()),
        Ok(Ok(s)) => Err(format!("command {program} exited with {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_from_settings() {
        let n = Notifier::from_settings(&NotifySettings::default(), |_| None).unwrap();
        assert_eq!(n.channels.len(), 1, "stdout by default");
        let s = NotifySettings {
            webhook: true,
            ..Default::default()
        };
        let e = Notifier::from_settings(&s, |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(WEBHOOK_URL_ENV), "{e}");
        let e =
            Notifier::from_settings(&s, |_| Some("http://hooks.example.com/T0/B0/secret".into()))
                .unwrap_err()
                .to_string();
        assert!(!e.contains("secret"), "{e}");
        let n =
            Notifier::from_settings(&s, |_| Some("https://hooks.example.com/x".into())).unwrap();
        assert_eq!(
            n.channels.len(),
            1,
            "stdout off once another channel is set"
        );
        assert!(!format!("{n:?}").contains("hooks.example.com"));
    }

    #[test]
    fn digest_body_lists_every_notice() {
        let n = |t: &str| Notice {
            kind: "alert".into(),
            text: t.into(),
            fields: serde_json::json!({}),
        };
        let b = webhook_body(&[n("a crossed"), n("b crossed")]);
        assert!(b["text"].as_str().unwrap().contains("2 new notices"));
        assert_eq!(b["notices"].as_array().unwrap().len(), 2);
    }
}
