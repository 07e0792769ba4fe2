//! The audit: what a user can still meet of the upstream brand in an app
//! tree (an image's files or a directory), and what must not have changed
//! but did. It reads the patch set for where to look: the files its rules
//! target, the scanners of their scopes (so code is told from text), the
//! hosts of `[audit] links`, and `[[keep]]` for what stays on purpose.
//!
//! Findings are compared with a *reference*: the base the tree was built on.
//! The stock files are those the patch set knows by hash (taken from the
//! upstream files) plus, with a reference, the reference's logo, icon and
//! layout files; the protected names and code literals must keep what the
//! reference has. Without a reference a tree is never compared with itself:
//! stock files are recognised by their upstream bytes, at any path.

mod files;
mod integrity;
mod text;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::actions::palette::Palette;
use crate::brand::Brand;
use crate::color::Rgb;
use crate::patchset::{Op, PatchSet, Rule};
use crate::tree::BaseTree;

/// What a finding is. The first six are upstream branding left in place;
/// the last three are damage (errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// The upstream product name in text a user reads.
    ProductName,
    /// A logo, icon or layout file with the upstream bytes (or inlined).
    StockAsset,
    /// A link to an upstream site.
    UpstreamLink,
    /// An upstream palette color in CSS/JS.
    StockPalette,
    /// The product name in an audio file's ID3 tag.
    Id3,
    /// A `.gz`/`.br` that does not decompress to its file.
    StaleSibling,
    /// A protected name (embed contract, code names) whose count changed.
    ProtectedName,
    /// A string literal used as code that changed.
    CodeLiteral,
    /// A JS or JSON file that no longer parses.
    Syntax,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::ProductName,
        Category::StockAsset,
        Category::UpstreamLink,
        Category::StockPalette,
        Category::Id3,
        Category::StaleSibling,
        Category::ProtectedName,
        Category::CodeLiteral,
        Category::Syntax,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::ProductName => "product-name",
            Category::StockAsset => "stock-asset",
            Category::UpstreamLink => "upstream-link",
            Category::StockPalette => "stock-palette",
            Category::Id3 => "id3",
            Category::StaleSibling => "stale-sibling",
            Category::ProtectedName => "protected-name",
            Category::CodeLiteral => "code-literal",
            Category::Syntax => "syntax",
        }
    }

    /// Damage rather than a leftover.
    pub fn is_error(self) -> bool {
        matches!(self, Category::ProtectedName | Category::CodeLiteral | Category::Syntax)
    }
}

/// Where in a file: a byte offset, a JSON pointer (or ID3 frame), or both
/// (an offset inside the string at the pointer).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

impl Location {
    pub fn offset(at: usize) -> Location {
        Location { pointer: None, offset: Some(at as u64) }
    }

    pub fn pointer(p: impl Into<String>) -> Location {
        Location { pointer: Some(p.into()), offset: None }
    }

    fn within(pointer: &Option<String>, at: usize) -> Location {
        Location { pointer: pointer.clone(), offset: Some(at as u64) }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = &self.pointer {
            write!(f, "#{p}")?;
        }
        if let Some(o) = self.offset {
            write!(f, ":{o}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub path: String,
    #[serde(flatten)]
    pub at: Location,
    pub category: Category,
    pub excerpt: String,
    /// The patch-set rule that covers this file, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// For a product name: how it is written (word, case, script, suffix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<crate::scan::name::Form>,
}

/// An occurrence left on purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub path: String,
    #[serde(flatten)]
    pub at: Location,
    pub excerpt: String,
    pub reason: String,
}

/// The result of one audit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Audit {
    /// What was audited and what it was compared with.
    pub target: String,
    pub reference: String,
    pub files: usize,
    pub bytes: u64,
    pub findings: Vec<Finding>,
    /// Filled only when asked (`--verbose`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<Kept>,
    /// Findings per category name (every category listed).
    pub counts: BTreeMap<String, usize>,
}

impl Audit {
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.category.is_error()).count()
    }

    /// `3 product-name, 1 syntax` (or `clean`).
    pub fn summary(&self) -> String {
        if self.clean() {
            return "clean".into();
        }
        self.counts.iter().filter(|(_, n)| **n > 0).map(|(c, n)| format!("{n} {c}")).collect::<Vec<_>>().join(", ")
    }
}

