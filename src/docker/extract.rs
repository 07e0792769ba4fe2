//! Reads paths out of an image: create a container (never started), download
//! each path as a tar, unpack it into a cache entry, remove the container.
//! The container is registered with [`Cleanup`] the moment it exists, so it
//! goes away on errors and Ctrl-C too.

use std::io::Write;
use std::path::{Component, Path};

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use futures_util::StreamExt;

use super::{Cleanup, Daemon, fail, status};
use crate::archive::Meta;
use crate::cache::{Entry, Manifest};
use crate::error::{Error, Result};
use crate::progress::Stage;

/// The label extraction containers carry (`docker ps -a --filter label=…`).
pub const LABEL: &str = "io.whitelabel.extract";
/// Who created one (`host/pid`): a later run removes those of dead runs.
pub const OWNER_LABEL: &str = "io.whitelabel.extract.owner";

/// Extracts `paths` (relative to `root`) from `image_id` into `entry`.
pub async fn extract(
    daemon: &Daemon,
    image_id: &str,
    root: &str,
    paths: &[String],
    entry: &Entry,
    cleanup: &Cleanup,
    stage: &Stage<'_>,
) -> Result<Manifest> {
    collect_stale(daemon).await;
    let staging = entry.staging()?;
    let app = staging.path().join("app");
    std::fs::create_dir_all(&app).map_err(|e| Error::io("creating", &app, e))?;

    // A shell-less image has no default command; any command will do, it never runs.
    let body = ContainerCreateBody {
        image: Some(image_id.to_string()),
        cmd: Some(vec!["/whitelabel-extract-never-runs".into()]),
        entrypoint: Some(vec![]),
        labels: Some(
            [(LABEL.to_string(), "1".to_string()), (OWNER_LABEL.to_string(), crate::interrupt::owner())].into(),
        ),
        network_disabled: Some(true),
        ..Default::default()
    };
    let created = daemon
        .docker
        .create_container(None::<bollard::query_parameters::CreateContainerOptions>, body)
        .await
        .map_err(|e| fail(&format!("creating an extraction container from {image_id}"), e))?;
    cleanup.container(&created.id);

    let mut manifest = Manifest { image: image_id.to_string(), ..Default::default() };
    let result = download_all(daemon, &created.id, root, paths, staging.path(), &mut manifest, stage).await;
    manifest.missing = paths.iter().filter(|p| !has_any(&manifest.meta, p)).cloned().collect();
    // Removed here on the normal path; Cleanup covers errors and interruptions.
    cleanup.remove_container(daemon, &created.id).await;
    result?;
    entry.commit(staging, &manifest)?;
    Ok(manifest)
}

/// Removes the extraction containers a killed run (SIGKILL) of this machine
/// left behind. Best effort: a failure here only leaves them for next time.
async fn collect_stale(daemon: &Daemon) {
    let filters = std::collections::HashMap::from([("label".to_string(), vec![LABEL.to_string()])]);
    let opts = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    let Ok(containers) = daemon.docker.list_containers(Some(opts)).await else { return };
    for c in containers {
        let gone = c.labels.as_ref().and_then(|l| l.get(OWNER_LABEL)).is_some_and(|o| crate::interrupt::owner_gone(o));
        if let (true, Some(id)) = (gone, c.id) {
            let _ = super::remove_container(daemon, &id).await;
        }
    }
}

