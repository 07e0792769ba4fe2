//! The engine: brand pack + patch set + base tree → overlay + report.
//!
//! Planning decides which rule touches which file (and fails on drift);
//! applying runs every rule of a file in patch-set order, files in parallel;
//! safety nets then check that protected names kept their counts and that
//! patched JS still parses; then compressed siblings are regenerated; last,
//! [`crate::cachebust`] renames what changed under content-hashed names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::actions::{self, Outcome, replace::Replacer};
use crate::brand::Brand;
use crate::color::Rgb;
use crate::compress;
use crate::edits::Chain;
use crate::error::{Error, Problem, Result};
use crate::icon::{self, IconStyle};
use crate::overrides;
use crate::patchset::{AssetSource, Background, IconSpec, Op, PatchSet, Rule, Scope};
use crate::report::{Change, FileReport, Report, RuleReport, Skipped, Totals};
use crate::scan::name::NameSpec;
use crate::template::Template;
use crate::tree::BaseTree;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Skip (and report) target files absent from the base tree.
    pub partial: bool,
}

/// The files the brand changes or adds, by path relative to the app root.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Overlay {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Overlay {
    /// `path` as the image will hold it: the overlay's bytes, else the base's.
    pub fn read(&self, tree: &dyn BaseTree, path: &str) -> Result<Vec<u8>> {
        match self.files.get(path) {
            Some(b) => Ok(b.clone()),
            None => tree.read(path),
        }
    }
}

/// A rule made concrete for one brand.
enum Prepared<'b> {
    Replace(Scope, Replacer),
    Bytes(Vec<u8>),
    Icon(IconSpec, IconStyle, &'b crate::svg::Svg),
    Palette(actions::palette::Palette),
    JsonSet(Vec<(String, String)>),
    YamlEntries(String, String, Vec<(String, String)>),
    Id3(Replacer, usize),
}

fn prepare<'b>(rule: &Rule, brand: &'b Brand, links: &[(String, Template)], name: &NameSpec) -> Prepared<'b> {
    let raw = |t: &Template| t.render(brand, str::to_string);
    match &rule.op {
        Op::Replace { scope, replacements, syntax, i18n_keys } => {
            Prepared::Replace(*scope, Replacer::new(replacements, links, brand, *syntax, i18n_keys.as_ref(), name))
        }
        Op::Asset { source } => Prepared::Bytes(match source {
            AssetSource::LogoLight => brand.logos.light.svg.to_clean_svg().into_bytes(),
            AssetSource::LogoDark => brand.logos.dark.svg.to_clean_svg().into_bytes(),
            AssetSource::LogoMark => brand.logos.mark.svg.to_clean_svg().into_bytes(),
            AssetSource::MailLayout => brand.mail.layout.clone().into_bytes(),
        }),
        Op::Icon(spec) => {
            let background = match spec.background {
                Background::Transparent => None,
                Background::IconBackground => Some(brand.logos.icon_background),
                Background::Primary => Some(brand.primary),
            };
            Prepared::Icon(
                spec.clone(),
                IconStyle { background, padding: spec.padding, badge: spec.badge },
                &brand.logos.mark.svg,
            )
        }
        Op::Palette { colors } => {
            let pairs: Vec<(Rgb, Rgb)> =
                colors.iter().map(|(from, to)| (*from, Rgb::parse(&raw(to)).unwrap_or(brand.primary))).collect();
            Prepared::Palette(actions::palette::Palette::new(&pairs))
        }
        Op::JsonSet { set } => Prepared::JsonSet(set.iter().map(|(k, t)| (k.clone(), raw(t))).collect()),
        Op::YamlEntries { key_field, value_field, set } => Prepared::YamlEntries(
            key_field.clone(),
            value_field.clone(),
            set.iter().map(|(k, t)| (k.clone(), raw(t))).collect(),
        ),
        Op::Id3 { replacements } => {
            Prepared::Id3(Replacer::new(replacements, links, brand, Default::default(), None, name), replacements.len())
        }
    }
}

