//! Problems for people: a file's diagnostics with file, line, key and hint, and the class and
//! hint of any error, kept as data and rendered once by the command line (DESIGN.md "hints are
//! data": nothing parses a message back apart).

use serde::Serialize;

/// How bad a diagnostic is: errors stop a push, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem of a file a person wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    /// The key it is about (`fields[2].affinity`).
    pub key: String,
    pub message: String,
    pub hint: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}:{}: `{}`: {}\n  hint: {}",
            self.severity.as_str(),
            self.file,
            self.line,
            self.key,
            self.message,
            self.hint
        )
    }
}

/// What an error means for whoever ran the command: the exit code follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The work failed (Affinity refused, the network failed, a retry budget was spent): 1.
    Failure,
    /// Bad input: arguments, files, settings: 2.
    BadInput,
    /// A job that is already running elsewhere: 3.
    AlreadyRunning,
    /// Some records failed, or the run stopped early (the others were done): 4.
    Partial,
}

impl ErrorClass {
    /// The documented exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::Failure => 1,
            ErrorClass::BadInput => 2,
            ErrorClass::AlreadyRunning => 3,
            ErrorClass::Partial => 4,
        }
    }
}

/// An error that knows its class and what to do about it. Every error type of the engine
/// implements it; the command line reads both from the error itself.
pub trait Diagnose: std::error::Error {
    fn class(&self) -> ErrorClass {
        ErrorClass::Failure
    }
    /// What to do about it, in a sentence (rendered after `hint:`).
    fn hint(&self) -> Option<String> {
        None
    }
}

/// A mistake in a file a person wrote: where it is, what it is, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}`, line {line}: {message}")]
pub struct FileError {
    pub file: String,
    pub line: usize,
    pub message: String,
    pub hint: String,
}

impl Diagnose for FileError {
    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }
    fn hint(&self) -> Option<String> {
        Some(self.hint.clone())
    }
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Names in backticks, joined by commas: `` `a`, `b` ``.
pub fn quoted<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}
