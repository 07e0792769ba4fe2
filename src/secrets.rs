//! A brand's deployment secrets: which there are, the Docker secret names and
//! in-container paths the stack file references, fresh values from the OS
//! random generator, and the private env file that keeps them (mode 0600,
//! outside any repository). Values never reach stdout, logs or a stack file:
//! [`Values`] does not even print them under `{:?}`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use crate::error::{Error, Problem, Result};

/// One secret the stack needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secret {
    /// The variable Chatwoot (or postgres) reads.
    pub env: &'static str,
    /// Random bytes to generate (written as hex); `None`: given by someone
    /// else (the mail provider), never generated.
    pub random_bytes: Option<usize>,
}

pub const SECRET_KEY_BASE: Secret = Secret { env: "SECRET_KEY_BASE", random_bytes: Some(64) };
pub const POSTGRES_PASSWORD: Secret = Secret { env: "POSTGRES_PASSWORD", random_bytes: Some(32) };
pub const SMTP_PASSWORD: Secret = Secret { env: "SMTP_PASSWORD", random_bytes: None };
pub const ALL: [Secret; 3] = [SECRET_KEY_BASE, POSTGRES_PASSWORD, SMTP_PASSWORD];

impl Secret {
    /// `secret_key_base`: the file name under `/run/secrets/`.
    pub fn key(&self) -> String {
        self.env.to_ascii_lowercase()
    }

    /// The Docker secret's name for the stack `stack` (see
    /// [`crate::brand::Brand::stack_name`]): `nexa_secret_key_base`.
    pub fn docker_name(&self, stack: &str) -> String {
        format!("{stack}_{}", self.key())
    }

    /// Where the secret is mounted in a container: `/run/secrets/<key>`.
    pub fn path(&self) -> String {
        format!("/run/secrets/{}", self.key())
    }
}

/// Secret values by variable name. Debug shows the names only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Values(BTreeMap<String, String>);

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Values {
    pub fn get(&self, s: Secret) -> Option<&str> {
        self.0.get(s.env).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn set(&mut self, s: Secret, value: String) {
        self.0.insert(s.env.to_string(), value);
    }

    /// Fresh values for every generated secret; the others are left out.
    pub fn generate() -> Result<Values> {
        let mut v = Values::default();
        for s in ALL {
            if let Some(n) = s.random_bytes {
                v.set(s, random_hex(n)?);
            }
        }
        Ok(v)
    }
}

/// `n` bytes from the OS random generator, as `2n` lower-case hex digits.
pub fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| Error::usage(format!("the OS random generator failed: {e}"), "retry; check /dev/urandom"))?;
    Ok(hex::encode(buf))
}

/// A secret given by a person (the SMTP password): one line, one trailing
/// newline stripped, no control characters.
pub fn given_value(path: &Path) -> Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO must not wait for a writer; then only a
    // regular file (of a password's size) is read.
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io("reading", path, e))?;
    let meta = file.metadata().map_err(|e| Error::io("reading", path, e))?;
    if !meta.is_file() || meta.len() > 64 * 1024 {
        return Err(Error::Input(Problem::new(
            path,
            None,
            "is not a regular file of at most 64 KiB (a FIFO, device or directory would hang or mislead)",
            "write the password into a plain file and pass that",
        )));
    }
    let mut bytes = Vec::new();
    file.take(64 * 1024).read_to_end(&mut bytes).map_err(|e| Error::io("reading", path, e))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Input(Problem::new(path, None, "is not UTF-8", "save the password as UTF-8 text")))?;
    let value = text.strip_suffix('\n').unwrap_or(&text);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.is_empty() || value.chars().any(char::is_control) {
        return Err(Error::Input(Problem::new(
            path,
            None,
            "must hold one non-empty line without control characters",
            "write the password alone on the first line",
        )));
    }
    Ok(value.to_string())
}

/// `$XDG_CONFIG_HOME/whitelabel/secrets/<stack>.env`, else under `~/.config`.
pub fn default_path(stack: &str) -> Result<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let base = match (var("XDG_CONFIG_HOME"), var("HOME")) {
        (Some(x), _) if x.is_absolute() => x,
        (_, Some(h)) => h.join(".config"),
        _ => {
            return Err(Error::usage(
                "neither XDG_CONFIG_HOME nor HOME is set, so there is no default place for the secrets file",
                "pass -o FILE outside the repository",
            ));
        }
    };
    Ok(base.join("whitelabel").join("secrets").join(format!("{stack}.env")))
}

