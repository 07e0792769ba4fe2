//! Render and audit over a compiled-style tree built from EVERY locale of the
//! real v3.15.0 data (`../shared/chatwoot-v3.15.0`, present in CI; see
//! tests/common/locales.rs): per form of the product name (case, script,
//! suffix) and for upstream links, the real messages hold some before and
//! none after, as the browser evaluates the chunks; every protected literal
//! keeps its count; the audit sees the same, and catches a disabled rule.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::locales::{self, Tree};
use common::*;

/// How the test itself (not the crate) reads a name in a message: the
/// forms the issue lists, judged by plain regexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Form {
    Word,
    Case,
    Script,
    Suffix,
}

struct Judge {
    name: regex::Regex,
    /// Code inside messages: `{placeholders}`, protected names, hosts and paths.
    code: regex::Regex,
    links: regex::Regex,
}

impl Judge {
    fn new() -> Judge {
        let ps = whitelabel::patchset::PatchSet::load(&repo().join("patches/chatwoot-v3.15.0")).unwrap();
        let protected: Vec<String> = ps.protected.iter().map(|p| regex::escape(p)).collect();
        Judge {
            name: regex::Regex::new("(?i)chatwoot").unwrap(),
            code: regex::Regex::new(&format!(r"\{{[^{{}}\s]*\}}|{}", protected.join("|"))).unwrap(),
            links: regex::Regex::new(r"(?i)(?:[a-z0-9-]+\.)*chatwoot\.(?:com|help)|chwt\.app|github\.com/chatwoot")
                .unwrap(),
        }
    }

    /// The forms of the name in text in `s` (links and code excluded).
    fn forms(&self, s: &str) -> Vec<Form> {
        let code: Vec<_> = self.code.find_iter(s).chain(self.links.find_iter(s)).map(|m| m.range()).collect();
        let mut out = Vec::new();
        for m in self.name.find_iter(s) {
            if code.iter().any(|c| c.start < m.end() && m.start() < c.end) {
                continue;
            }
            let prev = s[..m.start()].chars().next_back();
            let next = s[m.end()..].chars().next();
            let latin = |c: char| c.is_ascii_alphanumeric();
            let host = s[m.end()..].starts_with('.') && s[m.end() + 1..].starts_with(|c: char| c.is_alphanumeric());
            if prev.is_some_and(|c| latin(c) || "/.@".contains(c)) || host {
                continue; // part of a longer name, a host (the brand's own too) or a path
            }
            out.push(if next.is_some_and(|c| c.is_ascii_lowercase()) {
                Form::Suffix
            } else if prev.is_some_and(char::is_alphabetic) || next.is_some_and(char::is_alphabetic) {
                Form::Script
            } else if m.as_str() != "Chatwoot" {
                Form::Case
            } else {
                Form::Word
            });
        }
        out
    }

    fn links(&self, s: &str) -> usize {
        self.links.find_iter(s).count() + s.matches("https:/ /").count()
    }
}

fn build(shared: &Path) -> (tempfile::TempDir, std::path::PathBuf, Tree) {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    copy_dir(&fixture(), &app);
    let tree = locales::lay_out(shared, &app);
    (tmp, app, tree)
}

/// Base + overlay as one directory (what the image holds).
fn merged(base: &Path, overlay: &Path, into: &Path) {
    copy_dir(base, into);
    copy_dir(overlay, into);
}

