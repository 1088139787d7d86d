//! This process's token: a number that no other live process of this user
//! holds, and that tells other processes whether we are still alive.
//!
//! The token is a block (0 to 4095) plus a generation.  A process claims a
//! block by taking an exclusive `flock` on the file `.uid-<block>` in the
//! private object directory ([`crate::store`]); the kernel gives the lock to
//! one open file at a time and releases it when the process (and every fork
//! child holding a copy) has closed it, however it ends.  Under the lock the
//! claimer raises the generation stored in the file, so a token names one
//! claim, not just a block.  Liveness is then a question any process can
//! ask: the token (b, g) is alive while `.uid-<b>` is locked and holds
//! generation g.  Being a lock on a file, this works across PID and network
//! namespaces that share the directory, and only this user can create or
//! lock files there, so no other user can take or exhaust the blocks.
//!
//! Users: `uid()` ([`crate::names`]) puts the block in every uid; shared
//! holders of a mutex ([`crate::mutex`]) record their token, so that a
//! holder killed with SIGKILL is recognised as dead.
//!
//! A process that exits normally deletes its file while still holding the
//! lock, so nothing is left behind; a killed one leaves it, and the next
//! claimant reuses it.  After locking, a claimant checks that the file is
//! still the one the name names (else it was deleted in between: try again).

use crate::error::{Error, Kind, Result};
use crate::store;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

/// Blocks: 12 bits.
pub const BLOCKS: u32 = 1 << 12;

/// A claim: block and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub block: u32,
    pub generation: u32,
}

impl Token {
    /// As one non-zero word, for shared memory (0 means "nobody").
    pub fn pack(self) -> u64 {
        ((self.block as u64 + 1) << 32) | self.generation as u64
    }

    pub fn unpack(w: u64) -> Option<Token> {
        let b = (w >> 32) as u32;
        (1..=BLOCKS).contains(&b).then(|| Token { block: b - 1, generation: w as u32 })
    }
}

struct Claim {
    pid: u32,
    token: Token,
    path: String,
    _fd: OwnedFd,
}

static CLAIM: Mutex<Option<Claim>> = Mutex::new(None);

fn file_name(block: u32) -> String {
    format!(".uid-{block:03x}")
}

fn read_generation(fd: &OwnedFd) -> u32 {
    let mut b = [0u8; 4];
    if store::pread_exact(fd.as_raw_fd(), &mut b, 0) {
        u32::from_ne_bytes(b)
    } else {
        0
    }
}

fn claim() -> Result<Claim> {
    let dir = store::Dir::open()?;
    let start = (std::process::id().wrapping_mul(2_654_435_761)) % BLOCKS;
    let mut k = 0;
    while k < BLOCKS {
        let block = (start + k) % BLOCKS;
        let name = file_name(block);
        let fd = dir
            .open_private(&name)
            .map_err(|e| Error::os(format!("cannot open a token file in '{}'", dir.path), e))?;
        // SAFETY: flock on our own descriptor.
        if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            if dir.id_of(&name)? != Some(store::file_id(fd.as_raw_fd())?) {
                continue; // deleted under us: the same block again
            }
            let generation = read_generation(&fd).wrapping_add(1);
            let b = generation.to_ne_bytes();
            // SAFETY: writes 4 bytes from a valid buffer into our own file.
            if unsafe { libc::pwrite(fd.as_raw_fd(), b.as_ptr() as *const libc::c_void, 4, 0) } != 4 {
                let mut e = Error::last_os(format!("cannot write a token file in '{}'", dir.path));
                if e.errno == libc::ENOSPC {
                    e.kind = Kind::NoSpace;
                }
                return Err(e);
            }
            let token = Token { block, generation };
            return Ok(Claim { pid: std::process::id(), token, path: format!("{}/{name}", dir.path), _fd: fd });
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(Error::os("cannot lock a token file", err));
        }
        k += 1;
    }
    Err(Error::new(Kind::OsError, format!("all {BLOCKS} process tokens are held by live processes of this user")))
}

/// At normal exit, delete our token file while we still hold its lock.
extern "C" fn release_at_exit() {
    if let Ok(guard) = CLAIM.try_lock() {
        if let Some(c) = guard.as_ref() {
            if c.pid == std::process::id() {
                if let Ok(p) = std::ffi::CString::new(c.path.as_str()) {
                    // SAFETY: unlink with a valid C string.
                    unsafe { libc::unlink(p.as_ptr()) };
                }
            }
        }
    }
}

/// This process's token, claimed on first use (and again in a child made
/// by fork: the inherited one is the parent's).
pub fn mine() -> Result<Token> {
    let mut guard = CLAIM.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if let Some(c) = guard.as_ref() {
        if c.pid == pid {
            return Ok(c.token);
        }
    }
    let c = claim()?;
    let token = c.token;
    *guard = Some(c);
    static AT_EXIT: std::sync::Once = std::sync::Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: registers a handler that only unlinks a file.
        unsafe { libc::atexit(release_at_exit) };
    });
    Ok(token)
}

/// Whether the process that holds `t` is alive (see the module docs).
/// Errors count as alive: a token is only ever declared dead for sure.
pub fn is_alive(t: Token) -> bool {
    match store::Dir::open() {
        Ok(dir) => is_alive_in(&dir, t),
        Err(_) => true,
    }
}

/// [`is_alive`] with the object directory already open (for callers that
/// ask about many tokens at once).
pub fn is_alive_in(dir: &store::Dir, t: Token) -> bool {
    if let Ok(guard) = CLAIM.try_lock() {
        if let Some(c) = guard.as_ref() {
            if c.pid == std::process::id() && c.token == t {
                return true;
            }
        }
    }
    let fd = match dir.open_file(&file_name(t.block), false) {
        Ok(Some(fd)) => fd,
        Ok(None) => return false, // deleted at its holder's normal exit
        Err(_) => return true,
    };
    // SAFETY: flock on our own descriptor; a shared lock we get is released
    // at once (and by closing).
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0 {
        // SAFETY: as above.
        unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_UN) };
        return false; // nobody holds the block
    }
    read_generation(&fd) == t.generation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_pack_and_mine_is_alive() {
        let t = mine().unwrap();
        assert_eq!(Token::unpack(t.pack()), Some(t));
        assert_eq!(Token::unpack(0), None);
        assert!(is_alive(t));
        assert_eq!(mine().unwrap(), t);
        // Another generation of our block, or a block nobody holds, is dead.
        assert!(!is_alive(Token { block: t.block, generation: t.generation.wrapping_add(1) }));
        let free = (t.block + 1) % BLOCKS;
        assert!(!is_alive(Token { block: free, generation: 1 }));
    }
}
