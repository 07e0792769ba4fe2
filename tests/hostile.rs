//! Untrusted brand packs: hostile names render to valid files that show the
//! name literally; hostile packs are refused by `check` and `render` alike.

mod common;

use common::*;
use oxc_allocator::Allocator;
use oxc_ast::ast::{StringLiteral, TemplateLiteral};
use oxc_ast_visit::{Visit, walk};

const NAMES: [&str; 9] = ["Acme \"Q\" & <b>", "It's", "Back`tick ${x}", "A|B", "{n}", "@x", "$&", "Ação", "100%{n}"];

/// Every string value of a JS file, decoded by an independent parser.
fn js_strings(src: &str) -> Vec<String> {
    struct V(Vec<String>);
    impl<'a> Visit<'a> for V {
        fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
            self.0.push(it.value.to_string());
        }
        fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
            for q in &it.quasis {
                self.0.push(q.value.cooked.map(|c| c.to_string()).unwrap_or_default());
            }
            walk::walk_template_literal(self, it);
        }
    }
    let alloc = Allocator::default();
    let ret = oxc_parser::Parser::new(&alloc, src, oxc_span::SourceType::mjs()).parse();
    assert!(ret.diagnostics.is_empty(), "does not parse");
    let mut v = V(Vec::new());
    v.visit_program(&ret.program);
    v.0
}

fn named(name: &str) -> tempfile::TempDir {
    let quoted = toml::Value::String(name.to_string()).to_string();
    nexa_variant(|t| t.replacen("name = \"Nexa\"", &format!("name = {quoted}"), 1))
}

#[test]
fn hostile_names_land_escaped_for_every_context() {
    for name in NAMES {
        let pack = named(name);
        let (_t, out, _) = render(&variant_dir(&pack), &fixture(), &[]);
        let overlay = files(&out);
        let mut titles = Vec::new();
        for (p, bytes) in overlay.iter().filter(|(p, _)| p.ends_with(".js")) {
            node_check(p, bytes).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            if p.ends_with("sdk.js") {
                continue;
            }
            titles.extend(js_strings(text(bytes)).into_iter().filter(|s| s.starts_with("Login to ")));
        }
        assert!(!titles.is_empty(), "{name:?}: no login title found");
        // What vue-i18n itself displays for the patched messages.
        for shown in vue_i18n_display(&titles) {
            assert_eq!(shown, format!("Login to {name}"), "{name:?} as vue-i18n shows it");
        }
        for (p, bytes) in overlay.iter().filter(|(p, _)| p.ends_with(".json") || p.ends_with(".map")) {
            serde_json::from_slice::<serde_json::Value>(bytes).unwrap_or_else(|e| panic!("{name:?} {p}: {e}"));
        }
        let manifest: serde_json::Value = serde_json::from_slice(&overlay["public/manifest.json"]).unwrap();
        assert_eq!(manifest["name"], name);
        let config = yaml_rust2::YamlLoader::load_from_str(text(&overlay["config/installation_config.yml"])).unwrap();
        let entry = config[0]
            .as_vec()
            .unwrap()
            .iter()
            .find(|e| e["name"].as_str() == Some("INSTALLATION_NAME"))
            .unwrap()
            .clone();
        assert_eq!(entry["value"].as_str(), Some(name));
        for f in ["config/locales/en.yml", "config/locales/pt_BR.yml"] {
            let docs = yaml_rust2::YamlLoader::load_from_str(text(&overlay[f]))
                .unwrap_or_else(|e| panic!("{name:?} {f}: {e}"));
            let mut all = Vec::new();
            yaml_strings(&docs[0], &mut all);
            // Rails I18n shows `%%` as `%`.
            assert!(all.iter().any(|v| v.replace("%%", "%").contains(name)), "{name:?}: {f} shows the name literally");
        }
        let meta = text(&overlay["app/views/layouts/vueapp.html.erb"]);
        assert!(meta.contains(&format!("content=\"{} –", whitelabel::escape::html(name))), "{name:?}");
        let mail = text(&overlay["app/views/devise/mailer/confirmation_instructions.html.erb"]);
        assert!(mail.contains(&format!("|| '{}'", whitelabel::escape::ruby_single(name))), "{name:?}");
    }
}

