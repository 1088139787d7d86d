//! R entry points for [`rustipc_core::names`].

use crate::error::to_r;
use extendr_api::prelude::*;
use rustipc_core::names::{hash, uid};

/// `uid()` for R.
#[extendr]
fn rs_uid() -> Robj {
    to_r(uid())
}

/// `hash()` for R; `x` is one non-NA string, already converted to UTF-8.
#[extendr]
fn rs_hash(x: &str) -> String {
    hash(x)
}

/// The backend this build uses (`ipc_backend()`).
#[extendr]
fn rs_backend() -> &'static str {
    rustipc_core::sys::BACKEND
}

/// An empty native call: the floor the benchmarks compare against.
#[extendr]
fn rs_noop() {}

extendr_module! {
    mod names;
    fn rs_uid;
    fn rs_hash;
    fn rs_noop;
    fn rs_backend;
}
