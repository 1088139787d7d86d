//! R entry points for [`rustipc_core::semaphore`].

use crate::error::{handle, to_r, Kind, Result};
use extendr_api::prelude::*;
use rustipc_core::semaphore::{Handle, Semaphore};
use rustipc_core::store::{Assert, Named};
use rustipc_core::token;
use std::sync::Arc;

fn get(x: &Robj) -> Result<&Handle> {
    handle(x, "semaphore")
}

#[extendr]
fn rs_sem_open(name: &str, assert: &str, value: f64, cleanup: bool) -> Robj {
    let creator = || if cleanup { token::mine().map(|t| t.pack()) } else { Ok(0) };
    to_r(
        Assert::parse(assert)
            .and_then(|a| Semaphore::open(name, a, value as u32, creator()?))
            .map(|s| ExternalPtr::new(Named::new(name, Arc::new(s)))),
    )
}

#[extendr]
fn rs_sem_remove(h: Robj) -> Robj {
    to_r(get(&h).and_then(|s| match s.get() {
        Ok(sem) => sem.remove(),
        Err(e) if e.kind == Kind::NotFound => Ok(false),
        Err(e) => Err(e),
    }))
}

extendr_module! {
    mod semaphore;
    fn rs_sem_open;
    fn rs_sem_remove;
}
