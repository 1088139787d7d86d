//! `semaphore()`: a named counter across processes.
//!
//! The body is two 32-bit words: the count and a hint of how many processes
//! sleep on it.  `post` raises the count with a compare-and-swap (never past
//! [`VALUE_MAX`]) and wakes one sleeper; `wait` lowers it with a
//! compare-and-swap, or sleeps on the count word ([`crate::sys::addr`]) in
//! slices, checking for interrupts, the deadline and a removal in between.
//!
//! Why not a POSIX `sem_t` (0.1.0 used one): glibc reads flags out of the
//! `sem_t` itself and aborts the process when the kernel rejects them, so a
//! damaged or hostile file could kill R; macOS has no `sem_init` at all.  A
//! count word has no state that can be invalid: any value is a count, and a
//! waiter killed while sleeping leaves at most a spare wake-up.

use crate::error::{Error, Kind, Result};
use crate::sys::addr;
use crate::store::{self, Assert, Named, ObjKind, Reopen};
use crate::wait::{Deadline, Interrupts, Outcome};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The largest count (as interprocess' Boost semaphores and POSIX allow).
pub const VALUE_MAX: u32 = i32::MAX as u32;

#[repr(C)]
struct Body {
    value: AtomicU32,
    waiters: AtomicU32,
}

const BODY_LEN: usize = 64;
const _: () = assert!(std::mem::size_of::<Body>() <= BODY_LEN);

fn layout(_params: [u32; 4]) -> Option<usize> {
    Some(BODY_LEN)
}

pub struct Semaphore {
    name: String,
    obj: store::Object,
}

impl Reopen for Semaphore {
    const KIND: ObjKind = ObjKind::Semaphore;
    fn object(&self) -> &store::Object {
        &self.obj
    }
    fn reopen(name: &str) -> Result<Arc<Self>> {
        Semaphore::open(name, Assert::Exists, 0, 0).map(Arc::new)
    }
}

fn wake_all(obj: &store::Object) {
    // SAFETY: every semaphore body starts with a Body (layout checked).
    let body = unsafe { &*(obj.map.body() as *const Body) };
    addr::wake_all(&body.value);
}

impl Semaphore {
    fn body(&self) -> &Body {
        // SAFETY: the file's size was checked against the layout on open.
        unsafe { &*(self.obj.map.body() as *const Body) }
    }

    pub fn open(name: &str, assert: Assert, value: u32, cleanup_token: u64) -> Result<Semaphore> {
        if value > VALUE_MAX {
            return Err(Error::new(Kind::InvalidArgument, format!("`value` must be at most {VALUE_MAX}")));
        }
        let init = move |body: *mut u8| {
            // SAFETY: body is a fresh, private, zeroed region of BODY_LEN bytes.
            unsafe { (*(body as *const Body)).value.store(value, Ordering::Relaxed) };
            Ok(())
        };
        let obj = store::open(name, ObjKind::Semaphore, assert, [0; 4], cleanup_token, &layout, &init)?;
        Ok(Semaphore { name: name.to_string(), obj })
    }

    pub fn post(&self) -> Result<()> {
        let b = self.body();
        let mut v = b.value.load(Ordering::SeqCst);
        loop {
            if v >= VALUE_MAX {
                return Err(Error::new(
                    Kind::InvalidArgument,
                    format!("semaphore '{}' is at its largest value ({VALUE_MAX})", self.name),
                ));
            }
            match b.value.compare_exchange_weak(v, v + 1, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => break,
                Err(now) => v = now,
            }
        }
        if b.waiters.load(Ordering::SeqCst) > 0 {
            addr::wake(&b.value, 1);
        }
        Ok(())
    }

    fn try_take(&self) -> bool {
        let b = self.body();
        let mut v = b.value.load(Ordering::SeqCst);
        while v > 0 {
            match b.value.compare_exchange_weak(v, v - 1, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return true,
                Err(now) => v = now,
            }
        }
        false
    }

    pub fn wait(&self, deadline: Deadline, interrupts: Interrupts) -> Result<Outcome> {
        let b = self.body();
        loop {
            if self.try_take() {
                return Ok(Outcome::Done);
            }
            if self.obj.is_removed() {
                return Ok(Outcome::Removed);
            }
            let Some(slice) = deadline.next_slice() else {
                return Ok(Outcome::TimedOut);
            };
            b.waiters.fetch_add(1, Ordering::SeqCst);
            addr::wait(&b.value, 0, slice);
            let _ = b.waiters.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |w| w.checked_sub(1));
            // Take a count that is there before reporting an interrupt: the
            // interrupt then stays pending for R, and nothing is lost.
            if self.try_take() {
                return Ok(Outcome::Done);
            }
            if interrupts.pending() {
                return Ok(Outcome::Interrupted);
            }
        }
    }

    pub fn value(&self) -> u32 {
        self.body().value.load(Ordering::SeqCst)
    }

    pub fn remove(&self) -> Result<bool> {
        let r = self.obj.remove();
        wake_all(&self.obj);
        r
    }
}

/// Remove the semaphore `name` (for `cleanup = TRUE`).
pub fn remove_name(name: &str) -> Result<bool> {
    store::remove_name(name, ObjKind::Semaphore, &layout, &wake_all)
}

