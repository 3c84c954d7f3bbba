//! SQLite bulk reads: a year's rows walked on a thread of their own, through rusqlite on its own
//! read-only connection to the store file, and handed over in batches.
//!
//! sqlx-sqlite hands every row from its worker thread to the caller over a channel (a wake-up
//! and a copy of every value per row); walking 1,000,000 payees that way spent more time in the
//! hand-off than in SQLite. Here one thread steps the statement, copies the values of [`BATCH`]
//! rows into one buffer ([`RawBatch`]), decrypts their secrets, and sends the batch over a
//! bounded channel, so the caller builds the strings and judges one batch while the next is
//! read. Before the walk
//! the store file is read ahead ([`crate::prefetch`]): token order is not storage order. The statement is the same SQL the sqlx path runs and sees one consistent
//! snapshot (one statement, one read transaction in WAL mode). When the caller drops the stream,
//! the next send fails and the thread finishes its statement and closes its connection.

use crate::records::StoredPayee;
use crate::{StoreError, Vault};
use futures_util::stream::{self, BoxStream, StreamExt};
use std::path::PathBuf;

/// Rows per hand-over.
pub(crate) const BATCH: usize = 512;
/// Batches read ahead of the caller.
pub(crate) const AHEAD: usize = 4;

/// A parameter of the statement.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

fn sqlite_error(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

pub(crate) fn open(path: &std::path::Path) -> Result<rusqlite::Connection, StoreError> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_error)?;
    conn.busy_timeout(crate::open::SQLITE_BUSY_TIMEOUT)
        .map_err(sqlite_error)?;
    conn.execute_batch(&format!("PRAGMA cache_size = -{CACHE_KIB}"))
        .map_err(sqlite_error)?;
    Ok(conn)
}

/// SQLite page cache (KiB) of a walk: a year written by the bulk writer is stored as runs of
/// rows sorted by token ([`crate::bulk_write::RUN_ROWS`]), and a walk in token order reads each
/// run forward; the cache keeps the current page of every run (1,000 runs of 16 KiB pages, about
/// 8 million payees) so each page is read about once. SQLite's 2 MB default holds 125.
const CACHE_KIB: i64 = 16 * 1024;

/// Columns of [`crate::reads`]'s year SELECT.
const COLS: usize = 25;

/// One value of a row as the reader copied it: text as a span of [`RawBatch::bytes`].
#[derive(Debug, Clone, Copy)]
enum Cell {
    Text(usize, usize),
    Int(i64),
    Null,
    /// A REAL or a BLOB: no column of the SELECT may hold one.
    Other,
}

/// [`BATCH`] rows as the reader thread copied them out of SQLite: every text of the batch in
/// one buffer and [`COLS`] cells per row, and the rows' secrets decrypted; the caller builds
/// the rows' strings (an allocation and a UTF-8 check each).
#[derive(Debug, Default)]
pub(crate) struct RawBatch {
    bytes: Vec<u8>,
    cells: Vec<Cell>,
    /// Each row's secrets, decrypted (empty until [`RawBatch::open_secrets`]).
    opened: Vec<Opened>,
}

