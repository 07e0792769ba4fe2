//! Where patch sets come from: the copy compiled into the binary (every file
//! under `patches/`, embedded by `build.rs`), or a directory named by
//! `--patches` / `WHITELABEL_PATCHES`. This module owns finding a patch set
//! by name or by base image; [`crate::patchset`] compiles its files.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image_ref::ImageRef;
use crate::patchset::PatchSet;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/patches.rs"));
}

/// What the patch sets are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Library {
    /// The patch sets compiled into this binary.
    BuiltIn,
    /// A directory of patch sets, or one patch set directory.
    Dir(PathBuf),
}

/// Where errors name the built-in files: `built-in:patches/<set>/<file>`.
const BUILT_IN_PREFIX: &str = "built-in:patches";

/// `built-in`, or the directory `ps` was read from (a `--json` field).
pub fn source_of(ps: &PatchSet) -> String {
    if ps.dir.starts_with(BUILT_IN_PREFIX) { "built-in".into() } else { ps.dir.display().to_string() }
}

/// One patch set as `whitelabel patchsets` lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub name: String,
    pub version: String,
    pub source_repository: String,
    pub revision: String,
    /// `built-in` or the directory.
    pub source: String,
    pub digest: String,
    pub rules: usize,
    pub stock_files: usize,
}

impl Library {
    /// `--patches DIR` when given, else the built-in patch sets.
    pub fn new(dir: Option<&Path>) -> Library {
        dir.map_or(Library::BuiltIn, |d| Library::Dir(d.to_path_buf()))
    }

    /// `built-in` or the directory, for output.
    pub fn describe(&self) -> String {
        match self {
            Library::BuiltIn => "built-in".into(),
            Library::Dir(d) => d.display().to_string(),
        }
    }

    /// The names of the patch sets there are, sorted.
    pub fn names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = match self {
            Library::BuiltIn => embedded::FILES
                .iter()
                .filter_map(|(p, _)| p.strip_suffix("/patchset.toml"))
                .filter(|n| !n.contains('/'))
                .map(str::to_string)
                .collect(),
            Library::Dir(dir) if dir.join("patchset.toml").is_file() => vec![String::new()],
            Library::Dir(dir) => std::fs::read_dir(dir)
                .map_err(|e| {
                    Error::usage(
                        format!("cannot list patch sets in {}: {e}", dir.display()),
                        "pass --patches DIR naming a directory of patch sets (or unset WHITELABEL_PATCHES to use the built-in ones)",
                    )
                })?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("patchset.toml").is_file())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect(),
        };
        names.sort();
        Ok(names)
    }

    /// The patch set called `name` (`""`: the directory itself is one).
    pub fn load(&self, name: &str) -> Result<Option<PatchSet>> {
        match self {
            Library::BuiltIn => {
                let prefix = format!("{name}/");
                let files: Vec<(PathBuf, std::result::Result<String, String>)> = embedded::FILES
                    .iter()
                    .filter_map(|(p, bytes)| {
                        let file = p.strip_prefix(&prefix)?;
                        (!file.contains('/') && file.ends_with(".toml")).then(|| {
                            let text = String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8".to_string());
                            (Path::new(BUILT_IN_PREFIX).join(p), text)
                        })
                    })
                    .collect();
                if name.is_empty() || !files.iter().any(|(p, _)| p.ends_with("patchset.toml")) {
                    return Ok(None);
                }
                // The patch set's other files (the message catalogue) by name.
                let data = |file: &str| {
                    let path = format!("{name}/{file}");
                    embedded::FILES.iter().find(|(p, _)| *p == path).map(|(_, bytes)| bytes.to_vec())
                };
                PatchSet::from_files(&Path::new(BUILT_IN_PREFIX).join(name), files, &data).map(Some)
            }
            Library::Dir(dir) => {
                let set = if dir.join("patchset.toml").is_file() { dir.clone() } else { dir.join(name) };
                if name.contains(['/', '\\']) || name == ".." || !set.join("patchset.toml").is_file() {
                    return Ok(None);
                }
                PatchSet::load(&set).map(Some)
            }
        }
    }

    /// The patch set for base image `base`: the library itself when it is
    /// one patch set, else `<repo>-<tag>` (with `-ce` falling back to the
    /// plain tag, same files).
    pub fn for_base(&self, base: &ImageRef) -> Result<PatchSet> {
        if let Library::Dir(dir) = self
            && dir.join("patchset.toml").is_file()
        {
            return PatchSet::load(dir);
        }
        let candidates = patchset_names(base);
        for name in &candidates {
            if let Some(ps) = self.load(name)? {
                return Ok(ps);
            }
        }
        Err(Error::usage(
            format!(
                "no patch set for base image {base} (looked for {} in the {} patch sets: {})",
                candidates.join(", "),
                self.describe(),
                self.names().unwrap_or_default().join(", ")
            ),
            "write a patch set for that version under patches/ and pass --patches patches, or use a supported base",
        ))
    }

    /// Every patch set, loaded, as `whitelabel patchsets` lists them.
    pub fn list(&self) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for name in self.names()? {
            let Some(ps) = self.load(&name)? else { continue };
            out.push(Listed {
                name: ps.name.clone(),
                version: ps.version.clone(),
                source_repository: ps.source.clone(),
                revision: ps.revision.clone(),
                source: source_of(&ps),
                digest: ps.digest.clone(),
                rules: ps.rules.len(),
                stock_files: ps.stock.len(),
            });
        }
        Ok(out)
    }
}

