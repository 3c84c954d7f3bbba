//! The year-end run as a library: start the built-in MassPay emulator, sync a tax year into a
//! SQLite store, and write the 1099-NEC worksheet.
//!
//! ```sh
//! cargo run --example year_end -- 2025 out/
//! ```

use masspay_client::{ApiKey, Client, ClientConfig};
use masspay_tax::config::Settings;
use masspay_tax_store::{KeySource, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let year: i32 = args.next().unwrap_or_else(|| "2025".into()).parse()?;
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "out".into()));

    let emulator = masspay_emulator::spawn(Default::default()).await?;
    let client = Client::new(ClientConfig::new(
        &emulator.base_url(),
        ApiKey::new(masspay_emulator::SANDBOX_API_KEY)?,
    )?)?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(
        &format!("sqlite://{}", dir.path().join("example.db").display()),
        &KeySource::File(dir.path().join("example.key")),
    )
    .await?;
    let settings = Settings::default();

    let sync =
        masspay_tax::sync::sync_year(&client, &store, &settings.thresholds, year, "example", None)
            .await?;
    println!(
        "synced {} payees, {} reportable",
        sync.payees, sync.reportable_1099_nec
    );
    let report =
        masspay_tax::report::report_1099(&store, &settings, year, &out, false, false).await?;
    println!("wrote {} ({} rows)", report.file.display(), report.payees);
    Ok(())
}
