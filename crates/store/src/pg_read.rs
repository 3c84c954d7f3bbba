//! PostgreSQL bulk reads: a year's rows streamed with one `COPY (SELECT ...) TO STDOUT` on a
//! connection of its own, by a task that parses the text format into the batches the SQLite walk
//! sends ([`crate::bulk::RawBatch`]), so the caller builds strings and decrypts one batch while
//! the next is read, on another core.
//!
//! sqlx's row path decodes each row on the caller's task, column by column, looking each
//! column up by name: at 1,000,000 payees that was most of a report's time on PostgreSQL, with
//! the server mostly idle. The statement is the year SELECT of [`crate::reads`] (one statement:
//! one consistent snapshot); COPY takes no bind parameters, so the few parameters (a year, a
//! floor in cents, a form name) are written into it as literals ([`inline`]). When the caller
//! drops the stream, the next send fails and the task drops its connection mid-COPY.

use crate::bulk::{AHEAD, BATCH, Batch, COLS, Cell, INT_COLS, Param, RawBatch, payees_of};
use crate::records::StoredPayee;
use crate::{StoreError, Vault};
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::str::FromStr;

/// The connection options of the store's bulk connections (this reader and [`crate::pg_copy`]):
/// no JIT. A year's statements are one scan and a sort, which the planner costs high enough to
/// compile (0.4 s of a 3 s statement at 1,000,000 payees) for no gain.
pub(crate) fn bulk_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    Ok(PgConnectOptions::from_str(url)?.options([("jit", "off")]))
}

/// `sql` with its `$N` placeholders replaced by `params[N - 1]` as SQL literals: integers as
/// digits, text as an escape string (`E'...'`, quotes and backslashes doubled). A placeholder
/// without a parameter is an error. The statements are ours (no `$` inside their literals).
pub(crate) fn inline(sql: &str, params: &[Param]) -> Result<String, StoreError> {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = after[..digits].parse().map_err(|_| {
            StoreError::Db(sqlx::Error::Protocol(
                "a bulk read's statement has a bare `$`".into(),
            ))
        })?;
        match n.checked_sub(1).and_then(|i| params.get(i)) {
            Some(Param::Int(v)) => out.push_str(&v.to_string()),
            Some(Param::Text(v)) => {
                out.push_str("E'");
                for c in v.chars() {
                    match c {
                        '\'' => out.push_str("''"),
                        '\\' => out.push_str("\\\\"),
                        c => out.push(c),
                    }
                }
                out.push('\'');
            }
            None => {
                return Err(StoreError::Db(sqlx::Error::Protocol(format!(
                    "a bulk read's statement wants parameter ${n}, which it was not given"
                ))));
            }
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    Ok(out)
}

fn damaged(what: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!(
        "a year row from PostgreSQL's COPY is malformed: {what}"
    )))
}

/// Appends one COPY text field, unescaped, to `out` (PostgreSQL writes `\b \f \n \r \t \v \\`;
/// its reader also takes octal `\NNN` and hex `\xHH`, and any other escaped character as itself).
fn unescape(field: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < field.len() {
        let Some(k) = memchr::memchr(b'\\', &field[i..]) else {
            out.extend_from_slice(&field[i..]);
            return;
        };
        out.extend_from_slice(&field[i..i + k]);
        i += k + 1;
        let Some(&c) = field.get(i) else {
            out.push(b'\\'); // a trailing backslash: itself (PostgreSQL never writes one)
            return;
        };
        i += 1;
        match c {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match field.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((v & 0xff) as u8);
            }
            b'x' if field.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match field.get(i).and_then(|d| char::from(*d).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(v as u8);
            }
            c => out.push(c),
        }
    }
}

