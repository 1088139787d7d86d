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
//! list, built through extendr (the slow path).  Arguments come already
//! checked by the R layer; anything unexpected is an `invalid_argument`
//! error, never undefined behaviour.
//!
//! Handles are extendr `ExternalPtr`s (made by the `rs_*_open` calls); their
//! address is a `Box<Box<dyn Any>>` in extendr 0.9 (pinned by Cargo.lock),
//! and [`handle`] checks the type with `downcast_ref`, as extendr does.

use crate::error::{err_to_r, outcome_to_r, Error, Kind, Result};
use extendr_api::prelude::*;
use rustipc_core::msg_queue::Handle as QueueHandle;
use rustipc_core::mutex::{lock_named, unlock_named, MutexRef};
use rustipc_core::semaphore::Handle as SemHandle;
use rustipc_core::wait::{Deadline, Interrupts, Outcome};
use std::any::Any;
use std::ffi::c_void;

type Sexp = *mut c_void;

extern "C" {
    static R_NilValue: Sexp;
    fn TYPEOF(x: Sexp) -> i32;
    fn XLENGTH(x: Sexp) -> isize;
    fn R_ExternalPtrAddr(s: Sexp) -> *mut c_void;
    fn LOGICAL(x: Sexp) -> *mut i32;
    fn REAL(x: Sexp) -> *mut f64;
    fn STRING_ELT(x: Sexp, i: isize) -> Sexp;
    fn R_CHAR(x: Sexp) -> *const std::ffi::c_char;
    fn Rf_ScalarLogical(x: i32) -> Sexp;
    fn Rf_mkCharLenCE(s: *const std::ffi::c_char, n: i32, enc: u32) -> Sexp;
    fn Rf_ScalarString(x: Sexp) -> Sexp;
    fn Rf_protect(s: Sexp) -> Sexp;
    fn Rf_unprotect(n: i32);
}

const LGLSXP: i32 = 10;
const REALSXP: i32 = 14;
const STRSXP: i32 = 16;
const EXTPTRSXP: i32 = 22;
const CE_UTF8: u32 = 1;

fn bad(what: &str) -> Error {
    Error::new(Kind::InvalidArgument, format!("invalid {what} (rustipc's R layer checks this first)"))
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
        if TYPEOF(x) == LGLSXP && XLENGTH(x) == 1 && *LOGICAL(x) != i32::MIN {
            return Ok(*LOGICAL(x) != 0);
        }
    }
    Err(bad("flag"))
}

/// # Safety
/// `x` must be a valid SEXP.
unsafe fn number(x: Sexp) -> Result<f64> {
    // SAFETY: type and length are checked before the element is read.
    unsafe {
        if TYPEOF(x) == REALSXP && XLENGTH(x) == 1 {
            return Ok(*REAL(x));
        }
    }
    Err(bad("number"))
}

/// The text of a one-element character vector, which the R layer has made
/// UTF-8 (or checked to be).
///
/// # Safety
/// `x` must be a valid SEXP that outlives the returned slice.
unsafe fn text<'a>(x: Sexp) -> Result<&'a str> {
    // SAFETY: type and length are checked; CHAR() is NUL-terminated and
    // lives as long as `x`.
    unsafe {
        if TYPEOF(x) == STRSXP && XLENGTH(x) == 1 {
            // The R layer has converted text of a known encoding to UTF-8
            // and refused text that is not UTF-8; checked again here.
            let c = STRING_ELT(x, 0);
            let bytes = std::ffi::CStr::from_ptr(R_CHAR(c)).to_bytes();
            return std::str::from_utf8(bytes).map_err(|_| bad("text"));
        }
    }
    Err(bad("text"))
}

/// An R value from a Robj made on the slow path (error lists): the SEXP
/// stays valid until R protects the result, since nothing allocates between.
fn from_robj(r: Robj) -> Sexp {
    // SAFETY: reading the SEXP of a live Robj.
    unsafe { r.get().cast() }
}

fn logical(b: bool) -> Sexp {
    // SAFETY: allocates a length-1 logical (interrupts are suspended).
    unsafe { Rf_ScalarLogical(b as i32) }
}

/// TRUE/FALSE for a wait, or the error list.
fn outcome(r: Result<Outcome>) -> Sexp {
    match r {
        Ok(Outcome::Done) => logical(true),
        Ok(Outcome::TimedOut) => logical(false),
        other => from_robj(outcome_to_r(other)),
    }
}

/// Run `f`, turning a panic into an error list.
fn guard(f: impl FnOnce() -> Sexp) -> Sexp {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| from_robj(err_to_r(Error::new(Kind::OsError, "internal error (a Rust panic)"))))
}

/// `rs_mutex_lock(h, shared, timeout_ms)`.
///
/// # Safety
/// Called by R through `.Call` (src/entrypoint.c) with valid SEXPs.
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_lock(h: Sexp, shared: Sexp, timeout_ms: Sexp) -> Sexp {
    guard(|| {
        // SAFETY: the arguments are live SEXPs of this .Call.
        let r = unsafe { (handle::<MutexRef>(h), flag(shared), number(timeout_ms)) };
        outcome(match r {
            (Ok(m), Ok(shared), Ok(t)) => lock_named(m, !shared, Deadline::from_ms(t), Interrupts::Check),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
        })
    })
}

/// `rs_mutex_unlock(h)`: TRUE, FALSE (not held here) or the error list.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_unlock(h: Sexp) -> Sexp {
    guard(|| {
        // SAFETY: a live SEXP of this .Call.
        match unsafe { handle::<MutexRef>(h) }.and_then(unlock_named) {
            Ok(b) => logical(b),
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
        // SAFETY: a live SEXP of this .Call.
        match unsafe { handle::<SemHandle>(h) }.and_then(|s| s.get()?.post()) {
            Ok(()) => logical(true),
            Err(e) => from_robj(err_to_r(e)),
        }
    })
}

/// `rs_sem_wait(h, timeout_ms)`.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_sem_wait(h: Sexp, timeout_ms: Sexp) -> Sexp {
    guard(|| {
        // SAFETY: live SEXPs of this .Call.
        let r = unsafe { (handle::<SemHandle>(h), number(timeout_ms)) };
        outcome(match r {
            (Ok(s), Ok(t)) => {
                let deadline = Deadline::from_ms(t);
                s.follow(|sem| sem.wait(deadline, Interrupts::Check))
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        })
    })
}

/// `rs_mq_send(h, msg, timeout_ms, priority)`.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_send(h: Sexp, msg: Sexp, timeout_ms: Sexp, priority: Sexp) -> Sexp {
    guard(|| {
        // SAFETY: live SEXPs of this .Call; `msg` outlives the call.
        let r = unsafe { (handle::<QueueHandle>(h), text(msg), number(timeout_ms), number(priority)) };
        outcome(match r {
            (Ok(q), Ok(msg), Ok(t), Ok(p)) => {
                let deadline = Deadline::from_ms(t);
                q.follow(|q| q.send(msg, p as u32, deadline, Interrupts::Check))
            }
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => Err(e),
        })
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
        let got = match unsafe { (handle::<QueueHandle>(h), number(timeout_ms)) } {
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
