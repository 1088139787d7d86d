//! `lock()` / `unlock()`: locks on files, a drop-in for the filelock package.
//!
//! The lock is an OFD lock on the whole file (see [`crate::sys::file_lock`]): it
//! conflicts with filelock's classic `fcntl` locks, reading or writing the
//! file does not release it, a killed holder releases it, and a fork child
//! does not inherit it.  The standard library's `File::lock` (and fs2/fs4)
//! use `flock`, which would not exclude filelock's locks.  (FreeBSD:
//! `flock`; Windows: `LockFileEx` on byte 0, the byte filelock locks there,
//! held by a handle no child inherits and released when its holder ends.)
//!
//! Files are identified by (device, inode) (Windows: volume and file
//! index), so a symlink or another path to the same file is the same lock.  As in filelock, asking again in the same
//! process for the same kind hands out another handle to the lock already
//! held; it is released when every handle is unlocked or collected.

use crate::error::{Error, Kind, Result};
use crate::sys::file_lock;
use crate::wait::{Deadline, Interrupts, Outcome};
use crate::sys::{self, fs};
use std::collections::HashMap;
use std::fs::File;
use std::sync::{Arc, Mutex, Weak};

/// A lock held on one file; shared by every handle to it in this process.
pub struct Held {
    exclusive: bool,
    fd: Arc<LockFd>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Closing the descriptor (when `fd` drops) releases the lock; unlock
        // first anyway, in case a copy of the descriptor exists somewhere.
        if let Some(fd) = self.fd.raw() {
            let _ = file_lock::unlock(fd);
        }
    }
}

/// What one lock() call's handle holds, emptied by `unlock()`.
pub struct LockHandle {
    held: Mutex<Option<Arc<Held>>>,
}

/// `path` made absolute against the working directory (no system call
/// when it already is).  Symlinks and `..` are not resolved: realpath()
/// would cost `lock()` a third of its time.
pub fn absolute(path: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(path);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match std::env::current_dir() {
        Ok(d) => d.join(p),
        Err(_) => p.to_path_buf(),
    }
}


/// (device, inode) -> the lock this process holds on that file.
type Table = HashMap<(u64, u64), Weak<Held>>;
static TABLE: Mutex<Option<Table>> = Mutex::new(None);

fn kind_name(exclusive: bool) -> &'static str {
    if exclusive {
        "an exclusive"
    } else {
        "a shared"
    }
}

