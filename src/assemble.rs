//! An image assembled without a builder: the overlay as one deterministic
//! layer, an image config written here with fixed times, and a
//! `docker load` archive whose manifest lists the base layers by name
//! without their tars (the daemon already has them). The image ID is the
//! sha256 of the config bytes, so the same inputs give the same ID on every
//! daemon that has the base.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};

use serde_json::{Value, json};

use crate::archive::{self, Content, Meta};
use crate::base::{BaseImage, canonical, rfc3339};

/// One layer tar, ready to go into an archive.
pub struct Layer {
    pub tar: Vec<u8>,
    /// `sha256:` of the uncompressed tar.
    pub diff_id: String,
}

/// The overlay as a layer under `root` (`/app`), in memory. Files and
/// directories the base has keep its mode and owner (`meta`); new ones get
/// 0644/0755 root.
pub fn layer<'a>(
    root: &str,
    files: impl IntoIterator<Item = (&'a str, Content<'a>)>,
    epoch: u64,
    meta: &BTreeMap<String, Meta>,
) -> io::Result<Layer> {
    let (tar, diff_id, _) = write_layer(Vec::new(), root, files, epoch, meta)?;
    Ok(Layer { tar, diff_id })
}

/// [`layer`] into any writer (a file, for large trees); returns the writer,
/// the diff ID and the size.
pub fn write_layer<'a, W: Write>(
    out: W,
    root: &str,
    files: impl IntoIterator<Item = (&'a str, Content<'a>)>,
    epoch: u64,
    meta: &BTreeMap<String, Meta>,
) -> io::Result<(W, String, u64)> {
    // Paths come relative to the app root; its ancestors get the defaults.
    let hashing =
        archive::write_tree(archive::Sha256Writer::new(out), root.trim_matches('/'), files, epoch, |rel, dir| {
            meta.get(rel).copied().unwrap_or(if dir { Meta::DIR } else { Meta::FILE })
        })?;
    Ok(hashing.finish())
}

