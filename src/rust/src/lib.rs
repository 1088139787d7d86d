//! rustipc's R glue: the `.Call` entry points (`rsx_*`, registered as
//! `rs_*` by src/entrypoint.c), one module per primitive, over the engine
//! in the `rustipc-core` crate (`core/`).
//!
//! The boundary's rules (src/entrypoint.c, [`rapi`], [`error`]): every
//! entry point returns its result or an error list, never raises an R
//! error; no R error or interrupt longjmps through a Rust frame (Rust makes
//! R objects only through jump-safe helpers); no panic crosses into R.

pub mod error;
pub mod fast;
pub mod filelock;
pub mod msg_queue;
pub mod mutex;
pub mod names;
pub mod objects;
pub mod rapi;
pub mod semaphore;
pub mod stamps;

/// Called once by the package's init routine (src/entrypoint.c): waits
/// then ask R whether the user wants to interrupt.
#[no_mangle]
pub extern "C" fn rustipc_init() {
    rustipc_core::wait::set_interrupt_check(rapi::interrupted);
    // A panic's message goes into the `internal` error R raises; printing
    // it (and a backtrace) to the console as well would only add noise.
    std::panic::set_hook(Box::new(|_| {}));
}
