//! Render over the real v3.15.0 data files in `../shared/chatwoot-v3.15.0`
//! (present in CI): every dashboard, widget and survey locale JSON is laid
//! out as a compiled-style module, then no product name may be left in the
//! en and pt_BR messages, nor in the Rails locales.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn shared() -> Option<PathBuf> {
    let dir = repo().join("../shared/chatwoot-v3.15.0");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/chatwoot-v3.15.0 beside the checkout");
    eprintln!("skipped: ../shared/chatwoot-v3.15.0 is not here");
    None
}

/// Lays the real data files out at their image paths; each i18n JSON becomes
/// `export default {…};` under public/vite/assets, as Vite compiles them.
fn lay_out(shared: &Path, app: &Path) -> usize {
    let mut modules = 0;
    for e in walkdir::WalkDir::new(shared.join("app/javascript")).into_iter().map(|e| e.unwrap()) {
        if !e.file_type().is_file() || e.path().extension().is_none_or(|x| x != "json") {
            continue;
        }
        // en and pt_BR only: every locale is tests/all_locales.rs's.
        let p = e.path().to_string_lossy();
        if !["/en/", "/pt_BR/", "/en.json", "/pt_BR.json"].iter().any(|l| p.contains(l)) {
            continue;
        }
        let rel = e.path().strip_prefix(shared).unwrap().to_string_lossy().replace(['/', '.'], "_");
        let json = std::fs::read_to_string(e.path()).unwrap();
        let dst = app.join(format!("public/vite/assets/{rel}-0a1b2c3d.js"));
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::write(dst, format!("export default {};\n", json.trim_end())).unwrap();
        modules += 1;
    }
    for rel in
        ["config/locales/en.yml", "config/locales/pt_BR.yml", "config/installation_config.yml", "public/manifest.json"]
    {
        let dst = app.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(shared.join(rel), dst).unwrap();
    }
    modules
}

fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Object(m) => m.values().for_each(|v| strings(v, out)),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn no_product_name_left_in_real_en_and_pt_br_messages() {
    let Some(shared) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    let modules = lay_out(&shared, &app);
    assert!(modules > 70, "expected the en and pt_BR locale files, found {modules}");
    let base = files(&app);
    let (_t, out, report) = render(&nexa(), &app, &["--partial"]);
    let overlay = files(&out);
    let word = regex::Regex::new(r"(?:^|[^A-Za-z0-9_$])Chatwoot(?:[^A-Za-z0-9_]|$)").unwrap();

    let messages = |bytes: &[u8]| {
        let body =
            text(bytes).trim_end().strip_prefix("export default ").unwrap().strip_suffix(';').unwrap().to_string();
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut out = Vec::new();
        strings(&value, &mut out);
        out
    };
    let (mut named_before, mut branded_after) = (0, 0);
    for (path, bytes) in base.iter().filter(|(p, _)| p.ends_with(".js")) {
        // A patched module carries a new name (cache-busting).
        let path = report["cache_busting"]["renamed"][path.as_str()].as_str().unwrap_or(path);
        let after = overlay.get(path).unwrap_or(bytes);
        node_check(path, after).unwrap();
        let (old, new) = (messages(bytes), messages(after));
        assert_eq!(old.len(), new.len(), "{path}: same messages");
        for (o, n) in old.iter().zip(&new) {
            assert!(!word.is_match(n), "{path}: product name left in {n:?}");
            if word.is_match(o) {
                named_before += 1;
                assert!(n.contains("Nexa"), "{path}: {o:?} became {n:?}");
            }
        }
        branded_after += new.iter().filter(|m| m.contains("Nexa")).count();
    }
    // en: 22 dashboard + 2 widget/survey messages; pt_BR: 21 + 2.
    assert!(named_before >= 47, "the real data name the product in {named_before} messages");
    // Lower-case forms ("através do chatwoot") are branded too: at least as many.
    assert!(branded_after >= named_before, "{branded_after} branded, {named_before} named");
    let banner = overlay.values().map(|b| String::from_utf8_lossy(b)).find(|t| t.contains("UPDATE_CHATWOOT")).unwrap();
    assert!(banner.contains("{latestChatwootVersion}"), "the i18n placeholder is code, not text");

    for f in ["config/locales/en.yml", "config/locales/pt_BR.yml"] {
        let y = text(overlay.get(f).unwrap_or(&base[f])).to_string();
        let docs = yaml_rust2::YamlLoader::load_from_str(&y).unwrap();
        let mut values = Vec::new();
        yaml_strings(&docs[0], &mut values);
        for v in values {
            assert!(!word.is_match(&v), "{f}: product name left in {v:?}");
        }
    }
    assert!(report["skipped"].as_array().unwrap().len() > 10, "a partial tree lists what it skipped");
}

