//! R entry points for [`rustipc_core::names`], and two for the tests and
//! benchmarks.

use crate::error::{entry, err, result, text, Out};
use crate::rapi::*;
use rustipc_core::names::{hash, uid};

/// `uid()`: the string, or the error list.
#[no_mangle]
pub extern "C" fn rsx_uid() -> Sexp {
    entry(|| match uid() {
        Ok(s) => string(&s),
        Err(e) => err(&e),
    })
}

unsafe fn hash_of(x: Sexp, checked: bool) -> Out {
    // SAFETY: a live SEXP of this .Call, which outlives the text.
    match unsafe { text(x, checked) } {
        Ok(s) => string(&hash(s)),
        Err(e) => err(&e),
    }
}

/// `hash(str)`: the hash of a plain string (ASCII, or marked UTF-8 and
/// valid), or `slow_path` for anything else, which R converts (numbers,
/// factors, latin1, "bytes") or rejects, then calls [`rsx_hash_checked`].
///
/// # Safety
/// Called by R through `.Call` with a valid SEXP.
#[no_mangle]
pub unsafe extern "C" fn rsx_hash(x: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { hash_of(x, false) })
}

/// The same for a string R has converted to UTF-8.
///
/// # Safety
/// As [`rsx_hash`].
#[no_mangle]
pub unsafe extern "C" fn rsx_hash_checked(x: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { hash_of(x, true) })
}

/// The backend this build uses (`ipc_backend()`).
#[no_mangle]
pub extern "C" fn rsx_backend() -> Sexp {
    entry(|| string(rustipc_core::sys::BACKEND))
}

/// An empty native call: the floor the benchmarks compare against.
#[no_mangle]
pub extern "C" fn rsx_noop() -> Sexp {
    nil()
}

/// Panics, for the test that a panic becomes a classed R error and the
/// session goes on.
#[no_mangle]
pub extern "C" fn rsx_test_panic() -> Sexp {
    entry(|| -> Out {
        let _ = result(Ok(nil()));
        panic!("rs_test_panic was called")
    })
}
