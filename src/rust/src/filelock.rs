//! R entry points for [`rustipc_core::filelock`].

use crate::error::{err_to_r, Error, Kind, Result};
use crate::fast;
use crate::rapi::*;
use extendr_api::prelude::*;
use rustipc_core::filelock::{absolute, lock, LockHandle};
use rustipc_core::wait::{Deadline, Interrupts};
use std::sync::Arc;

// A lock object has filelock's shape, list(<external pointer>, path), and
// locking a file again in this process returns an identical() object, as in
// filelock.  identical() compares external pointers by address only.  So
// each lock() call makes two external pointers: its own handle (a boxed
// `LockHandle`, freed by a finalizer when R collects it), and an outer one
// whose address is the shared lock (`Held`, never dereferenced through it)
// and whose "protected" field is the handle.  Tags mark both as rustipc's,
// and are checked before any field is read.  The state lives in the handle
// only: if something else clears the outer pointer (filelock's unlock()
// does, given a rustipc lock), the lock is still reported and released
// correctly.  rustipc's unlock() clears it too, so two unlocked objects for
// one file stay identical().
//
// They are built with R's C API directly ([`crate::rapi`]), not extendr's
// ExternalPtr and Robj: each Robj costs a global table update, and lock() is
// a hot path.

/// A symbol, looked up once: symbols are never collected.
fn symbol(cell: &std::sync::OnceLock<usize>, name: &std::ffi::CStr) -> Sexp {
    // SAFETY: Rf_install with a NUL-terminated name, on R's thread.
    *cell.get_or_init(|| unsafe { Rf_install(name.as_ptr()) } as usize) as Sexp
}

fn outer_tag() -> Sexp {
    static TAG: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    symbol(&TAG, c"rustipc_lock")
}

fn handle_tag() -> Sexp {
    static TAG: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    symbol(&TAG, c"rustipc_lock_handle")
}

/// R's finalizer for a handle pointer (at collection or at exit): frees
/// the handle, which releases its hold on the lock.
extern "C" fn free_handle(s: Sexp) {
    // SAFETY: only handle pointers get this finalizer, and their address is
    // a Box<LockHandle> or null; it is cleared before the box is freed, so
    // the box is freed once.
    unsafe {
        let p = R_ExternalPtrAddr(s);
        if !p.is_null() {
            R_ClearExternalPtr(s);
            // No panic may unwind into R.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(Box::from_raw(p.cast::<LockHandle>()));
            }));
        }
    }
}

/// The handle behind the outer pointer `h`: Some for a live one, None for
/// one restored from a file (serialisation keeps no address: another
/// process's lock, not held here), or an error when `h` is not a rustipc
/// lock pointer.
///
/// # Safety
/// `h` must be a valid SEXP.
unsafe fn handle_of<'a>(h: Sexp) -> Result<Option<&'a LockHandle>> {
    // SAFETY: fields are read only from external pointers whose tags are
    // our symbols (symbols are unique, so comparing addresses compares
    // names); a handle's address is a live Box<LockHandle> or null, and the
    // handle lives at least as long as `h`, which protects it.
    unsafe {
        if TYPEOF(h) == EXTPTRSXP && R_ExternalPtrTag(h) == outer_tag() {
            let own = R_ExternalPtrProtected(h);
            if TYPEOF(own) == EXTPTRSXP && R_ExternalPtrTag(own) == handle_tag() {
                return Ok(R_ExternalPtrAddr(own).cast::<LockHandle>().as_ref());
            }
        }
    }
    Err(Error::new(Kind::InvalidArgument, "not a rustipc lock handle"))
}

/// `path` (a string) as UTF-8 text, or None when R must prepare it first:
/// text in another encoding (R converts it or explains why it cannot), or a
/// path starting with `~` (R expands it).  Checking here keeps both tests
/// off lock()'s R fast path.
///
/// # Safety
/// `path` must be a character vector of length 1 (not NA), which the R
/// layer checks, living as long as the result.
unsafe fn path_text<'a>(path: Sexp) -> Option<&'a str> {
    // SAFETY: per the contract; CHAR() of an element is a NUL-terminated
    // string that lives as long as `path`.
    let (bytes, enc) = unsafe {
        let c = STRING_ELT(path, 0);
        (std::ffi::CStr::from_ptr(R_CHAR(c)).to_bytes(), Rf_getCharCE(c))
    };
    if !(bytes.is_ascii() || enc == CE_UTF8) {
        return None;
    }
    std::str::from_utf8(bytes).ok().filter(|s| !s.starts_with('~'))
}

