//! The object directory and object files on Unix (Linux, macOS, FreeBSD):
//! the file-system half of [`crate::store`], which keeps the portable
//! logic (headers, checks, creation and removal protocol).
//!
//! * The directory: `/dev/shm/rustipc-<uid>` on Linux (a tmpfs, so objects
//!   are memory), else `<tempdir>/rustipc-<uid>`.  Created with mode 0700;
//!   on every open it must be a real directory (`O_NOFOLLOW`), owned by the
//!   effective user, with no group or other permission bits.  Files in it are
//!   opened relative to that verified descriptor (`openat`), with
//!   `O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`.
//! * Objects are created mode 0600 and must be regular files of this user
//!   with no group or other bits when opened ([`Meta::private`]).
//! * Publication is `linkat(tmp, name)`, which fails if the name exists;
//!   removal is `unlinkat` (the mapping of every process stays valid).
//! * Space is allocated with `posix_fallocate` (pages written on macOS), so
//!   a full tmpfs is an error at creation, not a SIGBUS later.
//! * Mappings are `mmap(MAP_SHARED)` of the whole file.

use crate::error::{Error, Kind, Result};
use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// What identifies a file (device, inode), whatever name it has now.
pub type FileId = (u64, u64);

fn euid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() as u32 }
}

/// Where the object directory is when `RUSTIPC_DIR` does not say.
pub fn default_dir() -> std::path::PathBuf {
    let base = if cfg!(target_os = "linux") && std::path::Path::new("/dev/shm").is_dir() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    base.join(format!("rustipc-{}", euid()))
}

fn cstr(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::new(Kind::InvalidArgument, format!("'{s}' contains a NUL byte")))
}

fn fstat(fd: RawFd) -> std::io::Result<libc::stat> {
    // SAFETY: fstat fills the zeroed stat struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st)
}

/// (device, inode) from a `stat` (the field types differ across Unixes).
#[allow(clippy::unnecessary_cast)]
fn stat_id(st: &libc::stat) -> FileId {
    (st.st_dev as u64, st.st_ino as u64)
}

/// What [`meta`] tells about an open file.
pub struct Meta {
    pub regular: bool,
    pub size: u64,
    /// Seconds since 1970.
    pub modified: f64,
    pub id: FileId,
    /// `Err(why)` unless the file is this user's and nobody else's (mode
    /// without group or other bits); `why` follows "<name> (<path>)".
    pub private: std::result::Result<(), String>,
    /// Whether the file belongs to this user (whatever its mode).
    pub mine: bool,
}

pub fn meta(f: &File) -> std::io::Result<Meta> {
    let st = fstat(f.as_raw_fd())?;
    let me = euid();
    let private = if st.st_uid as u32 != me || st.st_mode & 0o077 != 0 {
        Err(format!(
            "belongs to user {} with mode {:o}; rustipc opens only objects owned by this user with mode 0600",
            st.st_uid,
            st.st_mode & 0o7777
        ))
    } else {
        Ok(())
    };
    Ok(Meta {
        regular: st.st_mode & libc::S_IFMT == libc::S_IFREG,
        size: st.st_size as u64,
        modified: st.st_mtime as f64,
        id: (st.st_dev as u64, st.st_ino as u64),
        private,
        mine: st.st_uid as u32 == me,
    })
}

/// The identity of an open file.
pub fn file_id(f: &File) -> Result<FileId> {
    fstat(f.as_raw_fd()).map(|st| stat_id(&st)).map_err(|e| Error::os("fstat", e))
}

/// Why `name` cannot be a file name here beyond what every OS forbids
/// (checked by the caller: '/', NUL, empty, over 255 bytes): nothing more
/// on Unix.
pub fn name_problem(_name: &str) -> Option<&'static str> {
    None
}

/// Whether an error means "no space left".
pub fn is_no_space(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOSPC)
}

