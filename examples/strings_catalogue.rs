//! Builds the patch set's message catalogue (every locale's keys and their
//! placeholders, for `check` of a brand's `[strings]`) from an upstream
//! source tree:
//! `cargo run --example strings_catalogue -- ../shared/chatwoot-v3.15.0 patches/chatwoot-v3.15.0/strings-catalogue.json.gz`

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [source, out] = args.as_slice() else {
        eprintln!("usage: strings_catalogue SOURCE_TREE OUT.json.gz");
        std::process::exit(2);
    };
    let catalogue = whitelabel::overrides::Catalogue::build(std::path::Path::new(source)).unwrap_or_else(|why| {
        eprintln!("{source}: {why}");
        std::process::exit(1);
    });
    std::fs::write(out, catalogue.to_gzip()).unwrap_or_else(|e| {
        eprintln!("{out}: {e}");
        std::process::exit(1);
    });
    let keys: usize = catalogue.locales.values().map(|k| k.len()).sum();
    println!("{out}: {} locales, {keys} keys", catalogue.locales.len());
}
