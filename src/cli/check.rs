//! `whitelabel check <BRAND>`: validate a brand pack.

use super::{Cli, display};
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A name under ./brands/ or a path to a brand directory.
    brand: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let brand = cli.load_brand(&args.brand)?;
    if !brand.strings.is_empty() {
        // `[strings]` is checked against the catalogue of the brand's patch set.
        let ps = cli.load_patchset(&brand)?;
        let file = brand.pack.root().join(crate::brand::BRAND_FILE);
        crate::overrides::check(ps.strings.as_ref(), &file, &brand.strings).map_err(|problems| {
            crate::error::Error::InvalidBrand { pack: brand.pack.root().to_path_buf(), problems }
        })?;
    }
    if args.json {
        let palette: serde_json::Map<String, serde_json::Value> =
            brand.palette.iter().map(|(k, c)| (k.to_string(), c.hex().into())).collect();
        let out = serde_json::json!({
            "ok": true,
            "brand": brand.id,
            "name": brand.name,
            "pack": display(brand.pack.root()),
            "digest": brand.digest,
            "contrast_white_on_primary": (brand.primary.contrast(crate::color::WHITE) * 100.0).round() / 100.0,
            "palette": palette,
            "notes": brand.notes,
        });
        out!("{}", serde_json::to_string_pretty(&out).expect("json"));
    } else {
        out!("✓ {} ({}) is a valid brand pack", brand.name, display(brand.pack.root()));
        for note in &brand.notes {
            out!("  {note}");
        }
        let swatches: Vec<String> = brand.palette.iter().map(|(k, c)| format!("{k} {c}")).collect();
        out!("  palette: {}", swatches.join(", "));
    }
    Ok(())
}
