//! Which Chatwoot edition a base image is, from its tag: the one edition
//! check. The plain release images (`v3.15.0`, or `3.15.0`) carry
//! `enterprise/`, whose daily plan reconciliation
//! (`Internal::ReconcilePlanConfigService`) resets the branding rows
//! (installation name, logos, brand URLs) to the stock values on the
//! community plan; the `-ce` images have no `enterprise/`. Every command that
//! builds, deploys or brands from a base uses [`enterprise`].

use std::sync::atomic::{AtomicBool, Ordering};

use crate::image_ref::ImageRef;

/// A base image that carries `enterprise/`, and what to use instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enterprise {
    /// The base, without its digest.
    pub base: String,
    /// The same release's community edition (`…:v3.15.0-ce`).
    pub ce: String,
}

impl Enterprise {
    /// What the reconciliation does to a branded install.
    pub fn message(&self) -> String {
        format!(
            "base image {} contains enterprise/, whose daily plan reconciliation \
             (Internal::ReconcilePlanConfigService) resets the branding rows (installation name, logos, \
             brand URLs) to Chatwoot's on the community plan",
            self.base
        )
    }

    pub fn fix(&self) -> String {
        format!("use {} ([image] base in brand.toml), which has no enterprise/", self.ce)
    }
}

/// `Some` when `base`'s tag is a plain release (`v1.2.3` or `1.2.3`).
pub fn enterprise(base: &str) -> Option<Enterprise> {
    let r = ImageRef::parse(base).ok()?;
    let tag = r.tag()?;
    is_plain_release(tag).then(|| Enterprise { base: r.without_digest(), ce: format!("{}:{tag}-ce", r.repository()) })
}

/// The one-line warning for `base` (message and fix), when it has `enterprise/`.
pub fn enterprise_warning(base: &str) -> Option<String> {
    enterprise(base).map(|e| format!("{}; {}", e.message(), e.fix()))
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

/// `v1.2.3` or `1.2.3`, nothing after: Docker Hub publishes both spellings
/// of a release, and both are the enterprise-carrying image.
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
        let d = format!("sha256:{}", "ab".repeat(32));
        let e = enterprise(&format!("localhost:5000/chatwoot/chatwoot:v3.15.0@{d}")).unwrap();
        assert_eq!(e.base, "localhost:5000/chatwoot/chatwoot:v3.15.0");
        assert_eq!(e.ce, "localhost:5000/chatwoot/chatwoot:v3.15.0-ce");
        assert_eq!(enterprise("chatwoot/chatwoot:3.15.0").unwrap().ce, "chatwoot/chatwoot:3.15.0-ce");
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