#[test]
fn every_locale_loses_the_name_in_every_form_and_keeps_its_code() {
    let Some(shared) = locales::shared(&repo()) else { return };
    let (_t, app, tree) = build(&shared);
    let judge = Judge::new();
    let ps = whitelabel::patchset::PatchSet::load(&repo().join("patches/chatwoot-v3.15.0")).unwrap();
    let base = files(&app);
    let (_o, out, report) = render(&nexa(), &app, &[]);
    let overlay = files(&out);
    // The overlay holds a changed content-named file under its new name.
    let served = |p: &str| served_path(&report, p);

    let mut before: BTreeMap<Form, usize> = BTreeMap::new();
    let mut links_before = 0;
    let mut locales_seen = 0;
    for (chunk, messages) in &tree.chunks {
        assert!(overlay.contains_key(&served(chunk)), "{chunk} was not rewritten");
        let after = locales::evaluate(&out.join(served(chunk)));
        assert_eq!(after.len(), messages.len(), "{chunk}: every locale is still exported");
        for (locale, old) in messages {
            locales_seen += 1;
            let (mut o, mut n) = (Vec::new(), Vec::new());
            locales::strings(old, "", &mut o);
            locales::strings(&after[locale], "", &mut n);
            assert_eq!(o.len(), n.len(), "{chunk} {locale}: same messages");
            for ((pointer, old), (_, new)) in o.iter().zip(&n) {
                for f in judge.forms(old) {
                    *before.entry(f).or_default() += 1;
                }
                links_before += judge.links(old);
                assert_eq!(judge.forms(new), vec![], "{chunk} {locale}{pointer}: the name is left in {new:?}");
                assert_eq!(judge.links(new), 0, "{chunk} {locale}{pointer}: an upstream link is left in {new:?}");
                if !judge.forms(old).is_empty() {
                    assert!(new.contains("Nexa") || new.contains("NEXA"), "{locale}{pointer}: {old:?} became {new:?}");
                }
            }
        }
    }
    assert!(locales_seen > 100, "dashboard, widget and survey of every locale: {locales_seen}");
    for form in [Form::Word, Form::Case, Form::Script, Form::Suffix] {
        assert!(before.get(&form).copied().unwrap_or(0) > 0, "the real data hold the {form:?} form: {before:?}");
    }
    // The issue counts 58 lower-case (28 languages), 21 CJK, 9 inflected.
    assert!(before[&Form::Case] >= 50 && before[&Form::Script] >= 20 && before[&Form::Suffix] >= 9, "{before:?}");
    assert!(links_before > 100, "{links_before}");

    // The forms, as a reader of each language sees them.
    let dashboard = locales::evaluate(&out.join(served("public/vite/assets/dashboard-locales-AbC123xy.js")));
    assert_eq!(dashboard["fi"]["LOGIN"]["TITLE"], "Kirjaudu sisään Nexaiin");
    assert_eq!(dashboard["ja"]["LOGIN"]["TITLE"], "Nexaにログイン");
    assert_eq!(dashboard["zh_CN"]["LOGIN"]["TITLE"], "登录到Nexa");
    let slack = dashboard["pt_BR"]["INTEGRATION_SETTINGS"]["SLACK"]["HELP_TEXT"]["BODY"].as_str().unwrap();
    assert!(slack.contains("através do Nexa"), "{slack}");
    let update = dashboard["ko"]["GENERAL_SETTINGS"]["UPDATE_CHATWOOT"].as_str().unwrap();
    assert!(update.starts_with("Nexa에 대한 {latestChatwootVersion}"), "the placeholder is code: {update}");

    // Every protected literal keeps its count in every file, maps included.
    for (path, old) in &base {
        let new = overlay.get(&served(path)).unwrap_or(old);
        assert_eq!(
            ps.protected_counts(&String::from_utf8_lossy(old)),
            ps.protected_counts(&String::from_utf8_lossy(new)),
            "{path}: protected names changed count"
        );
        if path.ends_with(".js") {
            node_check(path, new).unwrap();
        }
    }
    assert!(
        ps.protected_counts(text(&base["public/vite/assets/dashboard-locales-AbC123xy.js"])).iter().sum::<usize>() > 40,
        "the embed snippets of the real messages are there"
    );

    // An icon name is code, though it sits where text would.
    let bundle = text(&overlay[&served("public/vite/assets/dashboard-AbC123zz.js")]);
    assert!(bundle.contains(r#"{class:"chatwoot-ai-icon",icon:"chatwoot-ai"}"#), "icon names stay");

    // Maps: the JSON sources devtools show, and the Rails locales.
    for (path, new) in overlay.iter().filter(|(p, _)| p.ends_with(".map")) {
        let map: serde_json::Value = serde_json::from_slice(new).unwrap();
        for (i, src) in map["sourcesContent"].as_array().unwrap().iter().enumerate() {
            if !map["sources"][i].as_str().unwrap().ends_with(".json") {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(src.as_str().unwrap()).unwrap();
            let mut strings = Vec::new();
            locales::strings(&value, "", &mut strings);
            for (pointer, s) in strings {
                assert_eq!(judge.forms(&s), vec![], "{path} source {i}{pointer}: {s:?}");
                assert_eq!(judge.links(&s), 0, "{path} source {i}{pointer}: {s:?}");
            }
        }
    }
    let mut yaml_before = 0;
    for path in &tree.yaml {
        let old = text(&base[path]);
        let new = text(overlay.get(path).map_or(base[path].as_slice(), Vec::as_slice));
        let (mut o, mut n) = (Vec::new(), Vec::new());
        yaml_strings(&yaml_rust2::YamlLoader::load_from_str(old).unwrap()[0], &mut o);
        yaml_strings(&yaml_rust2::YamlLoader::load_from_str(new).unwrap()[0], &mut n);
        assert_eq!(o.len(), n.len(), "{path}");
        for (old, new) in o.iter().zip(&n) {
            yaml_before += judge.forms(old).len();
            assert_eq!(judge.forms(new), vec![], "{path}: {new:?}");
            assert_eq!(judge.links(new), 0, "{path}: {new:?}");
        }
    }
    assert!(yaml_before > 100, "the Rails locales name the product: {yaml_before}");
}

#[test]
fn the_audit_sees_every_form_and_a_disabled_name_rule_is_caught() {
    let Some(shared) = locales::shared(&repo()) else { return };
    let (t, app, _tree) = build(&shared);

    // The stock tree: the audit names every form, with a place and a form.
    let o = whitelabel(&["--patches", "patches/chatwoot-v3.15.0", "audit", app.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut forms: BTreeMap<String, usize> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap().iter().filter(|f| f["category"] == "product-name") {
        assert!(f["offset"].is_u64() || f["pointer"].is_string(), "a place: {f}");
        *forms.entry(f["form"].as_str().unwrap().to_string()).or_default() += 1;
    }
    for form in ["word", "case", "script", "suffix"] {
        assert!(forms.get(form).copied().unwrap_or(0) > 0, "the stock audit finds the {form} form: {forms:?}");
    }
    assert!(v["counts"]["upstream-link"].as_u64().unwrap() > 100);

    // The branded tree (base + overlay) is clean.
    let (_o, out, _) = render(&nexa(), &app, &[]);
    let branded = t.path().join("branded");
    merged(&app, &out, &branded);
    let o = whitelabel(&[
        "--patches",
        "patches/chatwoot-v3.15.0",
        "audit",
        branded.to_str().unwrap(),
        "--base",
        app.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", serde_json::to_string_pretty(&v["findings"]).unwrap());

    // A copy of the patch set whose name entries are gone, then one whose
    // rules for the bundles, maps and Rails locales are gone altogether: the
    // render leaves the name, and the audit fails naming each case and form.
    let name_entries_gone = |f: &str, s: String| {
        if f != "30-ui-text.toml" && f != "50-config.toml" {
            return s;
        }
        s.replace("{ name = true, with = \"{brand.name}\" }, ", "")
            // Left with links only, the Rails rule finds nothing to change.
            .replace("id = \"rails-locales\"", "id = \"rails-locales\"\noptional = true")
    };
    let rules_gone = |_: &str, s: String| {
        ["ui-strings", "ui-strings-maps", "rails-locales"].iter().fold(s, |s, id| without_rule(&s, id))
    };
    for (n, edit) in [&name_entries_gone as &dyn Fn(&str, String) -> String, &rules_gone].into_iter().enumerate() {
        let dir = t.path().join(format!("disabled{n}"));
        let disabled = dir.join("patches");
        copy_dir(&repo().join("patches/chatwoot-v3.15.0"), &disabled);
        for e in std::fs::read_dir(&disabled).unwrap().map(|e| e.unwrap()) {
            let f = e.file_name().to_string_lossy().to_string();
            if !f.ends_with(".toml") {
                continue; // the strings catalogue (gzip) is data the edits leave alone
            }
            std::fs::write(e.path(), edit(&f, std::fs::read_to_string(e.path()).unwrap())).unwrap();
        }
        let lame = dir.join("lame");
        let o = whitelabel(&[
            "--patches",
            disabled.to_str().unwrap(),
            "render",
            nexa().to_str().unwrap(),
            "--from-dir",
            app.to_str().unwrap(),
            "--out",
            lame.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let lame_tree = dir.join("tree");
        merged(&app, &lame, &lame_tree);
        let o = whitelabel(&[
            "--patches",
            disabled.to_str().unwrap(),
            "audit",
            lame_tree.to_str().unwrap(),
            "--base",
            app.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "variant {n}: a disabled name rule must fail the audit");
        let report = String::from_utf8_lossy(&o.stdout);
        for needle in [
            "[suffix]",
            "[script]",
            "[case]",
            "«Chatwoot»iin",
            "«Chatwoot»にログイン",
            "através do «chatwoot»",
            "config/locales/",
            ".js.map#/sourcesContent/",
        ] {
            assert!(
                report.contains(needle),
                "variant {n}: the audit names {needle:?}:\n{}",
                &report[..report.len().min(3000)]
            );
        }
    }
}

/// `toml` without the `[[rule]]` whose id is `id`.
fn without_rule(toml: &str, id: &str) -> String {
    let head = format!("[[rule]]\nid = \"{id}\"\n");
    let Some(start) = toml.find(&head) else { return toml.to_string() };
    let end = toml[start + head.len()..].find("[[rule]]").map_or(toml.len(), |i| start + head.len() + i);
    format!("{}{}", &toml[..start], &toml[end..])
}
