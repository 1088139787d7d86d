//! `mutex()`: named shared/exclusive locks across processes.
//!
//! A mutex object holds robust, process-shared pthread mutexes
//! (`PTHREAD_MUTEX_ROBUST`, written with the `libc` crate; raw_sync's mutex
//! is not robust and its timed waits are broken): a gate `W` and
//! [`READER_SLOTS`] reader slots.
//! * exclusive: lock `W`, then wait for every reader slot marked busy;
//!   unlock = unlock `W`;
//! * shared: lock `W`, take a free reader slot (mark it busy), unlock `W`;
//!   unlock = unmark and unlock the slot.
//!
//! When a holder dies in any way (SIGKILL included) the kernel marks the
//! mutexes it owned "owner died" and wakes a waiter, who gets `EOWNERDEAD`,
//! marks them consistent and goes on: a killed holder never leaves the mutex
//! locked.  Uncontended, a lock is one compare-and-swap in user space, and a
//! hand-off is one futex wake-up (OFD locks, which [`crate::filelock`] uses,
//! took ~0.4 ms to hand off here and a system call per operation).
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

use crate::error::{handle, to_r, Error, Kind, Result};
use crate::outcome::outcome_to_r;
use crate::robust::{init_robust, robust_lock, unlock_raw};
use crate::store::{self, Assert, Named, ObjKind, Reopen};
use crate::wait::{Deadline, Interrupts, Outcome};
use extendr_api::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};

/// How many processes can hold a mutex shared at once.
pub const READER_SLOTS: usize = 64;

#[repr(C)]
struct Body {
    gate: libc::pthread_mutex_t,
    /// Bit i set: reader slot i is (or was, until its holder died) taken.
    busy: AtomicU64,
    slots: [libc::pthread_mutex_t; READER_SLOTS],
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
fn my_pid() -> u32 {
    static PID: AtomicU32 = AtomicU32::new(0);
    static ATFORK: Once = Once::new();
    extern "C" fn forget_pid_in_child() {
        PID.store(0, Ordering::Relaxed);
    }
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic.
        unsafe { libc::pthread_atfork(None, None, Some(forget_pid_in_child)) };
    });
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

    fn gate(&self) -> *mut libc::pthread_mutex_t {
        &self.body().gate as *const _ as *mut _
    }

    fn slot(&self, i: usize) -> *mut libc::pthread_mutex_t {
        &self.body().slots[i] as *const _ as *mut _
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
        let out = robust_lock(self.gate(), deadline, interrupts, removed, &|| {})
            .map_err(|e| self.os_err("lock", e))?;
        if out != Outcome::Done {
            return Ok(out);
        }
        let busy = &self.body().busy;
        if exclusive {
            // Wait for the readers inside; no new one can enter while we hold
            // the gate.
            let mask = busy.load(Ordering::Acquire);
            for i in (0..READER_SLOTS).filter(|i| mask & (1 << i) != 0) {
                let out = robust_lock(self.slot(i), deadline, interrupts, removed, &|| {
                    busy.fetch_and(!(1 << i), Ordering::AcqRel);
                });
                match out {
                    Ok(Outcome::Done) => unlock_raw(self.slot(i)),
                    Ok(other) => {
                        unlock_raw(self.gate());
                        return Ok(other);
                    }
                    Err(e) => {
                        unlock_raw(self.gate());
                        return Err(self.os_err("lock", e));
                    }
                }
            }
            st.held = Held::Exclusive;
        } else {
            // A slot whose holder died is free again (EOWNERDEAD).
            let mut taken = None;
            for i in 0..READER_SLOTS {
                // SAFETY: initialised robust mutex in our mapping.
                match unsafe { libc::pthread_mutex_trylock(self.slot(i)) } {
                    0 => {}
                    libc::EOWNERDEAD => {
                        // SAFETY: we hold it in the owner-died state.
                        unsafe { libc::pthread_mutex_consistent(self.slot(i)) };
                    }
                    _ => continue,
                }
                busy.fetch_or(1 << i, Ordering::AcqRel);
                taken = Some(i);
                break;
            }
            unlock_raw(self.gate());
            let Some(i) = taken else {
                return Err(Error::new(
                    Kind::OsError,
                    format!("mutex '{}' already has {READER_SLOTS} shared holders", self.name),
                ));
            };
            st.held = Held::Shared(i);
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
            Held::Exclusive => unlock_raw(self.gate()),
            Held::Shared(i) => {
                self.body().busy.fetch_and(!(1 << i), Ordering::AcqRel);
                unlock_raw(self.slot(i));
            }
        }
        st.held = Held::No;
        Ok(true)
    }

    /// Whether this process holds the lock.
    pub fn held_here(&self) -> bool {
        let st = self.state();
        st.held != Held::No && st.pid == my_pid()
    }

    pub fn remove(&self) -> Result<bool> {
        self.obj.remove()
    }
}

