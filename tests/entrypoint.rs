//! The entrypoint wrapper (`whitelabel::docker::entrypoint`) inside a real
//! container: an image built on the daemon from a busybox base (the shell of
//! Chatwoot's Alpine image) with the script at its in-image path and secret
//! files in a test-only layer. Every container and image is removed, also
//! when an assertion fails.

mod common;

use std::cell::RefCell;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use common::docker::*;
use futures_util::StreamExt;
use whitelabel::docker::entrypoint::{ENTRYPOINT_PATH, ENTRYPOINT_SH};

/// Removes what the test made, whatever happens.
struct Made {
    d: Docker,
    containers: RefCell<Vec<String>>,
    images: RefCell<Vec<String>>,
}

impl Drop for Made {
    fn drop(&mut self) {
        let rm = RemoveContainerOptionsBuilder::default().force(true).build();
        for c in self.containers.borrow().iter() {
            let _ = block_on(self.d.remove_container(c, Some(rm.clone())));
        }
        let rmi = RemoveImageOptionsBuilder::default().force(true).build();
        for i in self.images.borrow().iter().rev() {
            let _ = block_on(self.d.remove_image(i, Some(rmi.clone()), None));
        }
    }
}

struct Run {
    code: i64,
    stdout: Vec<u8>,
    stderr: String,
}

impl Made {
    /// Runs `cmd` in `image` with `env` as `user`, to completion.
    fn run(&self, image: &str, cmd: &[&str], env: &[&str], user: &str) -> Run {
        block_on(async {
            let body = ContainerCreateBody {
                image: Some(image.into()),
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                env: Some(env.iter().map(|s| s.to_string()).collect()),
                user: Some(user.into()),
                ..Default::default()
            };
            let c =
                self.d.create_container(None::<bollard::query_parameters::CreateContainerOptions>, body).await.unwrap();
            self.containers.borrow_mut().push(c.id.clone());
            self.d.start_container(&c.id, None::<bollard::query_parameters::StartContainerOptions>).await.unwrap();
            let mut wait = self.d.wait_container(&c.id, None::<bollard::query_parameters::WaitContainerOptions>);
            let mut code = 0;
            while let Some(w) = wait.next().await {
                match w {
                    Ok(r) => code = r.status_code,
                    // A non-zero exit arrives as an error carrying the code.
                    Err(bollard::errors::Error::DockerContainerWaitError { code: c, .. }) => code = c,
                    Err(e) => panic!("waiting for the container: {e}"),
                }
            }
            let opts = LogsOptionsBuilder::default().stdout(true).stderr(true).build();
            let mut logs = self.d.logs(&c.id, Some(opts));
            let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
            while let Some(l) = logs.next().await {
                match l.unwrap() {
                    LogOutput::StdOut { message } => stdout.extend_from_slice(&message),
                    LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
                    _ => {}
                }
            }
            Run { code, stdout, stderr: String::from_utf8_lossy(&stderr).into_owned() }
        })
    }
}

