//! `whitelabel audit` on directories (no daemon) and on images (the real
//! daemon), and the audit `build` runs on its own result.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;

use common::docker::*;
use common::*;
use serde_json::Value;

const PATCHES: &str = "patches/chatwoot-v3.15.0";

fn audit(target: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["--patches", PATCHES, "audit", target.to_str().unwrap()];
    args.extend_from_slice(extra);
    whitelabel(&args)
}

/// Runs a JSON audit; checks the exit code says what the findings say.
fn audit_json(target: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let o = audit(target, &args);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", text(&o.stdout), String::from_utf8_lossy(&o.stderr)));
    let clean = v["findings"].as_array().unwrap().is_empty();
    assert_eq!(o.status.code(), Some(if clean { 0 } else { 1 }), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(v["ok"], clean);
    v
}

/// (path, category) → findings.
fn by_place(v: &Value) -> BTreeMap<(String, String), Vec<Value>> {
    let mut m: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        let key = (f["path"].as_str().unwrap().to_string(), f["category"].as_str().unwrap().to_string());
        m.entry(key).or_default().push(f.clone());
    }
    m
}

fn count(v: &Value, path: &str, category: &str) -> usize {
    by_place(v).get(&(path.to_string(), category.to_string())).map_or(0, Vec::len)
}

/// The fixture with the nexa overlay on top: what the built image holds,
/// and the new name of every content-named file the overlay renamed.
fn branded_tree() -> (tempfile::TempDir, BTreeMap<String, String>) {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), &tmp.path().join("app"));
    let (_t, overlay, report) = render(&nexa(), &fixture(), &[]);
    copy_dir(&overlay, &tmp.path().join("app"));
    (tmp, serde_json::from_value(report["cache_busting"]["renamed"].clone()).unwrap())
}

