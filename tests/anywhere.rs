//! whitelabel as a user who ran `cargo install` has it: the installed binary,
//! run in a scratch directory that holds only `brands/` (a copy of nexa and
//! a staging folder an interrupted `new` left), with no checkout, no
//! `patches/` and no `WHITELABEL_PATCHES`. Every command works there; the
//! patch set is the built-in one.
//!
//! The binary is a real `cargo install --path . --debug --locked --offline`
//! into a scratch root, sharing this checkout's target directory so it links
//! what `cargo test` already compiled instead of compiling it all again.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::docker::{docker, ok};
use common::*;
use serde_json::Value;

/// `cargo install` into `root`; returns the installed binary.
fn install(root: &Path) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
    let started = std::time::Instant::now();
    let o = Command::new(cargo)
        .args(["install", "--path"])
        .arg(repo())
        .arg("--root")
        .arg(root)
        .args(["--debug", "--locked", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("running cargo install");
    assert!(o.status.success(), "cargo install failed:\n{}", String::from_utf8_lossy(&o.stderr));
    eprintln!("cargo install --path . --debug: {:.1} s", started.elapsed().as_secs_f64());
    let bin = root.join("bin/whitelabel");
    assert!(bin.is_file(), "{} was not installed", bin.display());
    bin
}

/// Runs the installed binary in `dir`, with nothing from this checkout.
fn run(bin: &Path, dir: &Path, cache: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(bin);
    c.current_dir(dir).args(args).env("WHITELABEL_CACHE_DIR", cache);
    for k in ["WHITELABEL_PATCHES", "WHITELABEL_BRANDS", "WHITELABEL_STACKS", "WHITELABEL_REGISTRY_USER"] {
        c.env_remove(k);
    }
    c.output().unwrap()
}

fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn audit(bin: &Path, dir: &Path, cache: &Path, tree: &Path) -> (i32, Value) {
    let o = run(bin, dir, cache, &["audit", tree.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out(&o)));
    (o.status.code().unwrap(), v)
}

fn stock_findings(v: &Value) -> Vec<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["category"] == "stock-asset")
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["excerpt"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn the_installed_tool_works_in_a_directory_with_only_brands() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = install(&tmp.path().join("root"));
    let work = tmp.path().join("work");
    let cache = tmp.path().join("cache");
    copy_dir(&nexa(), &work.join("brands/nexa"));
    // What an interrupted `whitelabel new nexa2` leaves: never a brand.
    copy_dir(&nexa(), &work.join("brands/.nexa2.new-12345"));
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 1, "only brands/ is here");
    let fixture_copy = tmp.path().join("stock-app");
    copy_dir(&fixture(), &fixture_copy);

    // The patch sets are in the binary.
    let sets = ok(&run(&bin, &work, &cache, &["patchsets", "--json"]));
    assert_eq!(sets["source"], "built-in");
    assert_eq!(sets["patchsets"][0]["name"], "chatwoot-v3.15.0");
    assert_eq!(sets["patchsets"][0]["source"], "built-in");
    assert!(sets["patchsets"][0]["revision"].as_str().unwrap().starts_with("7d9800d"));
    let from_dir =
        ok(&run(&bin, &work, &cache, &["--patches", repo().join("patches").to_str().unwrap(), "patchsets", "--json"]));
    assert_eq!(
        sets["patchsets"][0]["digest"], from_dir["patchsets"][0]["digest"],
        "the built-in set is the checkout's"
    );
    let o = run(&bin, &work, &cache, &["--patches", repo().join("patches").to_str().unwrap(), "patchsets"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not the built-in ones"), "the override is said: {}", out(&o));

    let o = run(&bin, &work, &cache, &["check", "nexa"]);
    assert!(o.status.success(), "check: {}", out(&o));

    let list = ok(&run(&bin, &work, &cache, &["list", "--json"]));
    let names: Vec<&str> = list["brands"].as_array().unwrap().iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(names, ["nexa"], "{list:#}");

    // render, then the branded tree (stock tree + overlay) audited with no base.
    let overlay = tmp.path().join("overlay");
    let o = run(
        &bin,
        &work,
        &cache,
        &["render", "nexa", "--from-dir", fixture_copy.to_str().unwrap(), "--out", overlay.to_str().unwrap()],
    );
    assert!(o.status.success(), "render: {}", out(&o));
    let branded = tmp.path().join("branded-app");
    copy_dir(&fixture_copy, &branded);
    copy_dir(&overlay, &branded);
    let (code, v) = audit(&bin, &work, &cache, &branded);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (0, 0), "a branded tree with no base is clean: {v:#}");
    let (code, v) = audit(&bin, &work, &cache, &fixture_copy);
    assert_eq!(code, 1, "the stock tree is not clean");
    assert!(v["counts"]["product-name"].as_u64().unwrap() > 10, "{v:#}");

    // Real upstream files (../shared holds the v3.15.0 brand SVGs), at their
    // own path and under another name, are stock in a tree with no base.
    let shared = repo().join("../shared/chatwoot-v3.15.0/public/brand-assets");
    if shared.is_dir() {
        std::fs::copy(shared.join("logo.svg"), branded.join("public/brand-assets/logo.svg")).unwrap();
        std::fs::copy(shared.join("logo_dark.svg"), branded.join("public/img-7f3a.svg")).unwrap();
        let (code, v) = audit(&bin, &work, &cache, &branded);
        assert_eq!(code, 1);
        let found = stock_findings(&v);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|(p, e)| p == "public/brand-assets/logo.svg" && e.starts_with("the upstream file")));
        assert!(
            found
                .iter()
                .any(|(p, e)| p == "public/img-7f3a.svg" && e.contains("upstream public/brand-assets/logo_dark.svg")),
            "{found:?}"
        );
    } else {
        assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/chatwoot-v3.15.0 beside the checkout");
    }

    // build and bake --all through the Docker daemon (fails without one).
    let _ = docker();
    let repository = format!("whitelabel-test/anywhere-{}", std::process::id());
    let built = ok(&run(
        &bin,
        &work,
        &cache,
        // --no-cache: a real build and its audit, even when an earlier run left the image.
        &[
            "build",
            "nexa",
            "--base-dir",
            fixture_copy.to_str().unwrap(),
            "--repository",
            &repository,
            "--no-cache",
            "--json",
        ],
    ));
    assert_eq!(built["audit"]["clean"], true, "{built:#}");
    assert_eq!(built["patchset_source"], "built-in");
    let tag = built["tags"][0].as_str().unwrap().to_string();
    let o = run(&bin, &work, &cache, &["audit", &tag, "--json"]);
    assert_eq!(o.status.code(), Some(0), "the built image audits clean: {}", out(&o));

    let o = run(
        &bin,
        &work,
        &cache,
        &[
            "bake",
            "--all",
            "--base-dir",
            fixture_copy.to_str().unwrap(),
            "--repository",
            &repository,
            "-o",
            "docker-bake.json",
        ],
    );
    assert!(o.status.success(), "bake --all: {}", out(&o));
    let bake: Value = serde_json::from_slice(&std::fs::read(work.join("docker-bake.json")).unwrap()).unwrap();
    let targets: Vec<&String> = bake["target"].as_object().unwrap().keys().collect();
    assert_eq!(targets, ["nexa"], "the staging folder is not a brand: {bake:#}");
    let contexts: Vec<String> = std::fs::read_dir(work.join("contexts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // `.nexa.whitelabel.lock` is the lock of that output, kept on purpose.
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(contexts, ["nexa"]);
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
}
