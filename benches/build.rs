//! Build benchmark: imports a fixture base image of realistic size (~70 MB:
//! the generated app tree of `benches/common` with ~35 MB of bundles and
//! maps, untargeted filler under app/vendor, a static busybox as /bin/sh)
//! and times, as wall clock over separate runs of the release binary:
//!
//! - `whitelabel build`, cold cache: fresh WHITELABEL_CACHE_DIR, image removed;
//! - `whitelabel build`, warm base files: same cache dir, image and kept
//!   archive removed (the render runs: a changed or another brand);
//! - `whitelabel build`, warm cache: same cache dir, image removed (the
//!   archive kept by input hash is loaded: a pruned or fresh daemon);
//! - the no-op rebuild: image present, cache warm;
//! - `whitelabel build --builder dockerfile`, warm cache (for comparison);
//! - the floor: the daemon's classic builder on `FROM base` +
//!   `COPY overlay/ /app/`, the overlay from `whitelabel render` (untimed);
//! - the naive way: `RUN find /app/public -name '*.js' -exec sed -i …`;
//!
//! then prints the ratios against their targets (warm ≤ 1.5× the floor,
//! ≤ 0.4× the naive build, no-op < 0.3 s), the image and layer sizes, and
//! where whitelabel's time goes (the `stages` of `--json`). Needs a Docker
//! daemon (DOCKER_HOST, else /var/run/docker.sock; nothing is pulled) and
//! Debian's busybox-static (installed with apt-get when missing). Run:
//!
//!     cargo bench --bench build
//!
//! `WHITELABEL_BENCH_RUNS=N` sets the runs per measure (default 3; the
//! no-op gets at least 5). Every image and directory it creates is removed
//! at the end.
//!
//! Figures are printed, never asserted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use bollard::Docker;
use bollard::query_parameters::{BuildImageOptionsBuilder, CreateImageOptionsBuilder, RemoveImageOptionsBuilder};
use futures_util::StreamExt;
use serde_json::Value;

mod common;
use common::generate;

