//! The product name and upstream links in text a user reads. The scopes of
//! the rules that target a file decide what is text (JS text literals,
//! source-map sources, YAML values, a whole view); an occurrence outside it
//! is code and kept, as is one a `[[keep]]` entry names.

use std::ops::Range;

use super::{Category, Ctx, Finding, JsLiterals, Kept, Location, excerpt};
use crate::patchset::{AssetSource, Op, Pattern, Rule, Scope};
use crate::scan::name::Form;
use crate::scan::{js, sourcemap, yaml};
use crate::template::Template;

/// One text to scan: a whole file, or one source of a map.
struct Piece<'t> {
    pointer: Option<String>,
    text: std::borrow::Cow<'t, str>,
    /// Where text lives; anything else is code.
    spans: Vec<Range<usize>>,
    /// Why an occurrence outside `spans` stays.
    code: &'static str,
}

/// One occurrence to judge: where, what, the rule that covers it, and its
/// form when it is text (the name), or why it is code.
type Hit<'r> = (Range<usize>, Category, &'r Rule, Result<Option<Form>, &'static str>);

pub(super) fn scan(
    ctx: &Ctx,
    path: &str,
    data: &[u8],
    js_literals: &JsLiterals,
    rules: &[&Rule],
    findings: &mut Vec<Finding>,
    kept: &mut Vec<Kept>,
) {
    let scopes: Vec<(Scope, &Rule)> = rules
        .iter()
        .filter_map(|r| match &r.op {
            Op::Replace { scope, .. } => Some((*scope, *r)),
            Op::Asset { source: AssetSource::MailLayout } => Some((Scope::Text, *r)),
            _ => None,
        })
        .collect();
    let Some(&(_, first)) = scopes.first() else { return };
    let Ok(text) = std::str::from_utf8(data) else { return };
    let name = &ctx.ps.product;
    let links = ctx.ps.audit.links.as_ref();
    let marked: Vec<(&Rule, &regex::Regex)> = rules
        .iter()
        .filter(|r| r.audit.is_some())
        .filter_map(|r| match &r.op {
            Op::Replace { replacements, .. } => Some(replacements.iter().filter_map(move |x| match &x.pattern {
                Pattern::Regex(re) => Some((*r, re)),
                _ => None,
            })),
            _ => None,
        })
        .flatten()
        .collect();
    // Most files (and map sources) hold nothing to look at: skip the parse.
    let relevant = |t: &str| {
        name.mentioned(t) || links.is_some_and(|l| l.is_match(t)) || marked.iter().any(|(_, re)| re.is_match(t))
    };
    if !relevant(text) {
        return;
    }
    let pieces = match pieces(text, &scopes, js_literals, relevant) {
        Ok(p) => p,
        Err(why) => {
            findings.push(Finding {
                path: path.into(),
                at: Location::default(),
                category: Category::Syntax,
                excerpt: format!("does not parse: {why}"),
                rule: Some(first.id.clone()),
                form: None,
            });
            return;
        }
    };
    let word_rule = rule_with(&scopes, |r| matches!(r.pattern, Pattern::Name | Pattern::Word(_))).unwrap_or(first);
    let link_rule = rule_with(&scopes, |r| r.is_links()).unwrap_or(first);
    for piece in pieces {
        let t = piece.text.as_ref();
        let keeps: Vec<(Range<usize>, &str)> = ctx
            .ps
            .audit
            .keep
            .iter()
            .filter(|k| k.files.is_empty() || k.files.is_match(path))
            .flat_map(|k| k.pattern.find_iter(t).map(move |m| (m.range(), k.reason.as_str())))
            .collect();
        // The name is judged inside the text span that holds it, as the
        // render judges it inside one literal or value.
        let mut hits: Vec<Hit> = Vec::new();
        for span in &piece.spans {
            for (r, judged) in name.scan(&t[span.clone()]) {
                let r = span.start + r.start..span.start + r.end;
                hits.push((r, Category::ProductName, word_rule, judged.map(|h| Some(h.form))));
            }
        }
        if let Some(l) = links {
            hits.extend(l.find_iter(t).map(|m| (m.range(), Category::UpstreamLink, link_rule, Ok(None))));
        }
        for (rule, re) in &marked {
            let category = rule.audit.expect("marked rules have a category");
            hits.extend(re.find_iter(t).map(|m| (m.range(), category, *rule, Ok(None))));
        }
        let in_text = |r: &Range<usize>| piece.spans.iter().any(|s| s.start <= r.start && r.end <= s.end);
        if ctx.kept {
            // Occurrences of the name outside text, for `--verbose`.
            for m in name.scan(t).into_iter().filter(|(r, _)| !in_text(r)) {
                hits.push((m.0, Category::ProductName, word_rule, Err(piece.code)));
            }
        }
        for (r, category, rule, judged) in hits {
            let at = Location::within(&piece.pointer, r.start);
            let keep = |reason: &str| Kept {
                path: path.into(),
                at: at.clone(),
                excerpt: excerpt(t, r.start, r.end),
                reason: reason.into(),
            };
            if let Some((_, reason)) = keeps.iter().find(|(k, _)| k.start < r.end && r.start < k.end) {
                kept.push(keep(reason));
            } else if !in_text(&r) {
                kept.push(keep(piece.code));
            } else {
                match judged {
                    Err(reason) => kept.push(keep(reason)),
                    Ok(form) => findings.push(Finding {
                        path: path.into(),
                        at,
                        category,
                        excerpt: excerpt(t, r.start, r.end),
                        rule: Some(rule.id.clone()),
                        form,
                    }),
                }
            }
        }
    }
}

