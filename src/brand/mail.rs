//! Mail settings of a brand pack: the `Name <address>` sender and the shape
//! of the Liquid layout that replaces Chatwoot's mailer layout.

/// The placeholder Chatwoot's mailer fills with each message's body.
pub const CONTENT_PLACEHOLDER: &str = "content_for_layout";

/// Splits `Name <address>`.
pub fn parse_sender(sender: &str) -> Option<(String, String)> {
    let (name, rest) = sender.split_once('<')?;
    let address = rest.strip_suffix('>')?;
    let name = name.trim();
    let (local, domain) = address.split_once('@')?;
    let ok = !name.is_empty()
        && !name.contains(['<', '>', '"', '\n'])
        && !local.is_empty()
        && domain.contains('.')
        && !address.contains(|c: char| c.is_whitespace() || "<>\"'@".contains(c) && c != '@')
        && address.matches('@').count() == 1;
    ok.then(|| (name.to_string(), address.to_string()))
}

/// Checks the layout is Liquid-shaped: every `{{`/`{%` closes, block tags
/// balance, and the content placeholder is output where it can render: not
/// inside `comment`, `raw` or `capture`, a constant-false branch (`if false`,
/// `unless true`, the `else` of `if true`) or an HTML comment.
pub fn check_layout(text: &str) -> Result<(), String> {
    // Each open block: (tag, line, whether its current branch can never
    // render: `comment`, `raw`, `if false`, `unless true`, or the `else` of
    // `if true`).
    let mut stack: Vec<(String, usize, bool)> = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    let mut has_content = false;
    while let Some(start) = rest.find('{') {
        let after = &rest[start..];
        let close = if after.starts_with("{{") {
            "}}"
        } else if after.starts_with("{%") {
            "%}"
        } else {
            offset += start + 1;
            rest = &rest[start + 1..];
            continue;
        };
        let line = text[..offset + start].matches('\n').count() + 1;
        let end = after
            .find(close)
            .ok_or_else(|| format!("line {line}: `{}` is never closed with `{close}`", &after[..2]))?;
        let inner = after[2..end].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if inner.contains("{{") || inner.contains("{%") {
            return Err(format!("line {line}: a tag opens inside another tag"));
        }
        if close == "}}" {
            let dead = stack.iter().any(|b| b.2) || in_html_comment(&text[..offset + start]);
            if inner.split('|').next().map(str::trim) == Some(CONTENT_PLACEHOLDER) && !dead {
                has_content = true;
            }
        } else {
            let word = inner.split_whitespace().next().unwrap_or("");
            let condition = inner[word.len()..].trim();
            match word {
                "if" | "unless" | "for" | "case" | "capture" | "comment" | "raw" | "tablerow" => {
                    let dead = match word {
                        "comment" | "raw" | "capture" => true,
                        "if" => matches!(condition, "false" | "nil"),
                        "unless" => condition == "true",
                        _ => false,
                    };
                    stack.push((word.to_string(), line, dead))
                }
                // The other branch of a constant condition flips; any other
                // branch may render.
                "else" | "elsif" => {
                    if let Some(top) = stack.last_mut().filter(|b| b.0 == "if" || b.0 == "unless") {
                        top.2 = word == "else" && !top.2;
                    }
                }
                w if w.starts_with("end") => {
                    let open = &w[3..];
                    match stack.pop() {
                        Some((o, _, _)) if o == open => {}
                        Some((o, l, _)) => {
                            return Err(format!("line {line}: `{w}` closes `{o}` opened on line {l}"));
                        }
                        None => return Err(format!("line {line}: `{w}` has no opening tag")),
                    }
                }
                _ => {}
            }
        }
        offset += start + end + 2;
        rest = &after[end + 2..];
    }
    if let Some((open, line, _)) = stack.pop() {
        return Err(format!("line {line}: `{open}` is never closed with `end{open}`"));
    }
    if !has_content {
        return Err(format!(
            "never outputs `{{{{ {CONTENT_PLACEHOLDER} }}}}` where it can render (not in a comment, raw, capture, constant-false branch or <!-- -->), so mails would have no body"
        ));
    }
    Ok(())
}

/// Whether the end of `before` lies inside an HTML comment.
fn in_html_comment(before: &str) -> bool {
    before.rfind("<!--").is_some_and(|open| !before[open..].contains("-->"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders() {
        assert_eq!(
            parse_sender("Nexa <atendimento@nexateam.com.br>"),
            Some(("Nexa".into(), "atendimento@nexateam.com.br".into()))
        );
        assert_eq!(parse_sender("atendimento@nexateam.com.br"), None);
        assert_eq!(parse_sender("Nexa <a@b@c.com>"), None);
        assert_eq!(parse_sender("<a@b.com>"), None);
    }

    #[test]
    fn layouts() {
        assert!(check_layout("<p>{{ content_for_layout }}</p>{% if x %}y{% endif %}").is_ok());
        assert!(check_layout("<p>{{ content_for_layout }}").is_ok());
        assert!(check_layout("<p>{{ body }}</p>").unwrap_err().contains("content_for_layout"));
        assert!(check_layout("{{ content_for_layout }}{% if x %}").unwrap_err().contains("never closed"));
        assert!(check_layout("{{ content_for_layout }}{% for a in b %}{% endif %}").unwrap_err().contains("closes"));
        assert!(check_layout("{{ content_for_layout ").unwrap_err().contains("never closed"));
        for unreachable in [
            "{% comment %}{{ content_for_layout }}{% endcomment %}",
            "{% raw %}{{ content_for_layout }}{% endraw %}",
            "{% if false %}{{ content_for_layout }}{% endif %}",
            "{% unless true %}{{ content_for_layout }}{% endunless %}",
            "{% if true %}x{% else %}{{ content_for_layout }}{% endif %}",
            "{% capture c %}{{ content_for_layout }}{% endcapture %}",
            "<!-- {{ content_for_layout }} -->",
            "{% if x %}{% if false %}{{ content_for_layout }}{% endif %}{% endif %}",
        ] {
            assert!(check_layout(unreachable).unwrap_err().contains("where it can render"), "{unreachable}");
        }
        for reachable in [
            "{% if false %}x{% else %}{{ content_for_layout }}{% endif %}",
            "{% if x %}{{ content_for_layout }}{% endif %}",
            "<!-- head --><p>{{ content_for_layout }}</p>",
            "{% comment %}x{% endcomment %}{{ content_for_layout }}",
        ] {
            assert!(check_layout(reachable).is_ok(), "{reachable}");
        }
    }
}
