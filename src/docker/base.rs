//! Finds the base image on the daemon (pulling it when absent) and
//! describes it as a [`BaseImage`].

use futures_util::StreamExt;
use serde_json::Value;

use super::{Daemon, fail, short, status};
use crate::base::{BaseImage, canonical, parse_rfc3339, rfc3339};
use crate::error::{Error, Result};
use crate::image_ref::ImageRef;
use crate::progress::Stage;

/// Inspects `reference`; pulls it first when the daemon does not have it.
pub async fn resolve(
    daemon: &Daemon,
    reference: &ImageRef,
    platform: Option<&str>,
    stage: &Stage<'_>,
) -> Result<BaseImage> {
    let pull_first = async {
        stage.message(format!("{reference} is not on the daemon; pulling"));
        pull(daemon, reference, platform, stage).await
    };
    describe(daemon, reference.as_str(), Some(pull_first)).await
}

/// Describes an image the daemon already has; never pulls (an audit reads
/// what is there).
pub async fn local(daemon: &Daemon, reference: &str) -> Result<BaseImage> {
    describe(daemon, reference, None::<std::future::Ready<Result<()>>>).await
}

async fn describe(
    daemon: &Daemon,
    reference: &str,
    pull_first: Option<impl Future<Output = Result<()>>>,
) -> Result<BaseImage> {
    let inspect = match daemon.docker.inspect_image(reference).await {
        Ok(i) => i,
        Err(e) if status(&e) == Some(404) => match pull_first {
            Some(pull) => {
                pull.await?;
                daemon.docker.inspect_image(reference).await.map_err(|e| fail(&format!("inspecting {reference}"), e))?
            }
            None => {
                return Err(Error::Docker {
                    action: format!("reading image {reference}"),
                    message: "the daemon has no such image (and no such directory exists here)".into(),
                    fix: "check `docker images`, load or pull the image first, or give an extracted directory".into(),
                });
            }
        },
        Err(e) => return Err(fail(&format!("inspecting image {reference}"), e)),
    };
    let id = inspect.id.clone().unwrap_or_default();
    let diff_ids = inspect.root_fs.as_ref().and_then(|r| r.layers.clone()).unwrap_or_default();
    // An image ID names no repository: then no repo digest is picked.
    let repo = ImageRef::parse(reference).map(|r| r.repository().to_string()).unwrap_or_default();
    let repo_digest = inspect.repo_digests.unwrap_or_default().into_iter().find(|d| {
        ImageRef::parse(d).is_ok_and(|d| d.repository() == repo || d.repository() == format!("docker.io/{repo}"))
    });
    let config = inspect.config.map(|c| serde_json::to_value(c).expect("config serialises")).unwrap_or(Value::Null);
    let history = match daemon.docker.image_history(&id).await {
        Ok(items) => {
            history(items.into_iter().map(|h| (h.created, h.created_by, h.comment, h.size)).collect(), diff_ids.len())
        }
        Err(_) => Vec::new(),
    };
    Ok(BaseImage {
        reference: reference.to_string(),
        created: inspect.created.as_deref().and_then(parse_rfc3339).unwrap_or(0),
        os: inspect.os.unwrap_or_else(|| "linux".into()),
        architecture: inspect.architecture.unwrap_or_default(),
        variant: inspect.variant.filter(|v| !v.is_empty()),
        id,
        repo_digest,
        diff_ids,
        config: canonical(config),
        history,
    })
}

/// The daemon's history (newest first) as image-config entries (oldest
/// first). Entries of size 0 are taken as empty layers; when that does not
/// add up to the layer count, no history is better than a wrong one.
fn history(items: Vec<(i64, String, String, i64)>, layers: usize) -> Vec<Value> {
    let entries: Vec<Value> = items
        .into_iter()
        .rev()
        .map(|(created, by, comment, size)| {
            let mut e = serde_json::json!({ "created": rfc3339(created.max(0) as u64), "created_by": by });
            if !comment.is_empty() {
                e["comment"] = Value::String(comment);
            }
            if size == 0 {
                e["empty_layer"] = Value::Bool(true);
            }
            e
        })
        .collect();
    let non_empty = entries.iter().filter(|e| e.get("empty_layer").is_none()).count();
    if non_empty == layers { entries } else { Vec::new() }
}

async fn pull(daemon: &Daemon, reference: &ImageRef, platform: Option<&str>, stage: &Stage<'_>) -> Result<()> {
    let mut opts = bollard::query_parameters::CreateImageOptionsBuilder::default().from_image(reference.repository());
    opts = opts.tag(reference.digest().unwrap_or(reference.tag_or_latest()));
    if let Some(p) = platform {
        opts = opts.platform(p);
    }
    let mut stream = daemon.docker.create_image(Some(opts.build()), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(s) = info.status {
                    stage.message(format!("pulling {reference}: {s}"));
                }
            }
            Err(e) => {
                return Err(Error::Docker {
                    action: format!("base image {reference} is not on the daemon and could not be pulled"),
                    message: short(&e),
                    fix: format!(
                        "`docker pull {reference}` where the registry is reachable and `docker save`/`docker load` it here, \
                         or pass --base-dir with an extracted /app tree"
                    ),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lines_up_with_layers_or_is_dropped() {
        let items = vec![
            (20, "COPY".to_string(), String::new(), 5),
            (10, "ENV".into(), String::new(), 0),
            (5, "ADD".into(), "x".into(), 9),
        ];
        let h = history(items.clone(), 2);
        assert_eq!(h.len(), 3);
        assert_eq!(h[0]["created_by"], "ADD");
        assert_eq!(h[1]["empty_layer"], true);
        assert!(history(items, 3).is_empty());
    }
}
