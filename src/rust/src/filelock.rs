//! `lock()` / `unlock()`: locks on files, a drop-in for the filelock package.
//!
//! The lock is an OFD lock on the whole file (see [`crate::ofd`]): it
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
use crate::ofd::{self, LockFd};
use crate::shm;
use crate::wait::{Deadline, Interrupts, Outcome};
use extendr_api::prelude::*;
use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
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
            let _ = ofd::unlock(fd);
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
fn absolute(path: &str) -> std::path::PathBuf {
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
fn open_file(path: &str, exclusive: bool) -> Result<OwnedFd> {
    let c = CString::new(path).map_err(|_| Error::new(Kind::InvalidArgument, "`path` contains a NUL byte"))?;
    let flags = libc::O_CLOEXEC | libc::O_CREAT;
    // SAFETY: open with a valid C string; the result is checked.
    let mut fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_RDWR, 0o666) };
    if fd < 0 && !exclusive {
        let e = std::io::Error::last_os_error().raw_os_error();
        if e == Some(libc::EACCES) || e == Some(libc::EROFS) {
            // A shared lock only needs read access.
            // SAFETY: as above.
            fd = unsafe { libc::open(c.as_ptr(), libc::O_CLOEXEC | libc::O_RDONLY) };
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
        return Err(err);
    }
    // SAFETY: fd is fresh and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Lock `path`.  Ok(None) when not acquired before the deadline.
pub fn lock(path: &str, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> Result<Option<Arc<Held>>> {
    // On failure, timeout or interrupt `fd` is dropped here: nothing leaks.
    let fd = open_file(path, exclusive)?;
    let id = shm::file_id(fd.as_raw_fd())?;
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
    let out = ofd::lock(fd.as_raw_fd(), exclusive, deadline, interrupts).map_err(|e| {
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
        Outcome::TimedOut => return Ok(None),
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

// A lock object has filelock's shape, list(<external pointer>, path), and
// locking a file again in this process returns an identical() object, as in
// filelock.  identical() compares external pointers by address only.  So
// each lock() call makes two external pointers: its own handle (a boxed
// `LockHandle`, freed by a finalizer when R collects it), and an outer one
// whose address is the shared lock (`Held`, never dereferenced through it)
// and whose "protected" field is the handle.  Tags mark both as rustipc's,
// and are checked before any field is read.  The state lives in the handle
// only: if something else clears the outer pointer (filelock's unlock()
// does, given a rustipc lock), the lock is still reported and released
// correctly.  rustipc's unlock() clears it too, so two unlocked objects for
// one file stay identical().
//
// They are built with R's C API directly, not extendr's ExternalPtr and
// Robj: each Robj costs a global table update, and lock() is a hot path.
// SEXPs are declared as untyped pointers (extendr's SEXPREC is not
// FFI-safe).
type RawSexp = *mut std::ffi::c_void;
extern "C" {
    static R_NilValue: RawSexp;
    fn TYPEOF(x: RawSexp) -> i32;
    fn R_MakeExternalPtr(p: *mut std::ffi::c_void, tag: RawSexp, prot: RawSexp) -> RawSexp;
    fn R_ExternalPtrAddr(s: RawSexp) -> *mut std::ffi::c_void;
    fn R_ExternalPtrTag(s: RawSexp) -> RawSexp;
    fn R_ExternalPtrProtected(s: RawSexp) -> RawSexp;
    fn R_ClearExternalPtr(s: RawSexp);
    fn R_RegisterCFinalizerEx(s: RawSexp, fun: extern "C" fn(RawSexp), onexit: i32);
    fn Rf_install(name: *const std::ffi::c_char) -> RawSexp;
    fn Rf_allocVector(kind: u32, n: isize) -> RawSexp;
    fn Rf_mkCharLenCE(s: *const std::ffi::c_char, n: i32, enc: u32) -> RawSexp;
    fn SET_STRING_ELT(x: RawSexp, i: isize, v: RawSexp);
    fn SET_VECTOR_ELT(x: RawSexp, i: isize, v: RawSexp) -> RawSexp;
    fn Rf_protect(s: RawSexp) -> RawSexp;
    fn Rf_unprotect(n: i32);
    fn STRING_ELT(x: RawSexp, i: isize) -> RawSexp;
    fn R_CHAR(x: RawSexp) -> *const std::ffi::c_char;
    fn Rf_getCharCE(x: RawSexp) -> u32;
}
const EXTPTRSXP: i32 = 22;
const STRSXP: u32 = 16;
const VECSXP: u32 = 19;
const CE_UTF8: u32 = 1;

/// A symbol, looked up once: symbols are never collected.
fn symbol(cell: &std::sync::OnceLock<usize>, name: &std::ffi::CStr) -> RawSexp {
    // SAFETY: Rf_install with a NUL-terminated name, on R's thread.
    *cell.get_or_init(|| unsafe { Rf_install(name.as_ptr()) } as usize) as RawSexp
}

fn outer_tag() -> RawSexp {
    static TAG: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    symbol(&TAG, c"rustipc_lock")
}

fn handle_tag() -> RawSexp {
    static TAG: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    symbol(&TAG, c"rustipc_lock_handle")
}

/// R's finalizer for a handle pointer (at collection or at exit): frees
/// the handle, which releases its hold on the lock.
extern "C" fn free_handle(s: RawSexp) {
    // SAFETY: only handle pointers get this finalizer, and their address is
    // a Box<LockHandle> or null; it is cleared before the box is freed, so
    // the box is freed once.
    unsafe {
        let p = R_ExternalPtrAddr(s);
        if !p.is_null() {
            R_ClearExternalPtr(s);
            // No panic may unwind into R.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(Box::from_raw(p.cast::<LockHandle>()));
            }));
        }
    }
}

/// The handle behind the outer pointer `h`: Some for a live one, None for
/// one restored from a file (serialisation keeps no address: another
/// process's lock, not held here), or an error when `h` is not a rustipc
/// lock pointer.
fn handle_of(h: &Robj) -> Result<Option<&LockHandle>> {
    // SAFETY: fields are read only from external pointers whose tags are
    // our symbols (symbols are unique, so comparing addresses compares
    // names); a handle's address is a live Box<LockHandle> or null, and the
    // handle lives at least as long as `h`, which protects it.
    unsafe {
        let h = h.get().cast::<std::ffi::c_void>();
        if TYPEOF(h) == EXTPTRSXP && R_ExternalPtrTag(h) == outer_tag() {
            let own = R_ExternalPtrProtected(h);
            if TYPEOF(own) == EXTPTRSXP && R_ExternalPtrTag(own) == handle_tag() {
                return Ok(R_ExternalPtrAddr(own).cast::<LockHandle>().as_ref());
            }
        }
    }
    Err(Error::new(Kind::InvalidArgument, "not a rustipc lock handle"))
}

/// `path` (a string) as UTF-8 text, or None when R must prepare it first:
/// text in another encoding (R converts it or explains why it cannot), or a
/// path starting with `~` (R expands it).  Checking here keeps both tests
/// off lock()'s R fast path.
fn path_text(path: &Robj) -> Option<&str> {
    // SAFETY: the R layer passes a character vector of length 1 (not NA);
    // CHAR() of an element is a NUL-terminated string that lives as long as
    // `path`.
    let (bytes, enc) = unsafe {
        let c = STRING_ELT(path.get().cast(), 0);
        (std::ffi::CStr::from_ptr(R_CHAR(c)).to_bytes(), Rf_getCharCE(c))
    };
    if !(bytes.is_ascii() || enc == CE_UTF8) {
        return None;
    }
    std::str::from_utf8(bytes).ok().filter(|s| !s.starts_with('~'))
}

/// list(handle, path), NULL on timeout, list(retry = TRUE) when R must
/// prepare the path (see [`path_text`]), or an error list.
#[extendr]
fn rs_lock(path: Robj, exclusive: bool, timeout_ms: f64) -> Robj {
    let Some(path) = path_text(&path) else {
        return list!(retry = true).into();
    };
    let path = absolute(path).to_string_lossy().into_owned();
    let held = match lock(&path, exclusive, Deadline::from_ms(timeout_ms), Interrupts::Check) {
        Ok(Some(held)) => held,
        Ok(None) => return ().into(),
        Err(e) => return e.into(),
    };
    let addr = Arc::as_ptr(&held) as *mut std::ffi::c_void;
    let own = Box::into_raw(Box::new(LockHandle { held: Mutex::new(Some(held)) }));
    // SAFETY: every new object is protected until it is stored in the
    // result, and the result is protected by Robj::from_sexp before the
    // protection stack is popped.  The handle pointer owns the box from
    // here on (see free_handle).  The path is valid UTF-8 (a Rust String)
    // shorter than 2^31 bytes.
    unsafe {
        let own = Rf_protect(R_MakeExternalPtr(own.cast(), handle_tag(), R_NilValue));
        R_RegisterCFinalizerEx(own, free_handle, 1);
        let outer = Rf_protect(R_MakeExternalPtr(addr, outer_tag(), own));
        let s = Rf_protect(Rf_allocVector(STRSXP, 1));
        SET_STRING_ELT(s, 0, Rf_mkCharLenCE(path.as_ptr().cast(), path.len() as i32, CE_UTF8));
        let out = Rf_protect(Rf_allocVector(VECSXP, 2));
        SET_VECTOR_ELT(out, 0, outer);
        SET_VECTOR_ELT(out, 1, s);
        let out = Robj::from_sexp(out.cast());
        Rf_unprotect(4);
        out
    }
}

/// TRUE, or an error list when `h` is not a lock handle.
#[extendr]
fn rs_unlock(h: Robj) -> Robj {
    match handle_of(&h) {
        Ok(Some(l)) => {
            l.unlock();
            // SAFETY: `h` is an external pointer (checked in handle_of()).
            unsafe { R_ClearExternalPtr(h.get().cast()) };
            true.into()
        }
        Ok(None) => true.into(),
        Err(e) => e.into(),
    }
}

/// Whether the handle holds its lock (FALSE after unlock(), in a fork
/// child, and for a handle restored from a file), for print().
#[extendr]
fn rs_lock_info(h: Robj) -> Robj {
    match handle_of(&h) {
        Ok(Some(l)) => l.is_held().into(),
        Ok(None) => false.into(),
        Err(e) => e.into(),
    }
}

/// Whether any process holds a lock on `path` (for `ipc_objects()` and tests).
#[extendr]
fn rs_file_is_locked(path: &str) -> Robj {
    let c = match CString::new(path) {
        Ok(c) => c,
        Err(_) => return Error::new(Kind::InvalidArgument, "`path` contains a NUL byte").into(),
    };
    // SAFETY: open with a valid C string; the result is checked and owned.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Error::last_os(format!("cannot open '{path}'")).into();
    }
    // SAFETY: fd is fresh.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    match ofd::is_locked(fd.as_raw_fd()) {
        Ok(b) => b.into(),
        Err(e) => Error::os(format!("cannot test '{path}'"), e).into(),
    }
}

extendr_module! {
    mod filelock;
    fn rs_lock;
    fn rs_unlock;
    fn rs_lock_info;
    fn rs_file_is_locked;
}
