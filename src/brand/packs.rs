//! The one listing of brand packs in a brands directory, for every command
//! that takes "all of them" (`list`, `build --all`, `bake --all`).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Every pack directory in `brands_dir`, sorted by name. Hidden entries
/// never count: `.<id>.new-*` is a pack `new` is still writing (or left by
/// an interrupted run), and dot-directories are tool state. A directory
/// without a `brand.toml` is listed: loading it says what is missing.
pub fn pack_dirs(brands_dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(brands_dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::usage(
                format!("the brands directory {} does not exist", brands_dir.display()),
                "run where brands/ is, pass --brands-dir, or create a pack with `whitelabel new <BRAND>`",
            )
        } else {
            Error::io("reading", brands_dir, e)
        }
    })?;
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("reading", brands_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !name.starts_with('.') && path.is_dir() {
            dirs.push((name, path));
        }
    }
    dirs.sort();
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_and_hidden_folders_never_count() {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["b", "a", ".a.new-1234", ".cache", "c"] {
            std::fs::create_dir(tmp.path().join(d)).unwrap();
            std::fs::write(tmp.path().join(d).join("brand.toml"), "").unwrap();
        }
        std::fs::write(tmp.path().join("README.md"), "").unwrap();
        let names: Vec<String> = pack_dirs(tmp.path()).unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "b", "c"]);
        let e = pack_dirs(&tmp.path().join("nope")).unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
    }
}
