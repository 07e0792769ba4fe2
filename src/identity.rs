//! Who an image is: the input hash (base image + brand pack + patch set +
//! tool + build recipe), the labels it carries and the tag it gets by
//! default. Computed before anything is rendered, so an up-to-date image is
//! found without doing the work again.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::base::{BaseImage, rfc3339};
use crate::brand::Brand;
use crate::error::{Error, Result};
use crate::patchset::PatchSet;

/// The label every whitelabel image carries its input hash in.
pub const INPUT_LABEL: &str = "io.whitelabel.input";
/// The label carrying the brand id (the pack directory name).
pub const BRAND_LABEL: &str = "io.whitelabel.brand";

#[derive(Debug, Clone)]
pub struct Identity {
    /// Hex sha256 of everything the image is made from.
    pub input: String,
    /// Seconds since the epoch stamped on the new files and the config.
    pub epoch: u64,
    pub labels: BTreeMap<String, String>,
    /// `<repository>:v<version>-<brand>-<input[..12]>`.
    pub tag: String,
}

/// What goes into the hash besides the base, the brand and the patch set.
pub struct Recipe<'a> {
    /// `assemble` or `dockerfile`: the two give different image IDs.
    pub builder: &'a str,
    /// The Dockerfile template in `dockerfile` mode, empty otherwise.
    pub dockerfile: &'a str,
    pub epoch: u64,
    pub repository: &'a str,
}

pub fn identify(brand: &Brand, ps: &PatchSet, base: &BaseImage, recipe: &Recipe) -> Result<Identity> {
    let mut h = Sha256::new();
    for (k, v) in [
        ("tool", env!("CARGO_PKG_VERSION")),
        ("builder", recipe.builder),
        ("base", &base.id),
        ("brand", &brand.digest),
        ("patchset", &ps.digest),
        ("dockerfile", &hex::encode(Sha256::digest(recipe.dockerfile))),
        ("epoch", &recipe.epoch.to_string()),
    ] {
        h.update(format!("{k}={v}\n"));
    }
    let input = hex::encode(h.finalize());
    let slug = slug(&brand.id);
    let tag = format!("{}:v{}-{slug}-{}", recipe.repository, ps.version, &input[..12]);
    if !crate::brand::is_reference(&tag) {
        return Err(Error::usage(
            format!("the default tag `{tag}` is not a valid image reference"),
            "check [image].repository in brand.toml (or --repository)",
        ));
    }
    let oci = |k: &str| format!("org.opencontainers.image.{k}");
    let mut labels = BTreeMap::new();
    labels.insert(oci("title"), brand.name.clone());
    labels.insert(oci("version"), ps.version.clone());
    labels.insert(oci("vendor"), brand.company.clone());
    labels.insert(oci("url"), brand.urls.home.clone());
    labels.insert(oci("created"), rfc3339(recipe.epoch));
    labels.insert(oci("base.name"), base.reference.clone());
    if !base.id.is_empty() {
        labels.insert(oci("base.digest"), base.digest());
    }
    if !ps.source.is_empty() {
        labels.insert(oci("source"), ps.source.clone());
    }
    if !ps.revision.is_empty() {
        labels.insert(oci("revision"), ps.revision.clone());
    }
    labels.insert(BRAND_LABEL.into(), brand.id.clone());
    labels.insert("io.whitelabel.patchset".into(), ps.name.clone());
    labels.insert("io.whitelabel.version".into(), env!("CARGO_PKG_VERSION").into());
    labels.insert(INPUT_LABEL.into(), input.clone());
    Ok(Identity { input, epoch: recipe.epoch, labels, tag })
}

/// A brand id made safe for a tag: lower case, `[a-z0-9._-]`.
fn slug(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' { c } else { '-' })
        .collect();
    s.trim_matches(|c| c == '-' || c == '.').to_string()
}

/// The time stamped on new files and the image config: `SOURCE_DATE_EPOCH`
/// when set, else the base image's creation time. Not 0: a branded file
/// must not look older than the stock one it replaces, or a browser holding
/// the stock logo gets `304 Not Modified` when it revalidates.
pub fn epoch(base_created: u64) -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v.trim().parse().map_err(|_| {
            Error::usage(
                format!("SOURCE_DATE_EPOCH is `{v}`, not a number of seconds"),
                "set it to an integer (e.g. `git log -1 --format=%ct`) or unset it",
            )
        }),
        Err(_) => Ok(base_created),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_references() {
        assert_eq!(slug("Nexa Team"), "nexa-team");
    }
}
