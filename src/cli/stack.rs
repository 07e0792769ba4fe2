//! `whitelabel stack <BRAND>`: the brand's Docker Swarm stack file, written
//! anew, or re-pinned in place to a new image digest (a hand-edited file
//! keeps everything but its image lines).

use std::path::PathBuf;

use super::{Cli, display};
use crate::brand::edition;
use crate::error::{Error, Result};
use crate::render::write_atomically;
use crate::stack::{self, Names};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A name under ./brands/ or a path to a brand directory.
    brand: String,
    /// The image to pin, by digest: repo@sha256:… [default: the digest file's].
    #[arg(long, value_name = "REF")]
    image: Option<String>,
    /// The file `whitelabel build --push --digest-file` wrote [default: <stacks-dir>/<brand>.digest].
    #[arg(long, value_name = "PATH")]
    digest_file: Option<PathBuf>,
    /// Where the stack file goes [default: <stacks-dir>/<brand>.yml].
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write the whole file anew, even over one edited by hand.
    #[arg(long)]
    force: bool,
    /// Print one JSON document instead of a summary.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let brand = cli.load_brand(&args.brand)?;
    let names = Names::new(&brand.stack_name()?);
    let digest_file = args.digest_file.clone().unwrap_or_else(|| cli.digest_file(&brand.id));
    let (pinned, source) = match &args.image {
        Some(r) => (stack::image_from_arg(r, &digest_file)?, "--image".to_string()),
        None => (stack::image_from_file(&digest_file, &args.brand)?, display(&digest_file)),
    };
    let image = pinned.to_string();
    let output = args.output.clone().unwrap_or_else(|| cli.stacks_dir.join(format!("{}.yml", brand.id)));

    // The edition warning goes to stderr even with --json (and into the JSON).
    edition::warn_if_enterprise(&brand.image.base);
    let mut warnings: Vec<String> = edition::enterprise_warning(&brand.image.base).into_iter().collect();
    let shown = warnings.len();
    let app_host = url::Url::parse(&brand.urls.app).ok().and_then(|u| u.host_str().map(str::to_string));
    if app_host.as_deref() != Some(brand.stack.domain.as_str()) {
        warnings.push(format!(
            "[urls] app ({}) is not on [stack] domain {}: FRONTEND_URL and the Traefik rule disagree",
            brand.urls.app, brand.stack.domain
        ));
    }
    let repo = pinned.repository();
    if repo != brand.image.repository {
        warnings.push(format!(
            "the pinned image is from {repo}, not the brand's repository {}: is it this brand's build?",
            brand.image.repository
        ));
    }
    if !args.json {
        for w in &warnings[shown..] {
            eprintln!("warning: {w}");
        }
    }

    let existing = match std::fs::read_to_string(&output) {
        Ok(text) if !args.force => Some(text),
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io("reading", &output, e)),
    };
    let (action, previous, lines) = match existing {
        Some(text) => {
            let r = stack::repin(&output, &text, &names, &image)?;
            if r.lines > 0 {
                write_atomically(&output, r.text.as_bytes())?;
            }
            (if r.lines > 0 { "repinned" } else { "unchanged" }, r.previous, r.lines)
        }
        None => {
            if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
            }
            write_atomically(&output, stack::render(&brand, &names, &image).as_bytes())?;
            ("written", Vec::new(), 0)
        }
    };

    if args.json {
        let out = serde_json::json!({
            "ok": true,
            "brand": brand.id,
            "stack": names.stack,
            "file": display(&output),
            "action": action,
            "image": image,
            "image_from": source,
            "previous": previous,
            "lines_changed": lines,
            "services": names.services(),
            "secrets": names.secrets(),
            "network": brand.stack.network,
            "domain": brand.stack.domain,
            "warnings": warnings,
        });
        out!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return Ok(());
    }
    let file = display(&output);
    match action {
        "unchanged" => out!("{file} already runs {image}; nothing changed"),
        "repinned" => {
            out!("Re-pinned {file}: {} and {} now run", names.app, names.sidekiq);
            out!("  image     {image} (from {source})");
            out!("  was       {}", previous.join(", "));
            out!("  changed   {lines} image line(s); the rest of the file is as you left it");
        }
        _ => {
            out!("Wrote {file}: stack {} for https://{}", names.stack, brand.stack.domain);
            out!("  image     {image} (from {source})");
            out!("  services  {}", names.services().join(", "));
            out!("  secrets   {} (external)", names.secrets().join(", "));
            out!("  network   {} (external, shared with Traefik)", brand.stack.network);
        }
    }
    if action != "unchanged" {
        out!(
            "Next: whitelabel secrets {} --swarm (once), then docker stack deploy -c {file} {}",
            args.brand,
            names.stack
        );
    }
    Ok(())
}
