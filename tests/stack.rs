//! `whitelabel stack`: the brand's Swarm stack file. Parsed back as YAML,
//! checked for secret values, pinned digests and per-brand names, re-pinned in
//! place after hand edits; and deployed on a real swarm (a private daemon
//! with its own registry, never the shared daemon), where the app and sidekiq
//! run the wrapper and get the Docker secrets' values.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Output};

use common::docker::*;
use common::*;
use futures_util::StreamExt;
use whitelabel::docker::entrypoint::{ENTRYPOINT_PATH, ENTRYPOINT_SH};
use yaml_rust2::{Yaml, YamlLoader};

const D1: &str =
    "registry.nexateam.com.br/nexa/chatwoot@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str =
    "registry.nexateam.com.br/nexa/chatwoot@sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// Runs `whitelabel ARGS` in `cwd` with brands from `brands` and HOME `home`.
fn wl_in(cwd: &Path, brands: &Path, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_whitelabel"));
    c.current_dir(cwd).arg("--brands-dir").arg(brands).args(args);
    c.env("HOME", home).env_remove("XDG_CONFIG_HOME").env_remove("DOCKER_HOST").envs(env.iter().copied());
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn success(o: &Output) {
    assert!(o.status.success(), "whitelabel failed:\n{}", text(o));
}

fn parse(path: &Path) -> Yaml {
    let docs = YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap()).expect("the stack file is YAML");
    assert_eq!(docs.len(), 1);
    docs.into_iter().next().unwrap()
}

