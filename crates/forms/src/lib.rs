//! Worksheets: what goes in each row (built from stored payees by the caller) and the writers.
//!
//! * [`cell`]: spreadsheet-formula neutralisation for every text cell.
//! * [`atomic`]: files are written to a temporary file beside the target, then renamed, so a
//!   crash or an error never leaves a half-written worksheet.
//! * [`f1042s`]: the 1042-S worksheet and the Form 1042 summary file.
//! * [`nec`]: the 1099-NEC worksheet (columns are a public interface: add, never rename).

pub mod atomic;
pub mod cell;
pub mod f1042s;
pub mod nec;
pub mod pdf;

pub use atomic::AtomicFile;
pub use cell::neutralize;