impl RawBatch {
    /// Copies one COPY text row (without its newline): [`COLS`] tab-separated fields, `\N` for
    /// NULL, integers in [`INT_COLS`]. A row with another number of fields, or an integer column
    /// that is not an integer, is an error.
    pub(crate) fn push_copy_text(&mut self, line: &[u8]) -> Result<(), StoreError> {
        let mut fields = line.split(|b| *b == b'\t');
        for i in 0..COLS {
            let f = fields.next().ok_or_else(|| damaged("too few columns"))?;
            let cell = if f == b"\\N" {
                Cell::Null
            } else if INT_COLS.contains(&i) {
                std::str::from_utf8(f)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .map(Cell::Int)
                    .ok_or_else(|| damaged("an integer column is not an integer"))?
            } else {
                let start = self.bytes.len();
                unescape(f, &mut self.bytes);
                Cell::Text(start, self.bytes.len())
            };
            self.cells.push(cell);
        }
        if fields.next().is_some() {
            return Err(damaged("too many columns"));
        }
        Ok(())
    }
}

/// Splits COPY output chunks into rows and rows into batches, sending each full batch.
struct Rows {
    /// The start of a row whose newline has not arrived yet.
    partial: Vec<u8>,
    batch: RawBatch,
}

impl Rows {
    fn new() -> Self {
        Rows {
            partial: Vec::new(),
            batch: RawBatch::with_capacity(BATCH),
        }
    }

    /// Takes one chunk; returns the full batches it completed.
    fn push(&mut self, chunk: &[u8], full: &mut Vec<RawBatch>) -> Result<(), StoreError> {
        let mut rest = chunk;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            if self.partial.is_empty() {
                self.batch.push_copy_text(&rest[..nl])?;
            } else {
                self.partial.extend_from_slice(&rest[..nl]);
                let line = std::mem::take(&mut self.partial);
                self.batch.push_copy_text(&line)?;
            }
            rest = &rest[nl + 1..];
            if self.batch.rows() == BATCH {
                full.push(std::mem::replace(
                    &mut self.batch,
                    RawBatch::with_capacity(BATCH),
                ));
            }
        }
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    /// The last batch, once the COPY is done; a row cut short is an error.
    fn finish(self) -> Result<RawBatch, StoreError> {
        if !self.partial.is_empty() {
            return Err(damaged("the last row has no end"));
        }
        Ok(self.batch)
    }
}

async fn walk(
    url: &str,
    sql: &str,
    params: &[Param],
    tx: &tokio::sync::mpsc::Sender<Batch>,
) -> Result<(), StoreError> {
    let statement = format!("COPY ({}) TO STDOUT", inline(sql, params)?);
    let mut conn = PgConnection::connect_with(&bulk_options(url)?).await?;
    {
        let mut copy = conn.copy_out_raw(&statement).await?;
        let mut rows = Rows::new();
        let mut full = Vec::new();
        while let Some(chunk) = copy.next().await {
            rows.push(&chunk?, &mut full)?;
            for b in full.drain(..) {
                if tx.send(Ok(b)).await.is_err() {
                    return Ok(()); // the reader stopped early: the connection is dropped
                }
            }
        }
        let last = rows.finish()?;
        if last.rows() > 0 {
            let _ = tx.send(Ok(last)).await;
        }
    }
    let _ = conn.close().await;
    Ok(())
}

