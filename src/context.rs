//! The build context for a Dockerfile builder: `Dockerfile` (from
//! `Dockerfile.base`, base pinned, labels inserted) and `overlay/` with the
//! changed files at their paths under the app root, as one deterministic tar
//! (optionally gzip with no name and no time).

use std::collections::BTreeMap;
use std::io::Write;

use crate::archive::{self, Content, Meta};
use crate::error::{Error, Result};

/// The project's `Dockerfile.base`, built into the binary.
pub const DOCKERFILE_BASE: &str = include_str!("../Dockerfile.base");

/// Fills the template: `ARG BASE_IMAGE=<base>` and one `LABEL` after `FROM`.
/// `origin` names the template in errors. The template must copy `overlay/`
/// to the patch set's app root.
pub fn dockerfile(
    template: &str,
    origin: &str,
    base: &str,
    labels: &BTreeMap<String, String>,
    root: &str,
) -> Result<String> {
    let bad = |what: &str| {
        Error::usage(
            format!("{origin} {what}"),
            "start from the project's Dockerfile.base: `ARG BASE_IMAGE`, `FROM ${BASE_IMAGE}`, `COPY overlay/ <app root>/`",
        )
    };
    let lines: Vec<&str> = template.lines().collect();
    let is = |l: &str, word: &str| l.trim_start().to_ascii_uppercase().starts_with(word);
    let arg = lines.iter().position(|l| is(l, "ARG BASE_IMAGE")).ok_or_else(|| bad("has no `ARG BASE_IMAGE` line"))?;
    let from = lines
        .iter()
        .position(|l| is(l, "FROM ") && l.contains("${BASE_IMAGE}"))
        .ok_or_else(|| bad("has no `FROM ${BASE_IMAGE}` line"))?;
    let dest = format!("{}/", root.trim_end_matches('/'));
    if !lines.iter().any(|l| is(l, "COPY ") && l.split_whitespace().collect::<Vec<_>>().ends_with(&["overlay/", &dest]))
    {
        return Err(bad(&format!("does not `COPY overlay/ {dest}` (the patch set's app root)")));
    }
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == arg {
            out.push_str(&format!("ARG BASE_IMAGE={base}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if i == from && !labels.is_empty() {
            let body: Vec<String> = labels.iter().map(|(k, v)| format!("      {}={}", quote(k), quote(v))).collect();
            out.push_str(&format!("LABEL {}\n", body.join(" \\\n").trim_start()));
        }
    }
    Ok(out)
}

/// A Dockerfile double-quoted word: `\`, `"` and `$` escaped, line breaks
/// folded (a label value is one line).
fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' | '"' | '$' => {
                q.push('\\');
                q.push(c);
            }
            '\n' | '\r' => q.push(' '),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Writes the context tar: `Dockerfile` plus `overlay/<path>` for each
/// file, modes from `meta` (the base's) and owner root, times `epoch`.
pub fn write<'a, W: Write>(
    out: W,
    dockerfile: &str,
    files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    meta: &BTreeMap<String, Meta>,
    epoch: u64,
) -> std::io::Result<W> {
    let paths: Vec<(String, &[u8])> = files.into_iter().map(|(p, b)| (format!("overlay/{p}"), b)).collect();
    let mut entries: Vec<(&str, Content)> = paths.iter().map(|(p, b)| (p.as_str(), Content::Bytes(b))).collect();
    entries.push(("Dockerfile", Content::Bytes(dockerfile.as_bytes())));
    archive::write_tree(out, "", entries, epoch, |p, dir| {
        let default = if dir { Meta::DIR } else { Meta::FILE };
        let mode = p.strip_prefix("overlay/").and_then(|rel| meta.get(rel)).map_or(default.mode, |m| m.mode);
        Meta { mode, uid: 0, gid: 0 }
    })
}

/// Gzip with a zero time and no file name, so the bytes are reproducible.
pub fn gzip(tar: &[u8]) -> Vec<u8> {
    let mut gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::default());
    gz.write_all(tar).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_base_and_inserts_escaped_labels() {
        let labels = BTreeMap::from([
            ("org.opencontainers.image.vendor".to_string(), "Nexa \"$HOME\" \\ Ltda.".to_string()),
            ("io.whitelabel.brand".to_string(), "nexa".to_string()),
        ]);
        let d = dockerfile(DOCKERFILE_BASE, "Dockerfile.base", "chatwoot/chatwoot@sha256:ab", &labels, "/app").unwrap();
        assert!(d.contains("ARG BASE_IMAGE=chatwoot/chatwoot@sha256:ab\n"), "{d}");
        assert!(d.contains(r#""org.opencontainers.image.vendor"="Nexa \"\$HOME\" \\ Ltda.""#), "{d}");
        let from = d.find("FROM ${BASE_IMAGE}").unwrap();
        let label = d.find("\nLABEL ").unwrap();
        let copy = d.find("COPY overlay/ /app/").unwrap();
        assert!(from < label && label < copy, "{d}");
        assert!(!d.lines().any(|l| l.starts_with("RUN")), "no RUN step: the base has no shell");
    }

    #[test]
    fn refuses_templates_that_do_not_fit() {
        let e = dockerfile("FROM alpine\nCOPY overlay/ /app/\n", "x/Dockerfile", "b", &BTreeMap::new(), "/app");
        assert!(e.unwrap_err().to_string().contains("x/Dockerfile has no `ARG BASE_IMAGE`"));
        let e = dockerfile(DOCKERFILE_BASE, "Dockerfile.base", "b", &BTreeMap::new(), "/srv/app");
        assert!(e.unwrap_err().to_string().contains("COPY overlay/ /srv/app/"));
    }

    #[test]
    fn context_is_deterministic_and_gzip_too() {
        let a = write(Vec::new(), "FROM x\n", [("public/a.svg", &b"a"[..])], &BTreeMap::new(), 9).unwrap();
        let b = write(Vec::new(), "FROM x\n", [("public/a.svg", &b"a"[..])], &BTreeMap::new(), 9).unwrap();
        assert_eq!(a, b);
        assert_eq!(gzip(&a), gzip(&b));
        let names: Vec<String> = tar::Archive::new(&a[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["Dockerfile", "overlay/", "overlay/public/", "overlay/public/a.svg"]);
    }
}
