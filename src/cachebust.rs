//! Cache-busting, as a rebuild would do it. Served files named by their
//! content (`<name>-<hash>.<ext>`) whose bytes the overlay changes get a new
//! name from their new bytes, with their map and `.gz`/`.br` siblings; every
//! importer and manifest that names them is rewritten, and renamed in turn up
//! to the entry points. Unhashed files the overlay changes get `?v=<digest>`
//! where the patch set's referrers (layouts, web manifests) name them.
//!
//! The stock files stay in the base layer: the overlay only adds names, so a
//! tab opened before the switch keeps loading what it started with.
//!
//! Everything version-specific (which directories are hashed, the hash shape,
//! the manifests, the referrers) is the patch set's `[cache_busting]` table.
//! References are found by name, not by syntax: any run of file-name bytes
//! equal to a hashed file's name is a reference (imports, `import()`,
//! `__vite__mapDeps` lists, CSS `url()`, manifests, `sourceMappingURL`).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Range;
use std::path::Path;

use base64::Engine;
use globset::GlobSet;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::compress;
use crate::error::{Error, Problem, Result};
use crate::render::{Overlay, put};
use crate::report::{Change, FileReport};
use crate::tree::BaseTree;

/// The patch set's `[cache_busting]` table, compiled.
#[derive(Debug, Default)]
pub struct Spec {
    hashed: Vec<Hashed>,
    manifests: Vec<Manifest>,
    versioned: Option<Versioned>,
}