/// `rs_lock(path, exclusive, timeout_ms)`: list(handle, path), NULL on
/// timeout, list(retry = TRUE) when R must prepare the path (see
/// [`path_text`]), or an error list.  A plain C-ABI entry point like those
/// of [`crate::fast`] (lock() is a hot call); the R layer has checked the
/// arguments (a string, TRUE/FALSE, a double).
///
/// # Safety
/// Called by R through `.Call` (src/entrypoint.c) with valid SEXPs of
/// those types.
#[no_mangle]
pub unsafe extern "C" fn rsx_lock(path: Sexp, exclusive: Sexp, timeout_ms: Sexp) -> Sexp {
    fast::guard(|| {
        // SAFETY: types and lengths are checked before the elements are
        // read (the R layer makes them so, but a method of as.double()
        // could return anything).
        let args = unsafe {
            (TYPEOF(path) == STRSXP
                && XLENGTH(path) == 1
                && TYPEOF(exclusive) == LGLSXP
                && XLENGTH(exclusive) == 1
                && TYPEOF(timeout_ms) == REALSXP
                && XLENGTH(timeout_ms) == 1)
                .then(|| (*LOGICAL(exclusive) != 0, *REAL(timeout_ms)))
        };
        let Some((exclusive, timeout_ms)) = args else {
            return fast::from_robj(err_to_r(Error::new(Kind::InvalidArgument, "lock(): `path`, `exclusive` or `timeout` is not plain")));
        };
        // SAFETY: per the contract.
        let Some(path) = (unsafe { path_text(path) }) else {
            return fast::from_robj(list!(retry = true).into());
        };
        let path = absolute(path).to_string_lossy().into_owned();
        let held = match lock(&path, exclusive, Deadline::from_ms(timeout_ms), Interrupts::Check) {
            Ok(Some(held)) => {
                crate::stamps::acquired();
                held
            }
            // SAFETY: R_NilValue is a constant.
            Ok(None) => return unsafe { R_NilValue },
            Err(e) => return fast::from_robj(err_to_r(e)),
        };
        let addr = Arc::as_ptr(&held) as *mut std::ffi::c_void;
        let own = Box::into_raw(Box::new(LockHandle::new(held)));
        // SAFETY: every new object is protected until it is stored in the
        // result, which R protects once returned (nothing allocates after
        // the protection stack is popped).  The handle pointer owns the box
        // from here on (see free_handle).  The path is valid UTF-8 (a Rust
        // String) shorter than 2^31 bytes.
        unsafe {
            let own = Rf_protect(R_MakeExternalPtr(own.cast(), handle_tag(), R_NilValue));
            R_RegisterCFinalizerEx(own, free_handle, 1);
            let outer = Rf_protect(R_MakeExternalPtr(addr, outer_tag(), own));
            let s = Rf_protect(Rf_allocVector(STRSXP as u32, 1));
            SET_STRING_ELT(s, 0, Rf_mkCharLenCE(path.as_ptr().cast(), path.len() as i32, CE_UTF8));
            let out = Rf_protect(Rf_allocVector(VECSXP as u32, 2));
            SET_VECTOR_ELT(out, 0, outer);
            SET_VECTOR_ELT(out, 1, s);
            Rf_unprotect(4);
            out
        }
    })
}

/// `rs_unlock(h)`: TRUE, or an error list when `h` is not a lock handle.
///
/// # Safety
/// As [`rsx_lock`]; `h` may be any SEXP.
#[no_mangle]
pub unsafe extern "C" fn rsx_unlock(h: Sexp) -> Sexp {
    fast::guard(|| {
        crate::stamps::release();
        // SAFETY: a live SEXP of this .Call.
        match unsafe { handle_of(h) } {
            Ok(Some(l)) => {
                l.unlock();
                // SAFETY: `h` is an external pointer (checked in handle_of()).
                unsafe { R_ClearExternalPtr(h) };
                fast::logical(true)
            }
            Ok(None) => fast::logical(true),
            Err(e) => fast::from_robj(err_to_r(e)),
        }
    })
}

/// Whether the handle holds its lock (FALSE after unlock(), in a fork
/// child, and for a handle restored from a file), for print().
#[extendr]
fn rs_lock_info(h: Robj) -> Robj {
    // SAFETY: `h` is a live SEXP of this call.
    match unsafe { handle_of(h.get().cast()) } {
        Ok(Some(l)) => l.is_held().into(),
        Ok(None) => false.into(),
        Err(e) => err_to_r(e),
    }
}

extendr_module! {
    mod filelock;
    fn rs_lock_info;
}
