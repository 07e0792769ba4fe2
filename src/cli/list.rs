//! `whitelabel list`: every brand pack in the brands directory with its check
//! status, the image last built for it on this daemon and the digest last
//! pushed (its `stacks/<brand>.digest`). Exit 1 when a pack fails `check`.

use std::path::Path;

use serde::Serialize;

use super::{Cli, display};
use crate::brand::{BRAND_FILE, Brand};
use crate::docker::Daemon;
use crate::docker::images::LabelledImage;
use crate::error::{Error, Problem, Result};
use crate::identity::{BRAND_LABEL, INPUT_LABEL};

/// Longest first problem shown in the table; `--json` has all of them whole.
const PROBLEM_CHARS: usize = 48;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    /// The pack directory's name: what `<BRAND>` is for the other commands.
    id: String,
    pack: String,
    /// The brand's display name, when the pack loads.
    name: Option<String>,
    ok: bool,
    problems: Vec<Problem>,
    /// The newest image on the daemon labelled with this brand.
    image: Option<Image>,
    /// `repository@sha256:…` from the digest file.
    pushed: Option<String>,
    /// Why the digest file could not be used, when it exists but is wrong.
    pushed_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct Image {
    id: String,
    /// The tag `build` gave it (the one carrying its input hash), else its first.
    tag: Option<String>,
    tags: Vec<String>,
    last_tagged: Option<String>,
}

pub fn run(cli: &Cli, args: &Args) -> Result<bool> {
    let dirs = crate::brand::packs::pack_dirs(&cli.brands_dir)?;
    let mut rows: Vec<(Row, String)> = dirs
        .iter()
        .map(|(id, dir)| {
            let (label_value, name, problems) = match Brand::load(dir) {
                Ok(b) => (b.id.clone(), Some(b.name.clone()), Vec::new()),
                Err(e) => (id.clone(), None, problems_of(&e, dir)),
            };
            let (pushed, pushed_error) = match read_digest(&cli.digest_file(id)) {
                Ok(p) => (p, None),
                Err(why) => (None, Some(why)),
            };
            let row = Row {
                id: id.clone(),
                pack: display(dir),
                name,
                ok: problems.is_empty(),
                problems,
                image: None,
                pushed,
                pushed_error,
            };
            (row, label_value)
        })
        .collect();

    // The daemon is optional here: without it, the packs are still listed.
    let (reachable, daemon_error) = match labelled_images() {
        Ok(images) => {
            for (row, value) in &mut rows {
                row.image = images.iter().find(|i| i.labels.get(BRAND_LABEL) == Some(value)).map(image_of);
            }
            (true, None)
        }
        Err((reachable, note)) => (reachable, Some(note)),
    };
    let rows: Vec<Row> = rows.into_iter().map(|(r, _)| r).collect();
    let all_ok = rows.iter().all(|r| r.ok);

    if args.json {
        let out = serde_json::json!({
            "ok": all_ok,
            "brands_dir": display(&cli.brands_dir),
            "daemon": { "reachable": reachable, "error": daemon_error },
            "brands": rows,
        });
        out!("{}", serde_json::to_string_pretty(&out).expect("json"));
        return Ok(all_ok);
    }
    if rows.is_empty() {
        out!("No brand packs in {}/ (create one with `whitelabel new <BRAND>`)", display(&cli.brands_dir));
    } else {
        print_table(&rows, daemon_error.is_none());
    }
    if let Some(note) = &daemon_error {
        out!("note: {note}");
    }
    for r in rows.iter().filter(|r| r.pushed_error.is_some()) {
        out!("note: {}: {}", r.id, r.pushed_error.as_deref().unwrap_or_default());
    }
    let failing = rows.iter().filter(|r| !r.ok).count();
    if failing > 0 {
        out!(
            "{failing} of {} brand packs fail `whitelabel check`; run it on each for every problem and its fix",
            rows.len()
        );
    }
    Ok(all_ok)
}