/// The audit of the same real files finds every message of en and pt_BR
/// that names the product (word or upstream link): 29 dashboard strings in
/// en mention it, as the branding document counts; the only one the audit
/// leaves is the widget embed snippet, whose `chatwootSettings` is the SDK
/// contract (a protected name).
#[test]
fn audit_finds_the_product_strings_of_real_en_and_pt_br() {
    let Some(shared) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    lay_out(&shared, &app);
    let o = whitelabel(&["--patches", "patches/chatwoot-v3.15.0", "audit", app.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ps = whitelabel::patchset::PatchSet::load(&repo().join("patches/chatwoot-v3.15.0")).unwrap();

    for (locale, doc_count) in [("en", Some(29)), ("pt_BR", None)] {
        let (mut named, mut found, mut protected) = (0, 0, 0);
        for (path, bytes) in files(&app).iter().filter(|(p, _)| {
            p.ends_with(".js")
                && (p.contains(&format!("_dashboard_i18n_locale_{locale}_"))
                    || p.ends_with(&format!("_i18n_locale_{locale}_json-0a1b2c3d.js")))
        }) {
            let src = text(bytes);
            let hits: Vec<u64> = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["path"] == format!("public/vite/assets/{}", path.rsplit('/').next().unwrap()))
                .filter(|f| f["category"] == "product-name" || f["category"] == "upstream-link")
                .map(|f| f["offset"].as_u64().unwrap())
                .collect();
            let dashboard = path.contains("_dashboard_");
            for lit in whitelabel::scan::js::literals(src, false).unwrap() {
                let body = &src[lit.start..lit.end];
                if lit.code || !body.to_lowercase().contains("chatwoot") {
                    continue;
                }
                let covered = hits.iter().any(|&h| (lit.start as u64..lit.end as u64).contains(&h));
                if dashboard {
                    named += 1;
                }
                if covered {
                    found += 1;
                } else {
                    assert!(
                        ps.protected.iter().any(|p| body.contains(p.as_str())),
                        "{path}: the audit missed {body:?}"
                    );
                    protected += 1;
                }
            }
        }
        if let Some(n) = doc_count {
            assert_eq!(named, n, "{locale}: dashboard strings naming the product");
        }
        assert!(named > 20, "{locale}: {named}");
        assert_eq!(protected, 1, "{locale}: only the embed snippet stays");
        assert_eq!(found, named - protected + 2, "{locale}: dashboard strings plus widget and survey POWERED_BY");
    }
}

/// The patch set's stock-file hashes are the real upstream bytes: every
/// listed file that ../shared holds (the brand SVGs) hashes as listed, and
/// each brand SVG there is listed.
#[test]
fn the_stock_list_holds_the_real_upstream_bytes() {
    use sha2::Digest;
    let Some(shared) = shared() else { return };
    let ps = whitelabel::patchset::PatchSet::load(&repo().join("patches/chatwoot-v3.15.0")).unwrap();
    let mut checked = 0;
    for s in &ps.stock {
        let Ok(bytes) = std::fs::read(shared.join(&s.path)) else { continue };
        assert_eq!(bytes.len() as u64, s.size, "{}", s.path);
        assert_eq!(<[u8; 32]>::from(sha2::Sha256::digest(&bytes)), s.sha256, "{}", s.path);
        checked += 1;
    }
    for svg in ["logo.svg", "logo_dark.svg", "logo_thumbnail.svg"] {
        let path = format!("public/brand-assets/{svg}");
        assert!(ps.stock.iter().any(|s| s.path == path), "{path} is not in the stock list");
    }
    assert!(checked >= 3, "only {checked} listed files are in ../shared");
}
