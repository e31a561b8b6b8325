//! Content-addressed files: image originals and thumbnails under the data directory.
//!
//! A blob is named by the hex SHA-256 of its bytes and lives at
//! `<dir>/<first two hex digits>/<all 64 hex digits>`. Writing is atomic (a
//! temporary file in `<dir>/tmp`, synced, then renamed into place), so a reader
//! never sees a half-written blob, and idempotent: the same bytes are stored once.
//! The API is synchronous `std::fs`; async callers run it in `spawn_blocking`.
//!
//! Blobs nothing refers to (an upload whose message could not be posted) are
//! removed by a sweep: [`BlobStore::unused_candidates`] lists blobs not written or
//! re-stored within a grace period, the caller drops those the database still
//! refers to, and [`BlobStore::remove_if_unused_since`] removes the rest. `put` and
//! that removal hold one lock, and `put` of bytes already stored refreshes their
//! modification time, so a blob being stored again is never swept from under it.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// A directory of content-addressed blobs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    /// Held by `put` and by the sweep's removal of one blob.
    lock: Arc<Mutex<()>>,
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
        Ok(BlobStore {
            dir,
            lock: Arc::new(Mutex::new(())),
        })
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
        let _guard = self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if path.exists() {
            // Stored again: not a candidate for the sweep for another grace period.
            fs::File::options()
                .write(true)
                .open(&path)?
                .set_modified(SystemTime::now())?;
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

    /// Blobs last written (or stored again) before `cutoff`: candidates for the
    /// sweep. Also deletes temporary files older than `cutoff` (left by a crash
    /// mid-write).
    pub fn unused_candidates(&self, cutoff: SystemTime) -> io::Result<Vec<String>> {
        let older = |meta: &fs::Metadata| meta.modified().map(|m| m < cutoff).unwrap_or(false);
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let sub = entry.file_name().to_string_lossy().into_owned();
            if sub == "tmp" {
                for tmp in fs::read_dir(entry.path())? {
                    let tmp = tmp?;
                    if tmp.metadata().is_ok_and(|m| m.is_file() && older(&m)) {
                        let _ = fs::remove_file(tmp.path());
                    }
                }
                continue;
            }
            if sub.len() != 2 || !entry.file_type()?.is_dir() {
                continue;
            }
            for blob in fs::read_dir(entry.path())? {
                let blob = blob?;
                let name = blob.file_name().to_string_lossy().into_owned();
                if is_blob_name(&name) && name.starts_with(&sub) && blob.metadata().is_ok_and(|m| older(&m)) {
                    out.push(name);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes the blob if it has still not been written or stored again since
    /// `cutoff`. Returns whether it was removed.
    pub fn remove_if_unused_since(&self, name: &str, cutoff: SystemTime) -> io::Result<bool> {
        let Some(path) = self.path(name) else {
            return Ok(false);
        };
        let _guard = self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match fs::metadata(&path) {
            Ok(meta) if meta.modified()? < cutoff => {
                fs::remove_file(&path)?;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes those of `candidates` (from [`BlobStore::unused_candidates`] with the
    /// same `cutoff`) that `referenced` does not name and that are still unused
    /// since `cutoff`. Returns how many were removed.
    pub fn sweep(&self, cutoff: SystemTime, candidates: &[String], referenced: &HashSet<String>) -> io::Result<usize> {
        let mut removed = 0;
        for name in candidates {
            if !referenced.contains(name) && self.remove_if_unused_since(name, cutoff)? {
                removed += 1;
            }
        }
        Ok(removed)
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
    use std::time::Duration;

    fn age(blobs: &BlobStore, name: &str, by: Duration) {
        let path = blobs.path(name).expect("path");
        fs::File::options()
            .write(true)
            .open(path)
            .expect("open")
            .set_modified(SystemTime::now() - by)
            .expect("set mtime");
    }

    #[test]
    fn the_sweep_removes_old_unreferenced_blobs_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = BlobStore::open(dir.path().join("images")).expect("open");
        let hour = Duration::from_secs(3600);
        let kept = blobs.put(b"referenced").expect("put");
        let orphan = blobs.put(b"orphan").expect("put");
        let fresh = blobs.put(b"fresh orphan").expect("put");
        let again = blobs.put(b"stored again").expect("put");
        for name in [&kept, &orphan, &again] {
            age(&blobs, name, 2 * hour);
        }
        // Storing the same bytes again makes the blob fresh.
        assert_eq!(blobs.put(b"stored again").expect("put"), again);
        let stale_tmp = dir.path().join("images/tmp/leftover.123");
        fs::write(&stale_tmp, b"half").expect("tmp");
        fs::File::options()
            .write(true)
            .open(&stale_tmp)
            .expect("open")
            .set_modified(SystemTime::now() - 2 * hour)
            .expect("mtime");
        fs::write(dir.path().join("images/unrelated.txt"), b"x").expect("other file");

        let cutoff = SystemTime::now() - hour;
        assert_eq!(blobs.unused_candidates(cutoff).expect("list"), {
            let mut v = vec![kept.clone(), orphan.clone()];
            v.sort();
            v
        });
        assert!(!stale_tmp.exists(), "old temporary files are deleted");
        let referenced: HashSet<String> = [kept.clone()].into();
        let candidates = blobs.unused_candidates(cutoff).expect("list");
        assert_eq!(blobs.sweep(cutoff, &candidates, &referenced).expect("sweep"), 1);
        assert!(blobs.get(&kept).is_ok());
        assert!(blobs.get(&fresh).is_ok());
        assert!(blobs.get(&again).is_ok());
        assert_eq!(blobs.get(&orphan).expect_err("swept").kind(), io::ErrorKind::NotFound);
        assert!(dir.path().join("images/unrelated.txt").exists());
        // A candidate stored again between listing and removal survives.
        age(&blobs, &kept, 2 * hour);
        assert_eq!(blobs.unused_candidates(cutoff).expect("list"), vec![kept.clone()]);
        blobs.put(b"referenced").expect("put");
        assert!(!blobs.remove_if_unused_since(&kept, cutoff).expect("remove"));
        assert!(blobs.get(&kept).is_ok());
    }

    #[test]
    fn blobs_are_named_by_content_stored_once_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blobs = BlobStore::open(dir.path().join("images")).expect("open");
        let a = blobs.put(b"first").expect("put");
        assert_eq!(a, blob_name(b"first"));
        assert_eq!(a, "a7937b64b8caa58f03721bb6bacf5c78cb235febe0e70b1b84cd99541461a08e");
        let path = blobs.path(&a).expect("path");
        assert_eq!(path, dir.path().join("images").join("a7").join(&a));
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).expect("meta"));
        let before = inode(&path);
        // The same bytes again: same name, same file (not rewritten).
        assert_eq!(blobs.put(b"first").expect("put again"), a);
        assert_eq!(inode(&path), before);
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
