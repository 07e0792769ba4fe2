//! `whitelabel bake`: a bake file with one target per brand and the rendered
//! contexts beside it; each context builds with the plain daemon too.

mod common;

use std::collections::BTreeSet;

use common::docker::*;
use common::*;
use serde_json::Value;

#[test]
fn bake_writes_one_target_per_brand_and_contexts_that_build() {
    let (base, _) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    let brands = tempfile::tempdir().unwrap();
    copy_dir(&nexa(), &brands.path().join("nexa"));
    copy_dir(&nexa(), &brands.path().join("acme"));
    let acme = brands.path().join("acme/brand.toml");
    let t = std::fs::read_to_string(&acme).unwrap().replace("name = \"Nexa\"", "name = \"Acme\"");
    std::fs::write(&acme, t).unwrap();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("docker-bake.json");
    let repository = format!("whitelabel-test/bake-{}", std::process::id());
    let brands_dir = brands.path().to_str().unwrap();
    let args = [
        "--patches",
        "patches/chatwoot-v3.15.0",
        "--brands-dir",
        brands_dir,
        "bake",
        "--all",
        "--base",
        &base,
        "--repository",
        &repository,
        "-o",
        file.to_str().unwrap(),
        "--json",
    ];
    let v = ok(&wl(&args, cache.path(), &[]));
    assert_eq!(v["targets"], 2);

    // The bake file: `group.default` lists every target; each target has only
    // fields bake knows, with a context directory relative to the file.
    let bake: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let top: BTreeSet<&str> = bake.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, BTreeSet::from(["group", "target"]));
    assert_eq!(bake["group"]["default"]["targets"], serde_json::json!(["acme", "nexa"]));
    let known = BTreeSet::from(["context", "dockerfile", "tags", "labels", "platforms", "args", "target", "output"]);
    for (name, t) in bake["target"].as_object().unwrap() {
        for k in t.as_object().unwrap().keys() {
            assert!(known.contains(k.as_str()), "{name}: unknown bake field {k}");
        }
        assert_eq!(t["labels"]["io.whitelabel.brand"], name.as_str());
        assert_eq!(t["labels"]["io.whitelabel.audit"], "clean");
        assert_eq!(t["platforms"], serde_json::json!(["linux/amd64"]));
        let tag = t["tags"][0].as_str().unwrap();
        assert!(tag.starts_with(&format!("{repository}:v3.15.0-{name}-")), "{tag}");
        let ctx = out.path().join(t["context"].as_str().unwrap());
        assert!(ctx.join("Dockerfile").is_file() && ctx.join("overlay/public/manifest.json").is_file());

        // The plain daemon builds it (the classic builder, no BuildKit).
        let o = std::process::Command::new("docker").args(["build", "-q", "-t", tag]).arg(&ctx).output().unwrap();
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let labels = inspect(tag).unwrap().config.unwrap().labels.unwrap();
        assert_eq!(labels["io.whitelabel.brand"], name.as_str());
        let manifest = image_files(tag, "/app/public/manifest.json");
        let text = String::from_utf8_lossy(manifest.values().next().unwrap()).to_string();
        let want = if name == "acme" { "Acme" } else { "Nexa" };
        assert!(text.contains(&format!("\"name\": \"{want}\"")), "{name}: {text}");
        let _ = std::process::Command::new("docker").args(["rmi", "-f", tag]).output();
    }

    // A second bake replaces the contexts the first one wrote (its marker
    // inside them) ...
    let v = ok(&wl(&args, cache.path(), &[]));
    assert_eq!(v["targets"], 2);
    assert!(out.path().join("contexts/nexa/.whitelabel-render").is_file());
    // ... but never a directory it did not write: refused, left as it was.
    let theirs = out.path().join("contexts/acme");
    std::fs::remove_dir_all(&theirs).unwrap();
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("notes.txt"), "mine").unwrap();
    let o = wl(&args, cache.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(std::fs::read_to_string(theirs.join("notes.txt")).unwrap(), "mine");
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 1, "nothing was added beside the user's file");
}
