//! The one convention every entry point follows.
//!
//! An entry point returns its result, or, when it fails, an error list
//! `list(kind =, message =, errno =)` (errno an integer; no result is ever a
//! list with an `errno`).  The R layer (`R/errors.R`) turns that list into a
//! classed condition `c("rustipc_error_<kind>", "rustipc_error", "error",
//! "condition")`, so an R error is only ever raised from R code.  The kind
//! `interrupt` means a wait was ended by an R interrupt (Ctrl-C), which R
//! re-signals; `slow_path` (hot calls only) means an argument not in its
//! plain form, which R checks or converts (R/hot.R); `internal` is a Rust
//! panic, caught here.
//!
//! Every entry point's body runs in [`entry`]: panics are caught, and a
//! [`Jumped`] (R jumped out of an allocation, see [`crate::rapi`]) returns
//! at once so the C shim can continue R's jump.

use crate::rapi::*;
pub use rustipc_core::error::{Error, Kind, Result};
use rustipc_core::wait::Outcome;
use std::any::Any;

/// What an entry point's body can fail with besides its error list.
pub type Out = std::result::Result<Sexp, Jumped>;

/// The error list.
pub fn err(e: &Error) -> Out {
    err_parts(e.kind.as_str(), &e.message, e.errno)
}

fn err_parts(kind: &str, message: &str, errno: i32) -> Out {
    let kind = string(kind)?;
    let message = string(message)?;
    let errno = integers(&[Some(errno)])?;
    list(Some(&["kind", "message", "errno"]), &[kind, message, errno])
}

/// The value, or the error list.
pub fn result(r: Result<Sexp>) -> Out {
    match r {
        Ok(v) => Ok(v),
        Err(e) => err(&e),
    }
}

/// Run an entry point's body: a panic becomes an `internal` error list.
pub fn entry(f: impl FnOnce() -> Out) -> Sexp {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(x)) => x,
        // The C shim continues R's jump; the value is never seen.
        Ok(Err(Jumped)) => nil(),
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let msg = format!("internal error (a Rust panic: {what}); please report it");
            err_parts("internal", &msg, 0).unwrap_or_else(|Jumped| nil())
        }
    }
}

/// A wait's outcome: `TRUE` (done), `FALSE` (timed out), `NULL` for done
/// when `null_if_done` (a wait without deadline: the R closure returns an
/// invisible `TRUE`), or the error list (an interrupt is kind `interrupt`).
pub fn outcome(out: Result<Outcome>, null_if_done: bool) -> Out {
    match out {
        Ok(Outcome::Done) if null_if_done => Ok(nil()),
        Ok(Outcome::Done) => Ok(lgl(true)),
        Ok(Outcome::TimedOut) => Ok(lgl(false)),
        Ok(Outcome::Interrupted) => err(&Error::interrupted()),
        // Callers follow the name on `Removed`; reaching here is a bug.
        Ok(Outcome::Removed) => err(&Error::new(Kind::NotFound, "the object was removed")),
        Err(e) => err(&e),
    }
}

/// `$remove()` of a mutex, semaphore or queue handle `h` (of type
/// `Named<T>`): TRUE, FALSE (the name was gone already) or the error list.
///
/// # Safety
/// As [`handle`].
pub unsafe fn remove_named<T: rustipc_core::store::Reopen + 'static>(
    h: Sexp,
    what: &str,
    remove: impl Fn(&T) -> Result<bool>,
) -> Out {
    // SAFETY: per the contract.
    let r = unsafe { handle::<rustipc_core::store::Named<T>>(h, what) }.and_then(|m| match m.get() {
        Ok(now) => remove(&now),
        Err(e) if e.kind == Kind::NotFound => Ok(false),
        Err(e) => Err(e),
    });
    match r {
        Ok(b) => Ok(lgl(b)),
        Err(e) => err(&e),
    }
}

// ---- handles -------------------------------------------------------------

/// R's finalizer for an external pointer whose address is a `Box<T>` (or
/// null once cleared): drops the box, at collection or at exit.  The
/// pointer is cleared first, so the box is freed once.
pub(crate) extern "C" fn free_box<T>(s: Sexp) {
    // SAFETY: only pointers made with this finalizer for this `T` get it.
    unsafe {
        let p = R_ExternalPtrAddr(s);
        if !p.is_null() {
            R_ClearExternalPtr(s);
            // No panic may unwind into R.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(Box::from_raw(p.cast::<T>()));
            }));
        }
    }
}

/// A new handle owning `v`.  On `Jumped`, `v` has been dropped.
pub fn new_handle<T: 'static>(v: T) -> Out {
    let b: Box<Box<dyn Any>> = Box::new(Box::new(v));
    let p = Box::into_raw(b);
    // SAFETY: NULL is protected; the finalizer frees a Box<Box<dyn Any>>.
    match unsafe { extptr(p.cast(), Tag::Handle, nil(), Some(free_box::<Box<dyn Any>>)) } {
        Ok(x) => Ok(x),
        Err(Jumped) => {
            // SAFETY: the pointer was not handed to R; we still own it.
            drop(unsafe { Box::from_raw(p) });
            Err(Jumped)
        }
    }
}

