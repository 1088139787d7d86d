//! Waiting on a 32-bit word in shared memory, on FreeBSD (compiled, not
//! run: see README): `_umtx_op` with `UMTX_OP_WAIT_UINT` and `UMTX_OP_WAKE`,
//! the process-shared (not `_PRIVATE`) operations.

use std::ffi::c_void;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleep while `*word == expected`, for at most `d`; callers re-check.
pub fn wait(word: &AtomicU32, expected: u32, d: Duration) {
    let mut ts = libc::timespec { tv_sec: d.as_secs() as _, tv_nsec: d.subsec_nanos() as _ };
    // SAFETY: the word lives in a mapping that outlives the call; with
    // `uaddr` = the size of a timespec, `uaddr2` is a relative timeout.
    unsafe {
        libc::_umtx_op(
            word.as_ptr() as *mut c_void,
            libc::UMTX_OP_WAIT_UINT,
            expected as libc::c_ulong,
            std::mem::size_of::<libc::timespec>() as *mut c_void,
            &mut ts as *mut libc::timespec as *mut c_void,
        );
    }
}

/// Wake at most `n` sleepers.
pub fn wake(word: &AtomicU32, n: i32) {
    // SAFETY: waking only uses the address as a key.
    unsafe {
        libc::_umtx_op(
            word.as_ptr() as *mut c_void,
            libc::UMTX_OP_WAKE,
            n.max(1) as libc::c_ulong,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
    }
}

pub fn wake_all(word: &AtomicU32) {
    wake(word, i32::MAX);
}
