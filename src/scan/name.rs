//! The upstream product name inside a piece of text (a literal body, a YAML
//! value, a view): every form a translator wrote it in — any letter case,
//! glued to another script, followed by an inflection — told apart from the
//! longer names that are code (identifiers, keys, hosts, paths, events,
//! `{placeholders}`). The render replaces what this calls text and the audit
//! reports what is left of it, so both see the name the same way.
//!
//! What is code is data of the patch set (`[name]` and `protected`); the only
//! built-in judgement is that letters or digits of the name's own script
//! glued to it make a longer word, unless the patch set calls them a suffix.

use std::ops::Range;

use regex::Regex;

/// The patch set's `[name]` table, compiled.
#[derive(Debug, Clone)]
pub struct NameSpec {
    pub word: String,
    /// The word in any case.
    finder: Regex,
    /// Text right before the name that makes it code (matched against the
    /// text that ends where the name starts, so patterns end with `$`).
    code_before: Option<Regex>,
    /// Text right after the name that makes it code (patterns start with `^`).
    code_after: Option<Regex>,
    /// Letters after the name that are an inflection (`^…`): kept after the brand.
    suffix: Option<Regex>,
    /// Texts that are code wherever they stand (the protected names, `[name] code`).
    code: Vec<Regex>,
    protected: aho_corasick::AhoCorasick,
}

/// How a name in text is written, for the audit's report and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// As the patch set spells it, between spaces or punctuation.
    Word,
    /// In another letter case (`chatwoot`, `CHATWOOT`, `ChatWoot`).
    Case,
    /// Glued to letters of another script (`Chatwootにログイン`).
    Script,
    /// Followed by an inflection (`Chatwootiin`).
    Suffix,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Form::Word => "word",
            Form::Case => "case",
            Form::Script => "script",
            Form::Suffix => "suffix",
        }
    }
}

/// One occurrence of the name in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The name itself (an inflection after it is not included).
    pub range: Range<usize>,
    pub form: Form,
    /// Written in capitals: the brand goes in capitals too.
    pub caps: bool,
}

/// Why an occurrence is code, not text.
pub const LONGER_NAME: &str = "part of a longer name (identifier, key, host, path or event), not text";
pub const LISTED_CODE: &str = "a protected name or code the patch set lists ([name] code)";

impl NameSpec {
    pub fn new(
        word: &str,
        code_before: Option<Regex>,
        code_after: Option<Regex>,
        suffix: Option<Regex>,
        code: Vec<Regex>,
        protected: &[String],
    ) -> NameSpec {
        NameSpec {
            word: word.to_string(),
            finder: Regex::new(&format!("(?i:{})", regex::escape(word))).expect("an escaped literal"),
            code_before,
            code_after,
            suffix,
            code,
            protected: aho_corasick::AhoCorasick::new(protected).expect("literal patterns"),
        }
    }

    /// The pattern that finds candidates (any case), for a combined regex.
    pub fn pattern(&self) -> &str {
        self.finder.as_str()
    }

    /// Whether `text` mentions the word at all (any case).
    pub fn mentioned(&self, text: &str) -> bool {
        self.finder.is_match(text)
    }

