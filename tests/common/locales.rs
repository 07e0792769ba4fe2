//! A compiled-style app tree built from EVERY locale of the real upstream
//! data in `../shared/chatwoot-v3.15.0` (present in CI), laid out as Vite
//! emits it: one shared dashboard locale chunk holding every locale's
//! messages as object literals with unquoted keys and strings in `"`, `'` or
//! backticks (whichever needs the fewest escapes, as esbuild picks), the
//! widget and survey locale chunks, a source map per chunk whose
//! `sourcesContent` are the JSON files, and `config/locales/*.yml` as is.
//! Shared by tests/all_locales.rs and the benches (`#[path]`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The real data beside the checkout `repo`, or `None` outside CI when it is
/// absent (in CI its absence fails the test).
pub fn shared(repo: &Path) -> Option<PathBuf> {
    let dir = repo.join("../shared/chatwoot-v3.15.0");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/chatwoot-v3.15.0 beside the checkout");
    eprintln!("skipped: ../shared/chatwoot-v3.15.0 is not here");
    None
}

/// The chunks written, by app-relative path, with the messages of each
/// locale they hold (locale → merged message object).
pub struct Tree {
    pub chunks: BTreeMap<String, BTreeMap<String, Value>>,
    pub yaml: Vec<String>,
}

/// One app (dashboard, widget, survey): its locale → [(JSON path, text)].
fn sources(shared: &Path, app: &str) -> BTreeMap<String, Vec<(String, String)>> {
    let root = shared.join(format!("app/javascript/{app}/i18n/locale"));
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for e in walkdir::WalkDir::new(&root).sort_by_file_name().into_iter().map(|e| e.unwrap()) {
        if !e.file_type().is_file() || e.path().extension().is_none_or(|x| x != "json") {
            continue;
        }
        let rel = e.path().strip_prefix(&root).unwrap().to_string_lossy().to_string();
        let locale = rel.split('/').next().unwrap().trim_end_matches(".json").to_string();
        let repo_path = format!("app/javascript/{app}/i18n/locale/{rel}");
        out.entry(locale).or_default().push((repo_path, std::fs::read_to_string(e.path()).unwrap()));
    }
    out
}

/// A JS string literal as esbuild writes it: the quote needing the fewest
/// escapes (backticks for text with line breaks).
pub fn js_string(s: &str) -> String {
    let (dq, sq, bt) =
        (s.matches('"').count(), s.matches('\'').count(), s.matches('`').count() + s.matches("${").count());
    let q = if s.contains('\n') && bt == 0 {
        '`'
    } else if dq <= sq {
        '"'
    } else if sq <= bt {
        '\''
    } else {
        '`'
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' if q != '`' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            '$' if q == '`' => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// A JSON value as a minified JS expression: identifier keys unquoted.
pub fn js_value(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let ident = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
                if ident {
                    out.push_str(k)
                } else {
                    out.push_str(&js_string(k))
                }
                out.push(':');
                js_value(v, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                js_value(v, out);
            }
            out.push(']');
        }
        Value::String(s) => out.push_str(&js_string(s)),
        other => out.push_str(&other.to_string()),
    }
}

fn merge(into: &mut serde_json::Map<String, Value>, from: Value) {
    if let Value::Object(m) = from {
        for (k, v) in m {
            match (into.get_mut(&k), v) {
                (Some(Value::Object(a)), Value::Object(b)) => merge(a, Value::Object(b)),
                (_, v) => {
                    into.insert(k, v);
                }
            }
        }
    }
}