/// A context tar: Dockerfile and files as (path, bytes, mode).
fn context(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(*mode);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

const SMTP: &str = "p@ss \"word\" 'x' $HOME \\n `id` ;&|*";

/// The command every run wraps: prints each variable (or `unset`), then
/// each argument, NUL-separated.
const PRINT_SH: &str = r#"for v in SECRET_KEY_BASE POSTGRES_PASSWORD SMTP_PASSWORD REDIS_PASSWORD EXTRA \
         SECRET_KEY_BASE_FILE SMTP_PASSWORD_FILE; do
  if eval "[ -n \"\${$v+x}\" ]"; then eval "printf '%s=%s\0' $v \"\$$v\""; else printf '%s unset\0' "$v"; fi
done
for a in "$@"; do printf '%s\0' "$a"; done
"#;

fn fields(out: &[u8]) -> Vec<String> {
    let mut f: Vec<String> = out.split(|b| *b == 0).map(|s| String::from_utf8_lossy(s).into_owned()).collect();
    assert_eq!(f.pop().as_deref(), Some(""), "output ends with a NUL: {out:?}");
    f
}

#[test]
fn wrapper_exports_secrets_from_files_and_keeps_arguments() {
    let d = docker();
    let made = Made { d: d.clone(), containers: RefCell::default(), images: RefCell::default() };
    let tag = std::process::id();
    let base = format!("whitelabel-test/busybox:entrypoint-{tag}");
    made.images.borrow_mut().push(base.clone());
    import_rootfs(&d, busybox_rootfs(&[]), &base, &["WORKDIR /app"]);

    // The image: the script where the brand image carries it, and a
    // test-only layer of secret files.
    let image = format!("whitelabel-test/entrypoint:{tag}");
    let dockerfile = format!(
        "FROM {base}\nCOPY whitelabel-env.sh {ENTRYPOINT_PATH}\nCOPY print.sh /print.sh\nCOPY secrets/ /secrets/\n\
         RUN chmod 0400 /secrets/private && chmod 0444 /secrets/skb /secrets/pg /secrets/smtp /secrets/extra\n"
    );
    let ctx = context(&[
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        ("whitelabel-env.sh", ENTRYPOINT_SH.as_bytes(), 0o644),
        ("print.sh", PRINT_SH.as_bytes(), 0o644),
        ("secrets/skb", b"0123abcd\n", 0o644),
        // Two newlines: exactly one is stripped.
        ("secrets/pg", b"p w\n\n", 0o644),
        ("secrets/smtp", SMTP.as_bytes(), 0o644),
        ("secrets/extra", b"more\n", 0o644),
        ("secrets/private", b"root only\n", 0o644),
    ]);
    made.images.borrow_mut().push(image.clone());
    block_on(async {
        let opts = BuildImageOptionsBuilder::default().t(&image).rm(true).forcerm(true).build();
        let mut s = d.build_image(opts, None, Some(bollard::body_full(ctx.into())));
        while let Some(item) = s.next().await {
            item.expect("building the test image");
        }
    });

    let wrapped = |args: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["sh", ENTRYPOINT_PATH, "sh", "/print.sh"];
        v.extend_from_slice(args);
        v
    };
    let files = [
        "SECRET_KEY_BASE_FILE=/secrets/skb",
        "POSTGRES_PASSWORD_FILE=/secrets/pg",
        "SMTP_PASSWORD_FILE=/secrets/smtp",
        "EXTRA_FILE=/secrets/extra",
        "WHITELABEL_FILE_VARS=EXTRA",
    ];

    // Values reach the command; X_FILE is gone; arguments arrive intact.
    let args = ["a b", "", "it's", "\"q\"", "$HOME", "*", " lead", "trail ", "x\ny"];
    let r = made.run(&image, &wrapped(&args), &files, "0");
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let mut expected: Vec<String> = vec![
        "SECRET_KEY_BASE=0123abcd".into(),
        "POSTGRES_PASSWORD=p w\n".into(),
        format!("SMTP_PASSWORD={SMTP}"),
        "REDIS_PASSWORD unset".into(),
        "EXTRA=more".into(),
        "SECRET_KEY_BASE_FILE unset".into(),
        "SMTP_PASSWORD_FILE unset".into(),
    ];
    expected.extend(args.iter().map(|a| a.to_string()));
    assert_eq!(fields(&r.stdout), expected);
    assert_eq!(r.stderr, "", "the wrapper prints nothing on success");

    // Without any X_FILE the environment passes through untouched.
    let r = made.run(&image, &wrapped(&[]), &["SMTP_PASSWORD=direct"], "0");
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(fields(&r.stdout).contains(&"SMTP_PASSWORD=direct".to_string()));

    // X and X_FILE both set: refused before the command runs, value unsaid.
    let r = made.run(&image, &wrapped(&[]), &["SMTP_PASSWORD=direct-value", "SMTP_PASSWORD_FILE=/secrets/smtp"], "0");
    assert_ne!(r.code, 0);
    assert!(r.stdout.is_empty(), "the command did not run");
    assert!(r.stderr.contains("both SMTP_PASSWORD and SMTP_PASSWORD_FILE are set"), "{}", r.stderr);
    assert!(!r.stderr.contains("direct-value") && !r.stderr.contains("p@ss"), "{}", r.stderr);

    // Unreadable files: missing, a directory, and mode 0400 for another user.
    for (env, user) in [
        ("POSTGRES_PASSWORD_FILE=/secrets/missing", "0"),
        ("POSTGRES_PASSWORD_FILE=/secrets", "0"),
        ("REDIS_PASSWORD_FILE=/secrets/private", "65534"),
    ] {
        let r = made.run(&image, &wrapped(&[]), &[env], user);
        assert_ne!(r.code, 0, "{env} as {user}");
        assert!(r.stdout.is_empty(), "{env}: the command did not run");
        let var = env.split('=').next().unwrap();
        assert!(r.stderr.contains(&format!("{var}: cannot read")), "{env}: {}", r.stderr);
        assert!(!r.stderr.contains("root only"), "{}", r.stderr);
    }
    // The same file is fine for root, which owns it.
    let r = made.run(&image, &wrapped(&[]), &["REDIS_PASSWORD_FILE=/secrets/private"], "0");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(fields(&r.stdout).contains(&"REDIS_PASSWORD=root only".to_string()));

    // A bad extra name and a missing command are errors too.
    let r = made.run(&image, &wrapped(&[]), &["WHITELABEL_FILE_VARS=OK *"], "0");
    assert!(r.code != 0 && r.stderr.contains("is not a variable name"), "{}", r.stderr);
    let r = made.run(&image, &["sh", ENTRYPOINT_PATH], &[], "0");
    assert!(r.code != 0 && r.stderr.contains("no command given"), "{}", r.stderr);

    // The command's exit status is the container's (exec, no subshell).
    let r = made.run(&image, &["sh", ENTRYPOINT_PATH, "sh", "-c", "exit 7"], &files, "0");
    assert_eq!(r.code, 7);
}
