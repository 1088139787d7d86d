//! `uid()` and `hash()`: names for rustipc objects.
//!
//! Both are 11 characters written in base 62 with the digits
//! `a-z A-Z 0-9` (in that order, most significant first).
//!
//! * `hash(str)`: the 64-bit XXH3 hash (seed 0) of the UTF-8 bytes.  As
//!   2^64 < 22 * 62^10, the first digit is `a`-`v`.
//! * `uid()`: the number `26 * 62^10 + v` with `v < 18 * 62^10`, so the first
//!   digit is `A`-`R`.  `v = slot * 2^22 + block * 2^10 + i` where
//!   - `slot` counts 10 ms intervals of the real-time clock since
//!     2020-01-01 UTC (room until the year 3159);
//!   - `block` (12 bits) is claimed machine-wide by binding the abstract Unix
//!     socket `\0rustipc-uid-<block>`.  The kernel lets only one socket bind a
//!     name, and releases it when the process (and every fork child holding a
//!     copy) has closed it, so no two live processes share a block;
//!   - `i` (10 bits) counts the uids this process made in this slot.
//!
//! Why no two uids are ever equal, even across exited processes and reused
//! process ids: a process only uses slots *after* the slot in which it bound
//! its block, and never a slot later than the current one (if it runs out of
//! `i` it waits for the next slot).  Any earlier holder of the same block had
//! closed it, so all of its slots are at most the slot in which we bound it.
//! Within a process, (slot, i) only increases.  A forked child notices its
//! new process id and binds a block of its own.  This fails only if the
//! real-time clock is set back, or for processes in different network
//! namespaces sharing one /dev/shm.
//!
//! Rate: 1,024 uids per 10 ms slot, about 100,000 per second; the first uid
//! of a process waits for the slot after it bound its block (at most 10 ms).

use crate::error::{Error, Kind, Result};
use extendr_api::prelude::*;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use xxhash_rust::xxh3::xxh3_64;

const ALPHABET: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// 62^10: the weight of the first of the 11 digits.
const P10: u128 = 839_299_365_868_340_224;
/// 2020-01-01T00:00:00Z in Unix seconds.
const EPOCH_2020: u64 = 1_577_836_800;
const BLOCK_BITS: u32 = 12;
const INDEX_BITS: u32 = 10;
const SLOT_MS: u64 = 10;

/// Write `v` (< 62^11) as exactly 11 base-62 digits.
fn base62_11(mut v: u128) -> String {
    let mut out = [b'a'; 11];
    for d in out.iter_mut().rev() {
        *d = ALPHABET[(v % 62) as usize];
        v /= 62;
    }
    // ALPHABET is ASCII, so this never fails.
    String::from_utf8_lossy(&out).into_owned()
}

/// The `hash()` of a string.
pub fn hash(s: &str) -> String {
    base62_11(xxh3_64(s.as_bytes()) as u128)
}

/// The uid for a (slot, block, index) triple.
fn encode_uid(slot: u64, block: u32, index: u32) -> String {
    let v = ((slot as u128) << (BLOCK_BITS + INDEX_BITS))
        | ((block as u128) << INDEX_BITS)
        | index as u128;
    base62_11(26 * P10 + v)
}

fn now_slot() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_millis() as u64 / SLOT_MS - EPOCH_2020 * (1000 / SLOT_MS)
}

struct UidState {
    pid: u32,
    /// Holds our block's name bound while this process lives.
    _socket: Option<OwnedFd>,
    block: u32,
    /// Slots up to this one are not ours to use.
    bound_slot: u64,
    slot: u64,
    next: u32,
}

static UID: Mutex<Option<UidState>> = Mutex::new(None);

