//! Per-locale wording from the brand pack: `[strings.<locale>]` maps a
//! message key (`"INTEGRATION_SETTINGS.SLACK.HELP_TEXT.BODY"`) to the text
//! the brand wants, for grammar a name replacement cannot fix and for the
//! client's own wording. This module owns the whole concept:
//! - the catalogue of every locale's keys and their placeholders, shipped in
//!   the patch set (`check` has no base tree) and built from the upstream
//!   sources by `examples/strings_catalogue.rs`;
//! - validation (unknown locale or key, with the closest key; placeholders
//!   that differ from the original's);
//! - application to the compiled message objects (found by following the
//!   locale table's identifiers to their declarations), their maps'
//!   `sourcesContent`, and the Rails locale YAML.
//!
//! Escaping is the name replacement's: the override's placeholders stay
//! syntax, everything else is made literal (vue-i18n syntax then the JS
//! quote; rails-i18n `%` doubling then a YAML double-quoted scalar).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use oxc_allocator::Allocator;
use oxc_ast::ast::*;
use oxc_parser::Parser;
use oxc_span::SourceType;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::edits::Edit;
use crate::error::Problem;
use crate::escape::{self, Quote};

/// The brand's overrides: locale → key → text.
pub type Strings = BTreeMap<String, BTreeMap<String, String>>;

/// Placeholders a message's code relies on: vue-i18n `{name}`, linked
/// messages `@:key` / `@.modifier:key` / `@:{'key'}`, Rails `%{x}` / `%<x>d`.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"%\{\w+\}|%<\w+>[-+ 0#]*\d*(?:\.\d+)?[a-zA-Z]|@(?:\.\w+)?:(?:\{'[^']*'\}|[\w.\-]+[\w\-])|\{\s*[\w.]+\s*\}",
    )
    .expect("regex")
});

/// The placeholders of `text`, sorted (their order may change with grammar).
pub fn placeholders(text: &str) -> Vec<String> {
    let mut out: Vec<String> = PLACEHOLDER.find_iter(text).map(|m| m.as_str().to_string()).collect();
    out.sort();
    out
}

/// Every locale's keys with their placeholders (each distinct set the key
/// has across the dashboard, widget, survey and Rails messages).
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Catalogue {
    pub locales: BTreeMap<String, BTreeMap<String, Vec<Vec<String>>>>,
}

impl Catalogue {
    fn add(&mut self, locale: &str, key: String, text: &str) {
        let sets = self.locales.entry(locale.to_string()).or_default().entry(key).or_default();
        let p = placeholders(text);
        if !sets.contains(&p) {
            sets.push(p);
        }
    }

    /// Builds the catalogue from an upstream source tree: the dashboard,
    /// widget and survey JSON and `config/locales/*.yml`.
    pub fn build(source: &Path) -> Result<Catalogue, String> {
        let mut cat = Catalogue::default();
        for app in ["dashboard", "widget", "survey"] {
            let root = source.join(format!("app/javascript/{app}/i18n/locale"));
            for e in walkdir::WalkDir::new(&root).sort_by_file_name() {
                let e = e.map_err(|e| e.to_string())?;
                if !e.file_type().is_file() || e.path().extension().is_none_or(|x| x != "json") {
                    continue;
                }
                let Some(locale) = json_locale(&e.path().to_string_lossy()) else { continue };
                let text = std::fs::read_to_string(e.path()).map_err(|err| format!("{}: {err}", e.path().display()))?;
                let value: serde_json::Value =
                    serde_json::from_str(&text).map_err(|err| format!("{}: {err}", e.path().display()))?;
                let mut leaves = Vec::new();
                json_leaves(&value, String::new(), &mut leaves);
                for (key, text) in leaves {
                    cat.add(&locale, key, &text);
                }
            }
        }
        let dir = source.join("config/locales");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yml"))
            .collect();
        names.sort();
        for path in names {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let docs = yaml_rust2::YamlLoader::load_from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            for doc in docs {
                let yaml_rust2::Yaml::Hash(top) = doc else { continue };
                for (locale, body) in top {
                    let Some(locale) = locale.as_str() else { continue };
                    let mut leaves = Vec::new();
                    yaml_leaves(&body, String::new(), &mut leaves);
                    for (key, text) in leaves {
                        cat.add(locale, key, &text);
                    }
                }
            }
        }
        Ok(cat)
    }

