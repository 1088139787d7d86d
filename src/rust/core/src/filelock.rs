//! `lock()` / `unlock()`: locks on files, a drop-in for the filelock package.
//!
//! The lock is an OFD lock on the whole file (see [`crate::sys::file_lock`]): it
//! conflicts with filelock's classic `fcntl` locks, reading or writing the
//! file does not release it, a killed holder releases it, and a fork child
//! does not inherit it.  The standard library's `File::lock` (and fs2/fs4)
//! use `flock`, which would not exclude filelock's locks.
//!
//! Files are identified by (device, inode), so a symlink or another path to
//! the same file is the same lock.  As in filelock, asking again in the same
//! process for the same kind hands out another handle to the lock already
//! held; it is released when every handle is unlocked or collected.

use crate::error::{Error, Kind, Result};
use crate::sys::file_lock;
use crate::store;
use crate::wait::{Deadline, Interrupts, Outcome};
use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, Once, Weak};

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

/// Open `path` for locking; creates it (mode 0666 less umask) if missing.
/// `O_NONBLOCK`: opening a FIFO or a device must never block (a FIFO opened
/// without it waits for a writer forever); anything but a regular file is
/// then an error.  (It has no effect on regular files or on their locks.)
fn open_file(path: &str, exclusive: bool) -> Result<OwnedFd> {
    let c = CString::new(path).map_err(|_| Error::new(Kind::InvalidArgument, "`path` contains a NUL byte"))?;
    let flags = libc::O_CLOEXEC | libc::O_CREAT | libc::O_NONBLOCK | libc::O_NOCTTY;
    // SAFETY: open with a valid C string; the result is checked.
    let mut fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_RDWR, 0o666) };
    if fd < 0 && !exclusive {
        let e = std::io::Error::last_os_error().raw_os_error();
        if e == Some(libc::EACCES) || e == Some(libc::EROFS) {
            // A shared lock only needs read access.
            // SAFETY: as above.
            fd = unsafe { libc::open(c.as_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_RDONLY) };
        }
    }
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        let why = match e.raw_os_error() {
            Some(libc::EISDIR) => "it is a directory".to_string(),
            Some(libc::ENOENT) => "its directory does not exist".to_string(),
            Some(libc::ENOTDIR) => "a part of its path is not a directory".to_string(),
            Some(libc::EACCES) | Some(libc::EPERM) => format!("permission denied ({e})"),
            _ => e.to_string(),
        };
        let mut err = Error::os(format!("cannot open lock file '{path}': {why}"), e);
        err.message = format!("cannot open lock file '{path}': {why}");
        if matches!(err.errno, libc::EACCES | libc::EPERM) {
            err.kind = Kind::Permission;
        }
        return Err(err);
    }
    // SAFETY: fd is fresh and owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: fstat fills the zeroed stat struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(Error::last_os(format!("cannot stat lock file '{path}'")));
    }
    let what = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => return Ok(fd),
        libc::S_IFDIR => "a directory",
        libc::S_IFIFO => "a FIFO (named pipe)",
        libc::S_IFCHR | libc::S_IFBLK => "a device",
        libc::S_IFSOCK => "a socket",
        _ => "not a regular file",
    };
    Err(Error::new(
        Kind::InvalidArgument,
        format!("cannot lock '{path}': it is {what}; lock a regular file (such as '<file>.lock')"),
    ))
}

/// Lock `path`.  Ok(None) when not acquired before the deadline.
pub fn lock(path: &str, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> Result<Option<Arc<Held>>> {
    // On failure, timeout or interrupt `fd` is dropped here: nothing leaks.
    let fd = open_file(path, exclusive)?;
    let id = store::file_id(fd.as_raw_fd())?;
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
    let out = file_lock::lock(fd.as_raw_fd(), exclusive, deadline, interrupts).map_err(|e| {
        let why = match e.raw_os_error() {
            Some(libc::ENOLCK) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => "the file system refuses locks",
            Some(libc::EBADF) => "the file is not open for the access this kind of lock needs",
            _ => "",
        };
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
    let held = Arc::new(Held { exclusive, fd: LockFd::new(fd) });
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
/// share (and could release) its locks.  [`LockFd`] registers a
/// `pthread_atfork` child handler that closes every lock descriptor in the
/// child at once, so a child never holds nor releases its parent's locks
/// (the same on every backend: OFD and `flock` locks both belong to the
/// open file description).
/// A descriptor that carries OFD locks.  It is closed in every child made by
/// fork (see the module docs); [`LockFd::raw`] is then `None`.
pub struct LockFd {
    fd: Mutex<Option<OwnedFd>>,
}

static LOCK_FDS: Mutex<Vec<Weak<LockFd>>> = Mutex::new(Vec::new());

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
    pub fn new(fd: OwnedFd) -> Arc<LockFd> {
        static ATFORK: Once = Once::new();
        ATFORK.call_once(|| {
            // SAFETY: registers a handler that only closes descriptors.
            unsafe { libc::pthread_atfork(None, None, Some(close_lock_fds_in_child)) };
        });
        let lfd = Arc::new(LockFd { fd: Mutex::new(Some(fd)) });
        let mut list = LOCK_FDS.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(&lfd));
        lfd
    }

    /// The descriptor, or `None` in a fork child.
    pub fn raw(&self) -> Option<RawFd> {
        self.fd.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|f| f.as_raw_fd())
    }
}

