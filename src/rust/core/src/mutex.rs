//! `mutex()`: named shared/exclusive locks across processes.
//!
//! A mutex object holds a gate `W`, a robust lock ([`crate::sys::robust`]:
//! on Linux and FreeBSD a robust, process-shared pthread mutex,
//! `PTHREAD_MUTEX_ROBUST`, written with the `libc` crate, since raw_sync's
//! mutex is not robust and its timed waits are broken; on macOS and Windows
//! a lock word holding the owner's token), and [`READER_SLOTS`]
//! reader slots, each a word that holds the [`token`] of a shared holder.
//! * exclusive: lock `W`, then wait until no live reader is inside;
//!   unlock = unlock `W`;
//! * shared: lock `W`, count ourselves in, put our token in a free slot
//!   (probing from the one our token's block picks), unlock `W`;
//!   unlock = clear the slot, count ourselves out, wake waiting writers.
//!
//! When an exclusive holder dies in any way (SIGKILL included) the kernel
//! marks `W` "owner died" and wakes a waiter, who gets `EOWNERDEAD`, marks
//! it consistent and goes on.  A shared holder that dies leaves its token in
//! its slot; writers waiting for readers check the tokens of the slots that
//! are still taken after every slice (50 ms), and clear those whose process
//! is dead ([`token::is_alive`]), so a killed reader is taken over within a
//! slice.  Shared holders are not capped by a number of robust mutexes
//! (0.1.0 had 64 and failed the 65th at once): up to 1,024 hold at once, and
//! a 1,025th waits, with its timeout, like any other waiter.  Uncontended, a
//! lock is one compare-and-swap in user space, and a hand-off is one futex
//! wake-up.
//!
//! Locks belong to the process: all R objects of one name share one
//! [`MutexShared`] through a process-wide table (as named-lock does), so a
//! second `$lock()` while this process holds it is an `already_locked`
//! error rather than a self-deadlock.  The table holds weak references: when
//! the last R object of a name is garbage collected, a held lock is
//! released.  pthread mutexes belong to the thread that locked them; only
//! R's main thread locks and unlocks them.  A child made by fork does not
//! own them (glibc empties its robust list), and the process id recorded
//! with each lock tells the child that it does not hold it.

use crate::error::{Error, Kind, Result};
use crate::sys::robust;
use crate::store::{self, Assert, Named, ObjKind, Reopen};
use crate::token;
use crate::wait::{Deadline, Interrupts, Outcome};
use crate::sys::addr;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
#[cfg(unix)]
use std::sync::Once;

/// How many processes can hold a mutex shared at once (more wait).
pub const READER_SLOTS: usize = 1024;

#[repr(C)]
struct Body {
    gate: robust::RawLock,
    /// Readers inside (counted in before their slot is set, so it is never
    /// lower than the live readers; a reader killed in between leaves it
    /// high, which only sends writers to the slow path, where it is reset).
    readers: AtomicU32,
    /// Bumped whenever a reader leaves or a slot is freed; writers and
    /// readers waiting for a slot sleep on it.
    changed: AtomicU32,
    /// How many sleep on `changed` (a hint: a killed sleeper costs a spare
    /// wake-up call).
    sleepers: AtomicU32,
    _pad: u32,
    /// A packed [`token::Token`] per shared holder; 0 is free.
    slots: [AtomicU64; READER_SLOTS],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    No,
    Shared(usize),
    Exclusive,
}

struct State {
    held: Held,
    /// The process that took `held` (a fork child is not it).
    pid: u32,
}

/// One per object per process.
pub struct MutexShared {
    name: String,
    obj: store::Object,
    state: Mutex<State>,
}

impl Reopen for MutexShared {
    const KIND: ObjKind = ObjKind::Mutex;
    fn object(&self) -> &store::Object {
        &self.obj
    }
    fn reopen(name: &str) -> Result<Arc<Self>> {
        open(name, Assert::Exists, 0)
    }
}

/// What an R mutex object holds.
pub type MutexRef = Named<MutexShared>;

fn layout(_params: [u32; 4]) -> Option<usize> {
    Some(std::mem::size_of::<Body>())
}

