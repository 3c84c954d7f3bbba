//! masspay-tax: contractor tax reporting and compliance on top of the MassPay payout API.
//!
//! The jobs, as a library: the binary (`src/main.rs` + `src/commands/`, one file per command)
//! parses arguments and shows results; everything it runs is here, and integration tests drive
//! the same functions. See ARCHITECTURE.md for the map.

pub mod alerts;
pub mod audit;
pub mod calendar;
pub mod config;
pub mod efile;
pub mod errors;
pub mod f1042s;
pub mod findings;
pub mod holds;
pub mod import;
pub mod json;
pub mod notify;
pub mod open;
pub mod payouts;
pub mod report;
pub mod schedule;
pub mod source;
pub mod statements;
pub mod sync;
pub mod taxforms;
mod taxforms_store;
pub mod tinmatch;
pub mod webhooks;
pub mod year;
pub mod ytd;
