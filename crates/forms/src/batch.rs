//! Writing many statements: one document at a time per worker, in parallel, into a staging
//! folder that replaces the target folder only when every statement is written.
//!
//! * **Memory flat in the count.** Statements are pulled one by one from an iterator (the job
//!   feeds it from a bounded channel); each worker lays out, renders and writes one PDF, then
//!   drops it. A `--combined` file is streamed: the pages go, in order, through a bounded
//!   channel to one thread that renders them [`COMBINED_CHUNK`] at a time and appends them to
//!   the file ([`crate::combined::CombinedPdf`]), which is renamed into place only when complete.
//! * **Atomic.** Files go to `.NAME.staging-…` beside the target; on success the old folder is
//!   moved aside, the staging folder renamed into place and the old one removed, so a re-run
//!   leaves no stale statement, and a failed or interrupted run leaves the previous folder as it
//!   was (plus, after a crash, a staging folder the next run removes).

use crate::combined::CombinedPdf;
use crate::doc::{Document, Page};
use crate::fonts::FontSet;
use crate::render::{RenderError, document_id, render, render_document};
use crate::statement::{
    Statement1042S, Statement1099Nec, StatementRun, layout_1042_s, layout_1099_nec,
};
use crate::template::Layout;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One statement to write.
#[derive(Debug, Clone)]
pub enum AnyStatement {
    Nec(Box<Statement1099Nec>),
    /// A 1042-S recipient's forms (one per income code and rate), one page each, in one file.
    S1042(Vec<Statement1042S>),
}

impl AnyStatement {
    pub fn user_token(&self) -> &str {
        match self {
            AnyStatement::Nec(s) => &s.user_token,
            AnyStatement::S1042(s) => s.first().map_or("", |s| s.user_token.as_str()),
        }
    }

