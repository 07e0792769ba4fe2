//! `whitelabel new` (a scaffold that `check` fails by TODO field and passes
//! once filled) and `whitelabel list` (check status, the last build on the
//! real daemon, the pushed digest; packs still listed without a daemon).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::docker::{fixture_base, ok, wl};
use common::*;
use serde_json::Value;

/// Every field `new` leaves to a person when given nothing but the id.
const ALL_TODO: [&str; 11] = [
    "brand.name",
    "brand.company",
    "urls.home",
    "urls.app",
    "urls.help",
    "urls.terms",
    "urls.privacy",
    "urls.widget",
    "mail.sender",
    "image.repository",
    "stack.domain",
];

/// Runs whitelabel with `--brands-dir dir` from the repository root.
fn wl_in(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--brands-dir", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    whitelabel(&all)
}

fn out(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", out(o)))
}

/// The dotted fields of `brand.toml` lines marked `# TODO`, from the text.
fn todo_lines(toml: &str) -> BTreeSet<String> {
    let mut table = String::new();
    let mut found = BTreeSet::new();
    for line in toml.lines() {
        if let Some(t) = line.strip_prefix('[') {
            table = t.trim_end_matches(']').to_string();
        } else if line.trim_end().ends_with("# TODO") {
            let key = line.split('=').next().unwrap().trim();
            found.insert(format!("{table}.{key}"));
        }
    }
    found
}

