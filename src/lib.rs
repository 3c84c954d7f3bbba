//! masspay-tax: contractor tax reporting and compliance on top of the MassPay payout API.
//!
//! The binary (`src/main.rs`) is a thin clap front end over these modules; integration tests
//! drive the same functions. See ARCHITECTURE.md for the map.

pub mod audit;
pub mod config;
pub mod import;
pub mod report;
pub mod source;
pub mod sync;
pub mod taxforms;
mod taxforms_store;
pub mod tinmatch;
