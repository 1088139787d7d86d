//! Waiting on a 32-bit word in shared memory, on macOS (the `portable`
//! backend there; compiled for macOS, not run: see README).
//!
//! macOS has no futex.  `os_sync_wait_on_address` with
//! `OS_SYNC_WAIT_ON_ADDRESS_SHARED` (macOS 14.4+) is the public way;
//! `__ulock_wait` with `UL_COMPARE_AND_WAIT_SHARED` (10.12+) is the private
//! one libc++ and others use.  R supports macOS 11+, so both are looked up
//! at run time (`dlsym`), the public one first; without either, a wait is a
//! short sleep and callers re-check (correct, only slower to hand over).

use std::ffi::c_void;
use std::sync::atomic::AtomicU32;
use std::sync::OnceLock;
use std::time::Duration;

type OsWait = unsafe extern "C" fn(*mut c_void, u64, usize, u32, u32, u64) -> libc::c_int;
type OsWake = unsafe extern "C" fn(*mut c_void, usize, u32) -> libc::c_int;
type UlWait = unsafe extern "C" fn(u32, *mut c_void, u64, u32) -> libc::c_int;
type UlWake = unsafe extern "C" fn(u32, *mut c_void, u64) -> libc::c_int;

const OS_SYNC_WAIT_ON_ADDRESS_SHARED: u32 = 1;
const OS_SYNC_WAKE_BY_ADDRESS_SHARED: u32 = 1;
const OS_CLOCK_MACH_ABSOLUTE_TIME: u32 = 32;
const UL_COMPARE_AND_WAIT_SHARED: u32 = 3;
const ULF_WAKE_ALL: u32 = 0x100;

enum Api {
    Os { wait: OsWait, wake_one: OsWake, wake_all: OsWake },
    Ulock { wait: UlWait, wake: UlWake },
    Poll,
}

fn sym(name: &[u8]) -> *mut c_void {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr() as *const libc::c_char) }
}

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let (w, w1, wa) = (
            sym(b"os_sync_wait_on_address_with_timeout\0"),
            sym(b"os_sync_wake_by_address_any\0"),
            sym(b"os_sync_wake_by_address_all\0"),
        );
        if !w.is_null() && !w1.is_null() && !wa.is_null() {
            // SAFETY: the symbols have these C signatures (<os/os_sync_wait_on_address.h>).
            return unsafe {
                Api::Os {
                    wait: std::mem::transmute::<*mut c_void, OsWait>(w),
                    wake_one: std::mem::transmute::<*mut c_void, OsWake>(w1),
                    wake_all: std::mem::transmute::<*mut c_void, OsWake>(wa),
                }
            };
        }
        let (uw, uk) = (sym(b"__ulock_wait\0"), sym(b"__ulock_wake\0"));
        if !uw.is_null() && !uk.is_null() {
            // SAFETY: the symbols have these C signatures (xnu's sys/ulock.h).
            return unsafe {
                Api::Ulock {
                    wait: std::mem::transmute::<*mut c_void, UlWait>(uw),
                    wake: std::mem::transmute::<*mut c_void, UlWake>(uk),
                }
            };
        }
        Api::Poll
    })
}

/// Sleep while `*word == expected`, for at most `d`; callers re-check.
pub fn wait(word: &AtomicU32, expected: u32, d: Duration) {
    let addr = word.as_ptr() as *mut c_void;
    match api() {
        Api::Os { wait, .. } => {
            // Mach absolute time units are nanoseconds on Apple silicon and
            // Intel alike for timeouts given as a relative duration here.
            let ns = d.as_nanos().min(u64::MAX as u128) as u64;
            // SAFETY: the word lives in a mapping that outlives the call.
            unsafe { wait(addr, expected as u64, 4, OS_SYNC_WAIT_ON_ADDRESS_SHARED, OS_CLOCK_MACH_ABSOLUTE_TIME, ns) };
        }
        Api::Ulock { wait, .. } => {
            let us = d.as_micros().clamp(1, u32::MAX as u128) as u32;
            // SAFETY: as above.
            unsafe { wait(UL_COMPARE_AND_WAIT_SHARED, addr, expected as u64, us) };
        }
        Api::Poll => std::thread::sleep(d.min(Duration::from_millis(1))),
    }
}

/// Wake at most `n` sleepers (one, or all for larger `n`).
pub fn wake(word: &AtomicU32, n: i32) {
    let addr = word.as_ptr() as *mut c_void;
    match api() {
        Api::Os { wake_one, wake_all, .. } => {
            let f = if n == 1 { wake_one } else { wake_all };
            // SAFETY: waking only uses the address as a key.
            unsafe { f(addr, 4, OS_SYNC_WAKE_BY_ADDRESS_SHARED) };
        }
        Api::Ulock { wake, .. } => {
            let op = UL_COMPARE_AND_WAIT_SHARED | if n == 1 { 0 } else { ULF_WAKE_ALL };
            // SAFETY: as above.
            unsafe { wake(op, addr, 0) };
        }
        Api::Poll => {}
    }
}

pub fn wake_all(word: &AtomicU32) {
    wake(word, i32::MAX);
}