/// One family of content-named files.
#[derive(Debug)]
struct Hashed {
    files: GlobSet,
    /// Matches a file name; its `hash` group is the part a new name replaces.
    name: regex::Regex,
    alphabet: Alphabet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Alphabet {
    /// `A-Z a-z 0-9 - _` (Rollup 4 / Vite 5).
    Base64url,
    /// `0-9 a-f` (Sprockets, Rollup 3).
    Hex,
}

#[derive(Debug)]
struct Manifest {
    files: GlobSet,
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Format {
    /// Names rewritten wherever they occur (Vite's manifest.json, manifest-assets.json).
    Vite,
    /// As `vite`, and the `digest`/`integrity`/`size` of renamed `files` entries.
    Sprockets,
}

#[derive(Debug)]
struct Versioned {
    /// Where URL path `/x` lives (`public`).
    url_root: String,
    /// Files whose references to changed unhashed files get `?v=`.
    referrers: GlobSet,
}

// ---- the TOML as written ----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSpec {
    #[serde(default)]
    hashed: Vec<RawHashed>,
    #[serde(default)]
    manifest: Vec<RawManifest>,
    versioned: Option<RawVersioned>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHashed {
    files: Vec<String>,
    name: String,
    alphabet: Alphabet,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    files: Vec<String>,
    format: Format,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersioned {
    url_root: String,
    referrers: Vec<String>,
}

impl Spec {
    /// Compiles the tables of every patch-set file that has one.
    pub(crate) fn compile(raws: Vec<(RawSpec, std::path::PathBuf)>, problems: &mut Vec<Problem>) -> Spec {
        let mut spec = Spec::default();
        for (raw, file) in raws {
            let mut globs = |field: &str, g: &[String]| match crate::patchset::build_globs(g) {
                Ok(set) => Some(set),
                Err(why) => {
                    problems.push(Problem::new(&file, Some(format!("cache_busting.{field}")), why, "fix the glob"));
                    None
                }
            };
            let mut hashed = Vec::new();
            for h in &raw.hashed {
                let Some(files) = globs("hashed.files", &h.files) else { continue };
                hashed.push((files, h));
            }
            let manifests: Vec<Manifest> = raw
                .manifest
                .iter()
                .filter_map(|m| Some(Manifest { files: globs("manifest.files", &m.files)?, format: m.format }))
                .collect();
            let referrers = raw.versioned.as_ref().and_then(|v| globs("versioned.referrers", &v.referrers));
            for (files, h) in hashed {
                match regex::Regex::new(&h.name) {
                    Ok(name) if name.capture_names().any(|n| n == Some("hash")) => {
                        spec.hashed.push(Hashed { files, name, alphabet: h.alphabet })
                    }
                    Ok(_) => problems.push(Problem::new(
                        &file,
                        Some("cache_busting.hashed.name".into()),
                        format!("`{}` has no `hash` group", h.name),
                        "name the hash part: (?P<hash>[A-Za-z0-9_-]{8})",
                    )),
                    Err(e) => problems.push(Problem::new(
                        &file,
                        Some("cache_busting.hashed.name".into()),
                        e.to_string(),
                        "fix the regex",
                    )),
                }
            }
            spec.manifests.extend(manifests);
            if let (Some(v), Some(referrers)) = (raw.versioned, referrers) {
                if spec.versioned.is_some() {
                    problems.push(Problem::new(
                        &file,
                        Some("cache_busting.versioned".into()),
                        "a second [cache_busting.versioned] table",
                        "keep one",
                    ));
                }
                spec.versioned = Some(Versioned { url_root: v.url_root.trim_end_matches('/').to_string(), referrers });
            }
        }
        spec
    }

    /// The `hash` range of `path`'s file name, and its family, when it is a
    /// content-named file (manifests never are).
    fn hashed(&self, path: &str) -> Option<(Range<usize>, &Hashed)> {
        if self.manifest(path).is_some() {
            return None;
        }
        let base = basename(path);
        self.hashed.iter().filter(|h| h.files.is_match(path)).find_map(|h| {
            let hash = h.name.captures(base)?.name("hash")?;
            Some((hash.range(), h))
        })
    }

    /// A content-named file's name without its hash (`x-\0.js`), by the
    /// name shapes alone (any directory).
    fn unhashed(&self, path: &str) -> Option<String> {
        let base = basename(path);
        self.hashed.iter().find_map(|h| {
            let r = h.name.captures(base)?.name("hash")?.range();
            Some(format!("{}\0{}", &base[..r.start], &base[r.end..]))
        })
    }

    fn manifest(&self, path: &str) -> Option<Format> {
        self.manifests.iter().find(|m| m.files.is_match(path)).map(|m| m.format)
    }

    fn is_empty(&self) -> bool {
        self.hashed.is_empty() && self.versioned.is_none()
    }
}

/// What the phase did, for the render report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renames {
    /// Old path → new path of every renamed content-named file (maps and
    /// siblings follow and are not listed).
    pub renamed: BTreeMap<String, String>,
    /// Referrer → the `?v=` references added to it (`/favicon-32x32.png?v=…`).
    pub versioned: BTreeMap<String, Vec<String>>,
}

impl Renames {
    pub fn is_empty(&self) -> bool {
        self.renamed.is_empty() && self.versioned.is_empty()
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn dirname(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Runs of file-name bytes in `text` that name a file `known` accepts: the
/// run itself, or the run without a leading `_` (Vite's manifest keys of
/// shared chunks), a trailing `.map` or trailing dots. Returns the byte range
/// of the name and whether a `.map` followed it.
fn names_in<'a>(text: &'a [u8], known: impl Fn(&str) -> bool + 'a) -> impl Iterator<Item = (Range<usize>, bool)> + 'a {
    runs(text, is_name_byte).filter_map(move |r| {
        let run = &text[r.clone()];
        // A hashed name has a '-' and a '.'; most runs (identifiers) have neither.
        if run.len() < 5 || !run.contains(&b'-') || !run.contains(&b'.') {
            return None;
        }
        let name = std::str::from_utf8(run).ok()?.trim_end_matches('.');
        // The run itself first: real chunk names can start with `_`.
        let unprefixed = name.strip_prefix('_').map(|rest| (r.start + 1, rest));
        std::iter::once((r.start, name)).chain(unprefixed).find_map(|(s, name)| {
            if known(name) {
                return Some((s..s + name.len(), false));
            }
            let stem = name.strip_suffix(".map").filter(|stem| known(stem))?;
            Some((s..s + stem.len(), true))
        })
    })
}

/// The maximal runs of bytes of `text` that `is` accepts.
fn runs<'a>(text: &'a [u8], is: impl Fn(u8) -> bool + 'a) -> impl Iterator<Item = Range<usize>> + 'a {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() && !is(text[i]) {
            i += 1;
        }
        let start = i;
        while i < text.len() && is(text[i]) {
            i += 1;
        }
        (start < text.len()).then_some(start..i)
    })
}

/// A new hash of `len` characters in `alphabet` from a digest.
fn encode(digest: &[u8], alphabet: Alphabet, len: usize) -> String {
    let mut s = match alphabet {
        Alphabet::Base64url => base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest),
        Alphabet::Hex => hex::encode(digest),
    };
    // A sha256 gives 43 base64url or 64 hex characters; longer hashes repeat it.
    while s.len() < len {
        s = format!("{s}{s}");
    }
    s.truncate(len);
    s
}

/// The content-named files of a tree and the names they use.
struct Graph<'a> {
    paths: Vec<String>,
    /// Hash range of each file's name.
    hash: Vec<Range<usize>>,
    alphabet: Vec<Alphabet>,
    by_name: HashMap<String, Vec<usize>>,
    /// Each file's bytes: the overlay's (borrowed) or read from the tree.
    bytes: Vec<std::borrow::Cow<'a, [u8]>>,
    /// References in each file: (byte range of the name, target).
    refs: Vec<Vec<(Range<usize>, usize)>>,
}

impl<'a> Graph<'a> {
    fn build(spec: &Spec, tree: &dyn BaseTree, overlay: &'a Overlay) -> Result<Graph<'a>> {
        let mut paths = Vec::new();
        let mut hash = Vec::new();
        let mut alphabet = Vec::new();
        for p in tree.files().iter().chain(overlay.files.keys()) {
            if let Some((h, fam)) = spec.hashed(p)
                && !paths.contains(p)
            {
                paths.push(p.clone());
                hash.push(h);
                alphabet.push(fam.alphabet);
            }
        }
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in paths.iter().enumerate() {
            by_name.entry(basename(p).to_string()).or_default().push(i);
        }
        let bytes: Vec<std::borrow::Cow<'a, [u8]>> = paths
            .par_iter()
            .map(|p| match overlay.files.get(p) {
                Some(b) => Ok(std::borrow::Cow::Borrowed(b.as_slice())),
                None => tree.read(p).map(std::borrow::Cow::Owned),
            })
            .collect::<Result<_>>()?;
        let refs = bytes
            .par_iter()
            .map(|b| {
                names_in(b, |n| by_name.contains_key(n))
                    .flat_map(|(r, _)| {
                        let name = std::str::from_utf8(&b[r.clone()]).expect("a matched name is UTF-8");
                        by_name[name].iter().map(move |&t| (r.clone(), t))
                    })
                    .collect()
            })
            .collect();
        Ok(Graph { paths, hash, alphabet, by_name, bytes, refs })
    }

    /// `i`'s bytes with every reference's hash left out: what its own
    /// contribution to a new hash is, whatever its dependencies are called.
    fn normalised(&self, i: usize) -> [u8; 32] {
        let b = &self.bytes[i];
        let mut h = Sha256::new();
        let mut at = 0;
        for (r, t) in &self.refs[i] {
            let hr = &self.hash[*t];
            // A name shared by two files is one reference, listed twice.
            if r.start + hr.start < at {
                continue;
            }
            h.update(&b[at..r.start + hr.start]);
            at = r.start + hr.end;
        }
        h.update(&b[at..]);
        h.finalize().into()
    }

    /// `i`'s bytes with each name it references that `names` renames
    /// replaced (the references were found when the graph was built).
    fn rewritten(&self, i: usize, names: &HashMap<String, String>) -> Vec<u8> {
        let b = &self.bytes[i];
        let mut out = Vec::with_capacity(b.len());
        let mut at = 0;
        for (r, _) in &self.refs[i] {
            // A name shared by two files is one reference, listed twice.
            if r.start < at {
                continue;
            }
            let Some(new) = names.get(std::str::from_utf8(&b[r.clone()]).expect("a matched name is UTF-8")) else {
                continue;
            };
            out.extend_from_slice(&b[at..r.start]);
            out.extend_from_slice(new.as_bytes());
            at = r.end;
        }
        out.extend_from_slice(&b[at..]);
        out
    }

    /// Every file `from` reaches through references, itself included.
    fn reach(&self, from: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(i) = queue.pop_front() {
            for (_, t) in &self.refs[i] {
                if seen.insert(*t) {
                    queue.push_back(*t);
                }
            }
        }
        seen
    }
}

/// `text` with every name in `names` (old → new) replaced.
fn rewrite(text: &[u8], names: &HashMap<String, String>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    for (r, _) in names_in(text, |n| names.contains_key(n)) {
        let old = std::str::from_utf8(&text[r.clone()]).expect("a matched name is UTF-8");
        out.extend_from_slice(&text[at..r.start]);
        out.extend_from_slice(names[old].as_bytes());
        at = r.end;
    }
    if at == 0 {
        return None;
    }
    out.extend_from_slice(&text[at..]);
    Some(out)
}

/// The phase run after the overlay's rules, maps and siblings: renames and
/// versions what the overlay changed, rewrites who names it, and keeps the
/// file reports in step.
pub fn apply(
    spec: &Spec,
    never: &GlobSet,
    tree: &dyn BaseTree,
    overlay: &mut Overlay,
    reports: &mut Vec<FileReport>,
) -> Result<Renames> {
    let done = Renames::default();
    if spec.is_empty() {
        return Ok(done);
    }
    let mut w = Work { spec, tree, overlay, reports, done, written: BTreeMap::new() };
    rename_hashed(&mut w)?;
    version_unhashed(&mut w)?;
    let Work { overlay, reports, done, written, .. } = w;
    if let Some(p) = written.keys().find(|p| never.is_match(p.as_str())) {
        return Err(Error::Input(Problem::new(
            p,
            None,
            "cache-busting would write a file the patch set's `never` forbids",
            "exclude the file from [cache_busting] or from `never`",
        )));
    }
    follow_siblings(tree, overlay, reports, &written);
    Ok(done)
}

/// What the two steps share: their inputs, the overlay and reports they
/// edit, what they did, and every file they wrote (new path → old path).
struct Work<'a> {
    spec: &'a Spec,
    tree: &'a dyn BaseTree,
    overlay: &'a mut Overlay,
    reports: &'a mut Vec<FileReport>,
    done: Renames,
    written: BTreeMap<String, String>,
}

fn rename_hashed(w: &mut Work) -> Result<()> {
    let (spec, tree) = (w.spec, w.tree);
    let Work { overlay, reports, done, written, .. } = w;
    let g = Graph::build(spec, tree, overlay)?;
    let n = g.paths.len();
    // Dirty: changed by the overlay, or naming a dirty file.
    let mut importers = vec![Vec::new(); n];
    for (i, refs) in g.refs.iter().enumerate() {
        for (_, t) in refs {
            if *t != i {
                importers[*t].push(i);
            }
        }
    }
    let mut dirty = vec![false; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| overlay.files.contains_key(&g.paths[i])).collect();
    for &i in &queue {
        dirty[i] = true;
    }
    while let Some(i) = queue.pop_front() {
        for &m in &importers[i] {
            if !dirty[m] {
                dirty[m] = true;
                queue.push_back(m);
            }
        }
    }
    if !dirty.contains(&true) {
        return Ok(());
    }
    // As Rollup: a file's hash is its own content with its references'
    // hashes left out, plus that of every file it reaches, so cycles between
    // chunks have a stable answer.
    let own: Vec<[u8; 32]> = (0..n).into_par_iter().map(|i| g.normalised(i)).collect();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut new_path = vec![None; n];
    for i in (0..n).filter(|&i| dirty[i]) {
        let old = basename(&g.paths[i]);
        let r = g.hash[i].clone();
        // Its name without the hash and its own bytes first (files of one
        // cycle reach the same set), then what it reaches in path order.
        let mut h = Sha256::new();
        h.update(format!("{}\0{}\0", &old[..r.start], &old[r.end..]));
        h.update(own[i]);
        for j in g.reach(i).into_iter().filter(|&j| j != i) {
            h.update(own[j]);
        }
        let digest: [u8; 32] = h.finalize().into();
        let new = format!("{}{}{}", &old[..r.start], encode(&digest, g.alphabet[i], r.len()), &old[r.end..]);
        let path = format!("{}/{new}", dirname(&g.paths[i]));
        if tree.exists(&path) || overlay.files.contains_key(&path) || new_path.contains(&Some(path.clone())) {
            return Err(Error::Input(Problem::new(
                &g.paths[i],
                None,
                format!("its new name {path} is taken"),
                "report this as a bug (a hash collision)",
            )));
        }
        if let Some(prev) = names.insert(old.to_string(), new.clone())
            && prev != new
        {
            return Err(Error::Input(Problem::new(
                &g.paths[i],
                None,
                format!("another content-named file is also called {old}, and only one changed"),
                "keep hashed names unique across [cache_busting.hashed] directories",
            )));
        }
        new_path[i] = Some(path);
    }
    // The new bytes of every renamed file and its map, side by side; the
    // overlay changes after, one file at a time.
    let moved = new_path
        .into_par_iter()
        .enumerate()
        .filter_map(|(i, to)| to.map(|to| (i, to)))
        .map(|(i, to)| {
            let from = g.paths[i].clone();
            let bytes = g.rewritten(i, &names);
            let map_from = format!("{from}.map");
            let map = match overlay.files.get(&map_from) {
                Some(b) => Some(rewrite(b, &names).unwrap_or_else(|| b.clone())),
                None if tree.exists(&map_from) => {
                    let map = tree.read(&map_from)?;
                    Some(rewrite(&map, &names).unwrap_or(map))
                }
                None => None,
            };
            Ok((from, to, bytes, map))
        })
        .collect::<Result<Vec<_>>>()?;
    drop(g);
    for (from, to, bytes, map) in moved {
        move_file(tree, overlay, reports, &from, &to, bytes, "cache-busting: renamed");
        written.insert(to.clone(), from.clone());
        if let Some(bytes) = map {
            let (map_from, map_to) = (format!("{from}.map"), format!("{to}.map"));
            move_file(tree, overlay, reports, &map_from, &map_to, bytes, "cache-busting: renamed with its file");
            written.insert(map_to, map_from);
        }
        done.renamed.insert(from, to);
    }
    // Manifests: every name rewritten; Sprockets' entries also re-described.
    let manifests: Vec<String> = tree
        .files()
        .iter()
        .chain(overlay.files.keys())
        .filter(|p| spec.manifest(p).is_some())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for m in manifests {
        let old = overlay.read(tree, &m)?;
        let Some(mut new) = rewrite(&old, &names) else { continue };
        if spec.manifest(&m) == Some(Format::Sprockets) {
            new = describe_sprockets(&m, &new, overlay, dirname(&m))?;
        }
        put(tree, overlay, reports, &m, new, "cache-busting: names");
        written.insert(m.clone(), m);
    }
    Ok(())
}

/// Sets `size`, `digest` and `integrity` of every `files` entry of a
/// Sprockets manifest that names a file of the overlay.
fn describe_sprockets(path: &str, text: &[u8], overlay: &Overlay, dir: &str) -> Result<Vec<u8>> {
    let bad = |why: String| {
        Error::Input(Problem::new(path, None, why, "check the Sprockets manifest is the JSON Sprockets writes"))
    };
    let mut v: serde_json::Value = serde_json::from_slice(text).map_err(|e| bad(e.to_string()))?;
    if let Some(files) = v.get_mut("files").and_then(|f| f.as_object_mut()) {
        for (name, entry) in files.iter_mut() {
            let Some(bytes) = overlay.files.get(&format!("{dir}/{name}")) else { continue };
            let Some(entry) = entry.as_object_mut() else { continue };
            let sha: [u8; 32] = Sha256::digest(bytes).into();
            entry.insert("size".into(), bytes.len().into());
            entry.insert("digest".into(), hex::encode(sha).into());
            entry.insert(
                "integrity".into(),
                format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(sha)).into(),
            );
        }
    }
    serde_json::to_vec(&v).map_err(|e| bad(e.to_string()))
}