/// This process's id, cached: `getpid()` is a system call (about 0.5 µs
/// here, a third of an uncontended lock + unlock).  A child made by fork()
/// resets the cache in an atfork handler; only R's main thread, which is
/// the one that forks, locks mutexes.
/// (Windows has no fork.)
fn my_pid() -> u32 {
    static PID: AtomicU32 = AtomicU32::new(0);
    #[cfg(unix)]
    {
        static ATFORK: Once = Once::new();
        extern "C" fn forget_pid_in_child() {
            PID.store(0, Ordering::Relaxed);
        }
        ATFORK.call_once(|| {
            // SAFETY: registers a handler that only stores to an atomic.
            unsafe { libc::pthread_atfork(None, None, Some(forget_pid_in_child)) };
        });
    }
    match PID.load(Ordering::Relaxed) {
        0 => {
            let pid = std::process::id();
            PID.store(pid, Ordering::Relaxed);
            pid
        }
        pid => pid,
    }
}

type Table = HashMap<String, Weak<MutexShared>>;
static TABLE: Mutex<Option<Table>> = Mutex::new(None);

impl MutexShared {
    fn body(&self) -> &Body {
        // SAFETY: the body was initialised by the creator and its size checked.
        unsafe { &*(self.obj.map.body() as *const Body) }
    }

    fn gate(&self) -> *mut robust::RawLock {
        &self.body().gate as *const _ as *mut _
    }

