//! The hot calls (`$lock()`, `$unlock()`, `$post()`, `$wait()`, `$send()`,
//! `$receive()`) and their `_checked` forms.
//!
//! The R closures pass their arguments through unchecked: these functions
//! take them in the plain forms (a `TRUE`/`FALSE`, a non-negative number,
//! a string that is ASCII or valid UTF-8 marked as such) and answer
//! anything else with the error kind `slow_path`, before doing anything.
//! The C shim hands every error list to `rs_hot_fail()` (R/hot.R), which
//! raises the classed error or converts the value (`TRUE` as 1, latin1 text
//! to UTF-8, ...) and calls the `_checked` form.  A successful wait with no
//! deadline returns `NULL`, which the closure returns as an invisible
//! `TRUE` (interprocess' visibility).

use crate::error::{entry, err, flag, handle, number, outcome, slow, text, timeout, Error, Out, Result};
use crate::rapi::*;
use crate::stamps;
use rustipc_core::msg_queue::Handle as QueueHandle;
use rustipc_core::mutex::{lock_named, unlock_named, MutexRef};
use rustipc_core::semaphore::Handle as SemHandle;
use rustipc_core::wait::{Deadline, Interrupts, Outcome};

/// A priority: a whole number from 0 to 2^31 - 1.
///
/// # Safety
/// `x` must be a valid SEXP.
unsafe fn priority(x: Sexp) -> Result<u32> {
    // SAFETY: per the contract.
    match unsafe { number(x) } {
        Ok(p) if (0.0..=f64::from(i32::MAX)).contains(&p) && p.trunc() == p => Ok(p as u32),
        _ => Err(slow()),
    }
}

unsafe fn mutex_lock(h: Sexp, shared: Sexp, timeout_ms: Sexp) -> Out {
    // SAFETY: the arguments are live SEXPs of this .Call.
    let r = unsafe { (handle::<MutexRef>(h, "mutex"), flag(shared), timeout(timeout_ms)) };
    match r {
        (Ok(m), Ok(shared), Ok(t)) => {
            let r = lock_named(m, !shared, Deadline::from_ms(t), Interrupts::Check);
            if let Ok(Outcome::Done) = r {
                stamps::acquired();
            }
            outcome(r, t == f64::INFINITY)
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => err(&e),
    }
}

/// `rs_mutex_lock(h, shared, timeout_ms)`: NULL (locked, no deadline),
/// TRUE, FALSE (timed out) or the error list.
///
/// # Safety
/// Called by R through `.Call` (src/entrypoint.c) with valid SEXPs.
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_lock(h: Sexp, shared: Sexp, timeout_ms: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { mutex_lock(h, shared, timeout_ms) })
}

/// The same with checked arguments (R/hot.R's slow path).
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_lock_checked(h: Sexp, shared: Sexp, timeout_ms: Sexp) -> Sexp {
    // SAFETY: per the contract.  Checked values are plain: a second
    // slow_path is reported by R/hot.R as an internal error.
    entry(|| unsafe { mutex_lock(h, shared, timeout_ms) })
}

unsafe fn mutex_unlock(h: Sexp, warn: Sexp) -> Out {
    stamps::release();
    // SAFETY: live SEXPs of this .Call.
    let r = unsafe { flag(warn).and_then(|_| handle::<MutexRef>(h, "mutex")) };
    match r.and_then(unlock_named) {
        Ok(true) => Ok(nil()),
        Ok(false) => Ok(lgl(false)),
        Err(e) => err(&e),
    }
}

/// `rs_mutex_unlock(h, warn)`: NULL (unlocked), FALSE (not held here) or
/// the error list.  `warn` is only checked here; R warns.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_unlock(h: Sexp, warn: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { mutex_unlock(h, warn) })
}

/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mutex_unlock_checked(h: Sexp, warn: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { mutex_unlock(h, warn) })
}

/// `rs_sem_post(h)`: TRUE or the error list.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_sem_post(h: Sexp) -> Sexp {
    entry(|| {
        stamps::release();
        // SAFETY: a live SEXP of this .Call.
        match unsafe { handle::<SemHandle>(h, "semaphore") }.and_then(|s| s.get()?.post()) {
            Ok(()) => Ok(lgl(true)),
            Err(e) => err(&e),
        }
    })
}