/// The overlay's `from` (if any) becomes `to`, and its report follows.
fn move_file(
    tree: &dyn BaseTree,
    overlay: &mut Overlay,
    reports: &mut Vec<FileReport>,
    from: &str,
    to: &str,
    bytes: Vec<u8>,
    why: &str,
) {
    overlay.files.remove(from);
    let before = tree.size(from).unwrap_or(0);
    match reports.iter_mut().find(|r| r.path == from) {
        Some(r) => {
            r.path = to.to_string();
            r.change = Change::Added;
            r.rules.push(format!("{why} from {}", basename(from)));
            r.bytes_after = bytes.len() as u64;
        }
        None => reports.push(FileReport {
            path: to.to_string(),
            change: Change::Added,
            rules: vec![format!("{why} from {}", basename(from))],
            replacements: 0,
            bytes_before: before,
            bytes_after: bytes.len() as u64,
        }),
    }
    overlay.files.insert(to.to_string(), bytes);
}

/// Absolute URL paths (`/favicon-32x32.png`, JSON's `\/x.png`) in `text`
/// that are not followed by a query already: (byte range, path under `root`).
fn url_paths<'a>(text: &'a [u8], root: &'a str) -> impl Iterator<Item = (Range<usize>, String)> + 'a {
    runs(text, |b| is_name_byte(b) || matches!(b, b'/' | b'~' | b'%')).filter_map(move |r| {
        let run = &text[r.clone()];
        // One leading slash: `//host/x` and `https://…` are other hosts.
        let local = run.len() > 1 && run[0] == b'/' && run[1] != b'/' && (r.start == 0 || text[r.start - 1] != b':');
        if !local || text.get(r.end) == Some(&b'?') {
            return None;
        }
        let run = std::str::from_utf8(run).ok()?.trim_end_matches('.');
        Some((r.start..r.start + run.len(), format!("{root}{run}")))
    })
}

