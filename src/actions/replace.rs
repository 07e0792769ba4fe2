//! `action = "replace"`: find → replace pairs applied only inside the ranges
//! a scanner allows (JS string literals, source-map sources, YAML values, or
//! the whole text), each inserted value escaped for the place it lands.

use regex::Regex;

use super::Outcome;
use crate::brand::Brand;
use crate::edits::Edit;
use crate::escape::{self, Quote};
use crate::patchset::{EscapeChain, Pattern, Replacement, Scope, Syntax};
use crate::scan::name::NameSpec;
use crate::scan::{js, sourcemap, yaml};
use crate::template::{Bound, Template};

/// One compiled replace entry (links entries are expanded to one per prefix).
#[derive(Debug)]
struct Entry {
    /// Index of the patch-set entry it came from, for counting.
    slot: usize,
    word: Option<String>,
    /// The product name in every form: `name.classify` decides what is text.
    name: bool,
    value: Bound,
    escape: EscapeChain,
    /// From the `[links]` table: never applied to XML namespaces or inlined artwork.
    link: bool,
}

/// All entries of a rule, compiled for one brand.
#[derive(Debug)]
pub struct Replacer {
    regex: Regex,
    entries: Vec<Entry>,
    slots: usize,
    syntax: Syntax,
    i18n_keys: Option<Regex>,
    name: NameSpec,
}

/// What a pass found: matches per entry, and where it replaced (offsets
/// relative to the file, `base` being where the current piece starts).
#[derive(Debug)]
struct Tally {
    counts: Vec<usize>,
    edits: Vec<Edit>,
    base: usize,
}

impl Tally {
    fn new(slots: usize) -> Tally {
        Tally { counts: vec![0; slots], edits: Vec::new(), base: 0 }
    }
}

/// Where a piece of text lands, which decides the container escaping.
#[derive(Debug, Clone, Copy)]
enum Land {
    Js(Quote),
    Yaml(yaml::Style),
    Text,
}

impl Replacer {
    pub fn new(
        replacements: &[Replacement],
        links: &[(String, Template)],
        brand: &Brand,
        syntax: Syntax,
        i18n_keys: Option<&Regex>,
        name: &NameSpec,
    ) -> Replacer {
        let mut alternatives = Vec::new();
        let mut entries = Vec::new();
        for (slot, r) in replacements.iter().enumerate() {
            if r.is_links() {
                for (from, to) in links {
                    alternatives.push(regex::escape(from));
                    entries.push(Entry {
                        slot,
                        word: None,
                        name: false,
                        value: to.bind(brand),
                        escape: r.escape.clone(),
                        link: true,
                    });
                }
                continue;
            }
            let (alt, word) = match &r.pattern {
                Pattern::Literal(s) => (regex::escape(s), None),
                Pattern::Word(w) => (regex::escape(w), Some(w.clone())),
                Pattern::Regex(re) => (re.as_str().to_string(), None),
                Pattern::Name => (name.pattern().to_string(), None),
            };
            alternatives.push(alt);
            let name = matches!(r.pattern, Pattern::Name);
            entries.push(Entry { slot, word, name, value: r.with.bind(brand), escape: r.escape.clone(), link: false });
        }
        // The bare name goes last: a link or literal that starts with it
        // (`chatwoot.help`) wins at the same place.
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_by_key(|i| entries[*i].name);
        let pattern = order.iter().map(|&i| format!("(?P<e{i}>{})", alternatives[i])).collect::<Vec<_>>().join("|");
        Replacer {
            regex: Regex::new(&pattern).expect("patterns were validated when the patch set loaded"),
            entries,
            slots: replacements.len(),
            syntax,
            i18n_keys: i18n_keys.cloned(),
            name: name.clone(),
        }
    }

    /// Applies the replacer to a whole file in the given scope.
    pub fn apply(&self, scope: Scope, data: &[u8]) -> Result<Outcome, String> {
        let mut t = Tally::new(self.slots);
        let Ok(text) = std::str::from_utf8(data) else {
            return Err("is not UTF-8 text".into());
        };
        // Cheap pre-check: most files of a glob hold nothing to replace.
        if !self.regex.is_match(text) {
            return Ok(Outcome::unchanged(self.slots));
        }
        let new = match scope {
            Scope::Text => self.in_text(text, Land::Text, false, &mut t),
            Scope::JsStrings => self.in_js(text, false, &mut t)?,
            Scope::YamlValues => self.in_yaml(text, &mut t),
            Scope::SourcemapSources => {
                let patched = sourcemap::patch_sources(data, |name, src| match sourcemap::source_kind(name) {
                    sourcemap::SourceKind::Js => self.in_js(src, false, &mut t).map(Some),
                    sourcemap::SourceKind::Json => self.in_js(src, true, &mut t).map(Some),
                    sourcemap::SourceKind::Other => Ok(None),
                })?;
                let bytes = patched.filter(|b| b != data && t.counts.iter().any(|c| *c > 0));
                // Edits inside sources say nothing about the map's own bytes.
                return Ok(Outcome { bytes, counts: t.counts, edits: None });
            }
        };
        // YAML values may be re-quoted whole: no precise edit list there.
        let edits = (scope != Scope::YamlValues).then_some(t.edits);
        // Matches that rewrite to the same text still count: the rule applied.
        Ok(Outcome { bytes: (new != text).then(|| new.into_bytes()), counts: t.counts, edits })
    }

