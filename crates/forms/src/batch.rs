//! Writing many statements: one document at a time per worker, in parallel, into a staging
//! folder that replaces the target folder only when every statement is written.
//!
//! * **Memory flat in the count.** Statements are pulled one by one from an iterator (the job
//!   feeds it from a bounded channel); each worker lays out, renders and writes one PDF, then
//!   drops it. Only a `--combined` file keeps the pages' layout model (a few KB per page) until
//!   the end.
//! * **Atomic.** Files go to `.NAME.staging-…` beside the target; on success the old folder is
//!   moved aside, the staging folder renamed into place and the old one removed, so a re-run
//!   leaves no stale statement, and a failed or interrupted run leaves the previous folder as it
//!   was (plus, after a crash, a staging folder the next run removes).

use crate::atomic::AtomicFile;
use crate::doc::{Document, Page};
use crate::fonts::FontSet;
use crate::render::{RenderError, render};
use crate::statement::{
    Statement1042S, Statement1099Nec, StatementRun, layout_1042_s, layout_1099_nec,
};
use crate::template::Layout;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One statement to write.
#[derive(Debug, Clone)]
pub enum AnyStatement {
    Nec(Box<Statement1099Nec>),
    S1042(Box<Statement1042S>),
}

impl AnyStatement {
    pub fn user_token(&self) -> &str {
        match self {
            AnyStatement::Nec(s) => &s.user_token,
            AnyStatement::S1042(s) => &s.user_token,
        }
    }

    /// The page and whether a character could not be shown.
    pub fn layout(&self, run: &StatementRun, layout: &Layout, fonts: &FontSet) -> (Page, bool) {
        match self {
            AnyStatement::Nec(s) => layout_1099_nec(s, run, layout, fonts),
            AnyStatement::S1042(s) => layout_1042_s(s, run, layout, fonts),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// The folder that will hold `<user_token>.pdf` files, e.g. `out/1099-NEC-2025`.
    pub dir: PathBuf,
    /// Also write every page into this one file.
    pub combined: Option<PathBuf>,
    /// Title of the combined document.
    pub title: String,
    /// Worker threads (at least 1).
    pub threads: usize,
}

#[derive(Debug, Clone, Default)]
pub struct BatchReport {
    pub written: usize,
    pub bytes: u64,
    /// User tokens whose statement shows the missing-glyph mark (no font could show a
    /// character of their name or address).
    pub unrenderable: Vec<String>,
    pub dir: PathBuf,
    pub combined: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("writing statements in {dir}: {source}")]
    Io { dir: String, source: std::io::Error },
    #[error("statement for {user_token}: {source}")]
    Render {
        user_token: String,
        source: RenderError,
    },
    #[error("two statements for the same payee {0} (file names must be unique)")]
    Duplicate(String),
    #[error("user token {0:?} cannot be used as a file name")]
    BadToken(String),
    /// The source of the statements failed part way; nothing was replaced.
    #[error("reading the recipients failed: {0}")]
    Source(String),
}

/// A user token as a file name: letters, digits, `-`, `_`, `.` only, not starting with `.`.
fn file_stem(token: &str) -> Option<&str> {
    let ok = !token.is_empty()
        && token.len() <= 200
        && !token.starts_with('.')
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(token)
}

/// Writes every statement from `items` (see the module doc). `progress` is called with the
/// number written so far. An `Err` item (the source failed) stops the run and replaces nothing.
pub fn write_statements<I>(
    items: I,
    run: &StatementRun,
    layout: &Layout,
    fonts: &FontSet,
    opts: &BatchOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<BatchReport, BatchError>
where
    I: Iterator<Item = Result<AnyStatement, String>> + Send,
{
    let io = |source: std::io::Error| BatchError::Io {
        dir: opts.dir.display().to_string(),
        source,
    };
    let parent = match opts.dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io)?;
    let name = opts
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "statements".into());
    remove_leftovers(&parent, &name);
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.staging-"))
        .tempdir_in(&parent)
        .map_err(io)?;