/// Whether an error from opening a name means "it is a symbolic link".
pub fn is_symlink_error(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// The object directory, opened and verified.
pub struct Dir {
    fd: OwnedFd,
    pub path: String,
}

impl Dir {
    /// Open (creating it if missing) and verify the directory `path`.
    pub fn open(path: String) -> Result<Dir> {
        let c = cstr(&path)?;
        // SAFETY: mkdir with a valid C string.
        if unsafe { libc::mkdir(c.as_ptr(), 0o700) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EEXIST) {
                return Err(Error::os(format!("cannot create the object directory '{path}'"), e));
            }
        }
        // SAFETY: open with a valid C string; the result is checked.
        let fd = unsafe {
            libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            let mut err = Error::os(format!("cannot open the object directory '{path}'"), e);
            if matches!(err.errno, libc::ELOOP | libc::ENOTDIR | libc::EACCES) {
                err.kind = Kind::Permission;
                err.message = format!(
                    "the object directory '{path}' is not a directory of this user's (it is a symlink, \
                     not a directory, or not accessible); rustipc will not use it"
                );
            }
            return Err(err);
        }
        // SAFETY: fd is fresh and owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let st = fstat(fd.as_raw_fd()).map_err(|e| Error::os(format!("cannot stat '{path}'"), e))?;
        let me = euid();
        if st.st_uid as u32 != me || st.st_mode & 0o077 != 0 || st.st_mode & libc::S_IFMT != libc::S_IFDIR {
            return Err(Error::new(
                Kind::Permission,
                format!(
                    "the object directory '{path}' belongs to user {} with mode {:o}; rustipc uses only a \
                     directory owned by this user (uid {me}) with mode 0700, and will not use this one",
                    st.st_uid,
                    st.st_mode & 0o7777
                ),
            ));
        }
        Ok(Dir { fd, path })
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    fn openat(&self, name: &str, flags: libc::c_int, mode: libc::c_uint) -> std::io::Result<File> {
        let c = CString::new(name).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: openat with a valid directory fd and C string.
        let fd = unsafe { libc::openat(self.raw(), c.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOFOLLOW, mode) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is fresh and owned by nobody else.
        Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Remove the name `name` (not following links).
    pub fn unlink(&self, name: &str) -> std::io::Result<()> {
        let c = CString::new(name).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: unlinkat with a valid directory fd and C string.
        if unsafe { libc::unlinkat(self.raw(), c.as_ptr(), 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// The identity of `name` in the directory, None when absent.
    pub fn id_of(&self, name: &str) -> Result<Option<FileId>> {
        let c = cstr(name)?;
        // SAFETY: fstatat fills the zeroed stat struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstatat(self.raw(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ENOENT) {
                return Ok(None);
            }
            return Err(Error::os(format!("cannot stat '{name}' in '{}'", self.path), e));
        }
        Ok(Some((st.st_dev as u64, st.st_ino as u64)))
    }

    /// Open a file of this directory without blocking or following links,
    /// read-only or read-write; a missing name is `Ok(None)`.
    pub fn open_file(&self, name: &str, write: bool) -> std::io::Result<Option<File>> {
        let acc = if write { libc::O_RDWR } else { libc::O_RDONLY };
        match self.openat(name, acc | libc::O_NONBLOCK, 0) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Create (or open) a small private file, for tokens such as uid blocks.
    pub fn open_private(&self, name: &str) -> std::io::Result<File> {
        self.openat(name, libc::O_RDWR | libc::O_CREAT | libc::O_NONBLOCK, 0o600)
    }

    /// Create a new private file; an `AlreadyExists` error if the name exists.
    pub fn create_new(&self, name: &str) -> std::io::Result<File> {
        let f = self.openat(name, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL, 0o600)?;
        // SAFETY: fchmod on our own fresh descriptor (the umask may have
        // taken bits we need).
        if unsafe { libc::fchmod(f.as_raw_fd(), 0o600) } != 0 {
            let err = std::io::Error::last_os_error();
            // Nothing half-made stays behind.
            let _ = self.unlink(name);
            return Err(err);
        }
        Ok(f)
    }

    /// Give the complete file `tmp` the name `name`, atomically and only if
    /// `name` does not exist (`Ok(false)` then).  The caller removes `tmp`
    /// afterwards (here it stays a second name of the object until then).
    pub fn publish(&self, tmp: &str, name: &str) -> std::io::Result<bool> {
        let (ctmp, cname) = (
            CString::new(tmp).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?,
            CString::new(name).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?,
        );
        // SAFETY: linkat with a valid directory fd and C strings.
        if unsafe { libc::linkat(self.raw(), ctmp.as_ptr(), self.raw(), cname.as_ptr(), 0) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EEXIST) {
            return Ok(false);
        }
        Err(err)
    }

    /// Take the name `name` away from the object it names (whose identity
    /// the caller checked); processes that have it open keep using it.
    pub fn retire(&self, name: &str) -> std::io::Result<()> {
        self.unlink(name)
    }

    /// The names in the directory (every entry but `.` and `..`).
    pub fn names(&self) -> Result<Vec<String>> {
        // SAFETY: dup of our valid fd; fdopendir takes ownership of the copy
        // and closedir releases it.
        let copy = unsafe { libc::dup(self.raw()) };
        if copy < 0 {
            return Err(Error::last_os("dup"));
        }
        // SAFETY: as above.
        let d = unsafe { libc::fdopendir(copy) };
        if d.is_null() {
            // SAFETY: fdopendir failed, so the copy is still ours to close.
            unsafe { libc::close(copy) };
            return Err(Error::last_os(format!("cannot list '{}'", self.path)));
        }
        // SAFETY: rewind, since the copy shares its offset with self.fd.
        unsafe { libc::rewinddir(d) };
        let mut out = Vec::new();
        loop {
            // SAFETY: readdir on a valid DIR*; the entry is read before the
            // next call.
            let ent = unsafe { libc::readdir(d) };
            if ent.is_null() {
                break;
            }
            // SAFETY: d_name is NUL-terminated.
            let name = unsafe { std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()) };
            let name = name.to_string_lossy().into_owned();
            if name != "." && name != ".." {
                out.push(name);
            }
        }
        // SAFETY: closes the DIR* (and the copy).
        unsafe { libc::closedir(d) };
        out.sort();
        Ok(out)
    }

    /// Bytes free for an unprivileged user in the directory's file system.
    pub fn free_bytes(&self) -> Option<u64> {
        // SAFETY: fstatvfs fills the zeroed struct.
        let mut sv: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstatvfs(self.raw(), &mut sv) } != 0 {
            return None;
        }
        Some(sv.f_bavail as u64 * sv.f_frsize as u64)
    }
}

/// Open `path` for [`crate::filelock`]; creates it (mode 0666 less umask) if missing.
/// `O_NONBLOCK`: opening a FIFO or a device must never block (a FIFO opened
/// without it waits for a writer forever); anything but a regular file is
/// then an error.  (It has no effect on regular files or on their locks.)
/// Also returns the file's identity, from the same `fstat` (lock() is a
/// hot path: one system call fewer).
pub fn open_lock_file(path: &str, exclusive: bool) -> Result<(File, FileId)> {
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
        let mut err = Error::os(format!("cannot open lock file '{path}'"), e);
        if err.kind != Kind::Resource {
            err.message = format!("cannot open lock file '{path}': {why}");
        }
        if matches!(err.errno, libc::EACCES | libc::EPERM) {
            err.kind = Kind::Permission;
        }
        return Err(err);
    }
    // SAFETY: fd is fresh and owned by nobody else.
    let fd = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    // SAFETY: fstat fills the zeroed stat struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(Error::last_os(format!("cannot stat lock file '{path}'")));
    }
    let what = match st.st_mode & libc::S_IFMT {
        libc::S_IFREG => return Ok((fd, stat_id(&st))),
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

/// What a lock error means, when it means something more specific than
/// its OS message ("" otherwise).
pub fn lock_error_reason(e: &std::io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::ENOLCK) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => "the file system refuses locks",
        Some(libc::EBADF) => "the file is not open for the access this kind of lock needs",
        _ => "",
    }
}

/// Read exactly `buf.len()` bytes at `off`.
pub fn read_at(f: &File, buf: &mut [u8], off: u64) -> bool {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, off).is_ok()
}

