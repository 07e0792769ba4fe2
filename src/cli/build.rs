//! `whitelabel build <BRAND>`: the brand's image on the unmodified base,
//! tagged, optionally pushed, with a summary of what happened.
//! Also the arguments and the daemon session `context` shares.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::{Cli, human_bytes};
use crate::context::DOCKERFILE_BASE;
use crate::docker::{Cleanup, Daemon};
use crate::error::{Error, Result};
use crate::image_ref::ImageRef;
use crate::pipeline::{self, Builder, Outcome, Request, short_id};
use crate::progress::{Progress, StageTime};
use crate::render::write_atomically;

/// Which brands `build` and `bake` work on.
#[derive(Debug, clap::Args)]
pub struct Brands {
    /// Names under ./brands/ or paths to brand directories.
    #[arg(required_unless_present = "all")]
    pub brands: Vec<String>,
    /// Every brand under the brands directory.
    #[arg(long, conflicts_with = "brands")]
    pub all: bool,
}

impl Brands {
    /// The brands named, or every pack under the brands directory.
    pub fn names(&self, cli: &Cli) -> Result<Vec<String>> {
        if self.all { cli.brand_names() } else { Ok(self.brands.clone()) }
    }
}

/// What `build` and `context` have in common.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The base image [default: the brand's [image].base].
    #[arg(long, value_name = "IMAGE")]
    pub base: Option<String>,
    /// Import this extracted /app tree as the base image first (no download).
    #[arg(long, value_name = "DIR")]
    pub base_dir: Option<PathBuf>,
    /// Platform of the base to use, e.g. linux/amd64.
    #[arg(long, value_name = "P")]
    pub platform: Option<String>,
    /// Read the base files again and rebuild even when an identical image exists.
    #[arg(long)]
    pub no_cache: bool,
    /// Skip target files absent from the base (listed in the report).
    #[arg(long)]
    pub partial: bool,
    /// A Dockerfile template instead of the built-in Dockerfile.base.
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
    /// Print one JSON document instead of progress and a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub brands: Brands,
    /// Brands rendered at once [default: the number of cores].
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub image: ImageArgs,
    /// Repository to tag and push [default: the brand's [image].repository].
    #[arg(long, value_name = "REPO")]
    pub repository: Option<String>,
    /// Another tag for the image: `name:tag`, or just `tag` in the repository.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Push every tag to the registry.
    #[arg(long)]
    pub push: bool,
    /// Write `repository@sha256:…` of the pushed image here (needs --push)
    /// [default: <stacks-dir>/<brand>.digest, which `stack` reads].
    #[arg(long, value_name = "FILE")]
    pub digest_file: Option<PathBuf>,
    /// `assemble` (default): reproducible image ID; `dockerfile`: the daemon's builder.
    #[arg(long, value_enum, default_value = "assemble")]
    pub builder: Builder,
    /// Write the build report (JSON) here: changes per category and rule,
    /// the audit, the input hash, tags and digest.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Tag and push even when the audit of the result finds upstream
    /// branding or damage (the image's io.whitelabel.audit label says so).
    #[arg(long)]
    pub allow_leaks: bool,
}