impl RawBatch {
    pub(crate) fn with_capacity(rows: usize) -> Self {
        RawBatch {
            bytes: Vec::with_capacity(rows * 512),
            cells: Vec::with_capacity(rows * COLS),
            opened: Vec::new(),
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.cells.len() / COLS
    }

    /// Copies the current row of the statement.
    fn push(&mut self, r: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
        use rusqlite::types::ValueRef;
        for i in 0..COLS {
            let cell = match r.get_ref(i)? {
                ValueRef::Text(t) => {
                    let start = self.bytes.len();
                    self.bytes.extend_from_slice(t);
                    Cell::Text(start, self.bytes.len())
                }
                ValueRef::Integer(v) => Cell::Int(v),
                ValueRef::Null => Cell::Null,
                ValueRef::Real(_) | ValueRef::Blob(_) => Cell::Other,
            };
            self.cells.push(cell);
        }
        Ok(())
    }

    /// Appends one line of PostgreSQL's `COPY ... TO STDOUT` text format (no newline): [`COLS`]
    /// fields split by tabs, `\N` for NULL, backslash escapes undone; the integer columns of
    /// the year SELECT ([`INT_COLS`]) parsed as integers (a value that is not one is kept as
    /// [`Cell::Other`], an error when the row is read, as a REAL would be).
    pub(crate) fn push_copy_line(&mut self, line: &[u8]) -> Result<(), StoreError> {
        let fields = line.split(|&b| b == b'\t');
        let before = self.cells.len();
        for (i, field) in fields.enumerate() {
            if i == COLS {
                break;
            }
            let cell = if field == b"\\N" {
                Cell::Null
            } else if INT_COLS.contains(&i) {
                std::str::from_utf8(field)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .map_or(Cell::Other, Cell::Int)
            } else {
                let start = self.bytes.len();
                unescape_copy_text(field, &mut self.bytes);
                Cell::Text(start, self.bytes.len())
            };
            self.cells.push(cell);
        }
        let got = line.split(|&b| b == b'\t').count();
        if got != COLS {
            self.cells.truncate(before);
            return Err(StoreError::Sqlite(format!(
                "a year row from PostgreSQL has {got} columns, not {COLS}"
            )));
        }
        Ok(())
    }

    /// Row `row` as a stored payee, still encrypted (the column order of [`crate::reads`]'s
    /// year SELECT). A value of the wrong type, or text that is not UTF-8, is an error, as
    /// rusqlite's typed getters make it.
    fn payee(&self, row: usize) -> Result<StoredPayee, StoreError> {
        let cells = &self.cells[row * COLS..(row + 1) * COLS];
        let bad = |i: usize, want: &str| {
            StoreError::Sqlite(format!(
                "column {i} of a year row is not {want} (the store is damaged)"
            ))
        };
        let opt_text = |i: usize| -> Result<Option<String>, StoreError> {
            match cells[i] {
                Cell::Text(a, b) => String::from_utf8(self.bytes[a..b].to_vec())
                    .map(Some)
                    .map_err(|_| bad(i, "UTF-8 text")),
                Cell::Null => Ok(None),
                Cell::Int(_) | Cell::Other => Err(bad(i, "text")),
            }
        };
        let text = |i: usize| opt_text(i)?.ok_or_else(|| bad(i, "text"));
        let int = |i: usize| match cells[i] {
            Cell::Int(v) => Ok(v),
            _ => Err(bad(i, "an integer")),
        };
        Ok(StoredPayee {
            user_token: text(0)?,
            first_name: text(1)?,
            middle_name: text(2)?,
            last_name: text(3)?,
            business_name: text(4)?,
            email: text(5)?,
            mobile_number: text(6)?,
            address1: text(7)?,
            address2: text(8)?,
            city: text(9)?,
            state_province: text(10)?,
            postal_code: text(11)?,
            postal_code_repaired: int(12)?,
            country: text(13)?,
            date_of_birth: text(14)?,
            tin: opt_text(15)?,
            tin_hash: opt_text(16)?,
            tin_last4: opt_text(17)?,
            tax_year: int(18)?,
            balance: text(19)?,
            amount: text(20)?,
            amount_cents: int(21)?,
            form: text(22)?,
            business: int(23)?,
            residency: text(24)?,
        })
    }
}

pub(crate) type Batch = Result<RawBatch, StoreError>;

/// The integer columns of [`crate::reads`]'s year SELECT: `postal_code_repaired`, `tax_year`,
/// `amount_cents`, `business`.
const INT_COLS: [usize; 4] = [12, 18, 21, 23];

/// Undoes COPY text format's escapes (`\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`, octal
/// `\NNN`, hex `\xHH`; any other escaped character is itself), appending to `out`.
fn unescape_copy_text(field: &[u8], out: &mut Vec<u8>) {
    if !field.contains(&b'\\') {
        out.extend_from_slice(field);
        return;
    }
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        i += 1;
        if b != b'\\' || i == field.len() {
            out.push(b);
            continue;
        }
        let e = field[i];
        i += 1;
        let digit = |c: u8, radix: u32| char::from(c).to_digit(radix);
        match e {
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let v = escaped_number(field, &mut i, 8, u32::from(e - b'0'), 2);
                out.push((v & 0xff) as u8);
            }
            b'x' if field.get(i).and_then(|&c| digit(c, 16)).is_some() => {
                let v = escaped_number(field, &mut i, 16, 0, 2);
                out.push((v & 0xff) as u8);
            }
            other => out.push(other),
        }
    }
}

