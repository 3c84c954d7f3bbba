//! Write-to-temp-then-rename.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file that appears at its path only when [`AtomicFile::commit`] succeeds. Dropped without a
/// commit, the temporary file is removed and any earlier file at the path is untouched.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(&dir)?;
        Ok(AtomicFile { tmp, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames into place.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        self.tmp.flush()?;
        self.tmp.as_file().sync_all()?;
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(self.path)
    }

    /// Flushes, syncs and closes the temp file without renaming it: for a set of files that
    /// must all be written before any of them replaces an old one, without holding a file
    /// descriptor per file (thousands of IRIS files would pass a default `ulimit -n` of 1024).
    /// Dropping the [`ClosedFile`] removes the temp file.
    pub fn close(mut self) -> io::Result<ClosedFile> {
        self.tmp.flush()?;
        self.tmp.as_file().sync_all()?;
        Ok(ClosedFile {
            tmp: self.tmp.into_temp_path(),
            path: self.path,
        })
    }
}

/// A written, synced and closed temp file waiting to be renamed into place.
#[derive(Debug)]
pub struct ClosedFile {
    tmp: tempfile::TempPath,
    path: PathBuf,
}

impl ClosedFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames into place.
    pub fn commit(self) -> io::Result<PathBuf> {
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(self.path)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out/x.csv");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "old").unwrap();
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"half").unwrap();
            // dropped without commit
        }
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(p.parent().unwrap()).unwrap().count(),
            1,
            "temp file cleaned up"
        );
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
    }

    #[test]
    fn a_closed_file_holds_no_descriptor_and_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "old").unwrap();
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"new").unwrap();
        let closed = f.close().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        drop(closed);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp removed"
        );
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(f.close().unwrap().commit().unwrap(), p);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
    }
}
