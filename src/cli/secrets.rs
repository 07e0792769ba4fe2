//! `whitelabel secrets <BRAND>`: fresh deployment secrets for a brand, kept
//! in a private env file outside the repository and, with `--swarm`, created
//! as the Docker secrets the stack file references. Prints names and places,
//! never values.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Cli, display};
use crate::docker::{self, Daemon};
use crate::error::{Error, Result};
use crate::secrets::{self as sec, SMTP_PASSWORD, Values};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A name under ./brands/ or a path to a brand directory.
    brand: String,
    /// The env file that keeps the values [default: $XDG_CONFIG_HOME/whitelabel/secrets/<brand>.env].
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also create them as Docker secrets on the swarm manager DOCKER_HOST points at.
    #[arg(long)]
    swarm: bool,
    /// Replace the values an existing file holds with fresh ones.
    #[arg(long)]
    rotate: bool,
    /// Read the SMTP password (given by the mail provider) from this file.
    #[arg(long, value_name = "FILE")]
    smtp_password_file: Option<PathBuf>,
    /// Allow an env file inside a git repository.
    #[arg(long)]
    force: bool,
    /// Print one JSON document instead of a summary.
    #[arg(long)]
    pub json: bool,
}

/// Where each value came from, for the summary.
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "snake_case")]
enum Origin {
    Generated,
    Given,
    Kept,
    Missing,
}

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    let brand = cli.load_brand(&args.brand)?;
    let stack = brand.stack_name()?;
    let path = match &args.output {
        Some(p) => p.clone(),
        None => sec::default_path(&stack)?,
    };
    refuse_inside_repository(&path, brand.pack.root(), args.force)?;
    let given = args.smtp_password_file.as_deref().map(sec::given_value).transpose()?;

    let exists = std::fs::symlink_metadata(&path).is_ok();
    let mut origins: Vec<(&'static str, Origin)> = Vec::new();
    let (values, write) = if !exists || args.rotate {
        let old = if exists { Some(sec::read_env(&path)?) } else { None };
        let mut v = Values::generate()?;
        match (&given, old.as_ref().and_then(|o| o.get(SMTP_PASSWORD))) {
            (Some(g), _) => v.set(SMTP_PASSWORD, g.clone()),
            (None, Some(kept)) => v.set(SMTP_PASSWORD, kept.to_string()),
            (None, None) => {}
        }
        (v, true)
    } else {
        // An existing file is never overwritten; it may only gain the SMTP
        // password it lacks, and it is what --swarm uploads.
        let mut v = sec::read_env(&path)?;
        match &given {
            Some(_) if v.get(SMTP_PASSWORD).is_some() => return Err(sec::exists(&path)),
            Some(g) => {
                v.set(SMTP_PASSWORD, g.clone());
                (v, true)
            }
            None if args.swarm => (v, false),
            None => return Err(sec::exists(&path)),
        }
    };
    for s in sec::ALL {
        let origin = match (values.get(s), s.random_bytes) {
            (None, _) => Origin::Missing,
            (Some(_), _) if s == SMTP_PASSWORD && given.is_some() => Origin::Given,
            (Some(_), Some(_)) if write && (!exists || args.rotate) => Origin::Generated,
            (Some(_), _) => Origin::Kept,
        };
        origins.push((s.env, origin));
    }
    let text = sec::render_env(&brand.id, &stack, &values);
    let replace = exists;

    let mut created = Vec::new();
    if args.swarm {
        if let Some((env, _)) = origins.iter().find(|(_, o)| matches!(o, Origin::Missing)) {
            return Err(Error::usage(
                format!("{env} has no value, and the stack needs every secret"),
                format!(
                    "pass --smtp-password-file FILE with the password your mail provider gave you{}",
                    if exists { format!(", or write it after `{env}=` in {}", path.display()) } else { String::new() }
                ),
            ));
        }
        created =
            upload(
                &brand.id,
                &stack,
                &values,
                || if write { sec::write_private(&path, &text, replace) } else { Ok(()) },
            )?;
    } else if write {
        sec::write_private(&path, &text, replace)?;
    }

    let file = display(&sec::resolve(&path));
    if args.json {
        let out = serde_json::json!({
            "ok": true,
            "brand": brand.id,
            "stack": stack,
            "file": file,
            "file_written": write,
            "values": origins.iter().map(|(k, o)| (k.to_string(), serde_json::to_value(o).expect("origin"))).collect::<serde_json::Map<_, _>>(),
            "docker_secrets": created.iter().map(|(n, id)| serde_json::json!({"name": n, "id": id})).collect::<Vec<_>>(),
        });
        out!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return Ok(());
    }
    if write {
        out!("Wrote the secrets of {} to {file} (mode 0600; values are not shown)", brand.id);
    } else {
        out!("Used the secrets kept in {file} (unchanged)");
    }
    for (env, origin) in &origins {
        let how = match origin {
            Origin::Generated => "fresh, from the OS random generator".to_string(),
            Origin::Given => "from --smtp-password-file".to_string(),
            Origin::Kept => "kept from the file".to_string(),
            Origin::Missing => {
                "missing: write your mail provider's password in the file, or pass --smtp-password-file".to_string()
            }
        };
        out!("  {env:<18} {how}");
    }
    if created.is_empty() {
        out!(
            "Docker secrets: not created; `whitelabel secrets {} --swarm` creates {}",
            args.brand,
            sec::ALL.map(|s| s.docker_name(&stack)).join(", ")
        );
    } else {
        out!("Created Docker secrets in the swarm:");
        for (name, id) in &created {
            out!("  {name:<32} {}", &id[..id.len().min(12)]);
        }
    }
    Ok(())
}

