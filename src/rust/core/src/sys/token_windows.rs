//! The lock behind a process token ([`crate::token`]) on Windows:
//! `LockFileEx` (exclusive, `LOCKFILE_FAIL_IMMEDIATELY`) on the block's
//! file, the same files as on Unix.
//!
//! Why a file lock and not a named mutex in `Local\`: a mutex belongs to
//! the *thread* that took it and is abandoned when that thread ends, while
//! a token must belong to the process for as long as it lives (R's thread
//! lives that long, but any other thread may be the first to claim it);
//! and asking whether a mutex is held means waiting on it, which takes it.
//! A byte-range lock belongs to the handle, which is not inheritable, and
//! Windows releases it when the process ends, however it ends
//! (`TerminateProcess` included; seen under Wine 8).  Asking is a shared
//! `LOCKFILE_FAIL_IMMEDIATELY` attempt, released at once when it succeeds.
//!
//! Windows byte-range locks are mandatory (a locked range cannot be read
//! through another handle), so the lock covers one byte at offset 2^32,
//! far from the generation at offset 0, which others must read.

use std::fs::File;
use std::io;
use std::os::windows::io::AsRawHandle;
use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, ERROR_IO_PENDING, ERROR_LOCK_VIOLATION, HANDLE,
    STILL_ACTIVE,
};
use windows_sys::Win32::Storage::FileSystem::{
    LockFileEx, UnlockFileEx, LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY, LOCK_FILE_FLAGS,
};
use windows_sys::Win32::System::Threading::{GetExitCodeProcess, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION};
use windows_sys::Win32::System::IO::OVERLAPPED;

/// The locked byte's offset (high and low 32 bits).
const REGION: (u32, u32) = (1, 0);

fn overlapped_at(high: u32, low: u32) -> OVERLAPPED {
    // SAFETY: plain old data; zeroed is valid (no event, offset 0).
    let mut ov: OVERLAPPED = unsafe { std::mem::zeroed() };
    ov.Anonymous.Anonymous.Offset = low;
    ov.Anonymous.Anonymous.OffsetHigh = high;
    ov
}

/// One `LockFileEx` attempt that never waits on one byte at
/// (`high`, `low`): Ok(false) when another handle holds a conflicting lock.
pub(crate) fn try_lock_byte(h: HANDLE, exclusive: bool, high: u32, low: u32) -> io::Result<bool> {
    let mut ov = overlapped_at(high, low);
    let flags: LOCK_FILE_FLAGS = LOCKFILE_FAIL_IMMEDIATELY | if exclusive { LOCKFILE_EXCLUSIVE_LOCK } else { 0 };
    // SAFETY: a valid handle of the caller's and a valid OVERLAPPED that
    // outlives the call (with FAIL_IMMEDIATELY on a synchronous handle,
    // nothing stays pending).
    if unsafe { LockFileEx(h, flags, 0, 1, 0, &mut ov) } != 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error().map(|c| c as u32) {
        Some(ERROR_LOCK_VIOLATION) | Some(ERROR_IO_PENDING) => Ok(false),
        _ => Err(err),
    }
}

/// Release the byte at (`high`, `low`) that this handle locked.
pub(crate) fn unlock_byte(h: HANDLE, high: u32, low: u32) -> io::Result<()> {
    let mut ov = overlapped_at(high, low);
    // SAFETY: a valid handle and OVERLAPPED; unlocking what is not locked
    // is only an error code.
    if unsafe { UnlockFileEx(h, 0, 1, 0, &mut ov) } != 0 {
        return Ok(());
    }
    Err(io::Error::last_os_error())
}

fn handle(f: &File) -> HANDLE {
    f.as_raw_handle() as HANDLE
}

/// Try to claim the block whose file is `f`: Ok(false) when another live
/// claim holds it.
pub fn try_claim(f: &File) -> io::Result<bool> {
    try_lock_byte(handle(f), true, REGION.0, REGION.1)
}

/// Whether some process holds a claim on `f`.
pub fn is_claimed(f: &File) -> io::Result<bool> {
    if try_lock_byte(handle(f), false, REGION.0, REGION.1)? {
        unlock_byte(handle(f), REGION.0, REGION.1)?;
        return Ok(false);
    }
    Ok(true)
}

/// Whether an error opening a block's file only means "this block is busy,
/// try another": a file its holder deleted at exit can be "delete pending"
/// for a moment, and opening it is then refused.
pub fn open_error_means_busy(e: &io::Error) -> bool {
    e.raw_os_error() == Some(ERROR_ACCESS_DENIED as i32)
}

/// Whether a process id names a running process (for creators' temporary
/// files, which carry only their process id).
pub fn pid_alive(pid: u32) -> bool {
    // SAFETY: OpenProcess with a plain id; the handle is checked and closed.
    let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if h.is_null() {
        // No such process; any other refusal (access) means it exists.
        return io::Error::last_os_error().raw_os_error() != Some(ERROR_INVALID_PARAMETER as i32);
    }
    let mut code = 0u32;
    // SAFETY: a valid process handle and out pointer.
    let ok = unsafe { GetExitCodeProcess(h, &mut code) };
    // SAFETY: our own handle.
    unsafe { CloseHandle(h) };
    ok == 0 || code == STILL_ACTIVE as u32
}