fn version_unhashed(w: &mut Work) -> Result<()> {
    let (spec, tree) = (w.spec, w.tree);
    let Work { overlay, reports, done, written, .. } = w;
    let Some(v) = &spec.versioned else { return Ok(()) };
    let referrers: Vec<String> = tree
        .files()
        .iter()
        .chain(overlay.files.keys())
        .filter(|p| v.referrers.is_match(p.as_str()))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // A referrer that is itself referenced (manifest.json) is rewritten
    // before its digest is taken: referrers named by no other referrer first.
    let mut texts: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for r in &referrers {
        texts.insert(r.clone(), overlay.read(tree, r)?);
    }
    let names = |r: &str, texts: &BTreeMap<String, Vec<u8>>| -> BTreeSet<String> {
        url_paths(&texts[r], &v.url_root).map(|(_, p)| p).filter(|p| texts.contains_key(p) && p != r).collect()
    };
    let mut order: Vec<String> = Vec::new();
    let mut left: Vec<String> = referrers.clone();
    while !left.is_empty() {
        let ready: Vec<String> = left
            .iter()
            .filter(|r| names(r, &texts).iter().all(|d| order.contains(d) || !left.contains(d)))
            .cloned()
            .collect();
        // A cycle between referrers: take them in name order (digests of their text before).
        let ready = if ready.is_empty() { vec![left[0].clone()] } else { ready };
        left.retain(|r| !ready.contains(r));
        order.extend(ready);
    }
    for r in order {
        let text = &texts[&r];
        let mut out = Vec::with_capacity(text.len() + 64);
        let mut at = 0;
        let mut added = Vec::new();
        for (range, path) in url_paths(text, &v.url_root) {
            // Only what the overlay changed, and never a content-named file.
            let Some(bytes) = overlay.files.get(&path) else { continue };
            if spec.hashed(&path).is_some() {
                continue;
            }
            let query = format!("?v={}", encode(&Sha256::digest(bytes), Alphabet::Hex, 10));
            out.extend_from_slice(&text[at..range.end]);
            out.extend_from_slice(query.as_bytes());
            at = range.end;
            added.push(format!("{}{query}", String::from_utf8_lossy(&text[range])));
        }
        if added.is_empty() {
            continue;
        }
        out.extend_from_slice(&text[at..]);
        texts.insert(r.clone(), out.clone());
        put(tree, overlay, reports, &r, out, "cache-busting: ?v=");
        written.insert(r.clone(), r.clone());
        done.versioned.insert(r, added);
    }
    Ok(())
}

