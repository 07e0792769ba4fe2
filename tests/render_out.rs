//! `render --out`/`--report` and `context`/`preview -o` only ever replace
//! what whitelabel wrote: a directory holding its marker, an earlier report,
//! its own uniquely named temporaries. One run per output at a time, an
//! atomic swap, and real signals delivered to a real child at several points
//! leave the old output or the new one, with the report that belongs to it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use common::*;

const MARKER: &str = ".whitelabel-render";

fn render_child(brand: &Path, tree: &Path, out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_whitelabel"))
        .current_dir(repo())
        .args(["render", brand.to_str().unwrap(), "--from-dir", tree.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn report_of(out: &Path) -> PathBuf {
    out.with_file_name(format!("{}.report.json", out.file_name().unwrap().to_string_lossy()))
}

/// The output is whole and its report (when there is one) belongs to it:
/// the same brand in the marker and the report, and exactly the report's
/// files (plus the marker) in the tree. Returns the brand it holds.
fn consistent(out: &Path) -> Option<String> {
    if !out.exists() {
        assert!(!report_of(out).exists(), "a report without its output");
        return None;
    }
    let marker = std::fs::read_to_string(out.join(MARKER)).expect("every output holds the marker");
    let brand = marker.lines().nth(1).unwrap().split_whitespace().nth(1).unwrap().to_string();
    let mut on_disk: Vec<String> = files(out).into_keys().collect();
    on_disk.sort();
    if let Ok(bytes) = std::fs::read(report_of(out)) {
        let report: serde_json::Value = serde_json::from_slice(&bytes).expect("the report is whole");
        assert_eq!(report["brand"].as_str(), Some(brand.as_str()), "report and tree are of different renders");
        let mut listed: Vec<String> =
            report["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
        listed.sort();
        assert_eq!(listed, on_disk, "the report lists other files than the tree holds");
    }
    Some(brand)
}

/// Names in `dir` other than the expected outputs and the lock files.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| !n.ends_with(".whitelabel.lock") && n.contains(".whitelabel-tmp-"))
        .collect()
}

fn other_brand() -> tempfile::TempDir {
    nexa_variant(|t| t.replacen("name = \"Nexa\"", "name = \"Zeta\"", 1))
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn a_directory_that_is_not_an_earlier_render_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("precious.txt"), "keep").unwrap();
    // A report file beside it proves nothing (the old rule deleted the dir).
    let note = tmp.path().join("notes.json");
    std::fs::write(&note, "{\"mine\": true}").unwrap();
    for extra in [&[][..], &["--report", note.to_str().unwrap()][..]] {
        std::fs::write(report_of(&out), "{}").ok();
        let o = render_cmd(nexa().to_str().unwrap(), &fixture(), &out, extra);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("holds no .whitelabel-render marker"), "{}", stderr(&o));
        assert_eq!(std::fs::read_to_string(out.join("precious.txt")).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&note).unwrap(), "{\"mine\": true}");
    }
    std::fs::remove_file(report_of(&out)).unwrap();
}

#[test]
fn a_report_path_that_is_not_an_earlier_report_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let note = tmp.path().join("notes.json");
    std::fs::write(&note, "{\"mine\": true}").unwrap();
    let o = render_cmd(nexa().to_str().unwrap(), &fixture(), &out, &["--report", note.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not an earlier whitelabel report"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&note).unwrap(), "{\"mine\": true}");
    assert!(!out.exists(), "nothing half done");
    // Its own report is replaced: render twice with the same paths.
    let report = tmp.path().join("r.json");
    for _ in 0..2 {
        let o = render_cmd(nexa().to_str().unwrap(), &fixture(), &out, &["--report", report.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert!(out.join(MARKER).is_file());
}

#[test]
fn out_overlapping_the_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("app");
    copy_dir(&fixture(), &tree);
    let before = files(&tree);
    for out in [tree.clone(), tree.join("public/out"), tmp.path().to_path_buf(), tree.join("./")] {
        let o = render_cmd(nexa().to_str().unwrap(), &tree, &out, &[]);
        assert_eq!(o.status.code(), Some(1), "{}: {}", out.display(), stderr(&o));
        assert!(stderr(&o).contains("overlaps the input"), "{}", stderr(&o));
        assert_eq!(files(&tree), before, "the input tree is untouched");
    }
}

#[test]
fn a_users_tmp_files_are_never_consumed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let theirs = tmp.path().join("o.tmp");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("x"), "theirs").unwrap();
    std::fs::write(tmp.path().join("o.report.json.tmp"), "theirs").unwrap();
    let o = render_cmd(nexa().to_str().unwrap(), &fixture(), &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(theirs.join("x")).unwrap(), "theirs");
    assert_eq!(std::fs::read_to_string(tmp.path().join("o.report.json.tmp")).unwrap(), "theirs");
    assert_eq!(consistent(&out).as_deref(), Some("nexa"));
    assert!(leftovers(tmp.path()).is_empty());

    // context -o and preview -o alike.
    for (cmd, file) in [("context", "ctx.tar"), ("preview", "sheet.html")] {
        let target = tmp.path().join(file);
        let theirs = tmp.path().join(format!("{file}.tmp"));
        std::fs::write(&theirs, "theirs").unwrap();
        let base_flag = if cmd == "context" { "--from-dir" } else { "--base-dir" };
        let (brand, base) = (nexa(), fixture());
        let mut args =
            vec![cmd, brand.to_str().unwrap(), base_flag, base.to_str().unwrap(), "-o", target.to_str().unwrap()];
        if cmd == "preview" {
            args.push("--html");
        }
        let o = whitelabel(&args);
        assert!(o.status.success(), "{cmd}: {}", stderr(&o));
        assert!(target.is_file());
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "theirs", "{cmd}");
        assert!(leftovers(tmp.path()).is_empty(), "{cmd}: {:?}", leftovers(tmp.path()));
    }
}

