//! `whitelabel patchsets`: the patch sets this binary patches with (built
//! in, or from `--patches DIR`), with the upstream version and commit each
//! was written for and its digest (part of every build's input hash).

use crate::cli::Cli;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let lib = cli.patch_library();
    let sets = lib.list()?;
    if args.json {
        let doc = serde_json::json!({ "ok": true, "source": lib.describe(), "patchsets": sets });
        out!("{}", serde_json::to_string_pretty(&doc).expect("json"));
        return Ok(());
    }
    out!("patch sets: {}", lib.describe());
    for s in &sets {
        out!("{}  version {}  upstream {}@{}", s.name, s.version, s.source_repository, s.revision);
        out!("    source {}  digest {}  {} rules, {} stock files by hash", s.source, s.digest, s.rules, s.stock_files);
    }
    if sets.is_empty() {
        out!("(none)");
    }
    Ok(())
}