impl ImageArgs {
    /// The request, with everything that can be checked before Docker checked.
    pub fn request(&self, cli: &Cli, brand: &str, repository: Option<&str>, builder: Builder) -> Result<Request> {
        let brand = cli.load_brand(brand)?;
        // The edge: every reference is parsed here, once.
        let brand_base = ImageRef::parse(&brand.image.base)
            .map_err(|why| Error::usage(why, "fix [image] base in brand.toml (`whitelabel check` says more)"))?;
        let base = match (&self.base, &self.base_dir) {
            (Some(b), _) => ImageRef::parse(b).map_err(|why| Error::usage(why, "use --base name[:tag][@sha256:…]"))?,
            (None, Some(_)) => pipeline::import_name(&brand_base),
            (None, None) => brand_base.clone(),
        };
        let patchset = cli.load_patchset_for(self.base.as_deref().unwrap_or(&brand.image.base))?;
        let repository = repository.unwrap_or(&brand.image.repository);
        let repository = ImageRef::parse(repository)
            .ok()
            .filter(|r| r.tag().is_none() && r.digest().is_none())
            .ok_or_else(|| {
                Error::usage(
                    format!("--repository `{repository}` is not a repository name"),
                    "use [host[:port]/]path in lower case, without a tag",
                )
            })?;
        let dockerfile = match &self.dockerfile {
            Some(p) => (std::fs::read_to_string(p).map_err(|e| Error::io("reading", p, e))?, p.display().to_string()),
            None => (DOCKERFILE_BASE.to_string(), "Dockerfile.base".to_string()),
        };
        Ok(Request {
            brand: Arc::new(brand),
            patchset: Arc::new(patchset),
            base,
            base_dir: self.base_dir.clone(),
            repository,
            tags: Vec::new(),
            push: false,
            platform: self.platform.clone(),
            no_cache: self.no_cache,
            partial: self.partial,
            allow_leaks: false,
            daemon_ops: None,
            builder,
            dockerfile,
        })
    }
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    match (args.brands.all, args.brands.brands.as_slice()) {
        (false, [one]) => run_one(cli, args, one),
        _ => super::build_many::run(cli, args),
    }
}

fn run_one(cli: &Cli, args: &Args, brand: &str) -> Result<()> {
    let started = Instant::now();
    let mut req = args.image.request(cli, brand, args.repository.as_deref(), args.builder)?;
    req.tags = args.tags.iter().map(|t| full_tag(t, &req.repository)).collect::<Result<_>>()?;
    req.push = args.push;
    req.allow_leaks = args.allow_leaks;
    if args.digest_file.is_some() && !args.push {
        return Err(Error::usage("--digest-file records a pushed image", "add --push, or drop --digest-file"));
    }
    let progress = Progress::new(args.image.json);
    let warnings: Vec<String> = edition_warning(&req).into_iter().collect();
    for w in &warnings {
        progress.note(format!("warning: {w}"));
    }
    let outcome = session(&progress, async |daemon, cleanup| pipeline::build(daemon, &req, cleanup, &progress).await)?;
    let digest_file = args.digest_file.clone().unwrap_or_else(|| cli.digest_file(&req.brand.id));
    if let Some(pushed) = &outcome.pushed {
        record_digest(&digest_file, pushed)?;
    }
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&build_report(&outcome)).expect("report serialises");
        write_atomically(path, format!("{json}\n").as_bytes())?;
    }
    let total = started.elapsed().as_secs_f64();
    let stages = progress.stages();
    if args.image.json {
        let mut v = serde_json::to_value(&outcome).expect("outcome serialises");
        v["ok"] = true.into();
        v["brand"] = req.brand.id.clone().into();
        v["patchset_source"] = crate::patches::source_of(&req.patchset).into();
        v["stages"] = serde_json::to_value(&stages).expect("stages serialise");
        v["warnings"] = serde_json::to_value(&warnings).expect("warnings serialise");
        v["seconds"] = total.into();
        if let Some(r) = &outcome.report {
            v["render"] = serde_json::to_value(&r.totals).expect("totals serialise");
            v["categories"] = serde_json::to_value(&r.categories).expect("categories serialise");
            v["skipped"] = serde_json::to_value(&r.skipped).expect("skipped serialises");
            v["audit"] = r.audit.as_ref().map_or(serde_json::Value::Null, audit_brief);
        }
        out!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        summary(&req, &outcome, &stages, total, Some(&digest_file));
    }
    Ok(())
}

/// The enterprise/ warning for a request: from the base's tag, or for an
/// imported `--base-dir` tree (named by whitelabel, not upstream), from the
/// tree itself, pointing at the brand's configured base.
pub fn edition_warning(req: &Request) -> Option<String> {
    match &req.base_dir {
        Some(dir) if dir.join("enterprise").is_dir() => {
            crate::brand::edition::enterprise_warning(&req.brand.image.base)
        }
        Some(_) => None,
        None => crate::brand::edition::enterprise_warning(req.base.as_str()),
    }
}

