//! `ci/github-actions.yml`: it parses, has the shape the README promises
//! (one job per brand, fail-fast off, build → push → artifacts → stack),
//! takes credentials only from `${{ secrets.* }}`, uses only flags the CLI
//! has, and its brand-list step, run here, finds the repository's brands.

mod common;

use std::process::Command;

use common::*;
use yaml_rust2::{Yaml, YamlLoader};

fn workflow() -> (String, Yaml) {
    let text = std::fs::read_to_string(repo().join("ci/github-actions.yml")).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).expect("ci/github-actions.yml is valid YAML");
    assert_eq!(docs.len(), 1);
    (text, docs.remove(0))
}

fn s(y: &Yaml) -> &str {
    y.as_str().unwrap_or_else(|| panic!("not a string: {y:?}"))
}

/// Every `run:` script and `uses:` of a job, in order.
fn steps(job: &Yaml) -> &Vec<Yaml> {
    job["steps"].as_vec().expect("steps")
}

fn run_of(step: &Yaml) -> &str {
    step["run"].as_str().unwrap_or("")
}

/// Every string anywhere in the document, with the key it sits under.
fn pairs<'a>(y: &'a Yaml, key: &str, out: &mut Vec<(String, &'a str)>) {
    match y {
        Yaml::String(v) => out.push((key.to_string(), v)),
        Yaml::Hash(h) => h.iter().for_each(|(k, v)| pairs(v, k.as_str().unwrap_or(""), out)),
        Yaml::Array(a) => a.iter().for_each(|v| pairs(v, key, out)),
        _ => {}
    }
}

#[test]
fn one_job_per_brand_builds_pushes_and_pins() {
    let (_, w) = workflow();
    let jobs = w["jobs"].as_hash().expect("jobs");
    assert_eq!(jobs.len(), 2, "a brand-list job and the per-brand matrix job");
    let list = &w["jobs"]["brands"];
    let build = &w["jobs"]["build"];
    assert_eq!(s(&list["outputs"]["brands"]), "${{ steps.list.outputs.brands }}");

    // The matrix comes from the first job; one failing brand stops no other.
    assert_eq!(s(&build["needs"]), "brands");
    let strategy = &build["strategy"];
    assert_eq!(strategy["fail-fast"].as_bool(), Some(false));
    assert_eq!(s(&strategy["matrix"]["brand"]), "${{ fromJSON(needs.brands.outputs.brands) }}");
    assert_eq!(s(&build["env"]["BRAND"]), "${{ matrix.brand }}");

    // checkout → toolchain → cache → cargo build --release → check → build --push
    // → upload report+digest → stack → upload stack file, in that order.
    let steps = steps(build);
    let position = |pred: &dyn Fn(&Yaml) -> bool, what: &str| {
        steps.iter().position(pred).unwrap_or_else(|| panic!("no step that {what}"))
    };
    let uses = |prefix: &'static str| move |st: &Yaml| st["uses"].as_str().is_some_and(|u| u.starts_with(prefix));
    let checkout = position(&uses("actions/checkout@"), "checks out");
    let toolchain = position(&uses("dtolnay/rust-toolchain@"), "installs Rust");
    let cache = position(&uses("actions/cache@"), "caches");
    let cargo = position(&|st| run_of(st).contains("cargo build --release"), "builds whitelabel in release");
    let push = position(&|st| run_of(st).contains("whitelabel build"), "runs whitelabel build");
    let stack = position(&|st| run_of(st).contains("whitelabel stack \"$BRAND\""), "writes the stack file");
    let uploads: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, st)| st["uses"].as_str().is_some_and(|u| u.starts_with("actions/upload-artifact@")))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(uploads.len(), 2, "report+digest, then the stack file");
    assert!(checkout < toolchain && toolchain < cache && cache < cargo && cargo < push, "order: {steps:?}");
    assert!(push < uploads[0] && uploads[0] < stack && stack < uploads[1], "order: {steps:?}");

    let cached = s(&steps[cache]["with"]["path"]);
    assert!(cached.contains("~/.cargo/registry") && cached.lines().any(|l| l.trim() == "target"), "{cached}");
    let build_cmd = run_of(&steps[push]);
    for part in ["--push", "--report \"report-$BRAND.json\"", "--digest-file \"stacks/$BRAND.digest\""] {
        assert!(build_cmd.contains(part), "{part} in: {build_cmd}");
    }
    let first_upload = s(&steps[uploads[0]]["with"]["path"]);
    assert!(first_upload.contains("report-${{ matrix.brand }}.json"), "{first_upload}");
    assert!(first_upload.contains("stacks/${{ matrix.brand }}.digest"), "{first_upload}");
    assert_eq!(s(&steps[uploads[1]]["with"]["path"]), "stacks/${{ matrix.brand }}.yml");

    // Credentials: only on the step that pushes, only from secrets.
    let env = &steps[push]["env"];
    assert_eq!(s(&env["WHITELABEL_REGISTRY_USER"]), "${{ secrets.WHITELABEL_REGISTRY_USER }}");
    assert_eq!(s(&env["WHITELABEL_REGISTRY_PASSWORD"]), "${{ secrets.WHITELABEL_REGISTRY_PASSWORD }}");
    for (i, st) in steps.iter().enumerate().filter(|(i, _)| *i != push) {
        assert!(st["env"].is_badvalue(), "step {i} gets no environment of its own: {st:?}");
    }
}

