//! The command line: argument parsing, dispatch, and the error/JSON plumbing
//! shared by every subcommand (one module each).

/// `println!` that ignores a closed stdout (`whitelabel … | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod audit;
mod build;
mod check;
mod context;
mod list;
mod new;
mod render;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::brand::{self, Brand};
use crate::error::{Error, Result};
use crate::patchset::PatchSet;
pub use crate::progress::human_bytes;

#[derive(Debug, Parser)]
#[command(name = "whitelabel", version, about = "Brand Chatwoot for a client without a fork", long_about = None)]
pub struct Cli {
    /// Where brand packs live (`<BRAND>` names a directory here).
    #[arg(long, global = true, default_value = "brands", env = "WHITELABEL_BRANDS")]
    brands_dir: PathBuf,
    /// Where patch sets live, or one patch set directory.
    #[arg(long, global = true, default_value = "patches", env = "WHITELABEL_PATCHES")]
    patches: PathBuf,
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
    /// Scaffold a brand pack to fill in: brand.toml with TODOs, artwork, mail layout.
    New(new::Args),
    /// The brand packs: check status, last built image, last pushed digest (exit 1 if one fails check).
    List(list::Args),
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
        Command::New(a) => a.json,
        Command::List(a) => a.json,
    };
    // `audit` exits like grep: 1 "found something", 2 "could not look".
    let mut found = false;
    let result = match &cli.command {
        Command::Check(args) => check::run(&cli, args),
        Command::Render(args) => render::run(&cli, args),
        Command::Build(args) => build::run(&cli, args),
        Command::Context(args) => context::run(&cli, args),
        Command::Audit(args) => audit::run(&cli, args).map(|clean| {
            if !clean {
                found = true
            }
        }),
        Command::New(args) => new::run(&cli, args),
        Command::List(args) => list::run(&cli, args).map(|ok| {
            if !ok {
                found = true
            }
        }),
    };
    match result {
        Ok(()) => i32::from(found),
        Err(e) => {
            if json {
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
    fn load_brand(&self, arg: &str) -> Result<Brand> {
        Brand::load(&brand::locate(arg, &self.brands_dir))
    }

    /// The patch set for a brand's base image: `--patches` itself when it is
    /// a patch set, else `<patches>/<repo>-<tag>` (with `-ce` falling back to
    /// the plain tag, same files).
    fn load_patchset(&self, brand: &Brand) -> Result<PatchSet> {
        self.load_patchset_for(&brand.image.base)
    }

    /// The patch set for base image `base` (see [`Cli::load_patchset`]).
    fn load_patchset_for(&self, base: &str) -> Result<PatchSet> {
        if self.patches.join("patchset.toml").is_file() {
            return PatchSet::load(&self.patches);
        }
        let candidates = patchset_names(base);
        for name in &candidates {
            let dir = self.patches.join(name);
            if dir.join("patchset.toml").is_file() {
                return PatchSet::load(&dir);
            }
        }
        Err(Error::usage(
            format!(
                "no patch set for base image {} (looked for {} under {})",
                base,
                candidates.join(", "),
                self.patches.display()
            ),
            "write a patch set for that version under patches/, or pass --patches DIR",
        ))
    }
}

/// `chatwoot/chatwoot:v3.15.0-ce` → `chatwoot-v3.15.0-ce`, `chatwoot-v3.15.0`.
fn patchset_names(base: &str) -> Vec<String> {
    let without_digest = base.split('@').next().unwrap_or(base);
    let (repo, tag) = match without_digest.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (without_digest, "latest"),
    };
    let name = repo.rsplit('/').next().unwrap_or(repo);
    let mut out = vec![format!("{name}-{tag}")];
    if let Some(plain) = tag.strip_suffix("-ce") {
        out.push(format!("{name}-{plain}"));
    }
    out
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patchset_names_from_base() {
        assert_eq!(patchset_names("chatwoot/chatwoot:v3.15.0"), vec!["chatwoot-v3.15.0"]);
        assert_eq!(patchset_names("chatwoot/chatwoot:v3.15.0-ce"), vec!["chatwoot-v3.15.0-ce", "chatwoot-v3.15.0"]);
        assert_eq!(patchset_names("localhost:5000/chatwoot/chatwoot:v3.15.0"), vec!["chatwoot-v3.15.0"]);
    }
}