const BASE_REPO: &str = "whitelabel-bench/chatwoot";
const BASE_TAG: &str = "v3.15.0";
const REPOSITORY: &str = "whitelabel-bench/nexa";
const PATCHES: &str = "patches/chatwoot-v3.15.0";
/// Size of the whole base image: the app tree plus busybox.
const BASE_BYTES: u64 = 70_000_000;
const NAIVE: &str = "/bin/busybox find /app/public -name '*.js' -exec /bin/busybox sed -i 's/Chatwoot/Nexa/g' {} +";

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let runs = std::env::var("WHITELABEL_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3usize).max(1);
    let bench = Bench::connect();
    let tmp = tempfile::tempdir().unwrap();
    machine(&bench);

    // 1. The base rootfs: app tree, filler, busybox; imported as an image.
    let started = Instant::now();
    let rootfs = tmp.path().join("rootfs");
    let app = rootfs.join("app");
    let (bundles, occurrences) = generate(repo, &app);
    let busybox = busybox();
    let busybox_bytes = match &busybox {
        Some(b) => {
            std::fs::create_dir_all(rootfs.join("bin")).unwrap();
            std::fs::copy(b, rootfs.join("bin/busybox")).unwrap();
            std::os::unix::fs::symlink("busybox", rootfs.join("bin/sh")).unwrap();
            std::fs::metadata(b).unwrap().len()
        }
        None => 0,
    };
    let tree = dir_bytes(&app);
    let filler = filler(&app.join("vendor/bundle"), BASE_BYTES.saturating_sub(tree + busybox_bytes));
    println!(
        "base rootfs: app tree {:.1} MB ({:.1} MB bundles and maps, {occurrences} product-name occurrences; \
         {:.1} MB untargeted filler in app/vendor) + busybox {:.1} MB, written in {:.1}s",
        (tree + filler) as f64 / 1e6,
        bundles as f64 / 1e6,
        filler as f64 / 1e6,
        busybox_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    tar.append_dir_all("app", &app).unwrap();
    if busybox.is_some() {
        tar.append_dir_all("bin", rootfs.join("bin")).unwrap();
    }
    let base = bench.import(tar.into_inner().unwrap());
    let base_size = bench.size(&base);
    println!(
        "base image: {BASE_REPO}:{BASE_TAG} = {} ({:.1} MB), imported in {:.1}s",
        short(&base),
        base_size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let base_ref = format!("{BASE_REPO}:{BASE_TAG}");

    // 2. whitelabel build: cold, warm, no-op, and the dockerfile builder.
    let wl = |cache: &Path, extra: &[&str]| whitelabel(repo, cache, &base_ref, extra);
    let mut produced = Vec::new();
    let mut cold = Vec::new();
    let mut cold_docs = Vec::new();
    let cache_dir = |run: usize| tmp.path().join(format!("cache-cold{run}"));
    for run in 0..runs {
        bench.remove_all(&produced);
        let (wall, doc) = wl(&cache_dir(run), &[]);
        check(&doc, Value::Null, Some(false), "cold");
        bench.produced(&mut produced, &doc);
        cold.push(wall);
        cold_docs.push(doc);
    }
    // The warm runs reuse the last cold run's cache. First with the base
    // files cached but no image kept (a changed brand, another brand): the
    // render runs; then with the assembled image kept by input hash (a
    // pruned or fresh daemon): one load.
    let cache = cache_dir(runs - 1);
    let mut rendered = Vec::new();
    let mut rendered_docs = Vec::new();
    for _ in 0..runs {
        bench.remove_all(&produced);
        let _ = std::fs::remove_dir_all(cache.join("images"));
        let (wall, doc) = wl(&cache, &[]);
        check(&doc, Value::Null, Some(true), "warm, render");
        assert_eq!(doc["reused_image"], false);
        bench.produced(&mut produced, &doc);
        rendered.push(wall);
        rendered_docs.push(doc);
    }
    let mut warm = Vec::new();
    let mut warm_docs = Vec::new();
    for _ in 0..runs {
        bench.remove_all(&produced);
        let (wall, doc) = wl(&cache, &[]);
        check(&doc, Value::Null, None, "warm");
        assert_eq!(doc["reused_image"], true, "warm run: the kept image was not reused: {doc}");
        bench.produced(&mut produced, &doc);
        warm.push(wall);
        warm_docs.push(doc);
    }
    let layer_bytes = warm_docs[0]["layer_bytes"].as_u64().unwrap_or(0);
    let wl_image_size = bench.size(warm_docs[0]["image_id"].as_str().unwrap());
    let mut noop = Vec::new();
    let mut noop_docs = Vec::new();
    for _ in 0..runs.max(5) {
        let (wall, doc) = wl(&cache, &[]);
        check(&doc, "local".into(), None, "no-op");
        noop.push(wall);
        noop_docs.push(doc);
    }
    let mut dockerfile = Vec::new();
    for _ in 0..runs {
        bench.remove_all(&produced);
        let (wall, doc) = wl(&cache, &["--builder", "dockerfile"]);
        check(&doc, Value::Null, Some(true), "warm --builder dockerfile");
        bench.produced(&mut produced, &doc);
        dockerfile.push(wall);
    }
    bench.remove_all(&produced);

    // 3. The floor: the classic builder copying the rendered overlay.
    let overlay = tmp.path().join("overlay");
    let o = Command::new(env!("CARGO_BIN_EXE_whitelabel"))
        .current_dir(repo)
        .args(["--patches", PATCHES, "render", "nexa", "--from-dir"])
        .arg(&app)
        .arg("--out")
        .arg(&overlay)
        .output()
        .unwrap();
    assert!(o.status.success(), "whitelabel render failed: {}", String::from_utf8_lossy(&o.stderr));
    let overlay_bytes = dir_bytes(&overlay);
    let mut floor = Vec::new();
    let mut floor_size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let mut ctx = tar::Builder::new(Vec::new());
        append_file(&mut ctx, "Dockerfile", format!("FROM {base_ref}\nCOPY overlay/ /app/\n").as_bytes());
        ctx.append_dir_all("overlay", &overlay).unwrap();
        let id = bench.build(ctx.into_inner().unwrap());
        floor.push(t.elapsed().as_secs_f64());
        floor_size = bench.size(&id);
        bench.remove(&id);
    }

    // 4. The naive way: sed over every bundle in a RUN step.
    let mut naive = Vec::new();
    let mut naive_size = 0;
    if busybox.is_some() {
        for _ in 0..runs {
            let t = Instant::now();
            let mut ctx = tar::Builder::new(Vec::new());
            append_file(&mut ctx, "Dockerfile", format!("FROM {base_ref}\nRUN {NAIVE}\n").as_bytes());
            let id = bench.build(ctx.into_inner().unwrap());
            naive.push(t.elapsed().as_secs_f64());
            naive_size = bench.size(&id);
            bench.remove(&id);
        }
    }

    // 5. The figures.
    println!();
    println!("{:<52} {:>4} {:>9} {:>9}", "measure (wall clock)", "runs", "min", "median");
    let row = |name: &str, walls: &[f64]| {
        if walls.is_empty() {
            println!("{name:<52} {:>4} {:>9} {:>9}", 0, "skipped", "-");
        } else {
            println!("{name:<52} {:>4} {:>8.3}s {:>8.3}s", walls.len(), min(walls), median(walls));
        }
    };
    row("whitelabel build, cold cache", &cold);
    row("whitelabel build, warm base files, render", &rendered);
    row("whitelabel build, warm cache (image kept)", &warm);
    row("whitelabel build, no-op (image present)", &noop);
    row("whitelabel build --builder dockerfile, warm cache", &dockerfile);
    row("floor: docker build FROM base + COPY overlay/", &floor);
    row("naive: docker build RUN find … sed -i", &naive);
    println!();
    println!(
        "sizes: base image {:.1} MB; whitelabel layer {:.2} MB (tar {:.2} MB); overlay {:.2} MB; \
         floor layer {:.2} MB; naive layer {}",
        base_size as f64 / 1e6,
        (wl_image_size - base_size) as f64 / 1e6,
        layer_bytes as f64 / 1e6,
        overlay_bytes as f64 / 1e6,
        (floor_size - base_size) as f64 / 1e6,
        if naive.is_empty() { "-".to_string() } else { format!("{:.2} MB", (naive_size - base_size) as f64 / 1e6) },
    );
    println!();
    println!("ratios of medians:");
    let (warm_m, floor_m) = (median(&warm), median(&floor));
    target("warm build / floor", warm_m / floor_m, "×", "≤ 1.5×", warm_m / floor_m <= 1.5);
    if naive.is_empty() {
        println!("  {:<22} skipped: no static busybox for the naive build", "warm build / naive");
    } else {
        let r = warm_m / median(&naive);
        target("warm build / naive", r, "×", "≤ 0.4×", r <= 0.4);
    }
    target("no-op rebuild", median(&noop), "s", "< 0.3 s", median(&noop) < 0.3);
    let r = median(&rendered);
    println!("  {:<22} {:>6.2}×  (no target)", "render path / floor", r / floor_m);
    if !naive.is_empty() {
        println!("  {:<22} {:>6.2}×  (no target)", "render path / naive", r / median(&naive));
    }
    println!("  {:<22} {:>6.2}×  (no target)", "cold build / floor", median(&cold) / floor_m);
    println!();
    println!("whitelabel stages (median seconds per stage over the runs, from --json):");
    stages("cold", &cold_docs);
    stages("render", &rendered_docs);
    stages("warm", &warm_docs);
    stages("no-op", &noop_docs);
}

/// A whitelabel build as its own process; returns (wall seconds, its JSON).
fn whitelabel(repo: &Path, cache: &Path, base: &str, extra: &[&str]) -> (f64, Value) {
    let t = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_whitelabel"))
        .current_dir(repo)
        .env("WHITELABEL_CACHE_DIR", cache)
        .args(["--patches", PATCHES, "build", "nexa", "--base", base, "--repository", REPOSITORY, "--json"])
        .args(extra)
        .output()
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    assert!(
        o.status.success(),
        "whitelabel build failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (wall, serde_json::from_slice(&o.stdout).unwrap())
}

/// The run measured what its name says (not a timing check).
fn check(doc: &Value, up_to_date: Value, cache_hit: Option<bool>, what: &str) {
    assert_eq!(doc["up_to_date"], up_to_date, "{what} run: unexpected up_to_date in {doc}");
    if let Some(hit) = cache_hit {
        assert_eq!(doc["cache_hit"], hit, "{what} run: unexpected cache_hit in {doc}");
    }
}

fn stages(what: &str, docs: &[Value]) {
    let mut names: Vec<String> = Vec::new();
    let mut times: HashMap<String, Vec<f64>> = HashMap::new();
    for d in docs {
        for s in d["stages"].as_array().into_iter().flatten() {
            let name = s["stage"].as_str().unwrap_or("?").to_string();
            if !names.contains(&name) {
                names.push(name.clone());
            }
            times.entry(name).or_default().push(s["seconds"].as_f64().unwrap_or(0.0));
        }
    }
    let parts: Vec<String> = names.iter().map(|n| format!("{n} {:.3}", median(&times[n]))).collect();
    let totals: Vec<f64> = docs.iter().filter_map(|d| d["seconds"].as_f64()).collect();
    println!("  {what:<6} {}  | in-process total {:.3}s", parts.join(", "), median(&totals));
}

fn target(name: &str, value: f64, unit: &str, goal: &str, met: bool) {
    println!("  {name:<22} {value:>6.2}{unit:<2} (target {goal}): {}", if met { "met" } else { "NOT met" });
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(19)]
}

fn append_file(tar: &mut tar::Builder<Vec<u8>>, path: &str, bytes: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, path, bytes).unwrap();
}

