# Helpers shared by the test files.

is_windows <- function() .Platform$OS.type == "windows"

# Poll `cond()` until it is TRUE or `timeout` seconds pass: tests wait for
# each other with deadlines, never with fixed sleeps.
wait_until <- function(cond, timeout = 10, what = "condition") {
  deadline <- Sys.time() + timeout
  repeat {
    if (isTRUE(cond())) return(invisible(TRUE))
    if (Sys.time() > deadline) stop("timed out waiting for ", what)
    Sys.sleep(0.005)
  }
}

# Each test run keeps its objects in a directory of its own (inherited by
# the child processes it starts), so the leak guard counts only what this
# run made, whatever other R sessions of the same user do meanwhile.
if (!nzchar(Sys.getenv("RUSTIPC_DIR"))) {
  base <- if (dir.exists("/dev/shm")) "/dev/shm" else tempdir()
  Sys.setenv(RUSTIPC_DIR = file.path(base, sprintf("rustipc-test-%d", Sys.getpid())))
}
object_dir <- function() Sys.getenv("RUSTIPC_DIR")
# Whatever tests ran, this run's directory goes at the end (test-zzz-leaks.R
# first checks that nothing but uid block files is left in it).
if (grepl("rustipc-test-", object_dir(), fixed = TRUE)) {
  local({
    d <- object_dir()
    try(withr::defer(unlink(d, recursive = TRUE), envir = testthat::teardown_env()), silent = TRUE)
  })
}

# The file behind the object `name`.
object_path <- function(name) file.path(object_dir(), name)

# What this run's object directory holds: objects, and creators' temporary
# files; not the uid block files (.uid-*), which live as long as the
# directory.
shm_files <- function() {
  f <- list.files(object_dir(), all.files = TRUE, no.. = TRUE)
  f[!startsWith(f, ".uid-")]
}

# A child R process running `fun`, with rustipc loaded from our library.
bg <- function(fun, args = list(), ...) {
  callr::r_bg(fun, args = args, libpath = .libPaths(), package = FALSE,
              supervise = TRUE, ...)
}

# A child R process that reports "ready" on stdout before it blocks; returns
# once it said so.  `fun` must cat("ready\n") itself when it is about to block.
bg_ready <- function(fun, args = list(), timeout = 20) {
  p <- bg(fun, args, stdout = "|", stderr = "2>&1")
  out <- ""
  wait_until(function() {
    out <<- paste0(out, p$read_output())
    grepl("ready", out, fixed = TRUE) || !p$is_alive()
  }, timeout, "a child process to start")
  if (!grepl("ready", out, fixed = TRUE)) {
    stop("child process failed: ", out, p$read_all_output())
  }
  p
}

# Run `fun` in a child process and return its value.
in_child <- function(fun, args = list(), timeout = 60) {
  callr::r(fun, args = args, libpath = .libPaths(), timeout = timeout)
}

skip_if_no_timing <- function() {
  skip_on_cran()
}

# Whether timing bounds are checked (as skip_on_cran() decides).
timing_checked <- function() isTRUE(as.logical(Sys.getenv("NOT_CRAN", "false")))

# Whether process `pid` is blocked in a rustipc wait: in a file lock
# (fcntl_setlk: the linux backend's lock() waits in F_OFD_SETLKW on R's
# thread), asleep on a futex (mutexes, semaphores, queues; the portable
# backend's robust locks), or sleeping between the portable backend's
# lock() attempts.  Windows has no wait channel to read: there a process
# counts as blocked once its CPU time has stood still for 250 ms.
blocked_in_wait <- function(pid) {
  if (is_windows()) return(cpu_idle(pid, 0.25))
  wchan <- tryCatch(readLines(sprintf("/proc/%d/wchan", pid), warn = FALSE)[1],
                    error = function(e) "")
  grepl("setlk|lock|futex|nanosleep|hrtimer", wchan)
}

# Whether process `pid` has used no CPU time for `secs` seconds, judged from
# the samples of earlier calls (callers poll it, as wait_until() does).
cpu_seen <- new.env(parent = emptyenv())
cpu_idle <- function(pid, secs) {
  cpu <- tryCatch(sum(ps::ps_cpu_times(ps::ps_handle(pid))[c("user", "system")]),
                  error = function(e) NA_real_)
  if (is.na(cpu)) return(FALSE)
  key <- as.character(pid)
  now <- proc.time()[["elapsed"]]
  seen <- cpu_seen[[key]]
  if (is.null(seen) || seen$cpu != cpu) {
    cpu_seen[[key]] <- list(cpu = cpu, since = now)
    return(FALSE)
  }
  now - seen$since >= secs
}

# The number of files this process has open: descriptors on Unix, handles
# on Windows (where there is no /proc).
open_files <- function() {
  if (is_windows()) ps::ps_num_fds() else length(list.files("/proc/self/fd"))
}

# The path a lock reports for `path`: as given (made absolute, not
# resolved) on Unix; on Windows as normalizePath() writes it, as filelock
# reports it there.
lock_path <- function(path) {
  if (is_windows()) normalizePath(path, mustWork = FALSE) else path
}

# A child process that takes a lock and holds it until it is killed:
# `kind` "mutex" (target: the name) or "file" (target: the path).
bg_holding <- function(kind, target, shared = FALSE) {
  bg_ready(function(kind, target, shared) {
    if (kind == "mutex") {
      m <- rustipc::mutex(target)
      m$lock(shared = shared)
    } else {
      l <- rustipc::lock(target, exclusive = !shared)
    }
    cat("ready\n")
    Sys.sleep(600)
  }, list(kind = kind, target = target, shared = shared))
}

# Send SIGINT to child `p` once `blocked(pid)` says it is waiting, and give
# it up to 5 s to end.  Returns the time the signal was sent.  (On Windows,
# processx sends a Ctrl-C event instead, which R takes as an interrupt.)
interrupt_when_blocked <- function(p, blocked = blocked_in_wait) {
  wait_until(function() blocked(p$get_pid()), 20, "the child to block")
  sent <- as.numeric(Sys.time())
  p$interrupt()
  p$wait(5000)
  sent
}
