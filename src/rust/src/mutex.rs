//! R entry points for [`rustipc_core::mutex`].

use crate::error::{handle, to_r, Kind, Result};
use extendr_api::prelude::*;
use rustipc_core::mutex::{open, MutexRef};
use rustipc_core::store::{Assert, Named};
use rustipc_core::token;

fn get(x: &Robj) -> Result<&MutexRef> {
    handle(x, "mutex")
}

#[extendr]
fn rs_mutex_open(name: &str, assert: &str, cleanup: bool) -> Robj {
    let creator = || if cleanup { token::mine().map(|t| t.pack()) } else { Ok(0) };
    to_r(Assert::parse(assert).and_then(|a| open(name, a, creator()?)).map(|m| ExternalPtr::new(Named::new(name, m))))
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
    fn rs_mutex_remove;
}