fn dir_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

/// Writes `bytes` of pseudo-random (incompressible) data in 512 KiB files,
/// as native gem extensions would; no patch set rule targets them.
fn filler(dir: &Path, bytes: u64) -> u64 {
    const FILE: u64 = 512 * 1024;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut written = 0;
    let mut i = 0;
    while written < bytes {
        let n = (bytes - written).min(FILE) as usize;
        let mut buf = Vec::with_capacity(n + 8);
        while buf.len() < n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            buf.extend_from_slice(&state.to_le_bytes());
        }
        buf.truncate(n);
        let gem = dir.join(format!("ruby/3.3.0/gems/native-{:02}/lib", i / 8));
        std::fs::create_dir_all(&gem).unwrap();
        std::fs::write(gem.join(format!("ext{i:03}.so")), &buf).unwrap();
        written += n as u64;
        i += 1;
    }
    written
}

/// Debian's static busybox, installed when missing; None (with a message)
/// when it cannot be had: the naive build needs a shell in the base.
fn busybox() -> Option<PathBuf> {
    let path = PathBuf::from("/bin/busybox");
    if !is_static(&path) {
        println!("no static busybox at /bin/busybox: running `apt-get install -y busybox-static`");
        let ok = Command::new("apt-get")
            .args(["install", "-y", "busybox-static"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok || !is_static(&path) {
            println!(
                "could not install busybox-static (run `apt-get install -y busybox-static` as root); \
                 the naive build is skipped"
            );
            return None;
        }
    }
    Some(path)
}

/// An ELF file without a PT_INTERP program header (no dynamic loader).
fn is_static(path: &Path) -> bool {
    let Ok(elf) = std::fs::read(path) else { return false };
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        elf.get(o..o + 4).is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) != 3)
    })
}