/// Writes the full-locale chunks, their maps and the Rails locales under
/// `app` (the caller lays the fixture's other files beside them).
pub fn lay_out(shared: &Path, app: &Path) -> Tree {
    let mut tree = Tree { chunks: BTreeMap::new(), yaml: Vec::new() };
    let assets = app.join("public/vite/assets");
    std::fs::create_dir_all(&assets).unwrap();
    // The dashboard's takes the place of the fixture's locale chunk, which the
    // manifest reaches: an unreached chunk beside a reached one of the same
    // name is what a cache-busting rename leaves for open tabs, and is not served.
    let mut chunks = Vec::new();
    for (kind, hash) in [("dashboard", "AbC123xy"), ("widget", "Wd3e4f5a"), ("survey", "Sv6b7c8d")] {
        let per_locale = sources(shared, kind);
        let mut js = String::new();
        let mut map_sources = Vec::new();
        let mut map_contents = Vec::new();
        let mut exports = Vec::new();
        let mut messages = BTreeMap::new();
        for (l, (locale, files)) in per_locale.iter().enumerate() {
            let mut merged = serde_json::Map::new();
            let mut parts = Vec::new();
            for (f, (repo_path, text)) in files.iter().enumerate() {
                let value: Value = serde_json::from_str(text).unwrap();
                let name = format!("m{l}_{f}");
                js.push_str(&format!("const {name}="));
                js_value(&value, &mut js);
                js.push_str(";\n");
                parts.push(format!("...{name}"));
                merge(&mut merged, value);
                map_sources.push(format!("../../../{repo_path}"));
                map_contents.push(text.clone());
            }
            let var = format!("L{l}");
            writeln!(js, "const {var}={{{}}};", parts.join(",")).unwrap();
            exports.push(format!("{var} as {locale}"));
            messages.insert(locale.clone(), Value::Object(merged));
        }
        let file = format!("{kind}-locales-{hash}.js");
        let body = format!("{js}export{{{}}};\n//# sourceMappingURL={file}.map\n", exports.join(","));
        std::fs::write(assets.join(&file), body).unwrap();
        let map = serde_json::json!({
            "version": 3, "file": file, "sources": map_sources,
            "sourcesContent": map_contents, "names": [], "mappings": "AAAA"
        });
        std::fs::write(assets.join(format!("{file}.map")), serde_json::to_vec(&map).unwrap()).unwrap();
        tree.chunks.insert(format!("public/vite/assets/{file}"), messages);
        chunks.push(file);
    }
    // Vite's manifest lists every chunk, so a browser reaches them all.
    let manifest_path = app.join("public/vite/.vite/manifest.json");
    let mut manifest: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for file in chunks {
        let name = file.rsplit_once('-').unwrap().0.to_string();
        manifest.insert(format!("_{file}"), serde_json::json!({ "file": format!("assets/{file}"), "name": name }));
    }
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    let locales = app.join("config/locales");
    std::fs::create_dir_all(&locales).unwrap();
    for e in std::fs::read_dir(shared.join("config/locales")).unwrap().map(|e| e.unwrap()) {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".yml") {
            std::fs::copy(e.path(), locales.join(&name)).unwrap();
            tree.yaml.push(format!("config/locales/{name}"));
        }
    }
    tree.yaml.sort();
    tree
}

/// Every string of a JSON value with its pointer.
pub fn strings(v: &Value, pointer: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((pointer.to_string(), s.clone())),
        Value::Object(m) => m.iter().for_each(|(k, v)| strings(v, &format!("{pointer}/{k}"), out)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| strings(v, &format!("{pointer}/{i}"), out)),
        _ => {}
    }
}

/// Evaluates a locale chunk with node and returns its exports (locale →
/// messages), as the browser would see them.
pub fn evaluate(path: &Path) -> BTreeMap<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("chunk.mjs");
    std::fs::copy(path, &module).unwrap();
    let o = std::process::Command::new("node")
        .arg("--input-type=module")
        .arg("-e")
        .arg(format!(
            "const m = await import({}); process.stdout.write(JSON.stringify(m));",
            serde_json::to_string(&format!("file://{}", module.display())).unwrap()
        ))
        .output()
        .expect("node is needed for these tests (apt-get install nodejs)");
    assert!(o.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}
