//! Damage: in every file that differs from the reference, the protected
//! names keep their counts, JS string literals used as code that mention the
//! product keep their values, JS/JSON still parses, YAML still loads (also
//! for YAML 1.1 readers), and ERB views keep their tag structure.

use std::collections::BTreeMap;

use super::{Category, Ctx, Finding, JsLiterals, Location, excerpt};
use crate::scan::js;

pub(super) fn check(ctx: &Ctx, path: &str, new: &[u8], new_literals: &JsLiterals, findings: &mut Vec<Finding>) {
    let Some(reference) = ctx.reference else { return };
    if !reference.exists(path) {
        return;
    }
    let Ok(old) = reference.read(path) else { return };
    if old == new {
        return;
    }
    let (Ok(old), Ok(new)) = (std::str::from_utf8(&old), std::str::from_utf8(new)) else { return };
    let first_change = old.bytes().zip(new.bytes()).position(|(a, b)| a != b).unwrap_or(old.len().min(new.len()));
    let mut push = |at: Location, category, excerpt| {
        findings.push(Finding { path: path.into(), at, category, excerpt, rule: None, form: None });
    };

    let (before, after) = (ctx.ps.protected_counts(old), ctx.ps.protected_counts(new));
    for (i, name) in ctx.ps.protected.iter().enumerate().filter(|(i, _)| before[*i] != after[*i]) {
        let at = new.find(name.as_str()).unwrap_or(first_change);
        push(
            Location::offset(at),
            Category::ProtectedName,
            format!("`{name}` occurs {} times, {} in the base", after[i], before[i]),
        );
    }

    let json = path.ends_with(".json") || path.ends_with(".map");
    if path.ends_with(".js") || path.ends_with(".mjs") {
        let parsed_new = new_literals.get_or_init(|| js::literals(new, false));
        match parsed_new {
            Err(why) => push(Location::offset(first_change), Category::Syntax, format!("no longer parses: {why}")),
            // Only literals that mention the product matter: no need to parse
            // the base when neither side mentions it in code.
            Ok(n) if mentions(ctx, old) || mentions(ctx, new) => {
                if let Ok(o) = js::literals(old, false) {
                    code_literals(ctx, old, &o, new, n, &mut push);
                }
            }
            Ok(_) => {}
        }
    } else if json
        && serde_json::from_str::<serde_json::Value>(old).is_ok()
        && let Err(e) = serde_json::from_str::<serde_json::Value>(new)
    {
        push(Location::offset(first_change), Category::Syntax, format!("no longer parses as JSON: {e}"));
    } else if path.ends_with(".erb") {
        let (before, after) = (erb_skeleton(old), erb_skeleton(new));
        if before.kinds() != after.kinds() || (before.opens, before.closes) != (after.opens, after.closes) {
            let differs = before.tags.iter().zip(&after.tags).position(|(a, b)| a.1 != b.1);
            let at =
                differs.or((before.tags.len() != after.tags.len()).then_some(before.tags.len().min(after.tags.len())));
            let at = at.and_then(|i| after.tags.get(i)).map_or(first_change, |t| t.0);
            push(
                Location::offset(at),
                Category::Syntax,
                format!(
                    "ERB tag structure changed: {} tags, {} `<%`, {} `%>` (the base has {}, {}, {})",
                    after.tags.len(),
                    after.opens,
                    after.closes,
                    before.tags.len(),
                    before.opens,
                    before.closes
                ),
            );
        }
    } else if path.ends_with(".yml") || path.ends_with(".yaml") {
        if yaml_rust2::YamlLoader::load_from_str(old).is_ok()
            && let Err(e) = yaml_rust2::YamlLoader::load_from_str(new)
        {
            push(Location::offset(first_change), Category::Syntax, format!("no longer loads as YAML: {e}"));
        }
        // YAML 1.1 (Psych, libyaml) breaks lines at NEL, LS and PS where
        // YAML 1.2 does not: one written raw makes Rails refuse the file.
        let breaks = |t: &str| t.matches(['\u{85}', '\u{2028}', '\u{2029}']).count();
        if breaks(new) > breaks(old) {
            let at = new.find(['\u{85}', '\u{2028}', '\u{2029}']).unwrap_or(first_change);
            push(
                Location::offset(at),
                Category::Syntax,
                "holds a raw NEL/U+2028/U+2029 that Psych reads as a line break".into(),
            );
        }
    }
}

fn mentions(ctx: &Ctx, text: &str) -> bool {
    ctx.word_any_case.is_match(text)
}

/// Code literals that mention the product (any case), as a multiset: one
/// added or removed is a changed code literal.
fn code_literals(
    ctx: &Ctx,
    old: &str,
    old_lits: &[js::Literal],
    new: &str,
    new_lits: &[js::Literal],
    push: &mut impl FnMut(Location, Category, String),
) {
    let word = ctx.ps.word.to_lowercase();
    let tally = |src: &str, lits: &[js::Literal]| {
        let mut m: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for l in lits.iter().filter(|l| l.code) {
            let body = &src[l.start..l.end];
            if body.to_lowercase().contains(&word) {
                m.entry(body.to_string()).or_default().push(l.start);
            }
        }
        m
    };
    let (before, after) = (tally(old, old_lits), tally(new, new_lits));
    for (body, at) in &before {
        let now = after.get(body).map_or(0, Vec::len);
        if now < at.len() {
            let where_ = after.get(body).and_then(|v| v.first()).copied().unwrap_or(at[0].min(new.len()));
            push(
                Location::offset(where_),
                Category::CodeLiteral,
                format!("code literal {} occurs {now} times, {} in the base", excerpt(body, 0, body.len()), at.len()),
            );
        }
    }
    for (body, at) in &after {
        if before.get(body).map_or(0, Vec::len) < at.len() {
            push(
                Location::offset(at[0]),
                Category::CodeLiteral,
                format!("new code literal {} (not in the base)", excerpt(body, 0, body.len())),
            );
        }
    }
}

/// What ERB makes of a view: the kind of each tag, and every delimiter. A
/// value that ends a tag early or opens one changes it.
struct ErbSkeleton {
    /// (offset, indicator: `=`, `==`, `-`, `#`, `%` or empty) of each tag,
    /// as Erubi (Rails) splits them: a tag ends at the first `%>`.
    tags: Vec<(usize, String)>,
    opens: usize,
    closes: usize,
}

impl ErbSkeleton {
    /// Offsets move when a value is longer; the order and kinds must not.
    fn kinds(&self) -> Vec<&str> {
        self.tags.iter().map(|t| t.1.as_str()).collect()
    }
}

fn erb_skeleton(text: &str) -> ErbSkeleton {
    static TAG: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"(?s)<%(={1,2}|-|#|%)?(.*?)[-=]?%>").expect("valid regex"));
    let tags = TAG
        .captures_iter(text)
        .map(|c| (c.get(0).map_or(0, |m| m.start()), c.get(1).map_or("", |m| m.as_str()).to_string()))
        .collect();
    ErbSkeleton { tags, opens: text.matches("<%").count(), closes: text.matches("%>").count() }
}
