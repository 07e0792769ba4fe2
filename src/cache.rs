//! The cache: the base files a patch set reads, kept per base image ID, so a
//! second brand or a rebuild reads nothing from the daemon; and the last
//! assembled images (`docker load` archives) kept per input hash, so a
//! rebuild on a fresh or pruned daemon is one load. Lives in
//! `$WHITELABEL_CACHE_DIR`, else `$XDG_CACHE_HOME/whitelabel`, else
//! `~/.cache/whitelabel`. An entry is written to a staging directory and
//! renamed into place only when complete, so an interrupted extraction
//! leaves nothing that looks like a hit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::archive::Meta;
use crate::error::{Error, Result};
use crate::render::write_atomically;

/// What an entry records besides the files.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub image: String,
    /// Mode and owner of every file and directory, relative to the app root.
    pub meta: BTreeMap<String, Meta>,
    /// Extract paths the image does not have.
    pub missing: Vec<String>,
    pub bytes: u64,
}

pub struct Cache {
    root: PathBuf,
}

/// How many assembled images to keep (the oldest go first).
const KEEP_IMAGES: usize = 16;

/// What is kept beside an assembled image's archive.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Assembled {
    pub image_id: String,
    pub layer_bytes: u64,
    pub report: crate::report::Report,
}

/// One base image's files for one extract list.
pub struct Entry {
    pub dir: PathBuf,
}

impl Cache {
    pub fn open() -> Result<Cache> {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let root = env("WHITELABEL_CACHE_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|p| p.join("whitelabel")))
            .or_else(|| env("HOME").map(|p| p.join(".cache/whitelabel")))
            .ok_or_else(|| {
                Error::usage("no cache directory: HOME is not set", "set WHITELABEL_CACHE_DIR to a writable directory")
            })?;
        Ok(Cache { root })
    }

    pub fn at(root: &Path) -> Cache {
        Cache { root: root.to_path_buf() }
    }

    /// The entry for `image_id` with this app root and extract list.
    pub fn entry(&self, image_id: &str, root: &str, extract: &[String]) -> Entry {
        let mut h = Sha256::new();
        h.update(root);
        for p in extract {
            h.update([0]);
            h.update(p);
        }
        let key = format!("{}-{}", image_id.trim_start_matches("sha256:"), &hex::encode(h.finalize())[..12]);
        Entry { dir: self.root.join("bases").join(key) }
    }
}

impl Cache {
    fn images(&self) -> PathBuf {
        self.root.join("images")
    }

    /// The archive and facts of the image assembled for `input`, if kept.
    pub fn assembled(&self, input: &str) -> Option<(Vec<u8>, Assembled)> {
        let dir = self.images();
        let meta: Assembled = serde_json::from_slice(&std::fs::read(dir.join(format!("{input}.json"))).ok()?).ok()?;
        let archive = std::fs::read(dir.join(format!("{input}.tar"))).ok()?;
        Some((archive, meta))
    }

    /// Keeps an assembled image; drops the oldest beyond [`KEEP_IMAGES`].
    pub fn keep_assembled(&self, input: &str, archive: &[u8], meta: &Assembled) -> Result<()> {
        let dir = self.images();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        let json = serde_json::to_vec(meta).expect("meta serialises");
        // The archive first: its facts file is what makes it a hit.
        write_atomically(&dir.join(format!("{input}.tar")), archive)?;
        write_atomically(&dir.join(format!("{input}.json")), &json)?;
        let mut kept: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&dir)
            .map_err(|e| Error::io("listing", &dir, e))?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().strip_suffix(".json")?.to_string();
                Some((e.metadata().ok()?.modified().ok()?, name))
            })
            .collect();
        kept.sort();
        let excess = kept.len().saturating_sub(KEEP_IMAGES);
        for (_, name) in kept.into_iter().take(excess) {
            let _ = std::fs::remove_file(dir.join(format!("{name}.json")));
            let _ = std::fs::remove_file(dir.join(format!("{name}.tar")));
        }
        Ok(())
    }
}

impl Entry {
    /// The extracted app root.
    pub fn app(&self) -> PathBuf {
        self.dir.join("app")
    }

    /// The manifest when the entry is complete.
    pub fn load(&self) -> Option<Manifest> {
        let bytes = std::fs::read(self.dir.join("manifest.json")).ok()?;
        serde_json::from_slice(&bytes).ok().filter(|_| self.app().is_dir())
    }

    /// A fresh staging directory beside the entry (removed on drop).
    pub fn staging(&self) -> Result<tempfile::TempDir> {
        let parent = self.dir.parent().expect("entry has a parent");
        std::fs::create_dir_all(parent).map_err(|e| Error::io("creating the cache directory", parent, e))?;
        collect_stale_staging(parent);
        // The owner's PID in the name: a later run can tell a dead run's
        // leftovers from a live run's work.
        tempfile::Builder::new()
            .prefix(&format!("{STAGING}{}-", std::process::id()))
            .tempdir_in(parent)
            .map_err(|e| Error::io("creating a staging directory in", parent, e))
    }

