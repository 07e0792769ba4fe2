//! The base files the patch set reads: an extracted `/app` tree on disk.
//! Paths are always `/`-separated and relative to the app root.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Largest base file the engine will load (the biggest Chatwoot chunk is ~6 MB).
pub const MAX_BASE_FILE: u64 = 256 * 1024 * 1024;

/// Read access to the base files.
pub trait BaseTree: Sync {
    /// Every regular file, sorted.
    fn files(&self) -> &[String];
    fn read(&self, path: &str) -> Result<Vec<u8>>;
    /// Size in bytes, without reading the file.
    fn size(&self, path: &str) -> Result<u64>;
    fn exists(&self, path: &str) -> bool {
        self.files().binary_search_by(|p| p.as_str().cmp(path)).is_ok()
    }
    /// A name for reports (`/tmp/app`, `image sha256:…`).
    fn describe(&self) -> String;
}

/// An extracted app root on disk. Symlinks are not followed: a base tree
/// could come from anywhere and is read as data.
pub struct DirTree {
    root: PathBuf,
    files: Vec<String>,
}

impl DirTree {
    /// Opens `root`, listing only the files under `paths` (the patch set's
    /// `extract` list, the same paths a build reads out of an image); an
    /// empty list means everything.
    pub fn open(root: &Path, paths: &[String]) -> Result<DirTree> {
        if !root.is_dir() {
            return Err(Error::usage(
                format!("{} is not a directory", root.display()),
                "pass the extracted /app directory of the base image with --from-dir",
            ));
        }
        let mut files = Vec::new();
        let starts: Vec<PathBuf> =
            if paths.is_empty() { vec![root.to_path_buf()] } else { paths.iter().map(|p| root.join(p)).collect() };
        for start in starts.iter().filter(|s| s.symlink_metadata().is_ok()) {
            for entry in walkdir::WalkDir::new(start).follow_links(false) {
                let entry = entry.map_err(|e| Error::io("walking", start, e.into()))?;
                if entry.file_type().is_file() {
                    let rel = entry.path().strip_prefix(root).expect("below root");
                    files.push(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
                }
            }
        }
        files.sort();
        files.dedup();
        Ok(DirTree { root: root.to_path_buf(), files })
    }
}

impl BaseTree for DirTree {
    fn files(&self) -> &[String] {
        &self.files
    }

    fn size(&self, path: &str) -> Result<u64> {
        let full = self.root.join(path);
        Ok(std::fs::symlink_metadata(&full).map_err(|e| Error::io("reading", &full, e))?.len())
    }

    fn read(&self, path: &str) -> Result<Vec<u8>> {
        let full = self.root.join(path);
        let len = self.size(path)?;
        if len > MAX_BASE_FILE {
            return Err(Error::usage(
                format!("{} is {len} bytes, over the base file limit", full.display()),
                "check the base tree",
            ));
        }
        std::fs::read(&full).map_err(|e| Error::io("reading", &full, e))
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// A base tree with an overlay on top: what the built image holds under the
/// app root, without building it.
pub struct Layered<'a> {
    base: &'a dyn BaseTree,
    overlay: &'a std::collections::BTreeMap<String, Vec<u8>>,
    files: Vec<String>,
}

impl<'a> Layered<'a> {
    pub fn new(base: &'a dyn BaseTree, overlay: &'a std::collections::BTreeMap<String, Vec<u8>>) -> Layered<'a> {
        let mut files: Vec<String> = base.files().iter().chain(overlay.keys()).cloned().collect();
        files.sort();
        files.dedup();
        Layered { base, overlay, files }
    }
}

impl BaseTree for Layered<'_> {
    fn files(&self) -> &[String] {
        &self.files
    }

    fn read(&self, path: &str) -> Result<Vec<u8>> {
        match self.overlay.get(path) {
            Some(b) => Ok(b.clone()),
            None => self.base.read(path),
        }
    }

    fn size(&self, path: &str) -> Result<u64> {
        match self.overlay.get(path) {
            Some(b) => Ok(b.len() as u64),
            None => self.base.size(path),
        }
    }

    fn describe(&self) -> String {
        format!("{} with the overlay", self.base.describe())
    }
}