impl Prepared<'_> {
    fn apply(&self, path: &str, data: Option<&[u8]>) -> std::result::Result<Outcome, String> {
        let data = data.unwrap_or_default();
        match self {
            Prepared::Replace(scope, r) => r.apply(*scope, data),
            Prepared::Bytes(bytes) => Ok(Outcome::whole((bytes.as_slice() != data).then(|| bytes.clone()), vec![1])),
            Prepared::Icon(spec, style, mark) => render_icon(mark, path, data, spec, *style),
            Prepared::Palette(p) => p.apply(data),
            Prepared::JsonSet(set) => actions::json_set::apply(data, set),
            Prepared::YamlEntries(k, v, set) => actions::yaml_entries::apply(data, k, v, set),
            Prepared::Id3(r, slots) => actions::id3::apply(data, *slots, |text, counts| r.apply_text(text, counts)),
        }
    }
}

fn render_icon(
    mark: &crate::svg::Svg,
    path: &str,
    base: &[u8],
    spec: &IconSpec,
    style: IconStyle,
) -> std::result::Result<Outcome, String> {
    let bytes = if path.ends_with(".ico") {
        let sizes = if spec.ico_sizes.is_empty() { vec![16, 32, 48] } else { spec.ico_sizes.clone() };
        icon::ico(mark, &sizes, style)
    } else {
        let size = spec
            .size
            .or_else(|| icon::size_from_name(path))
            .ok_or("has no NNxNN size in its name and the rule gives no `size`")?;
        if !base.is_empty() {
            let dims = image::ImageReader::new(std::io::Cursor::new(base))
                .with_guessed_format()
                .ok()
                .and_then(|r| r.into_dimensions().ok());
            if let Some((w, h)) = dims
                && (w, h) != (size, size)
            {
                return Err(format!("is {w}x{h} in the base, but the rule renders {size}x{size}"));
            }
        }
        icon::png(&icon::render(mark, size, style))
    };
    Ok(Outcome::whole(Some(bytes), vec![1]))
}

/// One rule applied to one file: matches per replace entry, and whether it
/// changed the bytes (a match can rewrite to the same text).
struct Applied {
    rule: usize,
    counts: Vec<usize>,
    changed: bool,
}

/// What happened to one file.
struct FileResult {
    path: String,
    base_len: u64,
    created: bool,
    new: Option<Vec<u8>>,
    rules: Vec<Applied>,
    /// How the bytes moved, when every changing rule said (for source maps).
    edits: Option<Chain>,
    problems: Vec<Problem>,
    /// The brand's `[strings]` overrides this file held.
    found: overrides::Found,
}

