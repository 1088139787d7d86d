//! Cross-process tests: the test binary re-runs itself in a child role.
//! A role is a `#[test]` that does nothing unless the environment variable
//! its test module names is set; it prints [`READY`] once it is ready.
//! Also: [`interrupt_after`], a stand-in for Ctrl-C in R.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, Instant};

/// What a child role prints when it is ready (libtest may print
/// "test <name> ... " on the same line first, so match the end).
pub const READY: &str = "child-ready";

/// Run the test `role_test` (its full path) of this binary as a child with
/// `var=spec`, and return it once it printed [`READY`].
pub fn spawn(role_test: &str, var: &str, spec: &str) -> Child {
    spawn_line(role_test, var, spec).0
}

/// [`spawn`], also returning the line that ended with [`READY`] (a role
/// may report something before it).
pub fn spawn_line(role_test: &str, var: &str, spec: &str) -> (Child, String) {
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", role_test, "--nocapture", "--test-threads=1"])
        .env(var, spec)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(c.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next() {
        let line = line.unwrap();
        if line.ends_with(READY) {
            // Keep reading what it prints after, so that a child that ends
            // normally does not fail on a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (c, line);
        }
    }
    let _ = c.kill();
    panic!("child role {spec} ended before it was ready: {:?}", c.wait());
}

/// Kill a child at once (SIGKILL on Unix, TerminateProcess on Windows: it
/// runs no code of its own on the way out) and reap it.
pub fn sigkill(mut c: Child) {
    c.kill().unwrap();
    c.wait().unwrap();
}

/// Threads whose next interrupt check reports an interrupt.
static PENDING: Mutex<Option<HashSet<ThreadId>>> = Mutex::new(None);

fn check() -> bool {
    let me = std::thread::current().id();
    PENDING.lock().unwrap().as_mut().is_some_and(|s| s.remove(&me))
}

/// As Ctrl-C in R: after `d`, make the interrupt check (installed here, as
/// the R glue installs its own) report an interrupt to the thread `t` once.
/// The handle returns when the interrupt was requested.
pub fn interrupt_after(t: ThreadId, d: Duration) -> JoinHandle<Instant> {
    crate::wait::set_interrupt_check(check);
    std::thread::spawn(move || {
        std::thread::sleep(d);
        PENDING.lock().unwrap().get_or_insert_with(HashSet::new).insert(t);
        Instant::now()
    })
}

/// Poll `cond` until it holds or `limit` passes; whether it held.
pub fn eventually(limit: Duration, cond: impl Fn() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