/// The `T` behind a handle made by [`new_handle`], or an
/// `invalid_argument` error naming what was expected.
///
/// # Safety
/// `h` must be a valid SEXP (an argument of the current `.Call`, which
/// keeps it alive), on R's main thread.
pub unsafe fn handle<'a, T: 'static>(h: Sexp, what: &str) -> Result<&'a T> {
    // SAFETY: per the contract; the tag identifies our handles, whose
    // address is a live Box<Box<dyn Any>> (or null once cleared).
    unsafe {
        if TYPEOF(h) == EXTPTRSXP && R_ExternalPtrTag(h) == tag(Tag::Handle) {
            let p = R_ExternalPtrAddr(h).cast::<Box<dyn Any>>();
            if let Some(b) = p.as_ref() {
                if let Some(t) = b.downcast_ref::<T>() {
                    return Ok(t);
                }
            }
        }
    }
    Err(Error::new(Kind::InvalidArgument, format!("not a rustipc {what} handle")))
}

// ---- arguments -----------------------------------------------------------

/// An argument not in its plain form: R checks or converts it (R/hot.R).
pub(crate) fn slow() -> Error {
    Error::new(Kind::SlowPath, "the R layer checks this argument")
}

/// A plain `TRUE`/`FALSE` (no class, not NA), or `slow_path`.
///
/// # Safety
/// `x` must be a valid SEXP.
pub unsafe fn flag(x: Sexp) -> Result<bool> {
    // SAFETY: type and length are checked before the element is read.
    unsafe {
        if TYPEOF(x) == LGLSXP && Rf_isObject(x) == 0 && XLENGTH(x) == 1 && *LOGICAL(x) != NA_INTEGER {
            return Ok(*LOGICAL(x) != 0);
        }
    }
    Err(slow())
}

/// A single plain number, double or integer, not NA, or `slow_path`.
///
/// # Safety
/// `x` must be a valid SEXP.
pub unsafe fn number(x: Sexp) -> Result<f64> {
    // SAFETY: type and length are checked before the element is read (the
    // type first: XLENGTH of NULL or a function raises an R error).
    unsafe {
        if Rf_isObject(x) == 0 {
            match TYPEOF(x) {
                REALSXP if XLENGTH(x) == 1 && !(*REAL(x)).is_nan() => return Ok(*REAL(x)),
                INTSXP if XLENGTH(x) == 1 && *INTEGER(x) != NA_INTEGER => return Ok(f64::from(*INTEGER(x))),
                _ => {}
            }
        }
    }
    Err(slow())
}

/// A timeout in milliseconds: a number, not negative.
///
/// # Safety
/// `x` must be a valid SEXP.
pub unsafe fn timeout(x: Sexp) -> Result<f64> {
    // SAFETY: per the contract.
    unsafe { number(x) }.and_then(|t| if t >= 0.0 { Ok(t) } else { Err(slow()) })
}

/// The text of a plain one-element character vector that is ASCII, or
/// marked UTF-8 and valid UTF-8; anything else (NA, latin1, "bytes",
/// non-ASCII native text) is `slow_path`, for R to convert or explain.
/// `checked`: R has converted it, and any valid UTF-8 is taken whatever
/// its mark.
///
/// # Safety
/// `x` must be a valid SEXP that outlives the returned slice.
pub unsafe fn text<'a>(x: Sexp, checked: bool) -> Result<&'a str> {
    // SAFETY: type and length are checked before the element is read;
    // CHAR() is NUL-terminated and lives as long as `x`.
    unsafe {
        if TYPEOF(x) == STRSXP && (checked || Rf_isObject(x) == 0) && XLENGTH(x) == 1 {
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

/// An argument the R layer has checked: as [`text`] with `checked`, but
/// anything else is an `invalid_argument` error (a bug in the R layer).
///
/// # Safety
/// As [`text`].
pub unsafe fn checked_text<'a>(x: Sexp, what: &str) -> Result<&'a str> {
    // SAFETY: per the contract.
    unsafe { text(x, true) }.map_err(|_| Error::new(Kind::InvalidArgument, format!("`{what}` must be a string")))
}

/// A checked flag (see [`checked_text`]).
///
/// # Safety
/// As [`flag`].
pub unsafe fn checked_flag(x: Sexp, what: &str) -> Result<bool> {
    // SAFETY: per the contract.
    unsafe { flag(x) }.map_err(|_| Error::new(Kind::InvalidArgument, format!("`{what}` must be TRUE or FALSE")))
}

/// A checked number (see [`checked_text`]).
///
/// # Safety
/// As [`number`].
pub unsafe fn checked_number(x: Sexp, what: &str) -> Result<f64> {
    // SAFETY: per the contract.
    unsafe { number(x) }.map_err(|_| Error::new(Kind::InvalidArgument, format!("`{what}` must be a number")))
}