/// Write all of `buf` at `off`.
pub fn write_at(f: &File, buf: &[u8], off: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, off)
}

/// Give the file `len` bytes that are really there, so that no later write
/// through the mapping can fault on a full file system.
pub fn allocate(f: &File, len: usize) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    {
        // SAFETY: posix_fallocate on our own descriptor.
        let rc = unsafe { libc::posix_fallocate(f.as_raw_fd(), 0, len as libc::off_t) };
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        Ok(())
    }
    #[cfg(not(any(target_os = "linux", target_os = "freebsd")))]
    {
        // No posix_fallocate: write every page's worth of zeros instead.
        let zeros = [0u8; 4096];
        let mut off = 0usize;
        while off < len {
            let n = zeros.len().min(len - off);
            write_at(f, &zeros[..n], off as u64)?;
            off += n;
        }
        Ok(())
    }
}

/// A shared mapping of a whole object file.
pub struct Map {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is plain shared memory; all access to it goes through
// atomics or process-shared synchronisation objects.
unsafe impl Send for Map {}
// SAFETY: as above.
unsafe impl Sync for Map {}

impl Map {
    /// Map the first `len` bytes of `f` (its whole size), read-write and
    /// shared; the address is page aligned.  (`_incarnation`: nothing
    /// outside the file belongs to an object on Unix.)
    pub fn new(f: &File, len: usize, _incarnation: u64) -> Result<Map> {
        // SAFETY: maps `len` bytes of an open file; the result is checked.
        let ptr = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, f.as_raw_fd(), 0)
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::last_os("mmap"));
        }
        Ok(Map { ptr: ptr as *mut u8, len })
    }

    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    pub fn size(&self) -> usize {
        self.len
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what Map::new mapped.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}