#[test]
fn secrets_are_referenced_never_inlined() {
    let (text, w) = workflow();
    let mut all = Vec::new();
    pairs(&w, "", &mut all);
    let secret_ref = regex::Regex::new(r"^\$\{\{ secrets\.[A-Z0-9_]+ \}\}$").unwrap();
    let sensitive = ["PASSWORD", "TOKEN", "SECRET", "REGISTRY_USER", "AUTH"];
    for (key, value) in &all {
        if sensitive.iter().any(|k| key.to_uppercase().contains(k)) {
            assert!(secret_ref.is_match(value), "{key} must be a ${{{{ secrets.* }}}} reference, not {value:?}");
        }
        if value.contains("secrets.") {
            assert!(secret_ref.is_match(value), "a secret is used only as a whole env value: {key}: {value:?}");
        }
    }
    // No script touches a credential (an echo would print it, a login would store it).
    for (key, value) in all.iter().filter(|(k, _)| k == "run") {
        for bad in ["WHITELABEL_REGISTRY_PASSWORD", "WHITELABEL_REGISTRY_USER", "docker login", "--password"] {
            assert!(!value.contains(bad), "{key}: {value}");
        }
    }
    // Nothing that looks like the test registry's real password either.
    if let Ok(env) = std::fs::read_to_string(repo().join("target/services/registry.env")) {
        for line in env.lines().filter(|l| l.contains("PASSWORD=")) {
            let password = line.split_once('=').unwrap().1;
            assert!(password.is_empty() || !text.contains(password));
        }
    }
}

#[test]
fn the_flags_it_uses_exist() {
    let (_, w) = workflow();
    for (command, script) in steps(&w["jobs"]["build"]).iter().filter_map(|st| {
        let run = run_of(st);
        let at = run.find("whitelabel ")?;
        let rest = &run[at + "whitelabel ".len()..];
        let command = rest.split_whitespace().next()?.to_string();
        Some((command, rest.to_string()))
    }) {
        // `stack` lands from another branch; the others must match the CLI here.
        if command == "stack" {
            continue;
        }
        let help = whitelabel(&[&command, "--help"]);
        assert!(help.status.success(), "whitelabel {command} --help");
        let help = String::from_utf8_lossy(&help.stdout);
        for flag in script.split_whitespace().filter(|w| w.starts_with("--")) {
            assert!(help.contains(flag), "whitelabel {command} has no {flag}");
        }
    }
}

#[test]
fn the_brand_list_step_finds_the_brands() {
    let (_, w) = workflow();
    let step = steps(&w["jobs"]["brands"]).iter().find(|st| st["id"].as_str() == Some("list")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let output = tmp.path().join("github_output");
    // Against a copy holding the repository's packs plus a directory that is not one.
    let work = tmp.path().join("repo");
    copy_dir(&repo().join("brands"), &work.join("brands"));
    std::fs::create_dir_all(work.join("brands/not-a-pack")).unwrap();
    let o = Command::new("bash")
        .arg("-c")
        .arg(run_of(step))
        .current_dir(&work)
        .env("GITHUB_OUTPUT", &output)
        .output()
        .expect("bash and jq are needed");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let written = std::fs::read_to_string(&output).unwrap();
    let json = written.trim().strip_prefix("brands=").unwrap_or_else(|| panic!("{written}"));
    let brands: Vec<String> = serde_json::from_str(json).unwrap();
    let mut expected: Vec<String> = std::fs::read_dir(repo().join("brands"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("brand.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    assert!(expected.contains(&"nexa".to_string()));
    assert_eq!(brands, expected);

    // No brands: an empty list, which the build job's `if:` skips.
    std::fs::remove_dir_all(work.join("brands")).unwrap();
    std::fs::create_dir(work.join("brands")).unwrap();
    std::fs::remove_file(&output).unwrap();
    let o = Command::new("bash")
        .arg("-c")
        .arg(run_of(step))
        .current_dir(&work)
        .env("GITHUB_OUTPUT", &output)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&output).unwrap().trim(), "brands=[]");
    assert_eq!(s(&w["jobs"]["build"]["if"]), "needs.brands.outputs.brands != '[]'");
}
