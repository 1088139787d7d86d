//! R entry points for [`rustipc_core::filelock`].

use crate::error::{entry, err, flag, free_box, slow, timeout, Error, Kind, Out, Result};
use crate::rapi::*;
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
// They are built through the boundary's jump-safe helpers ([`crate::rapi`]).

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
        if TYPEOF(h) == EXTPTRSXP && R_ExternalPtrTag(h) == tag(Tag::Lock) {
            let own = R_ExternalPtrProtected(h);
            if TYPEOF(own) == EXTPTRSXP && R_ExternalPtrTag(own) == tag(Tag::LockHandle) {
                return Ok(R_ExternalPtrAddr(own).cast::<LockHandle>().as_ref());
            }
        }
    }
    Err(Error::new(Kind::InvalidArgument, "not a rustipc lock handle"))
}

/// `rs_lock(path, exclusive, timeout_ms)`: list(handle, path), NULL on
/// timeout, or an error list; kind `slow_path` when R must prepare an
/// argument first: anything but a plain string that is ASCII or marked
/// UTF-8, a plain TRUE/FALSE and a plain non-negative number, and a path
/// starting with `~` (R expands it).  So lock()'s R function checks
/// nothing itself in the common case.
///
/// # Safety
/// Called by R through `.Call` (src/entrypoint.c) with valid SEXPs.
#[no_mangle]
pub unsafe extern "C" fn rsx_lock(path: Sexp, exclusive: Sexp, timeout_ms: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { lock_file(path, exclusive, timeout_ms) })
}

unsafe fn lock_file(path: Sexp, exclusive: Sexp, timeout_ms: Sexp) -> Out {
    // SAFETY: live SEXPs of this .Call; `path` outlives the text.  The
    // checks come in R's order.
    let args = unsafe { (crate::error::text(path, false), flag(exclusive), timeout(timeout_ms)) };
    let (path, exclusive, timeout_ms) = match args {
        (Ok(p), Ok(x), Ok(t)) if !p.starts_with('~') => (p, x, t),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => return err(&e),
        // A path starting with ~: R expands it.
        _ => return err(&slow()),
    };
    let path = absolute(path);
    let path = path.to_string_lossy();
    let held = match lock(&path, exclusive, Deadline::from_ms(timeout_ms), Interrupts::Check) {
        Ok(Some(held)) => {
            crate::stamps::acquired();
            held
        }
        Ok(None) => return Ok(nil()),
        Err(e) => return err(&e),
    };
    // The outer pointer's address identifies the shared lock (never
    // dereferenced through it); the handle owns this object's hold.
    let addr = Arc::as_ptr(&held) as *mut std::ffi::c_void;
    let own = Box::into_raw(Box::new(LockHandle::new(held)));
    // SAFETY: the finalizer frees a Box<LockHandle> once.
    match unsafe { lock_object(own.cast(), addr, &path, free_box::<LockHandle>) } {
        Ok(x) => Ok(x),
        Err((j, owned)) => {
            if owned {
                // SAFETY: not handed to R: we still own the box.
                drop(unsafe { Box::from_raw(own) });
            }
            // Otherwise R owns the handle: its finalizer releases the hold
            // when the handle is collected (unreachable now).
            Err(j)
        }
    }
}

/// `rs_unlock(h)`: TRUE, or an error list when `h` is not a lock handle.
///
/// # Safety
/// As [`rsx_lock`]; `h` may be any SEXP.
#[no_mangle]
pub unsafe extern "C" fn rsx_unlock(h: Sexp) -> Sexp {
    entry(|| {
        crate::stamps::release();
        // SAFETY: a live SEXP of this .Call.
        match unsafe { handle_of(h) } {
            Ok(Some(l)) => {
                l.unlock();
                // SAFETY: `h` is an external pointer (checked in handle_of()).
                unsafe { R_ClearExternalPtr(h) };
                Ok(lgl(true))
            }
            Ok(None) => Ok(lgl(true)),
            Err(e) => err(&e),
        }
    })
}

/// Whether the handle holds its lock (FALSE after unlock(), in a fork
/// child, and for a handle restored from a file), for print().
///
/// # Safety
/// As [`rsx_unlock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_lock_info(h: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: a live SEXP of this .Call.
        match unsafe { handle_of(h) } {
            Ok(Some(l)) => Ok(lgl(l.is_held())),
            Ok(None) => Ok(lgl(false)),
            Err(e) => err(&e),
        }
    })
}
