//! `whitelabel build` and `whitelabel context` against the real daemon and
//! the real registry (`.ci/services up`). Base images are made here from the
//! fixture tree; nothing is pulled.

mod common;

use std::collections::BTreeSet;

use common::docker::*;
use common::*;
use serde_json::Value;

const PATCHES: &str = "patches/chatwoot-v3.15.0";

fn build_args<'a>(base: &'a str, repository: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--patches", PATCHES, "build", "nexa", "--base", base, "--repository", repository, "--json"];
    v.extend_from_slice(extra);
    v
}

fn unique(name: &str) -> String {
    format!("whitelabel-test/{name}-{}", std::process::id())
}

/// What a build adds for nexa over the fixture tree: the overlay `render`
/// writes, plus the entrypoint wrapper every image carries.
fn rendered() -> (tempfile::TempDir, std::collections::BTreeMap<String, Vec<u8>>) {
    let (tmp, dir, _) = render(&nexa(), &fixture(), &[]);
    let mut f = files(&dir);
    let wrapper = whitelabel::docker::entrypoint::ENTRYPOINT_PATH.strip_prefix("/app/").unwrap();
    f.insert(wrapper.to_string(), whitelabel::docker::entrypoint::ENTRYPOINT_SH.as_bytes().to_vec());
    (tmp, f)
}

fn stage_names(v: &Value) -> Vec<String> {
    v["stages"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap().to_string()).collect()
}

#[test]
fn build_end_to_end_on_a_fixture_base() {
    let (base, base_id) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    let repository = unique("e2e");
    let first = ok(&wl(&build_args(&base, &repository, &[]), cache.path(), &[]));
    assert_eq!(first["up_to_date"], Value::Null);
    assert_eq!(first["cache_hit"], false);
    let id = first["image_id"].as_str().unwrap().to_string();
    let tag = first["tags"][0].as_str().unwrap().to_string();
    assert!(tag.starts_with(&format!("{repository}:v3.15.0-nexa-")), "{tag}");
    assert_eq!(&tag[tag.len() - 12..], &first["input"].as_str().unwrap()[..12]);

    // Labels.
    let image = inspect(&tag).expect("the tag exists");
    assert_eq!(image.id.as_deref(), Some(id.as_str()));
    let labels = image.config.unwrap().labels.unwrap();
    for key in ["title", "version", "vendor", "url", "source", "revision", "created", "base.name", "base.digest"] {
        let k = format!("org.opencontainers.image.{key}");
        assert!(labels.get(&k).is_some_and(|v| !v.is_empty()), "label {k} missing: {labels:?}");
    }
    assert_eq!(labels["org.opencontainers.image.title"], "Nexa");
    assert_eq!(labels["org.opencontainers.image.base.name"], base);
    assert_eq!(labels["org.opencontainers.image.base.digest"], base_id);
    assert_eq!(labels["io.whitelabel.brand"], "nexa");
    assert_eq!(labels["io.whitelabel.input"], first["input"].as_str().unwrap());

    // Every rendered file reads back identically; everything else is the base's.
    let (_tmp, overlay) = rendered();
    assert!(overlay.len() > 50, "the overlay has {} files", overlay.len());
    let app = image_files(&tag, "/app");
    for (path, bytes) in &overlay {
        assert!(app.get(path) == Some(bytes), "{path} differs from the render output");
    }
    let base_files = files(&fixture());
    for (path, bytes) in base_files.iter().filter(|(p, _)| !overlay.contains_key(*p)) {
        assert!(app.get(path) == Some(bytes), "{path} is not the base's");
    }
    assert!(app.keys().all(|p| overlay.contains_key(p) || base_files.contains_key(p)));

    // The new layer holds the overlay files (and their directories), nothing else.
    let entries = top_layer_entries(&tag);
    let layer_files: BTreeSet<String> =
        entries.iter().filter(|e| !e.ends_with('/')).map(|e| e.strip_prefix("app/").unwrap().to_string()).collect();
    assert_eq!(layer_files, overlay.keys().cloned().collect::<BTreeSet<_>>());
    assert!(entries.iter().all(|e| e.starts_with("app/")), "{entries:?}");

    // A second build is a no-op: no extraction, no render.
    let again = ok(&wl(&build_args(&base, &repository, &[]), cache.path(), &[]));
    assert_eq!(again["up_to_date"], "local");
    assert_eq!(again["image_id"], id.as_str());
    let names = stage_names(&again);
    assert!(!names.iter().any(|s| s == "extract" || s == "render" || s == "load"), "{names:?}");

    // Image gone: the archive kept by input hash is loaded again, same ID.
    let d = docker();
    let remove = || {
        let rm = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
        block_on(d.remove_image(&id, Some(rm), None)).unwrap();
    };
    remove();
    let reloaded = ok(&wl(&build_args(&base, &repository, &[]), cache.path(), &[]));
    assert_eq!(reloaded["reused_image"], true);
    assert_eq!(reloaded["image_id"], id.as_str(), "same inputs, same image ID");
    assert!(!stage_names(&reloaded).iter().any(|s| s == "render"));

    // Image gone and no archive kept: rendered again from the cached base files, same ID.
    remove();
    std::fs::remove_dir_all(cache.path().join("images")).unwrap();
    let warm = ok(&wl(&build_args(&base, &repository, &[]), cache.path(), &[]));
    assert_eq!((warm["cache_hit"].clone(), warm["reused_image"].clone()), (Value::Bool(true), Value::Bool(false)));
    assert_eq!(warm["image_id"], id.as_str(), "same inputs, same image ID");

    assert!(containers_of(&base_id).is_empty(), "an extraction container was left behind");
}

