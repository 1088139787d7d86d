//! The robust lock of the `linux` and `freebsd` backends: robust,
//! process-shared pthread mutexes, the building block of [`crate::mutex`]
//! and [`crate::msg_queue`].
//!
//! `PTHREAD_MUTEX_ROBUST` makes the kernel mark a mutex "owner died" when
//! its owner exits while holding it, and wake a waiter, who gets
//! `EOWNERDEAD`, repairs what the dead owner may have left half done, and
//! marks the mutex consistent.  Written with the `libc` crate: raw_sync's
//! mutex is not robust and its timed waits fail with EINVAL (it forgets to
//! carry nanoseconds into seconds; see [`clock_after`]).

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU32, Ordering};
use crate::wait::{Deadline, Interrupts, Outcome};
use std::time::Duration;

/// The lock as it sits in shared memory.
pub type RawLock = libc::pthread_mutex_t;

pub(crate) fn init(m: *mut RawLock) -> Result<()> {
    // SAFETY: `m` points into a fresh private mapping; the attributes are
    // initialised before use and destroyed after.
    unsafe {
        let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
        libc::pthread_mutexattr_init(&mut attr);
        libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
        libc::pthread_mutexattr_setrobust(&mut attr, libc::PTHREAD_MUTEX_ROBUST);
        let rc = libc::pthread_mutex_init(m, &attr);
        libc::pthread_mutexattr_destroy(&mut attr);
        if rc != 0 {
            return Err(Error::os("pthread_mutex_init", std::io::Error::from_raw_os_error(rc)));
        }
    }
    Ok(())
}

/// Lock a robust mutex, waiting until `deadline` in interruptible slices.
/// `m` must point at an initialised robust mutex in a live mapping (hence
/// crate-private: callers pass pointers into their own objects).
/// `on_owner_died` runs (with the mutex
/// held) when the previous owner died holding it.  Between slices the wait
/// ends with `Removed` when `removed` (the object's header word) is set.
pub(crate) fn lock(
    m: *mut RawLock,
    deadline: Deadline,
    interrupts: Interrupts,
    removed: &AtomicU32,
    on_owner_died: &dyn Fn(),
) -> std::io::Result<Outcome> {
    // SAFETY: `m` is an initialised robust mutex in a live mapping.
    let mut rc = unsafe { libc::pthread_mutex_trylock(m) };
    loop {
        match rc {
            0 => return Ok(Outcome::Done),
            libc::EOWNERDEAD => {
                on_owner_died();
                // SAFETY: we hold `m` in the owner-died state.
                unsafe { libc::pthread_mutex_consistent(m) };
                return Ok(Outcome::Done);
            }
            libc::EBUSY | libc::ETIMEDOUT | libc::EINTR => {}
            e => return Err(std::io::Error::from_raw_os_error(e)),
        }
        if rc == libc::ETIMEDOUT {
            if interrupts.pending() {
                return Ok(Outcome::Interrupted);
            }
            if removed.load(Ordering::Acquire) != 0 {
                return Ok(Outcome::Removed);
            }
        }
        let Some(slice) = deadline.next_slice() else { return Ok(Outcome::TimedOut) };
        let until = clock_after(libc::CLOCK_REALTIME, slice);
        // SAFETY: valid mutex and timespec.
        rc = unsafe { libc::pthread_mutex_timedlock(m, &until) };
    }
}

pub(crate) fn unlock(m: *mut RawLock) {
    // SAFETY: called only on a mutex this thread holds.
    unsafe { libc::pthread_mutex_unlock(m) };
}

/// (held by a live owner, its owner died holding it), read from the lock's
/// bytes without touching it (for `ipc_objects()`).  glibc and FreeBSD
/// keep the owner's thread id in the first word of a robust mutex; on
/// Linux the kernel sets bit 30 (and clears the thread id) when the owner
/// dies holding it, until a new owner recovers it.
pub fn status(bytes: &[u8]) -> (bool, bool) {
    const OWNER_DIED: u32 = 0x4000_0000;
    const TID_MASK: u32 = 0x3fff_ffff;
    let w = bytes.get(..4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0);
    (w & TID_MASK != 0, w & OWNER_DIED != 0 && w & TID_MASK == 0)
}

/// Nothing to prepare: the kernel knows the owner of a pthread mutex.
pub(crate) fn prepare() -> Result<()> {
    Ok(())
}

/// An absolute `timespec` on `clock` (`CLOCK_MONOTONIC` for futexes and
/// `sem_clockwait`, `CLOCK_REALTIME` for `pthread_mutex_timedlock`), `d` from now.
pub fn clock_after(clock: libc::clockid_t, d: Duration) -> libc::timespec {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec into the valid pointer.
    unsafe { libc::clock_gettime(clock, &mut now) };
    let mut sec = now.tv_sec + d.as_secs() as libc::time_t;
    let mut nsec = now.tv_nsec + d.subsec_nanos() as libc::c_long;
    // The carry raw_sync forgets (its upstream issue #39): tv_nsec must stay
    // below one second or the kernel answers EINVAL.
    if nsec >= 1_000_000_000 {
        sec += 1;
        nsec -= 1_000_000_000;
    }
    libc::timespec { tv_sec: sec, tv_nsec: nsec }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespec_carries_nanoseconds() {
        for ms in [0u64, 1, 999, 1000, 1999] {
            let t = clock_after(libc::CLOCK_MONOTONIC, Duration::from_millis(ms));
            assert!(t.tv_nsec >= 0 && t.tv_nsec < 1_000_000_000);
        }
    }
}