/// A tree big enough that a render takes a while: the fixture plus copies of
/// its dashboard bundle, each repeated to 1 MB.
fn big_tree(root: &Path) -> PathBuf {
    let tree = root.join("big");
    copy_dir(&fixture(), &tree);
    let assets = tree.join("public/vite/assets");
    let js = std::fs::read_to_string(assets.join("dashboard-AbC123zz.js")).unwrap();
    // Without its import and export lines, each copy in its own function.
    let body: String =
        js.lines().filter(|l| !l.starts_with("import") && !l.starts_with("export")).collect::<Vec<_>>().join("\n");
    let copy = format!("(function(){{\n{body}\n}})();\n");
    let big = copy.repeat((1 << 20) / copy.len() + 1);
    for i in 0..6 {
        std::fs::write(assets.join(format!("bulk{i:02}-AbC123zz.js")), &big).unwrap();
    }
    tree
}

#[test]
fn two_renders_into_one_out_are_serialised() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = big_tree(tmp.path());
    let out = tmp.path().join("o");
    let zeta = other_brand();
    for _ in 0..3 {
        let a = render_child(&nexa(), &tree, &out);
        let b = render_child(&variant_dir(&zeta), &tree, &out);
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        assert!(a.status.success(), "{}", stderr(&a));
        assert!(b.status.success(), "{}", stderr(&b));
        let brand = consistent(&out).expect("an output");
        assert!(["nexa", variant_dir(&zeta).file_name().unwrap().to_str().unwrap()].contains(&brand.as_str()));
        assert!(leftovers(tmp.path()).is_empty(), "{:?}", leftovers(tmp.path()));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on the pid of a child we own and have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

#[test]
fn signals_leave_the_old_output_or_the_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = big_tree(tmp.path());
    let out = tmp.path().join("o");
    let zeta = other_brand();
    let zeta_id = variant_dir(&zeta).file_name().unwrap().to_string_lossy().to_string();
    // How long a whole render takes here, to spread the signals over it.
    let started = Instant::now();
    let o = render_child(&nexa(), &tree, &out).wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let full = started.elapsed();
    println!("a render of the big tree takes {:.2}s", full.as_secs_f64());
    let mut interrupted = 0;
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143), (libc::SIGKILL, -1)] {
        for step in 0..6 {
            let delay = full.mul_f64((0.05 + step as f64 / 5.0) * 1.05);
            let brand = if step % 2 == 0 { variant_dir(&zeta) } else { nexa() };
            let child = render_child(&brand, &tree, &out);
            std::thread::sleep(delay);
            signal(&child, sig);
            let o = child.wait_with_output().unwrap();
            use std::os::unix::process::ExitStatusExt;
            match (o.status.code(), o.status.signal()) {
                (Some(0), _) => {}
                (Some(c), _) if c == code => {
                    interrupted += 1;
                    assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
                    assert!(leftovers(tmp.path()).is_empty(), "{sig} after {delay:?}: {:?}", leftovers(tmp.path()));
                }
                (None, Some(9)) if sig == libc::SIGKILL => interrupted += 1,
                // Before the handler is installed the default action kills
                // the process; it has made nothing yet.
                (None, Some(s)) if s == sig => {
                    assert!(leftovers(tmp.path()).is_empty(), "{sig} after {delay:?}: {:?}", leftovers(tmp.path()))
                }
                other => panic!("signal {sig} after {delay:?}: {other:?}\n{}", stderr(&o)),
            }
            let held = consistent(&out).expect("the old output or the new one");
            assert!(held == "nexa" || held == zeta_id, "{held}");
        }
        // What a SIGKILL left, the next run collects.
        let o = render_cmd(nexa().to_str().unwrap(), &tree, &out, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(consistent(&out).as_deref(), Some("nexa"));
        assert!(leftovers(tmp.path()).is_empty(), "{:?}", leftovers(tmp.path()));
    }
    assert!(interrupted >= 6, "the signals landed mid-run ({interrupted} times)");
}
