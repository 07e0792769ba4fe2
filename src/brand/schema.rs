//! The raw `brand.toml` (schema v1) as written by users. Every field is
//! optional here so that validation can report all missing fields at once.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBrandFile {
    pub schema: Option<u32>,
    #[serde(default)]
    pub brand: RawBrand,
    #[serde(default)]
    pub urls: RawUrls,
    #[serde(default)]
    pub colors: RawColors,
    #[serde(default)]
    pub logos: RawLogos,
    #[serde(default)]
    pub mail: RawMail,
    #[serde(default)]
    pub links: BTreeMap<String, String>,
    #[serde(default)]
    pub image: RawImage,
    #[serde(default)]
    pub stack: RawStack,
    /// `[strings.<locale>]`: message key → the brand's wording.
    #[serde(default)]
    pub strings: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBrand {
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub company: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUrls {
    pub home: Option<String>,
    pub app: Option<String>,
    pub help: Option<String>,
    pub terms: Option<String>,
    pub privacy: Option<String>,
    pub widget: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColors {
    pub primary: Option<String>,
    #[serde(default)]
    pub palette: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogos {
    pub light: Option<String>,
    pub dark: Option<String>,
    pub mark: Option<String>,
    pub icon_background: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMail {
    pub sender: Option<String>,
    pub layout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImage {
    pub repository: Option<String>,
    pub base: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStack {
    pub domain: Option<String>,
    /// Prefix of the stack's Docker names; default: the pack directory name.
    pub name: Option<String>,
    /// The external overlay network Traefik shares; default `minha_rede`.
    pub network: Option<String>,
    pub smtp_address: Option<String>,
    pub smtp_port: Option<i64>,
    pub smtp_username: Option<String>,
}
