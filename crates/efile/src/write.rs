//! The files: `DIR/iris-1099-NEC-YEAR-001.csv`, `-002`, …, one header row each and at most
//! `max` records, written owner-only (0600) and atomically (temp file + rename); files of an
//! earlier run for the same year that this run did not write are removed (an old file left
//! beside the new ones would be uploaded twice).

use crate::headers::Template;
use crate::record::Record;
use masspay_tax_forms::{AtomicFile, ClosedFile};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Records per file unless told otherwise: the limit the IRS publications give.
pub const DEFAULT_MAX_RECORDS: usize = 100;
/// The most any source gives (vendors report 250 from TY2025).
pub const MAX_RECORDS_LIMIT: usize = 250;

/// `iris-1099-NEC-2026-001.csv`.
pub fn file_name(year: i32, n: usize) -> String {
    format!("iris-1099-NEC-{year}-{n:03}.csv")
}

fn is_our_file(name: &str, year: i32) -> bool {
    name.strip_prefix(&format!("iris-1099-NEC-{year}-"))
        .and_then(|r| r.strip_suffix(".csv"))
        .is_some_and(|n| n.len() >= 3 && n.chars().all(|c| c.is_ascii_digit()))
}

/// How many records go in each file.
pub fn split_sizes(records: usize, max: usize) -> Vec<usize> {
    let max = max.max(1);
    let mut out = vec![max; records / max];
    if !records.is_multiple_of(max) {
        out.push(records % max);
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub records: usize,
    #[serde(serialize_with = "as_amount")]
    pub box1_total: Decimal,
}

fn as_amount<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&masspay_tax_rules::format_amount(*d))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WriteOutcome {
    pub files: Vec<WrittenFile>,
    /// Files of an earlier run removed.
    pub removed: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("--max-records must be between 1 and {MAX_RECORDS_LIMIT}, not {0}")]
    MaxRecords(usize),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `records` to `dir` in files of at most `max`, then removes the stale files.
/// Nothing is renamed into place until every file has been written.
pub fn write_files(
    dir: &Path,
    year: i32,
    template: &Template,
    records: &[&Record],
    max: usize,
) -> Result<WriteOutcome, WriteError> {
    let mut w = FilesWriter::new(dir, year, template, max)?;
    for r in records {
        w.write(r)?;
    }
    w.finish()
}

type CsvFile = csv::Writer<AtomicFile>;

/// The files written one record at a time, so a year of any size takes the memory of one
/// record (and no file descriptor per finished file): each full file is synced and closed as
/// a temp file beside its final name, and [`FilesWriter::finish`] renames them all into place
/// and then removes the stale files. Dropped before `finish` (an error, a cancelled run), it
/// leaves the folder as it was.
pub struct FilesWriter<'a> {
    dir: PathBuf,
    year: i32,
    template: &'a Template,
    max: usize,
    current: Option<(CsvFile, PathBuf, usize, Decimal)>,
    closed: Vec<(ClosedFile, usize, Decimal)>,
}

impl<'a> FilesWriter<'a> {
    pub fn new(
        dir: &Path,
        year: i32,
        template: &'a Template,
        max: usize,
    ) -> Result<Self, WriteError> {
        if max == 0 || max > MAX_RECORDS_LIMIT {
            return Err(WriteError::MaxRecords(max));
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        Ok(FilesWriter {
            dir: dir.to_path_buf(),
            year,
            template,
            max,
            current: None,
            closed: Vec::new(),
        })
    }

    /// Records written so far.
    pub fn records(&self) -> usize {
        self.closed.iter().map(|c| c.1).sum::<usize>() + self.current.as_ref().map_or(0, |c| c.2)
    }

    fn csv_err(path: &Path) -> impl Fn(csv::Error) -> WriteError + '_ {
        move |e| WriteError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        }
    }

    pub fn write(&mut self, r: &Record) -> Result<(), WriteError> {
        if self.current.is_none() {
            let path = self.dir.join(file_name(self.year, self.closed.len() + 1));
            let file = AtomicFile::create(&path).map_err(io(&path))?;
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(file);
            w.write_record(self.template.headers())
                .map_err(Self::csv_err(&path))?;
            self.current = Some((w, path, 0, Decimal::ZERO));
        }
        let Some((w, path, n, total)) = self.current.as_mut() else {
            unreachable!("a current file was opened above")
        };
        for cell in r.cells_borrowed(self.template) {
            w.write_field(cell.as_bytes())
                .map_err(Self::csv_err(path))?;
        }
        w.write_record(None::<&[u8]>).map_err(Self::csv_err(path))?;
        *n += 1;
        *total += r.box1;
        if *n == self.max {
            self.close_current()?;
        }
        Ok(())
    }

    fn close_current(&mut self) -> Result<(), WriteError> {
        if let Some((w, path, n, total)) = self.current.take() {
            let file = w
                .into_inner()
                .map_err(|e| io(&path)(std::io::Error::other(e.to_string())))?;
            let closed = file.close().map_err(io(&path))?;
            self.closed.push((closed, n, total));
        }
        Ok(())
    }

    /// Renames every file into place, then removes the files of an earlier run for the same
    /// year that this run did not write (an old file left beside the new ones would be uploaded
    /// twice).
    pub fn finish(mut self) -> Result<WriteOutcome, WriteError> {
        self.close_current()?;
        let dir = self.dir.clone();
        let year = self.year;
        let mut out = WriteOutcome::default();
        let mut written = BTreeSet::new();
        for (file, n, total) in std::mem::take(&mut self.closed) {
            let path = file.path().to_path_buf();
            let path = file.commit().map_err(io(&path))?;
            #[cfg(unix)]
            {
                // tempfile creates the temp file 0600 already; said again so the rule does not
                // hang on a library default.
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .map_err(io(&path))?;
            }
            written.insert(path.clone());
            out.files.push(WrittenFile {
                path,
                records: n,
                box1_total: total,
            });
        }
        let entries = std::fs::read_dir(&dir).map_err(io(&dir))?;
        let mut stale = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = dir.join(&name);
            if is_our_file(&name, year) && !written.contains(&path) {
                stale.push(path);
            }
        }
        stale.sort();
        for p in stale {
            std::fs::remove_file(&p).map_err(io(&p))?;
            out.removed.push(p);
        }
        Ok(out)
    }
}
