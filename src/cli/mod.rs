//! The command line: argument parsing, dispatch, and the error/JSON plumbing
//! shared by every subcommand (one module each).

/// `println!` that ignores a closed stdout (`whitelabel … | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod apply_config;
mod audit;
mod bake;
mod build;
mod build_many;
mod check;
mod context;
mod list;
mod new;
mod patchsets;
mod preview;
mod render;
mod secrets;
mod stack;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::brand::{self, Brand};
use crate::error::{Error, Result};
use crate::image_ref::ImageRef;
use crate::patches::Library;
use crate::patchset::PatchSet;
pub use crate::progress::human_bytes;

#[derive(Debug, Parser)]
#[command(name = "whitelabel", version, about = "Brand Chatwoot for a client without a fork", long_about = None)]
pub struct Cli {
    /// Where brand packs live (`<BRAND>` names a directory here).
    #[arg(long, global = true, default_value = "brands", env = "WHITELABEL_BRANDS")]
    brands_dir: PathBuf,
    /// Read patch sets from this directory (of patch sets, or one patch set)
    /// instead of the ones built into whitelabel.
    #[arg(long, global = true, env = "WHITELABEL_PATCHES")]
    patches: Option<PathBuf>,
    /// Where stack files and pushed digests (`<brand>.digest`) live.
    #[arg(long, global = true, default_value = "stacks", env = "WHITELABEL_STACKS")]
    stacks_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a brand pack and print what is wrong (exit 1 on any error).
    Check(check::Args),
    /// Render a brand over an extracted /app tree into an overlay directory.
    Render(render::Args),
    /// Build the brand's image on the unmodified base (and push it).
    Build(build::Args),
    /// Write the Dockerfile build context for any other builder.
    Context(context::Args),
    /// List upstream branding left in an image or directory (exit 1 if any).
    Audit(audit::Args),
    /// Write every brand's context and a docker-bake.json for BuildKit.
    Bake(bake::Args),
    /// Write the brand's Docker Swarm stack file, pinned to the image digest.
    Stack(stack::Args),
    /// Generate the brand's deployment secrets (file and, with --swarm, Docker secrets).
    Secrets(secrets::Args),
    /// Brand an existing install's database rows (installation_configs) and clear their cache.
    ApplyConfig(apply_config::Args),
    /// Draw a contact sheet of the brand (PNG, or HTML with --html).
    Preview(preview::Args),
    /// Scaffold a brand pack to fill in: brand.toml with TODOs, artwork, mail layout.
    New(new::Args),
    /// The brand packs: check status, last built image, last pushed digest (exit 1 if one fails check).
    List(list::Args),
    /// The patch sets whitelabel knows (built in, or --patches DIR): version, upstream commit, digest.
    Patchsets(patchsets::Args),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let json = match &cli.command {
        Command::Check(a) => a.json,
        Command::Render(a) => a.json,
        Command::Build(a) => a.image.json,
        Command::Context(a) => a.image.json,
        Command::Audit(a) => a.json,
        Command::Bake(a) => a.image.json,
        Command::Stack(a) => a.json,
        Command::Secrets(a) => a.json,
        Command::ApplyConfig(a) => a.json,
        Command::Preview(a) => a.json,
        Command::New(a) => a.json,
        Command::List(a) => a.json,
        Command::Patchsets(a) => a.json,
    };
    // An override changes what every command patches with: say so, once,
    // on stderr (stdout may be a JSON document).
    if let Some(dir) = &cli.patches {
        eprintln!("note: patch sets from {} (--patches or WHITELABEL_PATCHES), not the built-in ones", dir.display());
    }
    // `audit` exits like grep: 1 "found something", 2 "could not look".
    let mut found = false;
    let result = match &cli.command {
        Command::Check(args) => check::run(&cli, args),
        Command::Render(args) => render::run(&cli, args),
        Command::Build(args) => build::run(&cli, args),
        Command::Context(args) => context::run(&cli, args),
        Command::Audit(args) => audit::run(&cli, args).map(|clean| found = !clean),
        Command::Bake(args) => bake::run(&cli, args),
        Command::Stack(args) => stack::run(&cli, args),
        Command::Secrets(args) => secrets::run(&cli, args),
        Command::ApplyConfig(args) => apply_config::run(&cli, args),
        Command::Preview(args) => preview::run(&cli, args),
        Command::New(args) => new::run(&cli, args),
        Command::List(args) => list::run(&cli, args).map(|ok| found = !ok),
        Command::Patchsets(args) => patchsets::run(&cli, args),
    };
    match result {
        Ok(()) => i32::from(found),
        Err(e) => {
            if json && matches!(e, Error::Reported(_)) {
                // The command's JSON already says what failed.
            } else if json {
                let out = serde_json::json!({ "ok": false, "error": e.to_string(), "problems": e.problems() });
                out!("{}", serde_json::to_string_pretty(&out).expect("json"));
            } else {
                eprintln!("error: {e}");
            }
            if matches!(cli.command, Command::Audit(_)) && e.exit_code() == 1 { 2 } else { e.exit_code() }
        }
    }
}

impl Cli {
    /// Every brand pack under the brands directory (see
    /// [`brand::packs::pack_dirs`]: hidden and staging folders never count).
    fn brand_names(&self) -> Result<Vec<String>> {
        Ok(brand::packs::pack_dirs(&self.brands_dir)?.into_iter().map(|(name, _)| name).collect())
    }

    /// Where `build --push` records a brand's pushed digest and `stack` reads it.
    fn digest_file(&self, brand: &str) -> PathBuf {
        self.stacks_dir.join(format!("{brand}.digest"))
    }

    fn load_brand(&self, arg: &str) -> Result<Brand> {
        Brand::load(&brand::locate(arg, &self.brands_dir))
    }

    /// Where patch sets are read from: `--patches`, else the built-in ones.
    fn patch_library(&self) -> Library {
        Library::new(self.patches.as_deref())
    }

    /// The patch set for a brand's base image (see [`Library::for_base`]).
    fn load_patchset(&self, brand: &Brand) -> Result<PatchSet> {
        self.load_patchset_for(&brand.image.base)
    }

    /// The patch set for base image `base` (see [`Library::for_base`]).
    fn load_patchset_for(&self, base: &str) -> Result<PatchSet> {
        let base = ImageRef::parse(base).map_err(|why| Error::usage(why, "give the base as repo[:tag][@sha256:…]"))?;
        self.patch_library().for_base(&base)
    }
}

pub fn display(p: &Path) -> String {
    p.display().to_string()
}
