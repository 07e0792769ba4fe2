//! The one error type of whitelabel. Every message names what is wrong, where
//! (file and field when there is one) and what to do about it.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with an input file: a brand pack field, a patch-set rule,
/// a base file that drifted from what the patch set expects.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    pub file: PathBuf,
    /// Dotted field path inside the file (`logos.mark`), or a rule id.
    pub field: Option<String>,
    pub message: String,
    /// What the user should do.
    pub fix: String,
}

impl Problem {
    pub fn new(
        file: impl Into<PathBuf>,
        field: impl Into<Option<String>>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem { file: file.into(), field: field.into(), message: message.into(), fix: fix.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)?;
        if !self.fix.is_empty() {
            write!(f, " (fix: {})", self.fix)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The brand pack failed validation; every problem is listed.
    #[error("brand pack {} is invalid:\n{}", .pack.display(), list(.problems))]
    InvalidBrand { pack: PathBuf, problems: Vec<Problem> },

    /// The patch set itself is malformed.
    #[error("patch set {} is invalid:\n{}", .dir.display(), list(.problems))]
    InvalidPatchSet { dir: PathBuf, problems: Vec<Problem> },

    /// The base files do not look like what the patch set was written for.
    #[error("the base does not match patch set {patchset} (upstream changed?):\n{}", list(.problems))]
    Drift { patchset: String, problems: Vec<Problem> },

    /// A single problem with an input.
    #[error("{0}")]
    Input(Problem),

    #[error("{action} {}: {source} (fix: {fix})", .path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error, fix: String },

    /// Something the user asked for that cannot be done as asked.
    #[error("{message} (fix: {fix})")]
    Usage { message: String, fix: String },

    /// The Docker daemon or a registry refused or failed.
    #[error("{action}: {message} (fix: {fix})")]
    Docker { action: String, message: String, fix: String },

    /// The audit of a build's result found upstream branding or damage.
    #[error(
        "the result still shows upstream branding or damage ({summary}); nothing was tagged or pushed:\n{}{more} (fix: {fix})",
        .lines.iter().map(|l| format!("  - {l}\n")).collect::<String>()
    )]
    Leaks { summary: String, lines: Vec<String>, more: String, fix: String },

    /// A failure already reported in the command's own output (the table or
    /// JSON of `build --all`): exit 1, with one summary line for people.
    #[error("{0}")]
    Reported(String),
    /// PostgreSQL or Redis refused or failed (`target` never holds a password).
    #[error("{action} {target}: {message} (fix: {fix})")]
    Service { action: String, target: String, message: String, fix: String },

    /// Ctrl-C or SIGTERM; what the run had started was undone.
    #[error("interrupted during {stage}; {undone}")]
    Interrupted { stage: String, undone: String, signal: i32 },
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        let path = path.into();
        let fix = match source.kind() {
            std::io::ErrorKind::NotFound => "check the path exists".to_string(),
            std::io::ErrorKind::PermissionDenied => "check the file permissions".to_string(),
            _ => "check the path and the disk".to_string(),
        };
        Error::Io { action, path, source, fix }
    }

    pub fn usage(message: impl Into<String>, fix: impl Into<String>) -> Self {
        Error::Usage { message: message.into(), fix: fix.into() }
    }

    /// The process exit code: 128 + the signal after an interruption (130
    /// for Ctrl-C, 143 for SIGTERM), as shells report them.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Interrupted { signal, .. } => 128 + signal,
            _ => 1,
        }
    }

    /// Problems carried by this error, for `--json` output.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            Error::InvalidBrand { problems, .. }
            | Error::InvalidPatchSet { problems, .. }
            | Error::Drift { problems, .. } => problems.clone(),
            Error::Input(p) => vec![p.clone()],
            _ => Vec::new(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
