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
//!   delivered);
//! * `[notify.smtp]`: an e-mail through SMTP (lettre, rustls): STARTTLS (default) or implicit
//!   TLS, or plain for a relay on this machine; the password comes from
//!   `$MASSPAY_TAX_SMTP_PASSWORD` only and is never printed. Anything shaped like a full tax ID
//!   in a message is masked to its last four digits before it leaves.
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

/// The environment variable holding the SMTP password (a secret: never in the settings file).
pub const SMTP_PASSWORD_ENV: &str = "MASSPAY_TAX_SMTP_PASSWORD";

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required), port 587 by default.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS"), port 465 by default.
    Tls,
    /// No TLS, port 25 by default: only for a relay on this machine (loopback host).
    None,
}

/// `[notify.smtp]`: e-mail through an SMTP server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The server's host name (checked against its TLS certificate).
    pub host: String,
    /// Default: 587 (starttls), 465 (tls), 25 (none).
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    /// Log in as this user, with the password from `$MASSPAY_TAX_SMTP_PASSWORD`.
    pub username: Option<String>,
    /// The sender, e.g. `"masspay-tax <tax-alerts@acme.example>"`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// Put before every subject line (default `[masspay-tax]`).
    pub subject_prefix: Option<String>,
}

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
    /// E-mail through SMTP.
    pub smtp: Option<SmtpSettings>,
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
    Smtp(Box<SmtpChannel>),
}

/// A ready SMTP channel: the transport (holding the credentials) and the addresses.
#[derive(Clone)]
pub struct SmtpChannel {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    host: String,
    from: lettre::message::Mailbox,
    to: Vec<lettre::message::Mailbox>,
    subject_prefix: String,
}

impl SmtpChannel {
    fn from_settings(s: &SmtpSettings, env: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        use lettre::transport::smtp::authentication::Credentials;
        use lettre::transport::smtp::client::{Tls, TlsParameters};
        let host = s.host.trim().to_string();
        if host.is_empty() {
            bail!("[notify.smtp] host is missing");
        }
        let from: lettre::message::Mailbox = s.from.trim().parse().map_err(|_| {
            anyhow::anyhow!("[notify.smtp] from: {:?} is not an e-mail address", s.from)
        })?;
        if s.to.is_empty() {
            bail!("[notify.smtp] to: at least one recipient is needed");
        }
        let to =
            s.to.iter()
                .map(|t| {
                    t.trim().parse().map_err(|_| {
                        anyhow::anyhow!("[notify.smtp] to: {t:?} is not an e-mail address")
                    })
                })
                .collect::<Result<Vec<lettre::message::Mailbox>>>()?;
        let loopback = is_loopback_host(&host);
        let credentials = match s.username.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(user) => {
                let Some(password) = env(SMTP_PASSWORD_ENV).filter(|p| !p.is_empty()) else {
                    bail!(
                        "[notify.smtp] username is set, but {SMTP_PASSWORD_ENV} is not (the \
                         password comes from the environment only)"
                    );
                };
                Some(Credentials::new(user.to_string(), password))
            }
        };
        let port = s.port.unwrap_or(match s.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        });
        let tls = match s.tls {
            SmtpTls::None => {
                if !loopback {
                    bail!(
                        "[notify.smtp] tls = \"none\" is only for a relay on this machine \
                         (localhost, 127.0.0.1, ::1); use \"starttls\" or \"tls\" for {host}"
                    );
                }
                Tls::None
            }
            mode => {
                let params = TlsParameters::new(host.clone())
                    .map_err(|e| anyhow::anyhow!("[notify.smtp] TLS for {host}: {e}"))?;
                if mode == SmtpTls::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host.clone())
                .port(port)
                .tls(tls)
                .timeout(Some(Duration::from_secs(30)));
        if let Some(c) = credentials {
            builder = builder.credentials(c);
        }
        Ok(SmtpChannel {
            transport: builder.build(),
            host,
            from,
            to,
            subject_prefix: s
                .subject_prefix
                .clone()
                .unwrap_or_else(|| "[masspay-tax]".into()),
        })
    }

    /// The message for `notices`: one per notice, or a digest.
    pub fn message(&self, notices: &[Notice]) -> Result<lettre::Message, String> {
        let subject = match notices {
            [one] => one.text.lines().next().unwrap_or("notice").to_string(),
            many => format!("{} new notices", many.len()),
        };
        let subject = mask_tins(&format!("{} {subject}", self.subject_prefix));
        let mut body = String::new();
        for n in notices {
            body.push_str(&n.text);
            body.push('\n');
            if let Some(map) = n.fields.as_object() {
                for (k, v) in map {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    body.push_str(&format!("  {k}: {v}\n"));
                }
            }
            body.push('\n');
        }
        let mut m = lettre::Message::builder()
            .from(self.from.clone())
            .subject(subject);
        for t in &self.to {
            m = m.to(t.clone());
        }
        m.header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(mask_tins(&body))
            .map_err(|e| format!("e-mail: {e}"))
    }

    async fn send(&self, notices: &[Notice]) -> Result<(), String> {
        use lettre::AsyncTransport;
        let m = self.message(notices)?;
        self.transport
            .send(m)
            .await
            .map(|_| ())
            .map_err(|e| format!("smtp ({}): {e}", self.host))
    }
}

fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Masks anything shaped like a full tax ID (nine digits, alone or as `123-45-6789` /
/// `12-3456789`) to `***-**-6789`: a notice never carries one, and this makes sure no message does.
pub fn mask_tins(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() && (i == 0 || !word(chars[i - 1])) {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '-') {
                j += 1;
            }
            // Trailing separators are not part of the number.
            while j > i && !chars[j - 1].is_ascii_digit() {
                j -= 1;
            }
            let digits: Vec<char> = chars[i..j]
                .iter()
                .copied()
                .filter(char::is_ascii_digit)
                .collect();
            let bounded = j == chars.len() || !word(chars[j]);
            if digits.len() == 9 && bounded {
                out.push_str("***-**-");
                out.extend(&digits[5..]);
                i = j;
                continue;
            }
            out.extend(&chars[i..j.max(i + 1)]);
            i = j.max(i + 1);
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
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
            Channel::Smtp(_) => "smtp",
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
        if let Some(smtp) = &s.smtp {
            channels.push(Channel::Smtp(Box::new(SmtpChannel::from_settings(
                smtp, &env,
            )?)));
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

    /// [`Self::record`] for many notices in one transaction: for each, whether it is new.
    pub async fn record_many(store: &Store, notices: &[(String, Notice)]) -> Result<Vec<bool>> {
        let items = notices
            .iter()
            .map(|(key, n)| Ok((key.clone(), n.kind.clone(), serde_json::to_string(n)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(store
            .enqueue_notices(&items)
            .await?
            .into_iter()
            .map(|id| id.is_some())
            .collect())
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
            let mut r = ChannelReport::default();
            // Outcomes not yet written to the store, by error (`None`: sent); written every
            // RECORD_EVERY notices and at the end of the channel, a few statements each.
            let mut unrecorded: std::collections::BTreeMap<Option<String>, Vec<i64>> =
                Default::default();
            // A digest is one message with every pending notice; otherwise the notices are
            // read a page at a time (memory stays flat in the outbox's size).
            let page = if self.digest { i64::MAX } else { PAGE };
            let mut after = 0i64;
            loop {
                let pending = store
                    .pending_notices_page(channel.name(), None, after, page)
                    .await?;
                let Some(last) = pending.last() else { break };
                after = last.id;
                let full = pending.len() as i64 == page;
                let batches: Vec<Vec<&StoredNotice>> = if self.digest {
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
                    let err = outcome.as_ref().err().cloned();
                    unrecorded
                        .entry(err)
                        .or_default()
                        .extend(batch.iter().map(|n| n.id));
                    if unrecorded.values().map(Vec::len).sum::<usize>() >= RECORD_EVERY {
                        record_outcomes(store, channel.name(), &mut unrecorded).await?;
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
                if !full {
                    break;
                }
            }
            record_outcomes(store, channel.name(), &mut unrecorded).await?;
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
            Channel::Smtp(smtp) => smtp.send(notices).await,
        }
    }
}

/// How many delivery outcomes [`Notifier::deliver`] keeps before writing them to the store (a
/// crash in between re-sends at most these on the next run: delivery is at least once).
const RECORD_EVERY: usize = 500;

/// Pending notices read per page when not in digest mode.
const PAGE: i64 = 2_000;

/// Writes the kept delivery outcomes of `channel` and empties `unrecorded`.
async fn record_outcomes(
    store: &Store,
    channel: &str,
    unrecorded: &mut std::collections::BTreeMap<Option<String>, Vec<i64>>,
) -> Result<()> {
    for (err, ids) in std::mem::take(unrecorded) {
        store
            .record_deliveries(&ids, channel, err.as_deref())
            .await?;
    }
    Ok(())
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
