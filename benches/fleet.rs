//! Many-brands benchmark: 50 brands (the nexa mark, 50 names and primary
//! colors) built with `whitelabel build --all` on a base image of realistic
//! size (the generated app tree of `benches/common`, ~35 MB of bundles and
//! maps, imported with `--base-dir`), with a warm extraction cache. Prints
//! the total wall time, the render time of one brand alone, the daemon's own
//! time (the `load` steps), the ratio to the target
//!     total ≤ 50 × one brand's render + the daemon's time
//! and the peak memory of the `build --all` process. Needs a Docker daemon.
//!
//!     cargo bench --bench fleet
//!
//! `WHITELABEL_BENCH_BRANDS=N` changes the number of brands. Every image it
//! makes is removed at the end. Figures are printed, never asserted.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

mod common;
use common::generate;

const PATCHES: &str = "patches/chatwoot-v3.15.0";

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_whitelabel");
    let n: usize = std::env::var("WHITELABEL_BENCH_BRANDS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let tmp = tempfile::tempdir().unwrap();
    let (app, brands, cache) = (tmp.path().join("app"), tmp.path().join("brands"), tmp.path().join("cache"));
    let (bytes, _) = generate(repo, &app);
    println!("generated {:.1} MB of bundles and maps", bytes as f64 / 1e6);

    // 50 brands: same mark, different names and colors.
    let nexa = std::fs::read_to_string(repo.join("brands/nexa/brand.toml")).unwrap();
    for i in 0..n {
        let dir = brands.join(format!("b{i:02}"));
        for f in ["logo.svg", "logo_dark.svg", "mark.svg", "mail/base.liquid"] {
            std::fs::create_dir_all(dir.join(f).parent().unwrap()).unwrap();
            std::fs::copy(repo.join("brands/nexa").join(f), dir.join(f)).unwrap();
        }
        let color = format!("#{:02x}{:02x}{:02x}", 30 + (i * 37) % 90, 20 + (i * 53) % 80, 60 + (i * 29) % 100);
        let toml = nexa
            .replace("name = \"Nexa\"", &format!("name = \"Brand {i}\""))
            .replace("short_name = \"Nexa\"", &format!("short_name = \"B{i}\""))
            .replace("#4b2fd6", &color);
        std::fs::write(dir.join("brand.toml"), toml).unwrap();
    }
    let brands_dir = brands.to_str().unwrap();
    let run = |args: &[&str]| {
        let t = Instant::now();
        let o = Command::new(bin)
            .current_dir(repo)
            .env("WHITELABEL_CACHE_DIR", &cache)
            .env("WHITELABEL_STACKS", tmp.path().join("stacks"))
            .args(["--patches", PATCHES, "--brands-dir", brands_dir])
            .args(args)
            .output()
            .unwrap();
        let failed: Vec<String> = serde_json::from_slice::<Value>(&o.stdout)
            .ok()
            .and_then(|v| v["brands"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|b| b["ok"] == false)
            .map(|b| format!("{}: {}", b["brand"], b["error"]))
            .collect();
        assert!(o.status.success(), "{args:?}: {}{}", String::from_utf8_lossy(&o.stderr), failed.join("\n"));
        (t.elapsed().as_secs_f64(), serde_json::from_slice::<Value>(&o.stdout).unwrap_or(Value::Null))
    };

    // Warm the extraction cache (and import the base) with one brand.
    let (_, first) = run(&["build", "b00", "--base-dir", app.to_str().unwrap(), "--json"]);
    let base = first["base"].as_str().unwrap().to_string();
    // One brand's render, alone, as a separate process (what each brand costs).
    let out = tmp.path().join("one");
    let mut alone = Vec::new();
    for _ in 0..3 {
        let (t, _) = run(&["render", "b01", "--from-dir", app.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        alone.push(t);
    }
    alone.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let one = alone[1];
    let _ = Command::new("docker").args(["rmi", "-f", first["tags"][0].as_str().unwrap()]).output();

    let (total, doc) = run(&["build", "--all", "--base", &base, "--json"]);
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    };
    let list = doc["brands"].as_array().unwrap();
    let stage_sum = |name: &str| -> f64 {
        list.iter()
            .flat_map(|b| b["stages"].as_array().cloned().unwrap_or_default())
            .filter(|s| s["stage"] == name)
            .map(|s| s["seconds"].as_f64().unwrap())
            .sum()
    };
    let extracted = list.iter().filter(|b| b["cache_hit"] == false).count();
    let daemon = stage_sum("load") + stage_sum("tag");
    let target = n as f64 * one + daemon;
    println!("brands: {n}, results: {}, base extractions during build --all: {extracted}", list.len());
    println!("one brand's render alone (median of 3 processes): {one:.3}s");
    println!("build --all --jobs default: total {total:.2}s ({:.3}s per brand)", total / n as f64);
    println!(
        "  summed steps over brands: render {:.2}s, audit {:.2}s, layer {:.2}s, load {:.2}s, tag {:.2}s",
        stage_sum("render"),
        stage_sum("audit"),
        stage_sum("layer"),
        stage_sum("load"),
        stage_sum("tag")
    );
    println!(
        "target: total ≤ {n} × {one:.3}s + daemon {daemon:.2}s = {target:.2}s → {} ({:.2} of the budget)",
        if total <= target { "met" } else { "NOT met" },
        total / target
    );
    println!("peak RSS (largest process: build --all): {:.0} MB (target < 1024 MB)", peak_kib as f64 / 1024.0);
    for b in list {
        for t in b["tags"].as_array().into_iter().flatten() {
            let _ = Command::new("docker").args(["rmi", "-f", t.as_str().unwrap()]).output();
        }
    }
    let _ = Command::new("docker").args(["rmi", "-f", &base]).output();
}
