//! The entrypoint wrapper of a whitelabel image (`entrypoint.sh`, POSIX sh
//! for the Alpine base's busybox): exports each secret variable `X` from the
//! file `X_FILE` names (Docker secrets under `/run/secrets/`), then `exec`s the
//! command. Chatwoot reads plain variables only; this lets the stack file
//! carry file paths instead of values. It is run as `sh PATH COMMAND...`, so
//! the file needs no exec bit.

/// The script, as it goes into the image.
pub const ENTRYPOINT_SH: &str = include_str!("entrypoint.sh");

/// Where the image carries it.
pub const ENTRYPOINT_PATH: &str = "/app/docker/entrypoints/whitelabel-env.sh";

/// The variables it reads from `X_FILE` without being told (more through
/// `WHITELABEL_FILE_VARS`).
pub const FILE_VARS: [&str; 4] = ["POSTGRES_PASSWORD", "SECRET_KEY_BASE", "SMTP_PASSWORD", "REDIS_PASSWORD"];

/// `command` run through the wrapper: `["sh", ENTRYPOINT_PATH, command...]`.
pub fn wrap(command: &[&str]) -> Vec<String> {
    ["sh", ENTRYPOINT_PATH].iter().chain(command).map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_and_constants_agree() {
        let list = format!("for _wl_name in {} ${{WHITELABEL_FILE_VARS:-}}", FILE_VARS.join(" "));
        assert!(ENTRYPOINT_SH.contains(&list), "the script's list is {FILE_VARS:?}");
        for s in crate::secrets::ALL {
            assert!(FILE_VARS.contains(&s.env), "{} reaches Chatwoot through the wrapper", s.env);
        }
        assert!(ENTRYPOINT_SH.starts_with("#!/bin/sh\n") && ENTRYPOINT_SH.trim_end().ends_with("exec \"$@\""));
        assert_eq!(wrap(&["a b"]), ["sh", ENTRYPOINT_PATH, "a b"]);
    }
}
