//! File locks for the `linux` backend: open-file-description (OFD) locks,
//! the mechanism behind [`crate::filelock`].
//!
//! Why OFD locks (`F_OFD_SETLK`/`F_OFD_SETLKW`) and not the alternatives:
//! * they belong to the open file description, so the kernel releases them
//!   the moment the holder dies, however it dies (SIGKILL included), and
//!   closing *another* descriptor of the same file (reading the lock file)
//!   does not release them, unlike classic `fcntl` locks (filelock's defect);
//! * they conflict with classic `fcntl` locks, so they exclude filelock's
//!   locks and the reverse (`flock` locks, which fs2, fs4 and std's
//!   `File::lock` use, do not);
//! * they have shared and exclusive modes;
//! * raw_sync's process-shared pthread mutex is not robust (a killed holder
//!   leaves it locked for good) and its timed waits are broken.
//!
//! What they lack is a timeout and interruptibility: `F_OFD_SETLKW` blocks
//! and is restarted after R's SIGINT handler.  [`lock`] therefore cuts the
//! wait into slices with a per-thread timer and [`cancel_signal()`].
//!
//! This is the `linux` backend's file lock (see [`crate::sys`]).
use crate::wait::{Deadline, Interrupts, Outcome};
use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// The signal that cancels a helper thread's `F_OFD_SETLKW`.
pub fn cancel_signal() -> libc::c_int {
    libc::SIGRTMAX() - 3
}

extern "C" fn on_cancel_signal(_sig: libc::c_int) {}

/// Make sure the cancel signal runs our (empty) handler, without
/// `SA_RESTART`.  Checked before every use, not once: another library loaded
/// into R may have set the signal to its default (which would kill R) or to
/// "ignore" (which would leave the helper blocked, and R with it).  One
/// `sigaction` query per contended wait.
fn ensure_cancel_handler() {
    let ours = on_cancel_signal as *const () as usize;
    // SAFETY: sigaction with a null new action only reads the current one
    // into a zeroed (valid) struct.
    let current = unsafe {
        let mut cur: libc::sigaction = std::mem::zeroed();
        libc::sigaction(cancel_signal(), std::ptr::null(), &mut cur);
        cur
    };
    if current.sa_sigaction == ours && current.sa_flags & libc::SA_RESTART == 0 {
        return;
    }
    // SAFETY: sigaction is given a zeroed (valid) struct with a handler that
    // does nothing, so it is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = ours;
        sa.sa_flags = 0; // no SA_RESTART: the blocked fcntl returns EINTR
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(cancel_signal(), &sa, std::ptr::null_mut());
    }
}

fn flock(l_type: libc::c_int) -> libc::flock {
    // SAFETY: flock is plain old data; zeroed is valid (l_start = l_len = 0
    // means the whole file, as filelock locks it; l_pid must be 0 for OFD).
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = l_type as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl
}

fn lock_type(exclusive: bool) -> libc::c_int {
    if exclusive {
        libc::F_WRLCK
    } else {
        libc::F_RDLCK
    }
}

/// One non-blocking attempt: Ok(true) when taken, Ok(false) when another
/// open file description holds a conflicting lock.
pub fn try_lock(fd: RawFd, exclusive: bool) -> io::Result<bool> {
    let fl = flock(lock_type(exclusive));
    // SAFETY: fcntl reads the valid flock struct.
    if unsafe { libc::fcntl(fd, libc::F_OFD_SETLK, &fl) } == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::EACCES) => Ok(false),
        _ => Err(err),
    }
}

