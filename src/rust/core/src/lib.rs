//! rustipc's engine, without R: it builds and tests with `cargo test` alone
//! (`-p rustipc-core`), also for other targets.  The R package's glue crate
//! (`src/rust/src`) turns these calls into `.Call` entry points.
//!
//! * Primitives: [`mutex`], [`semaphore`], [`msg_queue`], [`filelock`]
//!   (`lock()`/`unlock()`), [`names`] (`uid()`, `hash()`), and [`objects`]
//!   (`ipc_objects()`).  No primitive imports another.
//! * Shared: [`store`] (the per-user object directory and the object
//!   files), [`token`] (this process's token: uniqueness and liveness),
//!   [`wait`] (deadlines and interrupts), [`error`].
//! * The platform layer, [`sys`]: one module per OS facility (waiting on a
//!   word, robust locks, file locks, the object directory and its files,
//!   process tokens), chosen by target and backend: `linux`, `portable`
//!   (macOS), `freebsd` and `windows`.

#[cfg(test)]
mod child;
pub mod error;
pub mod filelock;
pub mod msg_queue;
pub mod mutex;
pub mod names;
pub mod objects;
pub mod semaphore;
pub mod store;
pub mod sys;
pub mod token;
pub mod wait;
