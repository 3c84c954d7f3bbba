//! masspay-tax: contractor tax reporting and compliance on top of the MassPay payout API.
//!
//! The jobs, as a library: the binary (`src/main.rs` + `src/commands/`, one file per command)
//! parses arguments and shows results; everything it runs is here, and integration tests drive
//! the same functions. See ARCHITECTURE.md for the map.

pub mod audit;
pub mod config;
pub mod errors;
pub mod findings;
pub mod import;
pub mod open;
pub mod report;
pub mod source;
pub mod statements;
pub mod sync;
pub mod taxforms;
mod taxforms_store;
pub mod tinmatch;