/// The rows of `sql` (a year SELECT of [`crate::reads`], `$N` placeholders) from the
/// PostgreSQL database at `url`, decrypted, in the statement's order.
pub(crate) fn year_rows(
    url: String,
    sql: String,
    params: Vec<Param>,
    vault: Vault,
) -> BoxStream<'static, Result<StoredPayee, StoreError>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Batch>(AHEAD);
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return stream::once(async {
            Err(StoreError::Db(sqlx::Error::Protocol(
                "a PostgreSQL bulk read needs a Tokio runtime".into(),
            )))
        })
        .boxed();
    };
    handle.spawn(async move {
        if let Err(e) = walk(&url, &sql, &params, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    payees_of(rx, vault)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(fields: &[&str]) -> String {
        fields.join("\t")
    }

    /// The year SELECT's 25 columns, as COPY writes them.
    fn year_line(first: &str, tin: &str) -> String {
        row(&[
            "usr_1", first, "", "Ng", "", "a@b.c", "", "1 Main", "", "Austin", "TX", "78701", "0",
            "USA", "", tin, "\\N", "6789", "2025", "700.00", "700.00", "70000", "1099-NEC", "0",
            "us",
        ])
    }

    #[test]
    fn copy_text_comes_back_as_stored_escapes_and_nulls_kept() {
        let mut b = RawBatch::with_capacity(2);
        b.push_copy_text(year_line("A\\tb\\\\c\\nd\\re Ünal\\101\\x42\\q", "sealed").as_bytes())
            .unwrap();
        b.push_copy_text(year_line("\\\\N", "\\N").as_bytes())
            .unwrap();
        let p = b.payee(0).unwrap();
        assert_eq!(p.first_name, "A\tb\\c\nd\re ÜnalABq");
        assert_eq!(p.tin.as_deref(), Some("sealed"));
        assert_eq!((p.tin_hash, p.tin_last4.as_deref()), (None, Some("6789")));
        assert_eq!((p.tax_year, p.amount_cents, p.business), (2025, 70000, 0));
        let q = b.payee(1).unwrap();
        assert_eq!((q.first_name.as_str(), q.tin), ("\\N", None));
    }

    #[test]
    fn a_malformed_copy_row_is_an_error_not_a_panic() {
        let good = year_line("Ana", "x");
        let short = good.rsplit_once('\t').unwrap().0.to_string();
        let long = format!("{good}\textra");
        let not_int = good.replace("\t70000\t", "\tseventy\t");
        let bad_utf8 = good.replace("Ana", "\\303");
        for line in [short.as_str(), long.as_str(), not_int.as_str(), "", "\\"] {
            let mut b = RawBatch::with_capacity(1);
            assert!(b.push_copy_text(line.as_bytes()).is_err(), "{line:?}");
        }
        let mut b = RawBatch::with_capacity(1);
        b.push_copy_text(bad_utf8.as_bytes()).unwrap();
        let e = b.payee(0).unwrap_err().to_string();
        assert!(e.contains("the store is damaged"), "{e}");
        // A trailing backslash and a `\x` without digits are themselves.
        let mut out = Vec::new();
        unescape(b"a\\xz\\", &mut out);
        assert_eq!(out, b"axz\\");
    }

    #[test]
    fn rows_split_across_chunks_and_batches() {
        let line = year_line("Ana", "x");
        let body: String = (0..BATCH + 3).map(|_| format!("{line}\n")).collect();
        let mut rows = Rows::new();
        let mut full = Vec::new();
        // Chunks cut at odd places, one inside an escape.
        for chunk in body.as_bytes().chunks(97) {
            rows.push(chunk, &mut full).unwrap();
        }
        assert_eq!(full.len(), 1);
        assert_eq!(full[0].rows(), BATCH);
        let last = rows.finish().unwrap();
        assert_eq!(last.rows(), 3);
        assert_eq!(last.payee(2).unwrap().first_name, "Ana");
        let mut cut = Rows::new();
        cut.push(line.as_bytes(), &mut full).unwrap();
        assert!(cut.finish().is_err(), "a row without its newline");
    }

    #[test]
    fn parameters_become_literals() {
        let sql = "SELECT 1 WHERE a = $1 AND b = $2 AND c >= $10";
        let mut params = vec![Param::Int(2025), Param::Text("it's \\ 1099".into())];
        assert!(inline(sql, &params).is_err(), "$10 is missing");
        params.extend((3..=10).map(Param::Int));
        assert_eq!(
            inline(sql, &params).unwrap(),
            "SELECT 1 WHERE a = 2025 AND b = E'it''s \\\\ 1099' AND c >= 10"
        );
        assert!(inline("SELECT $", &params).is_err());
    }
}
