//! The build path, one way through: base image → input hash (stop here when
//! an image with that hash exists) → base files (cache, else extraction) →
//! overlay (the render engine) → image (assembled and loaded, or built from
//! the Dockerfile context) → tags → push. Ties the patching side to the
//! Docker side; the CLI only parses arguments and prints.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::archive::{Content, Meta};
use crate::assemble;
use crate::audit::{self, Audit};
use crate::base::BaseImage;
use crate::brand::Brand;
use crate::cache::{Assembled, Cache, Manifest};
use crate::context;
use crate::docker::{self, Cleanup, Daemon};
use crate::error::{Error, Result};
use crate::identity::{self, INPUT_LABEL, Identity, Recipe};
use crate::image_ref::ImageRef;
use crate::patchset::PatchSet;
use crate::progress::{Progress, human_bytes};
use crate::render::{self, Overlay};
use crate::report::Report;
use crate::tree::{BaseTree, DirTree, Layered};

/// How the image is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Builder {
    /// Config and layer written here and loaded: the same inputs give the
    /// same image ID on every daemon.
    Assemble,
    /// The daemon's builder on the Dockerfile context: stamps build times.
    Dockerfile,
}

impl Builder {
    fn name(self) -> &'static str {
        match self {
            Builder::Assemble => "assemble",
            Builder::Dockerfile => "dockerfile",
        }
    }
}

/// Everything a build needs to know.
pub struct Request {
    pub brand: Arc<Brand>,
    pub patchset: Arc<PatchSet>,
    /// The base image reference (`--base`, else the brand's).
    pub base: ImageRef,
    /// Import this extracted app tree as the base first.
    pub base_dir: Option<PathBuf>,
    pub repository: ImageRef,
    /// Tags besides the default one.
    pub tags: Vec<ImageRef>,
    pub push: bool,
    pub platform: Option<String>,
    pub no_cache: bool,
    pub partial: bool,
    /// Build even when the audit of the result finds something.
    pub allow_leaks: bool,
    /// Bounds the daemon operations (load, build, push) of many brands
    /// built at once; `None`: one brand, no bound.
    pub daemon_ops: Option<Arc<tokio::sync::Semaphore>>,
    pub builder: Builder,
    /// The Dockerfile template and where it came from.
    pub dockerfile: (String, String),
}

/// What a build did.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    pub image_id: String,
    /// Every tag that now points at the image, the default one first.
    pub tags: Vec<String>,
    pub input: String,
    pub builder: Builder,
    pub base: String,
    pub base_id: String,
    /// `local` or `registry` when nothing had to be built.
    pub up_to_date: Option<&'static str>,
    /// Whether the base files came from the cache (`None`: not needed).
    pub cache_hit: Option<bool>,
    /// The image was assembled by an earlier run and only loaded.
    pub reused_image: bool,
    /// Size of the new layer (assemble) or of the context (dockerfile).
    pub layer_bytes: Option<u64>,
    /// `repository@sha256:…` of the pushed (or already pushed) image.
    pub pushed: Option<String>,
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub report: Option<Report>,
}