/// Bind a free block's abstract socket name; returns (socket, block).
fn claim_block() -> Result<(OwnedFd, u32)> {
    // SAFETY: socket() has no memory arguments; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(Error::last_os("uid(): cannot create a socket"));
    }
    // SAFETY: fd is a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let blocks = 1u32 << BLOCK_BITS;
    let start = (std::process::id().wrapping_mul(2_654_435_761)) % blocks;
    for k in 0..blocks {
        let block = (start + k) % blocks;
        let name = format!("rustipc-uid-{block:03x}");
        // SAFETY: sockaddr_un is plain old data; zeroed is a valid value.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        // sun_path[0] stays 0: the abstract namespace, no file is created.
        for (dst, src) in addr.sun_path[1..].iter_mut().zip(name.bytes()) {
            *dst = src as libc::c_char;
        }
        let len = (std::mem::size_of::<libc::sa_family_t>() + 1 + name.len()) as libc::socklen_t;
        // SAFETY: addr is a valid sockaddr_un and len does not exceed it.
        let rc = unsafe {
            libc::bind(fd, &addr as *const libc::sockaddr_un as *const libc::sockaddr, len)
        };
        if rc == 0 {
            return Ok((sock, block));
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EADDRINUSE) {
            return Err(Error::os("uid(): cannot bind a socket name", err));
        }
    }
    Err(Error::new(Kind::OsError, "uid(): all 4096 uid blocks are in use by live processes"))
}

/// A new uid, unique on this machine (see the module docs for the argument).
pub fn uid() -> Result<String> {
    let mut guard = UID.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if guard.as_ref().map(|s| s.pid) != Some(pid) {
        // First call, or a forked child: the inherited block is the parent's.
        let (sock, block) = claim_block()?;
        let bound = now_slot();
        *guard = Some(UidState { pid, _socket: Some(sock), block, bound_slot: bound, slot: bound, next: 0 });
    }
    let st = guard.as_mut().ok_or_else(|| Error::new(Kind::OsError, "uid(): no state"))?;
    loop {
        let now = now_slot();
        if now > st.slot {
            st.slot = now;
            st.next = 0;
        }
        if st.slot > st.bound_slot && st.next < (1 << INDEX_BITS) {
            let id = encode_uid(st.slot, st.block, st.next);
            st.next += 1;
            return Ok(id);
        }
        // Too early (the slot we bound in) or this slot is used up: wait for
        // the next one.  Never borrow a future slot.
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `uid()` for R.
#[extendr]
fn rs_uid() -> Robj {
    crate::error::to_r(uid())
}

/// `hash()` for R; `x` is one non-NA string, already converted to UTF-8.
#[extendr]
fn rs_hash(x: &str) -> String {
    hash(x)
}

/// An empty native call: the floor the benchmarks compare against.
#[extendr]
fn rs_noop() {}

extendr_module! {
    mod names;
    fn rs_uid;
    fn rs_hash;
    fn rs_noop;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn hash_format_and_vectors() {
        // Known XXH3-64 values (seed 0), written in base 62.
        assert_eq!(xxh3_64(b""), 0x2D06800538D394C2);
        let h = hash("");
        assert_eq!(h.len(), 11);
        assert!(matches!(h.as_bytes()[0], b'a'..=b'v'));
        assert_eq!(base62_11(0), "aaaaaaaaaaa");
        assert_eq!(base62_11(u64::MAX as u128).as_bytes()[0], b'v');
    }

    #[test]
    fn uid_format_and_uniqueness() {
        let mut seen = HashSet::new();
        for _ in 0..5000 {
            let u = uid().unwrap();
            assert_eq!(u.len(), 11);
            assert!(matches!(u.as_bytes()[0], b'A'..=b'R'), "{u}");
            assert!(u.bytes().all(|c| c.is_ascii_alphanumeric()));
            assert!(seen.insert(u));
        }
    }

    #[test]
    fn uid_space_lasts_past_year_3000() {
        // Slots until 3000-01-01 (32503680000 s since 1970).
        let slot = (32_503_680_000u64 - EPOCH_2020) * (1000 / SLOT_MS);
        let v = (slot as u128) << (BLOCK_BITS + INDEX_BITS);
        assert!(v + (1 << 22) < 18 * P10);
        assert_eq!(encode_uid(slot, 4095, 1023).len(), 11);
    }
}