    /// Ranges of `text` that are code whatever surrounds them.
    pub fn code_ranges(&self, text: &str) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = self.protected.find_iter(text).map(|m| m.range()).collect();
        for re in &self.code {
            out.extend(re.find_iter(text).map(|m| m.range()));
        }
        out
    }

    /// Judges the candidate `start..end` of `text` (a whole text piece:
    /// a literal body, a value); `code` are its [`code_ranges`](Self::code_ranges).
    pub fn classify(&self, text: &str, start: usize, end: usize, code: &[Range<usize>]) -> Result<Hit, &'static str> {
        if code.iter().any(|c| c.start < end && start < c.end) {
            return Err(LISTED_CODE);
        }
        let before = &text[..start];
        let after = &text[end..];
        let window = &before[floor(before, before.len().saturating_sub(24))..];
        if self.code_before.as_ref().is_some_and(|re| re.is_match(window))
            || self.code_after.as_ref().is_some_and(|re| re.is_match(after))
        {
            return Err(LONGER_NAME);
        }
        let prev = before.chars().next_back();
        let next = after.chars().next();
        let found = &text[start..end];
        let caps = found.chars().any(char::is_alphabetic) && !found.chars().any(char::is_lowercase);
        let suffix =
            self.suffix.as_ref().and_then(|re| re.find(after)).is_some_and(|m| m.start() == 0 && !m.is_empty());
        if prev.is_some_and(same_script) || (!suffix && next.is_some_and(same_script)) {
            return Err(LONGER_NAME);
        }
        let form = if suffix {
            Form::Suffix
        } else if prev.is_some_and(char::is_alphanumeric) || next.is_some_and(char::is_alphanumeric) {
            Form::Script
        } else if found != self.word {
            Form::Case
        } else {
            Form::Word
        };
        Ok(Hit { range: start..end, form, caps })
    }

    /// Every occurrence of the name in `text`: the ones in text, and the
    /// ones that are code with the reason.
    pub fn scan(&self, text: &str) -> Vec<(Range<usize>, Result<Hit, &'static str>)> {
        if !self.mentioned(text) {
            return Vec::new();
        }
        let code = self.code_ranges(text);
        self.finder.find_iter(text).map(|m| (m.range(), self.classify(text, m.start(), m.end(), &code))).collect()
    }

    /// The brand as it replaces `hit`: in capitals when the name was.
    pub fn cased(caps: bool, brand: &str) -> String {
        if caps { brand.to_uppercase() } else { brand.to_string() }
    }
}

/// A letter or digit of the Latin script (the script identifiers are
/// written in): glued to the name it makes a longer word.
fn same_script(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$' || (c.is_alphabetic() && ('\u{00C0}'..='\u{024F}').contains(&c))
}

fn floor(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> NameSpec {
        NameSpec::new(
            "Chatwoot",
            Some(Regex::new(r"(?:[/.@#]|[\p{Latin}\p{Nd}]-)$").unwrap()),
            Some(Regex::new(r"^(?:[.:/@][\p{L}\p{Nd}]|-\p{Ll}+[-:_])").unwrap()),
            Some(Regex::new(r"^\p{Ll}+").unwrap()),
            vec![Regex::new(r"\{[A-Za-z_]+\}").unwrap()],
            &["chatwootSettings".to_string()],
        )
    }

    fn forms(text: &str) -> Vec<Result<(String, Form, bool), &'static str>> {
        spec()
            .scan(text)
            .into_iter()
            .map(|(_, h)| h.map(|h| (text[h.range.clone()].to_string(), h.form, h.caps)))
            .collect()
    }

    #[test]
    fn every_text_form_is_found() {
        assert_eq!(forms("Login to Chatwoot"), vec![Ok(("Chatwoot".into(), Form::Word, false))]);
        assert_eq!(forms("através do chatwoot."), vec![Ok(("chatwoot".into(), Form::Case, false))]);
        assert_eq!(forms("CHATWOOT!"), vec![Ok(("CHATWOOT".into(), Form::Case, true))]);
        assert_eq!(forms("Chatwootにログイン"), vec![Ok(("Chatwoot".into(), Form::Script, false))]);
        assert_eq!(forms("登录到Chatwoot"), vec![Ok(("Chatwoot".into(), Form::Script, false))]);
        assert_eq!(forms("sisään Chatwootiin"), vec![Ok(("Chatwoot".into(), Form::Suffix, false))]);
        assert_eq!(forms("in Chatwoot-konto"), vec![Ok(("Chatwoot".into(), Form::Word, false))]);
        assert_eq!(forms("ב-chatwoot"), vec![Ok(("chatwoot".into(), Form::Case, false))]);
    }

    #[test]
    fn code_forms_are_not_text() {
        for code in [
            "{latestChatwootVersion}",
            "window.chatwootSettings = {}",
            "isAChatwootInstance",
            "chatwoot:ready",
            "chatwoot-widget:x",
            "https://app.chatwoot.com",
            "/chatwoot/",
            "@chatwoot/utils",
            "CHATWOOT_INBOX",
            "ChatwootApp",
            "is-chatwoot",
        ] {
            assert!(forms(code).iter().all(Result::is_err), "{code}: {:?}", forms(code));
        }
    }
}
