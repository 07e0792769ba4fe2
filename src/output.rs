//! Outputs a user names on the command line (`render --out` and `--report`,
//! `context -o`, `preview -o`): only ever files this tool wrote.
//!
//! - A directory output is replaced only when it is empty or holds the
//!   [`MARKER`] an earlier render wrote inside it; a report file only when it
//!   is an earlier report. An output overlapping an input is refused.
//! - One run per output at a time: an `flock` on `.NAME.whitelabel.lock`
//!   beside it (left in place: removing a lock file races its next user).
//! - Temporary names are unique per run (`O_EXCL`/`mkdir`), start with
//!   `.NAME.whitelabel-tmp-`, and the next run holding the lock collects
//!   those a killed run left.
//! - The swap is atomic: the new tree is complete before one
//!   `renameat2(RENAME_EXCHANGE)` puts it in place, and the old report is
//!   moved aside before it, so a crash leaves the old tree or the new one and
//!   never pairs a report with the other tree.

use std::ffi::OsString;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::display;
use crate::error::{Error, Result};
use crate::interrupt::{self, Made};

/// The file a render writes inside its output directory.
pub const MARKER: &str = ".whitelabel-render";
/// How the marker starts (the rest says what was rendered).
const MARKER_HEAD: &str = "whitelabel render output\n";
/// An earlier report is never larger than this.
const MAX_REPORT: u64 = 256 << 20;

/// The parent directory (`.` for a bare name) and the file name of `path`.
fn split(path: &Path) -> Result<(PathBuf, OsString)> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::usage(format!("{} names no file", display(path)), "name a file or directory"))?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_os_string()))
}

fn temp_prefix(name: &OsString) -> String {
    format!(".{}.whitelabel-tmp-", name.to_string_lossy())
}

/// The lock on one output, held until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the lock of `target`, waiting (and saying so) while another run
/// holds it.
pub fn lock(target: &Path) -> Result<Lock> {
    let (parent, name) = split(target)?;
    std::fs::create_dir_all(&parent).map_err(|e| Error::io("creating", &parent, e))?;
    let path = parent.join(format!(".{}.whitelabel.lock", name.to_string_lossy()));
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io("opening the lock", &path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!("note: another whitelabel run is writing {}; waiting for it to finish", display(target));
            file.lock().map_err(|e| Error::io("locking", &path, e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io("locking", &path, e)),
    }
    Ok(Lock { _file: file })
}

/// Removes the temporaries a killed run left for `target` (the caller holds
/// its lock, so no live run owns them).
fn collect_stale(target: &Path) -> Result<()> {
    let (parent, name) = split(target)?;
    let prefix = temp_prefix(&name);
    let Ok(entries) = std::fs::read_dir(&parent) else { return Ok(()) };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let p = e.path();
        let gone = match e.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&p),
            _ => std::fs::remove_file(&p),
        };
        gone.map_err(|e| Error::io("removing a stale temporary", &p, e))?;
    }
    Ok(())
}

/// Writes `path` whole, under its lock: a unique temporary beside it
/// (created with `O_EXCL`), renamed over it. A user's `FILE.tmp` is never
/// touched.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.is_dir() {
        return Err(Error::usage(format!("{} is a directory", display(path)), "name a file to write"));
    }
    let _lock = lock(path)?;
    collect_stale(path)?;
    let tmp = temp_file(path, bytes)?;
    let _swap = interrupt::critical();
    tmp.0.persist(path).map_err(|e| Error::io("moving into place", path, e.error))?;
    Ok(())
}

/// A complete temporary of `target`'s contents, registered for removal on
/// Ctrl-C.
fn temp_file(target: &Path, bytes: &[u8]) -> Result<(tempfile::NamedTempFile, Made)> {
    let (parent, name) = split(target)?;
    let _c = interrupt::critical();
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&name))
        .tempfile_in(&parent)
        .map_err(|e| Error::io("creating a temporary in", &parent, e))?;
    let made = Made::new(tmp.path());
    tmp.write_all(bytes).map_err(|e| Error::io("writing", tmp.path(), e))?;
    Ok((tmp, made))
}

/// Whether `dir` may be replaced: absent, empty, or an earlier render.
fn replaceable_dir(dir: &Path) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::usage(
            format!("{} {why}; whitelabel replaces only an empty directory or its own earlier output", display(dir)),
            "pass --out with a new or empty directory",
        ))
    };
    let meta = match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("reading", dir, e)),
        Ok(m) => m,
    };
    if !meta.is_dir() {
        return refuse("exists and is not a directory");
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io("reading", dir, e))?;
    if entries.next().is_none() {
        return Ok(());
    }
    let marker = dir.join(MARKER);
    let ours = std::fs::symlink_metadata(&marker).is_ok_and(|m| m.is_file())
        && std::fs::read(&marker).is_ok_and(|b| b.starts_with(MARKER_HEAD.as_bytes()));
    if ours { Ok(()) } else { refuse(&format!("is not empty and holds no {MARKER} marker")) }
}

