//! The robust lock of the `portable` and `windows` backends: only
//! facilities macOS has (no robust pthread mutexes there).  Windows uses it
//! too rather than a named kernel mutex (which reports `WAIT_ABANDONED`):
//! a kernel mutex belongs to a thread, not to the process, and would need a
//! handle per object per process opened by a name kept in step with the
//! file's; the token lock needs nothing but the token, and its takeover
//! was checked across processes under Wine 8 (`make test-wine`).
//!
//! The lock is a 64-bit word holding its owner's packed
//! [`crate::token::Token`] (0: free), taken and released with atomic
//! operations; waiters sleep on a 32-bit sequence word
//! ([`crate::sys::addr`]) that every release bumps.  A holder that dies
//! leaves its token in the word; a waiter that slept a whole slice without
//! a release asks whether that token is still alive
//! ([`crate::token::is_alive`]: a file lock the OS released when the
//! holder died) and, if not, takes the lock over with a compare-and-swap
//! from the dead token to its own (only one waiter can win) and repairs
//! what the dead holder may have left half done, as with `EOWNERDEAD`.  A
//! killed holder is thus taken over within one slice (50 ms).
//!
//! Locks belong to the process (the token is the process's), not to a
//! thread; the callers keep their own per-process state, and a child made
//! by fork does not own its parent's lock (it has a token of its own).

use crate::error::{Error, Result};
use crate::sys::addr;
use crate::token;
use crate::wait::{Deadline, Interrupts, Outcome};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The lock as it sits in shared memory.
#[repr(C)]
pub struct RawLock {
    owner: AtomicU64,
    seq: AtomicU32,
    sleepers: AtomicU32,
}

pub(crate) fn init(m: *mut RawLock) -> Result<()> {
    // SAFETY: `m` points into a fresh, private, zeroed mapping: zero is
    // the free state, so there is nothing to write.
    let _ = unsafe { &*m };
    Ok(())
}

fn me() -> std::io::Result<u64> {
    token::mine()
        .map(|t| t.pack())
        .map_err(|e: Error| std::io::Error::other(e.message))
}

/// Lock, waiting until `deadline` in interruptible slices; `on_owner_died`
/// runs (with the lock held) when the previous owner died holding it.
/// Between slices the wait ends with `Removed` when `removed` is set.
pub(crate) fn lock(
    m: *mut RawLock,
    deadline: Deadline,
    interrupts: Interrupts,
    removed: &AtomicU32,
    on_owner_died: &dyn Fn(),
) -> std::io::Result<Outcome> {
    // SAFETY: `m` is an initialised lock in a live mapping (callers pass
    // pointers into their own objects).
    let l = unsafe { &*m };
    let me = me()?;
    let mut check_owner = false;
    loop {
        let seen = l.seq.load(Ordering::SeqCst);
        let owner = l.owner.load(Ordering::SeqCst);
        if owner == 0 {
            if l.owner.compare_exchange(0, me, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                return Ok(Outcome::Done);
            }
            continue;
        }
        if check_owner && !token::Token::unpack(owner).is_some_and(token::is_alive) {
            if l.owner.compare_exchange(owner, me, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                on_owner_died();
                return Ok(Outcome::Done);
            }
            continue;
        }
        let Some(slice) = deadline.next_slice() else { return Ok(Outcome::TimedOut) };
        l.sleepers.fetch_add(1, Ordering::SeqCst);
        addr::wait(&l.seq, seen, slice);
        let _ = l.sleepers.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1));
        // A slice without a release: look at the owner's token next time.
        check_owner = l.seq.load(Ordering::SeqCst) == seen;
        if interrupts.pending() {
            return Ok(Outcome::Interrupted);
        }
        if removed.load(Ordering::Acquire) != 0 {
            return Ok(Outcome::Removed);
        }
    }
}

pub(crate) fn unlock(m: *mut RawLock) {
    // SAFETY: called only on a lock this process holds, in a live mapping.
    let l = unsafe { &*m };
    l.owner.store(0, Ordering::SeqCst);
    l.seq.fetch_add(1, Ordering::SeqCst);
    if l.sleepers.load(Ordering::SeqCst) > 0 {
        addr::wake(&l.seq, 1);
    }
}

/// (held by a live owner, its owner died holding it), read from the lock's
/// bytes without touching it (for `ipc_objects()`).
pub fn status(bytes: &[u8]) -> (bool, bool) {
    let w = bytes
        .get(..8)
        .map(|b| u64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .unwrap_or(0);
    match token::Token::unpack(w) {
        None => (false, false),
        Some(t) if token::is_alive(t) => (true, false),
        Some(_) => (false, true),
    }
}

/// Make sure this process can take locks (claim its token now, where an
/// error is expected: creating or opening an object), not in the middle of
/// a later call.
pub(crate) fn prepare() -> Result<()> {
    token::mine().map(|_| ())
}
