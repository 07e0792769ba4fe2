//! `action = "yaml-entries"`: in a YAML list of mappings such as
//! `config/installation_config.yml`, sets the value field of the entry whose
//! key field equals a name. The rest of the file keeps its exact bytes.

use super::Outcome;
use crate::escape;

/// `set` holds (entry name, rendered value) pairs.
pub fn apply(data: &[u8], key_field: &str, value_field: &str, set: &[(String, String)]) -> Result<Outcome, String> {
    let text = std::str::from_utf8(data).map_err(|_| "is not UTF-8 text".to_string())?;
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    for (name, value) in set {
        let value_line = value_line(&lines, key_field, value_field, name)?;
        let line = &lines[value_line];
        let indent = &line[..line.len() - line.trim_start().len()];
        let ending = if line.ends_with("\r\n") {
            "\r\n"
        } else if line.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        lines[value_line] = format!("{indent}{value_field}: \"{}\"{ending}", escape::yaml_double(value));
    }
    let out = lines.concat();
    Ok(Outcome::whole((out != text).then(|| out.into_bytes()), vec![set.len()]))
}

/// Byte range of the value (after `value_field:`, trimmed) of entry `name`.
pub fn value_range(
    text: &str,
    key_field: &str,
    value_field: &str,
    name: &str,
) -> Result<std::ops::Range<usize>, String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let i = value_line(&lines, key_field, value_field, name)?;
    let start: usize = lines[..i].iter().map(|l| l.len()).sum();
    let line = lines[i].trim_end_matches(['\n', '\r']);
    let after = line.find(':').map_or(line.len(), |c| c + 1);
    let lead = line[after..].len() - line[after..].trim_start().len();
    Ok(start + after + lead..start + line.len())
}

/// Index of the `value_field:` line of the entry whose `key_field` is `name`.
fn value_line(lines: &[impl AsRef<str>], key_field: &str, value_field: &str, name: &str) -> Result<usize, String> {
    let key_prefix = format!("- {key_field}:");
    let value_prefix = format!("{value_field}:");
    let start = lines
        .iter()
        .position(|l| {
            l.as_ref().trim_start().strip_prefix(&key_prefix).is_some_and(|rest| unquote(rest.trim()) == name)
        })
        .ok_or_else(|| format!("has no entry `{key_field}: {name}`"))?;
    let item_indent = lines[start].as_ref().len() - lines[start].as_ref().trim_start().len();
    lines[start + 1..]
        .iter()
        .take_while(|l| {
            let t = l.as_ref().trim_start();
            let indent = l.as_ref().len() - t.len();
            t.is_empty() || indent > item_indent
        })
        .position(|l| l.as_ref().trim_start().starts_with(&value_prefix))
        .map(|i| start + 1 + i)
        .ok_or_else(|| format!("entry {name} has no `{value_field}:`"))
}

fn unquote(s: &str) -> &str {
    s.trim_matches(|c| c == '\'' || c == '"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_values_in_place() {
        let yml = "# comment\n- name: INSTALLATION_NAME\n  value: 'Chatwoot'\n  locked: false\n- name: LOGO\n  value: '/brand-assets/logo.svg'\n";
        let out = apply(yml.as_bytes(), "name", "value", &[("INSTALLATION_NAME".into(), "It's \"N\"".into())]).unwrap();
        let out = String::from_utf8(out.bytes.unwrap()).unwrap();
        assert_eq!(
            out,
            "# comment\n- name: INSTALLATION_NAME\n  value: \"It's \\\"N\\\"\"\n  locked: false\n- name: LOGO\n  value: '/brand-assets/logo.svg'\n"
        );
        assert!(apply(yml.as_bytes(), "name", "value", &[("NOPE".into(), "x".into())]).unwrap_err().contains("NOPE"));
    }
}
