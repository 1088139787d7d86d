//! `semaphore()`: a named counter across processes.
//!
//! A process-shared POSIX `sem_t` (`sem_init(pshared = 1)`) in the object's
//! body.  glibc's semaphore is a futex: `sem_post` wakes exactly one waiter
//! at once, and a waiter killed while waiting leaves nothing locked.  Waits
//! use `sem_clockwait` on `CLOCK_MONOTONIC` in slices (see [`crate::wait`]),
//! so they can be interrupted and are immune to clock changes.

use crate::error::{handle, to_r, Error, Kind, Result};
use crate::mutex::outcome_to_r;
use crate::shm::{self, Assert, ObjKind};
use crate::wait::{clock_after, Deadline, Interrupts, Outcome};
use extendr_api::prelude::*;

extern "C" {
    // glibc >= 2.30; the libc crate does not declare it.
    fn sem_clockwait(sem: *mut libc::sem_t, clock: libc::clockid_t, abstime: *const libc::timespec) -> libc::c_int;
}

/// The largest count (glibc's SEM_VALUE_MAX).
pub const VALUE_MAX: u32 = i32::MAX as u32;

pub struct Semaphore {
    name: String,
    obj: shm::Object,
}

impl Semaphore {
    fn sem(&self) -> *mut libc::sem_t {
        self.obj.map.body() as *mut libc::sem_t
    }

    pub fn open(name: &str, assert: Assert, value: u32) -> Result<Semaphore> {
        if value > VALUE_MAX {
            return Err(Error::new(Kind::InvalidArgument, format!("`value` must be at most {VALUE_MAX}")));
        }
        let init = move |body: *mut u8| {
            // SAFETY: body is a fresh, private, 64-byte aligned region larger
            // than a sem_t; nobody else can see it before it is published.
            if unsafe { libc::sem_init(body as *mut libc::sem_t, 1, value) } != 0 {
                return Err(Error::last_os("sem_init"));
            }
            Ok(())
        };
        let obj = shm::open(name, ObjKind::Semaphore, assert, [0; 4], std::mem::size_of::<libc::sem_t>().max(32), &init)?;
        if obj.map.body_len() < std::mem::size_of::<libc::sem_t>() {
            return Err(Error::new(Kind::WrongKind, format!("'{name}' is not a valid semaphore")));
        }
        Ok(Semaphore { name: name.to_string(), obj })
    }

    pub fn post(&self) -> Result<()> {
        // SAFETY: sem() points at the initialised, mapped sem_t.
        if unsafe { libc::sem_post(self.sem()) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EOVERFLOW) {
                return Err(Error::new(
                    Kind::InvalidArgument,
                    format!("semaphore '{}' is at its largest value ({VALUE_MAX})", self.name),
                ));
            }
            return Err(Error::os(format!("cannot post semaphore '{}'", self.name), e));
        }
        Ok(())
    }

    pub fn wait(&self, deadline: Deadline, interrupts: Interrupts) -> Result<Outcome> {
        loop {
            // SAFETY: sem() points at the initialised, mapped sem_t.
            if unsafe { libc::sem_trywait(self.sem()) } == 0 {
                return Ok(Outcome::Done);
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EAGAIN) && e.raw_os_error() != Some(libc::EINTR) {
                return Err(Error::os(format!("cannot wait on semaphore '{}'", self.name), e));
            }
            let Some(slice) = deadline.next_slice() else {
                return Ok(Outcome::TimedOut);
            };
            let until = clock_after(libc::CLOCK_MONOTONIC, slice);
            // SAFETY: valid sem_t and timespec pointers.
            if unsafe { sem_clockwait(self.sem(), libc::CLOCK_MONOTONIC, &until) } == 0 {
                return Ok(Outcome::Done);
            }
            let e = std::io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::ETIMEDOUT) | Some(libc::EINTR) => {}
                _ => return Err(Error::os(format!("cannot wait on semaphore '{}'", self.name), e)),
            }
            if interrupts.pending() {
                return Ok(Outcome::Interrupted);
            }
        }
    }

    pub fn value(&self) -> Result<i32> {
        let mut v = 0;
        // SAFETY: valid sem_t pointer and out-parameter.
        if unsafe { libc::sem_getvalue(self.sem(), &mut v) } != 0 {
            return Err(Error::last_os("sem_getvalue"));
        }
        Ok(v)
    }

    pub fn remove(&self) -> Result<bool> {
        self.obj.remove()
    }
}

fn get(x: &Robj) -> Result<&Semaphore> {
    handle(x, "semaphore")
}

#[extendr]
fn rs_sem_open(name: &str, assert: &str, value: f64) -> Robj {
    to_r(Assert::parse(assert).and_then(|a| Semaphore::open(name, a, value as u32)).map(ExternalPtr::new))
}

#[extendr]
fn rs_sem_post(h: Robj) -> Robj {
    to_r(get(&h).and_then(|s| s.post()).map(|_| true))
}

#[extendr]
fn rs_sem_wait(h: Robj, timeout_ms: f64) -> Robj {
    outcome_to_r(get(&h).and_then(|s| s.wait(Deadline::from_ms(timeout_ms), Interrupts::Check)))
}

#[extendr]
fn rs_sem_value(h: Robj) -> Robj {
    to_r(get(&h).and_then(|s| s.value()))
}

#[extendr]
fn rs_sem_remove(h: Robj) -> Robj {
    to_r(get(&h).and_then(|s| s.remove()))
}

extendr_module! {
    mod semaphore;
    fn rs_sem_open;
    fn rs_sem_post;
    fn rs_sem_wait;
    fn rs_sem_value;
    fn rs_sem_remove;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn counts_and_times_out() {
        let name = format!("semtest{}", std::process::id());
        let s = Semaphore::open(&name, Assert::Create, 2).unwrap();
        assert_eq!(s.wait(Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::Done);
        assert_eq!(s.wait(Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::Done);
        assert_eq!(s.wait(Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::TimedOut);
        let t = Instant::now();
        assert_eq!(s.wait(Deadline::from_ms(120.0), Interrupts::Ignore).unwrap(), Outcome::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(120));
        s.post().unwrap();
        assert_eq!(s.value().unwrap(), 1);
        assert!(Semaphore::open(&name, Assert::None, VALUE_MAX + 1).is_err());
        assert!(s.remove().unwrap());
    }
}
