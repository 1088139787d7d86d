//! The hot calls (`$lock()`, `$unlock()`, `$post()`, `$wait()`, `$send()`,
//! `$receive()`) as plain C-ABI functions on raw `SEXP`s, without extendr's
//! wrapper.  extendr converts every argument into an `Robj`, which registers
//! it in a global protection table (a hash map) and removes it again: about
//! 0.2-0.7 µs per call, several times the work of the call itself.  `.Call`
//! has already protected the arguments, and these functions allocate one
//! result at most, so they read the arguments with R's C API directly.
//!
//! The rules stay the same: src/entrypoint.c calls them with R's interrupts
//! suspended (so no allocation here can longjmp), no panic crosses into R
//! (each body runs under `catch_unwind`), and errors go back as the error
//! list, built through extendr (the slow path), which the C shim hands to
//! R (`rs_hot_fail()`, R/hot.R) once no Rust frame is left.
//!
//! The R closures pass their arguments through unchecked: these functions
//! take them in the plain forms (a `TRUE`/`FALSE`, a non-negative number,
//! a string that is ASCII or valid UTF-8 marked as such) and answer
//! anything else with the error kind `slow_path`, before doing anything.
//! `rs_hot_fail()` then runs the R layer's checks, which raise the classed
//! error or convert the value (`TRUE` as 1, latin1 text to UTF-8, ...), and
//! calls again.  A successful wait with no deadline returns `NULL`, which
//! the closure returns as an invisible `TRUE` (interprocess' visibility).
//!
//! Handles are extendr `ExternalPtr`s (made by the `rs_*_open` calls); their
//! address is a `Box<Box<dyn Any>>` in extendr 0.9 (pinned by Cargo.lock),
//! and [`handle`] checks the type with `downcast_ref`, as extendr does.

use crate::stamps;
use crate::error::{err_to_r, outcome_to_r, Error, Kind, Result};
use extendr_api::prelude::*;
use rustipc_core::msg_queue::Handle as QueueHandle;
use rustipc_core::mutex::{lock_named, unlock_named, MutexRef};
use rustipc_core::semaphore::Handle as SemHandle;
use rustipc_core::wait::{Deadline, Interrupts, Outcome};
use crate::rapi::*;
use std::any::Any;

fn bad(what: &str) -> Error {
    Error::new(Kind::InvalidArgument, format!("not a rustipc {what}"))
}

/// An argument not in its plain form: the R layer checks or converts it
/// (see the module's documentation).
fn slow() -> Error {
    Error::new(Kind::SlowPath, "the R layer checks this argument")
}

/// The Rust object behind an extendr external pointer, if it is a `T`.
///
/// # Safety
/// `h` must be a valid SEXP (an argument of the current `.Call`), and R's
/// main thread must be the caller.
unsafe fn handle<'a, T: 'static>(h: Sexp) -> Result<&'a T> {
    // SAFETY: per the contract; the address of an extendr external pointer
    // is a live Box<Box<dyn Any>> (or null once cleared).
    unsafe {
        if TYPEOF(h) == EXTPTRSXP {
            let p = R_ExternalPtrAddr(h).cast::<Box<dyn Any>>();
            if let Some(b) = p.as_ref() {
                if let Some(t) = b.downcast_ref::<T>() {
                    return Ok(t);
                }
            }
        }
    }
    Err(bad("handle"))
}

/// # Safety
/// `x` must be a valid SEXP.
unsafe fn flag(x: Sexp) -> Result<bool> {
    // SAFETY: type and length are checked before the element is read.
    unsafe {
        if TYPEOF(x) == LGLSXP && OBJECT(x) == 0 && XLENGTH(x) == 1 && *LOGICAL(x) != i32::MIN {
            return Ok(*LOGICAL(x) != 0);
        }
    }
    Err(slow())
}

/// A single number, double or integer, not NA.
///
/// # Safety
/// `x` must be a valid SEXP.
unsafe fn number(x: Sexp) -> Result<f64> {
    // SAFETY: type and length are checked before the element is read.
    // (The type first: XLENGTH of NULL or a function raises an R error.
    // Objects, such as factors, are R's to judge.)
    unsafe {
        if OBJECT(x) != 0 {
            return Err(slow());
        }
        match TYPEOF(x) {
            REALSXP if XLENGTH(x) == 1 && !(*REAL(x)).is_nan() => return Ok(*REAL(x)),
            INTSXP if XLENGTH(x) == 1 && *INTEGER(x) != i32::MIN => return Ok(f64::from(*INTEGER(x))),
            _ => {}
        }
    }
    Err(slow())
}

