//! Ctrl-C and SIGTERM for the commands that write outputs without Docker
//! (`render`, `context`, `preview`): what the run made is removed, then the
//! process exits 130 (SIGINT) or 143 (SIGTERM), as shells report them.
//!
//! Paths a run creates are registered while they exist ([`Made`]); a swap
//! into place holds [`critical`] so that a signal waits for it to finish and
//! never removes half of an output.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, Once};

static MADE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CRITICAL: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();

/// Installs the handler (once per process). Without it a signal kills the
/// process as usual and the next run collects what was left.
pub fn install() {
    INSTALL.call_once(|| {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
        std::thread::spawn(move || {
            if let Some(sig) = signals.forever().next() {
                // Waits for a swap in progress; the guard is held until exit.
                let _swap = critical();
                let made = std::mem::take(&mut *MADE.lock().unwrap_or_else(|p| p.into_inner()));
                for path in made.iter().rev() {
                    remove(path);
                }
                let name = if sig == SIGINT { "Ctrl-C" } else { "SIGTERM" };
                eprintln!("error: interrupted ({name}); removed what this run had written");
                std::process::exit(128 + sig);
            }
        });
    });
}

/// Holds off the signal handler while an output is swapped into place.
pub fn critical() -> MutexGuard<'static, ()> {
    CRITICAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A path this run created, removed by the handler until [`Made::keep`] or
/// drop (which only forgets it: removing is the owner's job).
#[derive(Debug)]
pub struct Made(PathBuf);

impl Made {
    pub fn new(path: impl Into<PathBuf>) -> Made {
        let path = path.into();
        MADE.lock().unwrap_or_else(|p| p.into_inner()).push(path.clone());
        Made(path)
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        let mut made = MADE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = made.iter().rposition(|p| *p == self.0) {
            made.remove(i);
        }
    }
}

fn remove(path: &std::path::Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Whether a process with this PID runs (on this machine). Used to tell a
/// dead run's leftovers from a live run's work.
pub fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// This machine's name and this process's PID (`host/pid`): what a resource
/// shared with other machines (a Docker daemon) records as its owner.
pub fn owner() -> String {
    format!("{}/{}", hostname(), std::process::id())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string()
}

/// Whether `owner` (from [`owner`]) names a process of this machine that is
/// gone.
pub fn owner_gone(owner: &str) -> bool {
    match owner.rsplit_once('/') {
        Some((host, pid)) if host == hostname() => pid.parse().is_ok_and(|pid| !process_alive(pid)),
        _ => false,
    }
}
