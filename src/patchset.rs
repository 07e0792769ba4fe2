//! The patch set: everything version-specific about the upstream image, as
//! data in `patches/<set>/*.toml`. This module loads and validates those files
//! into typed [`Rule`]s; the engine in [`crate::render`] applies them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::error::{Error, Problem, Result};
use crate::template::Template;

/// A loaded patch set.
#[derive(Debug)]
pub struct PatchSet {
    pub dir: PathBuf,
    pub name: String,
    pub version: String,
    /// The upstream product name (`Chatwoot`).
    pub word: String,
    /// Where the app lives in the image (`/app`); every path is relative to it.
    pub root: String,
    /// Paths under the app root the rules read (for extraction from images).
    pub extract: Vec<String>,
    /// The upstream source repository and commit (image labels).
    pub source: String,
    pub revision: String,
    /// Globs no rule may ever write (licence boundaries).
    pub never: GlobSet,
    pub never_globs: Vec<String>,
    /// Strings whose number of occurrences in a file must not change.
    pub protected: Vec<String>,
    /// All of `protected` in one automaton.
    protected_matcher: aho_corasick::AhoCorasick,
    /// Upstream URL prefix → template, longest first after merging with a brand.
    pub links: Vec<(String, Template)>,
    pub rules: Vec<Rule>,
    /// What `audit` looks for beyond the rules, and what it leaves on purpose.
    pub audit: AuditSpec,
    /// The product name in text, every form, told from code (`[name]`).
    pub product: crate::scan::name::NameSpec,
    /// Where the messages live, for the brand's `[strings]` overrides.
    pub strings: Option<crate::overrides::Spec>,
    /// Digest of every file of the patch set.
    pub digest: String,
}

/// The patch set's `[audit]` table and `[[keep]]` entries.
#[derive(Debug, Default)]
pub struct AuditSpec {
    /// Upstream hosts a user must not meet (category `upstream-link`).
    pub links: Option<regex::Regex>,
    /// Occurrences left on purpose, each with its reason.
    pub keep: Vec<Keep>,
    /// `[[audit.text]]`: where text lives, whatever the rules say, as rules
    /// the audit reads and the render never runs (so a rule removed from
    /// the patch set still leaves its files audited).
    pub text: Vec<Rule>,
}

/// Something the audit reports as "kept: reason" instead of a finding.
#[derive(Debug)]
pub struct Keep {
    pub pattern: regex::Regex,
    /// Only in these files (all audited files when empty).
    pub files: GlobSet,
    pub reason: String,
}

#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub file: PathBuf,
    pub description: String,
    pub globs: Vec<String>,
    pub matcher: GlobSet,
    pub exclude: GlobSet,
    pub optional: bool,
    /// The file may be absent from the base: the rule creates it.
    pub create: bool,
    /// What a match left in an audited file is (only for rules whose
    /// matches hold neither the word nor a link, e.g. an inlined logo).
    pub audit: Option<crate::audit::Category>,
    pub op: Op,
}

/// What a rule does to each file it targets.
#[derive(Debug)]
pub enum Op {
    /// Replace inside string literals (JS), sourcemap sources, YAML values or plain text.
    Replace { scope: Scope, replacements: Vec<Replacement>, syntax: Syntax, i18n_keys: Option<regex::Regex> },
    /// Replace the whole file with a brand asset.
    Asset { source: AssetSource },
    /// Render the brand mark to an icon.
    Icon(IconSpec),
    /// Map upstream palette colors to brand shades.
    Palette { colors: Vec<(crate::color::Rgb, Template)> },
    /// Set values in a JSON document by JSON pointer.
    JsonSet { set: Vec<(String, Template)> },
    /// Set `value` fields of `- name: KEY` entries in a YAML list.
    YamlEntries { key_field: String, value_field: String, set: Vec<(String, Template)> },
    /// Rewrite text frames of ID3 tags.
    Id3 { replacements: Vec<Replacement> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    JsStrings,
    SourcemapSources,
    YamlValues,
    Text,
}

/// How an inserted value is escaped in a `text` scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Escape {
    #[default]
    None,
    Html,
    Json,
    RubySingle,
    RubyDouble,
    YamlDouble,
}