    let source = Mutex::new(items.enumerate());
    let count = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let unrenderable = Mutex::new(Vec::new());
    let pages: Mutex<Vec<(usize, Page)>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<BatchError>> = Mutex::new(None);
    let keep_pages = opts.combined.is_some();
    let threads = opts.threads.max(1);

    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                        return;
                    }
                    let next = source.lock().ok().and_then(|mut s| s.next());
                    let Some((index, item)) = next else { return };
                    let item = match item {
                        Ok(item) => item,
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(BatchError::Source(e));
                            }
                            return;
                        }
                    };
                    let result = one(&item, staging.path(), run, layout, fonts);
                    match result {
                        Ok((page, missing, n)) => {
                            if missing && let Ok(mut u) = unrenderable.lock() {
                                u.push(item.user_token().to_string());
                            }
                            if keep_pages && let Ok(mut p) = pages.lock() {
                                p.push((index, page));
                            }
                            bytes.fetch_add(n, Ordering::Relaxed);
                            progress(count.fetch_add(1, Ordering::Relaxed) + 1);
                        }
                        Err(e) => {
                            if let Ok(mut f) = failure.lock() {
                                f.get_or_insert(e);
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }

    let combined = match &opts.combined {
        None => None,
        Some(path) => {
            let mut pages = pages.into_inner().unwrap_or_default();
            pages.sort_by_key(|(i, _)| *i);
            let doc = Document {
                title: opts.title.clone(),
                pages: pages.into_iter().map(|(_, p)| p).collect(),
            };
            let pdf = render(&doc, fonts).map_err(|source| BatchError::Render {
                user_token: "(combined file)".into(),
                source,
            })?;
            let mut f = AtomicFile::create(path).map_err(io)?;
            f.write_all(&pdf).map_err(io)?;
            Some(f.commit().map_err(io)?)
        }
    };

    // Swap the staging folder into place.
    let staged = staging.keep();
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let had_old = opts.dir.exists();
    if had_old {
        std::fs::rename(&opts.dir, &old).map_err(io)?;
    }
    if let Err(e) = std::fs::rename(&staged, &opts.dir) {
        if had_old {
            let _ = std::fs::rename(&old, &opts.dir);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(io(e));
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    let mut unrenderable = unrenderable.into_inner().unwrap_or_default();
    unrenderable.sort();
    Ok(BatchReport {
        written: count.into_inner(),
        bytes: bytes.into_inner() as u64,
        unrenderable,
        dir: opts.dir.clone(),
        combined,
    })
}

/// Lays out, renders and writes one statement into `dir`.
fn one(
    item: &AnyStatement,
    dir: &Path,
    run: &StatementRun,
    layout: &Layout,
    fonts: &FontSet,
) -> Result<(Page, bool, usize), BatchError> {
    let token = item.user_token();
    let stem = file_stem(token).ok_or_else(|| BatchError::BadToken(token.to_string()))?;
    let (page, missing) = item.layout(run, layout, fonts);
    let doc = Document {
        title: format!("Copy B for {token}"),
        pages: vec![page],
    };
    let pdf = render(&doc, fonts).map_err(|source| BatchError::Render {
        user_token: token.to_string(),
        source,
    })?;
    let path = dir.join(format!("{stem}.pdf"));
    let io = |source: std::io::Error| BatchError::Io {
        dir: dir.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                BatchError::Duplicate(token.to_string())
            } else {
                io(e)
            }
        })?;
    f.write_all(&pdf).map_err(io)?;
    let page = doc.pages.into_iter().next().unwrap_or_else(|| Page {
        width: layout.width,
        height: layout.height,
        items: Vec::new(),
    });
    Ok((page, missing, pdf.len()))
}

/// Staging and old folders a crashed run left beside the target.
fn remove_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&format!(".{name}.staging-")) || n.starts_with(&format!(".{name}.old-")) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