/// The first rule whose replace entries include one like `pred`.
fn rule_with<'r>(
    scopes: &[(Scope, &'r Rule)],
    pred: impl Fn(&crate::patchset::Replacement) -> bool,
) -> Option<&'r Rule> {
    scopes.iter().map(|(_, r)| *r).find(|r| match &r.op {
        Op::Replace { replacements, .. } => replacements.iter().any(&pred),
        _ => false,
    })
}

fn pieces<'t>(
    text: &'t str,
    scopes: &[(Scope, &Rule)],
    js_literals: &JsLiterals,
    relevant: impl Fn(&str) -> bool,
) -> Result<Vec<Piece<'t>>, String> {
    let has = |s: Scope| scopes.iter().any(|(x, _)| *x == s);
    if has(Scope::SourcemapSources) {
        return map_pieces(text, relevant);
    }
    let whole = Piece { pointer: None, text: text.into(), spans: Vec::new(), code: "" };
    if has(Scope::Text) {
        return Ok(vec![Piece { spans: std::iter::once(0..text.len()).collect(), ..whole }]);
    }
    let mut piece = whole;
    if has(Scope::JsStrings) {
        let literals = js_literals.get_or_init(|| js::literals(text, false)).as_ref().map_err(Clone::clone)?;
        piece.spans.extend(literals.iter().filter(|l| !l.code).map(|l| l.start..l.end));
        piece.code = "JavaScript code (not a text literal): compared, a key, a name or a comment";
    }
    if has(Scope::YamlValues) {
        piece.spans.extend(yaml::values(text).into_iter().map(|v| v.start..v.end));
        piece.code = "a YAML key or comment, not a value";
    }
    Ok(vec![piece])
}

fn text_literals(src: &str, json: bool) -> Result<impl Iterator<Item = Range<usize>>, String> {
    Ok(js::literals(src, json)?.into_iter().filter(|l| !l.code).map(|l| l.start..l.end))
}

/// The members of a source map the audit reads, borrowed where possible
/// (`mappings` is skipped, not copied).
#[derive(serde::Deserialize)]
struct MapSources<'a> {
    #[serde(borrow, default)]
    sources: Vec<Option<std::borrow::Cow<'a, str>>>,
    #[serde(borrow, default, rename = "sourcesContent")]
    contents: Vec<Option<std::borrow::Cow<'a, str>>>,
}

/// One piece per source text of a map that holds something to look at.
fn map_pieces(text: &str, relevant: impl Fn(&str) -> bool) -> Result<Vec<Piece<'_>>, String> {
    let map: MapSources = serde_json::from_str(text).map_err(|e| format!("not a JSON source map: {e}"))?;
    let mut out = Vec::new();
    for (i, src) in map.contents.into_iter().enumerate() {
        let Some(src) = src.filter(|s| relevant(s)) else { continue };
        let name = map.sources.get(i).and_then(|n| n.as_deref()).unwrap_or_default();
        let (spans, code) = match sourcemap::source_kind(name) {
            sourcemap::SourceKind::Js => (
                text_literals(&src, false).map_err(|e| format!("source {name}: {e}"))?.collect(),
                "JavaScript code in a map source",
            ),
            sourcemap::SourceKind::Json => (
                text_literals(&src, true).map_err(|e| format!("source {name}: {e}"))?.collect(),
                "a JSON key in a map source",
            ),
            sourcemap::SourceKind::Other => {
                (Vec::new(), "a Vue/other source kept verbatim in a map (devtools only; not rewritten)")
            }
        };
        out.push(Piece { pointer: Some(format!("/sourcesContent/{i}")), text: src, spans, code });
    }
    Ok(out)
}

/// The name in text or an upstream link in one value the patch set sets.
fn value_hit(ctx: &Ctx, value: &str) -> Option<(Range<usize>, Category, Option<Form>)> {
    if let Some(hit) = ctx.ps.product.scan(value).into_iter().find_map(|(_, h)| h.ok()) {
        return Some((hit.range, Category::ProductName, Some(hit.form)));
    }
    ctx.ps.audit.links.as_ref()?.find(value).map(|m| (m.range(), Category::UpstreamLink, None))
}

/// `json-set` targets: the values at the rule's pointers.
pub(super) fn json_values(
    ctx: &Ctx,
    path: &str,
    data: &[u8],
    rule: &Rule,
    set: &[(String, Template)],
    findings: &mut Vec<Finding>,
) {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    for (pointer, _) in set {
        let Some(value) = doc.pointer(pointer).and_then(|v| v.as_str()) else { continue };
        if let Some((r, category, form)) = value_hit(ctx, value) {
            findings.push(Finding {
                path: path.into(),
                at: Location::pointer(pointer.clone()),
                category,
                excerpt: excerpt(value, r.start, r.end),
                rule: Some(rule.id.clone()),
                form,
            });
        }
    }
}

/// `yaml-entries` targets: the values of the entries the rule sets.
pub(super) fn yaml_entries(
    ctx: &Ctx,
    path: &str,
    data: &[u8],
    rule: &Rule,
    (key_field, value_field): (&str, &str),
    set: &[(String, Template)],
    findings: &mut Vec<Finding>,
) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for (name, _) in set {
        let Ok(range) = crate::actions::yaml_entries::value_range(text, key_field, value_field, name) else { continue };
        if let Some((r, category, form)) = value_hit(ctx, &text[range.clone()]) {
            let (start, end) = (range.start + r.start, range.start + r.end);
            findings.push(Finding {
                path: path.into(),
                at: Location::offset(start),
                category,
                excerpt: excerpt(text, start, end),
                rule: Some(rule.id.clone()),
                form,
            });
        }
    }
}
