//! The `masspay-tax` command line: parse, set up logging and the runtime, dispatch to
//! `commands/` (one file per command: its arguments and how its result is shown).

mod commands;

use clap::{Args, Parser, Subcommand};
use commands::Ctx;
use masspay_tax::config;
use masspay_tax::open::{DEFAULT_DB, StoreLocation};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc rather than the system allocator: a sync or a report allocates a payee's strings on
/// one thread (the decoder, the SQLite reader) and frees them on another, which glibc's malloc
/// serialises on its arena locks; at 1,000,000 payees that was a quarter of a report's CPU.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ABOUT: &str = "Contractor tax reporting and compliance on top of the MassPay payout API";

const AFTER_HELP: &str = "\
Quick start (no account needed: the built-in sandbox):
  masspay-tax sync --year 2025 && masspay-tax report 1099 --year 2025 --out out

Environment (so cron jobs need no flags):
  MASSPAY_API_KEY     your MassPay API key (never printed; without it the built-in sandbox is used)
  MASSPAY_BASE_URL    any MassPay base URL, e.g. https://staging-api.masspay.io/v1.0.0/payout/
  MASSPAY_TAX_DB      the store (default sqlite://masspay-tax.db; postgres://... for teams)
  MASSPAY_TAX_KEY     64 hex digits: the key that encrypts tax IDs at rest (else a key file)
  MASSPAY_TAX_KEY_FILE  where the key file lives (default: beside the SQLite file)
  MASSPAY_TAX_CONFIG  a masspay-tax.toml with thresholds for later years and TIN rule settings
  MASSPAY_TAX_LOG     log filter for stderr (e.g. info, debug); default warn";

#[derive(Parser, Debug)]
#[command(name = "masspay-tax", version, about = ABOUT, after_help = AFTER_HELP)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

/// Settings every command takes. Values from the environment are never shown in `--help`
/// (a database URL can hold a password).
#[derive(Args, Debug)]
struct GlobalArgs {
    /// The store: sqlite://FILE (default) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "MASSPAY_TAX_DB", hide_env_values = true, default_value = DEFAULT_DB)]
    db: String,
    /// Key file for tax-ID encryption (created with mode 0600 on first use). MASSPAY_TAX_KEY wins.
    #[arg(
        long,
        global = true,
        env = "MASSPAY_TAX_KEY_FILE",
        hide_env_values = true
    )]
    key_file: Option<PathBuf>,
    /// Settings file (thresholds for later years, EIN prefixes). Default: ./masspay-tax.toml if present.
    #[arg(
        long,
        global = true,
        env = "MASSPAY_TAX_CONFIG",
        hide_env_values = true
    )]
    config: Option<PathBuf>,
    /// More logging on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Subcommand, Debug)]
enum Command {
    Sync(commands::sync::SyncArgs),
    #[command(subcommand)]
    Report(commands::report::ReportCommand),
    Runs(commands::runs::RunsArgs),
    Findings(commands::findings::FindingsArgs),
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    #[command(subcommand)]
    Forms(commands::forms::FormsCommand),
    #[command(subcommand, name = "tin-match")]
    TinMatch(commands::tin_match::TinMatchCommand),
    #[command(subcommand)]
    Sandbox(commands::sandbox::SandboxCommand),
    #[command(subcommand)]
    Payees(commands::payees::PayeesCommand),
    #[command(subcommand)]
    Efile(commands::efile::EfileCommand),
    Calendar(commands::calendar::CalendarArgs),
    #[command(subcommand)]
    Holds(commands::holds::HoldsCommand),
    #[command(subcommand)]
    Webhooks(commands::webhooks::WebhooksCommand),
    #[command(subcommand)]
    Payouts(commands::payouts::PayoutsCommand),
    #[command(subcommand)]
    Alerts(commands::alerts::AlertsCommand),
    #[command(subcommand)]
    Statements(commands::statements::StatementsCommand),
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MASSPAY_TAX_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ctx = Ctx {
        settings: config::load(cli.global.config.as_deref())?,
        store: StoreLocation {
            db: cli.global.db,
            key_file: cli.global.key_file,
        },
    };
    // The commands that write files: a Ctrl-C or SIGTERM drops the job, so each file not yet
    // complete (a temp file beside its final name; for `efile iris`, every file of the set) is
    // removed and the one it would replace stays, instead of the process dying with hidden temp
    // files that hold full TINs.
    let writes_files = matches!(
        cli.command,
        Command::Report(_)
            | Command::Efile(_)
            | Command::TinMatch(_)
            | Command::Audit(_)
            | Command::Statements(_)
    );
    if writes_files {
        let job = dispatch(cli.command, &ctx);
        return tokio::select! {
            r = job => r,
            (what, code) = interrupted() => {
                eprintln!(
                    "error: {what}: stopped; every file not yet complete was removed and the \
                     file it would have replaced left as it was (run the command again)"
                );
                Ok(ExitCode::from(code))
            }
        };
    }
    dispatch(cli.command, &ctx).await
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM; the shell's exit code for each (128 + signal).
async fn interrupted() -> (&'static str, u8) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = int.recv() => ("interrupted (Ctrl-C)", 130),
            _ = term.recv() => ("terminated (SIGTERM)", 143),
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            return std::future::pending().await;
        }
        ("interrupted (Ctrl-C)", 130)
    }
}

async fn dispatch(command: Command, ctx: &Ctx) -> anyhow::Result<ExitCode> {
    match command {
        Command::Sync(a) => commands::sync::run(a, ctx).await,
        Command::Report(c) => commands::report::run(c, ctx).await,
        Command::Runs(a) => commands::runs::run(a, ctx).await,
        Command::Findings(a) => commands::findings::run(a, ctx).await,
        Command::Audit(c) => commands::audit::run(c, ctx).await,
        Command::Import(c) => commands::import::run(c, ctx).await,
        Command::Forms(c) => commands::forms::run(c, ctx).await,
        Command::TinMatch(c) => commands::tin_match::run(c, ctx).await,
        Command::Sandbox(c) => commands::sandbox::run(c, ctx).await,
        Command::Payees(c) => commands::payees::run(c, ctx).await,
        Command::Efile(c) => commands::efile::run(c, ctx).await,
        Command::Calendar(a) => commands::calendar::run(a, ctx).await,
        Command::Holds(c) => commands::holds::run(c, ctx).await,
        Command::Webhooks(c) => commands::webhooks::run(c, ctx).await,
        Command::Payouts(c) => commands::payouts::run(c, ctx).await,
        Command::Alerts(c) => commands::alerts::run(c, ctx).await,
        Command::Statements(c) => commands::statements::run(c, ctx).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", masspay_tax::errors::chain(&e));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn money_for_people() {
        use masspay_tax::report::money;
        assert_eq!(money("1234567.89"), "$1,234,567.89");
        assert_eq!(money("600.00"), "$600.00");
        assert_eq!(money("-1000.5"), "-$1,000.5");
    }

    #[test]
    fn help_never_shows_env_values() {
        let help = Cli::command().render_long_help().to_string();
        assert!(!help.contains("[env: MASSPAY_TAX_DB="), "{help}");
    }
}