/// Builds (and maybe pushes) the brand's image.
pub async fn build(daemon: &Daemon, req: &Request, cleanup: &Cleanup, progress: &Progress) -> Result<Outcome> {
    let base = base_image(daemon, req, progress).await?;
    let mut ident = identify(req, &base)?;
    let mut tags = vec![ImageRef::parse(&ident.tag).map_err(|why| Error::usage(why, "check [image].repository"))?];
    for t in &req.tags {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }

    // Publishing questions first: wrong credentials must stop us before any work.
    let creds = if req.push { Some(docker::push::credentials(&req.repository)?) } else { None };
    let in_registry = match &creds {
        Some(c) => {
            let stage = progress.start("registry", format!("asking {} for {}", req.repository.registry(), ident.tag));
            let d = docker::push::preflight(daemon, &ident.tag, c).await?;
            stage.done(match &d {
                Some(d) => format!("already has {} ({d})", ident.tag),
                None => format!("does not have {} yet; credentials accepted", ident.tag),
            });
            d
        }
        None => None,
    };
    let local = if req.no_cache { None } else { daemon.find_labelled(INPUT_LABEL, &ident.input).await? };
    let local_id = local.as_ref().map(|(id, _)| id.clone());

    let mut outcome = Outcome {
        image_id: String::new(),
        tags: tags.iter().map(ImageRef::to_string).collect(),
        input: ident.input.clone(),
        builder: req.builder,
        base: base.reference.clone(),
        base_id: base.id.clone(),
        up_to_date: None,
        cache_hit: None,
        reused_image: false,
        layer_bytes: None,
        pushed: None,
        labels: ident.labels.clone(),
        report: None,
    };
    let extra_tags = tags.len() > 1;
    match (&local, &in_registry) {
        (_, Some(digest)) if !req.no_cache && (!extra_tags || local.is_none()) => {
            outcome.up_to_date = Some("registry");
            outcome.image_id = local_id.clone().unwrap_or_default();
            outcome.pushed = Some(format!("{}@{digest}", req.repository));
            if let Some(id) = &local_id {
                tag_all(daemon, id, &tags, progress).await?;
            } else {
                outcome.tags = vec![ident.tag.clone()];
            }
            return Ok(outcome);
        }
        (Some((id, labels)), _) => {
            gate_label(labels.get(AUDIT_LABEL).map(String::as_str), req.allow_leaks)?;
            outcome.up_to_date = Some("local");
            outcome.image_id = id.clone();
        }
        _ if let Some((archive, kept)) = reusable(req, &ident) => {
            if let Some(a) = &kept.report.audit {
                gate(a, req.allow_leaks)?;
            }
            let _permit = daemon_slot(req).await;
            load(
                daemon,
                archive,
                &kept.image_id,
                "the image assembled earlier (kept by input hash)",
                progress,
                cleanup,
            )
            .await?;
            outcome.image_id = kept.image_id;
            outcome.layer_bytes = Some(kept.layer_bytes);
            outcome.report = Some(kept.report);
            outcome.reused_image = true;
        }
        _ => {
            let files = base_files(daemon, req, &base, cleanup, progress).await?;
            outcome.cache_hit = Some(files.hit);
            let (overlay, report) = render_checked(req, files.tree, &mut ident, progress).await?;
            outcome.labels = ident.labels.clone();
            let (id, bytes) = match req.builder {
                Builder::Assemble => {
                    let (archive, id, bytes) =
                        assemble(&base, &ident, &req.patchset, &overlay, &files.manifest, progress)?;
                    let kept = Assembled { image_id: id.clone(), layer_bytes: bytes, report: report.clone() };
                    if let Err(e) = Cache::open().and_then(|c| c.keep_assembled(&ident.input, &archive, &kept)) {
                        progress.note(format!("not kept for reuse: {e}"));
                    }
                    let _permit = daemon_slot(req).await;
                    load(daemon, archive, &id, "the assembled image", progress, cleanup).await?;
                    (id, bytes)
                }
                Builder::Dockerfile => {
                    let _permit = daemon_slot(req).await;
                    dockerfile_build(daemon, req, &base, &ident, &overlay, &files.manifest, progress).await?
                }
            };
            outcome.image_id = id;
            outcome.layer_bytes = Some(bytes);
            outcome.report = Some(report);
        }
    }
    tag_all(daemon, &outcome.image_id, &tags, progress).await?;

    if let Some(creds) = &creds {
        let _permit = daemon_slot(req).await;
        outcome.pushed = Some(push_all(daemon, &tags, &req.repository, creds, progress).await?);
    }
    Ok(outcome)
}

/// Waits for a turn at the daemon when many brands share it.
async fn daemon_slot(req: &Request) -> Option<tokio::sync::OwnedSemaphorePermit> {
    match &req.daemon_ops {
        Some(s) => s.clone().acquire_owned().await.ok(),
        None => None,
    }
}

/// The image's identity for this request on `base`.
pub fn identify(req: &Request, base: &BaseImage) -> Result<Identity> {
    let epoch = identity::epoch(base.created)?;
    // The Dockerfile is part of the image only when it is what builds it.
    let dockerfile = if req.builder == Builder::Dockerfile { req.dockerfile.0.as_str() } else { "" };
    let recipe = Recipe { builder: req.builder.name(), dockerfile, epoch, repository: req.repository.as_str() };
    identity::identify(&req.brand, &req.patchset, base, &recipe)
}

