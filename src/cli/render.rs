//! `whitelabel render <BRAND> --from-dir APP --out DIR`: the overlay without Docker.

use std::path::PathBuf;
use std::time::Instant;

use super::{Cli, display, human_bytes};
use crate::error::Result;
use crate::output::DirOutput;
use crate::render::{self, Options, sibling};
use crate::tree::DirTree;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A name under ./brands/ or a path to a brand directory.
    brand: String,
    /// The extracted /app directory of the base image.
    #[arg(long, value_name = "APP_ROOT")]
    from_dir: PathBuf,
    /// Where to write the changed and added files: a new or empty directory, or an
    /// earlier render (replaced as a whole, atomically).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Where to write the JSON report: a new file or an earlier report [default: DIR.report.json].
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Skip target files absent from the tree (listed in the report).
    #[arg(long)]
    partial: bool,
    /// Print the report as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let started = Instant::now();
    // First: a signal from here on removes what the run made and exits 130/143.
    crate::interrupt::install();
    let brand = cli.load_brand(&args.brand)?;
    let patchset = cli.load_patchset(&brand)?;
    let tree = DirTree::open(&args.from_dir, &patchset.extract)?;
    let report_path = args.report.clone().unwrap_or_else(|| sibling(&args.out, "report.json"));
    let target = DirOutput { out: &args.out, report: Some(&report_path), inputs: vec![&args.from_dir] };
    // Refused before any work; checked again under the output's lock.
    target.check()?;
    let (overlay, report) = render::render(&brand, &patchset, &tree, Options { partial: args.partial })?;
    let json = serde_json::to_string_pretty(&report).expect("report serialises");
    let about = format!("brand {} ({}), patch set {}, {}", brand.id, brand.digest, patchset.name, report.tool);
    target.replace(&about, format!("{json}\n").as_bytes(), &overlay.files)?;
    if args.json {
        out!("{json}");
        return Ok(());
    }
    let t = &report.totals;
    out!(
        "Rendered {} over {} with patch set {} in {:.2}s",
        brand.name,
        display(&args.from_dir),
        patchset.name,
        started.elapsed().as_secs_f64()
    );
    out!(
        "  {} files changed, {} added, {} .gz/.br regenerated, {} replacements",
        t.files_changed,
        t.files_added,
        t.siblings_regenerated,
        t.replacements
    );
    let width = report.rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in report.rules.iter().filter(|r| r.files > 0) {
        out!(
            "  {:width$}  {:>4} {}  {:>6} {}",
            r.id,
            r.files,
            plural(r.files, "file"),
            r.replacements,
            plural(r.replacements, "change")
        );
    }
    let cb = &report.cache_busting;
    if !cb.is_empty() {
        out!(
            "  cache-busting: {} content-named {} renamed, ?v= in {} {}, listed in the report",
            cb.renamed.len(),
            plural(cb.renamed.len(), "file").trim_end(),
            cb.versioned.len(),
            plural(cb.versioned.len(), "referrer").trim_end()
        );
    }
    if !report.skipped.is_empty() {
        out!("  skipped (--partial): {} targets absent from the tree, listed in the report", report.skipped.len());
    }
    out!("  overlay: {} ({})", display(&args.out), human_bytes(t.bytes_after));
    out!("  report:  {}", display(&report_path));
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("{word} ") } else { format!("{word}s") }
}
