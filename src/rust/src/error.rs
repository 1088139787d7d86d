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
    /// Set by R's SIGINT handler (and by front ends such as RStudio) when
    /// the user asks to interrupt; cleared when R acts on it.  Public API
    /// (R_ext/GraphicsDevice.h).
    static mut R_interrupts_pending: std::os::raw::c_int;
}

#[cfg(windows)]
extern "C" {
    /// Windows: set when the user asks to interrupt (Rterm: Ctrl-C, from
    /// the console's handler thread; Rgui: Esc, but only once its window
    /// messages are processed, which does not happen during a `.Call`, so
    /// Rgui's Esc is still not seen by a wait).  R turns it into
    /// `R_interrupts_pending` only in `R_ProcessEvents`, which a `.Call`
    /// does not run.  Public API (Rembedded.h).  Declared like extendr-ffi
    /// declares R's other data symbols.
    static mut UserBreak: std::os::raw::c_int;
}

/// Whether the user asked R to interrupt (Ctrl-C / SIGINT), read from R's
/// flag directly; when it is set, the flag is cleared (the interrupt is
/// consumed) and the wait reports it, having taken nothing, so that the R
/// layer re-signals it.  Reading the flag needs no longjmp, and works while
/// R has interrupts suspended (`suspendInterrupts()`, and every `.Call`,
/// see src/entrypoint.c): there a rustipc wait is still interruptible.
/// Only R's main thread runs rustipc's waits.
pub fn r_interrupt_pending() -> bool {
    // SAFETY: R's main thread is the only one that reads or writes this
    // flag apart from R's own signal handler, which only stores 1; a
    // volatile access keeps the compiler from caching it across the wait.
    unsafe {
        let p = std::ptr::addr_of_mut!(R_interrupts_pending);
        if std::ptr::read_volatile(p) != 0 {
            std::ptr::write_volatile(p, 0);
            return true;
        }
    }
    // SAFETY: as above; Rterm's console handler sets this flag from
    // another thread and only ever stores 1, so it is consumed the same
    // way (compiled for Windows, not run: no R for Windows here).
    #[cfg(windows)]
    unsafe {
        let p = std::ptr::addr_of_mut!(UserBreak);
        if std::ptr::read_volatile(p) != 0 {
            std::ptr::write_volatile(p, 0);
            return true;
        }
    }
    false
}