/// Pushes every tag; returns `repository@digest` of the first (the default tag).
async fn push_all(
    daemon: &Daemon,
    tags: &[ImageRef],
    repository: &ImageRef,
    creds: &docker::push::Credentials,
    progress: &Progress,
) -> Result<String> {
    let mut first = String::new();
    for (i, t) in tags.iter().enumerate() {
        // A --tag may name another registry: its own credentials.
        let other;
        let creds = if t.registry() == repository.registry() {
            creds
        } else {
            other = docker::push::credentials(t)?;
            &other
        };
        let stage = progress.start("push", format!("pushing {t}"));
        let digest = docker::push::push(daemon, t, creds, &stage).await?;
        stage.done(format!("{t} → {digest}"));
        if i == 0 {
            first = format!("{}@{digest}", t.repository());
        }
    }
    Ok(first)
}

async fn tag_all(daemon: &Daemon, id: &str, tags: &[ImageRef], progress: &Progress) -> Result<()> {
    let stage = progress.start("tag", format!("tagging {}", short_id(id)));
    for t in tags {
        daemon.tag(id, t).await?;
    }
    stage.done(tags.iter().map(ImageRef::as_str).collect::<Vec<_>>().join(", "));
    Ok(())
}

/// `sha256:0123456789ab`.
pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(19)]
}

/// The base image, imported from `--base-dir` first when asked.
pub async fn base_image(daemon: &Daemon, req: &Request, progress: &Progress) -> Result<BaseImage> {
    let stage = progress.start("base", format!("looking up {}", req.base));
    if let Some(dir) = &req.base_dir {
        docker::import::import_dir(daemon, dir, &req.base, &req.patchset.root, &stage).await?;
    }
    let base = docker::base::resolve(daemon, &req.base, req.platform.as_deref(), &stage).await?;
    if let Some(p) = &req.platform
        && !platform_matches(p, &base.platform())
    {
        return Err(Error::usage(
            format!("base image {} is {}, not {p}", base.reference, base.platform()),
            format!("pull the {p} variant of the base (`docker pull --platform {p} …`) or drop --platform"),
        ));
    }
    stage.done(format!("{} = {} ({})", base.reference, short_id(&base.id), base.platform()));
    Ok(base)
}

fn platform_matches(wanted: &str, have: &str) -> bool {
    have == wanted || have.starts_with(&format!("{wanted}/"))
}

/// The extracted base files, from the cache or the image.
pub struct BaseFiles {
    pub tree: DirTree,
    pub manifest: Manifest,
    pub hit: bool,
}

pub async fn base_files(
    daemon: &Daemon,
    req: &Request,
    base: &BaseImage,
    cleanup: &Cleanup,
    progress: &Progress,
) -> Result<BaseFiles> {
    image_files(daemon, &base.id, &req.patchset, req.no_cache, cleanup, progress).await
}

/// The patch set's `extract` paths of image `id`, from the cache or the image.
pub async fn image_files(
    daemon: &Daemon,
    id: &str,
    ps: &PatchSet,
    no_cache: bool,
    cleanup: &Cleanup,
    progress: &Progress,
) -> Result<BaseFiles> {
    let entry = Cache::open()?.entry(id, &ps.root, &ps.extract);
    let stage = progress.start("extract", format!("reading {} paths from {}", ps.extract.len(), short_id(id)));
    let cached = if no_cache { None } else { entry.load() };
    let hit = cached.is_some();
    let manifest = match cached {
        Some(m) => m,
        None => docker::extract::extract(daemon, id, &ps.root, &ps.extract, &entry, cleanup, &stage).await?,
    };
    let tree = DirTree::open(&entry.app(), &ps.extract)?;
    stage.done(format!(
        "{} files, {} ({})",
        tree.files().len(),
        human_bytes(manifest.bytes),
        if hit { "cache hit" } else { "extracted" }
    ));
    Ok(BaseFiles { tree, manifest, hit })
}

/// Runs the render engine off the async thread (it is CPU work); hands the
/// base tree back for the audit.
pub async fn render_overlay(req: &Request, tree: DirTree, progress: &Progress) -> Result<(Overlay, Report, DirTree)> {
    let stage = progress.start("render", format!("patching with {}", req.patchset.name));
    let (brand, ps, partial) = (req.brand.clone(), req.patchset.clone(), req.partial);
    let (mut overlay, mut report, tree) = tokio::task::spawn_blocking(move || {
        render::render(&brand, &ps, &tree, render::Options { partial }).map(|(o, r)| (o, r, tree))
    })
    .await
    .map_err(|e| Error::usage(format!("the render step panicked: {e}"), "report this as a bug"))??;
    add_env_wrapper(&req.patchset, &mut overlay, &mut report);
    let t = &report.totals;
    stage.done(format!("{} files changed, {} added, {} replacements", t.files_changed, t.files_added, t.replacements));
    Ok((overlay, report, tree))
}

