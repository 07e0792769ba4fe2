//! The brand's mail layout filled with sample content, the way Chatwoot's
//! mailer fills it (Liquid locals `content_for_layout`, `global_config`,
//! `action_url`, drops `account`, `user`, `conversation`, `inbox`), and a
//! plain description of it (text lines and colors) for the PNG card.
//!
//! Only the Liquid the mailer layouts use is understood: output tags with a
//! variable or a literal (filters ignored), `if`/`elsif`/`else`/`unless`
//! with comparisons, `case`/`when`, `for` (body once), `comment`, `raw`,
//! `capture` (not output). Unknown variables are nil, as in Liquid.

use std::collections::BTreeMap;

use regex::Regex;

use crate::brand::Brand;
use crate::color::{Rgb, WHITE};
use crate::escape;

/// The sample values, by normalised variable path (`global_config.BRAND_NAME`).
pub struct Sample {
    vars: BTreeMap<String, String>,
}

/// The rendered sample mail.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The layout with its placeholders filled: a full HTML document.
    pub html: String,
    pub subject: String,
    pub card: Card,
}

/// What the PNG draws of the mail: its text and the colors found in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub page: Rgb,
    pub background: Rgb,
    /// The top (or any) border color of the content box, else the primary.
    pub accent: Rgb,
    /// The first text color, used for the first line (the heading).
    pub heading: Rgb,
    pub lines: Vec<String>,
}

impl Sample {
    /// Sample values for `brand`; every value but the body is HTML-escaped,
    /// as brand values must be wherever they land.
    pub fn new(brand: &Brand) -> Sample {
        let pt = brand.locale.starts_with("pt");
        let app = brand.urls.app.trim_end_matches('/');
        let action_url = format!("{app}/app/accounts/1/conversations/42");
        let body = if pt {
            "<p>Olá, Ana Souza!</p>\
             <p>Você tem uma nova mensagem de Carlos Lima na conversa #42 da caixa de entrada Site:</p>\
             <p><em>“Bom dia! Consigo alterar a data da minha entrega?”</em></p>"
        } else {
            "<p>Hi Ana Souza,</p>\
             <p>You have a new message from Carlos Lima in conversation #42 of the Website inbox:</p>\
             <p><em>“Good morning! Can I change my delivery date?”</em></p>"
        };
        let link = if pt { "Ver conversa" } else { "View conversation" };
        let content = format!(
            "{body}<p><a href=\"{}\" style=\"color:{}\">{link}</a></p>",
            escape::html(&action_url),
            brand.primary.hex()
        );
        let mut vars = BTreeMap::new();
        let mut set = |k: &str, v: &str, raw: bool| {
            vars.insert(k.to_string(), if raw { v.to_string() } else { escape::html(v) });
        };
        set("content_for_layout", &content, true);
        set("global_config.BRAND_NAME", &brand.name, false);
        set("global_config.BRAND_URL", &brand.urls.home, false);
        set("global_config.INSTALLATION_NAME", &brand.name, false);
        set("action_url", &action_url, false);
        set("account.name", "Acme", false);
        set("user.name", "Ana Souza", false);
        set("user.available_name", "Ana Souza", false);
        set("conversation.display_id", "42", false);
        set("inbox.name", if pt { "Site" } else { "Website" }, false);
        Sample { vars }
    }

    fn get(&self, path: &str) -> Option<&str> {
        self.vars.get(&normalise(path)).map(String::as_str)
    }

    /// Fills `layout` and describes it.
    pub fn fill(&self, brand: &Brand) -> Mail {
        let html = self.render(&brand.mail.layout);
        let subject = if brand.locale.starts_with("pt") {
            format!("[{}] Nova mensagem na conversa #42", brand.name)
        } else {
            format!("[{}] New message in conversation #42", brand.name)
        };
        let card = describe(&html, brand.primary);
        Mail { html, subject, card }
    }

