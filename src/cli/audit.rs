//! `whitelabel audit <IMAGE | DIR>`: what a user can still meet of the
//! upstream brand, and damage to what must not change. One line per
//! finding; exit 0 when clean, 1 when anything is found, 2 when the audit
//! itself could not run.

use std::path::Path;

use serde_json::Value;

use super::Cli;
use super::build::session;
use crate::audit::{self, Audit};
use crate::brand::Brand;
use crate::docker::{Cleanup, Daemon};
use crate::error::{Error, Result};
use crate::patchset::PatchSet;
use crate::pipeline::{self, short_id};
use crate::progress::{Progress, human_bytes};
use crate::tree::{BaseTree, DirTree};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An image on the daemon (read without running it) or an extracted /app directory.
    pub target: String,
    /// What the target was built on (image or directory) [default: the
    /// base named in a whitelabel image's labels; else the target itself].
    #[arg(long, value_name = "IMAGE|DIR")]
    pub base: Option<String>,
    /// The brand the target should carry: its own colors are not leaks.
    #[arg(long, value_name = "BRAND")]
    pub brand: Option<String>,
    /// Also list what is kept on purpose, with the patch set's reason.
    #[arg(long, short)]
    pub verbose: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

/// A tree to audit, and where it came from.
struct Source {
    tree: DirTree,
    name: String,
    labels: Value,
}

pub fn run(cli: &Cli, args: &Args) -> Result<bool> {
    let brand = args.brand.as_deref().map(|b| cli.load_brand(b)).transpose()?;
    let progress = Progress::new(args.json);
    let is_dir = |s: &str| Path::new(s).is_dir();
    let (ps, target, reference) = if is_dir(&args.target) && args.base.as_deref().is_none_or(is_dir) {
        // Directories only: no daemon needed.
        let ps = cli.patchset_for(&Value::Null, brand.as_ref().map_or("", |b| b.image.base.as_str()))?;
        let dir = |d: &str| -> Result<Source> {
            Ok(Source { tree: DirTree::open(Path::new(d), &ps.extract)?, name: d.to_string(), labels: Value::Null })
        };
        let target = dir(&args.target)?;
        let reference = args.base.as_deref().map(dir).transpose()?;
        (ps, target, reference)
    } else {
        session(&progress, async |daemon, cleanup| {
            from_daemon(cli, args, brand.as_ref(), daemon, cleanup, &progress).await
        })?
    };
    let stage = progress.start(
        "audit",
        format!("auditing {} against {}", target.name, reference.as_ref().map_or("itself", |r| r.name.as_str())),
    );
    let mut result = audit::audit(
        &target.tree,
        &ps,
        audit::Options {
            reference: reference.as_ref().map(|r| &r.tree as &dyn BaseTree),
            brand: brand.as_ref(),
            kept: args.verbose,
        },
    );
    result.target = target.name.clone();
    if let Some(r) = reference {
        result.reference = r.name;
    } else {
        result.reference.push_str(" (none given or named in its labels)");
    }
    stage.done(format!("{} files, {}: {}", result.files, human_bytes(result.bytes), result.summary()));
    if args.json {
        let mut v = serde_json::to_value(&result).expect("audit serialises");
        v["ok"] = result.clean().into();
        v["patchset"] = ps.name.clone().into();
        v["patchset_source"] = crate::patches::source_of(&ps).into();
        out!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        print(&result, args.verbose);
    }
    Ok(result.clean())
}

fn print(a: &Audit, verbose: bool) {
    for f in &a.findings {
        out!("{}{}", if f.category.is_error() { "error: " } else { "" }, f.line());
    }
    if verbose {
        for k in &a.kept {
            out!("{}", k.line());
        }
    }
    let kept = if verbose { format!(", {} kept", a.kept.len()) } else { String::new() };
    out!(
        "{}: {} ({} files, {} read; compared with {}{kept})",
        a.target,
        if a.clean() { "clean".to_string() } else { format!("{} findings: {}", a.findings.len(), a.summary()) },
        a.files,
        human_bytes(a.bytes),
        a.reference
    );
}