/// Every image carries the entrypoint wrapper the stack files run
/// (`sh <wrapper> <command>`: secrets from `X_FILE`); the image's own
/// entrypoint is unchanged, so it behaves as the stock one unless asked.
fn add_env_wrapper(ps: &PatchSet, overlay: &mut Overlay, report: &mut Report) {
    use crate::docker::entrypoint::{ENTRYPOINT_PATH, ENTRYPOINT_SH};
    let Some(rel) = ENTRYPOINT_PATH.strip_prefix(&format!("{}/", ps.root)) else { return };
    overlay.files.insert(rel.to_string(), ENTRYPOINT_SH.as_bytes().to_vec());
    report.files.push(crate::report::FileReport {
        path: rel.to_string(),
        change: crate::report::Change::Added,
        rules: vec!["entrypoint-wrapper".into()],
        replacements: 0,
        bytes_before: 0,
        bytes_after: ENTRYPOINT_SH.len() as u64,
    });
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
    report.totals.files_added += 1;
    report.totals.bytes_after += ENTRYPOINT_SH.len() as u64;
}

/// Renders, then audits the result and stops on findings (unless leaks are
/// allowed); the report carries the audit, the image's labels its verdict.
pub async fn render_checked(
    req: &Request,
    tree: DirTree,
    ident: &mut Identity,
    progress: &Progress,
) -> Result<(Overlay, Report)> {
    let (overlay, mut report, tree) = render_overlay(req, tree, progress).await?;
    let (overlay, audit) = audit_result(req, tree, overlay, progress).await?;
    gate(&audit, req.allow_leaks)?;
    ident.labels.insert(AUDIT_LABEL.into(), audit_label(&audit));
    report.audit = Some(audit);
    Ok((overlay, report))
}

/// The label that says what the audit of an image found.
pub const AUDIT_LABEL: &str = "io.whitelabel.audit";

/// Audits the base with the overlay on top (what the image will hold),
/// against the base. The overlay moves to the worker thread and back.
async fn audit_result(req: &Request, tree: DirTree, overlay: Overlay, progress: &Progress) -> Result<(Overlay, Audit)> {
    let stage = progress.start("audit", "looking for upstream branding left in the result");
    let (brand, ps) = (req.brand.clone(), req.patchset.clone());
    let (overlay, audit) = tokio::task::spawn_blocking(move || {
        let layered = Layered::new(&tree, &overlay.files);
        let opts = audit::Options { reference: Some(&tree), brand: Some(&brand), kept: false };
        let mut a = audit::audit(&layered, &ps, opts);
        a.target = "the result (base + overlay)".into();
        (overlay, a)
    })
    .await
    .map_err(|e| Error::usage(format!("the audit step panicked: {e}"), "report this as a bug"))?;
    stage.done(format!("{} files, {}: {}", audit.files, human_bytes(audit.bytes), audit.summary()));
    Ok((overlay, audit))
}

fn audit_label(a: &Audit) -> String {
    if a.clean() { "clean".into() } else { format!("{} findings allowed ({})", a.findings.len(), a.summary()) }
}

/// Stops a build whose result is not clean, unless leaks are allowed.
fn gate(a: &Audit, allow: bool) -> Result<()> {
    // --allow-leaks lets upstream branding through, never damage (a view
    // whose ERB tags moved, a file that no longer parses).
    if a.clean() || (allow && a.errors() == 0) {
        return Ok(());
    }
    const SHOWN: usize = 12;
    let more = a.findings.len().saturating_sub(SHOWN);
    Err(Error::Leaks {
        summary: a.summary(),
        lines: a.findings.iter().take(SHOWN).map(|f| f.line()).collect(),
        more: if more > 0 { format!("  … and {more} more\n") } else { String::new() },
        fix: "extend the patch set (or keep the item with a reason in its [[keep]] list), or pass --allow-leaks to build anyway; `whitelabel audit IMAGE` lists them all".into(),
    })
}

/// The same for an image built earlier, from its label.
fn gate_label(label: Option<&str>, allow: bool) -> Result<()> {
    match label {
        Some(l) if l != "clean" && !allow => Err(Error::Leaks {
            summary: l.to_string(),
            lines: Vec::new(),
            more: String::new(),
            fix: "this image was built with --allow-leaks; pass it again, or change the inputs and rebuild".into(),
        }),
        _ => Ok(()),
    }
}