/// The new image's config: the base's, plus the layer `diff_id`, `labels` merged
/// into the base's labels, a history entry, and `created` fixed.
pub fn config(
    base: Option<&BaseImage>,
    diff_id: &str,
    labels: &BTreeMap<String, String>,
    epoch: u64,
    comment: &str,
) -> Value {
    let created = rfc3339(epoch);
    let (mut cfg, mut diff_ids, mut history, os, arch, variant) = match base {
        Some(b) => (
            b.config.clone(),
            b.diff_ids.clone(),
            b.history.clone(),
            b.os.clone(),
            b.architecture.clone(),
            b.variant.clone(),
        ),
        None => (json!({}), Vec::new(), Vec::new(), "linux".into(), host_architecture().into(), None),
    };
    if !cfg.is_object() {
        cfg = json!({});
    }
    let obj = cfg.as_object_mut().expect("object");
    let mut all: BTreeMap<String, Value> = match obj.remove("Labels") {
        Some(Value::Object(m)) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    for (k, v) in labels {
        all.insert(k.clone(), Value::String(v.clone()));
    }
    if !all.is_empty() {
        obj.insert("Labels".into(), Value::Object(all.into_iter().collect()));
    }
    diff_ids.push(diff_id.to_string());
    history.push(json!({ "created": created, "created_by": comment }));
    let mut image = json!({
        "architecture": arch,
        "config": cfg,
        "created": created,
        "history": history,
        "os": os,
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    });
    if let Some(v) = variant {
        image["variant"] = Value::String(v);
    }
    canonical(image)
}

/// The config bytes as written, and the image ID they give.
pub fn config_bytes(config: &Value) -> (Vec<u8>, String) {
    let bytes = serde_json::to_vec(config).expect("config serialises");
    let id = archive::sha256(&bytes);
    (bytes, id)
}

/// Writes the `docker load` archive: `manifest.json`, the config, and the
/// new layer's tar (`diff_id` names it). Base layers are named in the
/// manifest only.
pub fn write_archive<W: Write>(out: W, config: &[u8], image_id: &str, diff_id: &str, layer: Content) -> io::Result<W> {
    let hex = |d: &str| d.trim_start_matches("sha256:").to_string();
    let v: Value = serde_json::from_slice(config).map_err(io::Error::other)?;
    let diff_ids: Vec<String> = v["rootfs"]["diff_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d.as_str()).map(String::from).collect())
        .unwrap_or_default();
    let layers: Vec<String> = diff_ids.iter().map(|d| format!("{}/layer.tar", hex(d))).collect();
    let config_name = format!("{}.json", hex(image_id));
    let manifest = serde_json::to_vec(&json!([{ "Config": config_name, "RepoTags": null, "Layers": layers }]))
        .expect("manifest serialises");
    let layer_name = format!("{}/layer.tar", hex(diff_id));
    let files = [
        ("manifest.json", Content::Bytes(&manifest)),
        (config_name.as_str(), Content::Bytes(config)),
        (layer_name.as_str(), layer),
    ];
    archive::write_tree(out, "", files, 0, |_, dir| if dir { Meta::DIR } else { Meta::FILE })
}

/// Reads a `docker load` archive back: the config named by its manifest and
/// the member names (tests and `--json` diagnostics).
pub fn read_archive(mut r: impl Read) -> io::Result<(Value, Vec<String>)> {
    let mut all = Vec::new();
    r.read_to_end(&mut all)?;
    let mut names = Vec::new();
    let mut members = BTreeMap::new();
    for e in tar::Archive::new(&all[..]).entries()? {
        let mut e = e?;
        let name = e.path()?.to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data)?;
        names.push(name.clone());
        members.insert(name, data);
    }
    let manifest: Value =
        serde_json::from_slice(members.get("manifest.json").ok_or(io::Error::other("no manifest.json"))?)
            .map_err(io::Error::other)?;
    let config_name = manifest[0]["Config"].as_str().unwrap_or_default().to_string();
    let config = serde_json::from_slice(members.get(&config_name).ok_or(io::Error::other("no config"))?)
        .map_err(io::Error::other)?;
    Ok((config, names))
}

/// Docker's name for this machine's architecture (imports without a base).
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseImage {
        BaseImage {
            reference: "chatwoot/chatwoot:v3.15.0".into(),
            id: "sha256:aa".into(),
            repo_digest: None,
            created: 1_700_000_000,
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
            diff_ids: vec!["sha256:1111".into(), "sha256:2222".into()],
            config: json!({"WorkingDir": "/app", "Labels": {"maintainer": "upstream"}, "Cmd": ["rails", "s"]}),
            history: vec![],
        }
    }

    #[test]
    fn same_inputs_same_id_and_labels_merge() {
        let files = || [("public/brand-assets/logo.svg", Content::Bytes(b"<svg/>"))];
        let l1 = layer("/app", files(), 5, &BTreeMap::new()).unwrap();
        let l2 = layer("/app", files(), 5, &BTreeMap::new()).unwrap();
        assert_eq!(l1.diff_id, l2.diff_id);
        let labels = BTreeMap::from([("io.whitelabel.brand".to_string(), "nexa".to_string())]);
        let c = config(Some(&base()), &l1.diff_id, &labels, 5, "whitelabel");
        let (bytes, id) = config_bytes(&c);
        assert_eq!(config_bytes(&config(Some(&base()), &l2.diff_id, &labels, 5, "whitelabel")).1, id);
        assert_eq!(c["rootfs"]["diff_ids"][2], json!(l1.diff_id));
        assert_eq!(c["config"]["Labels"]["maintainer"], "upstream");
        assert_eq!(c["config"]["Labels"]["io.whitelabel.brand"], "nexa");
        assert_eq!(c["created"], "1970-01-01T00:00:05Z");
        // A different time is a different image.
        assert_ne!(config_bytes(&config(Some(&base()), &l1.diff_id, &labels, 6, "whitelabel")).1, id);

        let archive = write_archive(Vec::new(), &bytes, &id, &l1.diff_id, Content::Bytes(&l1.tar)).unwrap();
        let (back, names) = read_archive(&archive[..]).unwrap();
        assert_eq!(back, c);
        let layer_name = format!("{}/layer.tar", l1.diff_id.trim_start_matches("sha256:"));
        assert!(names.contains(&layer_name), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("1111")), "base layers are not in the archive: {names:?}");
    }

    #[test]
    fn layer_keeps_base_owner_and_mode() {
        let meta = BTreeMap::from([
            ("public".to_string(), Meta { mode: 0o775, uid: 1000, gid: 1000 }),
            ("public/a.js".to_string(), Meta { mode: 0o600, uid: 1000, gid: 1000 }),
        ]);
        let l =
            layer("/app", [("public/a.js", Content::Bytes(b"x")), ("public/new.ico", Content::Bytes(b"y"))], 0, &meta)
                .unwrap();
        let mut a = tar::Archive::new(&l.tar[..]);
        let got: Vec<(String, u32, u64)> = a
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().mode().unwrap(),
                    e.header().uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("app/".to_string(), 0o755, 0),
                ("app/public/".to_string(), 0o775, 1000),
                ("app/public/a.js".to_string(), 0o600, 1000),
                ("app/public/new.ico".to_string(), 0o644, 0)
            ]
        );
    }
}