/// Lock `path`.  Ok(None) when not acquired before the deadline.
pub fn lock(path: &str, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> Result<Option<Arc<Held>>> {
    // On failure, timeout or interrupt `file` is dropped here: nothing leaks.
    let (file, id) = fs::open_lock_file(path, exclusive)?;
    {
        let mut table = TABLE.lock().unwrap_or_else(|p| p.into_inner());
        let table = table.get_or_insert_with(HashMap::new);
        if let Some(held) = table.get(&id).and_then(Weak::upgrade) {
            if held.fd.raw().is_some() {
                if held.exclusive == exclusive {
                    return Ok(Some(held));
                }
                return Err(Error::new(
                    Kind::AlreadyLocked,
                    format!(
                        "'{path}' already has {} lock in this process; cannot also take {} lock",
                        kind_name(held.exclusive),
                        kind_name(exclusive)
                    ),
                ));
            }
        }
    }
    let out = file_lock::lock(sys::raw_file(&file), exclusive, deadline, interrupts).map_err(|e| {
        let why = fs::lock_error_reason(&e);
        let mut err = Error::os(format!("cannot lock '{path}'"), e);
        if !why.is_empty() {
            err.message = format!("cannot lock '{path}': {why} ({})", err.message);
        }
        err
    })?;
    match out {
        Outcome::Done => {}
        Outcome::TimedOut | Outcome::Removed => return Ok(None),
        Outcome::Interrupted => return Err(Error::interrupted()),
    }
    let held = Arc::new(Held { exclusive, fd: LockFd::new(file) });
    let mut table = TABLE.lock().unwrap_or_else(|p| p.into_inner());
    let table = table.get_or_insert_with(HashMap::new);
    table.retain(|_, w| w.strong_count() > 0);
    table.insert(id, Arc::downgrade(&held));
    Ok(Some(held))
}

impl LockHandle {
    pub fn new(held: Arc<Held>) -> LockHandle {
        LockHandle { held: Mutex::new(Some(held)) }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<Held>>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Release this handle (the lock goes when its last handle goes).
    pub fn unlock(&self) {
        drop(self.slot().take());
    }

    /// Whether this handle still holds its lock (false in a fork child).
    pub fn is_held(&self) -> bool {
        self.slot().as_ref().map(|h| h.fd.raw().is_some()).unwrap_or(false)
    }
}

/// Fork: a child shares its parent's open file descriptions, and so would
/// share (and could release) its locks.  On Unix [`LockFd`] registers a
/// `pthread_atfork` child handler that closes every lock descriptor in the
/// child at once, so a child never holds nor releases its parent's locks
/// (the same on every Unix backend: OFD and `flock` locks both belong to
/// the open file description).  Windows has no fork, and its handles are
/// not inheritable (std opens them so), so a child process never gets one.
/// A file that carries locks.  It is closed in every child made by fork
/// (see above); [`LockFd::raw`] is then `None`.
pub struct LockFd {
    fd: Mutex<Option<File>>,
}

static LOCK_FDS: Mutex<Vec<Weak<LockFd>>> = Mutex::new(Vec::new());

#[cfg(unix)]
extern "C" fn close_lock_fds_in_child() {
    // Runs in the child right after fork(), while it has a single thread.
    // R's thread was not inside rustipc when it forked, so these mutexes are
    // free; try_lock keeps this from ever blocking regardless.
    if let Ok(list) = LOCK_FDS.try_lock() {
        for weak in list.iter() {
            if let Some(lfd) = weak.upgrade() {
                if let Ok(mut fd) = lfd.fd.try_lock() {
                    // Closing our copy leaves the parent's lock in place.
                    drop(fd.take());
                }
            }
        }
    }
}

impl LockFd {
    pub fn new(file: File) -> Arc<LockFd> {
        #[cfg(unix)]
        {
            static ATFORK: std::sync::Once = std::sync::Once::new();
            ATFORK.call_once(|| {
                // SAFETY: registers a handler that only closes descriptors.
                unsafe { libc::pthread_atfork(None, None, Some(close_lock_fds_in_child)) };
            });
        }
        let lfd = Arc::new(LockFd { fd: Mutex::new(Some(file)) });
        let mut list = LOCK_FDS.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(&lfd));
        lfd
    }

    /// The descriptor (handle), or `None` in a fork child.
    pub fn raw(&self) -> Option<sys::RawFile> {
        self.fd.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(sys::raw_file)
    }
}

#[cfg(test)]
mod cross_process {
    use super::*;
    use crate::child::{interrupt_after, sigkill, spawn, READY};
    use std::time::{Duration, Instant};

    const CHILD_ENV: &str = "RUSTIPC_FILELOCK_TEST_CHILD";

    /// Not a test by itself: the child role of the test below.
    #[test]
    fn child_role() {
        let Ok(spec) = std::env::var(CHILD_ENV) else { return };
        let (role, path) = spec.split_once(':').unwrap();
        let held = lock(path, role == "exclusive", Deadline::Never, Interrupts::Ignore).unwrap().unwrap();
        println!("{READY}");
        std::thread::sleep(Duration::from_secs(120));
        drop(held);
    }

    fn child(role: &str, path: &str) -> std::process::Child {
        spawn("filelock::cross_process::child_role", CHILD_ENV, &format!("{role}:{path}"))
    }

    #[test]
    fn locks_exclude_across_processes_and_go_with_their_holder() {
        let file = std::env::temp_dir().join(format!("rustipc-filelock-xp-{}", std::process::id()));
        let path = file.to_str().unwrap();
        let (now, ign) = (Deadline::Now, Interrupts::Ignore);
        // An exclusive holder keeps out both kinds.
        let holder = child("exclusive", path);
        assert!(lock(path, false, now, ign).unwrap().is_none());
        assert!(lock(path, true, now, ign).unwrap().is_none());
        let t = Instant::now();
        assert!(lock(path, true, Deadline::from_ms(100.0), ign).unwrap().is_none());
        assert!(t.elapsed() >= Duration::from_millis(100));
        // A wait for it ends within 250 ms of an interrupt, holding nothing.
        let asked = interrupt_after(std::thread::current().id(), Duration::from_millis(100));
        let e = lock(path, true, Deadline::Never, Interrupts::Check).err().unwrap();
        assert_eq!(e.kind, Kind::Interrupt);
        let asked = asked.join().unwrap();
        assert!(asked.elapsed() < Duration::from_millis(250), "{:?}", asked.elapsed());
        // Killed, it lets a waiter in.
        sigkill(holder);
        let t = Instant::now();
        let held = lock(path, true, Deadline::from_ms(5000.0), ign).unwrap().unwrap();
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        drop(held);
        // A shared holder admits shared locks and keeps out exclusive ones.
        let holder = child("shared", path);
        let shared = lock(path, false, now, ign).unwrap().unwrap();
        drop(shared);
        assert!(lock(path, true, now, ign).unwrap().is_none());
        sigkill(holder);
        let held = lock(path, true, Deadline::from_ms(5000.0), ign).unwrap().unwrap();
        drop(held);
        std::fs::remove_file(&file).unwrap();
    }
}