/// The target (and its reference) read out of images through the daemon.
async fn from_daemon(
    cli: &Cli,
    args: &Args,
    brand: Option<&Brand>,
    daemon: &Daemon,
    cleanup: &Cleanup,
    progress: &Progress,
) -> Result<(PatchSet, Source, Option<Source>)> {
    let image = inspect(daemon, &args.target, progress).await?;
    let labels = image.config.get("Labels").cloned().unwrap_or(Value::Null);
    let ps = cli.patchset_for(&labels, brand.map_or(args.target.as_str(), |b| b.image.base.as_str()))?;
    let files = pipeline::image_files(daemon, &image.id, &ps, false, cleanup, progress).await?;
    let target = Source { tree: files.tree, name: format!("{} ({})", args.target, short_id(&image.id)), labels };
    let reference = match args.base.as_deref() {
        Some(d) if Path::new(d).is_dir() => {
            Some(Source { tree: DirTree::open(Path::new(d), &ps.extract)?, name: d.to_string(), labels: Value::Null })
        }
        Some(r) => Some(read_image(daemon, r, r, &ps, cleanup, progress).await?),
        None => match labelled_base(daemon, &target.labels).await {
            Some((lookup, name)) => Some(read_image(daemon, &lookup, &name, &ps, cleanup, progress).await?),
            None => None,
        },
    };
    Ok((ps, target, reference))
}

async fn inspect(daemon: &Daemon, reference: &str, progress: &Progress) -> Result<crate::base::BaseImage> {
    let stage = progress.start("image", format!("looking up {reference}"));
    let image = crate::docker::base::local(daemon, reference).await?;
    stage.done(format!("{reference} = {}", short_id(&image.id)));
    Ok(image)
}

async fn read_image(
    daemon: &Daemon,
    lookup: &str,
    name: &str,
    ps: &PatchSet,
    cleanup: &Cleanup,
    progress: &Progress,
) -> Result<Source> {
    let image = inspect(daemon, lookup, progress).await?;
    let files = pipeline::image_files(daemon, &image.id, ps, false, cleanup, progress).await?;
    Ok(Source { tree: files.tree, name: format!("{name} ({})", short_id(&image.id)), labels: Value::Null })
}

/// The base a whitelabel image names in its labels, when this daemon has
/// it: what to look it up by, and its name.
async fn labelled_base(daemon: &Daemon, labels: &Value) -> Option<(String, String)> {
    let label = |k: &str| labels.get(format!("org.opencontainers.image.base.{k}")).and_then(Value::as_str);
    let name = label("name")?;
    let mut candidates = Vec::new();
    if let Some(d) = label("digest") {
        candidates.push(if d.starts_with("sha256:") && !name.contains('@') { d.to_string() } else { String::new() });
        if let Ok(r) = crate::image_ref::ImageRef::parse(name) {
            candidates.push(format!("{}@{d}", r.repository()));
        }
    }
    candidates.push(name.to_string());
    for c in candidates.into_iter().filter(|c| !c.is_empty()) {
        if daemon.docker.inspect_image(&c).await.is_ok() {
            return Some((c, name.to_string()));
        }
    }
    None
}

impl Cli {
    /// The patch set an audit uses: the one a whitelabel image names in its
    /// labels, else the one for `base`, else the only one there is.
    fn patchset_for(&self, labels: &Value, base: &str) -> Result<PatchSet> {
        let lib = self.patch_library();
        if let Some(name) = labels.get("io.whitelabel.patchset").and_then(Value::as_str)
            && let Some(ps) = lib.load(name)?
        {
            return Ok(ps);
        }
        if let Ok(ps) = self.load_patchset_for(base) {
            return Ok(ps);
        }
        let names = lib.names()?;
        match names.as_slice() {
            [only] => lib.load(only)?.ok_or_else(|| Error::usage(format!("patch set {only} vanished"), "run again")),
            _ => Err(Error::usage(
                format!(
                    "cannot tell which patch set audits {base:?} ({} in the {} patch sets)",
                    names.len(),
                    lib.describe()
                ),
                "pass --patches patches/<set> (or --brand BRAND)",
            )),
        }
    }
}