/// Replaces the value of `key` on its `# TODO` line.
fn fill(toml: &str, key: &str, value: &str) -> String {
    let prefix = format!("{key} = \"TODO");
    let mut hit = 0;
    let lines: Vec<String> = toml
        .lines()
        .map(|l| {
            if l.starts_with(&prefix) {
                hit += 1;
                format!("{key} = \"{value}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_eq!(hit, 1, "one TODO line for {key}");
    lines.join("\n") + "\n"
}

/// `check --json` problems of a pack: (field, message) pairs.
fn check_problems(brands: &Path, id: &str) -> (Output, Vec<(String, String)>) {
    let o = wl_in(brands, &["check", id, "--json"]);
    let v = json(&o);
    let problems = v["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| (p["field"].as_str().unwrap_or("").to_string(), p["message"].as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default();
    (o, problems)
}

/// A scaffold with every TODO filled in by hand.
fn new_filled(brands: &Path, id: &str, repository: &str) -> PathBuf {
    let o = wl_in(brands, &["new", id]);
    assert!(o.status.success(), "{}", out(&o));
    let path = brands.join(id).join("brand.toml");
    let mut toml = std::fs::read_to_string(&path).unwrap();
    for (key, value) in [
        ("name", "Acme Desk"),
        ("company", "Acme Ltda."),
        ("home", "https://acme.example"),
        ("app", "https://chat.acme.example"),
        ("help", "https://help.acme.example"),
        ("terms", "https://acme.example/terms"),
        ("privacy", "https://acme.example/privacy"),
        ("widget", "https://acme.example/?from=widget"),
        ("sender", "Acme Desk <support@acme.example>"),
        ("repository", repository),
        ("domain", "chat.acme.example"),
    ] {
        toml = fill(&toml, key, value);
    }
    std::fs::write(&path, toml).unwrap();
    brands.join(id)
}

#[test]
fn new_writes_a_pack_that_check_rejects_by_todo_field() {
    let tmp = tempfile::tempdir().unwrap();
    let brands = tmp.path().join("brands");
    let o = wl_in(&brands, &["new", "acme"]);
    assert!(o.status.success(), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for f in ["brand.toml", "logo.svg", "logo_dark.svg", "mark.svg", "mail/base.liquid", "whitelabel check"] {
        assert!(stdout.contains(f), "the summary names {f}:\n{stdout}");
    }
    for field in ALL_TODO {
        assert!(stdout.contains(field), "the next steps name {field}:\n{stdout}");
    }

    let pack = brands.join("acme");
    let written: BTreeSet<String> = files(&pack).into_keys().collect();
    let expected: BTreeSet<String> =
        ["brand.toml", "logo.svg", "logo_dark.svg", "mark.svg", "mail/base.liquid"].map(String::from).into();
    assert_eq!(written, expected);
    for svg in ["logo.svg", "logo_dark.svg", "mark.svg"] {
        let data = std::fs::read(pack.join(svg)).unwrap();
        whitelabel::svg::Svg::parse(&data).unwrap_or_else(|e| panic!("{svg}: {e}"));
        assert!(!text(&data).contains("<text"), "{svg} uses <text>");
    }
    let mark = whitelabel::svg::Svg::parse(&std::fs::read(pack.join("mark.svg")).unwrap()).unwrap();
    assert_eq!(mark.width(), mark.height(), "the mark is square");
    // Nothing of the upstream product in the artwork and the layout (they
    // land in the image as they are); nothing left behind.
    for (name, data) in files(&pack).into_iter().filter(|(n, _)| n != "brand.toml") {
        assert!(!text(&data).to_lowercase().contains("chatwoot"), "{name}");
    }
    let left: Vec<_> = std::fs::read_dir(&brands).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("acme")], "no temporary directory left");

    // The TODO lines are exactly the fields check rejects, each by name.
    let toml = std::fs::read_to_string(pack.join("brand.toml")).unwrap();
    let expected: BTreeSet<String> = ALL_TODO.iter().map(|s| s.to_string()).collect();
    assert_eq!(todo_lines(&toml), expected);
    let (o, problems) = check_problems(&brands, "acme");
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let fields: BTreeSet<String> = problems.iter().map(|(f, _)| f.clone()).collect();
    assert_eq!(fields, expected, "{problems:?}");
    assert_eq!(problems.len(), ALL_TODO.len(), "one problem per TODO: {problems:?}");
    assert!(problems.iter().all(|(_, m)| m.contains("placeholder")), "{problems:?}");
    let human = wl_in(&brands, &["check", "acme"]);
    assert_eq!(human.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&human.stderr);
    for field in ALL_TODO {
        assert!(stderr.contains(&format!("brand.toml: {field}: still holds the placeholder")), "{field}:\n{stderr}");
    }

    // Filled in, it is a valid pack and renders over the fixture tree.
    new_filled(&brands, "filled", "registry.acme.example/acme/chatwoot");
    let (o, problems) = check_problems(&brands, "filled");
    assert!(o.status.success() && problems.is_empty(), "{}", out(&o));
    let v = json(&o);
    assert_eq!(v["name"], "Acme Desk");
    assert!(v["contrast_white_on_primary"].as_f64().unwrap() >= 4.5, "{v}");
    let (_tmp, overlay, report) = render(&brands.join("filled"), &fixture(), &[]);
    assert!(report["totals"]["files_changed"].as_u64().unwrap() > 0, "{report}");
    let f = files(&overlay);
    let manifest: Value = serde_json::from_slice(&f["public/manifest.json"]).unwrap();
    assert_eq!(manifest["name"], "Acme Desk");
    let layout = std::fs::read(brands.join("filled/mail/base.liquid")).unwrap();
    assert_eq!(f["app/views/layouts/mailer/base.liquid"], layout);
    assert!(f.keys().any(|k| k.starts_with("public/brand-assets/")), "{:?}", f.keys().collect::<Vec<_>>());
}

#[test]
fn new_with_name_and_domain_fills_what_it_can_and_suggests_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wl_in(
        tmp.path(),
        &["new", "acme", "--name", "Acme \"Customer\" Desk", "--domain", "chat.acme.example", "--json"],
    );
    let v = json(&o);
    assert!(o.status.success(), "{}", out(&o));
    let derived: BTreeSet<&str> = v["derived"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(derived, BTreeSet::from(["brand.name", "brand.short_name", "urls.app", "stack.domain"]));

    let toml_path = tmp.path().join("acme/brand.toml");
    let toml = std::fs::read_to_string(&toml_path).unwrap();
    let parsed: toml::Table = toml::from_str(&toml).unwrap();
    assert_eq!(parsed["brand"]["name"].as_str(), Some("Acme \"Customer\" Desk"));
    assert_eq!(parsed["brand"]["short_name"].as_str(), Some("Acme"));
    assert_eq!(parsed["urls"]["app"].as_str(), Some("https://chat.acme.example"));
    assert_eq!(parsed["stack"]["domain"].as_str(), Some("chat.acme.example"));
    assert_eq!(parsed["urls"]["home"].as_str(), Some("TODO: https://acme.example"));

    // What a person must still decide fails check, by name, and only that.
    let todo: BTreeSet<String> =
        v["todo"].as_array().unwrap().iter().map(|t| t["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(todo_lines(&toml), todo);
    let (o, problems) = check_problems(tmp.path(), "acme");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(problems.iter().map(|(f, _)| f.clone()).collect::<BTreeSet<_>>(), todo);
    for f in ["brand.company", "urls.home", "urls.terms", "urls.privacy", "mail.sender", "image.repository"] {
        assert!(todo.contains(f), "{f} stays a TODO: {todo:?}");
    }

    // The suggestions are valid values: accepting them all gives a valid pack.
    std::fs::write(&toml_path, toml.replace("\"TODO: ", "\"")).unwrap();
    let (o, problems) = check_problems(tmp.path(), "acme");
    assert!(o.status.success(), "{problems:?}");
    let accepted: toml::Table = toml::from_str(&std::fs::read_to_string(&toml_path).unwrap()).unwrap();
    assert_eq!(accepted["mail"]["sender"].as_str(), Some("Acme Customer Desk <support@acme.example>"));
    assert_eq!(accepted["image"]["repository"].as_str(), Some("registry.acme.example/acme/chatwoot"));
}

#[test]
fn new_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wl_in(tmp.path(), &["new", "acme"]);
    assert!(o.status.success(), "{}", out(&o));
    let toml = tmp.path().join("acme/brand.toml");
    std::fs::write(&toml, "edited by hand\n").unwrap();
    let again = wl_in(tmp.path(), &["new", "acme", "--name", "Other"]);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already exists") && err.contains("nothing was written"), "{err}");
    assert_eq!(std::fs::read_to_string(&toml).unwrap(), "edited by hand\n");

    // An empty directory or a file of that name is not replaced either.
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    std::fs::write(tmp.path().join("plain"), "x").unwrap();
    for id in ["empty", "plain"] {
        let o = wl_in(tmp.path(), &["new", id]);
        assert_eq!(o.status.code(), Some(1), "{id}: {}", out(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    }
    assert_eq!(std::fs::read_dir(tmp.path().join("empty")).unwrap().count(), 0);
    let mut names: Vec<String> =
        std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    names.sort();
    assert_eq!(names, ["acme", "empty", "plain"], "no temporary directory left");
}

#[test]
fn new_rejects_bad_ids_and_values() {
    let tmp = tempfile::tempdir().unwrap();
    let brands = tmp.path().join("brands");
    std::fs::create_dir(&brands).unwrap();
    let long = "a".repeat(33);
    let absolute = tmp.path().join("absolute").to_string_lossy().into_owned();
    for id in ["..", "../evil", "a/b", &absolute, "Acme", "acme_x", "-x", "x-", "2x", "acme.x", "", &long] {
        // After `--`, so `-x` reaches the id check rather than clap's flags.
        let o = wl_in(&brands, &["new", "--", id]);
        assert_eq!(o.status.code(), Some(1), "{id:?}: {}", out(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("cannot be a brand id") && err.contains("fix:"), "{id:?}: {err}");
    }
    for (args, expect) in [
        (vec!["new", "acme", "--domain", "https://chat.acme.example"], "--domain"),
        (vec!["new", "acme", "--domain", "localhost"], "--domain"),
        (vec!["new", "acme", "--name", "two\nlines"], "--name"),
        (vec!["new", "acme", "--name", "  "], "--name"),
        (vec!["new", "acme", "--name", &long.repeat(2)], "--name"),
    ] {
        let o = wl_in(&brands, &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", out(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains(expect), "{args:?}: {}", out(&o));
    }
    assert_eq!(std::fs::read_dir(&brands).unwrap().count(), 0, "nothing written");
    assert!(!tmp.path().join("evil").exists() && !Path::new(&absolute).exists());
}

/// A brands dir with a valid pack, a pack with TODOs left, and things that
/// are not packs (a README, a hidden directory).
fn two_packs(repository: &str, good: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    new_filled(tmp.path(), good, repository);
    let o = wl_in(tmp.path(), &["new", "broken"]);
    assert!(o.status.success(), "{}", out(&o));
    std::fs::write(tmp.path().join("README.md"), "packs\n").unwrap();
    std::fs::create_dir(tmp.path().join(".hidden")).unwrap();
    tmp
}

#[test]
fn list_shows_check_status_and_exit_code() {
    let packs = two_packs("registry.acme.example/acme/chatwoot", "good");
    let stacks = tempfile::tempdir().unwrap();
    let digest = format!("registry.acme.example/acme/chatwoot@sha256:{}", "ab".repeat(32));
    std::fs::write(stacks.path().join("good.digest"), format!("{digest}\n")).unwrap();
    let stacks_arg = stacks.path().to_str().unwrap();

    let o = wl_in(packs.path(), &["list", "--stacks-dir", stacks_arg]);
    assert_eq!(o.status.code(), Some(1), "a failing pack makes list exit 1: {}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("BRAND") && lines[0].contains("CHECK") && lines[0].contains("PUSHED"), "{stdout}");
    let broken = lines.iter().find(|l| l.starts_with("broken ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(broken.contains("11 problems: brand.name: still holds"), "{broken}");
    let good = lines.iter().find(|l| l.starts_with("good ")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(good.contains("Acme Desk") && good.contains(" ok ") && good.contains("sha256:ababababab"), "{good}");
    // Aligned: every column starts at the same offset on every row.
    let col = |l: &str, word: &str| l.find(word).unwrap();
    assert_eq!(col(lines[0], "CHECK"), col(good, " ok ") + 1);
    assert_eq!(col(lines[0], "CHECK"), col(broken, "11 problems"));
    assert!(!stdout.contains("README") && !stdout.contains(".hidden"), "{stdout}");

    let o = wl_in(packs.path(), &["list", "--stacks-dir", stacks_arg, "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["ok"], false);
    assert_eq!(v["daemon"]["reachable"], true, "{v}");
    let rows = v["brands"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["id"].as_str().unwrap()).collect::<Vec<_>>(), ["broken", "good"]);
    let (broken, good) = (&rows[0], &rows[1]);
    assert_eq!(broken["ok"], false);
    assert_eq!(broken["name"], Value::Null);
    assert_eq!(broken["problems"].as_array().unwrap().len(), 11);
    assert_eq!(broken["problems"][0]["field"], "brand.name");
    assert!(broken["problems"][0]["fix"].as_str().unwrap().contains("name = "), "{broken}");
    assert_eq!(good["ok"], true);
    assert_eq!(good["name"], "Acme Desk");
    assert_eq!(good["problems"], serde_json::json!([]));
    assert_eq!(good["image"], Value::Null, "never built");
    assert_eq!(good["pushed"], digest.as_str());
    assert_eq!(broken["pushed"], Value::Null);

    // Only valid packs: exit 0. A digest file that is not a digest is named.
    std::fs::remove_dir_all(packs.path().join("broken")).unwrap();
    std::fs::write(stacks.path().join("good.digest"), "registry.acme.example/acme/chatwoot:latest\n").unwrap();
    let o = wl_in(packs.path(), &["list", "--stacks-dir", stacks_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("(unreadable)") && stdout.contains("good.digest is not one"), "{stdout}");

    // No brands directory: one clear error.
    let o = wl_in(&packs.path().join("nope"), &["list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"), "{}", out(&o));
}

#[test]
fn list_shows_the_last_build_from_the_daemon() {
    let id = format!("lst{}", std::process::id());
    let repository = format!("whitelabel-test/list-{}", std::process::id());
    let packs = two_packs(&repository, &id);
    let (base, _) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    let brands = packs.path().to_str().unwrap();
    let build =
        ["--brands-dir", brands, "--patches", "patches/chatwoot-v3.15.0", "build", &id, "--base", &base, "--json"];
    let built = ok(&wl(&build, cache.path(), &[]));
    let tag = built["tags"][0].as_str().unwrap().to_string();
    let image_id = built["image_id"].as_str().unwrap().to_string();
    // A second tag on the same image: the build's own tag is still the one shown.
    let extra = format!("{repository}:aaa-first-in-order");
    let tagged = Command::new("docker").args(["tag", &tag, &extra]).output().unwrap();
    assert!(tagged.status.success(), "{}", out(&tagged));

    let o = wl(&["--brands-dir", brands, "list", "--json"], cache.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "the broken pack still fails: {}", out(&o));
    let v = json(&o);
    assert_eq!(v["daemon"]["reachable"], true);
    let row = v["brands"].as_array().unwrap().iter().find(|r| r["id"] == id.as_str()).unwrap().clone();
    assert_eq!(row["image"]["id"], image_id.as_str(), "{row}");
    assert_eq!(row["image"]["tag"], tag.as_str(), "{row}");
    let tags: BTreeSet<&str> = row["image"]["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(tags, BTreeSet::from([tag.as_str(), extra.as_str()]));
    assert!(row["image"]["last_tagged"].as_str().is_some_and(|t| t.ends_with('Z')), "{row}");

    let o = wl(&["--brands-dir", brands, "list"], cache.path(), &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line = stdout.lines().find(|l| l.starts_with(&format!("{id} "))).unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains(&format!("{tag} (+1)")) && line.contains(&image_id[..19]), "{line}");
    let broken = stdout.lines().find(|l| l.starts_with("broken ")).unwrap();
    assert!(broken.contains(" never "), "a pack never built says so: {broken}");
    assert!(!stdout.contains("note:"), "{stdout}");

    for t in [&tag, &extra, &base] {
        let _ = Command::new("docker").args(["rmi", "-f", t]).output();
    }
}

#[test]
fn list_without_a_daemon_still_lists() {
    let packs = two_packs("registry.acme.example/acme/chatwoot", "good");
    let env = [("DOCKER_HOST", "unix:///nonexistent.sock")];
    let cache = tempfile::tempdir().unwrap();
    let brands = packs.path().to_str().unwrap();

    let o = wl(&["--brands-dir", brands, "list"], cache.path(), &env);
    assert_eq!(o.status.code(), Some(1), "the broken pack still decides the exit code: {}", out(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let notes: Vec<&str> = stdout.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 1, "{stdout}");
    assert!(notes[0].contains("not reachable") && notes[0].contains("/nonexistent.sock"), "{}", notes[0]);
    let good = stdout.lines().find(|l| l.starts_with("good ")).unwrap_or_else(|| panic!("{stdout}"));
    let cells: Vec<&str> = good.split_whitespace().collect();
    assert!(good.contains(" ok ") && cells[cells.len() - 3..] == ["-", "-", "-"], "{good}");
    assert!(stdout.contains("11 problems"), "{stdout}");

    std::fs::remove_dir_all(packs.path().join("broken")).unwrap();
    let o = wl(&["--brands-dir", brands, "list", "--json"], cache.path(), &env);
    assert_eq!(o.status.code(), Some(0), "valid packs and no daemon: exit 0: {}", out(&o));
    let v = json(&o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["daemon"]["reachable"], false);
    assert!(v["daemon"]["error"].as_str().unwrap().contains("/nonexistent.sock"), "{v}");
    assert_eq!(v["brands"][0]["id"], "good");
    assert_eq!(v["brands"][0]["image"], Value::Null);
}