#[test]
fn the_fixture_base_shows_every_planted_item_in_its_category() {
    // The fixture's icons and logos are made up, not the upstream bytes: it
    // is named as its own reference for them to be the stock ones (the next
    // test audits it with no base).
    let v = audit_json(&fixture(), &["--base", fixture().to_str().unwrap()]);
    assert!(v["reference"].as_str().unwrap().contains("chatwoot-v3.15.0"), "{}", v["reference"]);
    let has = |p: &str, c: &str| count(&v, p, c);
    let locales = "public/vite/assets/dashboard-locales-AbC123xy.js";

    // Product name in text: locales (en 10, pt_BR 4, fr 4 as planted), the
    // widget and survey POWERED_BY, the maps, Rails, manifests, config, mail, views.
    assert_eq!(has(locales, "product-name"), 18);
    for p in ["public/vite/assets/widget-XyZ98765.js", "public/vite/assets/survey-QwE45678.js"] {
        assert_eq!(has(p, "product-name"), 2, "{p}");
    }
    assert_eq!(has("public/vite/assets/dashboard-AbC123zz.js", "product-name"), 1, "brandName fallback only");
    for p in [
        "public/vite/assets/dashboard-locales-AbC123xy.js.map",
        "public/vite/assets/widget-XyZ98765.js.map",
        "config/locales/en.yml",
        "config/locales/pt_BR.yml",
        "public/manifest.json",
        "public/packs/manifest.json",
        "config/installation_config.yml",
        "app/mailers/application_mailer.rb",
        "app/views/devise/mailer/confirmation_instructions.html.erb",
        "app/views/super_admin/application/_navigation.html.erb",
        "app/views/installation/onboarding/index.html.erb",
        "app/views/layouts/vueapp.html.erb",
    ] {
        assert!(has(p, "product-name") > 0, "{p}: {:?}", by_place(&v).keys().filter(|k| k.0 == p).collect::<Vec<_>>());
    }
    let manifest: BTreeSet<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == "public/manifest.json" && f["category"] == "product-name")
        .map(|f| f["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(manifest, BTreeSet::from(["/name", "/short_name"]), "JSON paths of the manifest");

    // Every stock logo and icon, the packs copies, the layout, the inlined logo.
    let images: Vec<String> = files(&fixture())
        .into_keys()
        // (The Vite build's own CSS image is no logo.)
        .filter(|p| (p.ends_with(".png") || p.ends_with(".svg")) && !p.starts_with("enterprise/"))
        .filter(|p| !p.starts_with("public/vite/assets/"))
        .collect();
    assert!(images.len() > 50);
    for p in &images {
        assert_eq!(has(p, "stock-asset"), 1, "{p}");
    }
    assert_eq!(has("app/views/layouts/mailer/base.liquid", "stock-asset"), 1);
    assert_eq!(has("public/vite/assets/dashboard-AbC123zz.js", "stock-asset"), 1, "the inlined bubble logo");

    // Links, palette, ID3.
    for p in
        [locales, "config/features.yml", "config/installation_config.yml", "public/vite/assets/dashboard-AbC123zz.js"]
    {
        assert!(has(p, "upstream-link") > 0, "{p}");
    }
    assert_eq!(has("config/features.yml", "upstream-link"), 4);
    for p in [
        "public/assets/administrate/application-1a2b3c4d.css",
        "public/manifest.json",
        "app/views/layouts/vueapp.html.erb",
    ] {
        assert!(has(p, "stock-palette") > 0, "{p}");
    }
    for p in ["public/audio/dashboard/ding.mp3", "public/packs/audio/widget/ding.mp3"] {
        assert_eq!(has(p, "id3"), 1, "{p}");
    }
    assert_eq!(has("public/audio/dashboard/bell.mp3", "id3"), 0, "no product name in its tag");

    // The traps: the SDK's names, code literals, enterprise/ and dead
    // sources are never findings (the SDK's bubble color is).
    assert_eq!(has("public/packs/js/sdk.js", "stock-palette"), 1);
    for f in v["findings"].as_array().unwrap() {
        let p = f["path"].as_str().unwrap();
        assert!(!p.starts_with("enterprise/") && !p.starts_with("app/javascript/"), "{f}");
        assert!(!p.ends_with("sdk.js") || f["category"] == "stock-palette", "{f}");
        assert!(
            !["protected-name", "code-literal", "syntax", "stale-sibling"].contains(&f["category"].as_str().unwrap())
        );
        let excerpt = f["excerpt"].as_str().unwrap();
        assert!(!excerpt.contains("installationName"), "a code literal is not a finding: {excerpt}");
    }
    assert!(v["kept"].is_null(), "kept items only with --verbose");
}

/// With no base, a tree is never its own yardstick: stock files are the
/// upstream bytes the patch set lists (from the real upstream files), found
/// at any path. The fixture's made-up icons are not stock then; the real
/// upstream SVGs (../shared) are, where they belong and under another name.
#[test]
fn with_no_base_stock_files_are_known_by_their_upstream_bytes() {
    let v = audit_json(&fixture(), &[]);
    assert_eq!(v["patchset_source"], PATCHES, "--patches is said");
    let reference = v["reference"].as_str().unwrap();
    assert!(reference.starts_with("no base: stock files are the upstream ones"), "{reference}");
    let stock: BTreeSet<String> =
        by_place(&v).into_keys().filter(|(_, c)| c == "stock-asset").map(|(p, _)| p).collect();
    let want: BTreeSet<String> = [
        // Vite's inlined bubble logo, recognised by its path data.
        "public/vite/assets/dashboard-AbC123zz.js",
        // Upstream ships these empty: the same (empty) bytes, at their own path.
        "public/apple-touch-icon.png",
        "public/apple-touch-icon-precomposed.png",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(stock, want, "the fixture's made-up icons are not upstream bytes");

    let (tmp, _) = branded_tree();
    let app = tmp.path().join("app");
    let v = audit_json(&app, &["--brand", "nexa"]);
    assert_eq!(v["findings"], Value::Array(vec![]), "the brand's own icons are not stock: {v:#}");

    let shared = repo().join("../shared/chatwoot-v3.15.0/public/brand-assets");
    if !shared.is_dir() {
        assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/chatwoot-v3.15.0 beside the checkout");
        return;
    }
    std::fs::copy(shared.join("logo_thumbnail.svg"), app.join("public/brand-assets/logo_thumbnail.svg")).unwrap();
    std::fs::create_dir_all(app.join("public/uploads")).unwrap();
    std::fs::copy(shared.join("logo.svg"), app.join("public/uploads/x.bin")).unwrap();
    let v = audit_json(&app, &["--brand", "nexa"]);
    let found: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["excerpt"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(found.len(), 2, "{v:#}");
    assert!(found[0].0 == "public/brand-assets/logo_thumbnail.svg" && found[0].1.starts_with("the upstream file"));
    assert_eq!(found[1].0, "public/uploads/x.bin");
    assert!(found[1].1.starts_with("a copy of upstream public/brand-assets/logo.svg"), "{found:?}");
    assert!(v["findings"].as_array().unwrap().iter().all(|f| f["category"] == "stock-asset"));
}

#[test]
fn verbose_lists_what_is_kept_and_why() {
    let o = audit(&fixture(), &["--verbose"]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o.stdout);
    let kept: Vec<&str> = out.lines().filter(|l| l.contains("  kept: ")).collect();
    let line = |needle: &str| kept.iter().find(|l| l.contains(needle)).copied();
    let compared = line(r#"installationName==="«Chatwoot»""#).expect("the comparison is kept");
    assert!(compared.contains("JavaScript code"), "{compared}");
    assert!(line("«Chatwoot».config[:version]").unwrap().contains("version constant"), "the patch set's reason");
    assert!(line("latest«Chatwoot»Version").is_some(), "the placeholder is part of a longer name");
    let quiet = audit(&fixture(), &[]);
    assert!(!text(&quiet.stdout).contains("kept:"));
    // One line per finding: path, offset or pointer, category, excerpt.
    let first = text(&quiet.stdout).lines().next().unwrap();
    let mut cols = first.split("  ");
    assert!(cols.next().unwrap().contains(':'), "{first}");
    assert!(["product-name", "upstream-link"].contains(&cols.next().unwrap()), "{first}");
}

#[test]
fn the_branded_tree_is_clean_and_a_broken_one_shows_all_four_kinds_of_damage() {
    let (tmp, renamed) = branded_tree();
    let app = tmp.path().join("app");
    let base = fixture();
    let v = audit_json(&app, &["--base", base.to_str().unwrap(), "--brand", "nexa"]);
    assert_eq!(v["findings"], Value::Array(vec![]), "{v:#}");
    assert!(v["files"].as_u64().unwrap() > 100);

    // Break it: a stock icon back, a protected name renamed, the stock .gz
    // beside the patched .css, and a patched bundle that no longer parses.
    std::fs::copy(base.join("public/favicon-32x32.png"), app.join("public/favicon-32x32.png")).unwrap();
    let sdk = app.join("public/packs/js/sdk.js");
    let s = std::fs::read_to_string(&sdk).unwrap();
    std::fs::write(&sdk, s.replacen("window.chatwootSDK", "window.nexaSDK", 1)).unwrap();
    // (The patched files carry new names: cache-busting.)
    let css = &renamed["public/assets/administrate/application-1a2b3c4d.css"];
    let gz = format!("{css}.gz");
    std::fs::copy(base.join("public/assets/administrate/application-1a2b3c4d.css.gz"), app.join(&gz)).unwrap();
    let widget = &renamed["public/vite/assets/widget-XyZ98765.js"];
    let js = app.join(widget);
    let mut j = std::fs::read(&js).unwrap();
    j.extend_from_slice(b"\nconst = ;\n");
    std::fs::write(&js, j).unwrap();

    let v = audit_json(&app, &["--base", base.to_str().unwrap(), "--brand", "nexa"]);
    let places: BTreeSet<(String, String)> = by_place(&v).into_keys().collect();
    let want: BTreeSet<(String, String)> = [
        ("public/favicon-32x32.png", "stock-asset"),
        ("public/packs/js/sdk.js", "protected-name"),
        (gz.as_str(), "stale-sibling"),
        (widget.as_str(), "syntax"),
    ]
    .into_iter()
    .map(|(p, c)| (p.to_string(), c.to_string()))
    .collect();
    assert_eq!(places, want, "{v:#}");
    let o = audit(&app, &["--base", base.to_str().unwrap()]);
    let out = text(&o.stdout);
    assert!(out.contains("error: public/packs/js/sdk.js:"), "damage is an error:\n{out}");
    assert!(out.contains("`chatwootSDK` occurs"), "{out}");
}

#[test]
fn a_changed_code_literal_is_damage() {
    let (tmp, renamed) = branded_tree();
    let app = tmp.path().join("app");
    let dashboard = &renamed["public/vite/assets/dashboard-AbC123zz.js"];
    let js = app.join(dashboard);
    let s = std::fs::read_to_string(&js).unwrap();
    // What a blind "replace Chatwoot everywhere" does to the switch case.
    std::fs::write(&js, s.replacen(r#"case"Chatwoot":"#, r#"case"Nexa":"#, 1)).unwrap();
    let v = audit_json(&app, &["--base", fixture().to_str().unwrap()]);
    let f = &v["findings"][0];
    assert_eq!(f["category"], "code-literal", "{v:#}");
    assert_eq!(f["path"], dashboard.as_str());
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v:#}");
}

#[test]
fn bad_targets_exit_2_with_one_clear_error() {
    let o = whitelabel(&["--patches", PATCHES, "audit", "/nonexistent/dir-or-image"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(err.contains("fix:"), "{err}");
}

#[test]
fn images_through_the_daemon_stock_base_and_built_brand() {
    let (base, _) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    let stock = wl(&["--patches", PATCHES, "audit", &base, "--json"], cache.path(), &[]);
    assert_eq!(stock.status.code(), Some(1), "{}", String::from_utf8_lossy(&stock.stderr));
    let stock: Value = serde_json::from_slice(&stock.stdout).unwrap();
    let dir = audit_json(&fixture(), &[]);
    assert_eq!(stock["counts"], dir["counts"], "the image holds what the directory holds");

    let repository = format!("whitelabel-test/audit-{}", std::process::id());
    let report = cache.path().join("report.json");
    let built = ok(&wl(
        &[
            "--patches",
            PATCHES,
            "build",
            "nexa",
            "--base",
            &base,
            "--repository",
            &repository,
            "--report",
            report.to_str().unwrap(),
            "--json",
        ],
        cache.path(),
        &[],
    ));
    let tag = built["tags"][0].as_str().unwrap();
    assert_eq!(built["audit"]["clean"], true);
    let labels = inspect(tag).unwrap().config.unwrap().labels.unwrap();
    assert_eq!(labels["io.whitelabel.audit"], "clean");

    let o = wl(&["--patches", PATCHES, "audit", tag, "--json"], cache.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"], Value::Array(vec![]));
    assert!(v["reference"].as_str().unwrap().starts_with(&base), "compared with the base in its labels: {v}");

    // The build report: changes per category, rules, audit, identity.
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["input"], built["input"]);
    assert_eq!(r["tags"], built["tags"]);
    assert_eq!(r["audit"]["clean"], true);
    assert!(r["bytes_added"].as_i64().unwrap() > 0);
    let cats = r["render"]["categories"].as_object().unwrap();
    for c in ["logos", "icons", "ui-text", "colors", "config", "views-mail", "audio"] {
        assert!(cats.get(c).and_then(Value::as_u64).unwrap_or(0) > 0, "{c}: {cats:?}");
    }
    let rules = r["render"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|x| x["id"] == "ui-strings" && x["replacements"].as_u64().unwrap() > 10));
    let _ = std::process::Command::new("docker").args(["rmi", "-f", tag]).output();
}

#[test]
fn build_refuses_a_leaky_result_unless_allowed() {
    // A patch set that forgot the favicons: their stock bytes stay.
    let ps = tempfile::tempdir().unwrap();
    copy_dir(&repo().join(PATCHES), ps.path());
    let icons = ps.path().join("20-icons.toml");
    let t = std::fs::read_to_string(&icons).unwrap();
    let start = t.find("[[rule]]\nid = \"favicons\"").unwrap();
    let end = start + t[start..].find("\n\n").unwrap();
    std::fs::write(&icons, format!("{}{}", &t[..start], &t[end..])).unwrap();

    let (base, _) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    let repository = format!("whitelabel-test/leaky-{}", std::process::id());
    let args = |extra: &[&'static str]| {
        let mut a: Vec<String> = ["--patches", ps.path().to_str().unwrap(), "build", "nexa", "--base", &base]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend(["--repository".to_string(), repository.clone()]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: &[String]| wl(&a.iter().map(String::as_str).collect::<Vec<_>>(), cache.path(), &[]);
    let o = run(&args(&[]));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("stock-asset") && err.contains("public/favicon-16x16.png"), "{err}");
    assert!(err.contains("--allow-leaks") && err.contains("nothing was tagged"), "{err}");
    let tagged = std::process::Command::new("docker").args(["images", "-q", &repository]).output().unwrap();
    assert!(tagged.stdout.is_empty(), "no tag after a refused build");

    let v = ok(&run(&args(&["--allow-leaks", "--json"])));
    let tag = v["tags"][0].as_str().unwrap();
    let labels = inspect(tag).unwrap().config.unwrap().labels.unwrap();
    assert!(labels["io.whitelabel.audit"].contains("findings allowed"), "{labels:?}");
    // The same inputs again without the flag: the existing image is refused too.
    let again = run(&args(&[]));
    assert_eq!(again.status.code(), Some(1), "{}", String::from_utf8_lossy(&again.stdout));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--allow-leaks"));
    let _ = std::process::Command::new("docker").args(["rmi", "-f", tag]).output();
}