/// Message syntax of the strings a value lands in (on top of the scope's escaping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Syntax {
    #[default]
    Plain,
    /// vue-i18n 9 messages: `{ } @ $ |` are special.
    VueI18n,
    /// Rails I18n strings: `%{` interpolates, `%%` is a literal `%`.
    RailsI18n,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssetSource {
    LogoLight,
    LogoDark,
    LogoMark,
    MailLayout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Background {
    #[default]
    Transparent,
    IconBackground,
    Primary,
}

#[derive(Debug, Clone)]
pub struct IconSpec {
    /// Fixed size; `None` means "from the `NNxNN` in the file name".
    pub size: Option<u32>,
    pub background: Background,
    /// Fraction of the side left empty on each edge.
    pub padding: f32,
    /// Add the unread-message dot.
    pub badge: bool,
    /// For `.ico` files: the sizes inside.
    pub ico_sizes: Vec<u32>,
}

/// One find → replace pair.
#[derive(Debug, Clone)]
pub struct Replacement {
    pub pattern: Pattern,
    pub with: Template,
    pub escape: Escape,
    /// Exact number of matches expected over the rule, when given.
    pub expect: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum Pattern {
    Literal(String),
    /// A literal that must not touch identifier characters on either side.
    Word(String),
    Regex(regex::Regex),
    /// The product name in every form the patch set's `[name]` calls text.
    Name,
}

// ---- the TOML as written ----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    patchset: Option<RawHeader>,
    #[serde(default)]
    links: BTreeMap<String, String>,
    #[serde(default)]
    rule: Vec<RawRule>,
    audit: Option<RawAudit>,
    #[serde(default)]
    keep: Vec<RawKeep>,
    name: Option<RawName>,
    strings: Option<crate::overrides::RawSpec>,
}

/// `[name]`: what around the product name makes it code (regexes).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawName {
    code_before: Option<String>,
    code_after: Option<String>,
    suffix: Option<String>,
    #[serde(default)]
    code: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    #[serde(default)]
    links: Vec<String>,
    #[serde(default)]
    text: Vec<RawAuditText>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuditText {
    files: Vec<String>,
    scope: Scope,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeep {
    find: Option<String>,
    regex: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    version: String,
    word: String,
    #[serde(default = "default_root")]
    root: String,
    #[serde(default)]
    extract: Vec<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    revision: String,
    #[serde(default)]
    never: Vec<String>,
    #[serde(default)]
    protected: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    #[serde(default)]
    description: String,
    action: String,
    files: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    create: bool,
    audit: Option<crate::audit::Category>,
    // replace / id3
    scope: Option<Scope>,
    #[serde(default)]
    replace: Vec<RawReplacement>,
    #[serde(default)]
    syntax: Syntax,
    i18n_keys: Option<String>,
    // asset
    source: Option<AssetSource>,
    // icon
    size: Option<u32>,
    #[serde(default)]
    background: Background,
    #[serde(default)]
    padding: f32,
    #[serde(default)]
    badge: bool,
    #[serde(default)]
    ico_sizes: Vec<u32>,
    // palette
    #[serde(default)]
    colors: BTreeMap<String, String>,
    // json-set / yaml-entries
    #[serde(default)]
    set: BTreeMap<String, String>,
    key_field: Option<String>,
    value_field: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplacement {
    find: Option<String>,
    word: Option<String>,
    regex: Option<String>,
    /// The product name in every form (`[name]`).
    #[serde(default)]
    name: bool,
    with: Option<String>,
    /// Expands to the merged `[links]` table.
    #[serde(default)]
    links: bool,
    #[serde(default)]
    escape: Escape,
    expect: Option<usize>,
}

impl PatchSet {
    /// Loads every `*.toml` of `dir`, in name order.
    pub fn load(dir: &Path) -> Result<PatchSet> {
        let invalid = |problems| Error::InvalidPatchSet { dir: dir.to_path_buf(), problems };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| {
                invalid(vec![Problem::new(
                    dir,
                    None,
                    format!("cannot be read: {e}"),
                    "pass --patches DIR naming a patch set directory",
                )])
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut problems = Vec::new();
        let mut header: Option<(RawHeader, PathBuf)> = None;
        let mut raw_links = BTreeMap::new();
        let mut raw_rules = Vec::new();
        let mut raw_audit_links = Vec::new();
        let mut raw_audit_text = Vec::new();
        let mut raw_keep = Vec::new();
        let mut raw_name: Option<(RawName, PathBuf)> = None;
        let mut strings = None;
        let mut hasher = sha2::Sha256::default();
        for path in &files {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem::new(path, None, format!("cannot be read: {e}"), "check the file"));
                    continue;
                }
            };
            use sha2::Digest;
            hasher.update(path.file_name().unwrap_or_default().as_encoded_bytes());
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
            let raw: RawFile = match toml::from_str(&text) {
                Ok(r) => r,
                Err(e) => {
                    let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
                    problems.push(Problem::new(
                        path,
                        line.map(|l| format!("line {l}")),
                        e.message().to_string(),
                        "fix the TOML",
                    ));
                    continue;
                }
            };
            if let Some(h) = raw.patchset {
                if header.is_some() {
                    problems.push(Problem::new(
                        path,
                        Some("patchset".into()),
                        "a second [patchset] header",
                        "keep one header",
                    ));
                }
                header = Some((h, path.clone()));
            }
            raw_links.extend(raw.links.into_iter().map(|(k, v)| (k, (v, path.clone()))));
            raw_rules.extend(raw.rule.into_iter().map(|r| (r, path.clone())));
            if let Some(a) = raw.audit {
                raw_audit_links.extend(a.links.into_iter().map(|l| (l, path.clone())));
                raw_audit_text.extend(a.text.into_iter().map(|t| (t, path.clone())));
            }
            raw_keep.extend(raw.keep.into_iter().map(|k| (k, path.clone())));
            if let Some(raw) = raw.strings {
                match crate::overrides::Spec::compile(raw, dir, path) {
                    Ok(spec) => {
                        let bytes = std::fs::read(&spec.catalogue).unwrap_or_default();
                        sha2::Digest::update(&mut hasher, &bytes);
                        strings = Some(spec);
                    }
                    Err(p) => problems.push(p),
                }
            }
            if let Some(n) = raw.name {
                if raw_name.is_some() {
                    problems.push(Problem::new(path, Some("name".into()), "a second [name] table", "keep one"));
                }
                raw_name = Some((n, path.clone()));
            }
        }
        let Some((header, _)) = header else {
            problems.push(Problem::new(
                dir,
                Some("patchset".into()),
                "no [patchset] header",
                "add one with name, version and word",
            ));
            return Err(invalid(problems));
        };
        let mut links = Vec::new();
        for (from, (to, file)) in raw_links {
            match Template::parse(&to) {
                Ok(t) => links.push((from, t)),
                Err(why) => {
                    problems.push(Problem::new(&file, Some(format!("links.\"{from}\"")), why, "fix the placeholder"))
                }
            }
        }
        let root = header.root.trim_end_matches('/');
        if !root.starts_with('/') || root.split('/').any(|c| c == ".." || c == ".") {
            problems.push(Problem::new(
                dir,
                Some("patchset.root".into()),
                format!("`{}` is not an absolute path inside the image", header.root),
                "give the app directory as an absolute path, e.g. \"/app\"",
            ));
        }
        let root = root.to_string();
        let never = build_globs(&header.never)
            .map_err(|why| invalid(vec![Problem::new(dir, Some("patchset.never".into()), why, "fix the glob")]))?;
        let mut rules = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (raw, file) in raw_rules {
            if !seen.insert(raw.id.clone()) {
                problems.push(Problem::new(
                    &file,
                    Some(format!("rule {}", raw.id)),
                    "duplicate rule id",
                    "give each rule its own id",
                ));
            }
            match compile_rule(raw, &file) {
                Ok(rule) => rules.push(rule),
                Err(p) => problems.push(p),
            }
        }
        let mut audit = compile_audit(&raw_audit_links, raw_keep, &mut problems);
        audit.text = compile_audit_text(raw_audit_text, &mut problems);
        let product = compile_name(&header.word, &header.protected, raw_name, dir, &mut problems);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        use sha2::Digest;
        Ok(PatchSet {
            dir: dir.to_path_buf(),
            name: header.name,
            version: header.version,
            word: header.word,
            root,
            extract: header.extract,
            source: header.source,
            revision: header.revision,
            never,
            never_globs: header.never,
            protected_matcher: aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(&header.protected)
                .expect("literal patterns"),
            protected: header.protected,
            links,
            rules,
            audit,
            product,
            strings,
            digest: hex::encode(hasher.finalize()),
        })
    }
}

fn compile_name(
    word: &str,
    protected: &[String],
    raw: Option<(RawName, PathBuf)>,
    dir: &Path,
    problems: &mut Vec<Problem>,
) -> crate::scan::name::NameSpec {
    let (raw, file) = raw.unwrap_or_else(|| (RawName::default(), dir.join("patchset.toml")));
    let mut compile = |field: &str, re: &str| match regex::Regex::new(re) {
        Ok(r) => Some(r),
        Err(e) => {
            problems.push(Problem::new(
                &file,
                Some(format!("name.{field}")),
                format!("bad regex: {e}"),
                "fix the regex",
            ));
            None
        }
    };
    let code_before = raw.code_before.as_deref().and_then(|r| compile("code_before", r));
    let code_after = raw.code_after.as_deref().and_then(|r| compile("code_after", r));
    let suffix = raw.suffix.as_deref().and_then(|r| compile("suffix", r));
    let code = raw.code.iter().filter_map(|r| compile("code", r)).collect();
    crate::scan::name::NameSpec::new(word, code_before, code_after, suffix, code, protected)
}

/// Each `[[audit.text]]` as a replace rule of the name and the links in its
/// scope: what the audit reads there is what such a rule would change.
fn compile_audit_text(raw: Vec<(RawAuditText, PathBuf)>, problems: &mut Vec<Problem>) -> Vec<Rule> {
    let mut out = Vec::new();
    for (i, (t, file)) in raw.into_iter().enumerate() {
        let id = format!("audit.text[{i}]");
        let (matcher, exclude) = match (build_globs(&t.files), build_globs(&[])) {
            (Ok(m), Ok(e)) if !t.files.is_empty() => (m, e),
            (Err(e), _) | (_, Err(e)) => {
                problems.push(Problem::new(&file, Some(id), e, "fix the glob"));
                continue;
            }
            _ => {
                problems.push(Problem::new(&file, Some(id), "has no `files`", "list the files that hold text"));
                continue;
            }
        };
        let entry = |pattern| Replacement {
            pattern,
            with: Template::parse("").expect("an empty template"),
            escape: Escape::default(),
            expect: None,
        };
        out.push(Rule {
            id,
            file,
            description: "where text lives (audit only)".into(),
            globs: t.files,
            matcher,
            exclude,
            optional: true,
            create: false,
            audit: None,
            op: Op::Replace {
                scope: t.scope,
                replacements: vec![entry(Pattern::Name), entry(Pattern::Literal(String::new()))],
                syntax: Syntax::default(),
                i18n_keys: None,
            },
        });
    }
    out
}

fn compile_audit(links: &[(String, PathBuf)], keep: Vec<(RawKeep, PathBuf)>, problems: &mut Vec<Problem>) -> AuditSpec {
    let mut spec = AuditSpec::default();
    for (re, file) in links {
        if let Err(e) = regex::Regex::new(re) {
            problems.push(Problem::new(
                file,
                Some("audit.links".into()),
                format!("bad regex {re:?}: {e}"),
                "fix the regex",
            ));
        }
    }
    if !links.is_empty() {
        let alternation = links.iter().map(|(l, _)| format!("(?:{l})")).collect::<Vec<_>>().join("|");
        spec.links = regex::Regex::new(&alternation).ok();
    }
    for (i, (k, file)) in keep.into_iter().enumerate() {
        let field = Some(format!("keep[{i}]"));
        let pattern = match (&k.find, &k.regex) {
            (Some(f), None) if !f.is_empty() => regex::Regex::new(&regex::escape(f)),
            (None, Some(r)) => regex::Regex::new(r),
            _ => {
                problems.push(Problem::new(&file, field, "needs exactly one of find or regex", "add find = \"...\""));
                continue;
            }
        };
        let (pattern, files) = match (pattern, build_globs(&k.files)) {
            (Ok(p), Ok(f)) => (p, f),
            (Err(e), _) => {
                problems.push(Problem::new(&file, field, format!("bad regex: {e}"), "fix the regex"));
                continue;
            }
            (_, Err(e)) => {
                problems.push(Problem::new(&file, field, e, "fix the glob"));
                continue;
            }
        };
        if k.reason.trim().is_empty() {
            problems.push(Problem::new(&file, field, "has no reason", "say why this stays (the audit shows it)"));
            continue;
        }
        spec.keep.push(Keep { pattern, files, reason: k.reason });
    }
    spec
}

fn default_root() -> String {
    "/app".into()
}

pub(crate) fn build_globs(globs: &[String]) -> std::result::Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g).map_err(|e| format!("bad glob {g:?}: {e}"))?);
    }
    b.build().map_err(|e| e.to_string())
}

