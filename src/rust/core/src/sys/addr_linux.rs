//! Waiting on a 32-bit word in shared memory, across processes.
//!
//! The one facility every rustipc wait is built on: sleep while a word in a
//! shared mapping still holds the value we saw, and wake the sleepers after
//! changing it.  On Linux this is the `futex` system call without
//! `FUTEX_PRIVATE_FLAG` (so it works between processes).  Errors are
//! returned to the caller, never turned into an abort: whatever a damaged
//! file holds, a wait only ever ends early (callers re-check the word).

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleep while `*word == expected`, for at most `d`.  Returns on a wake-up,
/// a timeout, a signal or a changed word alike; callers re-check.
pub fn wait(word: &AtomicU32, expected: u32, d: Duration) {
    let ts = libc::timespec {
        tv_sec: d.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: d.subsec_nanos() as libc::c_long,
    };
    // SAFETY: the word lives in a mapping that outlives the call (callers
    // hold the object); the timeout is a valid relative timespec.  The
    // result is ignored on purpose: every outcome means "re-check".
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            0usize,
            0u32,
        );
    }
}

/// Wake at most `n` sleepers on `word`.
pub fn wake(word: &AtomicU32, n: i32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, n, 0usize, 0usize, 0u32);
    }
}

/// Wake every sleeper on `word`.
pub fn wake_all(word: &AtomicU32) {
    wake(word, i32::MAX);
}