/// `chatwoot/chatwoot:v3.15.0-ce` → `chatwoot-v3.15.0-ce`, `chatwoot-v3.15.0`.
pub fn patchset_names(base: &ImageRef) -> Vec<String> {
    let name = base.name();
    let tag = base.tag_or_latest();
    let mut out = vec![format!("{name}-{tag}")];
    if let Some(plain) = tag.strip_suffix("-ce") {
        out.push(format!("{name}-{plain}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        patchset_names(&ImageRef::parse(s).unwrap())
    }

    #[test]
    fn patchset_names_from_base() {
        assert_eq!(names("chatwoot/chatwoot:v3.15.0"), vec!["chatwoot-v3.15.0"]);
        assert_eq!(names("chatwoot/chatwoot:v3.15.0-ce"), vec!["chatwoot-v3.15.0-ce", "chatwoot-v3.15.0"]);
        assert_eq!(names("localhost:5000/chatwoot/chatwoot:v3.15.0"), vec!["chatwoot-v3.15.0"]);
        assert_eq!(names("localhost:5000/chatwoot/chatwoot"), vec!["chatwoot-latest"]);
    }

    #[test]
    fn the_built_in_patch_set_is_the_checkout_s() {
        let lib = Library::BuiltIn;
        assert_eq!(lib.names().unwrap(), vec!["chatwoot-v3.15.0"]);
        let built_in = lib.load("chatwoot-v3.15.0").unwrap().unwrap();
        let dir = PatchSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("patches/chatwoot-v3.15.0")).unwrap();
        assert_eq!(built_in.digest, dir.digest, "same files, same digest");
        assert_eq!(built_in.rules.len(), dir.rules.len());
        assert_eq!(built_in.rules[0].category(), "logos");
        assert_eq!((source_of(&built_in), source_of(&dir)), ("built-in".into(), dir.dir.display().to_string()));
        assert!(lib.load("../etc").unwrap().is_none());
        // Each stock file belongs to its rule: a target of a rule that
        // replaces it, or a source a recognising rule finds inlined.
        assert!(built_in.stock.len() > 30, "{}", built_in.stock.len());
        for s in &built_in.stock {
            let rule = built_in.rules.iter().find(|r| r.id == s.rule).unwrap();
            assert!(rule.targets(&s.path) || rule.audit.is_some(), "{} is not what rule {} handles", s.path, s.rule);
        }
        assert!(lib.load("").unwrap().is_none());
    }
}
