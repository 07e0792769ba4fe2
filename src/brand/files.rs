//! Reading files through a brand pack without ever leaving it: relative paths
//! only, no `..`, no symlink that resolves outside the pack, bounded sizes.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The root of a brand pack, canonicalised once.
#[derive(Debug, Clone)]
pub struct PackDir {
    root: PathBuf,
}

impl PackDir {
    pub fn open(dir: &Path) -> std::io::Result<PackDir> {
        Ok(PackDir { root: dir.canonicalize()? })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves a path written in `brand.toml` to a file inside the pack.
    /// The error text says what is wrong, for a [`crate::error::Problem`].
    pub fn resolve(&self, rel: &str) -> Result<PathBuf, String> {
        let path = Path::new(rel);
        if rel.is_empty() {
            return Err("is empty".into());
        }
        for component in path.components() {
            match component {
                Component::Normal(_) | Component::CurDir => {}
                Component::ParentDir => {
                    return Err(format!("\"{rel}\" uses `..`; paths must stay inside the brand pack"));
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(format!("\"{rel}\" is absolute; use a path relative to the brand pack"));
                }
            }
        }
        let full = self.root.join(path);
        let real = full.canonicalize().map_err(|_| format!("\"{rel}\" does not exist in the brand pack"))?;
        if !real.starts_with(&self.root) {
            return Err(format!("\"{rel}\" is a symlink that leads outside the brand pack"));
        }
        if !real.is_file() {
            return Err(format!("\"{rel}\" is not a regular file"));
        }
        Ok(real)
    }

    /// Reads a pack file of at most `max` bytes.
    pub fn read(&self, rel: &str, max: u64) -> Result<Vec<u8>, String> {
        let path = self.resolve(rel)?;
        let file = std::fs::File::open(&path).map_err(|e| format!("\"{rel}\" cannot be read: {e}"))?;
        let mut data = Vec::new();
        file.take(max.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| format!("\"{rel}\" cannot be read: {e}"))?;
        if data.len() as u64 > max {
            return Err(format!("\"{rel}\" is larger than the {} KiB limit", max / 1024));
        }
        Ok(data)
    }
}
