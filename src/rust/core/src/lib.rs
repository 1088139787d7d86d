//! rustipc's engine, without R: it builds and tests with `cargo test` alone
//! (`-p rustipc-core`), also for other targets.  The R package's glue crate
//! (`src/rust/src`) turns these calls into `.Call` entry points.
//!
//! * Primitives: [`mutex`], [`semaphore`], [`msg_queue`], [`filelock`]
//!   (`lock()`/`unlock()`), [`names`] (`uid()`, `hash()`), and [`objects`]
//!   (`ipc_objects()`).  No primitive imports another.
//! * Shared: [`store`] (the per-user object directory and the object
//!   files), [`token`] (this process's token: uniqueness and liveness),
//!   [`futex`] (waiting on a word), [`robust`] (robust locks), [`ofd`]
//!   (open-file-description locks), [`wait`] (deadlines and interrupts),
//!   [`error`].

pub mod error;
pub mod filelock;
pub mod futex;
pub mod msg_queue;
pub mod mutex;
pub mod names;
pub mod objects;
pub mod ofd;
pub mod robust;
pub mod semaphore;
pub mod store;
pub mod token;
pub mod wait;
