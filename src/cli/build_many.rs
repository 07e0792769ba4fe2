//! `whitelabel build --all` / `build A B C`: many brands in one run (see
//! [`crate::fleet`]), one progress line per brand, then a table: brand,
//! status, tag, digest, time. Exit 1 when any brand failed.

use std::path::Path;

use super::Cli;
use super::build::{Args, session};
use crate::error::{Error, Result};
use crate::fleet::{self, BrandRun};
use crate::progress::Progress;
use crate::render::write_atomically;

/// Loads, builds and pushes in flight at once, whatever `--jobs` says: the
/// daemon serialises most of that work anyway.
const DAEMON_OPS: usize = 2;

pub fn run(cli: &Cli, args: &Args) -> Result<()> {
    if !args.tags.is_empty() {
        return Err(Error::usage(
            "--tag names one image; several brands were given",
            "build brands one by one to tag them",
        ));
    }
    if args.digest_file.is_some() {
        return Err(Error::usage(
            "--digest-file names one file; several brands were given",
            format!("drop it: each brand's digest goes to {}/<brand>.digest", cli.stacks_dir.display()),
        ));
    }
    let names = args.brands.names(cli)?;
    if names.is_empty() {
        return Err(Error::usage(
            format!("no brand packs under {}", cli.brands_dir.display()),
            "create one with `whitelabel new <BRAND>`",
        ));
    }
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let requests: Vec<(String, Result<crate::pipeline::Request>)> = names
        .iter()
        .map(|n| {
            let req = args.image.request(cli, n, args.repository.as_deref(), args.builder).map(|mut r| {
                r.push = args.push;
                r.allow_leaks = args.allow_leaks;
                r
            });
            (label(n), req)
        })
        .collect();
    let progress = Progress::new(args.image.json);
    let mut warned: Vec<String> = Vec::new();
    for (_, r) in requests.iter() {
        if let Ok(r) = r
            && let Some(w) = super::build::edition_warning(r)
            && !warned.contains(&w)
        {
            progress.note(format!("warning: {w}"));
            warned.push(w);
        }
    }
    let runs = session(&progress, async |daemon, cleanup| {
        Ok(fleet::build_all(daemon, requests, jobs, DAEMON_OPS, cleanup, &progress).await)
    })?;

    for r in &runs {
        if let Ok(o) = &r.result {
            if let Some(pushed) = &o.pushed {
                let file = cli.digest_file(&r.brand);
                super::build::record_digest(&file, pushed)?;
            }
            if let Some(dir) = &args.report {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
                let json = serde_json::to_string_pretty(&super::build::build_report(o)).expect("report serialises");
                write_atomically(&dir.join(format!("{}.json", r.brand)), format!("{json}\n").as_bytes())?;
            }
        }
    }
    let failed = runs.iter().filter(|r| r.result.is_err()).count();
    if args.image.json {
        let list: Vec<serde_json::Value> = runs.iter().map(json).collect();
        out!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "ok": failed == 0, "brands": list })).expect("json")
        );
    } else {
        table(&runs);
    }
    if failed > 0 {
        return Err(Error::Reported(format!(
            "{failed} of {} brands failed (see above); the others are built (fix: fix those brands and run again)",
            runs.len()
        )));
    }
    Ok(())
}

/// The brand's name for tables: its directory name.
fn label(arg: &str) -> String {
    Path::new(arg).file_name().map_or_else(|| arg.to_string(), |n| n.to_string_lossy().to_string())
}

fn json(r: &BrandRun) -> serde_json::Value {
    match &r.result {
        Ok(o) => {
            let mut v = serde_json::to_value(o).expect("outcome serialises");
            v["ok"] = true.into();
            v["brand"] = r.brand.clone().into();
            v["seconds"] = r.seconds.into();
            v["stages"] = serde_json::to_value(&r.stages).expect("stages serialise");
            v
        }
        Err(e) => serde_json::json!({
            "ok": false,
            "brand": r.brand,
            "seconds": r.seconds,
            "error": e.to_string(),
            "problems": e.problems(),
        }),
    }
}

fn table(runs: &[BrandRun]) {
    let rows: Vec<[String; 5]> = runs
        .iter()
        .map(|r| match &r.result {
            Ok(o) => [
                r.brand.clone(),
                match (o.up_to_date, o.reused_image) {
                    (Some(w), _) => format!("up to date ({w})"),
                    (None, true) => "loaded".into(),
                    (None, false) => "built".into(),
                },
                o.tags.first().cloned().unwrap_or_default(),
                o.pushed.as_deref().map_or("-".into(), crate::digest::short),
                format!("{:.2}s", r.seconds),
            ],
            Err(e) => [
                r.brand.clone(),
                "FAILED".into(),
                e.to_string().lines().next().unwrap_or_default().to_string(),
                "-".into(),
                format!("{:.2}s", r.seconds),
            ],
        })
        .collect();
    let head = ["brand", "status", "tag (or why it failed)", "digest", "time"];
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).chain([head[i].len()]).max().unwrap_or(0);
    let widths: Vec<usize> = (0..5).map(width).collect();
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 4 {
                s.push_str(&format!("{c:>w$}", w = widths[i]));
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    out!("{}", line(head));
    for r in &rows {
        out!("{}", line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
    }
    let ok = runs.iter().filter(|r| r.result.is_ok()).count();
    out!("{ok} of {} brands ok", runs.len());
    for r in runs {
        if let Err(e) = &r.result
            && e.to_string().lines().count() > 1
        {
            out!("\n{}: {e}", r.brand);
        }
    }
}
