//! `whitelabel render` over the project's fixture tree: every surface is
//! branded, every trap and protected name stays byte-identical, every output
//! is valid, and the render is deterministic.

mod common;

use std::io::Read;

use common::*;
use regex::Regex;

fn word(w: &str) -> Regex {
    Regex::new(&format!(r"(?:^|[^A-Za-z0-9_$]){w}(?:[^A-Za-z0-9_]|$)")).unwrap()
}

/// Collect every JS string literal value, crudely but independently of the engine.
fn has(files: &std::collections::BTreeMap<String, Vec<u8>>, path_part: &str, needle: &str) -> bool {
    files.iter().any(|(p, b)| p.contains(path_part) && String::from_utf8_lossy(b).contains(needle))
}

#[test]
fn nexa_over_fixture_brands_every_surface_and_keeps_every_trap() {
    let base = files(&fixture());
    let (_tmp, out, report) = render(&nexa(), &fixture(), &[]);
    let overlay = files(&out);
    assert!(!overlay.is_empty());

    // Only changed or added files are written, each at a base path, at the
    // new name of a content-named base file (cache-busting), or added.
    let renamed: std::collections::BTreeMap<String, String> =
        serde_json::from_value(report["cache_busting"]["renamed"].clone()).unwrap();
    assert!(renamed.len() > 5, "{renamed:?}");
    // Overlay path → the base path it stands for (a renamed file, its map and siblings).
    let stock_of = |p: &str| -> String {
        for (from, to) in &renamed {
            if let Some(rest) = p.strip_prefix(to.as_str()) {
                return format!("{from}{rest}");
            }
        }
        p.to_string()
    };
    let added: Vec<&String> = overlay.keys().filter(|p| !base.contains_key(&stock_of(p))).collect();
    assert_eq!(added, vec!["public/favicon.ico"], "only favicon.ico is new");
    for (p, bytes) in &overlay {
        if let Some(b) = base.get(&stock_of(p)) {
            assert_ne!(b, bytes, "{p} is in the overlay but unchanged");
        }
    }
    assert!(overlay.keys().all(|p| !p.starts_with("enterprise/")), "enterprise/ must never be patched");
    assert!(overlay.keys().all(|p| !p.starts_with("app/javascript/")), "dead sources are not patched");

    // 1. Logos.
    let nexa_logo = std::fs::read_to_string(nexa().join("logo.svg")).unwrap();
    for p in ["public/brand-assets/logo.svg", "public/packs/brand-assets/logo.svg"] {
        let svg = text(&overlay[p]);
        assert!(svg.starts_with("<svg"), "{p}");
        assert!(!svg.contains("#1f93ff"), "{p} still the stock art");
        assert_ne!(svg, nexa_logo, "logos are re-serialised clean, not copied raw");
    }
    assert!(overlay.contains_key("public/brand-assets/logo_dark.svg"));
    assert!(overlay.contains_key("public/packs/brand-assets/logo_thumbnail.svg"));

    // 2. Icons: every PNG decodes at the size in its name; 0-byte files filled.
    let size_re = Regex::new(r"(\d+)x(\d+)\.png$").unwrap();
    let mut icons = 0;
    for (p, bytes) in overlay.iter().filter(|(p, _)| p.ends_with(".png")) {
        let img = image::load_from_memory(bytes).unwrap_or_else(|e| panic!("{p}: {e}"));
        let expected = match size_re.captures(p) {
            Some(c) => c[1].parse::<u32>().unwrap(),
            None if p.contains("apple-touch-icon") => 180,
            None => 192,
        };
        assert_eq!((img.width(), img.height()), (expected, expected), "{p}");
        if p.contains("apple") {
            assert!(img.to_rgba8().pixels().all(|px| px[3] == 255), "{p} must be opaque");
        }
        icons += 1;
    }
    let base_pngs = base.keys().filter(|p| p.ends_with(".png")).count();
    assert_eq!(icons, base_pngs, "every icon of the base is re-rendered");
    let badge = image::load_from_memory(&overlay["public/favicon-badge-32x32.png"]).unwrap().to_rgba8();
    let plain = image::load_from_memory(&overlay["public/favicon-32x32.png"]).unwrap().to_rgba8();
    assert_ne!(badge, plain, "badge variant differs from the plain favicon");
    let ico = &overlay["public/favicon.ico"];
    assert_eq!(&ico[..4], &[0, 0, 1, 0], "ICO header");
    assert_eq!(u16::from_le_bytes([ico[4], ico[5]]), 3, "favicon.ico holds 16/32/48");

    // 3. Product name in UI strings, every locale; maps too.
    let chatwoot = word("Chatwoot");
    for (p, bytes) in overlay.iter().filter(|(p, _)| p.ends_with(".js")) {
        node_check(p, bytes).unwrap();
        let src = text(bytes);
        // What is left of the word must be code: comparisons, regexes, keys, matching.
        for m in chatwoot.find_iter(src) {
            let around = &src[m.start().saturating_sub(25)..(m.end() + 12).min(src.len())];
            let code = around.contains("===")
                || around.contains("!==")
                || around.contains("/Chatwoot/")
                || around.contains("case")
                || around.contains("includes(")
                || around.contains("{\"Chatwoot\":")
                || around.contains("const w=\"Chatwoot\"");
            assert!(code, "{p}: product name left in text: …{around}…");
        }
    }
    assert!(has(&overlay, "public/vite/assets/", "Login to Nexa"));
    assert!(has(&overlay, "public/vite/assets/", "Powered by Nexa"));
    assert!(has(&overlay, "public/vite/assets/", "{latestChatwootVersion}"), "i18n placeholder kept");
    for (p, b) in base.iter().filter(|(p, _)| p.starts_with("public/vite/assets/") && p.ends_with(".js")) {
        let before = text(b);
        let after = overlay.get(renamed.get(p).unwrap_or(p)).map(|o| text(o)).unwrap_or(before);
        for trap in [
            "installationName===\"Chatwoot\"",
            "installationName!==\"Chatwoot\"",
            "/Chatwoot/g",
            "ChatwootApp",
            "chatwoot:ready",
            "chatwoot-widget:",
        ] {
            assert_eq!(before.matches(trap).count(), after.matches(trap).count(), "{p}: {trap}");
        }
    }
    for (p, bytes) in overlay.iter().filter(|(p, _)| p.ends_with(".js.map")) {
        let map: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{p}: {e}"));
        let sources = map["sourcesContent"].as_array().unwrap();
        for (i, s) in sources.iter().enumerate() {
            let name = map["sources"][i].as_str().unwrap();
            let s = s.as_str().unwrap();
            if name.ends_with(".json") {
                assert!(!chatwoot.is_match(s), "{p}: {name} still names the product");
            }
            if name.ends_with(".js") && s.contains("installationName") {
                assert!(s.contains("'Chatwoot'"), "{p}: {name} comparison literal changed");
            }
        }
    }

    // 4. Links.
    for (p, bytes) in overlay.iter().filter(|(p, _)| p.ends_with(".js") || p.ends_with(".yml")) {
        let src = String::from_utf8_lossy(bytes);
        for upstream in ["chwt.app", "https://www.chatwoot.com", "github.com/chatwoot", "testimonials.cdn.chatwoot.com"]
        {
            assert!(!src.contains(upstream), "{p} still links {upstream}");
        }
    }
    assert!(has(&overlay, "public/vite/assets/", "https://nexateam.com.br/termos"));
    assert!(has(&overlay, "config/features.yml", "https://ajuda.nexateam.com.br/"));

    // 5. Colors, every form, and the compressed sibling follows its file.
    let stock = Regex::new(r"(?i)#1f93ff|#0090ff|#2781f6|rgb\(59 158 255|rgba?\(31, ?147, ?255").unwrap();
    for (p, bytes) in overlay.iter().filter(|(p, _)| {
        p.ends_with(".css") || p.ends_with(".js") || p.ends_with(".erb") || p.ends_with("manifest.json")
    }) {
        assert!(!stock.is_match(&String::from_utf8_lossy(bytes)), "{p} keeps a stock color");
    }
    assert!(has(&overlay, "public/packs/js/sdk.js", "#4b2fd6"), "SDK bubble color");
    let css = overlay.keys().find(|p| p.starts_with("public/assets/") && p.ends_with(".css")).unwrap().clone();
    let gz = &overlay[&format!("{css}.gz")];
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, overlay[&css], "the .gz sibling holds the patched bytes");
    let mut unbrotli = Vec::new();
    brotli::BrotliDecompress(&mut &overlay[&format!("{css}.br")][..], &mut unbrotli).unwrap();
    assert_eq!(unbrotli, overlay[&css], "the .br sibling holds the patched bytes");

    // 6. Manifests, config, mail, views, audio.
    let manifest: serde_json::Value = serde_json::from_slice(&overlay["public/manifest.json"]).unwrap();
    assert_eq!(manifest["name"], "Nexa");
    assert_eq!(manifest["theme_color"], "#4b2fd6");
    // Nexa's icon background is white, as the stock TileColor: nothing to write.
    assert!(text(&base["public/browserconfig.xml"]).contains("<TileColor>#ffffff</TileColor>"));
    // It is written only for the ?v= of the re-rendered tiles (cache-busting).
    let tiles = text(&overlay["public/browserconfig.xml"]);
    assert!(tiles.contains("<TileColor>#ffffff</TileColor>"), "{tiles}");
    assert_eq!(
        Regex::new(r"\?v=[0-9a-f]{10}").unwrap().replace_all(tiles, ""),
        text(&base["public/browserconfig.xml"])
    );
    let install = text(&overlay["config/installation_config.yml"]);
    let docs = yaml_rust2::YamlLoader::load_from_str(install).unwrap();
    let entries = docs[0].as_vec().unwrap();
    let value = |k: &str| {
        entries.iter().find(|e| e["name"].as_str() == Some(k)).unwrap()["value"].as_str().unwrap().to_string()
    };
    assert_eq!(value("INSTALLATION_NAME"), "Nexa");
    assert_eq!(value("BRAND_NAME"), "Nexa");
    assert_eq!(value("BRAND_URL"), "https://nexateam.com.br");
    assert!(value("LOGO").starts_with("/brand-assets/logo.svg?v="));
    for f in ["config/locales/en.yml", "config/locales/pt_BR.yml"] {
        let y = text(&overlay[f]);
        yaml_rust2::YamlLoader::load_from_str(y).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(y.contains("Nexa"), "{f}");
        assert!(y.contains("chatwoot_hub") || !text(&base[f]).contains("chatwoot_hub"), "{f}: keys keep their names");
    }
    assert_eq!(
        overlay["app/views/layouts/mailer/base.liquid"],
        std::fs::read(nexa().join("mail/base.liquid")).unwrap()
    );
    for f in ["app/mailers/application_mailer.rb", "config/initializers/devise.rb", "app/presenters/mail_presenter.rb"]
    {
        assert!(text(&overlay[f]).contains("'Nexa <atendimento@nexateam.com.br>'"), "{f}");
    }
    assert!(text(&overlay["app/views/layouts/vueapp.html.erb"]).contains("content=\"Nexa – Nexa Tecnologia Ltda.\""));
    assert!(text(&overlay["app/views/installation/onboarding/index.html.erb"]).contains("Welcome to Nexa"));
    assert!(
        text(&overlay["app/views/super_admin/application/_navigation.html.erb"]).contains("Chatwoot.config[:version]"),
        "Ruby constant kept"
    );
    let ding = id3::Tag::read_from2(std::io::Cursor::new(&overlay["public/audio/dashboard/ding.mp3"])).unwrap();
    assert_eq!(id3::TagLike::artist(&ding), Some("Nexa"));
    let old_ding = &base["public/audio/dashboard/ding.mp3"];
    assert!(
        overlay["public/audio/dashboard/ding.mp3"].ends_with(&old_ding[old_ding.len() - 64..]),
        "audio frames untouched"
    );

    // The report accounts for every file written.
    let reported: Vec<&str> = report["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(reported, overlay.keys().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(report["totals"]["siblings_regenerated"], 2);

    // Every protected name of the patch set occurs as often as in the base, in every file.
    let patchset = whitelabel::patchset::PatchSet::load(&repo().join("patches/chatwoot-v3.15.0")).unwrap();
    assert!(patchset.protected.len() > 20);
    for (p, after) in &overlay {
        let (Some(before), Ok(after)) = (base.get(&stock_of(p)), std::str::from_utf8(after)) else { continue };
        let before = text(before);
        for name in &patchset.protected {
            assert_eq!(before.matches(name.as_str()).count(), after.matches(name.as_str()).count(), "{p}: {name}");
        }
    }
}

