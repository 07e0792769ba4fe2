//! `whitelabel context <BRAND> -o ctx.tar[.gz]`: the Dockerfile build context
//! `build --builder dockerfile` uses, for any other builder
//! (`docker buildx build - < ctx.tar`, kaniko, BuildKit). The base files come
//! from the daemon (cached), or from `--from-dir` with no daemon at all.

use std::path::PathBuf;

use super::build::{ImageArgs, session};
use super::{Cli, display, human_bytes};
use crate::base::BaseImage;
use crate::error::{Error, Result};
use crate::pipeline::{self, Builder};
use crate::progress::Progress;
use crate::tree::DirTree;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A name under ./brands/ or a path to a brand directory.
    pub brand: String,
    #[command(flatten)]
    pub image: ImageArgs,
    /// Where to write the context: a tar, gzipped when the name ends in .gz or .tgz.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Read the base files from this extracted /app tree instead of the daemon.
    #[arg(long, value_name = "APP_ROOT", conflicts_with = "base_dir")]
    from_dir: Option<PathBuf>,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let req = args.image.request(cli, &args.brand, None, Builder::Dockerfile)?;
    let progress = Progress::new(args.image.json);
    let (base_ref, ident, overlay, meta) = match &args.from_dir {
        Some(dir) => {
            // No image: the reference as given, no digest, SOURCE_DATE_EPOCH or 0.
            let base = unknown_base(req.base.as_str());
            let ident = pipeline::identify(&req, &base)?;
            let tree = DirTree::open(dir, &req.patchset.extract)?;
            let rt =
                tokio::runtime::Builder::new_current_thread().build().map_err(|e| Error::io("starting", "tokio", e))?;
            let (overlay, _, _) = rt.block_on(pipeline::render_overlay(&req, tree, &progress))?;
            (req.base.to_string(), ident, overlay, Default::default())
        }
        None => session(&progress, async |daemon, cleanup| {
            let base = pipeline::base_image(daemon, &req, &progress).await?;
            let ident = pipeline::identify(&req, &base)?;
            let files = pipeline::base_files(daemon, &req, &base, cleanup, &progress).await?;
            let (overlay, _, _) = pipeline::render_overlay(&req, files.tree, &progress).await?;
            Ok((base.pinned(), ident, overlay, files.manifest.meta))
        })?,
    };
    let tar = pipeline::context_tar(&req, &base_ref, &ident, &overlay, &meta)?;
    let name = args.output.to_string_lossy();
    let bytes = if name.ends_with(".gz") || name.ends_with(".tgz") { crate::context::gzip(&tar) } else { tar };
    crate::output::write_file(&args.output, &bytes)?;
    if args.image.json {
        let v = serde_json::json!({
            "ok": true,
            "context": display(&args.output),
            "bytes": bytes.len(),
            "files": overlay.files.len(),
            "base": base_ref,
            "input": ident.input,
            "labels": ident.labels,
        });
        out!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        out!(
            "Wrote {} ({}, {} overlay files) for {} on {}",
            display(&args.output),
            human_bytes(bytes.len() as u64),
            overlay.files.len(),
            req.brand.name,
            base_ref
        );
        out!("  build it with: docker build -t {} - < {}", ident.tag, display(&args.output));
    }
    Ok(())
}

fn unknown_base(reference: &str) -> BaseImage {
    BaseImage {
        reference: reference.to_string(),
        id: String::new(),
        repo_digest: None,
        created: 0,
        os: "linux".into(),
        architecture: String::new(),
        variant: None,
        diff_ids: Vec::new(),
        config: serde_json::Value::Null,
        history: Vec::new(),
    }
}
