//! `whitelabel bake [--all | BRAND...] -o docker-bake.json`: the rendered
//! (and audited) build context of every brand, as directories beside the
//! bake file, and one bake target per brand (tags, labels, platforms), for
//! `docker buildx bake` on BuildKit, remote or multi-node builders. Each
//! context is also a plain `docker build` context.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::build::{Brands, ImageArgs, session};
use super::{Cli, display};
use crate::error::{Error, Result};
use crate::image_ref::ImageRef;
use crate::pipeline::{self, Builder, Request};
use crate::progress::Progress;
use crate::render::write_atomically;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub brands: Brands,
    #[command(flatten)]
    pub image: ImageArgs,
    /// The bake file; the contexts go to `contexts/<brand>/` beside it.
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "docker-bake.json")]
    pub output: PathBuf,
    /// Repository of the tags [default: each brand's [image].repository].
    #[arg(long, value_name = "REPO")]
    pub repository: Option<String>,
    /// Platforms to build for (repeat); [default: the base's].
    #[arg(long = "platforms", value_name = "P")]
    pub platforms: Vec<String>,
    /// Write contexts even when the audit of a brand's result finds something.
    #[arg(long)]
    pub allow_leaks: bool,
}

/// One target of the bake file.
#[derive(serde::Serialize)]
struct Target {
    context: String,
    dockerfile: String,
    tags: Vec<String>,
    labels: BTreeMap<String, String>,
    platforms: Vec<String>,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let names = args.brands.names(cli)?;
    let requests: Vec<Request> = names
        .iter()
        .map(|n| {
            args.image.request(cli, n, args.repository.as_deref(), Builder::Dockerfile).map(|mut r| {
                r.allow_leaks = args.allow_leaks;
                r
            })
        })
        .collect::<Result<_>>()?;
    let dir = args.output.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let progress = Progress::new(args.image.json);
    let targets = session(&progress, async |daemon, cleanup| {
        let mut targets = BTreeMap::new();
        // Each base is imported/looked up and extracted once; then the
        // brands render from the cache.
        let mut done_bases: Vec<ImageRef> = Vec::new();
        for mut req in requests {
            if done_bases.contains(&req.base) {
                req.base_dir = None;
            }
            done_bases.push(req.base.clone());
            let base = pipeline::base_image(daemon, &req, &progress).await?;
            let child = progress.child(&req.brand.id);
            let mut ident = pipeline::identify(&req, &base)?;
            let files = pipeline::base_files(daemon, &req, &base, cleanup, &child).await?;
            let (overlay, _) = pipeline::render_checked(&req, files.tree, &mut ident, &child).await?;
            let tar = pipeline::context_tar(&req, &base.pinned(), &ident, &overlay, &files.manifest.meta)?;
            let rel = format!("contexts/{}", req.brand.id);
            unpack(&tar, &dir.join(&rel))?;
            child.finish(format!("{} files in {rel}", overlay.files.len()));
            let platforms = if args.platforms.is_empty() { vec![base.platform()] } else { args.platforms.clone() };
            targets.insert(
                target_name(&req.brand.id),
                Target {
                    context: rel,
                    dockerfile: "Dockerfile".into(),
                    tags: vec![ident.tag],
                    labels: ident.labels,
                    platforms,
                },
            );
        }
        Ok(targets)
    })?;
    let bake = serde_json::json!({
        "group": { "default": { "targets": targets.keys().collect::<Vec<_>>() } },
        "target": targets,
    });
    let text = serde_json::to_string_pretty(&bake).expect("bake file serialises");
    write_atomically(&args.output, format!("{text}\n").as_bytes())?;
    if args.image.json {
        out!("{}", serde_json::json!({ "ok": true, "bake": display(&args.output), "targets": targets.len() }));
    } else {
        out!(
            "Wrote {} with {} targets ({}).",
            display(&args.output),
            targets.len(),
            targets.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        out!("  build them with: docker buildx bake -f {}", display(&args.output));
    }
    Ok(())
}

/// Bake target names allow `[a-zA-Z0-9_-]`.
fn target_name(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// Replaces `dir` with the context tar's contents: only a directory an
/// earlier bake wrote (its marker inside), swapped in whole.
fn unpack(tar: &[u8], dir: &Path) -> Result<()> {
    let out = crate::output::DirOutput { out: dir, report: None, inputs: Vec::new() };
    out.check()?;
    out.replace_with("bake context", &[], |new| {
        let _c = crate::interrupt::critical();
        tar::Archive::new(tar).unpack(new).map_err(|e| Error::io("writing the context", new, e))
    })
}
