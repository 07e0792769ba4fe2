//! `whitelabel apply-config <BRAND> --database-url URL`: brands an existing
//! install's `installation_configs` rows (which the image's YAML defaults no
//! longer reach) and clears their Redis cache.

use super::Cli;
use crate::config_db::{self, CacheState, Options, Report};
use crate::error::{Problem, Result};
use crate::installation::{self, Action};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A name under ./brands/ or a path to a brand directory.
    brand: String,
    /// Chatwoot's PostgreSQL: postgres://USER:PASSWORD@HOST:5432/DATABASE.
    /// Prefer the variable: a URL on the command line is visible to `ps`.
    #[arg(long, value_name = "URL", env = "WHITELABEL_DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Chatwoot's Redis (REDIS_URL with the password inside:
    /// redis://:PASSWORD@HOST:6379): stale cached values are deleted.
    /// Without it, the old values can be served for up to a day.
    #[arg(long, value_name = "URL", env = "WHITELABEL_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// The image the install runs [default: the brand's [image].base].
    #[arg(long, value_name = "IMAGE")]
    base: Option<String>,
    /// Print the SQL and the cache keys it would delete; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print one JSON document.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let brand = cli.load_brand(&args.brand)?;
    let base = args.base.clone().unwrap_or_else(|| brand.image.base.clone());
    let patchset = cli.load_patchset_for(&base)?;
    let rows = installation::rows(&brand, &patchset)?;
    // Where the base came from, for the warning's file/field.
    let (file, field) = match &args.base {
        Some(_) => (std::path::PathBuf::from("--base"), None),
        None => (brand.pack.root().join(crate::brand::BRAND_FILE), Some("image.base".to_string())),
    };
    let warning = crate::brand::edition::enterprise(&base).map(|e| {
        Problem::new(file, field, e.message(), format!("build and run the brand's image on {}", e.ce)).to_string()
    });
    if let Some(w) = &warning {
        eprintln!("warning: {w}");
    }
    let report = config_db::apply(
        &rows,
        &Options { database_url: &args.database_url, redis_url: args.redis_url.as_deref(), dry_run: args.dry_run },
    )?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&json(&brand.id, &report, warning)).expect("json"));
    } else {
        print_human(&brand.name, &report);
    }
    Ok(())
}

fn json(brand: &str, r: &Report, warning: Option<String>) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = r
        .steps
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.row.name,
                "action": s.action,
                "value": s.row.value.to_json(),
                "previous": match &s.current {
                    None => serde_json::Value::Null,
                    Some(Ok(v)) => v.to_json(),
                    Some(Err(why)) => format!("unreadable: {why}").into(),
                },
                "locked": s.current_locked.unwrap_or(s.row.locked),
            })
        })
        .collect();
    serde_json::json!({
        "ok": true,
        "brand": brand,
        "dry_run": r.dry_run,
        "database": r.database,
        "redis": r.redis,
        "changed": r.changes(),
        "written": r.written,
        "rows": rows,
        "cache": r.cache,
        "sql": r.sql,
        "warnings": warning.into_iter().collect::<Vec<_>>(),
        "seconds": (r.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
    })
}

fn print_human(name: &str, r: &Report) {
    let changes = r.changes();
    if r.dry_run {
        out!("-- Dry run on {}: nothing was executed. Each statement is sent with bind parameters.", r.database);
        out!("{}", r.sql.trim_end());
        for k in r.cache.iter().filter(|k| k.state == CacheState::WouldDelete) {
            out!("-- redis: DEL {}", k.key);
        }
        out!("-- {changes} of {} rows would change", r.steps.len());
        return;
    }
    let width = r.steps.iter().map(|s| s.row.name.len()).max().unwrap_or(0);
    out!("{} on {}", name, r.database);
    for s in &r.steps {
        let lock = s.current_locked.unwrap_or(s.row.locked);
        let lock = if lock { "" } else { "  (unlocked: kept)" };
        let line = match (&s.action, &s.current) {
            (Action::Unchanged, _) => format!("unchanged {}", s.row.value.shown()),
            (Action::Insert, _) => format!("created   {}", s.row.value.shown()),
            (Action::Update, Some(Ok(old))) => format!("updated   {} → {}", old.shown(), s.row.value.shown()),
            (Action::Update, _) => format!("updated   (unreadable) → {}", s.row.value.shown()),
        };
        out!("  {:width$}  {line}{lock}", s.row.name);
    }
    if changes == 0 {
        out!("Nothing to change: all {} rows already hold {name}'s values.", r.steps.len());
    } else {
        out!("{} rows written in one transaction ({:.0} ms).", r.written, r.elapsed.as_secs_f64() * 1000.0);
    }
    match &r.redis {
        None => out!("Cache: not cleared (no --redis-url); the app may show old values for up to a day."),
        Some(redis) => {
            let deleted = r.cache.iter().filter(|k| k.state == CacheState::Deleted).count();
            if deleted == 0 {
                out!("Cache on {redis}: nothing stale.");
            } else {
                let keys = if deleted == 1 { "key" } else { "keys" };
                out!("Cache on {redis}: deleted {deleted} stale {keys} ({}*).", installation::CACHE_PREFIX);
            }
        }
    }
}
