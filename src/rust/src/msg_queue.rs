//! `msg_queue()`: a priority queue of text messages across processes.
//!
//! Layout of the object's body: a [`QHead`] (a robust process-shared mutex,
//! counters and two futex words), then `max_count` slots of
//! `SLOT_HEAD + 4 * max_nchar` bytes (a character takes at most 4 bytes in
//! UTF-8, so `max_nchar` counts characters, not bytes).
//!
//! Why it cannot be wedged or corrupted by a killed peer:
//! * the mutex is `PTHREAD_MUTEX_ROBUST`: if its holder dies, the next
//!   locker gets `EOWNERDEAD`, recounts the slots ([`Queue::repair`]) and
//!   marks it consistent.  It is held only for a copy, never while waiting;
//! * a message becomes visible by one store (its slot's `state` turns FULL
//!   after the text is written) and is consumed by one store (FREE after the
//!   text is copied out), so a process killed anywhere affects at most the
//!   message it was sending or receiving;
//! * waiting uses raw futexes on two counters, not pthread condition
//!   variables: glibc's process-shared condvar can block a signaller forever
//!   when a waiter is killed, a futex keeps no state for a dead waiter.
//!
//! Delivery order: highest priority first, first in first out within a
//! priority (each message carries a sequence number).

use crate::error::{handle, to_r, Error, Kind, Result};
use crate::futex;
use crate::outcome::outcome_to_r;
use crate::robust::{init_robust, robust_lock, unlock_raw};
use crate::store::{self, Assert, Named, ObjKind, Reopen};
use crate::wait::{Deadline, Interrupts, Outcome};
use extendr_api::prelude::*;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

const FREE: u32 = 0;
const FULL: u32 = 1;
const SLOT_HEAD: usize = 24;
const HEAD_LEN: usize = 128;
/// The largest queue file (1 GiB).
const MAX_BYTES: usize = 1 << 30;

#[repr(C)]
struct QHead {
    mutex: libc::pthread_mutex_t,
    seq: AtomicU64,
    count: AtomicU32,
    max_count: AtomicU32,
    max_nchar: AtomicU32,
    slot_size: AtomicU32,
    /// Futex words, bumped after every send / receive.
    not_empty: AtomicU32,
    not_full: AtomicU32,
    /// How many processes wait on each (a hint: a killed waiter only costs a
    /// spare wake-up call).
    wait_empty: AtomicU32,
    wait_full: AtomicU32,
}

#[repr(C)]
struct SlotHead {
    state: AtomicU32,
    priority: AtomicU32,
    seq: AtomicU64,
    nbytes: AtomicU32,
    nchars: AtomicU32,
}

const _: () = assert!(std::mem::size_of::<QHead>() <= HEAD_LEN);
const _: () = assert!(std::mem::size_of::<SlotHead>() == SLOT_HEAD);

pub struct Queue {
    name: String,
    obj: store::Object,
    max_count: u32,
    max_nchar: u32,
    slot_size: usize,
}

fn slot_size(max_nchar: u32) -> usize {
    (SLOT_HEAD + 4 * max_nchar as usize).div_ceil(8) * 8
}

/// The body length `[max_count, max_nchar, ..]` implies, or `None` when
/// out of range (computed in u64, so no header can overflow it).
fn layout(p: [u32; 4]) -> Option<usize> {
    let (mc, mn) = (p[0] as u64, p[1] as u64);
    if mc == 0 || mn == 0 {
        return None;
    }
    let slot = (SLOT_HEAD as u64 + 4 * mn).div_ceil(8) * 8;
    let body = HEAD_LEN as u64 + mc * slot;
    (body <= MAX_BYTES as u64).then_some(body as usize)
}

impl Reopen for Queue {
    const KIND: ObjKind = ObjKind::MsgQueue;
    fn object(&self) -> &store::Object {
        &self.obj
    }
    fn reopen(name: &str) -> Result<Arc<Self>> {
        Queue::open(name, Assert::Exists, 1, 1, 0).map(Arc::new)
    }
}

fn wake_all(obj: &store::Object) {
    // SAFETY: every queue body starts with a QHead (layout checked).
    let head = unsafe { &*(obj.map.body() as *const QHead) };
    head.not_empty.fetch_add(1, Ordering::Release);
    head.not_full.fetch_add(1, Ordering::Release);
    futex::wake_all(&head.not_empty);
    futex::wake_all(&head.not_full);
}

