//! Escapers: a brand value is escaped for every layer it lands in, innermost
//! first (vue-i18n message syntax, then the JS/JSON/YAML/HTML container).

use crate::patchset::{Escape, EscapeChain};

/// The quoting of a JS string literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    Double,
    Single,
    Backtick,
}

impl Quote {
    pub fn from_char(c: u8) -> Option<Quote> {
        match c {
            b'"' => Some(Quote::Double),
            b'\'' => Some(Quote::Single),
            b'`' => Some(Quote::Backtick),
            _ => None,
        }
    }
}

/// Escapes `s` for the inside of a JS literal quoted with `quote`. The output
/// for `Quote::Double` is also a valid JSON string body.
pub fn js(s: &str, quote: Quote) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' if quote == Quote::Double => out.push_str("\\\""),
            '\'' if quote == Quote::Single => out.push_str("\\'"),
            '`' if quote == Quote::Backtick => out.push_str("\\`"),
            '$' if quote == Quote::Backtick && chars.peek() == Some(&'{') => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escapes vue-i18n (v9) message syntax with literal interpolation, so that
/// `{`, `}`, `@`, `$`, `|` and `%` display as themselves (`%` would start the
/// modulo form `%{name}` and be swallowed).
pub fn vue_i18n(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '{' | '}' | '@' | '$' | '|' | '%' => {
                out.push_str("{'");
                out.push(c);
                out.push_str("'}");
            }
            c => out.push(c),
        }
    }
    out
}

pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Inside a YAML double-quoted scalar (the JSON escapes are valid there).
/// The body of a YAML double-quoted scalar that YAML 1.1 and 1.2 parsers
/// (libyaml/Psych included) read back as `s`: `"` and `\` escaped, and
/// everything outside libyaml's printable set, plus what YAML 1.1 takes for a
/// line break (NEL, LS, PS) and the BOM, written as an escape.
pub fn yaml_double(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if yaml_printable(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out
}

/// libyaml's IS_PRINTABLE minus the line breaks NEL, LS and PS (and the BOM).
fn yaml_printable(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0x2027 | 0x202A..=0xD7FF | 0xE000..=0xFEFE | 0xFF00..=0xFFFD | 0x10000..)
}

/// A whole YAML double-quoted scalar, quotes included (see [`yaml_double`]).
pub fn yaml_quoted(s: &str) -> String {
    format!("\"{}\"", yaml_double(s))
}

/// The body of a Ruby single-quoted string: only `\\` and `'` are special.
pub fn ruby_single(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The body of a Ruby double-quoted string: `#` is escaped whole (`#{`, `#@`
/// and `#$` all interpolate), control characters as `\u{..}`.
pub fn ruby_double(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '#' => out.push_str("\\#"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// A Ruby string body (already escaped for `quote`) made safe inside an ERB
/// code tag, which ends at the first `%>` whatever Ruby thinks: every `%`
/// that a `>` could follow is closed off by splitting the literal in two
/// (`'a%' '>b'`: Ruby joins adjacent literals). A trailing `%` is split too,
/// since the template's text after the value is not ours to judge.
pub fn erb_code(s: &str, quote: char) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' && matches!(chars.peek(), Some('>') | None) {
            out.push(quote);
            out.push(' ');
            out.push(quote);
        }
    }
    out
}

/// Text of an ERB template outside tags, after HTML escaping (which leaves no
/// `<` or `>`): nothing can open a tag. Enforced again rather than trusted.
pub fn erb_text(s: &str) -> String {
    s.replace('<', "&lt;").replace('>', "&gt;")
}

/// Applies one `text`-scope escape layer; `inner` is the layer before it.
pub fn apply_layer(escape: Escape, inner: Option<Escape>, s: &str) -> String {
    match escape {
        Escape::None => s.to_string(),
        Escape::Html => html(s),
        Escape::Json => js(s, Quote::Double),
        Escape::RubySingle => ruby_single(s),
        Escape::RubyDouble => ruby_double(s),
        Escape::YamlDouble => yaml_double(s),
        Escape::Erb => match inner {
            Some(Escape::RubySingle) => erb_code(s, '\''),
            Some(Escape::RubyDouble) => erb_code(s, '"'),
            _ => erb_text(s),
        },
    }
}

/// Applies a `text`-scope escape chain, innermost layer first.
pub fn apply(chain: &EscapeChain, s: &str) -> String {
    let mut out = s.to_string();
    let mut inner = None;
    for &layer in &chain.0 {
        out = apply_layer(layer, inner, &out);
        inner = Some(layer);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_quote_styles() {
        assert_eq!(js(r#"Acme "Q" & <b>"#, Quote::Double), r#"Acme \"Q\" & <b>"#);
        assert_eq!(js("It's", Quote::Single), r"It\'s");
        assert_eq!(js("It's", Quote::Double), "It's");
        assert_eq!(js("a`b ${x}", Quote::Backtick), r"a\`b \${x}");
        assert_eq!(js("$&", Quote::Backtick), "$&");
        assert_eq!(js("a\\b", Quote::Single), r"a\\b");
    }

    #[test]
    fn vue_i18n_specials_become_literals() {
        assert_eq!(vue_i18n("A|B"), "A{'|'}B");
        assert_eq!(vue_i18n("{n}"), "{'{'}n{'}'}");
        assert_eq!(vue_i18n("@x $&"), "{'@'}x {'$'}&");
        assert_eq!(vue_i18n("Ação"), "Ação");
        assert_eq!(vue_i18n("100%"), "100{'%'}");
    }

    #[test]
    fn markup_and_ruby() {
        assert_eq!(html(r#"Acme "Q" & <b>"#), "Acme &quot;Q&quot; &amp; &lt;b&gt;");
        assert_eq!(ruby_single("It's"), r"It\'s");
        assert_eq!(ruby_double("#{x}"), r"\#{x}");
    }

    #[test]
    fn yaml_quoted_escapes_what_yaml_1_1_would_fold_or_refuse() {
        assert_eq!(yaml_quoted(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(yaml_quoted("x\ny\tz\u{7f}"), r#""x\ny\tz\u007F""#);
        assert_eq!(yaml_quoted("\u{85}\u{2028}\u{2029}\u{feff}"), r#""\u0085\u2028\u2029\uFEFF""#);
        assert_eq!(yaml_quoted("Ação 😀 #x: 'y'"), "\"Ação 😀 #x: 'y'\"");
        assert_eq!(yaml_quoted("\u{FFFF}"), r#""\uFFFF""#);
    }
}