/// The number of an escape: up to `most` more digits of `radix` read from `field[*i..]` onto
/// `start`, `*i` moved past them.
fn escaped_number(field: &[u8], i: &mut usize, radix: u32, start: u32, most: usize) -> u32 {
    let mut v = start;
    for _ in 0..most {
        match field.get(*i).and_then(|&c| char::from(c).to_digit(radix)) {
            Some(d) => {
                v = v * radix + d;
                *i += 1;
            }
            None => break,
        }
    }
    v
}

/// The payees of the batches a reader sends, in order: strings built here (the caller's
/// side), secrets as the reader opened them; a reader's error ends the stream after the rows
/// before it.
pub(crate) fn payees_of(
    rx: tokio::sync::mpsc::Receiver<Batch>,
) -> BoxStream<'static, Result<StoredPayee, StoreError>> {
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
        .flat_map(|b| match b {
            Ok(mut rows) => {
                stream::iter((0..rows.rows()).map(move |i| rows.opened_payee(i))).left_stream()
            }
            Err(e) => stream::iter(std::iter::once(Err(e))).right_stream(),
        })
        .boxed()
}

/// A row's secrets as the reader opened them: the TIN (if stored) and the date of birth
/// (empty if none), or why they could not be.
type Opened = Result<(Option<String>, String), StoreError>;

impl RawBatch {
    /// Decrypts every row's TIN and date of birth into [`RawBatch::opened`], on the reader
    /// thread: with the forms and TIN answers merged in, judging and writing the rows is the
    /// slower end of a walk (1,000,000 payees: the caller's thread was busy throughout, the
    /// reader 60% of the time), so the reader takes the decryption and the caller still builds
    /// the strings (with both on the reader it was the one busy throughout).
    pub(crate) fn open_secrets(&mut self, vault: &Vault) {
        self.opened = (0..self.rows())
            .map(|row| {
                let cells = &self.cells[row * COLS..(row + 1) * COLS];
                let text = |i: usize| match cells[i] {
                    Cell::Text(a, b) => std::str::from_utf8(&self.bytes[a..b]).ok(),
                    _ => None,
                };
                let token = text(0).unwrap_or_default();
                let tin = text(15)
                    .map(|sealed| vault.decrypt(token, sealed))
                    .transpose()?;
                let dob = match text(14) {
                    Some(sealed) if !sealed.is_empty() => {
                        vault.decrypt_field(token, crate::reads::DOB_FIELD, sealed)?
                    }
                    _ => String::new(),
                };
                Ok((tin, dob))
            })
            .collect();
    }

    /// Row `row` with the secrets [`RawBatch::open_secrets`] opened.
    fn opened_payee(&mut self, row: usize) -> Result<StoredPayee, StoreError> {
        let mut p = self.payee(row)?;
        let opened = std::mem::replace(&mut self.opened[row], Ok((None, String::new())));
        (p.tin, p.date_of_birth) = opened?;
        Ok(p)
    }
}

fn walk(
    path: &std::path::Path,
    sql: &str,
    params: &[Param],
    vault: &Vault,
    tx: &tokio::sync::mpsc::Sender<Batch>,
) -> Result<(), StoreError> {
    crate::prefetch::warm(path);
    let conn = open(path)?;
    let mut stmt = conn.prepare(sql).map_err(sqlite_error)?;
    for (i, p) in params.iter().enumerate() {
        match p {
            Param::Int(v) => stmt.raw_bind_parameter(i + 1, v),
            Param::Text(v) => stmt.raw_bind_parameter(i + 1, v),
        }
        .map_err(sqlite_error)?;
    }
    let mut rows = stmt.raw_query();
    let mut batch = RawBatch::with_capacity(BATCH);
    while let Some(r) = rows.next().map_err(sqlite_error)? {
        batch.push(r).map_err(sqlite_error)?;
        if batch.rows() == BATCH {
            let full = std::mem::replace(&mut batch, RawBatch::with_capacity(BATCH));
            let mut full = full;
            full.open_secrets(vault);
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(()); // the reader stopped early
            }
        }
    }
    if batch.rows() > 0 {
        batch.open_secrets(vault);
        let _ = tx.blocking_send(Ok(batch));
    }
    Ok(())
}

