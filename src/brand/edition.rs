//! Which Chatwoot edition a base image is, from its tag. The plain `vX.Y.Z`
//! images carry `enterprise/`, whose daily plan reconciliation resets the
//! branding rows (installation name, logos, brand URLs) to the stock values on
//! the community plan; the `-ce` images have no `enterprise/`. Any command that
//! deploys or builds from a base calls [`warn_if_enterprise`].

use std::sync::atomic::{AtomicBool, Ordering};

/// The warning for `base`, when its tag is a plain release (`v3.15.0`).
pub fn enterprise_warning(base: &str) -> Option<String> {
    let without_digest = base.split('@').next().unwrap_or(base);
    let (repo, tag) = without_digest.rsplit_once(':').filter(|(_, t)| !t.contains('/'))?;
    if !is_plain_release(tag) {
        return None;
    }
    Some(format!(
        "base image {without_digest} contains enterprise/, whose daily plan reconciliation resets the branding \
         rows (installation name, logos, brand URLs) to Chatwoot's on the community plan; \
         use {repo}:{tag}-ce ([image] base in brand.toml), which has no enterprise/"
    ))
}

/// Prints [`enterprise_warning`] on stderr, at most once per process.
pub fn warn_if_enterprise(base: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if let Some(w) = enterprise_warning(base)
        && !WARNED.swap(true, Ordering::SeqCst)
    {
        eprintln!("warning: {w}");
    }
}

/// `v1.2.3` or `1.2.3`, nothing after.
fn is_plain_release(tag: &str) -> bool {
    let parts: Vec<&str> = tag.strip_prefix('v').unwrap_or(tag).split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_release_tags_warn_ce_tags_do_not() {
        let w = enterprise_warning("chatwoot/chatwoot:v3.15.0").unwrap();
        assert!(w.contains("chatwoot/chatwoot:v3.15.0-ce") && w.contains("enterprise/"), "{w}");
        assert!(enterprise_warning("localhost:5000/chatwoot/chatwoot:v3.15.0@sha256:ab").is_some());
        assert!(enterprise_warning("chatwoot/chatwoot:3.15.0").is_some());
        for quiet in [
            "chatwoot/chatwoot:v3.15.0-ce",
            "chatwoot/chatwoot",
            "chatwoot/chatwoot:latest",
            "localhost:5000/chatwoot",
            "chatwoot/chatwoot:v3.15",
        ] {
            assert!(enterprise_warning(quiet).is_none(), "{quiet}");
        }
    }
}
