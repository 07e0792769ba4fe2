//! `action = "yaml-entries"`: in a YAML list of mappings such as
//! `config/installation_config.yml`, sets the value field of the entry whose
//! key field equals a name. The rest of the file keeps its exact bytes.

use super::Outcome;
use crate::escape;

/// `set` holds (entry name, rendered value) pairs.
pub fn apply(data: &[u8], key_field: &str, value_field: &str, set: &[(String, String)]) -> Result<Outcome, String> {
    let text = std::str::from_utf8(data).map_err(|_| "is not UTF-8 text".to_string())?;
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let key_prefix = format!("- {key_field}:");
    let value_prefix = format!("{value_field}:");
    for (name, value) in set {
        let start = lines
            .iter()
            .position(|l| l.trim_start().strip_prefix(&key_prefix).is_some_and(|rest| unquote(rest.trim()) == name))
            .ok_or_else(|| format!("has no entry `{key_field}: {name}`"))?;
        let item_indent = lines[start].len() - lines[start].trim_start().len();
        let value_line = lines[start + 1..]
            .iter()
            .take_while(|l| {
                let t = l.trim_start();
                let indent = l.len() - t.len();
                t.is_empty() || indent > item_indent
            })
            .position(|l| l.trim_start().starts_with(&value_prefix))
            .map(|i| start + 1 + i)
            .ok_or_else(|| format!("entry {name} has no `{value_field}:`"))?;
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