/// The `docker load` archive of the overlay on `base`, its image ID and the layer size.
fn assemble(
    base: &BaseImage,
    ident: &Identity,
    ps: &PatchSet,
    overlay: &Overlay,
    manifest: &Manifest,
    progress: &Progress,
) -> Result<(Vec<u8>, String, u64)> {
    let stage = progress.start("layer", "writing the layer and image config");
    let files = overlay.files.iter().map(|(p, b)| (p.as_str(), Content::Bytes(b)));
    let layer = assemble::layer(&ps.root, files, ident.epoch, &manifest.meta)
        .map_err(|e| Error::io("writing the layer", "memory", e))?;
    let comment = format!(
        "whitelabel {}: brand {} on {}",
        env!("CARGO_PKG_VERSION"),
        ident.labels["io.whitelabel.brand"],
        base.reference
    );
    let config = assemble::config(Some(base), &layer.diff_id, &ident.labels, ident.epoch, &comment);
    let (config, id) = assemble::config_bytes(&config);
    let archive = assemble::write_archive(Vec::new(), &config, &id, &layer.diff_id, Content::Bytes(&layer.tar))
        .map_err(|e| Error::io("writing the image archive", "memory", e))?;
    let bytes = layer.tar.len() as u64;
    stage.done(format!("{} layer, image {}", human_bytes(bytes), short_id(&id)));
    Ok((archive, id, bytes))
}

async fn load(
    daemon: &Daemon,
    archive: Vec<u8>,
    id: &str,
    what: &str,
    progress: &Progress,
    cleanup: &Cleanup,
) -> Result<()> {
    // Not there yet (else the no-op check had found it): undone if never tagged.
    cleanup.image(id);
    let stage = progress.start("load", format!("loading {what}, {}", short_id(id)));
    docker::load::load(daemon, archive, id, &stage).await?;
    stage.done(format!("loaded {what}, {}", short_id(id)));
    Ok(())
}

/// The archive kept for this input, unless told not to use caches.
fn reusable(req: &Request, ident: &Identity) -> Option<(Vec<u8>, Assembled)> {
    if req.no_cache || req.builder != Builder::Assemble {
        return None;
    }
    Cache::open().ok()?.assembled(&ident.input)
}

async fn dockerfile_build(
    daemon: &Daemon,
    req: &Request,
    base: &BaseImage,
    ident: &Identity,
    overlay: &Overlay,
    manifest: &Manifest,
    progress: &Progress,
) -> Result<(String, u64)> {
    let stage = progress.start("context", "writing the build context");
    let tar = context_tar(req, &base.pinned(), ident, overlay, &manifest.meta)?;
    let bytes = tar.len() as u64;
    stage.done(format!("{} context", human_bytes(bytes)));
    let stage = progress.start("build", "docker build");
    // The build starts from exactly the image the files were read from.
    let args = HashMap::from([("BASE_IMAGE".to_string(), base.id.clone())]);
    let build = docker::build::Build {
        context: tar,
        build_args: args,
        platform: req.platform.as_deref(),
        no_cache: req.no_cache,
    };
    let id = docker::build::build(daemon, build, &stage).await?;
    stage.done(format!("built {}", short_id(&id)));
    Ok((id, bytes))
}

/// The Dockerfile context as a tar (what `whitelabel context` writes).
pub fn context_tar(
    req: &Request,
    base_ref: &str,
    ident: &Identity,
    overlay: &Overlay,
    meta: &BTreeMap<String, Meta>,
) -> Result<Vec<u8>> {
    let (template, origin) = &req.dockerfile;
    let dockerfile = context::dockerfile(template, origin, base_ref, &ident.labels, &req.patchset.root)?;
    let files = overlay.files.iter().map(|(p, b)| (p.as_str(), b.as_slice()));
    context::write(Vec::new(), &dockerfile, files, meta, ident.epoch)
        .map_err(|e| Error::io("writing the build context", "memory", e))
}

/// The base image name `--base-dir` imports under when no `--base` is given:
/// never the upstream name itself, so a trial never shadows a real image.
pub fn import_name(base: &ImageRef) -> ImageRef {
    let name = format!("whitelabel-import/{}:{}", base.name(), base.tag_or_latest());
    ImageRef::parse(&name).expect("a name and tag from a parsed reference form a reference")
}
