//! `whitelabel build --all` over several brands on one fixture base, pushed
//! to the test registry: the base is extracted once, the brands build side
//! by side, and a broken one fails alone.

mod common;

use common::docker::*;
use common::*;
use serde_json::Value;

const PATCHES: &str = "patches/chatwoot-v3.15.0";

/// A brands dir with nexa, `acme` (another name, domain and color) and
/// `broken` (no product name).
fn three_brands() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&nexa(), &dir.path().join("nexa"));
    copy_dir(&nexa(), &dir.path().join("acme"));
    let acme = dir.path().join("acme/brand.toml");
    let t = std::fs::read_to_string(&acme)
        .unwrap()
        .replace("name = \"Nexa\"", "name = \"Acme Help\"")
        .replace("short_name = \"Nexa\"", "short_name = \"Acme\"")
        .replace("#4b2fd6", "#0b7a3e");
    std::fs::write(&acme, t).unwrap();
    copy_dir(&nexa(), &dir.path().join("broken"));
    let broken = dir.path().join("broken/brand.toml");
    let t = std::fs::read_to_string(&broken).unwrap().replace("\nname = \"Nexa\"\n", "\n");
    std::fs::write(&broken, t).unwrap();
    dir
}

#[test]
fn build_all_builds_and_pushes_the_good_brands_and_reports_the_bad_one() {
    let (addr, user, password) = registry();
    let (base, base_id) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    let brands = three_brands();
    let repository = format!("{addr}/whitelabel-test/many-{}", std::process::id());
    let creds = [("WHITELABEL_REGISTRY_USER", user.as_str()), ("WHITELABEL_REGISTRY_PASSWORD", password.as_str())];
    let args = [
        "--patches",
        PATCHES,
        "--brands-dir",
        brands.path().to_str().unwrap(),
        "build",
        "--all",
        "--jobs",
        "2",
        "--base",
        &base,
        "--repository",
        &repository,
        "--push",
        "--json",
    ];
    let o = wl(&args, cache.path(), &creds);
    assert_eq!(o.status.code(), Some(1), "one brand failed: {}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let list = v["brands"].as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|b| b["brand"].as_str().unwrap()).collect();
    assert_eq!(names, ["acme", "broken", "nexa"]);

    let broken = &list[1];
    assert_eq!(broken["ok"], false);
    let why = broken["error"].as_str().unwrap();
    assert!(why.contains("brand.toml") && why.contains("brand.name"), "a clear reason: {why}");

    let mut tags = Vec::new();
    for b in [&list[0], &list[2]] {
        assert_eq!(b["ok"], true, "{b}");
        assert_eq!(b["cache_hit"], true, "every brand read the base files from the cache: {b}");
        assert_eq!(b["base_id"], base_id.as_str());
        let pushed = b["pushed"].as_str().unwrap();
        let tag = b["tags"][0].as_str().unwrap();
        let path = repository.split_once('/').unwrap().1;
        let digest = pushed.split_once('@').unwrap().1;
        assert_eq!(registry_digest(path, tag.rsplit_once(':').unwrap().1).as_deref(), Some(digest));
        // Each pushed digest is recorded where `stack` reads it.
        let file = cache.path().join(format!("stacks/{}.digest", b["brand"].as_str().unwrap()));
        assert_eq!(std::fs::read_to_string(file).unwrap(), format!("{pushed}\n"));
        tags.push(tag.to_string());
    }
    assert_ne!(list[0]["image_id"], list[2]["image_id"], "two brands, two images");

    // The base was extracted once: one cache entry for it, for all brands.
    let entries: Vec<_> =
        std::fs::read_dir(cache.path().join("bases")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");

    // The table for people.
    let o = wl(&args[..args.len() - 1], cache.path(), &creds);
    assert_eq!(o.status.code(), Some(1));
    let table = text(&o.stdout);
    let line = |b: &str| table.lines().find(|l| l.starts_with(b)).unwrap_or_else(|| panic!("{table}"));
    assert!(line("broken").contains("FAILED"), "{table}");
    assert!(line("nexa").contains("up to date"), "second run: {table}");
    assert!(table.contains("2 of 3 brands ok"), "{table}");
    for t in tags {
        let _ = std::process::Command::new("docker").args(["rmi", "-f", &t]).output();
    }
}

#[test]
fn several_brands_refuse_single_image_flags() {
    let o = whitelabel(&["build", "nexa", "nexa", "--tag", "x"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--tag") && err.contains("fix:"), "{err}");
}