#[test]
fn a_second_render_is_byte_identical() {
    let (_a, out_a, report_a) = render(&nexa(), &fixture(), &[]);
    let (_b, out_b, report_b) = render(&nexa(), &fixture(), &[]);
    assert_eq!(files(&out_a), files(&out_b));
    assert_eq!(report_a, report_b);
}

#[test]
fn drift_in_the_base_is_an_error_naming_the_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("app");
    copy_dir(&fixture(), &tree);
    // Upstream "changed" the sender line and dropped the mailer layout.
    let mailer = tree.join("app/mailers/application_mailer.rb");
    let src = std::fs::read_to_string(&mailer).unwrap().replace("accounts@chatwoot.com", "hello@chatwoot.com");
    std::fs::write(&mailer, src).unwrap();
    std::fs::remove_file(tree.join("app/views/layouts/mailer/base.liquid")).unwrap();
    let out = tmp.path().join("out");
    let o = render_cmd("nexa", &tree, &out, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}\n{}", String::from_utf8_lossy(&o.stdout));
    assert!(err.contains("rule mail-layout") && err.contains("base.liquid is missing"), "{err}");
    assert!(!out.exists(), "nothing is written on error");

    // --partial skips the absent file but still fails on content drift.
    let o = render_cmd("nexa", &tree, &out, &["--partial"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("rule default-sender") && err.contains("expected 4"), "{err}");
    assert!(!err.contains("rule mail-layout"), "{err}");
}