/// Every file this phase wrote gets the `.gz`/`.br` siblings its old name
/// had, from its new bytes; siblings of old names leave the overlay.
fn follow_siblings(
    tree: &dyn BaseTree,
    overlay: &mut Overlay,
    reports: &mut Vec<FileReport>,
    written: &BTreeMap<String, String>,
) {
    let jobs: Vec<(String, String, String, compress::Encoder)> = written
        .iter()
        .flat_map(|(new, old)| {
            compress::SIBLINGS
                .iter()
                .map(move |(suffix, enc)| (new.clone(), format!("{old}{suffix}"), format!("{new}{suffix}"), *enc))
        })
        .filter(|(_, old_sibling, _, _)| tree.exists(old_sibling))
        .collect();
    let made: Vec<(String, String, String, Vec<u8>)> = jobs
        .par_iter()
        .map(|(of, old, new, enc)| (of.clone(), old.clone(), new.clone(), enc(&overlay.files[of])))
        .collect();
    for (of, old, new, bytes) in made {
        if old != new {
            overlay.files.remove(&old);
            reports.retain(|r| r.path != old);
        }
        reports.retain(|r| r.path != new);
        reports.push(FileReport {
            path: new.clone(),
            change: Change::Regenerated,
            rules: vec![format!("sibling of {of}")],
            replacements: 0,
            bytes_before: tree.size(&old).unwrap_or(0),
            bytes_after: bytes.len() as u64,
        });
        overlay.files.insert(new, bytes);
    }
}

