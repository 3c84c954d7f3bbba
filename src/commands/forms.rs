//! `masspay-tax forms history USER_TOKEN`: the W-9/W-8 on file and every change to its TIN.

use super::{Ctx, Format, print_json, term_safe};
use anyhow::Result;
use clap::Subcommand;
use std::process::ExitCode;

/// The W-9 / W-8 forms on file.
#[derive(Subcommand, Debug)]
pub enum FormsCommand {
    /// The form on file for a payee and every change to its TIN (when, which file and row, old
    /// and new last four). TINs are never shown in full.
    ///
    /// Example: masspay-tax forms history usr_f4741aa2-9f39-4358-8247-2409e3fc2715
    History {
        /// The payee's MassPay user token.
        user_token: String,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
}

pub async fn run(cmd: FormsCommand, ctx: &Ctx) -> Result<ExitCode> {
    let FormsCommand::History { user_token, format } = cmd;
    let store = ctx.store.open_existing(None).await?;
    let h = masspay_tax::import::forms_history(&store, &user_token).await;
    store.close().await;
    let h = h?;
    match format {
        Format::Json => print_json(&h)?,
        Format::Text => {
            for line in h.render_text().lines() {
                println!("{}", term_safe(line));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
