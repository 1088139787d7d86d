//! Waiting on a 32-bit word in shared memory, on Windows.
//!
//! Windows has no cross-process futex: `WaitOnAddress` and
//! `WakeByAddress*` only reach threads of the same process.  So a wait
//! here is `WaitOnAddress` in short steps (1 ms, doubling to
//! [`MAX_STEP`]), re-reading the word between them: a wake-up from this
//! process ends it at once, a change made by another process is seen
//! within one step.  Callers already re-check and cut waits into slices of
//! [`crate::wait::SLICE`], so deadlines and interrupts (within 50 ms) are
//! kept as on the other backends; what costs is hand-off latency across
//! processes (up to one step; on real Windows the default timer resolution
//! of 15.6 ms rounds short steps up) and a waiter waking about 60 times a
//! second.
//!
//! The alternative, a named event or semaphore per word, would need the
//! word's object identity (name and creation) to reach this layer, so that
//! a re-created name never shares a stale event; it is the way to a
//! faster hand-off, not taken yet.  Checked under Wine 8 (`make test-wine`).

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use windows_sys::Win32::System::Threading::{WaitOnAddress, WakeByAddressAll, WakeByAddressSingle};

/// The longest step between two looks at the word.
pub const MAX_STEP: Duration = Duration::from_millis(16);

/// Sleep while `*word == expected`, for at most `d`; callers re-check.
pub fn wait(word: &AtomicU32, expected: u32, d: Duration) {
    let Some(end) = Instant::now().checked_add(d) else { return };
    let mut step = Duration::from_millis(1);
    loop {
        if word.load(Ordering::SeqCst) != expected {
            return;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let ms = left.min(step).as_millis().clamp(1, u32::MAX as u128) as u32;
        // SAFETY: the word lives in a mapping that outlives the call (callers
        // hold the object); `expected` is a valid 4-byte value to compare.
        // The result is ignored: every outcome means "look again".
        unsafe {
            WaitOnAddress(word.as_ptr() as *const c_void, &expected as *const u32 as *const c_void, 4, ms);
        }
        step = (step * 2).min(MAX_STEP);
    }
}

/// Wake at most `n` sleepers of this process (one, or all for larger `n`);
/// other processes' sleepers see the change within a step.
pub fn wake(word: &AtomicU32, n: i32) {
    let p = word.as_ptr() as *const c_void;
    // SAFETY: waking only uses the address as a key.
    unsafe {
        if n == 1 {
            WakeByAddressSingle(p)
        } else {
            WakeByAddressAll(p)
        }
    }
}

pub fn wake_all(word: &AtomicU32) {
    wake(word, i32::MAX);
}