/// The rows of `sql` (the year SELECT of [`crate::reads`], `?N` placeholders) from the SQLite
/// file at `path`, decrypted, in the statement's order.
pub(crate) fn year_rows(
    path: PathBuf,
    sql: String,
    params: Vec<Param>,
    vault: Vault,
) -> BoxStream<'static, Result<StoredPayee, StoreError>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Batch>(AHEAD);
    let spawned = std::thread::Builder::new()
        .name("masspay-tax-read".into())
        .spawn(move || {
            if let Err(e) = walk(&path, &sql, &params, &vault, &tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
    if let Err(e) = spawned {
        return stream::once(async move { Err(StoreError::Db(sqlx::Error::Io(e))) }).boxed();
    }
    payees_of(rx)
}

/// The rows of a parameterless `sql` from the SQLite file at `path`, each made by `map` on a
/// reader thread of its own and handed over [`BATCH`] at a time (a lighter kin of
/// [`year_rows`], for the rows a year walk merges in: the forms on file).
pub(crate) fn rows_of<T, F>(
    path: PathBuf,
    sql: String,
    map: F,
) -> BoxStream<'static, Result<T, StoreError>>
where
    T: Send + 'static,
    F: Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<T>, StoreError>>(AHEAD);
    let spawned = std::thread::Builder::new()
        .name("masspay-tax-read".into())
        .spawn(move || {
            let run = || -> Result<(), StoreError> {
                let conn = open(&path)?;
                let mut stmt = conn.prepare(&sql).map_err(sqlite_error)?;
                let mut rows = stmt.raw_query();
                let mut batch = Vec::with_capacity(BATCH);
                while let Some(r) = rows.next().map_err(sqlite_error)? {
                    batch.push(map(r).map_err(sqlite_error)?);
                    if batch.len() == BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        if tx.blocking_send(Ok(full)).is_err() {
                            return Ok(()); // the reader stopped early
                        }
                    }
                }
                if !batch.is_empty() {
                    let _ = tx.blocking_send(Ok(batch));
                }
                Ok(())
            };
            if let Err(e) = run() {
                let _ = tx.blocking_send(Err(e));
            }
        });
    if let Err(e) = spawned {
        return stream::once(async move { Err(StoreError::Db(sqlx::Error::Io(e))) }).boxed();
    }
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
        .flat_map(|b| match b {
            Ok(rows) => stream::iter(rows.into_iter().map(Ok)).left_stream(),
            Err(e) => stream::iter(std::iter::once(Err(e))).right_stream(),
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Copies every row of `sql` (an in-memory database) into one batch.
    fn batch_of(sql: &str) -> RawBatch {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let mut rows = stmt.raw_query();
        let mut batch = RawBatch::with_capacity(2);
        while let Some(r) = rows.next().unwrap() {
            batch.push(r).unwrap();
        }
        batch
    }

    /// A year row in the SELECT's column order; `tin`, `amount_cents` and `first` replaceable.
    fn row_sql(first: &str, tin: &str, cents: &str) -> String {
        format!(
            "SELECT 'usr_1', {first}, '', 'Ng', '', 'a@b.c', '', '1 Main', '', 'Austin', 'TX', \
             '78701', 0, 'USA', '', {tin}, NULL, '6789', 2025, '700.00', '700.00', {cents}, \
             '1099-NEC', 0, 'us'"
        )
    }

    #[test]
    fn rows_come_back_as_stored_with_nulls_kept() {
        let sql = format!(
            "{} UNION ALL {}",
            row_sql("'Ana'", "'sealed'", "70000"),
            row_sql("'Bo Ünal'", "NULL", "1")
        );
        let b = batch_of(&sql);
        assert_eq!(b.rows(), 2);
        let p = b.payee(0).unwrap();
        assert_eq!(
            (
                p.user_token.as_str(),
                p.first_name.as_str(),
                p.city.as_str()
            ),
            ("usr_1", "Ana", "Austin")
        );
        assert_eq!(p.tin.as_deref(), Some("sealed"));
        assert_eq!((p.tin_hash, p.tin_last4.as_deref()), (None, Some("6789")));
        assert_eq!((p.tax_year, p.amount_cents, p.business), (2025, 70000, 0));
        assert_eq!(p.residency, "us");
        let q = b.payee(1).unwrap();
        assert_eq!(
            (q.first_name.as_str(), q.tin, q.amount_cents),
            ("Bo Ünal", None, 1)
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error_not_a_panic() {
        for sql in [
            row_sql("NULL", "'x'", "1"),    // NULL where text is required
            row_sql("7", "'x'", "1"),       // an integer where text is required
            row_sql("'a'", "'x'", "'1'"),   // text where an integer is required
            row_sql("'a'", "'x'", "1.5"),   // a REAL
            row_sql("X'C328'", "'x'", "1"), // a BLOB
            row_sql("CAST(X'C328' AS TEXT)", "'x'", "1"), // text that is not UTF-8
        ] {
            let b = batch_of(&sql);
            let e = b.payee(0).unwrap_err().to_string();
            assert!(e.contains("the store is damaged"), "{sql}: {e}");
        }
    }

    /// A COPY text line in the SELECT's column order; `first` and `cents` replaceable.
    fn copy_line(first: &str, cents: &str) -> Vec<u8> {
        format!(
            "usr_1\t{first}\t\tNg\t\ta@b.c\t\t1 Main\t\tAustin\tTX\t78701\t0\tUSA\t\t\\N\t\\N\t\
             6789\t2025\t700.00\t700.00\t{cents}\t1099-NEC\t0\tus"
        )
        .into_bytes()
    }

    #[test]
    fn copy_text_lines_come_back_as_stored() {
        let mut b = RawBatch::with_capacity(2);
        b.push_copy_line(&copy_line("Ana", "70000")).unwrap();
        b.push_copy_line(&copy_line("Bo\\tÜnal\\\\x\\nz\\101\\x42\\q", "-3"))
            .unwrap();
        assert_eq!(b.rows(), 2);
        let p = b.payee(0).unwrap();
        assert_eq!(
            (
                p.user_token.as_str(),
                p.first_name.as_str(),
                p.city.as_str()
            ),
            ("usr_1", "Ana", "Austin")
        );
        assert_eq!(
            (p.tin, p.tin_hash, p.tin_last4.as_deref()),
            (None, None, Some("6789"))
        );
        assert_eq!((p.tax_year, p.amount_cents, p.business), (2025, 70000, 0));
        let q = b.payee(1).unwrap();
        assert_eq!(q.first_name, "Bo\tÜnal\\x\nzABq");
        assert_eq!(q.amount_cents, -3);
    }

    #[test]
    fn a_copy_line_of_the_wrong_shape_is_an_error_not_a_panic() {
        let mut b = RawBatch::with_capacity(2);
        for line in [&b""[..], b"usr_1\tAna", b"\\", b"a\t\\N\t\\"] {
            assert!(b.push_copy_line(line).is_err(), "{line:?}");
        }
        let mut long = copy_line("Ana", "1");
        long.extend_from_slice(b"\textra");
        assert!(b.push_copy_line(&long).is_err());
        assert_eq!(b.rows(), 0, "a refused line leaves nothing behind");
        // A text where an integer belongs, or NULL where text is required: an error when read.
        for line in [
            copy_line("Ana", "1.5"),
            copy_line("Ana", "x"),
            copy_line("\\N", "1"),
        ] {
            let mut b = RawBatch::with_capacity(1);
            b.push_copy_line(&line).unwrap();
            let e = b.payee(0).unwrap_err().to_string();
            assert!(e.contains("the store is damaged"), "{e}");
        }
        // Escapes cut short are kept as they are.
        let mut out = Vec::new();
        unescape_copy_text(b"a\\", &mut out);
        unescape_copy_text(b"\\x", &mut out);
        unescape_copy_text(b"\\7", &mut out);
        assert_eq!(out, b"a\\x\x07");
    }
}