    /// Renders the Liquid subset described in the module doc.
    pub fn render(&self, layout: &str) -> String {
        let mut out = String::new();
        // One frame per open block: is its current branch shown, has a branch been taken.
        struct Frame {
            tag: String,
            parent: bool,
            on: bool,
            taken: bool,
        }
        let mut stack: Vec<Frame> = Vec::new();
        let shown = |stack: &[Frame]| stack.last().is_none_or(|f| f.on);
        for token in tokens(layout) {
            match token {
                Token::Text(t) => {
                    if shown(&stack) {
                        out.push_str(t);
                    }
                }
                Token::Output(expr) => {
                    if shown(&stack) {
                        let first = expr.split('|').next().unwrap_or("").trim();
                        match self.value(first) {
                            Value::Str(s) => out.push_str(&s),
                            Value::Nil | Value::Bool(_) => {}
                        }
                    }
                }
                Token::Tag(inner) => {
                    let (word, rest) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
                    let rest = rest.trim();
                    let here = shown(&stack);
                    match word {
                        "if" | "unless" => {
                            let c = self.condition(rest) == (word == "if");
                            stack.push(Frame { tag: word.into(), parent: here, on: here && c, taken: c });
                        }
                        "case" => stack.push(Frame { tag: word.into(), parent: here, on: false, taken: false }),
                        "for" | "tablerow" => {
                            stack.push(Frame { tag: word.into(), parent: here, on: here, taken: true })
                        }
                        "comment" | "capture" => {
                            stack.push(Frame { tag: word.into(), parent: here, on: false, taken: true })
                        }
                        "elsif" | "when" => {
                            if let Some(f) = stack.last_mut() {
                                // `when`: the first branch stands in for the matching one.
                                let c = if word == "elsif" { self.condition(rest) } else { true };
                                f.on = f.parent && !f.taken && c;
                                f.taken |= c;
                            }
                        }
                        "else" => {
                            if let Some(f) = stack.last_mut() {
                                f.on = f.parent && !f.taken;
                                f.taken = true;
                            }
                        }
                        w if w.starts_with("end") && stack.last().is_some_and(|f| f.tag == w[3..]) => {
                            stack.pop();
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }

    fn value(&self, expr: &str) -> Value {
        let e = expr.trim();
        if let Some(s) = e.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            return Value::Str(escape::html(s));
        }
        if let Some(s) = e.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return Value::Str(escape::html(s));
        }
        match e {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            "nil" | "null" | "" => return Value::Nil,
            "empty" | "blank" => return Value::Str(String::new()),
            _ => {}
        }
        if e.parse::<f64>().is_ok() {
            return Value::Str(e.to_string());
        }
        match self.get(e) {
            Some(v) => Value::Str(v.to_string()),
            None => Value::Nil,
        }
    }

    /// `a == b`, `a != b`, `a contains b`, a bare value (truthy unless nil
    /// or false), joined by `and` / `or` (evaluated right to left, as Liquid does).
    fn condition(&self, text: &str) -> bool {
        if let Some((left, right)) = split_word(text, "or") {
            return self.condition(left) || self.condition(right);
        }
        if let Some((left, right)) = split_word(text, "and") {
            return self.condition(left) && self.condition(right);
        }
        for op in ["==", "!=", "<>", " contains "] {
            if let Some((a, b)) = text.split_once(op) {
                let (a, b) = (self.value(a), self.value(b));
                return match op.trim() {
                    "==" => a == b,
                    "contains" => matches!((a, b), (Value::Str(a), Value::Str(b)) if a.contains(&b)),
                    _ => a != b,
                };
            }
        }
        !matches!(self.value(text), Value::Nil | Value::Bool(false))
    }
}

#[derive(Debug, PartialEq)]
enum Value {
    Nil,
    Bool(bool),
    Str(String),
}

enum Token<'a> {
    Text(&'a str),
    /// Inside `{{ }}`, trimmed (and without `-` whitespace control).
    Output(&'a str),
    /// Inside `{% %}`, trimmed.
    Tag(&'a str),
}

/// Splits a layout into text, output tags and block tags; `raw` bodies are text.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let endraw = Regex::new(r"\{%-?\s*endraw\s*-?%\}").expect("valid regex");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let after = &rest[i..];
        let close = if after.starts_with("{{") {
            "}}"
        } else if after.starts_with("{%") {
            "%}"
        } else {
            out.push(Token::Text(&rest[..i + 1]));
            rest = &rest[i + 1..];
            continue;
        };
        let Some(end) = after.find(close) else { break };
        out.push(Token::Text(&rest[..i]));
        let inner = after[2..end].trim_matches(|c: char| c == '-' || c.is_whitespace());
        rest = &after[end + 2..];
        if close == "}}" {
            out.push(Token::Output(inner));
        } else if inner == "raw" {
            match endraw.find(rest) {
                Some(m) => {
                    out.push(Token::Text(&rest[..m.start()]));
                    rest = &rest[m.end()..];
                }
                None => {
                    out.push(Token::Text(rest));
                    rest = "";
                }
            }
        } else {
            out.push(Token::Tag(inner));
        }
    }
    out.push(Token::Text(rest));
    out
}

/// `a or b` → ("a", "b") at the first ` word ` outside quotes.
fn split_word<'a>(text: &'a str, word: &str) -> Option<(&'a str, &'a str)> {
    let needle = format!(" {word} ");
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, _) if text[i..].starts_with(&needle) => return Some((&text[..i], &text[i + needle.len()..])),
            _ => {}
        }
    }
    None
}

