//! A client for the MassPay payout API, written from `reference/masspay-api.md`.
//!
//! * Auth is `Authorization: Bearer <key>`; the key lives in an [`ApiKey`] whose `Debug` is redacted.
//! * Base URLs are accepted as MassPay's guide writes them (`https://staging-api.masspay.io/v1.0.0/payout/`)
//!   or without the `payout/` part ([`normalize_base_url`]).
//! * `GET /payout/tax` returns one bare JSON array of every payee: [`TaxPull`] decodes it as a
//!   stream, row by row, amounts straight from the number's text into `Decimal`.
//! * Retries with exponential backoff and full jitter on connection errors, 429 (honouring
//!   `Retry-After`), 500, 502, 503 and 504, then an error that names the endpoint and the status.
//!   One retry budget per logical call (see [`RetryPolicy`]): at most `max_tries` requests and
//!   `max_elapsed` of time, never nested. Every mutating call carries an `Idempotency-Key`,
//!   reused across retries.
//! * Bodies other than the streamed tax array are limited ([`ClientConfig::max_body_bytes`],
//!   16 MiB); history paging is bounded ([`ClientConfig::max_history_pages`], repeated pages).
//! * The key never travels in clear: `http://` only for loopback hosts; redirects are not
//!   followed. Log lines and errors name `METHOD /payout/path`, never the query (emails,
//!   internal ids) or the full URL. Decode errors name the field path, line and column, never
//!   the value.

mod client;
mod error;
pub mod models;
mod retry;
pub mod split;
pub mod tax;

pub use client::{
    ApiKey, Client, ClientConfig, DEFAULT_MAX_BODY_BYTES, Environment, HISTORY_PAGE_SIZE,
    normalize_base_url,
};
pub use error::{ApiErrorBody, ClientError};
pub use retry::{RetryBudget, RetryPolicy};
pub use tax::{RowError, TaxPull, TaxPullSummary, TaxRow};
