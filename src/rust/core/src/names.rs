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
//!   - `block` (12 bits) is this process's token ([`crate::token`]): no two
//!     live processes of the user hold the same one, across PID and network
//!     namespaces that share the object directory (an abstract socket, as
//!     0.1.0 used, is per network namespace and open to every user);
//!   - `i` (10 bits) counts the uids this process made in this slot.
//!
//! Why no two uids are ever equal, even across exited processes and reused
//! process ids: a process only uses slots *after* the slot in which it bound
//! its block, and never a slot later than the current one (if it runs out of
//! `i` it waits for the next slot).  Any earlier holder of the same block had
//! closed it, so all of its slots are at most the slot in which we bound it.
//! Within a process, (slot, i) only increases.  A forked child notices its
//! new process id and claims a block of its own.  This fails only if the
//! real-time clock is set back.  uids are unique among the processes of one
//! user that share an object directory, which is all that can open the
//! objects they name.
//!
//! Rate: 1,024 uids per 10 ms slot, about 100,000 per second; the first uid
//! of a process waits for the slot after it bound its block (at most 10 ms).

use crate::error::{Error, Kind, Result};
use crate::token;
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
    block: u32,
    /// Slots up to this one are not ours to use.
    bound_slot: u64,
    slot: u64,
    next: u32,
}

static UID: Mutex<Option<UidState>> = Mutex::new(None);

/// A new uid, unique on this machine (see the module docs for the argument).
pub fn uid() -> Result<String> {
    let mut guard = UID.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if guard.as_ref().map(|s| s.pid) != Some(pid) {
        // First call, or a forked child: the inherited block is the parent's.
        // The token was claimed at the latest now, so every slot after
        // this one is later than the claim.
        let block = token::mine()?.block;
        let bound = now_slot();
        *guard = Some(UidState { pid, block, bound_slot: bound, slot: bound, next: 0 });
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
