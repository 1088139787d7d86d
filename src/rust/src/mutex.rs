//! R entry points for [`rustipc_core::mutex`] (the hot ones are in
//! [`crate::fast`]).

use crate::error::{checked_flag, checked_text, entry, err, new_handle, remove_named, Result};
use crate::rapi::*;
use rustipc_core::mutex::open;
use rustipc_core::store::{Assert, Named};
use rustipc_core::token;

/// The creator token recorded for `cleanup = TRUE` (0: none).
pub(crate) fn creator(cleanup: bool) -> Result<u64> {
    if cleanup {
        token::mine().map(|t| t.pack())
    } else {
        Ok(0)
    }
}

/// `rs_mutex_open(name, assert, cleanup)`: a handle or the error list.
///
/// # Safety
/// Called by R through `.Call` with valid SEXPs.
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_open(name: Sexp, assert: Sexp, cleanup: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: live SEXPs of this .Call.
        let opened = unsafe { (checked_text(name, "name"), checked_text(assert, "assert"), checked_flag(cleanup, "cleanup")) };
        let m = match opened {
            (Ok(name), Ok(assert), Ok(cleanup)) => Assert::parse(assert).and_then(|a| open(name, a, creator(cleanup)?).map(|m| (name, m))),
            (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => Err(e),
        };
        match m {
            Ok((name, m)) => new_handle(Named::new(name, m)),
            Err(e) => err(&e),
        }
    })
}

/// `$remove()`: TRUE, FALSE (the name was gone already) or the error list.
///
/// # Safety
/// As [`rsx_mutex_open`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_remove(h: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { remove_named::<rustipc_core::mutex::MutexShared>(h, "mutex", |x| x.remove()) })
}
