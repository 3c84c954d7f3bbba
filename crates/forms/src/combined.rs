//! One print-ready PDF of many documents, streamed to disk: `--combined FILE.pdf`.
//!
//! Pages arrive in order, a few hundred at a time ([`CombinedPdf::append`] takes one rendered
//! chunk, a [`lopdf::Document`] from [`crate::render::render_document`]); their objects are
//! renumbered and written straight to the file, so memory holds one chunk, never the whole
//! file. Each chunk carries its own font subset (the glyphs of its pages), which keeps both
//! memory and the file small. The cross-reference offsets and the page list go to two temporary
//! files and are copied in at the end; the file appears at its path only when complete
//! ([`AtomicFile`]).
//!
//! Object numbers: 1 is the catalog, 2 the page tree (every page's `/Parent`), 3 the document
//! information; chunk objects follow from 4.

use crate::atomic::AtomicFile;
use lopdf::{Dictionary, Object, ObjectId, StringFormat};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const CATALOG: u32 = 1;
const PAGES: u32 = 2;
const INFO: u32 = 3;
const FIRST: u32 = 4;

/// A combined PDF being written (see the module doc).
pub struct CombinedPdf {
    out: CountingWriter<BufWriter<AtomicFile>>,
    /// 20-byte xref entries for objects `FIRST..next_id`, in order.
    xref: BufWriter<File>,
    /// `N 0 R ` for every page, in order.
    kids: BufWriter<File>,
    next_id: u32,
    pages: u64,
    title: String,
    /// Hash of every chunk's text (the trailer `/ID`).
    id: (u64, u64),
}

struct CountingWriter<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl CombinedPdf {
    /// Starts `path` (nothing appears there until [`CombinedPdf::finish`]).
    pub fn create(path: &Path, title: &str) -> io::Result<CombinedPdf> {
        let file = AtomicFile::create(path)?;
        let mut out = CountingWriter {
            inner: BufWriter::with_capacity(256 * 1024, file),
            written: 0,
        };
        out.write_all(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")?;
        Ok(CombinedPdf {
            out,
            xref: BufWriter::new(tempfile::tempfile()?),
            kids: BufWriter::new(tempfile::tempfile()?),
            next_id: FIRST,
            pages: 0,
            title: title.to_string(),
            id: (0xcbf2_9ce4_8422_2325, 0x6c62_272e_07bb_0142),
        })
    }

    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Writes the pages of `doc` (one rendered chunk) after those already written.
    pub fn append(&mut self, mut doc: lopdf::Document, text_id: &str) -> io::Result<()> {
        for b in text_id.bytes() {
            self.id.0 = (self.id.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
            self.id.1 = (self.id.1 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b1);
        }
        doc.renumber_objects_with(self.next_id);
        let root: Option<ObjectId> = doc.trailer.get(b"Root").and_then(Object::as_reference).ok();
        let info: Option<ObjectId> = doc.trailer.get(b"Info").and_then(Object::as_reference).ok();
        let tree: Option<ObjectId> = root
            .and_then(|r| doc.get_dictionary(r).ok())
            .and_then(|c| c.get(b"Pages").and_then(Object::as_reference).ok());
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        for id in &pages {
            if let Ok(page) = doc.get_dictionary_mut(*id) {
                page.set("Parent", Object::Reference((PAGES, 0)));
            }
            write!(self.kids, "{} 0 R ", id.0)?;
        }
        self.pages += pages.len() as u64;
        let skip = [root, info, tree];
        let max = doc
            .objects
            .keys()
            .map(|k| k.0)
            .max()
            .unwrap_or(self.next_id - 1);
        let mut buf = Vec::with_capacity(64 * 1024);
        for n in self.next_id..=max {
            let key = (n, 0);
            match doc.objects.get(&key) {
                Some(obj) if !skip.contains(&Some(key)) => {
                    write!(self.xref, "{:010} 00000 n\r\n", self.out.written)?;
                    buf.clear();
                    writeln!(buf, "{n} 0 obj")?;
                    write_object(&mut buf, obj)?;
                    buf.extend_from_slice(b"\nendobj\n");
                    self.out.write_all(&buf)?;
                }
                _ => self.xref.write_all(b"0000000000 00000 f\r\n")?,
            }
        }
        self.next_id = max + 1;
        Ok(())
    }

    /// Writes the page tree, catalog, cross-reference table and trailer, and moves the file
    /// into place.
    pub fn finish(mut self) -> io::Result<PathBuf> {
        let mut kids = self.kids.into_inner().map_err(|e| e.into_error())?;
        let mut xref = self.xref.into_inner().map_err(|e| e.into_error())?;
        let pages_at = self.out.written;
        write!(
            self.out,
            "{PAGES} 0 obj\n<< /Type /Pages /Count {} /Kids [ ",
            self.pages
        )?;
        kids.seek(SeekFrom::Start(0))?;
        copy(&mut kids, &mut self.out)?;
        self.out.write_all(b"] >>\nendobj\n")?;
        let catalog_at = self.out.written;
        write!(
            self.out,
            "{CATALOG} 0 obj\n<< /Type /Catalog /Pages {PAGES} 0 R >>\nendobj\n"
        )?;
        let info_at = self.out.written;
        let mut info = Dictionary::new();
        info.set(
            "Title",
            Object::String(utf16be(&self.title), StringFormat::Hexadecimal),
        );
        info.set(
            "Creator",
            Object::String(b"masspay-tax".to_vec(), StringFormat::Literal),
        );
        writeln!(self.out, "{INFO} 0 obj")?;
        write_object(&mut self.out, &Object::Dictionary(info))?;
        self.out.write_all(b"\nendobj\n")?;
        let xref_at = self.out.written;
        write!(
            self.out,
            "xref\n0 {FIRST}\n0000000000 65535 f\r\n{catalog_at:010} 00000 n\r\n{pages_at:010} 00000 n\r\n{info_at:010} 00000 n\r\n"
        )?;
        if self.next_id > FIRST {
            writeln!(self.out, "{FIRST} {}", self.next_id - FIRST)?;
            xref.seek(SeekFrom::Start(0))?;
            copy(&mut xref, &mut self.out)?;
        }
        let id = format!("{:016x}{:016x}", self.id.0, self.id.1);
        write!(
            self.out,
            "trailer\n<< /Size {} /Root {CATALOG} 0 R /Info {INFO} 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref_at}\n%%EOF\n",
            self.next_id
        )?;
        let file = self.out.inner.into_inner().map_err(|e| e.into_error())?;
        file.commit()
    }
}

fn copy(from: &mut File, to: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n])?;
    }
}