/// Secrets hold credentials: a file in the repository gets committed sooner
/// or later. Refused in the current directory's repository and the brand
/// pack's, unless `--force`.
fn refuse_inside_repository(path: &Path, pack: &Path, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    let target = sec::resolve(path);
    let cwd = std::env::current_dir().unwrap_or_default();
    for root in [sec::git_root(&cwd), sec::git_root(pack)].into_iter().flatten() {
        if target.starts_with(&root) {
            return Err(Error::usage(
                format!(
                    "{} is inside the git repository {}, where secrets end up committed",
                    target.display(),
                    root.display()
                ),
                "leave out -o (the default is under ~/.config/whitelabel/secrets/) or pick a path outside the \
                 repository; --force if the file is ignored and you mean it",
            ));
        }
    }
    Ok(())
}

/// Creates every secret on the swarm, then runs `keep` (writing the file);
/// on any failure or Ctrl-C, removes the secrets this run created, so the
/// swarm has all of them or none.
fn upload(
    brand_id: &str,
    stack: &str,
    values: &Values,
    keep: impl FnOnce() -> Result<()>,
) -> Result<Vec<(String, String)>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the async runtime", "tokio", e))?;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).map_err(|e| Error::io("installing", "SIGINT handler", e))?;
        let mut term = signal(SignalKind::terminate()).map_err(|e| Error::io("installing", "SIGTERM handler", e))?;
        let daemon = Daemon::connect().await?;
        let created: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
        // Set once no name was taken: from then on every secret with one of
        // these names is this run's, even one whose creation was cut short.
        let claimed = AtomicBool::new(false);
        let names: Vec<String> = sec::ALL.iter().map(|s| s.docker_name(stack)).collect();
        let work = async {
            docker::secrets::require_manager(&daemon).await?;
            let taken = docker::secrets::existing(&daemon, &names).await?;
            if !taken.is_empty() {
                return Err(Error::Docker {
                    action: "creating Docker secrets".into(),
                    message: format!("{} already exist(s) in the swarm; secrets there are immutable", taken.join(", ")),
                    fix: format!(
                        "to rotate: stop the services using them (`docker stack rm {stack}`), `docker secret rm {}`, \
                         then rerun with --swarm (add --rotate for new values); see README",
                        taken.join(" ")
                    ),
                });
            }
            claimed.store(true, Ordering::SeqCst);
            for s in sec::ALL {
                let name = s.docker_name(stack);
                let value = values.get(s).expect("checked: every secret has a value");
                let labels = HashMap::from([
                    ("io.whitelabel.brand".to_string(), brand_id.to_string()),
                    ("io.whitelabel.secret".to_string(), s.key()),
                ]);
                let id = docker::secrets::create(&daemon, &name, value.as_bytes(), labels).await?;
                created.lock().expect("lock").push((name, id));
            }
            keep()
        };
        let result = tokio::select! {
            r = work => r,
            _ = int.recv() => Err(interrupted(libc::SIGINT)),
            _ = term.recv() => Err(interrupted(libc::SIGTERM)),
        };
        let created = created.into_inner().expect("lock");
        match result {
            Ok(()) => Ok(created),
            Err(e) => {
                let mut left = Vec::new();
                if claimed.load(Ordering::SeqCst) {
                    for name in &names {
                        if let Err(why) = docker::secrets::remove(&daemon, name).await {
                            left.push(format!("{name} ({why})"));
                        }
                    }
                }
                let undone = if left.is_empty() {
                    format!("removed the {} secret(s) this run created; the file was not written", created.len())
                } else {
                    format!("could not remove {}: `docker secret rm` them", left.join(", "))
                };
                if claimed.load(Ordering::SeqCst) && left.is_empty() && !matches!(e, Error::Interrupted { .. }) {
                    eprintln!("note: {undone}");
                }
                Err(match e {
                    Error::Interrupted { stage, signal, .. } => Error::Interrupted { stage, undone, signal },
                    other if !left.is_empty() => Error::Docker {
                        action: "undoing a failed run".into(),
                        message: format!("{other}; {undone}"),
                        fix: "remove them, then rerun".into(),
                    },
                    other => other,
                })
            }
        }
    })
}

fn interrupted(signal: i32) -> Error {
    Error::Interrupted { stage: "creating Docker secrets".into(), undone: String::new(), signal }
}