    /// The pages and whether a character could not be shown.
    pub fn layout(
        &self,
        run: &StatementRun,
        layout: &Layout,
        fonts: &FontSet,
    ) -> (Vec<Page>, bool) {
        match self {
            AnyStatement::Nec(s) => {
                let (page, missing) = layout_1099_nec(s, run, layout, fonts);
                (vec![page], missing)
            }
            AnyStatement::S1042(forms) => {
                let mut missing = false;
                let pages = forms
                    .iter()
                    .map(|s| {
                        let (page, m) = layout_1042_s(s, run, layout, fonts);
                        missing |= m;
                        page
                    })
                    .collect();
                (pages, missing)
            }
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
    let failure: Mutex<Option<BatchError>> = Mutex::new(None);
    let threads = opts.threads.max(1);
    let fail = |e: BatchError| {
        if let Ok(mut f) = failure.lock() {
            f.get_or_insert(e);
        }
    };
    let failed = || failure.lock().map(|f| f.is_some()).unwrap_or(true);

    // The combined file's writer thread and the channel the workers feed it through.
    let combined_out: Mutex<Option<CombinedPdf>> = Mutex::new(None);
    let (pages_tx, pages_rx) =
        std::sync::mpsc::sync_channel::<(usize, Vec<Page>)>(COMBINED_CHUNK * 2);
    let pages_tx = opts.combined.as_ref().map(|_| pages_tx);

    std::thread::scope(|scope| {
        if let Some(path) = &opts.combined {
            let (fail, combined_out) = (&fail, &combined_out);
            scope.spawn(move || match combine(path, &opts.title, pages_rx, fonts) {
                Ok(Some(p)) => {
                    if let Ok(mut c) = combined_out.lock() {
                        *c = Some(p);
                    }
                }
                Ok(None) => {}
                Err(e) => fail(e),
            });
        } else {
            drop(pages_rx);
        }
        for _ in 0..threads {
            let pages_tx = pages_tx.clone();
            let (fail, failed) = (&fail, &failed);
            let (source, count, bytes, unrenderable) = (&source, &count, &bytes, &unrenderable);
            let staging = staging.path();
            scope.spawn(move || {
                loop {
                    if failed() {
                        return;
                    }
                    let next = source.lock().ok().and_then(|mut s| s.next());
                    let Some((index, item)) = next else { return };
                    let item = match item {
                        Ok(item) => item,
                        Err(e) => return fail(BatchError::Source(e)),
                    };
                    match one(&item, staging, run, layout, fonts) {
                        Ok((pages, missing, n)) => {
                            if missing && let Ok(mut u) = unrenderable.lock() {
                                u.push(item.user_token().to_string());
                            }
                            if let Some(tx) = &pages_tx
                                && tx.send((index, pages)).is_err()
                            {
                                // The combined writer failed (and said why).
                                return;
                            }
                            bytes.fetch_add(n, Ordering::Relaxed);
                            progress(count.fetch_add(1, Ordering::Relaxed) + 1);
                        }
                        Err(e) => return fail(e),
                    }
                }
            });
        }
        // The workers hold the only senders now: the combined writer ends when they do.
        drop(pages_tx);
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    let combined = combined_out.into_inner().ok().flatten();

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
    let combined = match (combined, &opts.combined) {
        (Some(c), Some(path)) => Some(c.finish().map_err(|source| BatchError::Io {
            dir: path.display().to_string(),
            source,
        })?),
        (None, Some(path)) => {
            return Err(BatchError::Io {
                dir: path.display().to_string(),
                source: std::io::Error::other("the combined file was not completed"),
            });
        }
        _ => None,
    };
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

/// Pages per rendered chunk of the combined file: one font subset per chunk.
pub const COMBINED_CHUNK: usize = 256;

/// The combined file's thread: puts the workers' pages back in input order and appends them,
/// [`COMBINED_CHUNK`] at a time. Returns `None` when the workers stopped early (an error they
/// report); the unfinished file is then dropped. The caller finishes the file.
fn combine(
    path: &Path,
    title: &str,
    rx: std::sync::mpsc::Receiver<(usize, Vec<Page>)>,
    fonts: &FontSet,
) -> Result<Option<CombinedPdf>, BatchError> {
    let io = |source: std::io::Error| BatchError::Io {
        dir: path.display().to_string(),
        source,
    };
    let mut out = CombinedPdf::create(path, title).map_err(io)?;
    let mut waiting: BTreeMap<usize, Vec<Page>> = BTreeMap::new();
    let mut next = 0;
    let mut chunk: Vec<Page> = Vec::with_capacity(COMBINED_CHUNK);
    let flush = |out: &mut CombinedPdf, chunk: &mut Vec<Page>| -> Result<(), BatchError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let doc = Document {
            title: title.to_string(),
            pages: std::mem::take(chunk),
        };
        let pdf = render_document(&doc, fonts).map_err(|source| BatchError::Render {
            user_token: "(combined file)".into(),
            source,
        })?;
        out.append(pdf, &document_id(&doc)).map_err(io)
    };
    for (index, pages) in rx {
        waiting.insert(index, pages);
        while let Some(pages) = waiting.remove(&next) {
            next += 1;
            chunk.extend(pages);
            if chunk.len() >= COMBINED_CHUNK {
                flush(&mut out, &mut chunk)?;
            }
        }
    }
    if !waiting.is_empty() {
        return Ok(None);
    }
    flush(&mut out, &mut chunk)?;
    Ok(Some(out))
}

/// Lays out, renders and writes one recipient's statement into `dir`.
fn one(
    item: &AnyStatement,
    dir: &Path,
    run: &StatementRun,
    layout: &Layout,
    fonts: &FontSet,
) -> Result<(Vec<Page>, bool, usize), BatchError> {
    let token = item.user_token();
    let stem = file_stem(token).ok_or_else(|| BatchError::BadToken(token.to_string()))?;
    let (pages, missing) = item.layout(run, layout, fonts);
    let doc = Document {
        title: format!("Copy B for {token}"),
        pages,
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
    Ok((doc.pages, missing, pdf.len()))
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
