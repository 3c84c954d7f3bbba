//! One file per command: its arguments (clap) and how its result is shown. The jobs themselves
//! live in the library (`masspay_tax::…`); nothing here decides a tax rule.

pub mod alerts;
pub mod audit;
pub mod calendar;
pub mod efile;
pub mod findings;
pub mod forms;
pub mod holds;
pub mod import;
pub mod payees;
pub mod payouts;
pub mod report;
pub mod runs;
pub mod sandbox;
pub mod statements;
pub mod sync;
pub mod tin_match;
pub mod webhooks;

use anyhow::Result;
use clap::{Args, ValueEnum};
use masspay_tax::config::Settings;
use masspay_tax::open::StoreLocation;
use masspay_tax::source::{Env, SourceArgs};
use std::io::IsTerminal;

/// What every command gets: the settings file and where the store is.
pub struct Ctx {
    pub settings: Settings,
    pub store: StoreLocation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Where MassPay data comes from (the API key comes from `MASSPAY_API_KEY` only, never a flag).
#[derive(Args, Debug, Clone)]
pub struct SourceFlags {
    /// Use the built-in MassPay emulator (also the default when MASSPAY_API_KEY is not set).
    #[arg(long)]
    pub sandbox: bool,
    /// MassPay environment, when MASSPAY_BASE_URL is not set (default production).
    #[arg(long, value_enum)]
    pub env: Option<Env>,
    /// Any MassPay base URL (with or without the trailing payout/).
    #[arg(long, env = "MASSPAY_BASE_URL", hide_env_values = true)]
    pub base_url: Option<String>,
}

impl SourceFlags {
    pub fn args(&self) -> SourceArgs {
        SourceArgs {
            sandbox: self.sandbox,
            env: self.env,
            base_url: self.base_url.clone().filter(|s| !s.trim().is_empty()),
            api_key: std::env::var("MASSPAY_API_KEY").ok(),
        }
    }
}

pub fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    use std::io::Write;
    // Streamed into the buffered stdout: a large report is never held as one string.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Text from MassPay or a spreadsheet, made safe for a terminal: control characters and escape
/// sequences (ESC, CSI, C1 controls, TAB/CR/LF) become spaces.
pub fn term_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || ('\u{80}'..='\u{9f}').contains(&c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A spinner on stderr, only when stderr is a terminal.
pub fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} payees, {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text_has_no_escapes() {
        assert_eq!(term_safe("a\x1b[2Jb\tc\u{9b}d\u{7}"), "a [2Jb c d ");
        assert_eq!(term_safe("Zoë 王芳"), "Zoë 王芳");
    }
}
