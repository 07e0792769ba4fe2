//! Render benchmark: generates an app tree of realistic size (~35 MB of
//! bundles and maps, ~1,000 product-name occurrences over 50 locales, the
//! fixture's other files) and times `whitelabel render` on it as a separate
//! process, printing wall time and peak memory. Run:
//!
//!     cargo bench --bench render
//!
//! `WHITELABEL_BENCH_APP=DIR` keeps the generated tree in DIR for profiling.
//!
//! Figures are printed, never asserted.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod common;
use common::generate;

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    // WHITELABEL_BENCH_APP=DIR generates the tree there and keeps it (for profiling).
    let app = std::env::var_os("WHITELABEL_BENCH_APP").map(std::path::PathBuf::from).unwrap_or(tmp.path().join("app"));
    let started = Instant::now();
    let (bytes, occurrences) = generate(repo, &app);
    println!(
        "generated {:.1} MB of bundles and maps with {occurrences} product-name occurrences in {:.1}s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let bin = env!("CARGO_BIN_EXE_whitelabel");
    let mut walls = Vec::new();
    for run in 0..5 {
        let out = tmp.path().join(format!("out{run}"));
        let t = Instant::now();
        let o = Command::new(bin)
            .current_dir(repo)
            .args(["render", "nexa", "--from-dir", app.to_str().unwrap(), "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        walls.push(t.elapsed().as_secs_f64());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        if run == 0 {
            print!("{}", String::from_utf8_lossy(&o.stdout));
        }
    }
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    };
    walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "render: min {:.3}s  median {:.3}s  max {:.3}s  over {} runs; peak RSS {:.0} MB",
        walls[0],
        walls[walls.len() / 2],
        walls[walls.len() - 1],
        walls.len(),
        peak_kib as f64 / 1024.0
    );
}