impl Finding {
    /// The one-line form: `path:offset  category  excerpt [form] (rule id)`.
    pub fn line(&self) -> String {
        let form = self.form.map(|f| format!(" [{}]", f.name())).unwrap_or_default();
        let rule = self.rule.as_deref().map(|r| format!(" (rule {r})")).unwrap_or_default();
        format!("{}{}  {}  {}{form}{rule}", self.path, self.at, self.category.name(), self.excerpt)
    }
}

impl Kept {
    pub fn line(&self) -> String {
        format!("{}{}  kept: {}  {}", self.path, self.at, self.reason, self.excerpt)
    }
}

/// What to audit against.
#[derive(Default, Clone, Copy)]
pub struct Options<'a> {
    /// The base the tree was built on; `None`: the tree is its own.
    pub reference: Option<&'a dyn BaseTree>,
    /// The brand the tree should carry: its own colors are not leaks.
    pub brand: Option<&'a Brand>,
    /// Collect what is kept on purpose (`--verbose`).
    pub kept: bool,
}

/// Everything one file's checks share.
struct Ctx<'a> {
    tree: &'a dyn BaseTree,
    ps: &'a PatchSet,
    reference: Option<&'a dyn BaseTree>,
    /// The stock files by hash (the patch set's list, and the reference's).
    stock: files::Stock,
    palette: Option<Palette>,
    /// The word in any case, for cheap "does this mention it" checks.
    word_any_case: aho_corasick::AhoCorasick,
    kept: bool,
}

/// Audits `tree` with the patch set `ps`.
pub fn audit(tree: &dyn BaseTree, ps: &PatchSet, opts: Options) -> Audit {
    // What a browser meets: stock files superseded by a cache-busting rename
    // stay in the image for open tabs, but no page names them any more.
    // A new name is compared with the stock file it replaced.
    let served = crate::cachebust::Served::new(&ps.cache_busting, tree);
    let tree: &dyn BaseTree = &served;
    let aliased = opts.reference.map(|r| served.aliased(r));
    let opts = Options { reference: aliased.as_ref().map(|a| a as &dyn BaseTree), ..opts };
    let ctx = Ctx {
        tree,
        ps,
        reference: opts.reference,
        stock: files::stock_hashes(ps, opts.reference),
        palette: stock_palette(ps, opts.brand),
        word_any_case: aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build([&ps.word])
            .expect("a literal pattern"),
        kept: opts.kept,
    };
    let candidates: Vec<&String> = tree.files().iter().filter(|p| is_candidate(&ctx, p)).collect();
    let results: Vec<(u64, Vec<Finding>, Vec<Kept>)> = candidates.par_iter().map(|p| audit_file(&ctx, p)).collect();
    let mut out = Audit {
        target: tree.describe(),
        reference: opts.reference.map_or_else(
            || format!("no base: stock files are the upstream ones {} knows by hash", ps.name),
            |r| r.describe(),
        ),
        files: candidates.len(),
        ..Default::default()
    };
    for (bytes, findings, kept) in results {
        out.bytes += bytes;
        out.findings.extend(findings);
        out.kept.extend(kept);
    }
    out.counts = Category::ALL.iter().map(|c| (c.name().to_string(), 0)).collect();
    for f in &out.findings {
        *out.counts.entry(f.category.name().to_string()).or_default() += 1;
    }
    // Errors first, then by file and place.
    out.findings.sort_by(|a, b| {
        (!a.category.is_error(), &a.path, &a.at, a.category).cmp(&(!b.category.is_error(), &b.path, &b.at, b.category))
    });
    out.kept.sort_by(|a, b| (&a.path, &a.at).cmp(&(&b.path, &b.at)));
    out
}

