//! Cache-busting on the fixture's Vite layout: changed content-named files
//! get new names, importers and manifests follow up to the entry points
//! (through a cycle between chunks), unhashed files get `?v=`, and the
//! branded tree's reference graph resolves: by the walk, and by node loading
//! the module graph from disk.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use common::*;
use serde_json::Value;
use sha2::Digest;
use whitelabel::cachebust;
use whitelabel::patchset::PatchSet;

const ASSETS: &str = "public/vite/assets";

fn patchset() -> PatchSet {
    PatchSet::load(&repo().join("patches/chatwoot-v3.15.0")).unwrap()
}

/// The fixture with the nexa overlay copied on top (the image's /app).
fn branded(overlay: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), &tmp.path().join("app"));
    copy_dir(overlay, &tmp.path().join("app"));
    tmp
}

fn renames(report: &Value) -> cachebust::Renames {
    serde_json::from_value(report["cache_busting"].clone()).unwrap()
}

fn renamed(report: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(report["cache_busting"]["renamed"].clone()).unwrap()
}

#[test]
fn changed_hashed_files_and_their_importers_get_new_names_and_every_reference_resolves() {
    let (_t, overlay, report) = render(&nexa(), &fixture(), &[]);
    let renamed = renamed(&report);
    let out = files(&overlay);
    let stock = files(&fixture());

    // Patched: locales, widget, survey, dashboard, CSS, Sprockets' CSS. By the
    // cascade only: vendor (imports the locales) and helpers (a cycle with vendor).
    let want: BTreeSet<String> = [
        "dashboard-locales-AbC123xy.js",
        "vendor-Mm55Nn66.js",
        "helpers-Pp77Qq88.js",
        "dashboard-AbC123zz.js",
        "widget-XyZ98765.js",
        "survey-QwE45678.js",
        "style-Qq11Ww22.css",
    ]
    .iter()
    .map(|n| format!("{ASSETS}/{n}"))
    .chain(["public/assets/administrate/application-1a2b3c4d.css".to_string()])
    .collect();
    assert_eq!(renamed.keys().cloned().collect::<BTreeSet<_>>(), want, "{renamed:#?}");
    let shape = regex::Regex::new(r"^(.+)-([A-Za-z0-9_-]{8})\.(js|css)$").unwrap();
    for (from, to) in &renamed {
        let (f, t) = (from.rsplit('/').next().unwrap(), to.rsplit('/').next().unwrap());
        let (cf, ct) = (shape.captures(f).unwrap(), shape.captures(t).unwrap());
        assert_eq!((&cf[1], &cf[3]), (&ct[1], &ct[3]), "same name and extension: {from} → {to}");
        assert_ne!(&cf[2], &ct[2]);
        assert_eq!(from.rsplit_once('/').unwrap().0, to.rsplit_once('/').unwrap().0, "same directory");
        // The overlay only adds: the stock name stays in the base layer alone.
        assert!(!out.contains_key(from), "{from} still in the overlay");
        assert!(out.contains_key(to), "{to} missing");
        for sibling in [".map", ".gz", ".br"] {
            assert_eq!(
                out.contains_key(&format!("{to}{sibling}")),
                stock.contains_key(&format!("{from}{sibling}")),
                "{to}{sibling}"
            );
            assert!(!out.contains_key(&format!("{from}{sibling}")), "{from}{sibling} still in the overlay");
        }
    }
    // Unchanged and named by nothing that changed: untouched.
    for stem in ["inter", "logo"] {
        assert!(!out.keys().any(|k| k.starts_with(&format!("{ASSETS}/{stem}-"))), "{stem}");
    }
    let new = |stock: &str| renamed[&format!("{ASSETS}/{stock}")].rsplit('/').next().unwrap().to_string();
    let js = |stock: &str| String::from_utf8(out[&renamed[&format!("{ASSETS}/{stock}")]].clone()).unwrap();

    // References: static import, the cycle both ways, import(), __vite__mapDeps, the map comment and file.
    let dashboard = js("dashboard-AbC123zz.js");
    assert!(dashboard.starts_with(&format!("import{{a as l,b as p,c as f}}from\"./{}\";", new("vendor-Mm55Nn66.js"))));
    assert!(dashboard.contains(&format!("import(\"./{}\")", new("widget-XyZ98765.js"))));
    assert!(dashboard.contains(&format!(
        "m.f=[\"assets/{}\",\"assets/{}\"]",
        new("widget-XyZ98765.js"),
        new("style-Qq11Ww22.css")
    )));
    assert!(dashboard.ends_with(&format!("//# sourceMappingURL={}.map\n", new("dashboard-AbC123zz.js"))));
    assert_ne!(new("vendor-Mm55Nn66.js")[7..], new("helpers-Pp77Qq88.js")[8..], "each file of a cycle its own hash");
    let vendor = js("vendor-Mm55Nn66.js");
    assert!(vendor.contains(&new("dashboard-locales-AbC123xy.js")) && vendor.contains(&new("helpers-Pp77Qq88.js")));
    assert!(js("helpers-Pp77Qq88.js").contains(&format!("from\"./{}\"", new("vendor-Mm55Nn66.js"))));
    let map: Value =
        serde_json::from_slice(&out[&format!("{}.map", renamed[&format!("{ASSETS}/vendor-Mm55Nn66.js")])]).unwrap();
    assert_eq!(map["file"], new("vendor-Mm55Nn66.js"));
    // Only the names changed in the cascade-only file.
    let stock_vendor = text(&stock[&format!("{ASSETS}/vendor-Mm55Nn66.js")]).to_string();
    assert_eq!(
        stock_vendor
            .replace("dashboard-locales-AbC123xy.js", &new("dashboard-locales-AbC123xy.js"))
            .replace("helpers-Pp77Qq88.js", &new("helpers-Pp77Qq88.js"))
            .replace("vendor-Mm55Nn66.js", &new("vendor-Mm55Nn66.js")),
        vendor
    );
    // CSS url() to unchanged files keeps their names.
    assert!(js("style-Qq11Ww22.css").contains("url(/vite/assets/inter-Ab12Cd34.woff2)"));

    // The Vite manifest: every `file` and key follows.
    let manifest: Value = serde_json::from_slice(&out["public/vite/.vite/manifest.json"]).unwrap();
    assert_eq!(manifest["entrypoints/dashboard.js"]["file"], format!("assets/{}", new("dashboard-AbC123zz.js")));
    assert_eq!(manifest["entrypoints/dashboard.js"]["css"][0], format!("assets/{}", new("style-Qq11Ww22.css")));
    let vendor_key = format!("_{}", new("vendor-Mm55Nn66.js"));
    assert_eq!(manifest["entrypoints/dashboard.js"]["imports"][0], vendor_key.as_str());
    assert_eq!(manifest[&vendor_key]["file"], format!("assets/{}", new("vendor-Mm55Nn66.js")));
    assert!(!out.contains_key("public/vite/.vite/manifest-assets.json"), "names only unchanged files");

    // Sprockets: the logical path points at the new name, described by its bytes; siblings decompress to it.
    let (sp_path, sp) =
        out.iter().find(|(k, _)| k.starts_with("public/assets/.sprockets-manifest-")).expect("Sprockets manifest");
    let sp: Value = serde_json::from_slice(sp).unwrap();
    let css_path = &renamed["public/assets/administrate/application-1a2b3c4d.css"];
    let css_name = css_path.strip_prefix("public/assets/").unwrap();
    assert_eq!(sp["assets"]["administrate/application.css"], css_name, "{sp_path}");
    let css = &out[css_path];
    assert_eq!(sp["files"][css_name]["size"], css.len());
    assert_eq!(sp["files"][css_name]["digest"], hex::encode(sha2::Sha256::digest(css)));
    let mut gz = Vec::new();
    flate2::read::GzDecoder::new(&out[&format!("{css_path}.gz")][..]).read_to_end(&mut gz).unwrap();
    assert_eq!(&gz, css);

    // Unhashed files that changed: ?v=<digest of the new bytes> where they are named.
    let v = |path: &str| format!("?v={}", &hex::encode(sha2::Sha256::digest(&out[path]))[..10]);
    let layout = text(&out["app/views/layouts/vueapp.html.erb"]).to_string();
    for icon in
        ["favicon-32x32.png", "favicon-16x16.png", "apple-icon-180x180.png", "ms-icon-144x144.png", "manifest.json"]
    {
        assert!(layout.contains(&format!("\"/{icon}{}\"", v(&format!("public/{icon}")))), "{icon} in\n{layout}");
    }
    let web: Value = serde_json::from_slice(&out["public/manifest.json"]).unwrap();
    for icon in web["icons"].as_array().unwrap() {
        let src = icon["src"].as_str().unwrap();
        let (path, query) = src.split_once('?').unwrap();
        assert_eq!(format!("?{query}"), v(&format!("public{path}")), "{src}");
    }
    let versioned: BTreeMap<String, Vec<String>> =
        serde_json::from_value(report["cache_busting"]["versioned"].clone()).unwrap();
    assert!(versioned.contains_key("app/views/layouts/vueapp.html.erb"), "{versioned:?}");
    // Every versioned referrer still parses: ERB by Ruby's ERB, XML, JSON.
    for r in versioned.keys() {
        let path = overlay.join(r);
        if r.ends_with(".erb") {
            let o = std::process::Command::new("ruby")
                .args(["-rerb", "-e", "ERB.new(File.read(ARGV[0]), trim_mode: '-').src", path.to_str().unwrap()])
                .output()
                .expect("ruby");
            assert!(o.status.success(), "{r}: {}", String::from_utf8_lossy(&o.stderr));
        } else if r.ends_with(".xml") {
            roxmltree::Document::parse(text(&out[r])).unwrap_or_else(|e| panic!("{r}: {e}"));
        } else {
            serde_json::from_slice::<Value>(&out[r]).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
    }

    // The walk from the manifests: every name resolves, nothing reached is stale.
    let tree = branded(&overlay);
    let ps = patchset();
    let problems =
        cachebust::verify_dirs(&ps.cache_busting, &tree.path().join("app"), &fixture(), &ps.extract, &renames(&report))
            .unwrap();
    assert_eq!(problems, Vec::<String>::new());
    let walk =
        cachebust::walk(&ps.cache_busting, &whitelabel::tree::DirTree::open(&tree.path().join("app"), &[]).unwrap())
            .unwrap();
    for to in renamed.values() {
        assert!(walk.reached.contains(to), "{to} not reached");
    }
    assert!(walk.reached.contains(&format!("{ASSETS}/inter-Ab12Cd34.woff2")));
    for from in renamed.keys() {
        assert!(!walk.reached.contains(from), "{from}: the stock name is still reached");
    }
}

#[test]
fn node_loads_the_branded_module_graph_from_the_manifest_entry() {
    let (_t, overlay, _) = render(&nexa(), &fixture(), &[]);
    let tree = branded(&overlay);
    let app = tree.path().join("app");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(app.join("public/vite/.vite/manifest.json")).unwrap()).unwrap();
    let entry = app.join("public/vite").join(manifest["entrypoints/dashboard.js"]["file"].as_str().unwrap());
    // Static imports (through the vendor ↔ helpers cycle) and the dynamic one.
    let script = format!(
        "globalThis.window={{addEventListener(){{}}}};const m=await import({:?});const w=await m.t();\
         const s=(await import({:?})).s('pt_BR');console.log(JSON.stringify([Object.keys(w).length,s.messages.LOGIN.TITLE]))",
        format!("file://{}", entry.display()),
        format!("file://{}", entry.display()),
    );
    let o = std::process::Command::new("node").args(["--input-type=module", "-e", &script]).output().expect("node");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(got[0], 4, "the widget chunk loaded: {got}");
    assert!(got[1].as_str().unwrap().contains("Nexa"), "the branded locale chunk loaded: {got}");
}

