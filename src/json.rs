//! Pretty-printed JSON written a piece at a time, byte for byte what `serde_json`'s pretty
//! printer makes of the whole value: what lets a command stream a year's rows (`audit tins
//! --format json`, `findings --format json`) instead of holding them.

use anyhow::Result;
use serde::Serialize;
use std::io::Write;

/// Writes `value` pretty-printed as a member or element whose lines after the first are
/// indented by `indent` (the pretty printer's indentation at that depth). `buf` is scratch.
pub fn pretty_at<W: Write, T: Serialize>(
    w: &mut W,
    buf: &mut Vec<u8>,
    value: &T,
    indent: &[u8],
) -> Result<()> {
    buf.clear();
    serde_json::to_writer_pretty(&mut *buf, value)?;
    // JSON strings never hold a raw newline, so every one starts a line.
    for (i, line) in buf.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            w.write_all(b"\n")?;
            w.write_all(indent)?;
        }
        w.write_all(line)?;
    }
    Ok(())
}

/// A top-level JSON array written element by element: `[]`, or `[\n  {…},\n  {…}\n]`.
pub struct PrettyArray<W: Write> {
    out: W,
    n: usize,
    buf: Vec<u8>,
}

impl<W: Write> PrettyArray<W> {
    pub fn new(mut out: W) -> Result<Self> {
        out.write_all(b"[")?;
        Ok(PrettyArray {
            out,
            n: 0,
            buf: Vec::with_capacity(512),
        })
    }

    pub fn push<T: Serialize>(&mut self, value: &T) -> Result<()> {
        self.out
            .write_all(if self.n == 0 { b"\n  " } else { b",\n  " })?;
        pretty_at(&mut self.out, &mut self.buf, value, b"  ")?;
        self.n += 1;
        Ok(())
    }

    /// Elements written.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn finish(mut self) -> Result<W> {
        self.out
            .write_all(if self.n == 0 { b"]" } else { b"\n]" })?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        a: &'static str,
        b: Vec<u32>,
        c: Option<i64>,
        d: std::collections::BTreeMap<&'static str, u8>,
    }

    fn rows(n: usize) -> Vec<Row> {
        (0..n)
            .map(|i| Row {
                a: "x \"y\"\n",
                b: (0..i as u32).collect(),
                c: (i % 2 == 0).then_some(-5),
                d: [("k", 1u8)].into_iter().take(i % 2).collect(),
            })
            .collect()
    }

    #[test]
    fn an_array_streamed_is_the_pretty_printers_array() {
        for n in [0, 1, 3] {
            let mut a = PrettyArray::new(Vec::new()).unwrap();
            for r in rows(n) {
                a.push(&r).unwrap();
            }
            assert_eq!(a.len(), n);
            let got = String::from_utf8(a.finish().unwrap()).unwrap();
            assert_eq!(
                got,
                serde_json::to_string_pretty(&rows(n)).unwrap(),
                "{n} rows"
            );
        }
    }
}