/// Holds the queue's mutex; unlocks on drop.
struct Guard<'a>(&'a Queue);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // Guard is only made after locking the mutex.
        unlock_raw(self.0.mutex());
    }
}

impl Queue {
    fn head(&self) -> &QHead {
        // SAFETY: the body starts with an initialised QHead (checked size).
        unsafe { &*(self.obj.map.body() as *const QHead) }
    }

    fn mutex(&self) -> *mut libc::pthread_mutex_t {
        self.obj.map.body() as *mut libc::pthread_mutex_t
    }

    fn slot(&self, i: usize) -> (&SlotHead, *mut u8) {
        // SAFETY: i < max_count, and the file holds max_count slots (checked
        // on open); slots are 8-byte aligned.
        unsafe {
            let p = self.obj.map.body().add(HEAD_LEN + i * self.slot_size);
            (&*(p as *const SlotHead), p.add(SLOT_HEAD))
        }
    }

    pub fn open(name: &str, assert: Assert, max_count: u32, max_nchar: u32, flags: u32) -> Result<Queue> {
        if max_count == 0 || max_nchar == 0 {
            return Err(Error::new(Kind::InvalidArgument, "`max_count` and `max_nchar` must be at least 1"));
        }
        if layout([max_count, max_nchar, 0, 0]).is_none() {
            let need = HEAD_LEN as u64 + max_count as u64 * slot_size(max_nchar) as u64;
            return Err(Error::new(
                Kind::InvalidArgument,
                format!("a queue of {max_count} messages of {max_nchar} characters needs {need} bytes; the limit is {MAX_BYTES}"),
            ));
        }
        let init = move |body: *mut u8| -> Result<()> {
            // SAFETY: body is a fresh zeroed region of body_len bytes, starting
            // with a QHead, that no other process can see yet.
            unsafe {
                let head = &*(body as *const QHead);
                head.max_count.store(max_count, Ordering::Relaxed);
                head.max_nchar.store(max_nchar, Ordering::Relaxed);
                head.slot_size.store(slot_size(max_nchar) as u32, Ordering::Relaxed);
            }
            init_robust(body as *mut libc::pthread_mutex_t)
        };
        let obj = store::open(name, ObjKind::MsgQueue, assert, [max_count, max_nchar, 0, 0], flags, &layout, &init)?;
        // An existing queue keeps its own sizes (checked against the file by
        // store::open).
        let (mc, mn) = (obj.params[0], obj.params[1]);
        Ok(Queue { name: name.to_string(), obj, max_count: mc, max_nchar: mn, slot_size: slot_size(mn) })
    }

    /// After a holder died inside the mutex: make the counters agree with the
    /// slots again.  Slot states are only ever FREE or FULL.
    fn repair(&self) {
        let mut count = 0;
        let mut seq = self.head().seq.load(Ordering::Relaxed);
        for i in 0..self.max_count as usize {
            let (s, _) = self.slot(i);
            match s.state.load(Ordering::Acquire) {
                FULL => {
                    count += 1;
                    seq = seq.max(s.seq.load(Ordering::Relaxed) + 1);
                }
                FREE => {}
                _ => s.state.store(FREE, Ordering::Release),
            }
        }
        self.head().count.store(count, Ordering::Relaxed);
        self.head().seq.store(seq, Ordering::Relaxed);
    }