/// What a browser can reach in a tree from its manifests.
#[derive(Debug, Default)]
pub struct Walk {
    /// Content-named files (and their maps) named by a manifest or by a
    /// reached file.
    pub reached: BTreeSet<String>,
    /// (file, name) for every hashed-looking name that resolves to nothing.
    pub dangling: Vec<(String, String)>,
    /// Manifests walked from.
    pub manifests: Vec<String>,
}

/// Walks the reference graph of `tree` from its manifests. Names are looked
/// up by the hashed families' name shapes, so a name that resolves to no
/// file is reported, not skipped.
pub fn walk(spec: &Spec, tree: &dyn BaseTree) -> Result<Walk> {
    let overlay = Overlay::default();
    let g = Graph::build(spec, tree, &overlay)?;
    // A name is checked when it looks like a version of a file the tree
    // has (same name and extension, another hash): a stale or broken
    // reference. Other hash-shaped words (hosts, CSS selectors) are not names.
    let versions: BTreeSet<String> = g.paths.iter().filter_map(|p| spec.unhashed(p)).collect();
    let shaped = |name: &str| spec.unhashed(name).is_some_and(|u| versions.contains(&u));
    let mut w = Walk::default();
    let mut queue = VecDeque::new();
    let mut seen = vec![false; g.paths.len()];
    let mut visit = |from: &str, text: &[u8], w: &mut Walk, queue: &mut VecDeque<usize>| {
        for (r, map) in names_in(text, |n| shaped(n) || g.by_name.contains_key(n)) {
            let name = std::str::from_utf8(&text[r]).expect("a matched name is UTF-8");
            let Some(targets) = g.by_name.get(name) else {
                w.dangling.push((from.to_string(), name.to_string()));
                continue;
            };
            for &t in targets {
                if map {
                    let m = format!("{}.map", g.paths[t]);
                    if tree.exists(&m) {
                        w.reached.insert(m);
                    } else {
                        w.dangling.push((from.to_string(), format!("{name}.map")));
                    }
                }
                if !seen[t] {
                    seen[t] = true;
                    w.reached.insert(g.paths[t].clone());
                    queue.push_back(t);
                }
            }
        }
    };
    for m in tree.files().iter().filter(|p| spec.manifest(p).is_some()) {
        let text = tree.read(m)?;
        visit(m, &text, &mut w, &mut queue);
        w.manifests.push(m.clone());
    }
    while let Some(i) = queue.pop_front() {
        visit(&g.paths[i], &g.bytes[i], &mut w, &mut queue);
    }
    Ok(w)
}