/// What `check` would print for a pack that does not load.
fn problems_of(e: &Error, dir: &Path) -> Vec<Problem> {
    let problems = e.problems();
    if problems.is_empty() {
        vec![Problem::new(dir.join(BRAND_FILE), None, e.to_string(), "run `whitelabel check` on it")]
    } else {
        problems
    }
}

/// `stacks/<brand>.digest` (see [`crate::digest::read`]).
fn read_digest(path: &Path) -> std::result::Result<Option<String>, String> {
    crate::digest::read(path).map(|r| r.map(|r| r.to_string())).map_err(|why| {
        format!(
            "{} {why} (rewrite it with `whitelabel build <BRAND> --push --digest-file {}`)",
            path.display(),
            path.display()
        )
    })
}

/// Every whitelabel image on the daemon, newest first; else whether the
/// daemon answered at all and the note saying why there are none to show.
fn labelled_images() -> std::result::Result<Vec<LabelledImage>, (bool, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (false, format!("built tags and image IDs are not shown: no async runtime ({e})")))?;
    rt.block_on(async {
        let daemon = Daemon::connect().await.map_err(|e| {
            (false, format!("the Docker daemon was not reachable, so built tags and image IDs are not shown: {e}"))
        })?;
        daemon.images_with_label(BRAND_LABEL).await.map_err(|e| {
            (true, format!("the Docker daemon did not list its images, so built tags and image IDs are not shown: {e}"))
        })
    })
}

fn image_of(i: &LabelledImage) -> Image {
    // `build`'s own tag ends in the first 12 characters of the input hash;
    // extra `--tag`s (latest, …) are listed after it.
    let own = i.labels.get(INPUT_LABEL).map(|h| format!("-{}", &h[..h.len().min(12)]));
    let mut tags = i.tags.clone();
    tags.sort_by_key(|t| (own.as_ref().is_none_or(|o| !t.ends_with(o.as_str())), t.clone()));
    Image {
        id: i.id.clone(),
        tag: tags.first().cloned(),
        tags,
        last_tagged: i.last_tagged.map(|t| humantime::format_rfc3339_seconds(t).to_string()),
    }
}

fn print_table(rows: &[Row], daemon: bool) {
    let dash = || "-".to_string();
    let mut table = vec![["BRAND", "NAME", "CHECK", "LAST BUILT", "IMAGE", "PUSHED"].map(String::from)];
    for r in rows {
        let check = match r.problems.len() {
            0 => "ok".to_string(),
            n => {
                let p = &r.problems[0];
                let first = match &p.field {
                    Some(f) => format!("{f}: {}", p.message),
                    None => p.message.clone(),
                };
                format!("{n} problem{}: {}", if n == 1 { "" } else { "s" }, shorten(&first, PROBLEM_CHARS))
            }
        };
        let (built, image) = match (&r.image, daemon) {
            (Some(i), _) => {
                let tag = match (&i.tag, i.tags.len()) {
                    (Some(t), n) if n > 1 => format!("{t} (+{})", n - 1),
                    (Some(t), _) => t.clone(),
                    (None, _) => "(untagged)".into(),
                };
                (tag, crate::pipeline::short_id(&i.id).to_string())
            }
            (None, true) => ("never".into(), dash()),
            (None, false) => (dash(), dash()),
        };
        let pushed = match (&r.pushed, &r.pushed_error) {
            (Some(p), _) => crate::digest::short(p),
            (None, Some(_)) => "(unreadable)".into(),
            (None, None) => dash(),
        };
        table.push([r.id.clone(), r.name.clone().unwrap_or_else(dash), check, built, image, pushed].map(|c| clean(&c)));
    }
    let widths: Vec<usize> = (0..6).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for row in &table {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:w$}")).collect();
        out!("{}", cells.join("  ").trim_end());
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>().trim_end())
    }
}

/// Pack text reaches the terminal: no control characters (escape sequences).
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_cells() {
        let hex = "0123456789abcdef".repeat(4);
        assert_eq!(crate::digest::short(&format!("r.io/a/b@sha256:{hex}")), "sha256:0123456789ab");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(clean("a\u{1b}[31mb"), "a\u{fffd}[31mb");
    }
}