/// `global_config['BRAND_NAME']`, `global_config["BRAND_NAME"]` and
/// `global_config.BRAND_NAME` are one variable.
fn normalise(path: &str) -> String {
    path.trim().replace("['", ".").replace("[\"", ".").replace("']", "").replace("\"]", "")
}

/// The text lines and colors of a rendered mail, for the PNG card.
pub fn describe(html: &str, primary: Rgb) -> Card {
    let hex = r"(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b";
    let all = |re: &str| -> Vec<Rgb> {
        Regex::new(re).expect("valid regex").captures_iter(html).filter_map(|c| Rgb::parse(&c[1])).collect()
    };
    let backgrounds = all(&format!(r#"(?i)(?:background(?:-color)?\s*:\s*|bgcolor\s*=\s*["']?){hex}"#));
    let page = backgrounds.first().copied().unwrap_or(Rgb(0xf8, 0xfa, 0xfc));
    let background = backgrounds.iter().copied().find(|c| *c != page).unwrap_or(WHITE);
    let accent = all(&format!(r"(?i)border-top(?:-color)?\s*:[^;{{}}<>]*?{hex}"))
        .first()
        .or(all(&format!(r"(?i)border(?:-[a-z]+)?\s*:[^;{{}}<>]*?{hex}")).first())
        .copied()
        .unwrap_or(primary);
    let heading = all(&format!(r#"(?i)(?:^|[;"'\s])color\s*:\s*{hex}"#))
        .into_iter()
        .find(|c| c.contrast(background) >= 3.0)
        .unwrap_or(primary);
    Card { page, background, accent, heading, lines: text_lines(html) }
}

/// The visible text of an HTML document, one entry per block, whitespace collapsed.
pub fn text_lines(html: &str) -> Vec<String> {
    let drop = Regex::new(
        r"(?is)<!--.*?-->|<(head|style|script|title|template)\b.*?</\s*(head|style|script|title|template)\s*>",
    )
    .expect("valid regex");
    let text = drop.replace_all(html, " ");
    let blocks = Regex::new(
        r"(?i)<\s*/?\s*(p|br|div|tr|td|th|table|h[1-6]|li|ul|ol|hr|center|section|header|footer|blockquote)\b[^>]*>",
    )
    .expect("valid regex");
    let text = blocks.replace_all(&text, "\n");
    let tags = Regex::new(r"(?s)<[^>]*>").expect("valid regex");
    let text = tags.replace_all(&text, "");
    text.lines()
        .map(|l| decode_entities(&l.split_whitespace().collect::<Vec<_>>().join(" ")))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

fn decode_entities(s: &str) -> String {
    let re = Regex::new(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});").expect("valid regex");
    re.replace_all(s, |c: &regex::Captures| {
        let e = &c[1];
        let ch = match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            "copy" => Some('©'),
            "mdash" => Some('—'),
            "ndash" => Some('–'),
            _ if e.starts_with("#x") || e.starts_with("#X") => {
                u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32)
            }
            _ if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        ch.map(String::from).unwrap_or_else(|| c[0].to_string())
    })
    .into_owned()
}

/// Word-wraps `line` at `width` characters (longer words are cut).
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in line.split_whitespace() {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            out.push(head);
        }
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sample {
        let mut vars = BTreeMap::new();
        vars.insert("content_for_layout".to_string(), "<p>Body</p>".to_string());
        vars.insert("global_config.BRAND_NAME".to_string(), escape::html("A&B"));
        vars.insert("global_config.BRAND_URL".to_string(), "https://a.example".to_string());
        Sample { vars }
    }

    #[test]
    fn fills_the_upstream_layout_variables() {
        let s = sample();
        let upstream = "<td>{{ content_for_layout }}</td>{% if global_config['BRAND_NAME'] != '' %}Powered by \
                        <a href=\"{{ global_config['BRAND_URL'] }}\">{{ global_config[\"BRAND_NAME\"] | upcase }}</a>{% endif %}";
        assert_eq!(s.render(upstream), "<td><p>Body</p></td>Powered by <a href=\"https://a.example\">A&amp;B</a>");
    }

    #[test]
    fn branches_loops_comments_and_raw() {
        let s = sample();
        assert_eq!(s.render("{% if missing %}a{% elsif global_config.BRAND_NAME %}b{% else %}c{% endif %}"), "b");
        assert_eq!(s.render("{% unless missing %}u{% endunless %}{% if missing %}x{% else %}y{% endif %}"), "uy");
        assert_eq!(s.render("{% if missing %}{% if true %}no{% else %}no{% endif %}{% endif %}!"), "!");
        assert_eq!(
            s.render("{% comment %}hidden {{ x }}{% endcomment %}{% raw %}{{ kept }}{% endraw %}"),
            "{{ kept }}"
        );
        assert_eq!(s.render("{% for i in items %}[{{ i }}]{% endfor %}"), "[]");
        assert_eq!(s.render("{% if a == 'x' or global_config.BRAND_URL contains 'a.ex' %}yes{% endif %}"), "yes");
        assert_eq!(s.render("{% capture t %}no{% endcapture %}{{ 'lit' }}{{ unknown }}"), "lit");
        assert_eq!(s.render("a { b } {{ content_for_layout }}"), "a { b } <p>Body</p>");
    }

    #[test]
    fn describes_colors_and_text() {
        let html = r#"<html><head><title>T</title><style>p{color:#123}</style></head>
            <body style="background-color:#f4f3fa"><table style="background-color:#ffffff;border-top:4px solid #4b2fd6">
            <tr><td style="color:#4b2fd6">Nexa</td></tr><tr><td>Hello &amp; <b>welcome</b><br>second</td></tr></table></body></html>"#;
        let card = describe(html, Rgb(0, 0, 0));
        assert_eq!(card.page, Rgb(0xf4, 0xf3, 0xfa));
        assert_eq!(card.background, WHITE);
        assert_eq!(card.accent, Rgb(0x4b, 0x2f, 0xd6));
        assert_eq!(card.heading, Rgb(0x4b, 0x2f, 0xd6));
        assert_eq!(card.lines, vec!["Nexa", "Hello & welcome", "second"]);
    }

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
    }
}