unsafe fn sem_wait(h: Sexp, timeout_ms: Sexp) -> Out {
    // SAFETY: live SEXPs of this .Call.
    match unsafe { (handle::<SemHandle>(h, "semaphore"), timeout(timeout_ms)) } {
        (Ok(s), Ok(t)) => {
            let deadline = Deadline::from_ms(t);
            let r = s.follow(|sem| sem.wait(deadline, Interrupts::Check));
            if let Ok(Outcome::Done) = r {
                stamps::acquired();
            }
            outcome(r, t == f64::INFINITY)
        }
        (Err(e), _) | (_, Err(e)) => err(&e),
    }
}

/// `rs_sem_wait(h, timeout_ms)`: as [`rsx_mutex_lock`].
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_sem_wait(h: Sexp, timeout_ms: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { sem_wait(h, timeout_ms) })
}

/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_sem_wait_checked(h: Sexp, timeout_ms: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { sem_wait(h, timeout_ms) })
}

/// `rs_mq_send(h, msg, timeout_ms, priority)`: as [`rsx_mutex_lock`].
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_send(h: Sexp, msg: Sexp, timeout_ms: Sexp, prio: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { send(h, msg, timeout_ms, prio, false) })
}

/// The same, for R's slow path (R/hot.R): `msg` has been converted to
/// UTF-8 (whatever its mark says) and the other arguments checked.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_send_checked(h: Sexp, msg: Sexp, timeout_ms: Sexp, prio: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { send(h, msg, timeout_ms, prio, true) })
}

/// # Safety
/// As [`rsx_mutex_lock`].
unsafe fn send(h: Sexp, msg: Sexp, timeout_ms: Sexp, prio: Sexp, checked: bool) -> Out {
    // SAFETY: live SEXPs of this .Call; `msg` outlives the call.  The
    // checks come in R's order (msg, timeout_ms, priority), then the handle.
    let r = unsafe { (text(msg, checked), timeout(timeout_ms), priority(prio), handle::<QueueHandle>(h, "msg_queue")) };
    match r {
        (Ok(msg), Ok(t), Ok(p), Ok(q)) => {
            let deadline = Deadline::from_ms(t);
            outcome(q.follow(|q| q.send(msg, p, deadline, Interrupts::Check)), t == f64::INFINITY)
        }
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => err(&e),
    }
}

/// The message a wait took, as R's string, settled only once R has it: if
/// R jumps while the string is made, the message goes back to the queue
/// where it was, so an interrupt there loses nothing.
pub(crate) fn deliver(q: &rustipc_core::msg_queue::Queue, msg: &str, token: rustipc_core::msg_queue::Token) -> Out {
    let made = string(msg);
    // Not interruptible: the queue's internal lock is only held for a copy.
    let _ = q.settle(token, made.is_err(), Interrupts::Ignore);
    made
}

unsafe fn receive(h: Sexp, timeout_ms: Sexp) -> Out {
    // SAFETY: live SEXPs of this .Call.
    let (q, t) = match unsafe { (handle::<QueueHandle>(h, "msg_queue"), timeout(timeout_ms)) } {
        (Ok(q), Ok(t)) => (q, t),
        (Err(e), _) | (_, Err(e)) => return err(&e),
    };
    let deadline = Deadline::from_ms(t);
    match q.follow(|q| q.take(deadline, Interrupts::Check)) {
        // The queue the handle used last is the one the message came from.
        Ok(Ok((msg, token))) => deliver(&q.last(), &msg, token),
        Ok(Err(Outcome::Interrupted)) => err(&Error::interrupted()),
        Ok(Err(_)) => Ok(nil()),
        Err(e) => err(&e),
    }
}

/// `rs_mq_receive(h, timeout_ms)`: the message, NULL on timeout, or the
/// error list.
///
/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_receive(h: Sexp, timeout_ms: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { receive(h, timeout_ms) })
}

/// # Safety
/// As [`rsx_mutex_lock`].
#[no_mangle]
pub unsafe extern "C" fn rsx_mq_receive_checked(h: Sexp, timeout_ms: Sexp) -> Sexp {
    // SAFETY: per the contract.
    entry(|| unsafe { receive(h, timeout_ms) })
}