fn strs(y: &Yaml) -> Vec<String> {
    y.as_vec().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

fn keys(y: &Yaml) -> Vec<String> {
    y.as_hash().map(|h| h.keys().map(|k| k.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// A brands dir holding `nexa` and, optionally, a second pack `name` made
/// from nexa by `edit`.
/// An edit of a brand.toml.
type Edit<'a> = &'a dyn Fn(&str) -> String;

fn brands(extra: Option<(&str, Edit)>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&nexa(), &dir.path().join("nexa"));
    if let Some((name, edit)) = extra {
        copy_dir(&nexa(), &dir.path().join(name));
        let toml = dir.path().join(name).join("brand.toml");
        std::fs::write(&toml, edit(&std::fs::read_to_string(&toml).unwrap())).unwrap();
    }
    dir
}

/// nexa's brand.toml as another client: name, domain and base changed.
fn acme(name: &str) -> impl Fn(&str) -> String {
    let quoted = toml::Value::String(name.to_string()).to_string();
    move |t: &str| {
        t.replacen("name = \"Nexa\"", &format!("name = {quoted}"), 1)
            .replace("chatwoot.nexateam.com.br", "chat.acme.example")
            .replace("chatwoot/chatwoot:v3.15.0", "chatwoot/chatwoot:v3.15.0-ce")
    }
}

#[test]
fn the_stack_is_pinned_per_brand_and_holds_no_secret() {
    let work = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let b = brands(None);
    let smtp = work.path().join("smtp");
    std::fs::write(&smtp, "mail-provider-password\n").unwrap();
    success(&wl_in(
        work.path(),
        b.path(),
        home.path(),
        &["secrets", "nexa", "--smtp-password-file", smtp.to_str().unwrap()],
        &[],
    ));
    let env_file = home.path().join(".config/whitelabel/secrets/nexa.env");
    let secrets: Vec<String> = std::fs::read_to_string(&env_file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(_, v)| v.to_string()))
        .collect();
    assert_eq!(secrets.len(), 3);

    // Defaults: stacks/<brand>.digest in, stacks/<brand>.yml out.
    std::fs::create_dir(work.path().join("stacks")).unwrap();
    std::fs::write(work.path().join("stacks/nexa.digest"), format!("{D1}\n")).unwrap();
    let o = wl_in(work.path(), b.path(), home.path(), &["stack", "nexa"], &[]);
    success(&o);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("contains enterprise/").count(), 1, "one warning for the v3.15.0 base: {stderr}");
    assert!(stderr.contains("chatwoot/chatwoot:v3.15.0-ce"), "{stderr}");
    let file = work.path().join("stacks/nexa.yml");
    let raw = std::fs::read_to_string(&file).unwrap();
    for s in &secrets {
        assert!(!raw.contains(s.as_str()), "a secret value is in the stack file");
    }
    assert!(!text(&o).contains(&secrets[0]));

    let y = parse(&file);
    assert_eq!(y["version"].as_str(), Some("3.8"));
    let services = &y["services"];
    assert_eq!(keys(services), ["nexa-postgres", "nexa-redis", "nexa-app", "nexa-sidekiq"]);
    assert_eq!(services["nexa-app"]["image"].as_str(), Some(D1), "pinned to the digest file's image");
    assert_eq!(services["nexa-sidekiq"]["image"].as_str(), Some(D1));
    assert_eq!(services["nexa-postgres"]["image"].as_str(), Some("pgvector/pgvector:pg16"));
    assert_eq!(strs(&services["nexa-redis"]["command"]), ["redis-server", "--appendonly", "yes"]);
    assert_eq!(strs(&services["nexa-app"]["entrypoint"]), ["sh", ENTRYPOINT_PATH, "docker/entrypoints/rails.sh"]);
    assert_eq!(strs(&services["nexa-app"]["command"]), ["bundle", "exec", "rails", "s", "-p", "3000", "-b", "0.0.0.0"]);
    assert_eq!(strs(&services["nexa-sidekiq"]["entrypoint"]), ["sh", ENTRYPOINT_PATH]);
    assert_eq!(strs(&services["nexa-sidekiq"]["command"]), ["bundle", "exec", "sidekiq", "-C", "config/sidekiq.yml"]);

    let env = &services["nexa-app"]["environment"];
    assert_eq!(env, &services["nexa-sidekiq"]["environment"]);
    for (k, v) in [
        ("INSTALLATION_NAME", "Nexa"),
        ("DEFAULT_LOCALE", "pt_BR"),
        ("FRONTEND_URL", "https://chatwoot.nexateam.com.br"),
        ("FORCE_SSL", "true"),
        ("ENABLE_ACCOUNT_SIGNUP", "false"),
        ("POSTGRES_HOST", "nexa-postgres"),
        ("REDIS_URL", "redis://nexa-redis:6379"),
        ("ACTIVE_STORAGE_SERVICE", "local"),
        ("USE_INBOX_AVATAR_FOR_BOT", "true"),
        ("MAILER_SENDER_EMAIL", "Nexa <atendimento@nexateam.com.br>"),
    ] {
        assert_eq!(env[k].as_str(), Some(v), "{k}");
    }
    let labels = &services["nexa-app"]["deploy"]["labels"];
    assert_eq!(labels["traefik.http.routers.nexa_app.rule"].as_str(), Some("Host(`chatwoot.nexateam.com.br`)"));
    assert_eq!(labels["traefik.http.routers.nexa_app.tls.certresolver"].as_str(), Some("le"));
    assert_eq!(labels["traefik.http.services.nexa_app.loadbalancer.server.port"].as_str(), Some("3000"));
    assert_eq!(labels["traefik.docker.network"].as_str(), Some("minha_rede"));
    assert_eq!(y["networks"]["minha_rede"]["external"].as_bool(), Some(true));

    // Secrets: never as values; every X_FILE is a secret mounted in that
    // service, from an external Docker secret with the brand's name.
    let external: BTreeSet<String> = keys(&y["secrets"]).into_iter().collect();
    assert_eq!(
        external,
        BTreeSet::from(["nexa_postgres_password", "nexa_secret_key_base", "nexa_smtp_password"].map(String::from))
    );
    for name in &external {
        assert_eq!(y["secrets"][name.as_str()]["external"].as_bool(), Some(true));
    }
    for svc in keys(services) {
        let s = &services[svc.as_str()];
        let mounted: BTreeMap<String, String> = s["secrets"]
            .as_vec()
            .map(|v| {
                v.iter()
                    .map(|m| {
                        (
                            format!("/run/secrets/{}", m["target"].as_str().unwrap()),
                            m["source"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let env = s["environment"].as_hash().cloned().unwrap_or_default();
        for (k, v) in env.iter().map(|(k, v)| (k.as_str().unwrap(), v.as_str().unwrap())) {
            assert!(
                !["POSTGRES_PASSWORD", "SECRET_KEY_BASE", "SMTP_PASSWORD", "REDIS_PASSWORD"].contains(&k),
                "{svc}: {k} as a value"
            );
            if k.ends_with("_FILE") {
                let source = mounted.get(v).unwrap_or_else(|| panic!("{svc}: {k}={v} is not a mounted secret"));
                assert!(external.contains(source), "{svc}: {source}");
            }
        }
        if svc != "nexa-redis" {
            assert!(!mounted.is_empty(), "{svc} gets its secrets");
        }
    }

    // A `-ce` base: no enterprise warning.
    let b2 = brands(Some(("acme", &acme("Acme"))));
    let o = wl_in(work.path(), b2.path(), home.path(), &["stack", "acme", "--image", D1, "-o", "acme.yml"], &[]);
    success(&o);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("enterprise/"), "{}", text(&o));
}

#[test]
fn a_new_digest_changes_only_the_image_lines_of_an_edited_file() {
    let work = tempfile::tempdir().unwrap();
    let b = brands(None);
    let home = work.path();
    let file = work.path().join("nexa.yml");
    let f = file.to_str().unwrap();
    success(&wl_in(work.path(), b.path(), home, &["stack", "nexa", "--image", D1, "-o", f], &[]));

    // Edited by hand: a comment, a bigger postgres, one more variable, an
    // older Traefik entry point, CRLF nowhere, a note at the end.
    let edited = std::fs::read_to_string(&file)
        .unwrap()
        .replacen("          memory: 2048M", "          memory: 4096M # grew in May", 1)
        .replace(
            "  USE_INBOX_AVATAR_FOR_BOT: \"true\"",
            "  USE_INBOX_AVATAR_FOR_BOT: \"true\"\n  # ours\n  LOG_LEVEL: info",
        )
        .replace("\"websecure\"", "'https'")
        + "# deployed by ops\n";
    std::fs::write(&file, &edited).unwrap();

    let o = wl_in(work.path(), b.path(), home, &["stack", "nexa", "--image", D2, "-o", f, "--json"], &[]);
    let j = ok(&o);
    assert_eq!(j["action"], "repinned");
    assert_eq!(j["previous"], serde_json::json!([D1]));
    let after = std::fs::read_to_string(&file).unwrap();
    let (old, new): (Vec<&str>, Vec<&str>) = (edited.lines().collect(), after.lines().collect());
    assert_eq!(old.len(), new.len());
    let changed: Vec<(&str, &str)> = old.iter().zip(&new).filter(|(a, b)| a != b).map(|(a, b)| (*a, *b)).collect();
    assert_eq!(changed, vec![(format!("    image: {D1}").as_str(), format!("    image: {D2}").as_str()); 2]);
    let y = parse(&file);
    assert_eq!(y["services"]["nexa-app"]["image"].as_str(), Some(D2));
    assert_eq!(y["services"]["nexa-sidekiq"]["image"].as_str(), Some(D2));

    // The same digest again: nothing written.
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    let j = ok(&wl_in(work.path(), b.path(), home, &["stack", "nexa", "--image", D2, "-o", f, "--json"], &[]));
    assert_eq!(j["action"], "unchanged");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), after);
    assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), mtime);

    // Image lines it cannot find unambiguously: refused, file untouched.
    let anchored = after.replacen(&format!("image: {D2}"), &format!("image: &chatwoot {D2}"), 1).replacen(
        &format!("image: {D2}"),
        "image: *chatwoot",
        1,
    );
    std::fs::write(&file, &anchored).unwrap();
    let o = wl_in(work.path(), b.path(), home, &["stack", "nexa", "--image", D1, "-o", f], &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--force") && text(&o).contains(f), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), anchored);
    std::fs::write(&file, "services: [\n").unwrap();
    let o = wl_in(work.path(), b.path(), home, &["stack", "nexa", "--image", D1, "-o", f], &[]);
    assert!(!o.status.success() && text(&o).contains("not a YAML document"), "{}", text(&o));

    // --force writes it anew: the edits are gone.
    success(&wl_in(work.path(), b.path(), home, &["stack", "nexa", "--image", D1, "-o", f, "--force"], &[]));
    let fresh = std::fs::read_to_string(&file).unwrap();
    assert!(!fresh.contains("LOG_LEVEL") && fresh.contains(&format!("image: {D1}")));

    // A mutable tag is refused with the fix; so is a bad or missing digest file.
    let o = wl_in(
        work.path(),
        b.path(),
        home,
        &["stack", "nexa", "--image", "registry.nexateam.com.br/nexa/chatwoot:latest", "-o", f],
        &[],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("not pinned by digest") && text(&o).contains("--digest-file"), "{}", text(&o));
    let digest = work.path().join("d.digest");
    for bad in ["registry.nexateam.com.br/nexa/chatwoot:latest\n", &format!("{D1}\n{D2}\n"), ""] {
        std::fs::write(&digest, bad).unwrap();
        let o = wl_in(
            work.path(),
            b.path(),
            home,
            &["stack", "nexa", "--digest-file", digest.to_str().unwrap(), "-o", f],
            &[],
        );
        assert!(!o.status.success());
        assert!(
            text(&o).contains(digest.to_str().unwrap()) && text(&o).contains("repo@sha256"),
            "{bad:?}: {}",
            text(&o)
        );
    }
    let o = wl_in(work.path(), b.path(), home, &["stack", "nexa", "-o", f], &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("stacks/nexa.digest") && text(&o).contains("whitelabel build nexa --push"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), fresh, "refusals write nothing");
}

/// Every name a stack file gives on a swarm or in Traefik, except the
/// external network all brands share on purpose.
fn names(y: &Yaml) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for svc in keys(&y["services"]) {
        out.insert(format!("service {svc}"));
        for label in keys(&y["services"][svc.as_str()]["deploy"]["labels"]) {
            let parts: Vec<&str> = label.split('.').collect();
            if parts.len() > 3 && parts[0] == "traefik" && parts[1] == "http" {
                out.insert(format!("traefik {} {}", parts[2], parts[3]));
            }
        }
    }
    for v in keys(&y["volumes"]) {
        out.insert(format!("volume {}", y["volumes"][v.as_str()]["name"].as_str().unwrap_or(&v)));
    }
    for n in keys(&y["networks"]).into_iter().filter(|n| y["networks"][n.as_str()]["external"].as_bool() != Some(true))
    {
        out.insert(format!("network {n}"));
    }
    for s in keys(&y["secrets"]) {
        out.insert(format!("secret {}", y["secrets"][s.as_str()]["name"].as_str().unwrap()));
    }
    out
}

#[test]
fn two_brands_share_no_name() {
    let work = tempfile::tempdir().unwrap();
    let b = brands(Some(("acme", &acme("Acme"))));
    for brand in ["nexa", "acme"] {
        let out = format!("{brand}.yml");
        success(&wl_in(work.path(), b.path(), work.path(), &["stack", brand, "--image", D1, "-o", &out], &[]));
    }
    let (n, a) = (names(&parse(&work.path().join("nexa.yml"))), names(&parse(&work.path().join("acme.yml"))));
    assert!(n.len() >= 15, "{n:?}");
    assert_eq!(n.len(), a.len());
    assert_eq!(n.intersection(&a).collect::<Vec<_>>(), Vec::<&String>::new());
    assert!(a.contains("traefik routers acme_app") && a.contains("secret acme_postgres_password"), "{a:?}");
}

/// Brand names that break YAML, compose interpolation or Traefik rules if
/// written raw (line and paragraph separators are refused by check).
const HOSTILE: [&str; 8] = [
    "Acme \"Q\" & <b>",
    "It's: #1",
    "$HOME ${PATH} $$ $",
    "Back`tick\\n \\ end",
    "- [x] {y}: *z &w !t",
    "Zero\u{200b}Width\u{a0}Nbsp\u{feff}Bom",
    "Ação 😀",
    "yes",
];

#[test]
fn hostile_brand_strings_are_escaped_or_refused() {
    let work = tempfile::tempdir().unwrap();
    for (i, name) in HOSTILE.iter().enumerate() {
        let b = brands(Some(("acme", &acme(name))));
        let out = format!("h{i}.yml");
        success(&wl_in(work.path(), b.path(), work.path(), &["stack", "acme", "--image", D1, "-o", &out], &[]));
        let y = parse(&work.path().join(&out));
        // yaml-rust2 reads the YAML layer; `$` is doubled for compose, which
        // the swarm test shows reaching the container as the name itself.
        assert_eq!(
            y["x-chatwoot-env"]["INSTALLATION_NAME"].as_str(),
            Some(name.replace('$', "$$").as_str()),
            "{name:?}"
        );
        assert_eq!(keys(&y["services"]), ["acme-postgres", "acme-redis", "acme-app", "acme-sidekiq"]);
    }

    // What would be injected through other fields is refused by the brand
    // module, each with the field and the fix.
    for (edit, field) in [
        (("domain = \"chatwoot.nexateam.com.br\"", "domain = \"a.example`) || Host(`evil.example\""), "stack.domain"),
        (("[stack]", "[stack]\nnetwork = \"minha rede\\n\""), "stack.network"),
        (("[stack]", "[stack]\nname = \"Bad_Name\""), "stack.name"),
        (("[stack]", "[stack]\nsmtp_address = \"smtp.example.com\\\" x\""), "stack.smtp_address"),
        (("[stack]", "[stack]\nsmtp_port = 70000"), "stack.smtp_port"),
    ] {
        let b = brands(Some(("acme", &|t: &str| t.replacen(edit.0, edit.1, 1))));
        let o = wl_in(work.path(), b.path(), work.path(), &["stack", "acme", "--image", D1, "-o", "refused.yml"], &[]);
        assert!(!o.status.success(), "{field}");
        assert!(text(&o).contains(field) && text(&o).contains("fix"), "{field}: {}", text(&o));
        assert!(!work.path().join("refused.yml").exists());
    }
    // A pack directory that cannot name Docker objects needs [stack] name.
    let b = brands(Some(("Acme Corp", &|t: &str| t.to_string())));
    let o = wl_in(work.path(), b.path(), work.path(), &["stack", "Acme Corp", "--image", D1, "-o", "refused.yml"], &[]);
    assert!(!o.status.success() && text(&o).contains("stack.name"), "{}", text(&o));
    let b = brands(Some(("Acme Corp", &|t: &str| t.replacen("[stack]", "[stack]\nname = \"acme\"", 1))));
    let o = wl_in(work.path(), b.path(), work.path(), &["stack", "Acme Corp", "--image", D1, "-o", "named.yml"], &[]);
    success(&o);
    assert_eq!(keys(&parse(&work.path().join("named.yml"))["services"])[2], "acme-app");
}

/// A registry inside the private daemon's network namespace (the daemon
/// cannot reach the host's): gives images the digests a stack pins.
struct NsRegistry {
    child: Child,
    _dir: tempfile::TempDir,
}

impl NsRegistry {
    fn start(daemon: &PrivateDaemon) -> NsRegistry {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:5001\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let pid = daemon.pid().to_string();
        let child = Command::new("nsenter")
            .args(["--target", &pid, "--net", "docker-registry", "serve"])
            .arg(&config)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker-registry (Debian's package; .ci/services installs it)");
        let reg = NsRegistry { child, _dir: dir };
        for _ in 0..100 {
            let up = Command::new("nsenter")
                .args(["--target", &pid, "--net", "curl", "-fs", "-o", "/dev/null", "http://127.0.0.1:5001/v2/"])
                .status()
                .unwrap();
            if up.success() {
                return reg;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the registry in the private daemon's network did not start");
    }
}

impl Drop for NsRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The report the fake Chatwoot commands print: hashes of what they got.
const REPORT_SH: &str = r#"#!/bin/sh
role=$1; shift
for v in INSTALLATION_NAME SECRET_KEY_BASE POSTGRES_PASSWORD SMTP_PASSWORD; do
  eval "val=\${$v-}"
  printf '%s %s %s\n' "$role" "$v" "$(printf '%s' "$val" | sha256sum | cut -d' ' -f1)"
done
for v in SECRET_KEY_BASE_FILE POSTGRES_PASSWORD_FILE SMTP_PASSWORD_FILE; do
  eval "s=\${$v+set}"; printf '%s %s %s\n' "$role" "$v" "${s:-unset}"
done
printf '%s args %s\n' "$role" "$*"
printf '%s cwd %s\n' "$role" "$(pwd)"
echo "$role done"
# PID 1 ignores SIGTERM without a handler: stop at once when the daemon stops.
trap 'exit 0' TERM INT
sleep 3600 &
wait
"#;

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// The raw log of service `name` once it contains `until` (60 s at most).
fn wait_for_log(host: &str, name: &str, until: &str) -> String {
    for _ in 0..300 {
        let o =
            Command::new("docker").env("DOCKER_HOST", host).args(["service", "logs", "--raw", name]).output().unwrap();
        let log = String::from_utf8_lossy(&o.stdout).into_owned();
        if log.contains(until) {
            return log;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let ps =
        Command::new("docker").env("DOCKER_HOST", host).args(["service", "ps", "--no-trunc", name]).output().unwrap();
    panic!("service {name} did not log {until:?}: {}", text(&ps));
}

#[test]
fn the_stack_runs_on_a_real_swarm() {
    let daemon = PrivateDaemon::start();
    daemon.init_swarm();
    let host = daemon.host();
    let env = [("DOCKER_HOST", host.as_str())];
    let d = daemon.client();
    let _registry = NsRegistry::start(&daemon);

    // A stand-in for the brand image: busybox, the wrapper where the image
    // carries it, and Chatwoot's two commands replaced by a report.
    let rails = b"#!/bin/sh\nexec report rails.sh \"$@\"\n";
    let bundle = b"#!/bin/sh\nexec report bundle \"$@\"\n";
    let rootfs = busybox_rootfs(&[
        (ENTRYPOINT_PATH, ENTRYPOINT_SH.as_bytes(), 0o644),
        ("app/docker/entrypoints/rails.sh", rails, 0o755),
        ("usr/local/bin/bundle", bundle, 0o755),
        ("usr/local/bin/report", REPORT_SH.as_bytes(), 0o755),
    ]);
    let tag = "127.0.0.1:5001/whitelabel/chatwoot:e2e";
    import_rootfs(&d, rootfs, tag, &["WORKDIR /app", "ENV PATH=/usr/local/bin:/usr/bin:/bin"]);
    block_on(async {
        let opts = bollard::query_parameters::PushImageOptionsBuilder::default().tag("e2e").build();
        let mut s = d.push_image("127.0.0.1:5001/whitelabel/chatwoot", Some(opts), None);
        while let Some(item) = s.next().await {
            item.expect("pushing to the namespace's registry");
        }
    });
    let pinned = block_on(d.inspect_image(tag)).unwrap().repo_digests.unwrap().remove(0);

    // Two brands, one of them with a hostile name, deployed under the SAME
    // stack name: nothing may collide.
    let hostile = "Acme \"Q\" $HOME ${X} it's: #1 `x` \\ \u{a0} Ação";
    let b = brands(Some(("acme", &acme(hostile))));
    let work = tempfile::tempdir().unwrap();
    let home = work.path();
    let smtp = work.path().join("smtp");
    std::fs::write(&smtp, "smtp pass\n").unwrap();
    let o = Command::new("docker")
        .env("DOCKER_HOST", &host)
        .args(["network", "create", "--driver", "overlay", "--attachable", "minha_rede"])
        .output()
        .expect("the docker CLI");
    assert!(o.status.success(), "{}", text(&o));
    let digest_file = work.path().join("e2e.digest");
    std::fs::write(&digest_file, format!("{pinned}\n")).unwrap();
    let mut expected = Vec::new();
    for (brand, name) in [("nexa", "Nexa"), ("acme", hostile)] {
        success(&wl_in(
            work.path(),
            b.path(),
            home,
            &["secrets", brand, "--swarm", "--smtp-password-file", smtp.to_str().unwrap()],
            &env,
        ));
        let file = format!("{brand}.yml");
        success(&wl_in(
            work.path(),
            b.path(),
            home,
            &["stack", brand, "--digest-file", digest_file.to_str().unwrap(), "-o", &file],
            &env,
        ));
        let o = Command::new("docker")
            .env("DOCKER_HOST", &host)
            .current_dir(work.path())
            .args(["stack", "deploy", "--resolve-image", "never", "-c", &file, "chatwoot"])
            .output()
            .unwrap();
        assert!(o.status.success(), "deploying {brand}'s stack (the swarm's compose schema check):\n{}", text(&o));
        let values: BTreeMap<String, String> =
            std::fs::read_to_string(home.join(format!(".config/whitelabel/secrets/{brand}.env")))
                .unwrap()
                .lines()
                .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
                .collect();
        expected.push((brand, name.to_string(), values));
    }
    let o = Command::new("docker")
        .env("DOCKER_HOST", &host)
        .args(["service", "ls", "--format", "{{.Name}}"])
        .output()
        .unwrap();
    let services: BTreeSet<String> = String::from_utf8_lossy(&o.stdout).lines().map(String::from).collect();
    assert_eq!(services.len(), 8, "{services:?}");

    for (brand, name, values) in &expected {
        for (svc, role, args) in [
            ("app", "rails.sh", "bundle exec rails s -p 3000 -b 0.0.0.0"),
            ("sidekiq", "bundle", "exec sidekiq -C config/sidekiq.yml"),
        ] {
            let log = wait_for_log(&host, &format!("chatwoot_{brand}-{svc}"), &format!("{role} done"));
            let line = |what: &str| format!("{role} {what}");
            assert!(
                log.contains(&line(&format!("INSTALLATION_NAME {}", sha256_hex(name.as_bytes())))),
                "{brand} {svc}: the name as written in brand.toml\n{log}"
            );
            for key in ["SECRET_KEY_BASE", "POSTGRES_PASSWORD", "SMTP_PASSWORD"] {
                assert!(
                    log.contains(&line(&format!("{key} {}", sha256_hex(values[key].as_bytes())))),
                    "{brand} {svc} {key}\n{log}"
                );
                assert!(log.contains(&line(&format!("{key}_FILE unset"))), "{brand} {svc}\n{log}");
            }
            assert!(log.contains(&line(&format!("args {args}"))), "{brand} {svc}\n{log}");
            assert!(log.contains(&line("cwd /app")), "{log}");
        }
    }
}
