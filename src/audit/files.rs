//! Whole-file checks: stock logos, icons and layouts by content hash;
//! upstream palette colors; ID3 tags; compressed siblings that no longer
//! decompress to their file.

use std::collections::HashMap;
use std::io::Read;

use sha2::{Digest, Sha256};

use super::{Category, Ctx, Finding, Location, excerpt};
use crate::actions::replace::word_bounded;
use crate::compress::SIBLINGS;
use crate::patchset::{Op, PatchSet, Rule};
use crate::tree::{BaseTree, MAX_BASE_FILE};

const IMAGE_EXTENSIONS: [&str; 5] = [".png", ".svg", ".ico", ".jpg", ".webp"];

pub(super) fn is_image(path: &str) -> bool {
    IMAGE_EXTENSIONS.iter().any(|x| path.ends_with(x))
}

fn replaces_whole_file(rule: &Rule) -> bool {
    matches!(rule.op, Op::Asset { .. } | Op::Icon(_))
}

/// The stock files: sha256 → upstream paths, and their sizes (a file of
/// another size is not hashed).
#[derive(Default)]
pub(super) struct Stock {
    pub by_hash: HashMap<[u8; 32], Vec<String>>,
    pub sizes: std::collections::HashSet<u64>,
}

impl Stock {
    /// Whether a file of `size` bytes may be one (empty files only at their own path).
    pub fn may_be(&self, size: u64) -> bool {
        size > 0 && self.sizes.contains(&size)
    }
}

/// sha256 → upstream paths of the stock files: the patch set's list of
/// upstream files by hash (`[[stock]]`, so no reference is needed), plus,
/// when there is a reference, every file there the patch set replaces
/// whole (logos, icons, the mail layout), whatever their bytes. Without a
/// reference the audited tree's own files are never the yardstick: a
/// branded tree's logos are not stock because they sit where logos go.
pub(super) fn stock_hashes(ps: &PatchSet, reference: Option<&dyn BaseTree>) -> Stock {
    let mut out = Stock::default();
    for s in &ps.stock {
        out.by_hash.entry(s.sha256).or_default().push(s.path.clone());
        out.sizes.insert(s.size);
    }
    let Some(reference) = reference else { return out };
    for path in reference.files() {
        if ps.never.is_match(path) || !ps.rules.iter().any(|r| replaces_whole_file(r) && r.targets(path)) {
            continue;
        }
        if let Ok(bytes) = reference.read(path) {
            out.sizes.insert(bytes.len() as u64);
            let paths = out.by_hash.entry(Sha256::digest(&bytes).into()).or_default();
            if !paths.contains(path) {
                paths.push(path.clone());
            }
        }
    }
    out
}

/// A file with the bytes of a stock file: at a logo/icon/layout path, or a
/// copy of one anywhere, under any name (an empty file only counts at its
/// own path).
pub(super) fn stock_asset(ctx: &Ctx, path: &str, data: &[u8], rules: &[&Rule], findings: &mut Vec<Finding>) {
    let target = rules.iter().find(|r| replaces_whole_file(r));
    if target.is_none() && !ctx.stock.may_be(data.len() as u64) {
        return;
    }
    let hash: [u8; 32] = Sha256::digest(data).into();
    let Some(stock) = ctx.stock.by_hash.get(&hash) else { return };
    let what = if stock.iter().any(|s| s == path) {
        "the upstream file".to_string()
    } else if data.is_empty() {
        return;
    } else {
        format!("a copy of upstream {}", stock[0])
    };
    findings.push(Finding {
        path: path.into(),
        at: Location::offset(0),
        category: Category::StockAsset,
        excerpt: format!("{what} ({} bytes, sha256 {})", data.len(), &hex::encode(hash)[..12]),
        rule: target.map(|r| r.id.clone()),
        form: None,
    });
}

/// The file `path` compresses, when `path` is a `.gz`/`.br` sibling.
pub(super) fn sibling_of<'p>(tree: &dyn BaseTree, path: &'p str) -> Option<&'p str> {
    SIBLINGS.iter().find_map(|(suffix, _)| path.strip_suffix(suffix)).filter(|of| tree.exists(of))
}

pub(super) fn stale_sibling(ctx: &Ctx, path: &str, data: &[u8], findings: &mut Vec<Finding>) {
    let Some(of) = sibling_of(ctx.tree, path) else { return };
    let Ok(original) = ctx.tree.read(of) else { return };
    let limit = MAX_BASE_FILE.min(original.len() as u64 + 1);
    let mut out = Vec::with_capacity(original.len());
    let decoded = if path.ends_with(".gz") {
        flate2::read::MultiGzDecoder::new(data).take(limit).read_to_end(&mut out)
    } else {
        brotli::Decompressor::new(data, 64 * 1024).take(limit).read_to_end(&mut out)
    };
    let excerpt = match decoded {
        Err(e) => format!("does not decompress ({e}); {of} is served from it"),
        Ok(_) if out != original => {
            format!(
                "decompresses to {} bytes that differ from {of} ({} bytes): served stale",
                out.len(),
                original.len()
            )
        }
        Ok(_) => return,
    };
    findings.push(Finding {
        path: path.into(),
        at: Location::offset(0),
        category: Category::StaleSibling,
        excerpt,
        rule: None,
        form: None,
    });
}

pub(super) fn palette(ctx: &Ctx, path: &str, data: &[u8], rule: &Rule, findings: &mut Vec<Finding>) {
    let Some(p) = &ctx.palette else { return };
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(outcome) = p.apply(data) else { return };
    for e in outcome.edits.unwrap_or_default() {
        findings.push(Finding {
            path: path.into(),
            at: Location::offset(e.at),
            category: Category::StockPalette,
            excerpt: excerpt(text, e.at, e.at + e.old_len),
            rule: Some(rule.id.clone()),
            form: None,
        });
    }
}

/// Text frames of the ID3v2 tag, and the ID3v1 trailer, naming the product.
pub(super) fn id3(ctx: &Ctx, path: &str, data: &[u8], rule: &Rule, findings: &mut Vec<Finding>) {
    let word = ctx.ps.word.as_str();
    let mut frames: Vec<(String, String)> = Vec::new();
    if data.starts_with(b"ID3")
        && let Ok(tag) = id3::Tag::read_from2(std::io::Cursor::new(data))
    {
        for f in tag.frames() {
            if let id3::Content::Text(t) = f.content() {
                frames.push((format!("ID3v2/{}", f.id()), t.clone()));
            }
        }
    }
    let n = data.len();
    if n >= 128 && &data[n - 128..n - 125] == b"TAG" {
        for (name, offset) in [("title", 3usize), ("artist", 33), ("album", 63)] {
            let field = &data[n - 128 + offset..n - 128 + offset + 30];
            frames.push((format!("ID3v1/{name}"), field.iter().take_while(|b| **b != 0).map(|b| *b as char).collect()));
        }
    }
    for (frame, text) in frames {
        if let Some((i, _)) = text.match_indices(word).find(|(i, w)| word_bounded(&text, *i, i + w.len())) {
            findings.push(Finding {
                path: path.into(),
                at: Location::pointer(frame),
                category: Category::Id3,
                excerpt: excerpt(&text, i, i + word.len()),
                rule: Some(rule.id.clone()),
                form: None,
            });
        }
    }
}
