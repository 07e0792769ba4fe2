//! Progress of the long steps, on stderr: live spinners and byte counters on
//! a terminal, one line per step start and end otherwise (CI logs), nothing
//! under `--json`. Every finished step's time is kept for the summary.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, serde::Serialize)]
pub struct StageTime {
    pub stage: String,
    pub seconds: f64,
    pub detail: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Live,
    Lines,
    Quiet,
}

pub struct Progress {
    kind: Kind,
    multi: MultiProgress,
    done: Mutex<Vec<StageTime>>,
    current: Mutex<&'static str>,
    /// For one brand of many: its name, and its one live line.
    label: Option<(String, Option<ProgressBar>)>,
}

/// One running step.
pub struct Stage<'p> {
    progress: &'p Progress,
    name: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
}

impl Progress {
    /// Live on a terminal, lines otherwise, silent for `--json`.
    pub fn new(json: bool) -> Progress {
        use std::io::IsTerminal;
        let kind = if json {
            Kind::Quiet
        } else if std::io::stderr().is_terminal() {
            Kind::Live
        } else {
            Kind::Lines
        };
        let multi = MultiProgress::with_draw_target(if kind == Kind::Live {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Progress { kind, multi, done: Mutex::new(Vec::new()), current: Mutex::new("start"), label: None }
    }

    /// The progress of one brand among many: one live line per brand on a
    /// terminal (its current step), `[brand/step]` lines otherwise.
    pub fn child(&self, label: &str) -> Progress {
        let line = (self.kind == Kind::Live).then(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {prefix:>12.bold} {msg}").expect("valid template"),
            );
            bar.set_prefix(label.to_string());
            bar.set_message("waiting");
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Progress {
            kind: self.kind,
            multi: self.multi.clone(),
            done: Mutex::new(Vec::new()),
            current: Mutex::new("start"),
            label: Some((label.to_string(), line)),
        }
    }

    /// Ends a child's line with its outcome.
    pub fn finish(&self, outcome: impl Into<String>) {
        let outcome = outcome.into();
        match &self.label {
            Some((_, Some(bar))) => {
                bar.set_style(ProgressStyle::with_template("  {prefix:>12.bold} {msg}").expect("valid template"));
                bar.finish_with_message(outcome);
            }
            Some((label, None)) if self.kind == Kind::Lines => eprintln!("[{label}] {outcome}"),
            _ => {}
        }
    }

    /// `[step]`, or `[brand/step]` for a child.
    fn tag(&self, step: &str) -> String {
        match &self.label {
            Some((label, _)) => format!("[{label}/{step}]"),
            None => format!("[{step}]"),
        }
    }

    fn child_line(&self) -> Option<&ProgressBar> {
        self.label.as_ref().and_then(|(_, bar)| bar.as_ref())
    }

    pub fn start(&self, name: &'static str, message: impl Into<String>) -> Stage<'_> {
        let message = message.into();
        *self.current.lock().expect("progress lock") = name;
        if let Some(line) = self.child_line() {
            line.set_message(format!("{name}: {message}"));
            return Stage { progress: self, name, bar: None, started: Instant::now() };
        }
        let bar = match self.kind {
            Kind::Live => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner:.cyan} {prefix:>8.bold} {msg}").expect("valid template"),
                );
                bar.set_prefix(name);
                bar.set_message(message);
                bar.enable_steady_tick(Duration::from_millis(100));
                Some(bar)
            }
            Kind::Lines => {
                eprintln!("{} {message}", self.tag(name));
                None
            }
            Kind::Quiet => None,
        };
        Stage { progress: self, name, bar, started: Instant::now() }
    }

    /// A line that is not a step (a warning, a decision).
    pub fn note(&self, line: impl AsRef<str>) {
        match self.kind {
            Kind::Live => self.multi.println(format!("  {}", line.as_ref())).unwrap_or(()),
            Kind::Lines => match &self.label {
                Some((label, _)) => eprintln!("  [{label}] {}", line.as_ref()),
                None => eprintln!("  {}", line.as_ref()),
            },
            Kind::Quiet => {}
        }
    }

    /// The step running (or last started), for interruption messages.
    pub fn current(&self) -> &'static str {
        *self.current.lock().expect("progress lock")
    }

    /// The finished steps, in order.
    pub fn stages(&self) -> Vec<StageTime> {
        self.done.lock().expect("progress lock").clone()
    }
}

impl Stage<'_> {
    pub fn message(&self, message: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.into());
        } else if let Some(line) = self.progress.child_line() {
            line.set_message(format!("{}: {}", self.name, message.into()));
        }
    }

    /// Bytes moved so far, out of `total` when known (live display only).
    pub fn bytes(&self, label: &str, done: u64, total: Option<u64>) {
        if let Some(bar) = &self.bar {
            let of = total.map(|t| format!(" / {}", human_bytes(t))).unwrap_or_default();
            bar.set_message(format!("{label} {}{of}", human_bytes(done)));
        }
    }

    /// Ends the step with a one-line result.
    pub fn done(self, detail: impl Into<String>) -> f64 {
        let detail = detail.into();
        let secs = self.started.elapsed().as_secs_f64();
        match (&self.bar, self.progress.kind) {
            (Some(bar), _) => {
                bar.set_style(ProgressStyle::with_template("  {prefix:>8.bold.green} {msg}").expect("valid template"));
                bar.finish_with_message(format!("{detail} ({secs:.2}s)"));
            }
            (None, Kind::Lines) => eprintln!("{} {detail} ({secs:.2}s)", self.progress.tag(self.name)),
            _ => {}
        }
        self.progress.done.lock().expect("progress lock").push(StageTime {
            stage: self.name.to_string(),
            seconds: secs,
            detail,
        });
        secs
    }
}

impl Drop for Stage<'_> {
    /// A step dropped without `done` failed or was interrupted: clear it.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar
            && !bar.is_finished()
        {
            bar.abandon_with_message("stopped");
        }
    }
}

/// Shortens a byte count for people.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_for_people() {
        assert_eq!(super::human_bytes(512), "512 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
    }
}