/// Both `check` and `render` refuse the pack, naming the field; nothing is written.
fn refused(pack: &std::path::Path, expect: &[&str]) {
    let o = whitelabel(&["check", pack.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    for e in expect {
        assert!(err.contains(e), "check: expected {e:?} in:\n{err}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = render_cmd(pack.to_str().unwrap(), &fixture(), &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains(expect[0]));
    assert!(!out.exists());
}

#[test]
fn parent_paths_are_refused() {
    let pack = nexa_variant(|t| t.replace("light = \"logo.svg\"", "light = \"../variant/logo.svg\""));
    refused(&variant_dir(&pack), &["logos.light", "uses `..`"]);
    let pack = nexa_variant(|t| t.replace("layout = \"mail/base.liquid\"", "layout = \"/etc/passwd\""));
    refused(&variant_dir(&pack), &["mail.layout", "absolute"]);
}

#[test]
fn symlinks_out_of_the_pack_are_refused() {
    let pack = nexa_variant(|t| t.to_string());
    let logo = variant_dir(&pack).join("logo.svg");
    std::fs::remove_file(&logo).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &logo).unwrap();
    refused(&variant_dir(&pack), &["logos.light", "symlink that leads outside"]);
}

#[test]
fn svg_external_references_and_huge_canvases_are_refused() {
    let pack = nexa_variant(|t| t.to_string());
    std::fs::write(
        variant_dir(&pack).join("mark.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd" width="10" height="10"/></svg>"#,
    )
    .unwrap();
    refused(&variant_dir(&pack), &["logos.mark", "<image>"]);
    std::fs::write(
        variant_dir(&pack).join("mark.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100000" height="100000"/></svg>"#,
    )
    .unwrap();
    refused(&variant_dir(&pack), &["logos.mark", "canvas is 100000x100000"]);
}

#[test]
fn bad_fields_are_all_reported_at_once() {
    let pack = nexa_variant(|t| {
        t.replace("primary = \"#4b2fd6\"", "primary = \"#ffee00\"")
            .replace("https://ajuda.nexateam.com.br\"", "http://ajuda.nexateam.com.br\"")
            .replace("sender = \"Nexa <atendimento@nexateam.com.br>\"", "sender = \"atendimento\"")
    });
    refused(&variant_dir(&pack), &["colors.primary", "contrast ratio", "urls.help", "is not https", "mail.sender"]);
}

/// Logos that ask for unbounded work: refused on the raw XML, naming the
/// limit, by check, render and list alike (and fast: the time is printed).
#[test]
fn artwork_that_asks_for_unbounded_work_is_refused_naming_the_limit() {
    let svg = |body: String| format!(r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{body}</svg>"#);
    let rect = r#"<rect width="10" height="10"/>"#;
    let blurs: String =
        (0..2000).map(|i| format!(r#"<feGaussianBlur in="b{i}" result="b{}" stdDeviation="3"/>"#, i + 1)).collect();
    let uses: String =
        (1..20).map(|i| format!(r##"<g id="u{i}"><use href="#u{}"/><use href="#u{}"/></g>"##, i - 1, i - 1)).collect();
    let cases = [
        (svg(format!("{}{rect}{}", "<g>".repeat(20_000), "</g>".repeat(20_000))), "nest deeper than 64"),
        (svg(rect.repeat(12_000)), "more than 10000 elements"),
        (
            svg(format!(r#"<filter id="f">{blurs}</filter><rect width="10" height="10" filter="url(#f)"/>"#)),
            "4 filter primitives",
        ),
        (
            svg(
                r#"<filter id="f" filterUnits="userSpaceOnUse" x="0" y="0" width="1000000" height="1000000"><feGaussianBlur stdDeviation="9"/></filter><rect width="10" height="10" filter="url(#f)"/>"#.to_string()),
            "region width=\"1000000\"",
        ),
        (svg(format!(r##"<defs><g id="u0">{rect}</g>{uses}</defs><use href="#u19"/>"##)), "holds another <use>"),
    ];
    for (logo, limit) in cases {
        let pack = nexa_variant(|t| t.to_string());
        std::fs::write(variant_dir(&pack).join("mark.svg"), &logo).unwrap();
        let started = std::time::Instant::now();
        refused(&variant_dir(&pack), &["logos.mark", limit]);
        println!("{limit}: check + render refused it in {:.2}s", started.elapsed().as_secs_f64());
    }
}

/// One broken pack is one failed row: `list` still lists the others.
#[test]
fn a_pack_with_hostile_artwork_is_one_failed_row_in_list() {
    let brands = tempfile::tempdir().unwrap();
    copy_dir(&nexa(), &brands.path().join("good"));
    copy_dir(&nexa(), &brands.path().join("deep"));
    let deep = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{}<rect width="10" height="10"/>{}</svg>"#,
        "<g>".repeat(20_000),
        "</g>".repeat(20_000)
    );
    std::fs::write(brands.path().join("deep/logo.svg"), deep).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_whitelabel"))
        .args(["--brands-dir", brands.path().to_str().unwrap(), "list", "--json"])
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = v.to_string();
    assert!(text.contains("nest deeper than 64"), "{v:#}");
    assert!(text.contains("\"good\""), "the other pack is listed: {v:#}");
}

/// A `[links]` key that is an XML namespace would rewrite `xmlns` values
/// (the brand's own inlined logo first): refused, naming the key.
#[test]
fn a_links_key_that_is_an_xml_namespace_is_refused() {
    let pack = nexa_variant(|t| {
        t.replacen("[links]\n", "[links]\n\"http://www.w3.org/2000/svg\" = \"https://nexa.example/svg\"\n", 1)
    });
    refused(&variant_dir(&pack), &["links.\"http://www.w3.org/2000/svg\"", "XML namespace"]);
}