fn compile_rule(raw: RawRule, file: &Path) -> std::result::Result<Rule, Problem> {
    let field = format!("rule {}", raw.id);
    let bad = |msg: String, fix: &str| Problem::new(file, Some(field.clone()), msg, fix);
    if raw.files.is_empty() {
        return Err(bad("has no `files`".into(), "list the files it targets (globs relative to the app root)"));
    }
    let matcher = build_globs(&raw.files).map_err(|e| bad(e, "fix the glob"))?;
    let exclude = build_globs(&raw.exclude).map_err(|e| bad(e, "fix the glob"))?;
    let replacements = || -> std::result::Result<Vec<Replacement>, Problem> {
        if raw.replace.is_empty() {
            return Err(bad("has no `replace` entries".into(), "add replace = [{ find = \"...\", with = \"...\" }]"));
        }
        raw.replace.iter().map(|r| compile_replacement(r).map_err(|why| bad(why, "fix the replace entry"))).collect()
    };
    let templates = |set: &BTreeMap<String, String>| -> std::result::Result<Vec<(String, Template)>, Problem> {
        if set.is_empty() {
            return Err(bad("has nothing to `set`".into(), "add set = { ... }"));
        }
        set.iter()
            .map(|(k, v)| Template::parse(v).map(|t| (k.clone(), t)).map_err(|why| bad(why, "fix the placeholder")))
            .collect()
    };
    let op = match raw.action.as_str() {
        "replace" => {
            let scope = raw.scope.ok_or_else(|| {
                bad("needs a `scope`".into(), "use js-strings, sourcemap-sources, yaml-values or text")
            })?;
            let i18n_keys = match &raw.i18n_keys {
                Some(re) => {
                    Some(regex::Regex::new(re).map_err(|e| bad(format!("bad i18n_keys regex: {e}"), "fix the regex"))?)
                }
                None => None,
            };
            Op::Replace { scope, replacements: replacements()?, syntax: raw.syntax, i18n_keys }
        }
        "asset" => Op::Asset {
            source: raw
                .source
                .ok_or_else(|| bad("needs a `source`".into(), "use logo-light, logo-dark, logo-mark or mail-layout"))?,
        },
        "icon" => {
            if !(0.0..0.4).contains(&raw.padding) {
                return Err(bad("padding must be between 0 and 0.4".into(), "use a fraction such as 0.1"));
            }
            Op::Icon(IconSpec {
                size: raw.size,
                background: raw.background,
                padding: raw.padding,
                badge: raw.badge,
                ico_sizes: raw.ico_sizes.clone(),
            })
        }
        "palette" => {
            let mut colors = Vec::new();
            for (hex, shade) in &raw.colors {
                let rgb = crate::color::Rgb::parse(hex)
                    .ok_or_else(|| bad(format!("{hex:?} is not a hex color"), "write it as #rrggbb"))?;
                colors.push((
                    rgb,
                    Template::parse(shade).map_err(|why| bad(why, "use a placeholder like {colors.500}"))?,
                ));
            }
            if colors.is_empty() {
                return Err(bad("has no `colors`".into(), "map upstream colors to brand shades"));
            }
            Op::Palette { colors }
        }
        "json-set" => Op::JsonSet { set: templates(&raw.set)? },
        "yaml-entries" => Op::YamlEntries {
            key_field: raw.key_field.clone().unwrap_or_else(|| "name".into()),
            value_field: raw.value_field.clone().unwrap_or_else(|| "value".into()),
            set: templates(&raw.set)?,
        },
        "id3" => Op::Id3 { replacements: replacements()? },
        other => {
            return Err(bad(
                format!("unknown action {other:?}"),
                "use replace, asset, icon, palette, json-set, yaml-entries or id3",
            ));
        }
    };
    Ok(Rule {
        id: raw.id,
        file: file.to_path_buf(),
        description: raw.description,
        globs: raw.files,
        matcher,
        exclude,
        optional: raw.optional,
        create: raw.create,
        audit: raw.audit,
        op,
    })
}