#[test]
fn two_renders_are_byte_identical() {
    let (_a, one, r1) = render(&nexa(), &fixture(), &[]);
    let (_b, two, r2) = render(&nexa(), &fixture(), &[]);
    assert_eq!(files(&one), files(&two));
    assert_eq!(r1["cache_busting"], r2["cache_busting"]);
}

#[test]
fn the_walk_reports_dangling_names_and_stale_stock_names() {
    let (_t, overlay, report) = render(&nexa(), &fixture(), &[]);
    let renamed = renamed(&report);
    let ps = patchset();
    let tree = branded(&overlay);
    let app = tree.path().join("app");
    // The patched locales under the stock name (what happened before cache-busting) ...
    let locales = format!("{ASSETS}/dashboard-locales-AbC123xy.js");
    std::fs::copy(app.join(&renamed[&locales]), app.join(&locales)).unwrap();
    let vendor = app.join(&renamed[&format!("{ASSETS}/vendor-Mm55Nn66.js")]);
    let v = std::fs::read_to_string(&vendor).unwrap();
    std::fs::write(&vendor, v.replace(renamed[&locales].rsplit('/').next().unwrap(), "dashboard-locales-AbC123xy.js"))
        .unwrap();
    // ... and a name that resolves to nothing.
    std::fs::remove_file(app.join(&renamed[&format!("{ASSETS}/widget-XyZ98765.js")])).unwrap();
    let problems = cachebust::verify_dirs(&ps.cache_busting, &app, &fixture(), &ps.extract, &renames(&report)).unwrap();
    let widget = renamed[&format!("{ASSETS}/widget-XyZ98765.js")].rsplit('/').next().unwrap().to_string();
    assert!(
        problems.iter().any(|p| p == &format!("{locales}: changed, but still under its stock name")),
        "{problems:#?}"
    );
    assert!(problems.iter().any(|p| p.contains(&format!("`{widget}` resolves to no file"))), "{problems:#?}");
    assert!(
        problems.contains(&format!("{locales}: superseded by {}, but still named", renamed[&locales])),
        "{problems:#?}"
    );
    assert_eq!(problems.len(), 5, "manifest and import() and __vite__mapDeps name the widget: {problems:#?}");
}

