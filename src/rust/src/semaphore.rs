//! R entry points for [`rustipc_core::semaphore`] (the hot ones are in
//! [`crate::fast`]).

use crate::error::{checked_flag, checked_number, checked_text, entry, err, new_handle, remove_named};
use crate::mutex::creator;
use crate::rapi::*;
use rustipc_core::semaphore::Semaphore;
use rustipc_core::store::{Assert, Named};
use std::sync::Arc;

/// `rs_sem_open(name, assert, value, cleanup)`: a handle or the error list.
///
/// # Safety
/// Called by R through `.Call` with valid SEXPs.
#[no_mangle]
pub unsafe extern "C" fn rsx_sem_open(name: Sexp, assert: Sexp, value: Sexp, cleanup: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: live SEXPs of this .Call.
        let args = unsafe {
            (checked_text(name, "name"), checked_text(assert, "assert"), checked_number(value, "value"), checked_flag(cleanup, "cleanup"))
        };
        let s = match args {
            (Ok(name), Ok(assert), Ok(value), Ok(cleanup)) => Assert::parse(assert)
                .and_then(|a| Semaphore::open(name, a, value as u32, creator(cleanup)?))
                .map(|s| (name, s)),
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => Err(e),
        };
        match s {
            Ok((name, s)) => new_handle(Named::new(name, Arc::new(s))),
            Err(e) => err(&e),
        }
    })
}

/// `$remove()`: TRUE, FALSE (the name was gone already) or the error list.
///
/// # Safety
/// As [`rsx_sem_open`].
#[no_mangle]
pub unsafe extern "C" fn rsx_sem_remove(h: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { remove_named::<Semaphore>(h, "semaphore", |x| x.remove()) })
}