    /// Sleep on `changed` (if it still reads `seen`) for at most a slice;
    /// `Some` when the wait must end.
    fn sleep(&self, seen: u32, deadline: Deadline, interrupts: Interrupts) -> Option<Outcome> {
        let b = self.body();
        let Some(slice) = deadline.next_slice() else { return Some(Outcome::TimedOut) };
        b.sleepers.fetch_add(1, Ordering::SeqCst);
        addr::wait(&b.changed, seen, slice);
        let _ = b.sleepers.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1));
        if self.obj.is_removed() {
            return Some(Outcome::Removed);
        }
        interrupts.pending().then_some(Outcome::Interrupted)
    }

    fn notify(&self) {
        let b = self.body();
        b.changed.fetch_add(1, Ordering::SeqCst);
        if b.sleepers.load(Ordering::SeqCst) > 0 {
            addr::wake_all(&b.changed);
        }
    }

    /// Clear the slots of dead readers; returns how many live ones remain.
    fn reap(&self) -> usize {
        let b = self.body();
        // Without the directory nothing can be declared dead.
        let Ok(dir) = store::Dir::open() else { return READER_SLOTS };
        let mut live = 0;
        for slot in b.slots.iter() {
            let w = slot.load(Ordering::Acquire);
            if w == 0 {
                continue;
            }
            match token::Token::unpack(w) {
                Some(t) if token::is_alive_in(&dir, t) => live += 1,
                _ => {
                    if slot.compare_exchange(w, 0, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                        let _ = b.readers.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1));
                    }
                }
            }
        }
        live
    }

    /// Holding the gate: wait until no live reader is inside.
    fn wait_for_readers(&self, deadline: Deadline, interrupts: Interrupts) -> Outcome {
        let b = self.body();
        let mut check_tokens = true;
        loop {
            let seen = b.changed.load(Ordering::SeqCst);
            if b.readers.load(Ordering::SeqCst) == 0 {
                return Outcome::Done;
            }
            // No live reader (any left mid-unlock or died before counting
            // out): the count can start again from zero.
            if check_tokens && self.reap() == 0 {
                b.readers.store(0, Ordering::SeqCst);
                return Outcome::Done;
            }
            match self.sleep(seen, deadline, interrupts) {
                Some(out) => return out,
                // Woken by a leaving reader, or a slice passed: after a
                // quiet slice, look for dead readers again.
                None => check_tokens = b.changed.load(Ordering::SeqCst) == seen,
            }
        }
    }

    /// Holding the gate: take a slot for `me`; None when all are taken.
    fn take_slot(&self, me: u64, start: usize) -> Option<usize> {
        let b = self.body();
        b.readers.fetch_add(1, Ordering::SeqCst);
        for k in 0..READER_SLOTS {
            let i = (start + k) % READER_SLOTS;
            if b.slots[i].compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return Some(i);
            }
        }
        let _ = b.readers.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1));
        None
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn os_err(&self, what: &str, e: std::io::Error) -> Error {
        Error::os(format!("cannot {what} mutex '{}'", self.name), e)
    }

    pub fn lock(&self, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> Result<Outcome> {
        let mut st = self.state();
        let me = my_pid();
        if st.held != Held::No && st.pid == me {
            let how = if st.held == Held::Exclusive { "an exclusive" } else { "a shared" };
            return Err(Error::new(
                Kind::AlreadyLocked,
                format!("this process already holds {how} lock on mutex '{}'; unlock it first", self.name),
            ));
        }
        let removed = self.obj.removed_word();
        let tok = if exclusive { None } else { Some(token::mine()?) };
        loop {
            let out = robust::lock(self.gate(), deadline, interrupts, removed, &|| {})
                .map_err(|e| self.os_err("lock", e))?;
            if out != Outcome::Done {
                return Ok(out);
            }
            if exclusive {
                let out = self.wait_for_readers(deadline, interrupts);
                if out != Outcome::Done {
                    robust::unlock(self.gate());
                    return Ok(out);
                }
                st.held = Held::Exclusive;
                break;
            }
            let t = tok.unwrap_or(token::Token { block: 0, generation: 0 });
            let seen = self.body().changed.load(Ordering::SeqCst);
            let mut taken = self.take_slot(t.pack(), t.block as usize);
            if taken.is_none() && self.reap() < READER_SLOTS {
                taken = self.take_slot(t.pack(), t.block as usize);
            }
            robust::unlock(self.gate());
            if let Some(i) = taken {
                st.held = Held::Shared(i);
                break;
            }
            // Every slot is held by a live reader: wait for one to leave.
            if let Some(out) = self.sleep(seen, deadline, interrupts) {
                return Ok(out);
            }
        }
        st.pid = me;
        Ok(Outcome::Done)
    }

    /// Ok(false) when this process does not hold the lock.
    pub fn unlock(&self) -> Result<bool> {
        let mut st = self.state();
        if st.pid != my_pid() {
            st.held = Held::No; // a fork child: the parent's lock is not ours
        }
        match st.held {
            Held::No => return Ok(false),
            Held::Exclusive => robust::unlock(self.gate()),
            Held::Shared(i) => {
                let b = self.body();
                b.slots[i].store(0, Ordering::Release);
                let _ = b.readers.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1));
                self.notify();
            }
        }
        st.held = Held::No;
        Ok(true)
    }

    pub fn remove(&self) -> Result<bool> {
        self.obj.remove()
    }
}

impl Drop for MutexShared {
    fn drop(&mut self) {
        // The last R object is gone: release a lock we still hold (before
        // the mapping goes, since glibc's robust list points into the gate).
        let _ = self.unlock();
    }
}

fn open_object(name: &str, assert: Assert, cleanup_token: u64) -> Result<store::Object> {
    let init = |body: *mut u8| -> Result<()> {
        let b = body as *mut Body;
        // SAFETY: body is a fresh zeroed region of size_of::<Body>() bytes.
        unsafe { robust::init(std::ptr::addr_of_mut!((*b).gate))? };
        Ok(())
    };
    robust::prepare()?;
    store::open(name, ObjKind::Mutex, assert, [0; 4], cleanup_token, &layout, &init)
}