/// The env file: comments, then `NAME=value` lines (the value is everything
/// after the first `=`, unquoted). The SMTP password, when not given, is an
/// empty line with a TODO above it.
pub fn render_env(brand_id: &str, stack: &str, values: &Values) -> String {
    let names: Vec<String> = ALL.iter().map(|s| s.docker_name(stack)).collect();
    let mut out = format!(
        "# Secrets of brand {brand_id}, written by `whitelabel secrets` on {}.\n\
         # Keep this file private (mode 0600, outside any repository).\n\
         # Each line is NAME=value; the value is everything after the first `=`, unquoted.\n\
         # Docker secrets (`whitelabel secrets {brand_id} --swarm`): {}\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        names.join(", ")
    );
    for s in ALL {
        let value = values.get(s).unwrap_or("");
        if s.random_bytes.is_none() && value.is_empty() {
            out.push_str(
                "# TODO: the password your mail provider gave you, on the next line after `=`\n\
                 # (or rerun with --smtp-password-file FILE); --swarm needs it.\n",
            );
        }
        out.push_str(&format!("{}={value}\n", s.env));
    }
    out
}

/// Reads an env file written by [`render_env`] (and maybe edited by hand).
pub fn parse_env(path: &Path, text: &str) -> Result<Values> {
    let mut v = Values::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(Error::Input(Problem::new(
                path,
                Some(format!("line {}", i + 1)),
                "is not NAME=value",
                "fix or remove the line",
            )));
        };
        let Some(secret) = ALL.iter().find(|s| s.env == name.trim()) else {
            return Err(Error::Input(Problem::new(
                path,
                Some(format!("line {}", i + 1)),
                format!("`{}` is not one of {}", name.trim(), ALL.map(|s| s.env).join(", ")),
                "fix or remove the line",
            )));
        };
        v.set(*secret, value.to_string());
    }
    Ok(v)
}

/// Reads an existing secrets file, warning when others can read it.
pub fn read_env(path: &Path) -> Result<Values> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io("reading", path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        eprintln!("warning: {} has mode {mode:04o}: others can read it (fix: chmod 600 {0})", path.display());
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
    parse_env(path, &text)
}

/// Writes `text` to `path` with mode 0600 in one step (a private temporary
/// file renamed over it), creating missing directories with mode 0700.
/// Without `replace`, an existing file is never overwritten, even one that
/// appears meanwhile.
pub fn write_private(path: &Path, text: &str, replace: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(|e| Error::io("creating", &dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".whitelabel-secrets")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(&dir)
        .map_err(|e| Error::io("creating a file in", &dir, e))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io("writing", tmp.path().to_path_buf(), e))?;
    let persisted = if replace { tmp.persist(path).map(drop) } else { tmp.persist_noclobber(path).map(drop) };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            exists(path)
        } else {
            Error::io("writing", path, e.error)
        }
    })
}

/// The refusal for an existing secrets file.
pub fn exists(path: &Path) -> Error {
    Error::usage(
        format!("{} already holds this brand's secrets; they are not overwritten", path.display()),
        "keep them, or pass --rotate to replace them (then update the database password and the Docker secrets: see README)",
    )
}

/// The work tree root (`.git` beside it) that contains `path`, if any.
pub fn git_root(path: &Path) -> Option<PathBuf> {
    let resolved = resolve(path);
    resolved.ancestors().find(|a| a.join(".git").exists()).map(Path::to_path_buf)
}

/// `path` made absolute with symlinks resolved as far as it exists, so a
/// symlinked directory cannot hide that the file lands in a repository.
pub fn resolve(path: &Path) -> PathBuf {
    let abs =
        if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(path) };
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(real) = cur.canonicalize() {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return abs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_lengths() {
        assert_eq!(SECRET_KEY_BASE.docker_name("nexa"), "nexa_secret_key_base");
        assert_eq!(POSTGRES_PASSWORD.path(), "/run/secrets/postgres_password");
        let v = Values::generate().unwrap();
        let skb = v.get(SECRET_KEY_BASE).unwrap();
        assert_eq!(skb.len(), 128);
        assert!(skb.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(v.get(POSTGRES_PASSWORD).unwrap().len(), 64);
        assert_eq!(v.get(SMTP_PASSWORD), None);
        assert_ne!(Values::generate().unwrap(), v, "two draws differ");
        assert!(!format!("{v:?}").contains(skb), "Debug hides values");
    }

    #[test]
    fn env_file_round_trips() {
        let mut v = Values::generate().unwrap();
        let text = render_env("nexa", "nexa", &v);
        assert!(text.contains("# TODO"));
        assert_eq!(parse_env(Path::new("x.env"), &text).unwrap().get(SECRET_KEY_BASE), v.get(SECRET_KEY_BASE));
        v.set(SMTP_PASSWORD, "p=ss word#1".into());
        let text = render_env("nexa", "nexa", &v);
        assert!(!text.contains("TODO"));
        assert_eq!(parse_env(Path::new("x.env"), &text).unwrap(), v);
        assert!(parse_env(Path::new("x.env"), "OTHER=1\n").is_err());
        assert!(parse_env(Path::new("x.env"), "junk\n").is_err());
    }
}
