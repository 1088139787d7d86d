//! The lock behind a process token ([`crate::token`]) on Unix: `flock` on
//! the block's file.  It belongs to the open file description, so the
//! kernel releases it when the holder dies however it dies, and a child
//! made by fork shares it but claims a token of its own (its process id
//! differs).  The whole file is locked; the generation is read with
//! `pread`, which `flock` does not block.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

fn flock(f: &File, op: libc::c_int) -> io::Result<bool> {
    // SAFETY: flock on a descriptor the caller owns.
    if unsafe { libc::flock(f.as_raw_fd(), op | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        return Ok(false);
    }
    Err(err)
}

/// Try to claim the block whose file is `f`: Ok(false) when another live
/// claim holds it.
pub fn try_claim(f: &File) -> io::Result<bool> {
    flock(f, libc::LOCK_EX)
}

/// Whether some process holds a claim on `f` (a shared probe that is
/// released at once when it succeeds).
pub fn is_claimed(f: &File) -> io::Result<bool> {
    if flock(f, libc::LOCK_SH)? {
        // SAFETY: releases the probe we just took on our own descriptor.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
        return Ok(false);
    }
    Ok(true)
}

/// Whether an error opening a block's file only means "this block is busy,
/// try another" (never on Unix: there it is a real error).
pub fn open_error_means_busy(_e: &io::Error) -> bool {
    false
}

/// Whether a process id exists (for creators' temporary files, which carry
/// only their process id).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: kill with signal 0 only checks.
    pid > 0 && (unsafe { libc::kill(pid, 0) } == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH))
}
