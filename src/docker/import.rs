//! `--base-dir`: an extracted app tree imported as a base image. Unlike
//! `docker import` (which stamps the time, so every import is a new image),
//! the tree becomes one deterministic layer and an assembled config: the
//! same tree gives the same image ID, and an unchanged tree is not loaded
//! again.

use std::collections::BTreeMap;
use std::path::Path;

use super::Daemon;
use crate::archive::{Content, Meta};
use crate::assemble;
use crate::error::{Error, Result};
use crate::identity;
use crate::progress::Stage;

/// Imports an extracted app tree as an image, deterministically (same tree,
/// same image ID), tagged `reference`. Skipped when the daemon has it.
pub async fn import_dir(daemon: &Daemon, dir: &Path, reference: &str, root: &str, stage: &Stage<'_>) -> Result<()> {
    if !dir.is_dir() {
        return Err(Error::usage(
            format!("--base-dir {} is not a directory", dir.display()),
            "pass the extracted /app directory of the base image",
        ));
    }
    stage.message(format!("importing {}", dir.display()));
    let epoch = identity::epoch(0)?;
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(false).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::io("reading", dir, e.into()))?;
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).expect("below dir");
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            use std::os::unix::fs::PermissionsExt;
            let exec = entry.metadata().map(|m| m.permissions().mode() & 0o111 != 0).unwrap_or(false);
            files.push((rel, entry.path().to_path_buf(), exec));
        }
    }
    let meta: BTreeMap<String, Meta> =
        files.iter().filter(|f| f.2).map(|(rel, _, _)| (rel.clone(), Meta { mode: 0o755, uid: 0, gid: 0 })).collect();
    let layer =
        assemble::layer(root, files.iter().map(|(rel, path, _)| (rel.as_str(), Content::File(path))), epoch, &meta)
            .map_err(|e| Error::io("reading the tree under", dir, e))?;
    let labels = BTreeMap::from([("io.whitelabel.imported".to_string(), "1".to_string())]);
    let mut config = assemble::config(None, &layer, &labels, epoch, "whitelabel: imported app tree");
    config["config"]["WorkingDir"] = serde_json::Value::String(root.to_string());
    let (config, id) = assemble::config_bytes(&config);
    if daemon.docker.inspect_image(&id).await.is_err() {
        let archive = assemble::write_archive(Vec::new(), &config, &id, &layer)
            .map_err(|e| Error::io("writing the image archive", "memory", e))?;
        super::load::load(daemon, archive, &id, stage).await?;
    }
    daemon.tag(&id, reference).await
}
