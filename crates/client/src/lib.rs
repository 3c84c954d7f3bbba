//! A client for the MassPay payout API, written from `reference/masspay-api.md`.
//!
//! * Auth is `Authorization: Bearer <key>`; the key lives in an [`ApiKey`] whose `Debug` is redacted.
//! * Base URLs are accepted as MassPay's guide writes them (`https://staging-api.masspay.io/v1.0.0/payout/`)
//!   or without the `payout/` part ([`normalize_base_url`]).
//! * `GET /payout/tax` returns one bare JSON array of every payee: [`TaxPull`] decodes it as a
//!   stream, row by row, amounts straight from the number's text into `Decimal`.
//! * Retries with exponential backoff and full jitter on connection errors, 429 (honouring
//!   `Retry-After`), 500, 502, 503 and 504, a bounded number of tries, then an error that names the
//!   endpoint and the status. Every mutating call carries an `Idempotency-Key`, reused across retries.

mod client;
mod error;
pub mod models;
mod retry;
pub mod split;
pub mod tax;

pub use client::{ApiKey, Client, ClientConfig, Environment, normalize_base_url};
pub use error::{ApiErrorBody, ClientError};
pub use retry::RetryPolicy;
pub use tax::{RowError, TaxPull, TaxPullSummary, TaxRow};
