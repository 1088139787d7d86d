//! R entry points for [`rustipc_core::msg_queue`] (the hot ones are in
//! [`crate::fast`]).

use crate::error::{checked_flag, checked_number, checked_text, entry, err, handle, new_handle, remove_named, timeout, Error, Result};
use crate::mutex::creator;
use crate::rapi::*;
use rustipc_core::msg_queue::{Handle, Queue, Token};
use rustipc_core::store::{Assert, Named};
use rustipc_core::wait::{Deadline, Interrupts, Outcome};
use std::sync::Arc;

/// # Safety
/// `x` must be a valid SEXP.
unsafe fn token_from_r(x: Sexp) -> Result<Token> {
    // SAFETY: the type is checked before the elements are read.
    let parts = unsafe {
        if TYPEOF(x) == REALSXP {
            std::slice::from_raw_parts(REAL(x), XLENGTH(x) as usize)
        } else {
            &[]
        }
    };
    Token::from_parts(parts)
}

/// `rs_mq_open(name, assert, max_count, max_nchar, cleanup)`: a handle or
/// the error list.
///
/// # Safety
/// Called by R through `.Call` with valid SEXPs.
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_open(name: Sexp, assert: Sexp, max_count: Sexp, max_nchar: Sexp, cleanup: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: live SEXPs of this .Call.
        let args = unsafe {
            (
                checked_text(name, "name"),
                checked_text(assert, "assert"),
                checked_number(max_count, "max_count"),
                checked_number(max_nchar, "max_nchar"),
                checked_flag(cleanup, "cleanup"),
            )
        };
        let q = match args {
            (Ok(name), Ok(assert), Ok(count), Ok(nchar), Ok(cleanup)) => Assert::parse(assert)
                .and_then(|a| Queue::open(name, a, count as u32, nchar as u32, creator(cleanup)?))
                .map(|q| (name, q)),
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), ..) | (_, _, _, Err(e), _) | (.., Err(e)) => Err(e),
        };
        match q {
            Ok((name, q)) => new_handle(Named::new(name, Arc::new(q))),
            Err(e) => err(&e),
        }
    })
}

/// For `with()`: `list(msg = <string>, token = <double>)`, NULL on timeout,
/// or an error list (an interrupt included).  The message stays in the
/// queue, TAKEN by this process, until `rs_mq_settle()`; if the process
/// dies first, the message is put back, and if R jumps while the result is
/// made, it is put back here.  `token` is `c(slot, seq %/% 2^32, seq %%
/// 2^32)`: three whole doubles, each below 2^32, so exact.
///
/// # Safety
/// As [`rsx_mq_open`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_take(h: Sexp, timeout_ms: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: live SEXPs of this .Call.
        let (q, t) = match unsafe { (handle::<Handle>(h, "msg_queue"), timeout(timeout_ms)) } {
            (Ok(q), Ok(t)) => (q, t),
            (Err(e), _) | (_, Err(e)) => return err(&e),
        };
        match q.follow(|q| q.take(Deadline::from_ms(t), Interrupts::Check)) {
            Ok(Ok((msg, token))) => {
                let made = (|| {
                    let m = string(&msg)?;
                    let t = doubles(&token.to_parts())?;
                    list(Some(&["msg", "token"]), &[m, t])
                })();
                if made.is_err() {
                    let _ = q.last().settle(token, true, Interrupts::Ignore);
                }
                made
            }
            Ok(Err(Outcome::Interrupted)) => err(&Error::interrupted()),
            Ok(Err(_)) => Ok(nil()),
            Err(e) => err(&e),
        }
    })
}

/// Settle a message `rs_mq_take()` returned: `put_back = TRUE` makes it
/// waiting again, first in its original order; `FALSE` consumes it.  TRUE,
/// or FALSE when the token no longer matches a message this process holds
/// (settled already, or the queue was removed), or an error list.  Works on
/// the queue the handle used last, the one the message came from.
///
/// # Safety
/// As [`rsx_mq_open`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_settle(h: Sexp, token: Sexp, put_back: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: live SEXPs of this .Call.
        let done = unsafe { (handle::<Handle>(h, "msg_queue"), token_from_r(token), checked_flag(put_back, "put_back")) };
        let done = match done {
            // Not interruptible: with() settles from a cleanup handler, and
            // the queue's internal lock is only ever held for a copy.
            (Ok(q), Ok(token), Ok(put_back)) => q.last().settle(token, put_back, Interrupts::Ignore),
            (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => Err(e),
        };
        match done {
            Ok(Ok(b)) => Ok(lgl(b)),
            Ok(Err(Outcome::Interrupted)) => err(&Error::interrupted()),
            Ok(Err(_)) => Ok(lgl(false)),
            Err(e) => err(&e),
        }
    })
}

/// c(count, max_count, max_nchar) as integers, or the error list.
///
/// # Safety
/// As [`rsx_mq_open`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_info(h: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: a live SEXP of this .Call.
        match unsafe { handle::<Handle>(h, "msg_queue") }.and_then(|q| q.get()) {
            Ok(q) => integers(&[Some(q.count() as i32), Some(q.max_count as i32), Some(q.max_nchar as i32)]),
            Err(e) => err(&e),
        }
    })
}

/// `$remove()`: TRUE, FALSE (the name was gone already) or the error list.
///
/// # Safety
/// As [`rsx_mq_open`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_remove(h: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { remove_named::<Queue>(h, "msg_queue", |x| x.remove()) })
}