/// Renders the overlay. Errors list every drift problem found.
pub fn render(brand: &Brand, ps: &PatchSet, tree: &dyn BaseTree, opts: Options) -> Result<(Overlay, Report)> {
    let links = merged_links(ps, brand);
    let prepared: Vec<Prepared> = ps.rules.iter().map(|r| prepare(r, brand, &links, &ps.product)).collect();
    let brand_file = brand.pack.root().join(crate::brand::BRAND_FILE);
    let strings = overrides::Apply::new(ps.strings.as_ref(), &brand_file, &brand.strings)
        .map_err(|problems| Error::InvalidBrand { pack: brand.pack.root().to_path_buf(), problems })?;

    // Plan: which rules touch which file.
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    let mut plan: BTreeMap<String, (bool, Vec<usize>)> = BTreeMap::new();
    for (i, rule) in ps.rules.iter().enumerate() {
        let mut targets: Vec<String> =
            tree.files().iter().filter(|f| rule.targets(f) && !ps.never.is_match(f.as_str())).cloned().collect();
        for literal in rule.globs.iter().filter(|g| !g.contains(['*', '?', '[', '{'])) {
            if tree.exists(literal) || ps.never.is_match(literal.as_str()) {
                continue;
            }
            if rule.create {
                targets.push(literal.clone());
                plan.entry(literal.clone()).or_insert((true, Vec::new())).0 = true;
            } else if opts.partial {
                skipped.push(Skipped {
                    rule: rule.id.clone(),
                    path: literal.clone(),
                    reason: "absent from the base tree".into(),
                });
            } else if !rule.optional {
                problems.push(drift(ps, rule, format!("{literal} is missing from the base")));
            }
        }
        if targets.is_empty() {
            let globs = rule.globs.join(", ");
            if opts.partial {
                if rule.globs.iter().any(|g| g.contains(['*', '?', '[', '{'])) {
                    skipped.push(Skipped {
                        rule: rule.id.clone(),
                        path: globs,
                        reason: "no file of the base tree matches".into(),
                    });
                }
            } else if !rule.optional && problems.iter().all(|p: &Problem| p.field.as_deref() != Some(&field(rule))) {
                problems.push(drift(ps, rule, format!("matches no file ({globs})")));
            }
        }
        for t in targets {
            plan.entry(t).or_insert((false, Vec::new())).1.push(i);
        }
    }
    if !problems.is_empty() {
        return Err(Error::Drift { patchset: ps.name.clone(), problems });
    }
    if let Some(s) = &strings {
        for f in tree.files().iter().filter(|f| s.targets(f) && !ps.never.is_match(f.as_str())) {
            plan.entry(f.clone()).or_insert((false, Vec::new()));
        }
    }

    // Apply, file by file, in parallel.
    let results: Vec<FileResult> = plan
        .par_iter()
        .map(|(path, (created, rules))| apply_file(ps, &prepared, strings.as_ref(), tree, path, *created, rules))
        .collect();

    // Aggregate counts; a non-optional rule that changed nothing is drift.
    let mut totals: Vec<Vec<usize>> = ps.rules.iter().map(|r| vec![0; slots(r)]).collect();
    let mut files_per_rule = vec![0usize; ps.rules.len()];
    for r in &results {
        problems.extend(r.problems.iter().cloned());
        for a in &r.rules {
            for (t, c) in totals[a.rule].iter_mut().zip(&a.counts) {
                *t += c;
            }
            if a.changed && r.new.is_some() {
                files_per_rule[a.rule] += 1;
            }
        }
    }
    for (i, rule) in ps.rules.iter().enumerate() {
        let planned = plan.values().any(|(_, rs)| rs.contains(&i));
        if planned && !rule.optional && totals[i].iter().sum::<usize>() == 0 {
            problems.push(drift(ps, rule, "found nothing to change in the files it targets".into()));
        }
        if let Op::Replace { replacements, .. } | Op::Id3 { replacements } = &rule.op {
            for (slot, r) in replacements.iter().enumerate() {
                if let Some(expect) = r.expect
                    && totals[i][slot] != expect
                    && !(skipped.iter().any(|s| s.rule == rule.id) && totals[i][slot] < expect)
                {
                    problems.push(drift(
                        ps,
                        rule,
                        format!("replace entry {} matched {} times, expected {expect}", slot + 1, totals[i][slot]),
                    ));
                }
            }
        }
    }
    if let Some(s) = &strings
        && !opts.partial
    {
        let found: overrides::Found = results.iter().flat_map(|r| r.found.iter().cloned()).collect();
        for (locale, key) in s.missing(&found) {
            problems.push(Problem::new(
                &brand_file,
                Some(format!("strings.{locale}.\"{key}\"")),
                "is in the patch set's catalogue but in no message file of the base",
                format!(
                    "the base is not {} as the patch set expects: check the base, or the patch set's [strings]",
                    ps.name
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Drift { patchset: ps.name.clone(), problems });
    }
    let overridden: Vec<String> =
        results.iter().filter(|r| !r.found.is_empty() && r.new.is_some()).map(|r| r.path.clone()).collect();

    // Collect the overlay and regenerate compressed siblings.
    let mut overlay = Overlay::default();
    let mut reports = Vec::new();
    let moved: Vec<(String, Chain)> = results
        .iter()
        .filter(|r| r.new.is_some() && r.path.ends_with(".js") && tree.exists(&format!("{}.map", r.path)))
        .filter_map(|r| r.edits.clone().map(|c| (r.path.clone(), c)))
        // Same-length edits (a hex color) move nothing.
        .filter(|(_, chain)| chain.iter().flatten().any(|e| e.old_len != e.new_len))
        .collect();
    for r in results {
        let Some(new) = r.new else { continue };
        let changed = || r.rules.iter().filter(|a| a.changed);
        let mut rule_ids: Vec<String> = changed().map(|a| ps.rules[a.rule].id.clone()).collect();
        if !r.found.is_empty() {
            rule_ids.push("strings".into());
        }
        let replacements = changed().map(|a| a.counts.iter().sum::<usize>()).sum();
        reports.push(FileReport {
            path: r.path.clone(),
            change: if r.created { Change::Added } else { Change::Changed },
            rules: rule_ids,
            replacements,
            bytes_before: r.base_len,
            bytes_after: new.len() as u64,
        });
        overlay.files.insert(r.path, new);
    }
    if let Some(s) = &strings {
        override_maps(s, tree, &overridden, &mut overlay, &mut reports)?;
    }
    follow_source_maps(tree, &moved, &mut overlay, &mut reports)?;
    let siblings: Vec<(String, String, compress::Encoder)> = overlay
        .files
        .keys()
        .flat_map(|p| compress::SIBLINGS.iter().map(move |(suffix, enc)| (p.clone(), format!("{p}{suffix}"), *enc)))
        .filter(|(_, s, _)| tree.exists(s) && !ps.never.is_match(s.as_str()))
        .collect();
    let regenerated: Vec<(String, String, Vec<u8>)> =
        siblings.par_iter().map(|(of, s, enc)| (of.clone(), s.clone(), enc(&overlay.files[of]))).collect();
    for (of, sibling, bytes) in regenerated {
        let before = tree.size(&sibling).unwrap_or(0);
        reports.push(FileReport {
            path: sibling.clone(),
            change: Change::Regenerated,
            rules: vec![format!("sibling of {of}")],
            replacements: 0,
            bytes_before: before,
            bytes_after: bytes.len() as u64,
        });
        overlay.files.insert(sibling, bytes);
    }
    // Last: what changed gets new names, and whoever names it follows.
    let cache_busting = crate::cachebust::apply(&ps.cache_busting, &ps.never, tree, &mut overlay, &mut reports)?;
    reports.sort_by(|a, b| a.path.cmp(&b.path));

    let rules = ps
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleReport {
            id: r.id.clone(),
            category: r.category(),
            description: r.description.clone(),
            files: files_per_rule[i],
            replacements: totals[i].iter().sum(),
        })
        .collect();
    let count = |c: Change| reports.iter().filter(|f| f.change == c).count();
    let totals = Totals {
        files_changed: count(Change::Changed),
        files_added: count(Change::Added),
        siblings_regenerated: count(Change::Regenerated),
        replacements: reports.iter().map(|f| f.replacements).sum(),
        bytes_before: reports.iter().map(|f| f.bytes_before).sum(),
        bytes_after: reports.iter().map(|f| f.bytes_after).sum(),
    };
    let mut categories = BTreeMap::new();
    for f in reports.iter().filter(|f| f.change != Change::Regenerated) {
        let mut seen: Vec<String> =
            f.rules.iter().filter_map(|id| ps.rules.iter().find(|r| &r.id == id)).map(Rule::category).collect();
        seen.sort();
        seen.dedup();
        for c in seen {
            *categories.entry(c).or_insert(0) += 1;
        }
    }
    let report = Report {
        cache_busting,
        categories,
        audit: None,
        tool: format!("whitelabel {}", env!("CARGO_PKG_VERSION")),
        brand: brand.id.clone(),
        brand_name: brand.name.clone(),
        brand_digest: brand.digest.clone(),
        patchset: ps.name.clone(),
        patchset_digest: ps.digest.clone(),
        base: tree.describe(),
        partial: opts.partial,
        files: reports,
        rules,
        skipped,
        totals,
    };
    Ok((overlay, report))
}

/// The brand's wording in the `sourcesContent` of the maps of `chunks`.
fn override_maps(
    strings: &overrides::Apply,
    tree: &dyn BaseTree,
    chunks: &[String],
    overlay: &mut Overlay,
    reports: &mut Vec<FileReport>,
) -> Result<()> {
    for map in chunks.iter().map(|c| format!("{c}.map")).filter(|m| tree.exists(m)) {
        let old = overlay.read(tree, &map)?;
        let new = strings.apply_map(&old).map_err(|why| {
            Error::Input(Problem::new(&map, None, format!("is not a valid source map: {why}"), "check the base tree"))
        })?;
        let Some(new) = new else { continue };
        put(tree, overlay, reports, &map, new, "strings");
    }
    Ok(())
}

/// `path` gets new bytes in the overlay; its report says why (a file the
/// rules did not touch gets a report of its own).
pub(crate) fn put(
    tree: &dyn BaseTree,
    overlay: &mut Overlay,
    reports: &mut Vec<FileReport>,
    path: &str,
    bytes: Vec<u8>,
    why: &str,
) {
    match reports.iter_mut().find(|r| r.path == path) {
        Some(r) => {
            r.rules.push(why.to_string());
            r.bytes_after = bytes.len() as u64;
        }
        None => reports.push(FileReport {
            path: path.to_string(),
            change: Change::Changed,
            rules: vec![why.to_string()],
            replacements: 0,
            bytes_before: tree.size(path).unwrap_or(0),
            bytes_after: bytes.len() as u64,
        }),
    }
    overlay.files.insert(path.to_string(), bytes);
}

/// Moves the `mappings` of `X.js.map` with the code of a patched `X.js`, so
/// devtools and error trackers still point at the right source lines.
fn follow_source_maps(
    tree: &dyn BaseTree,
    moved: &[(String, Chain)],
    overlay: &mut Overlay,
    reports: &mut Vec<FileReport>,
) -> Result<()> {
    let remapped: Vec<(String, std::result::Result<Vec<u8>, String>)> = moved
        .par_iter()
        .map(|(js, chain)| {
            let map = format!("{js}.map");
            let result = (|| {
                let old_js = tree.read(js).map_err(|e| e.to_string())?;
                let old_map = overlay.read(tree, &map).map_err(|e| e.to_string())?;
                let (old_js, new_js) = (String::from_utf8_lossy(&old_js), String::from_utf8_lossy(&overlay.files[js]));
                crate::scan::sourcemap::remap(&old_map, &old_js, &new_js, chain)
            })();
            (map, result)
        })
        .collect();
    for (map, result) in remapped {
        let bytes = result.map_err(|why| {
            Error::Input(Problem::new(
                &map,
                None,
                format!("mappings could not follow the patched code: {why}"),
                "check the source map is valid JSON (v3)",
            ))
        })?;
        put(tree, overlay, reports, &map, bytes, "mappings");
    }
    Ok(())
}

fn apply_file(
    ps: &PatchSet,
    prepared: &[Prepared],
    strings: Option<&overrides::Apply>,
    tree: &dyn BaseTree,
    path: &str,
    created: bool,
    rules: &[usize],
) -> FileResult {
    let mut result = FileResult {
        path: path.to_string(),
        base_len: 0,
        created,
        new: None,
        rules: Vec::new(),
        edits: Some(Chain::new()),
        problems: Vec::new(),
        found: overrides::Found::new(),
    };
    let base = if created {
        None
    } else {
        match tree.read(path) {
            Ok(b) => Some(b),
            Err(e) => {
                result.problems.push(Problem::new(path, None, e.to_string(), "check the base tree"));
                return result;
            }
        }
    };
    result.base_len = base.as_ref().map_or(0, |b| b.len() as u64);
    let mut current: Option<Vec<u8>> = None;
    for &i in rules {
        let rule = &ps.rules[i];
        let input = current.as_deref().or(base.as_deref());
        match prepared[i].apply(path, input) {
            Ok(outcome) => {
                let changed = outcome.bytes.is_some();
                if let Some(bytes) = outcome.bytes {
                    current = Some(bytes);
                    match (&mut result.edits, outcome.edits) {
                        (Some(chain), Some(edits)) => chain.push(edits),
                        (slot, _) => *slot = None,
                    }
                }
                result.rules.push(Applied { rule: i, counts: outcome.counts, changed });
            }
            Err(why) => result.problems.push(drift_in(ps, rule, path, why)),
        }
    }
    // The brand's own wording last, so that it stands as written.
    if let Some(s) = strings
        && let Some(applied) = s.apply(path, current.as_deref().or(base.as_deref()).unwrap_or_default())
    {
        current = Some(applied.bytes);
        match (&mut result.edits, applied.edits) {
            (Some(chain), Some(edits)) => chain.push(edits),
            (slot, _) => *slot = None,
        }
        result.found = applied.found;
    }
    if let (Some(new), Some(old)) = (&current, &base) {
        if new == old {
            current = None;
        } else if let Err(why) = safety_checks(ps, path, old, new) {
            result.problems.push(Problem::new(
                path,
                None,
                format!("internal check failed: {why}"),
                "this is a whitelabel bug or a patch-set rule that rewrites code; report it with the brand and patch set",
            ));
        }
    }
    result.new = current;
    result
}

/// Protected names keep their counts; patched JS still parses.
fn safety_checks(ps: &PatchSet, path: &str, old: &[u8], new: &[u8]) -> std::result::Result<(), String> {
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return Ok(());
    };
    let (a, b) = (ps.protected_counts(old), ps.protected_counts(new));
    if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
        return Err(format!(
            "protected name {:?} occurs {} times after patching, {} before",
            ps.protected[i], b[i], a[i]
        ));
    }
    if path.ends_with(".js") || path.ends_with(".mjs") {
        crate::scan::js::parses(new).map_err(|e| format!("patched JavaScript no longer parses: {e}"))?;
    }
    if path.ends_with(".json") || path.ends_with(".map") {
        serde_json::from_str::<serde_json::Value>(new).map_err(|e| format!("patched JSON no longer parses: {e}"))?;
    }
    Ok(())
}