    /// Lock the queue's mutex (held only for a copy, so no deadline);
    /// Err(outcome) when interrupted or removed.
    fn lock(&self, interrupts: Interrupts) -> Result<std::result::Result<Guard<'_>, Outcome>> {
        if self.obj.is_removed() {
            return Ok(Err(Outcome::Removed));
        }
        match robust_lock(self.mutex(), Deadline::Never, interrupts, self.obj.removed_word(), &|| self.repair()) {
            Ok(Outcome::Done) => Ok(Ok(Guard(self))),
            Ok(out) => Ok(Err(out)),
            Err(e) => Err(Error::os(format!("cannot lock msg_queue '{}'", self.name), e)),
        }
    }

    pub fn send(&self, msg: &str, priority: u32, deadline: Deadline, interrupts: Interrupts) -> Result<Outcome> {
        let nchars = msg.chars().count();
        if nchars > self.max_nchar as usize {
            return Err(Error::new(
                Kind::TooLong,
                format!(
                    "`msg` has {nchars} characters; msg_queue '{}' takes at most {} (its max_nchar)",
                    self.name, self.max_nchar
                ),
            ));
        }
        let head = self.head();
        loop {
            let guard = match self.lock(interrupts)? {
                Ok(g) => g,
                Err(out) => return Ok(out),
            };
            if head.count.load(Ordering::Relaxed) < self.max_count {
                let free = (0..self.max_count as usize).find(|&i| self.slot(i).0.state.load(Ordering::Acquire) == FREE);
                if let Some(i) = free {
                    let (s, data) = self.slot(i);
                    // SAFETY: the slot is FREE and we hold the mutex, so nobody
                    // reads it; msg fits (nchars <= max_nchar, 4 bytes each).
                    unsafe { std::ptr::copy_nonoverlapping(msg.as_ptr(), data, msg.len()) };
                    s.nbytes.store(msg.len() as u32, Ordering::Relaxed);
                    s.nchars.store(nchars as u32, Ordering::Relaxed);
                    s.priority.store(priority, Ordering::Relaxed);
                    s.seq.store(head.seq.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
                    s.state.store(FULL, Ordering::Release); // the message exists from here
                    head.count.fetch_add(1, Ordering::Relaxed);
                    drop(guard);
                    notify(&head.not_empty, &head.wait_empty);
                    return Ok(Outcome::Done);
                }
                // count disagreed with the slots (cannot happen after repair);
                // fix it and treat the queue as full this round.
                self.repair();
            }
            if let Some(out) = sleep_on(guard, &head.not_full, &head.wait_full, deadline, interrupts, &self.obj) {
                return Ok(out);
            }
        }
    }

    /// Ok(Ok(msg)), or Ok(Err(outcome)) when timed out or interrupted.
    pub fn receive(&self, deadline: Deadline, interrupts: Interrupts) -> Result<std::result::Result<String, Outcome>> {
        let head = self.head();
        loop {
            let guard = match self.lock(interrupts)? {
                Ok(g) => g,
                Err(out) => return Ok(Err(out)),
            };
            if head.count.load(Ordering::Relaxed) > 0 {
                let mut best: Option<(usize, u32, u64)> = None;
                for i in 0..self.max_count as usize {
                    let (s, _) = self.slot(i);
                    if s.state.load(Ordering::Acquire) != FULL {
                        continue;
                    }
                    let (p, q) = (s.priority.load(Ordering::Relaxed), s.seq.load(Ordering::Relaxed));
                    if best.is_none_or(|(_, bp, bq)| p > bp || (p == bp && q < bq)) {
                        best = Some((i, p, q));
                    }
                }
                if let Some((i, _, _)) = best {
                    let (s, data) = self.slot(i);
                    let n = (s.nbytes.load(Ordering::Relaxed) as usize).min(self.slot_size - SLOT_HEAD);
                    let mut bytes = vec![0u8; n];
                    // SAFETY: the slot is FULL and we hold the mutex; n is
                    // within the slot.
                    unsafe { std::ptr::copy_nonoverlapping(data, bytes.as_mut_ptr(), n) };
                    s.state.store(FREE, Ordering::Release); // consumed from here
                    head.count.fetch_sub(1, Ordering::Relaxed);
                    drop(guard);
                    notify(&head.not_full, &head.wait_full);
                    return Ok(Ok(String::from_utf8_lossy(&bytes).into_owned()));
                }
                self.repair();
            }
            if let Some(out) = sleep_on(guard, &head.not_empty, &head.wait_empty, deadline, interrupts, &self.obj) {
                return Ok(Err(out));
            }
        }
    }

    pub fn count(&self) -> u32 {
        self.head().count.load(Ordering::Acquire)
    }

    pub fn remove(&self) -> Result<bool> {
        let r = self.obj.remove();
        wake_all(&self.obj);
        r
    }
}

/// Remove the queue `name` (for `cleanup = TRUE`).
pub fn remove_name(name: &str) -> Result<bool> {
    store::remove_name(name, ObjKind::MsgQueue, &layout, &wake_all)
}

/// Release the queue (`guard`) and sleep on the futex `word`, counted in
/// `waiters`, for at most one slice.  `Some` when the wait must end: the
/// deadline passed, an interrupt is pending or the queue was removed.
fn sleep_on(
    guard: Guard<'_>,
    word: &AtomicU32,
    waiters: &AtomicU32,
    deadline: Deadline,
    interrupts: Interrupts,
    obj: &store::Object,
) -> Option<Outcome> {
    let Some(slice) = deadline.next_slice() else { return Some(Outcome::TimedOut) };
    let seen = word.load(Ordering::Acquire);
    waiters.fetch_add(1, Ordering::AcqRel);
    drop(guard);
    futex::wait(word, seen, slice);
    let _ = waiters.fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1));
    if obj.is_removed() {
        return Some(Outcome::Removed);
    }
    interrupts.pending().then_some(Outcome::Interrupted)
}

