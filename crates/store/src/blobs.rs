//! Content-addressed files: image originals and thumbnails under the data directory.
//!
//! A blob is named by the hex SHA-256 of its bytes and lives at
//! `<dir>/<first two hex digits>/<all 64 hex digits>`. Writing is atomic (a
//! temporary file in `<dir>/tmp`, synced, then renamed into place), so a reader
//! never sees a half-written blob, and idempotent: the same bytes are stored once.
//! The API is synchronous `std::fs`; async callers run it in `spawn_blocking`.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A directory of content-addressed blobs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

/// The hex SHA-256 of `bytes`: the name a blob of them gets.
pub fn blob_name(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_blob_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore {
    /// Opens (creating) the directory.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let dir = dir.into();
        fs::create_dir_all(dir.join("tmp"))?;
        Ok(BlobStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the blob of this name is (or would be). `None` for a name that is not
    /// 64 lowercase hex digits, so no name can reach outside the directory.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        is_blob_name(name).then(|| self.dir.join(&name[..2]).join(name))
    }

    /// Stores `bytes` and returns their name. Storing bytes that are already there
    /// writes nothing.
    pub fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let name = blob_name(bytes);
        let path = self.path(&name).ok_or_else(|| io::Error::other("bad blob name"))?;
        if path.exists() {
            return Ok(name);
        }
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("{name}.{:016x}", rand::random::<u64>()));
        let written = (|| {
            let mut file = fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        Ok(name)
    }

    /// The bytes of a blob; `ErrorKind::NotFound` when there is none of that name.
    pub fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        let path = self
            .path(name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "bad blob name"))?;
        fs::read(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_content_stored_once_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = BlobStore::open(dir.path().join("images")).expect("open");
        let a = blobs.put(b"first").expect("put");
        assert_eq!(a, blob_name(b"first"));
        assert_eq!(a, "a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e");
        let path = blobs.path(&a).expect("path");
        assert_eq!(path, dir.path().join("images").join("a7").join(&a));
        let modified = fs::metadata(&path).expect("meta").modified().expect("mtime");
        std::thread::sleep(std::time::Duration::from_millis(20));
        // The same bytes again: same name, not rewritten.
        assert_eq!(blobs.put(b"first").expect("put again"), a);
        assert_eq!(fs::metadata(&path).expect("meta").modified().expect("mtime"), modified);
        let b = blobs.put(b"second").expect("put");
        assert_ne!(a, b);
        assert_eq!(blobs.get(&a).expect("get"), b"first");
        assert_eq!(blobs.get(&b).expect("get"), b"second");
        assert_eq!(fs::read_dir(dir.path().join("images/tmp")).expect("tmp").count(), 0);
        assert_eq!(
            blobs.get(&"0".repeat(64)).expect_err("absent").kind(),
            io::ErrorKind::NotFound
        );
        // Names that are not hashes never become paths.
        for bad in [
            "../../etc/passwd",
            "",
            "A7937B64B8CAA58F03721BB6BACF5C78CB235FEBE0E70B1B84CD99541461A08E",
        ] {
            assert!(blobs.path(bad).is_none(), "{bad}");
            assert!(blobs.get(bad).is_err());
        }
    }
}