#[test]
fn partial_tree_renders_what_is_there_and_lists_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("app");
    std::fs::create_dir_all(tree.join("config")).unwrap();
    std::fs::copy(fixture().join("config/installation_config.yml"), tree.join("config/installation_config.yml"))
        .unwrap();
    let (_t, out, report) = render(&nexa(), &tree, &["--partial"]);
    assert_eq!(
        files(&out).keys().cloned().collect::<Vec<_>>(),
        vec!["config/installation_config.yml", "public/favicon.ico"]
    );
    let skipped = report["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["rule"] == "mail-layout"), "{skipped:?}");
    assert!(skipped.iter().any(|s| s["rule"] == "ui-strings"), "{skipped:?}");
    assert_eq!(report["partial"], true);
}

#[test]
fn render_prints_a_summary_and_json_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = render_cmd("nexa", &fixture(), &out, &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(
        stdout.contains("Rendered Nexa") && stdout.contains("ui-strings") && stdout.contains("report:"),
        "{stdout}"
    );
    let report = tmp.path().join("r.json");
    let out = tmp.path().join("o2");
    let o = render_cmd("nexa", &fixture(), &out, &["--json", "--report", report.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("--json prints JSON");
    assert_eq!(v["brand"], "nexa");
    assert!(report.exists());
}

#[test]
fn source_map_mappings_follow_the_patched_code() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("app");
    copy_dir(&fixture(), &tree);
    // Give the locale chunk a map with a token at every `{KEY` of its code.
    let js_path = "public/vite/assets/dashboard-locales-AbC123xy.js";
    let js = std::fs::read_to_string(tree.join(js_path)).unwrap();
    let mut builder = sourcemap::SourceMapBuilder::new(None);
    let mut expected = Vec::new();
    for (line, text) in js.split('\n').enumerate() {
        let mut col16 = 0u32;
        let chars: Vec<char> = text.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if *c == '{' && chars.get(i + 1).is_some_and(|n| n.is_ascii_uppercase()) {
                builder.add(line as u32, col16, 0, col16, Some("src.js"), None, false);
                expected.push(chars[i..(i + 6).min(chars.len())].iter().collect::<String>());
            }
            col16 += c.len_utf16() as u32;
        }
    }
    assert!(expected.len() > 5, "the fixture chunk has keyed objects");
    let mut map = Vec::new();
    builder.into_sourcemap().to_writer(&mut map).unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tree.join(format!("{js_path}.map"))).unwrap()).unwrap();
    doc["mappings"] = serde_json::from_slice::<serde_json::Value>(&map).unwrap()["mappings"].clone();
    std::fs::write(tree.join(format!("{js_path}.map")), serde_json::to_vec(&doc).unwrap()).unwrap();

    let (_t, out, report) = render(&nexa(), &tree, &[]);
    let overlay = files(&out);
    // The patched chunk and its map carry a new name (cache-busting).
    let js_path = report["cache_busting"]["renamed"][js_path].as_str().unwrap();
    let new_js = text(&overlay[js_path]);
    assert_ne!(new_js.len(), js.len(), "the chunk was patched with a name of another length");
    let new_map = sourcemap::SourceMap::from_slice(&overlay[&format!("{js_path}.map")]).unwrap();
    let lines: Vec<&str> = new_js.split('\n').collect();
    let found: Vec<String> = new_map
        .tokens()
        .map(|t| {
            let line: Vec<u16> = lines[t.get_dst_line() as usize].encode_utf16().collect();
            String::from_utf16_lossy(&line[t.get_dst_col() as usize..]).chars().take(6).collect()
        })
        .collect();
    assert_eq!(found, expected, "every mapping still points at the same code");
    let map_report =
        report["files"].as_array().unwrap().iter().find(|f| f["path"] == format!("{js_path}.map")).unwrap();
    assert!(map_report["rules"].as_array().unwrap().iter().any(|r| r == "mappings"));
}
