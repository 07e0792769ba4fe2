//! `whitelabel preview <BRAND> -o preview.png [--html]`: one contact sheet
//! of what the brand changes (logos, icons, palette, UI strings, mail), made
//! by running the real render engine. The base files come from an extracted
//! /app tree (`--base-dir`, no Docker), else from the daemon like `build`
//! (the same extraction cache).

use std::path::PathBuf;
use std::sync::Arc;

use super::build::session;
use super::{Cli, display, human_bytes};
use crate::error::{Error, Result};
use crate::image_ref::ImageRef;
use crate::pipeline::{self, Builder, Request};
use crate::preview::{Fonts, Preview};
use crate::progress::Progress;
use crate::render::{self, Options};
use crate::tree::DirTree;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A name under ./brands/ or a path to a brand directory.
    brand: String,
    /// Where to write the sheet: a PNG, or the HTML page with --html.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Write a self-contained HTML page instead of a PNG (-o names the HTML file).
    #[arg(long)]
    html: bool,
    /// Read the base files from this extracted /app tree (no Docker).
    #[arg(long, value_name = "DIR", visible_alias = "from-dir")]
    base_dir: Option<PathBuf>,
    /// Without --base-dir: the base image to read them from, through the
    /// daemon and the extraction cache [default: the brand's [image].base].
    #[arg(long, value_name = "IMAGE", conflicts_with = "base_dir")]
    base: Option<String>,
    /// Print one JSON document instead of the summary line.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let brand = Arc::new(cli.load_brand(&args.brand)?);
    // Fonts first: a machine that cannot draw text fails before any work.
    let fonts = if args.html { None } else { Some(Fonts::system()?) };
    let base = args.base.clone().unwrap_or_else(|| brand.image.base.clone());
    let base = ImageRef::parse(&base).map_err(|why| Error::usage(why, "use --base name[:tag][@sha256:…]"))?;
    let patchset = Arc::new(cli.load_patchset_for(base.as_str())?);
    let progress = Progress::new(args.json);
    let (overlay, report) = match &args.base_dir {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(Error::usage(
                    format!("--base-dir {} is not a directory", display(dir)),
                    "pass the extracted /app tree of the base image (e.g. tests/fixtures/chatwoot-v3.15.0), \
                     or drop --base-dir to read the base image through Docker",
                ));
            }
            let tree = DirTree::open(dir, &patchset.extract)?;
            let stage = progress.start("render", format!("patching with {}", patchset.name));
            let rendered = render::render(&brand, &patchset, &tree, Options { partial: false })?;
            stage.done(format!("{} files", rendered.0.files.len()));
            rendered
        }
        None => {
            let req = Request {
                brand: brand.clone(),
                patchset: patchset.clone(),
                base,
                base_dir: None,
                repository: ImageRef::parse(&brand.image.repository)
                    .map_err(|why| Error::usage(why, "fix [image] repository in brand.toml"))?,
                tags: Vec::new(),
                push: false,
                platform: None,
                no_cache: false,
                partial: false,
                allow_leaks: true,
                daemon_ops: None,
                builder: Builder::Assemble,
                dockerfile: (String::new(), String::new()),
            };
            session(&progress, async |daemon, cleanup| {
                let base = pipeline::base_image(daemon, &req, &progress).await?;
                let files = pipeline::base_files(daemon, &req, &base, cleanup, &progress).await?;
                // The brand's own files only (not the entrypoint wrapper a
                // build adds): the same sheet as from --base-dir.
                let stage = progress.start("render", format!("patching with {}", req.patchset.name));
                let rendered = render::render(&req.brand, &req.patchset, &files.tree, Options { partial: false })?;
                stage.done(format!("{} files", rendered.0.files.len()));
                Ok(rendered)
            })?
        }
    };
    let stage = progress.start("sheet", "laying out and drawing the sheet");
    let preview = Preview::new(&brand, &overlay, &report)?;
    let bytes = match &fonts {
        Some(fonts) => preview.png(fonts)?,
        None => preview.html().into_bytes(),
    };
    stage.done(format!("{}×{}", preview.layout.width, preview.layout.height));
    crate::output::write_file(&args.output, &bytes)?;
    let (w, h) = (preview.layout.width, preview.layout.height);
    if args.json {
        let v = serde_json::json!({
            "ok": true,
            "output": display(&args.output),
            "format": if args.html { "html" } else { "png" },
            "bytes": bytes.len(),
            "width": (!args.html).then_some(w),
            "height": (!args.html).then_some(h),
            "icons": preview.icons.len(),
            "icon_files": preview.icon_files,
            "strings": preview.strings,
            "fonts": fonts.as_ref().map(|f| serde_json::json!({ "sans": f.sans, "mono": f.mono })),
        });
        out!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        let what = if args.html { format!("{} page", human_bytes(bytes.len() as u64)) } else { format!("{w}×{h} px") };
        out!(
            "Wrote {} ({what}, {} icons from {} files, {} UI strings) for {}",
            display(&args.output),
            preview.icons.len(),
            preview.icon_files,
            preview.strings.len(),
            brand.name
        );
    }
    Ok(())
}