impl Drop for MutexShared {
    fn drop(&mut self) {
        // The last R object is gone: release a lock we still hold (before
        // the mapping goes, since glibc's robust list points into it).
        let _ = self.unlock();
    }
}

fn open_object(name: &str, assert: Assert, flags: u32) -> Result<store::Object> {
    let init = |body: *mut u8| -> Result<()> {
        let b = body as *mut Body;
        // SAFETY: body is a fresh zeroed region of size_of::<Body>() bytes.
        unsafe {
            init_robust(std::ptr::addr_of_mut!((*b).gate))?;
            for i in 0..READER_SLOTS {
                init_robust(std::ptr::addr_of_mut!((*b).slots[i]))?;
            }
        }
        Ok(())
    };
    store::open(name, ObjKind::Mutex, assert, [0; 4], flags, &layout, &init)
}

/// Open (or create) the mutex `name`.
pub fn open(name: &str, assert: Assert, flags: u32) -> Result<Arc<MutexShared>> {
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
    let obj = open_object(name, assert, flags)?;
    let shared = Arc::new(MutexShared {
        name: name.to_string(),
        obj,
        state: Mutex::new(State { held: Held::No, pid: 0 }),
    });
    table.retain(|_, w| w.strong_count() > 0);
    table.insert(name.to_string(), Arc::downgrade(&shared));
    Ok(shared)
}

fn get(x: &Robj) -> Result<&MutexRef> {
    handle(x, "mutex")
}

/// Remove the mutex `name` (for `cleanup = TRUE`).
pub fn remove_name(name: &str) -> Result<bool> {
    store::remove_name(name, ObjKind::Mutex, &layout, &|_| {})
}

/// What `ipc_objects()` shows of a mutex, read from its bytes without
/// touching its locks.  On Linux a robust mutex's first word is 0 when free,
/// else the owner's thread id, with bit 30 set by the kernel when the owner
/// died holding it (and the thread id cleared), until a new owner recovers it.
pub fn status(body: &[u8]) -> &'static str {
    const OWNER_DIED: u32 = 0x4000_0000;
    const TID_MASK: u32 = 0x3fff_ffff;
    let word = |off: usize| -> u32 {
        body.get(off..off + 4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])).unwrap_or(0)
    };
    let size = std::mem::size_of::<libc::pthread_mutex_t>();
    let offs = std::iter::once(std::mem::offset_of!(Body, gate))
        .chain((0..READER_SLOTS).map(|i| std::mem::offset_of!(Body, slots) + i * size));
    let (mut held, mut died) = (false, false);
    for off in offs {
        let w = word(off);
        held |= w & TID_MASK != 0;
        died |= w & OWNER_DIED != 0 && w & TID_MASK == 0;
    }
    if held {
        "locked"
    } else if died {
        "holder died"
    } else {
        "unlocked"
    }
}

#[extendr]
fn rs_mutex_open(name: &str, assert: &str, cleanup: bool) -> Robj {
    let flags = if cleanup { store::FLAG_CLEANUP } else { 0 };
    to_r(Assert::parse(assert).and_then(|a| open(name, a, flags)).map(|m| ExternalPtr::new(Named::new(name, m))))
}

/// Lock the mutex the name names now (following it after a removal, also
/// in the middle of a wait).
pub fn lock_named(m: &MutexRef, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> Result<Outcome> {
    loop {
        match m.get()?.lock(exclusive, deadline, interrupts)? {
            Outcome::Removed => continue,
            out => return Ok(out),
        }
    }
}

/// Unlock what this process holds through this name: the object it locked,
/// even if that was removed since, else the one the name names now.
pub fn unlock_named(m: &MutexRef) -> Result<bool> {
    let last = m.last();
    if last.held_here() {
        return last.unlock();
    }
    match m.get() {
        Ok(now) => now.unlock(),
        Err(e) if e.kind == Kind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[extendr]
fn rs_mutex_lock(h: Robj, shared: bool, timeout_ms: f64) -> Robj {
    outcome_to_r(get(&h).and_then(|m| lock_named(m, !shared, Deadline::from_ms(timeout_ms), Interrupts::Check)))
}

#[extendr]
fn rs_mutex_unlock(h: Robj) -> Robj {
    to_r(get(&h).and_then(unlock_named))
}

#[extendr]
fn rs_mutex_remove(h: Robj) -> Robj {
    to_r(get(&h).and_then(|m| match m.get() {
        Ok(now) => now.remove(),
        Err(e) if e.kind == Kind::NotFound => Ok(false),
        Err(e) => Err(e),
    }))
}

extendr_module! {
    mod mutex;
    fn rs_mutex_open;
    fn rs_mutex_lock;
    fn rs_mutex_unlock;
    fn rs_mutex_remove;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn body_bytes(m: &MutexShared) -> Vec<u8> {
        // SAFETY: reads the mapped body, which is body_len() bytes.
        unsafe { std::slice::from_raw_parts(m.obj.map.body(), m.obj.map.body_len()).to_vec() }
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
        m.remove().unwrap();
    }
}