/// The tree a browser meets: without the content-named files a rename
/// superseded (unreached from the manifests while a reached file of the same
/// name and another hash sits beside them), nor their maps and siblings.
/// The audit reads this view, so the stock files kept for open tabs are not
/// reported as leftovers, and compares each new name with the stock file it
/// replaced ([`Served::aliased`]).
pub struct Served<'a> {
    tree: &'a dyn BaseTree,
    files: Vec<String>,
    /// New name → the stock name it supersedes, where that pairing is unique.
    stock: HashMap<String, String>,
}

impl<'a> Served<'a> {
    pub fn new(spec: &Spec, tree: &'a dyn BaseTree) -> Served<'a> {
        match superseded(spec, tree) {
            Ok((gone, stock)) if !gone.is_empty() => {
                let hidden = |p: &String| {
                    let stem = compress::SIBLINGS.iter().find_map(|(s, _)| p.strip_suffix(s)).unwrap_or(p);
                    gone.contains(stem.strip_suffix(".map").unwrap_or(stem))
                };
                let files = tree.files().iter().filter(|p| !hidden(p)).cloned().collect();
                Served { tree, files, stock }
            }
            // Nothing superseded, or an unreadable tree: the audit reports what it cannot read.
            _ => Served { tree, files: tree.files().to_vec(), stock: HashMap::new() },
        }
    }

    /// `reference` answering for each new name with the stock file it replaced.
    pub fn aliased<'r>(&self, reference: &'r dyn BaseTree) -> Aliased<'r> {
        Aliased { reference, stock: self.stock.clone() }
    }
}

/// A reference tree in which new names stand for the stock files they replaced.
pub struct Aliased<'r> {
    reference: &'r dyn BaseTree,
    stock: HashMap<String, String>,
}

impl Aliased<'_> {
    fn name(&self, path: &str) -> String {
        let stem = path.strip_suffix(".map").unwrap_or(path);
        match self.stock.get(stem) {
            Some(old) if !self.reference.exists(path) => format!("{old}{}", &path[stem.len()..]),
            _ => path.to_string(),
        }
    }
}

impl BaseTree for Aliased<'_> {
    fn files(&self) -> &[String] {
        self.reference.files()
    }

    fn exists(&self, path: &str) -> bool {
        self.reference.exists(&self.name(path))
    }

    fn read(&self, path: &str) -> Result<Vec<u8>> {
        self.reference.read(&self.name(path))
    }

    fn size(&self, path: &str) -> Result<u64> {
        self.reference.size(&self.name(path))
    }

    fn describe(&self) -> String {
        self.reference.describe()
    }
}

/// Superseded files, and new name → stock name where one stock file of a
/// name was replaced by one new file.
fn superseded(spec: &Spec, tree: &dyn BaseTree) -> Result<(BTreeSet<String>, HashMap<String, String>)> {
    if spec.hashed.is_empty() {
        return Ok(Default::default());
    }
    let w = walk(spec, tree)?;
    let unhash = |p: &str| -> Option<String> {
        let (r, _) = spec.hashed(p)?;
        let b = basename(p);
        Some(format!("{}/{}\u{0}{}", dirname(p), &b[..r.start], &b[r.end..]))
    };
    let mut reached: HashMap<String, Vec<&String>> = HashMap::new();
    for p in &w.reached {
        if let Some(u) = unhash(p) {
            reached.entry(u).or_default().push(p);
        }
    }
    let mut gone: HashMap<String, Vec<&String>> = HashMap::new();
    for p in tree.files().iter().filter(|p| !w.reached.contains(*p)) {
        if let Some(u) = unhash(p)
            && reached.contains_key(&u)
        {
            gone.entry(u).or_default().push(p);
        }
    }
    let mut stock = HashMap::new();
    for (u, old) in &gone {
        if let ([old], [new]) = (old.as_slice(), reached[u].as_slice()) {
            stock.insert(new.to_string(), old.to_string());
        }
    }
    Ok((gone.into_values().flatten().cloned().collect(), stock))
}

