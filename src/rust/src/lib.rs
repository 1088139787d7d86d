//! rustipc's R glue: the `.Call` entry points (`rs_*`), one module per
//! primitive, over the engine in the `rustipc-core` crate (`core/`).
//!
//! Every entry point takes plain scalars that the R layer has already
//! checked, and returns either its result or an error *as data* (see
//! [`error`]).  No entry point throws an R error itself, and no R error
//! ever unwinds through Rust frames: src/entrypoint.c calls every entry
//! point with R's interrupts suspended, so not even a garbage collection
//! inside Rust can longjmp.

use extendr_api::prelude::*;

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
/// then check R's interrupt flag.
#[no_mangle]
pub extern "C" fn rustipc_init() {
    rustipc_core::wait::set_interrupt_check(error::r_interrupt_pending);
}

extendr_module! {
    mod rustipc;
    use names;
    use mutex;
    use semaphore;
    use msg_queue;
    use filelock;
    use objects;
    use stamps;
}