/// Open (or create) the mutex `name`.
pub fn open(name: &str, assert: Assert, cleanup_token: u64) -> Result<Arc<MutexShared>> {
    store::check_name(name)?;
    let mut table = TABLE.lock().unwrap_or_else(|p| p.into_inner());
    let table = table.get_or_insert_with(HashMap::new);
    if let Some(existing) = table.get(name).and_then(Weak::upgrade) {
        // Reuse our handle if the name still names the same object.
        if store::Dir::open()?.id_of(name)? == Some(existing.obj.id) && !existing.obj.is_removed() {
            if assert == Assert::Create {
                return Err(Error::new(Kind::AlreadyExists, format!("'{name}' already exists")));
            }
            return Ok(existing);
        }
    }
    let obj = open_object(name, assert, cleanup_token)?;
    // Another spelling of an object this process has open (Windows names
    // ignore case): still one per-process state per object.
    if let Some(existing) =
        table.values().filter_map(Weak::upgrade).find(|m| m.obj.id == obj.id && !m.obj.is_removed())
    {
        return Ok(existing);
    }
    let shared = Arc::new(MutexShared {
        name: name.to_string(),
        obj,
        state: Mutex::new(State { held: Held::No, pid: 0 }),
    });
    table.retain(|_, w| w.strong_count() > 0);
    table.insert(name.to_string(), Arc::downgrade(&shared));
    Ok(shared)
}


/// Remove the mutex `name` (for `cleanup = TRUE`).
pub fn remove_name(name: &str) -> Result<bool> {
    store::remove_name(name, ObjKind::Mutex, &layout, &|_| {})
}

/// What `ipc_objects()` shows of a mutex, read from its bytes without
/// touching its locks: the gate's state ([`robust::status`]), and shared
/// holders, the slots whose token is alive.
pub fn status(body: &[u8]) -> &'static str {
    let word8 = |off: usize| {
        body.get(off..off + 8)
            .map(|b| u64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .unwrap_or(0)
    };
    let gate_at = std::mem::offset_of!(Body, gate);
    let (gate_held, gate_died) = robust::status(body.get(gate_at..).unwrap_or(&[]));
    let slots = std::mem::offset_of!(Body, slots);
    let dir = store::Dir::open().ok();
    let mut dead = false;
    let readers = (0..READER_SLOTS)
        .filter_map(|i| token::Token::unpack(word8(slots + 8 * i)))
        .filter(|t| {
            let alive = dir.as_ref().is_none_or(|d| token::is_alive_in(d, *t));
            dead |= !alive;
            alive
        })
        .count();
    if gate_held || readers > 0 {
        "locked"
    } else if gate_died || dead {
        "holder died"
    } else {
        "unlocked"
    }
}


/// Lock the mutex the name names now (following it after a removal, also
/// in the middle of a wait).
pub fn lock_named(m: &MutexRef, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> Result<Outcome> {
    m.follow(|now| now.lock(exclusive, deadline, interrupts))
}

/// Unlock what this process holds through this name: the object it locked,
/// even if that was removed since, else the one the name names now.
pub fn unlock_named(m: &MutexRef) -> Result<bool> {
    let last = m.last();
    if last.unlock()? {
        return Ok(true);
    }
    if !last.obj.is_removed() {
        return Ok(false); // the name still names it: nothing else to try
    }
    match m.get() {
        Ok(now) => now.unlock(),
        Err(e) if e.kind == Kind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}





#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn body_bytes(m: &MutexShared) -> Vec<u8> {
        // SAFETY: reads the mapped body, which is body_len() bytes.
        unsafe { std::slice::from_raw_parts(m.obj.map.body(), m.obj.map.body_len()).to_vec() }
    }

    #[cfg(windows)]
    #[test]
    fn another_spelling_of_a_name_is_the_same_mutex() {
        let name = format!("CaseTest{}", std::process::id());
        let a = open(&name, Assert::Create, 0).unwrap();
        let b = open(&name.to_lowercase(), Assert::Exists, 0).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.lock(true, Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::Done);
        assert_eq!(b.lock(true, Deadline::Now, Interrupts::Ignore).err().unwrap().kind, Kind::AlreadyLocked);
        assert!(b.unlock().unwrap());
        assert!(a.remove().unwrap());
    }

    #[test]
    fn per_process_locks_shared_and_exclusive() {
        let name = format!("mutextest{}", std::process::id());
        let a = open(&name, Assert::Create, 0).unwrap();
        let b = open(&name, Assert::None, 0).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let (now, ign) = (Deadline::Now, Interrupts::Ignore);
        assert_eq!(a.lock(true, now, ign).unwrap(), Outcome::Done);
        assert_eq!(b.lock(false, now, ign).err().unwrap().kind, Kind::AlreadyLocked);
        assert_eq!(status(&body_bytes(&a)), "locked");
        assert!(b.unlock().unwrap());
        assert!(!a.unlock().unwrap());
        assert_eq!(status(&body_bytes(&a)), "unlocked");
        assert_eq!(a.lock(false, now, ign).unwrap(), Outcome::Done);
        assert_eq!(status(&body_bytes(&a)), "locked");
        // Another thread stands in for another process: a shared holder
        // keeps a writer out until it leaves.
        let name2 = name.clone();
        let t = std::thread::spawn(move || {
            let obj = open_object(&name2, Assert::Exists, 0).unwrap();
            let other = MutexShared { name: name2, obj, state: Mutex::new(State { held: Held::No, pid: 0 }) };
            let t0 = Instant::now();
            let out = other.lock(true, Deadline::from_ms(100.0), Interrupts::Ignore).unwrap();
            (out, t0.elapsed())
        });
        let (out, el) = t.join().unwrap();
        assert_eq!(out, Outcome::TimedOut);
        assert!(el >= Duration::from_millis(100), "{el:?}");
        assert!(a.unlock().unwrap());
        assert!(a.remove().unwrap());
        assert!(!b.remove().unwrap());
    }
}