pub fn unlock(fd: RawFd) -> io::Result<()> {
    let fl = flock(libc::F_UNLCK);
    // SAFETY: fcntl reads the valid flock struct.
    if unsafe { libc::fcntl(fd, libc::F_OFD_SETLK, &fl) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether anybody (any process, any kind of lock) holds a lock on the file.
pub fn is_locked(fd: RawFd) -> io::Result<bool> {
    let mut fl = flock(libc::F_WRLCK);
    // SAFETY: fcntl reads and writes the valid flock struct.
    if unsafe { libc::fcntl(fd, libc::F_OFD_GETLK, &mut fl) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fl.l_type as libc::c_int != libc::F_UNLCK)
}

/// A one-shot timer that sends [`cancel_signal()`] to the thread that made
/// it (`SIGEV_THREAD_ID`), ending that thread's blocked `F_OFD_SETLKW`
/// with `EINTR`.  Deleted when dropped.
struct SliceTimer(libc::timer_t);

impl SliceTimer {
    fn new() -> io::Result<SliceTimer> {
        // SAFETY: sigevent is plain old data (zeroed is valid); gettid has
        // no arguments; timer_create writes the timer id.
        unsafe {
            let mut ev: libc::sigevent = std::mem::zeroed();
            ev.sigev_notify = libc::SIGEV_THREAD_ID;
            ev.sigev_signo = cancel_signal();
            ev.sigev_notify_thread_id = libc::gettid();
            let mut id: libc::timer_t = std::mem::zeroed();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut ev, &mut id) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(SliceTimer(id))
        }
    }

    /// Fire once, `d` from now (a zero `d` disarms).
    fn set(&self, d: Duration) -> io::Result<()> {
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: d.as_secs() as libc::time_t, tv_nsec: d.subsec_nanos() as libc::c_long },
        };
        // SAFETY: a timer we created, and a valid itimerspec.
        if unsafe { libc::timer_settime(self.0, 0, &spec, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for SliceTimer {
    fn drop(&mut self) {
        // SAFETY: deletes the timer we created (which also disarms it).
        unsafe { libc::timer_delete(self.0) };
    }
}

/// Take a lock, waiting until `deadline`.  Returns `Done` with the lock
/// held, `TimedOut` or `Interrupted` with nothing held.
///
/// The wait blocks in `F_OFD_SETLKW` on the calling thread itself, so the
/// kernel hands the lock over the moment it is released (no helper thread
/// to schedule: under load, a new thread first ran 2.5 ms after it was
/// made).  A one-shot per-thread timer ([`SliceTimer`]) ends each slice
/// with `EINTR` through the cancel signal, whose handler does nothing and
/// is installed without `SA_RESTART`; between slices the wait checks for
/// interrupts and the deadline.  No SIGALRM and no interval timer.
pub fn lock(fd: RawFd, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> io::Result<Outcome> {
    if try_lock(fd, exclusive)? {
        return Ok(Outcome::Done);
    }
    if deadline.is_now() {
        return Ok(Outcome::TimedOut);
    }
    let timer = SliceTimer::new()?;
    let fl = flock(lock_type(exclusive));
    loop {
        let Some(slice) = deadline.next_slice() else { return Ok(Outcome::TimedOut) };
        ensure_cancel_handler();
        timer.set(slice)?;
        // SAFETY: fcntl reads the valid flock struct; fd is open.
        let rc = unsafe { libc::fcntl(fd, libc::F_OFD_SETLKW, &fl) };
        let err = io::Error::last_os_error();
        timer.set(Duration::ZERO)?;
        if rc == 0 {
            return Ok(Outcome::Done);
        }
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
        if interrupts.pending() {
            return Ok(Outcome::Interrupted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
    use std::time::Instant;

    fn open(path: &std::path::Path) -> OwnedFd {
        let f = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).unwrap();
        // SAFETY: into_raw_fd hands over ownership.
        unsafe { OwnedFd::from_raw_fd(f.into_raw_fd()) }
    }

    #[test]
    fn conflicts_between_descriptions_and_timeouts() {
        let path = std::env::temp_dir().join(format!("rustipc-ofd-test-{}", std::process::id()));
        let a = open(&path);
        let b = open(&path);
        assert!(try_lock(a.as_raw_fd(), true).unwrap());
        assert!(!try_lock(b.as_raw_fd(), false).unwrap());
        let t = Instant::now();
        let out = lock(b.as_raw_fd(), true, Deadline::from_ms(100.0), Interrupts::Ignore).unwrap();
        let el = t.elapsed();
        assert_eq!(out, Outcome::TimedOut);
        assert!(el >= Duration::from_millis(100) && el < Duration::from_millis(300), "{el:?}");
        // Closing another descriptor of the file does not release the lock.
        drop(open(&path));
        assert!(!try_lock(b.as_raw_fd(), false).unwrap());
        assert!(is_locked(b.as_raw_fd()).unwrap());
        // A waiter gets the lock when the holder releases it.
        let raw_a = a.as_raw_fd();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            unlock(raw_a).unwrap();
        });
        let out = lock(b.as_raw_fd(), false, Deadline::Never, Interrupts::Ignore).unwrap();
        assert_eq!(out, Outcome::Done);
        t.join().unwrap();
        // Shared locks coexist.
        assert!(try_lock(a.as_raw_fd(), false).unwrap());
        drop(a);
        drop(b);
        std::fs::remove_file(&path).unwrap();
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use std::os::fd::AsRawFd;
    #[test]
    #[ignore]
    fn ofd_speed() {
        let path = std::env::temp_dir().join("rustipc-ofd-speed");
        let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).unwrap();
        let fd = f.as_raw_fd();
        let t = std::time::Instant::now();
        for _ in 0..100_000 {
            try_lock(fd, true).unwrap();
            unlock(fd).unwrap();
        }
        eprintln!("ofd lock+unlock: {:?} per pair", t.elapsed() / 100_000);
        std::fs::remove_file(&path).unwrap();
    }
}