/// What an R semaphore object holds.
pub type Handle = Named<Semaphore>;







#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn counts_and_times_out() {
        let name = format!("semtest{}", std::process::id());
        let s = Semaphore::open(&name, Assert::Create, 2, 0).unwrap();
        assert_eq!(s.wait(Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::Done);
        assert_eq!(s.wait(Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::Done);
        assert_eq!(s.wait(Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::TimedOut);
        let t = Instant::now();
        assert_eq!(s.wait(Deadline::from_ms(120.0), Interrupts::Ignore).unwrap(), Outcome::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(120));
        s.post().unwrap();
        assert_eq!(s.value(), 1);
        assert!(Semaphore::open(&name, Assert::None, VALUE_MAX + 1, 0).is_err());
        assert!(s.remove().unwrap());
    }

    #[test]
    fn a_post_wakes_a_waiter_and_removal_ends_a_wait() {
        let name = format!("semwake{}", std::process::id());
        let s = Arc::new(Semaphore::open(&name, Assert::Create, 0, 0).unwrap());
        let s2 = Arc::clone(&s);
        let t = std::thread::spawn(move || s2.wait(Deadline::Never, Interrupts::Ignore).unwrap());
        s.post().unwrap();
        assert_eq!(t.join().unwrap(), Outcome::Done);
        let s2 = Arc::clone(&s);
        let t = std::thread::spawn(move || {
            let t0 = Instant::now();
            (s2.wait(Deadline::Never, Interrupts::Ignore).unwrap(), t0.elapsed())
        });
        std::thread::sleep(Duration::from_millis(20));
        assert!(s.remove().unwrap());
        let (out, _) = t.join().unwrap();
        assert_eq!(out, Outcome::Removed);
    }

    const CHILD_ENV: &str = "RUSTIPC_SEM_TEST_CHILD";

    /// Not a test by itself: the child role of the tests below.
    #[test]
    fn child_role() {
        let Ok(spec) = std::env::var(CHILD_ENV) else { return };
        if let Some((ping, pong)) = spec.strip_prefix("pong:").and_then(|r| r.split_once(':')) {
            let (ping, pong) = (Semaphore::open(ping, Assert::Exists, 0, 0).unwrap(), Semaphore::open(pong, Assert::Exists, 0, 0).unwrap());
            println!("{}", crate::child::READY);
            while ping.wait(Deadline::from_ms(10_000.0), Interrupts::Ignore).unwrap() == Outcome::Done {
                pong.post().unwrap();
            }
            return;
        }
        let s = Semaphore::open(&spec, Assert::Exists, 0, 0).unwrap();
        s.post().unwrap();
        println!("{}", crate::child::READY);
    }

    /// Round trips between two processes (`cargo test -- --ignored`).
    #[test]
    #[ignore]
    fn cross_process_round_trips() {
        let (a, b) = (format!("semping{}", std::process::id()), format!("sempong{}", std::process::id()));
        let ping = Semaphore::open(&a, Assert::Create, 0, 0).unwrap();
        let pong = Semaphore::open(&b, Assert::Create, 0, 0).unwrap();
        let child = crate::child::spawn("semaphore::tests::child_role", CHILD_ENV, &format!("pong:{a}:{b}"));
        let n = 2000;
        let t = Instant::now();
        for _ in 0..n {
            ping.post().unwrap();
            assert_eq!(pong.wait(Deadline::from_ms(5000.0), Interrupts::Ignore).unwrap(), Outcome::Done);
        }
        eprintln!("semaphore round trip between two processes: {:?}", t.elapsed() / n);
        crate::child::sigkill(child);
        assert!(ping.remove().unwrap() && pong.remove().unwrap());
    }

    #[test]
    fn a_post_from_another_process_wakes_a_waiter_and_waits_can_be_interrupted() {
        let name = format!("semxp{}", std::process::id());
        let s = Arc::new(Semaphore::open(&name, Assert::Create, 0, 0).unwrap());
        let s2 = Arc::clone(&s);
        let waiter = std::thread::spawn(move || {
            let t0 = Instant::now();
            (s2.wait(Deadline::from_ms(10_000.0), Interrupts::Ignore).unwrap(), t0.elapsed())
        });
        let mut child = crate::child::spawn("semaphore::tests::child_role", CHILD_ENV, &name);
        let posted = Instant::now();
        let (out, waited) = waiter.join().unwrap();
        assert_eq!(out, Outcome::Done, "after {waited:?}");
        assert!(posted.elapsed() < Duration::from_secs(1), "{:?}", posted.elapsed());
        assert_eq!(s.value(), 0);
        child.wait().unwrap();
        // A wait ends within 250 ms of an interrupt.
        let asked = crate::child::interrupt_after(std::thread::current().id(), Duration::from_millis(100));
        assert_eq!(s.wait(Deadline::Never, Interrupts::Check).unwrap(), Outcome::Interrupted);
        let asked = asked.join().unwrap();
        assert!(asked.elapsed() < Duration::from_millis(250), "{:?}", asked.elapsed());
        assert!(s.remove().unwrap());
    }
}