fn utf16be(s: &str) -> Vec<u8> {
    let mut v = vec![0xFE, 0xFF];
    for u in s.encode_utf16() {
        v.extend_from_slice(&u.to_be_bytes());
    }
    v
}

/// PDF syntax for one object (what lopdf's own writer does, which it keeps private).
fn write_object(w: &mut impl Write, obj: &Object) -> io::Result<()> {
    match obj {
        Object::Null => w.write_all(b"null"),
        Object::Boolean(b) => w.write_all(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => write!(w, "{i}"),
        Object::Real(r) => {
            if r.is_finite() {
                write!(w, "{r}")
            } else {
                w.write_all(b"0")
            }
        }
        Object::Name(name) => write_name(w, name),
        Object::String(bytes, StringFormat::Literal) if bytes.iter().all(plain_literal) => {
            w.write_all(b"(")?;
            w.write_all(bytes)?;
            w.write_all(b")")
        }
        Object::String(bytes, _) => {
            w.write_all(b"<")?;
            for b in bytes {
                write!(w, "{b:02X}")?;
            }
            w.write_all(b">")
        }
        Object::Array(items) => {
            w.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.write_all(b" ")?;
                }
                write_object(w, item)?;
            }
            w.write_all(b"]")
        }
        Object::Dictionary(dict) => write_dict(w, dict),
        Object::Stream(stream) => {
            let mut dict = stream.dict.clone();
            dict.set("Length", Object::Integer(stream.content.len() as i64));
            write_dict(w, &dict)?;
            w.write_all(b"\nstream\n")?;
            w.write_all(&stream.content)?;
            w.write_all(b"\nendstream")
        }
        Object::Reference(id) => write!(w, "{} {} R", id.0, id.1),
    }
}

fn plain_literal(b: &u8) -> bool {
    (0x20..0x7F).contains(b) && !matches!(b, b'(' | b')' | b'\\')
}

fn write_dict(w: &mut impl Write, dict: &Dictionary) -> io::Result<()> {
    w.write_all(b"<<")?;
    for (key, value) in dict.iter() {
        w.write_all(b" ")?;
        write_name(w, key)?;
        w.write_all(b" ")?;
        write_object(w, value)?;
    }
    w.write_all(b" >>")
}

fn write_name(w: &mut impl Write, name: &[u8]) -> io::Result<()> {
    w.write_all(b"/")?;
    for &b in name {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+') {
            w.write_all(&[b])?;
        } else {
            write!(w, "#{b:02X}")?;
        }
    }
    Ok(())
}
