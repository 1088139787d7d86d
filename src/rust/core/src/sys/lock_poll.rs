//! File locks for the `portable` and `freebsd` backends: a non-blocking
//! attempt, and waits made of attempts with a short, growing sleep between
//! them (1 ms, doubling to 8 ms), checking for interrupts and the deadline
//! in between.  No helper thread and no signal.
//!
//! The lock itself: OFD locks (`F_OFD_SETLK`) where the OS has them (Linux,
//! macOS): they belong to the open file description, are released when the
//! holder dies, survive the closing of other descriptors of the file, and
//! conflict with classic `fcntl` locks, so they exclude the filelock
//! package's locks.  FreeBSD has no OFD locks: `flock` there, which also
//! belongs to the open file description and is released on death; FreeBSD
//! keeps `flock` and `fcntl` locks on one list per file, so they are
//! expected to exclude each other too (compiled for FreeBSD, not run: see
//! README).
//!
//! On macOS a wait sleeps in `F_OFD_SETLKWTIMEOUT` slices instead, so the
//! kernel hands the lock over at once (compiled, not run: see README).
//!
//! Windows: `LockFileEx` with `LOCKFILE_FAIL_IMMEDIATELY` on byte 0 (length
//! 1), the range the filelock package locks on Windows, so the two exclude
//! each other.  Such a lock belongs to the handle, which is not inheritable,
//! and Windows releases it when the holder ends, however it ends.  Waits
//! poll as above: a blocking (overlapped) `LockFileEx` cannot be cut into
//! slices without cancelling I/O, and under Wine 8 a contended overlapped
//! `LockFileEx` never completes, so it could not be tested.  Windows
//! byte-range locks are mandatory: while it is locked exclusively, byte 0
//! of the file cannot be read through another handle (as with filelock).

use crate::wait::{Deadline, Interrupts, Outcome};
use std::io;
use crate::sys::RawFile;
use std::time::Duration;

#[cfg(all(unix, not(target_os = "freebsd")))]
fn ofd(fd: RawFile, cmd: libc::c_int, l_type: libc::c_int) -> io::Result<bool> {
    // SAFETY: flock is plain old data; zeroed is valid (l_start = l_len = 0
    // means the whole file; l_pid must be 0 for OFD locks).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = l_type as _;
    fl.l_whence = libc::SEEK_SET as _;
    // SAFETY: fcntl reads the valid flock struct.
    if unsafe { libc::fcntl(fd, cmd, &fl) } == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
        _ => Err(err),
    }
}

/// One non-blocking attempt: Ok(true) when taken, Ok(false) when another
/// open file description holds a conflicting lock.
pub fn try_lock(fd: RawFile, exclusive: bool) -> io::Result<bool> {
    #[cfg(windows)]
    {
        crate::sys::token::try_lock_byte(fd as _, exclusive, 0, 0)
    }
    #[cfg(all(unix, not(target_os = "freebsd")))]
    {
        ofd(fd, libc::F_OFD_SETLK, if exclusive { libc::F_WRLCK } else { libc::F_RDLCK } as libc::c_int)
    }
    #[cfg(target_os = "freebsd")]
    {
        let op = if exclusive { libc::LOCK_EX } else { libc::LOCK_SH };
        // SAFETY: flock on a descriptor the caller owns.
        if unsafe { libc::flock(fd, op | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Ok(false);
        }
        Err(err)
    }
}

pub fn unlock(fd: RawFile) -> io::Result<()> {
    #[cfg(windows)]
    {
        crate::sys::token::unlock_byte(fd as _, 0, 0)
    }
    #[cfg(all(unix, not(target_os = "freebsd")))]
    {
        ofd(fd, libc::F_OFD_SETLK, libc::F_UNLCK as libc::c_int).map(|_| ())
    }
    #[cfg(target_os = "freebsd")]
    {
        // SAFETY: flock on a descriptor the caller owns.
        if unsafe { libc::flock(fd, libc::LOCK_UN) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

/// Wait for the lock for at most `d` (macOS: in the kernel).
#[cfg(target_os = "macos")]
fn wait_slice(fd: RawFile, exclusive: bool, d: Duration) -> io::Result<bool> {
    // From macOS's <sys/fcntl.h>: not in the libc crate.
    const F_OFD_SETLKWTIMEOUT: libc::c_int = 93;
    #[repr(C)]
    struct FlockTimeout {
        fl: libc::flock,
        timeout: libc::timespec,
    }
    // SAFETY: plain old data; zeroed is valid.
    let mut ft: FlockTimeout = unsafe { std::mem::zeroed() };
    ft.fl.l_type = (if exclusive { libc::F_WRLCK } else { libc::F_RDLCK }) as _;
    ft.fl.l_whence = libc::SEEK_SET as _;
    ft.timeout = libc::timespec { tv_sec: d.as_secs() as _, tv_nsec: d.subsec_nanos() as _ };
    // SAFETY: fcntl reads the valid struct.
    if unsafe { libc::fcntl(fd, F_OFD_SETLKWTIMEOUT, &ft) } == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ETIMEDOUT) | Some(libc::EINTR) | Some(libc::EAGAIN) => Ok(false),
        _ => Err(err),
    }
}

/// Sleep `d`, then try once.
#[cfg(not(target_os = "macos"))]
fn wait_slice(fd: RawFile, exclusive: bool, d: Duration) -> io::Result<bool> {
    std::thread::sleep(d);
    try_lock(fd, exclusive)
}

/// Take a lock, waiting until `deadline`.  Returns `Done` with the lock
/// held, `TimedOut` or `Interrupted` with nothing held.
pub fn lock(fd: RawFile, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> io::Result<Outcome> {
    let mut pause = Duration::from_millis(1);
    loop {
        if try_lock(fd, exclusive)? {
            return Ok(Outcome::Done);
        }
        let Some(slice) = deadline.next_slice() else { return Ok(Outcome::TimedOut) };
        if wait_slice(fd, exclusive, slice.min(pause))? {
            return Ok(Outcome::Done);
        }
        if interrupts.pending() {
            return Ok(Outcome::Interrupted);
        }
        pause = (pause * 2).min(Duration::from_millis(8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::raw_file;
    use std::time::Instant;

    #[test]
    fn conflicts_timeouts_and_hand_over() {
        let path = std::env::temp_dir().join(format!("rustipc-poll-test-{}", std::process::id()));
        let open = || std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).unwrap();
        let (a, b) = (open(), open());
        assert!(try_lock(raw_file(&a), true).unwrap());
        assert!(!try_lock(raw_file(&b), false).unwrap());
        let t = Instant::now();
        let out = lock(raw_file(&b), true, Deadline::from_ms(100.0), Interrupts::Ignore).unwrap();
        assert_eq!(out, Outcome::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(100) && t.elapsed() < Duration::from_millis(300));
        // Closing another descriptor of the file does not release the lock.
        drop(open());
        assert!(!try_lock(raw_file(&b), false).unwrap());
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            unlock(raw_file(&a)).unwrap();
            a
        });
        assert_eq!(lock(raw_file(&b), false, Deadline::Never, Interrupts::Ignore).unwrap(), Outcome::Done);
        let a = h.join().unwrap();
        assert!(try_lock(raw_file(&a), false).unwrap()); // shared locks coexist
        drop((a, b));
        std::fs::remove_file(&path).unwrap();
    }
}