async fn download_all(
    daemon: &Daemon,
    container: &str,
    root: &str,
    paths: &[String],
    staging: &Path,
    manifest: &mut Manifest,
    stage: &Stage<'_>,
) -> Result<()> {
    // The daemon mounts the container for each request (~70 ms): ask for
    // shared top-level directories once, and in parallel.
    let requests = requests(paths);
    let moved = std::sync::atomic::AtomicU64::new(0);
    let downloads = futures_util::stream::iter(requests.iter().enumerate())
        .map(|(i, rel)| {
            let tar_path = staging.join(format!("download-{i}.tar"));
            let moved = &moved;
            async move {
                let full = format!("{}/{}", root.trim_end_matches('/'), rel.trim_matches('/'));
                let opts = DownloadFromContainerOptionsBuilder::default().path(&full).build();
                let mut stream = daemon.docker.download_from_container(container, Some(opts));
                let mut file = std::fs::File::create(&tar_path).map_err(|e| Error::io("creating", &tar_path, e))?;
                while let Some(chunk) = stream.next().await {
                    match chunk {
                        Ok(bytes) => {
                            file.write_all(&bytes).map_err(|e| Error::io("writing", &tar_path, e))?;
                            let n = moved.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                            stage.bytes("read", n + bytes.len() as u64, None);
                        }
                        Err(e) if status(&e) == Some(404) => return Ok((rel, None)),
                        Err(e) => return Err(fail(&format!("reading {full} from the base image"), e)),
                    }
                }
                Ok((rel, Some(tar_path)))
            }
        })
        .buffered(4)
        .collect::<Vec<Result<_>>>()
        .await;
    manifest.bytes = moved.into_inner();
    for result in downloads {
        match result? {
            (_, None) => {}
            (rel, Some(tar_path)) => {
                // The archive's top entry is the last component of the path; it lands under its parent.
                let parent = rel.trim_matches('/').rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default();
                unpack(&tar_path, &staging.join("app"), &parent, paths, manifest)?;
                let _ = std::fs::remove_file(&tar_path);
            }
        }
    }
    Ok(())
}

/// Unpacks regular files and directories only, refusing any entry that would
/// land outside `dest`, and records each one's mode and owner.
fn unpack(tar_path: &Path, dest: &Path, parent: &str, wanted: &[String], manifest: &mut Manifest) -> Result<()> {
    let bad = |e: std::io::Error| Error::io("unpacking the base files from", tar_path, e);
    let file = std::fs::File::open(tar_path).map_err(bad)?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        if path.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
            continue;
        }
        let name = path.components().filter_map(|c| c.as_os_str().to_str()).collect::<Vec<_>>().join("/");
        let rel = if parent.is_empty() { name } else { format!("{parent}/{name}") };
        if !wanted.iter().any(|w| within(&rel, w) || within(w, &rel)) {
            continue;
        }
        let h = entry.header();
        let meta =
            Meta { mode: h.mode().map_err(bad)? & 0o7777, uid: h.uid().map_err(bad)?, gid: h.gid().map_err(bad)? };
        let target = dest.join(&rel);
        match h.entry_type() {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target).map_err(|e| Error::io("creating", &target, e))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
                }
                let mut out = std::fs::File::create(&target).map_err(|e| Error::io("writing", &target, e))?;
                std::io::copy(&mut entry, &mut out).map_err(|e| Error::io("writing", &target, e))?;
            }
            // Links and devices are not base files a rule can read.
            _ => continue,
        }
        manifest.meta.insert(rel, meta);
    }
    Ok(())
}

/// What to ask the daemon for: an extract path, or its top-level directory
/// when several extract paths share it (one request instead of several).
fn requests(paths: &[String]) -> Vec<String> {
    let top = |p: &str| p.trim_matches('/').split('/').next().unwrap_or_default().to_string();
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let shared = paths.iter().filter(|q| top(q) == top(p)).count() > 1;
        let r = if shared { top(p) } else { p.trim_matches('/').to_string() };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// `path` is `dir` or below it.
fn within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_matches('/');
    path == dir || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// Something under `path` was extracted.
fn has_any(meta: &std::collections::BTreeMap<String, Meta>, path: &str) -> bool {
    meta.keys().any(|k| within(k, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_top_directories_are_one_request() {
        let paths: Vec<String> =
            ["public", "app/views", "app/mailers", "config/locales", "config/features.yml", "lib/x.rb"]
                .map(String::from)
                .into();
        assert_eq!(requests(&paths), ["public", "app", "config", "lib/x.rb"]);
        assert!(within("config/locales/en.yml", "config/locales"));
        assert!(!within("config/localesx", "config/locales"));
        assert!(within("config", "config"));
    }
}
