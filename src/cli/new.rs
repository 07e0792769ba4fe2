//! `whitelabel new <BRAND>`: scaffold a brand pack to fill in.

use std::path::Path;

use super::{Cli, display};
use crate::brand::scaffold::{Options, Scaffold};
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The brand id: the new pack's directory name under --brands-dir
    /// (lower-case letters, digits and `-`).
    brand: String,
    /// The product name users see (fills brand.name and brand.short_name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The host the installation is served on, e.g. chat.acme.example (fills
    /// [stack] domain and urls.app, and suggests the other URLs).
    #[arg(long, value_name = "HOST")]
    domain: Option<String>,
    /// Print what was written as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let scaffold =
        Scaffold::new(&Options { id: args.brand.clone(), name: args.name.clone(), domain: args.domain.clone() })?;
    let dir = scaffold.write(&cli.brands_dir)?;
    if args.json {
        let out = serde_json::json!({
            "ok": true,
            "brand": scaffold.id,
            "pack": display(&dir),
            "files": scaffold.files,
            "todo": scaffold.todo,
            "derived": scaffold.derived,
        });
        out!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return Ok(());
    }
    out!("Created brand pack {} in {}/", scaffold.id, display(&dir));
    let width = scaffold.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
    for f in &scaffold.files {
        out!("  {:width$}  {}", f.path, f.about);
    }
    if !scaffold.derived.is_empty() {
        out!("Filled in from --name/--domain: {}", scaffold.derived.join(", "));
    }
    // How to name this pack in the next commands: by id under the default
    // brands dir, else by path (a `<BRAND>` with a slash is a path).
    let arg = if cli.brands_dir == Path::new("brands") { scaffold.id.clone() } else { shell_quote(&display(&dir)) };
    let toml = shell_quote(&display(&dir.join(crate::brand::BRAND_FILE)));
    out!("");
    out!("Next:");
    out!("  1. Fill in the {} values marked TODO in {toml}:", scaffold.todo.len());
    let width = scaffold.todo.iter().map(|t| t.field.len()).max().unwrap_or(0);
    for t in &scaffold.todo {
        out!("       {:width$}  {}", t.field, t.hint);
    }
    if args.domain.is_some() {
        out!("     (the URLs, sender and repository are suggested from --domain: deleting `TODO: ` accepts one)");
    }
    out!("  2. Replace logo.svg, logo_dark.svg and mark.svg with the brand's artwork (shapes and paths only),");
    out!("     and pick the brand color ([colors] primary).");
    out!("  3. whitelabel check {arg}      lists what is still missing");
    out!("  4. whitelabel build {arg}      the brand's image (--push to push it)");
    Ok(())
}

/// `s` as one shell word: bare when it is plain, else single-quoted.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_words() {
        assert_eq!(super::shell_quote("brands/acme"), "brands/acme");
        assert_eq!(super::shell_quote("/tmp/my brands/acme"), "'/tmp/my brands/acme'");
        assert_eq!(super::shell_quote("it's"), r"'it'\''s'");
    }
}
