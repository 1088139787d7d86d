//! The platform layer: every OS facility rustipc uses, one module per
//! facility and OS, chosen here and nowhere else.  The primitives above it
//! (mutex, semaphore, queue, file lock, uid) are portable logic.
//!
//! | facility | `linux` backend | `portable` backend (macOS; Linux with `RUSTIPC_BACKEND=portable`) | `freebsd` backend |
//! |---|---|---|---|
//! | wait on a 32-bit word in shared memory ([`addr`]) | futex | macOS: `os_sync_wait_on_address` (14.4+) or `__ulock_wait` (10.12+), looked up at run time, else polling; Linux: futex | `_umtx_op(UMTX_OP_WAIT_UINT)` |
//! | a lock that reports "the previous holder died" ([`robust`]) | robust process-shared pthread mutex | a lock word holding the owner's [`crate::token`], taken over once that token is dead | robust process-shared pthread mutex |
//! | file locks ([`file_lock`]) | OFD locks, waits in `F_OFD_SETLKW` on R's thread, in slices ended by a per-thread timer | OFD locks, waits by polling with back-off (macOS: `F_OFD_SETLKWTIMEOUT` slices) | `flock`, waits by polling with back-off |
//!
//! Everything else is POSIX and shared: files, `mmap`, `flock` for tokens,
//! `pthread_atfork`, `openat`/`linkat`.

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
compile_error!("rustipc supports Linux, macOS and FreeBSD (Windows: not yet)");

/// The backend this build uses (`ipc_backend()` in R).
#[cfg(all(target_os = "linux", not(feature = "portable")))]
pub const BACKEND: &str = "linux";
#[cfg(any(target_os = "macos", all(target_os = "linux", feature = "portable")))]
pub const BACKEND: &str = "portable";
#[cfg(target_os = "freebsd")]
pub const BACKEND: &str = "freebsd";

/// A number per backend, stored in every object's header: objects made by
/// one backend are never opened by another (their layouts differ).
pub const BACKEND_ID: u32 = match BACKEND.as_bytes()[0] {
    b'l' => 1,
    b'p' => 2,
    _ => 3,
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

#[cfg(any(all(target_os = "linux", not(feature = "portable")), target_os = "freebsd"))]
#[path = "robust_pthread.rs"]
pub mod robust;
#[cfg(any(target_os = "macos", all(target_os = "linux", feature = "portable")))]
#[path = "robust_portable.rs"]
pub mod robust;

#[cfg(all(target_os = "linux", not(feature = "portable")))]
#[path = "lock_ofd_timer.rs"]
pub mod file_lock;
#[cfg(any(target_os = "macos", target_os = "freebsd", all(target_os = "linux", feature = "portable")))]
#[path = "lock_poll.rs"]
pub mod file_lock;

#[cfg(unix)]
#[path = "fs_unix.rs"]
pub mod fs;

#[cfg(unix)]
#[path = "token_flock.rs"]
pub mod token;

/// An open file as the file-lock facility takes it.
#[cfg(unix)]
pub type RawFile = std::os::fd::RawFd;

#[cfg(unix)]
pub fn raw_file(f: &std::fs::File) -> RawFile {
    std::os::fd::AsRawFd::as_raw_fd(f)
}