/// A timeout in milliseconds: a number, not negative.
///
/// # Safety
/// `x` must be a valid SEXP.
unsafe fn timeout(x: Sexp) -> Result<f64> {
    // SAFETY: per the contract.
    unsafe { number(x) }.and_then(|t| if t >= 0.0 { Ok(t) } else { Err(slow()) })
}

/// A priority: a whole number from 0 to 2^31 - 1.
///
/// # Safety
/// `x` must be a valid SEXP.
unsafe fn priority(x: Sexp) -> Result<u32> {
    // SAFETY: per the contract.
    match unsafe { number(x) } {
        Ok(p) if p >= 0.0 && p <= f64::from(i32::MAX) && p.trunc() == p => Ok(p as u32),
        _ => Err(slow()),
    }
}

/// The text of a one-element character vector that is ASCII, or marked
/// UTF-8 and valid UTF-8.  Anything else (NA, text marked latin1 or
/// "bytes", non-ASCII text in the session's encoding) takes the slow path,
/// where R converts it or explains why it cannot.  `checked`: R has done
/// that already, and any valid UTF-8 is taken whatever its mark.
///
/// # Safety
/// `x` must be a valid SEXP that outlives the returned slice.
unsafe fn text<'a>(x: Sexp, checked: bool) -> Result<&'a str> {
    // SAFETY: type and length are checked before the element is read;
    // CHAR() is NUL-terminated and lives as long as `x`.
    unsafe {
        if TYPEOF(x) == STRSXP && OBJECT(x) == 0 && XLENGTH(x) == 1 {
            let c = STRING_ELT(x, 0);
            if c != R_NaString {
                let bytes = std::ffi::CStr::from_ptr(R_CHAR(c)).to_bytes();
                let enc = Rf_getCharCE(c);
                if checked || enc == CE_UTF8 || (enc == CE_NATIVE && bytes.is_ascii()) {
                    return std::str::from_utf8(bytes).map_err(|_| slow());
                }
            }
        }
    }
    Err(slow())
}

/// An R value from a Robj made on the slow path (error lists): the SEXP
/// stays valid until R protects the result, since nothing allocates between.
pub(crate) fn from_robj(r: Robj) -> Sexp {
    // SAFETY: reading the SEXP of a live Robj.
    unsafe { r.get().cast() }
}

pub(crate) fn logical(b: bool) -> Sexp {
    // SAFETY: allocates a length-1 logical (interrupts are suspended).
    unsafe { Rf_ScalarLogical(b as i32) }
}

/// TRUE/FALSE for a wait (NULL for done without a deadline, which R
/// returns as an invisible TRUE), or the error list.
fn outcome(r: Result<Outcome>, timeout_ms: f64) -> Sexp {
    match r {
        // SAFETY: R_NilValue is a constant.
        Ok(Outcome::Done) if timeout_ms == f64::INFINITY => unsafe { R_NilValue },
        Ok(Outcome::Done) => logical(true),
        Ok(Outcome::TimedOut) => logical(false),
        other => from_robj(outcome_to_r(other)),
    }
}

/// Run `f`, turning a panic into an error list.
pub(crate) fn guard(f: impl FnOnce() -> Sexp) -> Sexp {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| from_robj(err_to_r(Error::new(Kind::OsError, "internal error (a Rust panic)"))))
}

/// `rs_mutex_lock(h, shared, timeout_ms)`: NULL (locked, no deadline),
/// TRUE, FALSE (timed out) or the error list.
///
/// # Safety
/// Called by R through `.Call` (src/entrypoint.c) with valid SEXPs.
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_lock(h: Sexp, shared: Sexp, timeout_ms: Sexp) -> Sexp {
    guard(|| {
        // SAFETY: the arguments are live SEXPs of this .Call.
        let r = unsafe { (handle::<MutexRef>(h), flag(shared), timeout(timeout_ms)) };
        match r {
            (Ok(m), Ok(shared), Ok(t)) => {
                let deadline = Deadline::from_ms(t);
                let r = lock_named(m, !shared, deadline, Interrupts::Check);
                if let Ok(Outcome::Done) = r {
                    stamps::acquired();
                }
                outcome(r, t)
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => from_robj(err_to_r(e)),
        }
    })
}

/// `rs_mutex_unlock(h, warn)`: NULL (unlocked), FALSE (not held here) or
/// the error list.  `warn` is only checked here; R warns.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_unlock(h: Sexp, warn: Sexp) -> Sexp {
    guard(|| {
        // SAFETY: live SEXPs of this .Call.
        stamps::release();
        let r = unsafe { flag(warn).and_then(|_| handle::<MutexRef>(h)) };
        match r.and_then(unlock_named) {
            // SAFETY: R_NilValue is a constant.
            Ok(true) => unsafe { R_NilValue },
            Ok(false) => logical(false),
            Err(e) => from_robj(err_to_r(e)),
        }
    })
}

