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
/// balance, and the content placeholder is output.
pub fn check_layout(text: &str) -> Result<(), String> {
    let mut stack: Vec<(String, usize)> = Vec::new();
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
            if inner.split('|').next().map(str::trim) == Some(CONTENT_PLACEHOLDER) {
                has_content = true;
            }
        } else {
            let word = inner.split_whitespace().next().unwrap_or("");
            match word {
                "if" | "unless" | "for" | "case" | "capture" | "comment" | "raw" | "tablerow" => {
                    stack.push((word.to_string(), line))
                }
                w if w.starts_with("end") => {
                    let open = &w[3..];
                    match stack.pop() {
                        Some((o, _)) if o == open => {}
                        Some((o, l)) => {
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
    if let Some((open, line)) = stack.pop() {
        return Err(format!("line {line}: `{open}` is never closed with `end{open}`"));
    }
    if !has_content {
        return Err(format!("never outputs `{{{{ {CONTENT_PLACEHOLDER} }}}}`, so mails would have no body"));
    }
    Ok(())
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
    }
}