    /// Replaces in a plain text value (ID3 frames), no escaping.
    pub fn apply_text(&self, text: &str, counts: &mut [usize]) -> String {
        let mut t = Tally::new(self.slots);
        let out = self.in_text_with(text, &mut t, |s| s.to_string(), |e, caps| e.value.render(|v| cased(caps, v)));
        counts.iter_mut().zip(t.counts).for_each(|(c, n)| *c += n);
        out
    }

    /// Rewrites JS (or JSON, parsed as a JS expression) inside text literals.
    fn in_js(&self, src: &str, json: bool, t: &mut Tally) -> Result<String, String> {
        if !self.regex.is_match(src) {
            return Ok(src.to_string());
        }
        let wrapped;
        let (code, shift) = if json {
            wrapped = format!("({src}\n)");
            (wrapped.as_str(), 1)
        } else {
            (src, 0)
        };
        let literals = js::patchable_literals(code, self.i18n_keys.as_ref())?;
        let mut out = String::with_capacity(src.len() + 256);
        let mut pos = 0;
        for lit in literals {
            let (start, end) = (lit.start - shift, lit.end - shift);
            out.push_str(&src[pos..start]);
            t.base = start;
            out.push_str(&self.in_text(&src[start..end], Land::Js(lit.quote), lit.i18n, t));
            pos = end;
        }
        out.push_str(&src[pos..]);
        Ok(out)
    }

    fn in_yaml(&self, text: &str, t: &mut Tally) -> String {
        let mut out = String::with_capacity(text.len() + 64);
        let mut pos = 0;
        for v in yaml::values(text) {
            let body = &text[v.start..v.end];
            let mut new = self.in_text(body, Land::Yaml(v.style), false, t);
            if new == body {
                continue;
            }
            out.push_str(&text[pos..v.start]);
            if v.style == yaml::Style::Plain && !plain_safe(&new) {
                // The value needs quoting now; the original text was plain, so
                // escape all of it for a double-quoted scalar.
                let mut scratch = Tally::new(self.slots);
                new = format!(
                    "\"{}\"",
                    self.in_text_with(body, &mut scratch, escape::yaml_double, |e, caps| {
                        escape::yaml_double(&e.value.render(|v| {
                            let v = cased(caps, v);
                            if self.syntax == Syntax::RailsI18n { v.replace('%', "%%") } else { v }
                        }))
                    })
                );
            }
            out.push_str(&new);
            pos = v.end;
        }
        out.push_str(&text[pos..]);
        out
    }

    /// Replaces matches in `text`, escaping inserted values for `land`.
    fn in_text(&self, text: &str, land: Land, i18n: bool, t: &mut Tally) -> String {
        let message = |s: &str, caps: bool| {
            let s = cased(caps, s);
            match self.syntax {
                Syntax::VueI18n if i18n => escape::vue_i18n(&s),
                Syntax::RailsI18n => s.replace('%', "%%"),
                _ => s,
            }
        };
        let same = |s: &str| s.to_string();
        match land {
            Land::Js(q) => {
                self.in_text_with(text, t, same, |e, caps| e.value.render(|v| escape::js(&message(v, caps), q)))
            }
            Land::Yaml(style) => self.in_text_with(text, t, same, |e, caps| {
                e.value.render(|v| match style {
                    yaml::Style::Double => escape::yaml_double(&message(v, caps)),
                    yaml::Style::Single => message(v, caps).replace('\'', "''"),
                    yaml::Style::Plain | yaml::Style::Block => message(v, caps),
                })
            }),
            Land::Text => self
                .in_text_with(text, t, same, |e, caps| e.value.render(|v| escape::apply(&e.escape, &cased(caps, v)))),
        }
    }

