//! This process's token: a number that no other live process of this user
//! holds, and that tells other processes whether we are still alive.
//!
//! The token is a block (0 to 4095) plus a generation.  A process claims a
//! block by taking an exclusive lock on the file `.uid-<block>` in the
//! private object directory ([`crate::store`]): `flock` on Unix,
//! `LockFileEx` on one byte on Windows ([`crate::sys::token`] says why
//! each).  The OS gives the lock to one open file at a time and releases it
//! when the process (and, on Unix, every fork child holding a copy) has
//! closed it, however it ends.  Under the lock the claimer raises the
//! generation stored in the file, so a token names one claim, not just a
//! block.  Liveness is then a question any process can ask: the token
//! (b, g) is alive while `.uid-<b>` is locked and holds generation g.
//! Being a lock on a file, this works across PID and network namespaces
//! that share the directory, and only this user can create or lock files
//! there, so no other user can take or exhaust the blocks.
//!
//! Users: `uid()` ([`crate::names`]) puts the block in every uid; shared
//! holders of a mutex ([`crate::mutex`]) record their token, so that a
//! holder killed with SIGKILL (or `TerminateProcess`) is recognised as dead.
//!
//! A child made by fork inherits the descriptor, and with it the lock: the
//! parent's token would stay alive for as long as any fork child runs, so
//! a killed parent's locks, shared slots and taken messages would not come
//! back.  So an atfork handler closes the inherited descriptor in the
//! child at once ([`close_in_child`]); the child claims a token of its own
//! when it needs one, and the parent's token dies with the parent.
//!
//! A process that exits normally deletes its file while still holding the
//! lock (an `atexit` handler), so nothing is left behind; a killed one
//! leaves it, and the next claimant reuses it.  After locking, a claimant
//! checks that the file is still the one the name names (else it was
//! deleted in between: try again).

use crate::error::{Error, Kind, Result};
use crate::store;
use crate::sys::{fs, token as lock};
use std::fs::File;
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
    path: std::path::PathBuf,
    /// `ManuallyDrop`: in a fork child the descriptor was closed by
    /// [`close_in_child`] already (its number may be reused since), so the
    /// inherited claim is forgotten, never dropped.
    file: std::mem::ManuallyDrop<File>,
}

static CLAIM: Mutex<Option<Claim>> = Mutex::new(None);

/// The claim's descriptor, for the atfork handler (-1: none).
#[cfg(unix)]
static CLAIM_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// In a child made by fork: close the parent's token descriptor (close()
/// is async-signal-safe, as a handler in a forked child must be).
#[cfg(unix)]
extern "C" fn close_in_child() {
    let fd = CLAIM_FD.swap(-1, std::sync::atomic::Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: the descriptor is the inherited copy of the claim's file,
        // which the child never uses again (see `Claim::file`).
        unsafe { libc::close(fd) };
    }
}

/// Remember the claim's descriptor for [`close_in_child`], registering the
/// handler once.
fn watch_fork(_file: &File) {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        static ATFORK: std::sync::Once = std::sync::Once::new();
        ATFORK.call_once(|| {
            // SAFETY: registers a handler that only closes a descriptor.
            unsafe { libc::pthread_atfork(None, None, Some(close_in_child)) };
        });
        CLAIM_FD.store(_file.as_raw_fd(), std::sync::atomic::Ordering::Relaxed);
    }
}

fn file_name(block: u32) -> String {
    format!(".uid-{block:03x}")
}

fn read_generation(f: &File) -> u32 {
    let mut b = [0u8; 4];
    if store::pread_exact(f, &mut b, 0) {
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
        let file = match dir.open_private(&name) {
            Ok(f) => f,
            Err(e) if lock::open_error_means_busy(&e) => {
                k += 1;
                continue;
            }
            Err(e) => return Err(Error::os(format!("cannot open a token file in '{}'", dir.path), e)),
        };
        if lock::try_claim(&file).map_err(|e| Error::os("cannot lock a token file", e))? {
            if dir.id_of(&name)? != Some(store::file_id(&file)?) {
                continue; // deleted under us: the same block again
            }
            let generation = read_generation(&file).wrapping_add(1);
            if let Err(e) = fs::write_at(&file, &generation.to_ne_bytes(), 0) {
                let no_space = fs::is_no_space(&e);
                let mut e = Error::os(format!("cannot write a token file in '{}'", dir.path), e);
                if no_space {
                    e.kind = Kind::NoSpace;
                }
                return Err(e);
            }
            let token = Token { block, generation };
            let path = std::path::Path::new(&dir.path).join(&name);
            return Ok(Claim { pid: std::process::id(), token, path, file: std::mem::ManuallyDrop::new(file) });
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
                let _ = std::fs::remove_file(&c.path);
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
    // The claim of the process we were forked from: its descriptor was
    // closed in the child (close_in_child), so it is forgotten, not
    // dropped.  A claim of our own is never replaced.
    if let Some(old) = guard.take() {
        std::mem::forget(old);
    }
    let c = claim()?;
    watch_fork(&c.file);
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
    let file = match dir.open_file(&file_name(t.block), false) {
        Ok(Some(f)) => f,
        Ok(None) => return false, // deleted at its holder's normal exit
        Err(_) => return true,
    };
    match lock::is_claimed(&file) {
        Ok(false) => false, // nobody holds the block
        Ok(true) => read_generation(&file) == t.generation,
        Err(_) => true,
    }
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

    const CHILD_ENV: &str = "RUSTIPC_TOKEN_TEST_CHILD";

    /// Not a test by itself: the child role of the test below.
    #[test]
    fn child_role() {
        if std::env::var(CHILD_ENV).is_err() {
            return;
        }
        let t = mine().unwrap();
        println!("token {} {} {}", t.block, t.generation, crate::child::READY);
        std::thread::sleep(std::time::Duration::from_secs(120));
    }

    #[test]
    fn live_processes_hold_distinct_blocks_and_dead_ones_are_seen_dead() {
        let me = mine().unwrap();
        let mut children = Vec::new();
        let mut blocks = std::collections::HashSet::from([me.block]);
        for _ in 0..6 {
            let (c, line) = crate::child::spawn_line("token::tests::child_role", CHILD_ENV, "1");
            let w: Vec<u32> = line.split_whitespace().skip_while(|w| *w != "token").skip(1).take(2).map(|w| w.parse().unwrap()).collect();
            let t = Token { block: w[0], generation: w[1] };
            assert!(blocks.insert(t.block), "block {} held twice", t.block);
            assert!(is_alive(t));
            children.push((c, t));
        }
        for (c, t) in children {
            crate::child::sigkill(c);
            let limit = std::time::Duration::from_secs(2);
            assert!(crate::child::eventually(limit, || !is_alive(t)), "{t:?} still alive after its kill");
        }
    }
}