#[cfg(test)]
mod cross_process {
    use super::*;
    use std::process::Child;
    use std::time::{Duration, Instant};

    const CHILD_ENV: &str = "RUSTIPC_MUTEX_TEST_CHILD";
    /// How soon a killed holder is taken over: within two slices (Windows:
    /// the lock on a killed process's token file goes a little later, and
    /// waits poll; see [`crate::sys::addr`]).
    const TAKEOVER: Duration = Duration::from_millis(if cfg!(windows) { 250 } else { 100 });
    use crate::child::{sigkill, READY};

    /// Not a test by itself: the child role of the tests below.
    #[test]
    fn child_role() {
        let Ok(spec) = std::env::var(CHILD_ENV) else { return };
        let (role, name) = spec.split_once(':').unwrap();
        let m = open(name, Assert::Exists, 0).unwrap();
        let exclusive = role == "exclusive";
        assert_eq!(m.lock(exclusive, Deadline::Never, Interrupts::Ignore).unwrap(), Outcome::Done);
        // libtest may print "test <name> ... " on the same line first.
        println!("{READY}");
        std::thread::sleep(Duration::from_secs(120));
    }

    fn spawn_child(role: &str, name: &str) -> Child {
        crate::child::spawn("mutex::cross_process::child_role", CHILD_ENV, &format!("{role}:{name}"))
    }

