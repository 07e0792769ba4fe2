//! How `whitelabel build` fails: one clear error line with what to do, a
//! non-zero exit, no container left behind, no tag on a half-built image,
//! nothing pushed. Real daemon and registry; interruptions are timed with a
//! proxy that holds one request in flight.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::docker::*;
use common::*;

const PATCHES: &str = "patches/chatwoot-v3.15.0";

/// Runs a build expected to fail: exit 1, one `error:` (a drift error lists
/// its problems below it), a fix; returns stderr.
fn fails(args: &[&str], env: &[(&str, &str)]) -> String {
    let cache = tempfile::tempdir().unwrap();
    let o = wl(args, cache.path(), env);
    assert_eq!(o.status.code(), Some(1), "expected exit 1:\n{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "one error line expected:\n{err}");
    let message = &err[err.find("error: ").unwrap()..];
    assert!(message.contains("(fix: "), "the error says what to do: {message}");
    err
}

/// Local images tagged in `repository`.
fn local_tags(repository: &str) -> Vec<String> {
    let d = docker();
    let filters = std::collections::HashMap::from([("reference".to_string(), vec![format!("{repository}:*")])]);
    let opts = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
    block_on(d.list_images(Some(opts))).unwrap().into_iter().flat_map(|i| i.repo_tags).collect()
}

/// Images built on `base_id` (by their base-digest label), tagged or not.
fn images_on(base_id: &str) -> Vec<String> {
    let d = docker();
    let label = format!("org.opencontainers.image.base.digest={base_id}");
    let filters = std::collections::HashMap::from([("label".to_string(), vec![label])]);
    let opts = bollard::query_parameters::ListImagesOptionsBuilder::default().all(true).filters(&filters).build();
    block_on(d.list_images(Some(opts))).unwrap().into_iter().map(|i| i.id).collect()
}

fn repo_name(name: &str) -> String {
    format!("whitelabel-test/{name}-{}", std::process::id())
}

#[test]
fn daemon_unreachable() {
    let err = fails(&["build", "nexa"], &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    assert!(err.contains("cannot reach the Docker daemon at unix:///nonexistent/docker.sock"), "{err}");
    assert!(err.contains("DOCKER_HOST"), "{err}");
}

#[test]
fn base_missing_and_not_pullable() {
    let repository = repo_name("nobase");
    let args =
        ["--patches", PATCHES, "build", "nexa", "--base", "whitelabel-test/absent:v0", "--repository", &repository];
    let err = fails(&args, &[]);
    assert!(err.contains("base image whitelabel-test/absent:v0 is not on the daemon and could not be pulled"), "{err}");
    assert!(err.contains("--base-dir"), "{err}");
    assert!(local_tags(&repository).is_empty());
}

#[test]
fn build_error_inside_the_stream() {
    let (base, base_id) = fixture_base();
    let repository = repo_name("streamerr");
    let tmp = tempfile::tempdir().unwrap();
    let dockerfile = tmp.path().join("Dockerfile");
    // The fixture base has no shell, like the real one: RUN fails after HTTP 200.
    let template = format!("{}RUN echo branded\n", whitelabel::context::DOCKERFILE_BASE);
    std::fs::write(&dockerfile, template).unwrap();
    let args = [
        "--patches",
        PATCHES,
        "build",
        "nexa",
        "--base",
        &base,
        "--repository",
        &repository,
        "--builder",
        "dockerfile",
        "--dockerfile",
        dockerfile.to_str().unwrap(),
    ];
    let err = fails(&args, &[]);
    assert!(err.contains("the Docker build failed"), "{err}");
    assert!(err.contains("/bin/sh"), "the daemon's reason is passed on: {err}");
    assert!(local_tags(&repository).is_empty(), "a tag points at a half-built image");
    assert!(containers_of(&base_id).is_empty(), "a container was left behind");
}

#[test]
fn drifted_base_fails_unless_partial() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("app");
    copy_dir(&fixture(), &tree);
    std::fs::remove_file(tree.join("public/brand-assets/logo_dark.svg")).unwrap();
    let (base, base_id) = import_base(&tree);
    let repository = repo_name("drift");
    let args = ["--patches", PATCHES, "build", "nexa", "--base", &base, "--repository", &repository];
    let err = fails(&args, &[]);
    assert!(err.contains("does not match patch set chatwoot-v3.15.0"), "{err}");
    assert!(err.contains("public/brand-assets/logo_dark.svg is missing"), "{err}");
    assert!(local_tags(&repository).is_empty());
    assert!(containers_of(&base_id).is_empty());

    let cache = tempfile::tempdir().unwrap();
    let mut partial = args.to_vec();
    partial.extend(["--partial", "--json"]);
    let out = ok(&wl(&partial, cache.path(), &[]));
    let skipped = out["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| s["path"] == "public/brand-assets/logo_dark.svg"), "{skipped:?}");
    assert_eq!(local_tags(&repository).len(), 1);
}

#[test]
fn registry_refuses_the_password() {
    let (addr, user, _) = registry();
    let (base, base_id) = fixture_base();
    let path = repo_name("wrongpw");
    let repository = format!("{addr}/{path}");
    let args = ["--patches", PATCHES, "build", "nexa", "--base", &base, "--repository", &repository, "--push"];
    let err =
        fails(&args, &[("WHITELABEL_REGISTRY_USER", &user), ("WHITELABEL_REGISTRY_PASSWORD", "not-the-password")]);
    assert!(err.contains(&format!("registry {addr} refused the credentials")), "{err}");
    assert!(!err.contains("not-the-password"), "the password was printed: {err}");
    assert!(local_tags(&repository).is_empty(), "nothing should be built before the credentials work");
    assert_eq!(registry_digest(&path, "latest"), None);
    assert!(containers_of(&base_id).is_empty());
}

#[test]
fn registry_unreachable() {
    let (base, _) = fixture_base();
    let repository = format!("127.0.0.1:5999/{}", repo_name("noregistry"));
    let args = ["--patches", PATCHES, "build", "nexa", "--base", &base, "--repository", &repository, "--push"];
    let err = fails(&args, &[("WHITELABEL_REGISTRY_USER", "u"), ("WHITELABEL_REGISTRY_PASSWORD", "p")]);
    assert!(err.contains("cannot reach registry 127.0.0.1:5999"), "{err}");
    assert!(local_tags(&repository).is_empty());
}

/// Starts a build through a proxy holding the first request matching
/// `pattern`, sends `signal` once it is held, and checks the aftermath
/// (exit 128 + signal: 130 for SIGINT, 143 for SIGTERM).
fn interrupt_at(pattern: &'static str, stage: &str, extra: &[&str], signal: i32) {
    let (base, base_id) = fixture_base();
    let repository = repo_name(&format!("int-{stage}"));
    let proxy = HoldingProxy::start(pattern);
    let cache = tempfile::tempdir().unwrap();
    let mut args = vec!["--patches", PATCHES, "build", "nexa", "--base", &base, "--repository", &repository];
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_whitelabel"))
        .current_dir(repo())
        .args(&args)
        .env("WHITELABEL_CACHE_DIR", cache.path())
        .env("DOCKER_HOST", proxy.host())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let held = proxy.held.recv_timeout(Duration::from_secs(120)).expect("the request was never made");
    assert!(held.contains(pattern), "{held}");
    if stage == "extract" {
        assert_eq!(containers_of(&base_id).len(), 1, "the extraction container exists while it is read");
    }
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(128 + signal), "{err}");
    assert!(err.contains(&format!("error: interrupted during {stage}")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?} to stop", started.elapsed());
    assert!(containers_of(&base_id).is_empty(), "a container was left behind");
    assert!(local_tags(&repository).is_empty(), "a tag was made");
    assert!(images_on(&base_id).is_empty(), "an untagged image was left: {:?}", images_on(&base_id));
    let bases = cache.path().join("bases");
    let left: Vec<_> = std::fs::read_dir(&bases).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    if stage == "extract" {
        assert!(left.is_empty(), "a half extraction was kept: {left:?}");
    }
}

#[test]
fn ctrl_c_during_extraction() {
    interrupt_at("/archive?path=", "extract", &[], libc::SIGINT);
}

#[test]
fn ctrl_c_during_the_image_load() {
    interrupt_at("POST /images/load", "load", &[], libc::SIGINT);
}

#[test]
fn sigterm_during_the_image_load() {
    interrupt_at("POST /images/load", "load", &[], libc::SIGTERM);
}

#[test]
fn ctrl_c_after_the_load_before_the_tag() {
    // The image is complete on the daemon but has no tag yet: it goes too.
    interrupt_at("/tag?", "tag", &[], libc::SIGINT);
}

#[test]
fn ctrl_c_during_a_dockerfile_build() {
    interrupt_at("POST /build", "build", &["--builder", "dockerfile"], libc::SIGINT);
}

/// What a SIGKILLed build leaves on the daemon (an extraction container that
/// carries its owner `host/pid`) is removed by the next extraction; a live
/// run's container is left alone.
#[test]
fn extraction_containers_of_dead_runs_are_collected() {
    let (base, _) = fixture_base();
    // The leftovers come from an image of their own, so no other test's
    // "no container left" check ever sees them.
    let stuff = tempfile::tempdir().unwrap();
    std::fs::write(stuff.path().join("x"), "x").unwrap();
    let image = import_as(&docker(), stuff.path(), &format!("whitelabel-test/leftover:{}", std::process::id()));
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let create = |owner: String| {
        let o = Command::new("docker")
            .args(["create", "--label", "io.whitelabel.extract=1", "--label"])
            .arg(format!("io.whitelabel.extract.owner={owner}"))
            .args([&image, "/never-runs"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let killed = create(format!("{host}/{dead_pid}"));
    let alive = create(format!("{host}/{}", std::process::id()));
    assert_eq!(containers_of(&image).len(), 2);

    let cache = tempfile::tempdir().unwrap();
    let repository = repo_name("collect");
    let args =
        ["--patches", PATCHES, "build", "nexa", "--base", &base, "--repository", &repository, "--no-cache", "--json"];
    ok(&wl(&args, cache.path(), &[]));
    let left = containers_of(&image);
    assert!(!left.contains(&killed), "the dead run's container is collected");
    assert!(left.contains(&alive), "a live run's container is not touched");

    let _ = Command::new("docker").args(["rm", "-f", &alive]).output();
    let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
    for tag in local_tags(&repository) {
        let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    }
}