    /// Moves a complete staging directory (with `app/`) into place.
    pub fn commit(&self, staging: tempfile::TempDir, manifest: &Manifest) -> Result<()> {
        let json = serde_json::to_vec_pretty(manifest).expect("manifest serialises");
        let path = staging.path().join("manifest.json");
        std::fs::write(&path, json).map_err(|e| Error::io("writing", &path, e))?;
        // Entries never change (same image ID, same files): when another run
        // committed first, its entry stands and ours is dropped. A stale
        // entry without a manifest is replaced.
        if self.load().is_some() {
            return Ok(());
        }
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).map_err(|e| Error::io("replacing", &self.dir, e))?;
        }
        let staged = staging.keep();
        match std::fs::rename(&staged, &self.dir) {
            Ok(()) => Ok(()),
            Err(_) if self.load().is_some() => {
                let _ = std::fs::remove_dir_all(&staged);
                Ok(())
            }
            Err(e) => Err(Error::io("moving the extraction into", &self.dir, e)),
        }
    }
}

const STAGING: &str = ".staging-";

/// Removes the staging directories of runs that died (SIGKILL, power loss)
/// before they could: those whose owner PID no longer runs.
fn collect_stale_staging(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(pid) = name.strip_prefix(STAGING).and_then(|r| r.split('-').next()?.parse::<i32>().ok()) else {
            continue;
        };
        if !crate::interrupt::process_alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_keyed_by_image_and_extract_list() {
        let c = Cache::at(Path::new("/c"));
        let a = c.entry("sha256:abc", "/app", &["public".into()]);
        assert!(a.dir.to_string_lossy().starts_with("/c/bases/abc-"), "{}", a.dir.display());
        assert_ne!(a.dir, c.entry("sha256:abc", "/app", &["public".into(), "config".into()]).dir);
        assert_ne!(a.dir, c.entry("sha256:abd", "/app", &["public".into()]).dir);
    }

    #[test]
    fn staging_left_by_a_dead_run_is_collected() {
        let tmp = tempfile::tempdir().unwrap();
        let c = Cache::at(tmp.path());
        let e = c.entry("sha256:abc", "/app", &["public".into()]);
        let parent = e.dir.parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&parent).unwrap();
        // PID 2^22 + 1 is above Linux's pid_max: never a live process.
        let dead = parent.join(".staging-4194305-abc");
        let live = parent.join(format!(".staging-{}-abc", std::process::id()));
        let foreign = parent.join(".staging-old");
        for d in [&dead, &live, &foreign] {
            std::fs::create_dir_all(d.join("app")).unwrap();
        }
        let staging = e.staging().unwrap();
        assert!(
            staging
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!(".staging-{}-", std::process::id()))
        );
        assert!(!dead.exists(), "a dead run's staging is collected");
        assert!(live.exists() && foreign.exists(), "a live run's (or unknown) staging stays");
    }

    #[test]
    fn assembled_images_are_kept_and_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let c = Cache::at(tmp.path());
        let report: crate::report::Report = serde_json::from_value(serde_json::json!({
            "tool": "t", "brand": "b", "brand_name": "B", "brand_digest": "d", "patchset": "p",
            "patchset_digest": "d", "base": "x", "partial": false, "files": [], "rules": [], "skipped": [],
            "totals": {"files_changed": 1, "files_added": 0, "siblings_regenerated": 0, "replacements": 2,
                       "bytes_before": 0, "bytes_after": 0}
        }))
        .unwrap();
        let meta = Assembled { image_id: "sha256:1".into(), layer_bytes: 3, report };
        assert!(c.assembled("in0").is_none());
        for i in 0..KEEP_IMAGES + 2 {
            c.keep_assembled(&format!("in{i}"), b"tar", &meta).unwrap();
        }
        let (archive, back) = c.assembled(&format!("in{}", KEEP_IMAGES + 1)).unwrap();
        assert_eq!((archive.as_slice(), back.image_id.as_str()), (&b"tar"[..], "sha256:1"));
        let files = std::fs::read_dir(tmp.path().join("images")).unwrap().count();
        assert_eq!(files, 2 * KEEP_IMAGES, "the oldest are dropped");
    }

    #[test]
    fn only_committed_entries_are_hits() {
        let tmp = tempfile::tempdir().unwrap();
        let e = Cache::at(tmp.path()).entry("sha256:abc", "/app", &[]);
        assert!(e.load().is_none());
        let staging = e.staging().unwrap();
        std::fs::create_dir(staging.path().join("app")).unwrap();
        drop(staging);
        assert!(e.load().is_none(), "an abandoned staging dir is not a hit");
        let staging = e.staging().unwrap();
        std::fs::create_dir(staging.path().join("app")).unwrap();
        e.commit(staging, &Manifest { image: "sha256:abc".into(), ..Default::default() }).unwrap();
        assert_eq!(e.load().unwrap().image, "sha256:abc");
        assert_eq!(std::fs::read_dir(tmp.path().join("bases")).unwrap().count(), 1, "no staging dirs left");
    }
}