    /// Reads a gzip-compressed JSON catalogue.
    pub fn read(gzip: &[u8]) -> Result<Catalogue, String> {
        serde_json::from_reader(flate2::read::GzDecoder::new(gzip)).map_err(|e| e.to_string())
    }

    /// The catalogue gzip-compressed, deterministic bytes.
    pub fn to_gzip(&self) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
        enc.write_all(&serde_json::to_vec(self).expect("json")).expect("in memory");
        enc.finish().expect("in memory")
    }

    /// Every problem of the brand's `[strings]` (in `file`), each with its fix.
    pub fn validate(&self, file: &Path, strings: &Strings) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (locale, keys) in strings {
            let Some(known) = self.locales.get(locale) else {
                let closest = closest(locale, self.locales.keys());
                problems.push(Problem::new(
                    file,
                    Some(format!("strings.{locale}")),
                    "is not a locale of this Chatwoot version",
                    match closest {
                        Some(c) => format!("use [strings.{c}] (the closest locale)"),
                        None => "use a locale Chatwoot ships, e.g. [strings.pt_BR]".into(),
                    },
                ));
                continue;
            };
            for (key, text) in keys {
                let field = Some(format!("strings.{locale}.\"{key}\""));
                let Some(sets) = known.get(key) else {
                    let fix = match closest(key, known.keys()) {
                        Some(c) => format!("did you mean \"{c}\"? Use a key of the {locale} messages"),
                        None => format!("use a key of the {locale} messages"),
                    };
                    problems.push(Problem::new(file, field, "is not a message key of this locale", fix));
                    continue;
                };
                let have = placeholders(text);
                if sets.len() > 1 {
                    problems.push(Problem::new(
                        file,
                        field,
                        "names messages whose placeholders differ between the dashboard, widget, survey or Rails",
                        "leave this key to the name replacement, or report it to the patch set's authors",
                    ));
                } else if sets[0] != have {
                    problems.push(Problem::new(
                        file,
                        field,
                        format!("has placeholders [{}], the original has [{}]", have.join(", "), sets[0].join(", ")),
                        "keep exactly the original's placeholders, in any order",
                    ));
                }
            }
        }
        problems
    }
}

/// The catalogue value nearest `word` by Jaro-Winkler, if any is near.
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(s, _)| *s > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The locale of an upstream message JSON path: `…/locale/pt_BR/x.json` or `…/locale/pt_BR.json`.
pub fn json_locale(path: &str) -> Option<String> {
    let rest = &path[path.rfind("/i18n/locale/")? + "/i18n/locale/".len()..];
    let first = rest.split('/').next()?;
    Some(first.trim_end_matches(".json").to_string())
}

fn json_leaves(v: &serde_json::Value, key: String, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::String(s) => out.push((key, s.clone())),
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                json_leaves(v, join(&key, k), out);
            }
        }
        // Arrays are data lists, not keyed messages: not overridable.
        _ => {}
    }
}

fn yaml_leaves(v: &yaml_rust2::Yaml, key: String, out: &mut Vec<(String, String)>) {
    match v {
        yaml_rust2::Yaml::String(s) => out.push((key, s.clone())),
        yaml_rust2::Yaml::Hash(h) => {
            for (k, v) in h {
                let k = match k {
                    yaml_rust2::Yaml::String(s) => s.clone(),
                    yaml_rust2::Yaml::Integer(i) => i.to_string(),
                    yaml_rust2::Yaml::Boolean(b) => b.to_string(),
                    _ => continue,
                };
                yaml_leaves(v, join(&key, &k), out);
            }
        }
        _ => {}
    }
}

fn join(prefix: &str, k: &str) -> String {
    if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") }
}

/// `text` with its placeholders kept and everything else made literal by `literal`.
fn keep_placeholders(text: &str, literal: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut last = 0;
    for m in PLACEHOLDER.find_iter(text) {
        out.push_str(&literal(&text[last..m.start()]));
        out.push_str(m.as_str());
        last = m.end();
    }
    out.push_str(&literal(&text[last..]));
    out
}

