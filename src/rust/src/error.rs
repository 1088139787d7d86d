//! How results reach R: as data, never as an R error from Rust.
//!
//! An entry point that fails returns a list `list(kind =, message =, errno =)`
//! instead of its usual result (which is never a list with those names).
//! The R layer (`R/errors.R`) turns that list into a classed condition
//! `c("rustipc_error_<kind>", "rustipc_error", "error", "condition")`, so an R
//! error is only ever raised from R code, never longjmp'd through Rust frames.
//! The special kind `interrupt` means that a wait was ended by a pending R
//! interrupt (Ctrl-C); R re-signals it as an `interrupt` condition.

use extendr_api::prelude::*;
pub use rustipc_core::error::{Error, Kind, Result};
use rustipc_core::wait::Outcome;

/// The error list.
pub fn err_to_r(e: Error) -> Robj {
    list!(kind = e.kind.as_str(), message = e.message, errno = e.errno).into()
}

/// Turn a result into what an entry point returns: the value or the error list.
pub fn to_r<T: Into<Robj>>(r: Result<T>) -> Robj {
    match r {
        Ok(v) => v.into(),
        Err(e) => err_to_r(e),
    }
}

/// The Rust object behind a handle (an external pointer this package made),
/// or an `invalid_argument` error saying which kind of handle was expected.
pub fn handle<'a, T: 'static>(x: &'a Robj, what: &str) -> Result<&'a T> {
    <&ExternalPtr<T>>::try_from(x)
        .map(|p| &**p)
        .map_err(|_| Error::new(Kind::InvalidArgument, format!("not a rustipc {what} handle")))
}

/// A wait's outcome: `TRUE` (done), `FALSE` (timed out), or the error list
/// (an interrupt is the `interrupt` kind).
pub fn outcome_to_r(out: Result<Outcome>) -> Robj {
    match out {
        Ok(Outcome::Done) => true.into(),
        Ok(Outcome::TimedOut) => false.into(),
        Ok(Outcome::Interrupted) => err_to_r(Error::interrupted()),
        // Callers follow the name on `Removed`; reaching here is a bug.
        Ok(Outcome::Removed) => err_to_r(Error::new(Kind::NotFound, "the object was removed")),
        Err(e) => err_to_r(e),
    }
}

extern "C" {
    /// src/entrypoint.c: whether the user asked R to interrupt (Ctrl-C,
    /// SIGINT; on Windows Rterm's Ctrl-C), consuming the request.  In C because the flags
    /// are R's data (`R_interrupts_pending`, and on Windows `UserBreak`),
    /// which C reaches through R's headers as R declares them (imports from
    /// R.dll on Windows).
    fn rustipc_take_interrupt() -> std::os::raw::c_int;
}

/// Whether the user asked R to interrupt (Ctrl-C / SIGINT; on Windows
/// Rterm's Ctrl-C), read from R's flags directly; when one is set it is
/// cleared (the interrupt is consumed) and the wait reports it, having
/// taken nothing, so that the R layer re-signals it.  Reading the flags
/// needs no longjmp, and works while R has interrupts suspended
/// (`suspendInterrupts()`, and every `.Call`, see src/entrypoint.c): there a
/// rustipc wait is still interruptible.  Only R's main thread runs
/// rustipc's waits.
pub fn r_interrupt_pending() -> bool {
    // SAFETY: a C function that reads and clears two ints on R's main
    // thread (the only one that runs waits).
    unsafe { rustipc_take_interrupt() != 0 }
}
