//! Native timestamps for `make bench`'s hand-off breakdown: when enabled
//! (`rs_stamps(TRUE)`), the release calls (`$unlock()`, `$post()`,
//! `unlock()`) note the wall-clock time they start, and the waiting calls
//! (`$lock()`, `$wait()`, `lock()`) the time they got what they waited for,
//! just before returning to R.  With R's own `Sys.time()` on each side
//! (the same clock), a hand-off splits into the releaser's R code, the
//! native release to the waiter's native return, and the waiter's R code.
//! Disabled, the cost is one relaxed atomic load per call.

use crate::error::{entry, flag};
use crate::rapi::{doubles, Sexp};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

static ON: AtomicBool = AtomicBool::new(false);
static RELEASE: AtomicU64 = AtomicU64::new(0);
static ACQUIRE: AtomicU64 = AtomicU64::new(0);
static RELEASE_CPU: AtomicI32 = AtomicI32::new(-1);
static ACQUIRE_CPU: AtomicI32 = AtomicI32::new(-1);

/// The CPU this thread runs on (-1 where unknown).
#[cfg(target_os = "linux")]
fn cpu() -> i32 {
    extern "C" {
        fn sched_getcpu() -> i32;
    }
    // SAFETY: sched_getcpu takes nothing and only returns a number.
    unsafe { sched_getcpu() }
}
#[cfg(not(target_os = "linux"))]
fn cpu() -> i32 {
    -1
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// A release call starts.
#[inline]
pub fn release() {
    if ON.load(Relaxed) {
        RELEASE.store(now_ns(), Relaxed);
        RELEASE_CPU.store(cpu(), Relaxed);
    }
}

/// A waiting call got what it waited for.
#[inline]
pub fn acquired() {
    if ON.load(Relaxed) {
        ACQUIRE.store(now_ns(), Relaxed);
        ACQUIRE_CPU.store(cpu(), Relaxed);
    }
}

/// Turn the timestamps on or off; returns the last release and acquire
/// times, in seconds since the epoch as `Sys.time()` gives them (0: none),
/// the CPUs they ran on, and the CPU this call runs on (-1: unknown).
///
/// # Safety
/// Called by R through `.Call` with a valid SEXP.
#[no_mangle]
pub unsafe extern "C" fn rsx_stamps(on: Sexp) -> Sexp {
    entry(|| {
        // SAFETY: a live SEXP of this .Call.
        ON.store(unsafe { flag(on) }.unwrap_or(false), Relaxed);
        doubles(&[
            RELEASE.load(Relaxed) as f64 / 1e9,
            ACQUIRE.load(Relaxed) as f64 / 1e9,
            f64::from(RELEASE_CPU.load(Relaxed)),
            f64::from(ACQUIRE_CPU.load(Relaxed)),
            f64::from(cpu()),
        ])
    })
}
