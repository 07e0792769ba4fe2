//! What whitelabel knows about a base image once the daemon has described it:
//! the facts the labels, the input hash and an assembled image config need.
//! Filled by the Docker side (`docker::base`), read by everything after it.

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct BaseImage {
    /// The reference the user gave (`chatwoot/chatwoot:v3.15.0`).
    pub reference: String,
    /// `sha256:<hex>`: the image ID, which the extraction cache is keyed by.
    pub id: String,
    /// `repo@sha256:…` of the reference's repository, when the daemon knows one.
    pub repo_digest: Option<String>,
    /// Creation time, seconds since the epoch.
    pub created: u64,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    /// The layers' uncompressed digests, bottom first.
    pub diff_ids: Vec<String>,
    /// The container config (`Env`, `Cmd`, `Entrypoint`, `Labels`, …) as the
    /// daemon reports it.
    pub config: Value,
    /// History entries in image-config form, oldest first (empty when the
    /// daemon's history does not line up with the layers).
    pub history: Vec<Value>,
}

impl BaseImage {
    /// What to write in `FROM`/`BASE_IMAGE` for other builders: the
    /// reference pinned by digest when there is one.
    pub fn pinned(&self) -> String {
        match &self.repo_digest {
            Some(d) => d.clone(),
            None => self.reference.clone(),
        }
    }

    /// `org.opencontainers.image.base.digest`: the manifest digest when the
    /// image came from a registry, else the image ID.
    pub fn digest(&self) -> String {
        self.repo_digest
            .as_deref()
            .and_then(|d| crate::image_ref::ImageRef::parse(d).ok())
            .and_then(|r| r.digest().map(str::to_string))
            .unwrap_or(self.id.clone())
    }

    /// `linux/amd64[/v8]`.
    pub fn platform(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// Seconds since the epoch as RFC 3339 (`1970-01-01T00:00:00Z`).
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).to_string()
}

/// RFC 3339 with any fraction → whole seconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339_weak(s).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
}

/// Sorts every object's keys, so a config serialises the same whatever map
/// the daemon's client used (the image ID is the digest of those bytes).
pub fn canonical(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, canonical(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339("2024-05-01T12:34:56.123456789Z"), Some(1714566896));
        assert_eq!(parse_rfc3339(&rfc3339(1714566896)), Some(1714566896));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn canonical_sorts_nested_keys() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":{"d":[{"z":1,"y":2}],"c":3}}"#).unwrap();
        assert_eq!(serde_json::to_string(&canonical(v)).unwrap(), r#"{"a":{"c":3,"d":[{"y":2,"z":1}]},"b":1}"#);
    }
}
