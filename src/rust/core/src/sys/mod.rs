//! The platform layer: every OS facility rustipc uses, one module per
//! facility and OS, chosen here and nowhere else.  The primitives above it
//! (mutex, semaphore, queue, file lock, uid) are portable logic.
//!
//! | facility | `linux` backend | `portable` backend (macOS; Linux with `RUSTIPC_BACKEND=portable`) | `freebsd` backend | `windows` backend |
//! |---|---|---|---|---|
//! | wait on a 32-bit word in shared memory ([`addr`]) | futex | macOS: `os_sync_wait_on_address` (14.4+) or `__ulock_wait` (10.12+), looked up at run time, else polling; Linux: futex | `_umtx_op(UMTX_OP_WAIT_UINT)` | a named auto-reset event per word (`Local\`, keyed by the object file's identity and its incarnation number), else `WaitOnAddress` in steps |
//! | a lock that reports "the previous holder died" ([`robust`]) | robust process-shared pthread mutex | a lock word holding the owner's [`crate::token`], taken over once that token is dead | robust process-shared pthread mutex | as `portable` |
//! | file locks ([`file_lock`]) | OFD locks, waits in `F_OFD_SETLKW` on R's thread, in slices ended by a per-thread timer | OFD locks, waits by polling with back-off (macOS: `F_OFD_SETLKWTIMEOUT` slices) | `flock`, waits by polling with back-off | `LockFileEx` on byte 0 with `LOCKFILE_FAIL_IMMEDIATELY`, waits by polling with back-off |
//! | the object directory, object files and their mappings ([`fs`]) | `/dev/shm/rustipc-<uid>`, mode 0700 and owner checked, `openat`, `linkat`, `mmap` | as `linux` (`<tempdir>/rustipc-<uid>` on macOS) | as `portable` | `%LOCALAPPDATA%\rustipc` (the profile's ACL protects it), `MoveFileExW`, `CreateFileMappingW` |
//! | process tokens: claim and liveness ([`token`]) | `flock` on `.uid-<block>` | as `linux` | as `linux` | `LockFileEx` on one byte of `.uid-<block>` |
//!
//! Fork (`pthread_atfork` handlers in [`crate::mutex`] and
//! [`crate::filelock`]) exists only on Unix; on Windows no handle is
//! inheritable, so a child process never holds a parent's lock.
//!
//! Windows' named kernel objects are only events that wake waiters
//! ([`addr`]); the objects themselves are files, so they persist until
//! removed and can be listed (a named section or mutex would vanish with
//! its last handle).  The events live in `Local\` (this session):
//! `Global\` needs `SeCreateGlobalPrivilege` and crosses sessions, which a
//! per-user object directory does not.

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd", windows)))]
compile_error!("rustipc supports Linux, macOS, FreeBSD and Windows");

/// The backend this build uses (`ipc_backend()` in R).
#[cfg(all(target_os = "linux", not(feature = "portable")))]
pub const BACKEND: &str = "linux";
#[cfg(any(target_os = "macos", all(target_os = "linux", feature = "portable")))]
pub const BACKEND: &str = "portable";
#[cfg(target_os = "freebsd")]
pub const BACKEND: &str = "freebsd";
#[cfg(windows)]
pub const BACKEND: &str = "windows";

/// A number per backend, stored in every object's header: objects made by
/// one backend are never opened by another (their layouts differ).
pub const BACKEND_ID: u32 = match BACKEND.as_bytes()[0] {
    b'l' => 1,
    b'p' => 2,
    b'f' => 3,
    _ => 4, // windows
};

#[cfg(target_os = "linux")]
#[path = "addr_linux.rs"]
pub mod addr;
#[cfg(target_os = "macos")]
#[path = "addr_macos.rs"]
pub mod addr;
#[cfg(target_os = "freebsd")]
#[path = "addr_freebsd.rs"]
pub mod addr;
#[cfg(windows)]
#[path = "addr_windows.rs"]
pub mod addr;

#[cfg(any(all(target_os = "linux", not(feature = "portable")), target_os = "freebsd"))]
#[path = "robust_pthread.rs"]
pub mod robust;
#[cfg(any(target_os = "macos", all(target_os = "linux", feature = "portable"), windows))]
#[path = "robust_portable.rs"]
pub mod robust;

#[cfg(all(target_os = "linux", not(feature = "portable")))]
#[path = "lock_ofd_timer.rs"]
pub mod file_lock;
#[cfg(any(target_os = "macos", target_os = "freebsd", all(target_os = "linux", feature = "portable"), windows))]
#[path = "lock_poll.rs"]
pub mod file_lock;

#[cfg(unix)]
#[path = "fs_unix.rs"]
pub mod fs;
#[cfg(windows)]
#[path = "fs_windows.rs"]
pub mod fs;

#[cfg(unix)]
#[path = "token_flock.rs"]
pub mod token;
#[cfg(windows)]
#[path = "token_windows.rs"]
pub mod token;

/// An open file as the file-lock facility takes it.
#[cfg(unix)]
pub type RawFile = std::os::fd::RawFd;

#[cfg(unix)]
pub fn raw_file(f: &std::fs::File) -> RawFile {
    std::os::fd::AsRawFd::as_raw_fd(f)
}

/// An open file as the file-lock facility takes it.
#[cfg(windows)]
pub type RawFile = std::os::windows::io::RawHandle;

#[cfg(windows)]
pub fn raw_file(f: &std::fs::File) -> RawFile {
    std::os::windows::io::AsRawHandle::as_raw_handle(f)
}