/// Writes `repository@sha256:…` to `file` (creating its directory).
pub fn record_digest(file: &Path, pushed: &str) -> Result<()> {
    crate::digest::write(file, pushed)
}

/// The `--report` document: what the build made, from what, and proof.
pub fn build_report(o: &Outcome) -> serde_json::Value {
    let mut v = serde_json::json!({
        "image_id": o.image_id,
        "input": o.input,
        "builder": o.builder,
        "base": o.base,
        "base_id": o.base_id,
        "tags": o.tags,
        "digest": o.pushed,
        "up_to_date": o.up_to_date,
        "layer_bytes": o.layer_bytes,
        "labels": o.labels,
    });
    if let Some(r) = &o.report {
        v["bytes_added"] = (r.totals.bytes_after as i64 - r.totals.bytes_before as i64).into();
        v["render"] = serde_json::to_value(r).expect("report serialises");
        v["audit"] = r.audit.as_ref().map_or(serde_json::Value::Null, audit_brief);
    }
    v
}

/// The audit without its per-finding detail when clean.
fn audit_brief(a: &crate::audit::Audit) -> serde_json::Value {
    serde_json::json!({
        "clean": a.clean(),
        "summary": a.summary(),
        "files": a.files,
        "bytes": a.bytes,
        "findings": a.findings,
    })
}

/// Connects, runs `work` until it ends or Ctrl-C/SIGTERM arrives, and
/// always removes what the run created before returning.
pub fn session<T>(progress: &Progress, work: impl AsyncFnOnce(&Daemon, &Cleanup) -> Result<T>) -> Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", "tokio", e))?;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        // Installed before any work, so a signal never kills us mid-step.
        let mut int = signal(SignalKind::interrupt()).map_err(|e| Error::io("installing", "SIGINT handler", e))?;
        let mut term = signal(SignalKind::terminate()).map_err(|e| Error::io("installing", "SIGTERM handler", e))?;
        let daemon = Daemon::connect().await?;
        let cleanup = Cleanup::default();
        let result = tokio::select! {
            r = work(&daemon, &cleanup) => r,
            _ = int.recv() => Err(interrupted(progress, libc::SIGINT)),
            _ = term.recv() => Err(interrupted(progress, libc::SIGTERM)),
        };
        let left = cleanup.run(&daemon).await;
        if !left.is_empty() {
            let msg = format!("could not remove {}", left.join("; "));
            return Err(match result {
                Err(Error::Interrupted { stage, signal, .. }) => Error::Interrupted { stage, undone: msg, signal },
                _ => Error::Docker {
                    action: "cleaning up".into(),
                    message: msg,
                    fix: "remove it with `docker rm -f`".into(),
                },
            });
        }
        result
    })
}

fn interrupted(progress: &Progress, signal: i32) -> Error {
    Error::Interrupted {
        stage: progress.current().to_string(),
        undone: "removed what this run created; nothing was tagged or pushed".into(),
        signal,
    }
}

/// `tag` alone means a tag in `repository`; anything with `:` or `/` is a full reference.
fn full_tag(tag: &str, repository: &ImageRef) -> Result<ImageRef> {
    let full = if tag.contains(['/', ':']) { tag.to_string() } else { format!("{repository}:{tag}") };
    ImageRef::parse(&full).ok().filter(|r| r.digest().is_none()).ok_or_else(|| {
        Error::usage(
            format!("--tag `{tag}` is not a valid tag"),
            "use `name:tag` or a bare tag of letters, digits, `.`, `_` and `-`",
        )
    })
}

