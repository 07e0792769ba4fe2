//! The app tree the benches run on: generated once per run, of realistic
//! size: the real messages of every locale (../shared/chatwoot-v3.15.0, laid
//! out as Vite emits them, with maps and the Rails locales), sixty code
//! chunks with dense maps, stylesheets, and the fixture's other files.
//! Shared by `benches/render.rs` and `benches/build.rs` (`mod common;`).

use std::fmt::Write as _;
use std::path::Path;

#[allow(dead_code)]
#[path = "../../tests/common/locales.rs"]
mod locales;

/// Writes the tree; returns (bytes of JS, maps and locale YAML, mentions of
/// the name in any case in the locale chunks and YAML).
pub fn generate(repo: &Path, app: &Path) -> (usize, usize) {
    // Everything but the bundles comes from the fixture (icons, config, views, audio).
    for e in walkdir::WalkDir::new(repo.join("tests/fixtures/chatwoot-v3.15.0")) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(repo.join("tests/fixtures/chatwoot-v3.15.0")).unwrap();
        let dst = app.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
    let assets = app.join("public/vite/assets");
    let mut total = 0;
    let mut occurrences = 0;
    // The shared locale chunks of every real locale (dashboard, widget,
    // survey) with their maps, and config/locales/*.yml.
    let shared = locales::shared(repo).expect("the benches need ../shared/chatwoot-v3.15.0 beside the checkout");
    let tree = locales::lay_out(&shared, app);
    let name = regex::Regex::new("(?i)chatwoot").unwrap();
    for chunk in tree.chunks.keys().chain(&tree.yaml) {
        let text = std::fs::read_to_string(app.join(chunk)).unwrap();
        occurrences += name.find_iter(&text).count();
        total += text.len();
        if let Ok(map) = std::fs::metadata(app.join(format!("{chunk}.map"))) {
            total += map.len() as usize;
        }
    }
    // Sixty code chunks of ~115 KB: ordinary minified code and strings; one in
    // six mentions the product (text and a comparison trap), one in three
    // carries palette colors.
    for c in 0..60 {
        let mut js = String::new();
        for f in 0..1120 {
            write!(js, "function f{c}_{f}(e,t){{const n=e.items.filter(o=>o.id!==t.id);return n.length>{f}?\"Showing {f} conversations\":`${{n.length}} items`}};").unwrap();
        }
        if c % 6 == 0 {
            js.push_str("const m={POWERED_BY:\"Powered by Chatwoot\",HELP:\"https://chwt.app/hc/email\"},g=e=>e.installationName===\"Chatwoot\";");
            occurrences += 1;
        }
        if c % 3 == 0 {
            js.push_str("const k={bubble:\"#1f93ff\",accent:\"#2781f6\"};");
        }
        js.push_str("export{f0_0 as a};\n");
        total += write_with_map(&assets, &format!("chunk{c:02}-Zz{c:06}"), &js);
    }
    // Twenty stylesheets using the woot palette in every form.
    for c in 0..20 {
        let mut css = String::new();
        for r in 0..400 {
            write!(css, ".c{c}-{r}{{color:#2a2a2a;margin:{r}px}}").unwrap();
        }
        css.push_str(".bg-woot-500{background-color:rgb(59 158 255 / var(--tw-bg-opacity))}.text-woot-600{color:#0090ff}:root{--w-500:#1F93FF}");
        std::fs::write(assets.join(format!("style{c:02}-Cc{c:06}.css")), &css).unwrap();
        total += css.len();
    }
    (total, occurrences)
}

/// Writes `name.js` and `name.js.map` (sourcesContent holds the same text,
/// mappings as dense as a minifier's: a token after every `{`, `;`, `,`, `(`);
/// returns the bytes written.
pub fn write_with_map(dir: &Path, name: &str, js: &str) -> usize {
    let code = format!("{js}//# sourceMappingURL={name}.js.map\n");
    let mut builder = sourcemap::SourceMapBuilder::new(None);
    let mut col = 0u32;
    let mut after_punct = true;
    for c in js.chars() {
        if after_punct {
            builder.add(0, col, 0, col, Some("src.js"), None, false);
        }
        after_punct = matches!(c, '{' | ';' | ',' | '(');
        col += c.len_utf16() as u32;
    }
    let mut encoded = Vec::new();
    builder.into_sourcemap().to_writer(&mut encoded).unwrap();
    let mappings = serde_json::from_slice::<serde_json::Value>(&encoded).unwrap()["mappings"].clone();
    let map = serde_json::json!({
        "version": 3,
        "file": format!("{name}.js"),
        "sources": [format!("../../app/javascript/{name}.js")],
        "sourcesContent": [js],
        "names": [],
        "mappings": mappings,
    })
    .to_string();
    std::fs::write(dir.join(format!("{name}.js")), &code).unwrap();
    std::fs::write(dir.join(format!("{name}.js.map")), &map).unwrap();
    code.len() + map.len()
}
