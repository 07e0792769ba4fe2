//! Many brands in one run (`build --all`, `build a b c`): each distinct base
//! is looked up (or imported) and its files extracted once, before any
//! brand starts; then the brands run through the build path side by side,
//! `jobs` at a time, with at most `daemon_ops` loads/builds/pushes in flight.
//! One brand failing never stops the others: every brand gets a result.

use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;

use crate::docker::{Cleanup, Daemon};
use crate::error::Error;
use crate::image_ref::ImageRef;
use crate::pipeline::{self, Outcome, Request};
use crate::progress::Progress;

/// What happened to one brand.
pub struct BrandRun {
    pub brand: String,
    pub result: Result<Outcome, Error>,
    pub seconds: f64,
    pub stages: Vec<crate::progress::StageTime>,
}

/// Runs every request; `prepared` holds brands whose request could not
/// even be made (an invalid pack), reported as failures.
pub async fn build_all(
    daemon: &Daemon,
    requests: Vec<(String, Result<Request, Error>)>,
    jobs: usize,
    daemon_ops: usize,
    cleanup: &Cleanup,
    progress: &Progress,
) -> Vec<BrandRun> {
    let limit = Arc::new(tokio::sync::Semaphore::new(daemon_ops.max(1)));
    let mut runs: Vec<BrandRun> = Vec::new();
    let mut ready: Vec<(String, Request)> = Vec::new();
    for (brand, req) in requests {
        match req {
            Ok(mut r) => {
                r.daemon_ops = Some(limit.clone());
                ready.push((brand, r));
            }
            Err(e) => runs.push(BrandRun { brand, result: Err(e), seconds: 0.0, stages: Vec::new() }),
        }
    }

    // Each base once: imported, looked up and extracted before the brands
    // start, so they all read it from the cache.
    let mut bases: Vec<(ImageRef, Option<String>)> = Vec::new();
    for (_, r) in &ready {
        if bases.iter().any(|(b, _)| *b == r.base) {
            continue;
        }
        let prepared = async {
            let base = pipeline::base_image(daemon, r, progress).await?;
            pipeline::base_files(daemon, r, &base, cleanup, progress).await.map(|_| ())
        }
        .await;
        bases.push((r.base.clone(), prepared.err().map(|e| e.to_string())));
    }
    let mut startable = Vec::new();
    for (brand, mut r) in ready {
        match bases.iter().find(|(b, _)| *b == r.base).and_then(|(_, e)| e.clone()) {
            Some(why) => runs.push(BrandRun {
                brand,
                result: Err(Error::usage(
                    format!("the base {} could not be prepared: {why}", r.base),
                    "fix the base, then build again",
                )),
                seconds: 0.0,
                stages: Vec::new(),
            }),
            None => {
                // Imported above; the brands only look it up.
                r.base_dir = None;
                startable.push((brand, r));
            }
        }
    }

    let built: Vec<BrandRun> = futures_util::stream::iter(startable)
        .map(|(brand, req)| async move {
            let child = progress.child(&brand);
            let started = Instant::now();
            let result = pipeline::build(daemon, &req, cleanup, &child).await;
            child.finish(match &result {
                Ok(o) => format!("done: {}", o.tags.first().cloned().unwrap_or_default()),
                Err(e) => format!("failed: {}", first_line(&e.to_string())),
            });
            BrandRun { brand, result, seconds: started.elapsed().as_secs_f64(), stages: child.stages() }
        })
        .buffer_unordered(jobs.max(1))
        .collect()
        .await;
    runs.extend(built);
    runs.sort_by(|a, b| a.brand.cmp(&b.brand));
    runs
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