fn summary(req: &Request, o: &Outcome, stages: &[StageTime], total: f64, digest_file: Option<&Path>) {
    match o.up_to_date {
        Some("registry") => {
            out!("{} is up to date: {} is already in the registry; nothing built", req.brand.name, o.tags[0])
        }
        Some(_) => out!(
            "{} is up to date: this daemon already has the image for input {}; nothing built",
            req.brand.name,
            &o.input[..12]
        ),
        None if o.reused_image => {
            out!("Loaded {} for {} (assembled by an earlier run with the same inputs)", o.tags[0], req.brand.name)
        }
        None => out!("Built {} for {}", o.tags[0], req.brand.name),
    }
    if !o.image_id.is_empty() {
        let how = match o.builder {
            Builder::Assemble => "assembled: the same inputs give this ID on any daemon with the base",
            Builder::Dockerfile => "built by the daemon's builder",
        };
        out!("  image    {} ({how})", o.image_id);
    }
    out!("  base     {} ({})", o.base, short_id(&o.base_id));
    if let Some(r) = &o.report {
        let t = &r.totals;
        let delta = t.bytes_after as i64 - t.bytes_before as i64;
        out!(
            "  changes  {} files changed, {} added, {} regenerated, {} replacements; files {}{}, layer {}",
            t.files_changed,
            t.files_added,
            t.siblings_regenerated,
            t.replacements,
            if delta < 0 { "-" } else { "+" },
            human_bytes(delta.unsigned_abs()),
            human_bytes(o.layer_bytes.unwrap_or(0))
        );
        let rules: Vec<String> =
            r.rules.iter().filter(|x| x.replacements > 0).map(|x| format!("{} {}", x.id, x.replacements)).collect();
        if !rules.is_empty() {
            out!("  rules    {}", rules.join(", "));
        }
    }
    if let Some(r) = &o.report {
        let per: Vec<String> = r.categories.iter().map(|(c, n)| format!("{c} {n}")).collect();
        if !per.is_empty() {
            out!("  files    {}", per.join(", "));
        }
        if let Some(a) = &r.audit {
            out!("  audit    {} ({} files, {} read)", a.summary(), a.files, human_bytes(a.bytes));
        }
    }
    out!("  input    {}", o.input);
    for (i, t) in o.tags.iter().enumerate() {
        out!("  {}  {t}", if i == 0 { "tags  " } else { "      " });
    }
    if let Some(p) = &o.pushed {
        let file = digest_file.map(|f| format!(" (written to {})", f.display())).unwrap_or_default();
        out!("  pushed   {p}{file}");
    }
    out!("  time     {total:.2}s");
    for line in time_bars(stages, total) {
        out!("{line}");
    }
}

/// One bar per step, scaled to the total: where the time went, at a glance.
fn time_bars(stages: &[StageTime], total: f64) -> Vec<String> {
    const WIDTH: f64 = 30.0;
    let name_w = stages.iter().map(|s| s.stage.len()).max().unwrap_or(0);
    stages
        .iter()
        .map(|s| {
            let cells = if total > 0.0 { (s.seconds / total * WIDTH).round() as usize } else { 0 };
            let bar = if cells == 0 { "▏".to_string() } else { "█".repeat(cells) };
            format!("    {:name_w$}  {:<w$}  {:>6.2}s  {}", s.stage, bar, s.seconds, s.detail, w = WIDTH as usize)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_completed_and_checked() {
        let repo = ImageRef::parse("r.io/nexa/chatwoot").unwrap();
        assert_eq!(full_tag("latest", &repo).unwrap().as_str(), "r.io/nexa/chatwoot:latest");
        assert_eq!(full_tag("r.io/x/y:v1", &repo).unwrap().as_str(), "r.io/x/y:v1");
        assert!(full_tag("bad tag", &repo).is_err());
        assert!(full_tag("r.io/x/y@sha256:00", &repo).is_err());
        let pinned = format!("r.io/x/y@sha256:{}", "0".repeat(64));
        assert!(full_tag(&pinned, &repo).is_err(), "a tag is not a digest");
    }

    #[test]
    fn bars_scale_with_time() {
        let s = |n: &str, t: f64| StageTime { stage: n.into(), seconds: t, detail: String::new() };
        let bars = time_bars(&[s("render", 0.75), s("tag", 0.0)], 1.0);
        assert!(bars[0].contains(&"█".repeat(23)), "{bars:?}");
        assert!(bars[1].contains('▏'));
    }
}
