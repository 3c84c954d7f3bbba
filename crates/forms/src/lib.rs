//! Worksheets: what goes in each row (built from stored payees by the caller) and the writers.
//!
//! * [`cell`]: spreadsheet-formula neutralisation for every text cell.
//! * [`atomic`]: files are written to a temporary file beside the target, then renamed, so a
//!   crash or an error never leaves a half-written worksheet.
//! * [`f1042s`]: the 1042-S worksheet and the Form 1042 summary file.
//! * [`nec`]: the 1099-NEC worksheet (columns are a public interface: add, never rename).
//! * Documents with embedded fonts, all drawn by one renderer from one layout model:
//!   [`doc`] (the model and the fitting/wrapping builder), [`fonts`] (shipped DejaVu Sans, the
//!   fallback font, subsetting), [`template`] (layouts as data, `templates/layouts/*.toml`),
//!   [`render`] (model → PDF), [`statement`] (1099-NEC and 1042-S recipient statements),
//!   [`packet`] (cover, exceptions, worksheet; 1099-NEC and 1042-S alike), [`batch`] (many
//!   statements in parallel) and [`combined`] (one streamed print-ready file); [`spill`] sets
//!   a year's packet rows aside on disk, sealed, while the year is walked.

pub mod atomic;
pub mod batch;
pub mod cell;
pub mod combined;
pub mod doc;
pub mod f1042s;
pub mod fonts;
pub mod nec;
pub mod packet;
pub mod render;
pub mod spill;
pub mod statement;
pub mod template;

pub use atomic::{AtomicFile, ClosedFile};
pub use cell::neutralize;