fn machine(bench: &Bench) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap().trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let info = bench.rt.block_on(bench.docker.info()).ok();
    let info = info.as_ref();
    println!(
        "machine: {cores} cores ({cpu}), {:.1} GB; Docker {} ({} storage)",
        info.and_then(|i| i.mem_total).unwrap_or(0) as f64 / 1e9,
        info.and_then(|i| i.server_version.clone()).unwrap_or_default(),
        info.and_then(|i| i.driver.clone()).unwrap_or_default()
    );
}

/// The daemon, and the images this run made (removed on drop, also after a panic).
struct Bench {
    rt: tokio::runtime::Runtime,
    docker: Docker,
    made: std::cell::RefCell<Vec<String>>,
}

impl Bench {
    fn connect() -> Bench {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let docker =
            Docker::connect_with_local_defaults().expect("a Docker daemon (DOCKER_HOST or /var/run/docker.sock)");
        rt.block_on(docker.ping()).expect("the Docker daemon answers");
        Bench { rt, docker, made: Default::default() }
    }

    /// `docker import -` of a rootfs tar, tagged; returns the image ID.
    fn import(&self, tar: Vec<u8>) -> String {
        let opts = CreateImageOptionsBuilder::default().from_src("-").repo(BASE_REPO).tag(BASE_TAG).build();
        self.rt.block_on(async {
            let mut stream = self.docker.create_image(Some(opts), Some(bollard::body_full(tar.into())), None);
            while let Some(item) = stream.next().await {
                item.expect("importing the base rootfs");
            }
        });
        let id = self.rt.block_on(self.docker.inspect_image(&format!("{BASE_REPO}:{BASE_TAG}"))).unwrap().id.unwrap();
        self.made.borrow_mut().push(id.clone());
        id
    }