fn compile_replacement(r: &RawReplacement) -> std::result::Result<Replacement, String> {
    let with = || -> std::result::Result<Template, String> {
        Template::parse(r.with.as_deref().ok_or("a replace entry needs `with`")?)
    };
    let (pattern, with) = match (&r.find, &r.word, &r.regex, r.links, r.name) {
        (Some(f), None, None, false, false) => (Pattern::Literal(f.clone()), with()?),
        (None, Some(w), None, false, false) => (Pattern::Word(w.clone()), with()?),
        (None, None, Some(re), false, false) => {
            (Pattern::Regex(regex::Regex::new(re).map_err(|e| format!("bad regex: {e}"))?), with()?)
        }
        (None, None, None, false, true) => (Pattern::Name, with()?),
        // Placeholder; expanded against the merged links table at render time.
        (None, None, None, true, false) => (Pattern::Literal(String::new()), Template::parse("")?),
        _ => {
            return Err("a replace entry needs exactly one of find, word, regex, name = true or links = true".into());
        }
    };
    if let Pattern::Literal(s) | Pattern::Word(s) = &pattern
        && s.is_empty()
        && !r.links
    {
        return Err("an empty pattern".into());
    }
    Ok(Replacement { pattern, with, escape: r.escape, expect: r.expect })
}

impl PatchSet {
    /// Occurrences of each protected name in `text`, in one pass.
    pub fn protected_counts(&self, text: &str) -> Vec<usize> {
        let mut counts = vec![0; self.protected.len()];
        for m in self.protected_matcher.find_iter(text) {
            counts[m.pattern().as_usize()] += 1;
        }
        counts
    }
}

impl Replacement {
    pub fn is_links(&self) -> bool {
        matches!(&self.pattern, Pattern::Literal(s) if s.is_empty())
    }
}

impl Rule {
    /// The patch-set file it comes from, without its order prefix:
    /// `30-ui-text.toml` → `ui-text`.
    pub fn category(&self) -> String {
        let stem = self.file.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        stem.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches(['-', '_']).to_string()
    }

    pub fn targets(&self, path: &str) -> bool {
        self.matcher.is_match(path) && !self.exclude.is_match(path)
    }
}
