//! Cross-process tests: the test binary re-runs itself in a child role.
//! A role is a `#[test]` that does nothing unless the environment variable
//! its test module names is set; it prints [`READY`] once it is ready.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// What a child role prints when it is ready (libtest may print
/// "test <name> ... " on the same line first, so match the end).
pub const READY: &str = "child-ready";

/// Run the test `role_test` (its full path) of this binary as a child with
/// `var=spec`, and return it once it printed [`READY`].
pub fn spawn(role_test: &str, var: &str, spec: &str) -> Child {
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", role_test, "--nocapture", "--test-threads=1"])
        .env(var, spec)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = BufReader::new(c.stdout.take().unwrap());
    for line in out.lines() {
        if line.unwrap().ends_with(READY) {
            return c;
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