    /// A classic-builder build of `context` (no cache, no network); returns the image ID.
    fn build(&self, context: Vec<u8>) -> String {
        let opts = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .nocache(true)
            .rm(true)
            .forcerm(true)
            .networkmode("none")
            .build();
        let id = self.rt.block_on(async {
            let mut stream = self.docker.build_image(opts, None, Some(bollard::body_full(context.into())));
            let mut id = None;
            while let Some(item) = stream.next().await {
                let info = item.expect("docker build");
                if let Some(aux) = info.aux.and_then(|a| a.id) {
                    id = Some(aux);
                }
            }
            id.expect("the build reported an image ID")
        });
        self.made.borrow_mut().push(id.clone());
        id
    }

    fn size(&self, id: &str) -> i64 {
        self.rt.block_on(self.docker.inspect_image(id)).unwrap().size.unwrap_or(0)
    }

    /// Records the image a whitelabel build made.
    fn produced(&self, produced: &mut Vec<String>, doc: &Value) {
        let id = doc["image_id"].as_str().expect("image_id").to_string();
        if !produced.contains(&id) {
            produced.push(id.clone());
            self.made.borrow_mut().push(id);
        }
    }

    fn remove_all(&self, ids: &[String]) {
        for id in ids {
            self.remove(id);
        }
    }

    /// `docker rmi -f`; an image already gone is fine.
    fn remove(&self, id: &str) {
        let opts = RemoveImageOptionsBuilder::default().force(true).build();
        match self.rt.block_on(self.docker.remove_image(id, Some(opts), None)) {
            Ok(_) | Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {}
            Err(e) => eprintln!("warning: could not remove image {id}: {e}"),
        }
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        // Newest first: the branded images before the base they sit on.
        let made = std::mem::take(&mut *self.made.borrow_mut());
        for id in made.iter().rev() {
            self.remove(id);
        }
    }
}
