//! Standard output and standard error for the commands: colour only on a terminal (anstream
//! strips it elsewhere, and honours `NO_COLOR` and `CLICOLOR_FORCE`), and a reader that has
//! gone away (`affsync run JOB | head -1`) is never a panic: what is left to print is dropped,
//! quietly, and the command ends as it would have (its run journaled, its lock released).
//!
//! `println!` and `eprintln!` panic when their stream is closed; the commands print through
//! [`outln!`], [`out!`] and [`errln!`] instead.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `-q`: no progress bars, and only warnings and errors in the log.
pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Writes to standard output; once its reader is gone, nothing more is written.
pub fn write_out(args: std::fmt::Arguments<'_>) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut o = anstream::stdout().lock();
    if o.write_fmt(args).and_then(|_| o.flush()).is_err() {
        STDOUT_GONE.store(true, Ordering::Relaxed);
    }
}

/// Bytes to standard output (a CSV or JSON rendering), with the same rule.
pub fn write_out_bytes(bytes: &[u8]) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut o = std::io::stdout().lock();
    if o.write_all(bytes).and_then(|_| o.flush()).is_err() {
        STDOUT_GONE.store(true, Ordering::Relaxed);
    }
}

/// Writes to standard error; once its reader is gone, nothing more is written.
pub fn write_err(args: std::fmt::Arguments<'_>) {
    if STDERR_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut e = anstream::stderr().lock();
    if e.write_fmt(args).and_then(|_| e.flush()).is_err() {
        STDERR_GONE.store(true, Ordering::Relaxed);
    }
}

/// `println!` that never panics.
macro_rules! outln {
    () => { $crate::cli::out::write_out(format_args!("\n")) };
    ($($t:tt)*) => { $crate::cli::out::write_out(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` that never panics.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::out::write_out(format_args!($($t)*)) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($t:tt)*) => { $crate::cli::out::write_err(format_args!("{}\n", format_args!($($t)*))) };
}

/// An output file's folder must exist: a path mistake is bad input (exit code 2), found before
/// any work is done.
pub fn check_out_folder(out: &Path) -> Result<(), super::Problem> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    match parent {
        Some(dir) if !dir.is_dir() => Err(super::Problem::bad_input(
            format!(
                "cannot write `{}`: the folder `{}` does not exist",
                out.display(),
                dir.display()
            ),
            format!(
                "create it first (`mkdir -p {}`), or give another `--out`",
                dir.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// `1 row`, `2 rows` (see [`affsync_core::model::counted`]).
pub use affsync_core::model::counted as count;

/// How errors, warnings and hints look: as cargo's.
pub mod style {
    use anstyle::{AnsiColor, Style};
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
    pub const HINT: Style = AnsiColor::Cyan.on_default().bold();

    /// A diagnostic with its `error:`, `warning:` and `hint:` labels styled.
    pub fn labels(text: &str) -> String {
        text.lines()
            .map(|l| {
                let indent = l.len() - l.trim_start().len();
                let (pad, rest) = l.split_at(indent);
                for (label, style) in [("error:", ERROR), ("warning:", WARN), ("hint:", HINT)] {
                    if let Some(tail) = rest.strip_prefix(label) {
                        return format!("{pad}{style}{label}{style:#}{tail}");
                    }
                }
                l.to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
