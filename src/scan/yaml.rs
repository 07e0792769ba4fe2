//! Scalar values of a YAML file, found line by line so that the file keeps
//! its exact layout and comments. Keys, anchors and comments are never
//! returned; block scalar bodies are.

/// How a value is written, which decides its escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Single,
    Double,
    /// A line inside a `|` or `>` block scalar.
    Block,
}

/// A value body: byte range in the file (without quotes) and its style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub start: usize,
    pub end: usize,
    pub style: Style,
}

pub fn values(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut block_indent: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let trimmed = body.trim_start();
        if let Some(parent) = block_indent {
            if trimmed.is_empty() || indent > parent {
                if !trimmed.is_empty() {
                    out.push(Value { start: offset + indent, end: offset + body.len(), style: Style::Block });
                }
                offset += line.len();
                continue;
            }
            block_indent = None;
        }
        if trimmed.starts_with('#') || trimmed.is_empty() || trimmed.starts_with("---") {
            offset += line.len();
            continue;
        }
        let mut start = indent;
        // A list item's scalar, or its first `key: value`.
        while body[start..].starts_with("- ") {
            start += 2;
            start += body[start..].len() - body[start..].trim_start().len();
        }
        let value_start = match key_end(&body[start..]) {
            Some(k) => {
                let v = start + k;
                v + (body[v..].len() - body[v..].trim_start().len())
            }
            None if start > indent => start,
            None => {
                offset += line.len();
                continue;
            }
        };
        let value = &body[value_start..];
        if value.starts_with('|') || value.starts_with('>') {
            block_indent = Some(indent);
        } else if let Some(v) = scalar(value) {
            out.push(Value {
                start: offset + value_start + v.start,
                end: offset + value_start + v.end,
                style: v.style,
            });
        }
        offset += line.len();
    }
    out
}

/// End of `key:` (just after the colon) when `s` starts with a mapping key.
fn key_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    if let Some(q @ (b'"' | b'\'')) = bytes.first().copied() {
        let close = s[1..].find(q as char)? + 1;
        return s[close + 1..].starts_with(':').then_some(close + 2);
    }
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
            return Some(i + 1);
        }
        if bytes[i] == b' ' && bytes.get(i + 1) == Some(&b'#') {
            return None;
        }
        i += 1;
    }
    None
}

/// The body of a scalar at the start of `s`, without quotes or trailing comment.
fn scalar(s: &str) -> Option<Value> {
    if s.is_empty() || s.starts_with(['&', '*', '!', '[', '{']) {
        return None;
    }
    if let Some(rest) = s.strip_prefix('"') {
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    return Some(Value { start: 1, end: 1 + i, style: Style::Double });
                }
                _ => i += 1,
            }
        }
        return None;
    }
    if let Some(rest) = s.strip_prefix('\'') {
        let mut i = 0;
        let bytes = rest.as_bytes();
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return Some(Value { start: 1, end: 1 + i, style: Style::Single });
            }
            i += 1;
        }
        return None;
    }
    let end = s.find(" #").unwrap_or(s.len());
    let end = s[..end].trim_end().len();
    (end > 0).then_some(Value { start: 0, end, style: Style::Plain })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(text: &str) -> Vec<(String, Style)> {
        values(text).into_iter().map(|v| (text[v.start..v.end].to_string(), v.style)).collect()
    }

    #[test]
    fn finds_values_not_keys() {
        let text = "en:\n  a: Chatwoot rocks # note\n  b: \"say \\\"hi\\\" Chatwoot\"\n  c: 'it''s Chatwoot'\n  # Chatwoot\n  d: |\n    Chatwoot line\n  e:\n    - Chatwoot item\n";
        assert_eq!(
            bodies(text),
            vec![
                ("Chatwoot rocks".into(), Style::Plain),
                ("say \\\"hi\\\" Chatwoot".into(), Style::Double),
                ("it''s Chatwoot".into(), Style::Single),
                ("Chatwoot line".into(), Style::Block),
                ("Chatwoot item".into(), Style::Plain),
            ]
        );
    }

    #[test]
    fn list_entries_with_keys() {
        let text = "- name: INSTALLATION_NAME\n  value: 'Chatwoot'\n  locked: false\n";
        assert_eq!(bodies(text)[1], ("Chatwoot".into(), Style::Single));
    }
}
