//! How the command line shows the progress of its long operations (`import`, `export`,
//! `rebuild`, `verify`): a bar with rate and ETA when standard error is a terminal, and plain
//! log lines otherwise (a line when the operation starts, one every few seconds, one at the
//! end), so that a file, a pipe or a log collector gets text without escape codes.
//!
//! The store only counts, through [`crate::store::Progress`]; this module is the only place that
//! knows about terminals. Progress never goes to standard output, which `export` writes its
//! NDJSON to.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncReadExt;

use crate::store::Progress;

/// Time between two log lines when standard error is not a terminal.
pub const LINE_INTERVAL: Duration = Duration::from_secs(5);

/// The bar's layout: what, elapsed, bar, done/total, rate, ETA.
const BAR_TEMPLATE: &str =
    "{msg:12} [{elapsed_precise}] [{wide_bar}] {human_pos}/{human_len} events {per_sec} ETA {eta}";

/// The progress of one operation, shown on standard error.
#[derive(Debug)]
pub enum Reporter {
    /// A bar redrawn in place, for a person at a terminal.
    Bar(ProgressBar),
    /// Periodic log lines (tracing, level info), for files and pipes.
    Lines(Lines),
}

impl Reporter {
    /// A bar when standard error is a terminal, log lines otherwise. `label` names the
    /// operation (`export`, `import`, `rebuild`, `verify`, ...).
    pub fn for_stderr(label: &str) -> Reporter {
        if std::io::stderr().is_terminal() {
            Reporter::bar(label)
        } else {
            Reporter::lines(label, LINE_INTERVAL)
        }
    }

    /// A bar drawn on standard error (at most 10 times a second).
    pub fn bar(label: &str) -> Reporter {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        // The template is a constant: failing to parse it is a bug, shown as the default style.
        if let Ok(style) = ProgressStyle::with_template(BAR_TEMPLATE) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_owned());
        Reporter::Bar(bar)
    }

    /// Log lines at most every `interval`, besides the first and the last.
    pub fn lines(label: &str, interval: Duration) -> Reporter {
        Reporter::Lines(Lines::new(label, interval))
    }

    /// Ends the display: the bar is left at its last state, the lines get a closing one.
    pub fn finish(&self) {
        match self {
            Reporter::Bar(bar) => bar.finish(),
            Reporter::Lines(lines) => lines.finish(),
        }
    }
}

impl Progress for Reporter {
    fn total(&self, events: u64) {
        match self {
            Reporter::Bar(bar) => bar.set_length(events),
            Reporter::Lines(lines) => lines.total(events),
        }
    }

    fn advance(&self, events: u64) {
        match self {
            Reporter::Bar(bar) => bar.inc(events),
            Reporter::Lines(lines) => lines.advance(events),
        }
    }
}

/// Progress as log lines: `export: 12000/50000 events (24%), 8100/s, ETA 5s`.
#[derive(Debug)]
pub struct Lines {
    label: String,
    interval: Duration,
    started: Instant,
    total: AtomicU64,
    done: AtomicU64,
    /// When the last line was written; also keeps two lines from racing.
    last_line: Mutex<Option<Instant>>,
}

impl Lines {
    fn new(label: &str, interval: Duration) -> Lines {
        Lines {
            label: label.to_owned(),
            interval,
            started: Instant::now(),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            last_line: Mutex::new(None),
        }
    }

    fn total(&self, events: u64) {
        self.total.store(events, Ordering::Relaxed);
        // The first total opens the operation with a line; later corrections write none.
        if let Ok(mut last) = self.last_line.lock() {
            if last.is_none() {
                *last = Some(Instant::now());
                tracing::info!("{}", self.line());
            }
        }
    }

    fn advance(&self, events: u64) {
        self.done.fetch_add(events, Ordering::Relaxed);
        if let Ok(mut last) = self.last_line.lock() {
            let now = Instant::now();
            if last.is_none_or(|at| now.duration_since(at) >= self.interval) {
                *last = Some(now);
                tracing::info!("{}", self.line());
            }
        }
    }

    fn finish(&self) {
        let done = self.done.load(Ordering::Relaxed);
        let elapsed = self.started.elapsed();
        tracing::info!(
            "{}: done, {done} events in {:.1}s ({})",
            self.label,
            elapsed.as_secs_f64(),
            rate(done, elapsed)
        );
    }

    /// The line for the current state.
    fn line(&self) -> String {
        let (done, total) = (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        );
        let elapsed = self.started.elapsed();
        let mut line = format!("{}: {done}/{total} events", self.label);
        if let Some(percent) = done.saturating_mul(100).checked_div(total) {
            line.push_str(&format!(" ({percent}%)"));
        }
        line.push_str(&format!(", {}", rate(done, elapsed)));
        let per_sec = done as f64 / elapsed.as_secs_f64().max(1e-9);
        if done > 0 && total > done && per_sec > 0.0 {
            let eta = (total - done) as f64 / per_sec;
            line.push_str(&format!(", ETA {}", human_duration(eta)));
        }
        line
    }
}

/// `8100/s`, or `-/s` before anything was done.
fn rate(done: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if done == 0 || secs <= 0.0 {
        "-/s".to_owned()
    } else {
        format!("{:.0}/s", done as f64 / secs)
    }
}

/// `42s`, `3m07s`, `2h05m`.
fn human_duration(secs: f64) -> String {
    let secs = secs.ceil() as u64;
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// Counts the non-blank lines of an export file (its events), for import's total: one fast
/// pass over the bytes before the real one.
pub async fn count_events(path: &std::path::Path) -> std::io::Result<u64> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut buffer = vec![0u8; 256 * 1024];
    let (mut count, mut content) = (0u64, false);
    loop {
        let read = file.read(&mut buffer).await?;
        if read == 0 {
            break;
        }
        for byte in &buffer[..read] {
            match byte {
                b'\n' => {
                    count += u64::from(content);
                    content = false;
                }
                b' ' | b'\t' | b'\r' => {}
                _ => content = true,
            }
        }
    }
    Ok(count + u64::from(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_tell_done_total_rate_and_eta() {
        let lines = Lines::new("export", Duration::from_secs(3600));
        lines.total.store(1000, Ordering::Relaxed);
        lines.done.store(250, Ordering::Relaxed);
        let line = lines.line();
        assert!(
            line.starts_with("export: 250/1000 events (25%), "),
            "{line}"
        );
        assert!(line.contains("/s, ETA "), "{line}");
        lines.done.store(1000, Ordering::Relaxed);
        assert!(!lines.line().contains("ETA"), "{}", lines.line());
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human_duration(0.2), "1s");
        assert_eq!(human_duration(187.0), "3m07s");
        assert_eq!(human_duration(7500.0), "2h05m");
        assert_eq!(rate(0, Duration::from_secs(1)), "-/s");
        assert_eq!(rate(500, Duration::from_secs(2)), "250/s");
    }

    #[tokio::test]
    async fn import_total_counts_events_not_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.ndjson");
        std::fs::write(&path, "{\"a\":1}\n\n  \n{\"a\":2}\r\n{\"a\":3}").unwrap();
        assert_eq!(count_events(&path).await.unwrap(), 3);
    }
}
