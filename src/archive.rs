//! Deterministic tar archives: the same files give the same bytes on any
//! machine. Entries are sorted, parent directories are written before their
//! contents, times are one fixed value, owners are numeric with no names.
//! Used for the build context, the image layer and base imports.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// Owner and permissions of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
}

impl Meta {
    pub const FILE: Meta = Meta { mode: 0o644, uid: 0, gid: 0 };
    pub const DIR: Meta = Meta { mode: 0o755, uid: 0, gid: 0 };
}

/// Where a file's bytes come from: memory, or a file on disk (base imports,
/// which can be large).
pub enum Content<'a> {
    Bytes(&'a [u8]),
    File(&'a std::path::Path),
}

/// Writes `files` (relative `/`-separated paths) under `prefix` (`""`, or
/// `"app"` for a layer), with every ancestor directory as its own entry.
/// `meta` gives each entry's owner and mode (`is_dir` tells which kind).
pub fn write_tree<'a, W: Write>(
    out: W,
    prefix: &str,
    files: impl IntoIterator<Item = (&'a str, Content<'a>)>,
    mtime: u64,
    meta: impl Fn(&str, bool) -> Meta,
) -> io::Result<W> {
    let prefix = prefix.trim_matches('/');
    let join = |p: &str| if prefix.is_empty() { p.to_string() } else { format!("{prefix}/{p}") };
    let mut entries: BTreeMap<String, Option<Content<'a>>> = BTreeMap::new();
    let mut dirs = BTreeSet::new();
    if !prefix.is_empty() {
        dirs.insert(prefix.to_string());
    }
    for (path, content) in files {
        let full = join(path);
        let mut at = full.as_str();
        while let Some((parent, _)) = at.rsplit_once('/') {
            dirs.insert(parent.to_string());
            at = parent;
        }
        entries.insert(full, Some(content));
    }
    for d in dirs {
        entries.entry(d).or_insert(None);
    }
    // Sort by path components so `a/b` comes right after `a`, before `a.b`.
    let mut ordered: Vec<(String, Option<Content>)> = entries.into_iter().collect();
    ordered.sort_by(|(a, _), (b, _)| a.split('/').cmp(b.split('/')));

    let strip = |p: &str| -> String {
        if prefix.is_empty() {
            p.to_string()
        } else {
            p.strip_prefix(prefix).unwrap_or(p).trim_start_matches('/').to_string()
        }
    };
    let mut tar = tar::Builder::new(out);
    for (path, content) in ordered {
        let rel = strip(&path);
        let mut header = tar::Header::new_gnu();
        header.set_mtime(mtime);
        match content {
            None => {
                let m = meta(&rel, true);
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(m.mode);
                header.set_uid(m.uid);
                header.set_gid(m.gid);
                header.set_size(0);
                tar.append_data(&mut header, format!("{path}/"), io::empty())?;
            }
            Some(content) => {
                let m = meta(&rel, false);
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(m.mode);
                header.set_uid(m.uid);
                header.set_gid(m.gid);
                match content {
                    Content::Bytes(b) => {
                        header.set_size(b.len() as u64);
                        tar.append_data(&mut header, &path, b)?;
                    }
                    Content::File(f) => {
                        let file = std::fs::File::open(f)?;
                        header.set_size(file.metadata()?.len());
                        tar.append_data(&mut header, &path, file)?;
                    }
                }
            }
        }
    }
    tar.into_inner()
}

/// A writer that hashes what passes through (layer diff IDs).
pub struct Sha256Writer<W> {
    inner: W,
    hasher: sha2::Sha256,
    len: u64,
}

impl<W: Write> Sha256Writer<W> {
    pub fn new(inner: W) -> Self {
        Sha256Writer { inner, hasher: Default::default(), len: 0 }
    }

    /// The inner writer, the `sha256:<hex>` digest and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        use sha2::Digest;
        (self.inner, format!("sha256:{}", hex::encode(self.hasher.finalize())), self.len)
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar: &[u8]) -> Vec<(String, u32, u64)> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (e.path().unwrap().to_string_lossy().into_owned(), h.mode().unwrap(), h.mtime().unwrap())
            })
            .collect()
    }

    #[test]
    fn sorted_with_parents_fixed_times_and_no_names() {
        let files =
            [("public/b.svg", &b"b"[..]), ("public/a/x.png", b"x"), ("config/y.yml", b"y"), ("public/a.b", b"z")];
        let write = |order: &[usize]| {
            let it = order.iter().map(|&i| (files[i].0, Content::Bytes(files[i].1)));
            write_tree(Vec::new(), "app", it, 7, |_, d| if d { Meta::DIR } else { Meta::FILE }).unwrap()
        };
        let one = write(&[0, 1, 2, 3]);
        assert_eq!(one, write(&[3, 2, 1, 0]), "input order must not matter");
        let got: Vec<String> = names(&one).into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(
            got,
            [
                "app/",
                "app/config/",
                "app/config/y.yml",
                "app/public/",
                "app/public/a/",
                "app/public/a/x.png",
                "app/public/a.b",
                "app/public/b.svg"
            ]
        );
        assert!(names(&one).iter().all(|(_, _, t)| *t == 7));
        let mut a = tar::Archive::new(&one[..]);
        for e in a.entries().unwrap() {
            let e = e.unwrap();
            assert_eq!(e.header().username().unwrap(), Some(""));
            assert_eq!(e.header().uid().unwrap(), 0);
        }
    }

    #[test]
    fn meta_is_asked_with_paths_relative_to_the_prefix() {
        let tar = write_tree(Vec::new(), "app", [("bin/run", Content::Bytes(b"#!"))], 0, |p, d| match (p, d) {
            ("bin/run", false) => Meta { mode: 0o755, uid: 0, gid: 0 },
            ("", true) => Meta { mode: 0o700, uid: 0, gid: 0 },
            _ => Meta::DIR,
        })
        .unwrap();
        let n = names(&tar);
        assert_eq!(n[0], ("app/".into(), 0o700, 0));
        assert_eq!(n[2], ("app/bin/run".into(), 0o755, 0));
    }

    #[test]
    fn hashing_writer_matches_sha256() {
        let mut w = Sha256Writer::new(Vec::new());
        w.write_all(b"hello").unwrap();
        let (inner, digest, len) = w.finish();
        assert_eq!(inner, b"hello");
        assert_eq!(len, 5);
        assert_eq!(digest, sha256(b"hello"));
    }
}
