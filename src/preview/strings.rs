//! The product name as the UI shows it: short strings of the rendered
//! overlay that contain the brand name, each with its locale. They come from
//! the Rails locale files (`config/locales/<locale>.yml`) and from the i18n
//! JSON sources the bundles' source maps carry (`sourcesContent` of
//! `…/i18n/locale/<locale>/….json`), where the locale is known; shown as
//! users read them (vue-i18n literal interpolations and Rails `%%` undone).

use regex::Regex;
use serde::Serialize;

use crate::render::Overlay;
use crate::scan::yaml::{self, Style};

/// How many characters a string shown may have besides the name.
const MAX_EXTRA_CHARS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UiString {
    pub text: String,
    pub locale: String,
    /// Where it was found: an overlay path, or `map → source` for a map's source.
    pub source: String,
}

/// Up to `max` unique short strings containing `name`: the `locale` ones
/// first, then the same language, then English, then the rest; shortest first.
pub fn find(overlay: &Overlay, name: &str, locale: &str, max: usize) -> Vec<UiString> {
    let mut found = Vec::new();
    let yml_locale =
        Regex::new(r"^config/locales/(?:.*[./])?([a-z]{2,3}(?:[_-][A-Za-z0-9]{2,4})?)\.yml$").expect("valid");
    let json_locale =
        Regex::new(r"/i18n/locale/([a-z]{2,3}(?:[_-][A-Za-z0-9]{2,4})?)(?:/[^/]+)?\.json$").expect("valid");
    for (path, bytes) in &overlay.files {
        let Ok(text) = std::str::from_utf8(bytes) else { continue };
        if let Some(c) = yml_locale.captures(path) {
            for v in yaml::values(text) {
                if let Some(s) = yaml_value(&text[v.start..v.end], v.style) {
                    found.push(UiString { text: s, locale: c[1].to_string(), source: path.clone() });
                }
            }
        } else if path.ends_with(".js.map") {
            let Ok(map) = serde_json::from_str::<serde_json::Value>(text) else { continue };
            let (Some(sources), Some(contents)) = (map["sources"].as_array(), map["sourcesContent"].as_array()) else {
                continue;
            };
            for (src, content) in sources.iter().zip(contents) {
                let (Some(src), Some(content)) = (src.as_str(), content.as_str()) else { continue };
                let Some(c) = json_locale.captures(src) else { continue };
                let Ok(messages) = serde_json::from_str::<serde_json::Value>(content) else { continue };
                let short = src.rsplit_once("javascript/").map_or(src, |(_, r)| r);
                let source = format!("{} → {short}", path.rsplit('/').next().unwrap_or(path));
                let mut out = Vec::new();
                messages_of(&messages, &mut out);
                for m in out.into_iter().filter_map(|m| vue_message(&m)) {
                    found.push(UiString { text: m, locale: c[1].to_string(), source: source.clone() });
                }
            }
        }
    }
    found.retain(|s| shows_name(&s.text, name));
    let lang = |l: &str| l.split(['_', '-']).next().unwrap_or("").to_string();
    let rank = |s: &UiString| {
        if s.locale.replace('-', "_") == locale.replace('-', "_") {
            0
        } else if lang(&s.locale) == lang(locale) {
            1
        } else if s.locale == "en" {
            2
        } else {
            3
        }
    };
    found.sort_by(|a, b| {
        (rank(a), a.text.chars().count(), &a.text, &a.source).cmp(&(
            rank(b),
            b.text.chars().count(),
            &b.text,
            &b.source,
        ))
    });
    let mut seen = std::collections::HashSet::new();
    found.retain(|s| seen.insert(s.text.clone()));
    found.truncate(max);
    found
}

/// A short, plain UI string showing the name: not the bare name, no markup,
/// links, placeholders or line breaks around it.
fn shows_name(text: &str, name: &str) -> bool {
    let too_long = text.chars().count() > name.chars().count() + MAX_EXTRA_CHARS;
    if name.is_empty() || !text.contains(name) || text.trim() == name || too_long {
        return false;
    }
    let rest = text.replace(name, " ");
    !rest.contains(['<', '>', '{', '}', '\\', '\n', '\r']) && !rest.contains("%{") && !rest.contains("://")
}

fn messages_of(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| messages_of(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| messages_of(v, out)),
        _ => {}
    }
}

/// A vue-i18n message as displayed, when it is plain text: literal
/// interpolations `{'x'}` become `x`; messages with named interpolations,
/// linked messages or plural forms are skipped.
fn vue_message(m: &str) -> Option<String> {
    let literal = Regex::new(r"\{'([^']*)'\}").expect("valid regex");
    let rest = literal.replace_all(m, "");
    if rest.contains(['{', '}', '|', '@']) {
        return None;
    }
    Some(literal.replace_all(m, "$1").into_owned())
}

/// A YAML scalar body as Rails shows it (`%%` is a literal `%`).
fn yaml_value(body: &str, style: Style) -> Option<String> {
    let s = match style {
        Style::Plain => body.to_string(),
        Style::Single => body.replace("''", "'"),
        Style::Double => serde_json::from_str::<String>(&format!("\"{body}\"")).ok()?,
        // A line of a block scalar is only part of a message.
        Style::Block => return None,
    };
    Some(s.replace("%%", "%"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay(files: &[(&str, &str)]) -> Overlay {
        Overlay { files: files.iter().map(|(p, t)| (p.to_string(), t.as_bytes().to_vec())).collect() }
    }

    #[test]
    fn prefers_the_brand_locale_then_english_and_undoes_escaping() {
        let map = serde_json::json!({
            "version": 3,
            "sources": ["../app/javascript/dashboard/i18n/locale/en/login.json",
                        "../app/javascript/widget/i18n/locale/pt_BR.json",
                        "../app/javascript/dashboard/App.vue"],
            "sourcesContent": [
                r#"{"LOGIN":{"TITLE":"Login to A{'|'}B","HI":"Hi {name}, A{'|'}B","X":"See <a href=\"https://x\">A{'|'}B</a>"}}"#,
                r#"{"POWERED":"Desenvolvido por A{'|'}B"}"#,
                "const t = 'Ignored A|B';"
            ],
            "mappings": ""
        });
        let o = overlay(&[
            ("public/vite/assets/a.js.map", &map.to_string()),
            (
                "config/locales/pt_BR.yml",
                "pt_BR:\n  made_with: Feito com A|B\n  pct: \"100%% A|B\"\n  long: Uma frase muito longa que passa do limite de caracteres com A|B\n",
            ),
            ("config/locales/fr.yml", "fr:\n  x: Fait avec A|B\n"),
        ]);
        let found = find(&o, "A|B", "pt_BR", 10);
        let texts: Vec<&str> = found.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, vec!["100% A|B", "Feito com A|B", "Desenvolvido por A|B", "Login to A|B", "Fait avec A|B"]);
        assert_eq!(found[2].locale, "pt_BR");
        assert_eq!(found[2].source, "a.js.map → widget/i18n/locale/pt_BR.json");
        assert_eq!(find(&o, "A|B", "pt_BR", 2).len(), 2);
    }
}
