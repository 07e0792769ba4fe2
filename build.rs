//! Compiles every file under `patches/` into the binary (see `src/patches.rs`),
//! so an installed whitelabel needs no checkout beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("patches");
    // A directory here makes cargo rerun this script when anything under it
    // changes, is added or is removed.
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Every file under `patches/`: path relative to it, bytes.\npub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for path in &files {
        let rel = path.strip_prefix(&root).expect("under patches/").to_str().expect("UTF-8 path").replace('\\', "/");
        writeln!(out, "    ({rel:?}, include_bytes!({:?})),", path.to_str().expect("UTF-8 path")).unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("patches.rs");
    std::fs::write(dest, out).expect("writing patches.rs");
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        // Editor and staging files are not part of a patch set.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}