/// The walk on any branded tree: `WHITELABEL_TREE` (an /app with the overlay
/// on top) against `WHITELABEL_BASE` (its stock /app) and the render's
/// `WHITELABEL_REPORT`, e.g. a tree built from the real upstream source; the
/// branded fixture when they are unset.
#[test]
fn every_reference_of_a_branded_tree_resolves() {
    let ps = patchset();
    let env = |k: &str| std::env::var_os(k).map(std::path::PathBuf::from);
    let (_keep, tree, base, report) = match (env("WHITELABEL_TREE"), env("WHITELABEL_BASE"), env("WHITELABEL_REPORT")) {
        (Some(t), Some(b), Some(r)) => (None, t, b, serde_json::from_slice(&std::fs::read(r).unwrap()).unwrap()),
        _ => {
            let (t, overlay, report) = render(&nexa(), &fixture(), &[]);
            let tree = branded(&overlay);
            let app = tree.path().join("app");
            (Some((t, tree)), app, fixture(), report)
        }
    };
    let t = whitelabel::tree::DirTree::open(&tree, &ps.extract).unwrap();
    let walk = cachebust::walk(&ps.cache_busting, &t).unwrap();
    let problems = cachebust::verify(
        &ps.cache_busting,
        &t,
        &whitelabel::tree::DirTree::open(&base, &ps.extract).unwrap(),
        &renames(&report),
    )
    .unwrap();
    println!("{}: {} files reached from {:?}", tree.display(), walk.reached.len(), walk.manifests);
    assert!(walk.reached.len() > 5);
    assert_eq!(problems, Vec::<String>::new());
}
