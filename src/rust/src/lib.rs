//! rustipc's native core: one module per primitive, plus the shared pieces.
//!
//! * [`names`]: `uid()` and `hash()`.
//! * [`mutex`]: named shared/exclusive locks (robust pthread mutexes in /dev/shm).
//! * [`semaphore`]: named counters (a process-shared `sem_t` in /dev/shm).
//! * [`msg_queue`]: named priority queues (slots + robust mutex + futexes).
//! * [`filelock`]: `lock()`/`unlock()` on user files (OFD locks).
//! * [`ofd`], [`robust`], [`shm`], [`wait`], [`error`]: the mechanisms the primitives share.
//!
//! Every entry point called from R starts with `rs_`, takes plain scalars that
//! the R layer has already checked, and returns either its result or an error
//! *as data* (see [`error`]).  No entry point throws an R error itself, and no
//! R error ever unwinds through Rust frames.

use extendr_api::prelude::*;

pub mod error;
pub mod filelock;
pub mod msg_queue;
pub mod mutex;
pub mod names;
pub mod ofd;
pub mod robust;
pub mod semaphore;
pub mod shm;
pub mod wait;

extendr_module! {
    mod rustipc;
    use names;
    use mutex;
    use semaphore;
    use msg_queue;
    use filelock;
    use shm;
}
