//! Image references (`[host[:port]/]path[:tag][@digest]`), parsed by
//! `oci-spec`'s distribution grammar (the one the registry and the docker
//! CLI use), and kept as written: whitelabel prints and sends references the
//! way the user gave them (`chatwoot/chatwoot:v3.15.0`, not the normalized
//! `docker.io/chatwoot/chatwoot:v3.15.0`). Every split of a reference into
//! repository, tag and digest goes through [`ImageRef`].

use std::fmt;

use oci_spec::distribution::Reference;

/// A parsed image reference, keeping its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    text: String,
    /// The repository as written (no tag, no digest).
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    /// The registry host, `docker.io` when none is written.
    registry: String,
}

impl ImageRef {
    /// Parses `s`; the error says what is wrong with it.
    pub fn parse(s: &str) -> Result<ImageRef, String> {
        let parsed = Reference::try_from(s).map_err(|e| format!("`{s}` is not an image reference: {e}"))?;
        let without_digest = match parsed.digest() {
            Some(d) => s.strip_suffix(d).and_then(|r| r.strip_suffix('@')).unwrap_or(s),
            None => s,
        };
        // oci-spec fills `latest` when neither tag nor digest is written:
        // only a tag that is in the text counts as written.
        let tag = parsed.tag().filter(|t| without_digest.ends_with(&format!(":{t}"))).map(str::to_string);
        let repository = match &tag {
            Some(t) => &without_digest[..without_digest.len() - t.len() - 1],
            None => without_digest,
        };
        if repository.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(format!("`{s}` is not an image reference: the repository must be lower case"));
        }
        Ok(ImageRef {
            text: s.to_string(),
            repository: repository.to_string(),
            tag,
            digest: parsed.digest().map(str::to_string),
            registry: parsed.registry().to_string(),
        })
    }

    /// The reference as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `host:5000/a/b` of `host:5000/a/b:tag@sha256:…`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag as written, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The tag, `latest` when none is written (what a pull of the name gets).
    pub fn tag_or_latest(&self) -> &str {
        self.tag().unwrap_or("latest")
    }

    /// `sha256:…`, if the reference pins one.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The last path component of the repository (`chatwoot`).
    pub fn name(&self) -> &str {
        self.repository.rsplit('/').next().unwrap_or(&self.repository)
    }

    /// The registry host as Docker resolves it (`docker.io` when none).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// `repository:tag`, without the digest.
    pub fn without_digest(&self) -> String {
        match self.tag() {
            Some(t) => format!("{}:{t}", self.repository),
            None => self.repository.clone(),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for ImageRef {
    type Err = String;
    fn from_str(s: &str) -> Result<ImageRef, String> {
        ImageRef::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn splits_every_shape_as_written() {
        let r = ImageRef::parse(&format!("127.0.0.1:5000/nexa/chatwoot:v1-nexa@{D}")).unwrap();
        assert_eq!(
            (r.repository(), r.tag(), r.digest(), r.registry(), r.name()),
            ("127.0.0.1:5000/nexa/chatwoot", Some("v1-nexa"), Some(D), "127.0.0.1:5000", "chatwoot")
        );
        assert_eq!(r.without_digest(), "127.0.0.1:5000/nexa/chatwoot:v1-nexa");
        let r = ImageRef::parse("localhost:5000/chatwoot").unwrap();
        assert_eq!((r.repository(), r.tag(), r.tag_or_latest()), ("localhost:5000/chatwoot", None, "latest"));
        assert_eq!(r.registry(), "localhost:5000");
        let r = ImageRef::parse("chatwoot/chatwoot:v3.15.0").unwrap();
        assert_eq!((r.repository(), r.tag(), r.registry()), ("chatwoot/chatwoot", Some("v3.15.0"), "docker.io"));
        assert_eq!(r.to_string(), "chatwoot/chatwoot:v3.15.0", "printed as written, not normalized");
        let r = ImageRef::parse(&format!("nexa/chatwoot@{D}")).unwrap();
        assert_eq!((r.repository(), r.tag(), r.digest()), ("nexa/chatwoot", None, Some(D)));
        let r = ImageRef::parse("registry.nexateam.com.br/nexa/chatwoot:latest").unwrap();
        assert_eq!(r.tag(), Some("latest"));
    }

    #[test]
    fn refuses_what_docker_refuses() {
        for bad in [
            "",
            "chatwoot/chatwoot:",
            "Nexa/Chatwoot",
            "nexa/chatwoot@sha256:abc",
            "nexa/chatwoot@md5:0123456789abcdef0123456789abcdef",
            "a b",
            ":tag",
        ] {
            assert!(ImageRef::parse(bad).is_err(), "{bad}");
        }
    }
}