/// The body of a JS literal quoted with `quote` showing `text` through vue-i18n.
pub fn js_body(text: &str, quote: Quote) -> String {
    escape::js(&keep_placeholders(text, escape::vue_i18n), quote)
}

/// A YAML double-quoted scalar showing `text` through rails-i18n.
pub fn yaml_scalar(text: &str) -> String {
    escape::yaml_quoted(&keep_placeholders(text, |s| s.replace('%', "%%")))
}

/// Applies `edits` (sorted, non-overlapping, with their new text) to `src`.
fn splice(src: &str, edits: &[(usize, usize, String)]) -> (String, Vec<Edit>) {
    let mut out = String::with_capacity(src.len());
    let mut last = 0;
    let mut list = Vec::new();
    for (start, end, new) in edits {
        out.push_str(&src[last..*start]);
        list.push(Edit { at: *start, old_len: end - start, new_len: new.len() });
        out.push_str(new);
        last = *end;
    }
    out.push_str(&src[last..]);
    (out, list)
}

/// The overrides found in one file.
pub type Found = BTreeSet<(String, String)>;

/// Overrides a JS chunk's compiled messages. A locale table is an object
/// whose properties name at least `min_locales` catalogue locales and whose
/// values are identifiers (`{ar:GT,…,pt_BR:c6}`), or an `export{X as pt_BR,…}`
/// list; from there identifiers are followed to their top-level declarations,
/// through spreads and hoisted nested objects, to the message literal.
pub fn apply_js(
    src: &str,
    strings: &Strings,
    locales: &BTreeSet<String>,
    min_locales: usize,
) -> Option<(String, Vec<Edit>, Found)> {
    // Cheap pre-filter: a chunk naming no overridden locale as a key or an
    // export holds none of them.
    if !strings.keys().any(|l| src.contains(&format!("{l}:")) || src.contains(&format!(" as {l}"))) {
        return None;
    }
    let alloc = Allocator::default();
    let parsed = Parser::new(&alloc, src, SourceType::mjs()).parse();
    if parsed.panicked || !parsed.diagnostics.is_empty() {
        // Not a module (a classic script): it holds no Vite locale table. An
        // override found nowhere is reported by the render as a whole.
        return None;
    }
    let index = Index::build(&parsed.program, locales, min_locales);
    let mut edits = Vec::new();
    let mut found = Found::new();
    for table in &index.tables {
        for (locale, keys) in strings {
            let Some(root) = table.get(locale.as_str()) else { continue };
            for (key, text) in keys {
                let segs: Vec<&str> = key.split('.').collect();
                if let Some((start, end, quote)) = index.find(&Expr::Id(root), &segs, 0) {
                    edits.push((start, end, js_body(text, quote)));
                    found.insert((locale.clone(), key.clone()));
                }
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| e.0);
    edits.dedup_by_key(|e| e.0);
    let (out, list) = splice(src, &edits);
    Some((out, list, found))
}

enum Expr<'s, 'a> {
    Id(&'s str),
    Node(&'s Expression<'a>),
}

struct Index<'s, 'a> {
    src: &'s str,
    decls: HashMap<&'s str, &'s Expression<'a>>,
    /// Locale tables: locale → identifier of its messages.
    tables: Vec<HashMap<&'s str, &'s str>>,
    locales: &'s BTreeSet<String>,
    min_locales: usize,
}

/// Deeper than any real message object; bounds hostile or cyclic chunks.
const MAX_DEPTH: usize = 64;

impl<'s, 'a> Index<'s, 'a> {
    fn resolve(&self, e: &Expr<'s, 'a>, depth: usize) -> Option<&'s Expression<'a>> {
        let mut cur = match e {
            Expr::Id(name) => *self.decls.get(name)?,
            Expr::Node(n) => *n,
        };
        for _ in depth..MAX_DEPTH {
            match cur {
                Expression::Identifier(id) => cur = *self.decls.get(id.name.as_str())?,
                Expression::ParenthesizedExpression(p) => cur = &p.expression,
                other => return Some(other),
            }
        }
        None
    }

    /// The body span and quote of the literal at `segs` under `e`.
    fn find(&self, e: &Expr<'s, 'a>, segs: &[&str], depth: usize) -> Option<(usize, usize, Quote)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let node = self.resolve(e, depth)?;
        let Some((first, rest)) = segs.split_first() else {
            return match node {
                Expression::StringLiteral(s) => {
                    let (start, end) = (s.span.start as usize, s.span.end as usize);
                    Some((start + 1, end - 1, Quote::from_char(*self.src.as_bytes().get(start)?)?))
                }
                Expression::TemplateLiteral(t) if t.expressions.is_empty() => {
                    Some((t.span.start as usize + 1, t.span.end as usize - 1, Quote::Backtick))
                }
                _ => None,
            };
        };
        let Expression::ObjectExpression(obj) = node else { return None };
        // Later properties win, as they do at run time.
        for prop in obj.properties.iter().rev() {
            match prop {
                ObjectPropertyKind::ObjectProperty(p) if p.key.static_name().is_some_and(|k| k == *first) => {
                    return self.find(&Expr::Node(&p.value), rest, depth + 1);
                }
                ObjectPropertyKind::SpreadProperty(s) => {
                    if let Some(hit) = self.find(&Expr::Node(&s.argument), segs, depth + 1) {
                        return Some(hit);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

impl<'s, 'a> Index<'s, 'a> {
    /// Top-level declarations and locale tables (rollup hoists every
    /// message object of a chunk to its top level).
    fn build(program: &'s Program<'a>, locales: &'s BTreeSet<String>, min_locales: usize) -> Index<'s, 'a> {
        let mut index =
            Index { src: program.source_text, decls: HashMap::new(), tables: Vec::new(), locales, min_locales };
        for stmt in &program.body {
            match stmt {
                Statement::VariableDeclaration(d) => index.declare(d),
                Statement::ExportDeclaration(e) => {
                    if let Declaration::VariableDeclaration(d) = &e.declaration {
                        index.declare(d);
                    }
                }
                Statement::ExportNamedDeclaration(e) => {
                    let table: HashMap<&'s str, &'s str> = e
                        .specifiers
                        .iter()
                        .map(|s| (s.exported.name(), s.local.name()))
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .filter(|(k, _)| locales.contains(*k))
                        .collect();
                    index.add_table(table);
                }
                _ => {}
            }
        }
        index
    }

    fn declare(&mut self, d: &'s VariableDeclaration<'a>) {
        for d in &d.declarations {
            if let (BindingPattern::BindingIdentifier(id), Some(init)) = (&d.id, &d.init) {
                self.decls.insert(id.name.as_str(), init);
                if let Expression::ObjectExpression(obj) = init {
                    let table: HashMap<&'s str, &'s str> = obj
                        .properties
                        .iter()
                        .filter_map(|p| match p {
                            ObjectPropertyKind::ObjectProperty(p) => match (&p.key, &p.value) {
                                (PropertyKey::StaticIdentifier(k), Expression::Identifier(v)) => {
                                    Some((k.name.as_str(), v.name.as_str()))
                                }
                                (PropertyKey::StringLiteral(k), Expression::Identifier(v)) => {
                                    Some((k.value.as_str(), v.name.as_str()))
                                }
                                _ => None,
                            },
                            _ => None,
                        })
                        .filter(|(k, _)| self.locales.contains(*k))
                        .collect();
                    self.add_table(table);
                }
            }
        }
    }

    fn add_table(&mut self, table: HashMap<&'s str, &'s str>) {
        if table.len() >= self.min_locales {
            self.tables.push(table);
        }
    }
}

/// Overrides the messages of a Rails locale file (`<locale>: {a: {b: text}}`),
/// line by line so that the rest keeps its layout: the value of a leaf key
/// (its line's rest, plus a block scalar's or a continued scalar's deeper
/// lines) becomes one double-quoted scalar.
pub fn apply_yaml(src: &str, strings: &Strings) -> Option<(String, Found)> {
    let mut edits = Vec::new();
    let mut found = Found::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let lines: Vec<(usize, &str)> = src
        .split_inclusive('\n')
        .scan(0, |at, l| {
            let start = *at;
            *at += l.len();
            Some((start, l))
        })
        .collect();
    let mut i = 0;
    while i < lines.len() {
        let (at, line) = lines[i];
        i += 1;
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let trimmed = body.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let Some((key, rest_at)) = yaml_key(trimmed) else { continue };
        while path.last().is_some_and(|(d, _)| *d >= indent) {
            path.pop();
        }
        path.push((indent, key));
        let value = trimmed[rest_at..].trim();
        if value.is_empty() || value.starts_with('#') || value.starts_with('&') {
            continue; // a mapping
        }
        let Some(((_, locale), keys)) = path.split_first() else { continue };
        let key: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
        let Some(text) = strings.get(locale).and_then(|m| m.get(&key.join("."))) else { continue };
        // The value runs on over deeper (or blank) lines: block scalars, folded quotes.
        let mut end = i;
        while end < lines.len() {
            let next = lines[end].1.trim_end_matches(['\n', '\r']);
            let next_indent = next.len() - next.trim_start().len();
            if !next.trim().is_empty() && next_indent <= indent {
                break;
            }
            end += 1;
        }
        while end > i && lines[end - 1].1.trim().is_empty() {
            end -= 1;
        }
        let start = at + indent + rest_at;
        let stop = if end > i {
            lines[end - 1].0 + lines[end - 1].1.trim_end_matches(['\n', '\r']).len()
        } else {
            at + body.len()
        };
        edits.push((start, stop, format!(" {}", yaml_scalar(text))));
        found.insert((locale.clone(), key.join(".")));
        i = end;
    }
    if edits.is_empty() {
        return None;
    }
    Some((splice(src, &edits).0, found))
}

/// A mapping key at the start of `line` and where its value starts (after `:`).
fn yaml_key(line: &str) -> Option<(String, usize)> {
    if let Some(q) = line.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let close = line[1..].find(q)? + 1;
        let after = &line[close + 1..];
        return after.starts_with(':').then(|| (line[1..close].to_string(), close + 2));
    }
    let colon = line.match_indices(':').find(|(at, _)| {
        let next = line.as_bytes().get(at + 1);
        next.is_none() || next == Some(&b' ') || next == Some(&b'\t')
    })?;
    Some((line[..colon.0].trim_end().to_string(), colon.0 + 1))
}

/// Overrides the message JSON held in a source map's `sourcesContent`
/// (`…/i18n/locale/<locale>/….json`), so devtools show what runs.
pub fn apply_map(map: &[u8], strings: &Strings) -> Result<Option<Vec<u8>>, String> {
    let mut value: serde_json::Value = serde_json::from_slice(map).map_err(|e| e.to_string())?;
    let sources: Vec<Option<String>> = value
        .get("sources")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let Some(contents) = value.get_mut("sourcesContent").and_then(|c| c.as_array_mut()) else { return Ok(None) };
    let mut changed = false;
    for (source, content) in sources.iter().zip(contents.iter_mut()) {
        let Some(keys) = source.as_deref().and_then(json_locale).and_then(|l| strings.get(&l)) else { continue };
        let Some(text) = content.as_str() else { continue };
        let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(text) else { continue };
        let mut hit = false;
        for (key, new) in keys {
            let pointer = format!(
                "/{}",
                key.split('.').map(|s| s.replace('~', "~0").replace('/', "~1")).collect::<Vec<_>>().join("/")
            );
            if let Some(slot @ serde_json::Value::String(_)) = doc.pointer_mut(&pointer) {
                *slot = serde_json::Value::String(keep_placeholders(new, escape::vue_i18n));
                hit = true;
            }
        }
        if hit {
            let mut pretty = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
            pretty.push('\n');
            *content = serde_json::Value::String(pretty);
            changed = true;
        }
    }
    Ok(changed.then(|| serde_json::to_vec(&value).expect("json")))
}

/// The patch set's `[strings]` table, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    /// The gzip-compressed JSON catalogue, relative to the patch set.
    pub catalogue: String,
    /// Files that may hold compiled locale tables.
    pub chunks: Vec<String>,
    /// How many catalogue locales make an object a locale table.
    pub min_locales: usize,
    /// The Rails locale files of a locale (`{locale}` stands for it).
    pub yaml: Vec<String>,
}

/// Where a version keeps its messages (the patch set's `[strings]`).
#[derive(Debug)]
pub struct Spec {
    /// The catalogue, gzip-compressed, as the patch set holds it (built in
    /// or read from its directory).
    pub catalogue: Vec<u8>,
    /// Its name in the patch set, for errors.
    pub catalogue_path: PathBuf,
    pub chunks: globset::GlobSet,
    pub min_locales: usize,
    pub yaml: Vec<String>,
}

impl Spec {
    /// `data` gives the patch set's other files by name.
    pub fn compile(raw: RawSpec, file: &Path, data: &dyn Fn(&str) -> Option<Vec<u8>>) -> Result<Spec, Problem> {
        let bad = |why: String, fix: &str| Problem::new(file, Some("strings".into()), why, fix);
        let chunks = crate::patchset::build_globs(&raw.chunks).map_err(|why| bad(why, "fix the glob"))?;
        let not_there = || {
            bad(
                format!("catalogue {:?} is not a file of the patch set", raw.catalogue),
                "generate it: cargo run --example strings_catalogue -- SOURCE OUT",
            )
        };
        if raw.catalogue.contains(['/', '\\']) || raw.catalogue.starts_with('.') {
            return Err(not_there());
        }
        let catalogue = data(&raw.catalogue).ok_or_else(not_there)?;
        let catalogue_path = file.with_file_name(&raw.catalogue);
        if raw.yaml.iter().any(|y| !y.contains("{locale}")) {
            return Err(bad("a `yaml` path lacks {locale}".into(), "write e.g. \"config/locales/{locale}.yml\""));
        }
        Ok(Spec { catalogue, catalogue_path, chunks, min_locales: raw.min_locales.max(1), yaml: raw.yaml })
    }

    pub fn read_catalogue(&self) -> Result<Catalogue, Problem> {
        Catalogue::read(&self.catalogue).map_err(|why| {
            Problem::new(
                &self.catalogue_path,
                None,
                format!("cannot be read: {why}"),
                "regenerate it: cargo run --example strings_catalogue -- SOURCE OUT",
            )
        })
    }

    /// Whether `path` may hold messages of one of `strings`' locales.
    pub fn targets(&self, path: &str, strings: &Strings) -> bool {
        self.chunks.is_match(path) || strings.keys().any(|l| self.yaml.iter().any(|y| y.replace("{locale}", l) == path))
    }
}

/// The brand's overrides checked against the patch set's catalogue: every
/// problem, each naming `file` (the brand's `brand.toml`), field and fix.
pub fn check(spec: Option<&Spec>, file: &Path, strings: &Strings) -> Result<(), Vec<Problem>> {
    checked(spec, file, strings).map(drop)
}

/// [`check`], returning the catalogue read (`None` without overrides).
fn checked(spec: Option<&Spec>, file: &Path, strings: &Strings) -> Result<Option<Catalogue>, Vec<Problem>> {
    if strings.is_empty() {
        return Ok(None);
    }
    let Some(spec) = spec else {
        return Err(vec![Problem::new(
            file,
            Some("strings".into()),
            "this patch set knows no message catalogue",
            "remove [strings], or use a patch set with a [strings] table",
        )]);
    };
    let catalogue = spec.read_catalogue().map_err(|p| vec![p])?;
    let problems = catalogue.validate(file, strings);
    if problems.is_empty() { Ok(Some(catalogue)) } else { Err(problems) }
}

/// The brand's overrides ready to apply in a render.
pub struct Apply<'b> {
    spec: &'b Spec,
    strings: &'b Strings,
    locales: BTreeSet<String>,
}

/// What overriding one file did.
pub struct Applied {
    pub bytes: Vec<u8>,
    /// Where the bytes moved (JS, for its source map's mappings).
    pub edits: Option<Vec<Edit>>,
    pub found: Found,
}

impl<'b> Apply<'b> {
    /// `None` when there is nothing to override. Validates first.
    pub fn new(spec: Option<&'b Spec>, file: &Path, strings: &'b Strings) -> Result<Option<Apply<'b>>, Vec<Problem>> {
        let (Some(catalogue), Some(spec)) = (checked(spec, file, strings)?, spec) else { return Ok(None) };
        Ok(Some(Apply { spec, strings, locales: catalogue.locales.into_keys().collect() }))
    }

    pub fn targets(&self, path: &str) -> bool {
        self.spec.targets(path, self.strings)
    }

    pub fn apply(&self, path: &str, data: &[u8]) -> Option<Applied> {
        let text = std::str::from_utf8(data).ok()?;
        if path.ends_with(".yml") || path.ends_with(".yaml") {
            let (s, found) = apply_yaml(text, self.strings)?;
            return Some(Applied { bytes: s.into_bytes(), edits: None, found });
        }
        if !self.spec.chunks.is_match(path) {
            return None;
        }
        let (s, edits, found) = apply_js(text, self.strings, &self.locales, self.spec.min_locales)?;
        Some(Applied { bytes: s.into_bytes(), edits: Some(edits), found })
    }

    /// The overrides no file held (the catalogue promised them: drift).
    pub fn missing(&self, found: &Found) -> Vec<(String, String)> {
        self.strings
            .iter()
            .flat_map(|(l, keys)| keys.keys().map(move |k| (l.clone(), k.clone())))
            .filter(|lk| !found.contains(lk))
            .collect()
    }

    pub fn apply_map(&self, map: &[u8]) -> Result<Option<Vec<u8>>, String> {
        apply_map(map, self.strings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(pairs: &[(&str, &str, &str)]) -> Strings {
        let mut s = Strings::new();
        for (l, k, v) in pairs {
            s.entry(l.to_string()).or_default().insert(k.to_string(), v.to_string());
        }
        s
    }

    /// The real dashboard chunk's shape: a locale table of identifiers, each
    /// locale a spread of per-file consts, nested objects hoisted.
    #[test]
    fn follows_the_real_locale_table_through_spreads_and_hoisted_objects() {
        let src = "const uP={TITLE:'Entrar no Chatwoot',HINT:\"x\"},np={LOGIN:{TITLE:\"old\"}},im={LOGIN:uP},\
                   c6={...np,...im,OTHER:`a`},GT={LOGIN:{TITLE:\"ar\"}},Ope={ar:GT,pt_BR:c6,en:GT};export{Ope as m};";
        let locales: BTreeSet<String> = ["ar", "pt_BR", "en"].iter().map(|s| s.to_string()).collect();
        let s = strings(&[("pt_BR", "LOGIN.TITLE", "It's {name}"), ("pt_BR", "OTHER", "`b` ${ {x}")]);
        let (out, edits, found) = apply_js(src, &s, &locales, 3).unwrap();
        // The later spread (`im` → `uP`) is the one that runs; `np` stays.
        assert!(out.contains("uP={TITLE:'It\\'s {name}',HINT"), "{out}");
        assert!(out.contains("np={LOGIN:{TITLE:\"old\"}}"), "{out}");
        assert!(out.contains("OTHER:`\\`b\\` {'$'}{'{'} {x}`"), "{out}");
        assert!(out.contains("GT={LOGIN:{TITLE:\"ar\"}}"), "other locales untouched: {out}");
        assert_eq!(edits.len(), 2);
        assert_eq!(found.len(), 2);
        crate::scan::js::parses(&out).unwrap();
        // A table below `min_locales` is not one.
        assert!(apply_js(src, &s, &locales, 4).is_none());
    }

    #[test]
    fn rails_yaml_values_of_every_style_are_replaced_whole() {
        let src = "pt_BR:\n  a:\n    plain: Olá mundo # note\n    quoted: \"x %{n}\"\n    block: |\n      um\n      dois\n\n    next: fica\n";
        let s = strings(&[
            ("pt_BR", "a.plain", "100% \"novo\""),
            ("pt_BR", "a.block", "três"),
            ("pt_BR", "a.quoted", "y %{n}"),
        ]);
        let (out, found) = apply_yaml(src, &s).unwrap();
        assert_eq!(
            out,
            "pt_BR:\n  a:\n    plain: \"100%% \\\"novo\\\"\"\n    quoted: \"y %{n}\"\n    block: \"três\"\n\n    next: fica\n"
        );
        assert_eq!(found.len(), 3);
    }

    #[test]
    fn placeholders_of_every_syntax() {
        assert_eq!(
            placeholders("a {name} @:link.x @:{'k'} %{x} %<n>d {'lit'} b@c.d { x"),
            vec!["%<n>d", "%{x}", "@:link.x", "@:{'k'}", "{name}"]
        );
    }
}