/// Bump the futex `word` and wake its sleepers, if `waiters` says any.
fn notify(word: &AtomicU32, waiters: &AtomicU32) {
    word.fetch_add(1, Ordering::Release);
    if waiters.load(Ordering::Acquire) > 0 {
        futex::wake_all(word);
    }
}

type Handle = Named<Queue>;

fn get(x: &Robj) -> Result<&Handle> {
    handle(x, "msg_queue")
}

#[extendr]
fn rs_mq_open(name: &str, assert: &str, max_count: f64, max_nchar: f64, cleanup: bool) -> Robj {
    let flags = if cleanup { store::FLAG_CLEANUP } else { 0 };
    to_r(
        Assert::parse(assert)
            .and_then(|a| Queue::open(name, a, max_count as u32, max_nchar as u32, flags))
            .map(|q| ExternalPtr::new(Named::new(name, Arc::new(q)))),
    )
}

#[extendr]
fn rs_mq_send(h: Robj, msg: &str, timeout_ms: f64, priority: f64) -> Robj {
    let deadline = Deadline::from_ms(timeout_ms);
    outcome_to_r(get(&h).and_then(|q| loop {
        match q.get()?.send(msg, priority as u32, deadline, Interrupts::Check)? {
            Outcome::Removed => continue,
            out => break Ok(out),
        }
    }))
}

/// The message, NULL on timeout, or an error list.
#[extendr]
fn rs_mq_receive(h: Robj, timeout_ms: f64) -> Robj {
    let deadline = Deadline::from_ms(timeout_ms);
    let got = get(&h).and_then(|q| loop {
        match q.get()?.receive(deadline, Interrupts::Check)? {
            Err(Outcome::Removed) => continue,
            other => break Ok(other),
        }
    });
    match got {
        Ok(Ok(msg)) => msg.into(),
        Ok(Err(Outcome::Interrupted)) => Error::interrupted().into(),
        Ok(Err(_)) => ().into(),
        Err(e) => e.into(),
    }
}

/// c(count, max_count, max_nchar) as integers.
#[extendr]
fn rs_mq_info(h: Robj) -> Robj {
    to_r(get(&h).and_then(|q| q.get()).map(|q| vec![q.count() as i32, q.max_count as i32, q.max_nchar as i32]))
}

#[extendr]
fn rs_mq_remove(h: Robj) -> Robj {
    to_r(get(&h).and_then(|q| match q.get() {
        Ok(now) => now.remove(),
        Err(e) if e.kind == Kind::NotFound => Ok(false),
        Err(e) => Err(e),
    }))
}

extendr_module! {
    mod msg_queue;
    fn rs_mq_open;
    fn rs_mq_send;
    fn rs_mq_receive;
    fn rs_mq_info;
    fn rs_mq_remove;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_fifo_and_limits() {
        let name = format!("mqtest{}", std::process::id());
        let q = Queue::open(&name, Assert::Create, 4, 3, 0).unwrap();
        let d = Deadline::Now;
        let i = Interrupts::Ignore;
        assert_eq!(q.send("a", 0, d, i).unwrap(), Outcome::Done);
        assert_eq!(q.send("b", 5, d, i).unwrap(), Outcome::Done);
        assert_eq!(q.send("c", 0, d, i).unwrap(), Outcome::Done);
        assert_eq!(q.send("éèê", 5, d, i).unwrap(), Outcome::Done);
        assert_eq!(q.send("x", 9, d, i).unwrap(), Outcome::TimedOut);
        assert_eq!(q.send("abcd", 0, d, i).err().unwrap().kind, Kind::TooLong);
        assert_eq!(q.count(), 4);
        let got: Vec<String> = (0..4).map(|_| q.receive(d, i).unwrap().unwrap()).collect();
        assert_eq!(got, vec!["b", "éèê", "a", "c"]);
        assert_eq!(q.receive(d, i).unwrap(), Err(Outcome::TimedOut));
        // The sizes of an existing queue win.
        let q2 = Queue::open(&name, Assert::None, 100, 100, 0).unwrap();
        assert_eq!((q2.max_count, q2.max_nchar), (4, 3));
        assert!(q.remove().unwrap());
    }
}
