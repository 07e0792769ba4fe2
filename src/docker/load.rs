//! Loads an assembled image archive (`docker load`) and checks the daemon
//! got the image ID the config promised. The archive carries no tag: the
//! caller tags only after the load succeeded.

use std::path::Path;

use bollard::models::BuildInfo;
use bollard::query_parameters::ImportImageOptionsBuilder;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncReadExt;

use super::{Daemon, short};
use crate::error::{Error, Result};
use crate::progress::Stage;

/// Loads an archive held in memory.
pub async fn load(daemon: &Daemon, archive: Vec<u8>, expected_id: &str, stage: &Stage<'_>) -> Result<()> {
    let opts = ImportImageOptionsBuilder::default().quiet(true).build();
    let stream = daemon.docker.import_image(opts, bollard::body_full(archive.into()), None);
    finish(daemon, stream, expected_id, stage).await
}

/// Loads an archive from a file, streamed (base imports are large).
pub async fn load_file(daemon: &Daemon, path: &Path, expected_id: &str, stage: &Stage<'_>) -> Result<()> {
    let file = tokio::fs::File::open(path).await.map_err(|e| Error::io("reading", path, e))?;
    let chunks = futures_util::stream::try_unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 1 << 20];
        let n = f.read(&mut buf).await?;
        buf.truncate(n);
        Ok::<_, std::io::Error>((n > 0).then(|| (Bytes::from(buf), f)))
    });
    let opts = ImportImageOptionsBuilder::default().quiet(true).build();
    let stream = daemon.docker.import_image(opts, bollard::body_try_stream(chunks), None);
    finish(daemon, stream, expected_id, stage).await
}

async fn finish(
    daemon: &Daemon,
    mut stream: impl Stream<Item = Result<BuildInfo, bollard::errors::Error>> + Unpin,
    expected_id: &str,
    stage: &Stage<'_>,
) -> Result<()> {
    let mut loaded = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                let line = info.stream.unwrap_or_default();
                if let Some(id) = line.trim().strip_prefix("Loaded image ID: ") {
                    loaded = Some(id.to_string());
                }
                if !line.trim().is_empty() {
                    stage.message(line.trim().to_string());
                }
            }
            Err(e) => {
                return Err(Error::Docker {
                    action: "the daemon refused the assembled image".into(),
                    message: short(&e),
                    fix: "nothing was tagged; check that the base image is still on the daemon, or use --builder dockerfile"
                        .into(),
                });
            }
        }
    }
    match loaded {
        Some(id) if id == expected_id => Ok(()),
        Some(id) => Err(Error::Docker {
            action: "the daemon loaded a different image than assembled".into(),
            message: format!("expected {expected_id}, got {id}"),
            fix: "this daemon rewrites image configs; use --builder dockerfile".into(),
        }),
        // Some daemons say nothing when the image already existed.
        None => daemon.docker.inspect_image(expected_id).await.map(|_| ()).map_err(|e| Error::Docker {
            action: "the daemon did not report the loaded image".into(),
            message: short(&e),
            fix: "use --builder dockerfile".into(),
        }),
    }
}