fn slots(rule: &Rule) -> usize {
    match &rule.op {
        Op::Replace { replacements, .. } | Op::Id3 { replacements } => replacements.len(),
        _ => 1,
    }
}

fn field(rule: &Rule) -> String {
    format!("rule {}", rule.id)
}

fn drift(ps: &PatchSet, rule: &Rule, what: String) -> Problem {
    Problem::new(
        &rule.file,
        Some(field(rule)),
        what,
        format!(
            "the base is not {} as the patch set expects (upstream changed?): fix the rule, mark it optional, or use --partial for a partial tree",
            ps.name
        ),
    )
}

fn drift_in(ps: &PatchSet, rule: &Rule, path: &str, why: String) -> Problem {
    drift(ps, rule, format!("{path} {why}"))
}

/// The patch set's `[links]` merged with the brand's (the brand wins), longest
/// prefix first so that specific links beat the site root.
fn merged_links(ps: &PatchSet, brand: &Brand) -> Vec<(String, Template)> {
    let mut map: BTreeMap<String, Template> = ps.links.iter().cloned().collect();
    for (from, to) in &brand.links {
        // Brand URLs are validated https URLs without braces: a plain template.
        if let Ok(t) = Template::parse(to) {
            map.insert(from.clone(), t);
        }
    }
    let mut links: Vec<(String, Template)> = map.into_iter().collect();
    links.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    links
}

/// Writes `path` whole: into a temporary beside it with a unique name
/// (created with `O_EXCL`, so nobody's `path.tmp` is touched), then renamed
/// over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".whitelabel-tmp-")
        .tempfile_in(parent)
        .map_err(|e| Error::io("creating a temporary in", parent, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io("writing", tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io("writing", path, e.error))?;
    Ok(())
}

/// `DIR.<what>` next to `dir`.
pub fn sibling(dir: &Path, what: &str) -> PathBuf {
    let mut name = dir.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{what}"));
    dir.with_file_name(name)
}
