//! rustipc's native core: one module per primitive, plus the shared pieces.
//!
//! * [`names`]: `uid()` and `hash()`.
//! * [`mutex`]: named shared/exclusive locks (robust pthread mutexes).
//! * [`semaphore`]: named counters (a count word and futex waits).
//! * [`msg_queue`]: named priority queues (slots + robust mutex + futexes).
//! * [`filelock`]: `lock()`/`unlock()` on user files (OFD locks, [`ofd`]).
//! * [`objects`]: `ipc_objects()` and removal by name.
//! * Shared: [`store`] (the per-user object directory and the object
//!   files), [`token`] (this process's token: uniqueness and liveness),
//!   [`futex`] (waiting on a word), [`robust`], [`wait`] (deadlines
//!   and interrupts), [`outcome`] and [`error`] (results as R sees them).
//!
//! Every entry point called from R starts with `rs_`, takes plain scalars that
//! the R layer has already checked, and returns either its result or an error
//! *as data* (see [`error`]).  No entry point throws an R error itself, and no
//! R error ever unwinds through Rust frames.

use extendr_api::prelude::*;

pub mod error;
pub mod filelock;
pub mod futex;
pub mod msg_queue;
pub mod mutex;
pub mod names;
pub mod objects;
pub mod ofd;
pub mod outcome;
pub mod robust;
pub mod semaphore;
pub mod store;
pub mod token;
pub mod wait;

extendr_module! {
    mod rustipc;
    use names;
    use mutex;
    use semaphore;
    use msg_queue;
    use filelock;
    use objects;
}
