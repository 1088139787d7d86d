//! R entry points for [`rustipc_core::filelock`].

use crate::error::{err_to_r, handle, Result};
use extendr_api::prelude::*;
use rustipc_core::filelock::{absolute, lock, LockHandle};
use rustipc_core::wait::{Deadline, Interrupts};

fn get(x: &Robj) -> Result<&LockHandle> {
    handle(x, "lock")
}

/// A handle (external pointer), NULL on timeout, or an error list.
#[extendr]
fn rs_lock(path: &str, exclusive: bool, timeout_ms: f64) -> Robj {
    let path = absolute(path);
    match lock(&path.to_string_lossy(), exclusive, Deadline::from_ms(timeout_ms), Interrupts::Check) {
        Ok(Some(held)) => ExternalPtr::new(LockHandle::new(held, path)).into(),
        Ok(None) => ().into(),
        Err(e) => err_to_r(e),
    }
}

#[extendr]
fn rs_unlock(h: Robj) -> Robj {
    match get(&h) {
        Ok(l) => {
            l.unlock();
            true.into()
        }
        Err(e) => err_to_r(e),
    }
}

/// list(held, path) for print().
#[extendr]
fn rs_lock_info(h: Robj) -> Robj {
    match get(&h) {
        Ok(l) => list!(held = l.is_held(), path = l.shown_path()).into(),
        Err(e) => err_to_r(e),
    }
}

extendr_module! {
    mod filelock;
    fn rs_lock;
    fn rs_unlock;
    fn rs_lock_info;
}
