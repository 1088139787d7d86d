//! `mutex()`: named shared/exclusive locks across processes.
//!
//! A mutex is an OFD lock (see [`crate::ofd`]) on its object file in
//! /dev/shm.  The kernel releases it when the holder dies in any way, so a
//! killed holder never leaves it locked, and a waiter is woken at once.
//!
//! Locks belong to the process: all R objects of one name share one
//! [`MutexShared`] through a process-wide table (as named-lock does), so a
//! second `$lock()` while this process holds it is an `already_locked`
//! error rather than a self-deadlock.  The table holds weak references: when
//! the last R object of a name is garbage collected, the descriptor closes
//! and the lock is released.

use crate::error::{to_r, Error, Kind, Result};
use crate::ofd::{self, LockFd};
use crate::shm::{self, Assert, ObjKind};
use crate::wait::{Deadline, Interrupts, Outcome};
use extendr_api::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    No,
    Shared,
    Exclusive,
}

struct State {
    fd: Arc<LockFd>,
    held: Held,
}

/// One per name per process.
pub struct MutexShared {
    name: String,
    path: String,
    id: (u64, u64),
    state: Mutex<State>,
}

/// What an R mutex object holds.
pub struct MutexRef(Arc<MutexShared>);

type Table = HashMap<String, Weak<MutexShared>>;
static TABLE: Mutex<Option<Table>> = Mutex::new(None);

impl MutexShared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor, re-opened in a fork child (whose copy was closed).
    fn fd(&self, st: &mut State) -> Result<i32> {
        if let Some(fd) = st.fd.raw() {
            return Ok(fd);
        }
        st.held = Held::No;
        let obj = shm::open(&self.name, ObjKind::Mutex, Assert::Exists, [0; 4], 8, &|_| Ok(()))?;
        st.fd = LockFd::new(obj.fd);
        st.fd.raw().ok_or_else(|| Error::new(Kind::OsError, "lost the mutex's descriptor"))
    }

    pub fn lock(&self, exclusive: bool, deadline: Deadline, interrupts: Interrupts) -> Result<Outcome> {
        let mut st = self.state();
        let fd = self.fd(&mut st)?;
        if st.held != Held::No {
            let how = if st.held == Held::Exclusive { "an exclusive" } else { "a shared" };
            return Err(Error::new(
                Kind::AlreadyLocked,
                format!("this process already holds {how} lock on mutex '{}'; unlock it first", self.name),
            ));
        }
        let out = ofd::lock(fd, exclusive, deadline, interrupts)
            .map_err(|e| Error::os(format!("cannot lock mutex '{}'", self.name), e))?;
        if out == Outcome::Done {
            st.held = if exclusive { Held::Exclusive } else { Held::Shared };
        }
        Ok(out)
    }

    /// Ok(false) when this process does not hold the lock.
    pub fn unlock(&self) -> Result<bool> {
        let mut st = self.state();
        let Some(fd) = st.fd.raw() else {
            st.held = Held::No;
            return Ok(false);
        };
        if st.held == Held::No {
            return Ok(false);
        }
        ofd::unlock(fd).map_err(|e| Error::os(format!("cannot unlock mutex '{}'", self.name), e))?;
        st.held = Held::No;
        Ok(true)
    }

    pub fn remove(&self) -> Result<bool> {
        shm::remove_if(&self.path, self.id)
    }
}

/// Open (or create) the mutex `name`.
pub fn open(name: &str, assert: Assert) -> Result<Arc<MutexShared>> {
    let path = shm::path_of(name);
    let mut table = TABLE.lock().unwrap_or_else(|p| p.into_inner());
    let table = table.get_or_insert_with(HashMap::new);
    if let Some(existing) = table.get(name).and_then(Weak::upgrade) {
        // Reuse our handle if the name still names the same file.
        if shm::path_id(&path)? == Some(existing.id) {
            if assert == Assert::Create {
                return Err(Error::new(Kind::AlreadyExists, format!("'{name}' already exists")));
            }
            return Ok(existing);
        }
    }
    let obj = shm::open(name, ObjKind::Mutex, assert, [0; 4], 8, &|_| Ok(()))?;
    let shared = Arc::new(MutexShared {
        name: name.to_string(),
        path: obj.path.clone(),
        id: obj.id,
        state: Mutex::new(State { fd: LockFd::new(obj.fd), held: Held::No }),
    });
    table.retain(|_, w| w.strong_count() > 0);
    table.insert(name.to_string(), Arc::downgrade(&shared));
    Ok(shared)
}

fn get(x: &Robj) -> Result<&MutexRef> {
    <&ExternalPtr<MutexRef>>::try_from(x)
        .map(|p| &**p)
        .map_err(|_| Error::new(Kind::InvalidArgument, "not a rustipc mutex handle"))
}

/// Outcome as R sees it: TRUE, FALSE (timed out), or the interrupt error.
pub fn outcome_to_r(out: Result<Outcome>) -> Robj {
    match out {
        Ok(Outcome::Done) => true.into(),
        Ok(Outcome::TimedOut) => false.into(),
        Ok(Outcome::Interrupted) => Error::interrupted().into(),
        Err(e) => e.into(),
    }
}

#[extendr]
fn rs_mutex_open(name: &str, assert: &str) -> Robj {
    to_r(Assert::parse(assert).and_then(|a| open(name, a)).map(|m| ExternalPtr::new(MutexRef(m))))
}

#[extendr]
fn rs_mutex_lock(h: Robj, shared: bool, timeout_ms: f64) -> Robj {
    outcome_to_r(get(&h).and_then(|m| m.0.lock(!shared, Deadline::from_ms(timeout_ms), Interrupts::Check)))
}

#[extendr]
fn rs_mutex_unlock(h: Robj) -> Robj {
    to_r(get(&h).and_then(|m| m.0.unlock()))
}

#[extendr]
fn rs_mutex_remove(h: Robj) -> Robj {
    to_r(get(&h).and_then(|m| m.0.remove()))
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

    #[test]
    fn per_process_locks() {
        let name = format!("mutextest{}", std::process::id());
        let a = open(&name, Assert::Create).unwrap();
        let b = open(&name, Assert::None).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.lock(true, Deadline::Now, Interrupts::Ignore).unwrap(), Outcome::Done);
        assert_eq!(b.lock(false, Deadline::Now, Interrupts::Ignore).err().unwrap().kind, Kind::AlreadyLocked);
        assert!(b.unlock().unwrap());
        assert!(!a.unlock().unwrap());
        assert!(a.remove().unwrap());
        assert!(!b.remove().unwrap());
    }
}
