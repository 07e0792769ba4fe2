//! Audit benchmark: on the render bench's generated tree (~35 MB of bundles
//! and maps), times `whitelabel audit` as a separate process on
//! - the stock tree (no reference: it lists everything), and
//! - the branded tree (the tree with nexa's overlay on top) against the
//!   stock one, as `build` and an image audit run it (it must be clean).
//!
//!     cargo bench --bench audit
//!
//! Figures are printed, never asserted.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod common;
use common::generate;

fn copy_tree(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.unwrap();
        let to = dst.join(e.path().strip_prefix(src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let (stock, overlay, branded) = (tmp.path().join("app"), tmp.path().join("overlay"), tmp.path().join("branded"));
    let (bytes, occurrences) = generate(repo, &stock);
    println!("generated {:.1} MB of bundles and maps, {occurrences} product-name occurrences", bytes as f64 / 1e6);
    let bin = env!("CARGO_BIN_EXE_whitelabel");
    let run = |args: &[&str]| Command::new(bin).current_dir(repo).args(args).output().unwrap();
    let o = run(&["render", "nexa", "--from-dir", stock.to_str().unwrap(), "--out", overlay.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    copy_tree(&stock, &branded);
    copy_tree(&overlay, &branded);

    let cases: [(&str, Vec<&str>, i32); 2] = [
        ("stock tree, no reference", vec!["audit", stock.to_str().unwrap(), "--json"], 1),
        (
            "branded tree against the stock one",
            vec!["audit", branded.to_str().unwrap(), "--base", stock.to_str().unwrap(), "--brand", "nexa", "--json"],
            0,
        ),
    ];
    for (name, args, code) in cases {
        let mut walls = Vec::new();
        let mut last = serde_json::Value::Null;
        for _ in 0..5 {
            let t = Instant::now();
            let o = run(&args);
            walls.push(t.elapsed().as_secs_f64());
            assert_eq!(o.status.code(), Some(code), "{}", String::from_utf8_lossy(&o.stderr));
            last = serde_json::from_slice(&o.stdout).unwrap();
        }
        walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "audit, {name}: min {:.3}s  median {:.3}s  max {:.3}s over {} runs; {} files, {:.1} MB read, {} findings",
            walls[0],
            walls[walls.len() / 2],
            walls[walls.len() - 1],
            walls.len(),
            last["files"],
            last["bytes"].as_f64().unwrap_or(0.0) / 1e6,
            last["findings"].as_array().map_or(0, Vec::len),
        );
    }
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    };
    println!("peak RSS of any run (render included): {:.0} MB", peak_kib as f64 / 1024.0);
}