#[test]
fn same_inputs_give_the_same_image_id_on_fresh_daemons() {
    let fixture = fixture();
    let args = ["build", "nexa", "--base-dir", fixture.to_str().unwrap(), "--json"];
    let mut ids = Vec::new();
    for _ in 0..2 {
        let daemon = PrivateDaemon::start();
        let cache = tempfile::tempdir().unwrap();
        let out = ok(&wl(&args, cache.path(), &[("DOCKER_HOST", &daemon.host())]));
        ids.push(out["image_id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids[0], ids[1], "two fresh daemons, two image IDs");
    let cache = tempfile::tempdir().unwrap();
    let shared = ok(&wl(&args, cache.path(), &[]));
    assert_eq!(shared["image_id"], ids[0].as_str(), "the shared daemon disagrees");
}

#[test]
fn build_with_no_arguments_uses_the_brands_base() {
    // A daemon of its own, so the upstream name is never shadowed on the shared one.
    let daemon = PrivateDaemon::start();
    let cache = tempfile::tempdir().unwrap();
    let env = [("DOCKER_HOST", daemon.host())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = wl(&["build", "nexa"], cache.path(), &env);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("chatwoot/chatwoot:v3.15.0 is not on the daemon and could not be pulled"), "{err}");
    assert!(err.contains("docker load") && err.contains("--base-dir"), "the error says how to get it: {err}");

    import_as(&daemon.client(), &fixture(), "chatwoot/chatwoot:v3.15.0");
    let out = ok(&wl(&["build", "nexa", "--json"], cache.path(), &env));
    let tag = out["tags"][0].as_str().unwrap();
    assert!(tag.starts_with("registry.nexateam.com.br/nexa/chatwoot:v3.15.0-nexa-"), "{tag}");
    assert_eq!(out["base"], "chatwoot/chatwoot:v3.15.0");
}

#[test]
fn push_records_the_digest_the_registry_has() {
    let (addr, user, password) = registry();
    let (base, _) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    let path = format!("whitelabel-test/push-{}", std::process::id());
    let repository = format!("{addr}/{path}");
    let tmp = tempfile::tempdir().unwrap();
    let digest_file = tmp.path().join("digest");
    let creds = [("WHITELABEL_REGISTRY_USER", user.as_str()), ("WHITELABEL_REGISTRY_PASSWORD", password.as_str())];
    let args =
        build_args(&base, &repository, &["--push", "--digest-file", digest_file.to_str().unwrap(), "--tag", "latest"]);
    let out = ok(&wl(&args, cache.path(), &creds));
    let pushed = out["pushed"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(&digest_file).unwrap(), format!("{pushed}\n"));
    let (name, digest) = pushed.split_once('@').unwrap();
    assert_eq!(name, repository);
    let tag = out["tags"][0].as_str().unwrap().rsplit_once(':').unwrap().1.to_string();
    assert_eq!(registry_digest(&path, &tag).as_deref(), Some(digest), "the registry holds another manifest");
    assert_eq!(registry_digest(&path, "latest").as_deref(), Some(digest));

    // Already in the registry: nothing to do. Credentials now come from a
    // docker config.json (a wrong or missing one would fail the pre-flight).
    let config = tempfile::tempdir().unwrap();
    let auth = base64(&format!("{user}:{password}"));
    std::fs::write(config.path().join("config.json"), format!(r#"{{"auths":{{"{addr}":{{"auth":"{auth}"}}}}}}"#))
        .unwrap();
    let args = build_args(&base, &repository, &["--push"]);
    let again = ok(&wl(&args, cache.path(), &[("DOCKER_CONFIG", config.path().to_str().unwrap())]));
    assert_eq!(again["up_to_date"], "registry");
    assert_eq!(again["pushed"], pushed);
    let stdout =
        String::from_utf8_lossy(&wl(&args, cache.path(), &[("DOCKER_CONFIG", config.path().to_str().unwrap())]).stdout)
            .to_string();
    assert!(!stdout.contains(&password), "the password was printed");
}

#[test]
fn dockerfile_builder_and_context_give_the_same_files() {
    let (base, base_id) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    let repository = unique("dockerfile");
    let out = ok(&wl(&build_args(&base, &repository, &["--builder", "dockerfile"]), cache.path(), &[]));
    let tag = out["tags"][0].as_str().unwrap();
    let (_tmp, overlay) = rendered();
    let app = image_files(tag, "/app");
    for (path, bytes) in &overlay {
        assert!(app.get(path) == Some(bytes), "{path} differs from the render output");
    }
    let labels = inspect(tag).unwrap().config.unwrap().labels.unwrap();
    assert_eq!(labels["io.whitelabel.input"], out["input"].as_str().unwrap());
    assert!(containers_of(&base_id).is_empty());

    // The context: deterministic, the Dockerfile pinned to the base, overlay = render output.
    let tmp = tempfile::tempdir().unwrap();
    let ctx = |name: &str| {
        let p = tmp.path().join(name);
        let args = ["--patches", PATCHES, "context", "nexa", "--base", &base, "-o", p.to_str().unwrap(), "--json"];
        ok(&wl(&args, cache.path(), &[]));
        std::fs::read(p).unwrap()
    };
    let (a, b) = (ctx("a.tar"), ctx("b.tar"));
    assert_eq!(a, b, "two contexts of the same inputs differ");
    let gz = ctx("c.tar.gz");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, a);
    let members = tar_files(&a, "");
    let dockerfile = text(&members["Dockerfile"]).to_string();
    assert!(dockerfile.contains(&format!("ARG BASE_IMAGE={base}")), "{dockerfile}");
    assert!(!dockerfile.lines().any(|l| l.trim_start().to_ascii_uppercase().starts_with("RUN")), "{dockerfile}");
    let in_ctx: std::collections::BTreeMap<String, Vec<u8>> =
        members.into_iter().filter_map(|(k, v)| k.strip_prefix("overlay/").map(|p| (p.to_string(), v))).collect();
    assert_eq!(in_ctx, overlay);

    // Without a daemon, from an extracted tree.
    let p = tmp.path().join("offline.tar");
    let tree = fixture();
    let args = ["context", "nexa", "--from-dir", tree.to_str().unwrap(), "-o", p.to_str().unwrap()];
    let o = wl(&args, cache.path(), &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let offline = tar_files(&std::fs::read(&p).unwrap(), "");
    assert_eq!(offline.keys().filter(|k| k.starts_with("overlay/")).count(), overlay.len());
}

fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &x)| acc | (x as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn hostile_brand_strings_land_in_labels_verbatim() {
    // Dockerfile LABEL values (quotes, `$` expansion, backslashes) and the
    // assembled JSON config must both carry the strings exactly.
    let company = r#"Nexa "$HOME" ${PATH} \ `x` Ltda."#;
    let title = r"Nexa $1 \";
    let pack = nexa_variant(|t| {
        t.replace(r#"company = "Nexa Tecnologia Ltda.""#, &format!("company = '{company}'"))
            .replace(r#"name = "Nexa""#, &format!("name = '{title}'"))
    });
    let brand = variant_dir(&pack);
    let (base, _) = fixture_base();
    let cache = tempfile::tempdir().unwrap();
    for builder in ["assemble", "dockerfile"] {
        let repository = unique(&format!("hostile-{builder}"));
        let args = [
            "--patches",
            PATCHES,
            "build",
            brand.to_str().unwrap(),
            "--base",
            &base,
            "--repository",
            &repository,
            "--builder",
            builder,
            "--json",
        ];
        let out = ok(&wl(&args, cache.path(), &[]));
        let labels = inspect(out["tags"][0].as_str().unwrap()).unwrap().config.unwrap().labels.unwrap();
        assert_eq!(labels["org.opencontainers.image.vendor"], company, "{builder}");
        assert_eq!(labels["org.opencontainers.image.title"], title, "{builder}");
    }
}
