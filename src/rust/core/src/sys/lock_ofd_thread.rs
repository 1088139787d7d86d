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
//! and is restarted after R's SIGINT handler.  A contended wait therefore
//! runs `F_OFD_SETLKW` on a helper thread while R's thread waits for it in
//! slices, checking for interrupts and the deadline.  To give up, the helper
//! is sent [`cancel_signal()`] (a real-time signal whose handler does nothing
//! and is installed without `SA_RESTART`), which makes `F_OFD_SETLKW` return
//! `EINTR`.  No SIGALRM and no interval timer is used.
//!
//! This is the `linux` backend's file lock (see [`crate::sys`]).
use crate::wait::{Deadline, Interrupts, Outcome};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::thread::JoinHandleExt;
use std::sync::{Arc, Condvar, Mutex};
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

#[derive(Default)]
struct Helper {
    done: Option<io::Result<()>>,
    cancel: bool,
}

/// Take a lock, waiting until `deadline`.  Returns `Done` with the lock
/// held, `TimedOut` or `Interrupted` with nothing held.
pub fn lock(fd: RawFd, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> io::Result<Outcome> {
    if try_lock(fd, exclusive)? {
        return Ok(Outcome::Done);
    }
    if deadline.is_now() {
        return Ok(Outcome::TimedOut);
    }
    ensure_cancel_handler();
    let shared = Arc::new((Mutex::new(Helper::default()), Condvar::new()));
    let theirs = Arc::clone(&shared);
    let l_type = lock_type(exclusive);

    // The helper starts with every signal blocked but the cancel signal, so
    // Ctrl-C always reaches R's thread.
    // SAFETY: sigset_t values are initialised by sigfillset before use, and
    // pthread_sigmask only changes this thread's mask (restored below).
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::sigdelset(&mut set, cancel_signal());
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, &mut old);
    }
    let spawned = std::thread::Builder::new().name("rustipc-lock".into()).spawn(move || {
        let (m, cv) = &*theirs;
        let fl = flock(l_type);
        let result = loop {
            if m.lock().map(|h| h.cancel).unwrap_or(true) {
                break Err(io::Error::from_raw_os_error(libc::EINTR));
            }
            // SAFETY: fcntl reads the valid flock struct; fd stays open
            // until the caller has joined this thread.
            if unsafe { libc::fcntl(fd, libc::F_OFD_SETLKW, &fl) } == 0 {
                break Ok(());
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINTR) {
                break Err(err);
            }
        };
        if let Ok(mut h) = m.lock() {
            h.done = Some(result);
        }
        cv.notify_all();
    });
    // SAFETY: restores the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    let handle = spawned?;

    let (m, cv) = &*shared;
    let lock_helper = || m.lock().unwrap_or_else(|p| p.into_inner());
    let mut give_up = None;
    loop {
        {
            let mut h = lock_helper();
            if h.done.is_none() {
                match deadline.next_slice() {
                    None => give_up = Some(Outcome::TimedOut),
                    Some(d) => h = cv.wait_timeout(h, d).unwrap_or_else(|p| p.into_inner()).0,
                }
            }
            if h.done.is_some() || give_up.is_some() {
                break;
            }
        }
        // Between slices, with the helper's mutex released: R may run here.
        if interrupts.pending() {
            give_up = Some(Outcome::Interrupted);
            break;
        }
    }

    let result = {
        let mut h = lock_helper();
        if give_up.is_some() {
            h.cancel = true;
            while h.done.is_none() {
                ensure_cancel_handler();
                // SAFETY: the thread has not been joined, so its pthread_t
                // is valid; the signal's handler does nothing.
                unsafe { libc::pthread_kill(handle.as_pthread_t(), cancel_signal()) };
                h = cv.wait_timeout(h, Duration::from_millis(2)).unwrap_or_else(|p| p.into_inner()).0;
            }
        }
        h.done.take().unwrap_or_else(|| Err(io::Error::from_raw_os_error(libc::EINTR)))
    };
    let _ = handle.join();
    match (result, give_up) {
        (Ok(()), None) | (Ok(()), Some(Outcome::TimedOut)) => Ok(Outcome::Done),
        (Ok(()), Some(_)) => {
            // Taken in the same instant as the interrupt: give it back.
            unlock(fd)?;
            Ok(Outcome::Interrupted)
        }
        (Err(_), Some(outcome)) => Ok(outcome),
        (Err(e), None) => Err(e),
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