/// Files the audit reads: rule targets, compressed siblings, images, and
/// any file the size of a stock file (a copy under another name).
fn is_candidate(ctx: &Ctx, path: &str) -> bool {
    let (ps, tree) = (ctx.ps, ctx.tree);
    if ps.never.is_match(path) {
        return false;
    }
    ps.rules.iter().chain(&ps.audit.text).any(|r| r.targets(path))
        || files::sibling_of(tree, path).is_some()
        || files::is_image(path)
        || tree.size(path).is_ok_and(|n| ctx.stock.may_be(n))
}

fn audit_file(ctx: &Ctx, path: &str) -> (u64, Vec<Finding>, Vec<Kept>) {
    let mut findings = Vec::new();
    let mut kept = Vec::new();
    let data = match ctx.tree.read(path) {
        Ok(d) => d,
        Err(e) => {
            findings.push(Finding {
                path: path.into(),
                at: Location::default(),
                category: Category::Syntax,
                excerpt: format!("unreadable: {e}"),
                rule: None,
                form: None,
            });
            return (0, findings, kept);
        }
    };
    let rules: Vec<&Rule> = ctx.ps.rules.iter().filter(|r| r.targets(path)).collect();
    // The text scan also reads where `[[audit.text]]` says text lives.
    let text_rules: Vec<&Rule> =
        rules.iter().copied().chain(ctx.ps.audit.text.iter().filter(|r| r.targets(path))).collect();
    files::stock_asset(ctx, path, &data, &rules, &mut findings);
    files::stale_sibling(ctx, path, &data, &mut findings);
    for rule in &rules {
        match &rule.op {
            Op::Palette { .. } => files::palette(ctx, path, &data, rule, &mut findings),
            Op::Id3 { .. } => files::id3(ctx, path, &data, rule, &mut findings),
            Op::JsonSet { set } => text::json_values(ctx, path, &data, rule, set, &mut findings),
            Op::YamlEntries { key_field, value_field, set } => {
                text::yaml_entries(ctx, path, &data, rule, (key_field, value_field), set, &mut findings)
            }
            _ => {}
        }
    }
    let js_literals = JsLiterals::new();
    text::scan(ctx, path, &data, &js_literals, &text_rules, &mut findings, &mut kept);
    integrity::check(ctx, path, &data, &js_literals, &mut findings);
    if !ctx.kept {
        kept.clear();
    }
    (data.len() as u64, findings, kept)
}

/// A file's JS literals, parsed once for the text scan and the damage check.
type JsLiterals = std::sync::OnceLock<Result<Vec<crate::scan::js::Literal>, String>>;

/// The union of every palette rule's upstream colors, minus the colors the
/// brand itself uses (a brand shade equal to an upstream one is not a leak).
fn stock_palette(ps: &PatchSet, brand: Option<&Brand>) -> Option<Palette> {
    let mut stock: Vec<Rgb> = Vec::new();
    let mut own: Vec<Rgb> = Vec::new();
    for rule in &ps.rules {
        if let Op::Palette { colors } = &rule.op {
            for (from, to) in colors {
                stock.push(*from);
                if let Some(b) = brand
                    && let Some(c) = Rgb::parse(&to.render(b, str::to_string))
                {
                    own.push(c);
                }
            }
        }
    }
    stock.retain(|c| !own.contains(c));
    stock.sort_by_key(|c| c.hex());
    stock.dedup();
    (!stock.is_empty()).then(|| Palette::new(&stock.iter().map(|c| (*c, *c)).collect::<Vec<_>>()))
}

/// A short, single-line excerpt of `text` around `start..end`.
pub fn excerpt(text: &str, start: usize, end: usize) -> String {
    const SIDE: usize = 32;
    let floor = |mut i: usize| {
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let ceil = |mut i: usize| {
        while i < text.len() && !text.is_char_boundary(i) {
            i += 1;
        }
        i
    };
    let from = floor(start.saturating_sub(SIDE));
    let to = ceil((end + SIDE).min(text.len()));
    let mid_end = ceil(end.min(start + 80));
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(&text[from..start]);
    out.push('«');
    out.push_str(&text[start..mid_end]);
    out.push('»');
    out.push_str(&text[mid_end..to.max(mid_end)]);
    if to < text.len() {
        out.push('…');
    }
    out.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
