//! Shared helpers for the integration tests: paths, running the CLI, and
//! reading a rendered overlay.
#![allow(dead_code)]

pub mod docker;
pub mod locales;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The command that installs and starts everything the tests use (as
/// root); a test that lacks something names it.
pub const SETUP: &str = ".ci/services up";

/// "X is needed: run `.ci/services up` (as root), which installs …".
pub fn needs(what: &str) -> String {
    format!("{what} is needed for these tests: run `{SETUP}` as root, which installs and starts everything they use")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture() -> PathBuf {
    repo().join("tests/fixtures/chatwoot-v3.15.0")
}

pub fn nexa() -> PathBuf {
    repo().join("brands/nexa")
}

/// Runs the built `whitelabel` binary from the repository root.
pub fn whitelabel(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_whitelabel")).current_dir(repo()).args(args).output().expect("run whitelabel")
}

/// Runs `whitelabel render BRAND --from-dir TREE --out OUT EXTRA...`.
pub fn render_cmd(brand: &str, tree: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["render", brand, "--from-dir", tree.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    whitelabel(&args)
}

/// Renders `brand` over `tree` into a fresh temp dir; panics with the CLI's
/// stderr on failure. Returns (temp dir, overlay dir, report JSON).
pub fn render(brand: &Path, tree: &Path, extra: &[&str]) -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("overlay");
    let o = render_cmd(brand.to_str().unwrap(), tree, &out, extra);
    assert!(
        o.status.success(),
        "render failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let report = std::fs::read(tmp.path().join("overlay.report.json")).unwrap();
    (tmp, out, serde_json::from_slice(&report).unwrap())
}

/// Every file under `dir`, by `/`-separated relative path.
/// Every file under `dir` by relative path (a render's own marker left out).
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && !(e.depth() == 1 && e.file_name() == ".whitelabel-render"))
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

pub fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// `node --check` on a copy with the right extension: modules as .mjs,
/// classic scripts (the SDK) as .js. Node is required (CI installs it).
pub fn node_check(name: &str, src: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let module = !name.ends_with("sdk.js");
    let path = dir.path().join(if module { "x.mjs" } else { "x.js" });
    std::fs::write(&path, src).unwrap();
    let o =
        Command::new("node").arg("--check").arg(&path).output().unwrap_or_else(|e| panic!("{} ({e})", needs("node")));
    if o.status.success() { Ok(()) } else { Err(format!("{name}: {}", String::from_utf8_lossy(&o.stderr))) }
}

/// Makes a copy of the nexa pack with `brand.toml` edited by `edit`.
pub fn nexa_variant(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("variant");
    copy_dir(&nexa(), &dst);
    let toml = std::fs::read_to_string(dst.join("brand.toml")).unwrap();
    std::fs::write(dst.join("brand.toml"), edit(&toml)).unwrap();
    tmp
}

pub fn variant_dir(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("variant")
}

pub fn copy_dir(src: &Path, dst: &Path) {
    for e in walkdir::WalkDir::new(src) {
        let e = e.unwrap();
        let target = dst.join(e.path().strip_prefix(src).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Every string scalar of a YAML document, keys excluded.
pub fn yaml_strings(y: &yaml_rust2::Yaml, out: &mut Vec<String>) {
    match y {
        yaml_rust2::Yaml::String(s) => out.push(s.clone()),
        yaml_rust2::Yaml::Hash(h) => h.values().for_each(|v| yaml_strings(v, out)),
        yaml_rust2::Yaml::Array(a) => a.iter().for_each(|v| yaml_strings(v, out)),
        _ => {}
    }
}

/// What vue-i18n 9.14 displays for each message (tests/js/translate.cjs).
/// Installs it from the npm registry into tests/js/node_modules on first use.
pub fn vue_i18n_display(messages: &[String]) -> Vec<String> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    let js = repo().join("tests/js");
    INSTALL.call_once(|| {
        if !js.join("node_modules/@intlify/core-base").is_dir() {
            let o = Command::new("npm")
                .args(["install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&js)
                .output()
                .unwrap_or_else(|e| panic!("{} ({e})", needs("npm")));
            assert!(o.status.success(), "npm install in tests/js failed: {}", String::from_utf8_lossy(&o.stderr));
        }
    });
    let input: serde_json::Map<String, serde_json::Value> =
        messages.iter().enumerate().map(|(i, m)| (format!("m{i}"), m.clone().into())).collect();
    let o = Command::new("node")
        .arg(js.join("translate.cjs"))
        .arg(serde_json::Value::Object(input).to_string())
        .output()
        .unwrap_or_else(|e| panic!("{} ({e})", needs("node")));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    (0..messages.len()).map(|i| out[&format!("m{i}")].as_str().unwrap().to_string()).collect()
}

/// Where a render put the file that stands at `path` in the base: its new
/// name when cache-busting renamed it (its map and siblings follow it), else
/// `path` itself.
#[allow(dead_code)]
pub fn served_path(report: &serde_json::Value, path: &str) -> String {
    let renamed = report["cache_busting"]["renamed"].as_object();
    for (from, to) in renamed.into_iter().flatten() {
        if let (Some(rest), Some(to)) = (path.strip_prefix(from.as_str()), to.as_str())
            && ["", ".map", ".gz", ".br", ".map.gz", ".map.br"].contains(&rest)
        {
            return format!("{to}{rest}");
        }
    }
    path.to_string()
}