/// `rs_sem_post(h)`: TRUE or the error list.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_sem_post(h: Sexp) -> Sexp {
    guard(|| {
        stamps::release();
        // SAFETY: a live SEXP of this .Call.
        match unsafe { handle::<SemHandle>(h) }.and_then(|s| s.get()?.post()) {
            Ok(()) => logical(true),
            Err(e) => from_robj(err_to_r(e)),
        }
    })
}

/// `rs_sem_wait(h, timeout_ms)`: as [`rsx_mutex_lock`].
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_sem_wait(h: Sexp, timeout_ms: Sexp) -> Sexp {
    guard(|| {
        // SAFETY: live SEXPs of this .Call.
        match unsafe { (handle::<SemHandle>(h), timeout(timeout_ms)) } {
            (Ok(s), Ok(t)) => {
                let deadline = Deadline::from_ms(t);
                let r = s.follow(|sem| sem.wait(deadline, Interrupts::Check));
                if let Ok(Outcome::Done) = r {
                    stamps::acquired();
                }
                outcome(r, t)
            }
            (Err(e), _) | (_, Err(e)) => from_robj(err_to_r(e)),
        }
    })
}

/// `rs_mq_send(h, msg, timeout_ms, priority)`: as [`rsx_mutex_lock`].
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_send(h: Sexp, msg: Sexp, timeout_ms: Sexp, prio: Sexp) -> Sexp {
    // SAFETY: per the contract.
    unsafe { send(h, msg, timeout_ms, prio, false) }
}

/// The same, for R's slow path (R/hot.R): `msg` has been converted to
/// UTF-8 (whatever its mark says) and the other arguments checked.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_send_checked(h: Sexp, msg: Sexp, timeout_ms: Sexp, prio: Sexp) -> Sexp {
    // SAFETY: per the contract.
    unsafe { send(h, msg, timeout_ms, prio, true) }
}

/// # Safety
/// As [`rsx_mutex_lock`].
unsafe fn send(h: Sexp, msg: Sexp, timeout_ms: Sexp, prio: Sexp, checked: bool) -> Sexp {
    guard(|| {
        // SAFETY: live SEXPs of this .Call; `msg` outlives the call.  The
        // checks come in R's order (msg, timeout_ms, priority), then the
        // handle.
        let r = unsafe { (text(msg, checked), timeout(timeout_ms), priority(prio), handle::<QueueHandle>(h)) };
        match r {
            (Ok(msg), Ok(t), Ok(p), Ok(q)) => {
                let deadline = Deadline::from_ms(t);
                outcome(q.follow(|q| q.send(msg, p, deadline, Interrupts::Check)), t)
            }
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => from_robj(err_to_r(e)),
        }
    })
}

/// `rs_mq_receive(h, timeout_ms)`: the message, NULL on timeout, or the
/// error list.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_receive(h: Sexp, timeout_ms: Sexp) -> Sexp {
    guard(|| {
        // SAFETY: live SEXPs of this .Call.
        let got = match unsafe { (handle::<QueueHandle>(h), timeout(timeout_ms)) } {
            (Ok(q), Ok(t)) => {
                let deadline = Deadline::from_ms(t);
                q.follow(|q| q.receive(deadline, Interrupts::Check))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        match got {
            // SAFETY: the message is valid UTF-8 (a Rust String) shorter than
            // 2^31 bytes (max_nchar * 4 < 2^30); the CHARSXP is protected
            // while the string vector is made.
            Ok(Ok(msg)) => unsafe {
                let c = Rf_protect(Rf_mkCharLenCE(msg.as_ptr().cast(), msg.len() as i32, CE_UTF8));
                let s = Rf_ScalarString(c);
                Rf_unprotect(1);
                s
            },
            Ok(Err(Outcome::Interrupted)) => from_robj(err_to_r(Error::interrupted())),
            // SAFETY: R_NilValue is a constant.
            Ok(Err(_)) => unsafe { R_NilValue },
            Err(e) => from_robj(err_to_r(e)),
        }
    })
}
