//! `whitelabel secrets`: fresh values in a private file outside the
//! repository, never printed, never overwritten without --rotate; `--swarm`
//! against a private daemon made a swarm manager here (never the shared one).

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::docker::*;
use common::*;

/// Runs `whitelabel secrets ARGS` from the repository root with HOME
/// pointing at `home`.
fn secrets(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    secrets_in(&repo(), home, args, env)
}

fn secrets_in(cwd: &Path, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_whitelabel"));
    c.current_dir(cwd).args(["--brands-dir", repo().join("brands").to_str().unwrap(), "secrets"]).args(args);
    c.env("HOME", home).env_remove("XDG_CONFIG_HOME").env_remove("DOCKER_HOST").envs(env.iter().copied());
    c.output().unwrap()
}

fn env_file(home: &Path, stack: &str) -> PathBuf {
    home.join(".config/whitelabel/secrets").join(format!("{stack}.env"))
}

/// NAME → value of an env file.
fn values(path: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn all_output(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn assert_hidden(o: &Output, vals: &std::collections::BTreeMap<String, String>) {
    let text = all_output(o);
    for (k, v) in vals.iter().filter(|(_, v)| v.len() >= 6) {
        assert!(!text.contains(v.as_str()), "{k}'s value was printed:\n{text}");
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn fresh_secrets_go_to_a_private_file_and_are_never_printed() {
    let home = tempfile::tempdir().unwrap();
    let o = secrets(home.path(), &["nexa"], &[]);
    assert!(o.status.success(), "{}", all_output(&o));
    let file = env_file(home.path(), "nexa");
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(file.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    let v = values(&file);
    assert!(is_hex(&v["SECRET_KEY_BASE"], 128), "SECRET_KEY_BASE: 64 random bytes as hex");
    assert!(is_hex(&v["POSTGRES_PASSWORD"], 64), "POSTGRES_PASSWORD: 32 random bytes as hex");
    assert_eq!(v["SMTP_PASSWORD"], "", "the mail provider's password is never made up");
    assert!(std::fs::read_to_string(&file).unwrap().contains("# TODO"));
    assert_hidden(&o, &v);
    assert!(all_output(&o).contains(&file.display().to_string()), "says where they went");

    // Another brand (and run) draws other values; XDG_CONFIG_HOME is honoured.
    let xdg = tempfile::tempdir().unwrap();
    let o = secrets(home.path(), &["nexa", "--json"], &[("XDG_CONFIG_HOME", xdg.path().to_str().unwrap())]);
    let j = ok(&o);
    let other = xdg.path().join("whitelabel/secrets/nexa.env");
    assert_eq!(j["file"], other.display().to_string());
    assert_eq!(j["values"]["SECRET_KEY_BASE"], "generated");
    assert_eq!(j["values"]["SMTP_PASSWORD"], "missing");
    let w = values(&other);
    assert_ne!(w["SECRET_KEY_BASE"], v["SECRET_KEY_BASE"]);
    assert_hidden(&o, &w);
}

#[test]
fn existing_secrets_are_kept_unless_rotated() {
    let home = tempfile::tempdir().unwrap();
    let file = env_file(home.path(), "nexa");
    assert!(secrets(home.path(), &["nexa"], &[]).status.success());
    let before = std::fs::read(&file).unwrap();
    let v = values(&file);

    let o = secrets(home.path(), &["nexa"], &[]);
    assert!(!o.status.success());
    assert!(all_output(&o).contains("--rotate"), "{}", all_output(&o));
    assert_eq!(std::fs::read(&file).unwrap(), before, "refused: the file is untouched");
    assert_hidden(&o, &v);

    // The SMTP password the file lacks may be added; the rest stays.
    let smtp = home.path().join("smtp.txt");
    std::fs::write(&smtp, "provider's pass word\n").unwrap();
    let o = secrets(home.path(), &["nexa", "--smtp-password-file", smtp.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", all_output(&o));
    let w = values(&file);
    assert_eq!(w["SMTP_PASSWORD"], "provider's pass word", "one trailing newline stripped");
    assert_eq!((&w["SECRET_KEY_BASE"], &w["POSTGRES_PASSWORD"]), (&v["SECRET_KEY_BASE"], &v["POSTGRES_PASSWORD"]));
    assert_hidden(&o, &w);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    // ...but never replaced.
    let o = secrets(home.path(), &["nexa", "--smtp-password-file", smtp.to_str().unwrap()], &[]);
    assert!(!o.status.success());

    // --rotate: fresh generated values, the given SMTP password kept.
    let o = secrets(home.path(), &["nexa", "--rotate"], &[]);
    assert!(o.status.success(), "{}", all_output(&o));
    let r = values(&file);
    assert_ne!(r["SECRET_KEY_BASE"], w["SECRET_KEY_BASE"]);
    assert_ne!(r["POSTGRES_PASSWORD"], w["POSTGRES_PASSWORD"]);
    assert_eq!(r["SMTP_PASSWORD"], w["SMTP_PASSWORD"]);
    assert_hidden(&o, &r);
    assert_hidden(&o, &w);
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_path_inside_a_repository_is_refused() {
    let home = tempfile::tempdir().unwrap();
    // This repository (the command runs from its root).
    let inside = repo().join("target").join(format!("secrets-test-{}.env", std::process::id()));
    let o = secrets(home.path(), &["nexa", "-o", inside.to_str().unwrap()], &[]);
    assert!(!o.status.success());
    assert!(all_output(&o).contains("inside the git repository"), "{}", all_output(&o));
    assert!(!inside.exists());

    // Another repository as the current directory; a symlink leading into
    // it does not hide where the file would land.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join(".git")).unwrap();
    let link = home.path().join("link");
    std::os::unix::fs::symlink(other.path(), &link).unwrap();
    let target = link.join("s.env");
    let o = secrets_in(other.path(), home.path(), &["nexa", "-o", target.to_str().unwrap()], &[]);
    assert!(!o.status.success(), "{}", all_output(&o));
    assert!(all_output(&o).contains("inside the git repository"), "{}", all_output(&o));
    assert!(!other.path().join("s.env").exists());

    // --force: the person says it is fine (e.g. the file is ignored).
    let o = secrets_in(other.path(), home.path(), &["nexa", "--force", "-o", target.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", all_output(&o));
    assert_eq!(std::fs::metadata(other.path().join("s.env")).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn swarm_secrets_need_a_manager_and_are_created_all_or_none() {
    let daemon = PrivateDaemon::start();
    let host = daemon.host();
    let env = [("DOCKER_HOST", host.as_str())];
    let home = tempfile::tempdir().unwrap();
    let file = env_file(home.path(), "nexa");
    let smtp = home.path().join("smtp.txt");
    std::fs::write(&smtp, "smtp-secret-value\n").unwrap();
    let smtp_arg = ["nexa", "--swarm", "--smtp-password-file", smtp.to_str().unwrap()];

    // Not a swarm: one clear error, and nothing written.
    let o = secrets(home.path(), &smtp_arg, &env);
    assert!(!o.status.success());
    assert!(all_output(&o).contains("not part of a swarm"), "{}", all_output(&o));
    assert!(!file.exists(), "nothing half-done: no file without the Docker secrets");

    daemon.init_swarm();
    let d = daemon.client();
    let list = || -> Vec<(String, std::collections::HashMap<String, String>)> {
        let mut v: Vec<_> = block_on(d.list_secrets(None::<bollard::query_parameters::ListSecretsOptions>))
            .unwrap()
            .into_iter()
            .map(|s| {
                let spec = s.spec.unwrap();
                (spec.name.unwrap(), spec.labels.unwrap_or_default())
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };

    // --swarm without an SMTP password: refused before anything is made.
    let o = secrets(home.path(), &["nexa", "--swarm"], &env);
    assert!(!o.status.success());
    assert!(all_output(&o).contains("SMTP_PASSWORD has no value"), "{}", all_output(&o));
    assert!(list().is_empty() && !file.exists());

    // One of the names is taken: none is created, no file.
    let taken = bollard::models::SecretSpec {
        name: Some("nexa_smtp_password".into()),
        data: Some("b2xk".into()),
        ..Default::default()
    };
    let taken_id = block_on(d.create_secret(taken)).unwrap().id;
    let o = secrets(home.path(), &smtp_arg, &env);
    assert!(!o.status.success());
    let text = all_output(&o);
    assert!(text.contains("nexa_smtp_password already exist") && text.contains("docker secret rm"), "{text}");
    assert_eq!(list().len(), 1, "all or none");
    assert!(!file.exists());
    block_on(d.delete_secret(&taken_id)).unwrap();

    // The file cannot be written once the secrets exist: they go again.
    let o = secrets(home.path(), &[&smtp_arg[..], &["-o", "/dev/null/nexa.env"]].concat(), &env);
    assert!(!o.status.success());
    assert!(all_output(&o).contains("removed the 3 secret(s) this run created"), "{}", all_output(&o));
    assert!(list().is_empty(), "all or none");

    // A manager: all three, with the stack's names, labelled; file written.
    let o = secrets(home.path(), &[&smtp_arg[..], &["--json"]].concat(), &env);
    let j = ok(&o);
    let names: Vec<String> = list()
        .into_iter()
        .map(|(n, l)| {
            assert_eq!(l["io.whitelabel.brand"], "nexa");
            n
        })
        .collect();
    assert_eq!(names, ["nexa_postgres_password", "nexa_secret_key_base", "nexa_smtp_password"]);
    assert_eq!(j["docker_secrets"].as_array().unwrap().len(), 3);
    let v = values(&file);
    assert_eq!(v["SMTP_PASSWORD"], "smtp-secret-value");
    assert_hidden(&o, &v);

    // Again: refused (immutable), and the file is kept as it is.
    let before = std::fs::read(&file).unwrap();
    let o = secrets(home.path(), &["nexa", "--swarm"], &env);
    assert!(!o.status.success());
    assert!(all_output(&o).contains("immutable"), "{}", all_output(&o));
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert_eq!(list().len(), 3);

    // What the swarm holds is what the file holds: a service reads them back.
    let tag = "wl-busybox:secrets";
    import_rootfs(&d, busybox_rootfs(&[]), tag, &[]);
    let mut c = Command::new("docker");
    c.env("DOCKER_HOST", &host).args([
        "service",
        "create",
        "--detach",
        "--name",
        "reader",
        "--restart-condition",
        "none",
    ]);
    for n in &names {
        c.arg("--secret").arg(format!("source={n},target={n}"));
    }
    let script =
        "for f in /run/secrets/*; do printf '%s %s\\n' \"${f##*/}\" \"$(sha256sum < $f | cut -d' ' -f1)\"; done";
    let o = c.args([tag, "sh", "-c", script]).output().expect("the docker CLI");
    assert!(o.status.success(), "{}", all_output(&o));
    let logs = wait_for_logs(&host, "reader", 3);
    for (n, key) in names.iter().zip(["POSTGRES_PASSWORD", "SECRET_KEY_BASE", "SMTP_PASSWORD"]) {
        let want = format!("{n} {}", sha256_hex(v[key].as_bytes()));
        assert!(logs.contains(&want), "{n}: {logs}");
    }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// The raw log of service `name` once it has `lines` lines (30 s at most).
fn wait_for_logs(host: &str, name: &str, lines: usize) -> String {
    for _ in 0..150 {
        let o =
            Command::new("docker").env("DOCKER_HOST", host).args(["service", "logs", "--raw", name]).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        if text.lines().count() >= lines {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let ps =
        Command::new("docker").env("DOCKER_HOST", host).args(["service", "ps", "--no-trunc", name]).output().unwrap();
    panic!("service {name} logged nothing: {}", all_output(&ps));
}

/// A FIFO (or any non-regular file) as the SMTP password file is refused at
/// once, never waited on.
#[test]
fn a_fifo_as_the_password_file_is_refused_not_waited_on() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pw");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let started = std::time::Instant::now();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_whitelabel"))
        .current_dir(repo())
        .args(["secrets", "nexa", "--smtp-password-file", fifo.to_str().unwrap()])
        .env("XDG_CONFIG_HOME", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A hang would be a test failure, not a stuck CI run.
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("secrets waited on the FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("is not a regular file"), "{err}");
}
