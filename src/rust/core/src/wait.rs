//! Deadlines and interruptible waiting, shared by every blocking call.
//!
//! R runs on one thread; Ctrl-C only sets a flag that R acts on later (by
//! a longjmp, which must never cross Rust frames).  Waits ask (the check the
//! R glue installs with [`set_interrupt_check`], which reads that flag)
//! between slices and, when it is set, return having taken nothing; the R
//! layer then re-signals an `interrupt` condition.
//!
//! Every blocking wait is cut into slices of at most [`SLICE`], so an
//! interrupt is seen within one slice.  The slices do not add latency to a
//! hand-off: within a slice the thread sleeps in the kernel (futex, semaphore,
//! condition variable) and is woken the moment the resource is released.

use std::time::{Duration, Instant};

/// The longest time a wait sleeps before checking for an R interrupt.
pub const SLICE: Duration = Duration::from_millis(50);

/// When a wait must give up.
#[derive(Debug, Clone, Copy)]
pub enum Deadline {
    /// Try once, never block (`timeout_ms = 0`).
    Now,
    /// Block at most until this instant.
    At(Instant),
    /// Block until done (`timeout_ms = Inf`).
    Never,
}

impl Deadline {
    /// From R's `timeout_ms` (already checked: not NA, not negative).
    pub fn from_ms(timeout_ms: f64) -> Deadline {
        if timeout_ms <= 0.0 || timeout_ms.is_nan() {
            Deadline::Now
        } else if timeout_ms.is_infinite() {
            Deadline::Never
        } else {
            // Durations of centuries are fine; beyond what Instant can
            // represent, the wait is as good as infinite.
            match Duration::try_from_secs_f64(timeout_ms / 1000.0)
                .ok()
                .and_then(|d| Instant::now().checked_add(d))
            {
                Some(t) => Deadline::At(t),
                None => Deadline::Never,
            }
        }
    }

    /// How long the next slice of sleep may be, or `None` when time is up.
    pub fn next_slice(&self) -> Option<Duration> {
        match *self {
            Deadline::Now => None,
            Deadline::Never => Some(SLICE),
            Deadline::At(t) => {
                let left = t.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    None
                } else {
                    Some(left.min(SLICE))
                }
            }
        }
    }

    pub fn is_now(&self) -> bool {
        matches!(self, Deadline::Now)
    }
}

/// How a wait ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    TimedOut,
    Interrupted,
    /// The object was removed while waiting (see [`crate::store::Named`]).
    Removed,
}

/// How a wait asks whether the user wants to interrupt: installed once by
/// the R glue ([`set_interrupt_check`]), which reads R's own flag.  Without
/// it (`cargo test`), nothing interrupts.
static INTERRUPT_CHECK: std::sync::OnceLock<fn() -> bool> = std::sync::OnceLock::new();

/// Install the interrupt check (the R glue does, when the package loads).
/// The check must consume the interrupt when it reports one: the caller
/// then reports it, having taken nothing.
pub fn set_interrupt_check(f: fn() -> bool) {
    let _ = INTERRUPT_CHECK.set(f);
}

fn interrupt_pending() -> bool {
    INTERRUPT_CHECK.get().is_some_and(|f| f())
}

/// Whether a wait checks for R interrupts between slices.  Only code running
/// inside R may use `Check`; unit tests use `Ignore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupts {
    Check,
    Ignore,
}

impl Interrupts {
    pub fn pending(self) -> bool {
        match self {
            Interrupts::Check => interrupt_pending(),
            Interrupts::Ignore => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines() {
        assert!(Deadline::from_ms(0.0).next_slice().is_none());
        assert_eq!(Deadline::from_ms(f64::INFINITY).next_slice(), Some(SLICE));
        let d = Deadline::from_ms(10.0).next_slice().unwrap();
        assert!(d <= Duration::from_millis(10));
        // Far beyond 2^31 ms is still a deadline (or "never"), never an error.
        assert!(Deadline::from_ms(1e15).next_slice().is_some());
        assert!(Deadline::from_ms(1e300).next_slice().is_some());
    }
}
