//! Errors travel from Rust to R as data.
//!
//! An entry point that fails returns a list `list(kind =, message =, errno =)`
//! instead of its usual result (which is never a list).  The R layer
//! (`R/errors.R`) turns that list into a classed condition
//! `c("rustipc_error_<kind>", "rustipc_error", "error", "condition")`, so an R
//! error is only ever raised from R code, never longjmp'd through Rust frames.
//!
//! The special kind `interrupt` means that a wait was ended by a pending R
//! interrupt (Ctrl-C); R re-signals it as an `interrupt` condition.

use std::fmt;
use std::io;

/// What went wrong, mapped one-to-one onto the R condition classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    AlreadyLocked,
    WrongKind,
    TooLong,
    Interrupt,
    Permission,
    NoSpace,
    /// The process (or system) has no descriptor left (`EMFILE`, `ENFILE`).
    Resource,
    OsError,
    /// Not an error anyone sees: the R glue's hot calls answer an argument
    /// not in its plain form with it, and R's checks take over.
    SlowPath,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InvalidArgument => "invalid_argument",
            Kind::NotFound => "not_found",
            Kind::AlreadyExists => "already_exists",
            Kind::AlreadyLocked => "already_locked",
            Kind::WrongKind => "wrong_kind",
            Kind::TooLong => "too_long",
            Kind::Interrupt => "interrupt",
            Kind::Permission => "permission",
            Kind::NoSpace => "no_space",
            Kind::Resource => "resource",
            Kind::OsError => "os_error",
            Kind::SlowPath => "slow_path",
        }
    }
}

/// An error with the kind, a message for people, and the OS error number
/// (0 when the OS was not involved).
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub errno: i32,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), errno: 0 }
    }

    /// An OS error, with `what` saying what was being done to what.
    pub fn os(what: impl fmt::Display, err: io::Error) -> Self {
        let errno = err.raw_os_error().unwrap_or(0);
        #[cfg(unix)]
        if errno == libc::EMFILE || errno == libc::ENFILE {
            let limit = if errno == libc::EMFILE { open_files_limit() } else { String::new() };
            return Error {
                kind: Kind::Resource,
                message: format!(
                    "{what}: {err} (the {}limit of open files{limit} is reached; close files or raise it, e.g. `ulimit -n`)",
                    if errno == libc::EMFILE { "process's " } else { "system's " }
                ),
                errno,
            };
        }
        Error { kind: Kind::OsError, message: format!("{what}: {err}"), errno }
    }

    /// `os()` for the error in `errno` right now.
    pub fn last_os(what: impl fmt::Display) -> Self {
        Self::os(what, io::Error::last_os_error())
    }

    pub fn interrupted() -> Self {
        Error::new(Kind::Interrupt, "interrupted")
    }
}

/// " (N)": the process's soft limit of open files, when known.
#[cfg(unix)]
fn open_files_limit() -> String {
    // SAFETY: getrlimit fills the zeroed struct.
    let mut r: libc::rlimit = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0 && r.rlim_cur != libc::RLIM_INFINITY {
        format!(" ({})", r.rlim_cur)
    } else {
        String::new()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind.as_str())
    }
}

impl std::error::Error for Error {}



