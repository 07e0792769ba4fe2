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
use crate::image_ref::ImageRef;
use crate::progress::Stage;

/// Imports an extracted app tree as an image, deterministically (same tree,
/// same image ID), tagged `reference`. Skipped when the daemon has it.
pub async fn import_dir(
    daemon: &Daemon,
    dir: &Path,
    reference: &ImageRef,
    root: &str,
    stage: &Stage<'_>,
) -> Result<()> {
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
    // A real /app tree is hundreds of MB: layer and archive go through files.
    let tmp =
        tempfile::tempdir().map_err(|e| Error::io("creating a temporary directory in", std::env::temp_dir(), e))?;
    let layer_path = tmp.path().join("layer.tar");
    let create =
        |p: &Path| std::fs::File::create(p).map(std::io::BufWriter::new).map_err(|e| Error::io("creating", p, e));
    let files = files.iter().map(|(rel, path, _)| (rel.as_str(), Content::File(path)));
    let (out, diff_id, _) = assemble::write_layer(create(&layer_path)?, root, files, epoch, &meta)
        .map_err(|e| Error::io("reading the tree under", dir, e))?;
    out.into_inner().map_err(|e| Error::io("writing", &layer_path, e.into_error()))?;
    let labels = BTreeMap::from([("io.whitelabel.imported".to_string(), "1".to_string())]);
    let mut config = assemble::config(None, &diff_id, &labels, epoch, "whitelabel: imported app tree");
    config["config"]["WorkingDir"] = serde_json::Value::String(root.to_string());
    let (config, id) = assemble::config_bytes(&config);
    if daemon.docker.inspect_image(&id).await.is_err() {
        let archive_path = tmp.path().join("image.tar");
        let out = assemble::write_archive(create(&archive_path)?, &config, &id, &diff_id, Content::File(&layer_path))
            .map_err(|e| Error::io("writing", &archive_path, e))?;
        out.into_inner().map_err(|e| Error::io("writing", &archive_path, e.into_error()))?;
        std::fs::remove_file(&layer_path).map_err(|e| Error::io("removing", &layer_path, e))?;
        super::load::load_file(daemon, &archive_path, &id, stage).await?;
    }
    daemon.tag(&id, reference).await
}
