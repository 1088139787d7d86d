//! Waiting on a 32-bit word in shared memory, on Windows.
//!
//! Windows has no cross-process futex: `WaitOnAddress` and
//! `WakeByAddress*` only reach threads of the same process.  So each word
//! of an object gets a named auto-reset event, created by its waiters:
//! `Local\rustipc-<volume>-<file index>-<incarnation>-<offset>`.  The
//! name comes from the object's file identity *and* the incarnation number
//! drawn when it was created ([`crate::store::Header::incarnation`]), so a
//! re-created object (even one that got a recycled file index) never
//! shares an event with its predecessor; it is `Local\` (this session),
//! not `Global\`, which needs `SeCreateGlobalPrivilege` and would reach
//! across sessions, where the object directory is per user anyway.
//! [`crate::sys::fs`] registers every mapping's range and identity here
//! ([`register`]), so a word's address finds its event.
//!
//! * A waiter creates (or opens) the event *before* it reads the word, then
//!   sleeps in `WaitForSingleObject` while the word holds what it saw.  A
//!   waker changes the word, then opens the event (it exists only while
//!   somebody waits: then it is not created for nothing) and sets it.  Either
//!   the waiter's read sees the change, or its event gets the signal: no
//!   wake-up is lost.
//! * The event is auto-reset, so a set wakes one waiter; a waiter woken by
//!   it that finds the word changed sets it again before returning, so the
//!   other waiters follow one by one (each re-checks what it waits for, as
//!   callers always do).  A waiter woken by a stale set finds the word as
//!   it was and sleeps again.  A wake-up thus reaches every waiter, as
//!   `wake_all` wants; `wake(1)` may wake more than one (harmless, and
//!   rustipc's waiters are few).
//! * Anything else (a word outside a registered mapping, an event that
//!   cannot be made, for instance because another user of the session
//!   squats the name) falls back to `WaitOnAddress` in steps of 1 ms
//!   doubling to [`MAX_STEP`], re-reading the word: correct, only slower to
//!   hand over across processes.
//!
//! Callers cut waits into slices of [`crate::wait::SLICE`], so deadlines
//! and interrupts (within 50 ms) are kept as on the other backends.
//! Checked across processes under Wine 8 (`make test-wine`).

use std::ffi::c_void;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, WAIT_OBJECT_0};
use windows_sys::Win32::System::Threading::{
    CreateEventW, OpenEventW, SetEvent, WaitForSingleObject, WaitOnAddress, WakeByAddressAll, WakeByAddressSingle,
    EVENT_MODIFY_STATE,
};

/// The longest step between two looks at the word when polling.
pub const MAX_STEP: Duration = Duration::from_millis(16);

struct Region {
    start: usize,
    len: usize,
    key: String,
}

/// The mappings of this process and their identities.
static REGIONS: Mutex<Vec<Region>> = Mutex::new(Vec::new());

/// A mapping of `len` bytes at `start` holds the object whose identity is
/// `key` (see the module docs).
pub(crate) fn register(start: *mut u8, len: usize, key: String) {
    let mut r = REGIONS.lock().unwrap_or_else(|p| p.into_inner());
    r.push(Region { start: start as usize, len, key });
}

/// The mapping at `start` is going away.
pub(crate) fn unregister(start: *mut u8) {
    let mut r = REGIONS.lock().unwrap_or_else(|p| p.into_inner());
    r.retain(|x| x.start != start as usize);
}

/// The NUL-terminated name of `word`'s event, if it lies in a mapping.
fn event_name(word: &AtomicU32) -> Option<Vec<u16>> {
    let a = word.as_ptr() as usize;
    let r = REGIONS.lock().unwrap_or_else(|p| p.into_inner());
    let region = r.iter().find(|x| a >= x.start && a - x.start < x.len)?;
    let name = format!("Local\\rustipc-{}-{:x}", region.key, a - region.start);
    Some(name.encode_utf16().chain(std::iter::once(0)).collect())
}

/// An event handle, closed on drop.
struct Event(HANDLE);

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: a handle we opened and nobody else closes.
        unsafe { CloseHandle(self.0) };
    }
}

/// Create or open `word`'s event for waiting.
fn event_to_wait(word: &AtomicU32) -> Option<Event> {
    let name = event_name(word)?;
    // SAFETY: a NUL-terminated name; no security attributes, so the handle
    // is not inheritable; auto-reset, initially not set.
    let h = unsafe { CreateEventW(std::ptr::null(), 0, 0, name.as_ptr()) };
    (!h.is_null()).then_some(Event(h))
}

/// Set `word`'s event if somebody waits on it (has it open).
fn signal(word: &AtomicU32) {
    let Some(name) = event_name(word) else { return };
    // SAFETY: a NUL-terminated name; the handle is checked and closed.
    let h = unsafe { OpenEventW(EVENT_MODIFY_STATE, 0, name.as_ptr()) };
    if !h.is_null() {
        let e = Event(h);
        // SAFETY: a valid event handle with EVENT_MODIFY_STATE.
        unsafe { SetEvent(e.0) };
    }
}

fn millis(d: Duration) -> u32 {
    d.as_millis().clamp(1, u32::MAX as u128 - 1) as u32
}

/// Sleep while `*word == expected`, for at most `d`; callers re-check.
pub fn wait(word: &AtomicU32, expected: u32, d: Duration) {
    let Some(end) = Instant::now().checked_add(d) else { return };
    let event = event_to_wait(word);
    let mut step = Duration::from_millis(1);
    loop {
        if word.load(Ordering::SeqCst) != expected {
            return;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match &event {
            Some(e) => {
                // SAFETY: a valid event handle; the result says why it woke.
                let woke = unsafe { WaitForSingleObject(e.0, millis(left)) } == WAIT_OBJECT_0;
                if woke && word.load(Ordering::SeqCst) != expected {
                    // Pass the wake-up on to the next waiter (module docs).
                    // SAFETY: as above.
                    unsafe { SetEvent(e.0) };
                    return;
                }
            }
            None => {
                // SAFETY: the word lives in a mapping that outlives the
                // call (callers hold the object); `expected` is a valid
                // 4-byte value to compare.  Every outcome means "look again".
                unsafe {
                    WaitOnAddress(word.as_ptr() as *const c_void, &expected as *const u32 as *const c_void, 4, millis(left.min(step)));
                }
                step = (step * 2).min(MAX_STEP);
            }
        }
    }
}

/// Wake the sleepers on `word`: those of other processes through its
/// event, those of this process that poll through `WakeByAddress*`.
pub fn wake(word: &AtomicU32, n: i32) {
    signal(word);
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