    #[test]
    fn many_shared_holders_and_killed_holders_are_taken_over() {
        let name = format!("mutexxp{}", std::process::id());
        let m = open(&name, Assert::Create, 0).unwrap();
        // 70 processes hold it shared at once (0.1.0 failed the 65th).
        let readers: Vec<Child> = (0..70).map(|_| spawn_child("shared", &name)).collect();
        assert_eq!(status(&body(&m)), "locked");
        let t = Instant::now();
        assert_eq!(m.lock(true, Deadline::from_ms(100.0), Interrupts::Ignore).unwrap(), Outcome::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(100));
        // Killed with SIGKILL, they leave their tokens; a writer clears
        // them and gets the lock within a slice or two of the last kill.
        for r in readers {
            sigkill(r);
        }
        let t = Instant::now();
        assert_eq!(m.lock(true, Deadline::from_ms(5000.0), Interrupts::Ignore).unwrap(), Outcome::Done);
        assert!(t.elapsed() < TAKEOVER, "{:?}", t.elapsed());
        assert!(m.unlock().unwrap());
        // A killed exclusive holder: EOWNERDEAD for the next locker.
        let holder = spawn_child("exclusive", &name);
        assert_eq!(m.lock(false, Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::TimedOut);
        // A wait for it ends within 250 ms of an interrupt, holding nothing.
        let asked = crate::child::interrupt_after(std::thread::current().id(), Duration::from_millis(100));
        assert_eq!(m.lock(true, Deadline::Never, Interrupts::Check).unwrap(), Outcome::Interrupted);
        let asked = asked.join().unwrap();
        assert!(asked.elapsed() < Duration::from_millis(250), "{:?}", asked.elapsed());
        sigkill(holder);
        assert_eq!(status(&body(&m)), "holder died");
        let t = Instant::now();
        assert_eq!(m.lock(false, Deadline::from_ms(5000.0), Interrupts::Ignore).unwrap(), Outcome::Done);
        assert!(t.elapsed() < TAKEOVER, "{:?}", t.elapsed());
        assert!(m.unlock().unwrap());
        assert_eq!(status(&body(&m)), "unlocked");
        assert!(m.remove().unwrap());
    }

    #[test]
    fn a_reader_beyond_the_slots_waits_for_one() {
        // Fill every slot with tokens of blocks this process locks through
        // other descriptors (alive, as far as anyone can tell), then free one.
        let name = format!("mutexfull{}", std::process::id());
        let m = open(&name, Assert::Create, 0).unwrap();
        let dir = store::Dir::open().unwrap();
        let mine = token::mine().unwrap();
        let mut holders = Vec::new();
        let mut block = 0;
        for i in 0..READER_SLOTS {
            // Blocks other processes (children of tests running alongside)
            // hold are skipped.
            let fd = loop {
                if block != mine.block {
                    let fd = dir.open_private(&format!(".uid-{block:03x}")).unwrap();
                    if crate::sys::token::try_claim(&fd).unwrap() {
                        break fd;
                    }
                }
                block += 1;
            };
            crate::sys::fs::write_at(&fd, &7u32.to_ne_bytes(), 0).unwrap();
            let t = token::Token { block, generation: 7 };
            m.body().slots[i].store(t.pack(), Ordering::SeqCst);
            m.body().readers.fetch_add(1, Ordering::SeqCst);
            holders.push((fd, format!(".uid-{block:03x}")));
            block += 1;
        }
        let t = Instant::now();
        assert_eq!(m.lock(false, Deadline::from_ms(150.0), Interrupts::Ignore).unwrap(), Outcome::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(150));
        // One "reader" dies: its slot is reclaimed and we get in.
        let (fd, file) = holders.pop().unwrap();
        drop(fd);
        assert_eq!(m.lock(false, Deadline::from_ms(2000.0), Interrupts::Ignore).unwrap(), Outcome::Done);
        assert!(m.unlock().unwrap());
        for (fd, file) in holders.into_iter().chain(std::iter::once((dir.open_private(&file).unwrap(), file))) {
            drop(fd);
            dir.remove_file(&file).unwrap();
        }
        for s in m.body().slots.iter() {
            s.store(0, Ordering::SeqCst);
        }
        m.body().readers.store(0, Ordering::SeqCst);
        assert!(m.remove().unwrap());
    }

    fn body(m: &MutexShared) -> Vec<u8> {
        // SAFETY: reads the mapped body, which is body_len() bytes.
        unsafe { std::slice::from_raw_parts(m.obj.map.body(), m.obj.map.body_len()).to_vec() }
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    #[test]
    #[ignore]
    fn mutex_speed() {
        let name = format!("mutexbench{}", std::process::id());
        let m = open(&name, Assert::Create, 0).unwrap();
        let t = std::time::Instant::now();
        for _ in 0..100_000 {
            m.lock(true, Deadline::Never, Interrupts::Ignore).unwrap();
            m.unlock().unwrap();
        }
        eprintln!("mutex lock+unlock: {:?} per pair", t.elapsed() / 100_000);
        let named = Named::new(&name, Arc::clone(&m));
        let t = std::time::Instant::now();
        for _ in 0..100_000 {
            lock_named(&named, true, Deadline::Never, Interrupts::Ignore).unwrap();
            unlock_named(&named).unwrap();
        }
        eprintln!("mutex lock+unlock through the name: {:?} per pair", t.elapsed() / 100_000);
        m.remove().unwrap();
    }
}