/// Whether `path` may be overwritten: absent, or an earlier report.
fn replaceable_report(path: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("reading", path, e)),
        Ok(m) => m,
    };
    let ours = meta.is_file()
        && meta.len() <= MAX_REPORT
        && std::fs::read(path).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()).is_some_and(
            |v| {
                v["tool"].as_str().is_some_and(|t| t.starts_with("whitelabel "))
                    && v.get("patchset").is_some()
                    && v.get("totals").is_some()
            },
        );
    if ours {
        return Ok(());
    }
    Err(Error::usage(
        format!("{} exists and is not an earlier whitelabel report", display(path)),
        "pass --report with a new file name (or remove the file yourself)",
    ))
}

/// `path` made absolute with its symlinks resolved, also when it does not
/// exist yet (its parent is).
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match split(path) {
        Ok((parent, name)) => parent.canonicalize().unwrap_or(parent).join(name),
        Err(_) => path.to_path_buf(),
    }
}

fn overlaps(a: &Path, b: &Path) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// What a directory output is written from and to.
#[derive(Debug)]
pub struct DirOutput<'a> {
    pub out: &'a Path,
    pub report: Option<&'a Path>,
    /// Inputs the outputs must stay clear of (`--from-dir`).
    pub inputs: Vec<&'a Path>,
}

impl DirOutput<'_> {
    /// Refuses what must never be replaced; cheap, so run before the work
    /// and again under the lock.
    pub fn check(&self) -> Result<()> {
        let out = resolved(self.out);
        for input in &self.inputs {
            if overlaps(&out, &resolved(input)) {
                return Err(Error::usage(
                    format!("--out {} overlaps the input {}", display(self.out), display(input)),
                    "write the output outside the input tree, and the input outside the output",
                ));
            }
        }
        replaceable_dir(self.out)?;
        if let Some(report) = self.report {
            let r = resolved(report);
            if r.starts_with(&out) || self.inputs.iter().any(|i| r.starts_with(resolved(i))) {
                return Err(Error::usage(
                    format!("--report {} lies inside --out or an input", display(report)),
                    "write the report beside the output",
                ));
            }
            replaceable_report(report)?;
        }
        Ok(())
    }

    /// Writes the tree (`files`: relative path → bytes), the marker
    /// (`about`: what was rendered) and the report, then swaps them into
    /// place.
    pub fn replace<'f>(
        &self,
        about: &str,
        report: &[u8],
        files: impl IntoIterator<Item = (&'f String, &'f Vec<u8>)>,
    ) -> Result<()> {
        self.replace_with(about, report, |new| {
            for (rel, bytes) in files {
                // One file at a time under the guard: once a signal arrived,
                // nothing is written into what its handler removes.
                let _c = interrupt::critical();
                let full = new.join(rel);
                if let Some(dir) = full.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
                }
                std::fs::write(&full, bytes).map_err(|e| Error::io("writing", &full, e))?;
            }
            Ok(())
        })
    }

    /// As [`DirOutput::replace`], with `fill` writing the new tree into the
    /// (existing, empty) directory it is given.
    pub fn replace_with(&self, about: &str, report: &[u8], fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        let (parent, name) = split(self.out)?;
        let _lock = lock(self.out)?;
        collect_stale(self.out)?;
        if let Some(r) = self.report {
            collect_stale(r)?;
        }
        self.check()?;
        let (work, _made) = {
            let _c = interrupt::critical();
            let work = tempfile::Builder::new()
                .prefix(&temp_prefix(&name))
                .tempdir_in(&parent)
                .map_err(|e| Error::io("creating a temporary directory in", &parent, e))?;
            let made = Made::new(work.path());
            (work, made)
        };
        let new = work.path().join("new");
        std::fs::create_dir(&new).map_err(|e| Error::io("creating", &new, e))?;
        fill(&new)?;
        let marker = new.join(MARKER);
        std::fs::write(&marker, format!("{MARKER_HEAD}{about}\n")).map_err(|e| Error::io("writing", &marker, e))?;
        let report_tmp = match self.report {
            Some(r) => Some(temp_file(r, report)?),
            None => None,
        };

        let _swap = interrupt::critical();
        if let Some(r) = self.report
            && r.exists()
        {
            // Aside first: a crash from here on leaves no report rather
            // than the old report beside the new tree.
            let aside = work.path().join("old-report");
            std::fs::rename(r, &aside).map_err(|e| Error::io("moving aside", r, e))?;
        }
        if std::fs::symlink_metadata(self.out).is_ok() {
            exchange(&new, self.out, work.path())?;
        } else {
            std::fs::rename(&new, self.out).map_err(|e| Error::io("moving into place", self.out, e))?;
        }
        if let (Some(r), Some((tmp, _made))) = (self.report, report_tmp) {
            tmp.persist(r).map_err(|e| Error::io("moving into place", r, e.error))?;
        }
        Ok(())
    }
}

/// Puts `new` at `out` and the old `out` at `new`, atomically where the
/// filesystem can; otherwise the old one is renamed aside into `work` first.
fn exchange(new: &Path, out: &Path, work: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| Error::usage("a path holds NUL", ""));
    let (a, b) = (c(new)?, c(out)?);
    // SAFETY: two valid NUL-terminated paths; renameat2 reads them only.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if !matches!(err.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) {
        return Err(Error::io("swapping into place", out, err));
    }
    let old = work.join("old");
    std::fs::rename(out, &old).map_err(|e| Error::io("moving aside", out, e))?;
    std::fs::rename(new, out).map_err(|e| Error::io("moving into place", out, e))
}