    /// The core loop: `keep` maps the text between matches, `insert` turns a
    /// matched entry (and whether it was written in capitals) into the text
    /// written in its place.
    fn in_text_with(
        &self,
        text: &str,
        t: &mut Tally,
        keep: impl Fn(&str) -> String,
        insert: impl Fn(&Entry, bool) -> String,
    ) -> String {
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        let code = std::cell::OnceCell::new();
        for caps in self.regex.captures_iter(text) {
            let whole = caps.get(0).expect("group 0");
            let Some(i) = (0..self.entries.len()).find(|i| caps.name(&format!("e{i}")).is_some()) else {
                continue;
            };
            let entry = &self.entries[i];
            if entry.word.is_some() && !word_bounded(text, whole.start(), whole.end()) {
                continue;
            }
            let mut upper = false;
            if entry.name {
                let code = code.get_or_init(|| self.name.code_ranges(text));
                match self.name.classify(text, whole.start(), whole.end(), code) {
                    Ok(hit) => upper = hit.caps,
                    Err(_) => continue,
                }
            }
            if entry.link && not_a_link(text, whole.start()) {
                continue;
            }
            out.push_str(&keep(&text[pos..whole.start()]));
            let inserted = insert(entry, upper);
            t.edits.push(Edit { at: t.base + whole.start(), old_len: whole.len(), new_len: inserted.len() });
            out.push_str(&inserted);
            t.counts[entry.slot] += 1;
            pos = whole.end();
        }
        out.push_str(&keep(&text[pos..]));
        out
    }
}

/// The brand as it replaces a name written in capitals, or as written.
fn cased(caps: bool, value: &str) -> String {
    NameSpec::cased(caps, value)
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// The match does not touch identifier characters on either side.
pub fn word_bounded(text: &str, start: usize, end: usize) -> bool {
    !text[..start].chars().next_back().is_some_and(is_ident_char)
        && !text[end..].chars().next().is_some_and(is_ident_char)
}

/// Whether a YAML plain scalar can hold `s` unquoted.
fn plain_safe(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c) || c.is_whitespace())
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.ends_with(' ')
}

/// XML namespace names: identifiers that look like URLs, never links.
pub const XML_NAMESPACES: [&str; 10] = [
    "http://www.w3.org/",
    "http://purl.org/dc/",
    "http://creativecommons.org/ns#",
    "http://web.resource.org/cc/",
    "http://www.inkscape.org/namespaces/",
    "http://inkscape.sourceforge.net/DTD/",
    "http://sodipodi.sourceforge.net/DTD/",
    "http://ns.adobe.com/",
    "http://www.bohemiancoding.com/sketch/ns",
    "https://www.figma.com/figma/ns",
];

/// Whether a URL at `at` is an XML namespace (a known one, or the value of
/// an `xmlns` attribute, quoted as in markup, a JS string or a data URI) or
/// lies inside an inlined SVG (the brand's own artwork): link rewriting
/// leaves those alone.
fn not_a_link(text: &str, at: usize) -> bool {
    static XMLNS: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r#"xmlns(?::[\w.-]+)?\s*(?:=|%3D)\s*(?:\\?["']|%22|%27|&quot;)$"#).expect("valid regex")
    });
    const SVG_URI: &str = "data:image/svg+xml";
    let rest = &text[at..];
    if XML_NAMESPACES.iter().any(|ns| rest.starts_with(ns)) {
        return true;
    }
    let mut from = at.saturating_sub(120);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    if XMLNS.is_match(&text[from..at]) {
        return true;
    }
    // Inside `data:image/svg+xml,…` (percent-encoded) or `;base64,…`: the
    // URI runs on in URI characters up to `at`.
    text[..at].rfind(SVG_URI).is_some_and(|p| {
        text[p..at].bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~=:/%;,+#?&@!$*()'".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::not_a_link;

    #[test]
    fn namespaces_and_inlined_artwork_are_not_links() {
        let at = |text: &str, url: &str| not_a_link(text, text.find(url).unwrap());
        assert!(at(r#"<svg xmlns="http://www.w3.org/2000/svg">"#, "http://"));
        assert!(at(r#"x='<svg xmlns:x=\"http://example.com/ns\">'"#, "http://"));
        assert!(at("data:image/svg+xml,%3Csvg%20xmlns%3D%22http://example.com/ns%22", "http://"));
        assert!(at("data:image/svg+xml,%3Csvg%3E%3Ca%20href%3D%22https://www.chatwoot.com/x%22", "https://"));
        assert!(!at(r#"<a href="https://www.chatwoot.com/docs">"#, "https://"));
        assert!(!at(r#"data:image/png;base64,AAAA" href="https://www.chatwoot.com/"#, "https://"));
    }
}