impl BaseTree for Served<'_> {
    fn files(&self) -> &[String] {
        &self.files
    }

    fn read(&self, path: &str) -> Result<Vec<u8>> {
        self.tree.read(path)
    }

    fn size(&self, path: &str) -> Result<u64> {
        self.tree.size(path)
    }

    fn describe(&self) -> String {
        self.tree.describe()
    }
}

/// Problems of a branded tree's references: names that resolve to nothing,
/// reached content-named files whose bytes differ from `base` under the
/// same name (served stale to every browser that cached the stock one), and
/// of the render's `renamed` files, an old name still reached or a new one
/// reached by nothing.
pub fn verify(spec: &Spec, tree: &dyn BaseTree, base: &dyn BaseTree, renamed: &Renames) -> Result<Vec<String>> {
    let w = walk(spec, tree)?;
    let mut problems: Vec<String> =
        w.dangling.iter().map(|(from, name)| format!("{from}: `{name}` resolves to no file")).collect();
    for (old, new) in &renamed.renamed {
        if w.reached.contains(old) {
            problems.push(format!("{old}: superseded by {new}, but still named"));
        }
        if !w.reached.contains(new) && tree.exists(new) {
            problems.push(format!("{new}: named by nothing"));
        }
    }
    for p in w.reached.iter().filter(|p| base.exists(p)) {
        if tree.read(p)? != base.read(p)? {
            problems.push(format!("{p}: changed, but still under its stock name"));
        }
    }
    if w.manifests.is_empty() {
        problems.push("no manifest of [cache_busting] is in the tree".into());
    }
    Ok(problems)
}

/// Convenience for tests and tools: a directory's [`verify`].
pub fn verify_dirs(
    spec: &Spec,
    tree: &Path,
    base: &Path,
    extract: &[String],
    renamed: &Renames,
) -> Result<Vec<String>> {
    let t = crate::tree::DirTree::open(tree, extract)?;
    let b = crate::tree::DirTree::open(base, extract)?;
    verify(spec, &t, &b, renamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(names: &[&str]) -> impl Fn(&str) -> bool {
        let set: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
        move |n| set.contains(n)
    }

    #[test]
    fn names_are_found_in_every_reference_form() {
        let text = br#"import{a}from"./x-AbCd1234.js";import("./x-AbCd1234.js");m.f=["assets/x-AbCd1234.js"];url(x-AbCd1234.js) "_x-AbCd1234.js" //# sourceMappingURL=x-AbCd1234.js.map
y-x-AbCd1234.js x-AbCd1234.jsx x-AbCd1234.js."#;
        let found: Vec<(String, bool)> = names_in(text, known(&["x-AbCd1234.js"]))
            .map(|(r, m)| (String::from_utf8_lossy(&text[r]).into_owned(), m))
            .collect();
        let plain = ("x-AbCd1234.js".to_string(), false);
        assert_eq!(
            found,
            vec![plain.clone(); 5].into_iter().chain([("x-AbCd1234.js".into(), true), plain]).collect::<Vec<_>>()
        );
    }

    #[test]
    fn rewrite_keeps_the_map_suffix_and_the_rest() {
        let names = HashMap::from([("x-AbCd1234.js".to_string(), "x-ZZZZ9999.js".to_string())]);
        let out = rewrite(b"from\"./x-AbCd1234.js\";//# sourceMappingURL=x-AbCd1234.js.map\n", &names).unwrap();
        assert_eq!(out, b"from\"./x-ZZZZ9999.js\";//# sourceMappingURL=x-ZZZZ9999.js.map\n");
        assert_eq!(rewrite(b"nothing here", &names), None);
    }

    #[test]
    fn url_paths_skip_other_hosts_and_versioned_ones() {
        let text = br#"href="/favicon-32x32.png" "\/android-icon-36x36.png" https://x.com/a.png //cdn/b.png /c.png?v=1 /d.svg."#;
        let found: Vec<String> = url_paths(text, "public").map(|(_, p)| p).collect();
        assert_eq!(found, ["public/favicon-32x32.png", "public/android-icon-36x36.png", "public/d.svg"]);
    }

    #[test]
    fn hashes_keep_shape() {
        let d = Sha256::digest(b"x");
        let h = encode(&d, Alphabet::Base64url, 8);
        assert_eq!(h.len(), 8);
        assert!(h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(encode(&d, Alphabet::Hex, 64), hex::encode(d));
        assert_eq!(encode(&d, Alphabet::Hex, 100).len(), 100);
    }
}
