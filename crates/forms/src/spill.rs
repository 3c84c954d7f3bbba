//! Rows set aside on disk while a year is walked, then read back once, in order: what lets the
//! `--pdf` packet hold one page of rows in memory instead of the year (its cover needs the
//! year's totals before the first worksheet page is drawn).
//!
//! The rows may hold full TINs (`--unmask-tin`), so the file is an unlinked temporary file
//! (owner-only, never named on disk, gone when dropped or when the process dies) and its
//! content is sealed in blocks of about 64 KiB with ChaCha20-Poly1305 under a key made for this
//! spill alone, held only in memory. A record is a list of text fields.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

const BLOCK: usize = 64 * 1024;

/// Records being written (see the module doc).
pub struct Spill {
    out: BufWriter<File>,
    cipher: ChaCha20Poly1305,
    plain: Vec<u8>,
    blocks: u64,
    records: usize,
}

fn nonce(block: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[..8].copy_from_slice(&block.to_le_bytes());
    Nonce::from(n)
}

fn sealing() -> io::Error {
    io::Error::other("sealing a block of set-aside rows failed")
}

impl Spill {
    pub fn new() -> io::Result<Spill> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|_| io::Error::other("no random key for the set-aside rows"))?;
        let cipher = ChaCha20Poly1305::new(&Key::from(key));
        key.fill(0);
        Ok(Spill {
            out: BufWriter::with_capacity(BLOCK + 64, tempfile::tempfile()?),
            cipher,
            plain: Vec::with_capacity(BLOCK + 1024),
            blocks: 0,
            records: 0,
        })
    }

    /// Records pushed so far.
    pub fn len(&self) -> usize {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Appends one record.
    pub fn push<S: AsRef<str>>(&mut self, fields: &[S]) -> io::Result<()> {
        let count = u32::try_from(fields.len()).map_err(|_| io::Error::other("too many fields"))?;
        self.plain.extend_from_slice(&count.to_le_bytes());
        for f in fields {
            let f = f.as_ref().as_bytes();
            let len = u32::try_from(f.len()).map_err(|_| io::Error::other("field too long"))?;
            self.plain.extend_from_slice(&len.to_le_bytes());
            self.plain.extend_from_slice(f);
        }
        self.records += 1;
        if self.plain.len() >= BLOCK {
            self.seal()?;
        }
        Ok(())
    }

    fn seal(&mut self) -> io::Result<()> {
        if self.plain.is_empty() {
            return Ok(());
        }
        let sealed = self
            .cipher
            .encrypt(&nonce(self.blocks), self.plain.as_slice())
            .map_err(|_| sealing())?;
        self.plain.fill(0);
        self.plain.clear();
        self.blocks += 1;
        let len = u32::try_from(sealed.len()).map_err(|_| sealing())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&sealed)
    }

    /// Ends the writing; the records come back in the order they were pushed.
    pub fn into_reader(mut self) -> io::Result<SpillReader> {
        self.seal()?;
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        Ok(SpillReader {
            input: BufReader::with_capacity(BLOCK + 64, file),
            cipher: self.cipher,
            plain: Vec::new(),
            at: 0,
            block: 0,
            blocks: self.blocks,
            left: self.records,
        })
    }
}

/// Reads a [`Spill`] back: an iterator of records.
pub struct SpillReader {
    input: BufReader<File>,
    cipher: ChaCha20Poly1305,
    plain: Vec<u8>,
    at: usize,
    block: u64,
    blocks: u64,
    left: usize,
}

fn damaged() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the set-aside rows were changed on disk while the packet was being written",
    )
}

impl SpillReader {
    /// Records not yet read.
    pub fn len(&self) -> usize {
        self.left
    }

    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    fn u32(&mut self) -> io::Result<usize> {
        let b = self.plain.get(self.at..self.at + 4).ok_or_else(damaged)?;
        self.at += 4;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    fn record(&mut self) -> io::Result<Vec<String>> {
        if self.at >= self.plain.len() {
            if self.block >= self.blocks {
                return Err(damaged());
            }
            let mut len = [0u8; 4];
            self.input.read_exact(&mut len)?;
            let mut sealed = vec![0u8; u32::from_le_bytes(len) as usize];
            self.input.read_exact(&mut sealed)?;
            self.plain.fill(0);
            self.plain = self
                .cipher
                .decrypt(&nonce(self.block), sealed.as_slice())
                .map_err(|_| damaged())?;
            self.block += 1;
            self.at = 0;
        }
        let n = self.u32()?;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            let len = self.u32()?;
            let bytes = self.plain.get(self.at..self.at + len).ok_or_else(damaged)?;
            fields.push(String::from_utf8(bytes.to_vec()).map_err(|_| damaged())?);
            self.at += len;
        }
        Ok(fields)
    }
}

impl Iterator for SpillReader {
    type Item = io::Result<Vec<String>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = self.record();
        if r.is_err() {
            self.left = 0;
        }
        Some(r)
    }
}

impl Drop for SpillReader {
    fn drop(&mut self) {
        self.plain.fill(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_in_order_across_blocks() {
        let mut s = Spill::new().unwrap();
        let n = 20_000;
        for i in 0..n {
            let tin = format!("524-71-{:04}", i % 10_000);
            s.push(&[
                format!("usr_{i}"),
                tin,
                String::new(),
                "Zoë Ångström".into(),
            ])
            .unwrap();
        }
        assert_eq!(s.len(), n);
        assert!(s.blocks > 2, "several sealed blocks: {}", s.blocks);
        let r = s.into_reader().unwrap();
        assert_eq!(r.len(), n);
        for (i, rec) in r.enumerate() {
            let rec = rec.unwrap();
            assert_eq!(rec[0], format!("usr_{i}"));
            assert_eq!(rec[1], format!("524-71-{:04}", i % 10_000));
            assert_eq!(rec[2], "");
            assert_eq!(rec[3], "Zoë Ångström");
        }
    }

    #[test]
    fn nothing_on_disk_reads_in_the_clear_and_a_change_is_caught() {
        let mut s = Spill::new().unwrap();
        for i in 0..5_000 {
            s.push(&["524-71-8830", &i.to_string()]).unwrap();
        }
        s.seal().unwrap();
        s.out.flush().unwrap();
        let file = s.out.get_mut();
        file.seek(SeekFrom::Start(0)).unwrap();
        let mut disk = Vec::new();
        file.read_to_end(&mut disk).unwrap();
        assert!(!disk.is_empty());
        assert!(
            !disk.windows(11).any(|w| w == b"524-71-8830"),
            "a TIN in the clear on disk"
        );
        // A byte changed in the file: the reader stops with an error, never a wrong row.
        file.seek(SeekFrom::Start(100)).unwrap();
        file.write_all(&[disk[100] ^ 1]).unwrap();
        let mut r = s.into_reader().unwrap();
        assert!(r.next().unwrap().is_err());
        assert!(r.next().is_none());
    }

    #[test]
    fn an_empty_spill_reads_nothing() {
        let s = Spill::new().unwrap();
        let mut r = s.into_reader().unwrap();
        assert!(r.next().is_none());
    }
}
